#include "node/config.h"

#include <fmt/format.h>

#include <toml++/toml.h>
#include <fstream>
#include <set>
#include <sstream>

namespace kizuna::node {
namespace {

// Reads typed values out of one toml table, remembering the first error and
// which keys were consumed so that unknown (misspelt) keys can be reported.
class TableReader {
 public:
  TableReader(const toml::table& table, std::string prefix, Status* error)
      : table_(table), prefix_(std::move(prefix)), error_(error) {}

  void String(const char* key, std::string* out) {
    seen_.insert(key);
    const toml::node* n = table_.get(key);
    if (!n) return;
    if (auto v = n->value<std::string>()) {
      *out = *v;
    } else {
      Fail(key, "expected a string");
    }
  }
  template <typename Int>
  void Integer(const char* key, Int* out, int64_t min, int64_t max) {
    seen_.insert(key);
    const toml::node* n = table_.get(key);
    if (!n) return;
    auto v = n->value<int64_t>();
    if (!n->is_integer() || !v) return Fail(key, "expected an integer");
    if (*v < min || *v > max) {
      return Fail(key, fmt::format("must be between {} and {}, got {}", min, max, *v));
    }
    *out = static_cast<Int>(*v);
  }
  void Bool(const char* key, bool* out) {
    seen_.insert(key);
    const toml::node* n = table_.get(key);
    if (!n) return;
    if (auto v = n->value<bool>(); v && n->is_boolean()) {
      *out = *v;
    } else {
      Fail(key, "expected true or false");
    }
  }
  void StringList(const char* key, std::vector<std::string>* out) {
    seen_.insert(key);
    const toml::node* n = table_.get(key);
    if (!n) return;
    const toml::array* array = n->as_array();
    if (!array) return Fail(key, "expected a list of strings");
    out->clear();
    for (const auto& item : *array) {
      auto v = item.value<std::string>();
      if (!item.is_string() || !v) return Fail(key, "expected a list of strings");
      out->push_back(*v);
    }
  }
  void Fail(const std::string& key, const std::string& message) {
    if (error_->ok()) *error_ = InvalidArgument(prefix_ + key + ": " + message);
  }
  void RejectUnknown() {
    for (const auto& [key, value] : table_) {
      if (!seen_.count(std::string(key.str()))) Fail(std::string(key.str()), "unknown key");
    }
  }

