// Full-text search (_text, _content) against the live gateway and PostgreSQL (issue 15):
// French and English stemming, accents optional, phrases, or, exclusion, comma alternatives,
// combined with other parameters and paging, and always under the access filter. Record P
// holds five documents deposited by lab-1 (one masked by the patient, MASQUE_PS); record Q,
// outside the doctor's care, holds one whose words match too: neither may be found nor
// counted by the doctor.
#include <gtest/gtest.h>

#include <cstdlib>
#include <set>
#include <string>

#include "base/json.h"
#include "base/strings.h"
#include "storage/connection.h"
#include "tests/integration/harness.h"

namespace carnet::testing {
namespace {

const char* kJson = "Content-Type: application/fhir+json";
const char* kInsSystem = "urn:oid:1.2.250.1.213.1.4.10";
const char* kRpps = "urn:oid:1.2.250.1.71.4.2.1";

// A query string value, percent-encoded but for letters, digits and "-._,".
std::string Q(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (c < 0x80 && (isalnum(c) || c == '-' || c == '.' || c == '_' || c == ',')) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

class FulltextSearchTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    gateway_ = new GatewayProcess();
    ASSERT_TRUE(gateway_->WaitHealthy()) << gateway_->Log();
    run_ = RandomHex(4);
    long long base_ins = 100000000000LL + std::stoll(RandomHex(5), nullptr, 16) * 10;
    p_ = "ft-p-" + run_;
    q_ = "ft-q-" + run_;
    p_ins_ = "2" + std::to_string(base_ins + 1);
    q_ins_ = "2" + std::to_string(base_ins + 2);
    rpps_ = "8100" + std::to_string(10000000 + std::stoll(RandomHex(5), nullptr, 16) % 9000000);
    Build();
  }
  static void TearDownTestSuite() {
    delete gateway_;
    gateway_ = nullptr;
  }

  static std::string Operator() { return Token({"--actor", "operator", "--id", "ops-1"}); }
  static std::string Lab() {
    return Token({"--actor", "system", "--id", "lab-1", "--client-id", "lab-1", "--scope",
                  "system/*.cruds"});
  }
  static std::string PatientP() {
    return Token({"--actor", "patient", "--id", "pat-ft", "--patient", p_ins_});
  }
  static std::string Doctor() {
    return Token(
        {"--actor", "professional", "--id", rpps_, "--profession", "10", "--org", "org-ft"});
  }

  static HttpResult As(const std::string& token, const std::string& method, const std::string& path,
                       const std::string& body = "") {
    static HttpClient client;
    std::vector<std::string> headers = {Auth(token)};
    if (!body.empty()) headers.push_back(kJson);
    return client.Request(method, gateway_->base_url() + "/fhir/" + path, headers, body);
  }
  static void Must(const HttpResult& r, long status, const std::string& what) {
    ASSERT_EQ(r.status, status) << what << ": " << r.body.substr(0, 800);
  }

  static std::string Doc(const std::string& name) { return "ft-" + run_ + "-" + name; }

