// Patient/[id]/$summary (issue 16): the HL7 IPS document Bundle and its PDF, computed for the
// caller, against the live gateway. One record P holds an entry of each kind the summary shows
// (a problem, a past illness, an allergy the patient declared, a treatment, a vaccination, a
// laboratory result, a vital sign, a procedure), one problem masked from professionals
// (MASQUE_PS) and one hidden from the patient (INVISIBLE_PATIENT); a record E holds nothing but
// its Patient; a record L holds enough results to fill several pages. The patient's summary and
// a care-team doctor's must differ exactly by what each may not see; the Bundle must pass the
// validator (Composition invariants included); the PDF must read back as text (pdftotext,
// pdfinfo) and is rendered as PNG into build/test-output/ for a person to look at.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <set>

#include "base/json.h"
#include "base/strings.h"
#include "storage/connection.h"
#include "tests/integration/harness.h"

namespace carnet::testing {
namespace {

const char* kJson = "Content-Type: application/fhir+json";
const char* kInsSystem = "urn:oid:1.2.250.1.213.1.4.10";
const char* kVisibility = "urn:oid:1.2.250.1.213.1.1.4.13";

std::string Shell(const std::string& command) { return RunCommand(command).out; }

// pdftotext's text with every run of white space as one space: a cell's text wraps within its
// column, and its lines come out one per line.
std::string Flat(const std::string& text) {
  std::string out;
  for (char c : text) {
    bool space = c == ' ' || c == '\n' || c == '\t' || c == '\f' || c == '\r';
    if (space && (out.empty() || out.back() == ' ')) continue;
    out += space ? ' ' : c;
  }
  return out;
}

// The value of pdfinfo's line `name:`.
std::string Info(const std::string& info, const std::string& name) {
  std::string lines = "\n" + info;
  auto at = lines.find("\n" + name + ":");
  if (at == std::string::npos) return "";
  size_t start = lines.find_first_not_of(' ', at + name.size() + 2);
  return lines.substr(start, lines.find('\n', start) - start);
}

std::string OutputDir() {
  std::string dir = CARNET_TEST_OUTPUT_DIR;
  std::filesystem::create_directories(dir);
  return dir;
}

std::string WriteFile(const std::string& name, const std::string& bytes) {
  std::string path = OutputDir() + "/" + name;
  std::ofstream(path, std::ios::binary) << bytes;
  return path;
}

// The references of a section's entries, by section code.
std::map<std::string, std::vector<std::string>> SectionEntries(const JsonValue& composition) {
  std::map<std::string, std::vector<std::string>> out;
  if (const JsonValue* sections = composition.Find("section"))
    for (const auto& s : sections->items()) {
      std::string code = s.Find("code")->Find("coding")->items()[0].GetString("code");
      auto& list = out[code];
      if (const JsonValue* entries = s.Find("entry"))
        for (const auto& e : entries->items()) list.push_back(e.GetString("reference"));
    }
  return out;
}

class SummaryTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    gateway_ = new GatewayProcess();
    ASSERT_TRUE(gateway_->WaitHealthy()) << gateway_->Log();
    run_ = RandomHex(4);
    long long base = 300000000000LL + std::stoll(RandomHex(5), nullptr, 16) * 10;
    p_ = "sum-p-" + run_;
    e_ = "sum-e-" + run_;
    l_ = "sum-l-" + run_;
    p_ins_ = "2" + std::to_string(base + 1);
    e_ins_ = "2" + std::to_string(base + 2);
    l_ins_ = "2" + std::to_string(base + 3);
    operator_ = Token({"--actor", "operator", "--id", "ops-1"});
    patient_ = Token({"--actor", "patient", "--id", "pat-" + run_, "--patient", p_ins_});
    patient_e_ = Token({"--actor", "patient", "--id", "pat-e-" + run_, "--patient", e_ins_});
    patient_l_ = Token({"--actor", "patient", "--id", "pat-l-" + run_, "--patient", l_ins_});
    auto pro = [](const std::string& rpps) {
      return Token(
          {"--actor", "professional", "--id", rpps, "--profession", "10", "--org", "org-sum"});
    };
    author_ = pro("810000000161");
    doctor_ = pro("810000000162");
    outsider_ = pro("810000000163");
    insurer_ = Token({"--actor", "insurer", "--id", "mutuelle-1"});

