// Searches: system, type (GET and POST _search), compartment (Patient/[id]/[type]), and the
// access history (AuditEvent?patient=...), which is read from the audit chain itself. Every
// search is filtered by the session's AccessFilter and audited.
#include <cctype>

#include "base/strings.h"
#include "dossier/messages.h"
#include "fhir/rest_impl.h"
#include "fhir/search.h"
#include "fhir/search_access.h"
#include "fhir/search_bundle.h"
#include "profiles/policy_store.h"
#include "storage/audit_store.h"

namespace carnet::fhir {
namespace {

using profiles::Action;
using profiles::Decision;
using storage::Transaction;

std::string QueryString(const QueryParams& query) {
  std::string out;
  for (const auto& [k, v] : query) {
    if (k == "_cursor") continue;
    out += (out.empty() ? "" : "&") + PercentEncode(k) + "=" + PercentEncode(v);
  }
  return out;
}

// One audit event per record a search reached (one without a record when it reached none
// by name: shared resources, or a deposit source's search across records).
Status AuditSearch(storage::Pool& pool, Session& session, const profiles::AccessFilter& f,
                   const std::string& subtype, const std::string& query, const std::string& object,
                   const std::string& operation = "") {
  Status st = storage::RunInTransaction(pool, [&](Transaction& tx) -> Status {
    profiles::AuditEntry entry = profiles::AuditEntry::Rest(subtype, 'E');
    entry.subtype_display = operation;
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

EntryResult AccessHistory(const FhirContext& ctx, Session& session, const QueryParams& query) {
  Status error;
  int count = ctx.CountParam(query, &error);
  if (!error.ok()) return FromError(error);
  std::string from, to, agent, before_seq;
  std::vector<std::string> entities;
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
    } else if (k == "entity" || k == "entity:reference") {
      // The object accessed, by literal reference (R4 AuditEvent-entity: entity.what):
      // [type]/[id], or the absolute URL of this server; a comma separates alternatives.
      std::string base = ctx.options.base_url + "/";
      for (size_t at = 0; at <= v.size();) {
        size_t end = v.find(',', at);
        if (end == std::string::npos) end = v.size();
        std::string ref = v.substr(at, end - at);
        at = end + 1;
        if (ref.rfind(base, 0) == 0) ref = ref.substr(base.size());
        size_t slash = ref.find('/');
        bool type_ok = slash != std::string::npos && slash > 0;
        for (size_t i = 0; type_ok && i < slash; ++i)
          type_ok = std::isalpha(static_cast<unsigned char>(ref[i])) != 0;
        if (!type_ok || ref.find('/', slash + 1) != std::string::npos ||
            !IsValidFhirId(ref.substr(slash + 1)))
          return FromError(BadRequest(
              "'" + ref + "' is not a reference [type]/[id] for AuditEvent entity", "entity"));
        entities.push_back(ref);
      }
    } else if (k == "_cursor") {
      if (v.empty() || v.find_first_not_of("0123456789") != std::string::npos)
        return FromError(BadRequest("_cursor is not a cursor this server wrote"));
      before_seq = v;
    } else if (k == "patient" || k == "_count" || k == "_sort" || k == "_format" ||
               k == "_pretty") {
      if (k == "_sort" && v != "-date")
        return FromError(BadRequest("the access history is sorted by -date only", "_sort"));
    } else {
      return FromError(BadRequest("AuditEvent is searched by patient, date, agent, entity", k));
    }
  }
  storage::AuditEventQuery events;
  events.from = from;
  events.to = to;
  events.actor_id = agent;
  events.entities = entities;
  events.before_seq = before_seq;
  events.limit = count + 1;
  std::vector<storage::StoredAuditEvent> rows;
  Status st = storage::RunInTransaction(ctx.pool, [&](Transaction& tx) -> Status {
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
    profiles::AuditEntry audit = profiles::AuditEntry::Rest("search-type", 'E');
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
    for (const auto& [key, d] : granted) events.patient_keys.push_back(key);
    // Read before this read's own event is appended: the page shows what happened before.
    auto page = storage::ReadAuditEvents(tx, events);
    if (!page.ok()) return page.status();
    rows = std::move(page).value();
    for (const auto& [key, d] : granted) CARNET_RETURN_IF_ERROR(session.Audit(tx, audit, d, key));
    return Status::Ok();
  });
  if (!st.ok()) return FromError(st);
  bool more = static_cast<int>(rows.size()) > count;
  if (more) rows.resize(count);
  JsonValue bundle = NewBundle("searchset");
  JsonValue links = JsonValue::Array();
  std::string self = ctx.options.base_url + "/AuditEvent?" + QueryString(query);
  links.Append(BundleLink("self", self));
  if (more) links.Append(BundleLink("next", self + "&_cursor=" + std::to_string(rows.back().seq)));
  bundle.Set("link", std::move(links));
  JsonValue entries = JsonValue::Array();
  for (const storage::StoredAuditEvent& row : rows) {
    auto res = ParseJson(row.content);
    if (!res.ok()) return FromError(Internal("stored AuditEvent is unreadable"));
    std::string id = res->GetString("id");
    entries.Append(
        SearchsetEntry(ctx.options.base_url, "AuditEvent", id, std::move(res).value(), "match"));
  }
  return BundleAnswer(std::move(bundle), std::move(entries));
}

}  // namespace

EntryResult Search(const FhirContext& ctx, Session& session, const HttpRequest& req,
                   const std::string& type, const QueryParams& query,
                   const std::string& compartment, const std::string& operation) {
  if (type == "AuditEvent") return AccessHistory(ctx, session, query);
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
  s.base_url = ctx.options.base_url;
  s.default_count = ctx.options.default_count;
  s.max_count = ctx.options.max_count;
  s.limits = ctx.options.search_limits;
  const std::string* prefer = req.Header("Prefer");
  s.strict = prefer && prefer->find("handling=strict") != std::string::npos;
  for (const auto& kv : query)
    if (kv.first != "_format" && kv.first != "_pretty") s.params.push_back(kv);
  // The policy's filter is decided inside the search's transaction (one transaction, one
  // snapshot for the decision and the statements it filters). The audit event of an 'E'
  // search is prepared afterwards (AuditSearch) and goes to the group commit with the reads'
  // (profiles::AccessSession::Audit): never under the search's repeatable-read snapshot,
  // where the chain head it updates would fail with serialization conflicts whenever two
  // searches of one record overlap, and the whole search would run again.
  // A guardian who opens the mailbox becomes a party of their own in each child's record
  // (their RelatedPerson, dossier::EnsureGuardianParty), so that the care team may write to
  // them: written before the search, whose transaction reads only.
  if (type == profiles::kMessageType && session.actor().kind == profiles::ActorKind::kGuardian) {
    Status ensured = storage::RunInTransaction(ctx.pool, [&](Transaction& tx) -> Status {
      session.BeginAttempt();
      auto keys = profiles::FindActorRecords(tx, session.actor());
      if (!keys.ok()) return keys.status();
      for (long long key : *keys) {
        auto own = dossier::EnsureGuardianParty(tx, session, key);
        if (!own.ok()) return own.status();
      }
      return Status::Ok();
    });
    session.BeginAttempt();
    if (!ensured.ok()) return FromError(ensured);
  }
  profiles::AccessFilter filter;
  s.resolve_scope = [&](Transaction& tx) -> Result<storage::AccessFilter> {
    auto named = NamedRecords(tx, type, query, compartment);
    if (!named.ok()) return named.status();
    // A professional searches one patient's record at a time (named in the request);
    // without one, only the shared directory (practitioners, organisations...).
    auto f = session.SearchFilter(tx, *named);
    if (!f.ok()) return f.status();
    filter = std::move(f).value();
    return storage::AccessFilter(filter);
  };
  auto bundle = RunSearch(ctx.pool, s);
  if (!bundle.ok()) return FromError(bundle.status());
  Status audited = AuditSearch(ctx.pool, session, filter,
                               !operation.empty() ? "operation"
                               : type.empty()     ? "search-system"
                                                  : "search-type",
                               req.query, type.empty() ? "" : type, operation);
  if (!audited.ok()) return FromError(audited);
  return WithResource(std::move(bundle).value());
}

EntryResult SearchSystem(const FhirContext& ctx, Call& call) {
  return Search(ctx, call.session, call.req, "", call.query, "", "");
}

EntryResult SearchType(const FhirContext& ctx, Call& call) {
  return Search(ctx, call.session, call.req, call.type, call.query, "", "");
}

// POST [type]/_search: the parameters in the form body, after those of the URL.
EntryResult SearchTypePost(const FhirContext& ctx, Call& call) {
  QueryParams form = call.query;
  const std::string* ct = call.req.Header("Content-Type");
  if (ct && ct->find("application/x-www-form-urlencoded") == std::string::npos)
    return FromError(Status(ErrorCode::kUnsupportedMediaType,
                            "_search takes application/x-www-form-urlencoded parameters"));
  for (auto& kv : ParseQuery(call.req.body)) form.push_back(std::move(kv));
  return Search(ctx, call.session, call.req, call.type, form, "", "");
}

// Patient/[id]/[type]?...
EntryResult SearchCompartment(const FhirContext& ctx, Call& call) {
  return Search(ctx, call.session, call.req, call.op, call.query, call.id, "");
}

}  // namespace carnet::fhir
