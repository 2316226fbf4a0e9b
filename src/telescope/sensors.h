// Sensor accounts: a sensor uploads with an API key of its own, bound to
// its name, which it may use for nothing else (an organization of its own
// with no collection grants; the telescope's read views refuse it). The token also derives the
// sensor's Ed25519 signing key (module.h, SensorKeysFromToken); the node keeps only the public
// half, in the store's meta table:
//   telescope:sensor:<name>       {"user_id": N, "public_key": base64}
//   telescope:sensor-user:<id>    <name>
//   telescope:sensors             ["name", …]
// Functions only; thread-safe as the store is.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "store/store.h"

namespace kizuna::telescope {

struct SensorAccount {
  std::string name;
  int64_t user_id = 0;
  std::string public_key;  // 32 bytes
};

struct NewSensor {
  SensorAccount account;
  std::string token;  // shown once
};
// The organization sensor accounts belong to: "<home> sensors".
std::string SensorOrg(const std::string& home_org);
// Creates the account "sensor.<name>" in SensorOrg(home_org).
Result<NewSensor> AddSensorAccount(store::Store& store, const std::string& home_org,
                                   const std::string& name);
// NotFound when `user_id` is no sensor's.
Result<SensorAccount> FindSensorByUser(store::Store& store, int64_t user_id);
Result<std::vector<SensorAccount>> ListSensorAccounts(store::Store& store);

}  // namespace kizuna::telescope
