// A record's life (issue 5, "Record status"): opposed (no record, deposits refused with a
// clear error, on FHIR and XDS.b), closed (a read-only archive for the patient, nothing for
// professionals), purged after the retention period by `carnet purge` (the access history
// stays, its chain intact), and the access history's chain catches a row altered in the
// database (`carnet audit-verify`).
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>

#include "base/json.h"
#include "base/strings.h"
#include "storage/connection.h"
#include "tests/integration/harness.h"
#include "tests/integration/xds_messages.h"

namespace carnet::testing {
namespace {

const char* kJson = "Content-Type: application/fhir+json";

CommandRun Gateway(const std::string& args) {
  return RunCommand(std::string(CARNET_GATEWAY_BINARY) + " " + args + " --db '" + TestDbConninfo() +
                    "'");
}

class RecordLifeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    gateway_ = std::make_unique<GatewayProcess>();
    ASSERT_TRUE(gateway_->WaitHealthy()) << gateway_->Log();
    auto conn = storage::Connection::Open(TestDbConninfo());
    ASSERT_TRUE(conn.ok());
    db_ = std::move(conn).value();
  }

  HttpResult As(const std::string& token, const std::string& method, const std::string& path,
                const std::string& body = "", std::vector<std::string> headers = {kJson}) {
    client_.SetBearer(token);
    return client_.Request(method, gateway_->base_url() + path, headers, body);
  }

  std::string NewRecord(const std::string& pid, const std::string& ins) {
    auto r = As(operator_, "PUT", "/fhir/Patient/" + pid,
                R"({"resourceType":"Patient","id":")" + pid +
                    R"(","identifier":[{"system":"urn:oid:1.2.250.1.213.1.4.10","value":")" + ins +
                    R"("}]})");
    EXPECT_EQ(r.status, 201) << r.body;
    auto key = db_->RunDynamic("SELECT patient_key FROM patient WHERE resource_id = $1",
                               {storage::SqlParam::Text(pid)});
    return key.ok() && key->rows() == 1 ? key->GetString(0, 0) : "";
  }

  static std::string Doc(const std::string& id, const std::string& pid) {
    return R"({"resourceType":"DocumentReference","id":")" + id + R"(","status":"current",
      "type":{"coding":[{"system":"http://loinc.org","code":"11502-2"}]},
      "subject":{"reference":"Patient/)" +
           pid + R"("},
      "content":[{"attachment":{"contentType":"text/plain","url":"Binary/)" +
           id + R"(-bin"}}]})";
  }

  long long Count(const std::string& sql) {
    auto r = db_->RunDynamic(sql, {});
    return r.ok() ? r->GetInt(0, 0) : -1;
  }

  std::unique_ptr<GatewayProcess> gateway_;
  std::unique_ptr<storage::Connection> db_;
  HttpClient client_;
  std::string operator_ = Token({"--actor", "operator", "--id", "ops-1"});
  // A hospital system that is also the identity feed: it chooses its documents' ids
  // (update as create is reserved to identity feeds and operators).
  std::string lab_ = Token({"--actor", "system", "--id", "lab-life", "--client-id", "lab-life",
                            "--scope", "system/*.cruds"});
  std::string run_ = RandomHex(4);
  long long ins_base_ = 500000000000LL + std::stoll(RandomHex(5), nullptr, 16) * 10;
};

TEST_F(RecordLifeTest, OpposedRecordTakesNothing) {
  std::string pid = "opp-" + run_, ins = "2" + std::to_string(ins_base_ + 1);
  NewRecord(pid, ins);
  auto oppose = As(operator_, "POST", "/fhir/Patient/" + pid + "/$oppose",
                   R"({"resourceType":"Parameters"})");
  ASSERT_EQ(oppose.status, 200) << oppose.body;
  auto fhir =
      As(lab_, "PUT", "/fhir/DocumentReference/opp-" + run_ + "-d", Doc("opp-" + run_ + "-d", pid));
  EXPECT_EQ(fhir.status, 404) << fhir.body;
  EXPECT_NE(fhir.body.find("opposed"), std::string::npos) << fhir.body;
  // The patient's own token finds no record either.
  std::string patient = Token({"--actor", "patient", "--id", "p-" + run_, "--patient", ins});
  EXPECT_EQ(As(patient, "GET", "/fhir/Patient/" + pid).status, 404);
  EXPECT_EQ(As(patient, "GET", "/fhir/DocumentReference?patient=" + pid).status, 200);
  // XDS.b: the query for that patient finds nothing.
  client_.SetBearer(lab_);
  auto q = client_.Request("POST", gateway_->base_url() + "/xds/registry", {kSoap},
                           FindDocumentsRequest(ins + "^^^&amp;1.2.250.1.213.1.4.10&amp;ISO"));
  EXPECT_EQ(q.status, 200);
  EXPECT_EQ(q.body.find("ExtrinsicObject"), std::string::npos) << q.body.substr(0, 500);
}

