// Tests of FormatSseEvent and SseParser (no sockets; the streaming server and
// client are tested in http_test.cc).
#include "http/sse.h"

#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace kizuna::http {
namespace {

using ::testing::HasSubstr;

// Parses `text` in one Feed.
std::vector<SseEvent> ParseAll(std::string_view text) {
  SseParser parser;
  std::vector<SseEvent> events;
  Status status = parser.Feed(text, &events);
  EXPECT_TRUE(status.ok()) << status.ToString();
  return events;
}

// Parses `text` split into two feeds at every position, and byte by byte, and
// checks that each way gives `expected`.
void ExpectSameAtEverySplit(std::string_view text, const std::vector<SseEvent>& expected) {
  for (size_t split = 0; split <= text.size(); ++split) {
    SseParser parser;
    std::vector<SseEvent> events;
    ASSERT_TRUE(parser.Feed(text.substr(0, split), &events).ok());
    ASSERT_TRUE(parser.Feed(text.substr(split), &events).ok());
    EXPECT_EQ(events, expected) << "split at " << split;
  }
  SseParser parser;
  std::vector<SseEvent> events;
  for (char c : text) ASSERT_TRUE(parser.Feed(std::string_view(&c, 1), &events).ok());
  EXPECT_EQ(events, expected) << "byte by byte";
}

SseEvent Event(std::string data, std::string id = {}, std::string type = {}) {
  SseEvent event;
  event.data = std::move(data);
  event.id = std::move(id);
  event.event = std::move(type);
  return event;
}

// --- FormatSseEvent -----------------------------------------------------------

TEST(FormatSseEvent, WritesFieldsInOrder) {
  SseEvent event = Event("line 1\nline 2", "7", "object");
  event.fields = {{"signature", "ab12"}};
  event.retry_ms = 3000;
  auto text = FormatSseEvent(event);
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  EXPECT_EQ(*text,
            "id: 7\nevent: object\nretry: 3000\nsignature: ab12\n"
            "data: line 1\ndata: line 2\n\n");
}

TEST(FormatSseEvent, SplitsDataOnEveryKindOfLineEnd) {
  struct Case {
    std::string data;
    std::string text;
  };
  for (const Case& c : std::vector<Case>{
           {"", "data:\n\n"},
           {"x", "data: x\n\n"},
           {"a\nb", "data: a\ndata: b\n\n"},
           {"a\r\nb", "data: a\ndata: b\n\n"},
           {"a\rb", "data: a\ndata: b\n\n"},
           {"a\n", "data: a\ndata:\n\n"},
           {"\n\n", "data:\ndata:\ndata:\n\n"},
           {" lead", "data:  lead\n\n"},
           {"{\"a\": \"b: c\"}", "data: {\"a\": \"b: c\"}\n\n"},
       }) {
    auto text = FormatSseEvent(Event(c.data));
    ASSERT_TRUE(text.ok());
    EXPECT_EQ(*text, c.text) << c.data;
  }
}

TEST(FormatSseEvent, RejectsLineBreaksOutsideData) {
  EXPECT_FALSE(FormatSseEvent(Event("d", "1\n2")).ok());
  EXPECT_FALSE(FormatSseEvent(Event("d", "1\r")).ok());
  EXPECT_FALSE(FormatSseEvent(Event("d", std::string("1\0", 2))).ok());
  EXPECT_FALSE(FormatSseEvent(Event("d", "", "type\n")).ok());
  for (auto field : std::vector<std::pair<std::string, std::string>>{
           {"signature", "a\nb"},
           {"signature", "a\rb"},
           {"", "x"},
           {"a:b", "x"},
           {"a\nb", "x"},
           {"data", "x"},
           {"id", "x"},
       }) {
    SseEvent event = Event("d");
    event.fields = {field};
    auto text = FormatSseEvent(event);
    EXPECT_FALSE(text.ok()) << field.first << "=" << field.second;
    EXPECT_EQ(text.status().code(), Code::kInvalidArgument);
  }
  SseEvent negative = Event("d");
  negative.retry_ms = -1;
  EXPECT_FALSE(FormatSseEvent(negative).ok());
}

TEST(FormatSseEvent, RoundTripsThroughTheParser) {
  std::vector<SseEvent> events;
  events.push_back(Event("one"));
  events.push_back(Event("two\nlines", "id-2", "object"));
  SseEvent signed_event = Event("{\"type\":\"indicator\"}", "3");
  signed_event.fields = {{"signature", "MEUCIQD+/=="}, {"x-empty", ""}, {"key id", " spaced "}};
  signed_event.retry_ms = 0;
  events.push_back(signed_event);
  events.push_back(Event(""));
  events.push_back(Event("\n \n"));
  std::string stream;
  for (const SseEvent& event : events) {
    auto text = FormatSseEvent(event);
    ASSERT_TRUE(text.ok());
    stream += *text;
    stream += FormatSseComment("keep-alive");
  }
  ExpectSameAtEverySplit(stream, events);
  SseParser parser;
  std::vector<SseEvent> parsed;
  ASSERT_TRUE(parser.Feed(stream, &parsed).ok());
  EXPECT_EQ(parser.last_event_id(), "3");
  ASSERT_EQ(parsed.size(), events.size());
  ASSERT_NE(parsed[2].Field("signature"), nullptr);
  EXPECT_EQ(*parsed[2].Field("signature"), "MEUCIQD+/==");
  EXPECT_EQ(parsed[2].Field("missing"), nullptr);
}

TEST(FormatSseComment, IsOneCommentLine) {
  EXPECT_EQ(FormatSseComment("ping"), ": ping\n");
  EXPECT_EQ(FormatSseComment(""), ":\n");
  EXPECT_EQ(FormatSseComment("a\r\nb"), ": a  b\n");
  EXPECT_TRUE(ParseAll(FormatSseComment("a\nb") + "\n").empty());
}

// --- SseParser ------------------------------------------------------------------

TEST(SseParser, LineEndsLfCrlfAndCr) {
  std::vector<SseEvent> expected = {Event("a\nb", "1", "t"), Event("c")};
  for (std::string_view text : {
           "id: 1\nevent: t\ndata: a\ndata: b\n\ndata: c\n\n",
           "id: 1\r\nevent: t\r\ndata: a\r\ndata: b\r\n\r\ndata: c\r\n\r\n",
           "id: 1\revent: t\rdata: a\rdata: b\r\rdata: c\r\r",
           "id: 1\r\nevent: t\rdata: a\ndata: b\r\n\ndata: c\r\r\n",
       }) {
    ExpectSameAtEverySplit(text, expected);
  }
}

TEST(SseParser, CommentsAndFieldSyntax) {
  std::string_view text =
      ": a comment\n"
      ":\n"
      "data:no space\n"
      "data:  two spaces\n"
      "data\n"  // no colon: a field with an empty value
      "signature: sig: with colon\n"
      "Data: not data\n"  // names are case-sensitive
      "\n";
  SseEvent expected = Event("no space\n two spaces\n");
  expected.fields = {{"signature", "sig: with colon"}, {"Data", "not data"}};
  ExpectSameAtEverySplit(text, {expected});
}

TEST(SseParser, RetryIdAndDispatchRules) {
  std::string text =
      "retry: 1500\ndata: a\n\n"
      "retry: 15x\ndata: b\n\n"                          // not all digits: ignored
      "retry: -1\ndata: c\n\n"                           // ignored
      "retry: 99999999999999\ndata: d\n\n"               // does not fit: ignored
      "id: 9\nevent: no-data\n\n"                        // no data line: not dispatched, id kept
      "data: e\n\n";                                     // no id line: id stays empty
  constexpr char kNulId[] = "id: bad\0id\ndata: f\n\n";  // id with NUL: ignored
  text += std::string(kNulId, sizeof kNulId - 1);
  SseParser parser;
  std::vector<SseEvent> events;
  ASSERT_TRUE(parser.Feed(text, &events).ok());
  ASSERT_EQ(events.size(), 6u);
  EXPECT_EQ(events[0].retry_ms, 1500);
  EXPECT_EQ(events[0].data, "a");
  for (size_t i = 1; i < events.size(); ++i) EXPECT_FALSE(events[i].retry_ms) << i;
  EXPECT_EQ(events[4].data, "e");
  EXPECT_EQ(events[4].id, "");
  EXPECT_EQ(events[4].event, "");
  EXPECT_EQ(events[5].data, "f");
  EXPECT_EQ(events[5].id, "");
  EXPECT_EQ(parser.last_event_id(), "9");
}

TEST(SseParser, KeepsAnIncompleteEventForTheNextFeed) {
  SseParser parser;
  std::vector<SseEvent> events;
  ASSERT_TRUE(parser.Feed("data: one\n\ndata: tw", &events).ok());
  ASSERT_EQ(events.size(), 1u);
  EXPECT_TRUE(parser.HasPartialEvent());
  ASSERT_TRUE(parser.Feed("o\n", &events).ok());
  EXPECT_EQ(events.size(), 1u);  // not dispatched before the blank line
  ASSERT_TRUE(parser.Feed("\n", &events).ok());
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1].data, "two");
  EXPECT_FALSE(parser.HasPartialEvent());
  // A stream that ends without the blank line loses its last event, as in the standard.
  ASSERT_TRUE(parser.Feed("data: three\n", &events).ok());
  EXPECT_EQ(events.size(), 2u);
}

