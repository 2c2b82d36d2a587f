// POST /fhir/DocumentReference/$deposit: a bare CDA filed with metadata from its header, and
// the same document visible through XDS.b.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "base/json.h"
#include "base/strings.h"
#include "mapping/cda_header.h"
#include "mapping/document_entry.h"
#include "mapping/xds_metadata.h"
#include "storage/connection.h"
#include "tests/integration/harness.h"
#include "tests/integration/xds_messages.h"
#include "xds/requests.h"

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
  auto p = client.Request(
      "POST", base + "Patient",
      {"Content-Type: application/fhir+json",
       "If-None-Exist: identifier=urn:oid:1.2.250.1.213.1.4.10|279035121518989"},
      R"({"resourceType":"Patient","identifier":[{"system":"urn:oid:1.2.250.1.213.1.4.10","value":"279035121518989"}],
                              "name":[{"family":"PAT-TROIS","given":["DOMINIQUE"]}]})");
  ASSERT_TRUE(p.status == 201 || p.status == 200) << p.body;
  std::string pid = ParseJson(p.body)->GetString("id");
  // A database reused from an earlier run may hold the document already.
  client.Request("DELETE",
                 base + "DocumentReference?identifier=urn:oid:1.2.250.1.213.1.1.1.55.2024.9.1");

  std::string cda = Corpus("BIO-CR-BIO_2024.01_TSH_1.xml");
  auto r = client.Request("POST", base + "DocumentReference/$deposit",
                          {"Content-Type: application/xml"}, cda);
  ASSERT_EQ(r.status, 201) << r.body;
  JsonValue dr = *ParseJson(r.body);
  EXPECT_EQ(dr.Find("masterIdentifier")->GetString("value"),
            "urn:oid:1.2.250.1.213.1.1.1.55.2024.9.1");
  EXPECT_EQ(dr.Find("subject")->GetString("reference"), "Patient/" + pid);
  EXPECT_EQ(dr.Find("type")->Find("coding")->items()[0].GetString("code"), "11502-2");
  const JsonValue& att = *dr.Find("content")->items()[0].Find("attachment");
  EXPECT_EQ(att.GetString("creation"), "2021-04-01T16:10:00Z");
  auto bytes = client.Get(gateway.base_url() + "/fhir/" + att.GetString("url"));
  EXPECT_EQ(bytes.body, cda);
  // The results inside (CDA level 3) are Observations of the record, derived from the document.
  std::string doc_ref = "DocumentReference/" + dr.GetString("id");
  auto obs =
      client.Get(base + "Observation?derived-from=" + doc_ref + "&code=http://loinc.org|3016-3");
  JsonValue bundle = *ParseJson(obs.body);
  ASSERT_TRUE(bundle.Find("entry") && bundle.Find("entry")->items().size() == 1)
      << obs.body.substr(0, 1500);
  const JsonValue& tsh = *bundle.Find("entry")->items()[0].Find("resource");
  EXPECT_EQ(tsh.Find("valueQuantity")->Find("value")->text(), "1.950");
  EXPECT_EQ(tsh.Find("valueQuantity")->GetString("code"), "m[IU]/L");
  EXPECT_EQ(tsh.Find("subject")->GetString("reference"), "Patient/" + pid);
  auto prov = client.Get(base + "Provenance?entity=" + doc_ref);
  EXPECT_NE(prov.body.find("Observation/"), std::string::npos) << prov.body.substr(0, 1000);
  // One audit event for the deposit (issue 20): the event of the document's creation names
  // what was extracted from it; no extracted resource has an event of its own.
  {
    auto db = storage::Connection::Open(TestDbConninfo());
    ASSERT_TRUE(db.ok()) << db.status().message();
    auto events =
        (*db)->RunDynamic("SELECT content FROM audit_event WHERE strpos(content, $1) > 0",
                          {storage::SqlParam::Text("Observation/" + tsh.GetString("id"))});
    ASSERT_TRUE(events.ok()) << events.status().message();
    ASSERT_EQ(events->rows(), 1);
    std::string event = events->GetString(0, 0);
    EXPECT_NE(event.find("\"" + doc_ref + "\""), std::string::npos) << event.substr(0, 1500);
    EXPECT_NE(event.find("Provenance/"), std::string::npos) << event.substr(0, 1500);
  }
  // It carries carnet's tag, and no client may change it.
  JsonValue prov_bundle = *ParseJson(prov.body);
  ASSERT_TRUE(prov_bundle.Find("entry") && !prov_bundle.Find("entry")->items().empty());
  JsonValue extraction = *prov_bundle.Find("entry")->items()[0].Find("resource");
  EXPECT_NE(prov.body.find("cda-extraction"), std::string::npos);
  extraction.Find("meta")->Set("tag", JsonValue::Array());
  EXPECT_EQ(client
                .Request("PUT", base + "Provenance/" + extraction.GetString("id"),
                         {"Content-Type: application/fhir+json"}, WriteJson(extraction))
                .status,
            403);
  // The same document again is a duplicate; a document for an unknown person is refused.
  EXPECT_EQ(client
                .Request("POST", base + "DocumentReference/$deposit",
                         {"Content-Type: application/xml"}, cda)
                .status,
            409);
  std::string stranger = cda;
  stranger.replace(stranger.find("279035121518989"), 15, "199999999999999");
  EXPECT_EQ(client
                .Request("POST", base + "DocumentReference/$deposit",
                         {"Content-Type: application/xml"}, stranger)
                .status,
            404);
  EXPECT_EQ(client
                .Request("POST", base + "DocumentReference/$deposit",
                         {"Content-Type: application/xml"}, "<notcda/>")
                .status,
            400);
  // A PDF needs its minimal metadata as parameters (APdfWithMinimalMetadataIsFiled); a ZIP is no
  // document.
  EXPECT_EQ(client
                .Request("POST", base + "DocumentReference/$deposit",
                         {"Content-Type: application/pdf"}, "x")
                .status,
            422);
  EXPECT_EQ(client
                .Request("POST", base + "DocumentReference/$deposit",
                         {"Content-Type: application/zip"}, "x")
                .status,
            415);
}

