#include "telescope/sensors.h"

#include <boost/json.hpp>

#include "auth/auth.h"
#include "common/encoding.h"
#include "sensor/interval.h"
#include "sensor/upload.h"

namespace kizuna::telescope {

namespace json = boost::json;

namespace {

std::string AccountKey(const std::string& name) { return "telescope:sensor:" + name; }
std::string UserKey(int64_t id) { return "telescope:sensor-user:" + std::to_string(id); }
constexpr const char* kListKey = "telescope:sensors";

Result<SensorAccount> ReadAccount(store::Store& store, const std::string& name) {
  KIZUNA_ASSIGN_OR_RETURN(std::optional<std::string> text, store.GetMeta(AccountKey(name)));
  if (!text) return NotFound("no sensor '" + name + "'");
  json::error_code ec;
  json::value v = json::parse(*text, ec);
  const json::object* o = ec ? nullptr : v.if_object();
  const json::value* id = o ? o->if_contains("user_id") : nullptr;
  const json::value* key = o ? o->if_contains("public_key") : nullptr;
  std::optional<std::string> public_key =
      key && key->is_string() ? Base64Decode(key->get_string()) : std::nullopt;
  if (!id || !id->is_int64() || !public_key || public_key->size() != 32) {
    return Internal("sensor '" + name + "': damaged account record");
  }
  return SensorAccount{name, id->get_int64(), *public_key};
}

}  // namespace

Result<NewSensor> AddSensorAccount(store::Store& store, const std::string& home_org,
                                   const std::string& name) {
  if (!sensor::ValidSensorName(name)) {
    return InvalidArgument("a sensor name is 1 to 64 of A-Z a-z 0-9 . _ -");
  }
  KIZUNA_ASSIGN_OR_RETURN(std::optional<std::string> existing, store.GetMeta(AccountKey(name)));
  if (existing) return AlreadyExists("sensor '" + name + "' exists");
  // An organization of their own: not the home team's grants, not its
  // reading rights (a stolen sensor token uploads, and reads nothing).
  KIZUNA_ASSIGN_OR_RETURN(store::Organization org, store.EnsureOrganization(SensorOrg(home_org)));
  KIZUNA_ASSIGN_OR_RETURN(store::User user,
                          store.CreateUser("sensor." + name, org.id, store::Role::kMember));
  KIZUNA_ASSIGN_OR_RETURN(auth::IssuedKey key, auth::IssueApiKey(store, user.id, "sensor " + name));
  const sensor::SensorKeys keys = sensor::SensorKeysFromToken(key.token);
  KIZUNA_RETURN_IF_ERROR(store.SetMeta(UserKey(user.id), name));
  KIZUNA_RETURN_IF_ERROR(store.SetMeta(
      AccountKey(name), json::serialize(json::object{
                            {"user_id", user.id}, {"public_key", Base64Encode(keys.public_key)}})));
  KIZUNA_ASSIGN_OR_RETURN(std::optional<std::string> list_text, store.GetMeta(kListKey));
  json::array list;
  if (list_text) {
    json::error_code ec;
    json::value v = json::parse(*list_text, ec);
    if (!ec && v.is_array()) list = v.get_array();
  }
  list.push_back(json::string(name));
  KIZUNA_RETURN_IF_ERROR(store.SetMeta(kListKey, json::serialize(list)));
  return NewSensor{SensorAccount{name, user.id, keys.public_key}, key.token};
}

std::string SensorOrg(const std::string& home_org) { return home_org + " sensors"; }

Result<SensorAccount> FindSensorByUser(store::Store& store, int64_t user_id) {
  KIZUNA_ASSIGN_OR_RETURN(std::optional<std::string> name, store.GetMeta(UserKey(user_id)));
  if (!name) return NotFound("not a sensor account");
  return ReadAccount(store, *name);
}

Result<std::vector<SensorAccount>> ListSensorAccounts(store::Store& store) {
  KIZUNA_ASSIGN_OR_RETURN(std::optional<std::string> list_text, store.GetMeta(kListKey));
  std::vector<SensorAccount> out;
  if (!list_text) return out;
  json::error_code ec;
  json::value v = json::parse(*list_text, ec);
  if (ec || !v.is_array()) return Internal("telescope:sensors: damaged");
  for (const json::value& name : v.get_array()) {
    if (!name.is_string()) continue;
    KIZUNA_ASSIGN_OR_RETURN(SensorAccount account,
                            ReadAccount(store, std::string(name.get_string())));
    out.push_back(std::move(account));
  }
  return out;
}

}  // namespace kizuna::telescope
