// JWT verification (profiles/jwt.h): tokens are made here with OpenSSL directly, not with
// carnet's signer, so that a mistake shared by signer and verifier cannot hide.
#include "profiles/jwt.h"

#include <gtest/gtest.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <sys/stat.h>

#include <filesystem>

#include "base/strings.h"

namespace carnet::profiles {
namespace {

constexpr long long kNow = 1'800'000'000;  // 2027-01-15

std::string Bn(EVP_PKEY* key, const char* name, int pad) {
  BIGNUM* bn = nullptr;
  EXPECT_EQ(EVP_PKEY_get_bn_param(key, name, &bn), 1);
  int n = pad ? pad : BN_num_bytes(bn);
  std::string out(static_cast<size_t>(n), '\0');
  BN_bn2binpad(bn, reinterpret_cast<unsigned char*>(out.data()), n);
  BN_free(bn);
  return Base64UrlEncode(out);
}

std::string RsaJwk(EVP_PKEY* key, const std::string& kid) {
  return R"({"kty":"RSA","kid":")" + kid + R"(","use":"sig","n":")" +
         Bn(key, OSSL_PKEY_PARAM_RSA_N, 0) + R"(","e":")" + Bn(key, OSSL_PKEY_PARAM_RSA_E, 0) +
         "\"}";
}

std::string EcJwk(EVP_PKEY* key, const std::string& kid) {
  return R"({"kty":"EC","crv":"P-256","kid":")" + kid + R"(","x":")" +
         Bn(key, OSSL_PKEY_PARAM_EC_PUB_X, 32) + R"(","y":")" +
         Bn(key, OSSL_PKEY_PARAM_EC_PUB_Y, 32) + "\"}";
}

// Signature over `input` as JOSE wants it (raw r||s for ES256).
std::string Sign(EVP_PKEY* key, bool ec, const std::string& input) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  size_t len = 0;
  EXPECT_EQ(EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, key), 1);
  EVP_DigestSign(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(input.data()),
                 input.size());
  std::string sig(len, '\0');
  EXPECT_EQ(EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len,
                           reinterpret_cast<const unsigned char*>(input.data()), input.size()),
            1);
  sig.resize(len);
  EVP_MD_CTX_free(ctx);
  if (!ec) return sig;
  const unsigned char* p = reinterpret_cast<const unsigned char*>(sig.data());
  ECDSA_SIG* es = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(sig.size()));
  const BIGNUM *r = nullptr, *s = nullptr;
  ECDSA_SIG_get0(es, &r, &s);
  std::string raw(64, '\0');
  BN_bn2binpad(r, reinterpret_cast<unsigned char*>(raw.data()), 32);
  BN_bn2binpad(s, reinterpret_cast<unsigned char*>(raw.data()) + 32, 32);
  ECDSA_SIG_free(es);
  return raw;
}

std::string Claims(const std::string& extra = "", long long exp = kNow + 600,
                   const std::string& iss = "https://auth.esante.gouv.fr/auth/realms/esante-wallet",
                   const std::string& aud = "\"carnet\"") {
  return R"({"iss":")" + iss + R"(","aud":)" + aud + R"(,"exp":)" + std::to_string(exp) +
         R"(,"iat":)" + std::to_string(kNow - 10) +
         R"(,"sub":"f:550dc1c8:899700218896","preferred_username":"899700218896",)"
         R"("SubjectRefPro":{"exercices":[{"codeProfession":"10","codeSavoirFaire":"SM26",)"
         R"("activities":[{"identifiantTechniqueDeLaStructure":"R10000000001"}]}]})" +
         extra + "}";
}

class JwtTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    rsa_ = EVP_RSA_gen(2048);
    ec_ = EVP_EC_gen("P-256");
    other_ec_ = EVP_EC_gen("P-256");
  }
  static void TearDownTestSuite() {
    EVP_PKEY_free(rsa_);
    EVP_PKEY_free(ec_);
    EVP_PKEY_free(other_ec_);
  }
  void SetUp() override {
    std::string jwks = "{\"keys\":[" + RsaJwk(rsa_, "rsa-1") + "," + EcJwk(ec_, "ec-1") + "]}";
    ASSERT_TRUE(verifier_.AddJwks(jwks, {kPsc}).ok());
  }

  static std::string Token(EVP_PKEY* key, const std::string& header, const std::string& claims) {
    std::string input = Base64UrlEncode(header) + "." + Base64UrlEncode(claims);
    return input + "." + Base64UrlEncode(Sign(key, key != rsa_, input));
  }
  static std::string Rs256(const std::string& claims) {
    return Token(rsa_, R"({"alg":"RS256","typ":"JWT","kid":"rsa-1"})", claims);
  }
  static std::string Es256(const std::string& claims) {
    return Token(ec_, R"({"alg":"ES256","typ":"JWT","kid":"ec-1"})", claims);
  }
  void ExpectRefused(const std::string& token, const std::string& why) {
    auto r = verifier_.Verify(token, kNow);
    ASSERT_FALSE(r.ok()) << why;
    EXPECT_EQ(r.status().code(), ErrorCode::kUnauthorized) << why;
    EXPECT_NE(r.status().message().find(why), std::string::npos) << r.status().message();
  }

  static inline const std::string kPsc = "https://auth.esante.gouv.fr/auth/realms/esante-wallet";
  static inline EVP_PKEY* rsa_ = nullptr;
  static inline EVP_PKEY* ec_ = nullptr;
  static inline EVP_PKEY* other_ec_ = nullptr;
  JwtVerifier verifier_;
};

TEST_F(JwtTest, Base64UrlIsStrict) {
  EXPECT_EQ(Base64UrlEncode("\xfb\xff"), "-_8");
  EXPECT_EQ(*Base64UrlDecode("-_8"), "\xfb\xff");
  EXPECT_EQ(*Base64UrlDecode(""), "");
  EXPECT_FALSE(Base64UrlDecode("-_8=").has_value());  // padding
  EXPECT_FALSE(Base64UrlDecode("+/8").has_value());   // standard alphabet
  EXPECT_FALSE(Base64UrlDecode("a").has_value());     // impossible length
  EXPECT_FALSE(Base64UrlDecode("-_9").has_value());   // non-zero trailing bits
  EXPECT_FALSE(Base64UrlDecode("ab cd").has_value());
}

TEST_F(JwtTest, AcceptsRs256AndMapsProSanteConnectClaims) {
  auto actor = verifier_.Verify(Rs256(Claims()), kNow);
  ASSERT_TRUE(actor.ok()) << actor.status().ToString();
  EXPECT_EQ(actor->kind, ActorKind::kProfessional);
  EXPECT_EQ(actor->national_id, "899700218896");
  EXPECT_EQ(actor->profession, "10");
  EXPECT_EQ(actor->specialty, "SM26");
  EXPECT_EQ(actor->organisation, "R10000000001");
  EXPECT_EQ(actor->issuer, kPsc);
  EXPECT_FALSE(actor->emergency);
}

TEST_F(JwtTest, AcceptsEs256WithAudienceArrayAndEmergencyClaims) {
  auto actor = verifier_.Verify(
      Es256(Claims(
          R"(,"Acces_Regulation_Medicale":"BRIS_DE_GLACE","Mode_Acces_Raison":"arret cardiaque")",
          kNow + 600, kPsc, R"(["other","carnet"])")),
      kNow);
  ASSERT_TRUE(actor.ok()) << actor.status().ToString();
  EXPECT_TRUE(actor->emergency);
  EXPECT_EQ(actor->emergency_reason, "arret cardiaque");
}

