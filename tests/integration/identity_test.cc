// No anonymous access (issue 5, "Identity"), against the live server: the forged and stale
// tokens of security.md's hostile inputs are refused with 401 (FHIR: OperationOutcome and
// WWW-Authenticate: Bearer; XDS.b: a SOAP Fault), and each attempt is audited.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <chrono>
#include <fstream>

#include "base/json.h"
#include "base/strings.h"
#include "profiles/jwt.h"
#include "storage/connection.h"
#include "tests/integration/harness.h"
#include "tests/integration/xds_messages.h"

namespace carnet::testing {
namespace {

const char* kIssuer = "https://idp.test.example";

long long Now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

JsonValue Claims(long long exp, const std::string& aud = "carnet", const std::string& iss = kIssuer) {
  JsonValue c = JsonValue::Object();
  c.Set("iss", JsonValue::String(iss));
  c.Set("sub", JsonValue::String("ops-42"));
  c.Set("aud", JsonValue::String(aud));
  c.Set("exp", JsonValue::Number(std::to_string(exp)));
  c.Set("iat", JsonValue::Number(std::to_string(Now())));
  c.Set("actor", JsonValue::String("operator"));
  return c;
}

std::string Unsigned(const JsonValue& header, const JsonValue& claims) {
  return profiles::Base64UrlEncode(WriteJson(header)) + "." + profiles::Base64UrlEncode(WriteJson(claims));
}

class IdentityTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto key = profiles::SigningKey::GenerateRsa(2048);
    ASSERT_TRUE(key.ok());
    key_ = new profiles::SigningKey(std::move(key).value());
    jwks_path_ = ::testing::TempDir() + "/carnet-identity-jwks-" + RandomHex(4) + ".json";
    std::ofstream(jwks_path_) << key_->JwksJson();
    gateway_ = new GatewayProcess({"--jwks-file", jwks_path_, "--trusted-issuers", kIssuer});
    ASSERT_TRUE(gateway_->WaitHealthy()) << gateway_->Log();
  }
  static void TearDownTestSuite() {
    delete gateway_;
    delete key_;
  }

  static HttpResult Get(const std::string& path, const std::string& token) {
    HttpClient client;
    client.SetBearer(token);
    return client.Get(gateway_->base_url() + path);
  }

  static long long RefusedLogins() {
    auto conn = storage::Connection::Open(TestDbConninfo());
    if (!conn.ok()) return -1;
    auto r = (*conn)->RunDynamic(
        "SELECT count(*) FROM audit_event WHERE actor_kind = 'unauthenticated' AND outcome = '4'", {});
    return r.ok() ? r->GetInt(0, 0) : -1;
  }

  static void ExpectRefused(const std::string& what, const std::string& token) {
    long long before = RefusedLogins();
    auto r = Get("/fhir/Patient?_count=1", token);
    EXPECT_EQ(r.status, 401) << what << ": " << r.body.substr(0, 300);
    EXPECT_NE(r.headers["www-authenticate"].find("Bearer"), std::string::npos) << what;
    EXPECT_NE(r.body.find("OperationOutcome"), std::string::npos) << what;
    EXPECT_EQ(r.body.find("Patient\","), std::string::npos) << what;
    EXPECT_EQ(RefusedLogins(), before + 1) << what << ": the attempt is audited";
  }

  static GatewayProcess* gateway_;
  static profiles::SigningKey* key_;
  static std::string jwks_path_;
};

GatewayProcess* IdentityTest::gateway_ = nullptr;
profiles::SigningKey* IdentityTest::key_ = nullptr;
std::string IdentityTest::jwks_path_;

TEST_F(IdentityTest, ATrustedIssuersTokenIsAccepted) {
  auto token = key_->Sign(Claims(Now() + 600));
  ASSERT_TRUE(token.ok());
  auto r = Get("/fhir/Patient?_count=1", *token);
  EXPECT_EQ(r.status, 200) << r.body.substr(0, 300);
}

