// Batch and transaction Bundles (POST to the base): entries parsed and checked first,
// placeholders (urn:uuid fullUrls) and conditional references resolved, run in the spec's
// order, in one transaction (transaction) or one each (batch); an IHE MHD Provide Document
// Bundle (ITI-65) keeps the rules of a document submission.
#include <algorithm>
#include <functional>
#include <map>
#include <optional>
#include <set>

#include "base/strings.h"
#include "dossier/document_extraction.h"
#include "dossier/dossier.h"
#include "dossier/search_index.h"
#include "fhir/format.h"
#include "fhir/outcome.h"
#include "fhir/rest_impl.h"
#include "mapping/mhd.h"
#include "model/structure.h"

namespace carnet::fhir {
namespace {

using storage::Transaction;

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

// Every `reference` string under `node`.
void CollectReferences(const JsonValue& node, std::set<std::string>& out, int depth = 0) {
  if (depth > 100) return;
  if (node.is_array()) {
    for (const auto& item : node.items()) CollectReferences(item, out, depth + 1);
    return;
  }
  if (!node.is_object()) return;
  for (const auto& [key, value] : node.members()) {
    if (key == "reference" && value.is_string())
      out.insert(value.text());
    else
      CollectReferences(value, out, depth + 1);
  }
}

EntryResult ProcessBundleBody(const FhirContext& ctx, Session& session, const HttpRequest& req,
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
        auto url = ParseEntryUrl(e.raw_url, ctx.options.base_url);
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
  // The content of a document created by the same transaction (an MHD ITI-65 Binary, named
  // by the DocumentReference's attachment url) gets that document as its securityContext
  // when it names none: it is then filed in the document's record and read as the document
  // is, by the patient too (a "copy to the patient" names it).
  if (transaction) {
    std::map<std::string, BundleEntry*> binaries;  // fullUrl -> new Binary without context
    for (auto& e : entries)
      if (e.method == "POST" && e.has_resource && e.parse_error.ok() && e.url.type == "Binary" &&
          !e.resource.Find("securityContext") && !full_urls[e.index].empty())
        binaries[full_urls[e.index]] = &e;
    for (auto& e : entries) {
      if (e.method != "POST" || !e.has_resource || e.url.type != "DocumentReference") continue;
      const JsonValue* content = e.resource.Find("content");
      if (!content || !content->is_array()) continue;
      for (const auto& c : content->items()) {
        const JsonValue* attachment = c.Find("attachment");
        auto it = binaries.find(attachment ? attachment->GetString("url") : "");
        if (it == binaries.end()) continue;
        JsonValue context = JsonValue::Object();
        context.Set("reference", JsonValue::String("DocumentReference/" + reserved[e.index]));
        it->second->resource.Set("securityContext", std::move(context));
        binaries.erase(it);
      }
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
        auto target = ctx.interactions.ResolveConditionalReference(tx, session, value.text());
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
              ? ctx.interactions.Create(tx, session, type, std::move(resource), reserved[e.index])
              : ctx.interactions.CreateIfNoneExist(tx, session, type, std::move(resource),
                                                   e.pre.if_none_exist, reserved[e.index]);
    } else if (e.method == "PUT") {
      w = e.url.id.empty()
              ? ctx.interactions.ConditionalUpdate(tx, session, type, e.url.query,
                                                   std::move(resource), e.pre)
              : ctx.interactions.Update(tx, session, type, e.url.id, std::move(resource), e.pre);
    } else if (e.method == "DELETE") {
      w = e.url.id.empty()
              ? ctx.interactions.ConditionalDelete(tx, session, type, e.url.query, e.pre)
              : ctx.interactions.Delete(tx, session, type, e.url.id, e.pre);
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
      w = ctx.interactions.Patch(tx, session, type, e.url.id, *patch, e.pre);
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
    // Lists and content last (an MHD SubmissionSet's HasMember associations are derived from
    // the documents it lists; a Binary whose securityContext names a document of the
    // transaction is filed in that document's record).
    auto weight = [&](size_t i) {
      const std::string& t = entries[i].url.type;
      return t == "Patient"                                                          ? 0
             : t == "Practitioner" || t == "PractitionerRole" || t == "Organization" ? 1
             : t == "List" || t == "Binary"                                          ? 3
                                                                                     : 2;
    };
    return weight(a) < weight(b);
  });

  std::vector<EntryResult> results(entries.size());
  if (transaction) {
    Status failed;
    bool mhd = *mhd_submission;
    Status st = storage::RunInTransaction(ctx.pool, [&](Transaction& tx) {
      // An MHD Provide Document Bundle is one deposit, audited once (issue 20): its entries'
      // writes and what is extracted from its documents are named by one Import event.
      std::optional<profiles::AccessSession::DepositScope> deposit;
      if (mhd) deposit.emplace(session);
      (void)session.TakeWarnings();  // a previous attempt's
      // A conditional create whose criteria find the resource stands for it: the entries
      // that name its placeholder name the resource found, not the id reserved for a new one
      // (a Device posted with ifNoneExist along with the measurements it took, the day after
      // it was first sent). Looked up first, whatever the order the entries run in.
      std::set<std::string> named;
      for (const auto& e : entries)
        if (e.has_resource) CollectReferences(e.resource, named);
      std::map<std::string, std::string> found;
      for (const auto& e : entries) {
        if (e.method != "POST" || e.pre.if_none_exist.empty() || !e.parse_error.ok()) continue;
        std::string reserved_ref = e.url.type + "/" + reserved[e.index];
        if (!named.count(reserved_ref)) continue;
        auto match = ctx.interactions.ResolveConditionalReference(
            tx, session, e.url.type + "?" + e.pre.if_none_exist);
        // None (created anew) or several (the entry itself fails): the reserved id stands.
        if (match.ok()) found[reserved_ref] = *match;
      }
      if (!found.empty())
        for (auto& e : entries)
          if (e.has_resource) RewriteReferences(e.resource, found);
      for (size_t i : order) {
        results[i] = run_entry(tx, entries[i]);
        results[i].warnings = session.TakeWarnings();
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
          else if (e.url.type == "Binary" && inner.rfind("DocumentReference.", 0) == 0)
            where = inner;  // the document its content was checked against (the CDA header)
          return Status(results[i].error.code(),
                        "transaction failed at entry " + std::to_string(e.index) + " (" + e.method +
                            " " + e.raw_url + "): " + results[i].error.message(),
                        where);
        }
      }
      // An MHD Provide Document Bundle (ITI-65) stores documents and their Binary content in
      // either order, the content naming no document: once all is stored, the documents'
      // structured content is extracted (dossier/document_extraction.h; once per document) and
      // its text indexed.
      std::string first_document;
      for (size_t i : order)
        if (entries[i].url.type == "DocumentReference" && results[i].status == 201 &&
            !results[i].location.empty()) {
          std::string id =
              results[i].location.substr(18, results[i].location.find("/_history") - 18);
          if (first_document.empty()) first_document = id;
          CARNET_RETURN_IF_ERROR(dossier::ExtractDocumentContent(tx, session, id));
          if (!mhd) CARNET_RETURN_IF_ERROR(dossier::AuditExtraction(tx, session, id));
          // Its words, for _content: the Binary, naming no document, did not bring them.
          CARNET_RETURN_IF_ERROR(dossier::ReindexDocument(tx, id));
        }
      // The submission's one event: about its (first) document, listing every other write.
      if (mhd && !first_document.empty())
        CARNET_RETURN_IF_ERROR(dossier::AuditExtraction(tx, session, first_document));
      return Status::Ok();
    });
    if (!st.ok()) return FromError(st);
  } else {
    for (size_t i : order) {
      Status st = storage::RunInTransaction(ctx.pool, [&](Transaction& tx) {
        (void)session.TakeWarnings();  // a previous attempt's
        results[i] = run_entry(tx, entries[i]);
        results[i].warnings = session.TakeWarnings();
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
      entry.Set("fullUrl", JsonValue::String(ctx.options.base_url + "/" + tid));
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
      // Bundle.entry.response.outcome: "OperationOutcome with hints and warnings (for
      // batch/transaction)" (R4 bundle.html).
      if (!r.warnings.empty()) response.Set("outcome", WarningOutcome(r.warnings));
    } else {
      response.Set("outcome", OutcomeFromStatus(r.error));
    }
    entry.Set("response", std::move(response));
    list.Append(std::move(entry));
  }
  return BundleAnswer(std::move(out), std::move(list));
}

}  // namespace

EntryResult ProcessBundle(const FhirContext& ctx, Call& call) {
  bool mhd = false;
  EntryResult r = ProcessBundleBody(ctx, call.session, call.req, &mhd);
  r.xds_error_codes = mhd && !r.error.ok();
  return r;
}

}  // namespace carnet::fhir
