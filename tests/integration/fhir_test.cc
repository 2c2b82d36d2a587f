// The FHIR REST API against the live gateway and PostgreSQL: CRUD, versions, preconditions,
// formats, history, Bundles, operations and every error status.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <set>
#include <sstream>

#include "base/json.h"
#include "base/strings.h"
#include "fhir/xml_format.h"
#include "model/structure.h"
#include "profiles/shared_content.h"
#include "tests/integration/harness.h"

namespace carnet::testing {
namespace {

const char* kJson = "Content-Type: application/fhir+json";
const char* kXml = "Content-Type: application/fhir+xml";

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The resource without the server-managed meta fields.
JsonValue WithoutServerMeta(JsonValue r) {
  if (JsonValue* meta = r.Find("meta")) {
    meta->Remove("versionId");
    meta->Remove("lastUpdated");
    // meta.source names the depositor: carnet sets it (profiles/access.h), never the client.
    meta->Remove("source");
    if (meta->members().empty()) r.Remove("meta");
  }
  return r;
}

class FhirTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    gateway_ = new GatewayProcess();
    ASSERT_TRUE(gateway_->WaitHealthy()) << gateway_->Log();
  }
  static void TearDownTestSuite() {
    delete gateway_;
    gateway_ = nullptr;
  }
  std::string Url(const std::string& path) { return gateway_->base_url() + "/fhir/" + path; }
  HttpResult Post(const std::string& path, const std::string& body,
                  std::vector<std::string> headers = {kJson}) {
    return client_.Request("POST", Url(path), headers, body);
  }
  HttpResult Put(const std::string& path, const std::string& body,
                 std::vector<std::string> headers = {kJson}) {
    return client_.Request("PUT", Url(path), headers, body);
  }
  HttpResult Get(const std::string& path, std::vector<std::string> headers = {}) {
    return client_.Request("GET", Url(path), headers);
  }
  HttpResult Delete(const std::string& path, std::vector<std::string> headers = {}) {
    return client_.Request("DELETE", Url(path), headers);
  }
  // A unique patient id per test, created with a minimal body.
  std::string NewPatient(const std::string& hint = "p") {
    std::string id = hint + "-" + RandomHex(6);
    auto r = Put("Patient/" + id, R"({"resourceType":"Patient","id":")" + id +
                                      R"(","name":[{"family":"Durand","given":["Marie"]}]})");
    EXPECT_EQ(r.status, 201) << r.body;
    return id;
  }
  static std::string IssueCode(const JsonValue& oo) {
    const JsonValue* issues = oo.Find("issue");
    return issues && !issues->items().empty() ? issues->items()[0].GetString("code") : "";
  }

  static GatewayProcess* gateway_;
  HttpClient client_;
};
GatewayProcess* FhirTest::gateway_ = nullptr;

