#!/usr/bin/python3
"""A small, real MISP-compatible REST server for kizuna's end-to-end tests.

Standard library only (http.server, ssl, json); run with Debian's
/usr/bin/python3. It keeps events in memory and answers the MISP REST API as
MISP-to-MISP sync, PyMISP and a MISP feed reader use it (docs/misp-notes.md
section 5), following MISP 2.4's own code where the details matter: the
timestamp guards on edit, merging by uuid, the duplicate-uuid 404, the
`locked` rule of filterEventIdsForPush, numbers serialised as strings.

    /usr/bin/python3 misp_server.py --key KEY [--port 0] [--port-file FILE]
        [--tls-cert PEM --tls-key PEM] [--seed FILE] [--instance-uuid UUID]

Binds 127.0.0.1 only; --port 0 (the default) takes a free port. Once it
accepts connections it writes PORT to --port-file (written whole, then
renamed into place) and prints "listening 127.0.0.1 PORT" on stdout.
--key KEY        every request but /feed/... must carry "Authorization: KEY"
                 exactly, else 403 {"name":"Authentication failed.",...}.
--tls-cert/--tls-key  HTTPS instead of HTTP (PEM files).
--seed FILE      a JSON list of events (bare or {"Event":{...}}) added at
                 start exactly as POST /events/add would add them.
--instance-uuid  the uuid getVersion reports (default: a random one).
Stops on SIGTERM or SIGINT. A log of requests goes to stderr.

Endpoints (path segments holding ':' such as /metadata:1 or /deleted[]:1 are
named parameters: taken as filters where MISP takes them, otherwise ignored;
a trailing ".json" is ignored):
  GET  /servers/getVersion
  POST /events/index                      filters: minimal, published, timestamp,
                                          publish_timestamp, eventid, org, tags,
                                          datefrom, dateuntil, eventinfo, value,
                                          page, limit, sort, direction;
                                          header X-Result-Count; ETag/304
  POST /events/restSearch                 {"returnFormat":"json", timestamp,
                                          event_timestamp, publish_timestamp, last,
                                          published, uuid, eventid, tags, org,
                                          metadata, includeSightings, deleted,
                                          page, limit} -> {"response":[{"Event":..}]}
  GET|HEAD /events/view/<id|uuid>         named deleted[]:0/deleted[]:1,
                                          excludeGalaxy:1, excludeLocalTags:1
  POST /events/add                        bare event or {"Event":{...}}
  POST|PUT /events/edit/<id|uuid>
  POST /events/filterEventIdsForPush      [{"Event":{"uuid","timestamp"}},...]
  POST /sightings/add[/<attribute id|uuid>]
  POST /sightings/restSearch/event        {"uuid":[...]} or {"id":...}, last, from/to
  POST /sightings/bulkSaveSightings/<event id|uuid>
  POST /sightings/filterSightingUuidsForPush/<event id|uuid>
  GET  /users/view/me
  POST /shadow_attributes/index, /galaxy_clusters/restSearch,
       /analyst_data/indexMinimal         (answer [])
  GET  /feed/manifest.json, /feed/hashes.csv, /feed/<uuid>.json   (no key;
                                          published events only, PyMISP's
                                          to_feed() form)
  GET  /_test/state                       {"events":{uuid: event as stored, every
                                          list present}, "requests":["METHOD /raw/path",
                                          ...], "instance_uuid", "org"}
  POST /_test/reset_requests              clears the request log
Requests to /_test/... are not logged in "requests".

Where MISP itself differs from what a client might expect, this server does
as MISP does:
  * edit: a body "timestamp" not newer than the stored one gives 403
    {"saved":false,"name":"Could not edit Event",...,"errors":"Event could not
    be saved: Event in the request not newer than the local copy."}; an
    attribute/object/report whose timestamp is not newer than the stored one is
    skipped; fields missing from an attribute keep their old values;
    attributes/objects missing from the body are kept; tags are added (a tag
    with "deleted":true is removed), never replaced; "published" missing from
    the body means unpublished.
  * add: a published event without attributes, objects or reports is refused
    (403 "Received a published event that was empty..."); info is required.
  * filterEventIdsForPush answers a known uuid only if the stored event is
    older AND locked (an event pushed by a sync partner carries locked:true).
  * /events/index with minimal leaves out events without attributes/reports.
  * /events/view omits empty Tag and Sighting lists and attribute-less
    objects, and leaves deleted attributes/objects out unless deleted[]:1.
  * /sightings/add for an unknown attribute answers 200
    {"message":"Could not add the Sighting. Reason: No valid attributes found
    that match the criteria."}.
"""
import argparse
import copy
import datetime
import gzip
import hashlib
import json
import os
import re
import signal
import ssl
import sys
import threading
import time
import traceback
import uuid as uuidlib
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, unquote, urlsplit

MISP_VERSION = "2.4.198"
OWN_ORG_NAME = "MISP-TEST"
OWN_ORG_UUID = "4d495350-2d54-4553-942d-6b697a756e61"  # fixed: the server's own organisation
OWN_USER_EMAIL = "sync@misp-test.invalid"
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
DELTA_RE = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$", re.I)
DELTA_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}

EVENT_FIELDS = [
    "id", "orgc_id", "org_id", "date", "threat_level_id", "info", "published", "uuid",
    "attribute_count", "analysis", "timestamp", "distribution", "proposal_email_lock", "locked",
    "publish_timestamp", "sharing_group_id", "disable_correlation", "extends_uuid", "protected",
    "event_creator_email", "sighting_timestamp",
]
SIGHTING_FIELDS = ["id", "attribute_id", "event_id", "org_id", "date_sighting", "uuid", "source",
                   "type"]


class HttpError(Exception):
    """An answer other than 200: status, JSON body (None: no body), headers."""

    def __init__(self, status, body, headers=None):
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = headers or {}


class ValidationError(Exception):
    """Data MISP would refuse to save (turned into MISP's saveFailResponse)."""


def misp_error(status, name, url, **extra):
    body = {"name": name, "message": name, "url": url}
    body.update(extra)
    return HttpError(status, body)


def now():
    return int(time.time())


def as_int(value, what):
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            pass
    raise ValidationError("%s: not an integer: %r" % (what, value))


def num(value, default, what):
    """MISP's numeric fields: a decimal string."""
    if value is None or value == "":
        return str(default)
    return str(as_int(value, what))


def stamp(value, what):
    """A unix timestamp as a string; now if missing."""
    if value is None or value == "" or value is False:
        return str(now())
    return str(as_int(value, what))


def flag(value):
    if isinstance(value, bool):
        return value
    if value is None:
        return False
    if isinstance(value, (int, float)):
        return value != 0
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def text(value, what="value"):
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, (int, float)):
        return str(value)
    raise ValidationError("%s: expected a string, got %s" % (what, type(value).__name__))


def valid_uuid(value, what):
    """A lowercase uuid; a new one if missing."""
    if value is None or value == "":
        return str(uuidlib.uuid4())
    if isinstance(value, str) and UUID_RE.match(value.strip().lower()):
        return value.strip().lower()
    raise ValidationError("%s: Please provide a valid RFC 4122 UUID (got %r)" % (what, value))


def is_uuid(value):
    return isinstance(value, str) and UUID_RE.match(value.strip().lower()) is not None


