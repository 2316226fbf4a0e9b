#include "federation/boundary.h"

#include <gtest/gtest.h>
#include <sodium.h>

#include "common/encoding.h"
#include "federation/signing.h"

namespace kizuna::federation {
namespace {

struct KeyPair {
  std::string public_base64;
  unsigned char secret[crypto_sign_SECRETKEYBYTES];
};

KeyPair NewKey() {
  EXPECT_GE(sodium_init(), 0);
  KeyPair key;
  unsigned char public_key[crypto_sign_PUBLICKEYBYTES];
  crypto_sign_keypair(public_key, key.secret);
  key.public_base64 =
      Base64Encode(std::string_view(reinterpret_cast<char*>(public_key), sizeof public_key));
  return key;
}

std::string Sign(const KeyPair& key, const std::string& body) {
  unsigned char signature[crypto_sign_BYTES];
  crypto_sign_detached(signature, nullptr, reinterpret_cast<const unsigned char*>(body.data()),
                       body.size(), key.secret);
  return Base64Encode(std::string_view(reinterpret_cast<char*>(signature), sizeof signature));
}

http::Request Make(std::string method, std::string body = "") {
  http::Request request;
  request.method = std::move(method);
  request.path = "/taxii2/root/collections/default/objects/";
  request.body = std::move(body);
  return request;
}

sharing::Recipient As(sharing::Recipient::Kind kind) {
  sharing::Recipient recipient;
  recipient.kind = kind;
  return recipient;
}

using Kind = sharing::Recipient::Kind;

TEST(Boundary, APeerWorkerWeHaveNotConfiguredIsToldSoOnEveryPath) {
  for (const char* method : {"GET", "POST", "DELETE"}) {
    http::Request request = Make(method);
    request.headers.Set(kFederationHeader, "1");
    auto refusal = CheckInbound(request, true, As(Kind::kExternal), nullptr, "cert-x");
    ASSERT_TRUE(refusal.has_value()) << method;
    EXPECT_EQ(refusal->status, 403);
    EXPECT_EQ(refusal->title, kNotPartnerYet);
    EXPECT_NE(refusal->description.find("cert-x"), std::string::npos);
  }
  // The same organization's people (no federation header) are outside
  // readers as before; a configured peer's worker is served.
  EXPECT_FALSE(CheckInbound(Make("GET"), true, As(Kind::kExternal), nullptr, "cert-x"));
  node::PeerConfig peer;
  peer.name = "cert-x";
  http::Request worker = Make("GET");
  worker.headers.Set(kFederationHeader, "1");
  EXPECT_FALSE(CheckInbound(worker, true, As(Kind::kPeer), &peer, "cert-x"));
}

TEST(Boundary, APartnerMayNotDeleteButOthersReachTheirOwnRules) {
  node::PeerConfig peer;
  peer.name = "cert-b";
  auto refusal = CheckInbound(Make("DELETE"), true, As(Kind::kPeer), &peer, "cert-b");
  ASSERT_TRUE(refusal.has_value());
  EXPECT_EQ(refusal->status, 403);
  EXPECT_EQ(refusal->audit_channel, "delete");
  EXPECT_FALSE(CheckInbound(Make("DELETE"), true, As(Kind::kHome), nullptr, "CERT-A"));
  // Outside the TAXII API the partner rules do not apply (the API has its own).
  EXPECT_FALSE(CheckInbound(Make("DELETE"), false, As(Kind::kPeer), &peer, "cert-b"));
}

TEST(Boundary, APartnersWriteMustCarryItsSignature) {
  KeyPair key = NewKey();
  KeyPair other = NewKey();
  node::PeerConfig peer;
  peer.name = "cert-b";
  peer.public_key = key.public_base64;
  const std::string body = R"({"objects":[]})";

  auto unsigned_write = CheckInbound(Make("POST", body), true, As(Kind::kPeer), &peer, "cert-b");
  ASSERT_TRUE(unsigned_write.has_value());
  EXPECT_EQ(unsigned_write->audit_channel, "push");

  http::Request forged = Make("POST", body);
  forged.headers.Set(kSignatureHeader, Sign(other, body));
  EXPECT_TRUE(CheckInbound(forged, true, As(Kind::kPeer), &peer, "cert-b").has_value());

  http::Request tampered = Make("POST", body + " ");
  tampered.headers.Set(kSignatureHeader, Sign(key, body));
  EXPECT_TRUE(CheckInbound(tampered, true, As(Kind::kPeer), &peer, "cert-b").has_value());

  http::Request good = Make("POST", body);
  good.headers.Set(kSignatureHeader, Sign(key, body));
  EXPECT_FALSE(CheckInbound(good, true, As(Kind::kPeer), &peer, "cert-b").has_value());

  // A partner registered without a key (a plain TAXII server) does not sign.
  node::PeerConfig plain;
  plain.name = "plain";
  EXPECT_FALSE(CheckInbound(Make("POST", body), true, As(Kind::kPeer), &plain, "plain"));
}

TEST(Boundary, AnswersToPartnersAndToWhoeverAsksAreSigned) {
  node::PeerConfig peer;
  http::Response ok;
  ok.status = 200;
  ok.body = "{}";
  EXPECT_TRUE(MustSign(Make("GET"), ok, &peer));
  EXPECT_FALSE(MustSign(Make("GET"), ok, nullptr));
  http::Request asking = Make("GET");
  asking.headers.Set(kWantSignatureHeader, "1");
  EXPECT_TRUE(MustSign(asking, ok, nullptr));
  http::Response error = ok;
  error.status = 404;
  EXPECT_FALSE(MustSign(asking, error, &peer));
  http::Response empty = ok;
  empty.body.clear();
  EXPECT_FALSE(MustSign(asking, empty, &peer));
}

}  // namespace
}  // namespace kizuna::federation
