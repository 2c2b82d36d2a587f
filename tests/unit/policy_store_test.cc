// The SQL side of the policy (profiles/policy_store.h) against a scratch database: the
// record context as loaded, care teams and app authorisations kept in step, and one whole
// decision + audit round.
#include "profiles/policy_store.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "storage/migrations.h"
#include "tests/unit/test_db.h"

namespace carnet::profiles {
namespace {

using carnet::testing::ScratchDatabase;

class PolicyStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto c = storage::Connection::Open(db_.conninfo());
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    conn_ = std::move(c).value();
    ASSERT_TRUE(storage::ApplyMigrations(*conn_, storage::BuiltinMigrations()).ok());
    auto r = conn_->Exec(
        "INSERT INTO patient (resource_id, ins, ins_system, treating_physician) VALUES "
        "('pat-1', '2770675000001', '1.2.250.1.213.1.4.10', '810000000001'), "
        "('pat-2', '2770675000002', '1.2.250.1.213.1.4.10', NULL) RETURNING patient_key");
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    key_ = r->GetInt(0, 0);
    other_ = r->GetInt(1, 0);
    ASSERT_TRUE(conn_
                    ->Exec("INSERT INTO patient_block (patient_key, kind, actor_id) VALUES (" +
                           std::to_string(key_) + ", 'professional', '810000000009'), (" +
                           std::to_string(key_) + ", 'organisation', 'ORG-9')")
                    .ok());
    ASSERT_TRUE(conn_->Exec("BEGIN").ok());
  }
  void TearDown() override { (void)conn_->Exec("ROLLBACK"); }

  ScratchDatabase db_;
  std::unique_ptr<storage::Connection> conn_;
  long long key_ = 0, other_ = 0;
};

Actor Pro(const std::string& id) {
  Actor a;
  a.kind = ActorKind::kProfessional;
  a.national_id = id;
  a.profession = "10";
  return a;
}

TEST_F(PolicyStoreTest, LoadsTheRecordContext) {
  storage::Transaction tx(*conn_);
  auto careteam = ParseJson(R"({"resourceType":"CareTeam","id":"ct1","status":"active",
    "contained":[{"resourceType":"Practitioner","id":"p","identifier":[{"value":"810000000003"}]}],
    "participant":[{"member":{"identifier":{"value":"810000000002"}}},{"member":{"reference":"#p"}}]})");
  ASSERT_TRUE(careteam.ok());
  ASSERT_TRUE(SyncCareTeam(tx, key_, "ct1", *careteam).ok());
  ASSERT_TRUE(SetAppAuthorisation(tx, key_, "app-1", "patient/*.rs", "consent-1").ok());

  auto r = LoadRecordContext(tx, key_, Pro("810000000002"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->patient_id, "pat-1");
  EXPECT_EQ(r->ins, "2770675000001");
  EXPECT_EQ(r->status, RecordStatus::kActive);
  EXPECT_EQ(r->treating_physician, "810000000001");
  EXPECT_EQ(r->blocked_professionals, std::vector<std::string>{"810000000009"});
  EXPECT_EQ(r->blocked_organisations, std::vector<std::string>{"ORG-9"});
  std::vector<std::string> team = r->care_team;
  std::sort(team.begin(), team.end());
  EXPECT_EQ(team, (std::vector<std::string>{"810000000002", "810000000003"}));
  EXPECT_EQ(LoadRecordContext(tx, 999999, Pro("x")).status().code(), ErrorCode::kNotFound);

  Actor app;
  app.kind = ActorKind::kApp;
  app.client_id = "app-1";
  app.patient_ins = "2770675000001";
  auto for_app = LoadRecordContext(tx, key_, app);
  ASSERT_TRUE(for_app.ok());
  ASSERT_EQ(for_app->authorised_apps.size(), 1u);
  EXPECT_TRUE(ScopesAllow(for_app->authorised_apps[0].scopes, "Observation", 'r'));
  EXPECT_FALSE(for_app->authorised_apps[0].measurement_kinds) << "no kind chosen: every kind";

  // A Consent that lists kinds of measurement: those, kept with the scopes; an unknown kind
  // refused.
  auto consent = [](const std::string& kinds) {
    auto c = ParseJson(R"({"resourceType":"Consent","status":"active",
      "extension":[{"url":"https://carnet.example.org/fhir/StructureDefinition/smart-scopes","valueString":"patient/Observation.crs"}],
      "provision":{"type":"permit","code":[)" +
                       kinds + R"(],
      "actor":[{"reference":{"identifier":{"system":"urn:ietf:params:oauth:client-id","value":"app-2"}}}]}})");
    EXPECT_TRUE(c.ok());
    return *c;
  };
  auto kind = [](const std::string& k) {
    return R"({"coding":[{"system":"https://carnet.example.org/fhir/CodeSystem/measurement-kind","code":")" +
           k + R"("}]})";
  };
  JsonValue two = consent(kind("weight") + "," + kind("glucose"));
  ASSERT_TRUE(SyncAppConsent(tx, key_, "consent-2", &two).ok());
  app.client_id = "app-2";
  auto kinds = LoadRecordContext(tx, key_, app);
  ASSERT_TRUE(kinds.ok());
  const AuthorisedApp* app2 = nullptr;
  for (const auto& a : kinds->authorised_apps)
    if (a.client_id == "app-2") app2 = &a;
  ASSERT_NE(app2, nullptr);
  ASSERT_TRUE(app2->measurement_kinds);
  EXPECT_EQ(*app2->measurement_kinds, (std::vector<std::string>{"weight", "glucose"}));
  EXPECT_TRUE(ScopesAllow(app2->scopes, "Observation", 'c'));
  JsonValue mood = consent(kind("mood"));
  EXPECT_EQ(SyncAppConsent(tx, key_, "consent-3", &mood).code(), ErrorCode::kInvalid);
  app.client_id = "app-1";
  // Revoked: gone at once.
  ASSERT_TRUE(SetAppAuthorisation(tx, key_, "app-1", "", "").ok());
  auto after = LoadRecordContext(tx, key_, app);
  ASSERT_TRUE(after.ok());
  for (const auto& a : after->authorised_apps) EXPECT_NE(a.client_id, "app-1");

  // The care team follows its CareTeam: inactive, nobody is presumed authorised.
  auto inactive = ParseJson(R"({"resourceType":"CareTeam","status":"inactive"})");
  ASSERT_TRUE(SyncCareTeam(tx, key_, "ct1", *inactive).ok());
  EXPECT_TRUE(LoadRecordContext(tx, key_, Pro("810000000002"))->care_team.empty());
}

