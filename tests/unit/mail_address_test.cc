// MSSante-style addresses (profiles/mail_address.h): formatted from a party's identity, read
// back, and refused with a clear message when they are not of the expected shape.
#include "profiles/mail_address.h"

#include <gtest/gtest.h>

namespace carnet::profiles {
namespace {

TEST(MailAddressTest, PatientAddressIsInsAtPatientDomain) {
  auto a = PatientMailAddress("2700000000001", "carnet.invalid");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(*a, "2700000000001@patient.carnet.invalid");
  auto parsed = ParseMailAddress(*a);
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  EXPECT_TRUE(parsed->patient);
  EXPECT_EQ(parsed->ins, "2700000000001");
  EXPECT_EQ(parsed->domain, "carnet.invalid");
  EXPECT_FALSE(PatientMailAddress("pat-1", "carnet.invalid").ok());
  EXPECT_FALSE(PatientMailAddress("", "carnet.invalid").ok());
}

TEST(MailAddressTest, ProfessionalAddressFoldsAccentsAndNamesTheProfession) {
  auto a = ProfessionalMailAddress("Jérôme", "Le Bœuf-Dupré", "10", "mssante.fr");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(*a, "jerome.le-boeuf-dupre@medecin.mssante.fr");
  EXPECT_EQ(*ProfessionalMailAddress("Anne", "D'Arc", "21", "x.org"),
            "anne.d-arc@pharmacien.x.org");
  EXPECT_EQ(*ProfessionalMailAddress("Léa", "Zoé", "60", "x.org"), "lea.zoe@infirmier.x.org");
  // A profession without a row in mail_professions.tsv.
  EXPECT_EQ(*ProfessionalMailAddress("a", "b", "999", "x.org"), "a.b@professionnel.x.org");
  EXPECT_FALSE(ProfessionalMailAddress("", "Martin", "10", "x.org").ok());
  EXPECT_FALSE(ProfessionalMailAddress("李", "Martin", "10", "x.org").ok());
  auto parsed = ParseMailAddress("jerome.le-boeuf-dupre@medecin.mssante.fr");
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  EXPECT_FALSE(parsed->patient);
  EXPECT_EQ(parsed->first, "jerome");
  EXPECT_EQ(parsed->last, "le-boeuf-dupre");
  EXPECT_EQ(parsed->profession, "medecin");
  EXPECT_EQ(parsed->domain, "mssante.fr");
}

TEST(MailAddressTest, MalformedAddressesAreRefusedWithTheReason) {
  for (const char* bad :
       {"", "no-at-sign", "a@b@patient.x.org", "@patient.x.org", "jean@medecin.x.org",
        "jean.dupont@medecin", "12@patient.x.org", "jean.du pont@medecin.x.org",
        "jean.dupont@medecin.-x.org", "a.b.c@medecin.x.org", "jean.dupont@med_ecin.x.org"}) {
    auto parsed = ParseMailAddress(bad);
    EXPECT_FALSE(parsed.ok()) << bad;
    if (!parsed.ok()) {
      EXPECT_EQ(parsed.status().code(), ErrorCode::kBadRequest) << bad;
      EXPECT_FALSE(parsed.status().message().empty());
    }
  }
  EXPECT_TRUE(CheckMailDomain("carnet.invalid").ok());
  EXPECT_FALSE(CheckMailDomain("bad domain").ok());
  EXPECT_FALSE(CheckMailDomain("a..b").ok());
}

}  // namespace
}  // namespace carnet::profiles
