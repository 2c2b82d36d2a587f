// The patient's own record management (issue 18): closing the record from the patient's side
// (with confirm=true, a guardian for their child) and reopening it ($reactivate); reading the
// record's settings back ($record-settings: status, treating physician, blocks, emergency
// opposition, notification preferences); "who accessed this document" as
// AuditEvent?entity=, paged, under the access history's filter.
#include <gtest/gtest.h>

#include "base/json.h"
#include "base/strings.h"
#include "storage/connection.h"
#include "tests/integration/harness.h"

namespace carnet::testing {
namespace {

const char* kJson = "Content-Type: application/fhir+json";

class RecordSettingsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    gateway_ = std::make_unique<GatewayProcess>();
    ASSERT_TRUE(gateway_->WaitHealthy()) << gateway_->Log();
    auto conn = storage::Connection::Open(TestDbConninfo());
    ASSERT_TRUE(conn.ok());
    db_ = std::move(conn).value();
  }

  HttpResult As(const std::string& token, const std::string& method, const std::string& path,
                const std::string& body = "") {
    client_.SetBearer(token);
    return client_.Request(method, gateway_->base_url() + path, {kJson}, body);
  }

  void NewRecord(const std::string& pid, const std::string& ins) {
    auto r = As(operator_, "PUT", "/fhir/Patient/" + pid,
                R"({"resourceType":"Patient","id":")" + pid +
                    R"(","identifier":[{"system":"urn:oid:1.2.250.1.213.1.4.10","value":")" + ins +
                    R"("}]})");
    ASSERT_EQ(r.status, 201) << r.body;
  }

  void NewDoc(const std::string& id, const std::string& pid) {
    auto r = As(lab_, "PUT", "/fhir/DocumentReference/" + id,
                R"({"resourceType":"DocumentReference","id":")" + id + R"(","status":"current",
      "type":{"coding":[{"system":"http://loinc.org","code":"11502-2"}]},
      "subject":{"reference":"Patient/)" +
                    pid +
                    R"("},"content":[{"attachment":{"contentType":"text/plain","data":"b2s="}}]})");
    ASSERT_EQ(r.status, 201) << r.body;
  }

  void CareTeam(const std::string& patient, const std::string& pid, const std::string& rpps) {
    auto r = As(patient, "POST", "/fhir/CareTeam",
                R"({"resourceType":"CareTeam","status":"active","subject":{"reference":"Patient/)" +
                    pid + R"("},"participant":[{"member":{"identifier":{"value":")" + rpps +
                    R"("}}}]})");
    ASSERT_EQ(r.status, 201) << r.body;
  }

  static std::string Params(const std::string& inner) {
    return R"({"resourceType":"Parameters","parameter":[)" + inner + "]}";
  }

  static JsonValue Parse(const std::string& body) {
    auto j = ParseJson(body);
    return j.ok() ? std::move(j).value() : JsonValue::Object();
  }

  // The parameters named `name` of a Parameters resource.
  static std::vector<JsonValue> Named(const JsonValue& params, const std::string& name) {
    std::vector<JsonValue> out;
    if (const JsonValue* list = params.Find("parameter"); list && list->is_array())
      for (const auto& p : list->items())
        if (p.GetString("name") == name) out.push_back(p);
    return out;
  }

  static std::vector<std::string> EntityRefs(const JsonValue& bundle) {
    std::vector<std::string> refs;
    if (const JsonValue* entries = bundle.Find("entry"); entries && entries->is_array())
      for (const auto& e : entries->items()) {
        const JsonValue* res = e.Find("resource");
        const JsonValue* ents = res ? res->Find("entity") : nullptr;
        std::string named;
        // The object entity (role 4, Domain Resource).
        if (ents && ents->is_array())
          for (const auto& x : ents->items()) {
            const JsonValue* role = x.Find("role");
            const JsonValue* what = x.Find("what");
            if (role && role->GetString("code") == "4" && what)
              named = what->GetString("reference");
          }
        refs.push_back(named);
      }
    return refs;
  }

  std::unique_ptr<GatewayProcess> gateway_;
  std::unique_ptr<storage::Connection> db_;
  HttpClient client_;
  std::string operator_ = Token({"--actor", "operator", "--id", "ops-settings"});
  std::string lab_ = Token({"--actor", "system", "--id", "lab-settings", "--client-id",
                            "lab-settings", "--scope", "system/*.cruds"});
  std::string run_ = RandomHex(4);
  long long ins_base_ = 600000000000LL + std::stoll(RandomHex(5), nullptr, 16) * 10;
};

