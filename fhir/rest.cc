#include "fhir/rest.h"

#include <openssl/sha.h>

#include <algorithm>
#include <functional>
#include <map>

#include "base/strings.h"
#include "dossier/document_extraction.h"
#include "fhir/format.h"
#include "fhir/outcome.h"
#include "fhir/search.h"
#include "fhir/search_access.h"
#include "mapping/cda_entries.h"
#include "mapping/cda_header.h"
#include "mapping/document_entry.h"
#include "mapping/mhd.h"
#include "mapping/registry_index.h"
#include "profiles/notification.h"
#include "profiles/policy_store.h"
#include "profiles/record_choices.h"
#include "model/structure.h"

namespace carnet::fhir {
namespace {

using storage::StoredResource;
using storage::Transaction;
using Session = profiles::AccessSession;
using profiles::Action;
using profiles::Decision;

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

std::string QueryString(const QueryParams& query) {
  std::string out;
  for (const auto& [k, v] : query) {
    if (k == "_cursor") continue;
    out += (out.empty() ? "" : "&") + PercentEncode(k) + "=" + PercentEncode(v);
  }
  return out;
}

std::string StatusLine(int status) {
  switch (status) {
    case 200:
      return "200 OK";
    case 201:
      return "201 Created";
    case 204:
      return "204 No Content";
    case 304:
      return "304 Not Modified";
    case 400:
      return "400 Bad Request";
    case 401:
      return "401 Unauthorized";
    case 403:
      return "403 Forbidden";
    case 404:
      return "404 Not Found";
    case 405:
      return "405 Method Not Allowed";
    case 409:
      return "409 Conflict";
    case 410:
      return "410 Gone";
    case 412:
      return "412 Precondition Failed";
    case 422:
      return "422 Unprocessable Entity";
    case 503:
      return "503 Service Unavailable";
    default:
      return std::to_string(status);
  }
}

std::string ETag(int version) { return "W/\"" + std::to_string(version) + "\""; }

enum class PreferReturn { kRepresentation, kMinimal, kOutcome };

PreferReturn ParsePrefer(const HttpRequest& req) {
  const std::string* p = req.Header("Prefer");
  if (!p) return PreferReturn::kRepresentation;
  if (p->find("return=minimal") != std::string::npos) return PreferReturn::kMinimal;
  if (p->find("return=OperationOutcome") != std::string::npos) return PreferReturn::kOutcome;
  return PreferReturn::kRepresentation;
}

// Outcome of one interaction, whether it came over HTTP or from a Bundle entry.
struct EntryResult {
  Status error;  // non-OK: the interaction failed
  int status = 200;
  std::string location;  // "Patient/1/_history/2" (relative to the base)
  int version = 0;
  std::string last_modified;  // instant
  bool has_resource = false;
  JsonValue resource;         // the resource (or Bundle, OperationOutcome) to answer with
  std::string resource_json;  // stored text, when the resource was not parsed (fast path)
  std::string native_body;    // Binary content served as itself
  std::string native_type;
  bool xds_error_codes = false;  // an MHD submission: errors also carry their XDS errorCode
};

// An empty Bundle of `type` with a fresh id.
JsonValue NewBundle(const char* type) {
  JsonValue bundle = JsonValue::Object();
  bundle.Set("resourceType", JsonValue::String("Bundle"));
  bundle.Set("id", JsonValue::String(NewUuid()));
  bundle.Set("type", JsonValue::String(type));
  return bundle;
}

void AddLink(JsonValue& links, const char* relation, const std::string& url) {
  JsonValue l = JsonValue::Object();
  l.Set("relation", JsonValue::String(relation));
  l.Set("url", JsonValue::String(url));
  links.Append(std::move(l));
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

// A relative request URL, as in Bundle.entry.request.url: Type[/id[/_history/vid]][?query].
struct ParsedUrl {
  std::string type, id, vid, query, op;
  bool history = false;
};

Result<ParsedUrl> ParseEntryUrl(std::string url, const std::string& base) {
  if (url.rfind(base + "/", 0) == 0) url = url.substr(base.size() + 1);
  ParsedUrl p;
  size_t q = url.find('?');
  if (q != std::string::npos) {
    p.query = url.substr(q + 1);
    url.erase(q);
  }
  auto segs = SplitPath(url);
  if (segs.empty()) return BadRequest("request.url is empty");
  p.type = segs[0];
  if (segs.size() >= 2) {
    if (segs[1][0] == '$')
      p.op = segs[1];
    else
      p.id = segs[1];
  }
  if (segs.size() >= 3) {
    if (segs[2] == "_history")
      p.history = true;
    else if (segs[2][0] == '$')
      p.op = segs[2];
    else
      return BadRequest("request.url " + url + " is not a supported interaction");
  }
  if (segs.size() >= 4) p.vid = segs[3];
  if (segs.size() > 4) return BadRequest("request.url " + url + " has too many segments");
  return p;
}

// A Binary sent in its native form (a PDF, a CDA document...) rather than as a FHIR
// resource: the resource is built around it.
bool IsNativeBinaryBody(const HttpRequest& req) {
  const std::string* ct = req.Header("Content-Type");
  return ct && !ct->empty() && !IsFhirContentType(*ct) &&
         ct->find("application/x-www-form-urlencoded") == std::string::npos;
}

JsonValue BinaryFromNative(const HttpRequest& req, const std::string& id) {
  JsonValue b = JsonValue::Object();
  b.Set("resourceType", JsonValue::String("Binary"));
  if (!id.empty()) b.Set("id", JsonValue::String(id));
  std::string ct = *req.Header("Content-Type");
  b.Set("contentType", JsonValue::String(ct.substr(0, ct.find(';'))));
  if (const std::string* sc = req.Header("X-Security-Context")) {
    JsonValue ref = JsonValue::Object();
    ref.Set("reference", JsonValue::String(*sc));
    b.Set("securityContext", std::move(ref));
  }
  b.Set("data", JsonValue::String(Base64Encode(req.body)));
  return b;
}

// A read of Binary answers the content itself unless the client asks for FHIR (by _format
// or an Accept naming a FHIR format), as the Binary resource page recommends.
bool WantsNativeBinary(const HttpRequest& req, const QueryParams& query) {
  for (const auto& kv : query)
    if (kv.first == "_format") return false;
  const std::string* accept = req.Header("Accept");
  if (!accept) return true;
  return accept->find("fhir") == std::string::npos && accept->find("json") == std::string::npos &&
         accept->find("xml") == std::string::npos;
}

}  // namespace

class FhirApi::Impl {
 public:
  Impl(storage::Pool& pool, FhirOptions options)
      : pool_(pool), options_(std::move(options)), interactions_(pool) {}

  HttpResponse Handle(const HttpRequest& req, Session& session);

 private:
  HttpResponse Respond(const HttpRequest& req, const Negotiated& n, const EntryResult& e,
                       PreferReturn prefer);
  // Type-level and instance-level routing.
  EntryResult Route(Session& session, const HttpRequest& req, const std::vector<std::string>& segs,
                    const QueryParams& query);
  EntryResult Read(Session& session, const HttpRequest& req, const std::string& type,
                   const std::string& id, const std::string& vid);
  EntryResult WriteInTransaction(const std::function<Result<WriteResult>(Transaction&)>& op);
  EntryResult History(Session& session, const std::string& type, const std::string& id,
                      const QueryParams& query, const std::string& self_path);
  EntryResult Search(Session& session, const HttpRequest& req, const std::string& type,
                     const QueryParams& query, const std::string& compartment = "");
  EntryResult AccessHistory(Session& session, const QueryParams& query);
  EntryResult Everything(Session& session, const std::string& id, const QueryParams& query);
  EntryResult ValidateOp(const HttpRequest& req, const std::string& type, const std::string& id);
  EntryResult ProcessBundle(Session& session, const HttpRequest& req);
  Status SupersededContent(const std::string& binary_id, const std::string& binary_json);
  EntryResult ProcessBundleBody(Session& session, const HttpRequest& req, bool* mhd);
  EntryResult DepositCda(Session& session, const HttpRequest& req);
  EntryResult PatientChoice(Session& session, const HttpRequest& req, const std::string& id,
                            const std::string& op);
  EntryResult MetaSecurity(Session& session, const HttpRequest& req, const std::string& type,
                           const std::string& id, bool add);
  EntryResult Capabilities();
  Preconditions PreconditionsOf(const HttpRequest& req, Status* error);
  int CountParam(const QueryParams& query, Status* error) const;

