// The group commit of the access history (issue 20, "Reads: audit events committed in
// groups"): concurrent reads leave exactly one event each and the chains verify; events that
// arrive while a batch commits are committed together by the next one (seen in the database:
// one inserting transaction); a batch that fails fails every read in it with 503 and nothing
// of the record; two gateways appending to one database keep every chain valid.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "base/json.h"
#include "base/strings.h"
#include "storage/connection.h"
#include "tests/integration/harness.h"

namespace carnet::testing {
namespace {

const char* kJson = "Content-Type: application/fhir+json";

CommandRun Gateway(const std::string& args) {
  return RunCommand(std::string(CARNET_GATEWAY_BINARY) + " " + args + " --db '" + TestDbConninfo() +
                    "'");
}

class AuditGroupCommitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto conn = storage::Connection::Open(TestDbConninfo());
    ASSERT_TRUE(conn.ok());
    db_ = std::move(conn).value();
  }

  // A record with one document the patient reads; returns its patient key.
  std::string NewRecordWithDocument(GatewayProcess& gw, const std::string& pid,
                                    const std::string& ins, const std::string& doc) {
    HttpClient c;
    c.SetBearer(operator_);
    auto p = c.Request("PUT", gw.base_url() + "/fhir/Patient/" + pid, {kJson},
                       R"({"resourceType":"Patient","id":")" + pid +
                           R"(","identifier":[{"system":"urn:oid:1.2.250.1.213.1.4.10","value":")" +
                           ins + R"("}]})");
    EXPECT_EQ(p.status, 201) << p.body;
    c.SetBearer(lab_);
    auto d = c.Request("PUT", gw.base_url() + "/fhir/DocumentReference/" + doc, {kJson},
                       R"({"resourceType":"DocumentReference","id":")" + doc +
                           R"(","status":"current","type":{"coding":[{"system":"http://loinc.org",)"
                           R"("code":"11502-2"}]},"subject":{"reference":"Patient/)" +
                           pid +
                           R"("},"content":[{"attachment":{"contentType":"text/plain",)"
                           R"("url":"Binary/)" +
                           doc + R"(-bin"}}]})");
    EXPECT_EQ(d.status, 201) << d.body;
    auto key = db_->RunDynamic("SELECT patient_key FROM patient WHERE resource_id = $1",
                               {storage::SqlParam::Text(pid)});
    return key.ok() && key->rows() == 1 ? key->GetString(0, 0) : "";
  }

  std::string PatientToken(const std::string& ins) {
    return Token({"--actor", "patient", "--id", "p-" + ins, "--patient", ins});
  }

  long long Count(const std::string& sql) {
    auto r = db_->RunDynamic(sql, {});
    EXPECT_TRUE(r.ok()) << sql;
    return r.ok() ? r->GetInt(0, 0) : -1;
  }

  std::unique_ptr<storage::Connection> db_;
  std::string operator_ = Token({"--actor", "operator", "--id", "ops-gc"});
  std::string lab_ = Token({"--actor", "system", "--id", "lab-gc", "--client-id", "lab-gc",
                            "--scope", "system/*.cruds"});
  std::string run_ = RandomHex(4);
  long long ins_base_ = 600000000000LL + std::stoll(RandomHex(5), nullptr, 16) * 10;
};