  // A document of `patient` whose text is `text`: inline, or in a Binary written before the
  // DocumentReference (FHIR deposit) or after it (the order of an XDS submission).
  enum class Content { kInline, kBinaryFirst, kBinaryAfter };
  static void Deposit(const std::string& patient, const std::string& name, const std::string& code,
                      const std::string& text, Content how, const std::string& narrative = "") {
    std::string id = Doc(name), bin = Doc(name) + "-bin";
    std::string binary =
        R"({"resourceType":"Binary","id":")" + bin +
        R"(","contentType":"text/plain","securityContext":{"reference":"DocumentReference/)" + id +
        R"("},"data":")" + Base64Encode(text) + R"("})";
    std::string attachment = R"("contentType":"text/plain",)" +
                             (how == Content::kInline ? R"("data":")" + Base64Encode(text) + R"(",)"
                                                      : R"("url":"Binary/)" + bin + R"(",)") +
                             R"("size":)" + std::to_string(text.size()) + R"(,"hash":")" +
                             Base64Sha1(text) + R"(","creation":"2026-11-01T10:00:00Z")";
    std::string dr =
        R"({"resourceType":"DocumentReference","id":")" + id + R"(",)" +
        (narrative.empty()
             ? ""
             : R"("text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">)" +
                   narrative + R"(</div>"},)") +
        R"("masterIdentifier":{"system":"urn:ietf:rfc:3986","value":"urn:oid:1.2.250.1.999.88.)" +
        std::to_string(std::stoll(RandomHex(6), nullptr, 16)) + R"("},
      "status":"current",
      "type":{"coding":[{"system":"http://loinc.org","code":")" +
        code + R"("}]},
      "category":[{"coding":[{"system":"urn:oid:1.2.250.1.213.1.1.4.1","code":"10"}]}],
      "subject":{"reference":"Patient/)" +
        patient + R"("},
      "author":[{"identifier":{"system":")" +
        kRpps + R"(","value":"810000000099"}}],
      "securityLabel":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":"N"}]}],
      "content":[{"attachment":{)" +
        attachment + R"(},
        "format":{"system":"urn:oid:1.2.250.1.213.1.1.4.2.282","code":"urn:ihe:iti:xds:2017:mimeTypeSufficient"}}]})";
    if (how == Content::kBinaryFirst) Must(As(Lab(), "PUT", "Binary/" + bin, binary), 201, name);
    Must(As(Lab(), "PUT", "DocumentReference/" + id, dr), 201, name);
    if (how == Content::kBinaryAfter) Must(As(Lab(), "PUT", "Binary/" + bin, binary), 201, name);
  }

  static void Build() {
    for (auto [id, ins, narrative] :
         {std::tuple<std::string, std::string, std::string>{
              p_, p_ins_, "Patiente suivie pour insuffisance cardiaque"},
          {q_, q_ins_, "Patient suivi pour insuffisance cardiaque"}})
      Must(
          As(Operator(), "PUT", "Patient/" + id,
             R"({"resourceType":"Patient","id":")" + id +
                 R"(","text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">)" +
                 narrative + R"(</div>"},"identifier":[{"system":")" + kInsSystem +
                 R"(","value":")" + ins + R"("}],"birthDate":"1960-04-01"})"),
          201, "record " + id);
    // The doctor is in P's care team, not in Q's.
    Must(As(PatientP(), "POST", "CareTeam",
            R"({"resourceType":"CareTeam","status":"active","subject":{"reference":"Patient/)" +
                p_ + R"("},"participant":[{"member":{"identifier":{"system":")" + kRpps +
                R"(","value":")" + rpps_ + R"("}}}]})"),
         201, "care team of P");
    Deposit(p_, "cardio", "11502-2",
            "Compte rendu : douleur thoracique aiguë, électrocardiogramme normal.",
            Content::kBinaryFirst, "<p>Consultation de <b>cardiologie</b> &amp; suivi</p>");
    Deposit(p_, "chest", "11490-0", "Chest pain at rest, troponin negative.",
            Content::kBinaryAfter);
    Deposit(p_, "wrist", "11490-0", "Fracture du poignet gauche, plâtre pour six semaines.",
            Content::kInline);
    Deposit(p_, "abdo", "11490-0", "Douleurs abdominales depuis trois jours.", Content::kInline);
    Deposit(p_, "masked", "11502-2", "Douleurs thoraciques, document masqué aux professionnels.",
            Content::kBinaryFirst);
    Must(
        As(PatientP(), "POST", "DocumentReference/" + Doc("masked") + "/$meta-add",
           R"({"resourceType":"Parameters","parameter":[{"name":"meta","valueMeta":{"security":[{"system":"urn:oid:1.2.250.1.213.1.1.4.13","code":"MASQUE_PS"}]}}]})"),
        200, "mask");
    // Bytes PostgreSQL cannot take as text (invalid UTF-8, NUL, a reference to a surrogate)
    // leave the document's other words searchable.
    Deposit(p_, "bytes", "11490-0",
            std::string("<p>Br\xc3\xbblure &#xD800; \xff\xfe") + std::string(1, '\0') +
                " cutan&#xE9;e &amp; ampoule</p>",
            Content::kInline);
    Deposit(q_, "other", "11502-2", "Douleur thoracique chez un autre patient.",
            Content::kBinaryFirst);
  }

  // The ids (without the run prefix) the search returns as matches, and its total.
  static std::set<std::string> Found(const std::string& token, const std::string& query,
                                     long long* total = nullptr) {
    auto r = As(token, "GET", query);
    EXPECT_EQ(r.status, 200) << query << ": " << r.body.substr(0, 500);
    std::set<std::string> out;
    auto json = ParseJson(r.body);
    if (!json.ok()) return out;
    if (total) *total = json->Find("total") ? std::stoll(json->Find("total")->text()) : -1;
    std::string prefix = "ft-" + run_ + "-";
    if (const JsonValue* entries = json->Find("entry"))
      for (const auto& e : entries->items()) {
        const JsonValue* s = e.Find("search");
        if (!s || s->GetString("mode") != "match") continue;
        std::string id = e.Find("resource")->GetString("id");
        out.insert(id.rfind(prefix, 0) == 0 ? id.substr(prefix.size()) : id);
      }
    return out;
  }
  static long long Count(const std::string& token, const std::string& query) {
    long long total = -1;
    Found(token, query + "&_summary=count", &total);
    return total;
  }
  // A professional's search names the record it is about.
  static std::string InP() { return "patient=" + p_; }
  static std::string Docs(const std::string& value) {
    return "DocumentReference?" + InP() + "&_content=" + Q(value);
  }

  static GatewayProcess* gateway_;
  static std::string run_, p_, q_, p_ins_, q_ins_, rpps_;
};