TEST_F(FhirTest, CreateReadUpdateVersionsDelete) {
  auto created = Post("Patient", R"({"resourceType":"Patient","id":"ignored","active":true,
      "name":[{"family":"Martin","given":["Léa"]}],"birthDate":"1990-02-03"})");
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(created.headers["etag"], "W/\"1\"");
  std::string location = created.headers["location"];
  ASSERT_NE(location.find("/fhir/Patient/"), std::string::npos);
  ASSERT_NE(location.find("/_history/1"), std::string::npos);
  JsonValue body = Parse(created.body);
  std::string id = body.GetString("id");
  EXPECT_NE(id, "ignored");  // the server assigns ids on create
  EXPECT_EQ(body.Find("meta")->GetString("versionId"), "1");
  EXPECT_FALSE(created.headers["last-modified"].empty());

  auto read = Get("Patient/" + id);
  ASSERT_EQ(read.status, 200);
  EXPECT_EQ(read.headers["etag"], "W/\"1\"");
  EXPECT_NE(read.headers["content-type"].find("application/fhir+json"), std::string::npos);
  JsonValue got = Parse(read.body);
  EXPECT_EQ(got.Find("name")->items()[0].Find("given")->items()[0].text(), "Léa");

  // Versioned update.
  JsonValue v2 = got;
  v2.Set("birthDate", JsonValue::String("1990-02-04"));
  auto updated = Put("Patient/" + id, WriteJson(v2), {kJson, "If-Match: W/\"1\""});
  ASSERT_EQ(updated.status, 200) << updated.body;
  EXPECT_EQ(updated.headers["etag"], "W/\"2\"");
  // A stale version is refused.
  auto stale = Put("Patient/" + id, WriteJson(v2), {kJson, "If-Match: W/\"1\""});
  EXPECT_EQ(stale.status, 412) << stale.body;
  EXPECT_EQ(Parse(stale.body).GetString("resourceType"), "OperationOutcome");

  auto v1 = Get("Patient/" + id + "/_history/1");
  ASSERT_EQ(v1.status, 200);
  EXPECT_EQ(Parse(v1.body).GetString("birthDate"), "1990-02-03");
  EXPECT_EQ(Get("Patient/" + id + "/_history/9").status, 404);

  // Conditional reads.
  EXPECT_EQ(Get("Patient/" + id, {"If-None-Match: W/\"2\""}).status, 304);
  EXPECT_EQ(Get("Patient/" + id, {"If-None-Match: W/\"1\""}).status, 200);
  EXPECT_EQ(Get("Patient/" + id, {"If-Modified-Since: " + HttpDateFromInstant("2099-01-01T00:00:00Z")}).status, 304);
  EXPECT_EQ(Get("Patient/" + id, {"If-Modified-Since: " + HttpDateFromInstant("2001-01-01T00:00:00Z")}).status, 200);

  auto deleted = Delete("Patient/" + id);
  EXPECT_EQ(deleted.status, 204);
  auto gone = Get("Patient/" + id);
  EXPECT_EQ(gone.status, 410);
  EXPECT_EQ(IssueCode(Parse(gone.body)), "deleted");
  EXPECT_EQ(Delete("Patient/" + id).status, 204);  // idempotent

  auto history = Get("Patient/" + id + "/_history");
  ASSERT_EQ(history.status, 200);
  JsonValue h = Parse(history.body);
  EXPECT_EQ(h.GetString("type"), "history");
  ASSERT_EQ(h.Find("entry")->items().size(), 3u);
  EXPECT_EQ(h.Find("entry")->items()[0].Find("request")->GetString("method"), "DELETE");
  EXPECT_EQ(h.Find("entry")->items()[2].Find("request")->GetString("method"), "POST");
  EXPECT_EQ(h.Find("entry")->items()[0].Find("resource"), nullptr);

  // Re-created after deletion by update.
  JsonValue again = got;
  auto recreated = Put("Patient/" + id, WriteJson(again));
  EXPECT_EQ(recreated.status, 201) << recreated.body;
  EXPECT_EQ(recreated.headers["etag"], "W/\"4\"");
}

TEST_F(FhirTest, PreferHeader) {
  std::string body = R"({"resourceType":"Patient","active":true})";
  auto minimal = Post("Patient", body, {kJson, "Prefer: return=minimal"});
  EXPECT_EQ(minimal.status, 201);
  EXPECT_TRUE(minimal.body.empty());
  EXPECT_FALSE(minimal.headers["location"].empty());
  auto outcome = Post("Patient", body, {kJson, "Prefer: return=OperationOutcome"});
  EXPECT_EQ(outcome.status, 201);
  EXPECT_EQ(Parse(outcome.body).GetString("resourceType"), "OperationOutcome");
}

TEST_F(FhirTest, XmlInAndOut) {
  std::string xml =
      R"(<Patient xmlns="http://hl7.org/fhir"><active value="true"/><name><family value="Bernard"/>)"
      R"(<given value="Paul"/></name><birthDate value="1970-01-01"/></Patient>)";
  auto created = Post("Patient", xml, {kXml, "Accept: application/fhir+xml"});
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_NE(created.headers["content-type"].find("application/fhir+xml"), std::string::npos);
  EXPECT_NE(created.body.find("<family value=\"Bernard\"/>"), std::string::npos) << created.body;
  std::string loc = created.headers["location"];
  std::string id = loc.substr(loc.find("Patient/") + 8);
  id = id.substr(0, id.find('/'));
  auto as_json = Get("Patient/" + id);
  EXPECT_EQ(Parse(as_json.body).Find("name")->items()[0].GetString("family"), "Bernard");
  auto as_xml = Get("Patient/" + id + "?_format=xml");
  EXPECT_NE(as_xml.body.find("<Patient xmlns=\"http://hl7.org/fhir\">"), std::string::npos) << as_xml.body;
  auto pretty = Get("Patient/" + id + "?_pretty=true");
  EXPECT_NE(pretty.body.find("\n  \"resourceType\""), std::string::npos);
}

