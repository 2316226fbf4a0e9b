// How alerts.db keeps events (event_chunks.h): chunks round-trip every
// field, damaged blobs are errors and never crashes, repeats fold across
// batches and ingests (and stop folding once reported), a recipient's
// events beyond one chunk all reach its report, and a file written by the
// step-1 layout (a row per event) is converted with its reports, pending
// events and suppression intact.
#include <gtest/gtest.h>
#include <unistd.h>
#include <zstd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <tuple>
#include <vector>

#include "alerts/alerts_db.h"
#include "alerts/event_chunks.h"
#include "alerts/pipeline.h"
#include "alerts/reports.h"
#include "alerts/status.h"
#include "alerts/text.h"
#include "sharing/policy.h"
#include "store/sqlite/connection.h"
#include "tests/support/temp_dir.h"

namespace kizuna::alerts {
namespace {

constexpr int64_t kDay = 86400LL * 1000000;
constexpr int64_t kDay0 = 1795737600LL * 1000000;  // 2026-11-27T00:00:00Z

using test_support::TempDir;

EventRow SampleEvent(int64_t id, std::string ip) {
  EventRow e;
  e.id = id;
  e.ip = std::move(ip);
  e.port = 23;
  e.protocol = "tcp";
  e.taxonomy = "malicious-code";
  e.type = "infected-system";
  e.identifier = "mirai";
  e.family = "mirai";
  e.first_seen_us = kDay0 + id;
  e.last_seen_us = kDay0 + 2 * id;
  e.count = static_cast<int>(id);
  e.asn = 64500 + id;
  e.as_name = "Example, \"ISP\"";
  e.country = "JP";
  e.prefix = "198.51.100.0/24";
  e.hostname = "host" + std::to_string(id) + ".example.jp";
  e.source = "shadowserver/scan_telnet";
  e.origin = id % 2 ? "partner" : "";
  e.tlp = "amber";
  e.confidence = 80;
  e.route = "asn";
  e.geo_version = "test-1";
  e.evidence = "{\"row\":\"" + std::to_string(id) + "\"}";
  return e;
}

TEST(EventChunks, EveryFieldRoundTripsAndDamageIsAnError) {
  ChunkBuilder builder;
  std::vector<EventRow> events;
  for (int64_t id = 1; id <= 3; ++id) {
    events.push_back(SampleEvent(id, "198.51.100." + std::to_string(id)));
    builder.Add(events.back(), static_cast<uint16_t>(20000 + id));
  }
  auto blobs = builder.Finish();
  ASSERT_TRUE(blobs.ok());
  EXPECT_EQ(blobs->events, 3);
  EXPECT_EQ(blobs->day_min, 20001);
  EXPECT_EQ(blobs->day_max, 20003);
  std::vector<EventRow> read;
  ASSERT_TRUE(
      ForEachEvent(blobs->slots, blobs->data, "isp-a", 42, [&](size_t slot, const EventRow& e) {
        EXPECT_EQ(slot, read.size());
        read.push_back(e);
        return Status::Ok();
      }).ok());
  ASSERT_EQ(read.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    const EventRow& a = events[i];
    const EventRow& b = read[i];
    EXPECT_EQ(b.recipient, "isp-a");
    EXPECT_EQ(b.received_us, 42);
    EXPECT_EQ(std::tie(a.id, a.ip, a.port, a.protocol, a.taxonomy, a.type, a.identifier, a.family,
                       a.first_seen_us, a.last_seen_us, a.count, a.asn, a.as_name, a.country,
                       a.prefix, a.hostname, a.source, a.origin, a.tlp, a.confidence, a.route,
                       a.geo_version, a.evidence),
              std::tie(b.id, b.ip, b.port, b.protocol, b.taxonomy, b.type, b.identifier, b.family,
                       b.first_seen_us, b.last_seen_us, b.count, b.asn, b.as_name, b.country,
                       b.prefix, b.hostname, b.source, b.origin, b.tlp, b.confidence, b.route,
                       b.geo_version, b.evidence));
  }
  auto visit = [](size_t, const EventRow&) { return Status::Ok(); };
  // Damage of every kind is an error, never a crash or a silent short read.
  EXPECT_FALSE(ForEachEvent(blobs->slots.substr(1), blobs->data, "r", 0, visit).ok());
  EXPECT_FALSE(
      ForEachEvent(blobs->slots, blobs->data.substr(0, blobs->data.size() / 2), "r", 0, visit)
          .ok());
  EXPECT_FALSE(ForEachEvent(blobs->slots, "not zstd at all", "r", 0, visit).ok());
  // Slots claiming more events than the data holds.
  EXPECT_FALSE(ForEachEvent(blobs->slots + blobs->slots, blobs->data, "r", 0, visit).ok());
  // Data holding more than the slots claim.
  EXPECT_FALSE(
      ForEachEvent(blobs->slots.substr(0, sizeof(EventSlot)), blobs->data, "r", 0, visit).ok());

  // A dropped event is left out of the chunk, the others intact.
  builder.Drop(1);
  auto kept = builder.Finish();
  ASSERT_TRUE(kept.ok());
  EXPECT_EQ(kept->events, 2);
  EXPECT_EQ(kept->day_min, 20001);
  std::vector<std::string> ips;
  ASSERT_TRUE(ForEachEvent(kept->slots, kept->data, "r", 0, [&](size_t, const EventRow& e) {
                ips.push_back(e.ip + "/" + std::to_string(e.id));
                return Status::Ok();
              }).ok());
  EXPECT_EQ(ips, (std::vector<std::string>{"198.51.100.1/1", "198.51.100.3/3"}));

  const std::vector<uint32_t> slots = {0, 5, 6, 300, 70000};
  auto decoded = DecodeSlotList(EncodeSlotList(slots));
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(*decoded, slots);
  EXPECT_FALSE(DecodeSlotList("\xff\xff").ok());

  const std::vector<FindingEntry> findings = {{1, 10}, {7, 20}};
  auto back = ReadFindings(WriteFindings(findings));
  ASSERT_TRUE(back.ok());
  ASSERT_EQ(back->size(), 2u);
  EXPECT_EQ((*back)[1].key, 7u);
  EXPECT_EQ((*back)[1].last_reported_us, 20);
  EXPECT_FALSE(ReadFindings("odd").ok());
}

std::vector<EventRow> ReadBack(const ChunkBuilder::Blobs& blobs) {
  std::vector<EventRow> read;
  const Status status =
      ForEachEvent(blobs.slots, blobs.data, "r", 0, [&](size_t, const EventRow& e) {
        read.push_back(e);
        return Status::Ok();
      });
  EXPECT_TRUE(status.ok()) << status.message();
  return read;
}

// The fields a chunk packs, for comparing events read back.
auto Packed(const EventRow& e) {
  return std::tie(e.id, e.ip, e.port, e.protocol, e.taxonomy, e.type, e.identifier, e.family,
                  e.first_seen_us, e.last_seen_us, e.count, e.asn, e.as_name, e.country, e.prefix,
                  e.hostname, e.source, e.origin, e.tlp, e.confidence, e.route, e.geo_version,
                  e.evidence);
}

TEST(EventChunks, AValueRepeatedFromADroppedEventIsKept) {
  // Events 2 and 3 share values event 1 does not have; event 3 is packed
  // as "as the previous event" for them, then event 2 is dropped.
  std::vector<EventRow> events = {SampleEvent(1, "198.51.100.1"), SampleEvent(2, "198.51.100.2"),
                                  SampleEvent(3, "198.51.100.3")};
  for (size_t i = 1; i < 3; ++i) {
    events[i].as_name = "Other AS";
    events[i].geo_version = "test-2";
    events[i].origin = "";
  }
  events[2].evidence = events[1].evidence;
  ChunkBuilder builder;
  for (const EventRow& e : events) builder.Add(e, 20000);
  builder.Drop(1);
  auto blobs = builder.Finish();
  ASSERT_TRUE(blobs.ok());
  const std::vector<EventRow> read = ReadBack(*blobs);
  ASSERT_EQ(read.size(), 2u);
  EXPECT_EQ(Packed(read[0]), Packed(events[0]));
  EXPECT_EQ(Packed(read[1]), Packed(events[2]));
}

// A chunk as packing versions 1 to 3 wrote it. Version 1: no header, each
// string as varint(size) and bytes; version 2: a header, each string as
// varint(size + 1) and bytes; both in one zstd frame, evidence inline.
// Version 3: as 2, the evidence in a second frame.
ChunkBuilder::Blobs OlderChunk(int version, const std::vector<EventRow>& events) {
  auto varint = [](uint64_t v, std::string* out) {
    for (; v >= 0x80; v >>= 7) out->push_back(static_cast<char>((v & 0x7F) | 0x80));
    out->push_back(static_cast<char>(v));
  };
  std::string packed = version >= 2 ? std::string("\0K", 2) + static_cast<char>(version) : "";
  std::string evidence;  // version 3: the second frame
  ChunkBuilder::Blobs blobs;
  for (const EventRow& e : events) {
    auto put = [&](const std::string& s) {
      std::string& out = version == 3 && &s == &e.evidence ? evidence : packed;
      varint(s.size() + (version >= 2 ? 1 : 0), &out);
      out += s;
    };
    put(e.ip);
    varint(static_cast<uint64_t>(e.port), &packed);
    varint(static_cast<uint64_t>(e.asn), &packed);
    for (const std::string* s : {&e.protocol, &e.taxonomy, &e.type, &e.identifier, &e.family,
                                 &e.as_name, &e.country, &e.prefix, &e.hostname, &e.source,
                                 &e.origin, &e.tlp, &e.route, &e.geo_version, &e.evidence}) {
      put(*s);
    }
    EventSlot slot{e.id,
                   e.first_seen_us,
                   e.last_seen_us,
                   static_cast<int32_t>(e.count),
                   20000,
                   static_cast<uint8_t>(e.confidence),
                   0};
    blobs.slots += WriteSlots({slot});
  }
  for (const std::string* frame : {&packed, &evidence}) {
    if (frame->empty()) continue;
    std::string compressed(ZSTD_compressBound(frame->size()), '\0');
    compressed.resize(
        ZSTD_compress(compressed.data(), compressed.size(), frame->data(), frame->size(), 1));
    blobs.data += compressed;
  }
  return blobs;
}

TEST(EventChunks, ChunksOfEarlierPackingsAreStillRead) {
  const std::vector<EventRow> events = {SampleEvent(1, "198.51.100.1"),
                                        SampleEvent(2, "198.51.100.2")};
  for (int version : {1, 2, 3}) {
    SCOPED_TRACE(version);
    const ChunkBuilder::Blobs blobs = OlderChunk(version, events);
    const std::vector<EventRow> read = ReadBack(blobs);
    ASSERT_EQ(read.size(), 2u);
    EXPECT_EQ(Packed(read[0]), Packed(events[0]));
    EXPECT_EQ(Packed(read[1]), Packed(events[1]));
    if (version == 3) continue;  // the rest is of one-frame chunks
    // Their evidence is inline: read even when not asked for.
    std::string evidence;
    ASSERT_TRUE(ForEachEvent(
                    blobs.slots, blobs.data, "r", 0,
                    [&](size_t, const EventRow& e) {
                      evidence += e.evidence;
                      return Status::Ok();
                    },
                    false)
                    .ok());
    EXPECT_EQ(evidence, events[0].evidence + events[1].evidence);
    // A second frame after one of these is damage, not evidence.
    EXPECT_FALSE(
        ForEachEvent(blobs.slots, blobs.data + blobs.data, "r", 0, [](size_t, const EventRow&) {
          return Status::Ok();
        }).ok());
  }
}

// Evidence read from a CSV file is kept as the record and its columns, and
// unpacked as the JSON the reader would have made of it; a record that no
// longer splits into its columns is damage.
TEST(EventChunks, ACsvRecordKeptAsEvidenceUnpacksAsItsJson) {
  const std::string columns = PackCsvColumns({"timestamp", "ip", "tag", "note \"x\""});
  const std::vector<std::string> records = {
      "2026-11-28 00:00:01,198.51.100.1,\"mirai, v2\",",
      "2026-11-28 00:00:02,198.51.100.2,,\"say \"\"hi\"\"\"",
  };
  ChunkBuilder builder;
  std::vector<EventRow> events;
  for (size_t i = 0; i < records.size(); ++i) {
    events.push_back(SampleEvent(static_cast<int64_t>(i + 1), "198.51.100.1"));
    EventFields fields = FieldsOf(events.back());
    fields.evidence = records[i];
    fields.evidence_columns = columns;
    builder.Add(EventSlot{events.back().id, 0, 0, 1, 20000, 50, 0}, fields);
  }
  events.push_back(SampleEvent(9, "198.51.100.9"));  // JSON evidence, in the same chunk
  builder.Add(events.back(), 20000);
  auto blobs = builder.Finish();
  ASSERT_TRUE(blobs.ok());
  const std::vector<EventRow> read = ReadBack(*blobs);
  ASSERT_EQ(read.size(), 3u);
  EXPECT_EQ(read[0].evidence,
            R"({"timestamp":"2026-11-28 00:00:01","ip":"198.51.100.1","tag":"mirai, v2"})");
  EXPECT_EQ(read[1].evidence,
            R"({"timestamp":"2026-11-28 00:00:02","ip":"198.51.100.2","note \"x\"":"say \"hi\""})");
  EXPECT_EQ(read[2].evidence, events[2].evidence);
  // A record of another number of fields than its columns: damaged.
  ChunkBuilder bad;
  EventFields fields = FieldsOf(events[0]);
  fields.evidence = "a,b";
  fields.evidence_columns = columns;
  bad.Add(EventSlot{1, 0, 0, 1, 20000, 50, 0}, fields);
  auto bad_blobs = bad.Finish();
  ASSERT_TRUE(bad_blobs.ok());
  auto visit = [](size_t, const EventRow&) { return Status::Ok(); };
  EXPECT_FALSE(ForEachEvent(bad_blobs->slots, bad_blobs->data, "r", 0, visit).ok());
  EXPECT_TRUE(ForEachEvent(bad_blobs->slots, bad_blobs->data, "r", 0, visit, false).ok());
}

TEST(EventChunks, TheEvidenceIsReadOnlyWhenAskedFor) {
  ChunkBuilder builder;
  std::vector<EventRow> events;
  for (int64_t id = 1; id <= 3; ++id) {
    events.push_back(SampleEvent(id, "198.51.100." + std::to_string(id)));
    builder.Add(events.back(), 20000);
  }
  auto blobs = builder.Finish();
  ASSERT_TRUE(blobs.ok());
  std::vector<EventRow> read;
  ASSERT_TRUE(ForEachEvent(
                  blobs->slots, blobs->data, "r", 0,
                  [&](size_t, const EventRow& e) {
                    read.push_back(e);
                    return Status::Ok();
                  },
                  false)
                  .ok());
  ASSERT_EQ(read.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(read[i].evidence, "");
    read[i].evidence = events[i].evidence;
    EXPECT_EQ(Packed(read[i]), Packed(events[i]));
  }
  // The evidence frame cut off: an error when it is read, and only then.
  const size_t first = ZSTD_findFrameCompressedSize(blobs->data.data(), blobs->data.size());
  ASSERT_FALSE(ZSTD_isError(first));
  ASSERT_LT(first, blobs->data.size());
  const std::string cut = blobs->data.substr(0, first);
  auto visit = [](size_t, const EventRow&) { return Status::Ok(); };
  EXPECT_FALSE(ForEachEvent(blobs->slots, cut, "r", 0, visit).ok());
  EXPECT_TRUE(ForEachEvent(blobs->slots, cut, "r", 0, visit, false).ok());
  EXPECT_FALSE(
      ForEachEvent(blobs->slots, blobs->data.substr(0, blobs->data.size() - 3), "r", 0, visit)
          .ok());
}

Observation Seen(std::string_view ip, int64_t time_us, std::string identifier = "mirai") {
  Observation o;
  o.time_us = time_us;
  o.ip = ParseHostAddress(ip).value();
  o.port = 23;
  o.protocol = "tcp";
  o.taxonomy = "malicious-code";
  o.type = "infected-system";
  o.identifier = identifier;
  o.family = identifier;
  o.source = "test";
  o.confidence = 60;
  o.evidence = "{}";
  return o;
}

node::NodeConfig HomeConfig() {
  node::NodeConfig config;
  config.name = "home";
  return config;
}

Recipient FallbackRecipient() {
  Recipient r;
  r.name = "all";
  r.fallback = true;
  r.channel = Channel::kFeed;
  r.org = "everyone";
  return r;
}

class EventStore : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = AlertsDb::Open(dir_.path());
    ASSERT_TRUE(db.ok()) << db.status().message();
    db_ = std::move(*db);
    const Status put = db_->PutRecipient(FallbackRecipient());
    ASSERT_TRUE(put.ok()) << put.message();
  }

  IngestStats Ingest(const std::vector<Observation>& observations, int64_t now, size_t batch) {
    IngestOptions options;
    options.now_us = now;
    options.batch = batch;
    Ingester ingester(*db_, nullptr, routes_, options);
    for (const Observation& o : observations) EXPECT_TRUE(ingester.Add(o).ok());
    EXPECT_TRUE(ingester.Flush().ok());
    return ingester.stats();
  }

  std::vector<BuiltReport> Build(int64_t now) {
    BuildOptions options;
    options.now_us = now;
    options.policy = &policy_;
    options.producer = "home";
    auto built = BuildDueReports(*db_, routes_, options);
    EXPECT_TRUE(built.ok()) << built.status().message();
    return built.ok() ? *built : std::vector<BuiltReport>{};
  }

  std::vector<EventRow> Feed() {
    auto page = FeedEvents(*db_, policy_, routes_.recipients(), {}, 1000000);
    EXPECT_TRUE(page.ok()) << page.status().message();
    return page.ok() ? page->events : std::vector<EventRow>{};
  }

  TempDir dir_;
  std::unique_ptr<AlertsDb> db_;
  RouteTable routes_{{FallbackRecipient()}};
  sharing::SharingPolicy policy_{HomeConfig()};
};