// Reads from many threads at once: every answered read has exactly one event, chained.
TEST_F(AuditGroupCommitTest, ConcurrentReadsLeaveOneEventEachAndTheChainHolds) {
  GatewayProcess gw({"--workers", "16", "--db-pool-size", "16"});
  ASSERT_TRUE(gw.WaitHealthy()) << gw.Log();
  std::string pid = "gc-" + run_, ins = "2" + std::to_string(ins_base_ + 1), doc = "gcd-" + run_;
  std::string key = NewRecordWithDocument(gw, pid, ins, doc);
  ASSERT_FALSE(key.empty());
  std::string patient = PatientToken(ins);
  constexpr int kThreads = 16, kReads = 12;
  std::atomic<int> ok{0}, other{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      HttpClient c;
      c.SetBearer(patient);
      for (int i = 0; i < kReads; ++i) {
        std::string rid = "gc-" + run_ + "-" + std::to_string(t) + "-" + std::to_string(i);
        auto r = c.Get(gw.base_url() + "/fhir/DocumentReference/" + doc, {"X-Request-Id: " + rid});
        (r.status == 200 ? ok : other)++;
      }
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(ok.load(), kThreads * kReads);
  EXPECT_EQ(other.load(), 0);
  std::string mine = "request_id LIKE 'gc-" + run_ + "-%'";
  EXPECT_EQ(Count("SELECT count(*) FROM audit_event WHERE " + mine), kThreads * kReads);
  EXPECT_EQ(Count("SELECT count(DISTINCT request_id) FROM audit_event WHERE " + mine),
            kThreads * kReads);
  // Each event names the document and the patient's chain.
  EXPECT_EQ(Count("SELECT count(*) FROM audit_event WHERE " + mine + " AND patient_key = " + key +
                  " AND content LIKE '%DocumentReference/" + doc + "%'"),
            kThreads * kReads);
  auto verify = Gateway("audit-verify --patient " + key);
  EXPECT_EQ(verify.exit_code, 0) << verify.out;
  EXPECT_EQ(gw.Terminate(), 0);
}

// A batch held up (a slow insert, made slow by a trigger the test adds) gathers the reads
// that arrive meanwhile: they are committed by one transaction. When one event of such a
// batch cannot be written, every read of the batch answers 503 and none leaves an event.
TEST_F(AuditGroupCommitTest, ReadsWaitingTogetherCommitTogetherAndFailTogether) {
  ASSERT_TRUE(db_->Exec(R"(
    CREATE OR REPLACE FUNCTION carnet_test_audit_gate() RETURNS trigger AS $$
    BEGIN
      IF NEW.request_id LIKE 'gcslow-%' THEN PERFORM pg_sleep(1.5); END IF;
      IF NEW.request_id LIKE 'gcfail-%' THEN RAISE EXCEPTION 'audit store failure (test)'; END IF;
      RETURN NEW;
    END $$ LANGUAGE plpgsql;
    DROP TRIGGER IF EXISTS carnet_test_audit_gate ON audit_event;
    CREATE TRIGGER carnet_test_audit_gate BEFORE INSERT ON audit_event
      FOR EACH ROW EXECUTE FUNCTION carnet_test_audit_gate();)")
                  .ok());
  struct Cleanup {
    storage::Connection* db;
    ~Cleanup() { (void)db->Exec("DROP TRIGGER IF EXISTS carnet_test_audit_gate ON audit_event"); }
  } cleanup{db_.get()};

  GatewayProcess gw({"--workers", "16", "--db-pool-size", "16"});
  ASSERT_TRUE(gw.WaitHealthy()) << gw.Log();
  std::string pid = "gcb-" + run_, ins = "2" + std::to_string(ins_base_ + 2), doc = "gcbd-" + run_;
  std::string key = NewRecordWithDocument(gw, pid, ins, doc);
  ASSERT_FALSE(key.empty());
  std::string patient = PatientToken(ins);
  std::string url = gw.base_url() + "/fhir/DocumentReference/" + doc;

  // One round: a slow read leads a batch; `ids` arrive while it commits.
  auto round = [&](const std::string& slow_id, const std::vector<std::string>& ids) {
    std::vector<HttpResult> results(ids.size());
    HttpResult slow;
    std::thread leader([&] {
      HttpClient c;
      c.SetBearer(patient);
      slow = c.Get(url, {"X-Request-Id: " + slow_id});
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(400));
    std::vector<std::thread> followers;
    for (size_t i = 0; i < ids.size(); ++i)
      followers.emplace_back([&, i] {
        HttpClient c;
        c.SetBearer(patient);
        results[i] = c.Get(url, {"X-Request-Id: " + ids[i]});
      });
    leader.join();
    for (auto& th : followers) th.join();
    EXPECT_EQ(slow.status, 200) << slow.body;
    return results;
  };

  // Round 1: eight reads arrive during the slow batch; the next batch holds all eight.
  std::vector<std::string> together;
  for (int i = 0; i < 8; ++i) together.push_back("gcok-" + run_ + "-" + std::to_string(i));
  for (const auto& r : round("gcslow-" + run_ + "-1", together)) EXPECT_EQ(r.status, 200) << r.body;
  std::string ok_ids = "request_id LIKE 'gcok-" + run_ + "-%'";
  EXPECT_EQ(Count("SELECT count(*) FROM audit_event WHERE " + ok_ids), 8);
  EXPECT_EQ(Count("SELECT count(DISTINCT xmin::text) FROM audit_event WHERE " + ok_ids), 1)
      << "the eight events were committed by one transaction";

  // Round 2: one of the waiting reads' events cannot be written; the whole batch fails.
  std::vector<std::string> doomed;
  for (int i = 0; i < 7; ++i) doomed.push_back("gcdoom-" + run_ + "-" + std::to_string(i));
  doomed.push_back("gcfail-" + run_);
  for (const auto& r : round("gcslow-" + run_ + "-2", doomed)) {
    EXPECT_EQ(r.status, 503) << r.body;
    JsonValue body = Parse(r.body);
    EXPECT_EQ(body.GetString("resourceType"), "OperationOutcome") << r.body;
    EXPECT_EQ(r.body.find("11502-2"), std::string::npos) << "nothing of the record: " << r.body;
  }
  EXPECT_EQ(Count("SELECT count(*) FROM audit_event WHERE request_id LIKE 'gcdoom-" + run_ +
                  "-%' OR request_id = 'gcfail-" + run_ + "'"),
            0);
  // The slow leaders' own events are there, and the chain is whole.
  EXPECT_EQ(Count("SELECT count(*) FROM audit_event WHERE request_id LIKE 'gcslow-" + run_ + "-%'"),
            2);
  auto verify = Gateway("audit-verify --patient " + key);
  EXPECT_EQ(verify.exit_code, 0) << verify.out;
  EXPECT_EQ(gw.Terminate(), 0);
}

// Two gateways on one database, reading and writing the same records at once: batches of
// both, and the writes' own events, interleave on the same chains, which stay valid.
TEST_F(AuditGroupCommitTest, TwoGatewaysOnOneDatabaseKeepTheChainsValid) {
  GatewayProcess a({"--workers", "8"});
  GatewayProcess b({"--workers", "8"});
  ASSERT_TRUE(a.WaitHealthy()) << a.Log();
  ASSERT_TRUE(b.WaitHealthy()) << b.Log();
  std::vector<std::string> keys, docs, tokens, pids;
  for (int p = 0; p < 3; ++p) {
    std::string pid = "gc2-" + run_ + "-" + std::to_string(p);
    std::string ins = "2" + std::to_string(ins_base_ + 3 + p);
    docs.push_back("gc2d-" + run_ + "-" + std::to_string(p));
    keys.push_back(NewRecordWithDocument(p % 2 ? b : a, pid, ins, docs.back()));
    ASSERT_FALSE(keys.back().empty());
    tokens.push_back(PatientToken(ins));
    pids.push_back(pid);
  }
  constexpr int kThreads = 8, kRounds = 15;
  std::atomic<int> reads_ok{0}, writes_ok{0}, failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      HttpClient c;
      GatewayProcess& gw = t % 2 ? b : a;
      for (int i = 0; i < kRounds; ++i) {
        int p = (t + i) % 3;
        c.SetBearer(tokens[p]);
        std::string rid = "gc2-" + run_ + "-" + std::to_string(t) + "-" + std::to_string(i);
        if (i % 5 == 4) {
          // A write: its event is appended inside its own transaction, on the same chain.
          c.SetBearer(lab_);
          auto w = c.Request(
              "POST", gw.base_url() + "/fhir/Observation", {kJson, "X-Request-Id: " + rid},
              R"({"resourceType":"Observation","status":"final","category":[{"coding":[{"system":)"
              R"("http://terminology.hl7.org/CodeSystem/observation-category","code":"vital-signs"}]}],)"
              R"("code":{"coding":[{"system":"http://loinc.org","code":"29463-7"}]},"subject":)"
              R"({"reference":"Patient/)" +
                  pids[p] +
                  R"("},"effectiveDateTime":"2026-12-01T08:00:00Z","valueQuantity":{"value":70,)"
                  R"("unit":"kg","system":"http://unitsofmeasure.org","code":"kg"}})");
          (w.status == 201 ? writes_ok : failures)++;
          if (w.status != 201) ADD_FAILURE() << w.status << " " << w.body;
        } else {
          auto r =
              c.Get(gw.base_url() + "/fhir/DocumentReference/" + docs[p], {"X-Request-Id: " + rid});
          (r.status == 200 ? reads_ok : failures)++;
          if (r.status != 200) ADD_FAILURE() << r.status << " " << r.body;
        }
      }
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(Count("SELECT count(*) FROM audit_event WHERE request_id LIKE 'gc2-" + run_ +
                  "-%' AND action = 'R'"),
            reads_ok.load());
  for (const std::string& key : keys) {
    auto verify = Gateway("audit-verify --patient " + key);
    EXPECT_EQ(verify.exit_code, 0) << key << ": " << verify.out;
  }
  EXPECT_EQ(a.Terminate(), 0);
  EXPECT_EQ(b.Terminate(), 0);
}

}  // namespace
}  // namespace carnet::testing