TEST_F(FhirTest, ErrorStatuses) {
  // 400: unparsable body, resourceType differing from the URL, id mismatch on update.
  EXPECT_EQ(Post("Patient", "{not json").status, 400);
  auto wrong_type = Post("Patient", R"({"resourceType":"Observation","status":"final","code":{"text":"x"}})");
  EXPECT_EQ(wrong_type.status, 400);
  EXPECT_EQ(Parse(wrong_type.body).GetString("resourceType"), "OperationOutcome");
  EXPECT_EQ(Put("Patient/abc", R"({"resourceType":"Patient","id":"xyz"})").status, 400);
  EXPECT_EQ(Put("Patient/abc", R"({"resourceType":"Patient"})").status, 400);
  EXPECT_EQ(Post("Patient", R"({"resourceType":"Patient","a":1,"a":2})").status, 400);
  // 404: unknown type, unserved type, unknown id.
  EXPECT_EQ(Get("Spaceship/1").status, 404);
  EXPECT_EQ(Get("ResearchStudy/1").status, 404);
  EXPECT_EQ(Get("Patient/does-not-exist").status, 404);
  // 405: wrong method on a known endpoint; AuditEvent is read-only.
  auto m = client_.Request("DELETE", Url("metadata"));
  EXPECT_EQ(m.status, 405);
  EXPECT_EQ(Post("AuditEvent", ReadFile(std::string(CARNET_SOURCE_DIR) +
                                        "/../shared/testdata/fhir/r4-examples/auditevent-example.json"))
                .status,
            405);
  // 406 and 415.
  EXPECT_EQ(Get("Patient/x", {"Accept: text/html"}).status, 406);
  EXPECT_EQ(Get("metadata?_format=text/csv").status, 406);
  EXPECT_EQ(Post("Patient", "name=x", {"Content-Type: application/x-www-form-urlencoded"}).status, 415);
  // 422: invalid content, with the path of the problem.
  auto invalid = Post("Patient", R"({"resourceType":"Patient","birthDate":"not-a-date","gender":"robot","foo":1})");
  ASSERT_EQ(invalid.status, 422) << invalid.body;
  JsonValue oo = Parse(invalid.body);
  EXPECT_EQ(oo.GetString("resourceType"), "OperationOutcome");
  EXPECT_GE(oo.Find("issue")->items().size(), 3u);
  std::string all = invalid.body;
  EXPECT_NE(all.find("Patient.birthDate"), std::string::npos) << all;
  EXPECT_NE(all.find("Patient.gender"), std::string::npos) << all;
  // 409: a version written concurrently (tested in ConcurrentIfMatch); 410 in CRUD test.
}

TEST_F(FhirTest, CompartmentAndEverything) {
  std::string pid = NewPatient();
  // A reference to an unknown record is refused.
  auto orphan = Post("Observation", R"({"resourceType":"Observation","status":"final",
      "code":{"text":"weight"},"subject":{"reference":"Patient/nobody-here"}})");
  EXPECT_EQ(orphan.status, 422) << orphan.body;
  for (int i = 0; i < 3; ++i) {
    auto obs = Post("Observation", R"({"resourceType":"Observation","status":"final",
        "code":{"coding":[{"system":"http://loinc.org","code":"29463-7"}]},
        "subject":{"reference":"Patient/)" + pid + R"("},
        "valueQuantity":{"value":72.50,"unit":"kg","system":"http://unitsofmeasure.org","code":"kg"}})");
    ASSERT_EQ(obs.status, 201) << obs.body;
    EXPECT_NE(obs.body.find("72.50"), std::string::npos);  // decimals kept as written
  }
  auto all = Get("Patient/" + pid + "/$everything?_count=2");
  ASSERT_EQ(all.status, 200) << all.body;
  JsonValue page1 = Parse(all.body);
  EXPECT_EQ(page1.GetString("type"), "searchset");
  ASSERT_EQ(page1.Find("entry")->items().size(), 2u);
  std::string next;
  for (const auto& l : page1.Find("link")->items())
    if (l.GetString("relation") == "next") next = l.GetString("url");
  ASSERT_FALSE(next.empty());
  auto page2 = client_.Get(next);
  ASSERT_EQ(page2.status, 200);
  JsonValue p2 = Parse(page2.body);
  ASSERT_EQ(p2.Find("entry")->items().size(), 2u);  // 4 in all: the patient and 3 observations
  std::set<std::string> types;
  for (const JsonValue* p : {&page1, &p2})
    for (const auto& e : p->Find("entry")->items()) types.insert(e.Find("resource")->GetString("resourceType"));
  EXPECT_EQ(types, (std::set<std::string>{"Observation", "Patient"}));
}

TEST_F(FhirTest, JsonPatch) {
  std::string pid = NewPatient();
  auto patched = client_.Request("PATCH", Url("Patient/" + pid),
                                 {"Content-Type: application/json-patch+json", "If-Match: W/\"1\""},
                                 R"([{"op":"replace","path":"/name/0/family","value":"Petit"},
                                     {"op":"add","path":"/gender","value":"female"}])");
  ASSERT_EQ(patched.status, 200) << patched.body;
  JsonValue p = Parse(patched.body);
  EXPECT_EQ(p.Find("name")->items()[0].GetString("family"), "Petit");
  EXPECT_EQ(p.GetString("gender"), "female");
  EXPECT_EQ(patched.headers["etag"], "W/\"2\"");
  // A patch producing an invalid resource changes nothing.
  auto bad = client_.Request("PATCH", Url("Patient/" + pid), {"Content-Type: application/json-patch+json"},
                             R"([{"op":"replace","path":"/gender","value":"robot"}])");
  EXPECT_EQ(bad.status, 422) << bad.body;
  auto failing_test = client_.Request("PATCH", Url("Patient/" + pid), {"Content-Type: application/json-patch+json"},
                                      R"([{"op":"test","path":"/gender","value":"male"}])");
  EXPECT_EQ(failing_test.status, 422) << failing_test.body;
  EXPECT_EQ(Get("Patient/" + pid).headers["etag"], "W/\"2\"");
}

