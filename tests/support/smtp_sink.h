// Test support: a real SMTP server (tests/support/smtp_sink.py, aiosmtpd, run
// with Debian's /usr/bin/python3) on a free loopback port, and the messages
// it received read back, parsed enough for tests (header fields, MIME parts,
// transfer encodings, RFC 2047 words).
//
// The server can refuse given recipients (550), answer 451 to the first N
// messages, hold its answer to DATA after keeping a message (a client killed
// meanwhile delivered without knowing), offer STARTTLS or SMTPS with a test
// certificate and require AUTH. The process dies with the thread that started
// it (PR_SET_PDEATHSIG) and is stopped (SIGTERM, then SIGKILL) by Stop() or
// the destructor. Not thread-safe; use it from the test's thread.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kizuna::test_support {

// One MIME entity (a whole message or a part of a multipart).
struct MimePart {
  // The entity's bytes exactly as received: its header, the empty line, its
  // body. For a part of a multipart, what lies between "--boundary CRLF" and
  // the CRLF before the next delimiter: what a PGP/MIME signature covers.
  std::string raw;
  std::vector<std::pair<std::string, std::string>> headers;  // unfolded, in order
  std::string body;                                          // still transfer-encoded
  std::vector<MimePart> parts;                               // of a multipart/*, in order

  // The value of the first field called `name` (any case), "" if none.
  std::string Header(std::string_view name) const;
  // How many fields are called `name`.
  size_t HeaderCount(std::string_view name) const;
  // A parameter of a field ("boundary" of Content-Type), unquoted; an RFC
  // 2231 `param*=UTF-8''…` is decoded. "" if none.
  std::string Param(std::string_view header, std::string_view param) const;
  // The body with its Content-Transfer-Encoding (base64, quoted-printable) undone.
  std::string Decoded() const;
};

MimePart ParseMime(std::string_view raw);

// RFC 2047 encoded-words (B and Q, UTF-8) decoded; the white space between
// two adjacent words dropped.
std::string DecodeWords(std::string_view value);

struct ReceivedMail {
  int number = 0;  // 1, 2, … in the order the server kept them
  std::string raw;
  std::string mail_from;             // envelope
  std::vector<std::string> rcpt_to;  // envelope
  bool tls = false;                  // came over STARTTLS or SMTPS
  MimePart message;
};

struct SmtpSinkOptions {
  std::vector<std::string> refuse;  // answered 550 at RCPT
  int fail_first = 0;               // the first N messages answered 451 at the end of DATA
  double data_delay_seconds = 0;    // the wait before answering a kept message's DATA
  // The wait before answering DATA, keeping the message only if the client
  // is still connected then (a client killed meanwhile delivered nothing).
  double reply_delay_seconds = 0;
  std::string tls_cert, tls_key;  // PEM (MakeTestCertificate): offer STARTTLS
  bool smtps = false;             // with the certificate: TLS from the first byte instead
  bool require_starttls = false;
  std::string auth;  // "user:password": AUTH required (over TLS unless smtps)
};

class SmtpSink {
 public:
  // Starts the server keeping its messages in `dir` (created if needed) and
  // waits until it accepts connections. nullptr, and `*error` says why
  // (python3-aiosmtpd missing, …), when it does not come up within 20 s.
  static std::unique_ptr<SmtpSink> Start(const std::string& dir,
                                         const SmtpSinkOptions& options = {},
                                         std::string* error = nullptr);
  ~SmtpSink();
  SmtpSink(const SmtpSink&) = delete;
  SmtpSink& operator=(const SmtpSink&) = delete;

  int port() const { return port_; }
  // "smtp://127.0.0.1:PORT", or smtps:// when started so.
  std::string url() const;
  const std::string& dir() const { return dir_; }
  // SIGTERM, then SIGKILL after 10 s; waits for the process. Idempotent.
  void Stop();

  // The messages kept so far, in order.
  std::vector<ReceivedMail> Messages() const;
  // Waits until at least `n` messages are kept; false after `timeout`.
  bool WaitForMessages(size_t n,
                       std::chrono::milliseconds timeout = std::chrono::seconds(20)) const;
  // Waits until the server has received the data of `n` messages (counted
  // when the DATA ends, before it answers: with reply_delay_seconds, the
  // n-th is then in flight, not yet kept).
  bool WaitForData(size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(20)) const;

 private:
  SmtpSink() = default;
  bool WaitForFile(const std::string& name, std::chrono::milliseconds timeout) const;
  std::string dir_;
  bool smtps_ = false;
  int port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace kizuna::test_support
