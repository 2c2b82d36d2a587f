// The access history's events (profiles/audit_event.h): the BALP AuditEvent shape, and the
// row handed to storage (the JSON as stored, the chain verifying over it) against a scratch
// PostgreSQL database.
#include "profiles/audit_event.h"

#include <gtest/gtest.h>

#include "base/json.h"
#include "storage/migrations.h"
#include "tests/unit/test_db.h"

namespace carnet::profiles {
namespace {

using carnet::testing::ScratchDatabase;

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

TEST(AuditEventTest, BalpShape) {
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

TEST(AuditEventTest, TheRowCarriesTheEventAndItsChainColumns) {
  AuditEntry e = ReadBy(7, "DocumentReference/d1");
  e.emergency = true;
  e.recorded =
      std::chrono::system_clock::time_point(std::chrono::microseconds(1'700'000'000'123'456));
  storage::AuditRecord r = AuditRecordOf(e, "0b5a4a7e-0000-4000-8000-000000000003");
  EXPECT_EQ(r.patient_key, 7);
  EXPECT_EQ(r.event_id, "0b5a4a7e-0000-4000-8000-000000000003");
  EXPECT_EQ(r.recorded.time_since_epoch(), std::chrono::milliseconds(1'700'000'000'123));
  EXPECT_EQ(r.action, 'R');
  EXPECT_EQ(r.outcome, "0");
  EXPECT_EQ(r.actor_id, "810000000002");
  EXPECT_EQ(r.actor_kind, "professional");
  EXPECT_TRUE(r.emergency);
  EXPECT_EQ(r.content, BuildAuditEventJson(e, r.event_id));
  EXPECT_NE(r.content.find("\"recorded\":\"2023-11-14T22:13:20.123Z\""), std::string::npos)
      << r.content;
}

TEST(AuditEventTest, AppendedEventsAreStoredAsWrittenAndChained) {
  ScratchDatabase db;
  auto c = storage::Connection::Open(db.conninfo());
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  storage::Connection& conn = **c;
  ASSERT_TRUE(storage::ApplyMigrations(conn, storage::BuiltinMigrations()).ok());
  auto p = conn.Exec(
      "INSERT INTO patient (resource_id, ins, ins_system) VALUES ('p1', '2770675000011', "
      "'1.2.250.1.213.1.4.10') RETURNING patient_key");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  long long key = p->GetInt(0, 0);
  ASSERT_TRUE(conn.Exec("BEGIN").ok());
  storage::Transaction tx(conn);
  auto first = AppendAuditEvent(tx, ReadBy(key, "DocumentReference/d1"));
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  auto second = AppendAuditEvent(tx, ReadBy(key, "DocumentReference/d2"));
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_NE(first->event_id, second->event_id);
  ASSERT_TRUE(conn.Exec("COMMIT").ok());

  auto row = conn.Exec("SELECT content, actor_kind, outcome FROM audit_event WHERE event_id = '" +
                       second->event_id + "'");
  ASSERT_TRUE(row.ok() && row->rows() == 1);
  auto ev = ParseJson(row->GetString(0, 0));
  ASSERT_TRUE(ev.ok());
  EXPECT_EQ(ev->GetString("resourceType"), "AuditEvent");
  EXPECT_EQ(ev->GetString("id"), second->event_id);
  EXPECT_NE(row->GetString(0, 0).find("DocumentReference/d2"), std::string::npos);
  EXPECT_EQ(row->GetString(0, 1), "professional");
  EXPECT_EQ(row->GetString(0, 2), "0");
  auto v = storage::VerifyAuditChains(conn, key);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_TRUE(v->ok()) << v->first_break->problem;
  EXPECT_EQ(v->events, 2);
}

}  // namespace
}  // namespace carnet::profiles