TEST_F(PolicyStoreTest, FindsTheActorsRecords) {
  storage::Transaction tx(*conn_);
  Actor guardian;
  guardian.kind = ActorKind::kGuardian;
  guardian.represented_ins = {"2770675000002", "2770675000001", "0000"};
  EXPECT_EQ(*FindActorRecords(tx, guardian), (std::vector<long long>{key_, other_}));
  Actor app;
  app.kind = ActorKind::kApp;
  app.patient_id = "pat-2";
  EXPECT_EQ(*FindActorRecords(tx, app), std::vector<long long>{other_});
  EXPECT_TRUE(FindActorRecords(tx, Pro("810000000002"))->empty());
}

TEST_F(PolicyStoreTest, EmergencyDecisionAndAuditRound) {
  storage::Transaction tx(*conn_);
  Actor a = Pro("810000000005");
  a.emergency = true;
  a.emergency_reason = "coma";
  a.issued_at = 1'800'000'000;
  PolicyEnv env;
  env.now = 1'800'000'010;
  auto record = LoadRecordContext(tx, key_, a);
  ASSERT_TRUE(record.ok());
  ResourceSummary doc;
  doc.type = "DocumentReference";
  doc.id = "d1";
  doc.document_type = "11490-0";
  Decision d = Decide(a, *record, doc, Action::kRead, env);
  ASSERT_TRUE(d.allowed) << d.reason;
  EXPECT_TRUE(d.opens_emergency_window);
  ASSERT_TRUE(RecordEmergencyAccess(tx, key_, a, env.now).ok());
  record = LoadRecordContext(tx, key_, a);
  ASSERT_TRUE(record->emergency_started_at);
  EXPECT_EQ(*record->emergency_started_at, env.now);
  EXPECT_FALSE(Decide(a, *record, doc, Action::kRead, env).opens_emergency_window);

  profiles::AuditEntry entry = AuditEntryFor(a, d, profiles::AuditEntry::Rest("read", 'R'));
  entry.patient_key = key_;
  entry.patient_reference = "Patient/pat-1";
  entry.object_reference = "DocumentReference/d1";
  EXPECT_TRUE(entry.emergency);
  EXPECT_EQ(entry.actor_id, "810000000005");
  auto appended = profiles::AppendAuditEvent(tx, entry);
  ASSERT_TRUE(appended.ok()) << appended.status().ToString();
  auto v = storage::VerifyAuditChains(tx.connection(), key_);
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->ok());
  EXPECT_EQ(v->events, 1);

  Decision refused = Decide(Pro("810000000009"), *record, doc, Action::kRead, env);
  profiles::AuditEntry denied = AuditEntryFor(Pro("810000000009"), refused);
  EXPECT_EQ(denied.outcome, "4");
  EXPECT_EQ(denied.outcome_desc, "professional blocked by the patient");
}

}  // namespace
}  // namespace carnet::profiles

