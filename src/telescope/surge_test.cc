// Surge detection on generated ports: a daily cycle with Poisson noise from
// a fixed seed, outbreaks (jumps, ramps, long ones with quiet minutes)
// added on top. Expected starts, baselines and values come from the
// generator's rates and the generated points, not from constants.
#include "telescope/surge.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>
#include <numbers>
#include <random>

#include "tests/support/sanitizers.h"

namespace kizuna::telescope {
namespace {

constexpr int64_t kMinute = 60;
constexpr int64_t kHour = 3600;
constexpr int64_t kDay = 86400;
constexpr int64_t kT0 = 1795305600;  // 2026-11-22T00:00:00Z
constexpr size_t kMinutesPerDay = kDay / kMinute;

// A port's normal traffic: per-minute rates that follow a daily cycle,
// lowest at 04:00 and highest at 16:00 (a smooth cosine between), or that
// much later.
struct Background {
  double sources_trough, sources_peak;
  double packets_trough, packets_peak;
  int64_t later_s = 0;

  double Cycle(double trough, double peak, int64_t t_s) const {
    const double since_trough = static_cast<double>(t_s - 4 * kHour - later_s);
    return trough +
           (peak - trough) * (1 - std::cos(2 * std::numbers::pi * since_trough / kDay)) / 2;
  }
  double sources(int64_t t_s) const { return Cycle(sources_trough, sources_peak, t_s); }
  double packets(int64_t t_s) const { return Cycle(packets_trough, packets_peak, t_s); }
};

// A busy port (telnet-like): 5-40 sources and 150-900 packets a minute.
constexpr Background kBusy{5, 40, 150, 900};
// A quiet port: 0-3 sources and a handful of packets a minute.
constexpr Background kQuiet{0.3, 2, 1, 10};

double Poisson(double mean, std::mt19937_64& rng) {
  if (mean <= 0) return 0;
  return std::poisson_distribution<int64_t>(mean)(rng);
}

// `minutes` one-minute points of `port` from `start_s`.
std::vector<SeriesPoint> Generate(const Background& port, int64_t start_s, size_t minutes,
                                  uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<SeriesPoint> series(minutes);
  for (size_t i = 0; i < minutes; ++i) {
    const int64_t t = start_s + static_cast<int64_t>(i) * kMinute;
    series[i] = {t, Poisson(port.packets(t), rng), Poisson(port.sources(t), rng)};
  }
  return series;
}

size_t IndexOf(const std::vector<SeriesPoint>& series, int64_t t_s) {
  return static_cast<size_t>((t_s - series.front().start_s) / kMinute);
}

// Adds an outbreak from `start_s` for `minutes`: Poisson(extra) more sources
// and packets each minute.
void AddOutbreak(std::vector<SeriesPoint>& series, int64_t start_s, size_t minutes,
                 double extra_sources, double extra_packets, uint64_t seed) {
  std::mt19937_64 rng(seed);
  const size_t from = IndexOf(series, start_s);
  for (size_t i = from; i < std::min(series.size(), from + minutes); ++i) {
    series[i].sources += Poisson(extra_sources, rng);
    series[i].packets += Poisson(extra_packets, rng);
  }
}

double Value(const SeriesPoint& point, const std::string& metric) {
  return metric == "sources" ? point.sources : point.packets;
}

double Rate(const Background& port, const std::string& metric, int64_t t_s) {
  return metric == "sources" ? port.sources(t_s) : port.packets(t_s);
}

double Peak(const std::vector<SeriesPoint>& series, const Surge& surge) {
  double peak = 0;
  for (size_t i = IndexOf(series, surge.start_s); i <= IndexOf(series, surge.end_s); ++i) {
    peak = std::max(peak, Value(series[i], surge.metric));
  }
  return peak;
}

// The baseline should be what the port normally sees at that time: the
// generator's rate, give or take the noise of estimating it from medians.
void ExpectBaselineNear(const Surge& surge, double rate) {
  EXPECT_NEAR(surge.baseline, rate, 0.15 * rate + 3 * std::sqrt(rate) + 1)
      << surge.metric << " at " << surge.start_s;
}

// The surge is where the series says: observed and peak are its points.
void ExpectConsistentWith(const std::vector<SeriesPoint>& series, const Surge& surge) {
  EXPECT_EQ(surge.observed, Value(series[IndexOf(series, surge.start_s)], surge.metric));
  EXPECT_EQ(surge.peak, Peak(series, surge));
}

std::string Describe(const std::vector<Surge>& surges) {
  std::string text;
  for (const Surge& s : surges) {
    text += s.metric + " " + std::to_string((s.start_s - kT0) / kMinute) + ".." +
            std::to_string((s.end_s - kT0) / kMinute) + " baseline " + std::to_string(s.baseline) +
            " observed " + std::to_string(s.observed) + "; ";
  }
  return text;
}

TEST(DetectSurges, FindsAJumpAtItsStart) {
  struct Case {
    const char* when;
    int64_t start_s;
  };
  const Case cases[] = {
      {"first day, before dawn (no previous day)", kT0 + 2 * kHour},
      {"day 3 at the trough", kT0 + 3 * kDay + 4 * kHour},
      {"day 3 at the peak", kT0 + 3 * kDay + 16 * kHour},
      {"day 6 in the morning rise", kT0 + 6 * kDay + 10 * kHour},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.when);
    auto series = Generate(kBusy, kT0, 7 * kMinutesPerDay, 11);
    const size_t minutes = 2 * kHour / kMinute;
    AddOutbreak(series, c.start_s, minutes, 400, 1200, 12);

    const auto surges = DetectSurges(series);
    ASSERT_EQ(surges.size(), 2u) << Describe(surges);
    EXPECT_EQ(surges[0].metric, "packets");
    EXPECT_EQ(surges[1].metric, "sources");
    for (const Surge& surge : surges) {
      EXPECT_EQ(surge.start_s, c.start_s);
      EXPECT_EQ(surge.end_s, c.start_s + static_cast<int64_t>(minutes - 1) * kMinute);
      EXPECT_FALSE(surge.running);
      ExpectBaselineNear(surge, Rate(kBusy, surge.metric, c.start_s));
      ExpectConsistentWith(series, surge);
    }
  }
}

// From the port's level to ten times it in ten minutes, then an hour there.
TEST(DetectSurges, FindsATenfoldRampWithinThreeIntervals) {
  const int64_t start_s = kT0 + 2 * kDay + 13 * kHour;  // daytime: ~30 sources a minute
  auto series = Generate(kBusy, kT0, 4 * kMinutesPerDay, 21);
  std::mt19937_64 rng(22);
  const size_t from = IndexOf(series, start_s);
  for (size_t k = 0; k < 70; ++k) {
    const int64_t t = start_s + static_cast<int64_t>(k) * kMinute;
    const double extra = 9 * std::min(1.0, (k + 1) / 10.0);  // +9x the level at the top
    series[from + k].sources += Poisson(extra * kBusy.sources(t), rng);
    series[from + k].packets += Poisson(extra * kBusy.packets(t), rng);
  }

  const auto surges = DetectSurges(series);
  ASSERT_EQ(surges.size(), 2u) << Describe(surges);
  for (const Surge& surge : surges) {
    SCOPED_TRACE(surge.metric);
    EXPECT_GE(surge.start_s, start_s);
    EXPECT_LE(surge.start_s, start_s + 2 * kMinute);  // the third interval at the latest
    EXPECT_EQ(surge.end_s, start_s + 69 * kMinute);
    ExpectBaselineNear(surge, Rate(kBusy, surge.metric, surge.start_s));
    ExpectConsistentWith(series, surge);
  }
}

// A week of one-minute points of nothing but the daily cycle and its noise.
TEST(DetectSurges, AWeekOfBackgroundIsNotASurge) {
  struct Case {
    const char* port;
    Background background;
  };
  const Case cases[] = {{"busy", kBusy}, {"quiet", kQuiet}};
  for (const Case& c : cases) {
    for (uint64_t seed : {1, 2, 3}) {
      SCOPED_TRACE(std::string(c.port) + " seed " + std::to_string(seed));
      const auto series = Generate(c.background, kT0, 7 * kMinutesPerDay, seed);
      ASSERT_EQ(series.size(), 10080u);
      // The cycle is there: the daily peak is several times the trough.
      EXPECT_GE(c.background.sources_peak, 6 * c.background.sources_trough);
      EXPECT_GE(c.background.packets_peak, 6 * c.background.packets_trough);
      const auto surges = DetectSurges(series);
      EXPECT_TRUE(surges.empty()) << Describe(surges);
    }
  }
}

// Eight hours, across the morning rise, with three quiet minutes after two
// hours: one surge from its first minute to its last, so its own minutes
// did not raise the baseline that it is measured against.
TEST(DetectSurges, ALongOutbreakIsOneSurge) {
  const int64_t start_s = kT0 + 2 * kDay + 7 * kHour;
  const size_t minutes = 8 * kHour / kMinute;
  auto series = Generate(kBusy, kT0, 4 * kMinutesPerDay, 31);
  const auto background = series;
  AddOutbreak(series, start_s, minutes, 300, 1000, 32);
  const size_t quiet = IndexOf(series, start_s + 2 * kHour);
  for (size_t i = quiet; i < quiet + 3; ++i) series[i] = background[i];

  const auto surges = DetectSurges(series);
  ASSERT_EQ(surges.size(), 2u) << Describe(surges);
  for (const Surge& surge : surges) {
    SCOPED_TRACE(surge.metric);
    EXPECT_EQ(surge.start_s, start_s);
    EXPECT_EQ(surge.end_s, start_s + static_cast<int64_t>(minutes - 1) * kMinute);
    ExpectBaselineNear(surge, Rate(kBusy, surge.metric, start_s));
    ExpectConsistentWith(series, surge);
  }
}

TEST(DetectSurges, ASurgeRunningAtTheEndEndsAtTheLastInterval) {
  auto series = Generate(kBusy, kT0, 2 * kMinutesPerDay, 41);
  const int64_t start_s = series.back().start_s - 5 * kHour;
  AddOutbreak(series, start_s, 10 * kHour / kMinute, 400, 1200, 42);
  // The last interval quiet again, but within the gap a surge may have.
  series.back() = Generate(kBusy, series.back().start_s, 1, 43)[0];

  const auto surges = DetectSurges(series);
  ASSERT_EQ(surges.size(), 2u) << Describe(surges);
  for (const Surge& surge : surges) {
    EXPECT_EQ(surge.start_s, start_s);
    EXPECT_EQ(surge.end_s, series.back().start_s);
    EXPECT_TRUE(surge.running);
  }
}

// A level that lasts a day is the port's new normal: one surge that ends
// soon after relearn_after_s, nothing flagged afterwards.
TEST(DetectSurges, ALevelThatLastsADayBecomesNormal) {
  const SurgeOptions options;
  const int64_t start_s = kT0 + 2 * kDay + 12 * kHour;
  auto series = Generate(kBusy, kT0, 6 * kMinutesPerDay, 51);
  AddOutbreak(series, start_s, series.size(), 300, 1000, 52);

  const auto surges = DetectSurges(series, options);
  ASSERT_EQ(surges.size(), 2u) << Describe(surges);
  for (const Surge& surge : surges) {
    SCOPED_TRACE(surge.metric);
    EXPECT_EQ(surge.start_s, start_s);
    EXPECT_FALSE(surge.running);
    EXPECT_GE(surge.end_s, start_s + options.relearn_after_s - kMinute);
    // The last hour's median catches up within half an hour of learning.
    EXPECT_LE(surge.end_s, start_s + options.relearn_after_s + options.recent_s / 2);
  }
}

// The normal morning ramp, steeper than the cosine (sixfold in three
// hours), from the series' first minute: on the first day only the last
// hour's median can follow it.
TEST(DetectSurges, TheMorningRiseIsNotASurgeEvenOnTheFirstDay) {
  std::mt19937_64 rng(61);
  std::vector<SeriesPoint> series;
  for (int64_t t = kT0; t < kT0 + 2 * kDay; t += kMinute) {
    const double hour = static_cast<double>(t % kDay) / kHour;
    // 1 at night, 6 from 09:00 (a smooth rise from 06:00), back to 1 from
    // 18:00 to 22:00.
    auto smooth = [](double from, double to) {
      return (1 - std::cos(std::numbers::pi * from / to)) / 2;  // 0..1
    };
    const double level = hour < 6    ? 1
                         : hour < 9  ? 1 + 5 * smooth(hour - 6, 3)
                         : hour < 18 ? 6
                         : hour < 22 ? 6 - 5 * smooth(hour - 18, 4)
                                     : 1;
    series.push_back({t, Poisson(170 * level, rng), Poisson(8 * level, rng)});
  }
  const auto surges = DetectSurges(series);
  EXPECT_TRUE(surges.empty()) << Describe(surges);

  // The same rise in ten minutes, the shape of an outbreak, is one.
  for (SeriesPoint& point : series) {
    const double hour = static_cast<double>(point.start_s % kDay) / kHour;
    if (point.start_s < kT0 + kDay && hour >= 6 && hour < 9) {
      point.packets = Poisson(170 * 6, rng);
      point.sources = Poisson(8 * 6, rng);
    }
  }
  const auto steep = DetectSurges(series);
  ASSERT_FALSE(steep.empty());
  EXPECT_EQ(steep[0].start_s, kT0 + 6 * kHour);
}

// A scanner that works office hours every day from day 1: a surge that day,
// the port's pattern from the next on (the seasonal part has seen it).
TEST(DetectSurges, ADailyPatternIsLearned) {
  auto series = Generate(kBusy, kT0, 7 * kMinutesPerDay, 75);
  for (int64_t day = 1; day < 7; ++day) {
    AddOutbreak(series, kT0 + day * kDay + 8 * kHour, 12 * kHour / kMinute, 0, 1500, 76 + day);
  }
  const auto surges = DetectSurges(series);
  ASSERT_EQ(surges.size(), 1u) << Describe(surges);
  EXPECT_EQ(surges[0].metric, "packets");
  EXPECT_EQ(surges[0].start_s, kT0 + kDay + 8 * kHour);
  EXPECT_EQ(surges[0].end_s, kT0 + kDay + 20 * kHour - kMinute);
  ExpectBaselineNear(surges[0], Rate(kBusy, "packets", surges[0].start_s));

  // Without the seasonal part every day's is a surge.
  const auto recent_only = DetectSurges(series, {.seasonal_days = 0});
  EXPECT_EQ(recent_only.size(), 6u) << Describe(recent_only);
}

// Packets that come in bursts: the busy port's sources, each sending a
// geometric number of packets (mean 20). Doubling is common here; the last
// hour's spread (MAD) says so, where Poisson's square root would not.
TEST(DetectSurges, ABurstyPortsNoiseIsItsNormal) {
  for (uint64_t seed : {131, 132, 133}) {
    SCOPED_TRACE(seed);
    std::mt19937_64 rng(seed);
    std::geometric_distribution<int> more_packets(1.0 / 20);
    std::vector<SeriesPoint> series;
    for (int64_t t = kT0; t < kT0 + 7 * kDay; t += kMinute) {
      const double sources = Poisson(kBusy.sources(t), rng);
      double packets = 0;
      for (int i = 0; i < sources; ++i) packets += 1 + more_packets(rng);
      series.push_back({t, packets, sources});
    }
    const auto surges = DetectSurges(series);
    EXPECT_TRUE(surges.empty()) << Describe(surges);
    // Which is the noise allowance's doing.
    const auto without_allowance = DetectSurges(series, {.noise_sigmas = 0});
    EXPECT_GE(without_allowance.size(), 5u) << Describe(without_allowance);
  }
}

TEST(DetectSurges, AQuietPortNeedsAnAbsoluteExcess) {
  struct Case {
    double extra_sources, extra_packets;
    size_t surges;
  };
  // From 0-3 sources to twice or ten times that is no outbreak; forty more
  // are.
  const Case cases[] = {{3, 30, 0}, {6, 60, 0}, {40, 400, 2}};
  for (const Case& c : cases) {
    SCOPED_TRACE(c.extra_sources);
    auto series = Generate(kQuiet, kT0, 3 * kMinutesPerDay, 71);
    const int64_t start_s = kT0 + kDay + 12 * kHour;
    AddOutbreak(series, start_s, 60, c.extra_sources, c.extra_packets, 72);
    const auto surges = DetectSurges(series);
    ASSERT_EQ(surges.size(), c.surges) << Describe(surges);
    for (const Surge& surge : surges) {
      EXPECT_EQ(surge.start_s, start_s);
      ExpectConsistentWith(series, surge);
    }
  }
}

// One heavy scanner more: thousands of packets, one source.
TEST(DetectSurges, PacketsAndSourcesAreSeparateMetrics) {
  auto series = Generate(kBusy, kT0, 2 * kMinutesPerDay, 81);
  const int64_t start_s = kT0 + kDay + 15 * kHour;
  AddOutbreak(series, start_s, 30, 1, 3000, 82);
  const auto surges = DetectSurges(series);
  ASSERT_EQ(surges.size(), 1u) << Describe(surges);
  EXPECT_EQ(surges[0].metric, "packets");
  EXPECT_EQ(surges[0].start_s, start_s);
  ExpectConsistentWith(series, surges[0]);
}

TEST(DetectSurges, EmptyOrSinglePointHasNoSurge) {
  EXPECT_TRUE(DetectSurges({}).empty());
  const SeriesPoint one[] = {{kT0, 1e9, 1e6}};
  EXPECT_TRUE(DetectSurges(one).empty());
  const SeriesPoint two[] = {{kT0, 0, 0}, {kT0 + kMinute, 1e9, 1e6}};
  EXPECT_TRUE(DetectSurges(two).empty());  // still warming up
}

TEST(DetectSurges, NonPositiveIntervalDetectsNothing) {
  auto series = Generate(kBusy, kT0, kMinutesPerDay, 91);
  AddOutbreak(series, kT0 + 12 * kHour, 60, 400, 1200, 92);
  ASSERT_FALSE(DetectSurges(series).empty());
  EXPECT_TRUE(DetectSurges(series, {.interval_s = 0}).empty());
  EXPECT_TRUE(DetectSurges(series, {.interval_s = -60}).empty());
}

// A missing minute is a minute of zero traffic: leaving out the empty ones
// changes nothing, and gaps in a busy port (drops, never surges) neither.
TEST(DetectSurges, MissingIntervalsAreZeroTraffic) {
  // A port that sees something a few minutes an hour.
  auto quiet = Generate({0.02, 0.2, 0.05, 0.5}, kT0, 3 * kMinutesPerDay, 101);
  AddOutbreak(quiet, kT0 + 2 * kDay + 3 * kHour, 45, 60, 500, 102);
  std::vector<SeriesPoint> sparse;
  for (const SeriesPoint& point : quiet) {
    if (point.packets > 0 || point.sources > 0) sparse.push_back(point);
  }
  ASSERT_LT(sparse.size(), quiet.size() / 2);
  const auto dense_surges = DetectSurges(quiet);
  const auto sparse_surges = DetectSurges(sparse);
  ASSERT_EQ(dense_surges.size(), 2u) << Describe(dense_surges);
  ASSERT_EQ(sparse_surges.size(), dense_surges.size()) << Describe(sparse_surges);
  for (size_t i = 0; i < dense_surges.size(); ++i) {
    EXPECT_EQ(sparse_surges[i].metric, dense_surges[i].metric);
    EXPECT_EQ(sparse_surges[i].start_s, dense_surges[i].start_s);
    EXPECT_EQ(sparse_surges[i].end_s, dense_surges[i].end_s);
    EXPECT_EQ(sparse_surges[i].baseline, dense_surges[i].baseline);
  }

  // A busy port missing one minute in ten and a twenty-minute outage, then
  // an outbreak: only the outbreak.
  auto busy = Generate(kBusy, kT0, 3 * kMinutesPerDay, 103);
  const int64_t outbreak_s = kT0 + 2 * kDay + 20 * kHour;
  AddOutbreak(busy, outbreak_s, 60, 400, 1200, 104);
  const int64_t outage_s = kT0 + kDay + 9 * kHour;
  std::vector<SeriesPoint> holed;
  std::mt19937_64 rng(105);
  for (const SeriesPoint& point : busy) {
    const bool outage = point.start_s >= outage_s && point.start_s < outage_s + 20 * kMinute;
    if (!outage && (rng() % 10 != 0 || point.start_s == outbreak_s)) holed.push_back(point);
  }
  const auto surges = DetectSurges(holed);
  ASSERT_EQ(surges.size(), 2u) << Describe(surges);
  for (const Surge& surge : surges) EXPECT_EQ(surge.start_s, outbreak_s);
}

// No history, no baseline: the first warmup_s is never flagged, and what a
// series starts with is its port's level.
TEST(DetectSurges, WarmupDecidesWhenFlaggingStarts) {
  auto starts_inside = Generate(kBusy, kT0, kMinutesPerDay, 111);
  AddOutbreak(starts_inside, kT0, 3 * kHour / kMinute, 400, 1200, 112);
  const auto none = DetectSurges(starts_inside);
  EXPECT_TRUE(none.empty()) << Describe(none);

  // An outbreak right after the first hour is found at once; with a longer
  // warm-up it has become the port's level by the time flagging starts.
  auto after_an_hour = Generate(kBusy, kT0, kMinutesPerDay, 113);
  const int64_t start_s = kT0 + SurgeOptions{}.warmup_s;
  AddOutbreak(after_an_hour, start_s, 3 * kHour / kMinute, 400, 1200, 114);
  const auto found = DetectSurges(after_an_hour);
  ASSERT_EQ(found.size(), 2u) << Describe(found);
  EXPECT_EQ(found[0].start_s, start_s);
  const auto late = DetectSurges(after_an_hour, {.warmup_s = 3 * kHour});
  EXPECT_TRUE(late.empty()) << Describe(late);
}

std::vector<SeriesPoint> WithOutbreak() {
  auto series = Generate(kBusy, kT0, 2 * kMinutesPerDay, 121);
  AddOutbreak(series, kT0 + kDay + 10 * kHour, 90, 400, 1200, 122);
  AddOutbreak(series, kT0 + kDay + 20 * kHour, 30, 1, 3000, 123);  // packets only
  return series;
}

void ExpectSameSurges(const std::vector<Surge>& got, const std::vector<Surge>& want) {
  ASSERT_EQ(got.size(), want.size()) << Describe(got) << " vs " << Describe(want);
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].metric, want[i].metric);
    EXPECT_EQ(got[i].start_s, want[i].start_s);
    EXPECT_EQ(got[i].end_s, want[i].end_s);
    EXPECT_EQ(got[i].baseline, want[i].baseline);
    EXPECT_EQ(got[i].observed, want[i].observed);
    EXPECT_EQ(got[i].peak, want[i].peak);
  }
}

