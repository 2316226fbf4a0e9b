#include "correlation/result_json.h"

#include <array>
#include <charconv>
#include <cstring>

#include "common/time.h"
#include "stix/stix.h"

namespace kizuna::correlation {
namespace {

void AppendInt(int64_t value, std::string* out) {
  char buffer[24];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
  out->append(buffer, end);
}

void AppendUnsigned(uint64_t value, std::string* out) {
  char buffer[24];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
  out->append(buffer, end);
}

void AppendStringArray(const std::vector<std::string>& values, std::string* out) {
  out->push_back('[');
  for (size_t i = 0; i < values.size(); ++i) {
    if (i) out->push_back(',');
    AppendJsonString(values[i], out);
  }
  out->push_back(']');
}

// SightedByToJson's objects: identity, count, sightings, first_seen,
// last_seen, name when known, via ("this node" for this node's own).
void AppendSightedBy(const std::vector<SightedBy>& sighted_by, std::string* out) {
  out->push_back('[');
  for (size_t i = 0; i < sighted_by.size(); ++i) {
    const SightedBy& by = sighted_by[i];
    if (i) out->push_back(',');
    out->push_back('{');
    out->append("\"identity\":");
    AppendJsonString(by.observer, out);
    out->append(",\"count\":");
    AppendInt(by.count, out);
    out->append(",\"sightings\":");
    AppendUnsigned(by.sightings, out);
    out->append(",\"first_seen\":");
    AppendJsonString(FormatTimestamp(by.first_seen_us, 3), out);
    out->append(",\"last_seen\":");
    AppendJsonString(FormatTimestamp(by.last_seen_us, 3), out);
    if (!by.name.empty()) {
      out->append(",\"name\":");
      AppendJsonString(by.name, out);
    }
    out->append(",\"via\":[");
    for (size_t v = 0; v < by.via.size(); ++v) {
      if (v) out->push_back(',');
      AppendJsonString(by.via[v].empty() ? std::string_view("this node") : by.via[v], out);
    }
    out->push_back(']');
    out->push_back('}');
  }
  out->push_back(']');
}

// One item of "matches": what ResultToJson writes for an IndicatorMatch,
// from its parts, so that an IndicatorMatch and the index's view of one
// are written by the same code. `for_each_label(f)` and
// `for_each_collection(f)` call f(std::string_view) for each, in order.
template <typename Labels, typename Collections>
void AppendMatch(std::string_view id, std::string_view name, const Labels& for_each_label,
                 stix::Tlp tlp, std::string_view producer, int confidence, int64_t valid_until_us,
                 const Collections& for_each_collection, bool by_pattern,
                 const std::vector<SightedBy>& sighted_by, std::string* out) {
  out->append("{\"indicator\":");
  AppendJsonString(id, out);
  if (!name.empty()) {
    out->append(",\"name\":");
    AppendJsonString(name, out);
  }
  out->append(",\"labels\":[");
  bool first = true;
  auto item = [&](std::string_view text) {
    if (!first) out->push_back(',');
    first = false;
    AppendJsonString(text, out);
  };
  for_each_label(item);
  out->append("],\"tlp\":");
  AppendJsonString(stix::TlpName(tlp), out);
  if (!producer.empty()) {
    out->append(",\"producer\":");
    AppendJsonString(producer, out);
  }
  if (confidence >= 0) {
    out->append(",\"confidence\":");
    AppendInt(confidence, out);
  }
  if (valid_until_us != kNoExpiry) {
    out->append(",\"valid_until\":");
    AppendJsonString(FormatTimestamp(valid_until_us, 3), out);
  }
  out->append(",\"collections\":[");
  first = true;
  for_each_collection(item);
  out->push_back(']');
  if (by_pattern) out->append(",\"by_pattern\":true");
  if (!sighted_by.empty()) {
    out->append(",\"sighted_by\":");
    AppendSightedBy(sighted_by, out);
  }
  out->push_back('}');
}

}  // namespace

void AppendResultJson(const ObservableResult& result, std::string* out) {
  out->reserve(out->size() + 128 + result.value.size() + 320 * result.matches.size());
  out->push_back('{');
  if (!result.error.empty()) {
    out->append("\"input\":");
    AppendJsonString(result.value, out);
    if (!result.type.empty()) {
      out->append(",\"type\":");
      AppendJsonString(result.type, out);
    }
    out->append(",\"error\":");
    AppendJsonString(result.error, out);
    out->push_back('}');
    return;
  }
  out->append("\"type\":");
  AppendJsonString(result.type, out);
  out->append(",\"value\":");
  AppendJsonString(result.value, out);
  out->append(",\"matched\":");
  out->append(result.matches.empty() ? "false" : "true");
  out->append(",\"matches\":");
  out->push_back('[');
  for (size_t i = 0; i < result.matches.size(); ++i) {
    const IndicatorMatch& m = result.matches[i];
    if (i) out->push_back(',');
    auto each = [](const std::vector<std::string>& strings) {
      return [&strings](const auto& f) {
        for (const std::string& s : strings) f(s);
      };
    };
    AppendMatch(m.indicator.id, m.indicator.name, each(m.indicator.labels), m.indicator.tlp,
                m.indicator.producer, m.indicator.confidence, m.indicator.valid_until_us,
                each(m.collections), m.by_pattern, m.sighted_by, out);
  }
  out->push_back(']');
  if (result.truncated) {
    out->append(",\"truncated\":");
    out->append("true");
  }
  if (!result.warnings.empty()) {
    out->append(",\"warnings\":");
    AppendStringArray(result.warnings, out);
  }
  out->push_back('}');
}

void AppendIndexMatchJson(const IndicatorView& indicator,
                          std::span<const std::string_view> collections,
                          const std::vector<SightedBy>& sighted_by, std::string* out) {
  AppendMatch(
      indicator.id(), indicator.name, [&](const auto& f) { indicator.ForEachLabel(f); },
      indicator.tlp, indicator.producer, indicator.confidence, indicator.valid_until_us,
      [&](const auto& f) {
        for (std::string_view c : collections) f(c);
      },
      /*by_pattern=*/false, sighted_by, out);
}

}  // namespace kizuna::correlation