    NewRecord(p_, p_ins_,
              R"("name":[{"family":"Marchand","given":["Élodie"]}],"birthDate":"1958-03-12",)");
    NewRecord(e_, e_ins_, R"("name":[{"family":"Vide","given":["Noël"]}],)");
    NewRecord(l_, l_ins_,
              R"("name":[{"family":"Longuet","given":["Gérard"]}],"birthDate":"1949-11-30",)");
    for (const auto& [pid, token] : {std::pair{p_, patient_}, std::pair{l_, patient_l_}})
      Post(
          token, "CareTeam",
          R"({"resourceType":"CareTeam","status":"active","subject":{"reference":"Patient/)" + pid +
              R"("},"participant":[{"member":{"identifier":{"system":"urn:oid:1.2.250.1.71.4.2.1","value":"810000000161"}}},)"
              R"({"member":{"identifier":{"system":"urn:oid:1.2.250.1.71.4.2.1","value":"810000000162"}}}]})");

    // Shared content the record references: the doctor who recorded a problem, a medicine.
    std::string practitioner = "sum-dr-" + run_;
    ASSERT_EQ(As(operator_, "PUT", "/fhir/Practitioner/" + practitioner, {kJson},
                 R"({"resourceType":"Practitioner","id":")" + practitioner +
                     R"(","name":[{"prefix":["Dr"],"given":["Jean"],"family":"Martin"}]})")
                  .status,
              201);
    std::string medicine =
        Post(author_, "Medication",
             R"({"resourceType":"Medication","code":{"text":"Amlodipine 5 mg, comprimé"}})");
    std::string subject = R"("subject":{"reference":"Patient/)" + p_ + R"("})";
    std::string patient_ref = R"("patient":{"reference":"Patient/)" + p_ + R"("})";
    auto status = [](const char* code) {
      return std::string(
                 R"("clinicalStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-clinical","code":")") +
             code + R"("}]})";
    };
    auto label = [](const char* code) {
      return std::string(R"("meta":{"security":[{"system":")") + kVisibility + R"(","code":")" +
             code + R"("}]})";
    };
    ids_["problem"] = Post(
        author_, "Condition",
        R"({"resourceType":"Condition",)" + status("active") +
            R"(,"code":{"text":"Hypertension artérielle essentielle"},"onsetDateTime":"2015-06-01",)" +
            subject + R"(,"recorder":{"reference":"Practitioner/)" + practitioner + R"("}})");
    ids_["past"] =
        Post(author_, "Condition",
             R"({"resourceType":"Condition",)" + status("resolved") +
                 R"(,"code":{"text":"Fracture du poignet gauche"},"onsetDateTime":"2003-02",)" +
                 subject + "}");
    ids_["masked"] =
        Post(author_, "Condition",
             R"({"resourceType":"Condition",)" + label("MASQUE_PS") + "," + status("active") +
                 R"(,"code":{"text":"Épisode dépressif caractérisé"},)" + subject + "}");
    ids_["invisible"] = Post(
        author_, "Condition",
        R"({"resourceType":"Condition",)" + label("INVISIBLE_PATIENT") + "," + status("active") +
            R"(,"code":{"text":"Adénocarcinome du pancréas"},)" + subject + "}");
    ids_["medication"] = Post(author_, "MedicationStatement",
                              R"({"resourceType":"MedicationStatement","status":"active",
        "medicationReference":{"reference":"Medication/)" +
                                  medicine + R"("},"effectiveDateTime":"2024-01-10",
        "dosage":[{"text":"1 comprimé le matin"}],)" +
                                  subject + "}");
    ids_["immunization"] = Post(author_, "Immunization",
                                R"({"resourceType":"Immunization","status":"completed",
        "vaccineCode":{"text":"Vaccin contre la grippe saisonnière"},"occurrenceDateTime":"2025-10-15",)" +
                                    patient_ref + "}");
    ids_["lab"] = Post(author_, "Observation",
                       R"({"resourceType":"Observation","status":"final",
        "category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"laboratory"}]}],
        "code":{"text":"Hémoglobine glyquée, HbA1c"},"valueQuantity":{"value":6.1,"unit":"%","system":"http://unitsofmeasure.org","code":"%"},
        "effectiveDateTime":"2025-11-02",)" +
                           subject + "}");
    ids_["vital"] = Post(author_, "Observation",
                         R"({"resourceType":"Observation","status":"final",
        "category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"vital-signs"}]}],
        "code":{"coding":[{"system":"http://loinc.org","code":"8480-6","display":"Pression artérielle systolique"}]},
        "valueQuantity":{"value":142,"unit":"mm[Hg]","system":"http://unitsofmeasure.org","code":"mm[Hg]"},"effectiveDateTime":"2025-11-02",)" +
                             subject + "}");
    ids_["procedure"] =
        Post(author_, "Procedure",
             R"({"resourceType":"Procedure","status":"completed","code":{"text":"Appendicectomie"},
        "performedDateTime":"1990-05-20",)" +
                 subject + "}");
    // The patient's own entry.
    ids_["allergy"] =
        Post(patient_, "AllergyIntolerance",
             R"({"resourceType":"AllergyIntolerance",
        "clinicalStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical","code":"active"}]},
        "criticality":"high","code":{"text":"Allergie à la pénicilline"},
        "reaction":[{"manifestation":[{"text":"Urticaire géante"}]}],)" +
                 patient_ref + R"(,"recorder":{"reference":"Patient/)" + p_ + R"("}})");

    // L: a long wrapped text, and more results than a page holds.
    Post(author_, "Condition",
         R"({"resourceType":"Condition",)" + status("active") + R"(,"code":{"text":")" +
             LongText() + R"("},"subject":{"reference":"Patient/)" + l_ + R"("}})");
    for (int i = 1; i <= kLongResults; ++i)
      Post(author_, "Observation",
           R"({"resourceType":"Observation","status":"final",
        "category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"laboratory"}]}],
        "code":{"text":"Dosage sérique numéro )" +
               std::to_string(i) + R"(, créatininémie de contrôle"},
        "valueQuantity":{"value":)" +
               std::to_string(60 + i) +
               R"(,"unit":"µmol/L","system":"http://unitsofmeasure.org","code":"umol/L"},
        "effectiveDateTime":"2025-0)" +
               std::to_string(1 + i % 9) + R"(-1)" + std::to_string(i % 10) +
               R"(","subject":{"reference":"Patient/)" + l_ + R"("}})");
  }
  static void TearDownTestSuite() {
    delete gateway_;
    gateway_ = nullptr;
  }

  static constexpr int kLongResults = 70;
  static std::string LongText() {
    return "Insuffisance cardiaque à fraction d'éjection altérée, d'origine ischémique, découverte "
           "lors "
           "d'une hospitalisation en cardiologie pour décompensation œdémateuse, avec dyspnée de "
           "stade "
           "III de la NYHA, suivie en consultation spécialisée tous les trois mois et traitée par "
           "bêtabloquant, inhibiteur de l'enzyme de conversion et diurétique de l'anse, "
           "terminus-wrapcheck";
  }

  static HttpResult As(const std::string& token, const std::string& method, const std::string& path,
                       std::vector<std::string> headers = {}, const std::string& body = "") {
    headers.push_back(Auth(token));
    static HttpClient client;
    return client.Request(method, gateway_->base_url() + path, headers, body);
  }

  static void NewRecord(const std::string& pid, const std::string& ins, const std::string& more) {
    auto r =
        As(operator_, "PUT", "/fhir/Patient/" + pid, {kJson},
           R"({"resourceType":"Patient","id":")" + pid + R"(",)" + more +
               R"("identifier":[{"system":")" + kInsSystem + R"(","value":")" + ins + R"("}]})");
    ASSERT_EQ(r.status, 201) << r.body;
  }

  static std::string Post(const std::string& token, const std::string& type,
                          const std::string& body) {
    auto r = As(token, "POST", "/fhir/" + type, {kJson}, body);
    EXPECT_EQ(r.status, 201) << type << ": " << r.body.substr(0, 600);
    auto json = ParseJson(r.body);
    return json.ok() ? json->GetString("id") : "";
  }

  static long long AuditCount(const std::string& like) {
    static std::unique_ptr<storage::Connection> conn;
    if (!conn) {
      auto opened = storage::Connection::Open(TestDbConninfo());
      if (!opened.ok()) return -1;
      conn = std::move(opened).value();
    }
    auto r = conn->RunDynamic("SELECT count(*) FROM audit_event WHERE content LIKE $1",
                              {storage::SqlParam::Text(like)});
    return r.ok() ? r->GetInt(0, 0) : -1;
  }

  // The summary's resources by "Type/id", its fullUrls, and checks every IPS rule a reader of
  // the Bundle alone can check.
  static std::set<std::string> CheckBundle(const JsonValue& bundle,
                                           std::string* composition_out = nullptr) {
    std::set<std::string> resources;
    EXPECT_EQ(bundle.GetString("resourceType"), "Bundle");
    EXPECT_EQ(bundle.GetString("type"), "document");
    EXPECT_FALSE(bundle.GetString("timestamp").empty());
    const JsonValue* identifier = bundle.Find("identifier");
    EXPECT_TRUE(identifier && !identifier->GetString("system").empty() &&
                !identifier->GetString("value").empty());
    const JsonValue* entries = bundle.Find("entry");
    if (!entries || entries->items().size() < 3) {
      ADD_FAILURE() << "a summary has at least a Composition, a Patient and its author";
      return resources;
    }
    std::map<std::string, const JsonValue*> by_url;
    for (size_t i = 0; i < entries->items().size(); ++i) {
      const JsonValue& e = entries->items()[i];
      std::string url = e.GetString("fullUrl");
      const JsonValue* res = e.Find("resource");
      EXPECT_FALSE(url.empty());
      EXPECT_TRUE(res);
      EXPECT_FALSE(e.Find("search") || e.Find("request") || e.Find("response"));
      EXPECT_TRUE(by_url.emplace(url, res).second) << "fullUrl twice: " << url;
      if (i > 0) {
        EXPECT_NE(res->GetString("resourceType"), "Composition") << "bdl-ips-1";
        resources.insert(res->GetString("resourceType") + "/" + res->GetString("id"));
      }
    }
    const JsonValue& composition = *entries->items()[0].Find("resource");
    EXPECT_EQ(composition.GetString("resourceType"), "Composition");
    EXPECT_EQ(composition.GetString("status"), "final");
    EXPECT_EQ(composition.Find("type")->Find("coding")->items()[0].GetString("code"), "60591-5");
    EXPECT_EQ(composition.Find("type")->Find("coding")->items()[0].GetString("system"),
              "http://loinc.org");
    EXPECT_FALSE(composition.GetString("date").empty());
    EXPECT_FALSE(composition.GetString("title").empty());
    EXPECT_FALSE(composition.GetString("confidentiality").empty());
    auto resolve = [&](const std::string& ref) -> const JsonValue* {
      auto it = by_url.find(ref);
      return it == by_url.end() ? nullptr : it->second;
    };
    const JsonValue* subject = resolve(composition.Find("subject")->GetString("reference"));
    EXPECT_TRUE(subject && subject->GetString("resourceType") == "Patient")
        << "subject resolves to the Patient";
    const JsonValue* author =
        resolve(composition.Find("author")->items()[0].GetString("reference"));
    EXPECT_TRUE(author && (author->GetString("resourceType") == "Device" ||
                           author->GetString("resourceType") == "Organization"))
        << "the author is in the Bundle";
    std::set<std::string> codes;
    for (const auto& s : composition.Find("section")->items()) {
      std::string code = s.Find("code")->Find("coding")->items()[0].GetString("code");
      EXPECT_EQ(s.Find("code")->Find("coding")->items()[0].GetString("system"), "http://loinc.org");
      codes.insert(code);
      EXPECT_FALSE(s.GetString("title").empty()) << code;
      const JsonValue* text = s.Find("text");
      EXPECT_TRUE(text && text->GetString("status") == "generated" &&
                  text->GetString("div").rfind("<div xmlns=\"http://www.w3.org/1999/xhtml\">", 0) ==
                      0)
          << code;
      const JsonValue* listed = s.Find("entry");
      const JsonValue* empty = s.Find("emptyReason");
      EXPECT_TRUE((listed != nullptr) != (empty != nullptr))
          << code << ": entries or an emptyReason (ips-comp-1, cmp-2)";
      if (listed) {
        for (const auto& ref : listed->items())
          EXPECT_TRUE(resolve(ref.GetString("reference")))
              << code << ": " << ref.GetString("reference");
      }
      if (empty) {
        EXPECT_EQ(empty->Find("coding")->items()[0].GetString("system"),
                  "http://terminology.hl7.org/CodeSystem/list-empty-reason");
        EXPECT_EQ(empty->Find("coding")->items()[0].GetString("code"), "unavailable");
        EXPECT_NE(text->GetString("div").find("Aucune information"), std::string::npos) << code;
      }
    }
    for (const char* required : {"11450-4", "48765-2", "10160-0"})
      EXPECT_TRUE(codes.count(required)) << "required section " << required;
    // Every reference of every resource resolves inside the Bundle (relative ones against the
    // server's base, as their fullUrls are).
    std::function<void(const std::string&, const JsonValue&)> refs = [&](const std::string& url,
                                                                         const JsonValue& v) {
      if (v.is_array())
        for (const auto& item : v.items()) refs(url, item);
      if (!v.is_object()) return;
      for (const auto& [k, value] : v.members()) {
        if (k == "reference" && value.is_string()) {
          std::string r = value.text();
          EXPECT_TRUE(resolve(r) || resolve(gateway_->base_url() + "/fhir/" + r))
              << url << " references " << r;
        } else {
          refs(url, value);
        }
      }
    };
    for (const auto& [url, res] : by_url) refs(url, *res);
    if (composition_out) *composition_out = WriteJson(composition);
    return resources;
  }

  // The Bundle through $validate: no error, and the Composition invariants checked.
  static void ExpectValid(const std::string& bundle_json) {
    auto r = As(operator_, "POST", "/fhir/Bundle/$validate", {kJson}, bundle_json);
    ASSERT_EQ(r.status, 200) << r.body.substr(0, 600);
    auto outcome = Parse(r.body);
    if (const JsonValue* issues = outcome.Find("issue"))
      for (const auto& i : issues->items()) {
        EXPECT_NE(i.GetString("severity"), "error") << i.GetString("diagnostics");
        std::string d = i.GetString("diagnostics");
        for (const char* key : {"cmp-1", "cmp-2", "bdl-9", "bdl-10", "bdl-11", "txt-1", "txt-2"})
          EXPECT_EQ(d.find(std::string(key) + ":"), std::string::npos) << "not checked? " << d;
      }
  }

  static std::string Url(const std::string& pid) { return "/fhir/Patient/" + pid + "/$summary"; }
  static std::string Ref(const std::string& type, const std::string& id) {
    return gateway_->base_url() + "/fhir/" + type + "/" + id;
  }

  static GatewayProcess* gateway_;
  static std::string run_, p_, e_, l_, p_ins_, e_ins_, l_ins_;
  static std::string operator_, patient_, patient_e_, patient_l_, author_, doctor_, outsider_,
      insurer_;
  static std::map<std::string, std::string> ids_;
};