TEST_F(RecordSettingsTest, ThePatientClosesAndReopensTheirRecord) {
  std::string pid = "rsc-" + run_, ins = "2" + std::to_string(ins_base_ + 1);
  NewRecord(pid, ins);
  std::string doc = pid + "-d";
  NewDoc(doc, pid);
  std::string patient = Token({"--actor", "patient", "--id", "p-" + run_, "--patient", ins});
  std::string rpps = "8300" + std::to_string(ins_base_ % 100000000);
  CareTeam(patient, pid, rpps);
  std::string doctor =
      Token({"--actor", "professional", "--id", rpps, "--profession", "10", "--org", "o"});
  ASSERT_EQ(As(doctor, "GET", "/fhir/DocumentReference/" + doc).status, 200);

  // Without the confirmation: 422, the consequences stated, nothing changed.
  auto unconfirmed = As(patient, "POST", "/fhir/Patient/" + pid + "/$close", Params(""));
  EXPECT_EQ(unconfirmed.status, 422) << unconfirmed.body;
  EXPECT_NE(unconfirmed.body.find("confirm=true"), std::string::npos) << unconfirmed.body;
  EXPECT_NE(unconfirmed.body.find("10 years"), std::string::npos) << unconfirmed.body;
  auto not_true = As(patient, "POST", "/fhir/Patient/" + pid + "/$close",
                     Params(R"({"name":"confirm","valueBoolean":false})"));
  EXPECT_EQ(not_true.status, 422) << not_true.body;
  EXPECT_EQ(As(doctor, "GET", "/fhir/DocumentReference/" + doc).status, 200);
  // A professional may not close it; a stranger does not learn it exists.
  EXPECT_EQ(As(doctor, "POST", "/fhir/Patient/" + pid + "/$close",
               Params(R"({"name":"confirm","valueBoolean":true})"))
                .status,
            403);
  std::string stranger = Token({"--actor", "patient", "--id", "s-" + run_, "--patient",
                                "2" + std::to_string(ins_base_ + 9)});
  auto hidden = As(stranger, "POST", "/fhir/Patient/" + pid + "/$close",
                   Params(R"({"name":"confirm","valueBoolean":true})"));
  EXPECT_EQ(hidden.status, 404) << hidden.body;
  auto missing = As(stranger, "POST", "/fhir/Patient/nobody-" + run_ + "/$close",
                    Params(R"({"name":"confirm","valueBoolean":true})"));
  EXPECT_EQ(missing.status, 404);
  auto word = [](const std::string& body) {
    JsonValue o = Parse(body);
    const JsonValue* issues = o.Find("issue");
    return issues && issues->is_array() && !issues->items().empty()
               ? issues->items()[0].GetString("diagnostics")
               : std::string();
  };
  EXPECT_EQ(word(hidden.body), "Patient/" + pid + " is not known") << "as a missing one";
  EXPECT_EQ(word(missing.body), "Patient/nobody-" + run_ + " is not known");

  // Confirmed: closed, audited; professionals see nothing, the patient reads the archive.
  auto closed = As(patient, "POST", "/fhir/Patient/" + pid + "/$close",
                   Params(R"({"name":"confirm","valueBoolean":true})"));
  ASSERT_EQ(closed.status, 200) << closed.body;
  EXPECT_EQ(As(doctor, "GET", "/fhir/DocumentReference/" + doc).status, 404);
  EXPECT_EQ(As(patient, "GET", "/fhir/DocumentReference/" + doc).status, 200);
  auto settings = As(patient, "GET", "/fhir/Patient/" + pid + "/$record-settings");
  ASSERT_EQ(settings.status, 200) << settings.body;
  ASSERT_EQ(Named(Parse(settings.body), "status").size(), 1u);
  EXPECT_EQ(Named(Parse(settings.body), "status")[0].GetString("valueCode"), "closed");
  auto audited = db_->RunDynamic(
      "SELECT count(*) FROM audit_event a JOIN patient p USING (patient_key) "
      "WHERE p.resource_id = $1 AND a.outcome = '0' AND a.actor_kind = 'patient' "
      "AND a.content LIKE '%/$close%'",
      {storage::SqlParam::Text(pid)});
  ASSERT_TRUE(audited.ok());
  EXPECT_EQ(audited->GetInt(0, 0), 1) << "the closure is in the access history";

  // Reopened by the patient: the doctor reads again.
  auto reopened = As(patient, "POST", "/fhir/Patient/" + pid + "/$reactivate", Params(""));
  ASSERT_EQ(reopened.status, 200) << reopened.body;
  EXPECT_EQ(As(doctor, "GET", "/fhir/DocumentReference/" + doc).status, 200);
  EXPECT_EQ(Named(Parse(As(patient, "GET", "/fhir/Patient/" + pid + "/$record-settings").body),
                  "status")[0]
                .GetString("valueCode"),
            "active");
}

