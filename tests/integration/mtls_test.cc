// Mutual TLS for system-to-system callers (issue 5, "Identity"): on the TLS listener, a
// client certificate issued by the configured CA identifies an organisation, which acts as a
// deposit source (creates documents, reads back only its own); a certificate from another
// CA, or none, never gets past the handshake; one from the right CA but of no configured
// organisation gets 401.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "base/json.h"
#include "base/strings.h"
#include "storage/connection.h"
#include "tests/integration/harness.h"
#include "tests/integration/xds_messages.h"

namespace carnet::testing {
namespace {

const char* kJson = "Content-Type: application/fhir+json";

bool Sh(const std::string& cmd) { return std::system((cmd + " >/dev/null 2>&1").c_str()) == 0; }

// A CA and certificates signed by it, made with the openssl command.
class Pki {
 public:
  explicit Pki(std::string dir) : dir_(std::move(dir)) { std::filesystem::create_directories(dir_); }
  bool Ca(const std::string& name) {
    return Sh("openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj '/CN=" + name + "' -keyout " + P(name + ".key") +
              " -out " + P(name + ".pem"));
  }
  bool Cert(const std::string& name, const std::string& cn, const std::string& ca, const std::string& ext = "") {
    std::string extfile = P(name + ".ext");
    std::ofstream(extfile) << (ext.empty() ? "basicConstraints=CA:FALSE\n" : ext);
    return Sh("openssl req -newkey rsa:2048 -nodes -subj '/CN=" + cn + "' -keyout " + P(name + ".key") + " -out " +
              P(name + ".csr")) &&
           Sh("openssl x509 -req -days 2 -in " + P(name + ".csr") + " -CA " + P(ca + ".pem") + " -CAkey " +
              P(ca + ".key") + " -CAcreateserial -extfile " + extfile + " -out " + P(name + ".pem"));
  }
  std::string P(const std::string& f) const { return dir_ + "/" + f; }

 private:
  std::string dir_;
};

TEST(MutualTlsTest, AClientCertificateIdentifiesADepositSource) {
  std::string run = RandomHex(4);
  Pki pki(::testing::TempDir() + "/carnet-mtls-" + run);
  ASSERT_TRUE(pki.Ca("ca")) << "openssl is needed";
  ASSERT_TRUE(pki.Ca("rogue-ca"));
  ASSERT_TRUE(pki.Cert("server", "127.0.0.1", "ca", "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n"));
  ASSERT_TRUE(pki.Cert("chu", "chu-lyon-dpi", "ca"));
  ASSERT_TRUE(pki.Cert("unknown", "unknown-system", "ca"));
  ASSERT_TRUE(pki.Cert("rogue", "chu-lyon-dpi", "rogue-ca"));
  std::ofstream(pki.P("organisations.tsv")) << "# certificate\torganisation (FINESS)\nchu-lyon-dpi\t690781810\n";
  int tls_port = FreePort();
  GatewayProcess gateway({"--tls-port", std::to_string(tls_port), "--tls-cert-file", pki.P("server.pem"),
                          "--tls-key-file", pki.P("server.key"), "--tls-client-ca-file", pki.P("ca.pem"),
                          "--client-organisations-file", pki.P("organisations.tsv")});
  ASSERT_TRUE(gateway.WaitHealthy()) << gateway.Log();
  ASSERT_TRUE(WaitForPort(tls_port)) << gateway.Log();
  std::string https = "https://127.0.0.1:" + std::to_string(tls_port);

  // The record exists (the operator, over the plain listener).
  std::string ins = "2" + std::to_string(600000000000LL + std::stoll(RandomHex(5), nullptr, 16));
  std::string pid = "tls-" + run;
  HttpClient op;
  op.SetBearer(Token({"--actor", "operator", "--id", "ops-1"}));
  ASSERT_EQ(op.Request("PUT", gateway.base_url() + "/fhir/Patient/" + pid, {kJson},
                       R"({"resourceType":"Patient","id":")" + pid +
                           R"(","identifier":[{"system":"urn:oid:1.2.250.1.213.1.4.10","value":")" + ins + R"("}]})")
                .status,
            201);