TEST_F(EventStore, ANewFileHasPagesOf64KiB) {
  auto lock = db_->Lock();
  auto page_size = db_->connection().Prepare("PRAGMA page_size");
  ASSERT_TRUE(page_size.ok());
  ASSERT_TRUE(*page_size->Step());
  EXPECT_EQ(page_size->ColumnInt(0), 65536);
}

TEST_F(EventStore, RepeatsFoldAcrossBatchesAndIngestsUntilReported) {
  // Batches of two: each host's repeats land in different batches.
  std::vector<Observation> day0;
  for (int round = 0; round < 3; ++round) {
    for (int host = 1; host <= 5; ++host) {
      day0.push_back(Seen("192.0.2." + std::to_string(host), kDay0 + round * 1000 + host));
    }
  }
  const IngestStats first = Ingest(day0, kDay0 + 5000, /*batch=*/2);
  EXPECT_EQ(first.new_events, 5);
  // The same file again, in another ingest: nothing new.
  EXPECT_EQ(Ingest(day0, kDay0 + 6000, 4).new_events, 0);
  const auto built = Build(kDay0 + kDay + 1);
  ASSERT_EQ(built.size(), 1u);
  EXPECT_EQ(built[0].events, 5);
  std::vector<EventRow> feed = Feed();
  ASSERT_EQ(feed.size(), 5u);
  for (const EventRow& e : feed) {
    EXPECT_EQ(e.count, 6) << e.ip;  // 3 sightings, ingested twice
    EXPECT_EQ(e.first_seen_us % 1000, std::stoi(e.ip.substr(8)));
  }
  // After the report: a repeat of day 0 changes nothing that was sent and
  // is no new event; day 1 is new.
  EXPECT_EQ(Ingest({Seen("192.0.2.1", kDay0 + 9000)}, kDay0 + kDay + 5, 2).new_events, 0);
  for (const EventRow& e : Feed()) EXPECT_EQ(e.count, 6);
  EXPECT_EQ(Ingest({Seen("192.0.2.1", kDay0 + kDay + 9)}, kDay0 + kDay + 6, 2).new_events, 1);
}

