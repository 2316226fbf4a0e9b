// Server-Sent Events (the text/event-stream format of the HTML Living
// Standard, "9.2 Server-sent events"): FormatSseEvent writes one event,
// SseParser reads a stream of them back, fed piece by piece as bytes arrive
// (e.g. from Client::Stream).
//
// Besides the standard fields (id, event, data, retry) an event may carry
// other fields, kept in order in SseEvent::fields; kizuna's federation stream
// uses one for a signature ("signature: ..."). Browsers ignore such fields.
//
// Neither needs Beast: this is plain text work. An SseParser is a value with
// no shared state; like any value it is not thread-safe.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace kizuna::http {

struct SseEvent {
  std::string id;     // "id:" — empty: the event has none (FormatSseEvent writes no id line)
  std::string event;  // "event:" — the type; empty means the default "message"
  std::string data;   // "data:" lines joined with "\n"
  // Any other field, in order, e.g. {"signature", "..."}. Names are
  // case-sensitive, as in the standard.
  std::vector<std::pair<std::string, std::string>> fields;
  std::optional<int> retry_ms;  // "retry:" — the reconnection time the server asks for

  // The value of the first field named `name` in `fields`, or nullptr.
  const std::string* Field(std::string_view name) const;

  bool operator==(const SseEvent&) const = default;
};

// The text of one event, ending with the blank line that dispatches it:
//   "id: 7\nevent: object\nsignature: ab12\ndata: line 1\ndata: line 2\n\n"
// Order: id, event, retry, other fields, data. `data` is split at "\n",
// "\r\n" and "\r" into one "data:" line each (so "a\r\nb" is read back as
// "a\nb"); an empty data gives one "data:" line, so the event is still
// dispatched by a parser. Nothing is escaped otherwise. Errors
// (kInvalidArgument): a CR, LF or NUL in id, event or a field's value (NUL
// in id only, which the standard makes a parser ignore), a field name that
// is empty, contains ':', CR or LF, or is one of the standard names (id,
// event, data, retry), and a negative retry.
Result<std::string> FormatSseEvent(const SseEvent& event);

// A comment line (": keep-alive\n"), which parsers ignore; servers send one
// now and then so that proxies and idle timeouts keep the stream open. A
// CR or LF in `text` is replaced by a space.
std::string FormatSseComment(std::string_view text);

struct SseParserOptions {
  // The longest line, and the most bytes of one event (its field names and
  // values together), the parser keeps in memory. More is an error from
  // Feed: the stream is then unusable.
  size_t max_event_bytes = 16 * 1024 * 1024;
};

// Turns an event stream into SseEvents. Follows the standard's parsing rules:
// lines end with "\n", "\r\n" or "\r" (also when a "\r\n" is split between two
// Feed calls); a line starting with ':' is a comment; "name: value" drops one
// space after the colon, a line without colon is a field with an empty value;
// "data" lines are joined with "\n"; a blank line dispatches the event unless
// it has no data line (an event of only id/event/other fields is dropped, as
// a browser would do — but the id still becomes last_event_id()); "retry"
// with anything but ASCII digits is ignored; an "id" containing NUL is
// ignored. A UTF-8 byte order mark at the very start is skipped. Unlike the
// standard's EventSource, the id of an event without an "id" line is left
// empty instead of repeating the last one (see last_event_id()).
class SseParser {
 public:
  explicit SseParser(SseParserOptions options = {});

  // Parses `bytes` and appends every event they complete to `*events`.
  // Bytes of an incomplete event are kept for the next call. After an error
  // (kTooLarge: a line or event over max_event_bytes) every later call fails
  // too.
  Status Feed(std::string_view bytes, std::vector<SseEvent>* events);

  // The last id seen in the stream (what a reconnecting client sends as
  // Last-Event-ID).
  const std::string& last_event_id() const { return last_event_id_; }
  // Whether an event has started but not been dispatched yet.
  bool HasPartialEvent() const { return !line_.empty() || event_bytes_ > 0; }

 private:
  Status ProcessLine(std::string_view line, std::vector<SseEvent>* events);

  SseParserOptions options_;
  std::string line_;        // the current line, without its end
  bool skip_lf_ = false;    // the last byte was a '\r': a '\n' right after belongs to it
  bool at_start_ = true;    // nothing seen yet: a BOM may come
  size_t event_bytes_ = 0;  // bytes of the fields of `event_` so far
  bool has_data_ = false;   // `event_` has seen a data line
  SseEvent event_;          // the event being built
  std::string last_event_id_;
  Status error_;  // sticky
};

}  // namespace kizuna::http
