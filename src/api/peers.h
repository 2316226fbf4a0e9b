// Federation peers as the REST API and the CLI show and accept them: a
// [[peer]] entry of kizuna.toml as JSON (never its token) with the peer's
// status beside it, and a new peer read from a JSON body. Does not depend on
// the federation component: the status arrives as the JSON text that
// federation::PeerStatusToJson writes. Plain functions; thread-safe.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "common/status.h"
#include "node/config.h"
#include "store/store.h"

namespace kizuna::api {

// What /api/v1/peers needs from the running node. Default: the endpoints
// answer 503 (no config file known).
struct PeerAdmin {
  std::string config_path;  // DIR/kizuna.toml: the peers are read from and written to it
  // The live status of each running peer, keyed by peer name, as JSON object
  // text (federation::PeerStatusToJson). May be empty.
  std::function<std::map<std::string, std::string>()> statuses;
};

// `{"name", "url", "org", "max_tlp", "public_key", "pull", "into", "share",
// "push", "push_to", "reshare", "stream", "poll_seconds", "ca_file",
// "pinned_cert_sha256", "status"}` — "status" is the parsed `status_json`,
// or null when it is empty or not an object. Never the token.
std::string PeerJson(const node::PeerConfig& peer, std::string_view status_json);

// A peer from a JSON object with the keys above ("status" excepted) plus
// "token"; "name", "url", "token" and "public_key" are required, the others
// take the defaults of node::PeerConfig. Unknown keys and wrong types are
// errors (kInvalidArgument naming the key). The values themselves are checked
// by node::AddPeerToConfigFile.
Result<node::PeerConfig> PeerFromJson(std::string_view body);

// Adds the peer to the config file at `config_path`, refusing a name already
// configured (kAlreadyExists), a missing public key, collections (`into`,
// `share`) that `store` does not have (when given), and anything the config
// would not load (kInvalidArgument). On any error the file is unchanged.
Status AddPeer(const std::string& config_path, const node::PeerConfig& peer,
               store::Store* store = nullptr);

}  // namespace kizuna::api
