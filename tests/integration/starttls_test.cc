// STARTTLS to the SMTP relay (issue 17), for real: a local relay (aiosmtpd, Python's ssl,
// tests/tools/starttls_relay.py) offering STARTTLS with a self-signed certificate made here
// by openssl, and one that does not offer it. With smtp_tls=required and smtp_ca_file the
// patient's e-mail notification goes over TLS; opportunistic uses TLS when offered and plain
// text otherwise; required with a relay without STARTTLS delivers nothing and says why in
// the log and on the outbox row; a certificate not issued by smtp_ca_file is refused too.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "base/json.h"
#include "base/strings.h"
#include "storage/connection.h"
#include "tests/integration/harness.h"

namespace carnet::testing {
namespace {

namespace fs = std::filesystem;
const char* kJson = "Content-Type: application/fhir+json";

std::string Sql(const std::string& sql) {
  auto conn = storage::Connection::Open(TestDbConninfo());
  if (!conn.ok()) return "";
  auto r = (*conn)->RunDynamic(sql, {});
  return r.ok() && r->rows() > 0 ? r->GetString(0, 0) : "";
}

// The messages a relay wrote to `dir` whose text holds `needle`.
std::vector<std::string> MailsWith(const std::string& dir, const std::string& needle) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (e.path().extension() != ".eml") continue;
    std::ifstream in(e.path());
    std::stringstream text;
    text << in.rdbuf();
    if (text.str().find(needle) != std::string::npos) out.push_back(text.str());
  }
  return out;
}

class StarttlsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    run_ = RandomHex(4);
    dir_ = ::testing::TempDir() + "/carnet-starttls-" + run_;
    fs::create_directories(dir_);
    // A self-signed certificate for the relay's address, and another CA's.
    for (const char* name : {"relay", "other"})
      ASSERT_EQ(std::system(("openssl req -x509 -newkey rsa:2048 -nodes -days 1 -keyout '" + dir_ +
                             "/" + name + ".key' -out '" + dir_ + "/" + name +
                             ".crt' -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 "
                             ">/dev/null 2>&1")
                                .c_str()),
                0);
    tls_port_ = FreePort();
    tls_relay_ = new Subprocess({"/usr/bin/python3",
                                 std::string(CARNET_SOURCE_DIR) + "/tests/tools/starttls_relay.py",
                                 "--port", std::to_string(tls_port_), "--dir", dir_ + "/tls",
                                 "--cert", dir_ + "/relay.crt", "--key", dir_ + "/relay.key"});
    ASSERT_TRUE(WaitForPort(tls_port_)) << "the STARTTLS relay did not start";
    plain_port_ = FreePort();
    plain_relay_ = new Subprocess(
        {"/usr/bin/python3", std::string(CARNET_SOURCE_DIR) + "/tests/tools/starttls_relay.py",
         "--port", std::to_string(plain_port_), "--dir", dir_ + "/plain"});
    ASSERT_TRUE(WaitForPort(plain_port_)) << "the plain relay did not start";
  }
  static void TearDownTestSuite() {
    delete tls_relay_;
    delete plain_relay_;
    tls_relay_ = plain_relay_ = nullptr;
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  // Starts a gateway with `flags`, makes a record whose patient opted in to e-mails of new
  // documents at a fresh address, deposits a document: the address the e-mail goes to. The
  // gateway stays up (in `gateway`) for the delivery.
  static std::string Notify(const std::vector<std::string>& flags,
                            std::unique_ptr<GatewayProcess>& gateway) {
    std::string tag = RandomHex(4);
    std::vector<std::string> all = {"--outbox-poll-ms", "200"};
    all.insert(all.end(), flags.begin(), flags.end());
    gateway = std::make_unique<GatewayProcess>(all);
    EXPECT_TRUE(gateway->WaitHealthy()) << gateway->Log();
    std::string ins =
        "2" + std::to_string(500000000000LL + std::stoll(RandomHex(5), nullptr, 16) * 10 + 1);
    std::string pid = "tls-" + run_ + "-" + tag;
    std::string patient = Token({"--actor", "patient", "--id", "pat-" + tag, "--patient", ins});
    std::string ops = Token({"--actor", "operator", "--id", "ops-1"});
    std::string lab = Token({"--actor", "system", "--id", "lab-tls", "--client-id", "lab-tls"});
    std::string address = "tls-" + run_ + "-" + tag + "@example.org";
    HttpClient client;
    auto as = [&](const std::string& token, const std::string& method, const std::string& path,
                  const std::string& body) {
      client.SetBearer(token);
      return client.Request(method, gateway->base_url() + path, {kJson}, body);
    };
    EXPECT_EQ(as(ops, "PUT", "/fhir/Patient/" + pid,
                 R"({"resourceType":"Patient","id":")" + pid +
                     R"(","identifier":[{"system":"urn:oid:1.2.250.1.213.1.4.10","value":")" + ins +
                     R"("}]})")
                  .status,
              201);
    EXPECT_EQ(
        as(patient, "POST", "/fhir/Patient/" + pid + "/$notification-preferences",
           R"({"resourceType":"Parameters","parameter":[{"name":"channel","valueString":"email"},
                    {"name":"event","valueString":"document"},{"name":"enabled","valueBoolean":true},
                    {"name":"address","valueString":")" +
               address + R"("}]})")
            .status,
        200);
    auto doc = as(
        lab, "POST", "/fhir/DocumentReference",
        R"({"resourceType":"DocumentReference","status":"current",
                      "type":{"coding":[{"system":"http://loinc.org","code":"11502-2"}],"text":"Bilan"},
                      "subject":{"reference":"Patient/)" +
            pid + R"("},"content":[{"attachment":{"contentType":"text/plain","data":"b2s="}}]})");
    EXPECT_EQ(doc.status, 201) << doc.body;
    return address;
  }
  static std::vector<std::string> WaitForMail(const std::string& dir, const std::string& address,
                                              int seconds = 15) {
    for (int i = 0; i < seconds * 10; ++i) {
      auto found = MailsWith(dir, "To: " + address);
      if (!found.empty()) return found;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return {};
  }
  // The outbox row of `address` is not left for other gateways to deliver.
  static void Forget(const std::string& address) {
    Sql("DELETE FROM outbox WHERE destination = '" + address + "' RETURNING id");
  }

  static std::string run_, dir_;
  static int tls_port_, plain_port_;
  static Subprocess *tls_relay_, *plain_relay_;
};
std::string StarttlsTest::run_, StarttlsTest::dir_;
int StarttlsTest::tls_port_ = 0, StarttlsTest::plain_port_ = 0;
Subprocess *StarttlsTest::tls_relay_ = nullptr, *StarttlsTest::plain_relay_ = nullptr;

