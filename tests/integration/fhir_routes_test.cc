// The FHIR route table (fhir/routes.h) walked against the live gateway: every row that names
// a handler answers its route for an authorised caller (never the router's 404 or 405), and
// what no row serves answers as it always has: an unknown path a FHIR OperationOutcome 404,
// a served path asked with another method 405 naming the methods in Allow.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "base/json.h"
#include "base/strings.h"
#include "fhir/routes.h"
#include "tests/integration/harness.h"

namespace carnet::testing {
namespace {

const char* kJson = "Content-Type: application/fhir+json";
const char* kIns = "urn:oid:1.2.250.1.213.1.4.8";

// One request that exercises a row: its path below /fhir/, its body and headers.
struct Sample {
  std::string path;
  std::string body;
  std::vector<std::string> headers;
};

class FhirRoutesTest : public SharedGatewayTest {
 protected:
  std::string Url(const std::string& path) { return gateway_->base_url() + "/fhir/" + path; }
  HttpResult Call(const std::string& method, const std::string& path,
                  const std::vector<std::string>& headers = {}, const std::string& body = "") {
    return client_.Request(method, Url(path), headers, body);
  }
  // A new Patient with a national identity; its id.
  std::string NewPatient(std::string* ins = nullptr) {
    std::string national =
        "2" + std::to_string(800000000000LL + std::stoll(RandomHex(5), nullptr, 16));
    if (ins) *ins = national;
    auto r = Call("POST", "Patient", {kJson},
                  R"({"resourceType":"Patient","identifier":[{"system":")" + std::string(kIns) +
                      R"(","value":")" + national + R"("}],"name":[{"family":"Routes"}]})");
    EXPECT_EQ(r.status, 201) << r.body;
    auto json = ParseJson(r.body);
    return json.ok() ? json->GetString("id") : "";
  }
  // The OperationOutcome's first diagnostics ("" when the body is not one).
  static std::string Diagnostics(const HttpResult& r) {
    auto json = ParseJson(r.body);
    if (!json.ok() || json->GetString("resourceType") != "OperationOutcome") return "";
    const JsonValue* issues = json->Find("issue");
    if (!issues || !issues->is_array() || issues->items().empty()) return "";
    return issues->items()[0].GetString("diagnostics");
  }

  HttpClient client_;
};

