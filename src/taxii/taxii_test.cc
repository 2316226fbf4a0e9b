#include "taxii/taxii.h"

#include <gtest/gtest.h>

namespace kizuna::taxii {
namespace {

TEST(Negotiation, AcceptsTaxii21WithOrWithoutVersion) {
  EXPECT_EQ(NegotiateAccept("application/taxii+json;version=2.1"), kTaxiiMediaType);
  EXPECT_EQ(NegotiateAccept("application/taxii+json"), kTaxiiMediaType);
  EXPECT_EQ(NegotiateAccept("application/taxii+json; version=\"2.1\""), kTaxiiMediaType);
  EXPECT_EQ(NegotiateAccept(""), kTaxiiMediaType);
  EXPECT_EQ(NegotiateAccept("*/*"), kTaxiiMediaType);
  EXPECT_EQ(NegotiateAccept("text/html, application/taxii+json;version=2.1;q=0.9"),
            kTaxiiMediaType);
  EXPECT_EQ(NegotiateAccept("application/stix+json;version=2.1"),
            std::string("application/stix+json;version=2.1"));
}

TEST(Negotiation, RejectsOtherVersionsAndTypes) {
  EXPECT_FALSE(NegotiateAccept("application/taxii+json;version=2.0").has_value());
  EXPECT_FALSE(NegotiateAccept("application/json").has_value());
  EXPECT_FALSE(NegotiateAccept("text/html").has_value());
  EXPECT_FALSE(NegotiateAccept("application/vnd.oasis.taxii+json; version=2.0").has_value());
}

TEST(Negotiation, ContentTypeOfPosts) {
  EXPECT_TRUE(IsAcceptableContentType("application/taxii+json;version=2.1"));
  EXPECT_TRUE(IsAcceptableContentType("application/taxii+json"));
  EXPECT_TRUE(IsAcceptableContentType("application/stix+json;version=2.1"));
  EXPECT_FALSE(IsAcceptableContentType("application/taxii+json;version=2.0"));
  EXPECT_FALSE(IsAcceptableContentType("application/json"));
  EXPECT_FALSE(IsAcceptableContentType(""));
}

TEST(TaxiiTimestamp, MillisecondsWhenExact) {
  EXPECT_EQ(TaxiiTimestamp(1000), "1970-01-01T00:00:00.001Z");
  EXPECT_EQ(TaxiiTimestamp(1001), "1970-01-01T00:00:00.001001Z");
}

}  // namespace
}  // namespace kizuna::taxii