TEST(DetectSurges, UnsortedPointsAreSortedFirst) {
  const auto series = WithOutbreak();
  const auto want = DetectSurges(series);
  ASSERT_EQ(want.size(), 3u) << Describe(want);
  auto shuffled = series;
  std::shuffle(shuffled.begin(), shuffled.end(), std::mt19937_64(124));
  ASSERT_FALSE(std::is_sorted(shuffled.begin(), shuffled.end(),
                              [](auto& a, auto& b) { return a.start_s < b.start_s; }));
  ExpectSameSurges(DetectSurges(shuffled), want);
}

// Two sensors each reporting half of every minute, one of them stamping it
// half a minute late: the points of one interval are summed.
TEST(DetectSurges, PointsOfOneIntervalAreSummed) {
  const auto series = WithOutbreak();
  const auto want = DetectSurges(series);
  std::vector<SeriesPoint> halves;
  for (const SeriesPoint& point : series) {
    halves.push_back({point.start_s, point.packets / 2, point.sources / 2});
    halves.push_back({point.start_s + 30, point.packets / 2, point.sources / 2});
  }
  ExpectSameSurges(DetectSurges(halves), want);
}

TEST(DetectSurges, NegativeAndNonFiniteValuesCountAsZero) {
  auto zeros = WithOutbreak();
  auto odd = zeros;
  const double bad[] = {-5, std::numeric_limits<double>::quiet_NaN(),
                        std::numeric_limits<double>::infinity(), -1e300};
  for (size_t i = 0; i < odd.size(); i += 97) {
    odd[i].packets = bad[i % 4];
    odd[i].sources = bad[(i + 1) % 4];
    zeros[i].packets = 0;
    zeros[i].sources = 0;
  }
  ExpectSameSurges(DetectSurges(odd), DetectSurges(zeros));
}