GatewayProcess* SummaryTest::gateway_ = nullptr;
std::string SummaryTest::run_, SummaryTest::p_, SummaryTest::e_, SummaryTest::l_,
    SummaryTest::p_ins_, SummaryTest::e_ins_, SummaryTest::l_ins_;
std::string SummaryTest::operator_, SummaryTest::patient_, SummaryTest::patient_e_,
    SummaryTest::patient_l_, SummaryTest::author_, SummaryTest::doctor_, SummaryTest::outsider_,
    SummaryTest::insurer_;
std::map<std::string, std::string> SummaryTest::ids_;

TEST_F(SummaryTest, EachCallerGetsTheSummaryOfWhatTheyMaySee) {
  long long audits = AuditCount("%/$summary%");
  auto mine = As(patient_, "GET", Url(p_));
  ASSERT_EQ(mine.status, 200) << mine.body.substr(0, 600);
  EXPECT_NE(mine.headers["content-type"].find("application/fhir+json"), std::string::npos);
  EXPECT_EQ(AuditCount("%/$summary%"), audits + 1) << "the patient's summary is audited";
  auto theirs = As(doctor_, "GET", Url(p_));
  ASSERT_EQ(theirs.status, 200) << theirs.body.substr(0, 600);
  EXPECT_EQ(AuditCount("%/$summary%"), audits + 2) << "the doctor's summary is audited";

  JsonValue patient_bundle = Parse(mine.body), doctor_bundle = Parse(theirs.body);
  std::string composition;
  std::set<std::string> seen_by_patient = CheckBundle(patient_bundle, &composition);
  std::set<std::string> seen_by_doctor = CheckBundle(doctor_bundle);
  auto key = [&](const std::string& type, const std::string& name) {
    return type + "/" + ids_.at(name);
  };
  std::set<std::string> shared = {key("Condition", "problem"),
                                  key("Condition", "past"),
                                  key("MedicationStatement", "medication"),
                                  key("Immunization", "immunization"),
                                  key("Observation", "lab"),
                                  key("Observation", "vital"),
                                  key("Procedure", "procedure"),
                                  key("AllergyIntolerance", "allergy")};
  auto clinical = [](std::set<std::string> all) {
    for (auto it = all.begin(); it != all.end();)
      it = (it->rfind("Patient/", 0) == 0 || it->rfind("Device/", 0) == 0 ||
            it->rfind("Practitioner/", 0) == 0 || it->rfind("Medication/", 0) == 0)
               ? all.erase(it)
               : std::next(it);
    return all;
  };
  std::set<std::string> expected_patient = shared, expected_doctor = shared;
  expected_patient.insert(key("Condition", "masked"));    // masked from professionals only
  expected_doctor.insert(key("Condition", "invisible"));  // hidden from the patient only
  for (const auto* seen : {&seen_by_patient, &seen_by_doctor}) {
    size_t shared_content = 0;
    for (const auto& k : *seen)
      if (k.rfind("Practitioner/sum-dr-", 0) == 0 || k.rfind("Medication/", 0) == 0)
        ++shared_content;
    EXPECT_EQ(shared_content, 2u) << "the recorder and the medicine the entries reference";
  }
  EXPECT_EQ(clinical(seen_by_patient), expected_patient);
  EXPECT_EQ(clinical(seen_by_doctor), expected_doctor);

  // The sections, their codes and entries.
  auto sections = SectionEntries(*patient_bundle.Find("entry")->items()[0].Find("resource"));
  std::set<std::string> codes;
  for (const auto& [code, refs] : sections) codes.insert(code);
  EXPECT_EQ(codes, (std::set<std::string>{"11450-4", "48765-2", "10160-0", "11369-6", "30954-2",
                                          "47519-4", "8716-3", "11348-0"}));
  EXPECT_EQ(
      std::set<std::string>(sections["11450-4"].begin(), sections["11450-4"].end()),
      (std::set<std::string>{Ref("Condition", ids_["problem"]), Ref("Condition", ids_["masked"])}));
  EXPECT_EQ(sections["11348-0"], std::vector<std::string>{Ref("Condition", ids_["past"])});
  EXPECT_EQ(sections["48765-2"],
            std::vector<std::string>{Ref("AllergyIntolerance", ids_["allergy"])});
  EXPECT_EQ(sections["10160-0"],
            std::vector<std::string>{Ref("MedicationStatement", ids_["medication"])});
  EXPECT_EQ(sections["11369-6"],
            std::vector<std::string>{Ref("Immunization", ids_["immunization"])});
  EXPECT_EQ(sections["30954-2"], std::vector<std::string>{Ref("Observation", ids_["lab"])});
  EXPECT_EQ(sections["8716-3"], std::vector<std::string>{Ref("Observation", ids_["vital"])});
  EXPECT_EQ(sections["47519-4"], std::vector<std::string>{Ref("Procedure", ids_["procedure"])});
  auto doctor_sections = SectionEntries(*doctor_bundle.Find("entry")->items()[0].Find("resource"));
  EXPECT_EQ(
      std::set<std::string>(doctor_sections["11450-4"].begin(), doctor_sections["11450-4"].end()),
      (std::set<std::string>{Ref("Condition", ids_["problem"]),
                             Ref("Condition", ids_["invisible"])}));
  // The narratives: escaped text of the entries; the patient's own entry says so.
  EXPECT_NE(composition.find("Allergie à la pénicilline"), std::string::npos);
  EXPECT_NE(composition.find("déclaré par le patient"), std::string::npos);
  EXPECT_NE(composition.find("12/03/1958"), std::string::npos)
      << "the birth date, as a reader reads it";
  EXPECT_EQ(mine.body.find("Adénocarcinome"), std::string::npos)
      << "INVISIBLE_PATIENT stays hidden";
  EXPECT_EQ(theirs.body.find("Épisode dépressif"), std::string::npos) << "MASQUE_PS stays masked";

  ExpectValid(mine.body);
  ExpectValid(theirs.body);
  // The validator does check the Composition's invariants on this Bundle: an emptyReason on a
  // section with entries breaks cmp-2.
  std::string broken = mine.body;
  size_t at = broken.find(R"("entry":[{"reference")");
  ASSERT_NE(at, std::string::npos);
  broken.insert(at, R"("emptyReason":{"text":"x"},)");
  auto r = As(operator_, "POST", "/fhir/Bundle/$validate", {kJson}, broken);
  EXPECT_NE(r.body.find("cmp-2"), std::string::npos) << r.body.substr(0, 800);
}

