// Hostile input against the live gateway (issue 13): decimals and strings PostgreSQL cannot
// store, searches too large to plan, statements that run too long, and what a server error
// may tell the caller. Every refusal is decided before the database sees the request.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "base/json.h"
#include "base/strings.h"
#include "storage/connection.h"
#include "tests/integration/harness.h"
#include "tests/integration/xds_messages.h"

namespace carnet::testing {
namespace {

const char* kJson = "Content-Type: application/fhir+json";
const char* kXml = "Content-Type: application/fhir+xml";
const char* kForm = "Content-Type: application/x-www-form-urlencoded";

// The first issue of an OperationOutcome answer: code, diagnostics and first expression.
struct Issue {
  std::string code, diagnostics, expression;
};
Issue FirstIssue(const HttpResult& r) {
  Issue out;
  auto oo = ParseJson(r.body);
  if (!oo.ok() || oo->GetString("resourceType") != "OperationOutcome") return out;
  const JsonValue* issues = oo->Find("issue");
  if (!issues || !issues->is_array() || issues->items().empty()) return out;
  const JsonValue& i = issues->items()[0];
  out.code = i.GetString("code");
  out.diagnostics = i.GetString("diagnostics");
  if (const JsonValue* e = i.Find("expression"); e && e->is_array() && !e->items().empty())
    out.expression = e->items()[0].text();
  return out;
}

class HostileInputTest : public SharedGatewayTest {
 protected:
  HttpResult Post(const std::string& path, const std::string& body, const char* type = kJson) {
    return client_.Request("POST", gateway_->base_url() + "/fhir/" + path, {type}, body);
  }
  HttpClient client_;
};

// A test with a gateway of its own (its own flags) and a session of its own on the database.
class OwnGatewayTest : public ::testing::Test {
 protected:
  void Start(std::vector<std::string> flags = {}) {
    gateway_ = std::make_unique<GatewayProcess>(std::move(flags));
    ASSERT_TRUE(gateway_->WaitHealthy()) << gateway_->Log();
    auto conn = storage::Connection::Open(TestDbConninfo());
    ASSERT_TRUE(conn.ok()) << conn.status().ToString();
    db_ = std::move(conn).value();
  }
  std::string Url(const std::string& path) const { return gateway_->base_url() + path; }
  std::unique_ptr<GatewayProcess> gateway_;
  std::unique_ptr<storage::Connection> db_;
  HttpClient client_;
  const std::string run_ = RandomHex(4);
};
using SearchLimitSettingsTest = OwnGatewayTest;
using StatementTimeoutTest = OwnGatewayTest;
using ServerErrorTest = OwnGatewayTest;

std::string Observation(const std::string& value) {
  return R"({"resourceType":"Observation","status":"final","code":{"text":"weight"},)"
         R"("subject":{"reference":"Patient/hostile-subject"},)"
         R"("valueQuantity":{"value":)" +
         value + R"(,"unit":"kg"}})";
}

std::string ObservationXml(const std::string& value) {
  return R"(<Observation xmlns="http://hl7.org/fhir"><status value="final"/>)"
         R"(<code><text value="weight"/></code><subject><reference value="Patient/hostile-subject"/>)"
         R"(</subject><valueQuantity><value value=")" +
         value + R"("/></valueQuantity></Observation>)";
}

