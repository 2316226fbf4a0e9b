// `kizuna import` and `kizuna export`: STIX 2.1 bundles (as before the
// interop module), indicator lists in, enforcement formats out.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <boost/json.hpp>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>

#include "bus/bus.h"
#include "common/time.h"
#include "common/uuid.h"
#include "interop/advisories.h"
#include "interop/export.h"
#include "interop/import.h"
#include "interop/misp_export.h"
#include "interop/misp_import.h"
#include "interop/module.h"
#include "interop/options.h"
#include "node/node.h"
#include "sharing/policy.h"
#include "stix/stix.h"
#include "taxii/ingest.h"
#include "taxii/producers.h"

namespace kizuna::interop {
namespace {

namespace json = boost::json;

int Fail(const Status& status) {
  std::fprintf(stderr, "kizuna: %s\n", status.message().c_str());
  return 1;
}

Result<store::Collection> FindCollection(store::Store& store, const std::string& name) {
  auto collection = store.GetCollection(name);
  if (!collection.ok() && collection.status().code() == Code::kNotFound) {
    return NotFound("no collection '" + name + "' (see `kizuna collection list`)");
  }
  return collection;
}

// Reads a file of STIX: a bundle, a TAXII envelope, a single object or a JSON array.
Result<json::array> ReadStixFile(const std::string& path, int max_depth) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return IoError("cannot read " + path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  auto parsed = stix::ParseJson(buffer.str(), max_depth);
  if (!parsed.ok()) return InvalidArgument(path + ": " + parsed.status().message());
  if (parsed->is_array()) return std::move(parsed->get_array());
  if (!parsed->is_object()) return InvalidArgument(path + ": expected a STIX bundle or object");
  json::object& object = parsed->get_object();
  auto it = object.find("objects");
  auto type = object.find("type");
  bool is_bundle =
      type != object.end() && type->value().is_string() && type->value().get_string() == "bundle";
  if (is_bundle || (type == object.end() && it != object.end())) {
    if (it == object.end()) return json::array();
    if (!it->value().is_array()) return InvalidArgument(path + ": 'objects' must be a list");
    return std::move(it->value().get_array());
  }
  json::array single;
  single.emplace_back(std::move(object));
  return single;
}

// A file's format when --format is auto: JSON (STIX) by its name or its
// first character, otherwise an indicator list.
bool LooksLikeJson(const std::string& path) {
  if (path.ends_with(".json")) return true;
  std::ifstream in(path, std::ios::binary);
  char c = 0;
  while (in.get(c)) {
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') continue;
    return c == '{' || c == '[';
  }
  return false;
}

// The collections an export reads: those named (by id or alias; a name
// that is none is an error), or every one.
Result<std::vector<store::Collection>> SelectedCollections(store::Store& store,
                                                           const std::vector<std::string>& names) {
  if (names.empty()) return store.ListCollections();
  std::vector<store::Collection> selected;
  for (const std::string& name : names) {
    KIZUNA_ASSIGN_OR_RETURN(store::Collection c, FindCollection(store, name));
    if (std::none_of(selected.begin(), selected.end(),
                     [&](const store::Collection& s) { return s.id == c.id; })) {
      selected.push_back(std::move(c));
    }
  }
  return selected;
}

struct ImportArgs {
  std::string dir;
  std::vector<std::string> files;
  std::string collection = node::kDefaultCollectionAlias;
  std::string format = "auto";
  std::string tlp = "amber";
  int confidence = -1;
  std::string producer;
  int lifetime_days = 30;
  std::vector<std::string> columns;
  std::vector<std::string> labels;
  std::string indicator_type = "malicious-activity";
  bool quiet = false;
  std::vector<std::string> headers;  // a MISP feed URL's request headers, "Name: value"
  std::string ca_file;               // a MISP feed URL's CA bundle
};

int ImportStix(node::Node& node, const store::Collection& collection, const std::string& file,
               const taxii::IngestOptions& options, int64_t user_id, bool progress, size_t* added,
               size_t* present, size_t* rejected) {
  constexpr size_t kBatch = 1000;
  auto objects = ReadStixFile(file, options.max_json_depth);
  if (!objects.ok()) return Fail(objects.status());
  const size_t total = objects->size();
  for (size_t start = 0; start < total; start += kBatch) {
    json::array batch;
    for (size_t i = start; i < std::min(total, start + kBatch); ++i) batch.push_back((*objects)[i]);
    auto status = taxii::IngestObjects(node.store(), collection.id, batch, user_id, options);
    if (!status.ok()) return Fail(status.status());
    bus::NotifyNode(node.dir());  // a node serving DIR streams and indexes it at once
    for (const auto& s : status->successes) (s.message.empty() ? *added : *present)++;
    for (const auto& f : status->failures) {
      ++*rejected;
      if (progress) std::fputs("\n", stderr);
      std::fprintf(stderr, "rejected %s: %s\n", f.id.empty() ? "(no id)" : f.id.c_str(),
                   f.message.c_str());
    }
    if (progress) {
      const size_t done = std::min(total, start + kBatch);
      std::fprintf(stderr, "\r%s: %zu/%zu objects (%zu%%)", file.c_str(), done, total,
                   total ? done * 100 / total : 100);
    }
  }
  if (progress) std::fputs("\n", stderr);
  return 0;
}

// Where a command's import goes: the collection, as the node admin, waking
// a running node after each batch, with progress on a terminal counted in `unit`.
ImportTarget TargetFor(node::Node& node, const store::Collection& collection,
                       const taxii::IngestOptions& options, int64_t user_id, bool progress,
                       const std::string& file, const char* unit) {
  ImportTarget target;
  target.store = &node.store();
  target.collection_id = collection.id;
  target.user_id = user_id;
  target.ingest = options;
  target.after_batch = [dir = node.dir()] { bus::NotifyNode(dir); };
  if (progress) {
    target.progress = [file, unit](int64_t n) {
      std::fprintf(stderr, "\r%s: %lld %s", file.c_str(), static_cast<long long>(n), unit);
    };
  }
  return target;
}

int ImportList(node::Node& node, const store::Collection& collection, const std::string& file,
               const ListOptions& list_options, const taxii::IngestOptions& options,
               int64_t user_id, bool progress) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return Fail(IoError("cannot read " + file));
  const ImportTarget target =
      TargetFor(node, collection, options, user_id, progress, file, "indicators");
  auto summary = ImportIndicatorList(target, in, list_options);
  if (progress) std::fputs("\n", stderr);
  if (!summary.ok())
    return Fail(Status(summary.status().code(), file + ": " + summary.status().message()));
  for (const ListError& e : summary->list.errors) {
    std::fprintf(stderr, "%s:%lld: %s\n", file.c_str(), static_cast<long long>(e.line),
                 e.reason.c_str());
  }
  if (summary->list.rejected > static_cast<int64_t>(summary->list.errors.size())) {
    std::fprintf(stderr, "%s: %lld more bad lines not shown\n", file.c_str(),
                 static_cast<long long>(summary->list.rejected - summary->list.errors.size()));
  }
  for (const std::string& r : summary->refusals) std::fprintf(stderr, "refused %s\n", r.c_str());
  std::string kinds;
  for (const auto& [kind, n] : summary->list.by_kind) {
    kinds += (kinds.empty() ? "" : ", ") + std::to_string(n) + " " + kind;
  }
  std::printf(
      "%s (%s%s): %lld lines, %lld indicators (%s): %lld added, %lld already present, %lld "
      "refused; "
      "%lld bad lines\n",
      file.c_str(), summary->list.format_detected.c_str(),
      summary->list.value_column.empty() ? "" : (", column " + summary->list.value_column).c_str(),
      static_cast<long long>(summary->list.lines), static_cast<long long>(summary->list.accepted),
      kinds.empty() ? "none" : kinds.c_str(), static_cast<long long>(summary->added),
      static_cast<long long>(summary->present), static_cast<long long>(summary->refused),
      static_cast<long long>(summary->list.rejected));
  return 0;
}

int ImportMisp(node::Node& node, const store::Collection& collection, const std::string& path,
               const stix::Tlp default_tlp, const taxii::IngestOptions& options, int64_t user_id,
               bool progress, const MispFeedSource& source) {
  ImportTarget target = TargetFor(node, collection, options, user_id, progress, path, "events");
  auto organizations = node.store().ListOrganizations();
  if (!organizations.ok()) return Fail(organizations.status());
  target.home_identities = taxii::HomeIdentities(node.identity().identity_id, *organizations);
  MispImportOptions misp;
  misp.default_tlp = default_tlp;
  const bool url = IsFeedUrl(path);
  const bool feed = url || IsMispFeed(path);
  auto summary = url    ? ImportMispFeedUrl(target, path, source, misp)
                 : feed ? ImportMispFeed(target, path, misp)
                        : ImportMispFile(target, path, misp);
  if (progress) std::fputs("\n", stderr);
  if (!summary.ok()) return Fail(summary.status());
  for (const std::string& e : summary->errors) std::fprintf(stderr, "%s\n", e.c_str());
  for (const std::string& n : summary->notes) std::fprintf(stderr, "note: %s\n", n.c_str());
  std::printf(
      "%s (misp %s): %lld events (%lld unchanged), %lld attributes, %lld sightings: %lld objects "
      "added, "
      "%lld already present, %lld refused\n",
      path.c_str(), feed ? "feed" : "event", static_cast<long long>(summary->events),
      static_cast<long long>(summary->events_unchanged),
      static_cast<long long>(summary->attributes), static_cast<long long>(summary->sightings),
      static_cast<long long>(summary->objects_added),
      static_cast<long long>(summary->objects_present),
      static_cast<long long>(summary->objects_refused));
  return summary->objects_refused > 0 ? 1 : 0;
}

int RunImport(const ImportArgs& args) {
  ListOptions list_options;
  if (args.format != "auto" && args.format != "stix" && args.format != "misp") {
    auto format = ParseListFormat(args.format);
    if (!format.ok()) return Fail(InvalidArgument("--format: auto, stix, misp, text or csv"));
    list_options.format = *format;
  }
  auto tlp = stix::ParseTlp(args.tlp);
  if (!tlp.ok() || *tlp == stix::Tlp::kNone)
    return Fail(InvalidArgument("--tlp: clear, green, amber, amber+strict or red"));
  list_options.tlp = *tlp;
  list_options.confidence = args.confidence;
  list_options.producer = args.producer;
  list_options.lifetime_days = args.lifetime_days;
  list_options.labels = args.labels;
  list_options.indicator_type = args.indicator_type;
  for (const std::string& column : args.columns) {
    auto parsed = ParseColumnOption(column);
    if (!parsed.ok()) return Fail(InvalidArgument("--" + parsed.status().message()));
    list_options.columns[parsed->first] = parsed->second;
  }
  auto node = node::Node::Open(args.dir);
  if (!node.ok()) return Fail(node.status());
  store::Store& store = (*node)->store();
  auto collection = FindCollection(store, args.collection);
  if (!collection.ok()) return Fail(collection.status());
  auto admin = store.FindUser((*node)->config().name, "admin");
  const int64_t user_id = admin.ok() ? admin->id : 0;
  const taxii::IngestOptions options = IngestOptionsFor((*node)->config());
  const bool progress = !args.quiet && isatty(STDERR_FILENO);
  MispFeedSource source;
  source.ca_file = args.ca_file;
  for (const std::string& header : args.headers) {
    const size_t colon = header.find(':');
    if (colon == std::string::npos || colon == 0 ||
        header.find_first_of("\r\n") != std::string::npos) {
      return Fail(InvalidArgument("--header: expected 'Name: value', got '" + header + "'"));
    }
    std::string value = header.substr(colon + 1);
    value.erase(0, value.find_first_not_of(' '));
    source.headers.Add(header.substr(0, colon), value);
  }
  size_t added = 0, present = 0, rejected = 0, stix_files = 0;
  for (const std::string& file : args.files) {
    if (IsFeedUrl(file) && args.format != "auto" && args.format != "misp") {
      return Fail(InvalidArgument(file + ": only a MISP feed is read from a URL (--format misp)"));
    }
    const bool misp = args.format == "misp" ||
                      (args.format == "auto" &&
                       (IsFeedUrl(file) || IsMispFeed(file) || LooksLikeMispEvent(file)));
    const bool stix =
        !misp && (args.format == "stix" || (args.format == "auto" && LooksLikeJson(file)));
    if (misp) {
      const int code = ImportMisp(**node, *collection, file, list_options.tlp, options, user_id,
                                  progress, source);
      if (code != 0) return code;
    } else if (stix) {
      ++stix_files;
      const int code = ImportStix(**node, *collection, file, options, user_id, progress, &added,
                                  &present, &rejected);
      if (code != 0) return code;
    } else {
      list_options.now_us = SystemClock::Instance().NowMicros();
      const int code =
          ImportList(**node, *collection, file, list_options, options, user_id, progress);
      if (code != 0) return code;
    }
  }
  if (stix_files) {
    std::printf("imported into %s: %zu added, %zu already present, %zu rejected\n",
                collection->alias.empty() ? collection->id.c_str() : collection->alias.c_str(),
                added, present, rejected);
  }
  return rejected ? 1 : 0;
}

struct ExportArgs {
  std::string dir;
  std::string format = "stix";
  std::vector<std::string> collections;
  std::string output;
  bool all_versions = false;
  std::string max_tlp = "amber+strict";
  std::vector<std::string> types;
  int min_confidence = 0;
  std::vector<std::string> producers;
  int max_age_days = 0;
  std::string action = "nxdomain";
  int category = 1;
};

int ExportStix(node::Node& node, const ExportArgs& args, stix::Tlp max_tlp, std::ostream& out) {
  store::Store& store = node.store();
  auto collection =
      FindCollection(store, args.collections.empty() ? std::string(node::kDefaultCollectionAlias)
                                                     : args.collections[0]);
  if (!collection.ok()) return Fail(collection.status());
  out << "{\"type\":\"bundle\",\"id\":\"bundle--" << NewUuid4() << "\",\"objects\":[";
  store::ObjectQuery query;
  query.version_all = args.all_versions;
  query.limit = 1000;
  size_t written = 0, withheld = 0;
  // An export file leaves the node: the sharing decision, with the TLP
  // ceiling the operator chose (unmarked objects take sharing.default_tlp).
  const sharing::SharingPolicy policy(node.config());
  const sharing::Recipient recipient = policy.ForExport(max_tlp);
  while (true) {
    auto page = store.QueryObjects(collection->id, query);
    if (!page.ok()) return Fail(page.status());
    for (const auto& object : page->objects) {
      if (!policy.MayRelease(object, recipient)) {
        ++withheld;
        continue;
      }
      if (written++) out << ',';
      out << object.json;
    }
    if (!page->more || page->objects.empty()) break;
    query.after_date_added_us = page->objects.back().date_added_us;
  }
  out << "]}\n";
  out.flush();
  if (!out) return Fail(IoError("writing the export failed"));
  std::fprintf(stderr, "exported %zu objects", written);
  if (withheld) {
    std::fprintf(stderr, " (%zu above TLP:%s withheld; see --max-tlp)", withheld,
                 std::string(stix::TlpName(max_tlp)).c_str());
  }
  std::fputs("\n", stderr);
  return 0;
}

int ExportEnforcement(node::Node& node, const ExportArgs& args, ExportFormat format,
                      stix::Tlp max_tlp, std::ostream& out) {
  if (max_tlp == stix::Tlp::kRed)
    return Fail(InvalidArgument("--max-tlp: RED is never exported for enforcement"));
  Query query;
  for (const std::string& t : args.types) query.emplace_back("type", t);
  query.emplace_back("tlp", std::string(stix::TlpName(max_tlp)));
  query.emplace_back("min_confidence", std::to_string(args.min_confidence));
  for (const std::string& p : args.producers) query.emplace_back("producer", p);
  query.emplace_back("max_age_days", std::to_string(args.max_age_days));
  query.emplace_back("action", args.action);
  query.emplace_back("category", std::to_string(args.category));
  const int64_t now = SystemClock::Instance().NowMicros();
  auto request = EnforcementOptionsFromQuery(query, now);
  if (!request.ok()) return Fail(InvalidArgument("--" + request.status().message()));
  const sharing::SharingPolicy policy(node.config());
  const sharing::Recipient recipient = policy.ForExport(max_tlp);
  request->filter.default_tlp = policy.default_tlp();
  std::vector<ExportSource> sources;
  auto collections = SelectedCollections(node.store(), args.collections);
  if (!collections.ok()) return Fail(collections.status());
  for (const store::Collection& c : *collections) {
    sources.push_back({c.id,
                       [&policy, &recipient](const store::StoredObject& object) {
                         return policy.MayRelease(object, recipient);
                       },
                       {}});
  }
  ExportOptions options = request->export_options;
  options.source = node.config().name;
  options.generated_us = now;
  auto built = BuildEnforcementExport(node.store(), sources, format, request->filter, options);
  if (!built.ok()) return Fail(built.status());
  out << built->body;
  out.flush();
  if (!out) return Fail(IoError("writing the export failed"));
  std::fprintf(stderr, "exported %lld values from %lld indicators",
               static_cast<long long>(built->values), static_cast<long long>(built->indicators));
  if (built->left_out) {
    std::fprintf(stderr, " (%lld of types %s cannot hold left out)",
                 static_cast<long long>(built->left_out),
                 std::string(ExportFormatName(format)).c_str());
  }
  std::fputs("\n", stderr);
  return 0;
}

// MISP events (--format misp: one JSON document, {"response": [{"Event": …}…]})
// or a MISP feed directory (--format misp-feed -o DIR), of what the
// operator's --max-tlp releases.
int ExportMisp(node::Node& node, const ExportArgs& args, stix::Tlp max_tlp, bool feed,
               std::ostream& out) {
  if (feed && (args.output.empty() || args.output == "-")) {
    return Fail(InvalidArgument("--format misp-feed writes a directory: name it with -o DIR"));
  }
  const sharing::SharingPolicy policy(node.config());
  const sharing::Recipient recipient = policy.ForExport(max_tlp);
  auto collections = SelectedCollections(node.store(), args.collections);
  if (!collections.ok()) return Fail(collections.status());
  // Every released object is held (events refer across them); one arena
  // for all of them takes about half the memory of a heap block per node.
  const json::storage_ptr arena = json::make_shared_resource<json::monotonic_resource>();
  std::vector<json::object> objects;
  std::set<std::string> seen;
  size_t withheld = 0;
  for (const store::Collection& c : *collections) {
    store::ObjectQuery query;
    query.version_last = true;
    query.include_origin = true;
    query.limit = 1000;
    while (true) {
      auto page = node.store().QueryObjects(c.id, query);
      if (!page.ok()) return Fail(page.status());
      for (const store::StoredObject& object : page->objects) {
        if (!policy.MayRelease(object, recipient)) {
          ++withheld;
          continue;
        }
        if (!seen.insert(object.id).second) continue;
        boost::system::error_code ec;
        json::value parsed = json::parse(object.json, ec, arena);
        if (!ec && parsed.is_object()) objects.push_back(std::move(parsed.as_object()));
      }
      if (!page->more || page->objects.empty()) break;
      query.after_date_added_us = page->objects.back().date_added_us;
    }
  }
  MispExportOptions options;
  options.org_name = node.config().name;
  const std::string& identity = node.identity().identity_id;
  options.org_uuid = identity.substr(identity.find("--") + 2);
  options.now_seconds = SystemClock::Instance().NowMicros() / 1000000;
  MispExport exported = StixToMispEvents(objects, options);
  size_t attributes = 0;
  for (const json::object& e : exported.events) attributes += e.at("Attribute").as_array().size();
  if (feed) {
    Status written = WriteMispFeed(args.output, exported.events);
    if (!written.ok()) return Fail(written);
  } else {
    // Streamed event by event: no second copy of them as one document.
    out << "{\"response\":[";
    for (size_t i = 0; i < exported.events.size(); ++i)
      out << (i ? "," : "") << "{\"Event\":" << exported.events[i] << "}";
    out << "]}\n";
    out.flush();
    if (!out) return Fail(IoError("writing the export failed"));
  }
  for (const std::string& note : exported.notes) std::fprintf(stderr, "note: %s\n", note.c_str());
  std::fprintf(stderr, "exported %zu MISP events (%zu attributes outside objects)",
               exported.events.size(), attributes);
  if (withheld) {
    std::fprintf(stderr, "; %zu objects above TLP:%s withheld", withheld,
                 std::string(stix::TlpName(max_tlp)).c_str());
  }
  std::fputs("\n", stderr);
  return 0;
}

int RunExport(const ExportArgs& args) {
  auto max_tlp = stix::ParseTlp(args.max_tlp);
  if (!max_tlp.ok()) return Fail(InvalidArgument("--max-tlp: " + max_tlp.status().message()));
  std::optional<ExportFormat> format;
  const bool misp = args.format == "misp" || args.format == "misp-feed";
  if (args.format != "stix" && !misp) {
    auto parsed = ParseExportFormat(args.format);
    if (!parsed.ok()) return Fail(InvalidArgument("--format: " + parsed.status().message()));
    format = *parsed;
  }
  auto node = node::Node::Open(args.dir);
  if (!node.ok()) return Fail(node.status());
  if (args.format == "misp-feed") return ExportMisp(**node, args, *max_tlp, true, std::cout);
  std::ofstream file;
  std::ostream* out = &std::cout;
  if (!args.output.empty() && args.output != "-") {
    file.open(args.output, std::ios::binary | std::ios::trunc);
    if (!file) return Fail(IoError("cannot write " + args.output));
    out = &file;
  }
  if (misp) return ExportMisp(**node, args, *max_tlp, false, *out);
  return format ? ExportEnforcement(**node, args, *format, *max_tlp, *out)
                : ExportStix(**node, args, *max_tlp, *out);
}

int AdvisoryCommand(const std::string& dir, const std::string& action, const std::string& id) {
  auto node = node::Node::Open(dir);
  if (!node.ok()) return Fail(node.status());
  store::Store& store = (*node)->store();
  if (action == "publish" || action == "unpublish") {
    const sharing::SharingPolicy policy((*node)->config());
    Status status =
        action == "publish" ? PublishAdvisory(store, policy, id) : UnpublishAdvisory(store, id);
    if (!status.ok()) return Fail(status);
    std::printf("%s %s\n", id.c_str(), action == "publish" ? "published" : "unpublished");
    return 0;
  }
  const sharing::SharingPolicy policy((*node)->config());
  auto ids = PublishedAdvisoryIds(store);
  if (!ids.ok()) return Fail(ids.status());
  auto shown = PublicAdvisories(store, policy);
  if (!shown.ok()) return Fail(shown.status());
  for (const std::string& published : *ids) {
    const bool visible = std::any_of(shown->begin(), shown->end(), [&](const interop::Advisory& a) {
      return a.report.id == published;
    });
    std::printf("%s\t%s\n", published.c_str(),
                visible ? "shown" : "not shown (no longer TLP:CLEAR, revoked or deleted)");
  }
  return 0;
}

}  // namespace