TEST_F(RecordLifeTest, ClosedRecordIsAnArchiveThenPurged) {
  std::string pid = "cls-" + run_, ins = "2" + std::to_string(ins_base_ + 2);
  std::string key = NewRecord(pid, ins);
  ASSERT_FALSE(key.empty());
  std::string doc = "cls-" + run_ + "-d";
  ASSERT_EQ(As(lab_, "PUT", "/fhir/DocumentReference/" + doc, Doc(doc, pid)).status, 201);
  // Content deposited ahead of its document: no record key of its own.
  ASSERT_EQ(As(lab_, "PUT", "/fhir/Binary/" + doc + "-bin",
               R"({"resourceType":"Binary","id":")" + doc +
                   R"(-bin","contentType":"text/plain","data":"b2s=",)"
                   R"("securityContext":{"reference":"DocumentReference/)" +
                   doc + R"("}})")
                .status,
            201);
  std::string patient = Token({"--actor", "patient", "--id", "p-" + run_, "--patient", ins});
  ASSERT_EQ(
      As(patient, "POST", "/fhir/CareTeam",
         R"({"resourceType":"CareTeam","status":"active","subject":{"reference":"Patient/)" + pid +
             R"("},"participant":[{"member":{"identifier":{"value":"810000000021"}}}]})")
          .status,
      201);
  std::string doctor = Token(
      {"--actor", "professional", "--id", "810000000021", "--profession", "10", "--org", "o"});
  ASSERT_EQ(As(doctor, "GET", "/fhir/DocumentReference/" + doc).status, 200);

  // A professional may not close a record (the patient and the operator do:
  // record_settings_test.cc).
  EXPECT_EQ(
      As(doctor, "POST", "/fhir/Patient/" + pid + "/$close", R"({"resourceType":"Parameters"})")
          .status,
      403);
  ASSERT_EQ(
      As(operator_, "POST", "/fhir/Patient/" + pid + "/$close", R"({"resourceType":"Parameters"})")
          .status,
      200);
  EXPECT_EQ(As(doctor, "GET", "/fhir/DocumentReference/" + doc).status, 404);
  EXPECT_EQ(As(patient, "GET", "/fhir/DocumentReference/" + doc).status, 200);
  EXPECT_EQ(
      As(patient, "GET", "/fhir/Binary/" + doc + "-bin", "", {"Accept: application/fhir+json"})
          .status,
      200);
  auto write = As(patient, "POST", "/fhir/DocumentReference", Doc(doc + "-p", pid));
  EXPECT_EQ(write.status, 403) << write.body;
  auto deposit = As(lab_, "PUT", "/fhir/DocumentReference/" + doc + "-2", Doc(doc + "-2", pid));
  EXPECT_EQ(deposit.status, 403) << deposit.body;
  EXPECT_NE(deposit.body.find("closed"), std::string::npos) << deposit.body;

  // Not yet due: the purge leaves it.
  auto early = Gateway("purge");
  EXPECT_EQ(early.exit_code, 0) << early.out;
  EXPECT_EQ(Count("SELECT count(*) FROM resource WHERE patient_key = " + key), 4);
  // The Binary's bytes, once, outside its JSON (issue 20).
  EXPECT_EQ(Count("SELECT count(*) FROM document_content WHERE patient_key = " + key +
                  " AND data = 'ok'::bytea"),
            1);
  // Ten years and a day later (the closure moved back in time)...
  ASSERT_TRUE(
      db_->Exec("UPDATE patient SET closed_at = now() - interval '3651 days' WHERE patient_key = " +
                key)
          .ok());
  long long audit_before = Count("SELECT count(*) FROM audit_event WHERE patient_key = " + key);
  ASSERT_GT(audit_before, 5);
  auto purge = Gateway("purge");
  ASSERT_EQ(purge.exit_code, 0) << purge.out;
  EXPECT_NE(purge.out.find("purged record " + key), std::string::npos) << purge.out;
  for (const char* table :
       {"resource", "resource_history", "idx_token", "idx_reference", "registry_object",
        "document_content", "care_team_member", "patient_identifier", "patient"})
    EXPECT_EQ(Count(std::string("SELECT count(*) FROM ") + table + " WHERE patient_key = " + key),
              0)
        << table;
  EXPECT_EQ(Count("SELECT count(*) FROM resource WHERE res_id = '" + doc + "-bin'"), 0)
      << "its content too";
  // The access history stays, and its chain holds.
  EXPECT_EQ(Count("SELECT count(*) FROM audit_event WHERE patient_key = " + key), audit_before);
  auto verify = Gateway("audit-verify --patient " + key);
  EXPECT_EQ(verify.exit_code, 0) << verify.out;
  EXPECT_EQ(As(patient, "GET", "/fhir/DocumentReference/" + doc).status, 404);
}