// Removing a document removes what its extraction wrote, without asking the policy for each
// resource. Only the extraction's own Provenance (tagged by carnet, a tag no client may write)
// counts: one a client writes, naming the document as its entity and resources of this or
// another record as its targets, takes nothing along when the document goes.
TEST(DepositTest, RemovalFollowsOnlyTheExtractionsOwnProvenance) {
  GatewayProcess gateway;
  ASSERT_TRUE(gateway.WaitHealthy()) << gateway.Log();
  HttpClient client;
  std::string base = gateway.base_url() + "/fhir/";
  std::string tag = NewUuid().substr(0, 8);
  auto patient = [&](const std::string& ins) {
    auto p = client.Request(
        "POST", base + "Patient", {"Content-Type: application/fhir+json"},
        R"({"resourceType":"Patient","identifier":[{"system":"urn:oid:1.2.250.1.213.1.4.10","value":")" +
            ins + R"("}],"name":[{"family":"PROV-)" + tag + R"("}]})");
    EXPECT_EQ(p.status, 201) << p.body;
    return ParseJson(p.body)->GetString("id");
  };
  std::string a =
      patient("1" + std::to_string(std::hash<std::string>{}(tag + "a") % 1000000000000ULL));
  std::string b =
      patient("2" + std::to_string(std::hash<std::string>{}(tag + "b") % 1000000000000ULL));
  auto observation = [&](const std::string& subject) {
    auto o = client.Request(
        "POST", base + "Observation", {"Content-Type: application/fhir+json"},
        R"({"resourceType":"Observation","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"29463-7"}]},"subject":{"reference":"Patient/)" +
            subject +
            R"("},"valueQuantity":{"value":70,"unit":"kg","system":"http://unitsofmeasure.org","code":"kg"}})");
    EXPECT_EQ(o.status, 201) << o.body;
    return ParseJson(o.body)->GetString("id");
  };
  std::string other_record = observation(b), same_record = observation(a);
  auto x = client.Request(
      "POST", base + "DocumentReference", {"Content-Type: application/fhir+json"},
      R"({"resourceType":"DocumentReference","status":"current","type":{"coding":[{"system":"http://loinc.org","code":"11502-2"}]},"subject":{"reference":"Patient/)" +
          a + R"("},"content":[{"attachment":{"contentType":"text/plain","data":"SGVsbG8="}}]})");
  ASSERT_EQ(x.status, 201) << x.body;
  std::string x_id = ParseJson(x.body)->GetString("id");
  auto provenance = [&](const std::string& meta) {
    return client.Request(
        "POST", base + "Provenance", {"Content-Type: application/fhir+json"},
        R"({"resourceType":"Provenance",)" + meta + R"("target":[{"reference":"Observation/)" +
            other_record + R"("},{"reference":"Observation/)" + same_record +
            R"("}],"recorded":"2026-01-01T00:00:00Z","agent":[{"who":{"display":"a client"}}],"entity":[{"role":"source","what":{"reference":"DocumentReference/)" +
            x_id + R"("}}]})");
  };
  // carnet's tag is refused from a client; without it the Provenance is the client's own.
  EXPECT_EQ(
      provenance(
          R"("meta":{"tag":[{"system":"https://carnet.example.org/fhir/CodeSystem/carnet-internal","code":"cda-extraction"}]},)")
          .status,
      403);
  auto forged = provenance("");
  ASSERT_EQ(forged.status, 201) << forged.body;
  ASSERT_EQ(client.Request("DELETE", base + "DocumentReference/" + x_id).status, 204);
  EXPECT_EQ(client.Get(base + "DocumentReference/" + x_id).status, 410);
  EXPECT_EQ(client.Get(base + "Observation/" + other_record).status, 200);
  EXPECT_EQ(client.Get(base + "Observation/" + same_record).status, 200);
}

// A level-1 CDA (a PDF in nonXMLBody): filed, and the PDF inside retrievable as itself.
TEST(DepositTest, LevelOneContentIsRetrievable) {
  GatewayProcess gateway;
  ASSERT_TRUE(gateway.WaitHealthy()) << gateway.Log();
  HttpClient client;
  std::string base = gateway.base_url() + "/fhir/";
  auto p = client.Request(
      "POST", base + "Patient",
      {"Content-Type: application/fhir+json",
       "If-None-Exist: identifier=urn:oid:1.2.250.1.213.1.4.10|279035121518989"},
      R"({"resourceType":"Patient","identifier":[{"system":"urn:oid:1.2.250.1.213.1.4.10","value":"279035121518989"}]})");
  ASSERT_TRUE(p.status == 201 || p.status == 200) << p.body;
  client.Request("DELETE",
                 base + "DocumentReference?identifier=urn:oid:1.3.6.1.4.1.19376.1.2.20.12345.1.1");
  std::string cda = Corpus("DOC_NON_STRUCTURE_CDA-R2-N1.xml");
  auto r = client.Request("POST", base + "DocumentReference/$deposit",
                          {"Content-Type: application/xml"}, cda);
  ASSERT_EQ(r.status, 201) << r.body.substr(0, 800);
  std::string doc_ref = "DocumentReference/" + ParseJson(r.body)->GetString("id");
  auto prov = ParseJson(client.Get(base + "Provenance?entity=" + doc_ref).body);
  ASSERT_TRUE(prov.ok() && prov->Find("entry")) << "a Provenance for the level-1 document";
  const JsonValue& pr = *prov->Find("entry")->items()[0].Find("resource");
  std::string binary;
  for (const auto& t : pr.Find("target")->items())
    if (t.GetString("reference").rfind("Binary/", 0) == 0) binary = t.GetString("reference");
  ASSERT_FALSE(binary.empty()) << WriteJson(pr);
  EXPECT_NE(pr.Find("extension")->items()[0].GetString("valueString").find("application/pdf"),
            std::string::npos);
  auto pdf = client.Get(base + binary, {"Accept: application/pdf"});
  EXPECT_EQ(pdf.status, 200);
  EXPECT_EQ(pdf.headers["content-type"].substr(0, 15), "application/pdf");
  EXPECT_EQ(pdf.body.rfind("%PDF-", 0), 0u);
  client.Request("DELETE", base + doc_ref);
  EXPECT_EQ(client.Get(base + binary).status, 410) << "the embedded content goes with its document";
}

