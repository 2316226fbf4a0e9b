// `kizuna directory set|show`: our own entry in the team directory and
// every team's, on a node directory whether its node runs or not.
#include <CLI/CLI.hpp>
#include <boost/json.hpp>
#include <charconv>
#include <cstdio>

#include "bus/bus.h"
#include "common/time.h"
#include "coordination/directory.h"
#include "coordination/module.h"
#include "node/node.h"

namespace kizuna::coordination {

namespace json = boost::json;

namespace {

struct Args {
  std::string dir, name, country, kind, time_zone, hours, node_url;
  std::vector<std::string> asns, prefixes, domains, countries, contacts, clear;
  bool clear_hours = false, json = false;
};

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
  // --clear empties a list (a list given replaces it; none given keeps it).
  for (const std::string& field : args.clear) {
    if (field == "asns") {
      change.asns.emplace();
    } else if (field == "prefixes") {
      change.prefixes.emplace();
    } else if (field == "domains") {
      change.domains.emplace();
    } else if (field == "countries") {
      change.countries.emplace();
    } else if (field == "contacts") {
      change.contacts.emplace();
    } else {
      return InvalidArgument("--clear: asns, prefixes, domains, countries or contacts, got '" +
                             field + "'");
    }
  }
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
  auto config = LoadCoordinationConfig(**node);
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
  auto config = LoadCoordinationConfig(**node);
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

void AddDirectoryCommands(CLI::App& app, int* exit_code) {
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
  set->add_option("--clear", args->clear,
                  "empty a list: asns, prefixes, domains, countries, contacts (repeatable)");
  set->callback([args, exit_code, set] { *exit_code = Set(*args, *set); });
  auto* show = directory->add_subcommand("show", "Every team's entry: ours and our partners'");
  show->add_option("DIR", args->dir, "node directory")->required();
  show->add_flag("--json", args->json, "as JSON");
  show->callback([args, exit_code] { *exit_code = Show(*args); });
}

}  // namespace kizuna::coordination
