// CDA R2 header -> XDS metadata on the French CI-SIS examples.
#include "mapping/cda_header.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <vector>

namespace carnet::mapping {
namespace {

std::string Corpus(const std::string& name) {
  std::ifstream in(std::string(CARNET_SOURCE_DIR) + "/../shared/testdata/cda/ci-sis/" + name);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(CdaHeaderTest, LabReport) {
  auto h = ReadCdaHeader(Corpus("BIO-CR-BIO_2024.01_TSH_1.xml"));
  ASSERT_TRUE(h.ok()) << h.status().ToString();
  const auto& e = h->entry;
  EXPECT_EQ(e.unique_id, "1.2.250.1.213.1.1.1.55.2024.9.1");
  EXPECT_EQ(e.type_code.code, "11502-2");
  EXPECT_EQ(e.type_code.scheme, "2.16.840.1.113883.6.1");
  EXPECT_EQ(e.class_code.code, "10");
  EXPECT_EQ(e.title, "Compte rendu d'examens biologiques");
  EXPECT_EQ(e.creation_time, "20210401161000");  // 17:10 at +01:00 is 16:10 UTC
  EXPECT_EQ(e.language_code, "fr-FR");
  ASSERT_EQ(e.confidentiality_codes.size(), 1u);
  EXPECT_EQ(e.confidentiality_codes[0].code, "N");
  EXPECT_EQ(h->patient_ins, "279035121518989");
  EXPECT_EQ(h->patient_ins_oid, "1.2.250.1.213.1.4.10");
  EXPECT_EQ(e.patient_id, "279035121518989^^^&1.2.250.1.213.1.4.10&ISO^NH");
  EXPECT_EQ(e.source_patient_id, "1234567890121^^^&1.2.3.4.567.8.9.10&ISO^PI");
  EXPECT_EQ(e.format_code.code, "urn:ihe:lab:xd-lab:2008");  // IHE PALM template
  EXPECT_FALSE(e.authors.empty());
  EXPECT_EQ(h->set_id, "1.2.250.1.213.1.1.1.55.2024.9");
  EXPECT_EQ(h->version_number, "1");
}

TEST(CdaHeaderTest, EveryCorpusDocumentHasItsMetadata) {
  for (const char* f :
       {"BIO-CR-BIO_2024.01_Microbiologie_V2.xml", "BIO-CR-BIO_2024.01_TSH_1.xml",
        "DOC_NON_STRUCTURE_CDA-R2-N1.xml", "LDL-EES_2022.01.xml", "LDL-SES_2022.01.xml",
        "VAC_2023.01.xml", "VSM_1.4_2022.01.xml", "eP-MED-DM_2024.01_PosoStruct.xml"}) {
    SCOPED_TRACE(f);
    auto h = ReadCdaHeader(Corpus(f));
    ASSERT_TRUE(h.ok()) << h.status().ToString();
    EXPECT_FALSE(h->entry.unique_id.empty());
    EXPECT_FALSE(h->entry.type_code.code.empty());
    EXPECT_EQ(h->entry.creation_time.size() >= 8, true);
    EXPECT_FALSE(h->patient_ins.empty());
  }
  auto ldl = ReadCdaHeader(Corpus("LDL-SES_2022.01.xml"));
  EXPECT_EQ(ldl->entry.type_code.code, "11490-0");
  EXPECT_EQ(ldl->entry.class_code.code, "10");
}

TEST(CdaHeaderTest, RefusesWhatIsNotACda) {
  EXPECT_EQ(ReadCdaHeader("<Patient xmlns=\"http://hl7.org/fhir\"/>").status().code(),
            ErrorCode::kBadRequest);
  EXPECT_FALSE(
      ReadCdaHeader("<!DOCTYPE x [<!ENTITY e \"e\">]><ClinicalDocument xmlns=\"urn:hl7-org:v3\"/>")
          .ok());
  EXPECT_EQ(ReadCdaHeader("<ClinicalDocument xmlns=\"urn:hl7-org:v3\"/>").status().code(),
            ErrorCode::kInvalid);
  EXPECT_EQ(DtmFromHl7Ts("20210401171000+0100"), "20210401161000");
  EXPECT_EQ(DtmFromHl7Ts("20210401"), "20210401");
  EXPECT_EQ(DtmFromHl7Ts("202104011710-0200"), "202104011910");
}

// Found by fuzz/cda_header_fuzzer (fuzz/corpus/cda_header/bad-time-zone): a time zone that
// was not four digits went to std::stoi, which threw out of ReadCdaHeader (a 500 for the
// deposit) or read "+1a00" as "+0100". A malformed TS is malformed: empty.
TEST(CdaHeaderTest, MalformedTimeZoneIsMalformedTime) {
  for (const char* ts : {"20210401171000+ab00", "20210401171000+1a00", "20210401171000+-100",
                         "20210401171000+ 100", "2021040117+0x10"})
    EXPECT_EQ(DtmFromHl7Ts(ts), "") << ts;
  EXPECT_EQ(DtmFromHl7Ts("20210401171000-0000"), "20210401171000");
}

// Every row of the code tables is well formed: a malformed one would be skipped silently.
TEST(CdaHeaderTest, DocumentCodeTablesAreWellFormed) {
  std::ifstream in(std::string(CARNET_SOURCE_DIR) + "/mapping/data/document_codes.tsv");
  ASSERT_TRUE(in);
  int classes = 0, formats = 0;
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> cells;
    std::stringstream cells_in(line);
    for (std::string cell; std::getline(cells_in, cell, '\t');) cells.push_back(cell);
    ASSERT_EQ(cells.size(), 4u) << line;
    ASSERT_TRUE(cells[0] == "class" || cells[0] == "format") << line;
    for (const auto& c : cells) EXPECT_FALSE(c.empty()) << line;
    (cells[0] == "class" ? classes : formats)++;
  }
  EXPECT_GE(classes, 8);
  EXPECT_GE(formats, 2);
  // The tables are what the header mapping uses.
  auto vac = ReadCdaHeader(Corpus("VAC_2023.01.xml"));
  ASSERT_TRUE(vac.ok());
  EXPECT_EQ(vac->entry.class_code.code, "60");
  EXPECT_EQ(vac->entry.class_code.scheme, "1.2.250.1.213.1.1.4.1");
  auto level1 = ReadCdaHeader(Corpus("DOC_NON_STRUCTURE_CDA-R2-N1.xml"));
  ASSERT_TRUE(level1.ok());
  EXPECT_EQ(level1->entry.format_code.code, "urn:ihe:iti:xds-sd:pdf:2008");
}

}  // namespace
}  // namespace carnet::mapping