TEST_F(FhirTest, TransactionResolvesPlaceholdersAtomically) {
  std::string bundle = R"({"resourceType":"Bundle","type":"transaction","entry":[
    {"fullUrl":"urn:uuid:61ebe359-bfdc-4613-8bf2-c5e300945f0a",
     "resource":{"resourceType":"Observation","status":"final","code":{"text":"glycemia"},
                 "subject":{"reference":"urn:uuid:88f151c0-a954-468a-88bd-5ae15c08e059"}},
     "request":{"method":"POST","url":"Observation"}},
    {"fullUrl":"urn:uuid:88f151c0-a954-468a-88bd-5ae15c08e059",
     "resource":{"resourceType":"Patient","name":[{"family":"Roux"}]},
     "request":{"method":"POST","url":"Patient"}}]})";
  auto r = Post("", bundle);
  ASSERT_EQ(r.status, 200) << r.body;
  JsonValue resp = Parse(r.body);
  EXPECT_EQ(resp.GetString("type"), "transaction-response");
  auto& entries = resp.Find("entry")->items();
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].Find("response")->GetString("status"), "201 Created");
  std::string obs_loc = entries[0].Find("response")->GetString("location");
  std::string pat_loc = entries[1].Find("response")->GetString("location");
  std::string pat_ref = pat_loc.substr(0, pat_loc.find("/_history"));
  auto obs = Get(obs_loc.substr(0, obs_loc.find("/_history")));
  ASSERT_EQ(obs.status, 200);
  EXPECT_EQ(Parse(obs.body).Find("subject")->GetString("reference"), pat_ref);

  // The last entry is invalid: nothing of the transaction remains.
  std::string a = "tx-" + RandomHex(5), b = "tx-" + RandomHex(5);
  std::string failing = R"({"resourceType":"Bundle","type":"transaction","entry":[
    {"resource":{"resourceType":"Patient","id":")" + a + R"("},"request":{"method":"PUT","url":"Patient/)" + a + R"("}},
    {"resource":{"resourceType":"Patient","id":")" + b + R"(","birthDate":"yesterday"},
     "request":{"method":"PUT","url":"Patient/)" + b + R"("}}]})";
  auto f = Post("", failing);
  EXPECT_EQ(f.status, 422) << f.body;
  EXPECT_NE(f.body.find("Bundle.entry[1]"), std::string::npos) << f.body;
  EXPECT_EQ(Get("Patient/" + a).status, 404);
  EXPECT_EQ(Get("Patient/" + b).status, 404);
}

TEST_F(FhirTest, BatchEntriesFailIndependently) {
  std::string pid = NewPatient();
  std::string bundle = R"({"resourceType":"Bundle","type":"batch","entry":[
    {"resource":{"resourceType":"Patient","active":true},"request":{"method":"POST","url":"Patient"}},
    {"resource":{"resourceType":"Patient","gender":"robot"},"request":{"method":"POST","url":"Patient"}},
    {"request":{"method":"GET","url":"Patient/)" + pid + R"("}},
    {"request":{"method":"GET","url":"Patient/unknown-one"}}]})";
  auto r = Post("", bundle);
  ASSERT_EQ(r.status, 200) << r.body;
  JsonValue response = Parse(r.body);
  auto& e = response.Find("entry")->items();
  ASSERT_EQ(e.size(), 4u);
  EXPECT_EQ(e[0].Find("response")->GetString("status"), "201 Created");
  EXPECT_EQ(e[1].Find("response")->GetString("status"), "422 Unprocessable Entity");
  EXPECT_NE(e[1].Find("response")->Find("outcome"), nullptr);
  EXPECT_EQ(e[2].Find("response")->GetString("status"), "200 OK");
  EXPECT_EQ(e[2].Find("resource")->GetString("id"), pid);
  EXPECT_EQ(e[3].Find("response")->GetString("status"), "404 Not Found");
  EXPECT_EQ(Post("", R"({"resourceType":"Bundle","type":"collection"})").status, 400);
}