  storage::Pool& pool_;
  FhirOptions options_;
  Interactions interactions_;
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
  // The reason stays in the log and the audit: the caller learns only that it must
  // authenticate (RFC 6750 section 3).
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
  if (!negotiated.ok() && binary_read) negotiated = Negotiated{};
  if (!negotiated.ok()) return RenderError(negotiated.status(), Negotiated{});
  const Negotiated& n = *negotiated;
  EntryResult e = Route(session, req, segs, query);
  // Refusals leave their audit record before the answer leaves; if they cannot, nothing
  // leaves but a 503.
  Status audited = session.FlushRefusals(pool_);
  if (!audited.ok()) return RenderError(audited, n);
  return Respond(req, n, e, ParsePrefer(req));
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
    r = RenderResource(e.status, OutcomeFromStatus(Status::Ok()), n);
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
  if (e.version > 0) r.SetHeader("ETag", ETag(e.version));
  if (!e.last_modified.empty()) r.SetHeader("Last-Modified", HttpDateFromInstant(e.last_modified));
  if (!e.location.empty() && (e.status == 201 || write))
    r.SetHeader(e.status == 201 ? "Location" : "Content-Location",
                options_.base_url + "/" + e.location);
  return r;
}

Preconditions FhirApi::Impl::PreconditionsOf(const HttpRequest& req, Status* error) {
  Preconditions pre;
  if (const std::string* m = req.Header("If-Match")) {
    pre.if_match = ParseETag(*m);
    if (!pre.if_match) *error = BadRequest("If-Match must be a version ETag like W/\"3\"");
  }
  if (const std::string* c = req.Header("If-None-Exist")) pre.if_none_exist = *c;
  return pre;
}

int FhirApi::Impl::CountParam(const QueryParams& query, Status* error) const {
  int count = options_.default_count;
  for (const auto& [k, v] : query) {
    if (k != "_count") continue;
    if (v.empty() || v.size() > 6 || v.find_first_not_of("0123456789") != std::string::npos) {
      *error = BadRequest("_count must be a whole number");
      return count;
    }
    count = std::min(std::stoi(v), options_.max_count);
  }
  return count;
}

EntryResult FhirApi::Impl::Route(Session& session, const HttpRequest& req,
                                 const std::vector<std::string>& segs, const QueryParams& query) {
  const std::string& m = req.method;
  auto not_allowed = [](const std::string& allow) {
    EntryResult e = FromError(
        Status(ErrorCode::kMethodNotAllowed, "method not allowed here; allowed: " + allow));
    e.location = allow;
    return e;
  };
  if (segs.empty()) {
    if (m == "POST") return ProcessBundle(session, req);
    if (m == "GET") return Search(session, req, "", query);
    return not_allowed("GET, POST");
  }
  if (segs[0] == "metadata") {
    if (m == "GET" && segs.size() == 1) return Capabilities();
    return not_allowed("GET");
  }
  if (segs[0] == "_history") {
    if (m == "GET" && segs.size() == 1) return History(session, "", "", query, "_history");
    return not_allowed("GET");
  }
  const std::string& type = segs[0];
  const auto& registry = model::StructureRegistry::R4();
  if (!registry.IsResourceType(type))
    return FromError(NotFound("'" + type + "' is not a FHIR R4 resource type"));
  if (!IsServedType(type))
    return FromError(NotFound(type + " is not served by this server (see /fhir/metadata)"));
  bool read_only = IsReadOnlyType(type);

  if (segs.size() == 1) {
    if (m == "GET") return Search(session, req, type, query);
    if (m == "POST" && type == "Binary" && IsNativeBinaryBody(req)) {
      JsonValue binary = BinaryFromNative(req, "");
      return WriteInTransaction(
          [&](Transaction& tx) { return interactions_.Create(tx, session, type, binary); });
    }
    if (m == "POST" && !read_only) {
      auto body = ParseResourceBody(req);
      if (!body.ok()) return FromError(body.status());
      Status pre_error;
      Preconditions pre = PreconditionsOf(req, &pre_error);
      if (!pre_error.ok()) return FromError(pre_error);
      const JsonValue& resource = *body;
      if (!pre.if_none_exist.empty()) {
        std::string criteria = pre.if_none_exist;
        if (criteria.rfind(type + "?", 0) == 0) criteria = criteria.substr(type.size() + 1);
        return WriteInTransaction([&](Transaction& tx) {
          return interactions_.CreateIfNoneExist(tx, session, type, resource, criteria);
        });
      }
      return WriteInTransaction(
          [&](Transaction& tx) { return interactions_.Create(tx, session, type, resource); });
    }
    if (!read_only && (m == "PUT" || m == "DELETE") && !req.query.empty()) {
      Status pre_error;
      Preconditions pre = PreconditionsOf(req, &pre_error);
      if (!pre_error.ok()) return FromError(pre_error);
      // FindMatchingIds takes the query string as sent.
      const std::string& criteria = req.query;
      if (m == "DELETE")
        return WriteInTransaction([&](Transaction& tx) {
          return interactions_.ConditionalDelete(tx, session, type, criteria, pre);
        });
      auto body = ParseResourceBody(req);
      if (!body.ok()) return FromError(body.status());
      const JsonValue& resource = *body;
      if (resource.GetString("resourceType") != type)
        return FromError(BadRequest("the body is not a " + type, "resourceType"));
      return WriteInTransaction([&](Transaction& tx) {
        return interactions_.ConditionalUpdate(tx, session, type, criteria, resource, pre);
      });
    }
    return not_allowed(read_only ? "GET" : "GET, POST, PUT?criteria, DELETE?criteria");
  }
  const std::string& second = segs[1];
  if (second == "_search" && segs.size() == 2) {
    if (m != "POST") return not_allowed("POST");
    QueryParams form = query;
    const std::string* ct = req.Header("Content-Type");
    if (ct && ct->find("application/x-www-form-urlencoded") == std::string::npos)
      return FromError(Status(ErrorCode::kUnsupportedMediaType,
                              "_search takes application/x-www-form-urlencoded parameters"));
    for (auto& kv : ParseQuery(req.body)) form.push_back(std::move(kv));
    return Search(session, req, type, form);
  }
  if (second == "_history" && segs.size() == 2) {
    if (m == "GET") return History(session, type, "", query, type + "/_history");
    return not_allowed("GET");
  }
  if (second == "$deposit" && segs.size() == 2 && type == "DocumentReference") {
    if (m == "POST") return DepositCda(session, req);
    return not_allowed("POST");
  }
  if (second == "$validate" && segs.size() == 2) {
    if (m == "POST") return ValidateOp(req, type, "");
    return not_allowed("POST");
  }
  const std::string& id = second;
  if (!IsValidFhirId(id)) return FromError(NotFound("'" + id + "' is not a valid resource id"));
  if (segs.size() == 2) {
    Status pre_error;
    Preconditions pre = PreconditionsOf(req, &pre_error);
    if (!pre_error.ok()) return FromError(pre_error);
    if (m == "GET" || m == "HEAD") {
      EntryResult e = Read(session, req, type, id, "");
      if (type == "Binary" && e.error.ok() && !e.resource_json.empty()) {
        Status gone = SupersededContent(id, e.resource_json);
        if (!gone.ok()) return FromError(gone);
      }
      if (type == "Binary" && e.error.ok() && !e.resource_json.empty() &&
          WantsNativeBinary(req, query)) {
        auto json = ParseJson(e.resource_json);
        if (!json.ok()) return FromError(Internal("stored Binary is unreadable"));
        auto bytes = Base64Decode(json->GetString("data"));
        if (!bytes) return FromError(Internal("stored Binary data is not base64"));
        e.native_body = std::move(*bytes);
        e.native_type = json->GetString("contentType");
        e.resource_json.clear();
      }
      return e;
    }
    if (read_only) return not_allowed("GET");
    if (m == "PUT") {
      auto body = type == "Binary" && IsNativeBinaryBody(req)
                      ? Result<JsonValue>(BinaryFromNative(req, id))
                      : ParseResourceBody(req);
      if (!body.ok()) return FromError(body.status());
      const JsonValue& resource = *body;
      return WriteInTransaction([&](Transaction& tx) {
        return interactions_.Update(tx, session, type, id, resource, pre);
      });
    }
    if (m == "DELETE") {
      return WriteInTransaction(
          [&](Transaction& tx) { return interactions_.Delete(tx, session, type, id, pre); });
    }
    if (m == "PATCH") {
      const std::string* ct = req.Header("Content-Type");
      if (!ct || ct->find("application/json-patch+json") == std::string::npos)
        return FromError(
            Status(ErrorCode::kUnsupportedMediaType, "PATCH takes application/json-patch+json"));
      auto patch = ParseJson(req.body);
      if (!patch.ok()) return FromError(patch.status());
      const JsonValue& p = *patch;
      return WriteInTransaction(
          [&](Transaction& tx) { return interactions_.Patch(tx, session, type, id, p, pre); });
    }
    return not_allowed("GET, PUT, PATCH, DELETE");
  }
  const std::string& third = segs[2];
  if (third == "_history") {
    if (m != "GET") return not_allowed("GET");
    if (segs.size() == 3) return History(session, type, id, query, type + "/" + id + "/_history");
    if (segs.size() == 4) return Read(session, req, type, id, segs[3]);
  }
  if (third == "$validate" && segs.size() == 3) {
    if (m == "POST") return ValidateOp(req, type, id);
    return not_allowed("POST");
  }
  if (third == "$everything" && segs.size() == 3 && type == "Patient") {
    if (m == "GET") return Everything(session, id, query);
    return not_allowed("GET");
  }
  if ((third == "$meta-add" || third == "$meta-delete") && segs.size() == 3) {
    if (m == "POST") return MetaSecurity(session, req, type, id, third == "$meta-add");
    return not_allowed("POST");
  }
  if (type == "Patient" && segs.size() == 3 && third.rfind('$', 0) == 0 &&
      profiles::IsRecordChoice(third.substr(1))) {
    if (m == "POST") return PatientChoice(session, req, id, third.substr(1));
    return not_allowed("POST");
  }
  // Compartment search: Patient/[id]/[type]?...
  if (type == "Patient" && segs.size() == 3 && IsServedType(third)) {
    if (m == "GET") return Search(session, req, third, query, id);
    return not_allowed("GET");
  }
  return FromError(NotFound("no such FHIR endpoint: " + req.path));
}

// A read of one resource (current or version `vid`) inside `tx`: decided, and audited in
// `tx` when granted. A refusal, and a target that does not exist, answer alike.
static Result<StoredResource> GuardedRead(Transaction& tx, Session& session,
                                          const std::string& type, const std::string& id,
                                          const std::string& vid, const char* interaction) {
  std::string what = type + "/" + id;
  storage::AuditEntry audit = storage::AuditEntry::Rest(interaction, 'R');
  audit.object_reference = vid.empty() ? what : what + "/_history/" + vid;
  std::optional<StoredResource> row;
  if (vid.empty()) {
    auto r = storage::ReadCurrent(tx, type, id, false);
    if (!r.ok()) return r.status();
    row = std::move(*r);
  } else if (vid.size() <= 9 && vid.find_first_not_of("0123456789") == std::string::npos) {
    auto r = storage::ReadVersion(tx, type, id, std::stoi(vid));
    if (!r.ok()) return r.status();
    row = std::move(*r);
  }
  if (!row) return session.Refuse(audit, profiles::Refusal("no such resource"), std::nullopt, what);
  // An older version is seen as the resource is now (its current visibility labels).
  auto d = vid.empty() ? session.DecideStored(tx, *row, Action::kRead)
                       : session.DecideVersion(tx, *row, Action::kRead);
  if (!d.ok()) return d.status();
  if (!d->allowed) return session.Refuse(audit, *d, row->patient_key, what);
  CARNET_RETURN_IF_ERROR(session.Audit(tx, audit, *d, row->patient_key));
  return std::move(*row);
}

EntryResult FhirApi::Impl::Read(Session& session, const HttpRequest& req, const std::string& type,
                                const std::string& id, const std::string& vid) {
  StoredResource row;
  Status st = storage::RunInTransaction(pool_, [&](Transaction& tx) -> Status {
    auto r = GuardedRead(tx, session, type, id, vid, vid.empty() ? "read" : "vread");
    if (!r.ok()) return r.status();
    row = std::move(r).value();
    return Status::Ok();
  });
  if (!st.ok()) return FromError(st);
  if (row.deleted)
    return FromError(Status(ErrorCode::kGone,
                            vid.empty() ? type + "/" + id + " was deleted"
                                        : type + "/" + id + " version " + vid + " is a deletion"));
  EntryResult e;
  e.version = row.version;
  e.last_modified = row.last_updated;
  if (vid.empty()) {
    if (const std::string* inm = req.Header("If-None-Match")) {
      auto v = ParseETag(*inm);
      if (v && *v == row.version) {
        e.status = 304;
        return e;
      }
    }
    if (const std::string* ims = req.Header("If-Modified-Since")) {
      auto since = EpochSeconds(*ims);
      auto modified = EpochSeconds(row.last_updated);
      if (since && modified && *modified <= *since) {
        e.status = 304;
        return e;
      }
    }
  }
  e.resource_json = std::move(row.content);
  return e;
}

// IHE MHD ITI-68: the content of a document that was replaced (superseded, Deprecated in
// XDS) is answered 410 Gone, naming the document; the version-specific read
// (Binary/[id]/_history/[vid]) still serves it, and so does XDS ITI-43.
Status FhirApi::Impl::SupersededContent(const std::string& binary_id,
                                        const std::string& binary_json) {
  auto binary = ParseJson(binary_json);
  if (!binary.ok()) return Status::Ok();
  const JsonValue* ctx = binary->Find("securityContext");
  std::string owner = ctx ? ctx->GetString("reference") : "";
  std::string superseded;
  Status st = storage::RunInTransaction(pool_, [&](Transaction& tx) -> Status {
    std::vector<std::string> documents;
    if (owner.rfind("DocumentReference/", 0) == 0) {
      documents.push_back(owner.substr(18));
    } else {
      auto found = FindMatchingIds(tx, "DocumentReference", "location=Binary/" + binary_id, 5);
      if (!found.ok()) return found.status();
      documents = std::move(found).value();
    }
    for (const std::string& id : documents) {
      auto dr = storage::ReadCurrent(tx, "DocumentReference", id, false);
      if (!dr.ok()) return dr.status();
      if (!*dr || (*dr)->deleted) continue;
      auto json = ParseJson((*dr)->content);
      if (!json.ok()) continue;
      if (json->GetString("status") != "superseded")
        return Status::Ok();  // a current document holds it
      superseded = id;
    }
    return Status::Ok();
  });
  if (!st.ok()) return st;
  if (superseded.empty()) return Status::Ok();
  return Status(ErrorCode::kGone,
                "DocumentReference/" + superseded +
                    " was replaced by a newer version (status superseded); its content stays "
                    "available as Binary/" +
                    binary_id + "/_history/[vid]");
}

EntryResult FhirApi::Impl::WriteInTransaction(
    const std::function<Result<WriteResult>(Transaction&)>& op) {
  WriteResult out;
  Status st = storage::RunInTransaction(pool_, [&](Transaction& tx) {
    auto r = op(tx);
    if (!r.ok()) return r.status();
    out = std::move(r).value();
    return Status::Ok();
  });
  if (!st.ok()) return FromError(st);
  return FromWrite(out);
}


// One audit event per record a search reached (one without a record when it reached none
// by name: shared resources, or a deposit source's search across records).
static Status AuditSearch(storage::Pool& pool, Session& session, const profiles::AccessFilter& f,
                          const std::string& subtype, const std::string& query,
                          const std::string& object) {
  Status st = storage::RunInTransaction(pool, [&](Transaction& tx) -> Status {
    storage::AuditEntry entry = storage::AuditEntry::Rest(subtype, 'E');
    entry.query = query;
    entry.object_reference = object;
    Decision d = profiles::SearchDecision(f);
    if (f.patient_keys.empty()) return session.Audit(tx, entry, d, std::nullopt);
    for (long long key : f.patient_keys) CARNET_RETURN_IF_ERROR(session.Audit(tx, entry, d, key));
    return Status::Ok();
  });
  if (!st.ok())
    return Status(ErrorCode::kUnavailable, "the access history cannot be written: " + st.message());
  return Status::Ok();
}

EntryResult FhirApi::Impl::History(Session& session, const std::string& type, const std::string& id,
                                   const QueryParams& query, const std::string& self_path) {
  storage::HistoryQuery q;
  q.type = type;
  q.id = id;
  Status error;
  q.count = CountParam(query, &error);
  std::string cursor;
  for (const auto& [k, v] : query) {
    if (k == "_since") q.since = v;
    if (k == "_at") q.at = v;
    if (k == "_cursor") cursor = v;
  }
  if (!error.ok()) return FromError(error);
  for (const std::string* t : {&q.since, &q.at})
    if (!t->empty() && !EpochSeconds(*t))
      return FromError(BadRequest("'" + *t + "' is not a date-time for _since/_at"));
  if (!cursor.empty()) {
    // time|type|id|version of the last entry of the previous page
    std::vector<std::string> parts;
    size_t start = 0;
    while (start <= cursor.size()) {
      size_t bar = cursor.find('|', start);
      parts.push_back(
          cursor.substr(start, bar == std::string::npos ? std::string::npos : bar - start));
      start = bar == std::string::npos ? cursor.size() + 1 : bar + 1;
    }
    if (parts.size() != 4 || !EpochSeconds(parts[0]) ||
        parts[3].find_first_not_of("0123456789") != std::string::npos || parts[3].empty())
      return FromError(BadRequest("_cursor is not a cursor this server wrote"));
    q.has_cursor = true;
    q.cursor_time = parts[0];
    q.cursor_type = parts[1];
    q.cursor_id = parts[2];
    q.cursor_version = std::stoi(parts[3]);
  }
  int page = q.count;
  q.count = page + 1;  // one more tells whether there is a next page
  // Versions are filtered one by one, each under its resource's current labels (DecideVersion):
  // the page may come out shorter than _count, the next link still walks on.
  std::vector<StoredResource> rows;
  StoredResource last_row;
  bool more = false;
  Status read = storage::RunInTransaction(pool_, [&](Transaction& tx) -> Status {
    rows.clear();
    std::map<long long, Decision> seen;  // one audit event per record
    std::optional<Decision> shared_seen;
    if (!id.empty()) {
      auto current = GuardedRead(tx, session, type, id, "", "history-instance");
      if (!current.ok()) return current.status();
    } else {
      auto filter = session.SearchFilter(tx, {});
      if (!filter.ok()) return filter.status();
      if (!filter->any_record) q.patient_keys = filter->patient_keys;
      q.include_shared = filter->include_shared;
    }
    auto all = storage::ReadHistory(tx, q);
    if (!all.ok()) return all.status();
    more = static_cast<int>(all->size()) > page;
    if (more) all->resize(page);
    // The cursor must move past filtered-out rows too.
    if (more && !all->empty()) last_row = all->back();
    for (auto& r : *all) {
      if (r.type == "Binary" && id.empty()) continue;  // content is read by id only
      auto d = session.DecideVersion(tx, r, Action::kRead);
      if (!d.ok()) return d.status();
      if (!d->allowed) continue;
      if (r.patient_key)
        seen.emplace(*r.patient_key, *d);
      else
        shared_seen = *d;
      rows.push_back(std::move(r));
    }
    if (id.empty()) {
      storage::AuditEntry entry =
          storage::AuditEntry::Rest(type.empty() ? "history-system" : "history-type", 'R');
      entry.object_reference = type;
      for (const auto& [key, d] : seen) CARNET_RETURN_IF_ERROR(session.Audit(tx, entry, d, key));
      if (seen.empty()) {
        Decision d =
            shared_seen ? *shared_seen : profiles::Refusal("nothing visible in this history");
        if (!shared_seen) d.allowed = true, d.refusal = ErrorCode::kOk;
        CARNET_RETURN_IF_ERROR(session.Audit(tx, entry, d, std::nullopt));
      }
    }
    return Status::Ok();
  });
  if (!read.ok()) return FromError(read);

  JsonValue bundle = NewBundle("history");
  JsonValue links = JsonValue::Array();
  std::string base_query = "_count=" + std::to_string(page);
  if (!q.since.empty()) base_query += "&_since=" + PercentEncode(q.since);
  if (!q.at.empty()) base_query += "&_at=" + PercentEncode(q.at);
  auto link = [&](const char* rel, const std::string& url) { AddLink(links, rel, url); };
  std::string self = options_.base_url + "/" + self_path + "?" + base_query;
  if (!cursor.empty()) self += "&_cursor=" + PercentEncode(cursor);
  link("self", self);
  if (more) {
    const StoredResource& last = last_row;
    std::string next_cursor =
        last.last_updated + "|" + last.type + "|" + last.id + "|" + std::to_string(last.version);
    link("next", options_.base_url + "/" + self_path + "?" + base_query +
                     "&_cursor=" + PercentEncode(next_cursor));
  }
  bundle.Set("link", std::move(links));
  JsonValue entries = JsonValue::Array();
  for (const StoredResource& r : rows) {
    JsonValue entry = JsonValue::Object();
    entry.Set("fullUrl", JsonValue::String(options_.base_url + "/" + r.type + "/" + r.id));
    if (!r.deleted) {
      auto res = dossier::StoredJson(r);
      if (!res.ok()) return FromError(res.status());
      entry.Set("resource", std::move(res).value());
    }
    JsonValue request = JsonValue::Object();
    request.Set("method", JsonValue::String(r.method));
    request.Set("url", JsonValue::String(r.method == "POST" ? r.type : r.type + "/" + r.id));
    entry.Set("request", std::move(request));
    JsonValue response = JsonValue::Object();
    response.Set("status", JsonValue::String(r.deleted ? "204" : (r.version == 1 ? "201" : "200")));
    response.Set("etag", JsonValue::String(ETag(r.version)));
    response.Set("lastModified", JsonValue::String(r.last_updated));
    entry.Set("response", std::move(response));
    entries.Append(std::move(entry));
  }
  if (!entries.items().empty()) bundle.Set("entry", std::move(entries));
  EntryResult e;
  e.has_resource = true;
  e.resource = std::move(bundle);
  return e;
}

EntryResult FhirApi::Impl::ValidateOp(const HttpRequest& req, const std::string& type,
                                      const std::string& id) {
  auto body = ParseResourceBody(req);
  if (!body.ok()) return FromError(body.status());
  JsonValue resource = std::move(body).value();
  // $validate takes the resource itself or a Parameters with a `resource` parameter.
  if (resource.GetString("resourceType") == "Parameters" && type != "Parameters") {
    JsonValue found;
    if (const JsonValue* params = resource.Find("parameter"); params && params->is_array())
      for (const auto& p : params->items())
        if (p.GetString("name") == "resource" && p.Find("resource")) found = *p.Find("resource");
    if (found.is_null()) return FromError(BadRequest("Parameters has no 'resource' parameter"));
    resource = std::move(found);
  }
  if (!id.empty() && resource.GetString("id") != id)
    return FromError(BadRequest("the resource's id differs from the URL's id " + id));
  JsonValue outcome;
  Status st = interactions_.Validate(type, resource, &outcome);
  if (st.code() == ErrorCode::kBadRequest) return FromError(st);
  EntryResult e;
  e.has_resource = true;
  e.resource = std::move(outcome);
  return e;
}

EntryResult FhirApi::Impl::Everything(Session& session, const std::string& id,
                                      const QueryParams& query) {
  Status error;
  int count = CountParam(query, &error);
  if (!error.ok()) return FromError(error);
  std::string after_type, after_id;
  for (const auto& [k, v] : query)
    if (k == "_cursor") {
      auto bar = v.find('|');
      if (bar == std::string::npos)
        return FromError(BadRequest("_cursor is not a cursor this server wrote"));
      after_type = v.substr(0, bar);
      after_id = v.substr(bar + 1);
    }
  static const storage::Statement kEverything{
      "patient_everything",
      "SELECT r.res_type, r.res_id, r.content, r.version_id FROM resource r "
      "WHERE r.patient_key = $1::bigint AND NOT r.deleted AND r.res_type <> 'Binary' "
      "AND (r.res_type, r.res_id) > ($2, $3) ORDER BY r.res_type, r.res_id LIMIT $4::int"};
  // Rows are decided one by one; a page holds up to _count visible resources, read in
  // chunks so that hidden ones do not shorten it.
  std::vector<std::tuple<std::string, std::string, JsonValue>> rows;
  bool more = false;
  bool gone = false;
  Status st = storage::RunInTransaction(pool_, [&](Transaction& tx) -> Status {
    rows.clear();
    more = gone = false;
    auto patient = GuardedRead(tx, session, "Patient", id, "", "operation");
    if (!patient.ok()) return patient.status();
    if (patient->deleted || !patient->patient_key) {
      gone = patient->deleted;
      return Status::Ok();
    }
    long long key = *patient->patient_key;
    auto d = session.DecideRecord(tx, key, Action::kSearch);
    if (!d.ok()) return d.status();
    storage::AuditEntry audit = storage::AuditEntry::Rest("operation", 'E');
    audit.subtype_display = "$everything";
    audit.object_reference = "Patient/" + id + "/$everything";
    if (!d->allowed) return session.Refuse(audit, *d, key, "Patient/" + id);
    std::string at = after_type, ai = after_id;
    while (static_cast<int>(rows.size()) <= count) {
      auto r = tx.Run(kEverything, {storage::SqlParam::Text(std::to_string(key)),
                                    storage::SqlParam::Text(at), storage::SqlParam::Text(ai),
                                    storage::SqlParam::Text(std::to_string(count + 1))});
      if (!r.ok()) return r.status();
      for (int i = 0; i < r->rows() && static_cast<int>(rows.size()) <= count; ++i) {
        at = r->GetString(i, 0);
        ai = r->GetString(i, 1);
        auto res = ParseJson(r->GetString(i, 2));
        if (!res.ok()) return Internal("stored " + at + "/" + ai + " is unreadable");
        auto visible = session.DecideResource(tx, key, *res, Action::kRead);
        if (!visible.ok()) return visible.status();
        if (visible->allowed) rows.emplace_back(at, ai, std::move(res).value());
      }
      if (r->rows() <= count) break;  // the record has no more rows
    }
    more = static_cast<int>(rows.size()) > count;
    if (more) rows.resize(count);
    return session.Audit(tx, audit, *d, key);
  });
  if (!st.ok()) return FromError(st);
  if (gone) return FromError(Status(ErrorCode::kGone, "Patient/" + id + " was deleted"));
  JsonValue bundle = NewBundle("searchset");
  JsonValue links = JsonValue::Array();
  std::string self_base =
      options_.base_url + "/Patient/" + id + "/$everything?_count=" + std::to_string(count);
  AddLink(links, "self",
          self_base +
              (after_type.empty() ? "" : "&_cursor=" + PercentEncode(after_type + "|" + after_id)));
  if (more)
    AddLink(links, "next",
            self_base + "&_cursor=" +
                PercentEncode(std::get<0>(rows.back()) + "|" + std::get<1>(rows.back())));
  bundle.Set("link", std::move(links));
  JsonValue entries = JsonValue::Array();
  for (auto& [t, i, res] : rows) {
    JsonValue entry = JsonValue::Object();
    entry.Set("fullUrl", JsonValue::String(options_.base_url + "/" + t + "/" + i));
    entry.Set("resource", std::move(res));
    JsonValue search = JsonValue::Object();
    search.Set("mode", JsonValue::String("match"));
    entry.Set("search", std::move(search));
    entries.Append(std::move(entry));
  }
  if (!entries.items().empty()) bundle.Set("entry", std::move(entries));
  EntryResult e;
  e.has_resource = true;
  e.resource = std::move(bundle);
  return e;
}

EntryResult FhirApi::Impl::Search(Session& session, const HttpRequest& req, const std::string& type,
                                  const QueryParams& query, const std::string& compartment) {
  if (type == "AuditEvent") return AccessHistory(session, query);
  if (type == "Binary")
    return FromError(
        Status(ErrorCode::kMethodNotAllowed,
               "Binary content is read by id (GET Binary/[id]), through its document"));
  for (const auto& [k, v] : query)
    if (k == "_type")
      for (const char* hidden : {"Binary", "AuditEvent"})
        if (v.find(hidden) != std::string::npos)
          return FromError(
              BadRequest(std::string(hidden) + " is not searched across types", "_type"));
  SearchRequest s;
  s.type = type;
  s.compartment_patient = compartment;
  s.base_url = options_.base_url;
  s.default_count = options_.default_count;
  s.max_count = options_.max_count;
  s.limits = options_.search_limits;
  const std::string* prefer = req.Header("Prefer");
  s.strict = prefer && prefer->find("handling=strict") != std::string::npos;
  for (const auto& kv : query)
    if (kv.first != "_format" && kv.first != "_pretty") s.params.push_back(kv);
  profiles::AccessFilter filter;
  storage::TxOptions ro;
  ro.read_only = true;
  Status st = storage::RunInTransaction(pool_, ro, [&](Transaction& tx) -> Status {
    auto named = NamedRecords(tx, type, query, compartment);
    if (!named.ok()) return named.status();
    // A professional searches one patient's record at a time (named in the request);
    // without one, only the shared directory (practitioners, organisations...).
    auto f = session.SearchFilter(tx, *named);
    if (!f.ok()) return f.status();
    filter = std::move(f).value();
    return Status::Ok();
  });
  if (!st.ok()) return FromError(st);
  s.scope = filter;
  auto bundle = RunSearch(pool_, s);
  if (!bundle.ok()) return FromError(bundle.status());
  Status audited =
      AuditSearch(pool_, session, filter, type.empty() ? "search-system" : "search-type", req.query,
                  type.empty() ? "" : type);
  if (!audited.ok()) return FromError(audited);
  EntryResult e;
  e.has_resource = true;
  e.resource = std::move(bundle).value();
  return e;
}

// The access history (AuditEvent?patient=...): the patient's and guardians' view of who
// accessed what, newest first, filtered by date (ge/gt/le/lt/eq prefixes) and by actor
// (`agent`: the actor's identifier, e.g. a national id). Read from the audit chain itself,
// never from a copy; reading it is itself audited.
EntryResult FhirApi::Impl::AccessHistory(Session& session, const QueryParams& query) {
  Status error;
  int count = CountParam(query, &error);
  if (!error.ok()) return FromError(error);
  std::string from, to, agent, before_seq;
  for (const auto& [k, v] : query) {
    if (k == "date") {
      std::string prefix =
          v.size() > 2 && std::isalpha(static_cast<unsigned char>(v[0])) ? v.substr(0, 2) : "eq";
      std::string value =
          prefix == "eq" && !(v.size() > 2 && v.substr(0, 2) == "eq") ? v : v.substr(2);
      if (!EpochSeconds(value.size() == 10 ? value + "T00:00:00Z" : value))
        return FromError(BadRequest("'" + v + "' is not a date for AuditEvent date", "date"));
      std::string start = value.size() == 10 ? value + "T00:00:00Z" : value;
      if (prefix == "ge" || prefix == "gt")
        from = start;
      else if (prefix == "le" || prefix == "lt")
        to = value.size() == 10 && prefix == "le" ? value + "T23:59:59.999999Z" : start;
      else if (prefix == "eq" && value.size() == 10)
        from = start, to = value + "T23:59:59.999999Z";
      else if (prefix == "eq")
        from = to = start;
      else
        return FromError(BadRequest("date prefix '" + prefix + "' is not supported here", "date"));
    } else if (k == "agent" || k == "agent.identifier" || k == "agent:identifier") {
      agent = v.substr(v.find('|') == std::string::npos ? 0 : v.find('|') + 1);
    } else if (k == "_cursor") {
      if (v.empty() || v.find_first_not_of("0123456789") != std::string::npos)
        return FromError(BadRequest("_cursor is not a cursor this server wrote"));
      before_seq = v;
    } else if (k == "patient" || k == "_count" || k == "_sort" || k == "_format" ||
               k == "_pretty") {
      if (k == "_sort" && v != "-date")
        return FromError(BadRequest("the access history is sorted by -date only", "_sort"));
    } else {
      return FromError(BadRequest("AuditEvent is searched by patient, date, agent", k));
    }
  }
  static const storage::Statement kEvents{
      "access_history_page",
      "SELECT seq, content FROM audit_event WHERE patient_key = ANY($1::bigint[]) "
      "AND ($2 = '' OR recorded >= $2::timestamptz) AND ($3 = '' OR recorded <= $3::timestamptz) "
      "AND ($4 = '' OR actor_id = $4) AND ($5 = '' OR seq < $5::bigint) "
      "ORDER BY seq DESC LIMIT $6::int"};
  std::vector<std::pair<long long, std::string>> rows;
  Status st = storage::RunInTransaction(pool_, [&](Transaction& tx) -> Status {
    rows.clear();
    auto named = NamedRecords(tx, "AuditEvent", query, "");
    if (!named.ok()) return named.status();
    std::vector<long long> keys = *named;
    if (keys.empty()) {
      auto mine = profiles::FindActorRecords(tx, session.actor());
      if (!mine.ok()) return mine.status();
      keys = *mine;
    }
    std::vector<std::pair<long long, Decision>> granted;
    storage::AuditEntry audit = storage::AuditEntry::Rest("search-type", 'E');
    audit.object_reference = "AuditEvent";
    for (long long key : keys) {
      auto d = session.DecideRecord(tx, key, Action::kReadAccessHistory);
      if (!d.ok()) return d.status();
      if (d->allowed)
        granted.emplace_back(key, *d);
      else
        (void)session.Refuse(audit, *d, key, "AuditEvent");
    }
    if (granted.empty()) return Status::Ok();
    std::string array = "{";
    for (size_t i = 0; i < granted.size(); ++i)
      array += (i ? "," : "") + std::to_string(granted[i].first);
    array += "}";
    // Read before this read's own event is appended: the page shows what happened before.
    auto r = tx.Run(kEvents, {storage::SqlParam::Text(array), storage::SqlParam::Text(from),
                              storage::SqlParam::Text(to), storage::SqlParam::Text(agent),
                              storage::SqlParam::Text(before_seq),
                              storage::SqlParam::Text(std::to_string(count + 1))});
    if (!r.ok()) return r.status();
    for (int i = 0; i < r->rows(); ++i) rows.emplace_back(r->GetInt(i, 0), r->GetString(i, 1));
    for (const auto& [key, d] : granted) CARNET_RETURN_IF_ERROR(session.Audit(tx, audit, d, key));
    return Status::Ok();
  });
  if (!st.ok()) return FromError(st);
  bool more = static_cast<int>(rows.size()) > count;
  if (more) rows.resize(count);
  JsonValue bundle = NewBundle("searchset");
  JsonValue links = JsonValue::Array();
  std::string self = options_.base_url + "/AuditEvent?" + QueryString(query);
  AddLink(links, "self", self);
  if (more) AddLink(links, "next", self + "&_cursor=" + std::to_string(rows.back().first));
  bundle.Set("link", std::move(links));
  JsonValue entries = JsonValue::Array();
  for (auto& [seq, content] : rows) {
    auto res = ParseJson(content);
    if (!res.ok()) return FromError(Internal("stored AuditEvent is unreadable"));
    JsonValue entry = JsonValue::Object();
    entry.Set("fullUrl",
              JsonValue::String(options_.base_url + "/AuditEvent/" + res->GetString("id")));
    entry.Set("resource", std::move(res).value());
    JsonValue search = JsonValue::Object();
    search.Set("mode", JsonValue::String("match"));
    entry.Set("search", std::move(search));
    entries.Append(std::move(entry));
  }
  if (!entries.items().empty()) bundle.Set("entry", std::move(entries));
  EntryResult e;
  e.has_resource = true;
  e.resource = std::move(bundle);
  return e;
}

// The value[x] of a Parameters parameter named `name`, as text ("" when absent).
static std::string ParamValue(const JsonValue& params, const std::string& name) {
  if (const JsonValue* list = params.Find("parameter"); list && list->is_array())
    for (const auto& p : list->items()) {
      if (p.GetString("name") != name) continue;
      for (const auto& [k, v] : p.members()) {
        if (k.rfind("value", 0) != 0) continue;
        if (v.is_string()) return v.text();
        if (v.is_bool()) return v.as_bool() ? "true" : "false";
        if (v.is_object())
          return v.GetString("value").empty() ? v.GetString("code") : v.GetString("value");
      }
    }
  return "";
}

// The patient's choices and the operator's record management, as operations on the
// Patient (profiles/record_choices.h decides, applies and audits them): the Parameters read
// here, the answer rendered here.
EntryResult FhirApi::Impl::PatientChoice(Session& session, const HttpRequest& req,
                                         const std::string& id, const std::string& op) {
  JsonValue params = JsonValue::Object();
  if (!req.body.empty()) {
    auto body = ParseResourceBody(req);
    if (!body.ok()) return FromError(body.status());
    if (body->GetString("resourceType") != "Parameters")
      return FromError(BadRequest("$" + op + " takes a Parameters resource"));
    params = std::move(body).value();
  }
  Status st = storage::RunInTransaction(pool_, [&](Transaction& tx) -> Status {
    return profiles::ApplyRecordChoice(tx, session, id, op, [&](const std::string& name) {
      return ParamValue(params, name);
    });
  });
  if (!st.ok()) return FromError(st);
  EntryResult e;
  e.has_resource = true;
  e.resource = OutcomeFromStatus(Status::Ok());
  return e;
}

// $meta-add / $meta-delete of security labels: how a patient masks a document from
// professionals (MASQUE_PS) and unmasks it. Only the visibility codes are taken.
EntryResult FhirApi::Impl::MetaSecurity(Session& session, const HttpRequest& req,
                                        const std::string& type, const std::string& id, bool add) {
  auto body = ParseResourceBody(req);
  if (!body.ok()) return FromError(body.status());
  std::vector<JsonValue> codes;
  if (body->GetString("resourceType") != "Parameters")
    return FromError(BadRequest("$meta-add and $meta-delete take a Parameters resource"));
  if (const JsonValue* list = body->Find("parameter"); list && list->is_array())
    for (const auto& p : list->items()) {
      if (p.GetString("name") != "meta") continue;
      const JsonValue* meta = p.Find("valueMeta");
      if (!meta) continue;
      if (const JsonValue* tag = meta->Find("tag"); tag && tag->is_array() && !tag->items().empty())
        return FromError(BadRequest("only security labels are changed here",
                                    "Parameters.parameter.valueMeta.tag"));
      if (const JsonValue* sec = meta->Find("security"); sec && sec->is_array())
        for (const auto& c : sec->items()) {
          std::string code = c.GetString("code");
          if (code != profiles::kMasquePs && code != profiles::kInvisiblePatient &&
              code != profiles::kInvisibleRepresentants)
            return FromError(BadRequest("'" + code +
                                        "' is not a visibility code (MASQUE_PS, INVISIBLE_PATIENT, "
                                        "INVISIBLE_REPRESENTANTS_LEGAUX)"));
          // Who may move which code is the policy's (profiles::DecideLabelChange), decided
          // on the document as it is.
          codes.push_back(c);
        }
    }
  if (codes.empty())
    return FromError(BadRequest("no security label given (parameter meta, valueMeta.security)"));
  WriteResult written;
  Status st = storage::RunInTransaction(pool_, [&](Transaction& tx) -> Status {
    auto r =
        interactions_.ChangeSecurity(tx, session, type, id, add ? codes : std::vector<JsonValue>{},
                                     add ? std::vector<JsonValue>{} : codes);
    if (!r.ok()) return r.status();
    written = std::move(r).value();
    return Status::Ok();
  });
  if (!st.ok()) return FromError(st);
  JsonValue out = JsonValue::Object();
  out.Set("resourceType", JsonValue::String("Parameters"));
  JsonValue list = JsonValue::Array();
  JsonValue p = JsonValue::Object();
  p.Set("name", JsonValue::String("return"));
  if (const JsonValue* meta = written.resource.Find("meta")) p.Set("valueMeta", *meta);
  list.Append(std::move(p));
  out.Set("parameter", std::move(list));
  EntryResult e;
  e.has_resource = true;
  e.resource = std::move(out);
  e.version = written.stored.version;
  return e;
}

EntryResult FhirApi::Impl::Capabilities() {
  const auto& registry = model::StructureRegistry::R4();
  (void)registry;
  JsonValue cs = JsonValue::Object();
  cs.Set("resourceType", JsonValue::String("CapabilityStatement"));
  cs.Set("status", JsonValue::String("active"));
  cs.Set("date", JsonValue::String(FormatUtc(std::chrono::system_clock::now()).substr(0, 10)));
  cs.Set("publisher", JsonValue::String("carnet"));
  cs.Set("kind", JsonValue::String("instance"));
  JsonValue software = JsonValue::Object();
  software.Set("name", JsonValue::String("carnet"));
  cs.Set("software", std::move(software));
  JsonValue impl = JsonValue::Object();
  impl.Set("description",
           JsonValue::String("carnet FHIR R4 gateway onto the personal health record"));
  impl.Set("url", JsonValue::String(options_.base_url));
  cs.Set("implementation", std::move(impl));
  cs.Set("fhirVersion", JsonValue::String("4.0.1"));
  JsonValue formats = JsonValue::Array();
  for (const char* f : {"application/fhir+json", "application/fhir+xml", "json", "xml"})
    formats.Append(JsonValue::String(f));
  cs.Set("format", std::move(formats));
  JsonValue patch_formats = JsonValue::Array();
  patch_formats.Append(JsonValue::String("application/json-patch+json"));
  cs.Set("patchFormat", std::move(patch_formats));

  JsonValue rest = JsonValue::Object();
  rest.Set("mode", JsonValue::String("server"));
  JsonValue resources = JsonValue::Array();
  for (const std::string& type : ServedTypes()) {
    JsonValue r = JsonValue::Object();
    r.Set("type", JsonValue::String(type));
    JsonValue interactions = JsonValue::Array();
    std::vector<const char*> codes = {"read", "vread", "history-instance", "history-type"};
    if (!IsReadOnlyType(type))
      for (const char* c : {"create", "update", "patch", "delete"}) codes.push_back(c);
    for (const char* c : codes) {
      JsonValue i = JsonValue::Object();
      i.Set("code", JsonValue::String(c));
      interactions.Append(std::move(i));
    }
    auto params = SupportedSearchParams(type);
    if (!params.empty()) {
      JsonValue i = JsonValue::Object();
      i.Set("code", JsonValue::String("search-type"));
      interactions.Append(std::move(i));
    }
    r.Set("interaction", std::move(interactions));
    if (!params.empty()) {
      JsonValue sp = JsonValue::Array();
      for (const auto& [code, sptype] : params) {
        JsonValue p = JsonValue::Object();
        p.Set("name", JsonValue::String(code));
        p.Set("type", JsonValue::String(sptype));
        if (type == "AuditEvent")
          p.Set("documentation",
                JsonValue::String(code == "patient"
                                      ? "required: the access history of one record, read by the "
                                        "patient or a guardian"
                                  : code == "agent" ? "the actor, by identifier ([system|]value)"
                                                    : "with a prefix (ge, gt, le, lt, eq)"));
        sp.Append(std::move(p));
      }
      r.Set("searchParam", std::move(sp));
    }
    r.Set("versioning", JsonValue::String("versioned-update"));
    r.Set("readHistory", JsonValue::Bool(true));
    r.Set("updateCreate", JsonValue::Bool(!IsReadOnlyType(type)));
    r.Set("conditionalRead", JsonValue::String("modified-since"));
    if (!IsReadOnlyType(type)) {
      r.Set("conditionalCreate", JsonValue::Bool(true));
      r.Set("conditionalUpdate", JsonValue::Bool(true));
      r.Set("conditionalDelete", JsonValue::String("single"));
    }
    JsonValue ops = JsonValue::Array();
    auto op = [&](const char* name, const char* def) {
      JsonValue o = JsonValue::Object();
      o.Set("name", JsonValue::String(name));
      o.Set("definition", JsonValue::String(def));
      ops.Append(std::move(o));
    };
    op("validate", "http://hl7.org/fhir/OperationDefinition/Resource-validate");
    if (type == "Patient")
      op("everything", "http://hl7.org/fhir/OperationDefinition/Patient-everything");
    if (type == "DocumentReference")
      op("deposit",
         "https://carnet.example.org/fhir/OperationDefinition/DocumentReference-deposit");
    r.Set("operation", std::move(ops));
    resources.Append(std::move(r));
  }
  rest.Set("resource", std::move(resources));
  JsonValue sys = JsonValue::Array();
  for (const char* c : {"transaction", "batch", "history-system"}) {
    JsonValue i = JsonValue::Object();
    i.Set("code", JsonValue::String(c));
    sys.Append(std::move(i));
  }
  rest.Set("interaction", std::move(sys));
  JsonValue rests = JsonValue::Array();
  rests.Append(std::move(rest));
  cs.Set("rest", std::move(rests));
  EntryResult e;
  e.has_resource = true;
  e.resource = std::move(cs);
  return e;
}

namespace {

struct MinimalDeposit {
  xds::DocumentEntry entry;
  std::string patient_system, patient_value;
};

// The metadata of a document deposited without a CDA header, from the parameters of
// $deposit: patient (the national identity, system|value; required), type (a LOINC document
// type, or system|code; required), title, date (its creation, a FHIR dateTime; now when
// absent), confidentiality (N when absent), language (fr-FR when absent). The class follows
// from the type (mapping/data/document_codes.tsv); the uniqueId is derived from a new UUID.
Result<MinimalDeposit> MinimalDepositMetadata(const QueryParams& params, const std::string& media,
                                              const std::string& body) {
  auto get = [&](const char* name) -> std::string {
    for (const auto& [k, v] : params)
      if (k == name) return v;
    return "";
  };
  if (body.empty()) return BadRequest("$deposit: the document is empty");
  MinimalDeposit d;
  std::string patient = get("patient");
  size_t bar = patient.find('|');
  if (bar == std::string::npos || bar == 0 || bar + 1 == patient.size())
    return Invalid("$deposit of a " + media +
                       " needs ?patient=system|value (the national identity, e.g. "
                       "urn:oid:1.2.250.1.213.1.4.8|...)",
                   "patient");
  d.patient_system = patient.substr(0, bar);
  d.patient_value = patient.substr(bar + 1);
  std::string type = get("type");
  if (type.empty())
    return Invalid("$deposit of a " + media + " needs ?type= (a LOINC document type)", "type");
  xds::DocumentEntry& e = d.entry;
  e.object_type = std::string(xds::uuids::kDocumentEntryStable);
  e.mime_type = media;
  size_t tb = type.find('|');
  std::string type_system = tb == std::string::npos ? "http://loinc.org" : type.substr(0, tb);
  e.type_code = {tb == std::string::npos ? type : type.substr(tb + 1),
                 mapping::SchemeFromSystem(type_system), "", ""};
  e.type_code.display = e.type_code.code;
  e.class_code = mapping::ClassCodeForType(e.type_code.code);
  if (e.class_code.code.empty())
    return Invalid(
        "document type " + e.type_code.code + " has no class in carnet's type -> class table",
        "type");
  e.title = get("title");
  std::string date = get("date");
  e.creation_time = mapping::DtmFromFhirDateTime(
      date.empty() ? FormatUtc(std::chrono::system_clock::now()) : date);
  if (e.creation_time.empty()) return Invalid("date '" + date + "' is not a FHIR dateTime", "date");
  std::string conf = get("confidentiality");
  e.confidentiality_codes.push_back(
      {conf.empty() ? "N" : conf, "2.16.840.1.113883.5.25", conf.empty() ? "N" : conf, ""});
  std::string language = get("language");
  e.language_code = language.empty() ? "fr-FR" : language;
  e.format_code = {"urn:ihe:iti:xds:2017:mimeTypeSufficient", "1.3.6.1.4.1.19376.1.2.3",
                   "Format from mimeType", ""};
  e.unique_id = mapping::OidFromUuid(NewUuid());
  std::string system_oid =
      d.patient_system.rfind("urn:oid:", 0) == 0 ? d.patient_system.substr(8) : d.patient_system;
  e.patient_id = d.patient_value + "^^^&" + system_oid + "&ISO^NH";
  e.source_patient_id = e.patient_id;
  return d;
}

}  // namespace

// POST /fhir/DocumentReference/$deposit: a bare CDA R2 document, filed under the record of
// its recordTarget's national identity with metadata derived from its header (a CDA that
// replaces an earlier version, relatedDocument RPLC, supersedes it); or a PDF, image or text
// document with its minimal metadata as parameters (MinimalDepositMetadata).
EntryResult FhirApi::Impl::DepositCda(Session& session, const HttpRequest& req) {
  const std::string* ct = req.Header("Content-Type");
  std::string media = ct ? ct->substr(0, ct->find(';')) : "";
  while (!media.empty() && media.back() == ' ') media.pop_back();
  for (char& c : media) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  xds::DocumentEntry entry;
  std::string ins_system, ins, replaces_unique_id;
  if (media == "application/xml" || media == "text/xml" || media == "application/hl7-cda+xml") {
    auto header = mapping::ReadCdaHeader(req.body);
    if (!header.ok()) return FromError(header.status());
    entry = header->entry;
    ins_system = "urn:oid:" + header->patient_ins_oid;
    ins = header->patient_ins;
    replaces_unique_id = header->replaces_unique_id;
  } else if (media == "application/pdf" || media == "image/jpeg" || media == "image/png" ||
             media == "text/plain") {
    // A document without a header (a scanned letter, a patient's upload): the minimal
    // metadata comes as parameters, the rest is derived.
    auto meta = MinimalDepositMetadata(ParseQuery(req.query), media, req.body);
    if (!meta.ok()) return FromError(meta.status());
    entry = std::move(meta->entry);
    ins_system = meta->patient_system;
    ins = meta->patient_value;
  } else {
    return FromError(
        Status(ErrorCode::kUnsupportedMediaType,
               "$deposit takes a CDA R2 document (application/xml, text/xml) or a PDF, JPEG, PNG "
               "or plain-text document with ?patient=&type= parameters"));
  }
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(req.body.data()), req.body.size(), digest);
  static const char* kHex = "0123456789abcdef";
  entry.hash.clear();
  for (unsigned char c : digest) {
    entry.hash.push_back(kHex[c >> 4]);
    entry.hash.push_back(kHex[c & 15]);
  }
  entry.size = std::to_string(req.body.size());
  entry.repository_unique_id = mapping::kRepositoryUniqueId;
  WriteResult created;
  Status st = storage::RunInTransaction(pool_, [&](Transaction& tx) -> Status {
    auto patient = storage::FindPatientByIdentifier(tx, ins_system, ins);
    if (!patient.ok()) return patient.status();
    if (!*patient || (*patient)->status != "active")
      return Status(ErrorCode::kUnknownPatient,
                    "no active record for the national identity " + ins + " the document is about");
    std::string id = NewUuid();
    JsonValue binary = JsonValue::Object();
    binary.Set("resourceType", JsonValue::String("Binary"));
    binary.Set("contentType", JsonValue::String(entry.mime_type));
    JsonValue context = JsonValue::Object();
    context.Set("reference", JsonValue::String("DocumentReference/" + id));
    binary.Set("securityContext", std::move(context));
    binary.Set("data", JsonValue::String(Base64Encode(req.body)));
    // The document first, its content second: the Binary then files under the document's
    // record (its securityContext resolves).
    std::string binary_id = NewUuid();
    entry.id = "urn:uuid:" + id;
    JsonValue dr = mapping::DocumentReferenceFromEntry(entry, "Patient/" + (*patient)->resource_id,
                                                       "Binary/" + binary_id);
    if (!replaces_unique_id.empty()) {
      auto old =
          FindMatchingIds(tx, "DocumentReference", "identifier=urn:oid:" + replaces_unique_id, 2);
      if (!old.ok()) return old.status();
      for (const std::string& old_id : *old) {
        auto current = storage::ReadCurrent(tx, "DocumentReference", old_id, true);
        if (!current.ok()) return current.status();
        if (!*current || (*current)->deleted) continue;
        auto json = dossier::StoredJson(**current);
        if (!json.ok()) return json.status();
        // Only a current version is replaced (it becomes superseded when this one is written:
        // Interactions::AfterWrite); a re-deposit of an already replaced chain changes nothing.
        if (json->GetString("status") != "current") continue;
        JsonValue rel = JsonValue::Object();
        rel.Set("code", JsonValue::String("replaces"));
        JsonValue target = JsonValue::Object();
        target.Set("reference", JsonValue::String("DocumentReference/" + old_id));
        rel.Set("target", std::move(target));
        JsonValue* list = dr.Find("relatesTo");
        if (!list) list = &dr.Set("relatesTo", JsonValue::Array());
        list->Append(std::move(rel));
      }
    }
    auto r = interactions_.Create(tx, session, "DocumentReference", dr, id);
    if (!r.ok()) return r.status();
    created = std::move(r).value();
    auto b = interactions_.Create(tx, session, "Binary", binary, binary_id);
    if (!b.ok()) return b.status();
    // The level-3 entries follow on their own (dossier/document_extraction.h): the content
    // just stored completes the document.
    return Status::Ok();
  });
  if (!st.ok()) return FromError(st);
  return FromWrite(created);
}

// ---- batch and transaction ------------------------------------------------------------

namespace {

struct BundleEntry {
  size_t index;
  std::string method;
  ParsedUrl url;
  std::string raw_url;
  JsonValue resource;
  bool has_resource = false;
  Preconditions pre;
  std::string if_none_match;
  Status parse_error;
};

int MethodRank(const std::string& m) {
  if (m == "DELETE") return 0;
  if (m == "POST") return 1;
  if (m == "PUT" || m == "PATCH") return 2;
  return 3;  // GET, HEAD
}

// Rewrites every `reference` (and Attachment `url`) equal to a placeholder fullUrl.
void RewriteReferences(JsonValue& node, const std::map<std::string, std::string>& ids,
                       int depth = 0) {
  if (depth > 100) return;
  if (node.is_array()) {
    for (auto& item : node.items()) RewriteReferences(item, ids, depth + 1);
    return;
  }
  if (!node.is_object()) return;
  for (auto& [key, value] : node.members()) {
    if ((key == "reference" || key == "url") && value.is_string()) {
      auto it = ids.find(value.text());
      if (it != ids.end()) value = JsonValue::String(it->second);
      continue;
    }
    RewriteReferences(value, ids, depth + 1);
  }
}

}  // namespace

EntryResult FhirApi::Impl::ProcessBundle(Session& session, const HttpRequest& req) {
  bool mhd = false;
  EntryResult r = ProcessBundleBody(session, req, &mhd);
  r.xds_error_codes = mhd && !r.error.ok();
  return r;
}

EntryResult FhirApi::Impl::ProcessBundleBody(Session& session, const HttpRequest& req,
                                             bool* mhd_submission) {
  auto body = ParseResourceBody(req);
  if (!body.ok()) return FromError(body.status());
  JsonValue bundle = std::move(body).value();
  if (bundle.GetString("resourceType") != "Bundle")
    return FromError(BadRequest("POST to the base takes a batch or transaction Bundle"));
  std::string kind = bundle.GetString("type");
  if (kind != "batch" && kind != "transaction")
    return FromError(
        BadRequest("Bundle.type '" + kind +
                       "' cannot be processed: use batch or transaction "
                       "(a document or collection Bundle is stored by POST /fhir/Bundle)",
                   "Bundle.type"));
  bool transaction = kind == "transaction";
  // An IHE MHD Provide Document Bundle (ITI-65) keeps the rules of a document submission,
  // checked before anything is written.
  if (transaction && mapping::IsMhdProvideBundle(bundle)) {
    *mhd_submission = true;
    Status mhd = mapping::ValidateMhdProvideBundle(bundle);
    if (!mhd.ok()) return FromError(mhd);
  }
  std::vector<BundleEntry> entries;
  std::vector<std::string> full_urls;
  if (const JsonValue* list = bundle.Find("entry"); list && list->is_array()) {
    for (size_t i = 0; i < list->items().size(); ++i) {
      const JsonValue& item = list->items()[i];
      BundleEntry e;
      e.index = i;
      std::string where = "Bundle.entry[" + std::to_string(i) + "]";
      const JsonValue* request = item.Find("request");
      if (!request || !request->is_object()) {
        e.parse_error = BadRequest("entry has no request", where + ".request");
      } else {
        e.method = request->GetString("method");
        e.raw_url = request->GetString("url");
        if (e.method != "GET" && e.method != "HEAD" && e.method != "POST" && e.method != "PUT" &&
            e.method != "PATCH" && e.method != "DELETE")
          e.parse_error = BadRequest("request.method '" + e.method + "' is not supported",
                                     where + ".request.method");
        auto url = ParseEntryUrl(e.raw_url, options_.base_url);
        if (!url.ok() && e.parse_error.ok())
          e.parse_error =
              Status(url.status().code(), url.status().message(), where + ".request.url");
        if (url.ok()) e.url = *url;
        std::string if_match = request->GetString("ifMatch");
        if (!if_match.empty()) {
          e.pre.if_match = ParseETag(if_match);
          if (!e.pre.if_match && e.parse_error.ok())
            e.parse_error =
                BadRequest("ifMatch must be a version ETag", where + ".request.ifMatch");
        }
        e.pre.if_none_exist = request->GetString("ifNoneExist");
        e.if_none_match = request->GetString("ifNoneMatch");
      }
      if (const JsonValue* res = item.Find("resource")) {
        e.resource = *res;
        e.has_resource = true;
      }
      if (e.parse_error.ok() && (e.method == "POST" || e.method == "PUT") && !e.has_resource &&
          !(e.method == "POST" && e.url.op.size()))
        e.parse_error = BadRequest(e.method + " entry has no resource", where + ".resource");
      if (e.parse_error.ok() && e.method == "PATCH" && !e.has_resource)
        e.parse_error =
            BadRequest("PATCH entry needs a Binary holding the JSON Patch", where + ".resource");
      if (e.parse_error.ok() && !model::StructureRegistry::R4().IsResourceType(e.url.type))
        e.parse_error = NotFound("'" + e.url.type + "' is not a FHIR R4 resource type");
      else if (e.parse_error.ok() && !IsServedType(e.url.type))
        e.parse_error = NotFound(e.url.type + " is not served by this server");
      if (e.parse_error.ok() && e.method != "POST" && e.method != "GET" && e.method != "HEAD" &&
          e.url.id.empty() && e.url.query.empty())
        e.parse_error = BadRequest(e.method + " needs an id or search criteria in request.url",
                                   where + ".request.url");
      full_urls.push_back(item.GetString("fullUrl"));
      entries.push_back(std::move(e));
    }
  }
  // Placeholders: urn:uuid fullUrls of POST (new ids reserved now) and PUT entries.
  std::map<std::string, std::string> placeholder;
  std::vector<std::string> reserved(entries.size());
  for (auto& e : entries) {
    const std::string& full = full_urls[e.index];
    if (e.method == "POST") reserved[e.index] = NewUuid();
    if (full.rfind("urn:uuid:", 0) == 0 || full.rfind("urn:oid:", 0) == 0) {
      if (e.method == "POST")
        placeholder[full] = e.url.type + "/" + reserved[e.index];
      else if (e.method == "PUT" && !e.url.id.empty())
        placeholder[full] = e.url.type + "/" + e.url.id;
    }
  }
  for (auto& e : entries)
    if (e.has_resource) RewriteReferences(e.resource, placeholder);

  // Walks a resource for references of the form Type?criteria and replaces them by the
  // one resource they match (a reference matching none or several fails the entry).
  std::function<Status(Transaction&, JsonValue&, int)> resolve_refs =
      [&](Transaction& tx, JsonValue& node, int depth) -> Status {
    if (depth > 100) return Status::Ok();
    if (node.is_array()) {
      for (auto& item : node.items()) CARNET_RETURN_IF_ERROR(resolve_refs(tx, item, depth + 1));
      return Status::Ok();
    }
    if (!node.is_object()) return Status::Ok();
    for (auto& [key, value] : node.members()) {
      if (key == "reference" && value.is_string() && value.text().find('?') != std::string::npos &&
          value.text().find("://") == std::string::npos) {
        auto target = interactions_.ResolveConditionalReference(tx, session, value.text());
        if (!target.ok()) return target.status();
        value = JsonValue::String(*target);
        continue;
      }
      CARNET_RETURN_IF_ERROR(resolve_refs(tx, value, depth + 1));
    }
    return Status::Ok();
  };
  auto ResolveConditionalReferences = [&](Transaction& tx, JsonValue& resource) {
    return resolve_refs(tx, resource, 0);
  };

  auto run_entry = [&](Transaction& tx, BundleEntry& e) -> EntryResult {
    if (!e.parse_error.ok()) return FromError(e.parse_error);
    const std::string& type = e.url.type;
    if (IsReadOnlyType(type) && e.method != "GET" && e.method != "HEAD")
      return FromError(Status(ErrorCode::kMethodNotAllowed, type + " is read-only"));
    Result<WriteResult> w = Internal("unreachable");
    // Conditional references (Patient?identifier=...) resolve inside this transaction.
    JsonValue resource = e.resource;
    if (e.has_resource) {
      Status st = ResolveConditionalReferences(tx, resource);
      if (!st.ok()) return FromError(st);
    }
    if (e.method == "POST") {
      w = e.pre.if_none_exist.empty()
              ? interactions_.Create(tx, session, type, std::move(resource), reserved[e.index])
              : interactions_.CreateIfNoneExist(tx, session, type, std::move(resource),
                                                e.pre.if_none_exist, reserved[e.index]);
    } else if (e.method == "PUT") {
      w = e.url.id.empty()
              ? interactions_.ConditionalUpdate(tx, session, type, e.url.query, std::move(resource),
                                                e.pre)
              : interactions_.Update(tx, session, type, e.url.id, std::move(resource), e.pre);
    } else if (e.method == "DELETE") {
      w = e.url.id.empty() ? interactions_.ConditionalDelete(tx, session, type, e.url.query, e.pre)
                           : interactions_.Delete(tx, session, type, e.url.id, e.pre);
    } else if (e.method == "PATCH") {
      // FHIR carries a JSON Patch in a Bundle as a Binary whose data is the patch document.
      if (e.resource.GetString("resourceType") != "Binary" ||
          e.resource.GetString("contentType").find("json-patch") == std::string::npos)
        return FromError(
            Status(ErrorCode::kUnsupportedMediaType,
                   "a PATCH entry takes a Binary of contentType application/json-patch+json"));
      auto text = Base64Decode(e.resource.GetString("data"));
      if (!text) return FromError(BadRequest("the PATCH entry's Binary.data is not base64"));
      auto patch = ParseJson(*text);
      if (!patch.ok()) return FromError(patch.status());
      if (e.url.id.empty())
        return FromError(BadRequest("a PATCH entry needs Type/id in request.url"));
      w = interactions_.Patch(tx, session, type, e.url.id, *patch, e.pre);
    } else {
      if (e.url.id.empty())
        return FromError(
            Status(ErrorCode::kMethodNotAllowed, "search inside a Bundle is not available yet"));
      auto cur =
          GuardedRead(tx, session, type, e.url.id, e.url.vid, e.url.vid.empty() ? "read" : "vread");
      if (!cur.ok()) return FromError(cur.status());
      if (cur->deleted)
        return FromError(Status(ErrorCode::kGone, type + "/" + e.url.id + " was deleted"));
      EntryResult r;
      r.version = cur->version;
      r.last_modified = cur->last_updated;
      auto parsed = dossier::StoredJson(*cur);
      if (!parsed.ok()) return FromError(parsed.status());
      r.has_resource = true;
      r.resource = std::move(parsed).value();
      if (!e.if_none_match.empty() && ParseETag(e.if_none_match) == r.version) {
        r.status = 304;
        r.has_resource = false;
      }
      return r;
    }
    if (!w.ok()) return FromError(w.status());
    return FromWrite(*w);
  };

  std::vector<size_t> order(entries.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  // The spec's order (DELETE, POST, PUT/PATCH, GET), then by type within one method.
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    int ra = MethodRank(entries[a].method), rb = MethodRank(entries[b].method);
    if (ra != rb) return ra < rb;
    // Patients first (everything is filed under them), then the authors a document may
    // reference (an MHD UnContained DocumentReference records their XDS view when written),
    // Lists last (an MHD SubmissionSet's HasMember associations are derived from the
    // documents it lists).
    auto weight = [&](size_t i) {
      const std::string& t = entries[i].url.type;
      return t == "Patient"                                                          ? 0
             : t == "Practitioner" || t == "PractitionerRole" || t == "Organization" ? 1
             : t == "List"                                                           ? 3
                                                                                     : 2;
    };
    return weight(a) < weight(b);
  });