// A CSV report never reads the events' evidence (packing version 3 keeps
// it in a frame of its own); the feed, whose JSON shows it, does.
TEST_F(EventStore, ACsvReportIsBuiltWithoutReadingTheEvidence) {
  ASSERT_EQ(routes_.recipients()[0].format, ReportFormat::kCsv);
  std::vector<Observation> day0;
  for (int host = 1; host <= 3; ++host) {
    day0.push_back(Seen("192.0.2." + std::to_string(host), kDay0 + host));
  }
  ASSERT_EQ(Ingest(day0, kDay0 + 5000, 100).new_events, 3);
  {
    // The evidence frame cut off every chunk.
    auto lock = db_->Lock();
    auto read = db_->connection().Prepare("SELECT rowid, data FROM event_chunks");
    ASSERT_TRUE(read.ok());
    std::vector<std::pair<int64_t, std::string>> cut;
    for (;;) {
      auto row = read->Step();
      ASSERT_TRUE(row.ok());
      if (!*row) break;
      const std::string data(read->ColumnBlob(1));
      const size_t first = ZSTD_findFrameCompressedSize(data.data(), data.size());
      ASSERT_FALSE(ZSTD_isError(first));
      ASSERT_LT(first, data.size());
      cut.emplace_back(read->ColumnInt(0), data.substr(0, first));
    }
    read->Reset();
    ASSERT_FALSE(cut.empty());
    for (const auto& [rowid, data] : cut) {
      auto write = db_->connection().Prepare("UPDATE event_chunks SET data = ?1 WHERE rowid = ?2");
      ASSERT_TRUE(write.ok());
      write->BindBlob(1, data).Bind(2, rowid);
      ASSERT_TRUE(write->Run().ok());
    }
  }
  const auto built = Build(kDay0 + kDay + 1);
  ASSERT_EQ(built.size(), 1u);
  EXPECT_EQ(built[0].events, 3);
  // Its body, rendered for delivery, reads no evidence either.
  auto report = db_->Report(built[0].id);
  ASSERT_TRUE(report.ok());
  const Status body = LoadReportBody(*db_, &*report);
  ASSERT_TRUE(body.ok()) << body.message();
  EXPECT_EQ(std::count(report->body.begin(), report->body.end(), '\n'), 4) << report->body;
  auto feed = FeedEvents(*db_, policy_, routes_.recipients(), {}, 1000);
  EXPECT_FALSE(feed.ok());
}