 private:
  const toml::table& table_;
  std::string prefix_;
  Status* error_;
  std::set<std::string> seen_;
};

// Config errors are shown as one line; a parser may quote the offending
// characters (a newline, a control byte) verbatim.
std::string OneLine(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    unsigned char u = static_cast<unsigned char>(c);
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (u < 0x20 || u == 0x7f) {
      out += fmt::format("\\x{:02x}", u);
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

bool IsLoopbackHost(std::string_view host) {
  return host == "localhost" || host == "::1" || host == "[::1]" || host.rfind("127.", 0) == 0;
}

Status ParseListen(std::string_view text, std::string* host, uint16_t* port) {
  size_t colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == text.size()) {
    return InvalidArgument(fmt::format("expected HOST:PORT, got '{}'", text));
  }
  std::string_view h = text.substr(0, colon);
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  int value = 0;
  for (char c : text.substr(colon + 1)) {
    if (c < '0' || c > '9' || value > 65535) {
      return InvalidArgument(fmt::format("expected HOST:PORT, got '{}'", text));
    }
    value = value * 10 + (c - '0');
  }
  if (value > 65535) return InvalidArgument(fmt::format("port out of range in '{}'", text));
  *host = std::string(h);
  *port = static_cast<uint16_t>(value);
  return Status::Ok();
}

std::string DefaultConfigText(const std::string& name, const std::string& host, uint16_t port) {
  std::string listen = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return fmt::format(R"(# kizuna node configuration. Every key is shown with its default.
# Paths are relative to this file's directory.

# The team that runs this node (shown to partners, used as the STIX identity name).
name = "{name}"

[server]
# Address and port to listen on. TAXII 2.1 is served at /taxii2/, the REST API
# at /api/v1/.
listen = "{listen}:{port}"
# I/O threads.
threads = 4
# TLS certificate chain and private key (PEM). When both are set the node
# speaks HTTPS only.
tls_cert = ""
tls_key = ""
# Plain HTTP is refused on non-loopback addresses unless this is true.
allow_plain_http = false
# The base URL partners use to reach this node, e.g. "https://cti.example.org:8443".
# Empty: derived from each request's Host header.
public_url = ""
# Seconds a client may take to send one request (headers and body).
read_timeout_seconds = 30

[limits]
# Largest request body accepted; larger ones get 413 before they are read.
max_body_bytes = 67108864
# Most STIX objects in one TAXII POST.
max_objects_per_request = 10000
# Most objects one TAXII GET returns, and the page size when the client asks none.
max_page_size = 1000
default_page_size = 1000
# Deepest JSON nesting accepted.
max_json_depth = 64

[store]
# "sqlite" (embedded). PostgreSQL comes with its own issue.
backend = "sqlite"
path = "kizuna.db"
# "FULL": every acknowledged write survives power loss. "NORMAL": survives a
# crash of the process (kill -9) but not of the machine; faster.
synchronous = "FULL"

[taxii]
title = "{name} TAXII 2.1"
description = "kizuna node of {name}"
contact = ""
# The API root is served at /taxii2/<api_root>/.
api_root = "root"

[sharing]
# TLP given to objects that carry no TLP marking: clear, green, amber,
# amber+strict or red.
default_tlp = "amber"

[correlation]
# Most indicators reported per observable by /api/v1/match and `kizuna match`.
max_results = 100
# Warning lists in MISP's warninglists JSON format, besides the built-in ones
# (private and documentation ranges, public resolvers, example and popular domains).
warninglists = []
# true: observables on a warning list get no matches, only the warning.
exclude_warninglisted = false
# Sightings: one sighting object per indicator and this many seconds.
sighting_period_seconds = 86400

[log]
# trace, debug, info, warn, error
level = "info"
)",
                     fmt::arg("name", name), fmt::arg("listen", listen), fmt::arg("port", port));
}

Result<NodeConfig> ParseConfig(std::string_view text, const std::string& source) {
  toml::table root;
  try {
    root = toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    return InvalidArgument(OneLine(fmt::format("{}:{}:{}: {}", source, e.source().begin.line,
                                               e.source().begin.column, e.description())));
  }
  NodeConfig config;
  Status error;
  auto section = [&](const char* name) -> const toml::table* {
    const toml::node* n = root.get(name);
    if (!n) return nullptr;
    if (!n->is_table()) {
      if (error.ok())
        error = InvalidArgument(std::string(name) + ": expected a [" + name + "] table");
      return nullptr;
    }
    return n->as_table();
  };

  TableReader top(root, "", &error);
  top.String("name", &config.name);
  static const toml::table kEmpty;
  {
    const toml::table* t = section("server");
    TableReader r(t ? *t : kEmpty, "server.", &error);
    std::string listen;
    r.String("listen", &listen);
    if (!listen.empty()) {
      Status st = ParseListen(listen, &config.server.host, &config.server.port);
      if (!st.ok()) r.Fail("listen", st.message());
    }
    r.Integer("threads", &config.server.threads, 1, 256);
    r.String("tls_cert", &config.server.tls_cert);
    r.String("tls_key", &config.server.tls_key);
    r.Bool("allow_plain_http", &config.server.allow_plain_http);
    r.String("public_url", &config.server.public_url);
    r.Integer("read_timeout_seconds", &config.server.read_timeout_seconds, 1, 3600);
    r.RejectUnknown();
    if (config.server.tls_cert.empty() != config.server.tls_key.empty()) {
      r.Fail(config.server.tls_cert.empty() ? "tls_cert" : "tls_key",
             "tls_cert and tls_key must be set together");
    }
  }
  {
    const toml::table* t = section("limits");
    TableReader r(t ? *t : kEmpty, "limits.", &error);
    r.Integer("max_body_bytes", &config.limits.max_body_bytes, 1024, int64_t{1} << 40);
    r.Integer("max_objects_per_request", &config.limits.max_objects_per_request, 1, 10000000);
    r.Integer("max_page_size", &config.limits.max_page_size, 1, 1000000);
    r.Integer("default_page_size", &config.limits.default_page_size, 1, 1000000);
    r.Integer("max_json_depth", &config.limits.max_json_depth, 4, 10000);
    r.RejectUnknown();
    if (config.limits.default_page_size > config.limits.max_page_size) {
      r.Fail("default_page_size", "must not exceed max_page_size");
    }
  }
  {
    const toml::table* t = section("store");
    TableReader r(t ? *t : kEmpty, "store.", &error);
    r.String("backend", &config.store.backend);
    r.String("path", &config.store.path);
    r.String("synchronous", &config.store.synchronous);
    r.RejectUnknown();
    if (config.store.backend != "sqlite") r.Fail("backend", "must be \"sqlite\"");
    if (config.store.synchronous != "FULL" && config.store.synchronous != "NORMAL") {
      r.Fail("synchronous", "must be \"FULL\" or \"NORMAL\"");
    }
  }
  {
    const toml::table* t = section("taxii");
    TableReader r(t ? *t : kEmpty, "taxii.", &error);
    r.String("title", &config.taxii.title);
    r.String("description", &config.taxii.description);
    r.String("contact", &config.taxii.contact);
    r.String("api_root", &config.taxii.api_root);
    r.RejectUnknown();
    const std::string& root_name = config.taxii.api_root;
    bool ok = !root_name.empty() && root_name.size() <= 64;
    for (char c : root_name) {
      if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_')) ok = false;
    }
    if (!ok) r.Fail("api_root", "must be 1-64 letters, digits, '-' or '_'");
  }
  {
    const toml::table* t = section("sharing");
    TableReader r(t ? *t : kEmpty, "sharing.", &error);
    std::string tlp;
    r.String("default_tlp", &tlp);
    if (!tlp.empty()) {
      auto parsed = stix::ParseTlp(tlp);
      if (!parsed.ok() || *parsed == stix::Tlp::kNone) {
        r.Fail("default_tlp", "must be clear, green, amber, amber+strict or red");
      } else {
        config.sharing.default_tlp = *parsed;
      }
    }
    r.RejectUnknown();
  }
  {
    const toml::table* t = section("correlation");
    TableReader r(t ? *t : kEmpty, "correlation.", &error);
    r.Integer("max_results", &config.correlation.max_results, 1, 100000);
    r.StringList("warninglists", &config.correlation.warninglists);
    r.Bool("exclude_warninglisted", &config.correlation.exclude_warninglisted);
    r.Integer("sighting_period_seconds", &config.correlation.sighting_period_seconds, 60,
              int64_t{366} * 86400);
    r.RejectUnknown();
  }
  {
    const toml::table* t = section("log");
    TableReader r(t ? *t : kEmpty, "log.", &error);
    r.String("level", &config.log_level);
    r.RejectUnknown();
    static const std::set<std::string> kLevels = {"trace", "debug", "info", "warn", "error"};
    if (!kLevels.count(config.log_level))
      r.Fail("level", "must be trace, debug, info, warn or error");
  }
  for (const auto& [key, value] : root) {
    static const std::set<std::string> kKnown = {
        "name", "server", "limits", "store", "taxii", "sharing", "log", "correlation", "peer"};
    if (!kKnown.count(std::string(key.str())) && error.ok()) {
      error = InvalidArgument(std::string(key.str()) + ": unknown key");
    }
  }
  if (!error.ok()) return InvalidArgument(OneLine(source + ": " + error.message()));
  return config;
}

Result<NodeConfig> LoadConfig(const std::string& path) {
  std::ifstream in(path);
  if (!in) return IoError("cannot read " + path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return ParseConfig(buffer.str(), path);
}

}  // namespace kizuna::node