// A point stamped years off (a sensor's clock at 1970) is outside
// max_span_s and ignored, not a reason to allocate years of minutes.
TEST(DetectSurges, PointsBeyondTheSpanAreIgnored) {
  const auto series = WithOutbreak();
  auto stray = series;
  stray.push_back({0, 5, 5});
  stray.push_back({std::numeric_limits<int64_t>::min(), 5, 5});
  ExpectSameSurges(DetectSurges(stray), DetectSurges(series));

  const SeriesPoint extremes[] = {{std::numeric_limits<int64_t>::min(), 1, 1},
                                  {std::numeric_limits<int64_t>::max(), 1e9, 1e6}};
  EXPECT_TRUE(DetectSurges(extremes).empty());
}

// What a node does each minute: every port's last eight days. Ports range
// from quiet to busy, with daily cycles peaking at different hours.
TEST(DetectSurges, AThousandPortsOfEightDays) {
  KIZUNA_SKIP_SCALE_TEST_UNDER_SANITIZERS();
  constexpr size_t kPorts = 1000;
  constexpr size_t kPoints = 8 * kMinutesPerDay;
  size_t surges = 0;
  std::string found;
  std::chrono::steady_clock::duration detecting{};
  for (size_t port = 0; port < kPorts; ++port) {
    const double scale = std::pow(100.0, static_cast<double>(port) / (kPorts - 1));  // 1..100
    const Background background{0.05 * scale, 0.4 * scale, 1.5 * scale, 9 * scale,
                                static_cast<int64_t>(port % 24) * kHour};
    auto series = Generate(background, kT0, kPoints, 1000 + port);
    const auto start = std::chrono::steady_clock::now();
    const auto port_surges = DetectSurges(series);
    detecting += std::chrono::steady_clock::now() - start;
    surges += port_surges.size();
    if (!port_surges.empty())
      found += "port " + std::to_string(port) + ": " + Describe(port_surges);
  }
  EXPECT_EQ(surges, 0u) << found;
  std::printf("DetectSurges on %zu series of %zu points: %.3f s\n", kPorts, kPoints,
              std::chrono::duration<double>(detecting).count());
}

}  // namespace
}  // namespace kizuna::telescope
