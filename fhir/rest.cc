// FhirApi: content negotiation, dispatch through the route table (fhir/routes.h) to the
// handlers of each concern, and the HTTP answer (status, ETag, Location, Prefer).
#include "fhir/rest.h"

#include <algorithm>

#include "base/strings.h"
#include "fhir/format.h"
#include "fhir/outcome.h"
#include "fhir/rest_impl.h"
#include "fhir/routes.h"

namespace carnet::fhir {

std::vector<std::string> SplitPath(const std::string& path) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < path.size()) {
    size_t slash = path.find('/', start);
    std::string seg =
        path.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
    if (!seg.empty()) out.push_back(PercentDecode(seg, false));
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  return out;
}

std::string ETag(int version) { return "W/\"" + std::to_string(version) + "\""; }

PreferReturn ParsePrefer(const HttpRequest& req) {
  const std::string* p = req.Header("Prefer");
  if (!p) return PreferReturn::kRepresentation;
  if (p->find("return=minimal") != std::string::npos) return PreferReturn::kMinimal;
  if (p->find("return=OperationOutcome") != std::string::npos) return PreferReturn::kOutcome;
  return PreferReturn::kRepresentation;
}

// An empty Bundle of `type` with a fresh id.
JsonValue NewBundle(const char* type) {
  JsonValue bundle = JsonValue::Object();
  bundle.Set("resourceType", JsonValue::String("Bundle"));
  bundle.Set("id", JsonValue::String(NewUuid()));
  bundle.Set("type", JsonValue::String(type));
  return bundle;
}

EntryResult FromWrite(const WriteResult& w) {
  EntryResult e;
  e.status = w.http_status;
  e.version = w.stored.version;
  e.last_modified = w.stored.last_updated;
  if (w.stored.version > 0)
    e.location =
        w.stored.type + "/" + w.stored.id + "/_history/" + std::to_string(w.stored.version);
  if (!w.resource.is_null()) {
    e.has_resource = true;
    e.resource = w.resource;
  }
  return e;
}

EntryResult FromError(Status st) {
  EntryResult e;
  e.status = st.http_status();
  e.error = std::move(st);
  return e;
}

EntryResult WithResource(JsonValue resource) {
  EntryResult e;
  e.has_resource = true;
  e.resource = std::move(resource);
  return e;
}

EntryResult BundleAnswer(JsonValue bundle, JsonValue entries) {
  if (!entries.items().empty()) bundle.Set("entry", std::move(entries));
  return WithResource(std::move(bundle));
}

Preconditions PreconditionsOf(const HttpRequest& req, Status* error) {
  Preconditions pre;
  if (const std::string* m = req.Header("If-Match")) {
    pre.if_match = ParseETag(*m);
    if (!pre.if_match) *error = BadRequest("If-Match must be a version ETag like W/\"3\"");
  }
  if (const std::string* c = req.Header("If-None-Exist")) pre.if_none_exist = *c;
  return pre;
}

int FhirContext::CountParam(const QueryParams& query, Status* error) const {
  int count = options.default_count;
  for (const auto& [k, v] : query) {
    if (k != "_count") continue;
    if (v.empty() || v.size() > 6 || v.find_first_not_of("0123456789") != std::string::npos) {
      *error = BadRequest("_count must be a whole number");
      return count;
    }
    count = std::min(std::stoi(v), options.max_count);
  }
  return count;
}

JsonValue WarningOutcome(const std::vector<profiles::AccessSession::Warning>& warnings) {
  if (warnings.empty()) return OutcomeFromStatus(Status::Ok());
  std::vector<OutcomeIssue> issues;
  for (const auto& w : warnings)
    issues.push_back({"warning", "business-rule", w.message, w.location, ""});
  return MakeOperationOutcome(issues);
}

class FhirApi::Impl {
 public:
  Impl(storage::Pool& pool, FhirOptions options)
      : options_(std::move(options)), interactions_(pool), ctx_{pool, options_, interactions_} {}

  HttpResponse Handle(const HttpRequest& req, Session& session);

 private:
  // The route table's row for the request, run (fhir/routes.h).
  EntryResult Dispatch(Session& session, const HttpRequest& req,
                       const std::vector<std::string>& segs, const QueryParams& query);
  HttpResponse Respond(const HttpRequest& req, const Negotiated& n, const EntryResult& e,
                       PreferReturn prefer);

  FhirOptions options_;
  Interactions interactions_;
  FhirContext ctx_;
};

FhirApi::FhirApi(storage::Pool& pool, FhirOptions options)
    : impl_(std::make_unique<Impl>(pool, std::move(options))) {}
FhirApi::~FhirApi() = default;
HttpResponse FhirApi::Handle(const HttpRequest& req, Session& session) {
  return impl_->Handle(req, session);
}

