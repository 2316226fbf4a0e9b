// Internals of mail.h shared by mime.cc and sign.cc, and tested by
// mail_test: the pieces of an RFC 5322 + MIME message. Thread-safe, no state.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/encoding.h"
#include "common/status.h"
#include "mail/mail.h"

namespace kizuna::mail::internal {

// The top-level header fields of `message` (From … Auto-Submitted, the
// caller's extra ones, MIME-Version), each line ending CRLF, without the
// Content-* fields and without the empty line that ends the header.
Result<std::string> BuildHeaders(const Message& message);

// The MIME entity under those fields: its Content-* fields, the empty line
// and the body (text/plain alone, or multipart/mixed), ending with CRLF.
// This is the part a PGP/MIME signature covers.
Result<std::string> BuildContent(const Message& message);

// A boundary that no base64 or quoted-printable text can contain ("=_…").
std::string NewBoundary();

// `utf8` as RFC 2047 encoded-words ("=?UTF-8?B?…?=", each at most 75
// characters, split between characters), joined by CRLF SP.
std::string EncodeWords(std::string_view utf8);

// RFC 2045 quoted-printable of `text` (line ends CRLF), lines of at most 76;
// trailing white space, "From " and "." at a line's start encoded.
std::string QuotedPrintable(std::string_view text);

// Base64 in lines of 76 characters joined by CRLF (no CRLF after the last).
std::string Base64Lines(std::string_view bytes);

// RFC 5322 date-time in UTC: "Tue, 01 Jul 2025 12:00:00 +0000".
std::string FormatDate(int64_t micros);

// A bare addr-spec "local@domain" of printable ASCII without specials;
// `what` names the field in the error.
Status CheckAddress(std::string_view what, std::string_view address);

// "Name <addr>" or "addr" split; the address checked.
Status SplitFrom(std::string_view from, std::string_view* name, std::string_view* address);
Result<std::string> AddressOf(std::string_view from);

// Every CR LF, lone LF and lone CR made CR LF.
std::string CanonicalLineEnds(std::string_view text);

}  // namespace kizuna::mail::internal
