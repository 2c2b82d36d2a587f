// HTTPS on the main listener (settings https, tls_cert_file, tls_key_file) and the
// certificate renewed without a restart: after SIGHUP every new handshake gets the new
// certificate, a connection already open carries on, and a broken file keeps the old one.
#include <gtest/gtest.h>
#include <signal.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "base/strings.h"
#include "tests/integration/harness.h"

namespace carnet::testing {
namespace {

bool Sh(const std::string& cmd) { return std::system((cmd + " >/dev/null 2>&1").c_str()) == 0; }

// The subject of the certificate the server on `port` presents to a new connection.
std::string ServedSubject(int port) {
  return RunCommand("openssl s_client -connect 127.0.0.1:" + std::to_string(port) +
                        " </dev/null 2>/dev/null | openssl x509 -noout -subject",
                    false)
      .out;
}

TEST(TlsReloadTest, SighupServesTheRenewedCertificateWithoutARestart) {
  const std::string dir = ::testing::TempDir() + "/carnet-tls-" + RandomHex(4);
  std::filesystem::create_directories(dir);
  auto p = [&](const std::string& f) { return dir + "/" + f; };
  ASSERT_TRUE(Sh("openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=test-ca -keyout " +
                 p("ca.key") + " -out " + p("ca.pem")))
      << "openssl is needed";
  std::ofstream(p("server.ext")) << "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n";
  for (std::string name : {"first", "second"}) {
    ASSERT_TRUE(Sh("openssl req -newkey rsa:2048 -nodes -subj /CN=" + name + " -keyout " +
                   p(name + ".key") + " -out " + p(name + ".csr")));
    ASSERT_TRUE(Sh("openssl x509 -req -days 2 -in " + p(name + ".csr") + " -CA " + p("ca.pem") +
                   " -CAkey " + p("ca.key") + " -CAcreateserial -extfile " + p("server.ext") +
                   " -out " + p(name + ".pem")));
  }
  namespace fs = std::filesystem;
  auto install = [&](const std::string& name) {
    fs::copy_file(p(name + ".pem"), p("live.pem"), fs::copy_options::overwrite_existing);
    fs::copy_file(p(name + ".key"), p("live.key"), fs::copy_options::overwrite_existing);
  };
  install("first");

  GatewayProcess gateway(
      {"--https", "true", "--tls-cert-file", p("live.pem"), "--tls-key-file", p("live.key")});
  const std::string https = "https://127.0.0.1:" + std::to_string(gateway.port());
  HttpClient client;
  client.SetTls(p("ca.pem"), "", "");
  HttpResult health;
  for (int i = 0; i < 200 && health.status != 200 && gateway.running(); ++i) {
    health = client.Get(https + "/healthz");
    if (health.status != 200) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_EQ(health.status, 200) << health.error << gateway.Log();
  EXPECT_NE(ServedSubject(gateway.port()).find("CN = first"), std::string::npos);
  // Plain HTTP is not served on a TLS listener.
  HttpClient plain;
  EXPECT_NE(plain.Get(gateway.base_url() + "/healthz").status, 200);
  // The FHIR base URL the gateway derives says https.
  auto meta = client.Get(https + "/fhir/metadata");
  ASSERT_EQ(meta.status, 200) << meta.body;
  EXPECT_NE(meta.body.find("\"url\":\"" + https + "/fhir\""), std::string::npos)
      << meta.body.substr(0, 600);

  // Renewed files, SIGHUP: new handshakes get the new certificate.
  install("second");
  ASSERT_EQ(kill(gateway.pid(), SIGHUP), 0);
  std::string subject;
  for (int i = 0; i < 50; ++i) {
    subject = ServedSubject(gateway.port());
    if (subject.find("CN = second") != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_NE(subject.find("CN = second"), std::string::npos) << subject << gateway.Log();
  EXPECT_TRUE(gateway.running()) << "reloaded, not restarted";
  // The connection opened before the reload carries on.
  auto kept = client.Get(https + "/healthz");
  EXPECT_EQ(kept.status, 200);
  EXPECT_EQ(kept.new_connections, 0);
  EXPECT_NE(gateway.Log().find("\"tls_reloaded\""), std::string::npos) << gateway.Log();

  // A broken renewal (a key that is not the certificate's) keeps the certificate served.
  fs::copy_file(p("first.pem"), p("live.pem"), fs::copy_options::overwrite_existing);
  ASSERT_EQ(kill(gateway.pid(), SIGHUP), 0);
  for (int i = 0; i < 50 && gateway.Log().find("tls_reload_failed") == std::string::npos; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_NE(gateway.Log().find("is not the key of the certificate"), std::string::npos)
      << gateway.Log();
  EXPECT_NE(ServedSubject(gateway.port()).find("CN = second"), std::string::npos);
  HttpClient fresh;
  fresh.SetTls(p("ca.pem"), "", "");
  EXPECT_EQ(fresh.Get(https + "/healthz").status, 200);
  EXPECT_EQ(gateway.Terminate(), 0);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace carnet::testing
