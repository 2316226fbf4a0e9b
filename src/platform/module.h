// Modules: how a capability plugs into a kizuna node (DESIGN.md, "Shape of
// the system"). A capability — TAXII, matching, federation peers, alerting,
// a telescope — is one Module: it lives in its own folder under src/, and
// tells the platform its REST routes, its CLI subcommands, its periodic jobs
// and how to start and stop. The daemon builds the list of modules (one line
// of wiring each) and the Platform does the rest: one route table, one job
// scheduler, ordered start, reverse stop.
//
// Conventions:
//   - A module's routes live under /api/v1/<name()>/ (e.g. "/api/v1/alerts/
//     {id}"); its name() is lower-case, URL- and key-safe (letters, digits,
//     '_', '-', '.') and unique on the node. The core API that predates the
//     platform keeps its paths (/api/v1/users, /api/v1/collections, …), and
//     TAXII keeps /taxii2/ (the standard fixes it).
//   - Its config is its own section of kizuna.toml, [<name()>], which it
//     reads in Configure (the node's own sections — server, store, taxii,
//     sharing, correlation, peer… — predate the platform and stay typed in
//     node/config.h). A section no module is named after is refused, so a
//     misspelt one is an error, not silently ignored.
//   - Its jobs are named within the module; their schedule persists in the
//     store (see jobs.h).
//
// Thread-safety: a Module's Configure, AddRoutes, AddCommands, Jobs, Start and Stop are
// called from one thread, in that order of phases; its route handlers and
// job functions then run concurrently on the server's and the scheduler's
// threads and must be thread-safe. The Platform is set up (Add, Start, Stop)
// from one thread; routes(), Dispatch and LaneOf may be used from any
// thread once Start has returned ok.
// Ownership: the Platform owns its modules and destroys them in reverse
// order of addition, after Stop(). It does not own the store or the clock.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/rate_limiter.h"
#include "common/status.h"
#include "common/time.h"
#include "http/http.h"
#include "node/config.h"
#include "node/config_section.h"
#include "platform/jobs.h"
#include "platform/route_table.h"
#include "store/store.h"

// CLI11's application type. Only modules that register commands need the
// whole header (<CLI/CLI.hpp>, which is slow to compile); the rest of the
// node does not pay for it.
namespace CLI {
class App;
}  // namespace CLI

namespace kizuna::platform {

// One capability of the node. Every hook but name() has a no-op default.
class Module {
 public:
  virtual ~Module() = default;

  // The module's name: its URL segment (/api/v1/<name>/), its config section,
  // the prefix of its jobs' keys. Constant.
  virtual std::string_view name() const = 0;

  // Reads the module's section of kizuna.toml (absent: section.present() is
  // false and every key keeps its default). Called once before AddRoutes;
  // may also be called on a module that is never started, to check a config
  // (so it must only read). Return an error for a bad value (section.Fail
  // records one, naming the key); a key no reader read is refused after it
  // returns, as misspelt.
  virtual Status Configure(node::ConfigSection& section) {
    (void)section;
    return Status::Ok();
  }

  // Registers the module's REST routes (under /api/v1/<name()>/). The
  // handlers may capture `this`: the module outlives the table's use.
  virtual void AddRoutes(RouteTable& routes) { (void)routes; }

  // Registers the module's `kizuna …` subcommands on the CLI application;
  // a command's callback stores its exit code in *exit_code. Called without
  // Start() (the CLI does not run the node).
  virtual void AddCommands(CLI::App& app, int* exit_code) {
    (void)app;
    (void)exit_code;
  }

  // The module's periodic jobs; Job::module is filled in with name() when
  // left empty.
  virtual std::vector<Job> Jobs() { return {}; }

  // Starts what runs in the background (threads, followers of the change
  // bus). Called once, after the routes and jobs were collected and after
  // the modules added before this one started. An error stops the node's
  // start.
  virtual Status Start() { return Status::Ok(); }