// Every handler row, by "METHOD pattern", with a request that reaches it: a path with the
// pattern's variables filled in. A row added to the table without a sample fails the walk.
TEST_F(FhirRoutesTest, EveryRowAnswersItsRoute) {
  std::string ins;
  std::string patient = NewPatient(&ins);
  std::string scratch = NewPatient();  // updated, patched, then deleted
  std::string criteria = "identifier=urn:carnet:routes%7C" + RandomHex(6);
  std::string patient_json = R"({"resourceType":"Patient","name":[{"family":"Routes"}]})";
  // A message of the record, the suite's own copy to the patient (it is its sender): the
  // message operations answer it (403: a sender does not mark read nor file).
  HttpResult message = Call("POST", "Communication", {kJson},
                            R"({"resourceType":"Communication","status":"completed",)"
                            R"("subject":{"reference":"Patient/)" +
                                patient +
                                R"("},"sender":{"identifier":{"value":"conformance-suite"}},)"
                                R"("recipient":[{"reference":"Patient/)" +
                                patient + R"("}]})");
  ASSERT_EQ(message.status, 201) << message.body;
  std::string message_id = ParseJson(message.body)->GetString("id");
  std::string meta = R"({"resourceType":"Parameters","parameter":[{"name":"meta","valueMeta":)"
                     R"({"security":[{"code":"MASQUE_PS"}]}}]})";
  std::map<std::string, Sample> samples = {
      {"GET /", {"", "", {}}},
      {"POST /", {"", R"({"resourceType":"Bundle","type":"batch"})", {kJson}}},
      {"GET /metadata", {"metadata", "", {}}},
      {"GET /_history", {"_history", "", {}}},
      {"GET /{type}", {"Patient", "", {}}},
      {"POST /{writable}", {"Patient", patient_json, {kJson}}},
      {"PUT /{writable}", {"Patient?" + criteria, patient_json, {kJson}}},
      {"DELETE /{writable}", {"Patient?" + criteria, "", {}}},
      {"POST /{type}/_search",
       {"Patient/_search", "_id=" + patient, {"Content-Type: application/x-www-form-urlencoded"}}},
      {"GET /{type}/_history", {"Patient/_history", "", {}}},
      {"POST /DocumentReference/$deposit",
       {"DocumentReference/$deposit?patient=" + std::string(kIns) + "%7C" + ins + "&type=11490-0",
        "a letter " + RandomHex(8),
        {"Content-Type: text/plain"}}},
      {"POST /{type}/$validate", {"Patient/$validate", patient_json, {kJson}}},
      {"GET /{type}/{id}", {"Patient/" + patient, "", {}}},
      {"HEAD /{type}/{id}", {"Patient/" + patient, "", {}}},
      {"PUT /{writable}/{id}",
       {"Patient/" + scratch,
        R"({"resourceType":"Patient","id":")" + scratch + R"(","active":true})",
        {kJson}}},
      {"PATCH /{writable}/{id}",
       {"Patient/" + scratch,
        R"([{"op":"replace","path":"/active","value":false}])",
        {"Content-Type: application/json-patch+json"}}},
      {"DELETE /{writable}/{id}", {"Patient/" + scratch, "", {}}},
      {"GET /{type}/{id}/_history", {"Patient/" + patient + "/_history", "", {}}},
      {"GET /{type}/{id}/_history/{vid}", {"Patient/" + patient + "/_history/1", "", {}}},
      {"POST /{type}/{id}/$validate",
       {"Patient/" + patient + "/$validate",
        R"({"resourceType":"Patient","id":")" + patient + R"("})",
        {kJson}}},
      {"GET /Patient/{id}/$everything", {"Patient/" + patient + "/$everything", "", {}}},
      {"GET /Patient/{id}/$agenda", {"Patient/" + patient + "/$agenda", "", {}}},
      {"GET /Patient/{id}/$profile", {"Patient/" + patient + "/$profile", "", {}}},
      {"POST /Patient/{id}/$profile-visibility",
       {"Patient/" + patient + "/$profile-visibility",
        R"({"resourceType":"Parameters","parameter":[{"name":"section","valueCode":"allergies"},{"name":"visible","valueBoolean":true}]})",
        {kJson}}},
      {"POST /Patient/{id}/$agenda-link",
       {"Patient/" + patient + "/$agenda-link", R"({"resourceType":"Parameters"})", {kJson}}},
      {"GET /Patient/{id}/$reminders", {"Patient/" + patient + "/$reminders", "", {}}},
      {"GET /Patient/{id}/$summary", {"Patient/" + patient + "/$summary", "", {}}},
      {"POST /Communication/{id}/$mark-read",
       {"Communication/" + message_id + "/$mark-read", "", {}}},
      {"POST /Communication/{id}/$file-attachment",
       {"Communication/" + message_id + "/$file-attachment", "", {}}},
      {"POST /{type}/{id}/$meta-add", {"Patient/" + patient + "/$meta-add", meta, {kJson}}},
      {"POST /{type}/{id}/$meta-delete", {"Patient/" + patient + "/$meta-delete", meta, {kJson}}},
      {"GET /Patient/{id}/$record-settings", {"Patient/" + patient + "/$record-settings", "", {}}},
      // The support view answers the suite's system token 403 (support staff and operators).
      {"GET /$access-decisions", {"$access-decisions?request-id=x", "", {}}},
      {"GET /OperationDefinition", {"OperationDefinition?code=close", "", {}}},
      {"GET /OperationDefinition/{id}", {"OperationDefinition/Patient-close", "", {}}},
      {"HEAD /OperationDefinition/{id}", {"OperationDefinition/Patient-close", "", {}}},
      {"POST /Patient/{id}/{choice}",
       {"Patient/" + patient + "/$notification-preferences",
        R"({"resourceType":"Parameters"})",
        {kJson}}},
      {"GET /Patient/{id}/{compartment}", {"Patient/" + patient + "/Observation", "", {}}},
  };
  int walked = 0;
  for (const fhir::Route& route : fhir::Routes()) {
    if (!route.handler) continue;  // rows that keep the answer of paths beyond a route
    std::string key = std::string(route.method) + " " + std::string(route.pattern);
    auto it = samples.find(key);
    if (it == samples.end()) {
      ADD_FAILURE() << "no sample request for the route " << key;
      continue;
    }
    const Sample& s = it->second;
    HttpResult r = Call(std::string(route.method), s.path, s.headers, s.body);
    EXPECT_NE(r.status, 0) << key << ": " << r.error;
    EXPECT_NE(r.status, 404) << key << ": " << r.body;
    EXPECT_NE(r.status, 405) << key << ": " << r.body;
    EXPECT_LT(r.status, 500) << key << ": " << r.body;
    ++walked;
  }
  EXPECT_EQ(walked, static_cast<int>(samples.size())) << "a sample names no row of the table";
}