TEST_F(SummaryTest, AnEmptyRequiredSectionSaysWhy) {
  auto r = As(patient_e_, "GET", Url(e_));
  ASSERT_EQ(r.status, 200) << r.body.substr(0, 600);
  JsonValue bundle = Parse(r.body);
  CheckBundle(bundle);
  const JsonValue& composition = *bundle.Find("entry")->items()[0].Find("resource");
  std::vector<std::string> codes;
  for (const auto& s : composition.Find("section")->items()) {
    codes.push_back(s.Find("code")->Find("coding")->items()[0].GetString("code"));
    EXPECT_FALSE(s.Find("entry"));
    ASSERT_TRUE(s.Find("emptyReason")) << codes.back();
    EXPECT_EQ(s.Find("emptyReason")->Find("coding")->items()[0].GetString("code"), "unavailable");
  }
  EXPECT_EQ(codes, (std::vector<std::string>{"11450-4", "48765-2", "10160-0"}))
      << "only the required ones";
  EXPECT_EQ(bundle.Find("entry")->items().size(), 3u) << "Composition, Patient, carnet";
  ExpectValid(r.body);
}

TEST_F(SummaryTest, ACallerWithoutAccessGetsTheAnswerOfNoRecord) {
  std::string nobody = "sum-none-" + run_;
  for (const std::string& token : {outsider_, insurer_}) {
    for (const std::vector<std::string>& headers :
         {std::vector<std::string>{}, std::vector<std::string>{"Accept: application/pdf"}}) {
      long long audits = AuditCount("%" + p_ + "%");
      auto hidden = As(token, "GET", Url(p_), headers);
      auto missing = As(token, "GET", Url(nobody), headers);
      EXPECT_EQ(hidden.status, 404) << hidden.body.substr(0, 400);
      EXPECT_EQ(missing.status, 404) << missing.body.substr(0, 400);
      EXPECT_EQ(hidden.headers["content-type"], missing.headers["content-type"]);
      std::string told = hidden.body;
      for (size_t at; (at = told.find(p_)) != std::string::npos;)
        told.replace(at, p_.size(), nobody);
      EXPECT_EQ(told, missing.body) << "a hidden record answers as one that does not exist";
      EXPECT_GT(AuditCount("%" + p_ + "%"), audits) << "the refusal is audited";
    }
  }
  // _format=pdf too.
  auto hidden = As(outsider_, "GET", Url(p_) + "?_format=pdf");
  EXPECT_EQ(hidden.status, 404);
}