// Two clients update the same version at once: exactly one wins, the other gets 412.
TEST_F(FhirTest, ConcurrentIfMatch) {
  for (int round = 0; round < 5; ++round) {
    std::string pid = NewPatient("race");
    std::string body = R"({"resourceType":"Patient","id":")" + pid + R"(","active":true})";
    auto go = [&] {
      HttpClient c;
      return c.Request("PUT", Url("Patient/" + pid), {kJson, "If-Match: W/\"1\""}, body).status;
    };
    auto f1 = std::async(std::launch::async, go);
    auto f2 = std::async(std::launch::async, go);
    std::multiset<long> got = {f1.get(), f2.get()};
    EXPECT_EQ(got, (std::multiset<long>{200, 412})) << "round " << round;
    EXPECT_EQ(Get("Patient/" + pid).headers["etag"], "W/\"2\"");
  }
}

TEST_F(FhirTest, HistoryPagingAndSystemHistory) {
  std::string pid = NewPatient();
  for (int i = 0; i < 4; ++i) {
    auto r = Put("Patient/" + pid, R"({"resourceType":"Patient","id":")" + pid +
                                       R"(","birthDate":"200)" + std::to_string(i) + R"(-01-01"})");
    ASSERT_EQ(r.status, 200);
  }
  std::vector<std::string> versions;
  std::string url = Url("Patient/" + pid + "/_history?_count=2");
  for (int guard = 0; guard < 10 && !url.empty(); ++guard) {
    auto page = client_.Get(url);
    ASSERT_EQ(page.status, 200) << page.body;
    JsonValue b = Parse(page.body);
    for (const auto& e : b.Find("entry")->items())
      versions.push_back(e.Find("resource")->Find("meta")->GetString("versionId"));
    url.clear();
    for (const auto& l : b.Find("link")->items())
      if (l.GetString("relation") == "next") url = l.GetString("url");
  }
  EXPECT_EQ(versions, (std::vector<std::string>{"5", "4", "3", "2", "1"}));
  auto type_history = Get("Patient/_history?_count=3");
  ASSERT_EQ(type_history.status, 200);
  EXPECT_EQ(Parse(type_history.body).Find("entry")->items().size(), 3u);
  auto sys = Get("_history?_count=1&_since=2000-01-01T00:00:00Z");
  ASSERT_EQ(sys.status, 200);
  EXPECT_EQ(Parse(sys.body).Find("entry")->items().size(), 1u);
  EXPECT_EQ(Get("_history?_since=yesterday").status, 400);
}

TEST_F(FhirTest, ValidateOperation) {
  auto ok = Post("Patient/$validate", R"({"resourceType":"Patient","active":true})");
  ASSERT_EQ(ok.status, 200) << ok.body;
  // Valid: no error (the warning dom-6, no narrative, is reported: tests/integration/
  // invariants_test.cc).
  for (const JsonValue& i : Parse(ok.body).Find("issue")->items())
    EXPECT_NE(i.GetString("severity"), "error") << ok.body;
  auto bad = Post("Patient/$validate", R"({"resourceType":"Patient","active":"yes"})");
  ASSERT_EQ(bad.status, 200);
  EXPECT_EQ(Parse(bad.body).Find("issue")->items()[0].GetString("severity"), "error");
  EXPECT_NE(bad.body.find("Patient.active"), std::string::npos);
}

TEST_F(FhirTest, CapabilityStatementFollowsTheRoutes) {
  auto r = Get("metadata");
  ASSERT_EQ(r.status, 200);
  JsonValue cs = Parse(r.body);
  EXPECT_EQ(cs.GetString("fhirVersion"), "4.0.1");
  std::set<std::string> types;
  for (const auto& res : cs.Find("rest")->items()[0].Find("resource")->items())
    types.insert(res.GetString("type"));
  for (const char* t : {"Patient", "DocumentReference", "Binary", "AuditEvent", "Subscription"})
    EXPECT_TRUE(types.count(t)) << t;
  auto xml = Get("metadata", {"Accept: application/fhir+xml"});
  EXPECT_NE(xml.body.find("<CapabilityStatement"), std::string::npos);
}

