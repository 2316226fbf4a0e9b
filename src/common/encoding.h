// Small encodings kizuna needs in many places: base64 (standard and URL-safe),
// hex, SHA-256, HTML escaping, Ed25519 verification and constant-time
// comparison. Thread-safe, no state.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace kizuna {

std::string Base64Encode(std::string_view bytes);
std::optional<std::string> Base64Decode(std::string_view text);
// URL-safe alphabet without padding (for tokens that travel in query strings).
std::string Base64UrlEncode(std::string_view bytes);
std::optional<std::string> Base64UrlDecode(std::string_view text);
std::string HexEncode(std::string_view bytes);
// The value of one hex digit (either case); -1 for anything else.
int HexDigitValue(char c);
// `text` with ASCII A-Z lowered (other bytes, UTF-8 included, unchanged).
std::string AsciiLower(std::string_view text);
// Raw 32-byte SHA-256 digest.
std::string Sha256(std::string_view bytes);
// `n` random bytes from the OS CSPRNG.
std::string RandomBytes(size_t n);
bool ConstantTimeEquals(std::string_view a, std::string_view b);
// Whether `signature_base64` is an Ed25519 signature of `body` by the key
// `public_key_base64` (both standard base64); false for anything malformed.
bool VerifyEd25519(std::string_view public_key_base64, std::string_view body,
                   std::string_view signature_base64);
// A 64-bit FNV-1a hash of `bytes` as 16 hex digits: stable across processes
// and versions (std::hash is neither); for change detection, not security.
std::string Fnv1aHex(std::string_view bytes);

// `text` for HTML text or a quoted attribute: & < > " ' as entities.
std::string HtmlEscape(std::string_view text);

// Well-formed UTF-8: no overlong forms, no surrogates, nothing above
// U+10FFFF (eight ASCII bytes checked at a time).
bool IsValidUtf8(std::string_view text);

}  // namespace kizuna
