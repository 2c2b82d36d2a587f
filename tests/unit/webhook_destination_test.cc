// Webhook destinations (profiles/webhook_destination.h): which addresses are public, the
// allow-list's syntax, the check when an address is set and the one after DNS.
#include "profiles/webhook_destination.h"

#include <gtest/gtest.h>

namespace carnet::profiles {
namespace {

TEST(WebhookDestinationTest, PublicAndRefusedRanges) {
  for (const char* a : {"8.8.8.8", "93.184.216.34", "2a00:1450:4007:80e::200e", "1.1.1.1"})
    EXPECT_TRUE(IsPublicAddress(a)) << a;
  for (const char* a : {"127.0.0.1", "127.1.2.3", "10.0.0.1", "172.16.0.1", "172.31.255.255",
                        "192.168.1.1", "169.254.169.254", "0.0.0.0", "100.64.0.1", "224.0.0.1",
                        "255.255.255.255", "::1", "::", "fc00::1", "fd12:3456::1", "fe80::1",
                        "ff02::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1", "64:ff9b::a9fe:a9fe",
                        "2001:db8::1", "not-an-address", ""})
    EXPECT_FALSE(IsPublicAddress(a)) << a;
  EXPECT_TRUE(IsPublicAddress("172.32.0.1"));
  EXPECT_TRUE(IsPublicAddress("::ffff:8.8.8.8"));
}

TEST(WebhookDestinationTest, ParsesUrlsAndTheAllowList) {
  auto u = ParseWebhookUrl("https://Hooks.Example.org/x?y=1");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->host, "hooks.example.org");
  EXPECT_EQ(u->port, 443);
  auto v6 = ParseWebhookUrl("http://[::1]:8080/x");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 8080);
  for (const char* bad :
       {"ftp://x/", "http://", "http://user:pw@host/", "http://h:0/", "http://h:99999/", "h/x"})
    EXPECT_EQ(ParseWebhookUrl(bad).status().code(), ErrorCode::kInvalid) << bad;
  EXPECT_TRUE(WebhookPolicy::Parse("127.0.0.1:8080, hooks.internal,[::1]:9000").ok());
  EXPECT_TRUE(WebhookPolicy::Parse("").ok());
  EXPECT_FALSE(WebhookPolicy::Parse("host:notaport").ok());
  EXPECT_FALSE(WebhookPolicy::Parse("[::1").ok());
}

TEST(WebhookDestinationTest, CheckedWhenSetUnlessListed) {
  WebhookPolicy none;
  for (const char* url : {"http://127.0.0.1:9/sub", "http://localhost/x", "http://api.localhost/x",
                          "http://169.254.169.254/", "http://[::1]/", "http://10.0.0.8:8080/"})
    EXPECT_EQ(none.CheckUrl(url).code(), ErrorCode::kInvalid) << url;
  EXPECT_TRUE(none.CheckUrl("https://hooks.example.org/x").ok());
  EXPECT_TRUE(none.CheckUrl("http://8.8.8.8/x").ok());
  auto listed = WebhookPolicy::Parse("127.0.0.1:9,localhost");
  ASSERT_TRUE(listed.ok());
  EXPECT_TRUE(listed->CheckUrl("http://127.0.0.1:9/sub").ok());
  EXPECT_FALSE(listed->CheckUrl("http://127.0.0.1:10/sub").ok());  // another port
  EXPECT_TRUE(listed->CheckUrl("http://localhost:1234/x").ok());   // any port
}

TEST(WebhookDestinationTest, CheckedAfterDnsAtDelivery) {
  WebhookPolicy none;
  auto local = ParseWebhookUrl("http://localhost:9/x");
  ASSERT_TRUE(local.ok());
  auto refused = none.ResolveForDelivery(*local);
  EXPECT_EQ(refused.status().code(), ErrorCode::kForbidden);
  EXPECT_NE(refused.status().message().find("not a public address"), std::string::npos);
  auto listed = WebhookPolicy::Parse("localhost:9");
  ASSERT_TRUE(listed.ok());
  auto pinned = listed->ResolveForDelivery(*local);
  ASSERT_TRUE(pinned.ok()) << pinned.status().ToString();
  EXPECT_FALSE(IsPublicAddress(*pinned));  // the loopback address it resolved to
  // An IP literal "resolves" to itself.
  auto literal = ParseWebhookUrl("http://8.8.8.8/x");
  auto same = none.ResolveForDelivery(*literal);
  ASSERT_TRUE(same.ok());
  EXPECT_EQ(*same, "8.8.8.8");
}

}  // namespace
}  // namespace carnet::profiles
