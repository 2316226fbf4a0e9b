// The parsed table behind a node::ConfigSection; only node/config.cc and
// config_section.cc see it (toml++ is slow to compile and stays out of the
// public headers).
#pragma once

#include <toml++/toml.h>

#include <memory>
#include <set>
#include <string>

#include "node/config_section.h"

namespace kizuna::node {

struct ConfigSection::Impl {
  std::string name;
  std::string prefix;                        // "telescope." — what errors start with
  std::shared_ptr<const toml::table> owned;  // set when the section owns its table
  const toml::table* table = nullptr;        // nullptr: the section is absent
  std::shared_ptr<Status> error;             // shared with the sections Tables() made
  std::set<std::string, std::less<>> seen;
};

// A reader over `table` (nullptr: absent; not owned, must outlive it) whose
// errors start with `prefix` and are recorded in `error`.
ConfigSection ReadTable(const toml::table* table, std::string name, std::string prefix,
                        std::shared_ptr<Status> error);

}  // namespace kizuna::node