  std::vector<EntryResult> results(entries.size());
  if (transaction) {
    Status failed;
    Status st = storage::RunInTransaction(pool_, [&](Transaction& tx) {
      for (size_t i : order) {
        results[i] = run_entry(tx, entries[i]);
        if (!results[i].error.ok()) {
          const BundleEntry& e = entries[i];
          // Locate the problem in the Bundle: Patient.birthDate of entry 1 becomes
          // Bundle.entry[1].resource.birthDate.
          std::string where = "Bundle.entry[" + std::to_string(e.index) + "]";
          const std::string& inner = results[i].error.location();
          if (inner.rfind(e.url.type, 0) == 0)
            where += ".resource" + inner.substr(e.url.type.size());
          else if (inner.rfind("Bundle.", 0) == 0)
            where = inner;
          return Status(results[i].error.code(),
                        "transaction failed at entry " + std::to_string(e.index) + " (" + e.method +
                            " " + e.raw_url + "): " + results[i].error.message(),
                        where);
        }
      }
      // An MHD Provide Document Bundle (ITI-65) stores documents and their Binary content in
      // either order, the content naming no document: once all is stored, the documents'
      // structured content is extracted (dossier/document_extraction.h; once per document).
      for (size_t i : order)
        if (entries[i].url.type == "DocumentReference" && results[i].status == 201 &&
            !results[i].location.empty()) {
          std::string id =
              results[i].location.substr(18, results[i].location.find("/_history") - 18);
          CARNET_RETURN_IF_ERROR(dossier::ExtractDocumentContent(tx, session, id));
        }
      return Status::Ok();
    });
    if (!st.ok()) return FromError(st);
  } else {
    for (size_t i : order) {
      Status st = storage::RunInTransaction(pool_, [&](Transaction& tx) {
        results[i] = run_entry(tx, entries[i]);
        // A failed entry rolls back its own work only.
        return results[i].error.ok() ? Status::Ok() : results[i].error;
      });
      if (!st.ok() && results[i].error.ok()) results[i] = FromError(st);
    }
  }

