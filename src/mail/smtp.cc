// Send: SMTP through libcurl, one transaction per envelope recipient; the
// server's replies are read from libcurl's protocol trace (debug callback),
// of which only reply lines and command verbs are kept (never credentials).
#include <arpa/inet.h>
#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <memory>
#include <mutex>

#include "mail/mail.h"
#include "mail/mime.h"

namespace kizuna::mail {
namespace {

struct CurlDeleter {
  void operator()(CURL* curl) const { curl_easy_cleanup(curl); }
  void operator()(CURLU* url) const { curl_url_cleanup(url); }
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};
using Easy = std::unique_ptr<CURL, CurlDeleter>;
using Url = std::unique_ptr<CURLU, CurlDeleter>;
using Slist = std::unique_ptr<curl_slist, CurlDeleter>;

constexpr size_t kMaxReply = 1000;

void InitCurl() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

std::string UrlPart(CURLU* url, CURLUPart part) {
  char* value = nullptr;
  if (curl_url_get(url, part, &value, 0) != CURLUE_OK || !value) return "";
  std::string out(value);
  curl_free(value);
  return out;
}

bool IsLoopback(std::string host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
    in6_addr v6{};
    return inet_pton(AF_INET6, host.c_str(), &v6) == 1 && IN6_IS_ADDR_LOOPBACK(&v6);
  }
  std::transform(host.begin(), host.end(), host.begin(), [](char c) {
    return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  });
  if (host == "localhost") return true;  // libcurl resolves it to loopback itself
  in_addr v4{};
  return inet_pton(AF_INET, host.c_str(), &v4) == 1 && (ntohl(v4.s_addr) >> 24) == 127;
}

// The URL libcurl gets and how it uses TLS, or why the config is refused.
struct Plan {
  std::string url;
  std::string where;  // "host:port" for messages
  curl_usessl use_ssl = CURLUSESSL_ALL;
};

Result<Plan> MakePlan(const SmtpConfig& config) {
  Url url(curl_url());
  if (!url) return Internal("smtp: out of memory");
  if (curl_url_set(url.get(), CURLUPART_URL, config.url.c_str(), 0) != CURLUE_OK) {
    return InvalidArgument("smtp url: not a URL: " + config.url);
  }
  std::string scheme = UrlPart(url.get(), CURLUPART_SCHEME);
  std::string host = UrlPart(url.get(), CURLUPART_HOST);
  std::string path = UrlPart(url.get(), CURLUPART_PATH);
  if (scheme != "smtp" && scheme != "smtps") {
    return InvalidArgument("smtp url: the scheme must be smtp:// or smtps://: " + config.url);
  }
  if (host.empty()) return InvalidArgument("smtp url: no host: " + config.url);
  if (!UrlPart(url.get(), CURLUPART_USER).empty() || !UrlPart(url.get(), CURLUPART_QUERY).empty() ||
      !UrlPart(url.get(), CURLUPART_FRAGMENT).empty() || (!path.empty() && path != "/")) {
    return InvalidArgument(
        "smtp url: only scheme://host[:port]; credentials go in username/password, the EHLO name "
        "in ehlo_name: " +
        config.url);
  }
  const bool loopback = IsLoopback(host);
  Plan plan;
  std::string port = UrlPart(url.get(), CURLUPART_PORT);
  plan.where = scheme + "://" + host + (port.empty() ? "" : ":" + port);
  if (scheme == "smtps") {
    plan.use_ssl = CURLUSESSL_ALL;
  } else {
    const bool plain_allowed = loopback ? config.allow_plain_loopback : config.allow_plain_remote;
    if (!config.starttls && !plain_allowed) {
      return InvalidArgument(
          "smtp: plain SMTP to " + host +
          (loopback ? " refused: allow_plain_loopback is off and starttls is off"
                    : " refused: unencrypted SMTP only to loopback (use smtps://, starttls, or "
                      "allow_plain_remote for a relay on a trusted network)"));
    }
    plan.use_ssl = !config.starttls ? CURLUSESSL_NONE
                   : plain_allowed  ? CURLUSESSL_TRY
                                    : CURLUSESSL_ALL;
  }
  if (!config.ehlo_name.empty()) {
    bool name_ok = config.ehlo_name.size() <= 253 &&
                   std::all_of(config.ehlo_name.begin(), config.ehlo_name.end(), [](char c) {
                     return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' ||
                            c == '[' || c == ']' || c == ':';
                   });
    if (!name_ok) return InvalidArgument("smtp ehlo_name: not a host name: " + config.ehlo_name);
    curl_url_set(url.get(), CURLUPART_PATH, ("/" + config.ehlo_name).c_str(), 0);
  }
  plan.url = UrlPart(url.get(), CURLUPART_URL);
  return plan;
}

// What the server said, from libcurl's trace.
struct Transcript {
  std::string command;  // the last command sent: its verb and argument ("RCPT TO:<a@b>")
  std::string partial;  // lines of a multi-line reply still coming
  std::string reply;    // the last complete reply
  int code = 0;         // its code