TEST(SseParser, SkipsLeadingByteOrderMark) {
  // Only at the very start: later, it is part of a field name ("\xEF\xBB\xBFdata" is no
  // data line, so the second event has none and is not dispatched).
  ExpectSameAtEverySplit(
      "\xEF\xBB\xBF"
      "data: x\n\n\xEF\xBB\xBF"
      "data: y\n\n",
      {Event("x")});
}

TEST(SseParser, OversizedLineIsAnErrorAndSticks) {
  SseParser parser(SseParserOptions{.max_event_bytes = 64});
  std::vector<SseEvent> events;
  ASSERT_TRUE(parser.Feed("data: " + std::string(50, 'x') + "\n\n", &events).ok());
  ASSERT_EQ(events.size(), 1u);
  // A line that never ends is refused once it passes the limit, even in small pieces.
  Status status;
  for (int i = 0; i < 100 && status.ok(); ++i) status = parser.Feed("data: xxxxxxxx", &events);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.code(), Code::kTooLarge);
  EXPECT_THAT(status.message(), HasSubstr("64"));
  EXPECT_FALSE(parser.Feed("\n\ndata: ok\n\n", &events).ok());
  EXPECT_EQ(events.size(), 1u);
}

TEST(SseParser, OversizedEventIsAnError) {
  SseParser parser(SseParserOptions{.max_event_bytes = 100});
  std::vector<SseEvent> events;
  std::string line = "data: " + std::string(20, 'y') + "\n";
  Status status;
  for (int i = 0; i < 10 && status.ok(); ++i) status = parser.Feed(line, &events);
  EXPECT_EQ(status.code(), Code::kTooLarge);
  EXPECT_TRUE(events.empty());
  // Many small events within the limit are fine: the count is per event.
  SseParser many(SseParserOptions{.max_event_bytes = 100});
  std::string text;
  for (int i = 0; i < 1000; ++i) text += "data: " + std::to_string(i) + "\n\n";
  ASSERT_TRUE(many.Feed(text, &events).ok());
  EXPECT_EQ(events.size(), 1000u);
  // Comments do not count toward an event, but a long comment line does count as a line.
  SseParser comments(SseParserOptions{.max_event_bytes = 100});
  std::string short_comments;
  for (int i = 0; i < 50; ++i) short_comments += ": ping\n";
  EXPECT_TRUE(comments.Feed(short_comments + "data: z\n\n", &events).ok());
  EXPECT_FALSE(comments.Feed(":" + std::string(200, 'c') + "\n", &events).ok());
}

TEST(SseParser, DefaultLimitIsSixteenMebibytes) {
  EXPECT_EQ(SseParserOptions{}.max_event_bytes, 16u * 1024 * 1024);
  SseParser parser;
  std::vector<SseEvent> events;
  std::string big(8 * 1024 * 1024, 'b');
  ASSERT_TRUE(parser.Feed("data: " + big + "\n\n", &events).ok());
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].data.size(), big.size());
  EXPECT_FALSE(parser.Feed("data: " + big + big + "\n\n", &events).ok());
}

}  // namespace
}  // namespace kizuna::http
