// The patient's health profile (issue 16) against the live gateway and PostgreSQL: entries
// the patient declares carry a Provenance naming them; what a professional wrote the patient
// may hide from professionals but not alter; measurements refused with the reason when they
// are impossible or in the wrong units; each visibility as the policy says, on read, search
// and $everything.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>
#include <string>

#include "base/json.h"
#include "base/strings.h"
#include "tests/integration/harness.h"

namespace carnet::testing {
namespace {

const char* kJson = "Content-Type: application/fhir+json";
const char* kInsSystem = "urn:oid:1.2.250.1.213.1.4.10";
const char* kRpps = "urn:oid:1.2.250.1.71.4.2.1";
const char* kMask =
    R"({"resourceType":"Parameters","parameter":[{"name":"meta","valueMeta":{"security":[{"system":"urn:oid:1.2.250.1.213.1.1.4.13","code":"MASQUE_PS"}]}}]})";
const char* kShare =
    R"({"resourceType":"Parameters","parameter":[{"name":"meta","valueMeta":{"security":[{"system":"urn:oid:1.2.250.1.213.1.1.4.13","code":"PARTAGE_PS"}]}}]})";

class HealthProfileTest : public SharedGatewayTest {
 protected:
  static void SetUpTestSuite() {
    SharedGatewayTest::SetUpTestSuite();
    if (HasFatalFailure()) return;
    run_ = RandomHex(4);
    long long base_ins = 100000000000LL + std::stoll(RandomHex(5), nullptr, 16) * 10;
    p_ = "hp-p-" + run_;
    ins_ = "2" + std::to_string(base_ins + 5);
    long long r = 10000000 + std::stoll(RandomHex(5), nullptr, 16) % 8000000;
    author_ = "8100" + std::to_string(r);
    colleague_ = "8100" + std::to_string(r + 1);
    Must(As(Operator(), "PUT", "Patient/" + p_,
            R"({"resourceType":"Patient","id":")" + p_ + R"(",)" + kDiv +
                R"(,"identifier":[{"system":")" + kInsSystem + R"(","value":")" + ins_ +
                R"("}],"birthDate":"1971-09-14","gender":"female"})"),
         201, "record");
    Must(As(Patient(), "POST", "CareTeam",
            R"({"resourceType":"CareTeam","status":"active","subject":{"reference":"Patient/)" +
                p_ + R"("},"participant":[{"member":{"identifier":{"system":")" + kRpps +
                R"(","value":")" + author_ + R"("}}},{"member":{"identifier":{"system":")" + kRpps +
                R"(","value":")" + colleague_ + R"("}}}]})"),
         201, "care team");
  }

  static std::string Operator() { return Token({"--actor", "operator", "--id", "ops-1"}); }
  static std::string Patient() {
    return Token({"--actor", "patient", "--id", "pat-hp", "--patient", ins_});
  }
  static std::string Doctor(const std::string& rpps) {
    return Token(
        {"--actor", "professional", "--id", rpps, "--profession", "10", "--org", "org-hp"});
  }

  static HttpResult As(const std::string& token, const std::string& method, const std::string& path,
                       const std::string& body = "") {
    static HttpClient client;
    std::vector<std::string> headers = {"Authorization: Bearer " + token};
    if (!body.empty()) headers.push_back(kJson);
    return client.Request(method, gateway_->base_url() + "/fhir/" + path, headers, body);
  }
  static void Must(const HttpResult& r, long status, const std::string& what) {
    ASSERT_EQ(r.status, status) << what << ": " << r.body.substr(0, 800);
  }
  // Creates `json` as `token`; the new resource's "Type/id".
  static std::string Create(const std::string& token, const std::string& type,
                            const std::string& json) {
    auto r = As(token, "POST", type, json);
    EXPECT_EQ(r.status, 201) << type << ": " << r.body.substr(0, 800);
    std::string location = r.headers["location"];
    size_t at = location.find(type + "/");
    if (at == std::string::npos) return "";
    std::string rest = location.substr(at);
    return rest.substr(0, rest.find("/_history"));
  }
  static std::string Condition(const std::string& text) {
    return R"({"resourceType":"Condition",)" + std::string(kDiv) +
           R"(,"clinicalStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-clinical","code":"active"}]},"code":{"text":")" +
           text + R"("},"subject":{"reference":"Patient/)" + p_ + R"("}})";
  }
  static std::string Allergy(const std::string& text) {
    return R"({"resourceType":"AllergyIntolerance",)" + std::string(kDiv) +
           R"(,"clinicalStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical","code":"active"}]},"code":{"text":")" +
           text + R"("},"patient":{"reference":"Patient/)" + p_ + R"("}})";
  }
  static std::string Measurement(const std::string& code, const std::string& value_members) {
    return R"({"resourceType":"Observation",)" + std::string(kDiv) +
           R"(,"status":"final","category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"vital-signs"}]}],"code":{"coding":[{"system":"http://loinc.org","code":")" +
           code + R"("}]},"subject":{"reference":"Patient/)" + p_ +
           R"("},"effectiveDateTime":"2026-11-30T08:00:00Z",)" + value_members + "}";
  }
  static std::set<std::string> Matches(const HttpResult& r) {
    std::set<std::string> out;
    auto json = ParseJson(r.body);
    if (!json.ok()) return out;
    if (const JsonValue* entries = json->Find("entry"))
      for (const JsonValue& e : entries->items()) {
        const JsonValue* res = e.Find("resource");
        if (res) out.insert(res->GetString("resourceType") + "/" + res->GetString("id"));
      }
    return out;
  }

  static std::string run_, p_, ins_, author_, colleague_;
};
std::string HealthProfileTest::run_, HealthProfileTest::p_, HealthProfileTest::ins_,
    HealthProfileTest::author_, HealthProfileTest::colleague_;

