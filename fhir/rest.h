// The FHIR R4 REST API at /fhir: routing, HTTP semantics (versions, preconditions, Prefer),
// batch and transaction Bundles, history, operations and the CapabilityStatement.
#pragma once

#include <memory>
#include <string>

#include "base/http.h"
#include "fhir/interactions.h"
#include "fhir/search_query.h"
#include "prevention/rules.h"
#include "profiles/access.h"
#include "storage/pool.h"

namespace carnet::fhir {

struct FhirOptions {
  // Absolute base of the API as clients reach it ("http://127.0.0.1:8080/fhir"); used in
  // Location headers, fullUrls and paging links.
  std::string base_url = "http://127.0.0.1:8080/fhir";
  int default_count = 20;
  int max_count = 1000;
  SearchLimits search_limits;
  // The prevention tables of Patient/[id]/$reminders; nullptr: those compiled in.
  const prevention::PreventionRules* prevention_rules = nullptr;
};

class FhirApi {
 public:
  FhirApi(storage::Pool& pool, FhirOptions options);
  ~FhirApi();

  // Handles a request whose path starts with /fhir, for the authenticated actor behind
  // `session`: every read and write asks the session (the policy decision point) and
  // leaves its audit record.
  HttpResponse Handle(const HttpRequest& req, profiles::AccessSession& session);

  // The only request served without an identity: GET /fhir/metadata.
  static bool IsPublic(const HttpRequest& req);
  // 401 with an OperationOutcome and `WWW-Authenticate: Bearer`; `why` is for the log.
  static HttpResponse Unauthorized(const HttpRequest& req, const Status& why);

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace carnet::fhir
