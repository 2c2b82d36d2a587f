#include "base/http.h"

#include <gtest/gtest.h>

#include "base/strings.h"

namespace carnet {
namespace {

TEST(HttpTest, QueryKeepsOrderAndRepeats) {
  auto q = ParseQuery("date=ge2024&date=lt2025&name=Jos%C3%A9+Mar%20ia&flag&&x=a%3Db");
  ASSERT_EQ(q.size(), 5u);
  EXPECT_EQ(q[0], (std::pair<std::string, std::string>("date", "ge2024")));
  EXPECT_EQ(q[1], (std::pair<std::string, std::string>("date", "lt2025")));
  EXPECT_EQ(q[2].second, "Jos\xC3\xA9 Mar ia");
  EXPECT_EQ(q[3], (std::pair<std::string, std::string>("flag", "")));
  EXPECT_EQ(q[4].second, "a=b");
}

TEST(HttpTest, PercentDecodeLeavesBrokenEscapesAlone) {
  EXPECT_EQ(PercentDecode("%", false), "%");
  EXPECT_EQ(PercentDecode("%4", false), "%4");
  EXPECT_EQ(PercentDecode("%zz", false), "%zz");
  EXPECT_EQ(PercentDecode("a+b", false), "a+b");
  EXPECT_EQ(PercentDecode("a+b", true), "a b");
  EXPECT_EQ(PercentDecode("%41%42", false), "AB");
}

TEST(HttpTest, HeadersAreCaseInsensitive) {
  HttpRequest req;
  req.headers = {{"Content-Type", "application/fhir+json"}};
  ASSERT_NE(req.Header("content-type"), nullptr);
  EXPECT_EQ(*req.Header("CONTENT-TYPE"), "application/fhir+json");
  EXPECT_EQ(req.Header("Accept"), nullptr);
  HttpResponse resp;
  resp.SetHeader("ETag", "W/\"1\"");
  resp.SetHeader("etag", "W/\"2\"");
  ASSERT_EQ(resp.headers.size(), 1u);
  EXPECT_EQ(resp.headers[0].second, "W/\"2\"");
}

TEST(StringsTest, JsonEscape) {
  EXPECT_EQ(JsonEscape("a\"b\\c\n\x01"), "a\\\"b\\\\c\\n\\u0001");
  EXPECT_EQ(JsonEscape("\xC3\xA9"), "\xC3\xA9");
}

TEST(StringsTest, RandomHexIsRandom) {
  std::string a = RandomHex(8), b = RandomHex(8);
  EXPECT_EQ(a.size(), 16u);
  EXPECT_NE(a, b);
  EXPECT_EQ(a.find_first_not_of("0123456789abcdef"), std::string::npos);
}

TEST(StringsTest, FormatUtc) {
  auto t = std::chrono::system_clock::time_point(std::chrono::milliseconds(1700000000123LL));
  EXPECT_EQ(FormatUtc(t), "2023-11-14T22:13:20.123Z");
}

}  // namespace
}  // namespace carnet

namespace carnet {
namespace {

TEST(StringsTest, Base64RoundTrip) {
  for (std::string s : {std::string(), std::string("f"), std::string("fo"), std::string("foo"),
                        std::string("foob"), std::string("\0\xff\x10", 3)}) {
    auto back = Base64Decode(Base64Encode(s));
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(*back, s);
  }
  EXPECT_EQ(Base64Encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(*Base64Decode("Zm9v\nYmE="), "fooba");
  EXPECT_FALSE(Base64Decode("Zm9").has_value());
  EXPECT_FALSE(Base64Decode("Zm=v").has_value());
  EXPECT_FALSE(Base64Decode("Zm9v!").has_value());
}

}  // namespace
}  // namespace carnet
