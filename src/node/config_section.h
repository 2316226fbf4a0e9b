// One table of kizuna.toml, read key by key. The typed readers remember the
// first error (as "section.key: what is wrong") and the keys they read, so
// that RejectUnknown() can refuse a misspelt one. The node's own sections are
// read this way (node/config.cc), and so is a capability module's section
// ([telescope], …: platform::Module::Configure), which the config keeps as
// TOML text until its module reads it (NodeConfig::sections).
//
// Thread-safety: none; one reader per thread. Ownership: a section owns (or
// shares) the parsed table it reads; the sections Tables() returns share its
// error, so the first error anywhere in the section is the one reported.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "stix/stix.h"

namespace kizuna::node {

class ConfigSection {
 public:
  struct Impl;  // node/config_section_impl.h: the parsed TOML table

  // An absent section: every key is missing, nothing is unknown.
  explicit ConfigSection(std::string name = "");
  explicit ConfigSection(std::unique_ptr<Impl> impl);
  ConfigSection(ConfigSection&&) noexcept;
  ConfigSection& operator=(ConfigSection&&) noexcept;
  ~ConfigSection();

  // Reads `toml_text` (the body of a section, as NodeConfig::sections keeps
  // it) as the section `name`. An error when the text is not TOML.
  static Result<ConfigSection> Parse(std::string name, std::string_view toml_text);

  // The section's name ("telescope"; "" for the top level of the file).
  const std::string& name() const;
  // Whether kizuna.toml has this section.
  bool present() const;
  bool Has(std::string_view key) const;

  // Each reader leaves *out unchanged when the key is absent, and records an
  // error when its value has the wrong type or range.
  void String(const char* key, std::string* out);
  template <typename Int>
  void Integer(const char* key, Int* out, int64_t min, int64_t max) {
    int64_t value = 0;
    if (ReadInteger(key, &value, min, max)) *out = static_cast<Int>(value);
  }
  void Bool(const char* key, bool* out);
  void StringList(const char* key, std::vector<std::string>* out);
  // A TLP name; RED is refused unless allow_red.
  void Tlp(const char* key, stix::Tlp* out, bool allow_red);
  // The tables of the array [[<section>.<key>]], read the same way (their
  // errors name "<section>.<key>[i].<key>"). Empty when absent.
  std::vector<ConfigSection> Tables(const char* key);
  // Marks a key as read by other code, so RejectUnknown accepts it.
  void Seen(const char* key);

  // Records an error for `key` unless one was recorded before.
  void Fail(std::string_view key, std::string_view message);
  // Records "unknown key" for the first key no reader read.
  void RejectUnknown();
  // The first error recorded in this section or in its Tables(), or ok.
  Status status() const;

 private:
  bool ReadInteger(const char* key, int64_t* out, int64_t min, int64_t max);
  std::unique_ptr<Impl> impl_;
};

}  // namespace kizuna::node
