#include "base/log.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <mutex>

#include "base/log_target.h"
#include "base/strings.h"

namespace carnet {
namespace {
thread_local std::string current_request_id;
thread_local RequestNotes current_notes;
bool log_to_stdout = true;
bool log_to_syslog = false;

// The syslog socket: one connected datagram socket shared by every thread (send(2) of one
// datagram is atomic), reopened under `mu` when a send fails.
struct SyslogSink {
  std::mutex mu;
  std::string path;
  int fd = -1;

  void Open() {  // under mu
    if (fd >= 0) close(fd);
    fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return;
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
    if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      close(fd);
      fd = -1;
    }
  }
  void Send(const std::string& datagram) {
    int current;
    {
      std::lock_guard<std::mutex> lock(mu);
      if (fd < 0) Open();
      current = fd;
    }
    if (current >= 0 && send(current, datagram.data(), datagram.size(), MSG_NOSIGNAL) >= 0) return;
    std::lock_guard<std::mutex> lock(mu);
    if (fd == current) Open();  // not reopened by another thread meanwhile
    if (fd >= 0) (void)send(fd, datagram.data(), datagram.size(), MSG_NOSIGNAL);
  }
};
SyslogSink& Sink() {
  static SyslogSink* sink = new SyslogSink();  // never destroyed: lines may come at exit
  return *sink;
}

std::string SyslogDatagram(const std::string& line, int priority) {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  localtime_r(&now, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%b %e %H:%M:%S", &tm);  // RFC 3164 TIMESTAMP
  return "<" + std::to_string(LOG_DAEMON | priority) + ">" + stamp + " carnet[" +
         std::to_string(getpid()) + "]: " + line;
}

int SyslogPriority(const std::string& line) {
  if (line.find("\"level\":\"error\"") != std::string::npos) return LOG_ERR;
  if (line.find("\"level\":\"warning\"") != std::string::npos) return LOG_WARNING;
  return LOG_INFO;
}
}  // namespace

void SetLogTarget(bool to_stdout, bool to_syslog, const std::string& syslog_socket) {
  log_to_stdout = to_stdout;
  log_to_syslog = to_syslog;
  if (to_syslog) {
    std::lock_guard<std::mutex> lock(Sink().mu);
    Sink().path = syslog_socket;
    Sink().Open();
  }
}

void LogLine(const std::string& line) {
  if (log_to_syslog) Sink().Send(SyslogDatagram(line, SyslogPriority(line)));
  if (!log_to_stdout) return;
  static std::mutex mu;
  std::lock_guard<std::mutex> lock(mu);
  std::fwrite(line.data(), 1, line.size(), stdout);
  std::fputc('\n', stdout);
  std::fflush(stdout);
}

RequestScope::RequestScope(std::string id)
    : previous_(std::move(current_request_id)), previous_notes_(std::move(current_notes)) {
  current_request_id = std::move(id);
  current_notes = RequestNotes{};
}

RequestScope::~RequestScope() {
  current_request_id = std::move(previous_);
  current_notes = std::move(previous_notes_);
}

const std::string& CurrentRequestId() { return current_request_id; }

RequestNotes& CurrentRequestNotes() { return current_notes; }

std::string RequestNotesJson(const RequestNotes& notes) {
  std::string out;
  auto add = [&out](const char* name, const std::string& value) {
    if (!value.empty()) out += std::string(",\"") + name + "\":\"" + JsonEscape(value) + "\"";
  };
  add("actor_kind", notes.actor_kind);
  add("actor", notes.actor);
  add("decision", notes.decision);
  add("reason", notes.reason);
  add("xds_status", notes.xds_status);
  add("xds_errors", notes.xds_errors);
  return out;
}

bool IsServerError(const Status& status) { return status.http_status() >= 500; }

std::string PublicMessage(const Status& status) {
  if (!IsServerError(status)) return status.message();
  const std::string& id = CurrentRequestId();
  LogLine("{\"time\":\"" + FormatUtc(std::chrono::system_clock::now()) +
          "\",\"level\":\"error\",\"request_id\":\"" + JsonEscape(id) + "\",\"code\":\"" +
          std::string(ErrorInfoFor(status.code()).name) + "\",\"detail\":\"" +
          JsonEscape(status.message()) + "\"}");
  std::string ref = id.empty() ? "" : " (request id " + id + ")";
  switch (status.code()) {
    case ErrorCode::kUnavailable:
      return "the service is temporarily unavailable; retry later" + ref;
    case ErrorCode::kTimeout:
      return "the request took longer than this server allows and was cancelled; narrow it or "
             "retry later" +
             ref;
    default:
      return "internal error" + ref + "; the details are in the gateway's log";
  }
}

}  // namespace carnet
