#include "sensor/upload.h"

#include <fcntl.h>
#include <sodium.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include <boost/asio/ip/address.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

#include "common/encoding.h"
#include "common/files.h"
#include "common/time.h"
#include "http/http.h"

namespace kizuna::sensor {

namespace json = boost::json;
namespace fs = std::filesystem;

namespace {

constexpr std::string_view kSpoolSuffix = ".batch.json";

Status WriteDurably(const std::string& dir, const std::string& name, const std::string& body) {
  const std::string tmp = dir + "/." + name + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return IoError("spool: cannot write " + tmp);
  size_t done = 0;
  while (done < body.size()) {
    const ssize_t n = ::write(fd, body.data() + done, body.size() - done);
    if (n <= 0) {
      ::close(fd);
      return IoError("spool: cannot write " + tmp);
    }
    done += static_cast<size_t>(n);
  }
  if (::close(fd) != 0) return IoError("spool: cannot write " + tmp);
  Status moved = MoveDurably(tmp, dir + "/" + name);
  if (!moved.ok()) return IoError("spool: " + moved.message());
  return Status::Ok();
}

std::vector<std::string> SpoolFiles(const std::string& dir) {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.size() > kSpoolSuffix.size() && name.ends_with(kSpoolSuffix) && name[0] != '.') {
      names.push_back(name);
    }
  }
  std::sort(names.begin(), names.end());
  return names;
}

// https://, or http:// to this machine only (a test, a node beside the
// sensor): elsewhere the token would cross the network in the clear.
Status CheckNodeUrl(const std::string& url) {
  auto parsed = boost::urls::parse_absolute_uri(url);
  if (!parsed || parsed->host().empty()) {
    return InvalidArgument("node: '" + url + "' is not an https:// URL");
  }
  if (parsed->scheme_id() == boost::urls::scheme::https) return Status::Ok();
  if (parsed->scheme_id() == boost::urls::scheme::http) {
    const std::string host = parsed->host_address();
    boost::system::error_code ec;
    const boost::asio::ip::address address = boost::asio::ip::make_address(host, ec);
    if ((!ec && address.is_loopback()) || host == "localhost") return Status::Ok();
    return InvalidArgument(
        "node: " + url +
        ": plain http:// only to this machine (127.0.0.1, localhost); the sensor's "
        "token would cross the network in the clear: use https://");
  }
  return InvalidArgument("node: '" + url + "' is not an https:// URL");
}

}  // namespace

SensorKeys SensorKeysFromToken(std::string_view token) {
  const std::string seed = Sha256("kizuna-sensor-signing-v1:" + std::string(token));
  SensorKeys keys;
  keys.public_key.resize(crypto_sign_PUBLICKEYBYTES);
  keys.secret_key.resize(crypto_sign_SECRETKEYBYTES);
  crypto_sign_seed_keypair(reinterpret_cast<unsigned char*>(keys.public_key.data()),
                           reinterpret_cast<unsigned char*>(keys.secret_key.data()),
                           reinterpret_cast<const unsigned char*>(seed.data()));
  return keys;
}

Uploader::Uploader(UploadOptions options)
    : options_(std::move(options)), keys_(SensorKeysFromToken(options_.token)) {
  while (!options_.node_url.empty() && options_.node_url.back() == '/')
    options_.node_url.pop_back();
  http::ClientOptions client;
  client.ca_file = options_.ca_file;
  client_ = std::make_unique<http::Client>(client);
}

Uploader::~Uploader() = default;

