// `carnet-gateway token`: the development token is printed as the last line, signed by the
// key kept under the data directory, and verifies with carnet's own verifier.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>

#include "base/json.h"
#include "base/strings.h"
#include "profiles/jwt.h"
#include "storage/connection.h"
#include "tests/integration/harness.h"

namespace carnet::testing {
namespace {

// Runs the gateway binary with `args` (already shell-quoted where needed); stdout only.
CommandRun Gateway(const std::string& args) {
  return RunCommand(std::string(CARNET_GATEWAY_BINARY) + " " + args, /*with_stderr=*/false);
}

std::string LastLine(std::string s) {
  while (!s.empty() && s.back() == '\n') s.pop_back();
  auto nl = s.rfind('\n');
  return nl == std::string::npos ? s : s.substr(nl + 1);
}

long long Now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

class TokenCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = "/tmp/carnet-token-test-" + RandomHex(4);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  profiles::JwtVerifier Verifier() {
    profiles::JwtVerifier v;
    Status st = v.AddJwksFile(profiles::DevJwksPath(dir_), {std::string(profiles::kDevIssuer)});
    EXPECT_TRUE(st.ok()) << st.ToString();
    return v;
  }

  std::string dir_;
};

TEST_F(TokenCommandTest, ProfessionalTokenVerifies) {
  CommandRun r = Gateway("token --data " + dir_ +
                         " --actor professional --id 899700218896 --profession 10 --specialty SM26"
                         " --org R10000000001 --emergency 'arret cardio-respiratoire' --consent");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  std::string token = LastLine(r.out);
  auto actor = Verifier().Verify(token, Now());
  ASSERT_TRUE(actor.ok()) << actor.status().ToString() << "\n" << token;
  EXPECT_EQ(actor->kind, profiles::ActorKind::kProfessional);
  EXPECT_EQ(actor->issuer, "carnet-dev");
  EXPECT_EQ(actor->national_id, "899700218896");
  EXPECT_EQ(actor->profession, "10");
  EXPECT_EQ(actor->specialty, "SM26");
  EXPECT_EQ(actor->organisation, "R10000000001");
  EXPECT_TRUE(actor->emergency);
  EXPECT_EQ(actor->emergency_reason, "arret cardio-respiratoire");
  EXPECT_TRUE(actor->consent_asserted);
  // One hour by default.
  EXPECT_NEAR(static_cast<double>(actor->expires_at), static_cast<double>(Now() + 3600), 60);

  struct stat st;
  ASSERT_EQ(stat(profiles::DevKeyPath(dir_).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  // The private key never appears in the output.
  EXPECT_EQ(r.out.find("PRIVATE"), std::string::npos);
}

TEST_F(TokenCommandTest, OtherActorKindsAndOptions) {
  CommandRun app =
      Gateway("token --data " + dir_ +
              " --actor app --client-id app-1 --patient 2770675123456 --scope 'patient/*.rs'"
              " --scope user/DocumentReference.cruds --ttl 120 --audience carnet-test");
  ASSERT_EQ(app.exit_code, 0);
  profiles::JwtVerifierOptions options;
  options.audience = "carnet-test";
  profiles::JwtVerifier v(options);
  ASSERT_TRUE(v.AddJwksFile(profiles::DevJwksPath(dir_), {"carnet-dev"}).ok());
  auto actor = v.Verify(LastLine(app.out), Now());
  ASSERT_TRUE(actor.ok()) << actor.status().ToString();
  EXPECT_EQ(actor->kind, profiles::ActorKind::kApp);
  EXPECT_EQ(actor->scopes.size(), 2u);
  EXPECT_LE(actor->expires_at, Now() + 121);
  // The default audience does not accept it.
  EXPECT_FALSE(Verifier().Verify(LastLine(app.out), Now()).ok());

  CommandRun guardian = Gateway(
      "token --data " + dir_ +
      " --actor guardian --id parent-1 --guardian-of 2150675123456 --guardian-of 2180675123456");
  ASSERT_EQ(guardian.exit_code, 0);
  auto g = Verifier().Verify(LastLine(guardian.out), Now());
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_EQ(g->represented_ins.size(), 2u);

  // An insurer gets a token, and the token gets nothing.
  CommandRun insurer = Gateway("token --data " + dir_ + " --actor insurer --id mutuelle-1");
  ASSERT_EQ(insurer.exit_code, 0);
  auto i = Verifier().Verify(LastLine(insurer.out), Now());
  ASSERT_TRUE(i.ok());
  EXPECT_EQ(i->kind, profiles::ActorKind::kDenied);

  // The same key signs every token of this data directory.
  CommandRun again = Gateway("token --data " + dir_ + " --actor operator --id op-1");
  ASSERT_EQ(again.exit_code, 0);
  EXPECT_TRUE(Verifier().Verify(LastLine(again.out), Now()).ok());
}

TEST_F(TokenCommandTest, RefusesBadArguments) {
  EXPECT_EQ(Gateway("token --data " + dir_ + " --actor wizard").exit_code, 2);
  EXPECT_EQ(Gateway("token --data " + dir_).exit_code, 2);
  EXPECT_EQ(Gateway("token --data " + dir_ + " --actor patient --frobnicate 1").exit_code, 2);
  EXPECT_EQ(Gateway("token --data " + dir_ + " --actor patient --ttl -5").exit_code, 2);
}

// `carnet token` stays within the lifetime the gateway accepts (--max-token-lifetime-s).
TEST_F(TokenCommandTest, TtlBeyondTheLifetimeCapIsRefused) {
  EXPECT_EQ(Gateway("token --data " + dir_ + " --actor operator --id op-1 --ttl 90000").exit_code,
            2);
  CommandRun two_hours =
      Gateway("token --data " + dir_ +
              " --actor operator --id op-1 --ttl 7200 --max-token-lifetime-s 7200");
  EXPECT_EQ(two_hours.exit_code, 0);
  EXPECT_EQ(Gateway("token --data " + dir_ +
                    " --actor operator --id op-1 --ttl 7201 --max-token-lifetime-s 7200")
                .exit_code,
            2);
}

long long RefusedLogins() {
  auto conn = storage::Connection::Open(TestDbConninfo());
  if (!conn.ok()) return -1;
  auto r = (*conn)->RunDynamic(
      "SELECT count(*) FROM audit_event WHERE actor_kind = 'unauthenticated' AND outcome = '4'",
      {});
  return r.ok() ? r->GetInt(0, 0) : -1;
}

// A token that claims to live for ever (exp in 10^30) is refused by the live gateway with a
// 401 and a failed-login audit record, like any other refused token; what `carnet token`
// issues within the cap is accepted.
TEST(TokenLifetimeTest, GatewayRefusesTokensBeyondTheLifetimeCap) {
  GatewayProcess gateway({"--max-token-lifetime-s", "7200"});
  ASSERT_TRUE(gateway.WaitHealthy()) << gateway.Log();
  auto key = profiles::SigningKey::LoadOrCreateDevKey(TestKeysDir());
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  auto claims = [](const std::string& exp, const std::string& iat) {
    JsonValue c = JsonValue::Object();
    c.Set("iss", JsonValue::String(std::string(profiles::kDevIssuer)));
    c.Set("aud", JsonValue::String("carnet"));
    c.Set("sub", JsonValue::String("ops-forever"));
    c.Set("actor", JsonValue::String("operator"));
    c.Set("exp", JsonValue::Number(exp));
    if (!iat.empty()) c.Set("iat", JsonValue::Number(iat));
    return c;
  };
  std::string now = std::to_string(Now());
  struct Case {
    const char* what;
    JsonValue claims;
  } cases[] = {
      {"exp in 10^30, no iat", claims("1e30", "")},
      {"exp in 10^30 from now", claims("1000000000000000000000000000000", now)},
      {"three hours from iat", claims(std::to_string(Now() + 3 * 3600), now)},
  };
  for (const auto& c : cases) {
    auto token = key->Sign(c.claims);
    ASSERT_TRUE(token.ok());
    long long before = RefusedLogins();
    HttpClient client;
    client.SetBearer(*token);
    auto r = client.Get(gateway.base_url() + "/fhir/Patient?_count=1");
    EXPECT_EQ(r.status, 401) << c.what << ": " << r.body.substr(0, 300);
    EXPECT_NE(r.body.find("OperationOutcome"), std::string::npos) << c.what;
    EXPECT_NE(r.headers["www-authenticate"].find("Bearer"), std::string::npos) << c.what;
    EXPECT_EQ(RefusedLogins(), before + 1) << c.what << ": the attempt is audited";
    // The operator reads why in the log, under the answer's request id; the caller does not.
    std::string id = r.headers["x-request-id"];
    ASSERT_FALSE(id.empty());
    std::string log = gateway.Log();
    size_t at = log.find("\"event\":\"authentication_refused\",\"request_id\":\"" + id + "\"");
    ASSERT_NE(at, std::string::npos) << c.what;
    size_t detail = log.find("\"detail\":\"", at) + 10;
    std::string why = log.substr(detail, log.find('"', detail) - detail);
    EXPECT_FALSE(why.empty()) << c.what;
    EXPECT_EQ(r.body.find(why), std::string::npos) << c.what << ": " << why;
  }
  auto hour = key->Sign(claims(std::to_string(Now() + 3600), now));
  ASSERT_TRUE(hour.ok());
  HttpClient client;
  client.SetBearer(*hour);
  EXPECT_EQ(client.Get(gateway.base_url() + "/fhir/Patient?_count=1").status, 200);
  // `carnet token` with its default lifetime (one hour) is accepted.
  client.SetBearer(Token({"--actor", "operator", "--id", "ops-1"}));
  EXPECT_EQ(client.Get(gateway.base_url() + "/fhir/Patient?_count=1").status, 200);
}

}  // namespace
}  // namespace carnet::testing
