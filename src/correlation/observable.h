// Observable values as the correlation index sees them: the kinds it indexes
// (ObservableKind), the normal form of each kind's values (so that
// "HTTP://Evil.COM:80/a/../b" and "http://evil.com/b" are the same key), and a
// plain-text front end that refangs a line ("hxxp://evil[.]com") and says what
// kind of observable it holds.
//
// Everything here is a pure function and thread-safe, except that the first
// call that needs the public suffix list loads it (once, thread-safely).
// Internationalized names are converted with libidn2 (thread-safe, no state).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace kizuna::correlation {

// What an indexed value is. The STIX object path each kind comes from is in
// the comment; KindForStixPath maps paths to kinds.
enum class ObservableKind : uint8_t {
  kIpv4 = 0,            // ipv4-addr:value — "a.b.c.d" or "a.b.c.d/len"
  kIpv6,                // ipv6-addr:value — "x::y" or "x::/len"
  kDomain,              // domain-name:value
  kUrl,                 // url:value
  kEmail,               // email-addr:value
  kMd5,                 // file:hashes.MD5
  kSha1,                // file:hashes.'SHA-1'
  kSha256,              // file:hashes.'SHA-256'
  kSha512,              // file:hashes.'SHA-512'
  kMacAddr,             // mac-addr:value
  kFileName,            // file:name
  kMutex,               // mutex:name
  kWindowsRegistryKey,  // windows-registry-key:key
  kUserAgent,           // network-traffic:extensions.'http-request-ext'.request_header.'User-Agent'
  kAsn,                 // autonomous-system:number
  kDirectoryPath,       // directory:path
  kProcessName,         // process:name  (also process:command_line)
  kX509Serial,          // x509-certificate:serial_number
  kSha3_256,            // file:hashes.'SHA3-256'
  kSsdeep,              // file:hashes.SSDEEP
  kCount,               // not a kind: the number of kinds
};
inline constexpr int kObservableKindCount = static_cast<int>(ObservableKind::kCount);

// "ipv4", "domain", "sha256", ... (stable; used in logs and bench output).
std::string_view ObservableKindName(ObservableKind kind);

// The kind a STIX object path compares, e.g. "ipv4-addr:value" -> kIpv4,
// "file:hashes.'SHA-256'" -> kSha256 (quotes optional, algorithm any case).
// nullopt for paths the index does not handle.
std::optional<ObservableKind> KindForStixPath(std::string_view object_path);

// The inverse for the kinds plain lists and blocklists hold, as an
// indicator's pattern writes it: kIpv4 -> "ipv4-addr:value", kSha256 ->
// "file:hashes.'SHA-256'"; "" for the other kinds.
std::string_view StixPathOf(ObservableKind kind);

// The digest length in bytes of a hash kind (16, 20, 32, 64), 0 for others.
int DigestLength(ObservableKind kind);

// --- Addresses -------------------------------------------------------------

// Strict dotted quad ("1.2.3.4"; 1-3 decimal digits per octet, no spaces).
// Returns the address in host order (1.2.3.4 -> 0x01020304).
std::optional<uint32_t> ParseIpv4(std::string_view text);
// RFC 4291 text form (inet_pton), 16 bytes in network order.
using Ipv6Bytes = std::array<uint8_t, 16>;
std::optional<Ipv6Bytes> ParseIpv6(std::string_view text);

// An address or a network: "1.2.3.0/24" or a bare address (prefix 32 / 128).
// Host bits below the prefix are cleared ("10.1.2.3/8" -> 10.0.0.0/8), as
// feeds write both forms for the same network.
struct Ipv4Prefix {
  uint32_t network = 0;
  uint8_t length = 32;
};
struct Ipv6Prefix {
  Ipv6Bytes network{};
  uint8_t length = 128;
};
Result<Ipv4Prefix> ParseIpv4Prefix(std::string_view text);
Result<Ipv6Prefix> ParseIpv6Prefix(std::string_view text);
std::string FormatIpv4(uint32_t address);

// --- Normal forms ------------------------------------------------------------

// Lower-cases, removes one trailing dot, checks the length (1..253) and that
// no label is empty and no character is a control, space, '/', '@', ':',
// '<' or '>'. A leading "*." is kept (the index reads it as "this domain and
// its subdomains"). Any top-level domain is accepted: "host.corp",
// "x.kizunatest" and "a.123" are domain names as far as a typed value or an
// indicator is concerned.
//
// Internationalized names have one normal form, the ASCII one (A-labels):
// a label with non-ASCII characters is converted by UTS #46 / IDNA2008
// nontransitional processing (libidn2), so "Bücher.example",
// "bücher。example" and "xn--bcher-kva.example" all normalize to
// "xn--bcher-kva.example" and an indicator on either form matches the other.
// ASCII labels, "xn--" ones included, are only lower-cased. A non-ASCII
// label that does not convert (invalid UTF-8, characters IDNA disallows
// even transitionally) is an error.
//
// The result is its own normal form: NormalizeDomain(*NormalizeDomain(x))
// == *NormalizeDomain(x). The same holds for every NormalizeValue kind but
// the hashes (whose normal form is raw bytes).
Result<std::string> NormalizeDomain(std::string_view domain);