Status Uploader::Resolve() {
  KIZUNA_RETURN_IF_ERROR(CheckNodeUrl(options_.node_url));
  if (!options_.spool_dir.empty()) {
    std::error_code ec;
    fs::create_directories(options_.spool_dir, ec);
    if (ec) return IoError("spool: cannot create " + options_.spool_dir + ": " + ec.message());
  }
  if (!options_.sensor.empty()) {
    if (!ValidSensorName(options_.sensor)) {
      return InvalidArgument("--sensor: 1 to 64 of A-Z a-z 0-9 . _ -");
    }
    return Status::Ok();
  }
  http::Headers headers;
  headers.Set("Authorization", "Bearer " + options_.token);
  auto response = client_->Send("GET", options_.node_url + "/api/v1/whoami", headers);
  // The name the node gave before is kept in the spool: a sensor restarted
  // while its node is away still knows who it is, and spools.
  const std::string remembered = options_.spool_dir.empty() ? "" : options_.spool_dir + "/sensor";
  if (!response.ok()) {
    std::ifstream in(remembered);
    std::string name;
    if (!remembered.empty() && std::getline(in, name) && ValidSensorName(name)) {
      options_.sensor = name;
      return Status::Ok();
    }
    return Unavailable("node " + options_.node_url + ": " + response.status().message());
  }
  if (response->status != 200) {
    return Unauthenticated("node " + options_.node_url + " refused the token (HTTP " +
                           std::to_string(response->status) + ")");
  }
  json::error_code ec;
  json::value v = json::parse(response->body, ec);
  const json::value* name = ec || !v.is_object() ? nullptr : v.get_object().if_contains("name");
  if (name == nullptr || !name->is_string() ||
      !std::string_view(name->get_string()).starts_with("sensor.")) {
    return InvalidArgument("the token is not a sensor's (kizuna telescope sensor add)");
  }
  options_.sensor = std::string(name->get_string()).substr(7);
  if (!remembered.empty()) {
    KIZUNA_RETURN_IF_ERROR(WriteDurably(options_.spool_dir, "sensor", options_.sensor + "\n"));
  }
  return Status::Ok();
}

Status Uploader::Post(const std::string& body, int attempts) {
  unsigned char signature[crypto_sign_BYTES];
  crypto_sign_detached(signature, nullptr, reinterpret_cast<const unsigned char*>(body.data()),
                       body.size(),
                       reinterpret_cast<const unsigned char*>(keys_.secret_key.data()));
  http::Headers headers;
  headers.Set("Authorization", "Bearer " + options_.token);
  headers.Set("Content-Type", "application/json");
  headers.Set(
      std::string(kSensorSignatureHeader),
      Base64Encode(std::string_view(reinterpret_cast<const char*>(signature), sizeof signature)));
  Status last = Status::Ok();
  int wait_ms = options_.retry_ms;
  for (int attempt = 0; attempt < std::max(1, attempts); ++attempt) {
    if (attempt > 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(wait_ms));
      wait_ms *= 2;
    }
    auto response =
        client_->Send("POST", options_.node_url + "/api/v1/telescope/intervals", headers, body);
    if (!response.ok()) {
      last = Unavailable("node " + options_.node_url + ": " + response.status().message());
      continue;
    }
    if (response->status == 200) {
      json::error_code ec;
      json::value v = json::parse(response->body, ec);
      if (!ec && v.is_object()) {
        const json::object& o = v.get_object();
        if (const json::value* n = o.if_contains("objects_stored"); n && n->is_number()) {
          stats_.objects_stored += n->to_number<uint64_t>();
        }
        if (const json::value* n = o.if_contains("objects_already_present"); n && n->is_number()) {
          stats_.objects_already_present += n->to_number<uint64_t>();
        }
      }
      ++stats_.batches;
      return Status::Ok();
    }
    const std::string why = "node answered HTTP " + std::to_string(response->status) + ": " +
                            response->body.substr(0, 300);
    // A busy or restarting node is worth another try; a batch the node
    // found bad (400, 422) never will be; anything else (a wrong URL or
    // token, a proxy) is the setup's fault, not the batch's: stop and keep it.
    if (response->status == 503 || response->status == 429 || response->status >= 500) {
      last = Unavailable(why);
      continue;
    }
    // 413: too large for the node (its limits.max_body_bytes), which will
    // not change by itself either.
    if (response->status == 413) return TooLarge(why);
    if (response->status == 400 || response->status == 422) return InvalidArgument(why);
    return FailedPrecondition(why);
  }
  return last;
}

Status Uploader::Send(const std::vector<WireInterval>& intervals) {
  // Cut by size too: a minute of a large outbreak holds many addresses.
  std::string body;
  for (const WireInterval& interval : intervals) {
    const std::string encoded = EncodeWire(interval);
    if (!body.empty() && body.size() + encoded.size() + 2 > PartBytes()) {
      body += "]}";
      KIZUNA_RETURN_IF_ERROR(SendBody(body));
      body.clear();
    }
    body += body.empty() ? "{\"intervals\":[" : ",";
    body += encoded;
    ++stats_.intervals;
  }
  if (body.empty()) return Status::Ok();
  body += "]}";
  return SendBody(body);
}

