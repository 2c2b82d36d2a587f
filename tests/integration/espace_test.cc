// The patient's web space as the gateway serves it (server/espace.h): the built page under
// /espace/ with its security headers, and the development login, absent unless configured.
// The page itself is tested in Chromium by tests/espace/run.sh (ctest `espace`).
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "tests/integration/harness.h"

namespace carnet::testing {
namespace {

const char kIndex[] =
    "<!doctype html><html lang=\"fr\"><head><title>Mon espace santé</title>"
    "<script type=\"module\" src=\"/espace/assets/app.js\"></script></head><body></body></html>";

class EspaceTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string("/tmp/carnet-espace-test-" + std::to_string(getpid()));
    std::filesystem::create_directories(*dir_ + "/assets");
    std::ofstream(*dir_ + "/index.html") << kIndex;
    std::ofstream(*dir_ + "/assets/app.js") << "console.log('espace');\n";
    std::ofstream("/tmp/carnet-espace-test-secret-" + std::to_string(getpid()))
        << "private-bytes-outside-the-page";
  }
  static void TearDownTestSuite() {
    std::filesystem::remove_all(*dir_);
    std::filesystem::remove("/tmp/carnet-espace-test-secret-" + std::to_string(getpid()));
    delete dir_;
  }
  static std::string* dir_;
};
std::string* EspaceTest::dir_ = nullptr;

void ExpectHardened(HttpResult& r) {
  const std::string& csp = r.headers["content-security-policy"];
  EXPECT_NE(csp.find("default-src 'self'"), std::string::npos) << csp;
  EXPECT_NE(csp.find("frame-ancestors 'none'"), std::string::npos) << csp;
  EXPECT_NE(csp.find("script-src 'self'"), std::string::npos) << csp;
  EXPECT_EQ(csp.find("unsafe-inline"), std::string::npos) << csp;
  EXPECT_EQ(csp.find("unsafe-eval"), std::string::npos) << csp;
  EXPECT_EQ(csp.find("http"), std::string::npos) << "no other origin: " << csp;
  EXPECT_EQ(r.headers["x-frame-options"], "DENY");
  EXPECT_EQ(r.headers["x-content-type-options"], "nosniff");
}

TEST_F(EspaceTest, ServesThePageWithStrictHeadersAndNoDevLoginByDefault) {
  GatewayProcess gateway({"--espace-dir", *dir_});
  ASSERT_TRUE(gateway.WaitHealthy()) << gateway.Log();
  HttpClient client;
  client.SetBearer("");
  auto page = client.Get(gateway.base_url() + "/espace/");
  ASSERT_EQ(page.status, 200) << page.body;
  EXPECT_EQ(page.body, kIndex);
  EXPECT_EQ(page.headers["content-type"], "text/html; charset=utf-8");
  ExpectHardened(page);
  auto same = client.Get(gateway.base_url() + "/espace/index.html");
  EXPECT_EQ(same.body, kIndex);
  auto script = client.Get(gateway.base_url() + "/espace/assets/app.js");
  EXPECT_EQ(script.status, 200);
  EXPECT_EQ(script.headers["content-type"], "text/javascript; charset=utf-8");
  ExpectHardened(script);
  auto bare = client.Get(gateway.base_url() + "/espace");
  EXPECT_EQ(bare.status, 301);
  EXPECT_EQ(bare.headers["location"], "/espace/");

  // Nothing outside the built folder, however the path is written.
  const std::vector<std::string> outside = {
      "/espace/../espace-test",
      "/espace/assets/../../carnet-espace-test-secret-" + std::to_string(getpid()),
      "/espace/%2e%2e/etc/passwd",
      "/espace/nothing.js",
      "/espace/assets/",
      "/espace/assets/%2e%2e%2f%2e%2e%2fcarnet-espace-test-secret-" + std::to_string(getpid())};
  for (const std::string& path : outside) {
    auto r = client.Get(gateway.base_url() + path);
    EXPECT_EQ(r.status, 404) << path << ": " << r.body;
    EXPECT_EQ(r.body.find("private-bytes"), std::string::npos) << path;
  }
  auto post = client.Request("POST", gateway.base_url() + "/espace/index.html", {}, "x");
  EXPECT_EQ(post.status, 405);

  // The development login does not exist on a gateway not configured for it.
  auto login = client.Request("POST", gateway.base_url() + "/espace/dev-login",
                              {"Content-Type: application/json"},
                              R"({"actor":"patient","ins":"2700000000001"})");
  EXPECT_EQ(login.status, 404) << login.body;
  EXPECT_EQ(login.body.find("token"), std::string::npos);
}

TEST_F(EspaceTest, DevLoginMintsAPatientTokenTheApiAccepts) {
  GatewayProcess gateway({"--espace-dir", *dir_, "--dev-login", "true"});
  ASSERT_TRUE(gateway.WaitHealthy()) << gateway.Log();
  HttpClient client;
  client.SetBearer("");
  auto login = client.Request("POST", gateway.base_url() + "/espace/dev-login",
                              {"Content-Type: application/json"},
                              R"({"actor":"patient","ins":"2700000000777"})");
  ASSERT_EQ(login.status, 200) << login.body;
  EXPECT_EQ(login.headers["cache-control"], "no-store");
  JsonValue answer = Parse(login.body);
  std::string token = answer.GetString("token");
  ASSERT_FALSE(token.empty());
  // The token is a patient's: the API answers its (empty) compartment, not 401.
  client.SetBearer(token);
  auto mine = client.Get(gateway.base_url() + "/fhir/Patient");
  EXPECT_EQ(mine.status, 200) << mine.body;
  // A token never reaches the request log.
  EXPECT_EQ(gateway.Log().find(token), std::string::npos);

  client.SetBearer("");
  for (const std::string& body :
       {std::string(R"({"actor":"professional","ins":"2700000000777"})"),
        std::string(R"({"actor":"patient","ins":"12ab"})"),
        std::string(R"({"actor":"guardian","guardian_of":[]})"), std::string("not json")}) {
    auto bad = client.Request("POST", gateway.base_url() + "/espace/dev-login",
                              {"Content-Type: application/json"}, body);
    EXPECT_EQ(bad.status, 400) << body << ": " << bad.body;
  }
  auto get = client.Get(gateway.base_url() + "/espace/dev-login");
  EXPECT_EQ(get.status, 405);
}

}  // namespace
}  // namespace carnet::testing