  // The hospital's system, by its certificate alone.
  HttpClient chu;
  chu.SetBearer("");
  chu.SetTls(pki.P("ca.pem"), pki.P("chu.pem"), pki.P("chu.key"));
  std::string doc = "tls-" + run + "-d";
  auto put = chu.Request("POST", https + "/fhir/DocumentReference", {kJson},
                         R"({"resourceType":"DocumentReference","status":"current",
      "masterIdentifier":{"system":"urn:ietf:rfc:3986","value":"urn:oid:1.2.250.1.999.55.)" +
                             std::to_string(std::stoll(RandomHex(5), nullptr, 16)) + R"("},
      "type":{"coding":[{"system":"http://loinc.org","code":"11490-0"}]},
      "subject":{"reference":"Patient/)" + pid + R"("},
      "content":[{"attachment":{"contentType":"text/plain","data":"b2s="}}]})");
  ASSERT_EQ(put.status, 201) << put.error << " " << put.body << gateway.Log();
  auto stored = ParseJson(put.body);
  ASSERT_TRUE(stored.ok());
  doc = stored->GetString("id");
  EXPECT_EQ(stored->Find("meta")->GetString("source"), "690781810") << "the organisation deposited it";
  // It reads back what it deposited, over FHIR and XDS.b, and nothing else.
  EXPECT_EQ(chu.Get(https + "/fhir/DocumentReference/" + doc).status, 200);
  EXPECT_EQ(chu.Get(https + "/fhir/Patient/" + pid).status, 404);
  auto q = chu.Request("POST", https + "/xds/registry", {kSoap},
                       FindDocumentsRequest(ins + "^^^&amp;1.2.250.1.213.1.4.10&amp;ISO"));
  EXPECT_EQ(q.status, 200);
  EXPECT_NE(q.body.find(doc), std::string::npos) << q.body.substr(0, 500);
  // Its accesses are audited under the organisation.
  auto conn = storage::Connection::Open(TestDbConninfo());
  ASSERT_TRUE(conn.ok());
  auto audited = (*conn)->RunDynamic(
      "SELECT count(*) FROM audit_event WHERE actor_id = '690781810' AND content LIKE '%" + doc + "%'", {});
  ASSERT_TRUE(audited.ok());
  EXPECT_GE(audited->GetInt(0, 0), 2);

  // A certificate of the right CA but of no configured organisation: 401.
  HttpClient unknown;
  unknown.SetBearer("");
  unknown.SetTls(pki.P("ca.pem"), pki.P("unknown.pem"), pki.P("unknown.key"));
  auto r = unknown.Get(https + "/fhir/DocumentReference/" + doc);
  EXPECT_EQ(r.status, 401) << r.error << " " << r.body;
  // No certificate, or one from another CA: no TLS session at all.
  HttpClient none;
  none.SetBearer("");
  none.SetTls(pki.P("ca.pem"), "", "");
  auto bare = none.Get(https + "/fhir/DocumentReference/" + doc);
  EXPECT_EQ(bare.status, 0) << bare.body;
  HttpClient rogue;
  rogue.SetBearer("");
  rogue.SetTls(pki.P("ca.pem"), pki.P("rogue.pem"), pki.P("rogue.key"));
  auto forged = rogue.Get(https + "/fhir/DocumentReference/" + doc);
  EXPECT_EQ(forged.status, 0) << forged.body;
  // A bearer token still works over the TLS listener (a user behind the system).
  HttpClient user;
  user.SetBearer(Token({"--actor", "patient", "--id", "p-" + run, "--patient", ins}));
  user.SetTls(pki.P("ca.pem"), pki.P("chu.pem"), pki.P("chu.key"));
  EXPECT_EQ(user.Get(https + "/fhir/DocumentReference/" + doc).status, 200);
  // The plain listener never takes a certificate's word: no certificate there.
  HttpClient plain;
  plain.SetBearer("");
  EXPECT_EQ(plain.Get(gateway.base_url() + "/fhir/DocumentReference/" + doc).status, 401);
}

}  // namespace
}  // namespace carnet::testing