// Before: 500 "value overflows numeric format" from the search index (1e-99999999, a
// 100,000-digit fraction), or stored and served back as numbers no client reads (XML).
TEST_F(HostileInputTest, DecimalsBeyondTheStoredRangeAre422NamingTheElement) {
  ASSERT_EQ(client_.Request("PUT", gateway_->base_url() + "/fhir/Patient/hostile-subject", {kJson},
                            R"({"resourceType":"Patient","id":"hostile-subject"})")
                    .status /
                100,
            2);
  const std::string huge_fraction = "0." + std::string(100000, '1');
  const std::string long_fraction = "0." + std::string(100, '1');
  for (const std::string& value :
       {std::string("1e-99999999"), huge_fraction, long_fraction, std::string("1e-400")}) {
    auto r = Post("Observation", Observation(value));
    SCOPED_TRACE("JSON " + value.substr(0, 20));
    EXPECT_EQ(r.status, 422) << r.body.substr(0, 400);
    Issue i = FirstIssue(r);
    EXPECT_EQ(i.expression, "Observation.valueQuantity.value") << r.body.substr(0, 400);
    EXPECT_NE(i.diagnostics.find("decimal"), std::string::npos) << i.diagnostics;
    EXPECT_LT(r.body.size(), 2000u) << "the answer does not echo the whole literal";
  }
  for (const std::string& value :
       {std::string("1e-99999999"), std::string(100000, '7'), std::string("1e309")}) {
    auto r = Post("Observation", ObservationXml(value), kXml);
    SCOPED_TRACE("XML " + value.substr(0, 20));
    EXPECT_EQ(r.status, 422) << r.body.substr(0, 400);
    EXPECT_EQ(FirstIssue(r).expression, "Observation.valueQuantity.value") << r.body.substr(0, 400);
  }
  // What R4 and the bounds allow is still taken, as written.
  auto fine = Post("Observation", Observation("-123456789012345678.12345678901234567e-300"));
  EXPECT_EQ(fine.status, 201) << fine.body.substr(0, 400);
  // R4's own example observation-decimal: 23 digits, and 19 significant ones.
  fine = Post("Observation", Observation("0.0000000000000000000001"));
  EXPECT_EQ(fine.status, 201) << fine.body.substr(0, 400);
  fine = Post("Observation", Observation("-1.000000000000000000E+245"));
  EXPECT_EQ(fine.status, 201) << fine.body.substr(0, 400);
  EXPECT_EQ(Post("Observation", Observation("1.50")).status, 201);
}

// Before: 500 "malformed array literal" (JSON) and, in a search value, a NUL PostgreSQL never
// saw (libpq cuts text parameters at it). XML's &#0; was already refused, less plainly.
TEST_F(HostileInputTest, ControlCharactersInStringsAreRefusedNamingTheElement) {
  auto json = Post("Patient", R"({"resourceType":"Patient","name":[{"family":"Du\u0000pont"}]})");
  EXPECT_EQ(json.status, 422) << json.body;
  Issue i = FirstIssue(json);
  EXPECT_EQ(i.expression, "Patient.name[0].family") << json.body;
  EXPECT_NE(i.diagnostics.find("U+0000"), std::string::npos) << i.diagnostics;
  auto bell = Post("Patient", R"({"resourceType":"Patient","name":[{"given":["A\u0007"]}]})");
  EXPECT_EQ(bell.status, 422) << bell.body;
  EXPECT_EQ(FirstIssue(bell).expression, "Patient.name[0].given[0]") << bell.body;
  // Tab, CR and LF stay allowed.
  EXPECT_EQ(Post("Patient", R"({"resourceType":"Patient","name":[{"text":"a\tb\r\nc"}]})").status,
            201);
  for (const char* ref : {"&#0;", "&#x0;", "&#x1F;", "&#00000;"}) {
    auto xml = Post("Patient",
                    std::string(R"(<Patient xmlns="http://hl7.org/fhir"><name><family value="Du)") +
                        ref + R"(pont"/></name></Patient>)",
                    kXml);
    EXPECT_EQ(xml.status, 400) << ref << ": " << xml.body;
    EXPECT_NE(FirstIssue(xml).diagnostics.find("character XML does not allow"), std::string::npos)
        << xml.body;
  }
  // A search value holding one is refused the same way, before any SQL.
  auto search = client_.Get(gateway_->base_url() + "/fhir/Patient?name=a%00b");
  EXPECT_EQ(search.status, 400) << search.body;
  EXPECT_EQ(FirstIssue(search).expression, "name") << search.body;
}