TEST_F(FhirRoutesTest, AnUnknownPathAnswersAnOperationOutcome404) {
  std::string patient = NewPatient();
  struct Case {
    std::string method, path, diagnostics;
  };
  for (const Case& c : std::vector<Case>{
           {"GET", "Patient/" + patient + "/nothing", "no such FHIR endpoint: /fhir/Patient/"},
           {"GET", "Patient/" + patient + "/_history/1/more", "no such FHIR endpoint"},
           {"POST", "Observation/1/$everything", "no such FHIR endpoint"},
           {"GET", "Nonsense", "'Nonsense' is not a FHIR R4 resource type"},
           {"GET", "Nonsense/1/_history", "'Nonsense' is not a FHIR R4 resource type"},
           {"GET", "Patient/$nothing", "'$nothing' is not a valid resource id"},
           {"GET", "Patient/_search/x", "'_search' is not a valid resource id"},
           {"POST", "Observation/$deposit", "'$deposit' is not a valid resource id"},
       }) {
    HttpResult r = Call(c.method, c.path);
    EXPECT_EQ(r.status, 404) << c.method << " " << c.path << ": " << r.body;
    EXPECT_NE(Diagnostics(r).find(c.diagnostics), std::string::npos)
        << c.method << " " << c.path << ": " << r.body;
  }
}

TEST_F(FhirRoutesTest, AServedPathAskedWithAnotherMethodAnswers405WithAllow) {
  std::string patient = NewPatient();
  struct Case {
    std::string method, path, allow;
  };
  for (const Case& c : std::vector<Case>{
           {"PUT", "", "GET, POST"},
           {"DELETE", "metadata", "GET"},
           {"GET", "metadata/extra", "GET"},
           {"POST", "_history/extra", "GET"},
           {"HEAD", "Patient", "GET, POST, PUT?criteria, DELETE?criteria"},
           {"PUT", "Patient", "GET, POST, PUT?criteria, DELETE?criteria"},  // no criteria
           {"POST", "AuditEvent", "GET"},
           {"GET", "Patient/_search", "POST"},
           {"POST", "Patient/_history", "GET"},
           {"GET", "DocumentReference/$deposit", "POST"},
           {"GET", "Patient/$validate", "POST"},
           {"POST", "Patient/" + patient, "GET, PUT, PATCH, DELETE"},
           {"PUT", "AuditEvent/" + patient, "GET"},
           {"DELETE", "Patient/" + patient + "/_history", "GET"},
           {"POST", "Patient/" + patient + "/_history/1", "GET"},
           {"POST", "Patient/" + patient + "/_history/1/more", "GET"},
           {"GET", "Patient/" + patient + "/$validate", "POST"},
           {"POST", "Patient/" + patient + "/$everything", "GET"},
           {"POST", "Patient/" + patient + "/$reminders", "GET"},
           {"GET", "Patient/" + patient + "/$meta-add", "POST"},
           {"GET", "Patient/" + patient + "/$close", "POST"},
           {"POST", "Patient/" + patient + "/Observation", "GET"},
       }) {
    HttpResult r = Call(c.method, c.path);
    EXPECT_EQ(r.status, 405) << c.method << " /" << c.path << ": " << r.body;
    EXPECT_EQ(r.headers["allow"], c.allow) << c.method << " /" << c.path;
    if (c.method != "HEAD") {
      EXPECT_NE(Diagnostics(r).find("method not allowed here"), std::string::npos) << r.body;
    }
  }
}

// On an instance, If-Match is read before the method is: a malformed one answers 400 even
// where the method would answer 405.
TEST_F(FhirRoutesTest, AMalformedIfMatchOnAnInstanceAnswers400BeforeTheMethod) {
  std::string patient = NewPatient();
  for (const char* method : {"GET", "POST", "PUT"}) {
    HttpResult r =
        Call(method, (std::string(method) == "PUT" ? "AuditEvent/" : "Patient/") + patient,
             {"If-Match: not-an-etag"});
    EXPECT_EQ(r.status, 400) << method << ": " << r.body;
  }
}

}  // namespace
}  // namespace carnet::testing
