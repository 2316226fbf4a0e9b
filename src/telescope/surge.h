// Surge (outbreak) detection for the darknet telescope: given what the
// sensors saw on one (protocol, port), interval by interval, finds the
// intervals whose packets or distinct sources jump well above what that port
// usually sees at that time of day, and reports each run of them once.
//
// The expected value ("baseline") of an interval is the larger of two robust
// estimates: a seasonal one (the same time of day on up to 7 previous days,
// the median over days of a median over a small window on each) and a
// recent one (the median of the last hour). The seasonal part follows the
// daily cycle, and learns a pattern that recurs daily; the recent part
// covers the first day and a port whose level changed this week. An
// interval is flagged when it exceeds the baseline by a ratio, by an
// absolute amount and by a noise allowance (the last hour's MAD, Poisson
// noise); a surge is two or more flagged intervals. While a surge runs, its
// intervals enter the last hour's median as what the port would have seen
// without it (the seasonal value, at the level the port had when the surge
// began), so an outbreak does not become normal by lasting (until it has
// lasted `relearn_after_s`). On the series' first day there is no seasonal
// value to follow: a surge's baseline stays at the level the port had when
// it began, and the port's own daily rise while it runs prolongs it.
//
// Cost per series of n intervals: n binary searches and short shifts in
// the last hour's values kept sorted (60), and the seasonal medians (11
// values a day) only for the few intervals that pass the test against the
// recent median; no sort of the series when it arrives sorted. A pure
// function, no state: safe to call from any number of threads at once.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace kizuna::telescope {

// One interval of one (protocol, port): what the telescope's sensors saw.
struct SeriesPoint {
  int64_t start_s = 0;  // the interval's start, seconds since the epoch
  double packets = 0;
  double sources = 0;  // distinct source addresses in the interval
};

// What makes an interval a surge, and how much history the baseline uses.
// Durations are in seconds and are rounded up to whole intervals.
struct SurgeOptions {
  // The length of one interval; a series' points are interval_s apart
  // (missing ones are zero). Not positive: nothing is detected.
  int64_t interval_s = 60;

  // All three must hold for an interval to be flagged:
  // observed >= min_ratio × baseline: a surge at least doubles the port.
  double min_ratio = 2.0;
  // observed - baseline >= this: absolute floors, so that a quiet port
  // going from 0 to 3 sources (a ratio of infinity) is not an outbreak.
  double min_excess_sources = 20;
  double min_excess_packets = 200;
  // observed - baseline >= noise_sigmas × σ, σ the larger of the last
  // hour's spread (1.4826 × its median absolute deviation: ports whose
  // sources come in bursts of packets) and sqrt(baseline) (counts are at
  // least Poisson-noisy). Why 6: on a week of packets from sources sending
  // geometric bursts (mean 20, 40), 5 still let through a surge in about
  // one week in three; 6 none in 20 weeks.
  double noise_sigmas = 6;

  // The recent component: the median of this much history before an interval.
  int64_t recent_s = 3600;
  // The seasonal component: the same time of day on up to this many
  // previous days, each the median of ± seasonal_window_s around it.
  int seasonal_days = 7;
  int64_t seasonal_window_s = 300;
  // No baseline yet: nothing is flagged in the series' first warmup_s.
  // A series that starts inside an outbreak takes it for the port's level
  // (and its end, a drop, is never a surge).
  int64_t warmup_s = 3600;
  // A surge has at least this many flagged intervals: one interval's spike
  // is noise (a node sees millions of port-intervals a day, and Poisson
  // noise's tail among them). So a jump is known from its second interval
  // on; its start_s is still its first.
  int min_flagged = 2;
  // A surge survives up to this much of unflagged intervals inside it: a
  // few quiet minutes in an outbreak do not split it. It ends at its last
  // flagged interval once more than this has passed without one.
  int64_t max_gap_s = 600;
  // A surge that has lasted this long is the port's new level: from then on
  // its intervals enter the baseline as seen, and it ends soon after.
  int64_t relearn_after_s = 86400;
  // Only this much of the series, back from its last point, is looked at
  // (bounds memory when a stray timestamp lies years off).
  int64_t max_span_s = 14 * 86400;
};

struct Surge {
  std::string metric;   // "sources" or "packets"
  int64_t start_s = 0;  // the first interval flagged
  // The last interval flagged; when the surge is still running at the end of
  // the series (no more than max_gap_s since its last flagged interval),
  // the last interval of the series.
  int64_t end_s = 0;
  bool running = false;  // still running at the end of the series
  double baseline = 0;   // the expected value at start_s
  double observed = 0;   // the value observed at start_s
  double peak = 0;       // the highest value from start_s to end_s
};

// The surges in one port's series, by start_s (then metric).
//
// Points need not be sorted. A point belongs to the interval that contains
// it, counted in steps of interval_s from the earliest point; points of one
// interval are summed (sensors that each report part of an interval; for
// sources an upper bound). A missing interval means zero traffic. Negative
// or non-finite values count as zero.
std::vector<Surge> DetectSurges(std::span<const SeriesPoint> series,
                                const SurgeOptions& options = {});

}  // namespace kizuna::telescope