TEST_F(JwtTest, RefusesAlgNone) {
  std::string claims = Claims();
  ExpectRefused(
      Base64UrlEncode(R"({"alg":"none","kid":"rsa-1"})") + "." + Base64UrlEncode(claims) + ".",
      "alg none");
  ExpectRefused(Base64UrlEncode(R"({"alg":"none"})") + "." + Base64UrlEncode(claims) + ".",
                "alg none");
}

TEST_F(JwtTest, RefusesHs256SignedWithTheRsaPublicKey) {
  // The classic key-confusion attack: the public key, which anyone has, as HMAC secret.
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PUBKEY(bio, rsa_);
  char* pem = nullptr;
  long pem_len = BIO_get_mem_data(bio, &pem);
  std::string input = Base64UrlEncode(R"({"alg":"HS256","typ":"JWT","kid":"rsa-1"})") + "." +
                      Base64UrlEncode(Claims());
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  HMAC(EVP_sha256(), pem, static_cast<int>(pem_len),
       reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &mac_len);
  BIO_free(bio);
  ExpectRefused(input + "." + Base64UrlEncode(std::string(reinterpret_cast<char*>(mac), mac_len)),
                "HMAC");
}

TEST_F(JwtTest, RefusesOtherAlgsAndAlgKeyMismatch) {
  ExpectRefused(Token(rsa_, R"({"alg":"RS512","kid":"rsa-1"})", Claims()), "not allowed");
  ExpectRefused(Token(rsa_, R"({"alg":"PS256","kid":"rsa-1"})", Claims()), "not allowed");
  // An ES256 header naming the RSA key.
  ExpectRefused(Token(ec_, R"({"alg":"ES256","kid":"rsa-1"})", Claims()), "does not match");
  ExpectRefused(Token(rsa_, R"({"alg":"RS256","kid":"rsa-1","crit":["exp"]})", Claims()), "crit");
  ExpectRefused(Token(rsa_, R"({"alg":"RS256"})", Claims()), "without kid");
}

TEST_F(JwtTest, RefusesExpiredAndNotYetValidWithinSkew) {
  ExpectRefused(Rs256(Claims("", kNow - 61)), "expired");
  // Inside the 60 s skew: still accepted.
  EXPECT_TRUE(verifier_.Verify(Rs256(Claims("", kNow - 30)), kNow).ok());
  ExpectRefused(Rs256(Claims(",\"nbf\":" + std::to_string(kNow + 120))), "nbf");
  EXPECT_TRUE(verifier_.Verify(Rs256(Claims(",\"nbf\":" + std::to_string(kNow + 30))), kNow).ok());
  ExpectRefused(Rs256(R"({"iss":")" + kPsc + R"(","aud":"carnet","sub":"x"})"), "without exp");
  ExpectRefused(Rs256(R"({"iss":")" + kPsc + R"(","aud":"carnet","sub":"x","exp":"1800000600"})"),
                "without exp");
}

