#include "base/log.h"

#include <syslog.h>

#include <chrono>
#include <cstdio>
#include <mutex>

#include "base/log_target.h"
#include "base/strings.h"

namespace carnet {
namespace {
thread_local std::string current_request_id;
thread_local RequestNotes current_notes;
bool log_to_stdout = true;
bool log_to_syslog = false;

int SyslogPriority(const std::string& line) {
  if (line.find("\"level\":\"error\"") != std::string::npos) return LOG_ERR;
  if (line.find("\"level\":\"warning\"") != std::string::npos) return LOG_WARNING;
  return LOG_INFO;
}
}  // namespace

void SetLogTarget(bool to_stdout, bool to_syslog) {
  log_to_stdout = to_stdout;
  log_to_syslog = to_syslog;
  if (to_syslog) openlog("carnet", LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void LogLine(const std::string& line) {
  if (log_to_syslog) syslog(SyslogPriority(line), "%s", line.c_str());  // thread-safe itself
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
