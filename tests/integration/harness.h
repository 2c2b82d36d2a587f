// Integration harness: runs the real carnet-gateway binary on a free loopback port against
// the test PostgreSQL started by ./carnet test, and talks HTTP to it with libcurl.
#pragma once

#include <gtest/gtest.h>
#include <sys/types.h>

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "base/json.h"

namespace carnet::profiles {
class SigningKey;
}

namespace carnet::testing {

struct HttpResult {
  long status = 0;  // 0: no answer (connection refused, timeout)
  std::string body;
  std::map<std::string, std::string> headers;  // lower-case names
  long new_connections = 0;                    // connections curl opened for this request
  std::string error;
};

// The development key directory shared by every gateway this test binary starts (passed as
// --data with --trust-dev-key true), created on first use.
std::string TestKeysDir();
// A development token (`carnet token` arguments, e.g. {"--actor", "patient", "--patient",
// "1234"}), signed with the key under TestKeysDir().
std::string Token(const std::vector<std::string>& args);
// The public key of `key` as PEM: what an attacker has, and uses as an HMAC secret (the
// algorithm confusion attack of security.md case 5).
std::string PublicKeyPem(const profiles::SigningKey& key);
// The token the suites of the REST core run under unless they say otherwise: a deposit
// source that is also an identity feed (system/*.cruds), which reads back what it wrote.
std::string SuiteToken();

// A reusable HTTP client (one curl handle: keeps connections alive between calls). Sends
// `Authorization: Bearer <token>` (SuiteToken() unless SetBearer said otherwise; none when
// empty) unless the request carries its own Authorization header.
class HttpClient {
 public:
  HttpClient();
  void SetBearer(std::string token) { bearer_ = std::move(token); }
  // TLS: trust `ca_file` for the server; present `cert_file`/`key_file` when not empty.
  void SetTls(std::string ca_file, std::string cert_file, std::string key_file) {
    tls_ca_ = std::move(ca_file);
    tls_cert_ = std::move(cert_file);
    tls_key_ = std::move(key_file);
  }
  const std::string& bearer() const { return bearer_; }
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  HttpResult Request(const std::string& method, const std::string& url,
                     const std::vector<std::string>& headers = {}, const std::string& body = "",
                     long timeout_ms = 30000);
  HttpResult Get(const std::string& url, const std::vector<std::string>& headers = {}) {
    return Request("GET", url, headers);
  }

 private:
  void* curl_;
  std::string bearer_;
  std::string tls_ca_, tls_cert_, tls_key_;
};

// A loopback TCP port nothing listens on right now.
int FreePort();

std::string TestDbConninfo();  // CARNET_TEST_DB, or a test failure
std::string TestPgDir();       // CARNET_TEST_PG_DIR, or a test failure
// Runs scripts/pg.sh CMD on the test cluster; true on success.
bool PgCtl(const std::string& cmd);

// The gateway as a child process.
class GatewayProcess {
 public:
  // Extra flags are appended to `carnet-gateway serve --port P --db ... --debug-routes true`.
  explicit GatewayProcess(std::vector<std::string> extra_flags = {});
  ~GatewayProcess();  // SIGKILL if still running

  // Waits until /healthz answers 200; false after the timeout.
  bool WaitHealthy(std::chrono::milliseconds timeout = std::chrono::seconds(20));
  // Sends SIGTERM and waits for exit; returns the exit status (or -1 on timeout).
  int Terminate(std::chrono::milliseconds timeout = std::chrono::seconds(30));
  // SIGKILL: a crash, nothing flushed.
  void Kill();
  bool running();

  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  // What the gateway wrote to stdout and stderr so far.
  std::string Log() const;

 private:
  int port_;
  pid_t pid_ = -1;
  std::string log_path_;
  int exit_status_ = -1;
};

// The base of a suite whose tests share one gateway with the default flags: started before
// its first test (failing the suite when it does not become healthy), stopped after its last.
class SharedGatewayTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite();
  static void TearDownTestSuite();
  static GatewayProcess* gateway_;
};

// Any other child process a test needs (a local SMTP server, a webhook receiver): started
// with execv, killed (SIGTERM, then SIGKILL) when destroyed.
class Subprocess {
 public:
  explicit Subprocess(std::vector<std::string> argv);
  ~Subprocess();
  bool running();

 private:
  pid_t pid_ = -1;
};

// Waits until something accepts TCP connections on 127.0.0.1:port.
bool WaitForPort(int port, std::chrono::milliseconds timeout = std::chrono::seconds(15));

// A command run through the shell: its exit code and what it printed.
struct CommandRun {
  int exit_code = -1;
  std::string out;  // standard output (and standard error, when asked)
};
CommandRun RunCommand(const std::string& command, bool with_stderr = true);

// A FHIR answer's JSON; a test failure (and a null value) when it does not parse.
JsonValue Parse(const std::string& text);

// `Authorization: Bearer <token>`, a request header.
inline std::string Auth(const std::string& token) { return "Authorization: Bearer " + token; }

// The base64 SHA-1 of `bytes`, as an Attachment's `hash` (FHIR) carries it.
std::string Base64Sha1(const std::string& bytes);

// The value of query parameter `name` in the Location of a redirect ("" when absent).
std::string LocationQueryParam(const HttpResult& r, const std::string& name);

// carnet's own SMART App Launch chain, as a catalogue app goes through it (standalone
// launch): the app registered in the catalogue by an operator, the patient's approval posted
// to the authorize page with their national login token (PKCE S256, `state`, the exact
// redirect URI), the code exchanged at the token endpoint with the verifier. What the app
// holds afterwards; `error` says which step failed (empty when the launch succeeded).
struct SmartLaunchResult {
  std::string access_token, refresh_token, patient, scope;
  std::string code, state;
  std::string error;
};
struct SmartApp {
  std::string client_id;
  std::string redirect_uri;     // registered; an unused loopback address is enough
  std::string catalogue_scope;  // what the catalogue lets it ask for
  std::string name = "Appli de test";
};
// POST /apps as `operator_token` (201, or 200 when it exists already); an error message or "".
std::string RegisterSmartApp(const std::string& base_url, const std::string& operator_token,
                             const SmartApp& app);
// The launch: the patient (`login`, their national login token) approves `scopes` (space
// separated) for `app` on the authorize page; the code is exchanged at the token endpoint.
SmartLaunchResult SmartLaunch(const std::string& base_url, const std::string& login,
                              const SmartApp& app, const std::string& scopes);
// The refresh_token grant of a public client: the status and body of the token endpoint.
HttpResult SmartRefresh(const std::string& base_url, const std::string& client_id,
                        const std::string& refresh_token);

// A narrative that satisfies dom-6 and txt-1/txt-2, to splice into a resource's JSON.
inline constexpr char kDiv[] =
    R"("text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">A</div>"})";

}  // namespace carnet::testing