TEST_F(HealthProfileTest, ADeclaredEntrySaysWhoDeclaredIt) {
  std::string condition = Create(Patient(), "Condition", Condition("Migraine avec aura"));
  ASSERT_FALSE(condition.empty());
  auto provenance = As(Patient(), "GET", "Provenance?target=" + condition + "/_history/1");
  ASSERT_EQ(provenance.status, 200) << provenance.body;
  auto json = ParseJson(provenance.body);
  ASSERT_TRUE(json.ok());
  ASSERT_TRUE(json->Find("entry") && json->Find("entry")->items().size() == 1) << provenance.body;
  const JsonValue& p = *json->Find("entry")->items()[0].Find("resource");
  EXPECT_EQ(p.Find("agent")->items()[0].Find("who")->GetString("reference"), "Patient/" + p_);
  EXPECT_NE(provenance.body.find("CREATE"), std::string::npos);
  // A professional's entry has none: its author is the professional.
  std::string allergy = Create(Doctor(author_), "AllergyIntolerance", Allergy("Pénicilline"));
  auto none = As(Patient(), "GET", "Provenance?target=" + allergy + "/_history/1");
  EXPECT_EQ(Matches(none).size(), 0u) << none.body;
  // Both are part of what the care team reads.
  EXPECT_EQ(As(Doctor(colleague_), "GET", condition).status, 200);
  EXPECT_EQ(As(Doctor(colleague_), "GET", allergy).status, 200);
}

TEST_F(HealthProfileTest, ThePatientHidesButDoesNotAlterAProfessionalsEntry) {
  std::string allergy = Create(Doctor(author_), "AllergyIntolerance", Allergy("Latex"));
  ASSERT_FALSE(allergy.empty());
  auto current = As(Patient(), "GET", allergy);
  ASSERT_EQ(current.status, 200);
  std::string changed = current.body;
  size_t at = changed.find("Latex");
  ASSERT_NE(at, std::string::npos);
  changed.replace(at, 5, "Rien");
  EXPECT_EQ(As(Patient(), "PUT", allergy, changed).status, 403);
  EXPECT_EQ(As(Patient(), "DELETE", allergy).status, 403);

  // Hidden from professionals: the colleague finds nothing, as for a missing entry; the
  // author still reads what they wrote; the patient reads it.
  Must(As(Patient(), "POST", allergy + "/$meta-add", kMask), 200, "mask");
  auto hidden = As(Doctor(colleague_), "GET", allergy);
  auto missing = As(Doctor(colleague_), "GET", "AllergyIntolerance/hp-none-" + run_);
  EXPECT_EQ(hidden.status, 404) << hidden.body;
  EXPECT_EQ(missing.status, 404);
  auto search = As(Doctor(colleague_), "GET", "AllergyIntolerance?patient=" + p_);
  EXPECT_EQ(Matches(search).count(allergy), 0u) << search.body;
  auto everything = As(Doctor(colleague_), "GET", "Patient/" + p_ + "/$everything");
  EXPECT_EQ(Matches(everything).count(allergy), 0u);
  EXPECT_EQ(As(Doctor(author_), "GET", allergy).status, 200);
  EXPECT_EQ(As(Patient(), "GET", allergy).status, 200);

  // Shown again.
  Must(As(Patient(), "POST", allergy + "/$meta-delete", kMask), 200, "unmask");
  EXPECT_EQ(As(Doctor(colleague_), "GET", allergy).status, 200);
  // The record's identity is not an entry.
  EXPECT_EQ(As(Patient(), "POST", "Patient/" + p_ + "/$meta-add", kMask).status, 403);
}

