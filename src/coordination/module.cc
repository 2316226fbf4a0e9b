#include "coordination/module.h"

#include <CLI/CLI.hpp>
#include <boost/json.hpp>
#include <charconv>
#include <cstdio>

#include "bus/bus.h"
#include "common/time.h"
#include "coordination/directory.h"
#include "node/node.h"
#include "sharing/policy.h"

namespace kizuna::coordination {

namespace json = boost::json;

Status CoordinationModule::Configure(node::ConfigSection& section) {
  section.Tlp("directory_tlp", &config_.directory_tlp, /*allow_red=*/false);
  section.Integer("stale_after_days", &config_.stale_after_days, 1, 3650);
  return section.status();
}

Status CoordinationModule::Start() {
  // Made at start, so that partners find the collection on their first sync.
  return EnsureCoordinationCollection(*services_->store, services_->node->config(),
                                      services_->node->identity())
      .status();
}

void CoordinationModule::AddRoutes(platform::RouteTable& routes) {
  routes.Add("GET", "/api/v1/coordination/directory",
             [this](const http::Request&, const store::User& u, const platform::PathParams&) {
               return Directory(u, "");
             });
  routes.Add("GET", "/api/v1/coordination/directory/{id}",
             [this](const http::Request&, const store::User& u, const platform::PathParams& p) {
               return Directory(u, p.Get("id"));
             });
}

http::Response CoordinationModule::Directory(const store::User& user, const std::string& id) {
  std::shared_ptr<const sharing::SharingPolicy> policy = services_->policy();
  const sharing::Recipient recipient = policy->ForUser(user);
  if (recipient.kind == sharing::Recipient::Kind::kPeer) {
    return http::ErrorResponse(403, "Forbidden", "partners read the coordination collection");
  }
  // As on TAXII: a read grant on the coordination collection (the home
  // organization has one from the start), then what the policy releases.
  if (user.role != store::Role::kAdmin) {
    auto collection = services_->store->GetCollection(kCoordinationAlias);
    auto rights = collection.ok() ? services_->store->RightsOf(user, collection->id)
                                  : Result<store::Grant>(collection.status());
    if (!rights.ok() || !rights->can_read) {
      return http::ErrorResponse(403, "Forbidden", "no read grant on the coordination collection");
    }
  }
  auto entries = ListDirectory(*services_->store, policy->peers(), services_->node->identity(),
                               SystemClock::Instance().NowMicros(), config_.stale_after_days);
  if (!entries.ok()) return http::ErrorResponse(500, "Internal error", entries.status().message());
  // The entries as the sharing decision releases their STIX objects.
  json::array out;
  for (const DirectoryEntry& e : *entries) {
    if (!id.empty() && e.id != id) continue;
    if (recipient.kind != sharing::Recipient::Kind::kHome) {
      store::StoredObject object;
      object.id = e.id;
      object.type = "identity";
      object.tlp = e.tlp;
      object.origin = e.peer;
      object.created_by_ref = e.id;
      object.json = json::serialize(EntryToStix(e, object.tlp));
      if (!policy->MayRelease(object, recipient)) continue;
    }
    out.push_back(EntryJson(e));
  }
  if (!id.empty()) {
    if (out.empty()) return http::ErrorResponse(404, "Not found", "no such team in the directory");
    return http::JsonResponse(200, json::serialize(out.front()));
  }
  return http::JsonResponse(200, json::serialize(json::object{{"teams", std::move(out)}}));
}

namespace {

struct Args {
  std::string dir, name, country, kind, time_zone, hours, node_url;
  std::vector<std::string> asns, prefixes, domains, countries, contacts;
  bool clear_hours = false, json = false;
};

Result<CoordinationConfig> ReadConfig(const node::Node& node) {
  CoordinationModule module(nullptr);
  auto section = node.config().sections.find("coordination");
  KIZUNA_ASSIGN_OR_RETURN(
      node::ConfigSection config,
      node::ConfigSection::Parse("coordination", section == node.config().sections.end()
                                                     ? std::string_view()
                                                     : std::string_view(section->second)));
  KIZUNA_RETURN_IF_ERROR(module.Configure(config));
  return module.config();
}

Result<DirectoryChange> ChangeOf(const Args& args, CLI::App& set) {
  DirectoryChange change;
  auto given = [&](const char* option) { return set.count(option) > 0; };
  if (given("--name")) change.name = args.name;
  if (given("--country")) change.country = args.country;
  if (given("--kind")) change.kind = args.kind;
  if (given("--time-zone")) change.time_zone = args.time_zone;
  if (given("--hours")) change.operating_hours = args.hours;
  if (args.clear_hours) change.operating_hours = "";  // --hours excluded
  if (given("--node-url")) change.node_url = args.node_url;
  if (given("--asn")) {
    change.asns.emplace();
    for (const std::string& a : args.asns) {
      std::string_view text = a;
      if (text.size() > 2 && (text[0] == 'A' || text[0] == 'a') &&
          (text[1] == 'S' || text[1] == 's')) {
        text.remove_prefix(2);
      }
      uint64_t asn = 0;
      auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), asn);
      if (ec != std::errc() || end != text.data() + text.size() || asn == 0 || asn > 0xffffffffu) {
        return InvalidArgument("--asn: not an AS number: '" + a + "'");
      }
      change.asns->push_back(static_cast<uint32_t>(asn));
    }
  }
  if (given("--prefix")) change.prefixes = args.prefixes;
  if (given("--domain")) change.domains = args.domains;
  if (given("--constituency-country")) change.countries = args.countries;
  if (given("--contact")) {
    change.contacts.emplace();
    for (const std::string& c : args.contacts) {
      KIZUNA_ASSIGN_OR_RETURN(Contact contact, ParseContact(c));
      change.contacts->push_back(std::move(contact));
    }
  }
  return change;
}

