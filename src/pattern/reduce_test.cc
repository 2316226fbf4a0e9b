#include <gtest/gtest.h>

#include "pattern/pattern.h"

namespace kizuna::pattern {
namespace {

std::optional<std::vector<SimpleComparison>> Reduce(std::string_view text) {
  Result<Pattern> p = ParsePattern(text);
  EXPECT_TRUE(p.ok()) << text << ": " << p.status().message();
  if (!p.ok()) return std::nullopt;
  return ReduceToSimpleComparisons(*p);
}

TEST(ReduceToSimpleComparisons, PlainEquality) {
  auto r = Reduce("[file:hashes.'SHA-256' = 'abc']");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].object_type, "file");
  EXPECT_EQ((*r)[0].property_path, "hashes.'SHA-256'");
  EXPECT_EQ((*r)[0].kind, SimpleComparison::Kind::kEquals);
  EXPECT_EQ((*r)[0].value, "abc");
}

TEST(ReduceToSimpleComparisons, OrsInListsAndCidr) {
  auto r = Reduce(
      "[domain-name:value = 'a.example' OR ipv4-addr:value = '198.51.100.1'] OR "
      "[ipv6-addr:value ISSUBSET '2001:db8::/32' OR file:name IN ('x', 'y')] OR "
      "([ipv4-addr:value ISSUBSET '10.0.0.0/8'])");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->size(), 6u);
  EXPECT_EQ((*r)[1].object_type, "ipv4-addr");
  EXPECT_EQ((*r)[2].kind, SimpleComparison::Kind::kCidrSubset);
  EXPECT_EQ((*r)[2].value, "2001:db8::/32");
  EXPECT_EQ((*r)[4].value, "y");
  EXPECT_EQ((*r)[5].property_path, "value");
}

TEST(ReduceToSimpleComparisons, RejectsWhatIsNotALookup) {
  const char* not_reducible[] = {
      "[file:name = 'a' AND file:size = '3']",
      "[file:name = 'a'] AND [file:name = 'b']",
      "[file:name = 'a'] FOLLOWEDBY [file:name = 'b']",
      "[file:name = 'a'] REPEATS 2 TIMES",
      "[file:name = 'a'] WITHIN 5 SECONDS",
      "[file:name = 'a'] START t'2020-01-01T00:00:00Z' STOP t'2021-01-01T00:00:00Z'",
      "[file:name NOT = 'a']",
      "[file:name != 'a']",
      "[file:name LIKE 'a%']",
      "[file:name MATCHES 'a']",
      "[file:size = 3]",
      "[file:size > '3']",
      "[file:name IN ('a', 3)]",
      "[EXISTS file:name]",
      "[network-traffic:dst_ref.value = '1.2.3.4']",
      "[file:x_list[*] = 'a']",
      "[file:name ISSUBSET '10.0.0.0/8']",
      "[ipv4-addr:value ISSUPERSET '10.0.0.0/8']",
      "[ipv4-addr:value ISSUBSET '2001:db8::/32']",
      "[file:name = 'a'] OR [file:name = 'b' AND file:size = '1']",
  };
  for (const char* text : not_reducible) EXPECT_FALSE(Reduce(text)) << text;
}

}  // namespace
}  // namespace kizuna::pattern
