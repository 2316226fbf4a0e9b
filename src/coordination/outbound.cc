#include "coordination/outbound.h"

#include <boost/json.hpp>
#include <cmath>
#include <set>

#include "common/encoding.h"
#include "common/time.h"
#include "common/uuid.h"

namespace kizuna::coordination {

std::string AckBaseUrl(const node::NodeConfig& config, const std::string& own_node_url) {
  std::string base = !config.server.public_url.empty() ? config.server.public_url : own_node_url;
  if (base.empty()) {
    const std::string& host = config.server.host;
    base = std::string(config.server.tls_cert.empty() ? "http://" : "https://") +
           (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" +
           std::to_string(config.server.port);
  }
  while (!base.empty() && base.back() == '/') base.pop_back();
  return base;
}

std::string NewLinkToken() { return Base64UrlEncode(RandomBytes(32)); }

std::string LinkTokenHash(std::string_view token) { return HexEncode(Sha256(token)); }

bool IsLinkToken(std::string_view token) {
  return token.size() == 43 && Base64UrlDecode(token).has_value();
}

Status CheckPartners(const sharing::SharingPolicy& policy, const std::vector<std::string>& peers) {
  if (peers.empty()) return InvalidArgument("no partner named (--to, \"to\")");
  std::set<std::string> known, seen;
  for (const node::PeerConfig& p : policy.peers()) known.insert(p.name);
  for (const std::string& peer : peers) {
    if (!known.count(peer))
      return InvalidArgument("'" + peer + "' is not a partner of ours ([[peer]])");
    if (!seen.insert(peer).second) return InvalidArgument("partner '" + peer + "' named twice");
  }
  return Status::Ok();
}

Status CheckText(std::string_view what, std::string_view text, size_t max_bytes) {
  if (text.size() > max_bytes) {
    return InvalidArgument(std::string(what) + ": at most " + std::to_string(max_bytes) + " bytes");
  }
  if (!IsValidUtf8(text)) return InvalidArgument(std::string(what) + ": not UTF-8");
  return Status::Ok();
}

Status CheckMayReceive(const sharing::SharingPolicy& policy, const std::string& peer,
                       const boost::json::object& object, stix::Tlp tlp) {
  store::StoredObject stored;
  stored.id = object.contains("id") ? std::string(object.at("id").as_string()) : "";
  stored.type = object.contains("type") ? std::string(object.at("type").as_string()) : "";
  stored.tlp = tlp;
  stored.json = boost::json::serialize(object);
  std::string why;
  if (!policy.MayRelease(stored, policy.ForPeer(peer), &why)) {
    return FailedPrecondition("partner '" + peer + "' may not receive it: " + why);
  }
  return Status::Ok();
}

Result<int64_t> MinutesToMicros(double minutes, std::string_view what) {
  if (!std::isfinite(minutes) || minutes < 0 || minutes > 366.0 * 24 * 60) {
    return InvalidArgument(std::string(what) + ": a number of minutes, at most a year");
  }
  return static_cast<int64_t>(minutes * 60e6);
}

std::string TimeOrDash(int64_t micros) {
  return micros != 0 ? FormatTimestamp(micros, 0) : std::string("-");
}

std::string TruncateUtf8(std::string_view text, size_t max_bytes) {
  if (text.size() <= max_bytes) return std::string(text);
  size_t end = max_bytes;
  // Back off the continuation bytes (10xxxxxx) of a sequence cut short.
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return std::string(text.substr(0, end));
}

MailOutcome SendContactMail(const Outbound& outbound, const ContactMail& mail, int64_t now_us) {
  if (!outbound.mail.configured) return {"not-configured", "no [coordination] smtp_url"};
  if (mail.to.empty()) return {"no-contact", "no e-mail contact in the directory"};
  // The e-mail carries the message at its marking: as the decision allows
  // e-mail to have it.
  store::StoredObject content;
  content.id = mail.header.second;
  content.tlp = outbound.tlp;
  content.json = "{}";
  std::string why;
  if (!outbound.policy->MayRelease(content, outbound.policy->ForEmail(mail.to, stix::Tlp::kAmber),
                                   &why)) {
    return {"withheld", why};
  }
  mail::Message m;
  m.from = outbound.mail.from;
  m.to = {mail.to};
  m.subject = mail.subject;
  for (char& c : m.subject) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  }
  m.text = mail.text;
  constexpr std::string_view kMailNamespace = "8c2e4a6b-0d1f-4e3a-9b5c-7d8e9f0a1b2c";
  m.message_id = "<" + Uuid5(kMailNamespace, mail.message_id_name) + "@" +
                 mail::MessageIdDomain(outbound.identity->name) + ">";
  m.headers.push_back(mail.header);
  m.date_us = now_us;
  Result<std::string> mime =
      outbound.mail.signer ? mail::BuildSignedMime(m, *outbound.mail.signer) : mail::BuildMime(m);
  if (!mime.ok()) return {"failed", mime.status().message()};
  mail::SendResult sent = mail::Send(outbound.mail.smtp, m, *mime);
  return sent.ok ? MailOutcome{"sent", mail.to} : MailOutcome{"failed", sent.detail};
}

}  // namespace kizuna::coordination