TEST_F(RecordSettingsTest, AGuardianClosesTheirChildsRecord) {
  std::string pid = "rsg-" + run_, ins = "1" + std::to_string(ins_base_ + 2);
  NewRecord(pid, ins);
  std::string guardian = Token({"--actor", "guardian", "--id", "g-" + run_, "--guardian-of", ins});
  EXPECT_EQ(As(guardian, "POST", "/fhir/Patient/" + pid + "/$close", Params("")).status, 422);
  ASSERT_EQ(As(guardian, "POST", "/fhir/Patient/" + pid + "/$close",
               Params(R"({"name":"confirm","valueBoolean":true})"))
                .status,
            200);
  auto status = db_->RunDynamic("SELECT status FROM patient WHERE resource_id = $1",
                                {storage::SqlParam::Text(pid)});
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(status->GetString(0, 0), "closed");
  ASSERT_EQ(As(guardian, "POST", "/fhir/Patient/" + pid + "/$reactivate", Params("")).status, 200);
  // The operator still closes without a confirmation (its own procedure confirmed it).
  ASSERT_EQ(As(operator_, "POST", "/fhir/Patient/" + pid + "/$close", Params("")).status, 200);
  ASSERT_EQ(As(operator_, "POST", "/fhir/Patient/" + pid + "/$reactivate", Params("")).status, 200);
}

