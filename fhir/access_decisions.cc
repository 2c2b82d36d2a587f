// GET [base]/$access-decisions (issue 19, "Refusals a helpdesk can explain"): the support
// view. A professional who was told "not known" cannot tell a hidden document from a missing
// one; the people who support them read here, for a request id or for a professional and a
// time range, the decisions the access history recorded and their reason codes
// (profiles/reason_codes.def), without the documents, their ids or any medical content.
//
// Decided by the policy decision point (profiles::DecideSupportView: support staff and
// operators), answered as a Parameters of summaries, paged by a cursor, and itself audited.
#include <algorithm>
#include <array>
#include <regex>

#include "base/http.h"
#include "base/strings.h"
#include "fhir/rest_impl.h"
#include "storage/audit_store.h"

namespace carnet::fhir {
namespace {

constexpr int kDefaultCount = 50;
constexpr int kMaxCount = 500;

bool IsDateTime(const std::string& v) {
  static const std::regex kDateTime(
      R"(\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?)");
  return v.size() <= 40 && std::regex_match(v, kDateTime);
}

JsonValue Part(const char* name, const char* type, const std::string& value) {
  JsonValue p = JsonValue::Object();
  p.Set("name", JsonValue::String(name));
  p.Set(type, JsonValue::String(value));
  return p;
}

// One event as the support view shows it: who, when, what kind of interaction, on which
// record, the decision and its reason code; never the object's id nor the event's text.
JsonValue Summary(const storage::AuditDecisionRow& row, const profiles::AccessControl& control) {
  JsonValue parts = JsonValue::Array();
  parts.Append(Part("recorded", "valueInstant", row.recorded));
  if (!row.request_id.empty()) parts.Append(Part("request-id", "valueString", row.request_id));
  if (!row.actor_kind.empty()) parts.Append(Part("actor-kind", "valueString", row.actor_kind));
  if (!row.actor_id.empty()) {
    parts.Append(Part("actor", "valueString", row.actor_id));
    parts.Append(Part("actor-pseudonym", "valueString", control.Pseudonym(row.actor_id)));
  }
  auto event = ParseJson(row.content);
  if (event.ok()) {
    if (const JsonValue* sub = event->Find("subtype");
        sub && sub->is_array() && !sub->items().empty())
      parts.Append(Part("interaction", "valueCode", sub->items()[0].GetString("code")));
    else if (const JsonValue* type = event->Find("type"))
      parts.Append(Part("interaction", "valueCode", type->GetString("code")));
    parts.Append(Part("action", "valueCode", event->GetString("action")));
    if (const JsonValue* entities = event->Find("entity"); entities && entities->is_array()) {
      for (const JsonValue& e : entities->items()) {
        const JsonValue* role = e.Find("role");
        std::string role_code = role ? role->GetString("code") : "";
        const JsonValue* what = e.Find("what");
        std::string ref = what ? what->GetString("reference") : "";
        if (role_code == "1" && ref.rfind("Patient/", 0) == 0) {
          JsonValue reference = JsonValue::Object();
          reference.Set("reference", JsonValue::String(ref));
          JsonValue p = JsonValue::Object();
          p.Set("name", JsonValue::String("patient"));
          p.Set("valueReference", std::move(reference));
          parts.Append(std::move(p));
        } else if (role_code == "4") {
          // The kind of target only: its id says nothing a helpdesk needs.
          std::string type = ref.empty() ? "registry-object" : ref.substr(0, ref.find('/'));
          parts.Append(Part("target-type", "valueCode", type));
        }
      }
    }
  }
  auto reason = profiles::ParseReason(row.reason_code);
  bool deny =
      row.outcome != "0" || (reason && profiles::SideOf(*reason) == profiles::ReasonSide::kDeny);
  parts.Append(Part("decision", "valueCode", deny ? "deny" : "permit"));
  parts.Append(Part("outcome", "valueCode", row.outcome));
  if (!row.reason_code.empty()) {
    parts.Append(Part("reason", "valueCode", row.reason_code));
    if (reason)
      parts.Append(
          Part("reason-meaning", "valueString", std::string(profiles::ReasonMeaning(*reason))));
  }
  JsonValue p = JsonValue::Object();
  p.Set("name", JsonValue::String("decision"));
  p.Set("part", std::move(parts));
  return p;
}

}  // namespace

EntryResult AccessDecisions(const FhirContext& ctx, Call& call) {
  Session& session = call.session;
  profiles::AuditEntry audit = profiles::AuditEntry::Rest("operation", 'E');
  audit.subtype_display = "$access-decisions";
  audit.object_reference = "$access-decisions";
  audit.query = call.req.query;
  // Who may ask comes first: anyone else learns nothing of the parameters' worth.
  profiles::Decision decision = profiles::DecideSupportView(session.actor());
  if (!decision.allowed)
    return FromError(session.Refuse(audit, decision, std::nullopt, "$access-decisions"));

  storage::AuditDecisionQuery q;
  q.limit = kDefaultCount;
  std::string start, end;
  for (const auto& [k, v] : call.query) {
    if (k == "request-id") {
      if (v.empty() || v.size() > 200)
        return FromError(BadRequest("request-id is 1 to 200 characters"));
      q.request_id = v;
    } else if (k == "agent") {
      if (v.empty() || v.size() > 200) return FromError(BadRequest("agent is 1 to 200 characters"));
      // [system|]value, as AuditEvent?agent= takes it: the value is the actor's id.
      q.actor_id = v.substr(v.find('|') == std::string::npos ? 0 : v.find('|') + 1);
    } else if (k == "start" || k == "end") {
      if (!IsDateTime(v))
        return FromError(
            BadRequest(k + " '" + v + "' is not a FHIR date or dateTime with a time zone"));
      (k == "start" ? q.from : q.to) = v;
    } else if (k == "_count") {
      if (v.empty() || v.size() > 4 || v.find_first_not_of("0123456789") != std::string::npos)
        return FromError(BadRequest("_count must be a whole number"));
      q.limit = std::max(1, std::min(std::stoi(v), kMaxCount));
    } else if (k == "cursor") {
      if (v.empty() || v.size() > 18 || v.find_first_not_of("0123456789") != std::string::npos)
        return FromError(BadRequest("cursor is the value a previous page's next link carries"));
      q.after_seq = std::stoll(v);
    } else if (k != "_format") {
      return FromError(BadRequest("unknown parameter '" + k +
                                  "': $access-decisions takes request-id, or agent with start "
                                  "and end, and _count, cursor"));
    }
  }
  if (q.request_id.empty() == q.actor_id.empty())
    return FromError(BadRequest("give either request-id or agent (with start and end)"));
  if (!q.request_id.empty() && (!q.from.empty() || !q.to.empty()))
    return FromError(BadRequest("start and end go with agent, not with request-id"));

  std::vector<storage::AuditDecisionRow> rows;
  Status st = storage::RunInTransaction(ctx.pool, [&](storage::Transaction& tx) -> Status {
    session.BeginAttempt();
    storage::AuditDecisionQuery page = q;
    page.limit = q.limit + 1;  // one more tells whether a next page exists
    auto read = storage::ReadAuditDecisions(tx, page);
    if (!read.ok()) return read.status();
    rows = std::move(read).value();
    return session.Audit(tx, audit, decision, std::nullopt);
  });
  if (!st.ok()) return FromError(st);

  JsonValue params = JsonValue::Array();
  bool more = static_cast<int>(rows.size()) > q.limit;
  if (more) rows.resize(q.limit);
  for (const auto& row : rows) params.Append(Summary(row, session.control()));
  if (more) {
    std::string next = ctx.options.base_url + "/$access-decisions?";
    if (!q.request_id.empty()) {
      next += "request-id=" + PercentEncode(q.request_id);
    } else {
      next += "agent=" + PercentEncode(q.actor_id);
      if (!q.from.empty()) next += "&start=" + PercentEncode(q.from);
      if (!q.to.empty()) next += "&end=" + PercentEncode(q.to);
    }
    next += "&_count=" + std::to_string(q.limit) + "&cursor=" + std::to_string(rows.back().seq);
    params.Append(Part("next", "valueUri", next));
  }
  JsonValue out = JsonValue::Object();
  out.Set("resourceType", JsonValue::String("Parameters"));
  out.Set("parameter", std::move(params));
  return WithResource(std::move(out));
}

}  // namespace carnet::fhir
