// The CDA header's metadata, written down per CI-SIS example (tests/data/cda/expected_metadata.tsv)
// and checked field by field; and the rules that compare a header with submitted metadata and
// fill what the submitter left out (mapping/cda_check.h).
#include "mapping/cda_check.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>

namespace carnet::mapping {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Corpus(const std::string& name) {
  return ReadFile(std::string(CARNET_SOURCE_DIR) + "/../shared/testdata/cda/ci-sis/" + name);
}

std::vector<std::string> Split(const std::string& text, char sep) {
  std::vector<std::string> out;
  std::string cell;
  std::istringstream in(text);
  while (std::getline(in, cell, sep)) out.push_back(cell);
  if (!text.empty() && text.back() == sep) out.push_back("");
  return out;
}

std::string Join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& x : v) out += (out.empty() ? "" : ",") + x;
  return out;
}

std::string CodeText(const xds::Code& c) { return c.code.empty() ? "" : c.code + "|" + c.scheme; }

// The header's metadata as the table's columns.
std::map<std::string, std::string> Columns(const CdaHeader& h) {
  const xds::DocumentEntry& e = h.entry;
  std::map<std::string, std::string> c;
  c["uniqueId"] = e.unique_id;
  c["typeCode"] = CodeText(e.type_code);
  c["classCode"] = CodeText(e.class_code);
  c["formatCode"] = e.format_code.code;
  c["creationTime"] = e.creation_time;
  std::vector<std::string> conf, events, authors, institutions;
  for (const auto& x : e.confidentiality_codes) conf.push_back(CodeText(x));
  for (const auto& x : e.event_codes) events.push_back(CodeText(x));
  for (const auto& a : e.authors) {
    authors.push_back(a.person.substr(0, a.person.find('^')));
    for (const auto& i : a.institutions) institutions.push_back(i);
  }
  c["confidentialityCode"] = Join(conf);
  c["eventCodeList"] = Join(events);
  c["authorPerson"] = Join(authors);
  c["authorInstitution"] = Join(institutions);
  c["legalAuthenticator"] = e.legal_authenticator.substr(0, e.legal_authenticator.find('^'));
  c["languageCode"] = e.language_code;
  c["patientId"] = e.patient_id;
  c["sourcePatientId"] = e.source_patient_id;
  c["serviceStartTime"] = e.service_start_time;
  c["serviceStopTime"] = e.service_stop_time;
  c["healthcareFacilityTypeCode"] = CodeText(e.healthcare_facility_type_code);
  c["practiceSettingCode"] = CodeText(e.practice_setting_code);
  c["setId"] = h.set_id;
  c["versionNumber"] = h.version_number;
  c["replaces"] = h.replaces_unique_id;
  return c;
}

TEST(CdaCheckTest, EveryCorpusDocumentHasTheExpectedMetadata) {
  std::string table =
      ReadFile(std::string(CARNET_SOURCE_DIR) + "/tests/data/cda/expected_metadata.tsv");
  ASSERT_FALSE(table.empty());
  std::vector<std::string> header;
  int documents = 0;
  for (const std::string& line : Split(table, '\n')) {
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> cells = Split(line, '\t');
    if (header.empty()) {
      header = cells;
      continue;
    }
    ASSERT_EQ(cells.size(), header.size()) << line;
    SCOPED_TRACE(cells[0]);
    auto h = ReadCdaHeader(Corpus(cells[0]));
    ASSERT_TRUE(h.ok()) << h.status().ToString();
    auto actual = Columns(*h);
    for (size_t i = 1; i < header.size(); ++i) {
      std::string expected = cells[i] == "-" ? "" : cells[i];
      ASSERT_TRUE(actual.count(header[i])) << "unknown column " << header[i];
      EXPECT_EQ(actual[header[i]], expected) << header[i];
    }
    ++documents;
  }
  if (std::getenv("CARNET_DUMP_METADATA"))
    for (const char* f :
         {"BIO-CR-BIO_2024.01_Microbiologie_V2.xml", "BIO-CR-BIO_2024.01_TSH_1.xml",
          "DOC_NON_STRUCTURE_CDA-R2-N1.xml", "LDL-EES_2022.01.xml", "LDL-SES_2022.01.xml",
          "VAC_2023.01.xml", "VSM_1.4_2022.01.xml", "eP-MED-DM_2024.01_PosoStruct.xml"}) {
      auto h = ReadCdaHeader(Corpus(f));
      if (!h.ok()) continue;
      std::string row = f;
      for (size_t i = 1; i < header.size(); ++i) {
        std::string v = Columns(*h)[header[i]];
        row += "\t" + (v.empty() ? std::string("-") : v);
      }
      std::printf("%s\n", row.c_str());
    }
  EXPECT_EQ(documents, 8);
}