GatewayProcess* FulltextSearchTest::gateway_ = nullptr;
std::string FulltextSearchTest::run_, FulltextSearchTest::p_, FulltextSearchTest::q_,
    FulltextSearchTest::p_ins_, FulltextSearchTest::q_ins_, FulltextSearchTest::rpps_;

using Ids = std::set<std::string>;

TEST_F(FulltextSearchTest, FrenchWordsAreStemmedAndAccentsOptional) {
  // "douleurs thoraciques" finds "douleur thoracique"; the masked document and Q's are not
  // the doctor's to find, nor to count.
  EXPECT_EQ(Found(Doctor(), Docs("douleurs thoraciques")), Ids({"cardio"}));
  EXPECT_EQ(Count(Doctor(), Docs("douleurs thoraciques")), 1);
  // The patient finds her masked document too, and searching every record she may see,
  // never Q's; the laboratory that deposited them all finds Q's as well.
  EXPECT_EQ(Found(PatientP(), Docs("douleurs thoraciques")), Ids({"cardio", "masked"}));
  EXPECT_EQ(Count(PatientP(), Docs("douleurs thoraciques")), 2);
  std::string anywhere = "DocumentReference?_content=" + Q("douleurs thoraciques");
  EXPECT_EQ(Found(PatientP(), anywhere), Ids({"cardio", "masked"}));
  EXPECT_EQ(Count(PatientP(), anywhere), 2);
  EXPECT_EQ(
      Found(Lab(), anywhere + "&_id=" + Doc("cardio") + "," + Doc("masked") + "," + Doc("other")),
      Ids({"cardio", "masked", "other"}));
  // Q's record, outside the doctor's care: nothing found, nothing counted.
  auto q = As(Doctor(), "GET",
              "DocumentReference?patient=" + q_ + "&_content=" + Q("douleur thoracique"));
  EXPECT_EQ(q.body.find(Doc("other")), std::string::npos) << q.body;
  EXPECT_TRUE(q.status != 200 || ParseJson(q.body)->Find("total")->text() == "0") << q.body;
  // Without accents, and with them.
  EXPECT_EQ(Found(Doctor(), Docs("electrocardiogramme")), Ids({"cardio"}));
  EXPECT_EQ(Found(Doctor(), Docs("électrocardiogrammes")), Ids({"cardio"}));
  EXPECT_EQ(Found(Doctor(), Docs("platre")), Ids({"wrist"}));
  // A word no document holds.
  EXPECT_EQ(Found(Doctor(), Docs("diabète")), Ids());
}

TEST_F(FulltextSearchTest, MarkupAndBadBytesInADocument) {
  EXPECT_EQ(Found(Doctor(), Docs("brûlure cutanée")), Ids({"bytes"}));
  EXPECT_EQ(Found(Doctor(), Docs("ampoules")), Ids({"bytes"}));
}

