#include "fhir/rest.h"

#include <algorithm>
#include <functional>
#include <map>

#include "base/strings.h"
#include "fhir/format.h"
#include "fhir/outcome.h"
#include "fhir/search.h"
#include "mapping/cda_entries.h"
#include "mapping/cda_header.h"
#include "mapping/document_entry.h"
#include "mapping/registry_index.h"
#include <openssl/sha.h>
#include "profiles/structure.h"

namespace carnet::fhir {
namespace {

using storage::StoredResource;
using storage::Transaction;

std::vector<std::string> SplitPath(const std::string& path) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < path.size()) {
    size_t slash = path.find('/', start);
    std::string seg = path.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
    if (!seg.empty()) out.push_back(PercentDecode(seg, false));
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  return out;
}

std::string PercentEncode(const std::string& s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

std::string StatusLine(int status) {
  switch (status) {
    case 200: return "200 OK";
    case 201: return "201 Created";
    case 204: return "204 No Content";
    case 304: return "304 Not Modified";
    case 400: return "400 Bad Request";
    case 401: return "401 Unauthorized";
    case 403: return "403 Forbidden";
    case 404: return "404 Not Found";
    case 405: return "405 Method Not Allowed";
    case 409: return "409 Conflict";
    case 410: return "410 Gone";
    case 412: return "412 Precondition Failed";
    case 422: return "422 Unprocessable Entity";
    case 503: return "503 Service Unavailable";
    default: return std::to_string(status);
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
  Status error;              // non-OK: the interaction failed
  int status = 200;
  std::string location;      // "Patient/1/_history/2" (relative to the base)
  int version = 0;
  std::string last_modified; // instant
  bool has_resource = false;
  JsonValue resource;        // the resource (or Bundle, OperationOutcome) to answer with
  std::string resource_json; // stored text, when the resource was not parsed (fast path)
  std::string native_body;   // Binary content served as itself
  std::string native_type;
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
    e.location = w.stored.type + "/" + w.stored.id + "/_history/" + std::to_string(w.stored.version);
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
    if (segs[1][0] == '$') p.op = segs[1];
    else p.id = segs[1];
  }
  if (segs.size() >= 3) {
    if (segs[2] == "_history") p.history = true;
    else if (segs[2][0] == '$') p.op = segs[2];
    else return BadRequest("request.url " + url + " is not a supported interaction");
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
      : pool_(pool), options_(std::move(options)), interactions_(pool), reader_(pool) {}

  HttpResponse Handle(const HttpRequest& req);

 private:
  HttpResponse Respond(const HttpRequest& req, const Negotiated& n, const EntryResult& e,
                       PreferReturn prefer);
  // Type-level and instance-level routing.
  EntryResult Route(const HttpRequest& req, const std::vector<std::string>& segs,
                    const QueryParams& query);
  EntryResult Read(const HttpRequest& req, const std::string& type, const std::string& id);
  EntryResult VRead(const std::string& type, const std::string& id, const std::string& vid);
  EntryResult WriteInTransaction(const std::function<Result<WriteResult>(Transaction&)>& op);
  EntryResult History(const std::string& type, const std::string& id, const QueryParams& query,
                      const std::string& self_path);
  EntryResult Search(const HttpRequest& req, const std::string& type, const QueryParams& query,
                     const std::string& compartment = "");
  EntryResult Everything(const std::string& id, const QueryParams& query);
  EntryResult ValidateOp(const HttpRequest& req, const std::string& type, const std::string& id);
  EntryResult ProcessBundle(const HttpRequest& req);
  EntryResult DepositCda(const HttpRequest& req);
  EntryResult Capabilities();
  Preconditions PreconditionsOf(const HttpRequest& req, Status* error);
  int CountParam(const QueryParams& query, Status* error) const;

  storage::Pool& pool_;
  FhirOptions options_;
  Interactions interactions_;
  storage::ResourceReader reader_;
};

FhirApi::FhirApi(storage::Pool& pool, FhirOptions options)
    : impl_(std::make_unique<Impl>(pool, std::move(options))) {}
FhirApi::~FhirApi() = default;
HttpResponse FhirApi::Handle(const HttpRequest& req) { return impl_->Handle(req); }

HttpResponse FhirApi::Impl::Handle(const HttpRequest& req) {
  QueryParams query = ParseQuery(req.query);
  auto negotiated = NegotiateResponse(req, query);
  if (!negotiated.ok()) return RenderError(negotiated.status(), Negotiated{});
  const Negotiated& n = *negotiated;
  std::string rest = req.path.size() > 5 ? req.path.substr(5) : "";
  auto segs = SplitPath(rest);
  EntryResult e = Route(req, segs, query);
  return Respond(req, n, e, ParsePrefer(req));
}

HttpResponse FhirApi::Impl::Respond(const HttpRequest& req, const Negotiated& n,
                                    const EntryResult& e, PreferReturn prefer) {
  if (!e.error.ok()) {
    HttpResponse r = RenderError(e.error, n);
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
    r.SetHeader(e.status == 201 ? "Location" : "Content-Location", options_.base_url + "/" + e.location);
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

EntryResult FhirApi::Impl::Route(const HttpRequest& req, const std::vector<std::string>& segs,
                                 const QueryParams& query) {
  const std::string& m = req.method;
  auto not_allowed = [](const std::string& allow) {
    EntryResult e = FromError(Status(ErrorCode::kMethodNotAllowed, "method not allowed here; allowed: " + allow));
    e.location = allow;
    return e;
  };
  if (segs.empty()) {
    if (m == "POST") return ProcessBundle(req);
    if (m == "GET") return Search(req, "", query);
    return not_allowed("GET, POST");
  }
  if (segs[0] == "metadata") {
    if (m == "GET" && segs.size() == 1) return Capabilities();
    return not_allowed("GET");
  }
  if (segs[0] == "_history") {
    if (m == "GET" && segs.size() == 1) return History("", "", query, "_history");
    return not_allowed("GET");
  }
  const std::string& type = segs[0];
  const auto& registry = profiles::StructureRegistry::R4();
  if (!registry.IsResourceType(type))
    return FromError(NotFound("'" + type + "' is not a FHIR R4 resource type"));
  if (!IsServedType(type))
    return FromError(NotFound(type + " is not served by this server (see /fhir/metadata)"));
  bool read_only = IsReadOnlyType(type);

  if (segs.size() == 1) {
    if (m == "GET") return Search(req, type, query);
    if (m == "POST" && type == "Binary" && IsNativeBinaryBody(req)) {
      JsonValue binary = BinaryFromNative(req, "");
      return WriteInTransaction([&](Transaction& tx) { return interactions_.Create(tx, type, binary); });
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
          return interactions_.CreateIfNoneExist(tx, type, resource, criteria);
        });
      }
      return WriteInTransaction([&](Transaction& tx) { return interactions_.Create(tx, type, resource); });
    }
    if (!read_only && (m == "PUT" || m == "DELETE") && !req.query.empty()) {
      Status pre_error;
      Preconditions pre = PreconditionsOf(req, &pre_error);
      if (!pre_error.ok()) return FromError(pre_error);
      // FindMatchingIds takes the query string as sent.
      const std::string& criteria = req.query;
      if (m == "DELETE")
        return WriteInTransaction([&](Transaction& tx) {
          return interactions_.ConditionalDelete(tx, type, criteria, pre);
        });
      auto body = ParseResourceBody(req);
      if (!body.ok()) return FromError(body.status());
      const JsonValue& resource = *body;
      if (resource.GetString("resourceType") != type)
        return FromError(BadRequest("the body is not a " + type, "resourceType"));
      return WriteInTransaction([&](Transaction& tx) {
        return interactions_.ConditionalUpdate(tx, type, criteria, resource, pre);
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
    return Search(req, type, form);
  }
  if (second == "_history" && segs.size() == 2) {
    if (m == "GET") return History(type, "", query, type + "/_history");
    return not_allowed("GET");
  }
  if (second == "$deposit" && segs.size() == 2 && type == "DocumentReference") {
    if (m == "POST") return DepositCda(req);
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
      EntryResult e = Read(req, type, id);
      if (type == "Binary" && e.error.ok() && !e.resource_json.empty() && WantsNativeBinary(req, query)) {
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
      auto body = type == "Binary" && IsNativeBinaryBody(req) ? Result<JsonValue>(BinaryFromNative(req, id))
                                                               : ParseResourceBody(req);
      if (!body.ok()) return FromError(body.status());
      const JsonValue& resource = *body;
      return WriteInTransaction(
          [&](Transaction& tx) { return interactions_.Update(tx, type, id, resource, pre); });
    }
    if (m == "DELETE") {
      return WriteInTransaction([&](Transaction& tx) { return interactions_.Delete(tx, type, id, pre); });
    }
    if (m == "PATCH") {
      const std::string* ct = req.Header("Content-Type");
      if (!ct || ct->find("application/json-patch+json") == std::string::npos)
        return FromError(Status(ErrorCode::kUnsupportedMediaType,
                                "PATCH takes application/json-patch+json"));
      auto patch = ParseJson(req.body);
      if (!patch.ok()) return FromError(patch.status());
      const JsonValue& p = *patch;
      return WriteInTransaction([&](Transaction& tx) { return interactions_.Patch(tx, type, id, p, pre); });
    }
    return not_allowed("GET, PUT, PATCH, DELETE");
  }
  const std::string& third = segs[2];
  if (third == "_history") {
    if (m != "GET") return not_allowed("GET");
    if (segs.size() == 3) return History(type, id, query, type + "/" + id + "/_history");
    if (segs.size() == 4) return VRead(type, id, segs[3]);
  }
  if (third == "$validate" && segs.size() == 3) {
    if (m == "POST") return ValidateOp(req, type, id);
    return not_allowed("POST");
  }
  if (third == "$everything" && segs.size() == 3 && type == "Patient") {
    if (m == "GET") return Everything(id, query);
    return not_allowed("GET");
  }
  // Compartment search: Patient/[id]/[type]?...
  if (type == "Patient" && segs.size() == 3 && IsServedType(third)) {
    if (m == "GET") return Search(req, third, query, id);
    return not_allowed("GET");
  }
  return FromError(NotFound("no such FHIR endpoint: " + req.path));
}

EntryResult FhirApi::Impl::Read(const HttpRequest& req, const std::string& type,
                                const std::string& id) {
  auto r = reader_.Read(type, id);
  if (!r.ok()) return FromError(r.status());
  if (r->deleted) {
    EntryResult e = FromError(Status(ErrorCode::kGone, type + "/" + id + " was deleted"));
    return e;
  }
  EntryResult e;
  e.version = r->version;
  e.last_modified = r->last_updated;
  if (const std::string* inm = req.Header("If-None-Match")) {
    auto v = ParseETag(*inm);
    if (v && *v == r->version) {
      e.status = 304;
      return e;
    }
  }
  if (const std::string* ims = req.Header("If-Modified-Since")) {
    auto since = EpochSeconds(*ims);
    auto modified = EpochSeconds(r->last_updated);
    if (since && modified && *modified <= *since) {
      e.status = 304;
      return e;
    }
  }
  e.resource_json = std::move(r->content);
  return e;
}

EntryResult FhirApi::Impl::VRead(const std::string& type, const std::string& id,
                                 const std::string& vid) {
  if (vid.empty() || vid.size() > 9 || vid.find_first_not_of("0123456789") != std::string::npos)
    return FromError(NotFound("'" + vid + "' is not a version of " + type + "/" + id));
  auto r = reader_.ReadVersion(type, id, std::stoi(vid));
  if (!r.ok()) return FromError(r.status());
  if (r->deleted)
    return FromError(Status(ErrorCode::kGone, type + "/" + id + " version " + vid + " is a deletion"));
  EntryResult e;
  e.version = r->version;
  e.last_modified = r->last_updated;
  e.resource_json = std::move(r->content);
  return e;
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

EntryResult FhirApi::Impl::History(const std::string& type, const std::string& id,
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
      parts.push_back(cursor.substr(start, bar == std::string::npos ? std::string::npos : bar - start));
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
  auto rows = storage::ReadHistory(pool_, q);
  if (!rows.ok()) return FromError(rows.status());
  bool more = static_cast<int>(rows->size()) > page;
  if (more) rows->resize(page);

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
    const StoredResource& last = rows->back();
    std::string next_cursor = last.last_updated + "|" + last.type + "|" + last.id + "|" +
                              std::to_string(last.version);
    link("next", options_.base_url + "/" + self_path + "?" + base_query + "&_cursor=" +
                     PercentEncode(next_cursor));
  }
  bundle.Set("link", std::move(links));
  JsonValue entries = JsonValue::Array();
  for (const StoredResource& r : *rows) {
    JsonValue entry = JsonValue::Object();
    entry.Set("fullUrl", JsonValue::String(options_.base_url + "/" + r.type + "/" + r.id));
    if (!r.deleted) {
      auto res = StoredJson(r);
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

EntryResult FhirApi::Impl::Everything(const std::string& id, const QueryParams& query) {
  Status error;
  int count = CountParam(query, &error);
  if (!error.ok()) return FromError(error);
  std::string after_type, after_id;
  for (const auto& [k, v] : query)
    if (k == "_cursor") {
      auto bar = v.find('|');
      if (bar == std::string::npos) return FromError(BadRequest("_cursor is not a cursor this server wrote"));
      after_type = v.substr(0, bar);
      after_id = v.substr(bar + 1);
    }
  static const storage::Statement kEverything{
      "patient_everything",
      "SELECT r.res_type, r.res_id, r.content FROM resource r "
      "JOIN patient p ON p.patient_key = r.patient_key "
      "WHERE p.resource_id = $1 AND NOT r.deleted AND (r.res_type, r.res_id) > ($2, $3) "
      "ORDER BY r.res_type, r.res_id LIMIT $4::int"};
  auto patient = reader_.Read("Patient", id);
  if (!patient.ok()) return FromError(patient.status());
  if (patient->deleted) return FromError(Status(ErrorCode::kGone, "Patient/" + id + " was deleted"));
  std::vector<std::tuple<std::string, std::string, std::string>> rows;
  Status st = storage::RunInTransaction(pool_, storage::TxOptions{storage::Isolation::kReadCommitted, true, 2},
                                        [&](Transaction& tx) {
                                          rows.clear();
                                          auto r = tx.Run(kEverything,
                                                          {storage::SqlParam::Text(id),
                                                           storage::SqlParam::Text(after_type),
                                                           storage::SqlParam::Text(after_id),
                                                           storage::SqlParam::Text(std::to_string(count + 1))});
                                          if (!r.ok()) return r.status();
                                          for (int i = 0; i < r->rows(); ++i)
                                            rows.emplace_back(r->GetString(i, 0), r->GetString(i, 1),
                                                              r->GetString(i, 2));
                                          return Status::Ok();
                                        });
  if (!st.ok()) return FromError(st);
  bool more = static_cast<int>(rows.size()) > count;
  if (more) rows.resize(count);
  JsonValue bundle = NewBundle("searchset");
  JsonValue links = JsonValue::Array();
  std::string self_base = options_.base_url + "/Patient/" + id + "/$everything?_count=" + std::to_string(count);
  AddLink(links, "self",
          self_base + (after_type.empty() ? "" : "&_cursor=" + PercentEncode(after_type + "|" + after_id)));
  if (more)
    AddLink(links, "next",
            self_base + "&_cursor=" + PercentEncode(std::get<0>(rows.back()) + "|" + std::get<1>(rows.back())));
  bundle.Set("link", std::move(links));
  JsonValue entries = JsonValue::Array();
  for (auto& [t, i, content] : rows) {
    auto res = ParseJson(content);
    if (!res.ok()) return FromError(Internal("stored " + t + "/" + i + " is unreadable"));
    JsonValue entry = JsonValue::Object();
    entry.Set("fullUrl", JsonValue::String(options_.base_url + "/" + t + "/" + i));
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

EntryResult FhirApi::Impl::Search(const HttpRequest& req, const std::string& type,
                                  const QueryParams& query, const std::string& compartment) {
  SearchRequest s;
  s.type = type;
  s.compartment_patient = compartment;
  s.base_url = options_.base_url;
  s.default_count = options_.default_count;
  s.max_count = options_.max_count;
  const std::string* prefer = req.Header("Prefer");
  s.strict = prefer && prefer->find("handling=strict") != std::string::npos;
  for (const auto& kv : query)
    if (kv.first != "_format" && kv.first != "_pretty") s.params.push_back(kv);
  auto bundle = RunSearch(pool_, s);
  if (!bundle.ok()) return FromError(bundle.status());
  EntryResult e;
  e.has_resource = true;
  e.resource = std::move(bundle).value();
  return e;
}

EntryResult FhirApi::Impl::Capabilities() {
  const auto& registry = profiles::StructureRegistry::R4();
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
  impl.Set("description", JsonValue::String("carnet FHIR R4 gateway onto the personal health record"));
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
    if (type == "Patient") op("everything", "http://hl7.org/fhir/OperationDefinition/Patient-everything");
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

// POST /fhir/DocumentReference/$deposit: a bare CDA R2 document, filed under the record of
// its recordTarget's national identity with metadata derived from its header; a CDA that
// replaces an earlier version (relatedDocument RPLC) supersedes it.
EntryResult FhirApi::Impl::DepositCda(const HttpRequest& req) {
  const std::string* ct = req.Header("Content-Type");
  std::string media = ct ? ct->substr(0, ct->find(';')) : "";
  if (media != "application/xml" && media != "text/xml" && media != "application/hl7-cda+xml")
    return FromError(Status(ErrorCode::kUnsupportedMediaType,
                            "$deposit takes a CDA R2 document (application/xml or text/xml)"));
  auto header = mapping::ReadCdaHeader(req.body);
  if (!header.ok()) return FromError(header.status());
  xds::DocumentEntry entry = header->entry;
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
    auto patient = storage::FindPatientByIdentifier(tx, "urn:oid:" + header->patient_ins_oid, header->patient_ins);
    if (!patient.ok()) return patient.status();
    if (!*patient || (*patient)->status != "active")
      return Status(ErrorCode::kUnknownPatient, "no active record for the national identity " +
                                                    header->patient_ins + " of the document's recordTarget");
    JsonValue binary = JsonValue::Object();
    binary.Set("resourceType", JsonValue::String("Binary"));
    binary.Set("contentType", JsonValue::String("text/xml"));
    binary.Set("data", JsonValue::String(Base64Encode(req.body)));
    auto b = interactions_.Create(tx, "Binary", binary);
    if (!b.ok()) return b.status();
    std::string id = NewUuid();
    entry.id = "urn:uuid:" + id;
    JsonValue dr = mapping::DocumentReferenceFromEntry(entry, "Patient/" + (*patient)->resource_id,
                                                       "Binary/" + b->stored.id);
    if (!header->replaces_unique_id.empty()) {
      auto old = FindMatchingIds(tx, "DocumentReference", "identifier=urn:oid:" + header->replaces_unique_id, 2);
      if (!old.ok()) return old.status();
      for (const std::string& old_id : *old) {
        auto current = storage::ReadCurrent(tx, "DocumentReference", old_id, true);
        if (!current.ok()) return current.status();
        if (!*current || (*current)->deleted) continue;
        auto json = StoredJson(**current);
        if (!json.ok()) return json.status();
        JsonValue superseded = std::move(json).value();
        superseded.Set("status", JsonValue::String("superseded"));
        auto upd = interactions_.Update(tx, "DocumentReference", old_id, std::move(superseded), Preconditions{});
        if (!upd.ok()) return upd.status();
        // What was extracted from the replaced version goes with it.
        auto extracted = FindMatchingIds(tx, "Observation", "derived-from=DocumentReference/" + old_id, 10000);
        if (!extracted.ok()) return extracted.status();
        for (const std::string& obs : *extracted) {
          auto del = interactions_.Delete(tx, "Observation", obs, Preconditions{});
          if (!del.ok()) return del.status();
        }
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
    auto r = interactions_.Create(tx, "DocumentReference", dr, id);
    if (!r.ok()) return r.status();
    created = std::move(r).value();
    // Level-3 entries feed the health profile, each result linked to this document, and a
    // Provenance records the extraction.
    auto report = mapping::ExtractCdaEntries(req.body, "Patient/" + (*patient)->resource_id,
                                             "DocumentReference/" + id);
    if (!report.ok()) return report.status();
    JsonValue targets = JsonValue::Array();
    for (const auto& o : report->observations) {
      auto obs = interactions_.Create(tx, "Observation", o);
      if (!obs.ok()) return obs.status();
      JsonValue t = JsonValue::Object();
      t.Set("reference", JsonValue::String("Observation/" + obs->stored.id));
      targets.Append(std::move(t));
    }
    if (!targets.items().empty()) {
      JsonValue prov = JsonValue::Object();
      prov.Set("resourceType", JsonValue::String("Provenance"));
      prov.Set("target", std::move(targets));
      prov.Set("recorded", JsonValue::String(FormatUtc(std::chrono::system_clock::now())));
      JsonValue agent = JsonValue::Object();
      JsonValue who = JsonValue::Object();
      who.Set("display", JsonValue::String("carnet CDA level-3 extraction"));
      agent.Set("who", std::move(who));
      JsonValue agents = JsonValue::Array();
      agents.Append(std::move(agent));
      prov.Set("agent", std::move(agents));
      JsonValue entity = JsonValue::Object();
      entity.Set("role", JsonValue::String("source"));
      JsonValue what = JsonValue::Object();
      what.Set("reference", JsonValue::String("DocumentReference/" + id));
      entity.Set("what", std::move(what));
      JsonValue entities = JsonValue::Array();
      entities.Append(std::move(entity));
      prov.Set("entity", std::move(entities));
      auto p = interactions_.Create(tx, "Provenance", prov);
      if (!p.ok()) return p.status();
    }
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
void RewriteReferences(JsonValue& node, const std::map<std::string, std::string>& ids, int depth = 0) {
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

EntryResult FhirApi::Impl::ProcessBundle(const HttpRequest& req) {
  auto body = ParseResourceBody(req);
  if (!body.ok()) return FromError(body.status());
  JsonValue bundle = std::move(body).value();
  if (bundle.GetString("resourceType") != "Bundle")
    return FromError(BadRequest("POST to the base takes a batch or transaction Bundle"));
  std::string kind = bundle.GetString("type");
  if (kind != "batch" && kind != "transaction")
    return FromError(BadRequest("Bundle.type '" + kind + "' cannot be processed: use batch or transaction "
                                "(a document or collection Bundle is stored by POST /fhir/Bundle)",
                                "Bundle.type"));
  bool transaction = kind == "transaction";
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
          e.parse_error = BadRequest("request.method '" + e.method + "' is not supported", where + ".request.method");
        auto url = ParseEntryUrl(e.raw_url, options_.base_url);
        if (!url.ok() && e.parse_error.ok()) e.parse_error = Status(url.status().code(), url.status().message(), where + ".request.url");
        if (url.ok()) e.url = *url;
        std::string if_match = request->GetString("ifMatch");
        if (!if_match.empty()) {
          e.pre.if_match = ParseETag(if_match);
          if (!e.pre.if_match && e.parse_error.ok())
            e.parse_error = BadRequest("ifMatch must be a version ETag", where + ".request.ifMatch");
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
        e.parse_error = BadRequest("PATCH entry needs a Binary holding the JSON Patch", where + ".resource");
      if (e.parse_error.ok() && !profiles::StructureRegistry::R4().IsResourceType(e.url.type))
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
      if (e.method == "POST") placeholder[full] = e.url.type + "/" + reserved[e.index];
      else if (e.method == "PUT" && !e.url.id.empty()) placeholder[full] = e.url.type + "/" + e.url.id;
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
        auto target = interactions_.ResolveConditionalReference(tx, value.text());
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
              ? interactions_.Create(tx, type, std::move(resource), reserved[e.index])
              : interactions_.CreateIfNoneExist(tx, type, std::move(resource), e.pre.if_none_exist,
                                                reserved[e.index]);
    } else if (e.method == "PUT") {
      w = e.url.id.empty() ? interactions_.ConditionalUpdate(tx, type, e.url.query, std::move(resource), e.pre)
                           : interactions_.Update(tx, type, e.url.id, std::move(resource), e.pre);
    } else if (e.method == "DELETE") {
      w = e.url.id.empty() ? interactions_.ConditionalDelete(tx, type, e.url.query, e.pre)
                           : interactions_.Delete(tx, type, e.url.id, e.pre);
    } else if (e.method == "PATCH") {
      // FHIR carries a JSON Patch in a Bundle as a Binary whose data is the patch document.
      if (e.resource.GetString("resourceType") != "Binary" ||
          e.resource.GetString("contentType").find("json-patch") == std::string::npos)
        return FromError(Status(ErrorCode::kUnsupportedMediaType,
                                "a PATCH entry takes a Binary of contentType application/json-patch+json"));
      auto text = Base64Decode(e.resource.GetString("data"));
      if (!text) return FromError(BadRequest("the PATCH entry's Binary.data is not base64"));
      auto patch = ParseJson(*text);
      if (!patch.ok()) return FromError(patch.status());
      if (e.url.id.empty())
        return FromError(BadRequest("a PATCH entry needs Type/id in request.url"));
      w = interactions_.Patch(tx, type, e.url.id, *patch, e.pre);
    } else {
      if (e.url.id.empty())
        return FromError(Status(ErrorCode::kMethodNotAllowed, "search inside a Bundle is not available yet"));
      Result<std::optional<StoredResource>> cur =
          e.url.vid.empty() ? storage::ReadCurrent(tx, type, e.url.id, false)
                            : Result<std::optional<StoredResource>>(std::optional<StoredResource>());
      if (!e.url.vid.empty()) {
        auto v = reader_.ReadVersion(type, e.url.id, std::atoi(e.url.vid.c_str()));
        if (!v.ok()) return FromError(v.status());
        cur = std::optional<StoredResource>(*v);
      }
      if (!cur.ok()) return FromError(cur.status());
      if (!*cur) return FromError(NotFound(type + "/" + e.url.id + " is not known"));
      if ((*cur)->deleted) return FromError(Status(ErrorCode::kGone, type + "/" + e.url.id + " was deleted"));
      EntryResult r;
      r.version = (*cur)->version;
      r.last_modified = (*cur)->last_updated;
      auto parsed = StoredJson(**cur);
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
    // Patients first (everything is filed under them), Lists last (an MHD SubmissionSet's
    // HasMember associations are derived from the documents it lists).
    auto weight = [&](size_t i) {
      return entries[i].url.type == "Patient" ? 0 : entries[i].url.type == "List" ? 2 : 1;
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
                        "transaction failed at entry " + std::to_string(e.index) + " (" + e.method + " " +
                            e.raw_url + "): " + results[i].error.message(),
                        where);
        }
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
      if (!r.last_modified.empty()) response.Set("lastModified", JsonValue::String(r.last_modified));
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
