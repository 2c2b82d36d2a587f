// POST /fhir/DocumentReference/$deposit: a bare CDA filed with metadata from its header, and
// the same document visible through XDS.b.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "base/json.h"
#include "tests/integration/harness.h"

namespace carnet::testing {
namespace {

std::string Corpus(const std::string& name) {
  std::ifstream in(std::string(CARNET_SOURCE_DIR) + "/../shared/testdata/cda/ci-sis/" + name);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(DepositTest, BareCdaIsFiledFromItsHeader) {
  GatewayProcess gateway;
  ASSERT_TRUE(gateway.WaitHealthy()) << gateway.Log();
  HttpClient client;
  std::string base = gateway.base_url() + "/fhir/";
  auto p = client.Request("POST", base + "Patient",
                          {"Content-Type: application/fhir+json",
                           "If-None-Exist: identifier=urn:oid:1.2.250.1.213.1.4.10|279035121518989"},
                          R"({"resourceType":"Patient","identifier":[{"system":"urn:oid:1.2.250.1.213.1.4.10","value":"279035121518989"}],
                              "name":[{"family":"PAT-TROIS","given":["DOMINIQUE"]}]})");
  ASSERT_TRUE(p.status == 201 || p.status == 200) << p.body;
  std::string pid = ParseJson(p.body)->GetString("id");
  // A database reused from an earlier run may hold the document already.
  client.Request("DELETE", base + "DocumentReference?identifier=urn:oid:1.2.250.1.213.1.1.1.55.2024.9.1");

  std::string cda = Corpus("BIO-CR-BIO_2024.01_TSH_1.xml");
  auto r = client.Request("POST", base + "DocumentReference/$deposit", {"Content-Type: application/xml"}, cda);
  ASSERT_EQ(r.status, 201) << r.body;
  JsonValue dr = *ParseJson(r.body);
  EXPECT_EQ(dr.Find("masterIdentifier")->GetString("value"), "urn:oid:1.2.250.1.213.1.1.1.55.2024.9.1");
  EXPECT_EQ(dr.Find("subject")->GetString("reference"), "Patient/" + pid);
  EXPECT_EQ(dr.Find("type")->Find("coding")->items()[0].GetString("code"), "11502-2");
  const JsonValue& att = *dr.Find("content")->items()[0].Find("attachment");
  EXPECT_EQ(att.GetString("creation"), "2021-04-01T16:10:00Z");
  auto bytes = client.Get(gateway.base_url() + "/fhir/" + att.GetString("url"));
  EXPECT_EQ(bytes.body, cda);
  // The results inside (CDA level 3) are Observations of the record, derived from the document.
  std::string doc_ref = "DocumentReference/" + dr.GetString("id");
  auto obs = client.Get(base + "Observation?derived-from=" + doc_ref + "&code=http://loinc.org|3016-3");
  JsonValue bundle = *ParseJson(obs.body);
  ASSERT_TRUE(bundle.Find("entry") && bundle.Find("entry")->items().size() == 1) << obs.body.substr(0, 1500);
  const JsonValue& tsh = *bundle.Find("entry")->items()[0].Find("resource");
  EXPECT_EQ(tsh.Find("valueQuantity")->Find("value")->text(), "1.950");
  EXPECT_EQ(tsh.Find("valueQuantity")->GetString("code"), "m[IU]/L");
  EXPECT_EQ(tsh.Find("subject")->GetString("reference"), "Patient/" + pid);
  auto prov = client.Get(base + "Provenance?entity=" + doc_ref);
  EXPECT_NE(prov.body.find("Observation/"), std::string::npos) << prov.body.substr(0, 1000);
  // The same document again is a duplicate; a document for an unknown person is refused.
  EXPECT_EQ(client.Request("POST", base + "DocumentReference/$deposit", {"Content-Type: application/xml"}, cda).status, 409);
  std::string stranger = cda;
  stranger.replace(stranger.find("279035121518989"), 15, "199999999999999");
  EXPECT_EQ(client.Request("POST", base + "DocumentReference/$deposit", {"Content-Type: application/xml"}, stranger).status,
            404);
  EXPECT_EQ(client.Request("POST", base + "DocumentReference/$deposit", {"Content-Type: application/xml"},
                           "<notcda/>").status,
            400);
  EXPECT_EQ(client.Request("POST", base + "DocumentReference/$deposit", {"Content-Type: application/pdf"}, "x").status,
            415);
}

}  // namespace
}  // namespace carnet::testing