TEST_F(SummaryTest, ThePdfReadsBackAsText) {
  long long audits = AuditCount("%/$summary%");
  auto r = As(patient_, "GET", Url(p_), {"Accept: application/pdf"});
  ASSERT_EQ(r.status, 200) << r.body.substr(0, 600);
  EXPECT_EQ(AuditCount("%/$summary%"), audits + 1) << "the PDF is audited as the JSON is";
  EXPECT_EQ(r.headers["content-type"], "application/pdf");
  EXPECT_NE(r.headers["content-disposition"].find("filename=\"synthese-medicale-" + p_ + ".pdf\""),
            std::string::npos)
      << r.headers["content-disposition"];
  ASSERT_EQ(r.body.rfind("%PDF-", 0), 0u);
  std::string file = WriteFile("summary-patient.pdf", r.body);
  std::string info = Shell("pdfinfo '" + file + "'");
  EXPECT_NE(Info(info, "Producer").find("cairo"), std::string::npos) << info;
  EXPECT_EQ(Info(info, "Creator"), "carnet") << info;
  EXPECT_EQ(Info(info, "Title"), "Synthèse médicale du patient — Élodie MARCHAND") << info;
  EXPECT_EQ(Info(info, "Page size"), "595.28 x 841.89 pts (A4)") << info;
  std::string pages = Info(info, "Pages");
  ASSERT_FALSE(pages.empty()) << info;
  EXPECT_GE(std::stoi(pages), 1);
  std::string text = Flat(Shell("pdftotext -enc UTF-8 '" + file + "' -"));
  for (const std::string& expected : std::vector<std::string>{"Synthèse médicale du patient",
                                                              "Élodie MARCHAND",
                                                              "12/03/1958",
                                                              "INS : ",
                                                              "Problèmes actifs",
                                                              "Allergies et intolérances",
                                                              "Traitements",
                                                              "Vaccinations",
                                                              "Résultats d'examens",
                                                              "Actes et interventions",
                                                              "Signes vitaux",
                                                              "Antécédents médicaux",
                                                              "Hypertension artérielle essentielle",
                                                              "Allergie à la pénicilline",
                                                              "déclaré par le patient",
                                                              "Épisode dépressif caractérisé",
                                                              "Amlodipine 5 mg",
                                                              "01/06/2015",
                                                              "Dr Jean Martin",
                                                              "Page 1 / " + pages,
                                                              "Demandée par : le patient"})
    EXPECT_NE(text.find(expected), std::string::npos) << expected << " in\n" << text;
  EXPECT_NE(text.find(p_ins_), std::string::npos);
  EXPECT_EQ(text.find("Adénocarcinome"), std::string::npos);
  // A page to look at.
  std::string png = OutputDir() + "/summary-patient-page1";
  Shell("pdftoppm -png -r 80 -f 1 -l 1 -singlefile '" + file + "' '" + png + "'");
  EXPECT_GT(std::filesystem::exists(png + ".png") ? std::filesystem::file_size(png + ".png") : 0,
            10000u);

  // The doctor's, asked with _format=pdf: what the doctor may see.
  auto theirs = As(doctor_, "GET", Url(p_) + "?_format=pdf");
  ASSERT_EQ(theirs.status, 200) << theirs.body.substr(0, 600);
  std::string doctor_text =
      Flat(Shell("pdftotext -enc UTF-8 '" + WriteFile("summary-doctor.pdf", theirs.body) + "' -"));
  EXPECT_NE(doctor_text.find("Adénocarcinome du pancréas"), std::string::npos) << doctor_text;
  EXPECT_EQ(doctor_text.find("Épisode dépressif"), std::string::npos) << doctor_text;
  EXPECT_NE(doctor_text.find("RPPS 810000000162"), std::string::npos) << "who asked" << doctor_text;
}