TEST_F(FhirTest, ConditionalCreateUpdateDelete) {
  std::string ins = "2" + std::to_string(100000000000LL + std::stoll(RandomHex(5), nullptr, 16));
  std::string ident = "urn:oid:1.2.250.1.213.1.4.10|" + ins;
  std::string body = R"({"resourceType":"Patient","identifier":[{"system":"urn:oid:1.2.250.1.213.1.4.10","value":")" +
                     ins + R"("}],"name":[{"family":"Garnier"}]})";
  auto first = Post("Patient", body, {kJson, "If-None-Exist: identifier=" + ident});
  ASSERT_EQ(first.status, 201) << first.body;
  std::string id = Parse(first.body).GetString("id");
  auto second = Post("Patient", body, {kJson, "If-None-Exist: identifier=" + ident});
  ASSERT_EQ(second.status, 200) << second.body;
  EXPECT_EQ(Parse(second.body).GetString("id"), id);

  // Conditional update: one match -> updated in place.
  auto upd = Put("Patient?identifier=" + ident,
                 R"({"resourceType":"Patient","identifier":[{"system":"urn:oid:1.2.250.1.213.1.4.10","value":")" +
                     ins + R"("}],"gender":"female"})");
  ASSERT_EQ(upd.status, 200) << upd.body;
  EXPECT_EQ(Parse(upd.body).GetString("id"), id);
  EXPECT_EQ(upd.headers["etag"], "W/\"2\"");
  // No match -> created.
  std::string other = "urn:oid:1.2.250.1.213.1.4.10|9" + RandomHex(5);
  auto created = Put("Patient?identifier=" + other, R"({"resourceType":"Patient","active":true})");
  EXPECT_EQ(created.status, 201) << created.body;

  // A conditional reference in a transaction resolves to the one match.
  std::string tx = R"({"resourceType":"Bundle","type":"transaction","entry":[
    {"resource":{"resourceType":"Observation","status":"final","code":{"text":"height"},
                 "subject":{"reference":"Patient?identifier=)" + ident + R"("}},
     "request":{"method":"POST","url":"Observation"}}]})";
  auto t = Post("", tx);
  ASSERT_EQ(t.status, 200) << t.body;
  std::string loc = Parse(t.body).Find("entry")->items()[0].Find("response")->GetString("location");
  auto obs = Get(loc.substr(0, loc.find("/_history")));
  EXPECT_EQ(Parse(obs.body).Find("subject")->GetString("reference"), "Patient/" + id);

  // Several matches -> 412; conditional delete of one match.
  auto dup = Post("Patient", R"({"resourceType":"Patient","name":[{"family":"Homonyme-)" + ins + R"("}]})");
  ASSERT_EQ(dup.status, 201);
  auto dup2 = Post("Patient", R"({"resourceType":"Patient","name":[{"family":"Homonyme-)" + ins + R"("}]})");
  ASSERT_EQ(dup2.status, 201);
  EXPECT_EQ(Post("Patient", body, {kJson, "If-None-Exist: family=Homonyme-" + ins}).status, 412);
  EXPECT_EQ(Delete("Patient?family=Homonyme-" + ins).status, 412);
  EXPECT_EQ(Delete("Patient?identifier=" + other).status, 204);
  EXPECT_EQ(Put("Patient?identifier=" + other, R"({"resourceType":"Patient"})").status, 201);
}

// Concurrent PUTs of one new id: the first creates it, the others update it in turn.
TEST_F(FhirTest, ConcurrentCreateOnUpdate) {
  std::string id = "new-" + RandomHex(6);
  std::string body = R"({"resourceType":"Patient","id":")" + id + R"(","active":true})";
  std::vector<std::future<long>> calls;
  for (int i = 0; i < 6; ++i)
    calls.push_back(std::async(std::launch::async, [&] {
      HttpClient c;
      return c.Request("PUT", Url("Patient/" + id), {kJson}, body).status;
    }));
  std::multiset<long> got;
  for (auto& f : calls) got.insert(f.get());
  EXPECT_EQ(got.count(201), 1u);
  EXPECT_EQ(got.count(200), 5u);
  EXPECT_EQ(Get("Patient/" + id).headers["etag"], "W/\"6\"");
}

// 409: the national identity (INS) belongs to one record only.
TEST_F(FhirTest, NationalIdentityConflict) {
  std::string ins = "2" + std::to_string(200000000000LL + std::stoll(RandomHex(5), nullptr, 16));
  std::string body = R"({"resourceType":"Patient","identifier":[{"system":"urn:oid:1.2.250.1.213.1.4.10","value":")" +
                     ins + R"("}]})";
  ASSERT_EQ(Post("Patient", body).status, 201);
  auto second = Post("Patient", body);
  EXPECT_EQ(second.status, 409) << second.body;
  EXPECT_EQ(IssueCode(Parse(second.body)), "duplicate");
}

// Parallel conditional creates with the same criteria make exactly one resource.
TEST_F(FhirTest, ConcurrentConditionalCreateMakesOne) {
  std::string ins = "1" + std::to_string(100000000000LL + std::stoll(RandomHex(5), nullptr, 16));
  std::string body = R"({"resourceType":"Patient","identifier":[{"system":"urn:oid:1.2.250.1.213.1.4.10","value":")" +
                     ins + R"("}]})";
  std::vector<std::future<HttpResult>> calls;
  for (int i = 0; i < 8; ++i)
    calls.push_back(std::async(std::launch::async, [&] {
      HttpClient c;
      return c.Request("POST", Url("Patient"),
                       {kJson, "If-None-Exist: identifier=urn:oid:1.2.250.1.213.1.4.10|" + ins}, body);
    }));
  std::set<std::string> ids;
  int created = 0;
  for (auto& f : calls) {
    HttpResult r = f.get();
    ASSERT_TRUE(r.status == 201 || r.status == 200) << r.status << " " << r.body;
    if (r.status == 201) ++created;
    ids.insert(Parse(r.body).GetString("id"));
  }
  EXPECT_EQ(created, 1);
  EXPECT_EQ(ids.size(), 1u);
}

