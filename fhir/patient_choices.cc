// The patient's choices on the record and meta-security: the record operations on the
// Patient ($close, $oppose, $block, $treating-physician... decided and applied by
// profiles/record_choices.h) and $meta-add / $meta-delete of the visibility codes.
#include "fhir/format.h"
#include "fhir/outcome.h"
#include "fhir/rest_impl.h"
#include "profiles/record_choices.h"

namespace carnet::fhir {
std::string ParamValue(const JsonValue& params, const std::string& name) {
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

namespace {

using storage::Transaction;

// $meta-add / $meta-delete of security labels: how a patient masks a document from
// professionals (MASQUE_PS) and unmasks it, or shares one administrative paper with them
// (PARTAGE_PS). Only the visibility codes are taken.
EntryResult MetaSecurity(const FhirContext& ctx, Session& session, const HttpRequest& req,
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
          if (code != profiles::kMasquePs && code != profiles::kPartagePs &&
              code != profiles::kInvisiblePatient && code != profiles::kInvisibleRepresentants)
            return FromError(BadRequest("'" + code +
                                        "' is not a visibility code (MASQUE_PS, PARTAGE_PS, "
                                        "INVISIBLE_PATIENT, INVISIBLE_REPRESENTANTS_LEGAUX)"));
          // Who may move which code is the policy's (profiles::DecideLabelChange), decided
          // on the document as it is.
          codes.push_back(c);
        }
    }
  if (codes.empty())
    return FromError(BadRequest("no security label given (parameter meta, valueMeta.security)"));
  WriteResult written;
  Status st = storage::RunInTransaction(ctx.pool, [&](Transaction& tx) -> Status {
    auto r = ctx.interactions.ChangeSecurity(tx, session, type, id,
                                             add ? codes : std::vector<JsonValue>{},
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
  EntryResult e = WithResource(std::move(out));
  e.version = written.stored.version;
  return e;
}

}  // namespace

// The patient's choices and the operator's record management, as operations on the
// Patient (profiles/record_choices.h decides, applies and audits them): the Parameters read
// here, the answer rendered here.
EntryResult RecordChoice(const FhirContext& ctx, Call& call) {
  const HttpRequest& req = call.req;
  const std::string& op = call.op;
  JsonValue params = JsonValue::Object();
  if (!req.body.empty()) {
    auto body = ParseResourceBody(req);
    if (!body.ok()) return FromError(body.status());
    if (body->GetString("resourceType") != "Parameters")
      return FromError(BadRequest("$" + op + " takes a Parameters resource"));
    params = std::move(body).value();
  }
  Status st = storage::RunInTransaction(ctx.pool, [&](Transaction& tx) -> Status {
    return profiles::ApplyRecordChoice(tx, call.session, call.id, op, [&](const std::string& name) {
      return ParamValue(params, name);
    });
  });
  if (!st.ok()) return FromError(st);
  return WithResource(OutcomeFromStatus(Status::Ok()));
}

// GET Patient/[id]/$record-settings: the record's settings as a Parameters resource (the
// choices above, read back), decided and audited by profiles/record_choices.h.
EntryResult RecordSettings(const FhirContext& ctx, Call& call) {
  profiles::RecordSettings settings;
  Status st = storage::RunInTransaction(ctx.pool, [&](Transaction& tx) -> Status {
    call.session.BeginAttempt();
    auto r = profiles::ReadRecordSettings(tx, call.session, call.id);
    if (!r.ok()) return r.status();
    settings = std::move(r).value();
    return Status::Ok();
  });
  if (!st.ok()) return FromError(st);
  auto str = [](const std::string& v) { return JsonValue::String(v); };
  JsonValue list = JsonValue::Array();
  auto param = [&](const char* name, const char* key, JsonValue value) {
    JsonValue p = JsonValue::Object();
    p.Set("name", str(name));
    p.Set(key, std::move(value));
    return p;
  };
  auto parts = [&](const char* name, std::vector<JsonValue> items) {
    JsonValue p = JsonValue::Object();
    p.Set("name", str(name));
    JsonValue a = JsonValue::Array();
    for (auto& i : items) a.Append(std::move(i));
    p.Set("part", std::move(a));
    return p;
  };
  list.Append(param("status", "valueCode", str(settings.status)));
  if (!settings.treating_physician.empty()) {
    JsonValue id = JsonValue::Object();
    id.Set("system", str("urn:oid:1.2.250.1.71.4.2.1"));
    id.Set("value", str(settings.treating_physician));
    list.Append(param("treatingPhysician", "valueIdentifier", std::move(id)));
  }
  for (const auto* side : {&settings.blocked_professionals, &settings.blocked_organisations})
    for (const std::string& who : *side) {
      std::vector<JsonValue> items;
      items.push_back(
          param("kind", "valueCode",
                str(side == &settings.blocked_professionals ? "professional" : "organisation")));
      items.push_back(param("actor", "valueString", str(who)));
      list.Append(parts("blocked", std::move(items)));
    }
  list.Append(
      param("emergencyAccessOpposed", "valueBoolean", JsonValue::Bool(settings.emergency_opposed)));
  for (const auto& pref : settings.preferences) {
    std::vector<JsonValue> items;
    items.push_back(param("channel", "valueCode", str(pref.channel)));
    items.push_back(param("event", "valueCode", str(pref.event_kind)));
    items.push_back(param("enabled", "valueBoolean", JsonValue::Bool(pref.enabled)));
    if (!pref.address.empty()) items.push_back(param("address", "valueString", str(pref.address)));
    list.Append(parts("notification", std::move(items)));
  }
  for (const std::string& section : settings.hidden_profile_sections)
    list.Append(param("hiddenProfileSection", "valueCode", str(section)));
  JsonValue out = JsonValue::Object();
  out.Set("resourceType", str("Parameters"));
  out.Set("parameter", std::move(list));
  return WithResource(std::move(out));
}

EntryResult MetaAdd(const FhirContext& ctx, Call& call) {
  return MetaSecurity(ctx, call.session, call.req, call.type, call.id, true);
}

EntryResult MetaDelete(const FhirContext& ctx, Call& call) {
  return MetaSecurity(ctx, call.session, call.req, call.type, call.id, false);
}

}  // namespace carnet::fhir
