// The audit store (storage/audit_store.h) against a scratch PostgreSQL database: the
// per-patient hash chain, and tampering found by the verification. (The BALP shape of the
// events is profiles/audit_event.h's: tests/unit/audit_event_test.cc.)
#include "storage/audit_store.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "base/strings.h"
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

// A read of `object` on record `patient_key`, as the layer above would hand it over; the
// content is any text to storage (the BALP JSON in the gateway).
AuditRecord ReadBy(long long patient_key, const std::string& object) {
  AuditRecord r;
  r.patient_key = patient_key;
  r.event_id = NewUuid();
  r.recorded = std::chrono::system_clock::now();
  r.action = 'R';
  r.outcome = "0";
  r.actor_kind = "professional";
  r.actor_id = "810000000002";
  r.content = R"({"resourceType":"AuditEvent","id":")" + r.event_id +
              R"(","entity":[{"what":{"reference":")" + object + R"("}}]})";
  return r;
}

Result<AppendedAudit> Append(Connection& c, const AuditRecord& e) {
  if (auto b = c.Exec("BEGIN"); !b.ok()) return b.status();
  Transaction tx(c);
  auto r = AppendAuditRecord(tx, e);
  if (!r.ok()) {
    (void)c.Exec("ROLLBACK");
    return r;
  }
  if (auto commit = c.Exec("COMMIT"); !commit.ok()) return commit.status();
  return r;
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
  AuditRecord no_record = ReadBy(0, "");
  no_record.patient_key.reset();
  no_record.action = 'E';
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
