#include "tests/integration/harness.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <signal.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include "base/http.h"
#include "base/strings.h"
#include "conformance/curl_sink.h"
#include "profiles/dev_token.h"
#include "profiles/jwt.h"

namespace carnet::testing {
namespace {

struct CurlGlobal {
  CurlGlobal() { curl_global_init(CURL_GLOBAL_DEFAULT); }
} curl_global;

}  // namespace

std::string TestKeysDir() {
  static const std::string dir = [] {
    std::string d = "/tmp/carnet-it-keys-" + std::to_string(getpid());
    std::filesystem::create_directories(d);
    return d;
  }();
  return dir;
}

std::string Token(const std::vector<std::string>& args) {
  static std::mutex mu;
  static std::map<std::vector<std::string>, std::string> cache;
  std::lock_guard<std::mutex> lock(mu);
  if (auto it = cache.find(args); it != cache.end()) return it->second;
  auto request = profiles::ParseDevTokenArgs(args);
  if (!request.ok()) {
    ADD_FAILURE() << "bad token arguments: " << request.status().ToString();
    return "";
  }
  auto token = profiles::MintDevToken(TestKeysDir(), *request);
  if (!token.ok()) {
    ADD_FAILURE() << "cannot mint a token: " << token.status().ToString();
    return "";
  }
  // Emergency tokens carry their issue time: never reuse one across a window.
  if (!request->emergency) cache[args] = *token;
  return *token;
}

std::string PublicKeyPem(const profiles::SigningKey& key) {
  std::string pem = key.PrivatePem();
  BIO* in = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  EVP_PKEY* pkey = PEM_read_bio_PrivateKey(in, nullptr, nullptr, nullptr);
  BIO_free(in);
  BIO* out = BIO_new(BIO_s_mem());
  PEM_write_bio_PUBKEY(out, pkey);
  char* data = nullptr;
  long n = BIO_get_mem_data(out, &data);
  std::string result(data, static_cast<size_t>(n));
  BIO_free(out);
  EVP_PKEY_free(pkey);
  return result;
}

std::string SuiteToken() {
  return Token({"--actor", "system", "--id", "conformance-suite", "--client-id",
                "conformance-suite", "--scope", "system/*.cruds"});
}

HttpClient::HttpClient() : curl_(curl_easy_init()), bearer_(SuiteToken()) {}
HttpClient::~HttpClient() { curl_easy_cleanup(static_cast<CURL*>(curl_)); }

HttpResult HttpClient::Request(const std::string& method, const std::string& url,
                               const std::vector<std::string>& headers, const std::string& body,
                               long timeout_ms) {
  CURL* c = static_cast<CURL*>(curl_);
  HttpResult out;
  curl_easy_reset(c);
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method.c_str());
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, conformance::AppendBody);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &out.body);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, conformance::CollectHeader);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &out.headers);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  if (method == "HEAD") curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
  if (!tls_ca_.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, tls_ca_.c_str());
  if (!tls_cert_.empty()) {
    curl_easy_setopt(c, CURLOPT_SSLCERT, tls_cert_.c_str());
    curl_easy_setopt(c, CURLOPT_SSLKEY, tls_key_.c_str());
  }
  if (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH") {
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  }
  struct curl_slist* list = nullptr;
  bool has_auth = false;
  for (const auto& h : headers) {
    list = curl_slist_append(list, h.c_str());
    if (h.size() > 14 && strncasecmp(h.c_str(), "Authorization:", 14) == 0) has_auth = true;
  }
  std::string auth_header = "Authorization: Bearer " + bearer_;
  if (!has_auth && !bearer_.empty()) list = curl_slist_append(list, auth_header.c_str());
  // curl adds "Expect: 100-continue" to large bodies; Pistache does not answer it.
  list = curl_slist_append(list, "Expect:");
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, list);
  CURLcode rc = curl_easy_perform(c);
  curl_slist_free_all(list);
  if (rc != CURLE_OK) {
    out.error = curl_easy_strerror(rc);
  }
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out.status);
  curl_easy_getinfo(c, CURLINFO_NUM_CONNECTS, &out.new_connections);
  return out;
}

int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  int port = ntohs(addr.sin_port);
  close(fd);
  return port;
}

std::string TestDbConninfo() {
  const char* v = std::getenv("CARNET_TEST_DB");
  if (!v) ADD_FAILURE() << "CARNET_TEST_DB is not set: run the tests through ./carnet test";
  return v ? v : "host=/nonexistent dbname=none";
}

