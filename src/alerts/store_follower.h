// StoreFollower: how the alerts module's followers (partner reports and
// answers, observations from the telescope and partners) read the store.
// It catches up from a cursor kept in alerts.db (the `cursors` table),
// then follows the change bus on its own thread; the cursor moves only
// after a batch was applied, and a batch that failed is read again later.
//
// Thread-safety: Start/Stop/CatchUp from one thread; `apply` and `after`
// run on the follower's thread once started. Ownership: it refers to the
// database, store and bus of its Options, which must outlive it.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "alerts/alerts_db.h"
#include "bus/bus.h"
#include "common/status.h"
#include "store/store.h"

namespace kizuna::alerts {

// A named cursor in alerts.db (0 when never set).
Result<int64_t> GetCursor(AlertsDb& db, std::string_view name);
Status SetCursor(AlertsDb& db, std::string_view name, int64_t value);
// The same, for a caller already holding the lock (in its transaction).
Status SetCursor(store::sqlite::Connection& c, std::string_view name, int64_t value);

class StoreFollower {
 public:
  struct Options {
    AlertsDb* db = nullptr;
    store::Store* store = nullptr;
    bus::ChangeBus* bus = nullptr;   // null: CatchUp only
    std::string cursor;              // its name in the cursors table
    std::string name;                // the subscription's name, and in log lines
    std::vector<std::string> types;  // what the catch-up reads
    int limit = 200;                 // changes a batch
    std::function<Status(const std::vector<store::Change>&)> apply;
    // Optional: after each turn of the loop (with whether changes came).
    std::function<Status(bool had_changes)> after;
  };
  explicit StoreFollower(Options options) : options_(std::move(options)) {}
  ~StoreFollower() { Stop(); }

  // Applies what the store has past the cursor.
  Status CatchUp();
  // CatchUp, then follows the bus on its own thread.
  Status Start();
  void Stop();

 private:
  void Loop();

  const Options options_;
  std::unique_ptr<bus::Subscription> subscription_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace kizuna::alerts
