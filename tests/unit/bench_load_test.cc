// The data generator of carnet-bench and its bulk load (bench/dossier.h, bench/fast_load.h):
// the dossiers are what issue 8 asks for, and the bulk path leaves exactly what carnet's own
// write path leaves (bench/slow_load.h), so that searches and ITI-18 work on bulk-loaded data
// as on live data.
#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <map>

#include "base/strings.h"
#include "bench/dossier.h"
#include "bench/fast_load.h"
#include "bench/load_compare.h"
#include "bench/slow_load.h"
#include "tests/unit/test_db.h"

namespace carnet::bench {
namespace {

using carnet::testing::ScratchDatabase;

std::string Sha1Base64(const std::string& bytes) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(bytes.data(), bytes.size(), md, &len, EVP_sha1(), nullptr);
  return Base64Encode(std::string_view(reinterpret_cast<char*>(md), len));
}

TEST(DossierGeneratorTest, SameSeedSameDossiers) {
  DossierOptions o;
  o.patients = 30;
  o.documents = 200;
  DossierGenerator a(o), b(o);
  for (int p : {0, 7, 29}) {
    Dossier x = a.Generate(p), y = b.Generate(p);
    ASSERT_EQ(x.writes.size(), y.writes.size());
    for (size_t i = 0; i < x.writes.size(); ++i)
      EXPECT_EQ(WriteJson(x.writes[i].resource), WriteJson(y.writes[i].resource));
    ASSERT_EQ(x.accesses.size(), y.accesses.size());
  }
  EXPECT_EQ(a.FirstDocument(30), 200);  // every document given to some patient
}

// IsMinor (the patient scenario's guardian reads a child's record) agrees with the Patient's
// birthDate: under 18 on 2026-01-01. Dates within a month of the boundary are not judged
// (IsMinor counts years of 365.25 days).
TEST(DossierGeneratorTest, MinorsFollowTheBirthDate) {
  DossierOptions o;
  o.patients = 50;
  o.documents = 100;
  DossierGenerator g(o);
  int minors = 0;
  for (int p = 0; p < o.patients; ++p) {
    std::string birth = g.Generate(p).writes.front().resource.GetString("birthDate");
    if (birth > "2008-02-01") {
      EXPECT_TRUE(IsMinor(p)) << p << " born " << birth;
    }
    if (birth < "2007-12-01") {
      EXPECT_FALSE(IsMinor(p)) << p << " born " << birth;
    }
    minors += IsMinor(p);
  }
  EXPECT_GT(minors, 0);  // bench/run's small stores have a child's record
  EXPECT_LT(minors, o.patients / 2);
}

// The French mix, the size spread, the profile entries and the content: whole for the
// fraction asked, else a prefix; size and hash always those of the whole document.
TEST(DossierGeneratorTest, FrenchMixSizesAndContent) {
  DossierOptions o;
  o.patients = 200;
  o.documents = 2000;
  o.content_fraction = 0.25;
  o.elided_bytes = 1000;
  DossierGenerator gen(o);
  std::map<std::string, int> types, resources;
  int whole = 0, documents = 0, accesses = 0;
  for (int p = 0; p < o.patients; ++p) {
    Dossier d = gen.Generate(p);
    accesses += static_cast<int>(d.accesses.size());
    ASSERT_EQ(d.writes.front().type, "Patient");
    const JsonValue* attachment = nullptr;
    for (const Write& w : d.writes) {
      ++resources[w.type];
      if (w.type == "DocumentReference") {
        ++documents;
        ++types[w.resource.Find("type")->Find("coding")->items()[0].GetString("code")];
        attachment = w.resource.Find("content")->items()[0].Find("attachment");
        long long size = std::stoll(attachment->Find("size")->text());
        EXPECT_GE(size, 20000);
        EXPECT_LE(size, 2000000);
      } else if (w.type == "Binary") {
        auto bytes = Base64Decode(w.resource.GetString("data"));
        ASSERT_TRUE(bytes.has_value());
        long long size = std::stoll(attachment->Find("size")->text());
        if (static_cast<long long>(bytes->size()) == size) {
          ++whole;
          EXPECT_EQ(Sha1Base64(*bytes), attachment->GetString("hash"));
        } else {
          EXPECT_EQ(bytes->size(), 1000u);
        }
        EXPECT_EQ(bytes->rfind("%PDF-", 0), 0u);
      }
    }
  }
  EXPECT_EQ(documents, 2000);
  EXPECT_NEAR(types["11502-2"] / 2000.0, 0.40, 0.04);
  EXPECT_NEAR(types["57833-6"] / 2000.0, 0.25, 0.04);
  EXPECT_NEAR(types["11490-0"] / 2000.0, 0.15, 0.03);
  EXPECT_NEAR(types["18748-4"] / 2000.0, 0.05, 0.02);
  EXPECT_NEAR(whole / 2000.0, 0.25, 0.04);
  EXPECT_GT(resources["Observation"], 2000);  // lab results and vital signs
  EXPECT_GT(resources["Immunization"], 2 * o.patients);
  EXPECT_GT(resources["MedicationStatement"], 0);
  EXPECT_GT(resources["AllergyIntolerance"], 0);
  EXPECT_GT(accesses, 2 * o.patients);
}

// The same dossiers through carnet's write path and through the bulk path: the same rows in
// every table, valid audit chains, the same answers to FHIR searches and ITI-18.
TEST(BenchLoadTest, BulkLoadLeavesWhatTheWritePathLeaves) {
  DossierOptions o;
  o.patients = 40;
  o.documents = 400;
  o.seed = 8;
  o.content_fraction = 0.2;
  o.elided_bytes = 2048;
  DossierGenerator gen(o);
  ScratchDatabase exact, bulk;
  auto slow = SlowLoad(exact.conninfo(), gen, 0, o.patients, false);
  ASSERT_TRUE(slow.ok()) << slow.status().ToString();
  FastLoadOptions fo;
  fo.chunk_patients = 15;  // several chunks, the last one short
  fo.validate_all = true;
  fo.progress = false;
  auto fast = FastLoad(bulk.conninfo(), gen, 0, o.patients, fo);
  ASSERT_TRUE(fast.ok()) << fast.status().ToString();
  EXPECT_EQ(fast->documents, 400);
  EXPECT_EQ(fast->resources, slow->resources);
  EXPECT_EQ(fast->accesses, slow->accesses);

  auto tables = CompareTables(exact.conninfo(), bulk.conninfo());
  ASSERT_TRUE(tables.ok()) << tables.status().ToString();
  std::map<std::string, long long> rows;
  for (const auto& t : *tables) {
    EXPECT_TRUE(t.same) << t.table << ": " << t.rows_a << " rows exact, " << t.rows_b << " bulk\n"
                        << t.difference;
    rows[t.table] = t.rows_a;
  }
  for (const char* t :
       {"patient", "patient_identifier", "resource", "resource_history", "idx_string", "idx_token",
        "idx_reference", "idx_date", "idx_quantity", "idx_uri", "idx_text", "registry_object",
        "registry_code", "audit_event", "audit_chain_head", "audit_event_entity"})
    EXPECT_GT(rows[t], 0) << t << " is empty: the comparison proves nothing there";
  EXPECT_EQ(rows["registry_object"], 400);
  EXPECT_TRUE(VerifyAudit(exact.conninfo()).ok());
  Status chains = VerifyAudit(bulk.conninfo());
  EXPECT_TRUE(chains.ok()) << chains.ToString();

  auto queries = CompareQueries(exact.conninfo(), bulk.conninfo(), gen);
  ASSERT_TRUE(queries.ok()) << queries.status().ToString();
  int answered = 0;
  for (const auto& q : *queries) {
    EXPECT_TRUE(q.same()) << q.query << ": " << q.ids_a.size() << " exact, " << q.ids_b.size()
                          << " bulk";
    if (!q.ids_a.empty()) ++answered;
  }
  EXPECT_GT(answered, static_cast<int>(queries->size()) / 2);
}

TEST(BenchLoadTest, RefusesToLoadTwice) {
  DossierOptions o;
  o.patients = 3;
  o.documents = 6;
  DossierGenerator gen(o);
  ScratchDatabase db;
  FastLoadOptions fo;
  fo.progress = false;
  ASSERT_TRUE(FastLoad(db.conninfo(), gen, 0, 3, fo).ok());
  auto again = FastLoad(db.conninfo(), gen, 0, 3, fo);
  EXPECT_EQ(again.status().code(), ErrorCode::kDuplicate);
}

}  // namespace
}  // namespace carnet::bench
