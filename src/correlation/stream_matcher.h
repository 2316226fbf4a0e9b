// StreamMatcher: matching a log against the node's indicators at the speed
// of the log (`kizuna match DIR < log`, and the text/plain bodies of
// POST /api/v1/match). One observable per line, or one picked out of each
// log line (a whitespace-separated field, or a regex's first capture group);
// one JSON line per result, exactly what ResultToJson would give for it
// (see result_json.h for the one exception, strings that are not UTF-8).
//
// How it is fast while every answer stays Correlator::MatchText's:
//   - input is read in large blocks and split into lines without copying;
//   - a line that is a plain dotted quad (canonical: no leading zeros) is
//     not detected by DetectObservable but parsed by hand, and a batch of
//     them is looked up in the index and the warning lists under one read
//     lock each (Correlator::ProbeIpv4). An address nothing matches and no
//     list holds gets its (no-match) answer written at once; any other gets
//     the answer MatchText gave the first address with the same candidates
//     and lists (a cache shared by the threads, bounded), its value put in.
//     That first answer is written straight from the index's records
//     (Correlator::AppendIpv4CandidatesJson, its cache misses started for
//     the whole batch at once) unless a `visible` filter, which is handed
//     whole IndicatorMatches, asks for the slower way;
//   - everything else (other kinds, JSON lines, addresses on substring or
//     regex warning lists, and every line while the node has indicators
//     only the pattern engine can evaluate) goes through MatchText /
//     MatchObservedData as before;
//   - JSON is written by hand into a large buffer (result_json.h);
//   - Run splits the input into chunks of whole lines that `threads` workers
//     match at once; output follows input order. A fixed number of chunks is
//     in flight, so memory does not grow with the input (a chunk's output is
//     written out early, in order, once it passes a few MiB).
//
// Lines: a trailing '\r' (CRLF) and spaces around a line are dropped; empty
// lines and lines starting with '#' are skipped (not inputs). A line longer
// than max_line_bytes, an observable that is not UTF-8, a missing field or a
// line the regex does not match gives an error result ({"input", "error"}),
// written only with `all`, like every result without matches.
//
// Thread-safety: one Run or MatchBuffer at a time per StreamMatcher. Run
// calls the filters from its worker threads at once: with threads > 1 they
// must be thread-safe (null filters, as the CLI uses, are). The correlator
// must outlive the matcher.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"
#include "correlation/correlator.h"

namespace kizuna::correlation {

struct StreamOptions {
  // Write every input's result, not only those with matches.
  bool all = false;
  // The observable is the Nth whitespace-separated field (1-based) of each
  // line; 0: the whole line. Exclusive with `regex`.
  int field = 0;
  // The observable is the first capture group (the whole match without a
  // group) of this RE2 regex, searched anywhere in the line.
  std::string regex;
  // A line (or picked field) starting with '{' or '[' is JSON: an
  // observable {"type", "value"}, observed-data or a bundle (the CLI); when
  // false it is matched as text (the match API's text/plain bodies).
  bool json_lines = true;
  // Worker threads for Run (MatchBuffer runs on the caller's thread).
  size_t threads = 2;
  // Bytes of whole lines a worker takes at once.
  size_t chunk_bytes = 256 << 10;
  // Longer lines are not read into memory: they give an error result.
  size_t max_line_bytes = 16 << 20;
  // Keep the tally of matched indicators (tally()), for sightings.
  bool tally = false;
  // Answers remembered (shared by the threads) for addresses with index
  // candidates or on warning lists, by candidates and lists; about 500
  // bytes each. Past that many, the others are asked of MatchText each time.
  size_t cache_entries = 1 << 17;
};

struct StreamCounts {
  uint64_t inputs = 0;   // lines matched (not empty, not comments)
  uint64_t matched = 0;  // results with at least one match
  uint64_t errors = 0;   // results saying the input was not understood
};

class StreamMatcher {
 public:
  // Reads up to `capacity` bytes into `buffer`; returns how many, 0 at the
  // end of the input, -1 on an error (with errno set).
  using Source = std::function<long(char* buffer, size_t capacity)>;
  // Writes all of `bytes`; false on an error.
  using Sink = std::function<bool(std::string_view bytes)>;
  // Told the counts so far, from Run's reading thread, about every
  // `progress_every` while input flows.
  using Progress = std::function<void(const StreamCounts& counts)>;

  // Filters as for Correlator::MatchText; `sightings_visible` as for
  // Correlator::AddSightedBy. An invalid regex or field is kInvalidArgument.
  static Result<std::unique_ptr<StreamMatcher>> Create(Correlator& correlator,
                                                       StreamOptions options,
                                                       CollectionFilter readable = nullptr,
                                                       MatchFilter visible = nullptr,
                                                       SightingFilter sightings_visible = nullptr);
  ~StreamMatcher();

  // Matches everything `source` gives until its end, writing JSON lines to
  // `sink` in input order. An I/O error stops it (kIoError).
  Status Run(const Source& source, const Sink& sink, const Progress& progress = nullptr,
             std::chrono::milliseconds progress_every = std::chrono::seconds(2));
  // Run over file descriptors (stdin, stdout).
  Status RunFd(int in_fd, int out_fd, const Progress& progress = nullptr,
               std::chrono::milliseconds progress_every = std::chrono::seconds(2));

  // Matches every line of `text` on the calling thread, appending each
  // written result's JSON followed by `terminator` ("\n": JSON lines; ",":
  // the items of a JSON array).
  void MatchBuffer(std::string_view text, std::string* out, std::string_view terminator = "\n");

  // The lines of `text` MatchBuffer would take as inputs (with default
  // options: no field, no regex): what a request's size is counted in.
  static size_t CountInputs(std::string_view text);

  // Totals over every Run and MatchBuffer so far.
  StreamCounts counts() const;
  // How often each indicator matched (for SightingRecorder::Record); empty
  // unless options.tally.
  SightingTally tally() const;

 private:
  struct Worker;
  class AnswerCache;
  class Pipeline;
  StreamMatcher(Correlator& correlator, StreamOptions options, CollectionFilter readable,
                MatchFilter visible, SightingFilter sightings_visible);
  // Matches the whole lines in `data` (the last may lack '\n'), appending
  // to *out; `flush` (may be null) takes *out when it grows past a few MiB.
  void MatchLines(Worker& worker, std::string_view data, std::string* out,
                  std::string_view terminator, const std::function<void(std::string*)>& flush);
  // One line longer than max_line_bytes, of which `head` is the start: an
  // error result appended to *out, or (out null) queued in the worker's
  // current batch of lines.
  void Overlong(Worker& worker, std::string_view head, std::string* out,
                std::string_view terminator);
  std::string OverlongError() const;
  // Folds a worker's counts and tally into the totals.
  void Collect(Worker& worker);

  Correlator& correlator_;
  const StreamOptions options_;
  const CollectionFilter readable_;
  const MatchFilter visible_;
  const SightingFilter sightings_visible_;
  struct Regex;
  std::unique_ptr<Regex> regex_;  // compiled options_.regex, or null
  StreamCounts counts_;
  SightingTally tally_;
};

}  // namespace kizuna::correlation
