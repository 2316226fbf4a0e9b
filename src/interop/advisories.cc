#include "interop/advisories.h"

#include <algorithm>
#include <boost/json.hpp>

#include "common/encoding.h"
#include "common/time.h"
#include "stix/stix.h"

namespace kizuna::interop {
namespace {

namespace json = boost::json;

constexpr std::string_view kMetaKey = "interop:advisories";
constexpr size_t kMaxRefsShown = 200;

// The newest version of `id` in any collection (with json and origin), or NotFound.
Result<store::StoredObject> Newest(store::Store& store, const std::string& id) {
  KIZUNA_ASSIGN_OR_RETURN(std::vector<store::Collection> collections, store.ListCollections());
  std::optional<store::StoredObject> newest;
  for (const store::Collection& collection : collections) {
    store::ObjectQuery query;
    query.ids = {id};
    query.version_last = true;
    query.include_origin = true;
    KIZUNA_ASSIGN_OR_RETURN(store::ObjectPage page, store.QueryObjects(collection.id, query));
    for (store::StoredObject& version : page.objects) {
      if (!newest || version.version_us > newest->version_us) newest = std::move(version);
    }
  }
  if (!newest) return NotFound("no object " + id);
  return *newest;
}

json::object Parse(const store::StoredObject& version) {
  boost::system::error_code ec;
  json::value v = json::parse(version.json, ec);
  return !ec && v.is_object() ? std::move(v.as_object()) : json::object();
}

// Why the public may not have this version ("" when it may).
std::string Refusal(const sharing::SharingPolicy& policy, const store::StoredObject& version) {
  const json::object o = Parse(version);
  if (const json::value* r = o.if_contains("revoked"); r != nullptr && *r == true)
    return "it is revoked";
  std::string why;
  if (!policy.MayRelease(version, policy.ForPublic(), &why)) {
    return "the public may not have it (" + (why.empty() ? std::string("not TLP:CLEAR") : why) +
           ")";
  }
  return "";
}

Status SaveIds(store::Store& store, const std::vector<std::string>& ids) {
  json::array array;
  for (const std::string& id : ids) array.emplace_back(id);
  return store.SetMeta(std::string(kMetaKey), json::serialize(array));
}

std::string Esc(std::string_view text) { return HtmlEscape(text); }

std::string Text(const json::object& o, std::string_view key) {
  return stix::StringProperty(o, key);
}

std::string Day(const json::object& report) {
  std::string when = Text(report, "published");
  if (when.empty()) when = Text(report, "modified");
  return when.substr(0, 10);
}

// The page's frame: no script, and a policy that allows none.
std::string Page(const std::string& title, const std::string& body) {
  return "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
         "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
         "<title>" +
         Esc(title) +
         "</title><style>body{font-family:sans-serif;max-width:46rem;margin:1rem auto;padding:0 "
         "1rem;"
         "line-height:1.5}code{word-break:break-all}.tlp{font-weight:bold}</style></head><body>\n" +
         body + "\n</body></html>\n";
}

}  // namespace

Result<std::vector<std::string>> PublishedAdvisoryIds(store::Store& store) {
  KIZUNA_ASSIGN_OR_RETURN(std::optional<std::string> text, store.GetMeta(std::string(kMetaKey)));
  std::vector<std::string> ids;
  if (!text) return ids;
  boost::system::error_code ec;
  json::value v = json::parse(*text, ec);
  if (ec || !v.is_array()) return Internal("the published advisories' list is damaged");
  for (const json::value& id : v.as_array()) {
    if (id.is_string()) ids.emplace_back(id.as_string());
  }
  return ids;
}

Status PublishAdvisory(store::Store& store, const sharing::SharingPolicy& policy,
                       const std::string& report_id) {
  if (!report_id.starts_with("report--"))
    return InvalidArgument("only reports are published: " + report_id);
  auto version = Newest(store, report_id);
  if (!version.ok()) return version.status();
  const std::string refusal = Refusal(policy, *version);
  if (!refusal.empty()) return FailedPrecondition(report_id + " is not published: " + refusal);
  KIZUNA_ASSIGN_OR_RETURN(std::vector<std::string> ids, PublishedAdvisoryIds(store));
  if (std::find(ids.begin(), ids.end(), report_id) != ids.end()) return Status::Ok();
  if (ids.size() >= kMaxAdvisories)
    return FailedPrecondition("at most 1000 advisories are published");
  ids.push_back(report_id);
  return SaveIds(store, ids);
}

Status UnpublishAdvisory(store::Store& store, const std::string& report_id) {
  KIZUNA_ASSIGN_OR_RETURN(std::vector<std::string> ids, PublishedAdvisoryIds(store));
  auto it = std::find(ids.begin(), ids.end(), report_id);
  if (it == ids.end()) return NotFound(report_id + " is not published");
  ids.erase(it);
  return SaveIds(store, ids);
}

Result<std::vector<Advisory>> PublicAdvisories(store::Store& store,
                                               const sharing::SharingPolicy& policy,
                                               const std::string& refs_of) {
  KIZUNA_ASSIGN_OR_RETURN(std::vector<std::string> ids, PublishedAdvisoryIds(store));
  std::vector<Advisory> advisories;
  for (const std::string& id : ids) {
    auto version = Newest(store, id);
    if (!version.ok()) {
      if (version.status().code() == Code::kNotFound) continue;  // deleted since
      return version.status();
    }
    if (!Refusal(policy, *version).empty()) continue;
    Advisory advisory{std::move(*version), {}};
    if (!refs_of.empty() && advisory.report.id == refs_of) {
      const json::object report = Parse(advisory.report);
      if (const json::value* refs = report.if_contains("object_refs");
          refs != nullptr && refs->is_array()) {
        for (const json::value& ref : refs->as_array()) {
          if (!ref.is_string() || advisory.refs.size() >= kMaxRefsShown) continue;
          auto object = Newest(store, std::string(ref.as_string()));
          if (!object.ok() || !Refusal(policy, *object).empty()) continue;
          advisory.refs.push_back(std::move(*object));
        }
      }
    }
    advisories.push_back(std::move(advisory));
  }
  std::sort(advisories.begin(), advisories.end(), [](const Advisory& a, const Advisory& b) {
    return a.report.version_us > b.report.version_us;
  });
  return advisories;
}

std::string AdvisoryIndexHtml(const std::string& team, const std::vector<Advisory>& advisories,
                              const std::string& base) {
  std::string body = "<h1>" + Esc(team) + " advisories</h1>\n<p><a href=\"" + Esc(base) +
                     "/feed.atom\">Atom feed</a></p>\n";
  if (advisories.empty()) body += "<p>No advisories published.</p>\n";
  body += "<ul>\n";
  for (const Advisory& a : advisories) {
    const json::object report = Parse(a.report);
    body += "<li><a href=\"" + Esc(base) + "/" + Esc(a.report.id) + "\">" +
            Esc(Text(report, "name")) + "</a> (" + Esc(Day(report)) + ")</li>\n";
  }
  body += "</ul>\n";
  return Page(team + " advisories", body);
}

std::string AdvisoryHtml(const std::string& team, const Advisory& advisory,
                         const std::string& base) {
  const json::object report = Parse(advisory.report);
  std::string body = "<p><a href=\"" + Esc(base) + "\">" + Esc(team) + " advisories</a></p>\n<h1>" +
                     Esc(Text(report, "name")) +
                     "</h1>\n<p class=\"tlp\">TLP:CLEAR</p>\n<p>Published " + Esc(Day(report)) +
                     ", updated " + Esc(Text(report, "modified")) + "</p>\n";
  const std::string description = Text(report, "description");
  if (!description.empty()) body += "<p>" + Esc(description) + "</p>\n";
  if (const json::value* labels = report.if_contains("labels");
      labels != nullptr && labels->is_array()) {
    std::string list;
    for (const json::value& l : labels->as_array()) {
      if (l.is_string()) list += (list.empty() ? "" : ", ") + Esc(l.as_string());
    }
    if (!list.empty()) body += "<p>Labels: " + list + "</p>\n";
  }
  if (!advisory.refs.empty()) {
    body += "<h2>Indicators and objects</h2>\n<ul>\n";
    for (const store::StoredObject& ref : advisory.refs) {
      const json::object o = Parse(ref);
      std::string what = Text(o, "name");
      const std::string pattern = Text(o, "pattern");
      body += "<li>" + Esc(ref.type) + (what.empty() ? "" : ": " + Esc(what)) +
              (pattern.empty() ? "" : " <code>" + Esc(pattern) + "</code>") + "</li>\n";
    }
    body += "</ul>\n";
  }
  if (const json::value* refs = report.if_contains("external_references");
      refs != nullptr && refs->is_array()) {
    std::string list;
    for (const json::value& r : refs->as_array()) {
      if (!r.is_object()) continue;
      const std::string url = Text(r.as_object(), "url");
      const std::string source = Text(r.as_object(), "source_name");
      // Only web links: a javascript: or data: URL is shown as text.
      if (url.starts_with("https://") || url.starts_with("http://")) {
        list += "<li><a href=\"" + Esc(url) + "\" rel=\"noopener noreferrer\">" +
                Esc(source.empty() ? url : source) + "</a></li>\n";
      } else if (!source.empty() || !url.empty()) {
        list += "<li>" + Esc(source) + (url.empty() ? "" : " " + Esc(url)) + "</li>\n";
      }
    }
    if (!list.empty()) body += "<h2>References</h2>\n<ul>\n" + list + "</ul>\n";
  }
  return Page(Text(report, "name"), body);
}

std::string AdvisoryAtom(const std::string& team, const std::vector<Advisory>& advisories,
                         const std::string& site, const std::string& base, int64_t now_us) {
  std::string updated = FormatTimestamp(now_us, 0);
  if (!advisories.empty()) updated = Text(Parse(advisories.front().report), "modified");
  std::string out =
      "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\">\n";
  out += "  <title>" + Esc(team) + " advisories</title>\n";
  out += "  <id>" + Esc(site + base) + "</id>\n";
  out += "  <link rel=\"self\" href=\"" + Esc(site + base + "/feed.atom") + "\"/>\n";
  out += "  <link href=\"" + Esc(site + base) + "\"/>\n";
  out += "  <updated>" + Esc(updated) + "</updated>\n";
  out += "  <author><name>" + Esc(team) + "</name></author>\n";
  for (const Advisory& a : advisories) {
    const json::object report = Parse(a.report);
    const std::string uuid = a.report.id.substr(a.report.id.find("--") + 2);
    out += "  <entry>\n    <title>" + Esc(Text(report, "name")) + "</title>\n";
    out += "    <id>urn:uuid:" + Esc(uuid) + "</id>\n";
    out += "    <link href=\"" + Esc(site + base + "/" + a.report.id) + "\"/>\n";
    out += "    <updated>" + Esc(Text(report, "modified")) + "</updated>\n";
    if (!Text(report, "published").empty())
      out += "    <published>" + Esc(Text(report, "published")) + "</published>\n";
    const std::string description = Text(report, "description");
    if (!description.empty()) out += "    <summary>" + Esc(description) + "</summary>\n";
    out += "  </entry>\n";
  }
  out += "</feed>\n";
  return out;
}

}  // namespace kizuna::interop