TEST_F(RecordLifeTest, ThePatientMayOpposeEmergencyAccess) {
  std::string pid = "emg-" + run_, ins = "2" + std::to_string(ins_base_ + 4);
  NewRecord(pid, ins);
  std::string doc = "emg-" + run_ + "-d";
  ASSERT_EQ(As(lab_, "PUT", "/fhir/DocumentReference/" + doc, Doc(doc, pid)).status, 201);
  std::string patient = Token({"--actor", "patient", "--id", "p-" + run_, "--patient", ins});
  std::string urgent = Token({"--actor", "professional", "--id", "810000000031", "--profession",
                              "10", "--org", "samu", "--emergency", "Arret cardiaque"});
  std::string urgent2 = Token({"--actor", "professional", "--id", "810000000032", "--profession",
                               "10", "--org", "samu", "--emergency", "Polytraumatisme"});
  ASSERT_EQ(As(urgent, "GET", "/fhir/DocumentReference/" + doc).status, 200);
  // Emergency access is read-only.
  EXPECT_EQ(As(urgent, "POST", "/fhir/DocumentReference", Doc(doc + "-e", pid)).status, 403);
  auto oppose =
      As(patient, "POST", "/fhir/Patient/" + pid + "/$emergency-access",
         R"({"resourceType":"Parameters","parameter":[{"name":"opposed","valueBoolean":true}]})");
  ASSERT_EQ(oppose.status, 200) << oppose.body;
  EXPECT_EQ(As(urgent2, "GET", "/fhir/DocumentReference/" + doc).status, 404);
  EXPECT_EQ(As(urgent, "GET", "/fhir/DocumentReference/" + doc).status, 404)
      << "an open window closes too";
  // Only the patient side decides this.
  EXPECT_EQ(
      As(lab_, "POST", "/fhir/Patient/" + pid + "/$emergency-access",
         R"({"resourceType":"Parameters","parameter":[{"name":"opposed","valueBoolean":false}]})")
          .status,
      403);
  ASSERT_EQ(
      As(patient, "POST", "/fhir/Patient/" + pid + "/$emergency-access",
         R"({"resourceType":"Parameters","parameter":[{"name":"opposed","valueBoolean":false}]})")
          .status,
      200);
  EXPECT_EQ(As(urgent2, "GET", "/fhir/DocumentReference/" + doc).status, 200);
}