TEST_F(FhirTest, BinaryInItsNativeForm) {
  std::string pdf = "%PDF-1.4\n" + std::string("\0\x01\xff binary", 10) + "\n%%EOF";
  auto created = Post("Binary", pdf, {"Content-Type: application/pdf"});
  ASSERT_EQ(created.status, 201) << created.body;
  JsonValue b = Parse(created.body);
  EXPECT_EQ(b.GetString("contentType"), "application/pdf");
  EXPECT_EQ(b.GetString("data"), Base64Encode(pdf));
  std::string id = b.GetString("id");
  auto raw = Get("Binary/" + id);
  ASSERT_EQ(raw.status, 200);
  EXPECT_EQ(raw.headers["content-type"], "application/pdf");
  EXPECT_EQ(raw.body, pdf);
  auto as_fhir = Get("Binary/" + id, {"Accept: application/fhir+json"});
  EXPECT_EQ(Parse(as_fhir.body).GetString("resourceType"), "Binary");
}

TEST_F(FhirTest, PatchEntryInATransaction) {
  std::string pid = NewPatient();
  std::string patch = Base64Encode(R"([{"op":"add","path":"/gender","value":"male"}])");
  auto r = Post("", R"({"resourceType":"Bundle","type":"transaction","entry":[{"resource":
      {"resourceType":"Binary","contentType":"application/json-patch+json","data":")" + patch +
                        R"("},"request":{"method":"PATCH","url":"Patient/)" + pid + R"("}}]})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Parse(Get("Patient/" + pid).body).GetString("gender"), "male");
}

// _summary=true keeps the elements the R4 definitions flag isSummary (and mandatory ones).
TEST_F(FhirTest, SummaryFollowsTheDefinitions) {
  std::string family = "Resume" + RandomHex(4);
  auto r = Post("Patient", R"({"resourceType":"Patient","text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">x</div>"},
      "name":[{"family":")" + family + R"("}],"birthDate":"1970-01-01",
      "contact":[{"name":{"family":"Proche"}}],"communication":[{"language":{"text":"fr"}}]})");
  ASSERT_EQ(r.status, 201) << r.body;
  auto s = Get("Patient?family=" + family + "&_summary=true");
  ASSERT_EQ(s.status, 200);
  JsonValue bundle = Parse(s.body);
  ASSERT_EQ(bundle.Find("entry")->items().size(), 1u) << s.body;
  const JsonValue& p = *bundle.Find("entry")->items()[0].Find("resource");
  EXPECT_NE(p.Find("name"), nullptr);
  EXPECT_NE(p.Find("birthDate"), nullptr);
  EXPECT_EQ(p.Find("contact"), nullptr);
  EXPECT_EQ(p.Find("communication"), nullptr);
  EXPECT_EQ(p.Find("text"), nullptr);
  EXPECT_NE(s.body.find("SUBSETTED"), std::string::npos);
}

