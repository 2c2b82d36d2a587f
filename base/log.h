// The gateway's log (one JSON line per record on stdout), the request a worker thread is
// serving, and what a caller may be told about a server-side failure.
//
// A 5xx answer must not carry what only an operator should see (PostgreSQL's text, socket
// paths, file names): its detail goes to the log under the request id, and the caller gets a
// fixed sentence naming that id (X-Request-Id), so that the two can be matched.
#pragma once

#include <string>

#include "base/status.h"

namespace carnet {

// Writes one line to stdout, whole, even when several threads log at once.
void LogLine(const std::string& line);

// What the layers above learn while serving a request and its log line carries (server/
// writes the line after the answer). One slot per request, filled by whichever layer knows
// the value; never medical content. Empty fields are left out of the line.
struct RequestNotes {
  std::string actor_kind;  // the caller's actor kind (professional, patient, app...)
  std::string actor;       // a stable pseudonym of the caller's id, never the id itself
  std::string decision;    // the policy's answer: "permit" or "deny"
  std::string reason;      // why, as a reason code a helpdesk can look up
  std::string xds_status;  // an XDS answer's RegistryResponse status (Success, Failure...)
  std::string xds_errors;  // its error codes, comma-separated
};

// Marks the current thread as serving request `id` for the scope's lifetime (set by server/
// around the handler; the renderers of errors read it).
class RequestScope {
 public:
  explicit RequestScope(std::string id);
  ~RequestScope();
  RequestScope(const RequestScope&) = delete;
  RequestScope& operator=(const RequestScope&) = delete;

 private:
  std::string previous_;
  RequestNotes previous_notes_;
};

// The id of the request the current thread serves; empty outside one.
const std::string& CurrentRequestId();

// The notes of the request the current thread serves; a scratch slot outside one. A
// RequestScope starts them empty and restores the enclosing request's on exit.
RequestNotes& CurrentRequestNotes();

// `notes` as JSON members (",\"name\":\"value\"" for each non-empty field), for a log line.
std::string RequestNotesJson(const RequestNotes& notes);

// True for the errors whose text is for the operator, not the caller (HTTP 5xx).
bool IsServerError(const Status& status);

// The message a caller may see for `status`: its own message, or, for a server error, a fixed
// sentence per code naming the request id, after logging the detail with that id.
std::string PublicMessage(const Status& status);

}  // namespace carnet
