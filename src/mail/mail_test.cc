// E-mail delivery against a real SMTP server (tests/support/smtp_sink.py,
// aiosmtpd) and a real gpg: what arrives, how failures are classified, the
// plain-text rule, TLS verification, PGP/MIME signatures checked by gpg the
// way a mail client checks them. Nothing is skipped: without
// python3-aiosmtpd or gpg the tests fail and say so.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <sstream>

#include "common/encoding.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "mail/mail.h"
#include "mail/mime.h"
#include "tests/support/smtp_sink.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_certificate.h"

namespace kizuna::mail {
namespace {

using test_support::ParseMime;
using test_support::SmtpSink;
using test_support::SmtpSinkOptions;
using ::testing::HasSubstr;

using test_support::TempDir;

struct Ran {
  int exit_code = -1;
  std::string out;
};

// Runs a shell command; its stdout and stderr together.
Ran Shell(const std::string& command) {
  Ran ran;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (!pipe) return ran;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, pipe)) > 0) ran.out.append(buf, n);
  int status = pclose(pipe);
  ran.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return ran;
}

void WriteFile(const std::string& path, const std::string& content) {
  std::ofstream(path, std::ios::binary) << content;
}

// A CSV as the alerting module attaches it: CRLF and LF lines, UTF-8, a line
// that is only ".", one starting "From ", trailing white space.
const std::string kCsv =
    "timestamp,ip,asn,country,malware\r\n"
    "2025-01-02T03:04:05Z,192.0.2.1,64500,JP,mirai \r\n"
    ".\r\n"
    "From the sensor,198.51.100.7,64501,JP,\"東京, 渋谷\"\n"
    "2025-01-02T03:04:06Z,2001:db8::1,64502,JP,emotet\t\n";

Message ReportMessage(const std::vector<std::string>& to) {
  Message m;
  m.from = "kizuna JP-CERT <alerts@example.jp>";
  m.to = to;
  m.subject = "[kizuna] Infected hosts in AS64500, 2025-01-02";
  m.text = "Dear abuse team,\n\nattached are the infected hosts we saw in your network.\n";
  m.attachments.push_back({"infected-2025-01-02.csv", "text/csv; charset=utf-8", kCsv});
  m.message_id = "<report-42.20250102@node.example.jp>";
  m.headers.push_back({"X-Kizuna-Report", "report--42"});
  m.date_us = 1735787045000000;  // 2025-01-02T03:04:05Z
  return m;
}

SmtpConfig SinkConfig(const SmtpSink& sink) {
  SmtpConfig config;
  config.url = sink.url();
  config.from_address = "bounces@example.jp";
  config.timeout_seconds = 10;
  return config;
}

std::unique_ptr<SmtpSink> StartSink(const std::string& dir, const SmtpSinkOptions& options = {}) {
  std::string error;
  auto sink = SmtpSink::Start(dir, options, &error);
  EXPECT_NE(sink, nullptr) << error;
  return sink;
}

// Every line ends CRLF, is at most 998 characters, and every byte is 7-bit.
void ExpectWireSafe(const std::string& mime) {
  size_t start = 0;
  for (size_t i = 0; i < mime.size(); ++i) {
    ASSERT_LT(static_cast<unsigned char>(mime[i]), 0x80) << "8-bit byte at " << i;
    if (mime[i] == '\n') {
      ASSERT_GT(i, 0u);
      ASSERT_EQ(mime[i - 1], '\r') << "bare LF at " << i;
      EXPECT_LE(i - 1 - start, 998u);
      start = i + 1;
    } else if (mime[i] == '\r') {
      ASSERT_TRUE(i + 1 < mime.size() && mime[i + 1] == '\n') << "bare CR at " << i;
    }
  }
}

TEST(MailMime, QuotedPrintableRoundTripsWithShortLines) {
  std::string text = std::string(200, 'a') + " \r\n=x\t\r\nFrom here\r\n.\r\n" + "é" +
                     std::string(100, '=') + "\r\nend";
  std::string qp = internal::QuotedPrintable(text);
  ExpectWireSafe(qp + "\r\n");
  std::istringstream lines(qp);
  for (std::string line; std::getline(lines, line);) EXPECT_LE(line.size(), 77u) << line;
  EXPECT_THAT(qp, HasSubstr("=20\r\n"));  // trailing white space encoded
  EXPECT_THAT(qp, HasSubstr("\r\n=46rom here"));
  EXPECT_THAT(qp, HasSubstr("\r\n=2E\r\n"));
  test_support::MimePart part =
      ParseMime("Content-Transfer-Encoding: quoted-printable\r\n\r\n" + qp);
  EXPECT_EQ(part.Decoded(), text);
}