TEST_F(SummaryTest, ALongSectionGoesOnOverPages) {
  auto r = As(patient_l_, "GET", Url(l_), {"Accept: application/pdf"});
  ASSERT_EQ(r.status, 200) << r.body.substr(0, 600);
  std::string file = WriteFile("summary-long.pdf", r.body);
  std::string info = Shell("pdfinfo '" + file + "'");
  ASSERT_FALSE(Info(info, "Pages").empty()) << info;
  int pages = std::stoi(Info(info, "Pages"));
  ASSERT_GE(pages, 2) << info;
  std::map<std::string, int> found;  // each result on exactly one page
  std::string all;
  for (int page = 1; page <= pages; ++page) {
    std::string text = Flat(Shell("pdftotext -enc UTF-8 -f " + std::to_string(page) + " -l " +
                                  std::to_string(page) + " '" + file + "' -"));
    all += text;
    EXPECT_NE(text.find("Page " + std::to_string(page) + " / " + std::to_string(pages)),
              std::string::npos)
        << "page " << page << ":\n"
        << text;
    for (int i = 1; i <= kLongResults; ++i)
      if (text.find("Dosage sérique numéro " + std::to_string(i) + ",") != std::string::npos)
        ++found[std::to_string(i)];
    if (page > 1) {
      EXPECT_NE(text.find("Résultats d'examens (suite)"), std::string::npos) << text;
    }
  }
  EXPECT_EQ(found.size(), static_cast<size_t>(kLongResults));
  for (const auto& [n, count] : found) EXPECT_EQ(count, 1) << "result " << n << " on one page";
  // The long problem is wrapped within its column, whole.
  EXPECT_NE(all.find("terminus-wrapcheck"), std::string::npos);
  EXPECT_NE(all.find("Insuffisance cardiaque"), std::string::npos);
  std::string png = OutputDir() + "/summary-long-page1";
  Shell("pdftoppm -png -r 80 -f 1 -l 1 -singlefile '" + file + "' '" + png + "'");
  EXPECT_TRUE(std::filesystem::exists(png + ".png"));
}