  JsonValue out = NewBundle(transaction ? "transaction-response" : "batch-response");
  JsonValue list = JsonValue::Array();
  PreferReturn prefer = ParsePrefer(req);
  for (size_t i = 0; i < entries.size(); ++i) {
    const EntryResult& r = results[i];
    JsonValue entry = JsonValue::Object();
    if (r.error.ok() && !r.location.empty()) {
      std::string tid = r.location.substr(0, r.location.find("/_history"));
      entry.Set("fullUrl", JsonValue::String(options_.base_url + "/" + tid));
    }
    bool is_read = entries[i].method == "GET" || entries[i].method == "HEAD";
    if (r.error.ok() && r.has_resource && (is_read || prefer == PreferReturn::kRepresentation))
      entry.Set("resource", r.resource);
    JsonValue response = JsonValue::Object();
    response.Set("status", JsonValue::String(StatusLine(r.status)));
    if (r.error.ok()) {
      if (!r.location.empty()) response.Set("location", JsonValue::String(r.location));
      if (r.version > 0) response.Set("etag", JsonValue::String(ETag(r.version)));
      if (!r.last_modified.empty())
        response.Set("lastModified", JsonValue::String(r.last_modified));
    } else {
      response.Set("outcome", OutcomeFromStatus(r.error));
    }
    entry.Set("response", std::move(response));
    list.Append(std::move(entry));
  }
  if (!list.items().empty()) out.Set("entry", std::move(list));
  EntryResult e;
  e.has_resource = true;
  e.resource = std::move(out);
  return e;
}

}  // namespace carnet::fhir