// The same lab report by the three roads (issue 7, "Done when"): $deposit, XDS.b ITI-41 and
// MHD ITI-65 leave the same dossier: the same DocumentReference (identity, type, patient,
// times, format) and the same Observations derived from it, with a Provenance and its
// mapping report. Between roads the document is deleted, and its Observations with it.
TEST(DepositTest, TheThreeRoadsGiveTheSameDossier) {
  GatewayProcess gateway;
  ASSERT_TRUE(gateway.WaitHealthy()) << gateway.Log();
  HttpClient client;
  std::string base = gateway.base_url() + "/fhir/";
  auto p = client.Request(
      "POST", base + "Patient",
      {"Content-Type: application/fhir+json",
       "If-None-Exist: identifier=urn:oid:1.2.250.1.213.1.4.10|279035121518989"},
      R"({"resourceType":"Patient","identifier":[{"system":"urn:oid:1.2.250.1.213.1.4.10","value":"279035121518989"}]})");
  ASSERT_TRUE(p.status == 201 || p.status == 200) << p.body;
  std::string pid = ParseJson(p.body)->GetString("id");
  const std::string uid = "1.2.250.1.213.1.1.1.55.2024.9.1";
  std::string cda = Corpus("BIO-CR-BIO_2024.01_TSH_1.xml");
  auto header = mapping::ReadCdaHeader(cda);
  ASSERT_TRUE(header.ok()) << header.status().ToString();

  // What a road leaves in the dossier, as text to compare.
  auto state = [&]() -> std::string {
    auto found = ParseJson(client.Get(base + "DocumentReference?identifier=urn:oid:" + uid).body);
    if (!found.ok() || !found->Find("entry") || found->Find("entry")->items().size() != 1)
      return "no single document";
    const JsonValue& dr = *found->Find("entry")->items()[0].Find("resource");
    const JsonValue& att = *dr.Find("content")->items()[0].Find("attachment");
    std::string out = "type=" + dr.Find("type")->Find("coding")->items()[0].GetString("code") +
                      " subject=" + dr.Find("subject")->GetString("reference") +
                      " status=" + dr.GetString("status") +
                      " creation=" + att.GetString("creation") +
                      " contentType=" + att.GetString("contentType");
    if (const JsonValue* fmt = dr.Find("content")->items()[0].Find("format"))
      out += " format=" + fmt->GetString("code");
    auto bytes = client.Get(gateway.base_url() + "/fhir/" + att.GetString("url"));
    out += bytes.body == cda ? " content=same" : " content=DIFFERENT";
    std::string doc_ref = "DocumentReference/" + dr.GetString("id");
    auto obs =
        ParseJson(client.Get(base + "Observation?derived-from=" + doc_ref + "&_count=100").body);
    std::vector<std::string> results;
    if (obs.ok() && obs->Find("entry"))
      for (const auto& e : obs->Find("entry")->items()) {
        const JsonValue& o = *e.Find("resource");
        results.push_back(o.Find("code")->Find("coding")->items()[0].GetString("code") + "=" +
                          o.Find("valueQuantity")->Find("value")->text() +
                          o.Find("valueQuantity")->GetString("code") + "@" +
                          o.GetString("effectiveDateTime"));
      }
    std::sort(results.begin(), results.end());
    for (const auto& r : results) out += " " + r;
    auto prov = ParseJson(client.Get(base + "Provenance?entity=" + doc_ref).body);
    if (prov.ok() && prov->Find("entry") && prov->Find("entry")->items().size() == 1) {
      const JsonValue& pr = *prov->Find("entry")->items()[0].Find("resource");
      out += " report=[" + pr.Find("extension")->items()[0].GetString("valueString") + "]";
    } else {
      out += " report=missing";
    }
    // The words of the CDA body (its result table), whichever road wrote the Binary.
    auto words = ParseJson(client
                               .Get(base + "DocumentReference?identifier=urn:oid:" + uid +
                                    "&_content=thyroxine%20libre&_summary=count")
                               .body);
    out += " fulltext=" + (words.ok() && words->Find("total") ? words->Find("total")->text() : "?");
    return out;
  };
  auto clear = [&] {
    client.Request("DELETE", base + "DocumentReference?identifier=urn:oid:" + uid);
    EXPECT_EQ(state(), "no single document");
  };
  clear();

  // Road 1: $deposit.
  auto r1 = client.Request("POST", base + "DocumentReference/$deposit",
                           {"Content-Type: application/xml"}, cda);
  ASSERT_EQ(r1.status, 201) << r1.body;
  std::string by_deposit = state();
  EXPECT_NE(by_deposit.find("3016-3=1.950m[IU]/L"), std::string::npos) << by_deposit;
  EXPECT_NE(by_deposit.find("report=[extracted: "), std::string::npos) << by_deposit;
  EXPECT_NE(by_deposit.find("fulltext=1"), std::string::npos) << by_deposit;
  std::string dr1 = ParseJson(r1.body)->GetString("id");
  clear();
  // Deleting the document took its Observations with it.
  auto leftover =
      ParseJson(client.Get(base + "Observation?derived-from=DocumentReference/" + dr1).body);
  EXPECT_EQ(leftover->Find("entry"), nullptr) << "extracted resources go with their document";

  // Road 2: XDS.b ITI-41, the metadata a source system would send for this document.
  xds::DocumentEntry e = header->entry;
  e.id = "urn:uuid:" + NewUuid();
  e.patient_id = "279035121518989^^^&1.2.250.1.213.1.4.10&ISO";
  e.source_patient_id = e.patient_id;
  e.repository_unique_id = "1.3.6.1.4.1.21367.2017.2.5.84";
  std::string envelope = ProvideAndRegisterRequest(e, cda);
  auto r2 = client.Request("POST", gateway.base_url() + "/xds/repository", {kSoap}, envelope);
  ASSERT_NE(r2.body.find("ResponseStatusType:Success"), std::string::npos)
      << r2.body.substr(0, 1500);
  EXPECT_EQ(state(), by_deposit) << "ITI-41 and $deposit";
  clear();

  // Road 3: MHD ITI-65, a transaction Bundle (SubmissionSet List, DocumentReference, Binary).
  JsonValue dr =
      mapping::DocumentReferenceFromEntry(e, "Patient/" + pid, "urn:uuid:bin-" + RandomHex(4));
  std::string binary_ref = dr.Find("content")->items()[0].Find("attachment")->GetString("url");
  std::string dr_full = "urn:uuid:" + NewUuid();
  xds::SubmissionSet set;
  set.patient_id = e.patient_id;
  set.source_id = "1.2.250.1.999";
  set.submission_time = "20240102030405";
  set.content_type_code = e.class_code;
  if (!e.authors.empty()) set.authors.push_back(e.authors[0]);
  set.id = "urn:uuid:" + NewUuid();
  set.unique_id = "1.2.250.1.999.14." + std::to_string(std::stoll(RandomHex(5), nullptr, 16));
  JsonValue list = mapping::ListFromSubmissionSet(set, "Patient/" + pid, {dr_full});
  list.Remove("id");
  dr.Remove("id");
  std::string bundle =
      R"({"resourceType":"Bundle","type":"transaction","entry":[
    {"fullUrl":")" +
      std::string("urn:uuid:") + NewUuid() + R"(","resource":)" + WriteJson(list) +
      R"(,"request":{"method":"POST","url":"List"}},
    {"fullUrl":")" +
      dr_full + R"(","resource":)" + WriteJson(dr) +
      R"(,"request":{"method":"POST","url":"DocumentReference"}},
    {"fullUrl":")" +
      binary_ref + R"(","resource":{"resourceType":"Binary","contentType":"text/xml","data":")" +
      Base64Encode(cda) + R"("},"request":{"method":"POST","url":"Binary"}}]})";
  std::string mhd_request = "mhd-" + RandomHex(8);
  auto r3 = client.Request("POST", gateway.base_url() + "/fhir",
                           {"Content-Type: application/fhir+json", "X-Request-Id: " + mhd_request},
                           bundle);
  ASSERT_EQ(r3.status, 200) << r3.body.substr(0, 1500);
  EXPECT_EQ(state(), by_deposit) << "ITI-65 and $deposit";
  // One audit event for the submission (issue 20): an Import naming the document, its
  // content, the SubmissionSet and what was extracted, not one event per entry.
  auto db = storage::Connection::Open(TestDbConninfo());
  ASSERT_TRUE(db.ok()) << db.status().message();
  auto events = (*db)->RunDynamic("SELECT content FROM audit_event WHERE request_id = $1",
                                  {storage::SqlParam::Text(mhd_request)});
  ASSERT_TRUE(events.ok()) << events.status().message();
  ASSERT_EQ(events->rows(), 1);
  std::string event = events->GetString(0, 0);
  for (const char* named : {"\"DocumentReference/", "\"Binary/", "\"List/", "\"Provenance/"})
    EXPECT_NE(event.find(named), std::string::npos) << named << " in " << event.substr(0, 2000);
  EXPECT_NE(event.find("ITI-65"), std::string::npos);
}