// Every R4 example of the shared corpus (all R4 types are served): created with its own id by
// the party that writes it (record content by a deposit source, shared content by an operator),
// read back in JSON and in XML and compared with the original apart from meta; or refused, with
// the status and reason written beside the test (tests/data/fhir/example_expectations.tsv).
TEST_F(FhirTest, OfficialExamplesRoundTrip) {
  namespace fs = std::filesystem;
  std::string dir = std::string(CARNET_SOURCE_DIR) + "/../shared/testdata/fhir/r4-examples";
  auto metadata = Parse(Get("metadata").body);
  std::set<std::string> served;
  for (const auto& res : metadata.Find("rest")->items()[0].Find("resource")->items())
    served.insert(res.GetString("type"));
  // file -> {status, words the OperationOutcome says}
  std::map<std::string, std::pair<int, std::string>> refusals;
  {
    std::ifstream in(std::string(CARNET_SOURCE_DIR) + "/tests/data/fhir/example_expectations.tsv");
    ASSERT_TRUE(in) << "tests/data/fhir/example_expectations.tsv";
    for (std::string line; std::getline(in, line);) {
      if (line.empty() || line[0] == '#') continue;
      std::vector<std::string> f;
      for (size_t start = 0;;) {
        size_t tab = line.find('\t', start);
        f.push_back(line.substr(start, tab == std::string::npos ? std::string::npos : tab - start));
        if (tab == std::string::npos) break;
        start = tab + 1;
      }
      ASSERT_EQ(f.size(), 3u) << line;
      ASSERT_TRUE(fs::exists(dir + "/" + f[0])) << "no example " << f[0];
      refusals[f[0]] = {std::stoi(f[1]), f[2]};
    }
  }
  int tried = 0, refused = 0, examples = 0;
  std::vector<fs::path> files;
  for (const auto& f : fs::directory_iterator(dir))
    if (f.path().extension() == ".json") files.push_back(f.path());
  std::sort(files.begin(), files.end());
  // Patients first, so that compartment references resolve.
  std::stable_partition(files.begin(), files.end(),
                        [](const fs::path& p) { return p.filename().string().rfind("patient", 0) == 0; });
  const std::string operator_token = Token({"--actor", "operator", "--id", "ops-1"});
  for (const auto& path : files) {
    auto parsed = ParseJson(ReadFile(path.string()));
    if (!parsed.ok()) continue;
    JsonValue example = std::move(parsed).value();
    std::string type = example.GetString("resourceType");
    if (type.empty()) continue;  // the corpus also holds search and FHIRPath fixtures
    ++examples;
    std::string file = path.filename().string();
    SCOPED_TRACE(file);
    EXPECT_TRUE(served.count(type)) << type << " is not served";
    std::string id = example.GetString("id");
    if (id.empty()) {
      id = "ex-" + RandomHex(4);
      example.Set("id", JsonValue::String(id));
    }
    // Make sure any patient it belongs to exists.
    std::string text = WriteJson(example);
    for (size_t pos = text.find("\"Patient/"); pos != std::string::npos; pos = text.find("\"Patient/", pos + 1)) {
      std::string pid = text.substr(pos + 9, text.find('"', pos + 9) - pos - 9);
      pid = pid.substr(0, pid.find('/'));
      if (IsValidFhirId(pid) && Get("Patient/" + pid).status == 404)
        Put("Patient/" + pid, R"({"resourceType":"Patient","id":")" + pid + R"("})");
    }
    // A type of the Patient compartment is record content, written by the deposit source this
    // client is; anything else (and a Group or Schedule naming no patient) is shared content,
    // the operator's (profiles/data/shared_content.tsv).
    std::vector<std::string> headers = {kJson};
    bool in_record = type == "Patient" || type == "Binary" ||
                     (!model::StructureRegistry::R4().PatientCompartmentParams(type).empty() &&
                      !profiles::SharedContentRules::Builtin().MayStandOutsideRecord(type));
    if (!in_record) headers.push_back("Authorization: Bearer " + operator_token);
    auto put = Put(type + "/" + id, text, headers);
    if (auto r = refusals.find(file); r != refusals.end()) {
      EXPECT_EQ(put.status, r->second.first) << put.body.substr(0, 1000);
      EXPECT_NE(put.body.find(r->second.second), std::string::npos)
          << "expected '" << r->second.second << "' in " << put.body.substr(0, 1000);
      ++refused;
      continue;
    }
    ASSERT_TRUE(put.status == 201 || put.status == 200) << put.status << " " << put.body.substr(0, 2000);
    ++tried;
    JsonValue expected = WithoutServerMeta(example);
    auto json = Get(type + "/" + id, {"Accept: application/fhir+json"});
    ASSERT_EQ(json.status, 200);
    EXPECT_EQ(WithoutServerMeta(Parse(json.body)), expected) << json.body.substr(0, 1500);
    auto xml = Get(type + "/" + id, {"Accept: application/fhir+xml"});
    ASSERT_EQ(xml.status, 200);
    auto from_xml = fhir::ResourceXmlToJson(xml.body);
    ASSERT_TRUE(from_xml.ok()) << from_xml.status().ToString();
    EXPECT_EQ(WithoutServerMeta(*from_xml), expected) << xml.body.substr(0, 1500);
    // And the other way in: the XML form posted back is stored equal.
    headers[0] = kXml;
    auto xml_put = Put(type + "/" + id, xml.body, headers);
    ASSERT_EQ(xml_put.status, 200) << xml_put.body.substr(0, 1000);
    EXPECT_EQ(WithoutServerMeta(Parse(Get(type + "/" + id, {"Accept: application/fhir+json"}).body)),
              expected);
  }
  EXPECT_EQ(refused, static_cast<int>(refusals.size()));
  std::printf("[ measured ] %d examples stored and read back unchanged, %d refused as expected\n",
              tried, refused);
  EXPECT_GE(tried, 60);
  EXPECT_EQ(tried + refused, examples);
}

}  // namespace
}  // namespace carnet::testing