TEST(MailMime, EncodedWordsAreShortAndSplitBetweenCharacters) {
  std::string subject;
  for (int i = 0; i < 40; ++i) subject += "感染";
  std::string words = internal::EncodeWords(subject);
  std::istringstream lines(words);
  for (std::string line; std::getline(lines, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    EXPECT_LE(line.size(), 76u) << line;  // a 75-character word after the folding space
  }
  EXPECT_EQ(test_support::DecodeWords(words), subject);
}

TEST(MailMime, MessageIsWireSafeAndComplete) {
  Message m = ReportMessage({"abuse@isp.example", "noc@isp.example"});
  m.subject = std::string(30, 'x') + " " + std::string(30, 'y') + " " + std::string(30, 'z');
  Result<std::string> mime = BuildMime(m);
  ASSERT_TRUE(mime.ok()) << mime.status().ToString();
  ExpectWireSafe(*mime);
  test_support::MimePart message = ParseMime(*mime);
  EXPECT_EQ(message.Header("From"), "kizuna JP-CERT <alerts@example.jp>");
  EXPECT_EQ(message.Header("To"), "abuse@isp.example, noc@isp.example");
  EXPECT_EQ(message.Header("Subject"), m.subject);  // folded, unfolded back
  EXPECT_EQ(message.Header("Date"), "Thu, 02 Jan 2025 03:04:05 +0000");
  EXPECT_EQ(message.Header("Message-ID"), m.message_id);
  EXPECT_EQ(message.Header("MIME-Version"), "1.0");
  EXPECT_EQ(message.Header("Auto-Submitted"), "auto-generated");
  EXPECT_EQ(message.Header("X-Kizuna-Report"), "report--42");
  ASSERT_EQ(message.parts.size(), 2u);
  EXPECT_EQ(message.parts[1].Decoded(), kCsv);
  // Base64 in lines of 76.
  std::istringstream lines(message.parts[1].body);
  for (std::string line; std::getline(lines, line);) EXPECT_LE(line.size(), 77u);

  // Without attachments: text/plain alone.
  m.attachments.clear();
  Result<std::string> plain = BuildMime(m);
  ASSERT_TRUE(plain.ok());
  test_support::MimePart text = ParseMime(*plain);
  EXPECT_THAT(text.Header("Content-Type"), HasSubstr("text/plain; charset=utf-8"));
  EXPECT_EQ(text.Decoded(), internal::CanonicalLineEnds(m.text));
}

TEST(MailMime, HeaderInjectionRefused) {
  struct Case {
    const char* name;
    std::function<void(Message&)> change;
  };
  const std::vector<Case> cases = {
      {"subject CRLF", [](Message& m) { m.subject = "Report\r\nBcc: victim@example.org"; }},
      {"subject LF", [](Message& m) { m.subject = "Report\nBcc: victim@example.org"; }},
      {"subject CR", [](Message& m) { m.subject = "Report\rBcc: victim@example.org"; }},
      {"subject NUL", [](Message& m) { m.subject = std::string("Report\0x", 8); }},
      {"from", [](Message& m) { m.from = "a <alerts@example.jp>\r\nBcc: v@example.org"; }},
      {"to", [](Message& m) { m.to = {"abuse@isp.example\r\nBcc: v@example.org"}; }},
      {"to with a space", [](Message& m) { m.to = {"abuse@isp.example v@example.org"}; }},
      {"extra value",
       [](Message& m) {
         m.headers.push_back({"X-Report", "a\r\nBcc: v@x.org"});
       }},
      {"extra name",
       [](Message& m) {
         m.headers.push_back({"Bcc: v@x.org\r\nX-A", "1"});
       }},
      {"extra name colon",
       [](Message& m) {
         m.headers.push_back({"X-A:", "1"});
       }},
      {"extra is ours",
       [](Message& m) {
         m.headers.push_back({"subject", "other"});
       }},
      {"extra Bcc",
       [](Message& m) {
         m.headers.push_back({"Bcc", "v@example.org"});
       }},
      {"message id", [](Message& m) { m.message_id = "<a@b>\r\nBcc: v@example.org"; }},
      {"no message id", [](Message& m) { m.message_id.clear(); }},
      {"file name", [](Message& m) { m.attachments[0].filename = "a.csv\"\r\nX-A: 1"; }},
      {"file path", [](Message& m) { m.attachments[0].filename = "../etc/passwd"; }},
      {"content type", [](Message& m) { m.attachments[0].content_type = "text/csv\r\nX-A: 1"; }},
      {"bad UTF-8", [](Message& m) { m.subject = "\xc3\x28"; }},
      {"no recipient", [](Message& m) { m.to.clear(); }},
  };
  for (const Case& c : cases) {
    Message m = ReportMessage({"abuse@isp.example"});
    c.change(m);
    Result<std::string> mime = BuildMime(m);
    ASSERT_FALSE(mime.ok()) << c.name;
    EXPECT_EQ(mime.status().code(), Code::kInvalidArgument) << c.name;
  }
}

TEST(MailSend, AttachmentArrivesByteIdentical) {
  TempDir dir;
  auto sink = StartSink(dir.path() + "/sink");
  ASSERT_NE(sink, nullptr);
  Message m = ReportMessage({"abuse@isp.example"});
  Result<std::string> mime = BuildMime(m);
  ASSERT_TRUE(mime.ok()) << mime.status().ToString();
  SendResult sent = Send(SinkConfig(*sink), m, *mime);
  ASSERT_TRUE(sent.ok) << sent.detail;
  EXPECT_THAT(sent.detail, HasSubstr("250"));
  ASSERT_EQ(sent.recipients.size(), 1u);
  EXPECT_TRUE(sent.recipients[0].ok);

  auto mails = sink->Messages();
  ASSERT_EQ(mails.size(), 1u);
  const auto& mail = mails[0];
  EXPECT_EQ(mail.raw, *mime);  // byte for byte, dot-stuffing undone
  EXPECT_EQ(mail.mail_from, "bounces@example.jp");
  EXPECT_EQ(mail.rcpt_to, std::vector<std::string>{"abuse@isp.example"});
  EXPECT_FALSE(mail.tls);
  EXPECT_EQ(mail.message.Header("Message-ID"), m.message_id);
  EXPECT_THAT(mail.message.Header("Content-Type"), HasSubstr("multipart/mixed"));
  ASSERT_EQ(mail.message.parts.size(), 2u);
  EXPECT_EQ(mail.message.parts[0].Decoded(), internal::CanonicalLineEnds(m.text));
  const auto& csv = mail.message.parts[1];
  EXPECT_THAT(csv.Header("Content-Type"), HasSubstr("text/csv; charset=utf-8"));
  EXPECT_EQ(csv.Param("Content-Disposition", "filename"), "infected-2025-01-02.csv");
  EXPECT_EQ(csv.Header("Content-Transfer-Encoding"), "base64");
  EXPECT_EQ(csv.Decoded(), kCsv);
}

TEST(MailSend, NonAsciiSubjectBodyNamesRoundTrip) {
  TempDir dir;
  auto sink = StartSink(dir.path() + "/sink");
  ASSERT_NE(sink, nullptr);
  Message m = ReportMessage({"abuse@isp.example"});
  m.from = "JPCERT/CC 通報 <alerts@example.jp>";
  m.subject =
      "【kizuna】感染ホストのお知らせ AS64500 — 2025年1月2日 (Ünïcödé, émoji "
      "🛡️)";
  m.text =
      "ご担当者様\n\n貴ネットワーク内で感染が疑われるホストを添付いたします。\n"
      "Grüße, ça va? 🛡️\n";
  m.attachments[0].filename = "感染ホスト-2025-01-02.csv";
  m.headers.push_back({"X-Kizuna-Team", "日本 CSIRT"});
  Result<std::string> mime = BuildMime(m);
  ASSERT_TRUE(mime.ok()) << mime.status().ToString();
  ExpectWireSafe(*mime);
  SendResult sent = Send(SinkConfig(*sink), m, *mime);
  ASSERT_TRUE(sent.ok) << sent.detail;

  auto mails = sink->Messages();
  ASSERT_EQ(mails.size(), 1u);
  const auto& message = mails[0].message;
  EXPECT_EQ(test_support::DecodeWords(message.Header("Subject")), m.subject);
  EXPECT_EQ(test_support::DecodeWords(message.Header("From")), m.from);
  EXPECT_EQ(test_support::DecodeWords(message.Header("X-Kizuna-Team")), "日本 CSIRT");
  ASSERT_EQ(message.parts.size(), 2u);
  EXPECT_EQ(message.parts[0].Decoded(), internal::CanonicalLineEnds(m.text));
  EXPECT_EQ(message.parts[1].Param("Content-Disposition", "filename"), m.attachments[0].filename);
  EXPECT_EQ(message.parts[1].Decoded(), kCsv);
}

TEST(MailSend, RefusedRecipientIsPermanentWithTheServersReply) {
  TempDir dir;
  SmtpSinkOptions options;
  options.refuse = {"nobody@isp.example"};
  auto sink = StartSink(dir.path() + "/sink", options);
  ASSERT_NE(sink, nullptr);
  Message m = ReportMessage({"abuse@isp.example", "nobody@isp.example"});
  Result<std::string> mime = BuildMime(m);
  ASSERT_TRUE(mime.ok());
  SendResult sent = Send(SinkConfig(*sink), m, *mime);
  EXPECT_FALSE(sent.ok);
  EXPECT_TRUE(sent.permanent);
  EXPECT_THAT(sent.detail, HasSubstr("nobody@isp.example"));
  EXPECT_THAT(sent.detail, HasSubstr("550 5.1.1"));
  EXPECT_THAT(sent.detail, HasSubstr("Recipient address rejected"));
  ASSERT_EQ(sent.recipients.size(), 2u);
  EXPECT_TRUE(sent.recipients[0].ok) << sent.recipients[0].detail;
  EXPECT_FALSE(sent.recipients[1].ok);
  EXPECT_TRUE(sent.recipients[1].permanent);
  EXPECT_THAT(sent.recipients[1].detail, HasSubstr("RCPT TO:<nobody@isp.example>"));
  EXPECT_TRUE(sent.RetryAddresses().empty());
  // The accepted address got the report all the same, once.
  auto mails = sink->Messages();
  ASSERT_EQ(mails.size(), 1u);
  EXPECT_EQ(mails[0].rcpt_to, std::vector<std::string>{"abuse@isp.example"});
}

TEST(MailSend, TemporaryFailureIsTransientAndARetrySucceeds) {
  TempDir dir;
  SmtpSinkOptions options;
  options.fail_first = 1;
  auto sink = StartSink(dir.path() + "/sink", options);
  ASSERT_NE(sink, nullptr);
  Message m = ReportMessage({"abuse@isp.example", "noc@isp.example"});
  Result<std::string> mime = BuildMime(m);
  ASSERT_TRUE(mime.ok());
  const SmtpConfig config = SinkConfig(*sink);
  SendResult first = Send(config, m, *mime);
  EXPECT_FALSE(first.ok);
  EXPECT_FALSE(first.permanent);
  EXPECT_THAT(first.detail, HasSubstr("451 4.3.0"));
  EXPECT_THAT(first.detail, HasSubstr("end of data"));
  // The first address met the 451, the second was delivered.
  EXPECT_EQ(first.RetryAddresses(), std::vector<std::string>{"abuse@isp.example"});
  ASSERT_EQ(sink->Messages().size(), 1u);

  Message retry = m;
  retry.to = first.RetryAddresses();
  SendResult second = Send(config, retry, *mime);  // the same MIME: the same Message-ID
  ASSERT_TRUE(second.ok) << second.detail;
  auto mails = sink->Messages();
  ASSERT_EQ(mails.size(), 2u);
  EXPECT_EQ(mails[0].rcpt_to, std::vector<std::string>{"noc@isp.example"});
  EXPECT_EQ(mails[1].rcpt_to, std::vector<std::string>{"abuse@isp.example"});
  EXPECT_EQ(mails[1].raw, *mime);
}

TEST(MailSend, NothingListeningIsTransient) {
  // A port that was free a moment ago.
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  SmtpConfig config;
  config.url = "smtp://127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
  config.timeout_seconds = 5;
  Message m = ReportMessage({"abuse@isp.example"});
  SendResult sent = Send(config, m, *BuildMime(m));
  EXPECT_FALSE(sent.ok);
  EXPECT_FALSE(sent.permanent);
  EXPECT_THAT(sent.detail, HasSubstr(config.url));
  EXPECT_THAT(sent.detail, HasSubstr("connect"));
  EXPECT_EQ(sent.RetryAddresses(), m.to);
}

TEST(MailSend, SlowServerTimesOutTransient) {
  TempDir dir;
  SmtpSinkOptions options;
  options.data_delay_seconds = 4;
  auto sink = StartSink(dir.path() + "/sink", options);
  ASSERT_NE(sink, nullptr);
  SmtpConfig config = SinkConfig(*sink);
  config.timeout_seconds = 1;
  Message m = ReportMessage({"abuse@isp.example"});
  SendResult sent = Send(config, m, *BuildMime(m));
  EXPECT_FALSE(sent.ok);
  EXPECT_FALSE(sent.permanent);
  EXPECT_THAT(sent.detail, HasSubstr("imeout"));
  // The server kept it before it answered: a retry delivers a repeat with
  // the same Message-ID, which the receiver can drop.
  EXPECT_EQ(sink->Messages().size(), 1u);
}

TEST(MailConfig, PlainSmtpOnlyOnLoopback) {
  SmtpConfig config;
  config.from_address = "alerts@example.jp";
  auto check = [&config](const std::string& url) {
    config.url = url;
    return CheckConfig(config);
  };
  // STARTTLS (required off loopback) and SMTPS are fine anywhere.
  EXPECT_TRUE(check("smtp://mail.example.net").ok());
  EXPECT_TRUE(check("smtps://mail.example.net:465").ok());
  EXPECT_TRUE(check("smtp://127.0.0.1:2525").ok());
  config.starttls = false;
  Status remote = check("smtp://mail.example.net:25");
  EXPECT_EQ(remote.code(), Code::kInvalidArgument);
  EXPECT_THAT(remote.message(), HasSubstr("only to loopback"));
  EXPECT_FALSE(check("smtp://192.0.2.10").ok());
  EXPECT_FALSE(check("smtp://[2001:db8::1]").ok());
  EXPECT_TRUE(check("smtp://127.0.0.1:2525").ok());
  EXPECT_TRUE(check("smtp://127.8.9.10").ok());
  EXPECT_TRUE(check("smtp://[::1]:2525").ok());
  EXPECT_TRUE(check("smtp://localhost:2525").ok());
  EXPECT_TRUE(check("smtps://mail.example.net").ok());
  config.allow_plain_loopback = false;
  EXPECT_FALSE(check("smtp://127.0.0.1:2525").ok());
  config.allow_plain_remote = true;  // the operator's explicit choice
  EXPECT_TRUE(check("smtp://mail.example.net:25").ok());
  config = SmtpConfig{};
  EXPECT_FALSE(check("http://mail.example.net").ok());
  EXPECT_FALSE(check("smtp://user:pw@mail.example.net").ok());
  EXPECT_FALSE(check("smtp://mail.example.net/ehlo.example").ok());
  EXPECT_FALSE(check("mail.example.net").ok());
  config.timeout_seconds = 0;
  EXPECT_FALSE(check("smtp://mail.example.net").ok());

  // Send refuses before it connects: a permanent failure, the rule in detail.
  SmtpConfig plain;
  plain.url = "smtp://mail.example.net:25";
  plain.starttls = false;
  Message m = ReportMessage({"abuse@isp.example"});
  SendResult sent = Send(plain, m, *BuildMime(m));
  EXPECT_FALSE(sent.ok);
  EXPECT_TRUE(sent.permanent);
  EXPECT_THAT(sent.detail, HasSubstr("only to loopback"));
}

class MailTls : public ::testing::Test {
 protected:
  void SetUp() override { cert_ = test_support::MakeTestCertificate(dir_.path()); }
  TempDir dir_;
  test_support::TestCertificate cert_;
};

TEST_F(MailTls, StartTlsIsUsedAndVerified) {
  SmtpSinkOptions options;
  options.tls_cert = cert_.cert_file;
  options.tls_key = cert_.key_file;
  options.require_starttls = true;
  options.auth = "kizuna:s3cret";
  auto sink = StartSink(dir_.path() + "/sink", options);
  ASSERT_NE(sink, nullptr);
  Message m = ReportMessage({"abuse@isp.example"});
  std::string mime = *BuildMime(m);
  SmtpConfig config = SinkConfig(*sink);
  config.username = "kizuna";
  config.password = "s3cret";

  // The server's certificate is not from a CA we trust: refused, transient.
  SendResult untrusted = Send(config, m, mime);
  EXPECT_FALSE(untrusted.ok);
  EXPECT_FALSE(untrusted.permanent);
  EXPECT_THAT(untrusted.detail, HasSubstr("certificate"));
  EXPECT_TRUE(sink->Messages().empty());

  config.ca_file = cert_.cert_file;
  SendResult sent = Send(config, m, mime);
  ASSERT_TRUE(sent.ok) << sent.detail;
  auto mails = sink->Messages();
  ASSERT_EQ(mails.size(), 1u);
  EXPECT_TRUE(mails[0].tls);
  EXPECT_EQ(mails[0].message.parts.at(1).Decoded(), kCsv);

  // Wrong credentials: the server's 535 is permanent, the password not in the detail.
  config.password = "wrong-password";
  SendResult denied = Send(config, m, mime);
  EXPECT_FALSE(denied.ok);
  EXPECT_TRUE(denied.permanent);
  EXPECT_THAT(denied.detail, HasSubstr("535"));
  EXPECT_THAT(denied.detail, ::testing::Not(HasSubstr("wrong-password")));
  EXPECT_THAT(denied.detail, ::testing::Not(HasSubstr(Base64Encode("wrong-password"))));
}

TEST_F(MailTls, SmtpsIsVerified) {
  SmtpSinkOptions options;
  options.tls_cert = cert_.cert_file;
  options.tls_key = cert_.key_file;
  options.smtps = true;
  auto sink = StartSink(dir_.path() + "/sink", options);
  ASSERT_NE(sink, nullptr);
  ASSERT_THAT(sink->url(), HasSubstr("smtps://"));
  Message m = ReportMessage({"abuse@isp.example"});
  std::string mime = *BuildMime(m);
  SmtpConfig config = SinkConfig(*sink);
  SendResult untrusted = Send(config, m, mime);
  EXPECT_FALSE(untrusted.ok);
  EXPECT_FALSE(untrusted.permanent);
  config.ca_file = cert_.cert_file;
  SendResult sent = Send(config, m, mime);
  ASSERT_TRUE(sent.ok) << sent.detail;
  ASSERT_EQ(sink->Messages().size(), 1u);
  EXPECT_TRUE(sink->Messages()[0].tls);
}

// A GnuPG home with an Ed25519 signing key made for the test.
class MailSign : public ::testing::Test {
 protected:
  void SetUp() override {
    Ran which = Shell("command -v gpg");
    ASSERT_EQ(which.exit_code, 0) << "gpg is missing: apt-get install gnupg";
    home_ = dir_.path() + "/gnupg";
    std::filesystem::create_directory(home_);
    std::filesystem::permissions(home_, std::filesystem::perms::owner_all);
    Ran gen = Shell(Gpg() +
                    " --batch --passphrase '' --quick-gen-key 'kizuna test <alerts@example.jp>'"
                    " ed25519 sign never");
    ASSERT_EQ(gen.exit_code, 0) << gen.out;
    Ran list = Shell(Gpg() + " --batch --with-colons --list-secret-keys");
    ASSERT_EQ(list.exit_code, 0) << list.out;
    size_t at = list.out.find("\nfpr:");
    ASSERT_NE(at, std::string::npos) << list.out;
    std::string line = list.out.substr(at + 1, list.out.find('\n', at + 1) - at - 1);
    fingerprint_ = line.substr(line.rfind(':', line.size() - 2) + 1);
    if (!fingerprint_.empty() && fingerprint_.back() == ':') fingerprint_.pop_back();
    ASSERT_EQ(fingerprint_.size(), 40u) << line;
  }
  void TearDown() override { Shell("gpgconf --homedir '" + home_ + "' --kill gpg-agent"); }

  std::string Gpg() const { return "gpg --homedir '" + home_ + "'"; }
  // gpg --verify on a detached signature, with its status lines.
  Ran Verify(const std::string& signed_text, const std::string& signature) {
    WriteFile(dir_.path() + "/signed.txt", signed_text);
    WriteFile(dir_.path() + "/signature.asc", signature);
    return Shell(Gpg() + " --batch --status-fd 1 --verify '" + dir_.path() + "/signature.asc' '" +
                 dir_.path() + "/signed.txt'");
  }

  TempDir dir_;
  std::string home_;
  std::string fingerprint_;
};

TEST_F(MailSign, SignatureVerifiesAsAMailClientChecksIt) {
  auto sink = StartSink(dir_.path() + "/sink");
  ASSERT_NE(sink, nullptr);
  Message m = ReportMessage({"abuse@isp.example"});
  m.text = "ご担当者様\n\ntrailing space \nFrom the sensor\n.\n";
  Result<std::string> mime = BuildSignedMime(m, Signer{home_, fingerprint_, ""});
  ASSERT_TRUE(mime.ok()) << mime.status().ToString();
  ExpectWireSafe(*mime);
  SendResult sent = Send(SinkConfig(*sink), m, *mime);
  ASSERT_TRUE(sent.ok) << sent.detail;

  auto mails = sink->Messages();
  ASSERT_EQ(mails.size(), 1u);
  const auto& message = mails[0].message;
  EXPECT_EQ(message.Header("Message-ID"), m.message_id);
  EXPECT_THAT(message.Header("Content-Type"), HasSubstr("multipart/signed"));
  EXPECT_EQ(message.Param("Content-Type", "protocol"), "application/pgp-signature");
  EXPECT_THAT(message.Param("Content-Type", "micalg"), ::testing::StartsWith("pgp-sha"));
  ASSERT_EQ(message.parts.size(), 2u);
  const auto& content = message.parts[0];
  const auto& signature = message.parts[1];
  EXPECT_THAT(signature.Header("Content-Type"), HasSubstr("application/pgp-signature"));
  ASSERT_EQ(content.parts.size(), 2u);
  EXPECT_EQ(content.parts[0].Decoded(), internal::CanonicalLineEnds(m.text));
  EXPECT_EQ(content.parts[1].Decoded(), kCsv);

  // What a mail client verifies: the first part's bytes as received.
  Ran good = Verify(content.raw, signature.Decoded());
  EXPECT_EQ(good.exit_code, 0) << good.out;
  EXPECT_THAT(good.out, HasSubstr("[GNUPG:] VALIDSIG " + fingerprint_));
  // The hash gpg names is the one micalg announced.
  std::string micalg = message.Param("Content-Type", "micalg");
  static const std::map<std::string, std::string> kHashIds = {
      {"pgp-sha256", "8"}, {"pgp-sha384", "9"}, {"pgp-sha512", "10"}, {"pgp-sha224", "11"}};
  ASSERT_TRUE(kHashIds.count(micalg)) << micalg;
  size_t at = good.out.find("VALIDSIG ");
  std::istringstream fields(good.out.substr(at, good.out.find('\n', at) - at));
  std::vector<std::string> f{std::istream_iterator<std::string>(fields), {}};
  ASSERT_GE(f.size(), 9u);
  EXPECT_EQ(f[8], kHashIds.at(micalg)) << good.out;

  // Altered after signing: one character of the CSV's base64, a header of
  // the part, a line end: each fails.
  std::string altered = content.raw;
  size_t b64 = altered.rfind("\r\n\r\n") + 4;
  altered[b64] = altered[b64] == 'A' ? 'B' : 'A';
  Ran bad = Verify(altered, signature.Decoded());
  EXPECT_NE(bad.exit_code, 0) << bad.out;
  EXPECT_THAT(bad.out, HasSubstr("BADSIG"));
  std::string header_changed = content.raw;
  header_changed.replace(0, 12, "content-type");
  EXPECT_NE(Verify(header_changed, signature.Decoded()).exit_code, 0);
  EXPECT_NE(Verify(content.raw + "\r\n", signature.Decoded()).exit_code, 0);
}

TEST_F(MailSign, UnknownKeyIsAnError) {
  Message m = ReportMessage({"abuse@isp.example"});
  Result<std::string> mime = BuildSignedMime(m, Signer{home_, std::string(40, 'A'), ""});
  ASSERT_FALSE(mime.ok());
  EXPECT_THAT(mime.status().message(), HasSubstr("no secret key"));
  EXPECT_FALSE(BuildSignedMime(m, Signer{home_, "not hex", ""}).ok());
  Message bad = m;
  bad.subject = "a\r\nBcc: v@example.org";
  EXPECT_EQ(BuildSignedMime(bad, Signer{home_, fingerprint_, ""}).status().code(),
            Code::kInvalidArgument);
}

}  // namespace
}  // namespace kizuna::mail