TEST_F(JwtTest, RefusesLifetimesBeyondTheCap) {
  const long long kDay = 24 * 3600;
  // Claims() carries iat = kNow - 10: the lifetime is measured from it.
  ExpectRefused(Rs256(Claims("", 1'000'000'000'000'000LL)), "lifetime");
  ExpectRefused(Rs256(R"({"iss":")" + kPsc + R"(","aud":"carnet","sub":"x","exp":1e30})"),
                "from now");
  EXPECT_TRUE(verifier_.Verify(Rs256(Claims("", kNow - 10 + kDay)), kNow).ok());
  ExpectRefused(Rs256(Claims("", kNow - 9 + kDay)), "lifetime");
  // An old iat does not make a long-lived token acceptable later in its life.
  std::string old_iat = R"({"iss":")" + kPsc + R"(","aud":"carnet","sub":"x","iat":)" +
                        std::to_string(kNow - 10 * kDay) + R"(,"exp":)" +
                        std::to_string(kNow + 600) + "}";
  ExpectRefused(Rs256(old_iat), "lifetime");
  // A future iat does not hide a far exp: exp - now is capped too (with the clock skew).
  std::string future_iat =
      R"({"iss":")" + kPsc + R"(","aud":"carnet","sub":"x","iat":1e30,"exp":1e30})";
  ExpectRefused(Rs256(future_iat), "from now");
  auto no_iat = [&](long long exp) {
    return Rs256(R"({"iss":")" + kPsc + R"(","aud":"carnet","sub":"x","exp":)" +
                 std::to_string(exp) + "}");
  };
  EXPECT_TRUE(verifier_.VerifyClaims(no_iat(kNow + kDay + 30), kNow).ok());
  ExpectRefused(no_iat(kNow + kDay + 61), "from now");
  // The cap is a setting.
  JwtVerifierOptions hour;
  hour.max_lifetime_s = 3600;
  JwtVerifier strict(hour);
  ASSERT_TRUE(strict.AddJwks("{\"keys\":[" + RsaJwk(rsa_, "rsa-1") + "]}", {kPsc}).ok());
  EXPECT_TRUE(strict.VerifyClaims(no_iat(kNow + 3000), kNow).ok());
  EXPECT_FALSE(strict.VerifyClaims(no_iat(kNow + 7200), kNow).ok());
}

TEST_F(JwtTest, RefusesWrongAudienceAndIssuer) {
  ExpectRefused(Rs256(Claims("", kNow + 600, kPsc, "\"someone-else\"")), "audience");
  ExpectRefused(Rs256(Claims("", kNow + 600, kPsc, "[]")), "audience");
  ExpectRefused(Rs256(Claims("", kNow + 600, "https://evil.example/")), "issuer");
  ExpectRefused(Rs256(Claims("", kNow + 600, std::string(kDevIssuer))), "issuer");
}

TEST_F(JwtTest, RefusesUnknownKidAndForeignKey) {
  ExpectRefused(Token(ec_, R"({"alg":"ES256","kid":"ec-unknown"})", Claims()), "unknown key");
  // Right kid, wrong key: the signature does not verify.
  ExpectRefused(Token(other_ec_, R"({"alg":"ES256","kid":"ec-1"})", Claims()), "signature");
}

TEST_F(JwtTest, RefusesTamperedPayloadAndSignature) {
  std::string token = Rs256(Claims());
  auto dot1 = token.find('.'), dot2 = token.rfind('.');
  std::string forged = Claims().replace(Claims().find("899700218896\","), 12, "899700000000");
  ExpectRefused(token.substr(0, dot1 + 1) + Base64UrlEncode(forged) + token.substr(dot2),
                "signature");
  std::string es = Es256(Claims());
  es[es.size() - 5] = es[es.size() - 5] == 'A' ? 'B' : 'A';
  ExpectRefused(es, "signature");
  // A truncated ES256 signature is not 64 bytes.
  std::string es2 = Es256(Claims());
  ExpectRefused(es2.substr(0, es2.size() - 4), "signature");
}

// A token's signature is checked once (the verifier remembers the tokens it verified); what
// depends on time is checked at every use, and a token forged from a remembered one is not
// remembered.
TEST_F(JwtTest, RemembersSignaturesNotValidity) {
  std::string token = Rs256(Claims("", kNow + 100));
  ASSERT_TRUE(verifier_.Verify(token, kNow).ok());
  ASSERT_TRUE(verifier_.Verify(token, kNow).ok());
  auto later = verifier_.Verify(token, kNow + 200);
  ASSERT_FALSE(later.ok());
  EXPECT_NE(later.status().message().find("expired"), std::string::npos);
  auto dot1 = token.find('.'), dot2 = token.rfind('.');
  std::string forged = Claims("", kNow + 100);
  forged.replace(forged.find("899700218896\","), 12, "899700000000");
  ExpectRefused(token.substr(0, dot1 + 1) + Base64UrlEncode(forged) + token.substr(dot2),
                "signature");
  std::string flipped = token;
  flipped[flipped.size() - 3] = flipped[flipped.size() - 3] == 'A' ? 'B' : 'A';
  ExpectRefused(flipped, "signature");
  // A verifier built anew (a key rotation) starts with nothing remembered.
  JwtVerifier fresh;
  auto unknown = fresh.Verify(token, kNow);
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("unknown key"), std::string::npos);
}

TEST_F(JwtTest, RefusesMalformedTokens) {
  std::string token = Rs256(Claims());
  auto dot1 = token.find('.');
  ExpectRefused("", "empty");
  ExpectRefused("abc", "compact JWS");
  ExpectRefused(token + ".x", "compact JWS");
  ExpectRefused("e30=" + token.substr(dot1), "base64url");                   // padded header
  ExpectRefused(Base64UrlEncode("{\"alg\":") + token.substr(dot1), "JSON");  // broken JSON
  ExpectRefused(token.substr(0, dot1 + 1) + "****" + token.substr(token.rfind('.')), "signature");
  ExpectRefused(token.substr(0, token.rfind('.') + 1) + "!!!", "base64url");
  ExpectRefused(std::string(20000, 'a'), "too long");
}

TEST_F(JwtTest, JwksRulesAndIssuerBinding) {
  JwtVerifier v;
  EXPECT_FALSE(v.AddJwks("{}", {"x"}).ok());
  EXPECT_FALSE(v.AddJwks(R"({"keys":[{"kty":"oct","kid":"h","k":"c2VjcmV0"}]})", {"x"}).ok());
  EXPECT_FALSE(
      v.AddJwks(R"({"keys":[{"kty":"EC","crv":"P-256","kid":"bad","x":"AAAA","y":"AAAA"}]})", {"x"})
          .ok());
  // A point that is not on the curve.
  std::string zeros = Base64UrlEncode(std::string(32, '\0'));
  EXPECT_FALSE(v.AddJwks(R"({"keys":[{"kty":"EC","crv":"P-256","kid":"off","x":")" + zeros +
                             R"(","y":")" + zeros + "\"}]}",
                         {"x"})
                   .ok());
  EXPECT_FALSE(v.AddJwks("{\"keys\":[" + EcJwk(ec_, "k") + "]}", {}).ok());
  // Keys trusted for one issuer only.
  JwtVerifier split;
  ASSERT_TRUE(split.AddJwks("{\"keys\":[" + EcJwk(ec_, "ec-1") + "]}", {"issuer-a"}).ok());
  ASSERT_TRUE(split.AddJwks("{\"keys\":[" + RsaJwk(rsa_, "rsa-1") + "]}", {"issuer-b"}).ok());
  EXPECT_FALSE(split.AddJwks("{\"keys\":[" + RsaJwk(rsa_, "rsa-1") + "]}", {"issuer-c"}).ok());
  EXPECT_TRUE(split.VerifyClaims(Es256(Claims("", kNow + 600, "issuer-a")), kNow).ok());
  auto cross = split.VerifyClaims(Es256(Claims("", kNow + 600, "issuer-b")), kNow);
  EXPECT_EQ(cross.status().code(), ErrorCode::kUnauthorized);
}

TEST_F(JwtTest, ClaimsDescribeEveryActorKind) {
  auto actor = [&](const std::string& body) {
    return verifier_.Verify(Es256(R"({"iss":")" + kPsc + R"(","aud":"carnet","exp":)" +
                                  std::to_string(kNow + 60) + "," + body + "}"),
                            kNow);
  };
  auto patient = actor(R"("sub":"p1","actor":"patient","ins":"1840675123456")");
  ASSERT_TRUE(patient.ok());
  EXPECT_EQ(patient->kind, ActorKind::kPatient);
  EXPECT_EQ(patient->patient_ins, "1840675123456");
  EXPECT_EQ(actor(R"("sub":"p1","actor":"patient")").status().code(), ErrorCode::kUnauthorized);
  auto guardian =
      actor(R"("sub":"g1","actor":"guardian","guardian_of":["2150675123456","2180675123456"])");
  ASSERT_TRUE(guardian.ok());
  EXPECT_EQ(guardian->represented_ins.size(), 2u);
  auto app = actor(
      R"("sub":"u","client_id":"app-42","patient":"pat-1","scope":"openid launch/patient patient/*.rs user/DocumentReference.cruds patient/Observation.read")");
  ASSERT_TRUE(app.ok());
  EXPECT_EQ(app->kind, ActorKind::kApp);
  ASSERT_EQ(app->scopes.size(), 3u);
  EXPECT_TRUE(ScopesAllow(app->scopes, "Condition", 's'));
  EXPECT_FALSE(ScopesAllow(app->scopes, "Condition", 'c'));
  EXPECT_TRUE(ScopesAllow(app->scopes, "DocumentReference", 'd'));
  auto system = actor(R"("client_id":"lab-42","scope":"system/DocumentReference.c")");
  ASSERT_TRUE(system.ok());
  EXPECT_EQ(system->kind, ActorKind::kSystem);
  EXPECT_EQ(system->PrincipalId(), "lab-42");
  // Insurers are recognised whatever else the token says.
  auto insurer = actor(
      R"("sub":"m","actor":"professional","preferred_username":"899700218896","SubjectRole":["assureur"])");
  ASSERT_TRUE(insurer.ok());
  EXPECT_EQ(insurer->kind, ActorKind::kDenied);
  auto employer = actor(R"("sub":"e","actor":"employer")");
  ASSERT_TRUE(employer.ok());
  EXPECT_EQ(employer->kind, ActorKind::kDenied);
  EXPECT_EQ(actor(R"("sub":"x","actor":"wizard")").status().code(), ErrorCode::kUnauthorized);
  EXPECT_EQ(actor(R"("sub":"x")").status().code(), ErrorCode::kUnauthorized);
}

TEST(SmartScopeTest, ParsesV2AndV1Forms) {
  auto s = ParseSmartScope("user/DocumentReference.cruds");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->context, ScopeContext::kUser);
  EXPECT_TRUE(s->create && s->read && s->update && s->remove && s->search);
  EXPECT_FALSE(ParseSmartScope("patient/*.sr"));  // out of order
  EXPECT_FALSE(ParseSmartScope("patient/*.x"));
  EXPECT_FALSE(ParseSmartScope("patient/observation.rs"));
  // Query-restricted scopes: token parameters category, code, status; anything else grants
  // nothing (nullopt), and a restricted scope never grants the whole type.
  auto restricted = ParseSmartScope("patient/Observation.rs?category=laboratory");
  ASSERT_TRUE(restricted);
  ASSERT_EQ(restricted->restriction.size(), 1u);
  EXPECT_EQ(restricted->restriction[0].param, "category");
  EXPECT_EQ(restricted->restriction[0].code, "laboratory");
  EXPECT_TRUE(restricted->restriction[0].any_system);
  EXPECT_FALSE(restricted->Allows("Observation", 's'));
  EXPECT_TRUE(restricted->AllowsResource("Observation", 's', {{"category", "x", "laboratory"}}));
  EXPECT_FALSE(restricted->AllowsResource("Observation", 's', {{"category", "x", "vital-signs"}}));
  EXPECT_FALSE(restricted->AllowsResource("Observation", 'c', {{"category", "x", "laboratory"}}));
  auto coded = ParseSmartScope("patient/Observation.rs?code=http://loinc.org|29463-7&status=final");
  ASSERT_TRUE(coded);
  ASSERT_EQ(coded->restriction.size(), 2u);
  EXPECT_FALSE(coded->restriction[0].any_system);
  EXPECT_EQ(coded->restriction[0].system, "http://loinc.org");
  EXPECT_FALSE(
      coded->AllowsResource("Observation", 'r', {{"code", "http://loinc.org", "29463-7"}}));
  EXPECT_TRUE(coded->AllowsResource(
      "Observation", 'r', {{"code", "http://loinc.org", "29463-7"}, {"status", "", "final"}}));
  EXPECT_FALSE(coded->AllowsResource(
      "Observation", 'r',
      {{"code", "http://snomed.info/sct", "29463-7"}, {"status", "", "final"}}));
  EXPECT_FALSE(ParseSmartScope("patient/Observation.rs?value-quantity=gt10"));
  EXPECT_FALSE(ParseSmartScope("patient/Observation.rs?category:not=laboratory"));
  EXPECT_FALSE(ParseSmartScope("patient/Observation.rs?category=a,b"));
  EXPECT_FALSE(ParseSmartScope("patient/Observation.rs?category="));
  EXPECT_FALSE(ParseSmartScope("patient/Observation.rs?"));
  EXPECT_FALSE(ParseSmartScope("launch/patient"));
  auto v1 = ParseSmartScope("patient/Observation.write");
  ASSERT_TRUE(v1);
  EXPECT_TRUE(v1->create && v1->update && v1->remove && !v1->read);
}

TEST(SigningKeyTest, DevKeyIsPrivateStableAndVerifies) {
  std::string dir = "/tmp/carnet-jwt-test-" + RandomHex(4);
  auto key = SigningKey::LoadOrCreateDevKey(dir);
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  struct stat st;
  ASSERT_EQ(stat(DevKeyPath(dir).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(stat((dir + "/keys").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  auto again = SigningKey::LoadOrCreateDevKey(dir);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->kid(), key->kid());
  EXPECT_EQ(key->alg(), "ES256");

  IdentitySettings settings;
  settings.trust_dev_key = true;
  settings.data_dir = dir;
  auto verifier = LoadJwtVerifier(settings);
  ASSERT_TRUE(verifier.ok()) << verifier.status().ToString();
  JsonValue claims = *ParseJson(R"({"iss":"carnet-dev","aud":"carnet","exp":)" +
                                std::to_string(kNow + 60) + R"(,"actor":"operator","sub":"op-1"})");
  auto token = key->Sign(claims);
  ASSERT_TRUE(token.ok());
  auto actor = verifier->Verify(*token, kNow);
  ASSERT_TRUE(actor.ok()) << actor.status().ToString();
  EXPECT_EQ(actor->kind, ActorKind::kOperator);
  // Without trust_dev_key, the same token is refused.
  settings.trust_dev_key = false;
  auto strict = LoadJwtVerifier(settings);
  ASSERT_TRUE(strict.ok());
  EXPECT_EQ(strict->key_count(), 0u);
  EXPECT_EQ(strict->Verify(*token, kNow).status().code(), ErrorCode::kUnauthorized);
  // A key file others can read is refused.
  chmod(DevKeyPath(dir).c_str(), 0644);
  EXPECT_FALSE(SigningKey::LoadOrCreateDevKey(dir).ok());
  std::filesystem::remove_all(dir);
}

TEST(SigningKeyTest, RsaSignerRoundTrips) {
  auto key = SigningKey::GenerateRsa(2048);
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(key->alg(), "RS256");
  auto reloaded = SigningKey::FromPem(key->PrivatePem());
  ASSERT_TRUE(reloaded.ok());
  EXPECT_EQ(reloaded->kid(), key->kid());
  JwtVerifier v;
  ASSERT_TRUE(v.AddJwks(key->JwksJson(), {"iss-r"}).ok());
  JsonValue claims = *ParseJson(R"({"iss":"iss-r","aud":"carnet","exp":)" +
                                std::to_string(kNow + 60) + R"(,"client_id":"dmp-source-1"})");
  auto token = reloaded->Sign(claims);
  ASSERT_TRUE(token.ok());
  auto actor = v.Verify(*token, kNow);
  ASSERT_TRUE(actor.ok()) << actor.status().ToString();
  EXPECT_EQ(actor->kind, ActorKind::kSystem);
}

}  // namespace
}  // namespace carnet::profiles
