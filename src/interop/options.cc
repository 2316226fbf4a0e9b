#include "interop/options.h"

#include <charconv>

#include "pattern/pattern.h"

namespace kizuna::interop {
namespace {

namespace json = boost::json;

Result<int> IntParam(std::string_view key, std::string_view value, int min, int max) {
  int n = 0;
  auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
  if (ec != std::errc() || ptr != value.data() + value.size() || n < min || n > max) {
    return InvalidArgument(std::string(key) + ": a number from " + std::to_string(min) + " to " +
                           std::to_string(max));
  }
  return n;
}

}  // namespace

Result<EnforcementRequest> EnforcementOptionsFromQuery(const Query& query, int64_t now_us) {
  EnforcementRequest request;
  request.filter.now_us = now_us;
  for (const auto& [key, value] : query) {
    if (key == "collection") {
      request.collections.insert(value);
    } else if (key == "type") {
      KIZUNA_ASSIGN_OR_RETURN(auto kinds, ParseKinds(value));
      request.filter.kinds.insert(kinds.begin(), kinds.end());
    } else if (key == "tlp") {
      auto tlp = stix::ParseTlp(value);
      if (!tlp.ok() || *tlp == stix::Tlp::kNone)
        return InvalidArgument("tlp: clear, green, amber or amber+strict");
      if (*tlp == stix::Tlp::kRed)
        return InvalidArgument("tlp: RED is never exported for enforcement");
      request.filter.max_tlp = *tlp;
    } else if (key == "min_confidence") {
      KIZUNA_ASSIGN_OR_RETURN(request.filter.min_confidence, IntParam(key, value, 0, 100));
    } else if (key == "producer") {
      request.filter.producers.insert(value);
    } else if (key == "max_age_days") {
      KIZUNA_ASSIGN_OR_RETURN(request.filter.max_age_days, IntParam(key, value, 0, 36500));
    } else if (key == "action") {
      if (value != "nxdomain" && value != "nodata" && value != "drop" && value != "passthru") {
        return InvalidArgument("action: nxdomain, nodata, drop or passthru");
      }
      request.export_options.rpz_action = value;
    } else if (key == "category") {
      KIZUNA_ASSIGN_OR_RETURN(request.export_options.iprep_category, IntParam(key, value, 1, 60));
    } else {
      return InvalidArgument(
          "unknown parameter '" + key +
          "' (collection, type, tlp, min_confidence, producer, max_age_days, action, category)");
    }
  }
  // A dataset of one type: the one asked for.
  if (request.filter.kinds.size() == 1)
    request.export_options.dataset_kind = *request.filter.kinds.begin();
  return request;
}

Result<std::pair<ListField, std::string>> ParseColumnOption(std::string_view text) {
  const size_t eq = text.find('=');
  if (eq == std::string_view::npos || eq == 0 || eq + 1 == text.size()) {
    return InvalidArgument("column: FIELD=NAME, e.g. value=ioc");
  }
  KIZUNA_ASSIGN_OR_RETURN(ListField field, ParseListField(text.substr(0, eq)));
  return std::make_pair(field, std::string(text.substr(eq + 1)));
}

Result<ListOptions> ListOptionsFromQuery(const Query& query, int64_t now_us) {
  ListOptions options;
  options.now_us = now_us;
  for (const auto& [key, value] : query) {
    if (key == "collection") {
      continue;  // the caller's
    } else if (key == "format") {
      KIZUNA_ASSIGN_OR_RETURN(options.format, ParseListFormat(value));
    } else if (key == "tlp") {
      auto tlp = stix::ParseTlp(value);
      if (!tlp.ok() || *tlp == stix::Tlp::kNone)
        return InvalidArgument("tlp: clear, green, amber, amber+strict or red");
      options.tlp = *tlp;
    } else if (key == "confidence") {
      KIZUNA_ASSIGN_OR_RETURN(options.confidence, IntParam(key, value, 0, 100));
    } else if (key == "producer") {
      if (value.size() > 256) return InvalidArgument("producer: at most 256 characters");
      options.producer = value;
    } else if (key == "lifetime_days") {
      KIZUNA_ASSIGN_OR_RETURN(options.lifetime_days, IntParam(key, value, 0, 36500));
    } else if (key == "column") {
      KIZUNA_ASSIGN_OR_RETURN(auto column, ParseColumnOption(value));
      options.columns[column.first] = column.second;
    } else if (key == "label") {
      if (!value.empty()) options.labels.push_back(value);
    } else if (key == "indicator_type") {
      if (value.empty()) return InvalidArgument("indicator_type: empty");
      options.indicator_type = value;
    } else {
      return InvalidArgument(
          "unknown parameter '" + key +
          "' (collection, format, tlp, confidence, producer, lifetime_days, column, label, "
          "indicator_type)");
    }
  }
  return options;
}

taxii::IngestOptions IngestOptionsFor(const node::NodeConfig& config) {
  taxii::IngestOptions options;
  options.max_objects_per_request = config.limits.max_objects_per_request;
  options.max_json_depth = config.limits.max_json_depth;
  options.pattern_checker = &pattern::CheckStixPattern;
  return options;
}

json::object ImportSummaryJson(const ImportSummary& summary) {
  json::object out;
  out["format"] = summary.list.format_detected;
  if (!summary.list.value_column.empty()) out["value_column"] = summary.list.value_column;
  out["lines"] = summary.list.lines;
  out["records"] = summary.list.records;
  out["accepted"] = summary.list.accepted;
  out["rejected"] = summary.list.rejected;
  out["added"] = summary.added;
  out["already_present"] = summary.present;
  out["refused"] = summary.refused;
  json::object kinds;
  for (const auto& [kind, n] : summary.list.by_kind) kinds[kind] = n;
  out["by_type"] = std::move(kinds);
  json::array errors;
  for (const ListError& e : summary.list.errors)
    errors.push_back(json::object{{"line", e.line}, {"reason", e.reason}});
  out["errors"] = std::move(errors);
  json::array refusals;
  for (const std::string& r : summary.refusals) refusals.emplace_back(r);
  out["refusals"] = std::move(refusals);
  return out;
}

}  // namespace kizuna::interop
