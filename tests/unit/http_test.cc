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

// The raw head the server captures: what base/http reads from it, whatever the bytes.
TEST(RequestHeadTest, TargetAndHeadersInOrder) {
  std::string head =
      "GET /fhir/Observation?date=ge2024&date=lt2025 HTTP/1.1\r\nHost: x\r\n"
      "Content-Type:  application/json-patch+json \t\r\nno colon\r\n: empty name\r\n"
      "X-A: 1\r\nx-a: 2\r\n";
  EXPECT_EQ(RequestTargetOfHead(head), "/fhir/Observation?date=ge2024&date=lt2025");
  auto headers = HeadersOfRequestHead(head);
  ASSERT_EQ(headers.size(), 4u);
  EXPECT_EQ(headers[1], (std::pair<std::string, std::string>("Content-Type",
                                                             "application/json-patch+json")));
  EXPECT_EQ(headers[3].second, "2");
  EXPECT_EQ(RequestTargetOfHead("GET /only-two-parts"), "");
  EXPECT_EQ(RequestTargetOfHead(""), "");
  EXPECT_TRUE(HeadersOfRequestHead("GET / HTTP/1.1").empty());
  EXPECT_TRUE(HeadersOfRequestHead("GET / HTTP/1.1\r\n").empty());
  EXPECT_EQ(HeadersOfRequestHead("GET / HTTP/1.1\r\nA:").at(0).second, "");
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