TEST_F(RecordSettingsTest, TheRecordSettingsAreReadBack) {
  std::string pid = "rss-" + run_, ins = "2" + std::to_string(ins_base_ + 3);
  NewRecord(pid, ins);
  std::string patient = Token({"--actor", "patient", "--id", "p-" + run_, "--patient", ins});
  std::string base = "/fhir/Patient/" + pid;
  auto fresh = As(patient, "GET", base + "/$record-settings");
  ASSERT_EQ(fresh.status, 200) << fresh.body;
  JsonValue f = Parse(fresh.body);
  EXPECT_EQ(f.GetString("resourceType"), "Parameters");
  EXPECT_EQ(Named(f, "status")[0].GetString("valueCode"), "active");
  EXPECT_TRUE(Named(f, "treatingPhysician").empty());
  EXPECT_TRUE(Named(f, "blocked").empty());
  ASSERT_EQ(Named(f, "emergencyAccessOpposed").size(), 1u);
  EXPECT_FALSE(Named(f, "emergencyAccessOpposed")[0].Find("valueBoolean")->as_bool());

  ASSERT_EQ(As(patient, "POST", base + "/$treating-physician",
               Params(R"({"name":"actor","valueString":"810000000777"})"))
                .status,
            200);
  ASSERT_EQ(As(patient, "POST", base + "/$block",
               Params(R"({"name":"kind","valueString":"professional"},)"
                      R"({"name":"actor","valueString":"810000000888"})"))
                .status,
            200);
  ASSERT_EQ(As(patient, "POST", base + "/$block",
               Params(R"({"name":"kind","valueString":"organisation"},)"
                      R"({"name":"actor","valueString":"750000001"})"))
                .status,
            200);
  ASSERT_EQ(As(patient, "POST", base + "/$emergency-access",
               Params(R"({"name":"opposed","valueBoolean":true})"))
                .status,
            200);
  auto pref = As(patient, "POST", base + "/$notification-preferences",
                 Params(R"({"name":"channel","valueString":"email"},)"
                        R"({"name":"event","valueString":"document"},)"
                        R"({"name":"enabled","valueBoolean":true},)"
                        R"({"name":"address","valueString":"camille@example.org"})"));
  ASSERT_EQ(pref.status, 200) << pref.body;

  auto read = As(patient, "GET", base + "/$record-settings");
  ASSERT_EQ(read.status, 200) << read.body;
  JsonValue s = Parse(read.body);
  ASSERT_EQ(Named(s, "treatingPhysician").size(), 1u) << read.body;
  std::vector<JsonValue> physicians = Named(s, "treatingPhysician");
  const JsonValue* tp = physicians[0].Find("valueIdentifier");
  ASSERT_NE(tp, nullptr);
  EXPECT_EQ(tp->GetString("value"), "810000000777");
  EXPECT_EQ(tp->GetString("system"), "urn:oid:1.2.250.1.71.4.2.1");
  std::vector<std::string> blocks;
  for (const auto& b : Named(s, "blocked")) blocks.push_back(WriteJson(b));
  ASSERT_EQ(blocks.size(), 2u) << read.body;
  EXPECT_NE(read.body.find("810000000888"), std::string::npos);
  EXPECT_NE(read.body.find("750000001"), std::string::npos);
  EXPECT_TRUE(Named(s, "emergencyAccessOpposed")[0].Find("valueBoolean")->as_bool());
  ASSERT_EQ(Named(s, "notification").size(), 1u) << read.body;
  EXPECT_NE(WriteJson(Named(s, "notification")[0]).find("camille@example.org"), std::string::npos);

  // Who may read them: a guardian of the record (none here), the operator; a professional
  // of the care team is refused (403: they see the record); a stranger gets 404 as for a
  // record that does not exist.
  EXPECT_EQ(As(operator_, "GET", base + "/$record-settings").status, 200);
  std::string rpps = "8400" + std::to_string(ins_base_ % 100000000);
  CareTeam(patient, pid, rpps);
  std::string doctor =
      Token({"--actor", "professional", "--id", rpps, "--profession", "10", "--org", "o"});
  EXPECT_EQ(As(doctor, "GET", base + "/$record-settings").status, 403);
  std::string stranger = Token({"--actor", "patient", "--id", "s-" + run_, "--patient",
                                "2" + std::to_string(ins_base_ + 8)});
  auto hidden = As(stranger, "GET", base + "/$record-settings");
  EXPECT_EQ(hidden.status, 404) << hidden.body;
  EXPECT_EQ(As(stranger, "GET", "/fhir/Patient/nobody-" + run_ + "/$record-settings").status, 404);
  std::string insurer = Token({"--actor", "insurer", "--id", "ins-1"});
  EXPECT_EQ(As(insurer, "GET", base + "/$record-settings").status, 404);

  // Every read is in the access history, the refused ones too.
  auto audited = db_->RunDynamic(
      "SELECT count(*) FILTER (WHERE a.outcome = '0'), count(*) FILTER (WHERE a.outcome <> '0') "
      "FROM audit_event a JOIN patient p USING (patient_key) "
      "WHERE p.resource_id = $1 AND a.content LIKE '%$record-settings%'",
      {storage::SqlParam::Text(pid)});
  ASSERT_TRUE(audited.ok());
  EXPECT_EQ(audited->GetInt(0, 0), 3) << "patient twice, operator once";
  EXPECT_GE(audited->GetInt(0, 1), 2) << "the doctor's and the stranger's refusals";

  // Declared: an OperationDefinition in the CapabilityStatement, named by Patient.
  auto meta = As(patient, "GET", "/fhir/metadata");
  ASSERT_EQ(meta.status, 200);
  for (const char* code : {"record-settings", "close", "reactivate"}) {
    EXPECT_NE(meta.body.find(std::string("/OperationDefinition/Patient-") + code + "\""),
              std::string::npos)
        << code;
  }
  auto close = As(patient, "GET", "/fhir/OperationDefinition/Patient-close");
  ASSERT_EQ(close.status, 200) << close.body;
  EXPECT_NE(close.body.find("confirm=true"), std::string::npos);
}