  void Reset() { *this = Transcript(); }

  bool quit = false;  // QUIT sent: what follows does not say how the mail went

  void Sent(std::string_view line) {
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
    std::string upper;
    for (char c : line.substr(0, 8))
      upper += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (upper.starts_with("QUIT")) {
      quit = true;
      return;
    }
    quit = false;
    static constexpr std::string_view kVerbs[] = {"EHLO", "HELO", "STARTTLS", "MAIL",
                                                  "RCPT", "DATA", "RSET"};
    if (upper.starts_with("AUTH")) {
      command = "AUTH";  // never its argument: it may carry credentials
      return;
    }
    for (std::string_view verb : kVerbs) {
      if (upper.starts_with(verb)) {
        command = std::string(line.substr(0, 300));
        return;
      }
    }
    // Anything else (an AUTH continuation) is not kept.
  }

  void Received(std::string_view data) {
    while (!data.empty() && !quit) {
      size_t eol = data.find('\n');
      std::string_view line = data.substr(0, eol);
      data = eol == std::string_view::npos ? std::string_view() : data.substr(eol + 1);
      while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) line.remove_suffix(1);
      if (line.empty()) continue;
      if (!partial.empty()) partial += " ";
      if (partial.size() < kMaxReply) partial += line.substr(0, kMaxReply);
      bool coded = line.size() >= 3 && std::isdigit(static_cast<unsigned char>(line[0])) &&
                   std::isdigit(static_cast<unsigned char>(line[1])) &&
                   std::isdigit(static_cast<unsigned char>(line[2]));
      if (coded && (line.size() == 3 || line[3] != '-')) {
        code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
        reply = std::move(partial);
        partial.clear();
        if (code == 354) command = "end of data";
      }
    }
  }
};

int Trace(CURL*, curl_infotype type, char* data, size_t size, void* user) {
  auto* transcript = static_cast<Transcript*>(user);
  if (type == CURLINFO_HEADER_IN) transcript->Received(std::string_view(data, size));
  if (type == CURLINFO_HEADER_OUT) transcript->Sent(std::string_view(data, size));
  return 0;  // CURLINFO_TEXT, and data in either direction, are not kept
}

struct Upload {
  std::string_view data;
  size_t pos = 0;
};

size_t Read(char* buffer, size_t size, size_t count, void* user) {
  auto* upload = static_cast<Upload*>(user);
  size_t n = std::min(size * count, upload->data.size() - upload->pos);
  std::copy_n(upload->data.data() + upload->pos, n, buffer);
  upload->pos += n;
  return n;
}

void Fail(SendResult* result, const std::string& detail) {
  for (RecipientResult& r : result->recipients) {
    r.ok = false;
    r.permanent = true;
    r.detail = detail;
  }
}

}  // namespace

std::vector<std::string> SendResult::RetryAddresses() const {
  std::vector<std::string> out;
  for (const RecipientResult& r : recipients) {
    if (!r.ok && !r.permanent) out.push_back(r.address);
  }
  return out;
}

Status CheckConfig(const SmtpConfig& config) {
  KIZUNA_ASSIGN_OR_RETURN(Plan plan, MakePlan(config));
  (void)plan;
  if (!config.from_address.empty()) {
    KIZUNA_RETURN_IF_ERROR(internal::CheckAddress("smtp from_address", config.from_address));
  }
  if (config.timeout_seconds <= 0 || config.timeout_seconds > 3600) {
    return InvalidArgument("smtp timeout_seconds: from 1 to 3600");
  }
  for (const std::string* s : {&config.username, &config.password, &config.ca_file}) {
    if (s->find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos) {
      return InvalidArgument("smtp: a line break or NUL in username, password or ca_file");
    }
  }
  return Status::Ok();
}

