#include "base/log.h"

#include <chrono>
#include <cstdio>
#include <mutex>

#include "base/strings.h"

namespace carnet {
namespace {
thread_local std::string current_request_id;
}  // namespace

void LogLine(const std::string& line) {
  static std::mutex mu;
  std::lock_guard<std::mutex> lock(mu);
  std::fwrite(line.data(), 1, line.size(), stdout);
  std::fputc('\n', stdout);
  std::fflush(stdout);
}

RequestScope::RequestScope(std::string id) : previous_(std::move(current_request_id)) {
  current_request_id = std::move(id);
}

RequestScope::~RequestScope() { current_request_id = std::move(previous_); }

const std::string& CurrentRequestId() { return current_request_id; }

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
