#include "fhir/outcome.h"

#include "base/log.h"

namespace carnet::fhir {

JsonValue MakeOperationOutcome(const std::vector<OutcomeIssue>& issues) {
  JsonValue oo = JsonValue::Object();
  oo.Set("resourceType", JsonValue::String("OperationOutcome"));
  JsonValue list = JsonValue::Array();
  for (const auto& i : issues) {
    JsonValue issue = JsonValue::Object();
    issue.Set("severity", JsonValue::String(i.severity));
    issue.Set("code", JsonValue::String(i.code.empty() ? "processing" : i.code));
    if (!i.details_text.empty()) {
      JsonValue details = JsonValue::Object();
      details.Set("text", JsonValue::String(i.details_text));
      issue.Set("details", std::move(details));
    }
    if (!i.diagnostics.empty()) issue.Set("diagnostics", JsonValue::String(i.diagnostics));
    if (!i.expression.empty()) {
      JsonValue expr = JsonValue::Array();
      expr.Append(JsonValue::String(i.expression));
      issue.Set("expression", std::move(expr));
    }
    list.Append(std::move(issue));
  }
  if (list.items().empty()) {
    JsonValue issue = JsonValue::Object();
    issue.Set("severity", JsonValue::String("information"));
    issue.Set("code", JsonValue::String("informational"));
    issue.Set("diagnostics", JsonValue::String("All OK"));
    list.Append(std::move(issue));
  }
  oo.Set("issue", std::move(list));
  return oo;
}

JsonValue OutcomeFromStatus(const Status& status, bool xds_error_codes) {
  OutcomeIssue issue;
  const ErrorInfo& info = ErrorInfoFor(status.code());
  issue.severity = status.ok() ? "information" : (info.http_status >= 500 ? "fatal" : "error");
  issue.code = std::string(info.fhir_code);
  issue.diagnostics = status.ok() ? "All OK" : PublicMessage(status);
  issue.expression = status.location();
  if (xds_error_codes && !status.ok()) issue.details_text = std::string(info.xds_code);
  std::vector<OutcomeIssue> issues = {issue};
  // A server error's details are the operator's, like its message (PublicMessage logged it).
  if (IsServerError(status)) return MakeOperationOutcome(issues);
  for (const auto& d : status.details()) {
    OutcomeIssue more = issue;
    more.diagnostics = d.message;
    more.expression = d.location;
    if (!d.issue_code.empty()) more.code = d.issue_code;
    if (!d.severity.empty()) more.severity = d.severity;
    issues.push_back(std::move(more));
  }
  return MakeOperationOutcome(issues);
}

}  // namespace carnet::fhir