Status Uploader::SendBody(const std::string& body) {
  if (options_.spool_dir.empty()) {
    std::vector<std::string> refused;
    KIZUNA_RETURN_IF_ERROR(PostInParts(body, &refused));
    stats_.refused += refused.size();
    return refused.empty() ? Status::Ok() : InvalidArgument(last_refusal_);
  }
  char name[64];
  std::snprintf(name, sizeof name, "%020lld-%06llu%s",
                static_cast<long long>(SystemClock::Instance().NowMicros()),
                static_cast<unsigned long long>(sequence_++ % 1000000),
                std::string(kSpoolSuffix).c_str());
  KIZUNA_RETURN_IF_ERROR(WriteDurably(options_.spool_dir, name, body));
  // Older batches go first. A node that is away gets them later: the batch
  // is safe in the spool, so that is not a failure of Send.
  Status flushed = Flush();
  if (!flushed.ok() && flushed.code() == Code::kUnavailable) return Status::Ok();
  return flushed;
}

namespace {

// A batch's intervals, each as its own JSON text (none when the batch does
// not parse: it was made here, so only a damaged spool file would not).
std::vector<std::string> BatchIntervals(const std::string& body) {
  json::error_code ec;
  json::value root = json::parse(body, ec);
  const json::value* list =
      ec || !root.is_object() ? nullptr : root.get_object().if_contains("intervals");
  if (list == nullptr || !list->is_array()) return {};
  std::vector<std::string> intervals;
  intervals.reserve(list->get_array().size());
  for (const json::value& interval : list->get_array()) {
    intervals.push_back(json::serialize(interval));
  }
  return intervals;
}

std::string JoinBatch(std::vector<std::string>::const_iterator first,
                      std::vector<std::string>::const_iterator last) {
  std::string body = "{\"intervals\":[";
  for (auto it = first; it != last; ++it) {
    if (it != first) body += ',';
    body += *it;
  }
  return body + "]}";
}

// Two halves by count: a batch the node found bad is searched for the
// interval it refuses.
std::vector<std::string> SplitInHalves(const std::vector<std::string>& intervals) {
  const auto middle = intervals.begin() + static_cast<std::ptrdiff_t>(intervals.size() / 2);
  return {JoinBatch(intervals.begin(), middle), JoinBatch(middle, intervals.end())};
}

// Parts of at most `part_bytes` each (an interval larger goes alone): a
// batch too large for the node is cut once to the size it is known to take,
// not halved level by level, each level sent and refused again.
std::vector<std::string> CutBySize(const std::vector<std::string>& intervals, size_t part_bytes) {
  std::vector<std::string> parts;
  auto first = intervals.begin();
  size_t bytes = 0;
  for (auto it = intervals.begin(); it != intervals.end(); ++it) {
    if (it != first && bytes + it->size() + 1 > part_bytes) {
      parts.push_back(JoinBatch(first, it));
      first = it;
      bytes = 0;
    }
    bytes += it->size() + 1;
  }
  parts.push_back(JoinBatch(first, intervals.end()));
  return parts.size() >= 2 ? parts : SplitInHalves(intervals);
}

// A batch this large that cannot be sent to a node that answers is taken
// for too large: the node answers 413 at once and closes after reading a
// little more, so the sender sees a broken connection, not the 413.
constexpr size_t kTooLargeWhenCutAbove = size_t{1} << 20;

}  // namespace

bool Uploader::NodeAnswers() {
  http::Headers headers;
  headers.Set("Authorization", "Bearer " + options_.token);
  auto response = client_->Send("GET", options_.node_url + "/api/v1/whoami", headers);
  return response.ok() && response->status == 200;
}

size_t Uploader::PartBytes() const {
  return too_large_from_ == 0 ? options_.batch_bytes
                              : std::min(options_.batch_bytes, too_large_from_ / 2);
}

