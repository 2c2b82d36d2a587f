// The audit store (storage/audit_store.h) against a scratch PostgreSQL database: the
// per-patient hash chain, and tampering found by the verification. (The BALP shape of the
// events is profiles/audit_event.h's: tests/unit/audit_event_test.cc.)
#include "storage/audit_store.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <set>
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

// A read of `object` on record `patient_key`, as the layer above would hand it over: the
// BALP JSON in the gateway, of which storage reads the entity references (audit_event_entity).
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

// The access history of one object (issue 20): read by the audit_event_entity index, the same
// pages as a filter over every event of the record: versions count as the resource, an event
// naming two of the objects asked for counts once, the cursor pages newest first, the date
// and agent filters hold, and other records' events are not shown.
TEST(AuditStoreTest, EventsOfAnObjectPageNewestFirst) {
  ScratchDatabase db;
  auto c = Open(db);
  ASSERT_TRUE(c);
  long long a = NewPatient(*c, "2770675000006");
  long long b = NewPatient(*c, "2770675000007");
  auto event = [](long long key, std::vector<std::string> objects, int minute,
                  const std::string& actor) {
    AuditRecord r = ReadBy(key, objects[0]);
    r.recorded = std::chrono::system_clock::time_point(std::chrono::minutes(29000000 + minute));
    r.actor_id = actor;
    std::string entities;
    for (const auto& o : objects)
      entities +=
          (entities.empty() ? "" : ",") + std::string(R"({"what":{"reference":")") + o + R"("}})";
    entities += R"(,{"what":{"identifier":{"value":"req-1"}}})";
    r.content =
        R"({"resourceType":"AuditEvent","id":")" + r.event_id + R"(","entity":[)" + entities + "]}";
    return r;
  };
  // What each event names, by its order of appending.
  struct Expected {
    long long seq;
    long long key;
    std::set<std::string> names;
    int minute;
    std::string actor;
  };
  std::vector<Expected> all;
  std::vector<AuditRecord> batch;
  for (int i = 0; i < 120; ++i) {
    std::vector<std::string> objects = {"Observation/o" + std::to_string(i)};
    if (i % 3 == 0) objects.push_back("DocumentReference/d1");
    if (i % 5 == 0) objects.push_back("Binary/b1");
    if (i % 7 == 0) objects.push_back("DocumentReference/d1/_history/" + std::to_string(i));
    long long key = i % 11 == 0 ? b : a;
    std::string actor = i % 2 ? "810000000001" : "810000000002";
    AuditRecord r = event(key, objects, i, actor);
    std::set<std::string> names = {"Observation/o" + std::to_string(i)};
    for (const auto& o : objects) names.insert(o.substr(0, o.find("/_history/")));
    if (i < 60) {  // one at a time, then the group commit's batches
      auto appended = Append(*c, r);
      ASSERT_TRUE(appended.ok()) << appended.status().ToString();
      all.push_back({appended->seq, key, names, i, actor});
    } else {
      batch.push_back(r);
      all.push_back({0, key, names, i, actor});
      if (batch.size() == 15) {
        ASSERT_TRUE(c->Exec("BEGIN").ok());
        Transaction tx(*c);
        Status st = AppendAuditBatch(tx, batch);
        ASSERT_TRUE(st.ok()) << st.ToString();
        ASSERT_TRUE(c->Exec("COMMIT").ok());
        batch.clear();
      }
    }
  }
  // The batches' sequence numbers, in order of appending.
  auto seqs = c->Exec("SELECT seq FROM audit_event ORDER BY seq OFFSET 60");
  ASSERT_TRUE(seqs.ok());
  ASSERT_EQ(seqs->rows(), 60);
  for (int i = 0; i < 60; ++i) all[60 + i].seq = seqs->GetInt(i, 0);
  // One row per object an event of a record names (no duplicates for the versions).
  auto rows = c->Exec("SELECT count(*) FROM audit_event_entity");
  ASSERT_TRUE(rows.ok());
  long long expected_rows = 0;
  for (const auto& e : all) expected_rows += static_cast<long long>(e.names.size());
  EXPECT_EQ(rows->GetInt(0, 0), expected_rows);

  auto check = [&](AuditEventQuery q) {
    std::vector<long long> want;
    for (auto it = all.rbegin(); it != all.rend(); ++it) {
      bool named = false;
      for (const auto& o : q.entities) named = named || it->names.count(o);
      bool in_record =
          std::find(q.patient_keys.begin(), q.patient_keys.end(), it->key) != q.patient_keys.end();
      if (named && in_record && (q.actor_id.empty() || q.actor_id == it->actor) &&
          (q.from.empty() || it->minute >= 60))
        want.push_back(it->seq);
    }
    std::vector<long long> got;
    for (int pages = 0; pages < 100; ++pages) {
      Transaction tx(*c);
      auto page = ReadAuditEvents(tx, q);
      EXPECT_TRUE(page.ok()) << page.status().ToString();
      if (!page.ok()) return got == want;
      for (const auto& e : *page) got.push_back(e.seq);
      if (static_cast<int>(page->size()) < q.limit) break;
      q.before_seq = std::to_string(page->back().seq);
    }
    EXPECT_EQ(got, want);
    return !want.empty();
  };
  AuditEventQuery q;
  q.patient_keys = {a};
  q.limit = 7;
  q.entities = {"DocumentReference/d1"};
  EXPECT_TRUE(check(q));
  q.entities = {"DocumentReference/d1", "Binary/b1"};
  EXPECT_TRUE(check(q));
  q.patient_keys = {a, b};
  EXPECT_TRUE(check(q));
  q.actor_id = "810000000001";
  EXPECT_TRUE(check(q));
  q.actor_id.clear();
  q.from = FormatUtc(std::chrono::system_clock::time_point(std::chrono::minutes(29000060)));
  EXPECT_TRUE(check(q));
  q.from.clear();
  q.entities = {"DocumentReference/nothing"};
  EXPECT_FALSE(check(q));
}

}  // namespace
}  // namespace carnet::storage