// Before: 500 "stack depth limit exceeded" after some 4 s (10,000 name=), and statements that
// ran for minutes (2,000 OR-values, 1,000 _has).
TEST_F(HostileInputTest, SearchesBeyondTheLimitsAre400NamingTheLimit) {
  std::string body;
  for (int i = 0; i < 10000; ++i)
    body += (i ? "&" : "") + std::string("name=x") + std::to_string(i);
  auto t0 = std::chrono::steady_clock::now();
  auto many = Post("Patient/_search", body, kForm);
  auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_EQ(many.status, 400) << many.body.substr(0, 400);
  EXPECT_NE(FirstIssue(many).diagnostics.find("search_max_params"), std::string::npos) << many.body;
  EXPECT_LT(took, std::chrono::seconds(2));

  std::string values = "x0";
  for (int i = 1; i < 2000; ++i) values += ",x" + std::to_string(i);
  auto ors = client_.Get(gateway_->base_url() + "/fhir/Patient?name=" + values);
  EXPECT_EQ(ors.status, 400) << ors.body.substr(0, 400);
  Issue i = FirstIssue(ors);
  EXPECT_NE(i.diagnostics.find("search_max_or_values"), std::string::npos) << ors.body;
  EXPECT_EQ(i.expression, "name");

  std::string has;
  for (int k = 0; k < 1000; ++k) has += "&_has:Observation:patient:code=" + std::to_string(k);
  auto hases = client_.Get(gateway_->base_url() + "/fhir/Patient?_count=1" + has);
  EXPECT_EQ(hases.status, 400) << hases.body.substr(0, 400);
  EXPECT_NE(FirstIssue(hases).diagnostics.find("search_max_params"), std::string::npos);

  auto deep = client_.Get(gateway_->base_url() +
                          "/fhir/Patient?_has:Observation:patient:_has:Provenance:target:agent=x");
  EXPECT_EQ(deep.status, 400) << deep.body;
  EXPECT_NE(FirstIssue(deep).diagnostics.find("search_max_chain_depth"), std::string::npos)
      << deep.body;
  auto chain =
      client_.Get(gateway_->base_url() + "/fhir/Observation?subject:Patient.organization.name=x");
  EXPECT_EQ(chain.status, 400) << chain.body;

  std::string includes;
  for (int k = 0; k < 11; ++k) includes += "&_include=Observation:subject";
  auto incl = client_.Get(gateway_->base_url() + "/fhir/Observation?_count=1" + includes);
  EXPECT_EQ(incl.status, 400) << incl.body;
  EXPECT_NE(FirstIssue(incl).diagnostics.find("search_max_includes"), std::string::npos);
  // Within the limits, the same searches run.
  EXPECT_EQ(client_.Get(gateway_->base_url() + "/fhir/Patient?name=x0,x1,x2&_count=1").status, 200);
}

// The limits are settings.
TEST_F(SearchLimitSettingsTest, ALowerLimitIsEnforced) {
  Start({"--search-max-params", "2", "--search-max-or-values", "2"});
  EXPECT_EQ(client_.Get(Url("/fhir/Patient?name=a&gender=male")).status, 200);
  auto three = client_.Get(Url("/fhir/Patient?name=a&gender=male&_count=1"));
  EXPECT_EQ(three.status, 400) << three.body;
  EXPECT_NE(three.body.find("more than the 2 one request may take"), std::string::npos);
  EXPECT_EQ(client_.Get(Url("/fhir/Patient?name=a,b,c")).status, 400);
}

// A statement that runs past db_statement_timeout_ms is cancelled by PostgreSQL: the request
// answers 503 (OperationOutcome "timeout"; XDSRegistryBusy) naming its request id, and the
// pool serves the next requests. A table lock held by another session stands for a costly
// statement (statement_timeout counts the wait).
TEST_F(StatementTimeoutTest, ALongStatementIsCancelledAndThePoolStaysUsable) {
  Start({"--db-statement-timeout-ms", "300", "--db-pool-size", "2"});
  std::string ins = "2" + std::to_string(600000000000LL + std::stoll(RandomHex(4), nullptr, 16));
  client_.SetBearer(Token({"--actor", "operator", "--id", "ops-1"}));
  auto created =
      client_.Request("PUT", Url("/fhir/Patient/to-" + run_), {kJson},
                      R"({"resourceType":"Patient","id":"to-)" + run_ +
                          R"(","identifier":[{"system":"urn:oid:1.2.250.1.213.1.4.10","value":")" +
                          ins + R"("}]})");
  ASSERT_EQ(created.status, 201) << created.body;
  client_.SetBearer(Token({"--actor", "patient", "--id", "p-" + run_, "--patient", ins}));
  std::string search = Url("/fhir/Patient?_id=to-" + run_);
  ASSERT_EQ(client_.Get(search).status, 200);

  ASSERT_TRUE(db_->Exec("BEGIN").ok());
  ASSERT_TRUE(db_->Exec("LOCK TABLE resource, registry_object, patient, patient_identifier IN "
                        "ACCESS EXCLUSIVE MODE")
                  .ok());
  auto t0 = std::chrono::steady_clock::now();
  auto slow = client_.Get(search, {"X-Request-Id: timeout-fhir-" + run_});
  auto took = std::chrono::steady_clock::now() - t0;
  auto xds =
      client_.Request("POST", Url("/xds/registry"), {kSoap, "X-Request-Id: timeout-xds-" + run_},
                      FindDocumentsRequest(ins + "^^^&amp;1.2.250.1.213.1.4.10&amp;ISO"));
  ASSERT_TRUE(db_->Exec("ROLLBACK").ok());

  EXPECT_EQ(slow.status, 503) << slow.body;
  Issue i = FirstIssue(slow);
  EXPECT_EQ(i.code, "timeout") << slow.body;
  EXPECT_NE(i.diagnostics.find("timeout-fhir-" + run_), std::string::npos) << slow.body;
  EXPECT_EQ(slow.body.find("canceling statement"), std::string::npos) << slow.body;
  EXPECT_LT(took, std::chrono::seconds(5));
  EXPECT_NE(xds.body.find("XDSRegistryBusy"), std::string::npos) << xds.body.substr(0, 1500);
  EXPECT_NE(xds.body.find("timeout-xds-" + run_), std::string::npos) << xds.body.substr(0, 1500);
  EXPECT_EQ(xds.body.find("canceling statement"), std::string::npos) << xds.body.substr(0, 1500);
  // The detail is in the gateway's log, under the request id.
  std::string log = gateway_->Log();
  EXPECT_NE(log.find("\"request_id\":\"timeout-fhir-" + run_ + "\",\"code\":\"kTimeout\""),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("canceling statement due to statement timeout"), std::string::npos) << log;
  // Both pooled connections serve again.
  for (int k = 0; k < 4; ++k) EXPECT_EQ(client_.Get(search).status, 200);
}

