// A DocumentReference written through FHIR is indexed in the XDS registry tables in the same
// transaction (the registry view of the one canonical record).
#include <gtest/gtest.h>

#include "base/json.h"
#include "base/strings.h"
#include "storage/connection.h"
#include "tests/integration/harness.h"

namespace carnet::testing {
namespace {

TEST(RegistryIndexTest, DocumentReferenceAppearsInTheRegistry) {
  GatewayProcess gateway;
  ASSERT_TRUE(gateway.WaitHealthy()) << gateway.Log();
  HttpClient client;
  std::string base = gateway.base_url() + "/fhir/";
  std::string ins = "2" + std::to_string(300000000000LL + std::stoll(RandomHex(5), nullptr, 16));
  std::string pid = "reg-" + RandomHex(5);
  auto p = client.Request("PUT", base + "Patient/" + pid, {"Content-Type: application/fhir+json"},
                          R"({"resourceType":"Patient","id":")" + pid +
                              R"(","identifier":[{"system":"urn:oid:1.2.250.1.213.1.4.10","value":")" + ins + R"("}]})");
  ASSERT_EQ(p.status, 201) << p.body;
  std::string uid = "1.2.250.1.999." + std::to_string(std::stoll(RandomHex(5), nullptr, 16));
  std::string dr = R"({"resourceType":"DocumentReference",
    "masterIdentifier":{"system":"urn:ietf:rfc:3986","value":"urn:oid:)" + uid + R"("},
    "status":"current",
    "type":{"coding":[{"system":"http://loinc.org","code":"11502-2","display":"Laboratory report"}]},
    "category":[{"coding":[{"system":"urn:oid:1.2.250.1.213.1.1.4.1","code":"10"}]}],
    "subject":{"reference":"Patient/)" + pid + R"("},
    "securityLabel":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":"N"}]},
                     {"coding":[{"system":"urn:oid:1.2.250.1.213.1.1.4.13","code":"MASQUE_PS"}]}],
    "content":[{"attachment":{"contentType":"text/plain","url":"Binary/x","size":3,
                              "hash":"qZk+NkcGgWq6PiVxeFDCbJzQ2J0=","creation":"2024-03-01T10:00:00Z"},
                "format":{"system":"urn:oid:1.2.250.1.213.1.1.4.2.282","code":"urn:ihe:lab:xd-lab:2008"}}],
    "context":{"period":{"start":"2024-02-28"},
               "event":[{"coding":[{"system":"http://loinc.org","code":"2951-2"}]}]}})";
  auto created = client.Request("POST", base + "DocumentReference", {"Content-Type: application/fhir+json"}, dr);
  ASSERT_EQ(created.status, 201) << created.body;
  std::string id = ParseJson(created.body)->GetString("id");

  auto conn = storage::Connection::Open(TestDbConninfo());
  ASSERT_TRUE(conn.ok());
  auto row = (*conn)->RunDynamic(
      "SELECT unique_id, patient_id, type_code, type_scheme, availability_status, "
      "to_char(creation_time AT TIME ZONE 'UTC', 'YYYYMMDDHH24MISS'), encode(hash_sha1, 'hex'), "
      "size, entry_uuid::text, (SELECT count(*) FROM registry_code c WHERE c.entry_uuid = o.entry_uuid) "
      "FROM registry_object o WHERE res_type = 'DocumentReference' AND res_id = $1",
      {storage::SqlParam::Text(id)});
  ASSERT_TRUE(row.ok()) << row.status().ToString();
  ASSERT_EQ(row->rows(), 1);
  EXPECT_EQ(row->GetString(0, 0), uid);
  EXPECT_EQ(row->GetString(0, 1), ins + "^^^&1.2.250.1.213.1.4.10&ISO");
  EXPECT_EQ(row->GetString(0, 2), "11502-2");
  EXPECT_EQ(row->GetString(0, 3), "2.16.840.1.113883.6.1");
  EXPECT_EQ(row->GetString(0, 4), "Approved");
  EXPECT_EQ(row->GetString(0, 5), "20240301100000");
  EXPECT_EQ(row->GetString(0, 6), "a9993e364706816aba3e25717850c26c9cd0d89d");  // SHA-1("abc")
  EXPECT_EQ(row->GetString(0, 7), "3");
  EXPECT_EQ(row->GetString(0, 8), id);  // server ids are UUIDs: entryUUID = id
  EXPECT_EQ(row->GetString(0, 9), "3");  // one event code, two confidentiality codes

  // The same uniqueId twice is refused, nothing stored.
  auto dup = client.Request("POST", base + "DocumentReference", {"Content-Type: application/fhir+json"}, dr);
  EXPECT_EQ(dup.status, 409) << dup.body;

  // Superseded -> Deprecated; deleted -> gone from the registry.
  JsonValue doc = *ParseJson(client.Get(base + "DocumentReference/" + id).body);
  doc.Set("status", JsonValue::String("superseded"));
  auto upd = client.Request("PUT", base + "DocumentReference/" + id, {"Content-Type: application/fhir+json"},
                            WriteJson(doc));
  ASSERT_EQ(upd.status, 200) << upd.body;
  auto st = (*conn)->RunDynamic("SELECT availability_status FROM registry_object WHERE res_id = $1",
                                {storage::SqlParam::Text(id)});
  ASSERT_TRUE(st.ok());
  ASSERT_EQ(st->rows(), 1);
  EXPECT_EQ(st->GetString(0, 0), "Deprecated");
  ASSERT_EQ(client.Request("DELETE", base + "DocumentReference/" + id).status, 204);
  auto gone = (*conn)->RunDynamic("SELECT count(*) FROM registry_object WHERE res_id = $1",
                                  {storage::SqlParam::Text(id)});
  EXPECT_EQ(gone->GetInt(0, 0), 0);
}

}  // namespace
}  // namespace carnet::testing