TEST_F(RecordSettingsTest, WhoAccessedThisDocumentIsSearchedByEntity) {
  std::string pid = "rse-" + run_, ins = "2" + std::to_string(ins_base_ + 4);
  NewRecord(pid, ins);
  std::string a = pid + "-a", b = pid + "-b";
  NewDoc(a, pid);
  NewDoc(b, pid);
  std::string patient = Token({"--actor", "patient", "--id", "p-" + run_, "--patient", ins});
  std::string rpps = "8500" + std::to_string(ins_base_ % 100000000);
  CareTeam(patient, pid, rpps);
  std::string doctor =
      Token({"--actor", "professional", "--id", rpps, "--profession", "10", "--org", "o"});
  for (int i = 0; i < 3; ++i)
    ASSERT_EQ(As(doctor, "GET", "/fhir/DocumentReference/" + a).status, 200);
  ASSERT_EQ(As(doctor, "GET", "/fhir/DocumentReference/" + b).status, 200);
  ASSERT_EQ(As(doctor, "GET", "/fhir/DocumentReference/" + a + "/_history/1").status, 200);

  std::string q = "/fhir/AuditEvent?patient=" + pid + "&entity=DocumentReference/" + a;
  auto all = As(patient, "GET", q + "&_count=50");
  ASSERT_EQ(all.status, 200) << all.body;
  std::vector<std::string> refs = EntityRefs(Parse(all.body));
  // The lab's creation, three reads and a version read of A; nothing of B.
  EXPECT_EQ(refs.size(), 5u) << all.body.substr(0, 2000);
  for (const auto& r : refs)
    EXPECT_TRUE(r == "DocumentReference/" + a || r == "DocumentReference/" + a + "/_history/1")
        << r;

  // Paged: two at a time, following the next links.
  size_t seen = 0;
  std::string next = gateway_->base_url() + q + "&_count=2";
  for (int pages = 0; !next.empty() && pages < 10; ++pages) {
    client_.SetBearer(patient);
    auto page = client_.Request("GET", next, {kJson}, "");
    ASSERT_EQ(page.status, 200) << page.body;
    JsonValue bundle = Parse(page.body);
    size_t n = EntityRefs(bundle).size();
    EXPECT_LE(n, 2u);
    seen += n;
    next.clear();
    if (const JsonValue* links = bundle.Find("link"); links && links->is_array())
      for (const auto& l : links->items())
        if (l.GetString("relation") == "next") next = l.GetString("url");
  }
  EXPECT_EQ(seen, 5u);

  // Several entities: either of them.
  auto both = As(patient, "GET",
                 "/fhir/AuditEvent?patient=" + pid + "&entity=DocumentReference/" + a +
                     ",DocumentReference/" + b + "&_count=50");
  ASSERT_EQ(both.status, 200);
  EXPECT_EQ(EntityRefs(Parse(both.body)).size(), 7u);

  // The access filter still applies: another patient reads none of this record's events,
  // whichever way they ask.
  std::string other = Token({"--actor", "patient", "--id", "o-" + run_, "--patient",
                             "2" + std::to_string(ins_base_ + 7)});
  auto theirs = As(other, "GET", "/fhir/AuditEvent?entity=DocumentReference/" + a);
  EXPECT_TRUE(theirs.status == 200 || theirs.status == 404) << theirs.status;
  EXPECT_EQ(EntityRefs(Parse(theirs.body)).size(), 0u) << theirs.body.substr(0, 500);
  auto named = As(other, "GET", q);
  EXPECT_EQ(named.body.find("\"AuditEvent\",\"id\""), std::string::npos);
  EXPECT_EQ(EntityRefs(Parse(named.body)).size(), 0u);
  // A professional never reads the access history.
  EXPECT_EQ(EntityRefs(Parse(As(doctor, "GET", q).body)).size(), 0u);

  // A malformed reference is refused, naming the parameter.
  auto bad = As(patient, "GET", "/fhir/AuditEvent?patient=" + pid + "&entity=nonsense");
  EXPECT_EQ(bad.status, 400) << bad.body;
  EXPECT_NE(bad.body.find("entity"), std::string::npos);
  auto bad2 =
      As(patient, "GET", "/fhir/AuditEvent?patient=" + pid + "&entity=DocumentReference/a'%7Bb%7D");
  EXPECT_EQ(bad2.status, 400) << bad2.body;
  // Declared in the CapabilityStatement.
  EXPECT_NE(As(patient, "GET", "/fhir/metadata").body.find("the object accessed"),
            std::string::npos);
}

}  // namespace
}  // namespace carnet::testing