// The CDA header against the metadata it came with, on the XDS and FHIR roads: each
// disagreement is refused with the attribute named and nothing is kept; a patient who is not
// the document's recordTarget is always refused; what the submitter left out is filled from
// the header (in XDS even the attributes the registry requires).
TEST(DepositTest, TheHeaderFillsAndChecksTheMetadata) {
  GatewayProcess gateway;
  ASSERT_TRUE(gateway.WaitHealthy()) << gateway.Log();
  HttpClient client;
  std::string base = gateway.base_url() + "/fhir/";
  auto make_patient = [&](const std::string& ins) {
    auto p = client.Request(
        "POST", base + "Patient",
        {"Content-Type: application/fhir+json",
         "If-None-Exist: identifier=urn:oid:1.2.250.1.213.1.4.10|" + ins},
        R"({"resourceType":"Patient","identifier":[{"system":"urn:oid:1.2.250.1.213.1.4.10","value":")" +
            ins + R"("}]})");
    EXPECT_TRUE(p.status == 201 || p.status == 200) << p.body;
    return ParseJson(p.body)->GetString("id");
  };
  std::string pid = make_patient("279035121518989");
  std::string other_ins =
      "1" + std::to_string(80000000000000LL + std::stoll(RandomHex(5), nullptr, 16));
  std::string other_pid = make_patient(other_ins);
  std::string cda = Corpus("LDL-SES_2022.01.xml");
  auto header = mapping::ReadCdaHeader(cda);
  ASSERT_TRUE(header.ok()) << header.status().ToString();
  const std::string uid = header->entry.unique_id;
  auto stored = [&]() {
    auto found = ParseJson(client.Get(base + "DocumentReference?identifier=urn:oid:" + uid).body);
    return found.ok() && found->Find("entry") ? found->Find("entry")->items().size() : 0u;
  };
  client.Request("DELETE", base + "DocumentReference?identifier=urn:oid:" + uid);
  ASSERT_EQ(stored(), 0u);

  auto iti41 = [&](xds::DocumentEntry e) {
    e.id = "urn:uuid:" + NewUuid();
    e.repository_unique_id = "1.3.6.1.4.1.21367.2017.2.5.84";
    std::string envelope = ProvideAndRegisterRequest(e, cda);
    return client.Request("POST", gateway.base_url() + "/xds/repository", {kSoap}, envelope).body;
  };
  const std::string ins_cx = "279035121518989^^^&1.2.250.1.213.1.4.10&ISO";

  // XDS: two attributes that disagree, both named; nothing kept.
  xds::DocumentEntry wrong = header->entry;
  wrong.patient_id = wrong.source_patient_id = ins_cx;
  wrong.type_code.code = "11502-2";
  wrong.creation_time = "19990101";
  std::string answer = iti41(wrong);
  EXPECT_NE(answer.find("ResponseStatusType:Failure"), std::string::npos) << answer.substr(0, 1500);
  EXPECT_NE(answer.find("XDSRegistryMetadataError"), std::string::npos);
  EXPECT_NE(answer.find("typeCode &apos;11502-2"), std::string::npos) << answer.substr(0, 2000);
  EXPECT_NE(answer.find("creationTime &apos;19990101&apos;"), std::string::npos);
  EXPECT_EQ(stored(), 0u);
  // XDS: another patient's record.
  xds::DocumentEntry elsewhere = header->entry;
  elsewhere.patient_id = elsewhere.source_patient_id = other_ins + "^^^&1.2.250.1.213.1.4.10&ISO";
  answer = iti41(elsewhere);
  EXPECT_NE(answer.find("XDSPatientIdDoesNotMatch"), std::string::npos) << answer.substr(0, 1500);
  EXPECT_EQ(stored(), 0u);
  // XDS: what was left out (required attributes among them) comes from the header.
  xds::DocumentEntry sparse = header->entry;
  sparse.patient_id = sparse.source_patient_id = ins_cx;
  sparse.legal_authenticator.clear();
  sparse.event_codes.clear();
  sparse.service_start_time.clear();
  sparse.service_stop_time.clear();
  sparse.practice_setting_code = {};
  sparse.healthcare_facility_type_code = {};
  sparse.language_code.clear();
  answer = iti41(sparse);
  ASSERT_NE(answer.find("ResponseStatusType:Success"), std::string::npos) << answer.substr(0, 1500);
  auto check_filled = [&](const std::string& road, const std::string& version) {
    SCOPED_TRACE(road);
    auto found = ParseJson(client.Get(base + "DocumentReference?identifier=urn:oid:" + uid).body);
    ASSERT_TRUE(found.ok() && found->Find("entry") && found->Find("entry")->items().size() == 1);
    const JsonValue& dr = *found->Find("entry")->items()[0].Find("resource");
    const JsonValue* ctx = dr.Find("context");
    ASSERT_NE(ctx, nullptr) << WriteJson(dr);
    EXPECT_EQ(ctx->Find("practiceSetting")->Find("coding")->items()[0].GetString("code"),
              "ETABLISSEMENT");
    EXPECT_EQ(ctx->Find("facilityType")->Find("coding")->items()[0].GetString("code"), "SA01");
    EXPECT_EQ(ctx->Find("event")->items()[0].Find("coding")->items()[0].GetString("code"), "IMP");
    EXPECT_EQ(ctx->Find("period")->GetString("start").substr(0, 10), "2019-10-29");
    EXPECT_NE(dr.Find("authenticator"), nullptr);
    EXPECT_NE(dr.Find("author"), nullptr);
    EXPECT_EQ(dr.Find("type")->Find("coding")->items()[0].GetString("code"), "11490-0");
    EXPECT_EQ(dr.Find("category")->items()[0].Find("coding")->items()[0].GetString("code"), "10");
    const JsonValue& att = *dr.Find("content")->items()[0].Find("attachment");
    EXPECT_EQ(att.GetString("language"), "fr-FR");
    EXPECT_EQ(att.GetString("creation").substr(0, 10), "2019-12-03");
    // XDS fills before writing; FHIR writes what it was given, then carnet's completion.
    EXPECT_EQ(dr.Find("meta")->GetString("versionId"), version);
  };
  check_filled("ITI-41", "1");
  client.Request("DELETE", base + "DocumentReference?identifier=urn:oid:" + uid);
  ASSERT_EQ(stored(), 0u);

  // MHD ITI-65: a Minimal DocumentReference is completed from the header; a disagreeing one,
  // or one about another patient, is refused whole.
  auto iti65 = [&](const std::string& patient_id, const std::string& type_code) {
    std::string dr_full = "urn:uuid:" + NewUuid(), bin_full = "urn:uuid:" + NewUuid();
    xds::SubmissionSet set;
    set.id = "urn:uuid:" + NewUuid();
    set.unique_id = "1.2.250.1.999.14." + std::to_string(std::stoll(RandomHex(5), nullptr, 16));
    set.source_id = "1.2.250.1.999";
    set.submission_time = "20240102030405";
    JsonValue list = mapping::ListFromSubmissionSet(set, "Patient/" + patient_id, {dr_full});
    list.Remove("id");
    std::string type =
        type_code.empty()
            ? ""
            : R"("type":{"coding":[{"system":"http://loinc.org","code":")" + type_code + R"("}]},)";
    std::string bundle =
        R"({"resourceType":"Bundle","type":"transaction","entry":[
      {"fullUrl":")" +
        std::string("urn:uuid:") + NewUuid() + R"(","resource":)" + WriteJson(list) +
        R"(,"request":{"method":"POST","url":"List"}},
      {"fullUrl":")" +
        dr_full + R"(","resource":{"resourceType":"DocumentReference","status":"current",)" + type +
        R"("masterIdentifier":{"system":"urn:ietf:rfc:3986","value":"urn:oid:)" + uid +
        R"("},"subject":{"reference":"Patient/)" + patient_id +
        R"("},"content":[{"attachment":{"contentType":"text/xml","url":")" + bin_full +
        R"("}}]},"request":{"method":"POST","url":"DocumentReference"}},
      {"fullUrl":")" +
        bin_full + R"(","resource":{"resourceType":"Binary","contentType":"text/xml","data":")" +
        Base64Encode(cda) + R"("},"request":{"method":"POST","url":"Binary"}}]})";
    return client.Request("POST", gateway.base_url() + "/fhir",
                          {"Content-Type: application/fhir+json"}, bundle);
  };
  auto refused = iti65(pid, "11502-2");
  EXPECT_EQ(refused.status, 422) << refused.body.substr(0, 1500);
  EXPECT_NE(refused.body.find("DocumentReference.type"), std::string::npos) << refused.body;
  EXPECT_NE(refused.body.find("typeCode"), std::string::npos) << refused.body;
  // An MHD submission's errors also name the XDS errorCode of the same failure.
  EXPECT_NE(refused.body.find(R"("details":{"text":"XDSRegistryMetadataError"})"),
            std::string::npos)
      << refused.body;
  EXPECT_EQ(stored(), 0u);
  refused = iti65(other_pid, "");
  EXPECT_EQ(refused.status, 422) << refused.body.substr(0, 1500);
  EXPECT_NE(refused.body.find("recordTarget"), std::string::npos) << refused.body;
  EXPECT_NE(refused.body.find(R"("details":{"text":"XDSPatientIdDoesNotMatch"})"),
            std::string::npos)
      << refused.body;
  EXPECT_EQ(stored(), 0u);
  auto accepted = iti65(pid, "");
  ASSERT_EQ(accepted.status, 200) << accepted.body.substr(0, 1500);
  check_filled("ITI-65", "2");
  client.Request("DELETE", base + "DocumentReference?identifier=urn:oid:" + uid);
}

