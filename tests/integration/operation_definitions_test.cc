// Issue 19, "discoverable": the CapabilityStatement declares every operation carnet serves by
// the canonical URL of its OperationDefinition, each resolves at GET /fhir/OperationDefinition/
// [id] and by search, and no client may write over them.
#include <gtest/gtest.h>

#include <set>

#include "tests/integration/harness.h"

namespace carnet::testing {
namespace {

const char* kJson = "Content-Type: application/fhir+json";

class OperationDefinitionsTest : public SharedGatewayTest {
 protected:
  HttpResult As(const std::string& token, const std::string& method, const std::string& path,
                const std::string& body = "") {
    client_.SetBearer(token);
    return client_.Request(method, gateway_->base_url() + "/fhir/" + path, {kJson}, body);
  }
  std::string Base() const { return gateway_->base_url() + "/fhir"; }

  HttpClient client_;
  std::string professional_ =
      Token({"--actor", "professional", "--id", "810000000019", "--profession", "10"});
  std::string operator_ = Token({"--actor", "operator", "--id", "ops-od"});
};

TEST_F(OperationDefinitionsTest, EveryDeclaredOperationResolves) {
  auto r = As(professional_, "GET", "metadata");
  ASSERT_EQ(r.status, 200);
  JsonValue cs = Parse(r.body);
  EXPECT_EQ(cs.Find("contained"), nullptr);
  std::set<std::string> definitions, codes;
  const JsonValue& rest = cs.Find("rest")->items()[0];
  for (const JsonValue& res : rest.Find("resource")->items())
    for (const JsonValue& op : res.Find("operation")->items()) {
      std::string def = op.GetString("definition");
      ASSERT_EQ(def.rfind(Base() + "/OperationDefinition/", 0), 0u) << def;
      definitions.insert(def);
      codes.insert(res.GetString("type") + "/$" + op.GetString("name"));
    }
  // The operations of issue 19's list, each on its type.
  for (const char* expected : {"DocumentReference/$deposit",
                               "Patient/$block",
                               "Patient/$unblock",
                               "Patient/$treating-physician",
                               "DocumentReference/$meta-add",
                               "DocumentReference/$meta-delete",
                               "Patient/$emergency-access",
                               "Patient/$notification-preferences",
                               "Patient/$close",
                               "Patient/$oppose",
                               "Patient/$reactivate",
                               "Patient/$everything",
                               "Observation/$validate",
                               "Patient/$summary",
                               "Patient/$reminders",
                               "Patient/$agenda",
                               "Patient/$agenda-link",
                               "Patient/$profile",
                               "Patient/$profile-visibility",
                               "Communication/$mark-read",
                               "Communication/$file-attachment"})
    EXPECT_TRUE(codes.count(expected)) << expected << " is not declared";
  EXPECT_GE(definitions.size(), 21u);
  // Each resolves at its canonical URL: an OperationDefinition with that url, parameters
  // complete, and who may call it.
  for (const std::string& def : definitions) {
    auto od = As(professional_, "GET", def.substr(Base().size() + 1));
    ASSERT_EQ(od.status, 200) << def << ": " << od.body;
    JsonValue j = Parse(od.body);
    EXPECT_EQ(j.GetString("resourceType"), "OperationDefinition");
    EXPECT_EQ(j.GetString("url"), def);
    EXPECT_EQ(j.GetString("comment").rfind("Who may call it: ", 0), 0u) << def;
    for (const JsonValue& p : j.Find("parameter")->items()) {
      EXPECT_FALSE(p.GetString("name").empty()) << def;
      EXPECT_TRUE(p.GetString("use") == "in" || p.GetString("use") == "out") << def;
      EXPECT_NE(p.Find("min"), nullptr) << def;
      EXPECT_FALSE(p.GetString("max").empty()) << def;
      // A type, or parts instead (R4 opd-1).
      EXPECT_TRUE(!p.GetString("type").empty() || p.Find("part")) << def;
      EXPECT_FALSE(p.GetString("documentation").empty()) << def;
    }
  }
  auto missing = As(professional_, "GET", "OperationDefinition/Patient-no-such-operation");
  EXPECT_EQ(missing.status, 404);
}

TEST_F(OperationDefinitionsTest, FoundBySearch) {
  auto by_code = As(professional_, "GET", "OperationDefinition?code=deposit");
  ASSERT_EQ(by_code.status, 200) << by_code.body;
  JsonValue b = Parse(by_code.body);
  ASSERT_NE(b.Find("entry"), nullptr) << by_code.body;
  EXPECT_EQ(b.Find("entry")->items()[0].Find("resource")->GetString("id"),
            "DocumentReference-deposit");
  std::string url = Base() + "/OperationDefinition/Patient-block";
  auto by_url = As(professional_, "GET", "OperationDefinition?url=" + url);
  ASSERT_EQ(by_url.status, 200);
  JsonValue u = Parse(by_url.body);
  ASSERT_NE(u.Find("entry"), nullptr) << by_url.body;
  ASSERT_EQ(u.Find("entry")->items().size(), 1u);
  EXPECT_EQ(u.Find("entry")->items()[0].GetString("fullUrl"), url);
  auto all = As(professional_, "GET", "OperationDefinition");
  ASSERT_EQ(all.status, 200);
  EXPECT_GE(Parse(all.body).Find("entry")->items().size(), 21u);
  auto none = As(professional_, "GET", "OperationDefinition?code=no-such-code");
  ASSERT_EQ(none.status, 200);
  EXPECT_EQ(Parse(none.body).Find("entry"), nullptr) << none.body;
}

TEST_F(OperationDefinitionsTest, ClientsCannotWriteOverThem) {
  auto own = As(operator_, "GET", "OperationDefinition/Patient-reminders");
  ASSERT_EQ(own.status, 200);
  std::string changed = own.body;
  changed.replace(changed.find("\"title\":\""), 9, "\"title\":\"Changed ");
  EXPECT_EQ(As(operator_, "PUT", "OperationDefinition/Patient-reminders", changed).status, 403);
  EXPECT_EQ(As(operator_, "DELETE", "OperationDefinition/Patient-reminders").status, 403);
  client_.SetBearer(operator_);
  auto patch = client_.Request("PATCH", Base() + "/OperationDefinition/Patient-reminders",
                               {"Content-Type: application/json-patch+json"},
                               R"([{"op":"replace","path":"/title","value":"x"}])");
  EXPECT_EQ(patch.status, 403) << patch.body;
  auto in_bundle =
      As(operator_, "POST", "",
         R"({"resourceType":"Bundle","type":"transaction","entry":[{"resource":)" + changed +
             R"(,"request":{"method":"PUT","url":"OperationDefinition/Patient-reminders"}}]})");
  EXPECT_NE(in_bundle.status, 200) << in_bundle.body;
  auto after = As(operator_, "GET", "OperationDefinition/Patient-reminders");
  EXPECT_EQ(after.body, own.body);
  // The operator's own OperationDefinitions are stored as before, beside carnet's.
  auto other = As(operator_, "PUT", "OperationDefinition/local-op",
                  R"({"resourceType":"OperationDefinition","id":"local-op","name":"LocalOp",
                      "status":"draft","kind":"operation","code":"local-op","system":true,
                      "type":false,"instance":false})");
  EXPECT_EQ(other.status, 201) << other.body;
  auto found = As(professional_, "GET", "OperationDefinition?code=local-op");
  ASSERT_EQ(found.status, 200);
  EXPECT_NE(found.body.find("\"local-op\""), std::string::npos) << found.body;
}

}  // namespace
}  // namespace carnet::testing