TEST_F(StarttlsTest, RequiredWithTheRelaysCaGoesOverTls) {
  std::unique_ptr<GatewayProcess> gateway;
  std::string address = Notify({"--smtp-url", "smtp://127.0.0.1:" + std::to_string(tls_port_),
                                "--smtp-tls", "required", "--smtp-ca-file", dir_ + "/relay.crt"},
                               gateway);
  auto mails = WaitForMail(dir_ + "/tls", address);
  ASSERT_EQ(mails.size(), 1u) << gateway->Log();
  EXPECT_EQ(mails[0].rfind("X-Relay-TLS: yes", 0), 0u) << mails[0].substr(0, 300);
  EXPECT_NE(mails[0].find("X-Relay-Cipher: "), std::string::npos);
  Forget(address);
}

TEST_F(StarttlsTest, OpportunisticUsesTlsWhenOfferedPlainOtherwise) {
  std::unique_ptr<GatewayProcess> gateway;
  std::string address =
      Notify({"--smtp-url", "smtp://127.0.0.1:" + std::to_string(tls_port_), "--smtp-tls",
              "opportunistic", "--smtp-ca-file", dir_ + "/relay.crt"},
             gateway);
  auto mails = WaitForMail(dir_ + "/tls", address);
  ASSERT_EQ(mails.size(), 1u) << gateway->Log();
  EXPECT_EQ(mails[0].rfind("X-Relay-TLS: yes", 0), 0u) << mails[0].substr(0, 300);
  gateway.reset();
  address = Notify({"--smtp-url", "smtp://127.0.0.1:" + std::to_string(plain_port_)}, gateway);
  mails = WaitForMail(dir_ + "/plain", address);
  ASSERT_EQ(mails.size(), 1u) << gateway->Log();
  EXPECT_EQ(mails[0].rfind("X-Relay-TLS: no", 0), 0u) << mails[0].substr(0, 300);
  Forget(address);
}

TEST_F(StarttlsTest, RequiredWithoutStarttlsDeliversNothingAndSaysWhy) {
  std::unique_ptr<GatewayProcess> gateway;
  std::string address = Notify(
      {"--smtp-url", "smtp://127.0.0.1:" + std::to_string(plain_port_), "--smtp-tls", "required"},
      gateway);
  const std::string why = "does not offer STARTTLS and smtp_tls=required";
  for (int i = 0; i < 150 && gateway->Log().find(why) == std::string::npos; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_NE(gateway->Log().find(why), std::string::npos) << gateway->Log();
  EXPECT_NE(gateway->Log().find("notification_failed"), std::string::npos);
  EXPECT_TRUE(MailsWith(dir_ + "/plain", "To: " + address).empty());
  std::string error = Sql("SELECT coalesce(last_error, '') FROM outbox WHERE destination = '" +
                          address + "' AND delivered_at IS NULL");
  EXPECT_NE(error.find(why), std::string::npos) << error;
  gateway.reset();
  Forget(address);
}

TEST_F(StarttlsTest, ACertificateNotIssuedByTheCaFileIsRefused) {
  std::unique_ptr<GatewayProcess> gateway;
  std::string address = Notify({"--smtp-url", "smtp://127.0.0.1:" + std::to_string(tls_port_),
                                "--smtp-tls", "required", "--smtp-ca-file", dir_ + "/other.crt"},
                               gateway);
  const std::string why = "TLS with the relay";
  for (int i = 0; i < 150 && gateway->Log().find(why) == std::string::npos; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_NE(gateway->Log().find(why), std::string::npos) << gateway->Log();
  EXPECT_TRUE(MailsWith(dir_ + "/tls", "To: " + address).empty());
  gateway.reset();
  Forget(address);
}

TEST_F(StarttlsTest, AnUnknownTlsModeStopsTheStart) {
  GatewayProcess gateway({"--smtp-tls", "sometimes"});
  EXPECT_FALSE(gateway.WaitHealthy(std::chrono::seconds(5)));
  EXPECT_NE(gateway.Log().find("smtp_tls"), std::string::npos) << gateway.Log();
}

}  // namespace
}  // namespace carnet::testing
