// The audit store (storage/audit_store.h) against a scratch PostgreSQL database: the
// BALP shape, the per-patient hash chain, and tampering found by the verification.
#include "storage/audit_store.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "base/json.h"
#include "storage/migrations.h"
#include "tests/unit/test_db.h"

namespace carnet::storage {
namespace {

using carnet::testing::ScratchDatabase;

std::unique_ptr<Connection> Open(const ScratchDatabase& db) {
  auto c = Connection::Open(db.conninfo());
  if (!c.ok()) {
    ADD_FAILURE() << c.status().ToString();
    return nullptr;
  }
  Status st = ApplyMigrations(**c, BuiltinMigrations());
  if (!st.ok()) ADD_FAILURE() << st.ToString();
  return std::move(c).value();
}

long long NewPatient(Connection& c, const std::string& ins) {
  auto r = c.Exec("INSERT INTO patient (resource_id, ins, ins_system) VALUES ('p" + ins + "', '" +
                  ins + "', '1.2.250.1.213.1.4.10') RETURNING patient_key");
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? r->GetInt(0, 0) : 0;
}

AuditEntry ReadBy(long long patient_key, const std::string& object) {
  AuditEntry e = AuditEntry::Rest("read", 'R');
  e.patient_key = patient_key;
  e.patient_reference = "Patient/p" + std::to_string(patient_key);
  e.patient_ins = "2770675123456";
  e.object_reference = object;
  e.actor_kind = "professional";
  e.actor_id = "810000000002";
  e.national_id = "810000000002";
  e.profession = "10";
  e.specialty = "SM26";
  e.organisation = "ORG-1";
  e.network_address = "192.0.2.10";
  e.request_id = "req-1";
  e.outcome_desc = "member of the patient's care team";
  return e;
}

Result<AppendedAudit> Append(Connection& c, const AuditEntry& e) {
  if (auto b = c.Exec("BEGIN"); !b.ok()) return b.status();
  Transaction tx(c);
  auto r = AppendAuditEvent(tx, e);
  if (!r.ok()) {
    (void)c.Exec("ROLLBACK");
    return r;
  }
  if (auto commit = c.Exec("COMMIT"); !commit.ok()) return commit.status();
  return r;
}

TEST(AuditStoreTest, BalpShape) {
  AuditEntry e = ReadBy(3, "DocumentReference/d1");
  e.emergency = true;
  e.emergency_reason = "coma";
  e.consent_asserted = true;
  std::string json = BuildAuditEventJson(e, "0b5a4a7e-0000-4000-8000-000000000001");
  auto ev = ParseJson(json);
  ASSERT_TRUE(ev.ok()) << json;
  EXPECT_EQ(ev->GetString("resourceType"), "AuditEvent");
  EXPECT_EQ(ev->GetString("action"), "R");
  EXPECT_EQ(ev->GetString("outcome"), "0");
  EXPECT_EQ(ev->Find("type")->GetString("code"), "rest");
  EXPECT_EQ(ev->Find("subtype")->items()[0].GetString("code"), "read");
  EXPECT_NE(json.find("IHE.BasicAudit.PatientRead"), std::string::npos);
  const JsonValue& user = ev->Find("agent")->items()[0];
  EXPECT_TRUE(user.Find("requestor")->as_bool());
  EXPECT_EQ(user.Find("who")->Find("identifier")->GetString("value"), "810000000002");
  EXPECT_EQ(user.Find("who")->Find("identifier")->GetString("system"),
            "urn:oid:1.2.250.1.71.4.2.1");
  EXPECT_EQ(user.Find("network")->GetString("address"), "192.0.2.10");
  EXPECT_EQ(user.Find("role")->items()[0].Find("coding")->items()[0].GetString("code"), "10");
  EXPECT_EQ(ev->Find("purposeOfEvent")->items()[0].GetString("text"), "coma");
  EXPECT_NE(json.find("consent-asserted"), std::string::npos);
  EXPECT_NE(json.find("XrequestId"), std::string::npos);
  EXPECT_NE(json.find("\"reference\":\"DocumentReference/d1\""), std::string::npos);

  AuditEntry q = AuditEntry::Dicom("110112", "Query", "ITI-18", 'E');
  q.query = "$XDSDocumentEntryPatientId=...";
  q.actor_kind = "system";
  q.client_id = "lab-1";
  std::string qjson = BuildAuditEventJson(q, "0b5a4a7e-0000-4000-8000-000000000002");
  EXPECT_NE(qjson.find("\"code\":\"110112\""), std::string::npos);
  EXPECT_NE(qjson.find("\"code\":\"ITI-18\""), std::string::npos);
  EXPECT_NE(qjson.find("IHE.BasicAudit.Query"), std::string::npos);
  EXPECT_NE(qjson.find("\"code\":\"24\""), std::string::npos);  // the query entity
}

TEST(AuditStoreTest, ChainsPerPatientAndDetectsTampering) {
  ScratchDatabase db;
  auto c = Open(db);
  ASSERT_TRUE(c);
  long long a = NewPatient(*c, "2770675000001"), b = NewPatient(*c, "2770675000002");
  std::vector<long long> seqs_a;
  for (int i = 0; i < 5; ++i) {
    auto r = Append(*c, ReadBy(a, "DocumentReference/a" + std::to_string(i)));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    seqs_a.push_back(r->seq);
    ASSERT_TRUE(Append(*c, ReadBy(b, "DocumentReference/b" + std::to_string(i))).ok());
  }
  AuditEntry no_record = AuditEntry::Rest("search-system", 'E');
  no_record.outcome = "4";
  no_record.actor_kind = "denied";
  ASSERT_TRUE(Append(*c, no_record).ok());

  auto rows = c->Exec("SELECT count(*) FROM audit_event WHERE prev_hash IS NULL");
  EXPECT_EQ(rows->GetInt(0, 0), 3);  // one chain start per patient, one for no record
  auto all = VerifyAuditChains(*c, std::nullopt);
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  EXPECT_TRUE(all->ok()) << all->first_break->problem;
  EXPECT_EQ(all->chains, 3);
  EXPECT_EQ(all->events, 11);
  auto one = VerifyAuditChains(*c, a);
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(one->events, 5);

  // The trigger refuses changes...
  EXPECT_FALSE(
      c->Exec("UPDATE audit_event SET outcome = '0' WHERE seq = " + std::to_string(seqs_a[2]))
          .ok());
  // ...and a change that bypasses it is found.
  ASSERT_TRUE(c->Exec("ALTER TABLE audit_event DISABLE TRIGGER audit_event_no_update").ok());
  ASSERT_TRUE(c->Exec("UPDATE audit_event SET content = replace(content, 'DocumentReference/a2', "
                      "'DocumentReference/zz') WHERE seq = " +
                      std::to_string(seqs_a[2]))
                  .ok());
  ASSERT_TRUE(c->Exec("ALTER TABLE audit_event ENABLE TRIGGER audit_event_no_update").ok());
  auto broken = VerifyAuditChains(*c, std::nullopt);
  ASSERT_TRUE(broken.ok());
  ASSERT_FALSE(broken->ok());
  EXPECT_EQ(broken->first_break->chain_key, a);
  EXPECT_EQ(broken->first_break->seq, seqs_a[2]);
  EXPECT_NE(broken->first_break->problem.find("altered"), std::string::npos);
  // Patient b's chain is intact.
  EXPECT_TRUE(VerifyAuditChains(*c, b)->ok());
}

TEST(AuditStoreTest, DetectsRemovedEvents) {
  ScratchDatabase db;
  auto c = Open(db);
  ASSERT_TRUE(c);
  long long a = NewPatient(*c, "2770675000003");
  std::vector<long long> seqs;
  for (int i = 0; i < 4; ++i)
    seqs.push_back(Append(*c, ReadBy(a, "Observation/o" + std::to_string(i)))->seq);
  ASSERT_TRUE(c->Exec("ALTER TABLE audit_event DISABLE TRIGGER audit_event_no_update").ok());
  ASSERT_TRUE(c->Exec("DELETE FROM audit_event WHERE seq = " + std::to_string(seqs[1])).ok());
  auto middle = VerifyAuditChains(*c, a);
  ASSERT_TRUE(middle.ok());
  ASSERT_FALSE(middle->ok());
  EXPECT_EQ(middle->first_break->seq, seqs[2]);
  EXPECT_NE(middle->first_break->problem.find("removed"), std::string::npos);

  // Removing the last events is found through the chain head.
  long long b = NewPatient(*c, "2770675000004");
  std::vector<long long> bseqs;
  for (int i = 0; i < 3; ++i)
    bseqs.push_back(Append(*c, ReadBy(b, "Observation/p" + std::to_string(i)))->seq);
  ASSERT_TRUE(c->Exec("DELETE FROM audit_event WHERE seq = " + std::to_string(bseqs[2])).ok());
  ASSERT_TRUE(c->Exec("ALTER TABLE audit_event ENABLE TRIGGER audit_event_no_update").ok());
  auto tail = VerifyAuditChains(*c, b);
  ASSERT_TRUE(tail.ok());
  ASSERT_FALSE(tail->ok());
  EXPECT_NE(tail->first_break->problem.find("head"), std::string::npos);
}

TEST(AuditStoreTest, ConcurrentAppendsKeepOneChain) {
  ScratchDatabase db;
  auto c = Open(db);
  ASSERT_TRUE(c);
  long long a = NewPatient(*c, "2770675000005");
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      auto conn = Connection::Open(db.conninfo());
      if (!conn.ok()) {
        ++failures;
        return;
      }
      for (int i = 0; i < 10; ++i)
        if (!Append(**conn,
                    ReadBy(a, "Observation/t" + std::to_string(t) + "-" + std::to_string(i)))
                 .ok())
          ++failures;
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  auto v = VerifyAuditChains(*c, a);
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->ok()) << v->first_break->problem;
  EXPECT_EQ(v->events, 40);
}

}  // namespace
}  // namespace carnet::storage
