#include "fhir/routes.h"

#include <algorithm>
#include <optional>

#include "base/strings.h"
#include "fhir/interactions.h"
#include "fhir/rest_impl.h"
#include "model/structure.h"
#include "profiles/record_choices.h"

namespace carnet::fhir {

const std::vector<Route>& Routes() {
  static const std::vector<Route> kRoutes = {
      // The base: system search, batch and transaction.
      {"GET", "/", SearchSystem, "GET"},
      {"POST", "/", ProcessBundle, "POST"},
      {"GET", "/metadata", Capabilities, "GET"},
      {"GET", "/$access-decisions", AccessDecisions, "GET"},
      {"*", "/metadata/*", nullptr, "GET"},
      {"GET", "/_history", SystemHistory, "GET"},
      {"*", "/_history/*", nullptr, "GET"},
      // Type level. carnet's own OperationDefinitions are found beside the stored ones.
      {"GET", "/OperationDefinition", SearchOperationDefinitions, "GET"},
      {"GET", "/{type}", SearchType, "GET"},
      {"POST", "/{writable}", CreateResource, "POST"},
      {"PUT", "/{writable}", ConditionalUpdate, "PUT?criteria", kNeedsQuery},
      {"DELETE", "/{writable}", ConditionalDelete, "DELETE?criteria", kNeedsQuery},
      {"POST", "/{type}/_search", SearchTypePost, "POST"},
      {"GET", "/{type}/_history", TypeHistory, "GET"},
      {"POST", "/DocumentReference/$deposit", DepositDocument, "POST"},
      {"POST", "/{type}/$validate", ValidateResource, "POST"},
      // Instance level. carnet's own OperationDefinitions are read from its data.
      {"GET", "/OperationDefinition/{id}", ReadOperationDefinition, "GET", kIfMatchFirst},
      {"HEAD", "/OperationDefinition/{id}", ReadOperationDefinition, "", kIfMatchFirst},
      {"GET", "/{type}/{id}", ReadInstance, "GET", kIfMatchFirst},
      {"HEAD", "/{type}/{id}", ReadInstance, "", kIfMatchFirst},
      {"PUT", "/{writable}/{id}", UpdateResource, "PUT", kIfMatchFirst},
      {"PATCH", "/{writable}/{id}", PatchResource, "PATCH", kIfMatchFirst},
      {"DELETE", "/{writable}/{id}", DeleteResource, "DELETE", kIfMatchFirst},
      {"GET", "/{type}/{id}/_history", InstanceHistory, "GET"},
      {"GET", "/{type}/{id}/_history/{vid}", ReadVersion, "GET"},
      {"GET", "/{type}/{id}/_history/{vid}/*", nullptr, ""},
      {"*", "/{type}/{id}/_history/{vid}/*", nullptr, "GET"},
      {"POST", "/{type}/{id}/$validate", ValidateResource, "POST"},
      {"GET", "/Patient/{id}/$everything", PatientEverything, "GET"},
      {"GET", "/Patient/{id}/$agenda", PatientAgenda, "GET"},
      {"GET", "/Patient/{id}/$profile", PatientProfile, "GET"},
      {"GET", "/Patient/{id}/$reminders", PatientReminders, "GET"},
      {"GET", "/Patient/{id}/$summary", PatientSummary, "GET"},
      {"POST", "/Communication/{id}/$mark-read", MessageMarkRead, "POST"},
      {"POST", "/Communication/{id}/$file-attachment", MessageFileAttachment, "POST"},
      {"POST", "/{type}/{id}/$meta-add", MetaAdd, "POST"},
      {"POST", "/{type}/{id}/$meta-delete", MetaDelete, "POST"},
      {"POST", "/Patient/{id}/$agenda-link", AgendaLink, "POST"},
      {"POST", "/Patient/{id}/$profile-visibility", ProfileVisibility, "POST"},
      {"GET", "/Patient/{id}/$record-settings", RecordSettings, "GET"},
      {"POST", "/Patient/{id}/{choice}", RecordChoice, "POST"},
      {"GET", "/Patient/{id}/{compartment}", SearchCompartment, "GET"},
  };
  return kRoutes;
}

namespace {

enum class PathMatch { kMatch, kMismatch, kInvalid };

struct PathResult {
  PathMatch match = PathMatch::kMismatch;
  Status invalid;  // kInvalid: the 404 the failing segment answers
  size_t at = 0;   // kInvalid: that segment's position
};

// Matches `segs` against a pattern split into `parts`, binding its variables into `out`. A variable
// whose value is malformed (a type not served, an id FHIR does not allow) makes the path invalid at
// that segment rather than merely different: it answers 404 naming what is wrong when no row
// matches.
PathResult MatchPath(const std::vector<std::string>& parts, const std::vector<std::string>& segs,
                     RouteMatch* out) {
  PathResult r;
  auto invalid = [&](size_t at, Status st) {
    r.match = PathMatch::kInvalid;
    r.invalid = std::move(st);
    r.at = at;
    return r;
  };
  for (size_t i = 0; i < parts.size(); ++i) {
    const std::string& p = parts[i];
    if (p == "*") {
      r.match = segs.size() > i ? PathMatch::kMatch : PathMatch::kMismatch;
      return r;
    }
    if (i >= segs.size()) return r;
    const std::string& s = segs[i];
    if (p == "{type}" || p == "{writable}") {
      if (!model::StructureRegistry::R4().IsResourceType(s))
        return invalid(i, NotFound("'" + s + "' is not a FHIR R4 resource type"));
      if (!IsServedType(s))
        return invalid(i, NotFound(s + " is not served by this server (see /fhir/metadata)"));
      if (p == "{writable}" && IsReadOnlyType(s)) return r;
      out->type = s;
    } else if (p == "{id}") {
      if (!IsValidFhirId(s)) return invalid(i, NotFound("'" + s + "' is not a valid resource id"));
      out->id = s;
    } else if (p == "{vid}") {
      out->vid = s;
    } else if (p == "{choice}") {
      if (s.rfind('$', 0) != 0 || !profiles::IsRecordChoice(s.substr(1))) return r;
      out->op = s.substr(1);
    } else if (p == "{compartment}") {
      if (!IsServedType(s)) return r;
      out->op = s;
    } else if (p != s) {
      return r;
    }
  }
  if (segs.size() == parts.size()) r.match = PathMatch::kMatch;
  return r;
}

}  // namespace

RouteMatch MatchRoute(const std::string& method, const std::vector<std::string>& segments,
                      bool has_query, const std::string& path) {
  RouteMatch result;
  std::vector<const Route*> on_path;  // the rows whose pattern matches, whatever the method
  std::optional<PathResult> first_invalid;
  // The patterns' segments, split once.
  static const std::vector<std::vector<std::string>> kPatterns = [] {
    std::vector<std::vector<std::string>> out;
    for (const Route& route : Routes()) out.push_back(SplitPath(std::string(route.pattern)));
    return out;
  }();
  for (size_t row = 0; row < Routes().size(); ++row) {
    const Route& route = Routes()[row];
    RouteMatch bound;
    PathResult m = MatchPath(kPatterns[row], segments, &bound);
    if (m.match == PathMatch::kInvalid && (!first_invalid || m.at < first_invalid->at))
      first_invalid = m;
    if (m.match != PathMatch::kMatch) continue;
    on_path.push_back(&route);
    if (route.flags & kIfMatchFirst) result.if_match_first = true;
    if (result.route || !result.error.ok()) continue;  // already decided; keep the flags
    bool method_ok = route.method == "*" || route.method == method;
    if (!method_ok || ((route.flags & kNeedsQuery) && !has_query)) continue;
    if (route.handler) {
      result.route = &route;
      result.type = std::move(bound.type);
      result.id = std::move(bound.id);
      result.vid = std::move(bound.vid);
      result.op = std::move(bound.op);
    } else if (!route.allow.empty()) {
      result.allow = std::string(route.allow);
      result.error =
          Status(ErrorCode::kMethodNotAllowed, "method not allowed here; allowed: " + result.allow);
    } else {
      result.error = NotFound("no such FHIR endpoint: " + path);
    }
  }
  if (result.route || !result.error.ok()) return result;
  if (on_path.empty()) {
    result.error =
        first_invalid ? first_invalid->invalid : NotFound("no such FHIR endpoint: " + path);
    return result;
  }
  // The path is served, not with this method: Allow names what is.
  std::vector<std::string_view> named;
  for (const Route* r : on_path) {
    if (r->allow.empty() || std::find(named.begin(), named.end(), r->allow) != named.end())
      continue;
    named.push_back(r->allow);
    result.allow += std::string(result.allow.empty() ? "" : ", ") + std::string(r->allow);
  }
  result.error =
      Status(ErrorCode::kMethodNotAllowed, "method not allowed here; allowed: " + result.allow);
  return result;
}

}  // namespace carnet::fhir
