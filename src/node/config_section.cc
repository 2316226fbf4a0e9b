#include "node/config_section.h"

#include <optional>

#include <fmt/format.h>

#include "node/config_section_impl.h"

namespace kizuna::node {

ConfigSection ReadTable(const toml::table* table, std::string name, std::string prefix,
                        std::shared_ptr<Status> error) {
  auto impl = std::make_unique<ConfigSection::Impl>();
  impl->name = std::move(name);
  impl->prefix = std::move(prefix);
  impl->table = table;
  impl->error = error ? std::move(error) : std::make_shared<Status>();
  return ConfigSection(std::move(impl));
}

ConfigSection::ConfigSection(std::string name)
    : ConfigSection(ReadTable(nullptr, name, name.empty() ? "" : name + ".", nullptr)) {}
ConfigSection::ConfigSection(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ConfigSection::ConfigSection(ConfigSection&&) noexcept = default;
ConfigSection& ConfigSection::operator=(ConfigSection&&) noexcept = default;
ConfigSection::~ConfigSection() = default;

Result<ConfigSection> ConfigSection::Parse(std::string name, std::string_view toml_text) {
  auto table = std::make_shared<toml::table>();
  try {
    *table = toml::parse(toml_text, name);
  } catch (const toml::parse_error& e) {
    return InvalidArgument(fmt::format("[{}]: {}", name, e.description()));
  }
  std::string prefix = name + ".";
  ConfigSection section = ReadTable(table.get(), std::move(name), std::move(prefix), nullptr);
  section.impl_->owned = std::move(table);
  return section;
}

const std::string& ConfigSection::name() const { return impl_->name; }
bool ConfigSection::present() const { return impl_->table != nullptr; }

bool ConfigSection::Has(std::string_view key) const {
  return impl_->table && impl_->table->contains(key);
}

void ConfigSection::String(const char* key, std::string* out) {
  impl_->seen.insert(key);
  const toml::node* n = impl_->table ? impl_->table->get(key) : nullptr;
  if (!n) return;
  if (auto v = n->value<std::string>(); v && n->is_string()) {
    *out = *v;
  } else {
    Fail(key, "expected a string");
  }
}

bool ConfigSection::ReadInteger(const char* key, int64_t* out, int64_t min, int64_t max) {
  impl_->seen.insert(key);
  const toml::node* n = impl_->table ? impl_->table->get(key) : nullptr;
  if (!n) return false;
  // Only an integer is asked for its value: toml++ converts a float to
  // int64_t with a cast that is undefined past its range (2.2e101).
  const std::optional<int64_t> v = n->is_integer() ? n->value<int64_t>() : std::nullopt;
  if (!v) {
    Fail(key, "expected an integer");
    return false;
  }
  if (*v < min || *v > max) {
    Fail(key, fmt::format("must be between {} and {}, got {}", min, max, *v));
    return false;
  }
  *out = *v;
  return true;
}

void ConfigSection::Bool(const char* key, bool* out) {
  impl_->seen.insert(key);
  const toml::node* n = impl_->table ? impl_->table->get(key) : nullptr;
  if (!n) return;
  if (auto v = n->value<bool>(); v && n->is_boolean()) {
    *out = *v;
  } else {
    Fail(key, "expected true or false");
  }
}

void ConfigSection::StringList(const char* key, std::vector<std::string>* out) {
  impl_->seen.insert(key);
  const toml::node* n = impl_->table ? impl_->table->get(key) : nullptr;
  if (!n) return;
  const toml::array* array = n->as_array();
  if (!array) return Fail(key, "expected a list of strings");
  std::vector<std::string> items;
  for (const auto& item : *array) {
    auto v = item.value<std::string>();
    if (!item.is_string() || !v) return Fail(key, "expected a list of strings");
    items.push_back(*v);
  }
  *out = std::move(items);
}

void ConfigSection::Tlp(const char* key, stix::Tlp* out, bool allow_red) {
  std::string text;
  String(key, &text);
  if (text.empty()) return;
  auto parsed = stix::ParseTlp(text);
  if (!parsed.ok() || *parsed == stix::Tlp::kNone || (!allow_red && *parsed == stix::Tlp::kRed)) {
    return Fail(key, allow_red ? "must be clear, green, amber, amber+strict or red"
                               : "must be clear, green, amber or amber+strict (red never "
                                 "leaves the node)");
  }
  *out = *parsed;
}

std::vector<ConfigSection> ConfigSection::Tables(const char* key) {
  impl_->seen.insert(key);
  std::vector<ConfigSection> tables;
  const toml::node* n = impl_->table ? impl_->table->get(key) : nullptr;
  if (!n) return tables;
  const toml::array* array = n->as_array();
  bool ok = array != nullptr;
  if (ok) {
    for (const auto& item : *array) ok = ok && item.is_table();
  }
  if (!ok) {
    Fail(key, "expected [[" + impl_->prefix + key + "]] tables");
    return tables;
  }
  for (size_t i = 0; i < array->size(); ++i) {
    ConfigSection table = ReadTable(array->get(i)->as_table(), impl_->name,
                                    fmt::format("{}{}[{}].", impl_->prefix, key, i), impl_->error);
    // The parsed file stays alive as long as any of its tables.
    table.impl_->owned = impl_->owned;
    tables.push_back(std::move(table));
  }
  return tables;
}

void ConfigSection::Seen(const char* key) { impl_->seen.insert(key); }

void ConfigSection::Fail(std::string_view key, std::string_view message) {
  if (impl_->error->ok()) {
    *impl_->error = InvalidArgument(impl_->prefix + std::string(key) + ": " + std::string(message));
  }
}

void ConfigSection::RejectUnknown() {
  if (!impl_->table) return;
  for (const auto& [key, value] : *impl_->table) {
    if (!impl_->seen.count(key.str())) Fail(key.str(), "unknown key");
  }
}

Status ConfigSection::status() const { return *impl_->error; }

}  // namespace kizuna::node
