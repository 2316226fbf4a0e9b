// The `kizuna` command: every subcommand of DESIGN.md's CLI contract.
// Errors are one line on stderr and a non-zero exit; never a stack dump.
#include <unistd.h>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <boost/json.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <thread>

#include "auth/auth.h"
#include "bus/bus.h"
#include "cli/commands.h"
#include "common/uuid.h"
#include "correlation/correlator.h"
#include "correlation/sightings.h"
#include "correlation/stream_matcher.h"
#include "daemon/daemon.h"
#include "node/node.h"
#include "sharing/policy.h"
#include "stix/stix.h"
#include "taxii/ingest.h"

namespace kizuna::cli {

int Fail(const Status& status) { return ReportFailure(status); }

namespace {

namespace json = boost::json;

Result<std::unique_ptr<node::Node>> OpenNode(const std::string& dir) {
  KIZUNA_ASSIGN_OR_RETURN(std::unique_ptr<node::Node> node, node::Node::Open(dir));
  // The CLI refuses a config the node would not start with.
  KIZUNA_RETURN_IF_ERROR(daemon::CheckModuleConfig(node->config(), dir + "/kizuna.toml"));
  return node;
}

Result<store::Collection> FindCollection(store::Store& store, const std::string& name) {
  auto collection = store.GetCollection(name);
  if (!collection.ok() && collection.status().code() == Code::kNotFound) {
    return NotFound("no collection '" + name + "' (see `kizuna collection list`)");
  }
  return collection;
}

int Init(const std::string& dir, const std::string& name, const std::string& listen) {
  node::InitOptions options;
  options.name = name;
  Status st = node::ParseListen(listen, &options.host, &options.port);
  if (!st.ok()) return Fail(InvalidArgument("--listen: " + st.message()));
  auto result = node::InitNode(dir, options);
  if (!result.ok()) return Fail(result.status());
  std::printf(
      "created node '%s' in %s\n  identity:  %s\n  admin key: %s\n  start it:  kizuna serve %s\n",
      name.c_str(), dir.c_str(), result->identity_id.c_str(), result->admin_key_path.c_str(),
      dir.c_str());
  return 0;
}

// `kizuna match DIR`: observables on stdin (one per line: plain text, or
// JSON of an observable, observed-data or a bundle; or picked out of a log
// line with --field / --regex), JSON lines of matches on stdout in input
// order (correlation::StreamMatcher). The CLI runs as the node's operator:
// every collection is readable.
struct MatchOptions {
  bool all = false;
  bool record_sightings = false;
  int field = 0;
  std::string regex;
  bool progress = false;
  size_t threads = 0;  // 0: one per core, at most 4
};

int Match(const std::string& dir, const MatchOptions& match) {
  auto node = OpenNode(dir);
  if (!node.ok()) return Fail(node.status());
  auto warninglists = daemon::LoadWarningLists(**node);
  if (!warninglists.ok()) return Fail(warninglists.status());
  correlation::Correlator correlator(
      (*node)->store(), daemon::CorrelatorOptionsFrom((*node)->config()), *warninglists);
  // The index from the snapshot beside the store plus the changes since,
  // or (no usable snapshot) from the whole store; then the snapshot is
  // brought up to date while the input is matched.
  const std::string snapshot = daemon::CorrelationSnapshotPath(**node);
  const Status from_snapshot = correlator.LoadSnapshot(snapshot);
  if (!from_snapshot.ok() && from_snapshot.code() != Code::kNotFound) {
    std::fprintf(stderr, "kizuna: %s; building the index from the store\n",
                 from_snapshot.message().c_str());
  }
  const int64_t snapshot_cursor = correlator.cursor();
  if (Status loaded = correlator.Refresh(); !loaded.ok()) return Fail(loaded);
  std::thread save_snapshot;
  if (!from_snapshot.ok() || correlator.cursor() != snapshot_cursor) {
    save_snapshot = std::thread([&correlator, &snapshot] {
      if (Status saved = correlator.SaveSnapshot(snapshot); !saved.ok()) {
        std::fprintf(stderr, "kizuna: correlation snapshot not saved: %s\n",
                     saved.message().c_str());
      }
    });
  }
  struct JoinAtExit {
    std::thread& thread;
    ~JoinAtExit() {
      if (thread.joinable()) thread.join();
    }
  } join_save{save_snapshot};
  correlation::SightingRecorder sightings((*node)->store(), (*node)->identity().identity_id,
                                          (*node)->identity().name,
                                          daemon::SightingOptionsFrom((*node)->config()));
  correlation::StreamOptions options;
  options.all = match.all;
  options.tally = match.record_sightings;
  options.field = match.field;
  options.regex = match.regex;
  options.threads = match.threads != 0
                        ? match.threads
                        : std::clamp<size_t>(std::thread::hardware_concurrency(), 1, 4);
  auto matcher = correlation::StreamMatcher::Create(correlator, options);
  if (!matcher.ok()) return Fail(matcher.status());
  // Lines per second every two seconds on a terminal (or with --progress).
  const bool progress = match.progress || isatty(STDERR_FILENO);
  const auto started = std::chrono::steady_clock::now();
  bool progress_shown = false;
  auto report = [&](const correlation::StreamCounts& counts) {
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    std::fprintf(stderr, "%s%llu inputs, %llu matched, %.0f lines/s%s",
                 isatty(STDERR_FILENO) ? "\r" : "", static_cast<unsigned long long>(counts.inputs),
                 static_cast<unsigned long long>(counts.matched),
                 seconds > 0 ? static_cast<double>(counts.inputs) / seconds : 0.0,
                 isatty(STDERR_FILENO) ? "" : "\n");
    progress_shown = true;
  };
  std::fflush(stdout);
  Status ran = (*matcher)->RunFd(STDIN_FILENO, STDOUT_FILENO,
                                 progress ? correlation::StreamMatcher::Progress(report) : nullptr);
  if (progress_shown && isatty(STDERR_FILENO)) std::fputs("\n", stderr);
  if (!ran.ok()) return Fail(ran);
  const correlation::StreamCounts counts = (*matcher)->counts();
  const correlation::SightingTally tally = (*matcher)->tally();
  if (match.record_sightings && !tally.empty()) {
    auto recorded = sightings.Record(tally.Inputs());
    if (!recorded.ok()) return Fail(recorded.status());
    bus::NotifyNode(dir);
    std::fprintf(stderr, "recorded %zu sightings\n", recorded->size());
  }
  std::fprintf(stderr, "%llu inputs, %llu matched, %llu not understood\n",
               static_cast<unsigned long long>(counts.inputs),
               static_cast<unsigned long long>(counts.matched),
               static_cast<unsigned long long>(counts.errors));
  // Everything is written and the store closed; freeing the index piece by
  // piece (a tenth of a short run) would only delay the exit.
  if (save_snapshot.joinable()) save_snapshot.join();
  matcher->reset();
  node->reset();
  std::fflush(nullptr);
  std::_Exit(0);
}

int UserAdd(const std::string& dir, const std::string& org, const std::string& name,
            const std::string& role_name) {
  auto role = node::ParseRole(role_name);
  if (!role.ok()) return Fail(role.status());
  auto node = OpenNode(dir);
  if (!node.ok()) return Fail(node.status());
  auto created = node::AddUser((*node)->store(), org, name, *role, (*node)->config().name);
  if (!created.ok()) return Fail(created.status());
  std::printf("created user %s/%s (id %lld, role %s)\n%s\n", org.c_str(), name.c_str(),
              static_cast<long long>(created->user.id), std::string(node::RoleName(*role)).c_str(),
              created->api_key.c_str());
  return 0;
}

int UserList(const std::string& dir) {
  auto node = OpenNode(dir);
  if (!node.ok()) return Fail(node.status());
  auto users = (*node)->store().ListUsers();
  if (!users.ok()) return Fail(users.status());
  std::printf("%-6s %-24s %-24s %-8s %s\n", "ID", "ORGANIZATION", "NAME", "ROLE", "STATE");
  for (const auto& u : *users) {
    std::printf("%-6lld %-24s %-24s %-8s %s\n", static_cast<long long>(u.id), u.org_name.c_str(),
                u.name.c_str(), std::string(node::RoleName(u.role)).c_str(),
                u.disabled ? "disabled" : "active");
  }
  return 0;
}

int UserKey(const std::string& dir, const std::string& org, const std::string& name) {
  auto node = OpenNode(dir);
  if (!node.ok()) return Fail(node.status());
  auto user = (*node)->store().FindUser(org, name);
  if (!user.ok()) return Fail(NotFound("no user " + org + "/" + name));
  auto issued = auth::IssueApiKey((*node)->store(), user->id, "created with `kizuna user key`");
  if (!issued.ok()) return Fail(issued.status());
  std::printf("new key %s for %s/%s\n%s\n", issued->record.key_id.c_str(), org.c_str(),
              name.c_str(), issued->token.c_str());
  return 0;
}

int UserSetDisabled(const std::string& dir, const std::string& org, const std::string& name,
                    bool disabled) {
  auto node = OpenNode(dir);
  if (!node.ok()) return Fail(node.status());
  auto user = (*node)->store().FindUser(org, name);
  if (!user.ok()) return Fail(NotFound("no user " + org + "/" + name));
  Status st = (*node)->store().SetUserDisabled(user->id, disabled);
  if (!st.ok()) return Fail(st);
  std::printf("%s %s/%s\n", disabled ? "disabled" : "enabled", org.c_str(), name.c_str());
  return 0;
}

int KeyRevoke(const std::string& dir, const std::string& key) {
  auto node = OpenNode(dir);
  if (!node.ok()) return Fail(node.status());
  std::string key_id = key;
  if (auto parsed = auth::ParseToken(key); parsed.ok()) key_id = parsed->key_id;
  Status st = (*node)->store().RevokeApiKey(key_id);
  if (!st.ok()) return Fail(st);
  std::printf("revoked key %s\n", key_id.c_str());
  return 0;
}

int CollectionAdd(const std::string& dir, const std::string& title, const std::string& alias,
                  const std::string& description) {
  auto node = OpenNode(dir);
  if (!node.ok()) return Fail(node.status());
  store::Collection collection;
  collection.id = NewUuid4();
  collection.title = title;
  collection.alias = alias;
  collection.description = description;
  Status st = (*node)->store().CreateCollection(collection);
  if (!st.ok()) return Fail(st);
  std::printf("%s\n", collection.id.c_str());
  return 0;
}

int CollectionList(const std::string& dir) {
  auto node = OpenNode(dir);
  if (!node.ok()) return Fail(node.status());
  auto collections = (*node)->store().ListCollections();
  if (!collections.ok()) return Fail(collections.status());
  std::printf("%-36s %-16s %-10s %s\n", "ID", "ALIAS", "OBJECTS", "TITLE");
  for (const auto& c : *collections) {
    auto count = (*node)->store().CountObjects(c.id);
    std::printf("%-36s %-16s %-10lld %s\n", c.id.c_str(), c.alias.c_str(),
                static_cast<long long>(count.ok() ? *count : -1), c.title.c_str());
  }
  return 0;
}

int CollectionGrant(const std::string& dir, const std::string& collection_name,
                    const std::string& org, const std::string& user_name, bool read, bool write) {
  auto node = OpenNode(dir);
  if (!node.ok()) return Fail(node.status());
  store::Store& store = (*node)->store();
  auto collection = FindCollection(store, collection_name);
  if (!collection.ok()) return Fail(collection.status());
  store::Grant grant;
  grant.collection_id = collection->id;
  grant.can_read = read;
  grant.can_write = write;
  if (!user_name.empty()) {
    auto user = store.FindUser(org, user_name);
    if (!user.ok()) return Fail(NotFound("no user " + org + "/" + user_name));
    grant.user_id = user->id;
  } else {
    auto organization = store.EnsureOrganization(org);
    if (!organization.ok()) return Fail(organization.status());
    grant.org_id = organization->id;
  }
  Status st = store.SetGrant(grant);
  if (!st.ok()) return Fail(st);
  std::printf("%s%s%s on %s: read=%s write=%s\n", org.c_str(), user_name.empty() ? "" : "/",
              user_name.c_str(), collection->id.c_str(), read ? "yes" : "no", write ? "yes" : "no");
  return 0;
}

}  // namespace

int Main(int argc, char** argv) {
  CLI::App app{"kizuna: threat-intelligence sharing between CSIRTs (STIX 2.1 over TAXII 2.1)"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "kizuna 0.1.0");
  int code = 0;

  std::string dir, name = "kizuna", listen = "127.0.0.1:8443";
  auto* init = app.add_subcommand("init", "Create a node directory");
  init->add_option("DIR", dir, "node directory")->required();
  init->add_option("--name", name, "the team's name")->capture_default_str();
  init->add_option("--listen", listen, "HOST:PORT to serve on")->capture_default_str();
  init->callback([&] { code = Init(dir, name, listen); });

  auto* serve =
      app.add_subcommand("serve", "Run the node (TAXII 2.1 at /taxii2/, REST at /api/v1/)");
  serve->add_option("DIR", dir, "node directory")->required();
  serve->callback([&] {
    Status st = daemon::Serve(dir);
    code = st.ok() ? 0 : Fail(st);
  });

  auto* identity = app.add_subcommand("identity", "Print the node's identity as JSON");
  identity->add_option("DIR", dir, "node directory")->required();
  identity->callback([&] {
    auto node = OpenNode(dir);
    if (!node.ok()) {
      code = Fail(node.status());
      return;
    }
    std::printf("%s\n", node::IdentityJson((*node)->identity()).c_str());
  });

  std::string collection = node::kDefaultCollectionAlias;

  auto* match_cmd = app.add_subcommand(
      "match", "Match observables on stdin against the node's indicators; JSON lines out");
  MatchOptions match_options;
  match_cmd->add_option("DIR", dir, "node directory")->required();
  match_cmd->add_flag("--all", match_options.all, "print every input's result, not only matches");
  match_cmd->add_flag("--sightings", match_options.record_sightings,
                      "record a STIX sighting of each match");
  auto* field_opt = match_cmd
                        ->add_option("--field", match_options.field,
                                     "the observable is field N (1-based) of each line, fields "
                                     "separated by spaces or tabs")
                        ->check(CLI::Range(1, 1 << 20));
  match_cmd
      ->add_option("--regex", match_options.regex,
                   "the observable is the first capture group of this RE2 regex in each line "
                   "(the whole match without a group)")
      ->excludes(field_opt);
  match_cmd->add_flag("--progress", match_options.progress,
                      "report lines/s on stderr every 2 s (always on a terminal)");
  match_cmd->add_option("--threads", match_options.threads,
                        "matching threads (default: one per core, at most 4)");
  match_cmd->callback([&] { code = Match(dir, match_options); });

  std::string org, role = "member";
  auto* user = app.add_subcommand("user", "Manage users and API keys");
  user->require_subcommand(1);
  auto* user_add =
      user->add_subcommand("add", "Create a user (and its organization); prints its API key last");
  user_add->add_option("DIR", dir, "node directory")->required();
  user_add->add_option("--org", org, "organization")->required();
  user_add->add_option("--name", name, "user name")->required();
  user_add->add_option("--role", role, "admin or member")->capture_default_str();
  user_add->callback([&] { code = UserAdd(dir, org, name, role); });
  auto* user_list = user->add_subcommand("list", "List users");
  user_list->add_option("DIR", dir, "node directory")->required();
  user_list->callback([&] { code = UserList(dir); });
  auto* user_key = user->add_subcommand("key", "Issue a new API key for a user; prints it last");
  user_key->add_option("DIR", dir, "node directory")->required();
  user_key->add_option("--org", org, "organization")->required();
  user_key->add_option("--name", name, "user name")->required();
  user_key->callback([&] { code = UserKey(dir, org, name); });
  std::string key;
  auto* user_revoke =
      user->add_subcommand("revoke-key", "Revoke an API key (by key id or the key)");
  user_revoke->add_option("DIR", dir, "node directory")->required();
  user_revoke->add_option("KEY", key, "key id or API key")->required();
  user_revoke->callback([&] { code = KeyRevoke(dir, key); });
  for (bool disable : {true, false}) {
    auto* cmd = user->add_subcommand(disable ? "disable" : "enable",
                                     disable ? "Disable a user" : "Enable a user");
    cmd->add_option("DIR", dir, "node directory")->required();
    cmd->add_option("--org", org, "organization")->required();
    cmd->add_option("--name", name, "user name")->required();
    cmd->callback([&, disable] { code = UserSetDisabled(dir, org, name, disable); });
  }

  std::string title, alias, description, user_name;
  bool read = false, write = false;
  auto* coll = app.add_subcommand("collection", "Manage TAXII collections");
  coll->require_subcommand(1);
  auto* coll_add = coll->add_subcommand("add", "Create a collection; prints its id");
  coll_add->add_option("DIR", dir, "node directory")->required();
  coll_add->add_option("--title", title, "title")->required();
  coll_add->add_option("--alias", alias, "short unique alias");
  coll_add->add_option("--description", description, "description");
  coll_add->callback([&] { code = CollectionAdd(dir, title, alias, description); });
  auto* coll_list = coll->add_subcommand("list", "List collections");
  coll_list->add_option("DIR", dir, "node directory")->required();
  coll_list->callback([&] { code = CollectionList(dir); });
  auto* coll_grant =
      coll->add_subcommand("grant", "Set an organization's (or one user's) rights on a collection");
  coll_grant->add_option("DIR", dir, "node directory")->required();
  coll_grant->add_option("COLLECTION", collection, "collection id or alias")->required();
  coll_grant->add_option("--org", org, "organization")->required();
  coll_grant->add_option("--user", user_name, "only this user of the organization");
  coll_grant->add_flag("--read", read, "may read");
  coll_grant->add_flag("--write", write, "may write");
  coll_grant->callback(
      [&] { code = CollectionGrant(dir, collection, org, user_name, read, write); });

  // Capabilities register their own subcommands (their platform modules).
  const auto command_modules = daemon::NodeModules(nullptr);
  for (const auto& module : command_modules) module->AddCommands(app, &code);
  AddDemoCommand(app, &code);
  AddSensorCommands(app, &code);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "kizuna: %s\n", e.what());
    return 1;
  }
  return code;
}  // namespace kizuna::cli

}  // namespace kizuna::cli

int main(int argc, char** argv) {
  // Logs go to stderr: stdout is the commands' output (JSON lines, API keys,
  // the URL `serve` prints), which scripts read.
  spdlog::set_default_logger(spdlog::stderr_color_mt("kizuna"));
  return kizuna::cli::Main(argc, argv);
}
