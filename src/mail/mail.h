// E-mail delivery: the alerting module's reports leave the node as e-mail,
// the way CSIRTs send them (Shadowserver, CERT.at/IntelMQ): a text/plain
// body and the report as a base64 attachment, optionally OpenPGP-signed
// (RFC 3156 PGP/MIME), sent through an SMTP relay with libcurl.
//
//   Result<std::string> mime = BuildMime(message);          // or BuildSignedMime
//   SendResult sent = Send(smtp, message, *mime);
//   if (!sent.ok && !sent.permanent) retry later: message.to = sent.RetryAddresses(),
//                                    the same `mime` (its Message-ID lets receivers drop repeats)
//
// Nothing here decides whether a report may leave: the caller asks the
// sharing decision first (sharing/policy.h).
//
// Thread-safety: every function may be called from several threads at once;
// each call uses its own curl handle and GPGME context. Ownership: plain
// values in and out; nothing is kept between calls (no connection pool).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace kizuna::mail {

struct Attachment {
  std::string filename;      // UTF-8; non-ASCII names as RFC 2231 filename*=
  std::string content_type;  // "text/csv; charset=utf-8"; empty: application/octet-stream
  std::string data;          // bytes, sent base64 (lines of 76)
};

struct Message {
  // "kizuna JP-CERT <alerts@example.jp>" or a bare address; the display name
  // may be UTF-8.
  std::string from;
  std::vector<std::string> to;  // bare addresses; the To header and the envelope
  std::string subject;          // UTF-8 (RFC 2047 encoded-words when not ASCII)
  std::string text;             // UTF-8 body, text/plain; LF or CRLF line ends
  std::vector<Attachment> attachments;
  // Required, "<report-id@node>": given by the caller and stable across
  // retries, so receivers can drop a repeat.
  std::string message_id;
  // Extra header fields ("X-Kizuna-Report", …); values UTF-8. None of the
  // fields BuildMime writes itself (From, To, Subject, Date, Message-ID,
  // MIME-Version, Content-*), except Auto-Submitted, which replaces the
  // default "auto-generated".
  std::vector<std::pair<std::string, std::string>> headers;
  int64_t date_us = 0;  // the Date header, microseconds since the epoch; 0: now
};

// A Message-ID domain from a producer's name (a node's team name):
// "JP-CERT" -> "jp-cert.kizuna.invalid"; other characters become '-'.
std::string MessageIdDomain(std::string_view producer);

// The message as RFC 5322 + MIME text with CRLF line ends, 7-bit only:
// text/plain alone, or multipart/mixed when there are attachments; the body
// quoted-printable (base64 when most of it is not ASCII). Refuses
// (InvalidArgument) what would make a wrong or dangerous message: CR, LF or
// NUL in any header value (header injection), a malformed address or
// Message-ID, invalid UTF-8, a header name that is not a token or repeats
// one of ours.
Result<std::string> BuildMime(const Message& message);

// The OpenPGP key that signs, from a GnuPG home directory. The key must be
// able to sign; an empty passphrase is the usual unattended key.
struct Signer {
  std::string gnupg_home;       // empty: GnuPG's default (~/.gnupg or $GNUPGHOME)
  std::string key_fingerprint;  // the signing key's fingerprint (hex)
  std::string passphrase;       // when the key has one (given by loopback, never logged)
};

// RFC 3156 PGP/MIME: multipart/signed (micalg from the hash GnuPG used) with
// what BuildMime would send as its first part and a detached, armoured
// signature made by GPGME over that part's canonical (CRLF) text as the
// second. The top-level header fields are not signed (as in every mail client).
Result<std::string> BuildSignedMime(const Message& message, const Signer& signer);

struct SmtpConfig {
  // smtp://host[:port] (25; STARTTLS) or smtps://host[:port] (465; TLS from
  // the first byte). A path is refused; the EHLO name is `ehlo_name`.
  std::string url;
  // smtp://: upgrade with STARTTLS. Off loopback it is required (the server
  // must offer it); on loopback it is used when the server offers it.
  bool starttls = true;
  // smtp:// to a loopback address (127.0.0.0/8, ::1, localhost) may go on
  // in plain text (a local MTA). Default true.
  bool allow_plain_loopback = true;
  // smtp:// in plain text off loopback: refused unless set (a relay on a
  // network the operator trusts). Default false.
  bool allow_plain_remote = false;
  std::string username, password;  // AUTH when set; the password is never logged
  std::string from_address;        // envelope MAIL FROM; empty: the From address
  int timeout_seconds = 60;        // connect, and each wait for a reply or for progress
  std::string ca_file;             // PEM CAs to verify the server; empty: the system's
  std::string ehlo_name;           // EHLO argument; empty: libcurl's default
};

// Checks `config` without connecting: the URL, the plain-text rule above,
// the envelope sender, the timeout. Send checks it too.
Status CheckConfig(const SmtpConfig& config);

// What became of one envelope recipient.
struct RecipientResult {
  std::string address;
  bool ok = false;
  bool permanent = false;  // refused with a 5xx: do not retry this address
  std::string detail;      // the server's reply, or the network error
};

struct SendResult {
  bool ok = false;         // every recipient accepted the message
  bool permanent = false;  // not ok and no retry can help (every failure a 5xx or the config)
  std::string detail;      // the server's reply or the network error (the failures' first)
  std::vector<RecipientResult> recipients;  // one per address of `to`, in order
  // The addresses worth another try (failed, not permanently).
  std::vector<std::string> RetryAddresses() const;
};

// Sends `mime` (from BuildMime or BuildSignedMime, unchanged) to each address
// of `message.to`, one SMTP transaction per address over one connection where
// the server keeps it open: each address gets its own result, a retry goes
// only to the addresses that failed, and no address gets the message twice
// from one call. (libcurl ≥ 8.2's CURLOPT_MAIL_RCPT_ALLOWFAILS would go on
// past a refused RCPT but reports no outcome per address; Debian 12's 7.88
// has it only as CURLOPT_MAIL_RCPT_ALLLOWFAILS.) A 5xx reply is permanent;
// 4xx, refused connections, timeouts and TLS failures are transient.
// Blocks for at most about `timeout_seconds` per wait.
SendResult Send(const SmtpConfig& config, const Message& message, std::string_view mime);

}  // namespace kizuna::mail
