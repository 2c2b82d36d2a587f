// The habilitation matrix (profiles/habilitation_matrix.h): the file format, the built-in
// seed (france.md, "Who may see what"), and the rule that the unknown gets nothing.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include "profiles/habilitation_matrix.h"
#include "profiles/policy.h"

namespace carnet::profiles {
namespace {

const HabilitationMatrix& M() { return HabilitationMatrix::Builtin(); }

TEST(HabilitationMatrixTest, BuiltinIsTheRepositoryFileAndParses) {
  std::ifstream in(std::string(CARNET_SOURCE_DIR) + "/profiles/data/habilitation_matrix.tsv");
  std::ostringstream s;
  s << in.rdbuf();
  EXPECT_EQ(s.str(), HabilitationMatrix::BuiltinText());
  auto parsed = HabilitationMatrix::Parse(HabilitationMatrix::BuiltinText(), "builtin");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  auto loaded = HabilitationMatrix::Load(std::string(CARNET_SOURCE_DIR) +
                                         "/profiles/data/habilitation_matrix.tsv");
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(loaded->types().size(), M().types().size());
}

TEST(HabilitationMatrixTest, SeedCoversTheElevenCategoriesAndTheAdministrativePapers) {
  EXPECT_GE(M().types().size(), 40u);
  std::set<std::string> categories;
  for (const auto& t : M().types()) categories.insert(t.category);
  EXPECT_EQ(categories.size(), 12u);
  EXPECT_EQ(categories.count("administrative_papers"), 1u);
  const DocumentTypeInfo* discharge = M().FindType("11490-0");
  ASSERT_NE(discharge, nullptr);
  EXPECT_EQ(discharge->category, "report");
  EXPECT_EQ(M().FindType("18748-4")->category, "imaging");
  EXPECT_EQ(M().FindType("57833-6")->category, "prescription");
  EXPECT_EQ(M().FindType("60591-5")->category, "summary");
}

TEST(HabilitationMatrixTest, DoctorsReadEverythingButTheCertificateOfResidence) {
  for (const auto& t : M().types()) {
    bool expected = t.code != "CERT_RESIDENCE" && t.category != "administrative_papers";
    EXPECT_EQ(M().MayRead("10", "SM26", t.code), expected) << t.code;
    EXPECT_EQ(M().MayWrite("10", "", t.code), expected) << t.code;
  }
}

TEST(HabilitationMatrixTest, NoProfessionReadsTheAdministrativePapers) {
  for (const auto& t : M().types()) {
    if (t.category != "administrative_papers") continue;
    for (const char* profession : {"10", "21", "28", "40", "50", "60", "70", "91"})
      EXPECT_FALSE(M().MayRead(profession, "SM26", t.code)) << profession << " " << t.code;
  }
}

TEST(HabilitationMatrixTest, ThePatientMayShareAnAdministrativePaperAndNothingElse) {
  std::vector<std::string> papers;
  for (const auto& t : M().types())
    if (t.category == "administrative_papers") papers.push_back(t.code);
  std::sort(papers.begin(), papers.end());
  EXPECT_EQ(M().PatientShareableTypes(), papers);
  EXPECT_TRUE(M().IsPatientShareable("PAPIER_GROUPE_SANGUIN"));
  EXPECT_FALSE(M().IsPatientShareable("DOC_PATIENT"));
  EXPECT_FALSE(M().IsPatientShareable("11506-3"));
  EXPECT_FALSE(M().IsPatientShareable("unknown"));
}

TEST(HabilitationMatrixTest, NursesDentistsPharmacistsOpticiansPhysiotherapists) {
  // Nurses: most types, not telemedicine, psychiatric, psychological, prevention, certificates.
  EXPECT_TRUE(M().MayRead("60", "", "11490-0"));
  EXPECT_TRUE(M().MayRead("60", "", "PROT_ALD"));
  EXPECT_TRUE(M().MayRead("60", "", "BILAN_MED"));
  EXPECT_TRUE(M().MayWrite("60", "", "18776-5"));
  EXPECT_FALSE(M().MayWrite("60", "", "11490-0"));
  for (const char* no : {"TLM_DEMANDE", "PSY_SYNTH", "PSY_BILAN", "BILAN_PREV", "CERT_MED"})
    EXPECT_FALSE(M().MayRead("60", "", no)) << no;
  // Dental surgeons.
  EXPECT_TRUE(M().MayRead("40", "", "18748-4"));
  EXPECT_TRUE(M().MayWrite("40", "", "18748-4"));
  for (const char* no : {"PAP_EHPAD", "TLM_DEMANDE", "18761-7", "PSY_BILAN", "PSY_SYNTH"})
    EXPECT_FALSE(M().MayRead("40", "", no)) << no;
  // Pharmacists.
  for (const char* yes : {"57833-6", "11502-2", "87273-9", "11490-0", "60591-5", "DOC_PATIENT"})
    EXPECT_TRUE(M().MayRead("21", "", yes)) << yes;
  for (const char* no : {"11488-4", "18748-4", "PSY_SYNTH", "CERT_MED"})
    EXPECT_FALSE(M().MayRead("21", "", no)) << no;
  EXPECT_TRUE(M().MayWrite("21", "", "60593-1"));
  EXPECT_FALSE(M().MayWrite("21", "", "57833-6"));
  // Opticians.
  for (const char* yes : {"CR_OPHTALMO", "PRESC_OPT", "47420-5", "DOC_PATIENT_SOINS"})
    EXPECT_TRUE(M().MayRead("28", "", yes)) << yes;
  EXPECT_FALSE(M().MayRead("28", "", "11502-2"));
  EXPECT_FALSE(M().MayRead("28", "", "DOC_PATIENT"));
  // Physiotherapists.
  for (const char* yes : {"18776-5", "57833-6", "11490-0", "47420-5"})
    EXPECT_TRUE(M().MayRead("70", "", yes)) << yes;
  EXPECT_FALSE(M().MayRead("70", "", "11502-2"));
  EXPECT_TRUE(M().MayRead("50", "", "11502-2"));
}

TEST(HabilitationMatrixTest, UnknownProfessionOrTypeGetsNothing) {
  EXPECT_FALSE(M().KnowsProfession("99"));
  EXPECT_TRUE(M().ReadableTypes("99", "").empty());
  EXPECT_FALSE(M().MayRead("99", "", "11490-0"));
  EXPECT_FALSE(M().MayRead("10", "", "99999-9"));  // doctors' '*' covers only listed types
  EXPECT_FALSE(M().MayRead("", "", "11490-0"));
  EXPECT_FALSE(HabilitationMatrix().MayRead("10", "", "11490-0"));
}

TEST(HabilitationMatrixTest, LastMatchingRowWinsAndSpecialtiesNarrow) {
  auto m = HabilitationMatrix::Parse(
      "type\tA\treport\tA report\n"
      "type  B  summary  B summary\n"
      "access\t10\t*\t*\tr\n"
      "access\t10\tSM38\tcategory:summary\trw\n"
      "access\t10\t*\tA\t-   # exception after the broad rule\n"
      "access\t10\tSM38\tA\tr\n",
      "test");
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_FALSE(m->MayRead("10", "SM26", "A"));
  EXPECT_TRUE(m->MayRead("10", "SM38", "A"));
  EXPECT_TRUE(m->MayRead("10", "SM26", "B"));
  EXPECT_FALSE(m->MayWrite("10", "SM26", "B"));
  EXPECT_TRUE(m->MayWrite("10", "SM38", "B"));
  EXPECT_EQ(m->ReadableTypes("10", "SM26"), std::vector<std::string>{"B"});
  EXPECT_EQ(m->FindType("B")->display, "B summary");
}

// Clinical resources are judged by the category their `resource` row files them in: a
// MedicationDispense is a dispensation (issue 15).
TEST(HabilitationMatrixTest, ResourceTypesFollowTheirCategory) {
  EXPECT_TRUE(M().GovernsResourceType("MedicationDispense"));
  EXPECT_TRUE(M().GovernsResourceType("CarePlan"));
  EXPECT_FALSE(M().GovernsResourceType("Observation"));      // record content, as before
  EXPECT_FALSE(M().GovernsResourceType("11502-2"));          // a document type, not a resource
  EXPECT_TRUE(M().MayRead("21", "", "MedicationDispense"));  // pharmacist: dispensation rw
  EXPECT_TRUE(M().MayWrite("21", "", "MedicationDispense"));
  EXPECT_FALSE(M().MayRead("28", "", "MedicationDispense"));  // optician: no dispensation
  EXPECT_TRUE(M().MayRead("28", "", "VisionPrescription"));   // ...but eyewear prescriptions
  EXPECT_FALSE(M().MayRead("28", "", "MedicationRequest"));
  EXPECT_TRUE(M().MayRead("70", "", "CarePlan"));  // physiotherapist: care plans r
  EXPECT_FALSE(M().MayWrite("70", "", "CarePlan"));
  EXPECT_FALSE(M().MayRead("60", "", "Claim"));  // nurse: no reimbursement data
  auto unreadable = M().UnreadableResourceTypes("28", "");
  EXPECT_TRUE(std::count(unreadable.begin(), unreadable.end(), "MedicationDispense"));
  EXPECT_FALSE(std::count(unreadable.begin(), unreadable.end(), "VisionPrescription"));
  // The document allow-list names document types only.
  for (const auto& code : M().ReadableTypes("10", ""))
    EXPECT_FALSE(M().GovernsResourceType(code)) << code;
  EXPECT_TRUE(M().UnreadableResourceTypes("10", "").empty());  // doctors read every category
}

TEST(HabilitationMatrixTest, RefusesMalformedFiles) {
  auto bad = [](const std::string& text) {
    auto m = HabilitationMatrix::Parse(text, "bad.tsv");
    EXPECT_FALSE(m.ok()) << text;
    if (!m.ok()) {
      EXPECT_EQ(m.status().code(), ErrorCode::kBadRequest);
      EXPECT_NE(m.status().message().find("bad.tsv:"), std::string::npos);
    }
  };
  bad("type\tA\tnot_a_category\tx\n");
  bad("type\tA\treport\tx\ntype\tA\treport\ty\n");
  bad("access\t10\t*\tA\tr\n");  // undeclared type
  bad("type\tA\treport\tx\naccess\t10\t*\tA\trwx\n");
  bad("type\tA\treport\tx\naccess\t10\t*\tcategory:nope\tr\n");
  bad("access\t10\t*\t*\n");
  bad("permit everything\n");
  bad("resource\tMedicationDispense\tnot_a_category\tx\n");
  bad("resource\tCarePlan\tcare_plan\tx\nresource\tCarePlan\treport\ty\n");
  bad("shareable\tnot_a_category\n");
  bad("shareable\n");
  EXPECT_FALSE(HabilitationMatrix::LoadFile("/nonexistent/matrix.tsv").ok());
}

// Issue 19: which document types some profession may ever read, and what a deposit of one
// no profession reads becomes under each setting.
TEST(HabilitationMatrixTest, TypesNoProfessionMayReadAreKnownAndTheirDepositsDecided) {
  std::vector<std::string> closed;
  for (const auto& t : M().types())
    if (!t.resource_type && !M().ReadableByAnyProfession(t.code)) closed.push_back(t.code);
  // The administrative papers are readable once the patient shares one: not closed.
  EXPECT_EQ(closed, std::vector<std::string>{"CERT_RESIDENCE"});
  EXPECT_FALSE(M().ReadableByAnyProfession("34108-1"));  // not listed: nobody's right
  // Only a specialty opens it: still readable by some professional.
  auto m = HabilitationMatrix::Parse(
      "type\tA\treport\tA\ntype\tB\treport\tB\n"
      "access\t10\t*\t*\t-\naccess\t10\tSM38\tA\tr\n",
      "test");
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_TRUE(m->ReadableByAnyProfession("A"));
  EXPECT_FALSE(m->ReadableByAnyProfession("B"));

  PolicyEnv env;  // the defaults: refuse what is listed and closed, accept the unlisted
  std::string warning;
  Status refused = DecideDepositType(env, "CERT_RESIDENCE", "urn:oid:1.2.3", &warning);
  EXPECT_EQ(refused.code(), ErrorCode::kBusinessRule);
  EXPECT_NE(refused.message().find("CERT_RESIDENCE (urn:oid:1.2.3)"), std::string::npos);
  EXPECT_TRUE(DecideDepositType(env, "34108-1", "http://loinc.org", &warning).ok());
  EXPECT_TRUE(DecideDepositType(env, "11490-0", "http://loinc.org", &warning).ok());
  EXPECT_TRUE(warning.empty());
  env.unreadable_deposit = DepositTypeRule::kWarn;
  env.unlisted_deposit = DepositTypeRule::kRefuse;
  EXPECT_TRUE(DecideDepositType(env, "CERT_RESIDENCE", "", &warning).ok());
  EXPECT_NE(warning.find("CERT_RESIDENCE"), std::string::npos);
  EXPECT_EQ(DecideDepositType(env, "34108-1", "http://loinc.org", &warning).code(),
            ErrorCode::kBusinessRule);
  env.unreadable_deposit = DepositTypeRule::kAccept;
  warning.clear();
  EXPECT_TRUE(DecideDepositType(env, "CERT_RESIDENCE", "", &warning).ok());
  EXPECT_TRUE(warning.empty());
  EXPECT_EQ(*ParseDepositTypeRule("warn"), DepositTypeRule::kWarn);
  EXPECT_FALSE(ParseDepositTypeRule("maybe").ok());
}

}  // namespace
}  // namespace carnet::profiles