// A database error becomes a generic answer naming the request id; PostgreSQL's text and the
// socket path go to the log only (FHIR OperationOutcome, XDS codeContext, /readyz).
TEST_F(ServerErrorTest, AnswersNameTheRequestIdAndNotTheDatabaseText) {
  Start();
  std::string secret = "carnet-secret-" + run_;
  std::string fn = "carnet_test_fail_" + run_;
  ASSERT_TRUE(db_->Exec("CREATE FUNCTION " + fn +
                        "() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                        "RAISE EXCEPTION '" +
                        secret + "'; END $$")
                  .ok());
  ASSERT_TRUE(db_->Exec("CREATE TRIGGER " + fn +
                        " BEFORE INSERT ON resource FOR EACH ROW WHEN "
                        "(NEW.res_id = 'se-" +
                        run_ + "') EXECUTE FUNCTION " + fn + "()")
                  .ok());
  auto failed = client_.Request("PUT", Url("/fhir/Patient/se-" + run_),
                                {kJson, "X-Request-Id: se-fhir-" + run_},
                                R"({"resourceType":"Patient","id":"se-)" + run_ + R"("})");
  ASSERT_TRUE(db_->Exec("DROP TRIGGER " + fn + " ON resource").ok());
  ASSERT_TRUE(db_->Exec("DROP FUNCTION " + fn + "()").ok());
  EXPECT_EQ(failed.status, 500) << failed.body;
  EXPECT_EQ(failed.body.find(secret), std::string::npos) << failed.body;
  EXPECT_NE(FirstIssue(failed).diagnostics.find("se-fhir-" + run_), std::string::npos)
      << failed.body;
  EXPECT_NE(gateway_->Log().find(secret), std::string::npos) << gateway_->Log();

  // Without its database: 503 everywhere, and no socket path (the cluster's directory).
  ASSERT_TRUE(PgCtl("stop"));
  auto fhir = client_.Get(Url("/fhir/Patient?_count=1"), {"X-Request-Id: se-down-" + run_});
  auto xds = client_.Request("POST", Url("/xds/registry"), {kSoap, "X-Request-Id: se-xds-" + run_},
                             FindDocumentsRequest("11^^^&amp;1.1&amp;ISO"));
  auto ready = client_.Get(Url("/readyz"));
  bool restarted = PgCtl("start");
  ASSERT_TRUE(restarted);
  std::string socket_dir = TestPgDir();
  EXPECT_EQ(fhir.status, 503) << fhir.body;
  EXPECT_NE(fhir.body.find("se-down-" + run_), std::string::npos) << fhir.body;
  EXPECT_NE(xds.body.find("XDSRegistryBusy"), std::string::npos) << xds.body.substr(0, 1500);
  EXPECT_NE(xds.body.find("se-xds-" + run_), std::string::npos) << xds.body.substr(0, 1500);
  EXPECT_EQ(ready.status, 503);
  for (const auto* r : {&fhir, &xds, &ready}) {
    EXPECT_EQ(r->body.find(socket_dir), std::string::npos) << r->body.substr(0, 1500);
    EXPECT_EQ(r->body.find("PGSQL"), std::string::npos) << r->body.substr(0, 1500);
  }
  EXPECT_NE(gateway_->Log().find(socket_dir), std::string::npos) << "the log keeps the detail";
}

}  // namespace
}  // namespace carnet::testing
