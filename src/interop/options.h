// The options of imports and exports as the REST API's query parameters
// (the commands take the same as flags), the ingest options of the node's
// config, and an import's summary as JSON. Pure functions; thread-safe.
#pragma once

#include <boost/json.hpp>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "interop/enforcement.h"
#include "interop/import.h"
#include "node/config.h"
#include "taxii/ingest.h"

namespace kizuna::interop {

struct EnforcementRequest {
  std::set<std::string> collections;  // ids or aliases; empty: every readable one
  ExportFilter filter;
  ExportOptions export_options;
};

using Query = std::vector<std::pair<std::string, std::string>>;

// collection (repeatable), type ("ip,domain"…, repeatable), tlp (the most
// restrictive to include; default amber+strict; red is refused),
// min_confidence, producer (identity id, repeatable), max_age_days,
// action (rpz), category (suricata-iprep).
Result<EnforcementRequest> EnforcementOptionsFromQuery(const Query& query, int64_t now_us);

// format (auto, text, csv), tlp (default amber), confidence, producer,
// lifetime_days (default 30), column ("FIELD=NAME", repeatable), label
// (repeatable), indicator_type.
Result<ListOptions> ListOptionsFromQuery(const Query& query, int64_t now_us);

// "FIELD=NAME" -> (field, name).
Result<std::pair<ListField, std::string>> ParseColumnOption(std::string_view text);

// How objects enter a collection on this node (limits, the full pattern
// check), for the home team.
taxii::IngestOptions IngestOptionsFor(const node::NodeConfig& config);

boost::json::object ImportSummaryJson(const ImportSummary& summary);

}  // namespace kizuna::interop