Status Uploader::PostInParts(const std::string& body, std::vector<std::string>* refused,
                             bool cut_off) {
  // A batch as large as one the node refused for its size is cut before it
  // is sent; a single interval is always tried.
  std::vector<std::string> intervals;
  const bool known_too_large = too_large_from_ != 0 && body.size() >= too_large_from_;
  if (known_too_large) intervals = BatchIntervals(body);
  const bool post = !known_too_large || intervals.size() < 2;
  Status sent = post ? Post(body, cut_off ? 1 : options_.attempts)
                     : InvalidArgument("larger than the node takes");
  if (sent.ok()) return sent;
  const bool too_large =
      !post || sent.code() == Code::kTooLarge ||
      (sent.code() == Code::kUnavailable && body.size() > kTooLargeWhenCutAbove && NodeAnswers());
  if (too_large && post) {
    ++stats_.too_large;
    too_large_from_ = too_large_from_ == 0 ? body.size() : std::min(too_large_from_, body.size());
  }
  // 400, 413 and 422 (one bad interval, or too many bytes) and a large
  // batch cut off by a node that answers are tried in parts; anything else
  // (the node away, a wrong URL or token) stops here.
  if (sent.code() != Code::kInvalidArgument && !too_large) return sent;
  if (intervals.empty()) intervals = BatchIntervals(body);
  if (intervals.size() < 2) {
    last_refusal_ =
        sent.code() == Code::kUnavailable
            ? "the node answers but did not take one interval of " + std::to_string(body.size()) +
                  " bytes (larger than it or a proxy before it takes?): " + sent.message()
            : sent.message();
    refused->push_back(body);
    return Status::Ok();
  }
  const std::vector<std::string> parts =
      too_large ? CutBySize(intervals, PartBytes()) : SplitInHalves(intervals);
  intervals.clear();
  for (const std::string& part : parts) {
    KIZUNA_RETURN_IF_ERROR(PostInParts(part, refused, too_large));
  }
  return Status::Ok();
}

Status Uploader::Flush() {
  if (options_.spool_dir.empty()) return Status::Ok();
  for (const std::string& name : SpoolFiles(options_.spool_dir)) {
    const std::string path = options_.spool_dir + "/" + name;
    std::ifstream in(path, std::ios::binary);
    std::string body((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (!in.good() && !in.eof()) return IoError("spool: cannot read " + path);
    // Parts the node took before a failure are sent again with the rest
    // next time: it stores each interval once.
    std::vector<std::string> refused;
    Status sent = PostInParts(body, &refused);
    if (!sent.ok()) {
      stats_.spooled = SpoolFiles(options_.spool_dir).size();
      return sent;
    }
    // What the node will never take is kept aside for a person.
    for (size_t i = 0; i < refused.size(); ++i) {
      KIZUNA_RETURN_IF_ERROR(WriteDurably(
          options_.spool_dir,
          name + (refused.size() == 1 ? "" : "." + std::to_string(i)) + ".refused", refused[i]));
    }
    stats_.refused += refused.size();
    std::error_code ec;
    fs::remove(path, ec);
  }
  stats_.spooled = 0;
  return Status::Ok();
}

size_t Uploader::spooled() const {
  return options_.spool_dir.empty() ? 0 : SpoolFiles(options_.spool_dir).size();
}

Result<UploadCaptureResult> UploadCapture(
    const std::string& path, const Darknet& darknet, int64_t interval_seconds, Uploader& uploader,
    const std::function<void(uint64_t done, uint64_t total)>& progress,
    const FingerprintSet& rules) {
  KIZUNA_ASSIGN_OR_RETURN(std::string identity, CaptureIdentity(path));
  UploadCaptureResult result;
  std::vector<WireInterval> batch;
  Status send_status = Status::Ok();
  const size_t batch_size = std::max<size_t>(1, uploader.batch_intervals());
  Status split = SplitCapture(
      path, darknet, interval_seconds,
      [&](int64_t start_s, int piece, Summary& summary) -> Status {
        batch.push_back(ToWire(summary, uploader.sensor(), start_s, interval_seconds,
                               identity + "-" + std::to_string(piece)));
        ++result.intervals;
        if (batch.size() >= batch_size) {
          KIZUNA_RETURN_IF_ERROR(uploader.Send(batch));
          batch.clear();
        }
        return Status::Ok();
      },
      &result.split, progress, rules);
  KIZUNA_RETURN_IF_ERROR(split);
  KIZUNA_RETURN_IF_ERROR(uploader.Send(batch));
  return result;
}

}  // namespace kizuna::sensor