TEST_F(HealthProfileTest, ThePatientCorrectsAndHidesTheirOwnEntries) {
  std::string condition = Create(Patient(), "Condition", Condition("Asthme"));
  auto current = As(Patient(), "GET", condition);
  std::string corrected = current.body;
  size_t at = corrected.find("Asthme");
  ASSERT_NE(at, std::string::npos);
  corrected.replace(at, 6, "Asthme d'effort");
  Must(As(Patient(), "PUT", condition, corrected), 200, "correct");
  // The correction has its own Provenance.
  auto update = As(Patient(), "GET", "Provenance?target=" + condition + "/_history/2");
  EXPECT_NE(update.body.find("UPDATE"), std::string::npos) << update.body;
  Must(As(Patient(), "POST", condition + "/$meta-add", kMask), 200, "mask");
  EXPECT_EQ(As(Doctor(colleague_), "GET", condition).status, 404);
  auto search = As(Doctor(colleague_), "GET", "Condition?patient=" + p_);
  EXPECT_EQ(Matches(search).count(condition), 0u);
  Must(As(Patient(), "DELETE", condition), 204, "delete");
}

TEST_F(HealthProfileTest, ImpossibleMeasurementsAreRefusedWithTheReason) {
  struct Case {
    std::string name, code, members, words;
  };
  for (
      const Case& c : {
          Case{
              "weight 0", "29463-7",
              R"("valueQuantity":{"value":0,"unit":"kg","system":"http://unitsofmeasure.org","code":"kg"})",
              "Body weight of 0 kg is not a possible measurement"},
          Case{"weight in kilos", "29463-7", R"("valueQuantity":{"value":70,"unit":"kilos"})",
               "is given in UCUM units"},
          Case{
              "inverted pressure", "85354-9",
              R"("component":[{"code":{"coding":[{"system":"http://loinc.org","code":"8480-6"}]},"valueQuantity":{"value":70,"unit":"mmHg","system":"http://unitsofmeasure.org","code":"mm[Hg]"}},{"code":{"coding":[{"system":"http://loinc.org","code":"8462-4"}]},"valueQuantity":{"value":110,"unit":"mmHg","system":"http://unitsofmeasure.org","code":"mm[Hg]"}}])",
              "the systolic pressure is above the diastolic"},
      }) {
    auto r = As(Patient(), "POST", "Observation", Measurement(c.code, c.members));
    EXPECT_EQ(r.status, 422) << c.name << ": " << r.body;
    EXPECT_NE(r.body.find(c.words), std::string::npos) << c.name << ": " << r.body;
    // $validate says the same before the write.
    auto v = As(Patient(), "POST", "Observation/$validate", Measurement(c.code, c.members));
    EXPECT_NE(v.body.find(c.words), std::string::npos) << c.name << ": " << v.body;
  }
  std::string weight = Create(
      Patient(), "Observation",
      Measurement(
          "29463-7",
          R"("valueQuantity":{"value":61.5,"unit":"kg","system":"http://unitsofmeasure.org","code":"kg"})"));
  EXPECT_EQ(As(Doctor(colleague_), "GET", weight).status, 200);
}

// $profile: the sections with their entries, a fact stated by the patient and by a doctor
// shown once with both sources, an entry hidden from professionals absent from a doctor's
// profile, an empty section saying so, a hidden record answering as a missing one.
TEST_F(HealthProfileTest, TheProfileGroupsMergesAndFollowsTheAccessRules) {
  const std::string snomed =
      R"({"coding":[{"system":"http://snomed.info/sct","code":"38341003"}],"text":"Hypertension artérielle"})";
  auto hypertension = [&]() {
    return R"({"resourceType":"Condition",)" + std::string(kDiv) +
           R"(,"clinicalStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-clinical","code":"active"}]},"code":)" +
           snomed + R"(,"onsetDateTime":"2019-05-02","subject":{"reference":"Patient/)" + p_ +
           R"("}})";
  };
  std::string declared = Create(Patient(), "Condition", hypertension());
  std::string written = Create(Doctor(author_), "Condition", hypertension());
  std::string family = Create(
      Patient(), "FamilyMemberHistory",
      R"({"resourceType":"FamilyMemberHistory",)" + std::string(kDiv) +
          R"(,"status":"completed","patient":{"reference":"Patient/)" + p_ +
          R"("},"relationship":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-RoleCode","code":"FTH"}]},"condition":[{"code":{"text":"Diabète de type 2"}}]})");
  std::string weight = Create(
      Patient(), "Observation",
      Measurement(
          "29463-7",
          R"("valueQuantity":{"value":64,"unit":"kg","system":"http://unitsofmeasure.org","code":"kg"})"));
  std::string masked = Create(Doctor(author_), "AllergyIntolerance", Allergy("Arachide"));
  Must(As(Patient(), "POST", masked + "/$meta-add", kMask), 200, "mask");

  struct Section {
    std::vector<std::string> items;
    std::vector<std::vector<std::string>> sources;
    bool empty_reason = false;
  };
  auto profile = [&](const std::string& token) {
    std::map<std::string, Section> out;
    auto r = As(token, "GET", "Patient/" + p_ + "/$profile");
    EXPECT_EQ(r.status, 200) << r.body.substr(0, 500);
    auto json = ParseJson(r.body);
    if (!json.ok()) return out;
    EXPECT_EQ(json->GetString("type"), "collection");
    for (const JsonValue& e : json->Find("entry")->items()) {
      const JsonValue& res = *e.Find("resource");
      if (res.GetString("resourceType") != "List") continue;
      Section& s = out[res.GetString("id")];
      s.empty_reason = res.Find("emptyReason") != nullptr;
      if (const JsonValue* entries = res.Find("entry"))
        for (const JsonValue& item : entries->items()) {
          s.items.push_back(item.Find("item")->GetString("reference"));
          std::vector<std::string> sources;
          for (const JsonValue& x : item.Find("extension")->items())
            if (x.GetString("url").find("profile-entry-source") != std::string::npos)
              sources.push_back(x.GetString("valueCode"));
          s.sources.push_back(sources);
        }
    }
    return out;
  };
  auto mine = profile(Patient());
  auto& history = mine["profile-history"];
  auto at = std::find(history.items.begin(), history.items.end(), declared);
  ASSERT_NE(at, history.items.end()) << "the declared hypertension stands for the fact";
  EXPECT_EQ(std::find(history.items.begin(), history.items.end(), written), history.items.end())
      << "the doctor's copy of the same fact is not shown twice";
  EXPECT_EQ(history.sources[at - history.items.begin()],
            (std::vector<std::string>{"patient", "professional"}));
  EXPECT_NE(
      std::find(mine["profile-family"].items.begin(), mine["profile-family"].items.end(), family),
      mine["profile-family"].items.end());
  EXPECT_NE(std::find(mine["profile-measurements"].items.begin(),
                      mine["profile-measurements"].items.end(), weight),
            mine["profile-measurements"].items.end());
  EXPECT_NE(std::find(mine["profile-allergies"].items.begin(),
                      mine["profile-allergies"].items.end(), masked),
            mine["profile-allergies"].items.end());
  EXPECT_TRUE(mine["profile-contacts"].empty_reason);
  EXPECT_FALSE(mine["profile-professionals"].items.empty());

  auto doctors = profile(Doctor(colleague_));
  auto& allergies = doctors["profile-allergies"].items;
  EXPECT_EQ(std::find(allergies.begin(), allergies.end(), masked), allergies.end());
  EXPECT_NE(std::find(doctors["profile-history"].items.begin(),
                      doctors["profile-history"].items.end(), declared),
            doctors["profile-history"].items.end());

  auto stranger = Token(
      {"--actor", "professional", "--id", "810099999999", "--profession", "10", "--org", "org-x"});
  auto hidden = As(stranger, "GET", "Patient/" + p_ + "/$profile");
  auto missing = As(stranger, "GET", "Patient/hp-none-" + run_ + "/$profile");
  EXPECT_EQ(hidden.status, 404) << hidden.body;
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(As(Patient(), "GET", "Patient/" + p_ + "/$profile?section=x").status, 400);
  auto history_read = As(Patient(), "GET", "AuditEvent?patient=" + p_ + "&agent=" + colleague_);
  EXPECT_NE(history_read.body.find("$profile"), std::string::npos);
}

// Administrative papers (identity card, insurance cards...) are the patient's uploads that no
// profession reads, whatever its broad rights: absent from a doctor's read and search.
TEST_F(HealthProfileTest, AdministrativePapersAreShownToProfessionalsOnlyWhenShared) {
  auto upload = [&](const std::string& code, const std::string& title) {
    return Create(
        Patient(), "DocumentReference",
        R"({"resourceType":"DocumentReference",)" + std::string(kDiv) +
            R"(,"status":"current","type":{"coding":[{"system":"urn:oid:1.2.250.1.213.1.1.4.12","code":")" +
            code + R"("}]},"subject":{"reference":"Patient/)" + p_ +
            R"("},"date":"2026-12-01T10:00:00Z","content":[{"attachment":{"contentType":"application/pdf","data":")" +
            Base64Encode("%PDF-1.4 " + title) + R"(","title":")" + title + R"("}}]})");
  };
  std::string paper = upload("PAPIER_MUTUELLE", "Carte de mutuelle 2026");
  std::string blood = upload("PAPIER_GROUPE_SANGUIN", "Carte de groupe sanguin");
  ASSERT_FALSE(paper.empty());
  ASSERT_FALSE(blood.empty());
  EXPECT_EQ(As(Patient(), "GET", paper).status, 200);
  auto count = [&](const std::string& token) {
    auto r = As(token, "GET", "DocumentReference?patient=" + p_ + "&_summary=count");
    auto json = ParseJson(r.body);
    return json.ok() && json->Find("total") ? std::stoll(json->Find("total")->text()) : -1LL;
  };
  long long before = count(Doctor(colleague_));
  for (const std::string& doctor : {author_, colleague_}) {
    EXPECT_EQ(As(Doctor(doctor), "GET", paper).status, 404) << doctor;
    auto search = As(Doctor(doctor), "GET", "DocumentReference?patient=" + p_);
    EXPECT_EQ(Matches(search).count(paper), 0u) << search.body.substr(0, 300);
  }

  // The patient shares the blood-group card, one paper: the doctors of the care team read
  // it, by id, in searches and counts; the insurance card stays theirs alone.
  Must(As(Patient(), "POST", blood + "/$meta-add", kShare), 200, "share");
  for (const std::string& doctor : {author_, colleague_}) {
    EXPECT_EQ(As(Doctor(doctor), "GET", blood).status, 200) << doctor;
    auto search = As(Doctor(doctor), "GET", "DocumentReference?patient=" + p_);
    EXPECT_EQ(Matches(search).count(blood), 1u) << search.body.substr(0, 300);
    EXPECT_EQ(Matches(search).count(paper), 0u);
    EXPECT_EQ(As(Doctor(doctor), "GET", paper).status, 404) << doctor;
  }
  EXPECT_EQ(count(Doctor(colleague_)), before + 1);
  // A doctor outside the care team still sees nothing of the record.
  EXPECT_EQ(As(Doctor("81009999999"), "GET", blood).status, 404);
  // Masking wins over sharing.
  Must(As(Patient(), "POST", blood + "/$meta-add", kMask), 200, "mask shared");
  EXPECT_EQ(As(Doctor(colleague_), "GET", blood).status, 404);
  Must(As(Patient(), "POST", blood + "/$meta-delete", kMask), 200, "unmask shared");
  // Shared no more.
  Must(As(Patient(), "POST", blood + "/$meta-delete", kShare), 200, "unshare");
  EXPECT_EQ(As(Doctor(colleague_), "GET", blood).status, 404);
  EXPECT_EQ(count(Doctor(colleague_)), before);

  // Sharing is for administrative papers: the matrix decides every other document.
  std::string note = Create(
      Patient(), "DocumentReference",
      R"({"resourceType":"DocumentReference",)" + std::string(kDiv) +
          R"(,"status":"current","type":{"coding":[{"system":"urn:oid:1.2.250.1.213.1.1.4.12","code":"DOC_PATIENT"}]},"subject":{"reference":"Patient/)" +
          p_ +
          R"("},"date":"2026-12-01T10:00:00Z","content":[{"attachment":{"contentType":"text/plain","data":")" +
          Base64Encode("notes") + R"("}}]})");
  ASSERT_FALSE(note.empty());
  auto refused = As(Patient(), "POST", note + "/$meta-add", kShare);
  EXPECT_EQ(refused.status, 403) << refused.body;
  EXPECT_NE(refused.body.find("PARTAGE_PS"), std::string::npos) << refused.body;
}