namespace carnet::profiles {
namespace {

// The record context a read by id gets from the same statement as the resource
// (ReadCurrentWithContext) is the one LoadRecordContext reads on its own, for every kind of
// actor (each reads its own optional parts); a shared resource has none; an unknown one is
// not found.
TEST_F(PolicyStoreTest, ReadWithContextGivesWhatLoadRecordContextGives) {
  storage::Transaction tx(*conn_);
  auto careteam = ParseJson(R"({"resourceType":"CareTeam","id":"ct1","status":"active",
    "participant":[{"member":{"identifier":{"value":"810000000002"}}}]})");
  ASSERT_TRUE(careteam.ok());
  ASSERT_TRUE(SyncCareTeam(tx, key_, "ct1", *careteam).ok());
  ASSERT_TRUE(SetAppAuthorisation(tx, key_, "app-1", "patient/*.rs", "consent-1").ok());
  storage::StoredResource doc;
  doc.patient_key = key_;
  doc.type = "DocumentReference";
  doc.id = "doc-1";
  doc.version = 1;
  doc.last_updated = "2026-12-06T10:00:00.000Z";
  doc.method = "POST";
  doc.content = R"({"resourceType":"DocumentReference","id":"doc-1","status":"current"})";
  auto wrote = storage::WriteVersion(tx, doc);
  ASSERT_TRUE(wrote.ok()) << wrote.ToString();
  storage::StoredResource shared = doc;
  shared.patient_key.reset();
  shared.type = "Organization";
  shared.id = "org-1";
  shared.content = R"({"resourceType":"Organization","id":"org-1"})";
  ASSERT_TRUE(storage::WriteVersion(tx, shared).ok());

  Actor emergency = Pro("810000000004");
  emergency.emergency = true;
  ASSERT_TRUE(RecordEmergencyAccess(tx, key_, emergency, 1780000000).ok());
  Actor app;
  app.kind = ActorKind::kApp;
  app.client_id = "app-1";
  Actor patient;
  patient.kind = ActorKind::kPatient;
  Actor guardian;
  guardian.kind = ActorKind::kGuardian;
  for (const Actor& actor : {Pro("810000000002"), emergency, app, patient, guardian}) {
    SCOPED_TRACE(ActorKindName(actor.kind));
    std::optional<RecordContext> context;
    auto read = ReadCurrentWithContext(tx, "DocumentReference", "doc-1", actor, &context);
    ASSERT_TRUE(read.ok()) << read.status().ToString();
    ASSERT_TRUE(read->has_value());
    EXPECT_EQ((*read)->content, doc.content);
    EXPECT_EQ((*read)->patient_key, key_);
    ASSERT_TRUE(context.has_value());
    auto alone = LoadRecordContext(tx, key_, actor);
    ASSERT_TRUE(alone.ok());
    EXPECT_EQ(context->patient_key, alone->patient_key);
    EXPECT_EQ(context->patient_id, alone->patient_id);
    EXPECT_EQ(context->ins, alone->ins);
    EXPECT_EQ(context->status, alone->status);
    EXPECT_EQ(context->treating_physician, alone->treating_physician);
    EXPECT_EQ(context->blocked_professionals, alone->blocked_professionals);
    EXPECT_EQ(context->blocked_organisations, alone->blocked_organisations);
    EXPECT_EQ(context->care_team, alone->care_team);
    EXPECT_EQ(context->emergency_opposed, alone->emergency_opposed);
    EXPECT_EQ(context->emergency_started_at, alone->emergency_started_at);
    EXPECT_EQ(context->message_correspondents, alone->message_correspondents);
    ASSERT_EQ(context->authorised_apps.size(), alone->authorised_apps.size());
    for (size_t i = 0; i < alone->authorised_apps.size(); ++i)
      EXPECT_EQ(context->authorised_apps[i].client_id, alone->authorised_apps[i].client_id);
    EXPECT_EQ(context->guardians.size(), alone->guardians.size());
    if (actor.kind == ActorKind::kApp) {
      EXPECT_EQ(context->authorised_apps.size(), 1u);
    }
    if (actor.emergency) {
      EXPECT_TRUE(context->emergency_started_at.has_value());
    }
  }
  std::optional<RecordContext> none;
  auto org = ReadCurrentWithContext(tx, "Organization", "org-1", Pro("810000000002"), &none);
  ASSERT_TRUE(org.ok() && org->has_value());
  EXPECT_FALSE(none.has_value()) << "a shared resource has no record";
  auto missing = ReadCurrentWithContext(tx, "DocumentReference", "nope", Pro("x"), &none);
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());
}

}  // namespace
}  // namespace carnet::profiles