HttpResponse FhirApi::Unauthorized(const HttpRequest& req, const Status& why) {
  QueryParams query = ParseQuery(req.query);
  auto negotiated = NegotiateResponse(req, query);
  // The reason `why` goes to the log and the audit (server/gateway.cc Authenticate): the
  // caller learns only that it must authenticate (RFC 6750 section 3).
  HttpResponse r = RenderError(
      Status(ErrorCode::kUnauthorized, "authentication required: send a valid Bearer token"),
      negotiated.ok() ? *negotiated : Negotiated{});
  (void)why;
  r.SetHeader("WWW-Authenticate", "Bearer realm=\"carnet\", error=\"invalid_token\"");
  return r;
}

bool FhirApi::IsPublic(const HttpRequest& req) {
  std::string rest = req.path.size() > 5 ? req.path.substr(5) : "";
  auto segs = SplitPath(rest);
  return segs.size() == 1 && segs[0] == "metadata" && req.method == "GET";
}

HttpResponse FhirApi::Impl::Handle(const HttpRequest& req, Session& session) {
  QueryParams query = ParseQuery(req.query);
  std::string rest = req.path.size() > 5 ? req.path.substr(5) : "";
  auto segs = SplitPath(rest);
  auto negotiated = NegotiateResponse(req, query);
  // A Binary read answers in the content's own type whatever the client accepts (IHE MHD
  // ITI-68 sends the document's mime type, or */*); errors then come as JSON.
  bool binary_read =
      segs.size() == 2 && segs[0] == "Binary" && (req.method == "GET" || req.method == "HEAD");
  // An operation with a non-FHIR form (the agenda's iCalendar feed, the summary's PDF) decides
  // it itself; its errors come as JSON.
  bool native_form =
      (!segs.empty() && segs.back() == "$agenda" && WantsCalendar(req, query)) ||
      (segs.size() == 3 && segs[0] == "Patient" && segs[2] == "$summary" && AsksForPdf(req, query));
  if (!negotiated.ok() && (binary_read || native_form)) negotiated = Negotiated{};
  if (!negotiated.ok()) return RenderError(negotiated.status(), Negotiated{});
  const Negotiated& n = *negotiated;
  EntryResult e = Dispatch(session, req, segs, query);
  // Refusals leave their audit record before the answer leaves; if they cannot, nothing
  // leaves but a 503.
  Status audited = session.FlushRefusals(ctx_.pool);
  if (!audited.ok()) return RenderError(audited, n);
  // What the write path had to say about a write that succeeded (a transaction's entries
  // took theirs already, each in its response.outcome).
  if (e.error.ok() && e.warnings.empty()) e.warnings = session.TakeWarnings();
  return Respond(req, n, e, ParsePrefer(req));
}

EntryResult FhirApi::Impl::Dispatch(Session& session, const HttpRequest& req,
                                    const std::vector<std::string>& segs,
                                    const QueryParams& query) {
  RouteMatch m = MatchRoute(req.method, segs, !req.query.empty(), req.path);
  Call call{session,         req, query, std::move(m.type), std::move(m.id), std::move(m.vid),
            std::move(m.op), {}};
  if (m.if_match_first) {
    Status pre_error;
    call.pre = PreconditionsOf(req, &pre_error);
    if (!pre_error.ok()) return FromError(pre_error);
  }
  if (!m.route) {
    EntryResult e = FromError(m.error);
    e.location = m.allow;  // Respond answers it as the Allow header of a 405
    return e;
  }
  return m.route->handler(ctx_, call);
}

HttpResponse FhirApi::Impl::Respond(const HttpRequest& req, const Negotiated& n,
                                    const EntryResult& e, PreferReturn prefer) {
  if (!e.error.ok()) {
    HttpResponse r = e.xds_error_codes ? RenderResource(e.error.http_status(),
                                                        OutcomeFromStatus(e.error, true), n)
                                       : RenderError(e.error, n);
    if (e.error.code() == ErrorCode::kMethodNotAllowed) r.SetHeader("Allow", e.location);
    return r;
  }
  HttpResponse r;
  bool write = req.method == "POST" || req.method == "PUT" || req.method == "PATCH";
  if (e.status == 304 || e.status == 204) {
    r.status = e.status;
  } else if (write && prefer == PreferReturn::kMinimal && !e.location.empty()) {
    r.status = e.status;
  } else if (write && prefer == PreferReturn::kOutcome && !e.location.empty()) {
    r = RenderResource(e.status, WarningOutcome(e.warnings), n);
  } else if (!e.native_type.empty()) {
    r.status = e.status;
    r.content_type = e.native_type;
    r.body = e.native_body;
  } else if (!e.resource_json.empty()) {
    r = RenderStoredJson(e.status, e.resource_json, n);
  } else if (e.has_resource) {
    r = RenderResource(e.status, e.resource, n);
  } else {
    r.status = e.status;
  }
  for (const auto& [name, value] : e.headers) r.SetHeader(name, value);
  if (e.version > 0) r.SetHeader("ETag", ETag(e.version));
  if (!e.last_modified.empty()) r.SetHeader("Last-Modified", HttpDateFromInstant(e.last_modified));
  if (!e.location.empty() && (e.status == 201 || write))
    r.SetHeader(e.status == 201 ? "Location" : "Content-Location",
                options_.base_url + "/" + e.location);
  return r;
}

}  // namespace carnet::fhir