TEST_F(FulltextSearchTest, EnglishWordsAreStemmed) {
  // Written before its Binary (the XDS order): the document's words are still searchable.
  EXPECT_EQ(Found(Doctor(), Docs("chest pains")), Ids({"chest"}));
  EXPECT_EQ(Found(Doctor(), Docs("troponins")), Ids({"chest"}));
}

TEST_F(FulltextSearchTest, PhrasesOrAndExclusion) {
  EXPECT_EQ(Found(Doctor(), Docs("\"douleur thoracique\"")), Ids({"cardio"}));
  EXPECT_EQ(Found(Doctor(), Docs("\"thoracique douleur\"")), Ids());
  EXPECT_EQ(Found(Doctor(), Docs("poignet or chest")), Ids({"wrist", "chest"}));
  EXPECT_EQ(Found(Doctor(), Docs("poignet,chest")), Ids({"wrist", "chest"}));  // alternatives
  EXPECT_EQ(Found(Doctor(), Docs("douleur")), Ids({"cardio", "abdo"}));
  EXPECT_EQ(Found(Doctor(), Docs("douleur -thoracique")), Ids({"abdo"}));
  // Every repeated parameter must match.
  EXPECT_EQ(Found(Doctor(), Docs("douleur") + "&_content=" + Q("jours")), Ids({"abdo"}));
}

TEST_F(FulltextSearchTest, TextIsTheNarrative) {
  EXPECT_EQ(Found(Doctor(), "DocumentReference?" + InP() + "&_text=cardiologie"), Ids({"cardio"}));
  EXPECT_EQ(Found(Doctor(), "DocumentReference?" + InP() + "&_text=" + Q("cardiologie suivi")),
            Ids({"cardio"}));
  // The narrative is part of the content; the document is not part of the narrative.
  EXPECT_EQ(Found(Doctor(), Docs("cardiologie")), Ids({"cardio"}));
  EXPECT_EQ(Found(Doctor(), "DocumentReference?" + InP() + "&_text=troponin"), Ids());
  // Any type: the doctor finds P by her narrative.
  EXPECT_EQ(Found(Doctor(), "Patient?_id=" + p_ + "&_text=" + Q("insuffisance cardiaque")),
            Ids({p_}));
  EXPECT_EQ(Found(Doctor(), "Patient?_id=" + p_ + "&_text=" + Q("diabète")), Ids());
  EXPECT_EQ(
      Found(Operator(), "Patient?_text=" + Q("insuffisance cardiaque") + "&_id=" + p_ + "," + q_),
      Ids({p_, q_}));
}

TEST_F(FulltextSearchTest, CombinedWithOtherParametersAndPaging) {
  EXPECT_EQ(Found(Doctor(), Docs("douleur") + "&type=http://loinc.org|11502-2"), Ids({"cardio"}));
  EXPECT_EQ(Found(Doctor(), Docs("douleur") + "&subject=Patient/" + p_), Ids({"cardio", "abdo"}));
  long long total = -1;
  auto page = Found(Doctor(), Docs("douleur") + "&_count=1&_total=accurate", &total);
  EXPECT_EQ(page.size(), 1u);
  EXPECT_EQ(total, 2);
}

TEST_F(FulltextSearchTest, ReindexFillsTheTextIndex) {
  auto conn = storage::Connection::Open(TestDbConninfo());
  ASSERT_TRUE(conn.ok()) << conn.status().ToString();
  ASSERT_TRUE((*conn)
                  ->RunDynamic("DELETE FROM idx_text WHERE res_id LIKE $1",
                               {storage::SqlParam::Text("ft-" + run_ + "-%")})
                  .ok());
  EXPECT_EQ(Found(Doctor(), Docs("douleur")), Ids());
  std::string cmd = std::string(CARNET_GATEWAY_BINARY) +
                    " reindex --type DocumentReference --db '" + TestDbConninfo() +
                    "' > /dev/null 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  EXPECT_EQ(Found(Doctor(), Docs("douleur")), Ids({"cardio", "abdo"}));
  EXPECT_EQ(Found(Doctor(), Docs("chest pains")), Ids({"chest"}));
}

}  // namespace
}  // namespace carnet::testing
