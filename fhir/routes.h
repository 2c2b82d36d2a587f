// The FHIR REST API's route table, in Orthanc's manner (Register("/changes", GetChanges)):
// one row per (method, path pattern) -> handler, and the matcher that picks a row for a
// request. The handlers live in the files of their concern (fhir/rest_impl.h).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace carnet::fhir {

struct FhirContext;
struct Call;
struct EntryResult;
using Handler = EntryResult (*)(const FhirContext&, Call&);

// Row flags.
enum RouteFlag : unsigned {
  // The row serves only a request with a query string (conditional PUT/DELETE [type]?criteria).
  kNeedsQuery = 1,
  // If-Match is checked before the method: a malformed one answers 400 whatever the method.
  kIfMatchFirst = 2,
};

// Pattern segments below /fhir: a literal ("_history", "$validate", "Patient"), or a
// variable the matcher checks:
//   {type}         a served resource type; else 404 (not an R4 type / not served here)
//   {writable}     a {type} that is not read-only (AuditEvent); else the row does not match
//   {id}, {vid}    a valid FHIR id (else 404); a version, as given (the read decides)
//   {choice}       $ and a choice on a record (profiles/record_choices.h)
//   {compartment}  a served type, as in Patient/[id]/[type]
//   *              last: one or more further segments
struct Route {
  std::string_view method;   // "GET", "POST"...; "*": any method
  std::string_view pattern;  // "/{type}/{id}/_history/{vid}"; "/" is the base
  // nullptr: the row keeps the answer of a path beyond a route: 405 with `allow` when it
  // names methods, else 404.
  Handler handler;
  // How the row is named in the Allow header of a 405 ("PUT?criteria"); "": not named.
  std::string_view allow;
  unsigned flags = 0;
};

// Every route, in the order the matcher tries them.
const std::vector<Route>& Routes();

struct RouteMatch {
  // The row to run; nullptr with `error` set: the request answers `error` (404 no such
  // endpoint or bad type/id, 405 with `allow`).
  const Route* route = nullptr;
  Status error;
  std::string allow;  // for a 405
  // Values bound by the pattern.
  std::string type, id, vid, op;
  bool if_match_first = false;  // some row of the path carries kIfMatchFirst
};

// The row for `method` on `segments` (the path below /fhir, split and decoded); `path` is
// the request's path as sent, for the 404's message.
RouteMatch MatchRoute(const std::string& method, const std::vector<std::string>& segments,
                      bool has_query, const std::string& path);

}  // namespace carnet::fhir