// A CDA that replaces an earlier version (relatedDocument RPLC, BIO-CR-BIO Microbiologie
// replaces 1.2.250.1.213.1.1.1.55.12345.13) supersedes it whatever the road, even when the
// submitter did not say so; a submitter that names another document is refused.
TEST(DepositTest, ACdaReplacementSupersedesTheEarlierVersionOnEveryRoad) {
  GatewayProcess gateway;
  ASSERT_TRUE(gateway.WaitHealthy()) << gateway.Log();
  HttpClient client;
  std::string base = gateway.base_url() + "/fhir/";
  auto p = client.Request(
      "POST", base + "Patient",
      {"Content-Type: application/fhir+json",
       "If-None-Exist: identifier=urn:oid:1.2.250.1.213.1.4.10|279035121518989"},
      R"({"resourceType":"Patient","identifier":[{"system":"urn:oid:1.2.250.1.213.1.4.10","value":"279035121518989"}]})");
  ASSERT_TRUE(p.status == 201 || p.status == 200) << p.body;
  std::string pid = ParseJson(p.body)->GetString("id");
  const std::string v1_uid = "1.2.250.1.213.1.1.1.55.12345.13";
  std::string v2 = Corpus("BIO-CR-BIO_2024.01_Microbiologie_V2.xml");
  auto header = mapping::ReadCdaHeader(v2);
  ASSERT_TRUE(header.ok());
  ASSERT_EQ(header->replaces_unique_id, v1_uid);
  const std::string v2_uid = header->entry.unique_id;
  // The earlier version: the TSH report under the uniqueId the new one replaces.
  std::string v1 = Corpus("BIO-CR-BIO_2024.01_TSH_1.xml");
  v1.replace(v1.find("1.2.250.1.213.1.1.1.55.2024.9.1"), 31, v1_uid);
  auto one = [&](const std::string& uid) -> JsonValue {
    auto found = ParseJson(client.Get(base + "DocumentReference?identifier=urn:oid:" + uid).body);
    if (!found.ok() || !found->Find("entry") || found->Find("entry")->items().size() != 1)
      return JsonValue();
    return *found->Find("entry")->items()[0].Find("resource");
  };
  auto reset = [&] {
    client.Request("DELETE", base + "DocumentReference?identifier=urn:oid:" + v2_uid);
    client.Request("DELETE", base + "DocumentReference?identifier=urn:oid:" + v1_uid);
    auto r = client.Request("POST", base + "DocumentReference/$deposit",
                            {"Content-Type: application/xml"}, v1);
    EXPECT_EQ(r.status, 201) << r.body.substr(0, 800);
    return ParseJson(r.body)->GetString("id");
  };
  auto check = [&](const std::string& road, const std::string& v1_id) {
    SCOPED_TRACE(road);
    JsonValue old = one(v1_uid), now = one(v2_uid);
    ASSERT_TRUE(old.is_object() && now.is_object());
    EXPECT_EQ(old.GetString("status"), "superseded");
    EXPECT_EQ(now.GetString("status"), "current");
    const JsonValue* rel = now.Find("relatesTo");
    ASSERT_NE(rel, nullptr) << WriteJson(now);
    EXPECT_EQ(rel->items()[0].GetString("code"), "replaces");
    EXPECT_EQ(rel->items()[0].Find("target")->GetString("reference"), "DocumentReference/" + v1_id);
    // ITI-68: the replaced document's content is Gone; its version stays readable.
    std::string url = old.Find("content")->items()[0].Find("attachment")->GetString("url");
    auto gone = client.Get(base + url);
    EXPECT_EQ(gone.status, 410) << gone.body;
    EXPECT_NE(gone.body.find("superseded"), std::string::npos) << gone.body;
    EXPECT_EQ(client.Get(base + url + "/_history/1").status, 200);
    std::string now_url = now.Find("content")->items()[0].Find("attachment")->GetString("url");
    EXPECT_EQ(client.Get(base + now_url).status, 200) << now_url;
    // The earlier version's extracted results went with it.
    auto left =
        ParseJson(client.Get(base + "Observation?derived-from=DocumentReference/" + v1_id).body);
    EXPECT_EQ(left->Find("entry"), nullptr) << road;
  };

  // $deposit.
  std::string v1_id = reset();
  auto r = client.Request("POST", base + "DocumentReference/$deposit",
                          {"Content-Type: application/xml"}, v2);
  ASSERT_EQ(r.status, 201) << r.body.substr(0, 800);
  check("$deposit", v1_id);

  // MHD ITI-65 without relatesTo: the header's RPLC is done for the submitter.
  v1_id = reset();
  auto bundle = [&](const std::string& relates) {
    std::string dr_full = "urn:uuid:" + NewUuid(), bin_full = "urn:uuid:" + NewUuid();
    xds::SubmissionSet set;
    set.id = "urn:uuid:" + NewUuid();
    set.unique_id = "1.2.250.1.999.14." + std::to_string(std::stoll(RandomHex(5), nullptr, 16));
    set.source_id = "1.2.250.1.999";
    set.submission_time = "20240102030405";
    JsonValue list = mapping::ListFromSubmissionSet(set, "Patient/" + pid, {dr_full});
    list.Remove("id");
    return R"({"resourceType":"Bundle","type":"transaction","entry":[
      {"fullUrl":")" +
           std::string("urn:uuid:") + NewUuid() + R"(","resource":)" + WriteJson(list) +
           R"(,"request":{"method":"POST","url":"List"}},
      {"fullUrl":")" +
           dr_full + R"(","resource":{"resourceType":"DocumentReference","status":"current",)" +
           relates + R"("masterIdentifier":{"system":"urn:ietf:rfc:3986","value":"urn:oid:)" +
           v2_uid + R"("},"subject":{"reference":"Patient/)" + pid +
           R"("},"content":[{"attachment":{"contentType":"text/xml","url":")" + bin_full +
           R"("}}]},"request":{"method":"POST","url":"DocumentReference"}},
      {"fullUrl":")" +
           bin_full + R"(","resource":{"resourceType":"Binary","contentType":"text/xml","data":")" +
           Base64Encode(v2) + R"("},"request":{"method":"POST","url":"Binary"}}]})";
  };
  auto m = client.Request("POST", gateway.base_url() + "/fhir",
                          {"Content-Type: application/fhir+json"}, bundle(""));
  ASSERT_EQ(m.status, 200) << m.body.substr(0, 1500);
  check("ITI-65", v1_id);

  // ITI-65 naming another document as the one replaced: refused, nothing changes.
  v1_id = reset();
  auto other = client.Request(
      "POST", base + "DocumentReference", {"Content-Type: application/fhir+json"},
      R"({"resourceType":"DocumentReference","status":"current","subject":{"reference":"Patient/)" +
          pid + R"("},"content":[{"attachment":{"contentType":"text/plain","data":"b3RoZXI="}}]})");
  ASSERT_EQ(other.status, 201) << other.body;
  std::string other_id = ParseJson(other.body)->GetString("id");
  m = client.Request(
      "POST", gateway.base_url() + "/fhir", {"Content-Type: application/fhir+json"},
      bundle(R"("relatesTo":[{"code":"replaces","target":{"reference":"DocumentReference/)" +
             other_id + R"("}}],)"));
  EXPECT_EQ(m.status, 422) << m.body.substr(0, 1500);
  EXPECT_NE(m.body.find("relatedDocument RPLC"), std::string::npos) << m.body.substr(0, 1500);
  EXPECT_EQ(one(v1_uid).GetString("status"), "current");
  EXPECT_EQ(ParseJson(client.Get(base + "DocumentReference/" + other_id).body)->GetString("status"),
            "current");
  EXPECT_TRUE(one(v2_uid).is_null());

  // XDS.b ITI-41 with the header's metadata and no RPLC association.
  v1_id = reset();
  xds::DocumentEntry e = header->entry;
  e.id = "urn:uuid:" + NewUuid();
  e.patient_id = e.source_patient_id = "279035121518989^^^&1.2.250.1.213.1.4.10&ISO";
  e.repository_unique_id = "1.3.6.1.4.1.21367.2017.2.5.84";
  std::string envelope = ProvideAndRegisterRequest(e, v2);
  auto x = client.Request("POST", gateway.base_url() + "/xds/repository", {kSoap}, envelope);
  ASSERT_NE(x.body.find("ResponseStatusType:Success"), std::string::npos) << x.body.substr(0, 1500);
  check("ITI-41", v1_id);
  // ...and the registry shows the RPLC: the earlier entry Deprecated.
  auto q = client.Request(
      "POST", gateway.base_url() + "/xds/registry", {kSoap},
      "<s:Envelope xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\" "
      "xmlns:a=\"http://www.w3.org/2005/08/addressing\"><s:Header><a:Action>urn:ihe:iti:2007:"
      "RegistryStoredQuery</a:Action><a:MessageID>urn:uuid:" +
          NewUuid() +
          "</a:MessageID></s:Header><s:Body><query:AdhocQueryRequest "
          "xmlns:query=\"urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0\" "
          "xmlns:rim=\"urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0\"><query:ResponseOption "
          "returnComposedObjects=\"true\" returnType=\"LeafClass\"/><rim:AdhocQuery "
          "id=\"urn:uuid:5c4f972b-d56b-40ac-a5fc-c8ca9b40b9d4\"><rim:Slot "
          "name=\"$XDSDocumentEntryUniqueId\"><rim:ValueList><rim:Value>('" +
          v1_uid +
          "')</rim:Value></rim:ValueList></rim:Slot></rim:AdhocQuery></query:AdhocQueryRequest>"
          "</s:Body></s:Envelope>");
  EXPECT_NE(q.body.find("StatusType:Deprecated"), std::string::npos) << q.body.substr(0, 1500);
  client.Request("DELETE", base + "DocumentReference?identifier=urn:oid:" + v2_uid);
  client.Request("DELETE", base + "DocumentReference?identifier=urn:oid:" + v1_uid);
}