// A report's body is not written when the report is cut: it is rendered
// from the cut whenever it is delivered or shown, and is the same bytes
// every time, whatever arrived since.
TEST_F(EventStore, AReportsBodyIsTheSameWheneverItIsRendered) {
  std::vector<Observation> day0;
  for (int host = 1; host <= 4; ++host) {
    day0.push_back(Seen("192.0.2." + std::to_string(host), kDay0 + host));
  }
  day0.push_back(Seen("192.0.2.1", kDay0 + 100));
  ASSERT_EQ(Ingest(day0, kDay0 + 5000, 100).new_events, 4);
  BuildOptions at_cut;
  at_cut.now_us = kDay0 + kDay;
  at_cut.policy = &policy_;
  at_cut.producer = "home";
  auto preview = PreviewReport(*db_, routes_, at_cut, "all");
  ASSERT_TRUE(preview.ok()) << preview.status().message();
  const auto built = Build(kDay0 + kDay + 1);
  ASSERT_EQ(built.size(), 1u);
  ASSERT_EQ(built[0].events, 4);
  EXPECT_FALSE(std::filesystem::exists(ReportsDir(dir_.path()) + "/" + built[0].id + ".report"));
  // Repeats of the reported hosts and new hosts arrive after the cut.
  std::vector<Observation> later = day0;
  later.push_back(Seen("192.0.2.9", kDay0 + kDay + 7));
  Ingest(later, kDay0 + kDay + 10, 2);
  auto first = db_->Report(built[0].id);
  ASSERT_TRUE(first.ok());
  EXPECT_TRUE(first->body.empty());  // not read with the row
  ReportRow second = *first;
  ASSERT_TRUE(LoadReportBody(*db_, &*first).ok());
  ASSERT_TRUE(LoadReportBody(*db_, &second).ok());
  EXPECT_EQ(first->body, preview->body.data);
  EXPECT_EQ(second.body, first->body);
  EXPECT_EQ(first->body.find("192.0.2.9"), std::string::npos);
  EXPECT_NE(first->body.find("192.0.2.4"), std::string::npos);
}