// RFC 3986 section 6 normalization plus what feeds need: lower-case scheme
// and host, host's trailing dot removed, default port removed (http 80,
// https 443, ftp 21, ws 80, wss 443), percent-escapes of unreserved
// characters decoded and the others' hex upper-cased, a '%' that starts no
// escape written "%25" ("/100%" -> "/100%25"), "." and ".." segments
// resolved, an empty path written "/", the fragment dropped. A URL without a
// scheme ("evil.com/x") is read as "http://evil.com/x". The query is kept
// as it is apart from percent-escape normalization. An internationalized
// host is written in its ASCII form, as NormalizeDomain does (one IDNA
// refuses is kept as written); a host with a ':' outside brackets is an
// error ("http://x:80:/").
Result<std::string> NormalizeUrl(std::string_view url);

// "Local@Domain" -> "local@domain". The local part is case-folded too: every
// major provider treats it case-insensitively and feeds mix cases freely
// (ASCII letters only; an internationalized local part is kept as written).
// The domain part is normalized by NormalizeDomain ("a@Bücher.example." ->
// "a@xn--bcher-kva.example"), so any TLD is accepted.
Result<std::string> NormalizeEmail(std::string_view email);

// Hex digest of the right length for `kind` (any case) -> raw digest bytes.
Result<std::string> DecodeDigest(ObservableKind kind, std::string_view hex);

// The normal form of any kind's value, as the index stores it: addresses as
// canonical text (CIDR kept), hashes as raw bytes, MAC addresses as
// "aa:bb:cc:dd:ee:ff", registry keys lower-cased with the hive spelled out
// ("HKLM\..." -> "hkey_local_machine\..."), ASNs as decimal without "AS",
// everything else unchanged (file names, mutexes and user agents are
// case-sensitive on the systems they come from).
Result<std::string> NormalizeValue(ObservableKind kind, std::string_view value);

// --- Plain text --------------------------------------------------------------

// Undoes the usual defanging: hxxp/hXXp -> http, fxp -> ftp, [.] (.) {.}
// [dot] (dot) {dot} \. -> ".", [at] (at) [@] {at} -> "@", [:] -> ":",
// [://] -> "://", [/] -> "/". Case-insensitive; everything else is kept.
std::string Refang(std::string_view text);

struct DetectedObservable {
  ObservableKind kind;
  std::string value;        // normal form (for hashes: the lower-case hex, not raw bytes)
  bool is_network = false;  // an IPv4/IPv6 CIDR with a prefix shorter than the address
};

// Classifies one line of text (one observable per line, as in IOC lists)
// after trimming and refanging: URL (has "://"), hash (32/40/64/128 hex
// digits), IPv4 or IPv4 CIDR, IPv6 or IPv6 CIDR, e-mail, domain. nullopt
// when none fits. Values are in their normal form (internationalized names
// as A-labels, see NormalizeDomain).
//
// A domain, or the part of an e-mail address after the last '@', is a name
// whatever its top-level domain, so that the names CSIRTs handle every day
// are recognised: private-use (.internal, .local, .corp, .lan, .home.arpa),
// the reserved names of RFC 2606/6761 (.test, .example, .invalid,
// .localhost), TLDs newer than the installed public suffix list, and
// internationalized names. It must be, after NormalizeDomain:
//   - at least two labels, at most 253 characters; each label 1-63 letters,
//     digits, '-' or '_';
//   - a last label of 2-63 letters, or an A-label ("xn--" then letters,
//     digits, hyphens). No TLD has digits: "1.2.3", "v2.0.1", "1.2.3.256",
//     "host.c0m" stay unrecognised (a valid IPv4 address is an address);
//   - not a file name: a last label on a built-in list of common file
//     extensions ("invoice.pdf.exe", "report.docx", "setup.msi") counts only
//     when the public suffix list names it as a TLD, so "archive.zip" and
//     "clip.mov" are names, as they are delegated;
//   - not a version string: when every label before the last is a number
//     ("1.0.alpha", "2.1.rc"), the last label must be a TLD the list names
//     ("1.2.com" is a name; "v2.beta" is one too, as "v2" may be a host).
// Why this and not the TLD list alone: MISP's freetext import recognises a
// domain only under a TLD on its IANA list (plus .onion), which turns
// "intranet.corp" into a file name; for a CSIRT matching internal logs a
// private-use name missed is worse than a dotted word ("os.path") looked up
// for nothing. The public suffix list is consulted only for the two cases
// above, so detection costs no list lookup for most names.
std::optional<DetectedObservable> DetectObservable(std::string_view line);

// --- Public suffix list ------------------------------------------------------

// True when `domain` (normal form) is a public suffix, ICANN or private
// ("co.uk", "github.io"), or a single label (an unknown TLD counts as one,
// per the list's "*" rule).
bool IsPublicSuffix(std::string_view domain);

// What the normal forms above depend on besides kizuna's code: the public
// suffix list in use and the libidn2 version. A saved index is only valid
// under the same (Correlator::LoadSnapshot compares it).
std::string NormalizationFingerprint();
// True when the last label of `domain` is a TLD the list names explicitly.
bool HasKnownTld(std::string_view domain);
// The registrable domain ("a.b.example.co.uk" -> "example.co.uk"), empty
// when `domain` is itself a public suffix.
std::string RegistrableDomain(std::string_view domain);

}  // namespace kizuna::correlation
