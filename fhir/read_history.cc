// Reads: read and vread (Binary content served as itself), history at the three levels, and
// Patient/[id]/$everything. Each read is decided by the session and audited before it answers.
#include <map>
#include <tuple>

#include "base/strings.h"
#include "dossier/dossier.h"
#include "fhir/rest_impl.h"
#include "fhir/search.h"
#include "fhir/search_bundle.h"

namespace carnet::fhir {

using profiles::Action;
using profiles::Decision;
using storage::StoredResource;
using storage::Transaction;

Result<StoredResource> GuardedRead(Transaction& tx, Session& session, const std::string& type,
                                   const std::string& id, const std::string& vid,
                                   const char* interaction) {
  std::string what = type + "/" + id;
  profiles::AuditEntry audit = profiles::AuditEntry::Rest(interaction, 'R');
  audit.object_reference = vid.empty() ? what : what + "/_history/" + vid;
  std::optional<StoredResource> row;
  if (vid.empty()) {
    auto r = session.ReadCurrent(tx, type, id);  // with its record's context
    if (!r.ok()) return r.status();
    row = std::move(*r);
  } else if (vid.size() <= 9 && vid.find_first_not_of("0123456789") == std::string::npos) {
    auto r = storage::ReadVersion(tx, type, id, std::stoi(vid));
    if (!r.ok()) return r.status();
    row = std::move(*r);
  }
  if (!row)
    return session.Refuse(audit, profiles::Refusal(profiles::Reason::kNotFound, "no such resource"),
                          std::nullopt, what);
  // An older version is seen as the resource is now (its current visibility labels).
  auto d = vid.empty() ? session.DecideStored(tx, *row, Action::kRead)
                       : session.DecideVersion(tx, *row, Action::kRead);
  if (!d.ok()) return d.status();
  if (!d->allowed) return session.Refuse(audit, *d, row->patient_key, what);
  CARNET_RETURN_IF_ERROR(session.Audit(tx, audit, *d, row->patient_key));
  return std::move(*row);
}

namespace {

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

EntryResult Read(const FhirContext& ctx, Session& session, const HttpRequest& req,
                 const std::string& type, const std::string& id, const std::string& vid) {
  StoredResource row;
  Status st = storage::RunInTransaction(ctx.pool, [&](Transaction& tx) -> Status {
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
Status SupersededContent(const FhirContext& ctx, const std::string& binary_id,
                         const std::string& binary_json) {
  auto binary = ParseJson(binary_json);
  if (!binary.ok()) return Status::Ok();
  const JsonValue* security_context = binary->Find("securityContext");
  std::string owner = security_context ? security_context->GetString("reference") : "";
  std::string superseded;
  Status st = storage::RunInTransaction(ctx.pool, [&](Transaction& tx) -> Status {
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

EntryResult History(const FhirContext& ctx, Session& session, const std::string& type,
                    const std::string& id, const QueryParams& query, const std::string& self_path) {
  storage::HistoryQuery q;
  q.type = type;
  q.id = id;
  Status error;
  q.count = ctx.CountParam(query, &error);
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
  Status read = storage::RunInTransaction(ctx.pool, [&](Transaction& tx) -> Status {
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
      profiles::AuditEntry entry =
          profiles::AuditEntry::Rest(type.empty() ? "history-system" : "history-type", 'R');
      entry.object_reference = type;
      for (const auto& [key, d] : seen) CARNET_RETURN_IF_ERROR(session.Audit(tx, entry, d, key));
      if (seen.empty()) {
        Decision d = shared_seen ? *shared_seen
                                 : profiles::Refusal(profiles::Reason::kNotFound,
                                                     "nothing visible in this history");
        if (!shared_seen)
          d.allowed = true, d.refusal = ErrorCode::kOk, d.code = profiles::Reason::kPermitted;
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
  auto link = [&](const char* rel, const std::string& url) { links.Append(BundleLink(rel, url)); };
  std::string self = ctx.options.base_url + "/" + self_path + "?" + base_query;
  if (!cursor.empty()) self += "&_cursor=" + PercentEncode(cursor);
  link("self", self);
  if (more) {
    const StoredResource& last = last_row;
    std::string next_cursor =
        last.last_updated + "|" + last.type + "|" + last.id + "|" + std::to_string(last.version);
    link("next", ctx.options.base_url + "/" + self_path + "?" + base_query +
                     "&_cursor=" + PercentEncode(next_cursor));
  }
  bundle.Set("link", std::move(links));
  JsonValue entries = JsonValue::Array();
  for (const StoredResource& r : rows) {
    JsonValue entry = JsonValue::Object();
    entry.Set("fullUrl", JsonValue::String(ctx.options.base_url + "/" + r.type + "/" + r.id));
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
  return BundleAnswer(std::move(bundle), std::move(entries));
}

}  // namespace

EntryResult ReadInstance(const FhirContext& ctx, Call& call) {
  const std::string& type = call.type;
  const std::string& id = call.id;
  EntryResult e = Read(ctx, call.session, call.req, type, id, "");
  if (type == "Binary" && e.error.ok() && !e.resource_json.empty()) {
    Status gone = SupersededContent(ctx, id, e.resource_json);
    if (!gone.ok()) return FromError(gone);
  }
  if (type == "Binary" && e.error.ok() && !e.resource_json.empty() &&
      WantsNativeBinary(call.req, call.query)) {
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

EntryResult ReadVersion(const FhirContext& ctx, Call& call) {
  return Read(ctx, call.session, call.req, call.type, call.id, call.vid);
}

EntryResult SystemHistory(const FhirContext& ctx, Call& call) {
  return History(ctx, call.session, "", "", call.query, "_history");
}

EntryResult TypeHistory(const FhirContext& ctx, Call& call) {
  return History(ctx, call.session, call.type, "", call.query, call.type + "/_history");
}

EntryResult InstanceHistory(const FhirContext& ctx, Call& call) {
  return History(ctx, call.session, call.type, call.id, call.query,
                 call.type + "/" + call.id + "/_history");
}

EntryResult PatientEverything(const FhirContext& ctx, Call& call) {
  Session& session = call.session;
  const std::string& id = call.id;
  const QueryParams& query = call.query;
  Status error;
  int count = ctx.CountParam(query, &error);
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
  // Rows are decided one by one; a page holds up to _count visible resources, read in
  // chunks so that hidden ones do not shorten it.
  std::vector<std::tuple<std::string, std::string, JsonValue>> rows;
  bool more = false;
  bool gone = false;
  Status st = storage::RunInTransaction(ctx.pool, [&](Transaction& tx) -> Status {
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
    profiles::AuditEntry audit = profiles::AuditEntry::Rest("operation", 'E');
    audit.subtype_display = "$everything";
    audit.object_reference = "Patient/" + id + "/$everything";
    if (!d->allowed) return session.Refuse(audit, *d, key, "Patient/" + id);
    std::string at = after_type, ai = after_id;
    while (static_cast<int>(rows.size()) <= count) {
      auto page = storage::ReadRecordResources(tx, key, at, ai, count + 1);
      if (!page.ok()) return page.status();
      for (size_t i = 0; i < page->size() && static_cast<int>(rows.size()) <= count; ++i) {
        at = (*page)[i].type;
        ai = (*page)[i].id;
        auto res = ParseJson((*page)[i].content);
        if (!res.ok()) return Internal("stored " + at + "/" + ai + " is unreadable");
        auto visible = session.DecideResource(tx, key, *res, Action::kRead);
        if (!visible.ok()) return visible.status();
        if (visible->allowed) rows.emplace_back(at, ai, std::move(res).value());
      }
      if (static_cast<int>(page->size()) <= count) break;  // the record has no more rows
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
      ctx.options.base_url + "/Patient/" + id + "/$everything?_count=" + std::to_string(count);
  links.Append(BundleLink(
      "self",
      self_base +
          (after_type.empty() ? "" : "&_cursor=" + PercentEncode(after_type + "|" + after_id))));
  if (more)
    links.Append(BundleLink(
        "next", self_base + "&_cursor=" +
                    PercentEncode(std::get<0>(rows.back()) + "|" + std::get<1>(rows.back()))));
  bundle.Set("link", std::move(links));
  JsonValue entries = JsonValue::Array();
  for (auto& [t, i, res] : rows)
    entries.Append(SearchsetEntry(ctx.options.base_url, t, i, std::move(res), "match"));
  return BundleAnswer(std::move(bundle), std::move(entries));
}

}  // namespace carnet::fhir