// The feed pages through reports of any size in pages of `limit` events:
// a page may end inside a report, the next resumes there, and the pages
// together are the whole feed, each event once, in the same order.
TEST_F(EventStore, TheFeedPagesInsideReportsAndShowsEachEventOnce) {
  std::vector<Observation> day0, day1;
  for (int host = 0; host < 250; ++host) {
    day0.push_back(Seen("10.0." + std::to_string(host / 200) + "." + std::to_string(host % 200),
                        kDay0 + host));
  }
  for (int host = 0; host < 120; ++host) {
    day1.push_back(Seen("10.1.0." + std::to_string(host), kDay0 + kDay + host));
  }
  Ingest(day0, kDay0 + 1000, 100000);
  ASSERT_EQ(Build(kDay0 + kDay + 1).size(), 1u);
  Ingest(day1, kDay0 + kDay + 1000, 100000);
  ASSERT_EQ(Build(kDay0 + 2 * kDay + 1).size(), 1u);
  const std::vector<EventRow> whole = Feed();
  ASSERT_EQ(whole.size(), 370u);

  std::vector<EventRow> paged;
  FeedPosition from;
  int pages = 0, inside = 0;
  for (bool more = true; more; ++pages) {
    ASSERT_LT(pages, 20);
    auto page = FeedEvents(*db_, policy_, routes_.recipients(), from, 64);
    ASSERT_TRUE(page.ok()) << page.status().message();
    EXPECT_LE(page->events.size(), 64u);
    paged.insert(paged.end(), page->events.begin(), page->events.end());
    more = page->more;
    inside += page->next.report != 0;
    // What the HTTP feed hands out and takes back.
    auto parsed = ParseFeedPosition(FormatFeedPosition(page->next));
    ASSERT_TRUE(parsed.ok()) << FormatFeedPosition(page->next);
    EXPECT_EQ(parsed->since_us, page->next.since_us);
    EXPECT_EQ(parsed->report, page->next.report);
    EXPECT_EQ(parsed->skip, page->next.skip);
    from = *parsed;
  }
  EXPECT_EQ(pages, 6);  // 370 events in pages of 64
  EXPECT_GE(inside, 4);
  ASSERT_EQ(paged.size(), whole.size());
  for (size_t i = 0; i < whole.size(); ++i) EXPECT_EQ(paged[i].id, whole[i].id) << i;

  // From the last `next`: nothing, until the next report, which comes whole.
  auto none = FeedEvents(*db_, policy_, routes_.recipients(), from, 64);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->events.empty());
  EXPECT_FALSE(none->more);
  Ingest({Seen("10.2.0.1", kDay0 + 2 * kDay + 5)}, kDay0 + 2 * kDay + 10, 100);
  ASSERT_EQ(Build(kDay0 + 3 * kDay + 1).size(), 1u);
  auto next = FeedEvents(*db_, policy_, routes_.recipients(), from, 64);
  ASSERT_TRUE(next.ok());
  ASSERT_EQ(next->events.size(), 1u);
  EXPECT_EQ(next->events[0].ip, "10.2.0.1");

  EXPECT_FALSE(ParseFeedPosition("2026-11-30T00:00:00Z~0~5").ok());
  EXPECT_FALSE(ParseFeedPosition("2026-11-30T00:00:00Z~12").ok());
  EXPECT_FALSE(ParseFeedPosition("2026-11-30T00:00:00Z~12~-1").ok());
  EXPECT_FALSE(ParseFeedPosition("yesterday").ok());
}

