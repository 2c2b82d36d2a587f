// CDA level-3 extraction over the CI-SIS corpus: the counts of
// tests/data/cda/expected_extraction.tsv, every extracted resource valid R4, and the first result
// and vaccination checked field by field.
#include "mapping/cda_entries.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>

#include "model/validator.h"

namespace carnet::mapping {
namespace {

std::string Corpus(const std::string& name) {
  std::ifstream in(std::string(CARNET_SOURCE_DIR) + "/../shared/testdata/cda/ci-sis/" + name);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(CdaEntriesTest, CorpusExtractsWhatTheTableSays) {
  std::ifstream table(std::string(CARNET_SOURCE_DIR) + "/tests/data/cda/expected_extraction.tsv");
  ASSERT_TRUE(table);
  int rows = 0;
  for (std::string line; std::getline(table, line);) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream f(line);
    std::string file;
    size_t observations = 0, immunizations = 0, conditions = 0, allergies = 0, statements = 0,
           requests = 0, ignored = 0;
    f >> file >> observations >> immunizations >> conditions >> allergies >> statements >>
        requests >> ignored;
    SCOPED_TRACE(file);
    ++rows;
    auto report = ExtractCdaEntries(Corpus(file), "Patient/p1", "DocumentReference/d1");
    ASSERT_TRUE(report.ok()) << report.status().ToString();
    std::map<std::string, size_t> counts;
    for (const auto& r : report->resources) {
      ++counts[r.GetString("resourceType")];
      for (const auto& issue : model::ValidateResource(r))
        EXPECT_NE(issue.severity, "error") << issue.expression << ": " << issue.message << "\n"
                                           << WriteJson(r, true);
    }
    EXPECT_EQ(counts["Observation"], observations);
    EXPECT_EQ(counts["Immunization"], immunizations);
    EXPECT_EQ(counts["Condition"], conditions);
    EXPECT_EQ(counts["AllergyIntolerance"], allergies);
    EXPECT_EQ(counts["MedicationStatement"], statements);
    EXPECT_EQ(counts["MedicationRequest"], requests);
    EXPECT_EQ(report->ignored.size(), ignored);
    for (const auto& why : report->ignored) EXPECT_FALSE(why.empty());
  }
  EXPECT_EQ(rows, 8);
}

TEST(CdaEntriesTest, LevelOneContentIsTakenOut) {
  auto report = ExtractCdaEntries(Corpus("DOC_NON_STRUCTURE_CDA-R2-N1.xml"), "Patient/p1",
                                  "DocumentReference/d1");
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->embedded_type, "application/pdf");
  EXPECT_EQ(report->embedded_content.rfind("%PDF-", 0), 0u)
      << report->embedded_content.substr(0, 16);
  auto lab = ExtractCdaEntries(Corpus("BIO-CR-BIO_2024.01_TSH_1.xml"), "Patient/p1",
                               "DocumentReference/d1");
  ASSERT_TRUE(lab.ok());
  EXPECT_TRUE(lab->embedded_content.empty());
}

TEST(CdaEntriesTest, ResultAndVaccinationFieldByField) {
  auto lab = ExtractCdaEntries(Corpus("BIO-CR-BIO_2024.01_TSH_1.xml"), "Patient/p1",
                               "DocumentReference/d1");
  ASSERT_TRUE(lab.ok());
  const JsonValue* tsh = nullptr;
  for (const auto& r : lab->resources)
    if (r.Find("code")->Find("coding")->items()[0].GetString("code") == "3016-3") tsh = &r;
  ASSERT_NE(tsh, nullptr);
  EXPECT_EQ(tsh->GetString("status"), "final");
  EXPECT_EQ(tsh->Find("code")->Find("coding")->items()[0].GetString("system"), "http://loinc.org");
  EXPECT_EQ(tsh->Find("valueQuantity")->Find("value")->text(), "1.950");
  EXPECT_EQ(tsh->Find("valueQuantity")->GetString("system"), "http://unitsofmeasure.org");
  EXPECT_EQ(tsh->Find("valueQuantity")->GetString("code"), "m[IU]/L");
  EXPECT_EQ(tsh->Find("subject")->GetString("reference"), "Patient/p1");
  EXPECT_EQ(tsh->Find("derivedFrom")->items()[0].GetString("reference"), "DocumentReference/d1");
  EXPECT_FALSE(tsh->GetString("effectiveDateTime").empty());
  ASSERT_NE(tsh->Find("referenceRange"), nullptr);
  EXPECT_EQ(tsh->Find("category")->items()[0].Find("coding")->items()[0].GetString("code"),
            "laboratory");
  // The laboratory that performed it: the serviceEvent's performer (XD-LAB), by its RPPS.
  ASSERT_NE(tsh->Find("performer"), nullptr);
  EXPECT_EQ(tsh->Find("performer")->items()[0].Find("identifier")->GetString("value"),
            "801234534765");
  EXPECT_EQ(tsh->Find("performer")->items()[0].Find("identifier")->GetString("system"),
            "urn:oid:1.2.250.1.71.4.2.1");

  // Microbiology: a MIC as an interval (one bound: a comparator), a result given as narrative.
  auto micro = ExtractCdaEntries(Corpus("BIO-CR-BIO_2024.01_Microbiologie_V2.xml"), "Patient/p1",
                                 "DocumentReference/d1");
  ASSERT_TRUE(micro.ok());
  std::vector<const JsonValue*> amox;
  const JsonValue* colour = nullptr;
  for (const auto& r : micro->resources) {
    std::string c = r.Find("code")->Find("coding")->items()[0].GetString("code");
    if (c == "20-8") amox.push_back(&r);
    if (c == "5778-6") colour = &r;
  }
  ASSERT_EQ(amox.size(), 2u);
  EXPECT_EQ(amox[0]->Find("valueQuantity")->GetString("comparator"), ">=");
  EXPECT_EQ(amox[0]->Find("valueQuantity")->Find("value")->text(), "0.512");
  EXPECT_EQ(amox[0]->Find("valueQuantity")->GetString("code"), "ug/mL");
  EXPECT_EQ(
      amox[0]->Find("interpretation")->items()[0].Find("coding")->items()[0].GetString("code"),
      "R");
  EXPECT_EQ(amox[1]->Find("valueQuantity")->GetString("comparator"),
            "<");  // high, inclusive="false"
  ASSERT_NE(colour, nullptr);
  EXPECT_FALSE(colour->Find("valueCodeableConcept")->GetString("text").empty());

  // Vital signs in a prescription: weight and height, category vital-signs.
  auto med = ExtractCdaEntries(Corpus("eP-MED-DM_2024.01_PosoStruct.xml"), "Patient/p1",
                               "DocumentReference/d1");
  ASSERT_TRUE(med.ok());
  int vital = 0;
  for (const auto& r : med->resources)
    if (r.GetString("resourceType") == "Observation" &&
        r.Find("category")->items()[0].Find("coding")->items()[0].GetString("code") ==
            "vital-signs")
      ++vital;
  EXPECT_EQ(vital, 2);
  // The structured posology: progressive doses as Dosages in sequence, each with its period.
  const JsonValue* request = nullptr;
  for (const auto& r : med->resources)
    if (r.GetString("resourceType") == "MedicationRequest") request = &r;
  ASSERT_NE(request, nullptr);
  EXPECT_EQ(request->GetString("authoredOn"), "2023-12-01T08:30:00Z");
  ASSERT_NE(request->Find("requester"), nullptr);
  const auto& dosages = request->Find("dosageInstruction")->items();
  ASSERT_EQ(dosages.size(), 3u);
  EXPECT_EQ(dosages[0].Find("route")->Find("coding")->items()[0].GetString("code"), "20053000");
  EXPECT_EQ(dosages[0].Find("maxDosePerPeriod")->Find("numerator")->Find("value")->text(), "4");
  EXPECT_EQ(dosages[1].Find("sequence")->text(), "1");
  EXPECT_EQ(dosages[1].Find("timing")->Find("repeat")->Find("period")->text(), "8");
  EXPECT_EQ(dosages[1].Find("timing")->Find("repeat")->GetString("periodUnit"), "h");
  EXPECT_EQ(dosages[1].Find("doseAndRate")->items()[0].Find("doseQuantity")->GetString("code"), "{tablet}");
  EXPECT_EQ(dosages[2].Find("timing")->Find("repeat")->Find("period")->text(), "12");

  auto vac = ExtractCdaEntries(Corpus("VAC_2023.01.xml"), "Patient/p1", "DocumentReference/d1");
  ASSERT_TRUE(vac.ok());
  ASSERT_FALSE(vac->resources.empty());
  const JsonValue& bcg = vac->resources[0];
  EXPECT_EQ(bcg.GetString("resourceType"), "Immunization");
  EXPECT_EQ(bcg.GetString("status"), "completed");
  const JsonValue& code = bcg.Find("vaccineCode")->Find("coding")->items()[0];
  EXPECT_EQ(code.GetString("system"), "urn:oid:1.2.250.1.213.2.3.1");  // CIS, the French drug code
  EXPECT_EQ(code.GetString("code"), "61077869");
  EXPECT_NE(code.GetString("display").find("BCG"), std::string::npos);
  EXPECT_EQ(bcg.GetString("occurrenceDateTime"), "1975");
  EXPECT_EQ(bcg.GetString("lotNumber"), "235421176");
  EXPECT_EQ(bcg.Find("patient")->GetString("reference"), "Patient/p1");
  ASSERT_NE(bcg.Find("protocolApplied"), nullptr);  // FR-Rang-de-la-vaccination
  EXPECT_EQ(bcg.Find("protocolApplied")->items()[0].Find("doseNumberPositiveInt")->text(), "1");

  // The medical summary: problems, an allergy, treatments.
  auto vsm = ExtractCdaEntries(Corpus("VSM_1.4_2022.01.xml"), "Patient/p1", "DocumentReference/d1");
  ASSERT_TRUE(vsm.ok());
  const JsonValue* allergy = nullptr;
  const JsonValue* condition = nullptr;
  for (const auto& r : vsm->resources) {
    if (r.GetString("resourceType") == "AllergyIntolerance") allergy = &r;
    if (r.GetString("resourceType") == "Condition" && !condition) condition = &r;
  }
  ASSERT_NE(allergy, nullptr);
  EXPECT_EQ(allergy->Find("patient")->GetString("reference"), "Patient/p1");
  EXPECT_NE(allergy->Find("code"), nullptr);
  ASSERT_NE(condition, nullptr);
  EXPECT_EQ(condition->Find("subject")->GetString("reference"), "Patient/p1");
  EXPECT_NE(condition->Find("code"), nullptr);
  EXPECT_NE(condition->Find("clinicalStatus"), nullptr);
}

// Every resource each CI-SIS example yields, written down whole in
// tests/data/cda/expected_resources/<example>.json (the extraction's report included) and
// compared field by field. CARNET_WRITE_EXPECTED=1 rewrites the files from what carnet
// extracts today, to be reviewed against the documents before committing.
TEST(CdaEntriesTest, EveryExtractedResourceFieldByField) {
  const std::string dir = std::string(CARNET_SOURCE_DIR) + "/tests/data/cda/expected_resources/";
  int compared = 0;
  for (const char* f :
       {"BIO-CR-BIO_2024.01_Microbiologie_V2.xml", "BIO-CR-BIO_2024.01_TSH_1.xml",
        "DOC_NON_STRUCTURE_CDA-R2-N1.xml", "LDL-EES_2022.01.xml", "LDL-SES_2022.01.xml",
        "VAC_2023.01.xml", "VSM_1.4_2022.01.xml", "eP-MED-DM_2024.01_PosoStruct.xml"}) {
    SCOPED_TRACE(f);
    auto report = ExtractCdaEntries(Corpus(f), "Patient/p1", "DocumentReference/d1");
    ASSERT_TRUE(report.ok()) << report.status().ToString();
    JsonValue actual = JsonValue::Object();
    JsonValue resources = JsonValue::Array();
    for (const auto& r : report->resources) resources.Append(r);
    actual.Set("resources", std::move(resources));
    JsonValue ignored = JsonValue::Array();
    for (const auto& why : report->ignored) ignored.Append(JsonValue::String(why));
    actual.Set("ignored", std::move(ignored));
    actual.Set("embeddedContentType", JsonValue::String(report->embedded_type));
    std::string path = dir + std::string(f).substr(0, std::string(f).size() - 4) + ".json";
    if (std::getenv("CARNET_WRITE_EXPECTED"))
      std::ofstream(path) << WriteJson(actual, true) << "\n";
    std::ifstream in(path);
    ASSERT_TRUE(in) << path;
    std::stringstream ss;
    ss << in.rdbuf();
    auto expected = ParseJson(ss.str());
    ASSERT_TRUE(expected.ok()) << path;
    const auto& want = expected->Find("resources")->items();
    const auto& got = actual.Find("resources")->items();
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < want.size(); ++i)
      EXPECT_EQ(WriteJson(got[i], true), WriteJson(want[i], true)) << "resource " << i;
    EXPECT_EQ(WriteJson(*actual.Find("ignored"), true),
              WriteJson(*expected->Find("ignored"), true));
    EXPECT_EQ(actual.GetString("embeddedContentType"), expected->GetString("embeddedContentType"));
    ++compared;
  }
  EXPECT_EQ(compared, 8);
}

}  // namespace
}  // namespace carnet::mapping