TEST_F(SummaryTest, TheCapabilityStatementDeclaresIt) {
  auto r = As(patient_, "GET", "/fhir/metadata");
  ASSERT_EQ(r.status, 200);
  JsonValue cs = Parse(r.body);
  std::string definition;
  for (const JsonValue& res : cs.Find("rest")->items()[0].Find("resource")->items())
    if (res.GetString("type") == "Patient")
      for (const JsonValue& op : res.Find("operation")->items())
        if (op.GetString("name") == "summary") definition = op.GetString("definition");
  const std::string kPath = "/fhir/OperationDefinition/Patient-summary";
  ASSERT_GE(definition.size(), kPath.size()) << r.body.substr(0, 400);
  EXPECT_EQ(definition.substr(definition.size() - kPath.size()), kPath);
  // The definition resolves at its canonical URL.
  auto read = As(patient_, "GET", kPath);
  ASSERT_EQ(read.status, 200) << read.body;
  JsonValue od = Parse(read.body);
  EXPECT_EQ(od.GetString("url"), definition);
  EXPECT_EQ(od.GetString("base"), "http://hl7.org/fhir/uv/ips/OperationDefinition/summary");
  EXPECT_TRUE(od.Find("instance")->as_bool());
  EXPECT_EQ(od.Find("resource")->items()[0].text(), "Patient");
  // The CapabilityStatement itself still validates.
  auto v = As(operator_, "POST", "/fhir/CapabilityStatement/$validate", {kJson}, r.body);
  ASSERT_EQ(v.status, 200);
  EXPECT_EQ(v.body.find(R"("severity":"error")"), std::string::npos) << v.body.substr(0, 800);
}

}  // namespace
}  // namespace carnet::testing