// $deposit of a document without a CDA header (a PDF, a scan): the minimal metadata as
// parameters, the rest derived; bad or missing parameters are refused, nothing kept.
TEST(DepositTest, APdfWithMinimalMetadataIsFiled) {
  GatewayProcess gateway;
  ASSERT_TRUE(gateway.WaitHealthy()) << gateway.Log();
  HttpClient client;
  std::string base = gateway.base_url() + "/fhir/";
  std::string ins = "2" + std::to_string(800000000000LL + std::stoll(RandomHex(5), nullptr, 16));
  auto p = client.Request(
      "POST", base + "Patient", {"Content-Type: application/fhir+json"},
      R"({"resourceType":"Patient","identifier":[{"system":"urn:oid:1.2.250.1.213.1.4.8","value":")" +
          ins + R"("}]})");
  ASSERT_EQ(p.status, 201) << p.body;
  std::string pid = ParseJson(p.body)->GetString("id");
  std::string pdf = "%PDF-1.4\n% a scanned discharge letter " + RandomHex(8) + "\n%%EOF\n";
  std::string params = "?patient=urn:oid:1.2.250.1.213.1.4.8%7C" + ins +
                       "&type=11490-0&title=Lettre%20de%20sortie&date=2024-03-05";
  auto r = client.Request("POST", base + "DocumentReference/$deposit" + params,
                          {"Content-Type: application/pdf"}, pdf);
  ASSERT_EQ(r.status, 201) << r.body;
  auto dr = ParseJson(r.body);
  ASSERT_TRUE(dr.ok());
  EXPECT_EQ(dr->Find("subject")->GetString("reference"), "Patient/" + pid);
  EXPECT_EQ(dr->Find("type")->Find("coding")->items()[0].GetString("code"), "11490-0");
  EXPECT_EQ(dr->Find("category")->items()[0].Find("coding")->items()[0].GetString("code"), "10");
  const JsonValue& att = *dr->Find("content")->items()[0].Find("attachment");
  EXPECT_EQ(att.GetString("contentType"), "application/pdf");
  EXPECT_EQ(att.GetString("title"), "Lettre de sortie");
  EXPECT_EQ(att.GetString("creation").substr(0, 10), "2024-03-05");
  EXPECT_EQ(dr->Find("masterIdentifier")->GetString("value").rfind("urn:oid:2.25.", 0), 0u);
  auto bytes = client.Request("GET", base + att.GetString("url"), {"Accept: application/pdf"});
  EXPECT_EQ(bytes.status, 200);
  EXPECT_EQ(bytes.body, pdf);
  // Refused, each for its reason.
  auto count = [&] {
    auto b = ParseJson(client.Get(base + "DocumentReference?patient=Patient/" + pid).body);
    return b->Find("entry") ? b->Find("entry")->items().size() : 0u;
  };
  size_t before = count();
  EXPECT_EQ(client
                .Request("POST", base + "DocumentReference/$deposit?type=11490-0",
                         {"Content-Type: application/pdf"}, pdf)
                .status,
            422);
  EXPECT_EQ(
      client
          .Request("POST",
                   base + "DocumentReference/$deposit?patient=urn:oid:1.2.250.1.213.1.4.8%7C" + ins,
                   {"Content-Type: application/pdf"}, pdf)
          .status,
      422);
  EXPECT_EQ(
      client
          .Request("POST",
                   base + "DocumentReference/$deposit?patient=urn:oid:1.2.250.1.213.1.4.8%7C" +
                       ins + "&type=99999-9",
                   {"Content-Type: application/pdf"}, pdf)
          .status,
      422);
  EXPECT_EQ(
      client
          .Request("POST",
                   base + "DocumentReference/$deposit?patient=urn:oid:1.2.250.1.213.1.4.8%7C1" +
                       ins + "&type=11490-0",
                   {"Content-Type: application/pdf"}, pdf)
          .status,
      404);
  EXPECT_EQ(client
                .Request("POST", base + "DocumentReference/$deposit" + params,
                         {"Content-Type: application/zip"}, pdf)
                .status,
            415);
  EXPECT_EQ(count(), before);
}

}  // namespace
}  // namespace carnet::testing
