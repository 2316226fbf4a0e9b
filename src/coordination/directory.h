// The directory of partner teams (issue 13): who each team is, what it is
// responsible for (its constituency: the alerting routes by it) and how to
// reach it, normally and in an emergency.
//
// Each team's entry is its node's own STIX 2.1 identity (the node's identity
// id) carrying the kizuna directory extension (kExtensionId, published as
// an extension-definition): country, kind, constituency (ASNs, prefixes,
// domains, countries), contacts (role, name, e-mail, phone, OpenPGP
// fingerprint), time zone and operating hours (the FIRST directory's
// fields), node URL, signing key and when the team last verified it. A node
// writes only its own entry (SetOwnEntry), into its `coordination`
// collection, which every partner reads; federation carries it, so every
// partner's node holds the same entries.
//
// Whose entry is it: each version is signed by the node that wrote it
// (kSignatureProperty: Ed25519 over the object without that property, by
// the key the entry names as `signing_key`), and ListDirectory takes a
// version only when the signature holds: ours when the key is our node's,
// a partner's when it is the key configured for that [[peer]]; which node
// or user delivered it does not matter. Each key speaks for one team: a
// partner's entry is listed under the peer whose key signed it, so a
// partner that forges another team's entry (even under that team's id)
// only ever fills its own line, a relayed copy still counts as its
// signer's, and an unsigned version (a local user's, a forger's) is
// nobody's. An entry not verified for `stale_after_days` is listed stale.
//
// Functions only; thread-safe as the store is.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "node/config.h"
#include "node/node.h"
#include "sharing/policy.h"
#include "stix/stix.h"
#include "store/store.h"

namespace kizuna::coordination {

inline constexpr std::string_view kExtensionId =
    "extension-definition--6c1a6e59-2a57-5d4e-9a0b-3f7d5f0c2b11";
using sharing::kCoordinationAlias;  // its collection, read by every partner
// The property that carries a version's signature (base64).
inline constexpr std::string_view kSignatureProperty = "x_kizuna_entry_signature";
// Signs bytes with the node's key: the raw 64-byte signature (Node::Sign).
using Signer = std::function<std::string(std::string_view)>;

// What a team is: the kinds of the issue (FIRST's team types).
bool IsTeamKind(std::string_view
                    kind);  // national-csirt, sector-csirt, isp, government, vendor, company, other

struct Contact {
  std::string role;  // primary, backup, emergency, 24x7
  std::string name, email, phone, pgp_fingerprint;
};
bool IsContactRole(std::string_view role);

struct DirectoryEntry {
  std::string id;  // identity--…: the team's node identity
  std::string name;
  std::string country;  // ISO 3166-1 alpha-2
  std::string kind;     // IsTeamKind
  std::vector<uint32_t> asns;
  std::vector<std::string> prefixes, domains, countries;  // the constituency
  std::vector<Contact> contacts;                          // in escalation order
  std::string time_zone = "UTC";                          // IANA name
  std::string operating_hours;                            // "Mon-Fri 09:00-18:00"; "" = always
  std::string node_url, signing_key;                      // signing key: Ed25519, base64
  int64_t last_verified_us = 0;
  int64_t modified_us = 0;
  // As listed (not in the STIX object):
  std::string peer;  // the peer whose key signed it ("" = ours)
  bool own = false, stale = false;
  stix::Tlp tlp = stix::Tlp::kNone;  // the stored version's marking
};

// A change to our own entry; unset fields keep their value, a given list
// replaces the whole list.
struct DirectoryChange {
  std::optional<std::string> name, country, kind, time_zone, operating_hours, node_url;
  std::optional<std::vector<uint32_t>> asns;
  std::optional<std::vector<std::string>> prefixes, domains, countries;
  std::optional<std::vector<Contact>> contacts;
};

// "role=emergency;name=Duty officer;email=duty@cert.example;phone=+81…;pgp=ABCD…"
Result<Contact> ParseContact(std::string_view text);
// Checks every field (InvalidArgument naming the field).
Status ValidateEntry(const DirectoryEntry& entry);
Status ApplyChange(const DirectoryChange& change, DirectoryEntry* entry);

// The STIX identity of an entry (marked `tlp`; signed when `sign` is
// given) and back. EntryFromStix refuses an identity without the extension
// or with a bad field; SignatureHolds checks kSignatureProperty against
// the entry's own signing_key.
boost::json::object EntryToStix(const DirectoryEntry& entry, stix::Tlp tlp,
                                const Signer& sign = {});
bool SignatureHolds(const boost::json::object& identity, const DirectoryEntry& entry);
Result<DirectoryEntry> EntryFromStix(const boost::json::object& identity);
boost::json::object ExtensionDefinition(const std::string& producer_identity);

// The coordination collection (created when missing, with the extension
// definition, readable by the home organization).
Result<store::Collection> EnsureCoordinationCollection(store::Store& store,
                                                       const node::NodeConfig& config,
                                                       const node::NodeIdentity& identity);
// Stores both extension definitions (the directory's and the coordination
// objects') in `collection`; already there: nothing new.
Status PublishDefinitions(store::Store& store, const store::Collection& collection,
                          const node::NodeIdentity& identity);

// Our entry as it is: the latest version our node signed (NotFound before
// the first SetOwnEntry).
Result<DirectoryEntry> OwnEntry(store::Store& store, const node::NodeIdentity& identity);
// Applies `change` to our entry (a new one: our name, node key) and stores
// it as a new version signed with `sign`, verified now.
Result<DirectoryEntry> SetOwnEntry(store::Store& store, const node::NodeConfig& config,
                                   const node::NodeIdentity& identity, const Signer& sign,
                                   const DirectoryChange& change, stix::Tlp tlp, int64_t now_us);
// Every team's entry (see the top; `peers`: the [[peer]]s in force), ours
// first, then by name.
Result<std::vector<DirectoryEntry>> ListDirectory(store::Store& store,
                                                  const std::vector<node::PeerConfig>& peers,
                                                  const node::NodeIdentity& identity,
                                                  int64_t now_us, int stale_after_days);

// The listed entry with `id`: NotFound when none; FailedPrecondition when
// two teams' keys claim it (a partner that signed an entry under another's
// id fills its own line with it), since then no answer is the team's.
Result<DirectoryEntry> EntryWithId(const std::vector<DirectoryEntry>& entries,
                                   const std::string& id);

boost::json::object EntryJson(const DirectoryEntry& entry);

}  // namespace kizuna::coordination
