#include "tests/support/smtp_sink.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "common/encoding.h"
#include "tests/support/eventually.h"
#include "tests/support/server_process.h"

#ifndef KIZUNA_SMTP_SINK_SCRIPT
#error "KIZUNA_SMTP_SINK_SCRIPT must name tests/support/smtp_sink.py"
#endif

namespace kizuna::test_support {
namespace {

constexpr const char* kPython = "/usr/bin/python3";  // Debian's: sees python3-aiosmtpd

bool EqualsNoCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view Trim(std::string_view s) {
  const size_t first = s.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  return s.substr(first, s.find_last_not_of(" \t\r\n") - first + 1);
}

// The byte written as two hex digits at text[i], i + 1; -1 if they are not.
int HexByte(std::string_view text, size_t i) {
  if (i + 1 >= text.size() || !std::isxdigit(static_cast<unsigned char>(text[i])) ||
      !std::isxdigit(static_cast<unsigned char>(text[i + 1]))) {
    return -1;
  }
  int value = 0;
  std::from_chars(text.data() + i, text.data() + i + 2, value, 16);
  return value;
}

std::string DecodeBase64Loose(std::string_view text) {
  std::string compact;
  for (char c : text) {
    if (!std::isspace(static_cast<unsigned char>(c))) compact += c;
  }
  return Base64Decode(compact).value_or("<bad base64>");
}

std::string DecodeQuotedPrintable(std::string_view text, bool underscore_is_space = false) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '=' && text.substr(i + 1, 2) == "\r\n") {
      i += 2;  // soft line break
    } else if (c == '=' && i + 1 < text.size() && text[i + 1] == '\n') {
      i += 1;
    } else if (c == '=' && HexByte(text, i + 1) >= 0) {
      out += static_cast<char>(HexByte(text, i + 1));
      i += 2;
    } else if (c == '_' && underscore_is_space) {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

std::string PercentDecode(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && HexByte(text, i + 1) >= 0) {
      out += static_cast<char>(HexByte(text, i + 1));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

}  // namespace

std::string MimePart::Header(std::string_view name) const {
  for (const auto& [n, v] : headers) {
    if (EqualsNoCase(n, name)) return v;
  }
  return "";
}

size_t MimePart::HeaderCount(std::string_view name) const {
  return std::count_if(headers.begin(), headers.end(),
                       [&](const auto& h) { return EqualsNoCase(h.first, name); });
}

std::string MimePart::Param(std::string_view header, std::string_view param) const {
  std::string value = Header(header);
  std::string_view rest(value);
  std::string extended;
  while (!rest.empty()) {
    size_t semi = rest.find(';');
    // A quoted value may hold ';'.
    size_t quote = rest.find('"');
    if (quote != std::string_view::npos && quote < semi) {
      size_t close = rest.find('"', quote + 1);
      semi = close == std::string_view::npos ? std::string_view::npos : rest.find(';', close);
    }
    std::string_view item = Trim(rest.substr(0, semi));
    rest = semi == std::string_view::npos ? std::string_view() : rest.substr(semi + 1);
    size_t eq = item.find('=');
    if (eq == std::string_view::npos) continue;
    std::string_view name = Trim(item.substr(0, eq));
    std::string_view v = Trim(item.substr(eq + 1));
    if (EqualsNoCase(name, param)) {
      if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
      return std::string(v);
    }
    if (name.size() == param.size() + 1 && name.back() == '*' &&
        EqualsNoCase(name.substr(0, param.size()), param)) {
      size_t tick = v.find("''");
      extended = PercentDecode(tick == std::string_view::npos ? v : v.substr(tick + 2));
    }
  }
  return extended;
}

std::string MimePart::Decoded() const {
  std::string cte = std::string(Trim(Header("Content-Transfer-Encoding")));
  if (EqualsNoCase(cte, "base64")) return DecodeBase64Loose(body);
  if (EqualsNoCase(cte, "quoted-printable")) return DecodeQuotedPrintable(body);
  return body;
}

MimePart ParseMime(std::string_view raw) {
  MimePart part;
  part.raw = std::string(raw);
  size_t split = raw.find("\r\n\r\n");
  size_t body_at = split == std::string_view::npos ? raw.size() : split + 4;
  if (raw.starts_with("\r\n")) split = 0, body_at = 2;  // no header at all
  std::string_view head = raw.substr(0, split == std::string_view::npos ? raw.size() : split);
  part.body = std::string(raw.substr(std::min(body_at, raw.size())));
  // Unfold: a line that starts with white space continues the field before it.
  size_t pos = 0;
  while (pos < head.size()) {
    size_t eol = head.find("\r\n", pos);
    std::string_view line = head.substr(pos, eol == std::string_view::npos ? eol : eol - pos);
    pos = eol == std::string_view::npos ? head.size() : eol + 2;
    if (!line.empty() && (line[0] == ' ' || line[0] == '\t') && !part.headers.empty()) {
      part.headers.back().second += std::string(line);
      continue;
    }
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    part.headers.emplace_back(std::string(line.substr(0, colon)),
                              std::string(Trim(line.substr(colon + 1))));
  }
  std::string type = part.Header("Content-Type");
  if (type.size() >= 10 && EqualsNoCase(type.substr(0, 10), "multipart/")) {
    const std::string boundary = part.Param("Content-Type", "boundary");
    const std::string delimiter = "--" + boundary;
    std::string_view body(part.body);
    // The first delimiter: at the start of the body or after a CRLF.
    size_t at = 0;
    if (!body.starts_with(delimiter)) {
      at = body.find("\r\n" + delimiter);
      if (at != std::string_view::npos) at += 2;
    }
    while (!boundary.empty() && at != std::string_view::npos) {
      size_t after = at + delimiter.size();
      if (body.substr(after, 2) == "--") break;  // the close delimiter
      size_t start = body.find("\r\n", after);   // transport padding, then CRLF
      if (start == std::string_view::npos) break;
      start += 2;
      size_t next = body.find("\r\n" + delimiter, start);
      if (next == std::string_view::npos) break;  // no close delimiter: not taken
      part.parts.push_back(ParseMime(body.substr(start, next - start)));
      at = next + 2;
    }
  }
  return part;
}

std::string DecodeWords(std::string_view value) {
  std::string out;
  std::string pending_space;
  bool last_was_word = false;
  size_t i = 0;
  while (i < value.size()) {
    if (value.substr(i, 2) == "=?") {
      size_t q1 = value.find('?', i + 2);
      size_t q2 = q1 == std::string_view::npos ? q1 : value.find('?', q1 + 1);
      size_t end = q2 == std::string_view::npos ? q2 : value.find("?=", q2 + 1);
      if (end != std::string_view::npos) {
        char enc = static_cast<char>(std::toupper(static_cast<unsigned char>(value[q1 + 1])));
        std::string_view text = value.substr(q2 + 1, end - q2 - 1);
        if (!last_was_word) out += pending_space;
        pending_space.clear();
        out += enc == 'B' ? DecodeBase64Loose(text) : DecodeQuotedPrintable(text, true);
        last_was_word = true;
        i = end + 2;
        continue;
      }
    }
    char c = value[i++];
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
      if (c == ' ' || c == '\t') pending_space += c;
      continue;
    }
    out += pending_space;
    pending_space.clear();
    out += c;
    last_was_word = false;
  }
  if (!last_was_word) out += pending_space;
  return out;
}

std::unique_ptr<SmtpSink> SmtpSink::Start(const std::string& dir, const SmtpSinkOptions& options,
                                          std::string* error) {
  auto fail = [error](std::string why) -> std::unique_ptr<SmtpSink> {
    if (error) *error = "smtp sink: " + why;
    return nullptr;
  };
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (access(kPython, X_OK) != 0) {
    return fail(std::string(kPython) + " is missing (Debian's python3, with python3-aiosmtpd)");
  }
  std::vector<std::string> args = {kPython, KIZUNA_SMTP_SINK_SCRIPT, "--dir", dir};
  for (const std::string& r : options.refuse) args.insert(args.end(), {"--refuse", r});
  if (options.fail_first)
    args.insert(args.end(), {"--fail-first", std::to_string(options.fail_first)});
  if (options.reply_delay_seconds > 0) {
    args.insert(args.end(), {"--reply-delay", std::to_string(options.reply_delay_seconds)});
  }
  if (options.data_delay_seconds > 0) {
    args.insert(args.end(), {"--data-delay", std::to_string(options.data_delay_seconds)});
  }
  if (!options.tls_cert.empty()) {
    args.insert(args.end(), {"--tls-cert", options.tls_cert, "--tls-key", options.tls_key});
    if (options.smtps) args.push_back("--smtps");
    if (options.require_starttls) args.push_back("--require-starttls");
  }
  if (!options.auth.empty()) args.insert(args.end(), {"--auth", options.auth});
  std::unique_ptr<SmtpSink> sink(new SmtpSink());
  sink->dir_ = dir;
  sink->smtps_ = options.smtps && !options.tls_cert.empty();
  ServerProcess process;
  std::string why;
  if (!StartServerProcess(args, dir + "/port", dir + "/sink.log", &process, &why)) return fail(why);
  sink->pid_ = process.pid;
  sink->port_ = process.port;
  return sink;
}

SmtpSink::~SmtpSink() { Stop(); }

std::string SmtpSink::url() const {
  return std::string(smtps_ ? "smtps" : "smtp") + "://127.0.0.1:" + std::to_string(port_);
}

void SmtpSink::Stop() { StopServerProcess(&pid_); }

std::vector<ReceivedMail> SmtpSink::Messages() const {
  std::vector<ReceivedMail> out;
  for (int n = 1;; ++n) {
    const std::string base = dir_ + "/" + std::to_string(n);
    struct stat st {};
    if (stat((base + ".eml").c_str(), &st) != 0) break;
    ReceivedMail mail;
    mail.number = n;
    mail.raw = ReadFileOrEmpty(base + ".eml");
    mail.message = ParseMime(mail.raw);
    boost::system::error_code ec;
    boost::json::value envelope = boost::json::parse(ReadFileOrEmpty(base + ".json"), ec);
    if (!ec && envelope.is_object()) {
      const auto& o = envelope.as_object();
      if (const auto* from = o.if_contains("mail_from"); from && from->is_string()) {
        mail.mail_from = std::string(from->as_string());
      }
      if (const auto* to = o.if_contains("rcpt_tos"); to && to->is_array()) {
        for (const auto& r : to->as_array()) {
          if (r.is_string()) mail.rcpt_to.emplace_back(r.as_string());
        }
      }
      if (const auto* tls = o.if_contains("tls"); tls && tls->is_bool()) mail.tls = tls->as_bool();
    }
    out.push_back(std::move(mail));
  }
  return out;
}

bool SmtpSink::WaitForFile(const std::string& name, std::chrono::milliseconds timeout) const {
  const std::string path = dir_ + "/" + name;
  return Eventually(
      [&] {
        struct stat st {};
        return stat(path.c_str(), &st) == 0;
      },
      timeout);
}

bool SmtpSink::WaitForMessages(size_t n, std::chrono::milliseconds timeout) const {
  return n == 0 || WaitForFile(std::to_string(n) + ".eml", timeout);
}

bool SmtpSink::WaitForData(size_t n, std::chrono::milliseconds timeout) const {
  return n == 0 || WaitForFile("data-" + std::to_string(n), timeout);
}

}  // namespace kizuna::test_support