def resolve_time(value):
    """MISP's resolveTimeDelta: a number is a timestamp, "5d"/"12h"/"30m" is now minus that."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (int, float)):
        return int(value)
    if isinstance(value, str):
        v = value.strip()
        if re.match(r"^-?\d+$", v):
            return int(v)
        m = DELTA_RE.match(v)
        if m:
            return now() - int(m.group(1)) * DELTA_UNITS[m.group(2).lower()]
    raise ValidationError("invalid time filter %r" % (value,))


def time_filter(value):
    """(low, high) from a timestamp filter: a value, or [from, to]."""
    if isinstance(value, list):
        if len(value) >= 2:
            return resolve_time(value[0]), resolve_time(value[1])
        if len(value) == 1:
            return resolve_time(value[0]), None
        return None, None
    return resolve_time(value), None


def in_range(ts, low, high):
    t = int(ts)
    return (low is None or t >= low) and (high is None or t <= high)


def as_list(value):
    if value is None:
        return []
    if isinstance(value, list):
        return value
    if isinstance(value, str) and "|" in value:
        return value.split("|")
    return [value]


def given(value):
    return value is not None and value != "" and value != []


def unwrap_event(body):
    if isinstance(body, dict) and isinstance(body.get("response"), dict):
        body = body["response"]
    if isinstance(body, dict) and isinstance(body.get("Event"), dict):
        return body["Event"], body
    if isinstance(body, dict):
        return body, {"Event": body}
    raise ValidationError("the body must be a JSON object (an event or {\"Event\":{...}})")


def value_parts(attr):
    v = attr["value"]
    if "|" in attr["type"] and "|" in v:
        return v.split("|", 1)
    return [v]


class State:
    """Everything the server knows. Callers hold `lock`."""

    def __init__(self, instance_uuid):
        self.lock = threading.Lock()
        self.instance_uuid = instance_uuid
        self.requests = []
        self.counters = {}
        self.events = {}      # uuid -> event (internal form, insertion order)
        self.by_id = {}       # event id -> uuid
        self.orgs = {}        # uuid -> {"id","name","uuid","local"}
        self.orgs_by_id = {}
        self.tags = {}        # name -> tag
        self.attr_where = {}  # attribute uuid -> (event uuid, object id)
        self.object_where = {}  # object uuid -> event uuid
        self.sighting_uuids = set()
        self.own_org = self.capture_org({"name": OWN_ORG_NAME, "uuid": OWN_ORG_UUID}, local=True)

    # --- transactions: a refused write leaves no trace -----------------------

    _DATA = ("counters", "events", "by_id", "orgs", "orgs_by_id", "tags", "attr_where",
             "object_where", "sighting_uuids")

    def snapshot(self):
        return copy.deepcopy({k: getattr(self, k) for k in self._DATA})

    def restore(self, snap):
        for k, v in snap.items():
            setattr(self, k, v)
        self.own_org = self.orgs[OWN_ORG_UUID]

    def next_id(self, kind):
        n = self.counters.get(kind, 0) + 1
        self.counters[kind] = n
        return str(n)

    # --- organisations and tags ----------------------------------------------

    def capture_org(self, src, local=False):
        if not isinstance(src, dict):
            raise ValidationError("Orgc/Organisation must be an object")
        name = text(src.get("name"), "organisation name").strip()
        org_uuid = None
        if given(src.get("uuid")):
            org_uuid = valid_uuid(src.get("uuid"), "organisation uuid")
            if org_uuid in self.orgs:
                return self.orgs[org_uuid]
        elif name:
            for org in self.orgs.values():
                if org["name"].lower() == name.lower():
                    return org
        if not name and not org_uuid:
            raise ValidationError("an organisation needs a name or a uuid")
        org_uuid = org_uuid or str(uuidlib.uuid4())
        org = {"id": self.next_id("org"), "name": name or org_uuid, "uuid": org_uuid,
               "local": local}
        self.orgs[org_uuid] = org
        self.orgs_by_id[org["id"]] = org
        return org

    @staticmethod
    def org_ref(org):
        return {"id": org["id"], "name": org["name"], "uuid": org["uuid"], "local": org["local"]}

    def capture_tag(self, src):
        if isinstance(src, str):
            src = {"name": src}
        if not isinstance(src, dict):
            raise ValidationError("a Tag must be an object with a name")
        name = text(src.get("name"), "Tag.name").strip()
        if not name:
            raise ValidationError("a Tag needs a name")
        tag = self.tags.get(name)
        if tag is None:
            tag = {"id": self.next_id("tag"), "name": name,
                   "colour": text(src.get("colour")) or "#ffffff",
                   "exportable": flag(src.get("exportable", True)), "user_id": "0",
                   "hide_tag": False, "numerical_value": None,
                   "is_galaxy": name.startswith("misp-galaxy:"), "is_custom_galaxy": False,
                   "local_only": False}
            self.tags[name] = tag
        out = dict(tag)
        out["local"] = flag(src.get("local"))
        out["relationship_type"] = text(src.get("relationship_type"))
        return out

    def merge_tags(self, current, incoming):
        """MISP's handleEventTag/handleAttributeTag: add, update local/relationship, or
        remove ("deleted": true); tags not named stay."""
        if incoming is None:
            return current, False
        if not isinstance(incoming, list):
            raise ValidationError("Tag must be a list")
        out = list(current)
        changed = False
        for src in incoming:
            if isinstance(src, dict) and isinstance(src.get("Tag"), dict):  # EventTag form
                merged = dict(src["Tag"])
                for k in ("local", "relationship_type"):
                    if k in src and k not in merged:
                        merged[k] = src[k]
                src = merged
            tag = self.capture_tag(src)
            at = next((i for i, t in enumerate(out) if t["name"] == tag["name"]), None)
            if isinstance(src, dict) and flag(src.get("deleted")):
                if at is not None:
                    del out[at]
                    changed = True
            elif at is None:
                out.append(tag)
                changed = True
            elif (out[at]["local"], out[at]["relationship_type"]) != (
                    tag["local"], tag["relationship_type"]):
                out[at] = tag
                changed = True
        return out, changed

    # --- events ----------------------------------------------------------------

    def find_event(self, ident):
        if ident is None:
            return None
        ident = str(ident).strip().lower()
        if ident in self.events:
            return self.events[ident]
        if ident in self.by_id:
            return self.events[self.by_id[ident]]
        return None

    def find_attribute(self, ident):
        """(attribute, event) by attribute id or uuid; None if unknown."""
        ident = str(ident).strip().lower()
        for ev in self.events.values():
            for attr in self.all_attributes(ev):
                if attr["uuid"] == ident or attr["id"] == ident:
                    return attr, ev
        return None

    @staticmethod
    def all_attributes(ev):
        for attr in ev["Attribute"]:
            yield attr
        for obj in ev["Object"]:
            for attr in obj["Attribute"]:
                yield attr

    def recount(self, ev):
        ev["attribute_count"] = str(sum(1 for a in self.all_attributes(ev) if not a["deleted"]))

    def bump_sightings(self, ev):
        ev["sighting_timestamp"] = str(max(int(ev["sighting_timestamp"]), now()))

    def build_attribute(self, src, ev, object_id, prev=None):
        prev = prev or {}

        def pick(key, default=None):
            v = src.get(key)
            return v if v is not None else prev.get(key, default)

        a_type = text(pick("type"), "Attribute.type").strip()
        if not a_type:
            raise ValidationError("Attribute: type is missing")
        value = pick("value")
        if value is None or text(value, "Attribute.value") == "":
            raise ValidationError("Attribute (%s): value is missing" % a_type)
        attr = {
            "id": prev.get("id") or self.next_id("attribute"),
            "type": a_type,
            "category": text(pick("category"), "Attribute.category") or "Other",
            "to_ids": flag(pick("to_ids", False)),
            "uuid": prev.get("uuid") or valid_uuid(src.get("uuid"), "Attribute.uuid"),
            "event_id": ev["id"],
            "distribution": num(pick("distribution"), 5, "Attribute.distribution"),
            "timestamp": stamp(src.get("timestamp"), "Attribute.timestamp"),
            "comment": text(pick("comment"), "Attribute.comment"),
            "sharing_group_id": num(pick("sharing_group_id"), 0, "Attribute.sharing_group_id"),
            "deleted": flag(pick("deleted", False)),
            "disable_correlation": flag(pick("disable_correlation", False)),
            "object_id": object_id,
            "object_relation": (text(pick("object_relation")) or None) if object_id != "0"
            else None,
            "first_seen": pick("first_seen"),
            "last_seen": pick("last_seen"),
            "value": text(value, "Attribute.value"),
            "Galaxy": copy.deepcopy(src["Galaxy"]) if isinstance(src.get("Galaxy"), list)
            else prev.get("Galaxy", []),
            "ShadowAttribute": [],
            "Tag": prev.get("Tag", []),
            "Sighting": prev.get("Sighting", []),
        }
        if pick("data") is not None:
            attr["data"] = text(pick("data"), "Attribute.data")
        attr["Tag"], _ = self.merge_tags(attr["Tag"], src.get("Tag"))
        if src.get("AttributeTag") is not None:
            attr["Tag"], _ = self.merge_tags(attr["Tag"], src.get("AttributeTag"))
        return attr

    def merge_attributes(self, current, incoming, ev, object_id, dedupe=False):
        """Adds or replaces attributes by uuid (MISP captureAttribute/editAttribute);
        returns whether anything changed."""
        if incoming is None:
            return False
        if not isinstance(incoming, list):
            raise ValidationError("Attribute must be a list")
        changed = False
        hashes = set()
        for src in incoming:
            if not isinstance(src, dict):
                raise ValidationError("an Attribute must be an object")
            u = valid_uuid(src["uuid"], "Attribute.uuid") if given(src.get("uuid")) else None
            at = next((i for i, a in enumerate(current) if u and a["uuid"] == u), None)
            if at is not None:
                prev = current[at]
                if src.get("timestamp") is not None and \
                        as_int(src["timestamp"], "Attribute.timestamp") <= int(prev["timestamp"]):
                    continue  # not newer: MISP keeps its copy
                attr = self.build_attribute(src, ev, object_id, prev)
                current[at] = attr
            else:
                if u and u in self.attr_where:
                    continue  # uuid used elsewhere: MISP blocks it
                if dedupe and not flag(src.get("deleted")):
                    h = (text(src.get("value")), text(src.get("type")), text(src.get("category")))
                    if h in hashes:
                        continue  # MISP drops duplicate values on add
                    hashes.add(h)
                attr = self.build_attribute(src, ev, object_id)
                current.append(attr)
                self.attr_where[attr["uuid"]] = (ev["uuid"], object_id)
            changed = True
            for s in src.get("Sighting") or []:
                self.capture_sighting(s, attr, ev, self.own_org)
        return changed

    def build_reference(self, src, obj, ev, prev=None):
        prev = prev or {}
        if not isinstance(src, dict):
            raise ValidationError("an ObjectReference must be an object")
        referenced = text(src.get("referenced_uuid") or prev.get("referenced_uuid"))
        if not referenced:
            raise ValidationError("ObjectReference: referenced_uuid is missing")
        return {
            "id": prev.get("id") or self.next_id("reference"),
            "uuid": prev.get("uuid") or valid_uuid(src.get("uuid"), "ObjectReference.uuid"),
            "timestamp": stamp(src.get("timestamp"), "ObjectReference.timestamp"),
            "object_id": obj["id"],
            "source_uuid": obj["uuid"],
            "referenced_uuid": referenced.lower(),
            "relationship_type": text(src.get("relationship_type")
                                      or prev.get("relationship_type")),
            "comment": text(src.get("comment") if src.get("comment") is not None
                            else prev.get("comment")),
            "deleted": flag(src.get("deleted", prev.get("deleted", False))),
            "event_id": ev["id"],
        }

    def build_object(self, src, ev, prev=None):
        prev = prev or {}

        def pick(key, default=None):
            v = src.get(key)
            return v if v is not None else prev.get(key, default)

        obj = {
            "id": prev.get("id") or self.next_id("object"),
            "name": text(pick("name"), "Object.name"),
            "meta-category": text(pick("meta-category"), "Object.meta-category"),
            "description": text(pick("description"), "Object.description"),
            "template_uuid": text(pick("template_uuid"), "Object.template_uuid"),
            "template_version": text(pick("template_version"), "Object.template_version"),
            "event_id": ev["id"],
            "uuid": prev.get("uuid") or valid_uuid(src.get("uuid"), "Object.uuid"),
            "timestamp": stamp(src.get("timestamp"), "Object.timestamp"),
            "distribution": num(pick("distribution"), 5, "Object.distribution"),
            "sharing_group_id": num(pick("sharing_group_id"), 0, "Object.sharing_group_id"),
            "comment": text(pick("comment"), "Object.comment"),
            "deleted": flag(pick("deleted", False)),
            "first_seen": pick("first_seen"),
            "last_seen": pick("last_seen"),
            "ObjectReference": prev.get("ObjectReference", []),
            "Attribute": prev.get("Attribute", []),
        }
        if not obj["name"]:
            raise ValidationError("Object: name is missing")
        attrs = src.get("Attribute")
        if attrs is not None and obj["deleted"]:
            attrs = [dict(a, deleted=True) if isinstance(a, dict) else a for a in attrs]
        self.merge_attributes(obj["Attribute"], attrs, ev, obj["id"])
        refs = src.get("ObjectReference")
        if refs is not None:
            if not isinstance(refs, list):
                raise ValidationError("ObjectReference must be a list")
            for r in refs:
                u = r.get("uuid") if isinstance(r, dict) else None
                at = next((i for i, x in enumerate(obj["ObjectReference"])
                           if given(u) and x["uuid"] == str(u).lower()), None)
                if at is None:
                    obj["ObjectReference"].append(self.build_reference(r, obj, ev))
                else:
                    obj["ObjectReference"][at] = self.build_reference(
                        r, obj, ev, obj["ObjectReference"][at])
        return obj

    def merge_objects(self, current, incoming, ev):
        if incoming is None:
            return False
        if not isinstance(incoming, list):
            raise ValidationError("Object must be a list")
        changed = False
        for src in incoming:
            if not isinstance(src, dict):
                raise ValidationError("an Object must be an object")
            u = valid_uuid(src["uuid"], "Object.uuid") if given(src.get("uuid")) else None
            at = next((i for i, o in enumerate(current) if u and o["uuid"] == u), None)
            if at is not None:
                prev = current[at]
                if src.get("timestamp") is not None and \
                        as_int(src["timestamp"], "Object.timestamp") <= int(prev["timestamp"]):
                    continue  # MISP editObject: not newer, skipped with its attributes
                current[at] = self.build_object(src, ev, prev)
            else:
                if u and u in self.object_where:
                    continue
                obj = self.build_object(src, ev)
                current.append(obj)
                self.object_where[obj["uuid"]] = ev["uuid"]
            changed = True
        return changed

    def merge_reports(self, current, incoming, ev):
        if incoming is None:
            return False
        if not isinstance(incoming, list):
            raise ValidationError("EventReport must be a list")
        changed = False
        for src in incoming:
            if not isinstance(src, dict):
                raise ValidationError("an EventReport must be an object")
            u = valid_uuid(src["uuid"], "EventReport.uuid") if given(src.get("uuid")) else None
            at = next((i for i, r in enumerate(current) if u and r["uuid"] == u), None)
            prev = current[at] if at is not None else {}
            if at is not None and src.get("timestamp") is not None and \
                    as_int(src["timestamp"], "EventReport.timestamp") <= int(prev["timestamp"]):
                continue
            report = {
                "id": prev.get("id") or self.next_id("report"),
                "uuid": prev.get("uuid") or u or str(uuidlib.uuid4()),
                "event_id": ev["id"],
                "name": text(src.get("name") if src.get("name") is not None else prev.get("name")),
                "content": text(src.get("content") if src.get("content") is not None
                                else prev.get("content")),
                "distribution": num(src.get("distribution", prev.get("distribution")), 5,
                                    "EventReport.distribution"),
                "sharing_group_id": num(src.get("sharing_group_id", prev.get("sharing_group_id")),
                                        0, "EventReport.sharing_group_id"),
                "timestamp": stamp(src.get("timestamp"), "EventReport.timestamp"),
                "deleted": flag(src.get("deleted", prev.get("deleted", False))),
            }
            if not report["name"]:
                raise ValidationError("EventReport: name is missing")
            if at is None:
                current.append(report)
            else:
                current[at] = report
            changed = True
        return changed

    def capture_event_sightings(self, sightings, ev):
        """Sightings given beside an event (MISP captureSightings with no attribute id):
        each names its attribute by attribute_uuid, within this event."""
        if not sightings:
            return
        if not isinstance(sightings, list):
            raise ValidationError("Sighting must be a list")
        for s in sightings:
            if not isinstance(s, dict):
                raise ValidationError("a Sighting must be an object")
            target = str(s.get("attribute_uuid") or "").lower()
            attr = next((a for a in self.all_attributes(ev) if a["uuid"] == target), None)
            if attr is not None:
                self.capture_sighting(s, attr, ev, self.own_org)

    def capture_sighting(self, src, attr, ev, default_org, honour_org=True):
        """Attaches a sighting to `attr`; None if its uuid is known already."""
        if not isinstance(src, dict):
            raise ValidationError("a Sighting must be an object")
        s_uuid = valid_uuid(src.get("uuid"), "Sighting.uuid")
        if s_uuid in self.sighting_uuids:
            return None
        s_type = num(src.get("type"), 0, "Sighting.type")
        if s_type not in ("0", "1", "2"):
            raise ValidationError("Invalid type, please change it before you POST 1000000 "
                                  "sightings.")
        org = default_org
        if honour_org:
            named = src.get("Organisation")
            if isinstance(named, dict) and (given(named.get("uuid")) or given(named.get("name"))):
                org = self.capture_org(named)
            elif src.get("org_id") is not None and str(src.get("org_id")) == "0":
                org = None  # anonymised
        date = src.get("date_sighting")
        if not given(date):
            date = src.get("timestamp")
        sighting = {
            "id": self.next_id("sighting"),
            "attribute_id": attr["id"],
            "event_id": ev["id"],
            "org_id": org["id"] if org else "0",
            "date_sighting": stamp(date, "Sighting.date_sighting"),
            "uuid": s_uuid,
            "source": text(src.get("source"), "Sighting.source").strip(),
            "type": s_type,
            "attribute_uuid": attr["uuid"],
        }
        if org:
            sighting["Organisation"] = {"id": org["id"], "uuid": org["uuid"], "name": org["name"]}
        if s_type == "2":  # one expiration per organisation and attribute
            attr["Sighting"] = [x for x in attr["Sighting"]
                                if not (x["type"] == "2" and x["org_id"] == sighting["org_id"])]
        attr["Sighting"].append(sighting)
        self.sighting_uuids.add(s_uuid)
        self.bump_sightings(ev)
        return sighting

    def add_event(self, body, url):
        src, whole = unwrap_event(body)
        ev_uuid = valid_uuid(src.get("uuid"), "Event.uuid")
        existing = self.events.get(ev_uuid)
        if existing is not None:
            raise HttpError(404, {
                "name": "Event already exists, if you would like to edit it, use the url in the "
                        "location header.",
                "message": "Event already exists, if you would like to edit it, use the url in "
                           "the location header.",
                "url": url}, {"Location": "/events/%s" % existing["id"]})
        if flag(src.get("published")) and not src.get("Attribute") and not src.get("Object") \
                and not src.get("EventReport"):
            raise ValidationError("Received a published event that was empty. Event add process "
                                  "blocked.")
        info = text(src.get("info"), "Event.info")
        if not info.strip():
            raise ValidationError("Info cannot be empty.")
        date = text(src.get("date"), "Event.date") or datetime.date.today().isoformat()
        if not DATE_RE.match(date[:10]):
            raise ValidationError("Event.date: expected YYYY-MM-DD, got %r" % date)
        orgc = self.capture_org(src["Orgc"]) if isinstance(src.get("Orgc"), dict) else self.own_org
        ev = {
            "id": self.next_id("event"),
            "orgc_id": orgc["id"],
            "org_id": self.own_org["id"],
            "date": date[:10],
            "threat_level_id": num(src.get("threat_level_id"), 4, "Event.threat_level_id"),
            "info": info,
            "published": flag(src.get("published")),
            "uuid": ev_uuid,
            "attribute_count": "0",
            "analysis": num(src.get("analysis"), 0, "Event.analysis"),
            "timestamp": stamp(src.get("timestamp"), "Event.timestamp"),
            "distribution": num(src.get("distribution"), 1, "Event.distribution"),
            "proposal_email_lock": False,
            "locked": flag(src.get("locked")),
            "publish_timestamp": "0",
            "sharing_group_id": num(src.get("sharing_group_id"), 0, "Event.sharing_group_id"),
            "disable_correlation": flag(src.get("disable_correlation")),
            "extends_uuid": text(src.get("extends_uuid"), "Event.extends_uuid"),
            "protected": flag(src.get("protected")) if src.get("protected") is not None else None,
            "event_creator_email": OWN_USER_EMAIL,
            "sighting_timestamp": "0",
            "Org": self.org_ref(self.own_org),
            "Orgc": self.org_ref(orgc),
            "Attribute": [],
            "ShadowAttribute": [],
            "RelatedEvent": [],
            "Galaxy": copy.deepcopy(src["Galaxy"]) if isinstance(src.get("Galaxy"), list) else [],
            "Object": [],
            "EventReport": [],
            "CryptographicKey": [],
            "Tag": [],
        }
        ev["Tag"], _ = self.merge_tags([], src.get("Tag"))
        if src.get("EventTag") is not None:
            ev["Tag"], _ = self.merge_tags(ev["Tag"], src.get("EventTag"))
        self.events[ev_uuid] = ev
        self.by_id[ev["id"]] = ev_uuid
        self.merge_attributes(ev["Attribute"], src.get("Attribute"), ev, "0", dedupe=True)
        self.merge_objects(ev["Object"], src.get("Object"), ev)
        self.merge_reports(ev["EventReport"], src.get("EventReport"), ev)
        self.capture_event_sightings(src.get("Sighting"), ev)
        if whole is not src:
            self.capture_event_sightings(whole.get("Sighting"), ev)
        if ev["published"]:
            ev["publish_timestamp"] = str(now())
        self.recount(ev)
        return ev

    def edit_event(self, ev, body):
        src, whole = unwrap_event(body)
        if src.get("timestamp") is not None:
            new_ts = as_int(src["timestamp"], "Event.timestamp")
            if new_ts <= int(ev["timestamp"]):
                raise ValidationError("Event could not be saved: Event in the request not newer "
                                      "than the local copy.")
        else:
            new_ts = now()
        changed = False
        updates = {}
        for field, conv in (("analysis", lambda v: num(v, 0, "Event.analysis")),
                            ("threat_level_id", lambda v: num(v, 4, "Event.threat_level_id")),
                            ("info", lambda v: text(v, "Event.info")),
                            ("distribution", lambda v: num(v, 1, "Event.distribution")),
                            ("date", lambda v: text(v, "Event.date")[:10])):
            if src.get(field) is not None:
                updates[field] = conv(src[field])
                if updates[field] != ev[field]:
                    changed = True
        if "info" in updates and not updates["info"].strip():
            raise ValidationError("Info cannot be empty.")
        if "date" in updates and not DATE_RE.match(updates["date"]):
            raise ValidationError("Event.date: expected YYYY-MM-DD")
        if src.get("sharing_group_id") is not None:
            updates["sharing_group_id"] = num(src["sharing_group_id"], 0, "Event.sharing_group_id")
        if src.get("disable_correlation") is not None:
            updates["disable_correlation"] = flag(src["disable_correlation"])
        if src.get("extends_uuid") is not None:
            updates["extends_uuid"] = text(src["extends_uuid"], "Event.extends_uuid")
        ev.update(updates)
        ev["timestamp"] = str(new_ts)
        ev["published"] = flag(src.get("published"))  # missing: unpublished, as MISP does
        changed |= self.merge_attributes(ev["Attribute"], src.get("Attribute"), ev, "0")
        changed |= self.merge_objects(ev["Object"], src.get("Object"), ev)
        changed |= self.merge_reports(ev["EventReport"], src.get("EventReport"), ev)
        ev["Tag"], tags_changed = self.merge_tags(ev["Tag"], src.get("Tag"))
        changed |= tags_changed
        if isinstance(src.get("Galaxy"), list):
            ev["Galaxy"] = copy.deepcopy(src["Galaxy"])
        self.capture_event_sightings(src.get("Sighting"), ev)
        if whole is not src:
            self.capture_event_sightings(whole.get("Sighting"), ev)
        if ev["published"] and (changed or ev["publish_timestamp"] == "0"):
            ev["publish_timestamp"] = str(now())
        self.recount(ev)
        return ev

    # --- rendering -------------------------------------------------------------

    def render_event(self, ev, include_deleted=False, exclude_galaxy=False,
                     exclude_local_tags=False, metadata=False, sightings=True):
        """The event as MISP's JSONConverterTool writes it: {"Event": {...}}."""
        ev = copy.deepcopy(ev)
        ids = {}
        for a in self.all_attributes(ev):
            ids[a["uuid"]] = (a["id"], "0")
        for o in ev["Object"]:
            ids[o["uuid"]] = (o["id"], "1")

        def clean_tags(tags):
            return [t for t in tags if not (exclude_local_tags and t["local"])]

        def clean_attrs(attrs):
            out = []
            for a in attrs:
                if a["deleted"] and not include_deleted:
                    continue
                a["Tag"] = clean_tags(a["Tag"])
                if not a["Tag"]:
                    del a["Tag"]
                if not a["Sighting"] or not sightings:
                    del a["Sighting"]
                if exclude_galaxy:
                    a["Galaxy"] = []
                out.append(a)
            return out

        ev["Attribute"] = clean_attrs(ev["Attribute"])
        objects = []
        for o in ev["Object"]:
            if o["deleted"] and not include_deleted:
                continue
            o["Attribute"] = clean_attrs(o["Attribute"])
            if not o["Attribute"]:
                continue  # MISP drops objects without attributes
            for r in o["ObjectReference"]:
                r["referenced_id"], r["referenced_type"] = ids.get(r["referenced_uuid"], ("0", "0"))
            objects.append(o)
        ev["Object"] = objects
        ev["EventReport"] = [r for r in ev["EventReport"] if include_deleted or not r["deleted"]]
        ev["Tag"] = clean_tags(ev["Tag"])
        if not ev["Tag"]:
            del ev["Tag"]
        if exclude_galaxy:
            ev["Galaxy"] = []
        if metadata:
            for k in ("Attribute", "Object", "EventReport", "ShadowAttribute", "RelatedEvent"):
                ev.pop(k, None)
        return {"Event": ev}

    def index_entry(self, ev, minimal):
        if minimal:
            return {"id": ev["id"], "timestamp": ev["timestamp"],
                    "sighting_timestamp": ev["sighting_timestamp"], "published": ev["published"],
                    "uuid": ev["uuid"], "orgc_uuid": ev["Orgc"]["uuid"]}
        out = {k: ev[k] for k in EVENT_FIELDS}
        out["Org"] = {k: ev["Org"][k] for k in ("id", "name", "uuid")}
        out["Orgc"] = {k: ev["Orgc"][k] for k in ("id", "name", "uuid")}
        out["EventTag"] = [
            {"id": str(int(ev["id"]) * 100000 + int(t["id"])), "event_id": ev["id"],
             "tag_id": t["id"],
             "local": t["local"], "relationship_type": t["relationship_type"],
             "Tag": {"id": t["id"], "name": t["name"], "colour": t["colour"],
                     "is_galaxy": t["is_galaxy"]}}
            for t in ev["Tag"] if t["exportable"]]
        out["GalaxyCluster"] = []
        return out

    def sighting_out(self, s, ev, attr):
        out = {k: s[k] for k in SIGHTING_FIELDS}
        out["value"] = attr["value"]
        out["attribute_uuid"] = attr["uuid"]
        out["event_uuid"] = ev["uuid"]
        if "Organisation" in s:
            out["Organisation"] = dict(s["Organisation"])
        return out

    def feed_event(self, ev):
        """PyMISP's MISPEvent.to_feed(): the fields a feed carries, nothing local."""
        def tags(ts):
            return [{"name": t["name"], "colour": t["colour"], "local": t["local"],
                     "relationship_type": t["relationship_type"]} for t in ts if t["exportable"]]

        def attr_out(a, in_object):
            out = {k: a[k] for k in ("uuid", "value", "category", "type", "comment", "deleted",
                                     "timestamp", "to_ids", "disable_correlation")}
            for k in ("first_seen", "last_seen", "data"):
                if a.get(k) is not None:
                    out[k] = a[k]
            if in_object:
                out["object_relation"] = a["object_relation"]
            if a["Tag"]:
                out["Tag"] = tags(a["Tag"])
            return out

        out = {k: ev[k] for k in ("uuid", "info", "threat_level_id", "analysis", "timestamp",
                                  "publish_timestamp", "published", "date", "extends_uuid")}
        out["Orgc"] = {"name": ev["Orgc"]["name"], "uuid": ev["Orgc"]["uuid"]}
        if ev["Tag"]:
            out["Tag"] = tags(ev["Tag"])
        out["Attribute"] = [attr_out(a, False) for a in ev["Attribute"]]
        objects = []
        for o in ev["Object"]:
            oo = {k: o[k] for k in ("name", "meta-category", "description", "template_uuid",
                                    "template_version", "uuid", "timestamp", "comment",
                                    "deleted")}
            oo["meta-category"] = oo["meta-category"] or "misc"
            oo["description"] = oo["description"] or "<unknown>"
            for k in ("first_seen", "last_seen"):
                if o.get(k) is not None:
                    oo[k] = o[k]
            oo["ObjectReference"] = [
                {k: r[k] for k in ("uuid", "timestamp", "referenced_uuid", "relationship_type",
                                   "comment", "deleted")} | {"object_uuid": o["uuid"]}
                for r in o["ObjectReference"]]
            oo["Attribute"] = [attr_out(a, True) for a in o["Attribute"]]
            objects.append(oo)
        out["Object"] = objects
        if ev["EventReport"]:
            out["EventReport"] = [{k: r[k] for k in ("uuid", "name", "content", "timestamp",
                                                     "deleted")} for r in ev["EventReport"]]
        return {"Event": out}


