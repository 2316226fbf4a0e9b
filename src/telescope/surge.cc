#include "telescope/surge.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <tuple>

namespace kizuna::telescope {
namespace {

// A median absolute deviation times this estimates σ for normal noise.
constexpr double kMadToSigma = 1.4826;
// Not worked out yet (values are never negative).
constexpr double kUnknown = -2;

// The options in whole intervals.
struct Plan {
  size_t recent;  // ≥ 1
  size_t warmup;
  size_t max_gap;
  size_t relearn;
  size_t per_day;  // intervals in a day
  size_t window;   // either side of the same time of day
  size_t days;     // 0: no seasonal component
};

size_t Intervals(int64_t seconds, int64_t interval_s) {
  if (seconds <= 0) return 0;
  return static_cast<size_t>(seconds / interval_s + (seconds % interval_s != 0));
}

Plan PlanOf(const SurgeOptions& options) {
  const int64_t step = options.interval_s;
  Plan plan;
  plan.recent = std::max<size_t>(1, Intervals(options.recent_s, step));
  plan.warmup = Intervals(options.warmup_s, step);
  plan.max_gap = Intervals(options.max_gap_s, step);
  plan.relearn = std::max<size_t>(1, Intervals(options.relearn_after_s, step));
  plan.per_day = static_cast<size_t>(std::max<int64_t>(1, 86400 / step));
  plan.window = Intervals(options.seasonal_window_s, step);
  plan.days = static_cast<size_t>(std::max(0, options.seasonal_days));
  // A day's window must lie wholly in the past of the interval it serves.
  if (plan.per_day <= plan.window) plan.days = 0;
  return plan;
}

// The median of `values` (reordered).
double Median(std::span<double> values) {
  const size_t mid = values.size() / 2;
  std::nth_element(values.begin(), values.begin() + mid, values.end());
  const double upper = values[mid];
  if (values.size() % 2 == 1) return upper;
  const double lower = *std::max_element(values.begin(), values.begin() + mid);
  return (lower + upper) / 2;
}

double MedianOfSorted(const std::vector<double>& sorted) {
  const size_t mid = sorted.size() / 2;
  return sorted.size() % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

// How many of `sorted` (ascending, not empty) are `below` x: a binary search
// whose steps are arithmetic, not branches. In a window of noisy counts the
// branches of std::lower_bound are a coin toss; mispredicting them cost a
// third of the detector's time.
template <typename Below>
size_t CountBelow(std::span<const double> sorted, double x, Below below) {
  const double* base = sorted.data();
  size_t length = sorted.size();
  while (length > 1) {
    const size_t half = length / 2;
    base += half * static_cast<size_t>(below(base[half - 1], x));
    length -= half;
  }
  return static_cast<size_t>(base - sorted.data()) + (below(*base, x) ? 1 : 0);
}

// A run of flagged intervals of one metric, as indices into the series.
struct Run {
  size_t start = 0, end = 0;
  bool running = false;
  double baseline = 0, observed = 0;
  int flagged = 0;  // intervals
};

// Finds the surges of one metric; `values` has one entry per interval.
class MetricDetector {
 public:
  MetricDetector(std::span<const double> values, double min_excess, const SurgeOptions& options,
                 const Plan& plan)
      : values_(values),
        min_excess_(min_excess),
        options_(options),
        plan_(plan),
        learned_(values.size()) {
    if (plan_.days > 0) {
      window_medians_.assign(values.size(), std::numeric_limits<double>::quiet_NaN());
    }
    recent_.reserve(plan_.recent + 1);
  }

  std::vector<Run> Detect() {
    std::vector<Run> runs;
    bool open = false;
    Run current;
    size_t last_flagged = 0;
    // How far the port was above its seasonal value when the surge began.
    double offset = 0;
    for (size_t t = 0; t < values_.size(); ++t) {
      const double observed = values_[t];
      // Worked out only when needed: most intervals are far below the
      // recent median alone.
      double seasonal = kUnknown, baseline = kUnknown;
      auto seasonal_now = [&] {
        if (seasonal == kUnknown) seasonal = Seasonal(t);
        return seasonal;
      };
      auto baseline_now = [&] {
        if (baseline == kUnknown) baseline = std::max(MedianOfSorted(recent_), seasonal_now());
        return baseline;
      };

      bool flagged = false;
      if (t >= plan_.warmup && !recent_.empty()) {
        // The baseline is at least the recent median, and both tests fall
        // as the baseline rises: failing them against it settles the interval.
        if (LargeEnough(observed, MedianOfSorted(recent_))) {
          const double expected = baseline_now();
          flagged = LargeEnough(observed, expected) &&
                    observed - expected >= options_.noise_sigmas * Sigma(expected);
        }
      }

      if (flagged) {
        if (!open) {
          open = true;
          current = Run{t, t, false, baseline_now(), observed, 0};
          offset = seasonal_now() >= 0 ? baseline_now() - seasonal_now() : 0;
        }
        current.end = t;
        ++current.flagged;
        last_flagged = t;
      } else if (open && t - last_flagged > plan_.max_gap) {
        if (current.flagged >= options_.min_flagged) runs.push_back(current);
        open = false;
      }

      // While a surge runs (gaps included) it must not teach the baseline
      // that it is normal: its intervals count as what the port would have
      // seen without it, the time of day's value at the level the port had
      // when it began (with no previous day, that level). Not the baseline
      // itself: fed its own past values, the last hour's median would hold
      // the day's highest level through the evening. Once the surge has
      // lasted `relearn` it is the port's new level.
      double learned = observed;
      if (open && t - current.start < plan_.relearn) {
        const double without_surge =
            seasonal_now() >= 0 ? seasonal_now() + offset : current.baseline;
        learned = std::min(observed, without_surge);
      }
      Learn(t, learned);
    }
    if (open && current.flagged >= options_.min_flagged) {
      current.end = values_.size() - 1;
      current.running = true;
      runs.push_back(current);
    }
    return runs;
  }

 private:
  bool LargeEnough(double observed, double baseline) const {
    return observed >= options_.min_ratio * baseline && observed - baseline >= min_excess_;
  }

  // The noise an interval may show around `baseline`: the last hour's robust
  // spread, at least Poisson's.
  double Sigma(double baseline) {
    const double median = MedianOfSorted(recent_);
    scratch_.clear();
    for (double v : recent_) scratch_.push_back(std::abs(v - median));
    return std::max(kMadToSigma * Median(scratch_), std::sqrt(baseline));
  }

  // The same time of day on previous days: the median of each day's window
  // medians, or -1 when there is no previous day.
  double Seasonal(size_t t) {
    day_medians_.clear();
    for (size_t d = 1; d <= plan_.days && d * plan_.per_day <= t; ++d) {
      day_medians_.push_back(WindowMedian(t - d * plan_.per_day));
    }
    if (day_medians_.empty()) return -1;
    return Median(day_medians_);
  }

  // The median of the values seen within `window` of interval u (all before
  // any t that asks: per_day > window). As seen, surges included: a
  // pattern that recurs every day is the port's; the median over days keeps
  // one day's outbreak out once there are three.
  double WindowMedian(size_t u) {
    double& cached = window_medians_[u];
    if (std::isnan(cached)) {
      const size_t from = u >= plan_.window ? u - plan_.window : 0;
      const size_t to = std::min(u + plan_.window, values_.size() - 1);
      scratch_.assign(values_.begin() + from, values_.begin() + to + 1);
      cached = Median(scratch_);
    }
    return cached;
  }

  // Interval t's value as the baselines of later intervals will see it.
  void Learn(size_t t, double value) {
    learned_[t] = value;
    if (t < plan_.recent) {
      recent_.insert(std::upper_bound(recent_.begin(), recent_.end(), value), value);
      return;
    }
    // The window is full: the oldest value leaves as this one enters, and
    // only the values between the two places move.
    const double leaving = learned_[t - plan_.recent];
    const std::span<double> sorted(recent_);
    const size_t below_leaving = CountBelow(sorted, leaving, std::less<>());
    const size_t up_to_value = CountBelow(sorted, value, std::less_equal<>());
    if (up_to_value > below_leaving) {  // entering above the leaving value
      std::copy(sorted.begin() + below_leaving + 1, sorted.begin() + up_to_value,
                sorted.begin() + below_leaving);
      sorted[up_to_value - 1] = value;
    } else {
      std::copy_backward(sorted.begin() + up_to_value, sorted.begin() + below_leaving,
                         sorted.begin() + below_leaving + 1);
      sorted[up_to_value] = value;
    }
  }

  const std::span<const double> values_;
  const double min_excess_;
  const SurgeOptions& options_;
  const Plan& plan_;
  std::vector<double> learned_;         // what each interval taught the recent median
  std::vector<double> window_medians_;  // by interval, NaN until asked for
  std::vector<double> recent_;          // the last `recent` learned values, sorted
  std::vector<double> scratch_, day_medians_;
};

double Count(double v) { return std::isfinite(v) && v > 0 ? v : 0; }

bool ByStart(const SeriesPoint& a, const SeriesPoint& b) { return a.start_s < b.start_s; }

}  // namespace

std::vector<Surge> DetectSurges(std::span<const SeriesPoint> series, const SurgeOptions& options) {
  if (series.empty() || options.interval_s <= 0) return {};
  std::vector<SeriesPoint> sorted_copy;
  if (!std::is_sorted(series.begin(), series.end(), ByStart)) {
    sorted_copy.assign(series.begin(), series.end());
    std::stable_sort(sorted_copy.begin(), sorted_copy.end(), ByStart);
    series = sorted_copy;
  }

  // Differences of timestamps in unsigned arithmetic: exact for any two
  // int64 values a ≥ b, where the signed difference could overflow.
  auto seconds_between = [](int64_t later, int64_t earlier) {
    return static_cast<uint64_t>(later) - static_cast<uint64_t>(earlier);
  };
  const int64_t last = series.back().start_s;
  const uint64_t max_span = static_cast<uint64_t>(std::max<int64_t>(0, options.max_span_s));
  size_t skip = 0;
  while (seconds_between(last, series[skip].start_s) > max_span) ++skip;
  series = series.subspan(skip);

  const int64_t first = series.front().start_s;
  const uint64_t step = static_cast<uint64_t>(options.interval_s);
  const size_t n = seconds_between(last, first) / step + 1;
  std::vector<double> packets(n), sources(n);
  for (const SeriesPoint& point : series) {
    const size_t i = seconds_between(point.start_s, first) / step;
    packets[i] += Count(point.packets);
    sources[i] += Count(point.sources);
  }

  const Plan plan = PlanOf(options);
  std::vector<Surge> surges;
  auto start_of = [&](size_t i) {  // ≤ last: no overflow
    return static_cast<int64_t>(static_cast<uint64_t>(first) + i * step);
  };
  auto add = [&](const char* metric, const std::vector<double>& values, double min_excess) {
    for (const Run& run : MetricDetector(values, min_excess, options, plan).Detect()) {
      const double peak =
          *std::max_element(values.begin() + run.start, values.begin() + run.end + 1);
      surges.push_back(Surge{.metric = metric,
                             .start_s = start_of(run.start),
                             .end_s = start_of(run.end),
                             .running = run.running,
                             .baseline = run.baseline,
                             .observed = run.observed,
                             .peak = peak});
    }
  };
  add("sources", sources, options.min_excess_sources);
  add("packets", packets, options.min_excess_packets);
  std::sort(surges.begin(), surges.end(), [](const Surge& a, const Surge& b) {
    return std::tie(a.start_s, a.metric) < std::tie(b.start_s, b.metric);
  });
  return surges;
}

}  // namespace kizuna::telescope