// The patient's choice per section: hiding "allergies" hides the entries there and those
// written later, from every professional but their author; showing it again shows them.
TEST_F(HealthProfileTest, ASectionHiddenFromProfessionalsStaysHiddenForNewEntries) {
  auto choose = [&](const std::string& token, const std::string& section, bool visible) {
    return As(token, "POST", "Patient/" + p_ + "/$profile-visibility",
              R"({"resourceType":"Parameters","parameter":[{"name":"section","valueCode":")" +
                  section + R"("},{"name":"visible","valueBoolean":)" +
                  (visible ? "true" : "false") + "}]}");
  };
  std::string before = Create(Doctor(author_), "AllergyIntolerance", Allergy("Pollen"));
  auto hidden = choose(Patient(), "allergies", false);
  ASSERT_EQ(hidden.status, 200) << hidden.body;
  EXPECT_NE(hidden.body.find("changed"), std::string::npos);
  std::string after = Create(Doctor(author_), "AllergyIntolerance", Allergy("Acariens"));
  std::string other = Create(Patient(), "Condition", Condition("Eczéma"));
  for (const std::string& entry : {before, after}) {
    EXPECT_EQ(As(Doctor(colleague_), "GET", entry).status, 404) << entry;
    EXPECT_EQ(As(Doctor(author_), "GET", entry).status, 200) << entry;
    EXPECT_EQ(As(Patient(), "GET", entry).status, 200) << entry;
  }
  EXPECT_EQ(As(Doctor(colleague_), "GET", other).status, 200) << "another section stays visible";
  auto search = As(Doctor(colleague_), "GET", "AllergyIntolerance?patient=" + p_);
  EXPECT_EQ(Matches(search).count(after), 0u);
  // The patient reads the choice back on the section's List; a professional cannot tell the
  // hidden section from an empty one.
  const std::string kHidden = "profile-section-hidden";
  // The Lists flagged hidden in a $profile answer, by id.
  auto flagged = [&](const std::string& body) {
    std::set<std::string> out;
    auto json = ParseJson(body);
    if (!json.ok()) return out;
    if (const JsonValue* entries = json->Find("entry"))
      for (const JsonValue& e : entries->items()) {
        const JsonValue* res = e.Find("resource");
        if (!res || res->GetString("resourceType") != "List") continue;
        if (const JsonValue* exts = res->Find("extension"))
          for (const JsonValue& x : exts->items())
            if (x.GetString("url").find(kHidden) != std::string::npos)
              out.insert(res->GetString("id"));
      }
    return out;
  };
  auto mine = As(Patient(), "GET", "Patient/" + p_ + "/$profile");
  ASSERT_EQ(mine.status, 200) << mine.body;
  EXPECT_EQ(flagged(mine.body), std::set<std::string>{"profile-allergies"}) << mine.body;
  auto theirs = As(Doctor(colleague_), "GET", "Patient/" + p_ + "/$profile");
  ASSERT_EQ(theirs.status, 200) << theirs.body;
  EXPECT_EQ(theirs.body.find(kHidden), std::string::npos) << theirs.body;
  // Only the patient's side chooses; a section has a name the profile knows.
  EXPECT_EQ(choose(Doctor(author_), "allergies", true).status, 403);
  auto bad = choose(Patient(), "hobbies", false);
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.find("allergies"), std::string::npos) << bad.body;
  // Shown again.
  Must(choose(Patient(), "allergies", true), 200, "show");
  EXPECT_TRUE(flagged(As(Patient(), "GET", "Patient/" + p_ + "/$profile").body).empty())
      << "shown again: no longer flagged";
  for (const std::string& entry : {before, after})
    EXPECT_EQ(As(Doctor(colleague_), "GET", entry).status, 200) << entry;
}

}  // namespace
}  // namespace carnet::testing
