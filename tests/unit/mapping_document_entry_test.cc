// DocumentEntry <-> DocumentReference (IHE MHD): the XDS sample submissions go to FHIR and
// back unchanged, and what FHIR receives is a valid R4 DocumentReference.
#include "mapping/document_entry.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "model/validator.h"
#include "xds/requests.h"

namespace carnet::mapping {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Registry-internal ids of Classification and ExternalIdentifier elements are not document
// metadata: the registry writes its own.
xds::DocumentEntry WithoutElementIds(xds::DocumentEntry e) {
  for (xds::Code* c : {&e.class_code, &e.type_code, &e.format_code, &e.healthcare_facility_type_code,
                       &e.practice_setting_code})
    c->classification_id.clear();
  for (auto& c : e.confidentiality_codes) c.classification_id.clear();
  for (auto& c : e.event_codes) c.classification_id.clear();
  for (auto& a : e.authors) a.classification_id.clear();
  e.unique_id_ref.clear();
  e.patient_id_ref.clear();
  e.limited_metadata_ref.clear();
  if (e.status.empty()) e.status = std::string(xds::kStatusApproved);
  return e;
}

class MappingDocumentEntryTest : public ::testing::TestWithParam<std::string> {};

TEST_P(MappingDocumentEntryTest, XdsToFhirToXdsIsLossless) {
  std::string path = std::string(CARNET_SOURCE_DIR) + "/../shared/testdata/xds/messages/" + GetParam();
  pugi::xml_document doc;
  ASSERT_TRUE(doc.load_string(ReadFile(path).c_str())) << path;
  pugi::xml_node root = doc.document_element();
  auto submission = xds::ReadSubmissionElement(root, nullptr);
  ASSERT_TRUE(submission.ok()) << submission.status().ToString();
  ASSERT_FALSE(submission->metadata.documents.empty());
  for (const auto& original : submission->metadata.documents) {
    xds::DocumentEntry entry = original;
    entry.id = "urn:uuid:8c0d5f4e-3a3b-4b64-9d7e-0f1e2d3c4b5a";  // as the registry assigns
    JsonValue dr = DocumentReferenceFromEntry(entry, "Patient/p1", "Binary/b1");
    auto issues = model::ValidateResource(dr);
    for (const auto& i : issues)
      EXPECT_NE(i.severity, "error") << i.expression << ": " << i.message << "\n" << WriteJson(dr, true);
    EXPECT_EQ(dr.GetString("id"), "8c0d5f4e-3a3b-4b64-9d7e-0f1e2d3c4b5a");
    auto back = EntryFromDocumentReference(dr, entry.patient_id);
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    EXPECT_EQ(WithoutElementIds(*back), WithoutElementIds(entry)) << WriteJson(dr, true);
  }
}

INSTANTIATE_TEST_SUITE_P(Samples, MappingDocumentEntryTest,
                         ::testing::Values("pnr.xml", "pnr-limited.xml"));

TEST(MappingCodesTest, SchemesAndTimes) {
  EXPECT_EQ(SystemFromScheme("2.16.840.1.113883.6.1"), "http://loinc.org");
  EXPECT_EQ(SchemeFromSystem("http://loinc.org"), "2.16.840.1.113883.6.1");
  EXPECT_EQ(SystemFromScheme("1.2.250.1.213.1.1.4.5"), "urn:oid:1.2.250.1.213.1.1.4.5");
  for (std::string s : {"Connect-a-thon classCodes", "1.2.3", "2.16.840.1.113883.5.25", "a/b c"})
    EXPECT_EQ(SchemeFromSystem(SystemFromScheme(s)), s);
  EXPECT_EQ(FhirDateTimeFromDtm("20051224"), "2005-12-24");
  EXPECT_EQ(FhirDateTimeFromDtm("200512240800"), "2005-12-24T08:00:00Z");
  EXPECT_EQ(FhirDateTimeFromDtm("2005122408"), "2005-12-24T08:00:00Z");
  EXPECT_EQ(FhirDateTimeFromDtm("2005-12"), "");
  EXPECT_EQ(DtmFromFhirDateTime("2005-12-24T09:30:00+01:00"), "20051224083000");
  EXPECT_EQ(DtmFromFhirDateTime("2005-12"), "200512");
  EXPECT_EQ(Base64FromHex("da39a3ee5e6b4b0d3255bfef95601890afd80709"), "2jmj7l5rSw0yVb/vlWAYkK/YBwk=");
  EXPECT_EQ(HexFromBase64("2jmj7l5rSw0yVb/vlWAYkK/YBwk="), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
}

}  // namespace
}  // namespace carnet::mapping
