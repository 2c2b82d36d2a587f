// Trusted issuers' keys fetched from their JWKS URL (jwks_urls; profiles/remote_jwks.h): a
// local HTTP server publishes the issuer's key set and rotates it; the gateway takes the new
// key without a restart when a token names it, drops the retired one, never fetches more than
// once per jwks_min_refetch_s whatever the tokens say, and keeps its keys when the issuer is
// unreachable.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "base/json.h"
#include "base/strings.h"
#include "profiles/dev_token.h"
#include "profiles/jwt.h"
#include "tests/integration/harness.h"

namespace carnet::testing {
namespace {

constexpr char kIssuer[] = "https://idp.example.test/realms/carnet";

constexpr char kJwksServer[] = R"(import http.server, os, sys
d, port = sys.argv[1], int(sys.argv[2])
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        with open(os.path.join(d, 'hits'), 'a') as f:
            f.write(self.path + '\n')
        body = open(os.path.join(d, 'jwks.json'), 'rb').read()
        self.send_response(200)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Cache-Control', 'public, max-age=300')
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
http.server.HTTPServer(('127.0.0.1', port), H).serve_forever()
)";

int Hits(const std::string& dir) {
  std::ifstream in(dir + "/hits");
  int n = 0;
  for (std::string line; std::getline(in, line);) ++n;
  return n;
}

void Publish(const std::string& dir, const std::string& jwks) {
  std::ofstream(dir + "/jwks.next") << jwks;
  std::filesystem::rename(dir + "/jwks.next", dir + "/jwks.json");
}

std::string IssuerToken(const profiles::SigningKey& key) {
  auto request = profiles::ParseDevTokenArgs({"--actor", "operator", "--id", "ops-jwks"});
  EXPECT_TRUE(request.ok());
  JsonValue claims = profiles::DevTokenClaims(*request);
  claims.Set("iss", JsonValue::String(kIssuer));
  auto token = key.Sign(claims);
  EXPECT_TRUE(token.ok()) << token.status().ToString();
  return token.ok() ? *token : "";
}

TEST(JwksUrlTest, IssuerKeysRotateWithoutARestartWithBoundedFetches) {
  const std::string dir = ::testing::TempDir() + "/carnet-jwks-" + RandomHex(4);
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/server.py") << kJwksServer;
  auto a = profiles::SigningKey::GenerateEc();
  auto b = profiles::SigningKey::GenerateRsa();
  auto c = profiles::SigningKey::GenerateEc();
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  Publish(dir, a->JwksJson());
  const int port = FreePort();
  auto idp = std::make_unique<Subprocess>(
      std::vector<std::string>{"/usr/bin/python3", dir + "/server.py", dir, std::to_string(port)});
  ASSERT_TRUE(WaitForPort(port));

  GatewayProcess gateway({"--jwks-urls", "http://127.0.0.1:" + std::to_string(port) + "/jwks.json",
                          "--trusted-issuers", kIssuer, "--jwks-min-refetch-s", "1"});
  ASSERT_TRUE(gateway.WaitHealthy()) << gateway.Log();
  EXPECT_NE(gateway.Log().find("\"jwks_fetched\""), std::string::npos) << gateway.Log();
  EXPECT_EQ(Hits(dir), 1) << "fetched once at start";
  const std::string url = gateway.base_url() + "/fhir/Patient?_count=1";
  auto status_with = [&](const std::string& token) {
    HttpClient client;
    client.SetBearer(token);
    return client.Get(url).status;
  };
  const std::string token_a = IssuerToken(*a), token_b = IssuerToken(*b);
  EXPECT_EQ(status_with(token_a), 200);
  EXPECT_EQ(Hits(dir), 1) << "served from the cache (max-age 300)";

  // The issuer rotates: key b replaces key a. A token signed with b gets in at once, without a
  // restart (its unknown kid makes the gateway fetch the set again).
  Publish(dir, b->JwksJson());
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  EXPECT_EQ(status_with(token_b), 200) << gateway.Log();
  EXPECT_EQ(Hits(dir), 2);
  // The retired key no longer opens anything.
  EXPECT_EQ(status_with(token_a), 401);

  // Tokens naming a key nobody published: a flood costs at most one fetch per second.
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  const std::string token_c = IssuerToken(*c);
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 30; ++i) EXPECT_EQ(status_with(token_c), 401);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  // The gateway's clock counts whole seconds: a flood lasting `seconds` touches at most
  // floor(seconds) + 2 of them (0.13 s across a second's boundary is two), one fetch each.
  EXPECT_LE(Hits(dir) - 2, 2 + static_cast<int>(seconds)) << seconds << " s";

  // The issuer goes away: the keys already fetched keep working.
  idp.reset();
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  EXPECT_EQ(status_with(token_c), 401);  // triggers a fetch, which fails
  EXPECT_EQ(status_with(token_b), 200);
  EXPECT_TRUE(gateway.running());
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace carnet::testing