std::string TestPgDir() {
  const char* v = std::getenv("CARNET_TEST_PG_DIR");
  if (!v) ADD_FAILURE() << "CARNET_TEST_PG_DIR is not set: run the tests through ./carnet test";
  return v ? v : "/nonexistent";
}

bool PgCtl(const std::string& cmd) {
  std::string line = std::string(CARNET_SOURCE_DIR) + "/scripts/pg.sh " + cmd + " '" + TestPgDir() +
                     "' >/dev/null 2>&1";
  return std::system(line.c_str()) == 0;
}

GatewayProcess* SharedGatewayTest::gateway_ = nullptr;

void SharedGatewayTest::SetUpTestSuite() {
  gateway_ = new GatewayProcess();
  ASSERT_TRUE(gateway_->WaitHealthy()) << gateway_->Log();
}

void SharedGatewayTest::TearDownTestSuite() {
  delete gateway_;
  gateway_ = nullptr;
}

GatewayProcess::GatewayProcess(std::vector<std::string> extra_flags) : port_(FreePort()) {
  log_path_ = ::testing::TempDir() + "/carnet-gateway-" + std::to_string(port_) + ".log";
  std::vector<std::string> args = {
      CARNET_GATEWAY_BINARY, "serve",          "--port", std::to_string(port_), "--db",
      TestDbConninfo(),      "--debug-routes", "true",   "--shutdown-grace-ms", "10000",
      "--trust-dev-key",     "true",           "--data", TestKeysDir()};
  args.insert(args.end(), extra_flags.begin(), extra_flags.end());
  pid_ = fork();
  if (pid_ == 0) {
    // A test binary that crashes must not leave gateways behind (they would keep serving the
    // shared test database with an old binary).
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    int fd = open(log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(fd, 1);
    dup2(fd, 2);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
}

GatewayProcess::~GatewayProcess() {
  if (running()) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
}

bool GatewayProcess::running() {
  if (pid_ <= 0 || exit_status_ != -1) return false;
  int status = 0;
  pid_t r = waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    exit_status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return false;
  }
  return true;
}

bool GatewayProcess::WaitHealthy(std::chrono::milliseconds timeout) {
  HttpClient client;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (!running()) return false;
    if (client.Get(base_url() + "/healthz").status == 200) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

int GatewayProcess::Terminate(std::chrono::milliseconds timeout) {
  if (running()) kill(pid_, SIGTERM);
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (running() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  return running() ? -1 : exit_status_;
}

void GatewayProcess::Kill() {
  if (!running()) return;
  kill(pid_, SIGKILL);
  int status = 0;
  waitpid(pid_, &status, 0);
  exit_status_ = 128 + SIGKILL;
}

Subprocess::Subprocess(std::vector<std::string> argv) {
  pid_ = fork();
  if (pid_ == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    int fd = open("/dev/null", O_WRONLY);
    dup2(fd, 1);
    dup2(fd, 2);
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
}

Subprocess::~Subprocess() {
  if (pid_ <= 0) return;
  kill(pid_, SIGTERM);
  for (int i = 0; i < 100; ++i) {
    if (waitpid(pid_, nullptr, WNOHANG) == pid_) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
}

bool Subprocess::running() { return pid_ > 0 && waitpid(pid_, nullptr, WNOHANG) == 0; }

bool WaitForPort(int port, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bool ok = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    close(fd);
    if (ok) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

std::string GatewayProcess::Log() const {
  std::ifstream in(log_path_);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

JsonValue Parse(const std::string& text) {
  auto r = ParseJson(text);
  EXPECT_TRUE(r.ok()) << r.status().ToString() << "\n" << text.substr(0, 500);
  return r.ok() ? std::move(r).value() : JsonValue();
}

CommandRun RunCommand(const std::string& command, bool with_stderr) {
  CommandRun r;
  FILE* p = popen((command + (with_stderr ? " 2>&1" : " 2>/dev/null")).c_str(), "r");
  if (!p) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  int status = pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

std::string Base64Sha1(const std::string& bytes) {
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), digest);
  return Base64Encode(std::string(reinterpret_cast<const char*>(digest), SHA_DIGEST_LENGTH));
}

namespace {
std::string FormBody(const std::vector<std::pair<std::string, std::string>>& params) {
  std::string q;
  for (const auto& [k, v] : params)
    q += (q.empty() ? "" : "&") + PercentEncode(k) + "=" + PercentEncode(v);
  return q;
}
}  // namespace

std::string LocationQueryParam(const HttpResult& r, const std::string& name) {
  auto it = r.headers.find("location");
  if (it == r.headers.end()) return "";
  auto q = it->second.find('?');
  if (q == std::string::npos) return "";
  for (const auto& [k, v] : ParseQuery(it->second.substr(q + 1)))
    if (k == name) return v;
  return "";
}

std::string RegisterSmartApp(const std::string& base_url, const std::string& operator_token,
                             const SmartApp& app) {
  HttpClient client;
  client.SetBearer("");
  auto r = client.Request(
      "POST", base_url + "/apps", {Auth(operator_token), "Content-Type: application/json"},
      R"({"client_id":")" + JsonEscape(app.client_id) + R"(","name":")" + JsonEscape(app.name) +
          R"(","publisher":"Éditeur de test","description":"Une appli de test","category":"objets connectés","redirect_uris":[")" +
          JsonEscape(app.redirect_uri) + R"("],"scope":")" + JsonEscape(app.catalogue_scope) +
          R"(","client_type":"public"})");
  if (r.status == 201 || r.status == 200) return "";
  return "POST /apps: " + std::to_string(r.status) + " " + r.body.substr(0, 600);
}

SmartLaunchResult SmartLaunch(const std::string& base_url, const std::string& login,
                              const SmartApp& app, const std::string& scopes) {
  SmartLaunchResult out;
  HttpClient client;
  client.SetBearer("");
  const std::string verifier = RandomHex(32);  // 64 characters, within RFC 7636's 43..128
  const std::string challenge = profiles::Base64UrlEncode(profiles::Sha256Digest(verifier));
  out.state = "st-" + RandomHex(8);
  std::vector<std::pair<std::string, std::string>> form = {{"response_type", "code"},
                                                           {"client_id", app.client_id},
                                                           {"redirect_uri", app.redirect_uri},
                                                           {"state", out.state},
                                                           {"code_challenge", challenge},
                                                           {"code_challenge_method", "S256"},
                                                           {"aud", base_url + "/fhir"},
                                                           {"scope", scopes},
                                                           {"decision", "approve"}};
  auto approved = client.Request("POST", base_url + "/oauth/authorize",
                                 {Auth(login), "Content-Type: application/x-www-form-urlencoded"},
                                 FormBody(form));
  auto location = approved.headers.find("location");
  if (approved.status != 302 || location == approved.headers.end() ||
      location->second.rfind(app.redirect_uri + "?", 0) != 0) {
    out.error = "authorize: " + std::to_string(approved.status) + " " +
                (location == approved.headers.end() ? "" : location->second + " ") +
                approved.body.substr(0, 600);
    return out;
  }
  if (LocationQueryParam(approved, "state") != out.state) {
    out.error = "authorize: the state did not come back: " + location->second;
    return out;
  }
  out.code = LocationQueryParam(approved, "code");
  if (out.code.empty()) {
    out.error = "authorize: no code: " + location->second;
    return out;
  }
  auto token = client.Request("POST", base_url + "/oauth/token",
                              {"Content-Type: application/x-www-form-urlencoded"},
                              FormBody({{"grant_type", "authorization_code"},
                                        {"code", out.code},
                                        {"redirect_uri", app.redirect_uri},
                                        {"client_id", app.client_id},
                                        {"code_verifier", verifier}}));
  auto json = ParseJson(token.body);
  if (token.status != 200 || !json.ok() || json->GetString("access_token").empty()) {
    out.error = "token: " + std::to_string(token.status) + " " + token.body.substr(0, 600);
    return out;
  }
  out.access_token = json->GetString("access_token");
  out.refresh_token = json->GetString("refresh_token");
  out.patient = json->GetString("patient");
  out.scope = json->GetString("scope");
  return out;
}

HttpResult SmartRefresh(const std::string& base_url, const std::string& client_id,
                        const std::string& refresh_token) {
  HttpClient client;
  client.SetBearer("");
  return client.Request("POST", base_url + "/oauth/token",
                        {"Content-Type: application/x-www-form-urlencoded"},
                        FormBody({{"grant_type", "refresh_token"},
                                  {"refresh_token", refresh_token},
                                  {"client_id", client_id}}));
}

}  // namespace carnet::testing
