#include "server/observability.h"

#include <dirent.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <mutex>
#include <set>
#include <vector>

#include "base/log.h"
#include "base/metrics.h"
#include "model/structure.h"

#ifndef CARNET_GIT_DESCRIBE
#define CARNET_GIT_DESCRIBE "unknown"
#endif
#ifndef CARNET_DEFINITIONS_PACKAGE
#define CARNET_DEFINITIONS_PACKAGE "unknown"
#endif

namespace carnet {
namespace {

std::vector<std::string> Segments(const std::string& path, size_t from) {
  std::vector<std::string> out;
  size_t i = from;
  while (i < path.size()) {
    size_t slash = path.find('/', i);
    if (slash == std::string::npos) slash = path.size();
    if (slash > i) out.push_back(path.substr(i, slash - i));
    i = slash + 1;
  }
  return out;
}

// The FHIR operations carnet serves (and those an operator is likely to probe): kept by name
// in the route; any other is "$operation".
std::string Operation(const std::string& segment) {
  static const std::set<std::string> kKnown = {"validate",
                                               "everything",
                                               "agenda",
                                               "agenda-link",
                                               "deposit",
                                               "summary",
                                               "reminders",
                                               "meta",
                                               "meta-add",
                                               "meta-delete",
                                               "profile",
                                               "profile-visibility",
                                               "mark-read",
                                               "file-attachment",
                                               "treating-physician",
                                               "oppose",
                                               "close",
                                               "reactivate",
                                               "block",
                                               "unblock",
                                               "emergency-access",
                                               "notification-preferences",
                                               "document",
                                               "expand",
                                               "lookup",
                                               "export"};
  std::string name = segment.substr(1);
  return kKnown.count(name) ? segment : "$operation";
}

std::string FhirRoute(const std::string& path) {
  std::vector<std::string> s = Segments(path, 5);  // after "/fhir"
  if (s.empty()) return "/fhir";
  std::string out = "/fhir";
  if (s[0] == "metadata" || s[0] == ".well-known") return out + "/" + s[0];
  if (s[0][0] == '$') return out + "/" + Operation(s[0]);
  out += "/" + (model::StructureRegistry::R4().IsResourceType(s[0]) ? s[0] : "{type}");
  if (s.size() == 1) return out;
  if (s[1][0] == '$')
    out += "/" + Operation(s[1]);
  else if (s[1] == "_history" || s[1] == "_search")
    out += "/" + s[1];
  else
    out += "/{id}";
  if (s.size() == 2) return out;
  if (s[2][0] == '$')
    out += "/" + Operation(s[2]);
  else if (s[2] == "_history")
    out += "/_history";
  else
    out += "/{part}";
  if (s.size() == 3) return out;
  out += s[2] == "_history" ? "/{vid}" : "/{part}";
  if (s.size() > 4) out += "/...";
  return out;
}

CounterFamily& Requests() {
  static auto& c = Metrics().Counter(
      "carnet_http_requests_total",
      "HTTP requests answered, by route template, method, status code and actor kind (none: no "
      "identity established)",
      {"route", "method", "status", "actor_kind"});
  return c;
}

HistogramFamily& Durations() {
  static auto& h = Metrics().Histogram(
      "carnet_http_request_duration_seconds",
      "time from a request's arrival to its answer being handed to the connection, by route "
      "template and method",
      {"route", "method"}, LatencyBuckets());
  return h;
}

GaugeSeries& Connections() {
  static auto& g =
      Metrics()
          .Gauge("carnet_http_connections_open", "HTTP connections open right now (all listeners)")
          .Get();
  return g;
}

std::string Method(const std::string& m) {
  static const std::set<std::string> kMethods = {"GET",   "HEAD",   "POST",   "PUT",
                                                 "PATCH", "DELETE", "OPTIONS"};
  return kMethods.count(m) ? m : "other";
}

bool IsLoopback(const std::string& peer) {
  return peer.rfind("127.", 0) == 0 || peer == "::1" || peer.rfind("::ffff:127.", 0) == 0;
}

// A comparison whose time does not depend on where the strings differ.
bool SameSecret(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

}  // namespace

std::string RouteTemplate(const std::string& path) {
  if (path == "/fhir" || path.rfind("/fhir/", 0) == 0) return FhirRoute(path);
  static const std::set<std::string> kExact = {"/healthz",
                                               "/readyz",
                                               "/metrics",
                                               "/version",
                                               "/xds/registry",
                                               "/xds/repository",
                                               "/mail/inbound",
                                               "/apps",
                                               "/oauth/jwks",
                                               "/oauth/authorize",
                                               "/oauth/token",
                                               "/oauth/revoke",
                                               "/.well-known/smart-configuration",
                                               "/espace",
                                               "/debug/sleep",
                                               "/debug/echo"};
  if (kExact.count(path)) return path;
  if (path.rfind("/agenda/", 0) == 0) return "/agenda/{secret}.ics";
  if (path.rfind("/espace/", 0) == 0) return "/espace/*";
  if (path.rfind("/apps/", 0) == 0) return "/apps/*";
  if (path.rfind("/oauth/", 0) == 0) return "/oauth/*";
  return "other";
}

void RecordRequestMetrics(const HttpRequest& req, int status, double seconds) {
  std::string route = RouteTemplate(req.path);
  std::string method = Method(req.method);
  const std::string& kind = CurrentRequestNotes().actor_kind;
  Requests().With({route, method, std::to_string(status), kind.empty() ? "none" : kind}).Inc();
  Durations().With({route, method}).Observe(seconds);
}

void NoteConnectionOpened() { Connections().Add(1); }
void NoteConnectionClosed() { Connections().Add(-1); }

void RegisterProcessMetrics() {
  static std::once_flag once;
  std::call_once(once, [] {
    auto& rss = Metrics().Gauge("process_resident_memory_bytes", "resident memory size").Get();
    auto& vsz = Metrics().Gauge("process_virtual_memory_bytes", "virtual memory size").Get();
    auto& fds =
        Metrics().Gauge("process_open_fds", "open file descriptors (sockets included)").Get();
    auto& max_fds =
        Metrics().Gauge("process_max_fds", "the open file descriptors limit (RLIMIT_NOFILE)").Get();
    auto& start = Metrics()
                      .Gauge("process_start_time_seconds",
                             "when the process started, seconds since the Unix epoch")
                      .Get();
    auto& threads = Metrics().Gauge("process_threads", "threads of the process").Get();
    start.Set(static_cast<double>(std::chrono::duration_cast<std::chrono::seconds>(
                                      std::chrono::system_clock::now().time_since_epoch())
                                      .count()));
    long page = sysconf(_SC_PAGESIZE);
    max_fds.Set(static_cast<double>(sysconf(_SC_OPEN_MAX)));
    Metrics().OnCollect([&rss, &vsz, &fds, &threads, page] {
      if (FILE* f = std::fopen("/proc/self/statm", "r")) {
        unsigned long size = 0, resident = 0;
        if (std::fscanf(f, "%lu %lu", &size, &resident) == 2) {
          vsz.Set(static_cast<double>(size) * page);
          rss.Set(static_cast<double>(resident) * page);
        }
        std::fclose(f);
      }
      if (DIR* d = opendir("/proc/self/fd")) {
        int n = 0;
        while (dirent* e = readdir(d))
          if (e->d_name[0] != '.') ++n;
        closedir(d);
        fds.Set(n - 1);  // the directory being read is one of them
      }
      if (DIR* d = opendir("/proc/self/task")) {
        int n = 0;
        while (dirent* e = readdir(d))
          if (e->d_name[0] != '.') ++n;
        closedir(d);
        threads.Set(n);
      }
    });
  });
}

bool MetricsAccessAllowed(const HttpRequest& req, const std::string& access,
                          const std::string& token) {
  if (access == "open") return true;
  if (access == "token") {
    const std::string* auth = req.Header("Authorization");
    if (!auth || token.empty() || auth->rfind("Bearer ", 0) != 0) return false;
    return SameSecret(auth->substr(7), token);
  }
  return IsLoopback(req.peer);  // "loopback", the default
}

std::string BuildVersion() { return CARNET_GIT_DESCRIBE; }
std::string DefinitionsPackage() { return CARNET_DEFINITIONS_PACKAGE; }

}  // namespace carnet