// No read without its audit record: when the access history cannot be written, the read
// fails with 503 and no data leaves.
TEST_F(RecordLifeTest, AReadWhoseAuditCannotBeWrittenFails) {
  std::string pid = "nau-" + run_, ins = "2" + std::to_string(ins_base_ + 5);
  std::string key = NewRecord(pid, ins);
  std::string doc = "nau-" + run_ + "-d";
  ASSERT_EQ(As(lab_, "PUT", "/fhir/DocumentReference/" + doc, Doc(doc, pid)).status, 201);
  std::string patient = Token({"--actor", "patient", "--id", "p-" + run_, "--patient", ins});
  ASSERT_EQ(As(patient, "GET", "/fhir/DocumentReference/" + doc).status, 200);
  // The audit table refuses this record's events (a full disk, a broken replica...).
  std::string fn = "carnet_test_no_audit_" + run_;
  ASSERT_TRUE(db_->Exec("CREATE FUNCTION " + fn +
                        "() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                        "RAISE EXCEPTION 'audit storage unavailable'; END $$")
                  .ok());
  ASSERT_TRUE(db_->Exec("CREATE TRIGGER " + fn +
                        " BEFORE INSERT ON audit_event FOR EACH ROW WHEN (NEW.patient_key = " +
                        key + ") EXECUTE FUNCTION " + fn + "()")
                  .ok());
  auto read = As(patient, "GET", "/fhir/DocumentReference/" + doc);
  auto search = As(patient, "GET", "/fhir/DocumentReference?patient=" + pid);
  auto everything = As(patient, "GET", "/fhir/Patient/" + pid + "/$everything");
  client_.SetBearer(patient);
  auto query = client_.Request("POST", gateway_->base_url() + "/xds/registry", {kSoap},
                               FindDocumentsRequest(ins + "^^^&amp;1.2.250.1.213.1.4.10&amp;ISO"));
  ASSERT_TRUE(db_->Exec("DROP TRIGGER " + fn + " ON audit_event").ok());
  ASSERT_TRUE(db_->Exec("DROP FUNCTION " + fn + "()").ok());
  for (const auto* r : {&read, &search, &everything}) {
    EXPECT_EQ(r->status, 503) << r->body.substr(0, 300);
    EXPECT_EQ(r->body.find(doc), std::string::npos) << "no data without its audit record";
  }
  EXPECT_EQ(query.body.find(doc), std::string::npos) << query.body.substr(0, 400);
  EXPECT_NE(query.body.find("Failure"), std::string::npos) << query.body.substr(0, 400);
  // Once the history can be written again, so can the read.
  EXPECT_EQ(As(patient, "GET", "/fhir/DocumentReference/" + doc).status, 200);
}

TEST_F(RecordLifeTest, TheAuditChainCatchesARowAlteredInTheDatabase) {
  std::string pid = "aud-" + run_, ins = "2" + std::to_string(ins_base_ + 3);
  std::string key = NewRecord(pid, ins);
  std::string patient = Token({"--actor", "patient", "--id", "p-" + run_, "--patient", ins});
  for (int i = 0; i < 3; ++i) ASSERT_EQ(As(patient, "GET", "/fhir/Patient/" + pid).status, 200);
  auto intact = Gateway("audit-verify --patient " + key);
  ASSERT_EQ(intact.exit_code, 0) << intact.out;
  // The API offers no way to change it, and neither does plain SQL...
  EXPECT_FALSE(db_->Exec("UPDATE audit_event SET outcome = '4' WHERE patient_key = " + key).ok());
  // ...but someone with the owner's rights can: the chain shows it.
  ASSERT_TRUE(db_->Exec("ALTER TABLE audit_event DISABLE TRIGGER audit_event_no_update").ok());
  ASSERT_TRUE(db_->Exec("UPDATE audit_event SET content = replace(content, '\"read\"', "
                        "'\"vread\"') WHERE seq = "
                        "(SELECT min(seq) + 1 FROM audit_event WHERE patient_key = " +
                        key + ")")
                  .ok());
  ASSERT_TRUE(db_->Exec("ALTER TABLE audit_event ENABLE TRIGGER audit_event_no_update").ok());
  auto broken = Gateway("audit-verify --patient " + key);
  EXPECT_EQ(broken.exit_code, 1) << broken.out;
  EXPECT_NE(broken.out.find("BROKEN: patient_key " + key), std::string::npos) << broken.out;
}

}  // namespace
}  // namespace carnet::testing