  // Stops and joins whatever Start started; called once per successful
  // Start, after the modules added after this one stopped. Must not fail.
  virtual void Stop() {}
};

struct PlatformOptions {
  // The clock of the job scheduler. nullptr: the system clock. Not owned.
  const Clock* clock = nullptr;
  // Whether Start() starts the scheduler's thread. Default true; tests turn it
  // off and call scheduler().RunDue().
  bool run_jobs = true;
  // The per-identity limit on rate-limited routes (RouteOptions::
  // rate_limited, e.g. matching): a token bucket per authenticated user, on
  // `clock`. rate_per_second 0 (the default here): none.
  RateLimiterOptions heavy_rate_limit{.rate_per_second = 0};
  // At most this many rate-limited requests of one user run at once (a
  // member cannot hold every worker with requests its rate allows); more
  // get 429. 0 (the default here): no cap.
  int heavy_in_flight_per_user = 0;
};

// The modules of one node, in order.
class Platform {
 public:
  // `store` holds the jobs' schedule; not owned, must outlive the Platform.
  explicit Platform(store::Store& store, PlatformOptions options = {});
  ~Platform();  // Stop()
  Platform(const Platform&) = delete;
  Platform& operator=(const Platform&) = delete;

  // Appends a module (before Start). Returns it, for wiring that needs it.
  template <typename M>
  M& Add(std::unique_ptr<M> module) {
    M& added = *module;
    modules_.push_back(std::move(module));
    return added;
  }

  // Hands every module its section of `config` (ConfigureModules). Call
  // before Start; a platform never configured starts with none.
  Status Configure(const node::NodeConfig& config, std::string_view source);

  // Collects the routes of every module (in order) into routes(), then their
  // jobs into the scheduler, then starts the modules in order, then the
  // scheduler's thread. Any error — a bad or duplicate route or job, two
  // modules of one name, a module's Start failing — is returned with the
  // module named; modules already started are then stopped in reverse order
  // and nothing runs. Start is called once.
  Status Start();

  // Stops the scheduler (a running job finishes first), then the started
  // modules in reverse order. Idempotent.
  void Stop();

  // Registers every module's CLI subcommands (no Start needed).
  void AddCommands(CLI::App& app, int* exit_code);

  // Every module's routes; complete once Start() returned ok.
  const RouteTable& routes() const { return routes_; }
  // routes().Dispatch(request, user), after the per-identity rate limit on
  // rate-limited routes: a user whose bucket is empty gets 429 "Too many requests"
  // with Retry-After (seconds), and the handler does not run.
  http::Response Dispatch(const http::Request& request, const store::User& user) const;
  // routes().LaneOf(request): where the server should run it (an I/O
  // thread, or the worker lane for matching or for imports).
  Lane LaneOf(const http::Request& request) const { return routes_.LaneOf(request); }
  // routes().IsPublic(request): served without credentials.
  bool IsPublic(const http::Request& request) const { return routes_.IsPublic(request); }

  JobScheduler& scheduler() { return scheduler_; }
  const std::vector<std::unique_ptr<Module>>& modules() const { return modules_; }

 private:
  // Declared first: destroyed last, after the scheduler and the routes that
  // may refer to the modules.
  std::vector<std::unique_ptr<Module>> modules_;
  RouteTable routes_;
  JobScheduler scheduler_;
  mutable RateLimiter heavy_limiter_;  // thread-safe
  const int heavy_in_flight_per_user_;
  mutable std::mutex in_flight_mutex_;
  mutable std::map<int64_t, int> in_flight_;  // user id -> running rate-limited requests
  const bool run_jobs_;
  bool start_called_ = false;
  size_t started_ = 0;  // modules_[0, started_) are running
};

// One module's Configure with its section of `config` (absent: every key
// its default), unknown keys refused: how a CLI command that runs no node
// reads its module's settings. The error names "[<name>]" and the key.
Status ConfigureModule(Module& module, const node::NodeConfig& config);

// Calls each module's Configure with its section of `config` and checks
// that every section of config.sections is some module's. The first error
// is one line naming `source` (the file) and the key: "kizuna.toml:
// telescope.interval: must be between 1 and 3600, got 0".
Status ConfigureModules(const std::vector<std::unique_ptr<Module>>& modules,
                        const node::NodeConfig& config, std::string_view source);

}  // namespace kizuna::platform
