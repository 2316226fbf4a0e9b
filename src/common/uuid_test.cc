#include "common/uuid.h"

#include <gtest/gtest.h>

#include "common/encoding.h"

namespace kizuna {
namespace {

TEST(Uuid, V4IsRandomAndWellFormed) {
  std::string a = NewUuid4(), b = NewUuid4();
  EXPECT_NE(a, b);
  EXPECT_TRUE(IsUuid(a));
  EXPECT_EQ(UuidVersion(a), 4);
}

TEST(Uuid, V5MatchesStixSpecificationExample) {
  // RFC 4122 test vector: DNS namespace, "www.example.com".
  EXPECT_EQ(Uuid5("6ba7b810-9dad-11d1-80b4-00c04fd430c8", "www.example.com"),
            "2ed6657d-e927-568b-95e1-2665a8aea6a2");
  EXPECT_EQ(UuidVersion(Uuid5(kStixScoNamespace, "x")), 5);
  EXPECT_EQ(Uuid5("not-a-uuid", "x"), "");
}

TEST(Uuid, RejectsMalformed) {
  EXPECT_FALSE(IsUuid("6ba7b810-9dad-11d1-80b4-00c04fd430c"));
  EXPECT_FALSE(IsUuid("6ba7b810x9dad-11d1-80b4-00c04fd430c8"));
  EXPECT_FALSE(IsUuid("6ba7b810-9dad-11d1-80b4-00c04fd430cg"));
}

TEST(Encoding, Base64RoundTrip) {
  EXPECT_EQ(Base64Encode("hello"), "aGVsbG8=");
  EXPECT_EQ(*Base64Decode("aGVsbG8="), "hello");
  EXPECT_FALSE(Base64Decode("aGVsbG8=!").has_value());
  EXPECT_EQ(*Base64UrlDecode(Base64UrlEncode("\xff\xfe")), "\xff\xfe");
  EXPECT_EQ(HexEncode(Sha256("abc")).substr(0, 16), "ba7816bf8f01cfea");
}

}  // namespace
}  // namespace kizuna