TEST_F(IdentityTest, ForgedAndStaleTokensAreRefused) {
  ExpectRefused("no token", "");
  ExpectRefused("not a JWT", "not-a-token");

  JsonValue none = JsonValue::Object();
  none.Set("alg", JsonValue::String("none"));
  none.Set("typ", JsonValue::String("JWT"));
  ExpectRefused("alg none", Unsigned(none, Claims(Now() + 600)) + ".");

  // HS256 keyed with the RSA public key (the algorithm confusion attack).
  JsonValue hs = JsonValue::Object();
  hs.Set("alg", JsonValue::String("HS256"));
  hs.Set("typ", JsonValue::String("JWT"));
  hs.Set("kid", JsonValue::String(key_->kid()));
  std::string input = Unsigned(hs, Claims(Now() + 600));
  std::string secret = PublicKeyPem(*key_);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &mac_len);
  ExpectRefused("HS256 with the RSA public key",
                input + "." + profiles::Base64UrlEncode(std::string(reinterpret_cast<char*>(mac), mac_len)));

  auto expired = key_->Sign(Claims(Now() - 3600));
  ASSERT_TRUE(expired.ok());
  ExpectRefused("expired", *expired);

  auto audience = key_->Sign(Claims(Now() + 600, "another-service"));
  ASSERT_TRUE(audience.ok());
  ExpectRefused("wrong audience", *audience);

  auto issuer = key_->Sign(Claims(Now() + 600, "carnet", "https://evil.example"));
  ASSERT_TRUE(issuer.ok());
  ExpectRefused("untrusted issuer", *issuer);

  JsonValue early = Claims(Now() + 7200);
  early.Set("nbf", JsonValue::Number(std::to_string(Now() + 3600)));
  auto not_yet = key_->Sign(early);
  ASSERT_TRUE(not_yet.ok());
  ExpectRefused("not valid before an hour", *not_yet);

  auto stranger = profiles::SigningKey::GenerateRsa(2048);
  ASSERT_TRUE(stranger.ok());
  auto unknown_kid = stranger->Sign(Claims(Now() + 600));
  ASSERT_TRUE(unknown_kid.ok());
  ExpectRefused("unknown kid", *unknown_kid);

  // A valid token whose payload was changed after signing.
  auto good = key_->Sign(Claims(Now() + 600));
  ASSERT_TRUE(good.ok());
  size_t first = good->find('.'), second = good->find('.', first + 1);
  JsonValue forged = Claims(Now() + 600);
  forged.Set("actor", JsonValue::String("patient"));
  ExpectRefused("payload changed", good->substr(0, first + 1) + profiles::Base64UrlEncode(WriteJson(forged)) +
                                       good->substr(second));
}

TEST_F(IdentityTest, OnlyHealthAndTheCapabilityStatementAreOpen) {
  EXPECT_EQ(Get("/healthz", "").status, 200);
  EXPECT_EQ(Get("/readyz", "").status, 200);
  EXPECT_EQ(Get("/fhir/metadata", "").status, 200);
  EXPECT_EQ(Get("/fhir/Patient/x", "").status, 401);
  EXPECT_EQ(Get("/fhir/metadata/x", "").status, 401);
  // XDS.b: a SOAP 1.2 Fault.
  HttpClient client;
  client.SetBearer("");
  auto r = client.Request("POST", gateway_->base_url() + "/xds/registry", {kSoap},
                          FindDocumentsRequest("11^^^&amp;1.1&amp;ISO"));
  EXPECT_EQ(r.status, 401);
  EXPECT_NE(r.headers["content-type"].find("application/soap+xml"), std::string::npos);
  EXPECT_NE(r.body.find("Fault"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("FailedAuthentication"), std::string::npos) << r.body;
}

}  // namespace
}  // namespace carnet::testing