int Set(const Args& args, CLI::App& command) {
  auto node = node::Node::Open(args.dir);
  if (!node.ok()) return ReportFailure(node.status());
  auto config = ReadConfig(**node);
  if (!config.ok()) return ReportFailure(config.status());
  auto change = ChangeOf(args, command);
  if (!change.ok()) return ReportFailure(change.status());
  const node::Node& signer = **node;
  auto entry = SetOwnEntry((*node)->store(), (*node)->config(), (*node)->identity(),
                           [&signer](std::string_view bytes) { return signer.Sign(bytes); },
                           *change, config->directory_tlp, SystemClock::Instance().NowMicros());
  if (!entry.ok()) return ReportFailure(entry.status());
  bus::NotifyNode(args.dir);  // a running node shares it at once
  std::printf("%s\n", json::serialize(EntryJson(*entry)).c_str());
  return 0;
}

std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& s : items) out += (out.empty() ? "" : ", ") + s;
  return out.empty() ? "-" : out;
}

int Show(const Args& args) {
  auto node = node::Node::Open(args.dir);
  if (!node.ok()) return ReportFailure(node.status());
  auto config = ReadConfig(**node);
  if (!config.ok()) return ReportFailure(config.status());
  auto entries = ListDirectory((*node)->store(), (*node)->config().peers, (*node)->identity(),
                               SystemClock::Instance().NowMicros(), config->stale_after_days);
  if (!entries.ok()) return ReportFailure(entries.status());
  if (args.json) {
    json::array out;
    for (const DirectoryEntry& e : *entries) out.push_back(EntryJson(e));
    std::printf("%s\n", json::serialize(json::object{{"teams", std::move(out)}}).c_str());
    return 0;
  }
  if (entries->empty()) std::printf("no team in the directory yet (kizuna directory set)\n");
  for (const DirectoryEntry& e : *entries) {
    std::vector<std::string> asns;
    for (uint32_t a : e.asns) asns.push_back("AS" + std::to_string(a));
    std::printf("%s%s (%s, %s)%s\n", e.name.c_str(),
                e.own ? " [ours]" : (" [peer " + e.peer + "]").c_str(),
                e.kind.empty() ? "kind not given" : e.kind.c_str(),
                e.country.empty() ? "no country" : e.country.c_str(),
                e.stale ? "  STALE: not verified since " : "");
    if (e.stale)
      std::printf("  last verified %s\n", FormatTimestamp(e.last_verified_us, 0).c_str());
    std::printf("  constituency: %s; prefixes %s; domains %s; countries %s\n", Join(asns).c_str(),
                Join(e.prefixes).c_str(), Join(e.domains).c_str(), Join(e.countries).c_str());
    for (const Contact& c : e.contacts) {
      std::printf("  %-9s %s %s %s%s\n", c.role.c_str(), c.name.c_str(), c.email.c_str(),
                  c.phone.c_str(),
                  c.pgp_fingerprint.empty() ? "" : (" pgp " + c.pgp_fingerprint).c_str());
    }
    std::printf("  hours: %s (%s); node %s; verified %s\n",
                e.operating_hours.empty() ? "always" : e.operating_hours.c_str(),
                e.time_zone.c_str(), e.node_url.empty() ? "-" : e.node_url.c_str(),
                FormatTimestamp(e.last_verified_us, 0).c_str());
  }
  return 0;
}

}  // namespace

void CoordinationModule::AddCommands(CLI::App& app, int* exit_code) {
  auto args = std::make_shared<Args>();
  auto* directory = app.add_subcommand(
      "directory", "The directory of partner teams: contacts, constituency, hours");
  directory->require_subcommand(1);
  auto* set = directory->add_subcommand(
      "set",
      "Set (and verify) our own entry; partners' nodes receive it. Options not given keep "
      "their value; a list given replaces the list");
  set->add_option("DIR", args->dir, "node directory")->required();
  set->add_option("--name", args->name, "the team's name");
  set->add_option("--country", args->country, "its country (ISO 3166 alpha-2, e.g. JP)");
  set->add_option("--kind", args->kind,
                  "national-csirt, sector-csirt, isp, government, vendor, company or other");
  set->add_option("--asn", args->asns, "constituency: AS numbers (repeatable)");
  set->add_option("--prefix", args->prefixes, "constituency: prefixes (repeatable)");
  set->add_option("--domain", args->domains, "constituency: domains (repeatable)");
  set->add_option("--constituency-country", args->countries,
                  "constituency: countries (repeatable)");
  set->add_option("--contact", args->contacts,
                  "a contact, in escalation order (repeatable): "
                  "'role=emergency;name=…;email=…;phone=…;pgp=FINGERPRINT' (roles primary, "
                  "backup, emergency, 24x7)");
  set->add_option("--time-zone", args->time_zone, "IANA time zone, e.g. Asia/Tokyo");
  set->add_option("--hours", args->hours, "operating hours, e.g. 'Mon-Fri 09:00-18:00'");
  set->add_flag("--always-open", args->clear_hours, "no operating hours: answers at any time")
      ->excludes("--hours");
  set->add_option("--node-url", args->node_url, "our node's URL for partners");
  set->callback([args, exit_code, set] { *exit_code = Set(*args, *set); });
  auto* show = directory->add_subcommand("show", "Every team's entry: ours and our partners'");
  show->add_option("DIR", args->dir, "node directory")->required();
  show->add_flag("--json", args->json, "as JSON");
  show->callback([args, exit_code] { *exit_code = Show(*args); });
}

}  // namespace kizuna::coordination
