#include "platform/jobs.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <exception>
#include <limits>

namespace kizuna::platform {
namespace {

constexpr int64_t kMaxMicros = std::numeric_limits<int64_t>::max();
// The background thread looks at the clock at least this often, so that a
// wall-clock step (NTP, a suspended VM) delays no job for long.
constexpr std::chrono::seconds kMaxSleep{60};

bool ValidJobName(std::string_view name) {
  if (name.empty()) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '.';
  });
}

int64_t SaturatingAdd(int64_t a, int64_t b) {
  if (b > 0 && a > kMaxMicros - b) return kMaxMicros;
  return a + b;
}

std::string Describe(const Job& job) { return job.module + "/" + job.name; }

}  // namespace

std::string JobLastRunKey(std::string_view module, std::string_view name) {
  std::string key = "job:";
  key += module;
  key += ':';
  key += name;
  key += ":last_run";
  return key;
}

JobScheduler::JobScheduler(store::Store& store, const Clock& clock)
    : store_(store), clock_(clock) {}

JobScheduler::~JobScheduler() { Stop(); }

Status JobScheduler::Add(Job job) {
  const std::string what = "job " + Describe(job);
  if (!ValidJobName(job.module) || !ValidJobName(job.name)) {
    return InvalidArgument(what +
                           ": module and job names are non-empty letters, digits, '_', '-', '.'");
  }
  if (job.period.count() <= 0) return InvalidArgument(what + ": the period must be positive");
  if (job.retry_after.count() <= 0) {
    return InvalidArgument(what + ": retry_after must be positive");
  }
  if (!job.run) return InvalidArgument(what + ": no function to run");
  {
    std::lock_guard lock(mutex_);
    if (Find(job.module, job.name)) return AlreadyExists(what + " is already registered");
  }
  const std::string key = JobLastRunKey(job.module, job.name);
  auto stored = store_.GetMeta(key);
  if (!stored.ok()) {
    return Status(stored.status().code(),
                  what + ": cannot read its last run: " + stored.status().message());
  }
  const int64_t now = clock_.NowMicros();
  Entry entry;
  if (stored->has_value()) {
    const std::string& text = **stored;
    int64_t value = 0;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || ptr != text.data() + text.size()) {
      spdlog::warn("{}: ignoring the unreadable last run '{}' stored under {}", what, text, key);
    } else {
      // A last run in the future (the clock was set back) counts as now, so
      // that the job does not stall for however far the clock moved.
      entry.last_run = std::min(value, now);
    }
  }
  entry.next_due = entry.last_run ? SaturatingAdd(*entry.last_run, job.period.count()) : now;
  entry.job = std::move(job);
  {
    std::lock_guard lock(mutex_);
    if (Find(entry.job.module, entry.job.name))
      return AlreadyExists(what + " is already registered");
    entries_.push_back(std::move(entry));
  }
  wake_.notify_all();
  return Status::Ok();
}

const JobScheduler::Entry* JobScheduler::Find(std::string_view module,
                                              std::string_view name) const {
  for (const Entry& entry : entries_) {
    if (entry.job.module == module && entry.job.name == name) return &entry;
  }
  return nullptr;
}

int JobScheduler::RunDue() {
  std::lock_guard run_lock(run_mutex_);
  std::vector<Entry*> due;
  {
    const int64_t now = clock_.NowMicros();
    std::lock_guard lock(mutex_);
    for (Entry& entry : entries_) {
      if (entry.next_due <= now) due.push_back(&entry);
    }
  }
  for (Entry* entry : due) {
    // entry->job never changes after Add and entries are never removed, so
    // it is read without mutex_; the schedule fields are written under it.
    const Job& job = entry->job;
    const int64_t started = clock_.NowMicros();
    Status result;
    try {
      result = job.run();
    } catch (const std::exception& e) {
      result = Internal(std::string("threw: ") + e.what());
    } catch (...) {
      result = Internal("threw a non-standard exception");
    }
    if (result.ok()) {
      Status saved = store_.SetMeta(JobLastRunKey(job.module, job.name), std::to_string(started));
      if (!saved.ok()) {
        // It ran: this process will not repeat it, but a restart before the
        // next run may.
        spdlog::warn("job {}: ran, but its last run was not saved: {}", Describe(job),
                     saved.ToString());
      }
      std::lock_guard lock(mutex_);
      entry->last_run = started;
      entry->failures = 0;
      entry->next_due = SaturatingAdd(started, job.period.count());
    } else {
      std::lock_guard lock(mutex_);
      ++entry->failures;
      int64_t delay = job.retry_after.count();
      for (int i = 1; i < entry->failures && delay < job.period.count(); ++i) {
        delay = SaturatingAdd(delay, delay);
      }
      delay = std::min(delay, static_cast<int64_t>(job.period.count()));
      entry->next_due = SaturatingAdd(started, delay);
      spdlog::warn("job {} failed ({} in a row), retrying in {} s: {}", Describe(job),
                   entry->failures, delay / 1000000, result.ToString());
    }
  }
  return static_cast<int>(due.size());
}

void JobScheduler::Start() {
  std::lock_guard thread_lock(thread_mutex_);
  if (thread_.joinable()) return;
  {
    std::lock_guard lock(mutex_);
    stopping_ = false;
  }
  thread_ = std::thread([this] { Loop(); });
}

void JobScheduler::Stop() {
  std::lock_guard thread_lock(thread_mutex_);
  if (!thread_.joinable()) return;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void JobScheduler::Loop() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    const int64_t now = clock_.NowMicros();
    int64_t next = kMaxMicros;
    for (const Entry& entry : entries_) next = std::min(next, entry.next_due);
    if (next <= now) {
      lock.unlock();
      RunDue();
      lock.lock();
      continue;
    }
    const size_t jobs = entries_.size();
    auto sleep = std::chrono::duration_cast<std::chrono::microseconds>(kMaxSleep);
    if (next - now < sleep.count()) sleep = std::chrono::microseconds(next - now);
    // Wakes early for Stop() and for a job added meanwhile (it may be due first).
    wake_.wait_for(lock, sleep, [&] { return stopping_ || entries_.size() != jobs; });
  }
}

std::optional<int64_t> JobScheduler::LastRun(std::string_view module, std::string_view name) const {
  std::lock_guard lock(mutex_);
  const Entry* entry = Find(module, name);
  if (!entry) return std::nullopt;
  return entry->last_run;
}

std::optional<int64_t> JobScheduler::NextDue(std::string_view module, std::string_view name) const {
  std::lock_guard lock(mutex_);
  const Entry* entry = Find(module, name);
  if (!entry) return std::nullopt;
  return entry->next_due;
}

}  // namespace kizuna::platform