void InteropModule::AddCommands(CLI::App& app, int* exit_code) {
  auto advisory_dir = std::make_shared<std::string>();
  auto advisory_id = std::make_shared<std::string>();
  auto* advisory =
      app.add_subcommand("advisory", "Public advisories: TLP:CLEAR reports served without sign-in");
  advisory->require_subcommand(1);
  for (const char* action : {"publish", "unpublish"}) {
    auto* sub =
        advisory->add_subcommand(action, std::string(action == std::string("publish")
                                                         ? "Publish a TLP:CLEAR report"
                                                         : "Take a report off the public pages"));
    sub->add_option("DIR", *advisory_dir, "node directory")->required();
    sub->add_option("REPORT", *advisory_id, "report id")->required();
    sub->callback([advisory_dir, advisory_id, exit_code, action] {
      *exit_code = AdvisoryCommand(*advisory_dir, action, *advisory_id);
    });
  }
  auto* list = advisory->add_subcommand("list", "The published reports and whether they are shown");
  list->add_option("DIR", *advisory_dir, "node directory")->required();
  list->callback(
      [advisory_dir, exit_code] { *exit_code = AdvisoryCommand(*advisory_dir, "list", ""); });

  auto import_args = std::make_shared<ImportArgs>();
  auto* import_cmd = app.add_subcommand(
      "import", "Import STIX 2.1 bundles or indicator lists (text, CSV) into a collection");
  import_cmd->add_option("DIR", import_args->dir, "node directory")->required();
  import_cmd
      ->add_option("FILE", import_args->files,
                   "STIX 2.1 bundles, MISP events, feed directories or feed URLs, indicator "
                   "lists")
      ->required();
  import_cmd->add_option("--collection", import_args->collection, "collection id or alias")
      ->capture_default_str();
  import_cmd->add_option("--header", import_args->headers,
                         "a MISP feed URL: send this request header ('Name: value'; repeatable)");
  import_cmd->add_option("--ca-file", import_args->ca_file,
                         "a MISP feed URL: trust this CA bundle (PEM)");
  import_cmd
      ->add_option(
          "--format", import_args->format,
          "auto (by the file), stix, misp (an event file, a feed directory or URL), text or csv")
      ->capture_default_str();
  import_cmd
      ->add_option("--tlp", import_args->tlp,
                   "lists: the TLP of their indicators; misp: of events without a tlp: tag")
      ->capture_default_str();
  import_cmd->add_option("--confidence", import_args->confidence,
                         "lists: 0 to 100 (default: none)");
  import_cmd->add_option("--producer", import_args->producer,
                         "lists: who produced them (an identity named by created_by_ref)");
  import_cmd
      ->add_option("--lifetime-days", import_args->lifetime_days,
                   "lists: valid_until this long after (0: none)")
      ->capture_default_str();
  import_cmd->add_option(
      "--column", import_args->columns,
      "CSV: FIELD=NAME, the header's column for value, type, name, description, first_seen, "
      "last_seen, tags, confidence or tlp");
  import_cmd->add_option("--label", import_args->labels, "lists: a label of every indicator");
  import_cmd
      ->add_option("--indicator-type", import_args->indicator_type, "lists: their indicator_types")
      ->capture_default_str();
  import_cmd->add_flag("--quiet", import_args->quiet, "no progress display");
  import_cmd->callback([import_args, exit_code] { *exit_code = RunImport(*import_args); });

  auto export_args = std::make_shared<ExportArgs>();
  auto* export_cmd = app.add_subcommand("export",
                                        "Export a collection as a STIX 2.1 bundle, or indicators "
                                        "for Suricata, Zeek, blocklists and RPZ");
  export_cmd->add_option("DIR", export_args->dir, "node directory")->required();
  export_cmd
      ->add_option("--format", export_args->format, "stix, misp, misp-feed, " + ExportFormatNames())
      ->capture_default_str();
  export_cmd->add_option(
      "--collection", export_args->collections,
      "collection id or alias (stix: one, default the default collection; others: any number, "
      "default every collection)");
  export_cmd->add_option("--output,-o", export_args->output, "file to write (default: stdout)");
  export_cmd->add_flag("--all-versions", export_args->all_versions,
                       "stix: every version, not only the latest");
  export_cmd
      ->add_option("--max-tlp", export_args->max_tlp,
                   "most restrictive TLP to include (red only for stix backups)")
      ->capture_default_str();
  export_cmd->add_option("--type", export_args->types,
                         "ip, ipv4, ipv6, domain, url, email, hash, md5, sha256…");
  export_cmd->add_option("--min-confidence", export_args->min_confidence,
                         "0 to 100 (no confidence counts as 50)");
  export_cmd->add_option("--producer", export_args->producers,
                         "only indicators created_by_ref this identity");
  export_cmd->add_option("--max-age-days", export_args->max_age_days,
                         "only indicators modified this recently");
  export_cmd->add_option("--action", export_args->action, "rpz: nxdomain, nodata, drop or passthru")
      ->capture_default_str();
  export_cmd->add_option("--category", export_args->category, "suricata-iprep: the category number")
      ->capture_default_str();
  export_cmd->callback([export_args, exit_code] { *exit_code = RunExport(*export_args); });
}

}  // namespace kizuna::interop