class Api:
    """Request → (status, body, headers). Pure apart from the state it changes."""

    def __init__(self, state, key):
        self.state = state
        self.key = key

    def handle(self, method, raw_path, headers, body_bytes):
        st = self.state
        parts = urlsplit(raw_path)
        path = unquote(parts.path)
        segs = [s for s in path.split("/") if s]
        is_feed = bool(segs) and segs[0] == "feed"
        is_test = bool(segs) and segs[0] == "_test"
        with st.lock:
            if not is_test:
                st.requests.append("%s %s" % (method, raw_path))
        if not is_feed and headers.get("Authorization") != self.key:
            raise misp_error(403, "Authentication failed.", path)
        if is_feed:
            return self.feed(method, segs[1:], path)
        named = {}
        for k, v in parse_qsl(parts.query):
            named.setdefault(k, []).append(v)
        route = []
        for s in segs:
            if ":" in s:
                k, _, v = s.partition(":")
                named.setdefault(k[:-2] if k.endswith("[]") else k, []).append(v)
            else:
                route.append(s)
        if route and route[-1].lower().endswith(".json"):
            route[-1] = route[-1][:-5]
        body = None
        if body_bytes:
            try:
                body = json.loads(body_bytes.decode("utf-8"))
            except (UnicodeDecodeError, ValueError) as e:
                raise HttpError(400, {"name": "Bad request", "message": "Malformed JSON: %s" % e,
                                      "url": path})
        key = "/".join(s.lower() for s in route[:2])
        args = route[2:]
        handler = {
            "servers/getversion": self.get_version,
            "events/index": self.events_index,
            "events/restsearch": self.events_rest_search,
            "events/view": self.events_view,
            "events/add": self.events_add,
            "events/edit": self.events_edit,
            "events/filtereventidsforpush": self.filter_event_ids_for_push,
            "sightings/add": self.sightings_add,
            "sightings/restsearch": self.sightings_rest_search,
            "sightings/bulksavesightings": self.sightings_bulk_save,
            "sightings/filtersightinguuidsforpush": self.sightings_filter_for_push,
            "users/view": self.users_view,
            "shadow_attributes/index": self.empty_list,
            "galaxy_clusters/restsearch": self.empty_list,
            "analyst_data/indexminimal": self.empty_list,
            "_test/state": self.test_state,
            "_test/reset_requests": self.test_reset_requests,
        }.get(key)
        if handler is None:
            raise misp_error(404, "Not Found", path)
        req = {"method": method, "args": args, "named": named, "body": body, "url": path,
               "headers": headers}
        with st.lock:
            snap = st.snapshot() if method in ("POST", "PUT", "DELETE") else None
            try:
                return handler(req)
            except BaseException:
                if snap is not None:
                    st.restore(snap)
                raise

    # --- helpers -----------------------------------------------------------------

    @staticmethod
    def require(req, *methods):
        if req["method"] not in methods:
            raise misp_error(405, "This endpoint requires a %s request." % " or ".join(methods),
                             req["url"])

    @staticmethod
    def filters(req):
        """Filters from the JSON body (unwrapping "request"), then named path params."""
        body = req["body"]
        if isinstance(body, dict) and isinstance(body.get("request"), dict):
            body = body["request"]
        out = {}
        for k, v in req["named"].items():
            out[k] = v[0] if len(v) == 1 else v
        if isinstance(body, dict):
            out.update(body)
        elif body is not None:
            raise HttpError(400, {"name": "Bad request",
                                  "message": "Expected a JSON object of filters.",
                                  "url": req["url"]})
        return out

    @staticmethod
    def match_published(ev, value):
        wanted = {flag(v) for v in as_list(value)}
        return not wanted or ev["published"] in wanted

    def match_tags(self, ev, value, include_attributes=False):
        wanted = [text(t) for t in as_list(value) if text(t)]
        if not wanted:
            return True
        names = {t["name"] for t in ev["Tag"]}
        if include_attributes:
            for a in self.state.all_attributes(ev):
                names |= {t["name"] for t in a["Tag"]}
        positive = [t for t in wanted if not t.startswith("!")]
        negative = [t[1:] for t in wanted if t.startswith("!")]
        if any(t in names for t in negative):
            return False
        return not positive or any(t in names for t in positive)

    def match_org(self, ev, value):
        wanted = [text(v) for v in as_list(value) if text(v)]
        if not wanted:
            return True
        orgc = ev["Orgc"]

        def hit(v):
            return v == orgc["id"] or v.lower() == orgc["uuid"] or v.lower() == orgc["name"].lower()

        positive = [v for v in wanted if not v.startswith("!")]
        negative = [v[1:] for v in wanted if v.startswith("!")]
        if any(hit(v) for v in negative):
            return False
        return not positive or any(hit(v) for v in positive)

    @staticmethod
    def match_eventid(ev, value):
        wanted = [text(v).strip().lower() for v in as_list(value) if text(v).strip()]
        if not wanted:
            return True
        positive = [v for v in wanted if not v.startswith("!")]
        negative = [v[1:] for v in wanted if v.startswith("!")]
        if ev["id"] in negative or ev["uuid"] in negative:
            return False
        return not positive or ev["id"] in positive or ev["uuid"] in positive

    @staticmethod
    def paginate(items, filters):
        limit = filters.get("limit")
        if not given(limit):
            return items
        limit = as_int(limit, "limit")
        page = as_int(filters.get("page") or 1, "page")
        if limit <= 0:
            return items
        start = max(page - 1, 0) * limit
        return items[start:start + limit]

    @staticmethod
    def wants_deleted(value):
        return any(flag(v) for v in as_list(value))

    def event_or_404(self, ident, url):
        ev = self.state.find_event(ident)
        if ev is None:
            raise misp_error(404, "Invalid event", url)
        return ev

    @staticmethod
    def save_fail(action, url, errors, ident=None):
        name = "Could not %s Event" % action
        body = {"saved": False, "name": name, "message": name, "url": url, "errors": errors}
        if ident:
            body["id"] = ident
        return HttpError(403, body)

    # --- endpoints -------------------------------------------------------------

    def get_version(self, req):
        return 200, {"version": MISP_VERSION, "pymisp_recommended_version": MISP_VERSION,
                     "perm_sync": True, "perm_sighting": True, "perm_galaxy_editor": False,
                     "perm_analyst_data": False, "uuid": self.state.instance_uuid,
                     "request_encoding": [], "filter_sightings": True}, {}

    def events_index(self, req):
        f = {}
        for k, v in self.filters(req).items():
            k = k.lower()
            f[k[6:] if k.startswith("search") and len(k) > 6 else k] = v
        try:
            minimal = flag(f.get("minimal"))
            events = list(self.state.events.values())
            if given(f.get("published")):
                events = [e for e in events if self.match_published(e, f["published"])]
            for field, name in (("timestamp", "timestamp"),
                                ("publish_timestamp", "publish_timestamp"),
                                ("publishtimestamp", "publish_timestamp")):
                if given(f.get(field)):
                    low, high = time_filter(f[field])
                    events = [e for e in events if in_range(e[name], low, high)]
            if given(f.get("eventid")):
                events = [e for e in events if self.match_eventid(e, f["eventid"])]
            if given(f.get("org")):
                events = [e for e in events if self.match_org(e, f["org"])]
            for k in ("tag", "tags"):
                if given(f.get(k)):
                    events = [e for e in events if self.match_tags(e, f[k])]
            if given(f.get("datefrom")):
                events = [e for e in events if e["date"] >= text(f["datefrom"])]
            if given(f.get("dateuntil")):
                events = [e for e in events if e["date"] <= text(f["dateuntil"])]
            if given(f.get("eventinfo")):
                needle = text(f["eventinfo"]).lower()
                events = [e for e in events if needle in e["info"].lower()]
            if given(f.get("value")):
                v = text(f["value"])
                events = [e for e in events if any(v in value_parts(a) and not a["deleted"]
                                                   for a in self.state.all_attributes(e))]
            if minimal:
                events = [e for e in events if int(e["attribute_count"]) > 0
                          or any(not r["deleted"] for r in e["EventReport"])]
            sort = f.get("sort")
            if isinstance(sort, str) and sort in EVENT_FIELDS:
                desc = text(f.get("direction")).lower() == "desc"
                numeric = sort in ("id", "timestamp", "publish_timestamp", "attribute_count",
                                   "sighting_timestamp")
                events.sort(key=lambda e: int(e[sort]) if numeric else str(e[sort]), reverse=desc)
            else:
                events.sort(key=lambda e: int(e["id"]))
            total = len(events)
            page = self.paginate(events, f)
        except ValidationError as e:
            raise HttpError(400, {"name": "Bad request", "message": str(e), "url": req["url"]})
        out = [self.state.index_entry(e, minimal) for e in page]
        body = json.dumps(out, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        etag = '"%s"' % hashlib.sha1(body).hexdigest()
        headers = {"X-Result-Count": str(total), "ETag": etag}
        if req["headers"].get("If-None-Match") == etag:
            return 304, None, headers
        return 200, out, headers

    def events_rest_search(self, req):
        self.require(req, "POST", "GET")
        f = self.filters(req)
        fmt = f.get("returnFormat", "json")
        if req["args"]:
            fmt = req["args"][0]
        if fmt not in ("json", "download"):
            raise misp_error(404, "Invalid output format.", req["url"])
        st = self.state
        try:
            events = list(st.events.values())
            if given(f.get("published")):
                events = [e for e in events if self.match_published(e, f["published"])]
            for field, name in (("timestamp", "timestamp"), ("event_timestamp", "timestamp"),
                                ("publish_timestamp", "publish_timestamp"),
                                ("last", "publish_timestamp")):
                if given(f.get(field)):
                    low, high = time_filter(f[field])
                    events = [e for e in events if in_range(e[name], low, high)]
            if given(f.get("uuid")):
                wanted = {text(u).lower() for u in as_list(f["uuid"])}
                events = [e for e in events if e["uuid"] in wanted or any(
                    a["uuid"] in wanted for a in st.all_attributes(e))]
            if given(f.get("eventid")):
                events = [e for e in events if self.match_eventid(e, f["eventid"])]
            if given(f.get("tags")):
                events = [e for e in events if self.match_tags(e, f["tags"], True)]
            if given(f.get("org")):
                events = [e for e in events if self.match_org(e, f["org"])]
            if given(f.get("from")):
                events = [e for e in events if e["date"] >= text(f["from"])]
            if given(f.get("to")):
                events = [e for e in events if e["date"] <= text(f["to"])]
            events.sort(key=lambda e: int(e["id"]))
            total = len(events)
            page = self.paginate(events, f)
        except ValidationError as e:
            raise HttpError(400, {"name": "Bad request", "message": str(e), "url": req["url"]})
        out = [st.render_event(e, include_deleted=self.wants_deleted(f.get("deleted")),
                               exclude_galaxy=flag(f.get("excludeGalaxy")),
                               exclude_local_tags=flag(f.get("excludeLocalTags")),
                               metadata=flag(f.get("metadata")),
                               sightings=flag(f.get("includeSightings")))
               for e in page]
        return 200, {"response": out}, {"X-Result-Count": str(total)}

    def events_view(self, req):
        self.require(req, "GET", "HEAD")
        if not req["args"]:
            raise misp_error(404, "Invalid event", req["url"])
        ev = self.event_or_404(req["args"][0], req["url"])
        if req["method"] == "HEAD":
            return 200, None, {}
        named = {k: (v if len(v) > 1 else v[0]) for k, v in req["named"].items()}
        return 200, self.state.render_event(
            ev, include_deleted=self.wants_deleted(named.get("deleted")),
            exclude_galaxy=flag(named.get("excludeGalaxy")),
            exclude_local_tags=flag(named.get("excludeLocalTags")),
            metadata=flag(named.get("metadata"))), {}

    def events_add(self, req):
        self.require(req, "POST")
        try:
            ev = self.state.add_event(req["body"], req["url"])
        except ValidationError as e:
            raise self.save_fail("add", "/events/add", {"Event": str(e)})
        return 200, self.state.render_event(ev, metadata=flag(
            (req["named"].get("metadata") or ["0"])[0])), {}

    def events_edit(self, req):
        self.require(req, "POST", "PUT")
        if not req["args"]:
            raise misp_error(404, "Invalid event", req["url"])
        ev = self.event_or_404(req["args"][0], req["url"])
        try:
            self.state.edit_event(ev, req["body"])
        except ValidationError as e:
            raise self.save_fail("edit", "/events/edit/%s" % ev["id"], str(e), ev["id"])
        return 200, self.state.render_event(ev, metadata=flag(
            (req["named"].get("metadata") or ["0"])[0])), {}

    def filter_event_ids_for_push(self, req):
        self.require(req, "POST")
        body = req["body"]
        if not isinstance(body, list):
            raise HttpError(400, {"name": "Bad request",
                                  "message": "Expected a list of "
                                             "{\"Event\":{\"uuid\",\"timestamp\"}}.",
                                  "url": req["url"]})
        incoming = {}
        for item in body:
            e = item.get("Event") if isinstance(item, dict) else None
            if not isinstance(e, dict) or not isinstance(e.get("uuid"), str):
                raise HttpError(400, {"name": "Bad request",
                                      "message": "Each item must be "
                                                 "{\"Event\":{\"uuid\",\"timestamp\"}}.",
                                      "url": req["url"]})
            try:
                incoming[e["uuid"].lower()] = as_int(e.get("timestamp", 0), "timestamp")
            except ValidationError as err:
                raise HttpError(400, {"name": "Bad request", "message": str(err),
                                      "url": req["url"]})
        out = []
        for u, ts in incoming.items():
            ev = self.state.events.get(u)
            if ev is None or (int(ev["timestamp"]) < ts and ev["locked"]):
                out.append(u)
        return 200, out, {}

    def sightings_add(self, req):
        self.require(req, "POST")
        st = self.state
        data = req["body"] if isinstance(req["body"], dict) else {}
        if isinstance(data.get("request"), dict):
            data = data["request"]
        if isinstance(data.get("Sighting"), dict):
            data = data["Sighting"]

        def fail(reason):
            return 200, {"message": "Could not add the Sighting. Reason: " + reason}, {}

        ident = req["args"][0] if req["args"] else None
        sighting_uuid = None
        if ident is None and given(data.get("attribute_uuid")):
            ident = data["attribute_uuid"]
        if ident is not None and given(data.get("uuid")):
            sighting_uuid = data["uuid"]  # with the attribute named otherwise: the sighting's own
        if ident is None and given(data.get("uuid")):
            ident = data["uuid"]
        if ident is None and given(data.get("id")):
            ident = data["id"]
        values = data.get("values")
        if "value" in data:
            values = [data["value"]]
        s_type = data.get("type", "0")
        if text(s_type) not in ("0", "1", "2"):
            return fail("Invalid type, please change it before you POST 1000000 sightings.")
        targets = []
        if ident is not None:
            found = st.find_attribute(ident)
            if found and not found[0]["deleted"]:
                targets.append(found)
        else:
            if not values:
                return fail("No valid attributes found.")
            wanted = {text(v) for v in as_list(values) if not isinstance(v, (dict, list))}
            for ev in st.events.values():
                for a in st.all_attributes(ev):
                    if not a["deleted"] and wanted.intersection(value_parts(a)):
                        targets.append((a, ev))
        if not targets:
            return fail("No valid attributes found that match the criteria.")
        if sighting_uuid is not None:
            try:
                sighting_uuid = valid_uuid(sighting_uuid, "Sighting.uuid")
            except ValidationError as e:
                return fail(str(e))
            if sighting_uuid in st.sighting_uuids:  # already known: not added again
                for ev in st.events.values():
                    for a in st.all_attributes(ev):
                        for s in a["Sighting"]:
                            if s["uuid"] == sighting_uuid:
                                return 200, {"Sighting": st.sighting_out(s, ev, a)}, {}
        last = None
        try:
            for attr, ev in targets:
                src = {"type": s_type, "source": data.get("source"),
                       "date_sighting": data.get("timestamp"),
                       "uuid": sighting_uuid if len(targets) == 1 else None}
                saved = st.capture_sighting(src, attr, ev, st.own_org, honour_org=False)
                if saved is not None:
                    last = st.sighting_out(saved, ev, attr)
        except ValidationError as e:  # raised, so that the transaction is undone
            raise HttpError(200, {"message": "Could not add the Sighting. Reason: " + str(e)})
        return 200, {"Sighting": last}, {}

    def sightings_rest_search(self, req):
        self.require(req, "POST", "GET")
        st = self.state
        f = self.filters(req)
        context = req["args"][0].lower() if req["args"] else None
        if context not in (None, "event", "attribute"):
            raise HttpError(400, {"name": "Invalid context %s." % context,
                                  "message": "Invalid context %s." % context, "url": req["url"]})
        if context and not (given(f.get("id")) or given(f.get("uuid"))):
            raise misp_error(400, "An ID or UUID must be provided if the context is set.",
                             req["url"])
        try:
            if given(f.get("from")) and given(f.get("to")):
                low, high = resolve_time(f["from"]), resolve_time(f["to"])
            elif f.get("last") is not None and f.get("last") != "":
                low, high = resolve_time(f["last"]), None
            else:
                low, high = now() - 30 * 86400, None
        except ValidationError as e:
            raise HttpError(400, {"name": "Bad request", "message": str(e), "url": req["url"]})
        ids = {text(v) for v in as_list(f.get("id"))}
        uuids = {text(v).lower() for v in as_list(f.get("uuid"))}
        types = {text(v) for v in as_list(f.get("type"))}
        sources = {text(v) for v in as_list(f.get("source"))}
        out = []
        for ev in st.events.values():
            if context == "event" and not (ev["id"] in ids or ev["uuid"] in uuids):
                continue
            for a in st.all_attributes(ev):
                if context == "attribute" and not (a["id"] in ids or a["uuid"] in uuids):
                    continue
                for s in a["Sighting"]:
                    if not in_range(s["date_sighting"], low, high):
                        continue
                    if types and s["type"] not in types:
                        continue
                    if sources and s["source"] not in sources:
                        continue
                    out.append(st.sighting_out(s, ev, a))
        out.sort(key=lambda s: int(s["id"]))
        return 200, {"response": [{"Sighting": s} for s in out]}, {}

    def sightings_bulk_save(self, req):
        self.require(req, "POST")
        st = self.state
        ev = st.find_event(req["args"][0]) if req["args"] else None
        if ev is None:
            raise misp_error(405, "Event not found or not accessible by this user.", req["url"])
        body = req["body"]
        if isinstance(body, dict) and "Sighting" in body:
            body = body["Sighting"]
        if not isinstance(body, list):
            raise HttpError(400, {"name": "Bad request", "message": "Expected a list of sightings.",
                                  "url": req["url"]})
        saved = 0
        try:
            for s in body:
                if isinstance(s, dict) and isinstance(s.get("Sighting"), dict):
                    s = s["Sighting"]
                if not isinstance(s, dict):
                    raise ValidationError("a Sighting must be an object")
                found = st.find_attribute(s.get("attribute_uuid") or "")
                if found is None or not is_uuid(s.get("attribute_uuid")):
                    continue  # attribute unknown: skipped, as MISP does
                attr, owner = found
                src = dict(s)
                if s.get("org_id") is None:
                    src.pop("Organisation", None)  # no org_id: saved as the sync user's org
                elif not isinstance(s.get("Organisation"), dict):
                    src["org_id"] = "0"  # an org_id without its Organisation: anonymised
                if st.capture_sighting(src, attr, owner, st.own_org) is not None:
                    saved += 1
        except ValidationError as e:
            raise HttpError(400, {"name": "Bad request", "message": str(e), "url": req["url"]})
        if saved:
            return 200, {"saved": True, "success": "%d sightings added." % saved}, {}
        return 200, {"saved": False, "success": "No sightings added."}, {}

    def sightings_filter_for_push(self, req):
        self.require(req, "POST")
        st = self.state
        ev = st.find_event(req["args"][0]) if req["args"] else None
        if ev is None:
            raise misp_error(404, "Event not found", req["url"])
        wanted = {text(u).lower() for u in req["body"]} if isinstance(req["body"], list) else set()
        known = [s["uuid"] for a in st.all_attributes(ev) for s in a["Sighting"]
                 if s["uuid"] in wanted]
        return 200, known, {}

    def users_view(self, req):
        org = self.state.own_org
        return 200, {
            "User": {"id": "1", "org_id": org["id"], "email": OWN_USER_EMAIL, "role_id": "5",
                     "disabled": False},
            "Role": {"id": "5", "name": "Sync user", "perm_sync": True, "perm_sighting": True,
                     "perm_add": True, "perm_modify": True, "perm_publish": True,
                     "perm_tagger": True, "perm_site_admin": False},
            "Organisation": self.state.org_ref(org),
            "UserSetting": []}, {}

    def empty_list(self, req):
        return 200, [], {}

    def test_state(self, req):
        st = self.state
        return 200, {"events": copy.deepcopy(st.events), "requests": list(st.requests),
                     "instance_uuid": st.instance_uuid, "org": st.org_ref(st.own_org)}, {}

    def test_reset_requests(self, req):
        self.require(req, "POST")
        self.state.requests.clear()
        return 200, {"saved": True}, {}

    # --- feed --------------------------------------------------------------------

    def feed(self, method, segs, path):
        if method not in ("GET", "HEAD") or len(segs) != 1:
            raise misp_error(404, "Not Found", path)
        st = self.state
        name = segs[0]
        with st.lock:
            published = [e for e in st.events.values() if e["published"]]
            if name == "manifest.json":
                manifest = {}
                for e in published:
                    feed = st.feed_event(e)["Event"]
                    manifest[e["uuid"]] = {
                        "info": e["info"], "Orgc": feed["Orgc"], "Tag": feed.get("Tag", []),
                        "date": e["date"], "analysis": e["analysis"],
                        "threat_level_id": e["threat_level_id"], "timestamp": int(e["timestamp"])}
                return 200, manifest, {}
            if name == "hashes.csv":
                lines = []
                for e in published:
                    for a in st.all_attributes(e):
                        for part in value_parts(a):
                            lines.append("%s,%s\n" % (hashlib.md5(part.encode()).hexdigest(),
                                                      e["uuid"]))
                return 200, "".join(lines).encode(), {"Content-Type": "text/csv"}
            if name.endswith(".json"):
                ev = st.events.get(name[:-5].lower())
                if ev is not None and ev["published"]:
                    return 200, st.feed_event(ev), {}
        raise misp_error(404, "Not Found", path)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "MISP-test"
    sys_version = ""
    timeout = 60

    def read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            data = b""
            while True:
                line = self.rfile.readline(65537)
                size = int(line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                data += self.rfile.read(size)
                self.rfile.readline(65537)
        else:
            length = int(self.headers.get("Content-Length") or 0)
            data = self.rfile.read(length) if length > 0 else b""
        encoding = self.headers.get("Content-Encoding", "").lower().strip()
        if encoding == "gzip":
            data = gzip.decompress(data)
        elif encoding == "deflate":
            data = zlib.decompress(data)
        return data

    def respond(self, status, body, headers):
        if isinstance(body, bytes):
            payload = body
        elif body is None:
            payload = b""
        else:
            payload = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        if self.command == "HEAD" or status == 304:
            payload = b""
        self.send_response(status)
        if "Content-Type" not in headers:
            self.send_header("Content-Type", "application/json")
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if payload:
            self.wfile.write(payload)

    def run(self):
        try:
            try:
                body = self.read_body()
            except (ValueError, OSError, EOFError, zlib.error) as e:
                self.close_connection = True
                raise HttpError(400, {"name": "Bad request", "message": "Unreadable body: %s" % e,
                                      "url": self.path})
            status, out, headers = self.server.api.handle(self.command, self.path, self.headers,
                                                          body)
        except HttpError as e:
            status, out, headers = e.status, e.body, e.headers
        except Exception:
            traceback.print_exc()
            status, out, headers = 500, {"name": "Internal error", "message": "see the server log",
                                         "url": self.path}, {}
        self.respond(status, out, headers)

    do_GET = do_POST = do_PUT = do_HEAD = do_DELETE = do_PATCH = run

    def log_message(self, fmt, *args):
        sys.stderr.write("misp_server: %s %s\n" % (self.address_string(), fmt % args))


class Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(self, address, api, tls):
        super().__init__(address, Handler)
        self.api = api
        self.tls = tls

    def finish_request(self, request, client_address):
        # The TLS handshake runs here, in the connection's own thread, so a
        # client that never speaks cannot stall the accept loop.
        if self.tls is not None:
            request.settimeout(Handler.timeout)
            try:
                request = self.tls.wrap_socket(request, server_side=True)
            except (ssl.SSLError, OSError) as e:
                sys.stderr.write("misp_server: TLS handshake with %s failed: %s\n"
                                 % (client_address[0], e))
                return
            try:
                super().finish_request(request, client_address)
            finally:
                try:
                    request.close()
                except OSError:
                    pass
        else:
            super().finish_request(request, client_address)


def main():
    p = argparse.ArgumentParser(description="MISP-compatible REST server for kizuna's tests")
    p.add_argument("--key", required=True)
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--port-file")
    p.add_argument("--tls-cert")
    p.add_argument("--tls-key")
    p.add_argument("--seed")
    p.add_argument("--instance-uuid", default=str(uuidlib.uuid4()))
    args = p.parse_args()
    if bool(args.tls_cert) != bool(args.tls_key):
        p.error("--tls-cert and --tls-key go together")

    state = State(args.instance_uuid.lower())
    if args.seed:
        with open(args.seed, encoding="utf-8") as f:
            seed = json.load(f)
        if not isinstance(seed, list):
            sys.exit("misp_server: --seed must hold a JSON list of events")
        for n, event in enumerate(seed):
            try:
                state.add_event(event, "/events/add")
            except (ValidationError, HttpError) as e:
                detail = e.body if isinstance(e, HttpError) else str(e)
                sys.exit("misp_server: seed event %d refused: %s" % (n, detail))
        state.requests.clear()

    tls = None
    if args.tls_cert:
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(args.tls_cert, args.tls_key)

    server = Server(("127.0.0.1", args.port), Api(state, args.key), tls)
    port = server.server_address[1]
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % port)
        os.rename(tmp, args.port_file)
    print("listening 127.0.0.1 %d" % port, flush=True)

    def stop(signum, frame):
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        server.serve_forever(poll_interval=0.2)
    except SystemExit:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
