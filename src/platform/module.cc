#include "platform/module.h"

#include <algorithm>
#include <set>

namespace kizuna::platform {
namespace {

bool ValidModuleName(std::string_view name) {
  if (name.empty()) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';
  });
}

Status InModule(std::string_view module, const Status& status) {
  return Status(status.code(), "module " + std::string(module) + ": " + status.message());
}

}  // namespace

Status ConfigureModules(const std::vector<std::unique_ptr<Module>>& modules,
                        const node::NodeConfig& config, std::string_view source) {
  auto fail = [&](const Status& status) {
    return Status(status.code(), std::string(source) + ": " + status.message());
  };
  std::set<std::string, std::less<>> claimed;
  for (const auto& module : modules) {
    claimed.insert(std::string(module->name()));
    Status configured = ConfigureModule(*module, config);
    if (!configured.ok()) return fail(configured);
  }
  for (const auto& [name, text] : config.sections) {
    if (claimed.count(name)) continue;
    std::string known;
    for (const std::string& module : claimed) known += (known.empty() ? "" : ", ") + module;
    return fail(
        InvalidArgument("[" + name + "]: unknown section (the node's modules are: " + known + ")"));
  }
  return Status::Ok();
}

Status ConfigureModule(Module& module, const node::NodeConfig& config) {
  const std::string name(module.name());
  auto text = config.sections.find(name);
  Result<node::ConfigSection> section = node::ConfigSection(name);
  if (text != config.sections.end()) section = node::ConfigSection::Parse(name, text->second);
  if (!section.ok()) return section.status();
  KIZUNA_RETURN_IF_ERROR(module.Configure(*section));
  section->RejectUnknown();
  return section->status();
}

Status Platform::Configure(const node::NodeConfig& config, std::string_view source) {
  return ConfigureModules(modules_, config, source);
}

Platform::Platform(store::Store& store, PlatformOptions options)
    : scheduler_(store, options.clock ? *options.clock : SystemClock::Instance()),
      heavy_limiter_(options.heavy_rate_limit,
                     options.clock ? *options.clock : SystemClock::Instance()),
      heavy_in_flight_per_user_(options.heavy_in_flight_per_user),
      run_jobs_(options.run_jobs) {}

http::Response Platform::Dispatch(const http::Request& request, const store::User& user) const {
  if (heavy_limiter_.enabled() && routes_.IsRateLimited(request)) {
    RateLimiter::Decision decision = heavy_limiter_.Acquire(std::to_string(user.id));
    if (!decision.allowed) {
      const std::string seconds = std::to_string(decision.retry_after_seconds);
      http::Response response = http::ErrorResponse(
          429, "Too many requests",
          "this account sent more heavy requests (matching, imports) than the node allows "
          "(limits.heavy_requests_per_second, limits.heavy_burst); retry in " +
              seconds + " s");
      response.headers.Set("Retry-After", seconds);
      return response;
    }
  }
  if (heavy_in_flight_per_user_ > 0 && routes_.IsRateLimited(request)) {
    {
      std::lock_guard lock(in_flight_mutex_);
      int& running = in_flight_[user.id];
      if (running >= heavy_in_flight_per_user_) {
        if (running == 0) in_flight_.erase(user.id);
        http::Response response = http::ErrorResponse(
            429, "Too many requests",
            "this account already has as many heavy requests running as the node allows "
            "(limits.heavy_in_flight_per_user); retry when one is answered");
        response.headers.Set("Retry-After", "1");
        return response;
      }
      ++running;
    }
    struct Done {
      const Platform* platform;
      int64_t user;
      ~Done() {
        std::lock_guard lock(platform->in_flight_mutex_);
        auto it = platform->in_flight_.find(user);
        if (it != platform->in_flight_.end() && --it->second <= 0) platform->in_flight_.erase(it);
      }
    } done{this, user.id};
    return routes_.Dispatch(request, user);
  }
  return routes_.Dispatch(request, user);
}

Platform::~Platform() { Stop(); }

Status Platform::Start() {
  if (start_called_) return FailedPrecondition("the platform was already started");
  start_called_ = true;

  std::set<std::string, std::less<>> names;
  for (const auto& module : modules_) {
    std::string_view name = module->name();
    if (!ValidModuleName(name)) {
      return InvalidArgument("module '" + std::string(name) +
                             "': a module name is lower-case letters, digits, '_', '-', '.'");
    }
    if (!names.emplace(name).second) {
      return AlreadyExists("two modules are named '" + std::string(name) + "'");
    }
  }

  for (const auto& module : modules_) {
    module->AddRoutes(routes_);
    // The table keeps its first error; it is this module's if it appeared now.
    if (!routes_.status().ok()) return InModule(module->name(), routes_.status());
  }

  for (const auto& module : modules_) {
    for (Job& job : module->Jobs()) {
      if (job.module.empty()) job.module = std::string(module->name());
      if (job.module != module->name()) {
        return InModule(module->name(), InvalidArgument("job " + job.module + "/" + job.name +
                                                        " names another module"));
      }
      if (Status added = scheduler_.Add(std::move(job)); !added.ok()) {
        return InModule(module->name(), added);
      }
    }
  }

  for (const auto& module : modules_) {
    Status started = module->Start();
    if (!started.ok()) {
      Stop();
      return InModule(module->name(), Status(started.code(), "cannot start: " + started.message()));
    }
    ++started_;
  }

  if (run_jobs_) scheduler_.Start();
  return Status::Ok();
}

void Platform::Stop() {
  scheduler_.Stop();
  while (started_ > 0) {
    --started_;
    modules_[started_]->Stop();
  }
}

void Platform::AddCommands(CLI::App& app, int* exit_code) {
  for (const auto& module : modules_) module->AddCommands(app, exit_code);
}

}  // namespace kizuna::platform