TEST_F(EventStore, ARecipientsEventsBeyondOneChunkAllReachItsReport) {
  std::vector<Observation> many;
  const int n = static_cast<int>(kChunkEvents) + 1000;
  for (int i = 0; i < n; ++i) {
    many.push_back(Seen("10." + std::to_string(i >> 16) + "." + std::to_string((i >> 8) & 255) +
                            "." + std::to_string(i & 255),
                        kDay0 + i));
  }
  EXPECT_EQ(Ingest(many, kDay0 + kDay - 1, 200000).new_events, n);
  const auto built = Build(kDay0 + kDay + 1);
  ASSERT_EQ(built.size(), 1u);
  EXPECT_EQ(built[0].events, n);
  EXPECT_EQ(Feed().size(), static_cast<size_t>(n));
  auto status = StatusJson(*db_);
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(status->at("events").at("total").as_int64(), n);
  EXPECT_EQ(status->at("events").at("reported").as_int64(), n);
  EXPECT_EQ(status->at("events").at("pending").as_int64(), 0);
}

TEST(EventStoreMigration, AStep1FileKeepsItsReportsPendingEventsAndSuppression) {
  TempDir dir;
  const int64_t cut1 = kDay0 + kDay;
  {
    auto c = store::sqlite::Connection::Open(AlertsDb::PathIn(dir.path()), "NORMAL", 1000, 2048);
    ASSERT_TRUE(c.ok());
    // The step-1 and step-2 layout as a node of 2026-11-29 wrote it.
    ASSERT_TRUE((*c)->Exec(R"sql(
CREATE TABLE recipients(name TEXT PRIMARY KEY, config TEXT NOT NULL);
CREATE TABLE events(rowid INTEGER PRIMARY KEY, id INTEGER NOT NULL UNIQUE,
  recipient TEXT NOT NULL, received INTEGER NOT NULL, day INTEGER NOT NULL, ip TEXT NOT NULL,
  port INTEGER NOT NULL, protocol TEXT NOT NULL, taxonomy TEXT NOT NULL, type TEXT NOT NULL,
  identifier TEXT NOT NULL, family TEXT NOT NULL, first_seen INTEGER NOT NULL,
  last_seen INTEGER NOT NULL, count INTEGER NOT NULL, asn INTEGER NOT NULL,
  as_name TEXT NOT NULL, country TEXT NOT NULL, prefix TEXT NOT NULL, hostname TEXT NOT NULL,
  source TEXT NOT NULL, origin TEXT NOT NULL, tlp TEXT NOT NULL, confidence INTEGER NOT NULL,
  route TEXT NOT NULL, geo_version TEXT NOT NULL, evidence TEXT NOT NULL, report INTEGER);
CREATE TABLE findings(recipient TEXT NOT NULL, ip TEXT NOT NULL, type TEXT NOT NULL,
  identifier TEXT NOT NULL, last_reported INTEGER NOT NULL,
  PRIMARY KEY(recipient, ip, type, identifier)) WITHOUT ROWID;
CREATE TABLE reports(rowid INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE,
  recipient TEXT NOT NULL, period_start INTEGER NOT NULL, cutoff INTEGER NOT NULL,
  created INTEGER NOT NULL, format TEXT NOT NULL, channel TEXT NOT NULL, tlp TEXT NOT NULL,
  events INTEGER NOT NULL, suppressed INTEGER NOT NULL, withheld INTEGER NOT NULL,
  filename TEXT NOT NULL, content_type TEXT NOT NULL, body_file TEXT NOT NULL,
  state TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt INTEGER NOT NULL DEFAULT 0, last_error TEXT NOT NULL DEFAULT '',
  sent INTEGER NOT NULL DEFAULT 0, acknowledged INTEGER NOT NULL DEFAULT 0,
  delivered_to TEXT NOT NULL DEFAULT '', sender_pid INTEGER NOT NULL DEFAULT 0);
CREATE TABLE report_log(report INTEGER NOT NULL, at INTEGER NOT NULL, state TEXT NOT NULL,
  detail TEXT NOT NULL);
)sql")
                    .ok());
    ASSERT_TRUE((*c)->Exec("INSERT INTO recipients VALUES('all', '" +
                           RecipientToJson(FallbackRecipient()) + "')")
                    .ok());
    ASSERT_TRUE(
        (*c)->Exec("INSERT INTO reports(id, recipient, period_start, cutoff, created, format, "
                   "channel, tlp, events, suppressed, withheld, filename, content_type, "
                   "body_file, state) VALUES('r1', 'all', " +
                   std::to_string(kDay0) + ", " + std::to_string(cut1) + ", " +
                   std::to_string(cut1) +
                   ", 'csv', 'feed', 'amber', 2, 1, 0, 'f.csv', "
                   "'text/csv', 'r1.report', 'sent')")
            .ok());
    auto event = [&](int64_t id, const std::string& ip, int64_t received,
                     const std::string& report) {
      return (*c)->Exec(
          "INSERT INTO events(id, recipient, received, day, ip, port, protocol, taxonomy, type, "
          "identifier, family, first_seen, last_seen, count, asn, as_name, country, prefix, "
          "hostname, source, origin, tlp, confidence, route, geo_version, evidence, report) "
          "VALUES(" +
          std::to_string(id) + ", 'all', " + std::to_string(received) + ", " +
          std::to_string(kDay0 / 1000000) + ", '" + ip +
          "', 23, 'tcp', 'malicious-code', 'infected-system', 'mirai', 'mirai', " +
          std::to_string(kDay0) + ", " + std::to_string(kDay0) +
          ", 2, 0, '', '', '', '', 'test', '', 'amber', 50, 'fallback', 'none', '{}', " + report +
          ")");
    };
    ASSERT_TRUE(event(1, "192.0.2.1", kDay0 + 10, "1").ok());
    ASSERT_TRUE(event(2, "192.0.2.2", kDay0 + 11, "1").ok());
    ASSERT_TRUE(event(3, "192.0.2.3", kDay0 + 12, "-1").ok());    // suppressed
    ASSERT_TRUE(event(4, "192.0.2.4", cut1 + 100, "NULL").ok());  // pending
    ASSERT_TRUE((*c)->Exec("INSERT INTO findings VALUES('all', '192.0.2.1', 'infected-system', "
                           "'mirai', " +
                           std::to_string(cut1) + ")")
                    .ok());
  }
  // Reports of that time kept their body in a file.
  std::filesystem::create_directories(ReportsDir(dir.path()));
  std::ofstream(ReportsDir(dir.path()) + "/r1.report") << "the body as sent\n";
  auto db = AlertsDb::Open(dir.path());
  ASSERT_TRUE(db.ok()) << db.status().message();
  RouteTable routes({FallbackRecipient()});
  sharing::SharingPolicy policy(HomeConfig());
  auto old_report = (*db)->Report("r1");
  ASSERT_TRUE(old_report.ok()) << old_report.status().message();
  ASSERT_TRUE(LoadReportBody(**db, &*old_report).ok());
  EXPECT_EQ(old_report->body, "the body as sent\n");
  // The old report still shows its two events.
  auto page = FeedEvents(**db, policy, routes.recipients(), {}, 100);
  ASSERT_TRUE(page.ok()) << page.status().message();
  ASSERT_EQ(page->events.size(), 2u);
  EXPECT_EQ(page->events[0].ip, "192.0.2.1");
  EXPECT_EQ(page->events[1].ip, "192.0.2.2");
  EXPECT_EQ(page->events[1].count, 2);
  auto status = StatusJson(**db);
  ASSERT_TRUE(status.ok()) << status.status().message();
  EXPECT_EQ(status->at("events").at("pending").as_int64(), 1);
  // The pending event goes out next; the finding reported before is still
  // suppressed (a new sighting of 192.0.2.1 the next day).
  IngestOptions options;
  options.now_us = cut1 + 200;
  Ingester ingester(**db, nullptr, routes, options);
  ASSERT_TRUE(ingester.Add(Seen("192.0.2.1", cut1 + 50)).ok());
  ASSERT_TRUE(ingester.Flush().ok());
  BuildOptions build;
  build.now_us = cut1 + kDay + 1;
  build.policy = &policy;
  auto built = BuildDueReports(**db, routes, build);
  ASSERT_TRUE(built.ok()) << built.status().message();
  ASSERT_EQ(built->size(), 1u);
  EXPECT_EQ((*built)[0].events, 1);
  EXPECT_EQ((*built)[0].suppressed, 1);
  // A report built now has no file: its body is rendered from its cut.
  auto new_report = (*db)->Report((*built)[0].id);
  ASSERT_TRUE(new_report.ok());
  EXPECT_EQ(new_report->body_file, "");
  ASSERT_TRUE(LoadReportBody(**db, &*new_report).ok());
  EXPECT_NE(new_report->body.find("192.0.2.4"), std::string::npos) << new_report->body;
  EXPECT_EQ(new_report->body.find("192.0.2.1"), std::string::npos) << new_report->body;
}

}  // namespace
}  // namespace kizuna::alerts