SendResult Send(const SmtpConfig& config, const Message& message, std::string_view mime) {
  SendResult result;
  for (const std::string& address : message.to) {
    RecipientResult r;
    r.address = address;
    result.recipients.push_back(std::move(r));
  }
  auto finish = [&result] {
    bool failed = false, transient = false;
    for (const RecipientResult& r : result.recipients) {
      if (r.ok) continue;
      if (!failed) result.detail = r.address + ": " + r.detail;  // the first failure
      failed = true;
      transient = transient || !r.permanent;
    }
    result.ok = !failed && !result.recipients.empty();
    result.permanent = failed && !transient;
    if (result.recipients.empty()) result.detail = "no recipient";
    if (result.ok) result.detail = result.recipients.back().detail;
    return result;
  };

  Status checked = CheckConfig(config);
  Result<Plan> plan = MakePlan(config);
  Result<std::string> from = config.from_address.empty() ? internal::AddressOf(message.from)
                                                         : Result<std::string>(config.from_address);
  if (!checked.ok() || !from.ok()) {
    Fail(&result, (checked.ok() ? from.status() : checked).message());
    return finish();
  }

  InitCurl();
  Easy easy(curl_easy_init());
  if (!easy) {
    Fail(&result, "smtp: curl_easy_init failed");
    return finish();
  }
  CURL* curl = easy.get();
  Transcript transcript;
  Upload upload;
  char error[CURL_ERROR_SIZE] = {};
  const long timeout = config.timeout_seconds;
  const std::string mail_from = "<" + *from + ">";
  curl_easy_setopt(curl, CURLOPT_URL, plan->url.c_str());
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
  curl_easy_setopt(curl, CURLOPT_USE_SSL, static_cast<long>(plan->use_ssl));
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
  if (!config.ca_file.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, config.ca_file.c_str());
  if (!config.username.empty()) {
    curl_easy_setopt(curl, CURLOPT_USERNAME, config.username.c_str());
    curl_easy_setopt(curl, CURLOPT_PASSWORD, config.password.c_str());
  }
  curl_easy_setopt(curl, CURLOPT_MAIL_FROM, mail_from.c_str());
  curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(curl, CURLOPT_READFUNCTION, Read);
  curl_easy_setopt(curl, CURLOPT_READDATA, &upload);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, timeout);
  curl_easy_setopt(curl, CURLOPT_SERVER_RESPONSE_TIMEOUT, timeout);
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, timeout);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(curl, CURLOPT_DEBUGFUNCTION, Trace);
  curl_easy_setopt(curl, CURLOPT_DEBUGDATA, &transcript);
  curl_easy_setopt(curl, CURLOPT_VERBOSE, 1L);  // feeds Trace; nothing is printed

  for (RecipientResult& r : result.recipients) {
    if (Status valid = internal::CheckAddress("to", r.address); !valid.ok()) {
      r.permanent = true;
      r.detail = valid.message();
      continue;
    }
    Slist rcpt(curl_slist_append(nullptr, ("<" + r.address + ">").c_str()));
    curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, rcpt.get());
    upload = Upload{mime, 0};
    transcript.Reset();
    error[0] = '\0';
    CURLcode rc = curl_easy_perform(curl);
    curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, nullptr);
    if (rc == CURLE_OK) {
      r.ok = true;
      r.detail = transcript.reply;
    } else if (transcript.code >= 400) {
      // The server refused: its reply says why, 5xx for good.
      r.permanent = transcript.code >= 500;
      r.detail = (transcript.command.empty() ? "" : transcript.command + ": ") + transcript.reply;
    } else {
      // No refusal from the server: the network, TLS or a timeout.
      r.detail = plan->where + ": " + curl_easy_strerror(rc) + (error[0] ? ": " : "") + error;
      if (!transcript.command.empty()) r.detail += " (after " + transcript.command + ")";
    }
  }
  return finish();
}

}  // namespace kizuna::mail
