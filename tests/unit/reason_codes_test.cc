// Reason codes (issue 19): the fixed vocabulary, carried by every decision of the policy
// decision point and by every refused token, and the log pseudonym of an actor.
#include "profiles/reason_codes.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include "base/strings.h"
#include "profiles/jwt.h"
#include "profiles/policy.h"
#include "profiles/pseudonym.h"

namespace carnet::profiles {
namespace {

constexpr long long kNow = 1'800'000'000;

TEST(ReasonCodes, AFixedVocabularyOfDistinctCodes) {
  std::set<std::string> codes;
  for (Reason r : AllReasons()) {
    std::string code(ReasonCode(r));
    EXPECT_FALSE(code.empty());
    EXPECT_EQ(code.find_first_not_of("abcdefghijklmnopqrstuvwxyz-"), std::string::npos) << code;
    EXPECT_TRUE(codes.insert(code).second) << "twice: " << code;
    EXPECT_FALSE(ReasonMeaning(r).empty()) << code;
    EXPECT_EQ(ParseReason(code), r);
  }
  EXPECT_FALSE(ParseReason("because").has_value());
  for (const char* needed : {"no-consent", "not-in-care-team", "matrix", "masked", "blocked", "closed-record",
                             "opposed", "emergency-expired", "token-expired", "token-wrong-issuer",
                             "token-unknown-key", "token-bad-signature", "scope"})
    EXPECT_TRUE(codes.count(needed)) << needed;
  EXPECT_EQ(SideOf(Reason::kCareTeam), ReasonSide::kPermit);
  EXPECT_EQ(SideOf(Reason::kMasked), ReasonSide::kDeny);
}

RecordContext Record() {
  RecordContext r;
  r.patient_key = 7;
  r.patient_id = "pat-7";
  r.ins = "2770675123456";
  r.treating_physician = "810000000001";
  r.care_team = {"810000000002", "810000000005"};
  r.blocked_professionals = {"810000000005"};
  r.blocked_organisations = {"ORG-X"};
  return r;
}
Actor Pro(const std::string& id, const std::string& profession = "10", const std::string& org = "ORG-1") {
  Actor a;
  a.kind = ActorKind::kProfessional;
  a.subject = "psc-" + id;
  a.national_id = id;
  a.profession = profession;
  a.organisation = org;
  return a;
}
ResourceSummary Doc(const std::string& type, std::vector<std::string> security = {}) {
  ResourceSummary s;
  s.type = "DocumentReference";
  s.id = "d1";
  s.document_type = type;
  s.security = std::move(security);
  s.author_ids = {"810000000099"};
  return s;
}

TEST(ReasonCodes, EveryDecisionSaysWhy) {
  PolicyEnv env;
  env.now = kNow;
  RecordContext rec = Record();
  auto code = [&](const Actor& a, const ResourceSummary& r, const RecordContext& c = Record()) {
    return std::string(ReasonCode(Decide(a, c, r, Action::kRead, env).code));
  };
  EXPECT_EQ(code(Pro("810000000002"), Doc("11502-2")), "care-team");
  EXPECT_EQ(code(Pro("810000000001"), Doc("11502-2", {"MASQUE_PS"})), "treating-physician");
  EXPECT_EQ(code(Pro("810000000003"), Doc("11502-2")), "not-in-care-team");
  Actor consent = Pro("810000000003");
  consent.consent_asserted = true;
  EXPECT_EQ(code(consent, Doc("11502-2")), "consent");
  EXPECT_EQ(code(Pro("810000000005"), Doc("11502-2")), "blocked");
  EXPECT_EQ(code(Pro("810000000002", "10", "ORG-X"), Doc("11502-2")), "organisation-blocked");
  EXPECT_EQ(code(Pro("810000000002"), Doc("11502-2", {"MASQUE_PS"})), "masked");
  EXPECT_EQ(code(Pro("810000000002", "60"), Doc("PSY_SYNTH")), "matrix");
  Actor no_reason = Pro("810000000003");
  no_reason.emergency = true;
  EXPECT_EQ(code(no_reason, Doc("11502-2")), "emergency-no-reason");
  Actor emergency = no_reason;
  emergency.emergency_reason = "unconscious";
  emergency.issued_at = kNow - 10;
  EXPECT_EQ(code(emergency, Doc("11502-2")), "emergency");
  RecordContext started = Record();
  started.emergency_started_at = kNow - 2 * env.emergency_window_s;
  Actor stale = emergency;  // asserted before the window ended
  stale.issued_at = kNow - 3 * env.emergency_window_s;
  EXPECT_EQ(code(stale, Doc("11502-2"), started), "emergency-expired");
  RecordContext opposed_emergency = Record();
  opposed_emergency.emergency_opposed = true;
  EXPECT_EQ(code(emergency, Doc("11502-2"), opposed_emergency), "emergency-opposed");
  RecordContext closed = Record();
  closed.status = RecordStatus::kClosed;
  EXPECT_EQ(code(Pro("810000000002"), Doc("11502-2"), closed), "closed-record");
  RecordContext opposed = Record();
  opposed.status = RecordStatus::kOpposed;
  EXPECT_EQ(code(Pro("810000000002"), Doc("11502-2"), opposed), "opposed");
  Actor app;
  app.kind = ActorKind::kApp;
  app.client_id = "app-unknown";
  app.patient_ins = rec.ins;
  app.scopes = ParseSmartScopes("patient/*.rs");
  EXPECT_EQ(code(app, Doc("11502-2")), "no-consent");
  Actor patient;
  patient.kind = ActorKind::kPatient;
  patient.patient_ins = rec.ins;
  EXPECT_EQ(code(patient, Doc("11502-2")), "own-record");
  EXPECT_EQ(code(patient, Doc("11502-2", {"INVISIBLE_PATIENT"})), "invisible");
  Actor support;
  support.kind = ActorKind::kSupport;
  support.subject = "helpdesk-1";
  EXPECT_FALSE(Decide(support, rec, Doc("11502-2"), Action::kRead, env).allowed);
  EXPECT_TRUE(DecideSupportView(support).allowed);
  EXPECT_EQ(ReasonCode(DecideSupportView(support).code), "support-role");
  EXPECT_FALSE(DecideSupportView(Pro("810000000002")).allowed);
  EXPECT_EQ(DecideSupportView(Pro("810000000002")).refusal, ErrorCode::kForbidden);
  // The search filter carries the record's code; its decision logs as a refusal.
  AccessFilter f = FilterFor(Pro("810000000003"), rec, env);
  EXPECT_EQ(f.reason_code, "not-in-care-team");
  EXPECT_EQ(SideOf(SearchDecision(f).code), ReasonSide::kDeny);
  EXPECT_EQ(FilterFor(Pro("810000000002"), rec, env).reason_code, "care-team");
}

TEST(ReasonCodes, RefusedTokensCarryTheirCode) {
  auto key = SigningKey::GenerateEc();
  ASSERT_TRUE(key.ok());
  JwtVerifier verifier;
  ASSERT_TRUE(verifier.AddJwks(key->JwksJson(), {"iss-1"}).ok());
  auto claims = [](const std::string& iss, long long exp) {
    JsonValue c = JsonValue::Object();
    c.Set("iss", JsonValue::String(iss));
    c.Set("sub", JsonValue::String("s"));
    c.Set("aud", JsonValue::String("carnet"));
    c.Set("exp", JsonValue::Number(std::to_string(exp)));
    c.Set("actor", JsonValue::String("operator"));
    return c;
  };
  auto reason = [&](const std::string& token) {
    Reason why = Reason::kPermitted;
    EXPECT_FALSE(verifier.Verify(token, kNow, &why).ok());
    return std::string(ReasonCode(why));
  };
  EXPECT_EQ(reason(*key->Sign(claims("iss-1", kNow - 3600))), "token-expired");
  EXPECT_EQ(reason(*key->Sign(claims("iss-2", kNow + 60))), "token-wrong-issuer");
  auto other = SigningKey::GenerateEc();
  EXPECT_EQ(reason(*other->Sign(claims("iss-1", kNow + 60))), "token-unknown-key");
  std::string good = *key->Sign(claims("iss-1", kNow + 60));
  EXPECT_TRUE(verifier.Verify(good, kNow).ok());
  std::string tampered = good.substr(0, good.rfind('.') + 1) + (*other->Sign(claims("iss-1", kNow + 60))).substr(
                                                                    good.rfind('.') + 1);
  EXPECT_EQ(reason(tampered), "token-bad-signature");
  EXPECT_EQ(reason("not-a-token"), "credential-malformed");
  JsonValue patient = claims("iss-1", kNow + 60);
  patient.Set("actor", JsonValue::String("patient"));
  EXPECT_EQ(reason(*key->Sign(patient)), "token-claims");
}

TEST(ReasonCodes, PseudonymsAreStableAndKeyed) {
  std::string dir = std::filesystem::temp_directory_path() / ("carnet-pseudo-" + RandomHex(6));
  auto a = Pseudonymiser::LoadOrCreate(dir);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  auto b = Pseudonymiser::LoadOrCreate(dir);  // the same key, read back
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(a->Of("810000000001"), b->Of("810000000001"));
  EXPECT_EQ(a->Of("810000000001").size(), 32u);
  EXPECT_NE(a->Of("810000000001"), a->Of("810000000002"));
  EXPECT_EQ(a->Of("810000000001").find("810000000001"), std::string::npos);
  EXPECT_TRUE(a->Of("").empty());
  auto perms = std::filesystem::status(PseudonymKeyPath(dir)).permissions();
  EXPECT_EQ(perms & (std::filesystem::perms::group_all | std::filesystem::perms::others_all),
            std::filesystem::perms::none);
  Pseudonymiser other("another key");
  EXPECT_NE(other.Of("810000000001"), a->Of("810000000001"));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace carnet::profiles