TEST(CdaCheckTest, AgreeingMetadataHasNoMismatch) {
  auto h = ReadCdaHeader(Corpus("BIO-CR-BIO_2024.01_TSH_1.xml"));
  ASSERT_TRUE(h.ok());
  xds::DocumentEntry submitted = h->entry;
  submitted.creation_time = submitted.creation_time.substr(0, 8);  // a coarser time agrees
  submitted.confidentiality_codes.push_back({"MASQUE_PS", "1.2.250.1.213.1.1.4.13", "", ""});
  submitted.language_code = "FR-fr";
  EXPECT_TRUE(CompareWithCdaHeader(*h, submitted).empty());
}

TEST(CdaCheckTest, EachDisagreementIsNamed) {
  auto h = ReadCdaHeader(Corpus("LDL-SES_2022.01.xml"));
  ASSERT_TRUE(h.ok());
  xds::DocumentEntry s = h->entry;
  s.patient_id = "1234567890123^^^&1.2.250.1.213.1.4.10&ISO^NH";
  s.type_code.code = "11502-2";
  s.creation_time = "19990101";
  s.confidentiality_codes = {{"R", "2.16.840.1.113883.5.25", "", ""}};
  s.language_code = "en-US";
  s.legal_authenticator = "999^Other^Doctor^^^^^^&1.2.250.1.71.4.2.1&ISO";
  s.authors = {xds::Author{"888^Someone^Else^^^^^^&1.2.250.1.71.4.2.1&ISO", {}, {}, {}, {}, ""}};
  std::map<std::string, std::string> found;
  bool patient = false;
  for (const auto& m : CompareWithCdaHeader(*h, s)) {
    found[m.field] = m.fhir_path;
    patient = patient || m.patient;
    EXPECT_NE(m.Message().find(m.field), std::string::npos);
  }
  EXPECT_TRUE(patient);
  EXPECT_EQ(found["patientId"], "DocumentReference.subject");
  EXPECT_EQ(found["typeCode"], "DocumentReference.type");
  EXPECT_EQ(found["creationTime"], "DocumentReference.content.attachment.creation");
  EXPECT_EQ(found["confidentialityCode"], "DocumentReference.securityLabel");
  EXPECT_EQ(found["languageCode"], "DocumentReference.content.attachment.language");
  if (!h->entry.legal_authenticator.empty()) {
    EXPECT_EQ(found["legalAuthenticator"], "DocumentReference.authenticator");
  }
  EXPECT_EQ(found["author"], "DocumentReference.author");
  EXPECT_EQ(found.count("uniqueId"), 0u);
}

TEST(CdaCheckTest, WhatTheSubmitterLeftOutIsFilled) {
  auto h = ReadCdaHeader(Corpus("LDL-SES_2022.01.xml"));
  ASSERT_TRUE(h.ok());
  xds::DocumentEntry s;
  s.unique_id = h->entry.unique_id;
  s.type_code = h->entry.type_code;
  s.title = "Lettre de sortie (titre du soumetteur)";
  auto filled = FillFromCdaHeader(*h, &s);
  EXPECT_EQ(s.title, "Lettre de sortie (titre du soumetteur)");  // given: kept
  EXPECT_EQ(s.creation_time, h->entry.creation_time);
  EXPECT_EQ(s.patient_id, h->entry.patient_id);
  EXPECT_EQ(s.class_code.code, h->entry.class_code.code);
  EXPECT_EQ(s.language_code, h->entry.language_code);
  EXPECT_EQ(s.authors.size(), h->entry.authors.size());
  EXPECT_EQ(s.legal_authenticator, h->entry.legal_authenticator);
  EXPECT_TRUE(CompareWithCdaHeader(*h, s).empty());
  auto has = [&](const char* f) {
    return std::find(filled.begin(), filled.end(), f) != filled.end();
  };
  EXPECT_TRUE(has("creationTime"));
  EXPECT_TRUE(has("author"));
  EXPECT_FALSE(has("title"));
  EXPECT_FALSE(has("typeCode"));
  // Nothing left to fill the second time.
  EXPECT_TRUE(FillFromCdaHeader(*h, &s).empty());
}

TEST(CdaCheckTest, CdaMimeTypes) {
  EXPECT_TRUE(IsCdaMimeType("text/xml"));
  EXPECT_TRUE(IsCdaMimeType("application/hl7-cda+xml; charset=UTF-8"));
  EXPECT_FALSE(IsCdaMimeType("application/pdf"));
}

}  // namespace
}  // namespace carnet::mapping
