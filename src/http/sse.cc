// FormatSseEvent and SseParser: see sse.h.
#include "http/sse.h"

#include <algorithm>
#include <charconv>

namespace kizuna::http {
namespace {

constexpr std::string_view kBom = "\xEF\xBB\xBF";

bool IsStandardField(std::string_view name) {
  return name == "id" || name == "event" || name == "data" || name == "retry";
}

bool HasLineBreak(std::string_view text) {
  return text.find_first_of("\r\n") != std::string_view::npos;
}

void AppendField(std::string& out, std::string_view name, std::string_view value) {
  out += name;
  if (!value.empty()) {
    out += ": ";
    out += value;
  } else {
    out += ':';
  }
  out += '\n';
}

}  // namespace

const std::string* SseEvent::Field(std::string_view name) const {
  for (const auto& [field_name, value] : fields) {
    if (field_name == name) return &value;
  }
  return nullptr;
}

Result<std::string> FormatSseEvent(const SseEvent& event) {
  if (HasLineBreak(event.id) || event.id.find('\0') != std::string::npos) {
    return InvalidArgument("SSE id must not contain CR, LF or NUL");
  }
  if (HasLineBreak(event.event)) return InvalidArgument("SSE event type must not contain CR or LF");
  if (event.retry_ms && *event.retry_ms < 0)
    return InvalidArgument("SSE retry must not be negative");
  for (const auto& [name, value] : event.fields) {
    if (name.empty() || name.find_first_of(":\r\n") != std::string::npos) {
      return InvalidArgument("invalid SSE field name '" + name + "'");
    }
    if (IsStandardField(name)) {
      return InvalidArgument("SSE field '" + name + "' belongs in its own SseEvent member");
    }
    if (HasLineBreak(value)) {
      return InvalidArgument("SSE field '" + name + "' must not contain CR or LF");
    }
  }

  std::string out;
  out.reserve(event.data.size() + event.id.size() + event.event.size() + 32);
  if (!event.id.empty()) AppendField(out, "id", event.id);
  if (!event.event.empty()) AppendField(out, "event", event.event);
  if (event.retry_ms) AppendField(out, "retry", std::to_string(*event.retry_ms));
  for (const auto& [name, value] : event.fields) AppendField(out, name, value);
  std::string_view data = event.data;
  for (;;) {
    size_t end = data.find_first_of("\r\n");
    AppendField(out, "data", data.substr(0, end));
    if (end == std::string_view::npos) break;
    size_t next = end + 1;
    if (data[end] == '\r' && next < data.size() && data[next] == '\n') ++next;
    data.remove_prefix(next);
  }
  out += '\n';
  return out;
}

std::string FormatSseComment(std::string_view text) {
  std::string out = ":";
  if (!text.empty()) out += ' ';
  for (char c : text) out += (c == '\r' || c == '\n') ? ' ' : c;
  out += '\n';
  return out;
}

SseParser::SseParser(SseParserOptions options) : options_(options) {}

Status SseParser::Feed(std::string_view bytes, std::vector<SseEvent>* events) {
  if (!error_.ok()) return error_;
  while (!bytes.empty()) {
    if (skip_lf_) {
      skip_lf_ = false;
      if (bytes.front() == '\n') {
        bytes.remove_prefix(1);
        continue;
      }
    }
    size_t end = bytes.find_first_of("\r\n");
    std::string_view text = bytes.substr(0, end);
    if (line_.size() + text.size() > options_.max_event_bytes) {
      error_ =
          TooLarge("SSE line longer than " + std::to_string(options_.max_event_bytes) + " bytes");
      line_.clear();
      return error_;
    }
    if (end == std::string_view::npos) {
      line_.append(text);
      break;
    }
    Status processed;
    if (line_.empty()) {
      processed = ProcessLine(text, events);
    } else {
      line_.append(text);
      processed = ProcessLine(line_, events);
      line_.clear();
    }
    if (!processed.ok()) {
      error_ = processed;
      return error_;
    }
    skip_lf_ = bytes[end] == '\r';
    bytes.remove_prefix(end + 1);
  }
  return Status::Ok();
}

Status SseParser::ProcessLine(std::string_view line, std::vector<SseEvent>* events) {
  if (at_start_) {
    at_start_ = false;
    if (line.starts_with(kBom)) line.remove_prefix(kBom.size());
  }
  if (line.empty()) {
    if (has_data_) events->push_back(std::move(event_));
    event_ = SseEvent{};
    has_data_ = false;
    event_bytes_ = 0;
    return Status::Ok();
  }
  if (line.front() == ':') return Status::Ok();  // a comment
  event_bytes_ += line.size() + 1;
  if (event_bytes_ > options_.max_event_bytes) {
    event_ = SseEvent{};
    return TooLarge("SSE event larger than " + std::to_string(options_.max_event_bytes) + " bytes");
  }

  std::string_view name = line;
  std::string_view value;
  if (size_t colon = line.find(':'); colon != std::string_view::npos) {
    name = line.substr(0, colon);
    value = line.substr(colon + 1);
    if (value.starts_with(' ')) value.remove_prefix(1);
  }
  if (name == "data") {
    if (has_data_) event_.data += '\n';
    event_.data.append(value);
    has_data_ = true;
  } else if (name == "event") {
    event_.event.assign(value);
  } else if (name == "id") {
    if (value.find('\0') == std::string_view::npos) {
      event_.id.assign(value);
      last_event_id_.assign(value);
    }
  } else if (name == "retry") {
    int retry = 0;
    bool digits = !value.empty() && std::all_of(value.begin(), value.end(),
                                                [](char c) { return c >= '0' && c <= '9'; });
    auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), retry);
    if (digits && error == std::errc() && end == value.data() + value.size()) {
      event_.retry_ms = retry;
    }
  } else {
    event_.fields.emplace_back(std::string(name), std::string(value));
  }
  return Status::Ok();
}

}  // namespace kizuna::http
