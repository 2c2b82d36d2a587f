#include "profiles/audit_event.h"

#include "base/json.h"
#include "base/strings.h"

namespace carnet::profiles {
namespace {

JsonValue Str(const std::string& s) { return JsonValue::String(s); }

JsonValue Coding(const std::string& system, const std::string& code,
                 const std::string& display = {}) {
  JsonValue c = JsonValue::Object();
  if (!system.empty()) c.Set("system", Str(system));
  c.Set("code", Str(code));
  if (!display.empty()) c.Set("display", Str(display));
  return c;
}

JsonValue CodeableConcept(JsonValue coding, const std::string& text = {}) {
  JsonValue cc = JsonValue::Object();
  JsonValue codings = JsonValue::Array();
  codings.Append(std::move(coding));
  cc.Set("coding", std::move(codings));
  if (!text.empty()) cc.Set("text", Str(text));
  return cc;
}

JsonValue Identifier(const std::string& system, const std::string& value) {
  JsonValue id = JsonValue::Object();
  if (!system.empty()) id.Set("system", Str(system));
  id.Set("value", Str(value));
  return id;
}

JsonValue One(JsonValue v) {
  JsonValue a = JsonValue::Array();
  a.Append(std::move(v));
  return a;
}

}  // namespace

AuditEntry AuditEntry::Rest(std::string interaction, char action) {
  AuditEntry e;
  e.subtype_code = std::move(interaction);
  e.action = action;
  return e;
}

AuditEntry AuditEntry::Dicom(std::string event_code, std::string event_display,
                             std::string transaction, char action) {
  AuditEntry e;
  e.type_system = "http://dicom.nema.org/resources/ontology/DCM";
  e.type_code = std::move(event_code);
  e.type_display = std::move(event_display);
  e.subtype_system = "urn:ihe:event-type-code";
  e.subtype_code = std::move(transaction);
  e.action = action;
  return e;
}

std::string BuildAuditEventJson(const AuditEntry& e, const std::string& event_id) {
  auto recorded = std::chrono::time_point_cast<std::chrono::milliseconds>(e.recorded);
  JsonValue ev = JsonValue::Object();
  ev.Set("resourceType", Str("AuditEvent"));
  ev.Set("id", Str(event_id));
  // BALP: the Patient* profiles when a patient is concerned, the plain ones otherwise.
  std::string profile = "https://profiles.ihe.net/ITI/BALP/StructureDefinition/IHE.BasicAudit.";
  const char* kind = e.query.empty() ? (e.action == 'C'   ? "Create"
                                        : e.action == 'U' ? "Update"
                                        : e.action == 'D' ? "Delete"
                                                          : "Read")
                                     : "Query";
  profile += (e.patient_reference.empty() ? std::string() : std::string("Patient")) + kind;
  JsonValue meta = JsonValue::Object();
  meta.Set("profile", One(Str(profile)));
  ev.Set("meta", std::move(meta));
  ev.Set("type", Coding(e.type_system, e.type_code, e.type_display));
  if (!e.subtype_code.empty())
    ev.Set("subtype", One(Coding(e.subtype_system, e.subtype_code, e.subtype_display)));
  ev.Set("action", Str(std::string(1, e.action)));
  ev.Set("recorded", Str(FormatUtc(recorded)));
  ev.Set("outcome", Str(e.outcome));
  if (!e.outcome_desc.empty()) ev.Set("outcomeDesc", Str(e.outcome_desc));
  if (e.emergency)
    ev.Set("purposeOfEvent",
           One(CodeableConcept(Coding("http://terminology.hl7.org/CodeSystem/v3-ActReason",
                                      "ETREAT", "Emergency Treatment"),
                               e.emergency_reason)));

  JsonValue agents = JsonValue::Array();
  // The requesting user (or system): who, with their identifiers and profession.
  JsonValue user = JsonValue::Object();
  bool human = e.actor_kind != "app" && e.actor_kind != "system";
  user.Set("type",
           CodeableConcept(
               human ? Coding("http://terminology.hl7.org/CodeSystem/extra-security-role-type",
                              "humanuser", "human user")
                     : Coding("http://dicom.nema.org/resources/ontology/DCM", "110153",
                              "Source Role ID")));
  if (!e.profession.empty()) {
    JsonValue roles = JsonValue::Array();
    roles.Append(CodeableConcept(Coding("urn:oid:1.2.250.1.71.1.2.7", e.profession)));
    if (!e.specialty.empty())
      roles.Append(CodeableConcept(Coding("urn:oid:1.2.250.1.213.2.28", e.specialty)));
    user.Set("role", std::move(roles));
  }
  JsonValue who = JsonValue::Object();
  if (!e.national_id.empty())
    who.Set("identifier", Identifier("urn:oid:1.2.250.1.71.4.2.1", e.national_id));
  else if (!e.client_id.empty())
    who.Set("identifier", Identifier("urn:ietf:params:oauth:client-id", e.client_id));
  else if (!e.actor_subject.empty())
    who.Set("identifier", Identifier(e.actor_issuer, e.actor_subject));
  std::string display = e.actor_kind + (e.actor_id.empty() ? "" : " " + e.actor_id);
  if (!e.organisation.empty()) display += " (organisation " + e.organisation + ")";
  who.Set("display", Str(display));
  user.Set("who", std::move(who));
  if (!e.client_id.empty() && !e.national_id.empty()) user.Set("altId", Str(e.client_id));
  user.Set("requestor", JsonValue::Bool(true));
  if (!e.network_address.empty()) {
    JsonValue net = JsonValue::Object();
    net.Set("address", Str(e.network_address));
    net.Set("type",
            Str(e.network_address.find(':') != std::string::npos ||
                        e.network_address.find_first_not_of("0123456789.") == std::string::npos
                    ? "2"
                    : "1"));
    user.Set("network", std::move(net));
  }
  if (e.emergency)
    user.Set("purposeOfUse",
             One(CodeableConcept(Coding("http://terminology.hl7.org/CodeSystem/v3-ActReason",
                                        "ETREAT", "Emergency Treatment"),
                                 e.emergency_reason)));
  agents.Append(std::move(user));
  // The server: carnet, destination of the request.
  JsonValue server = JsonValue::Object();
  server.Set("type", CodeableConcept(Coding("http://dicom.nema.org/resources/ontology/DCM",
                                            "110152", "Destination Role ID")));
  JsonValue server_who = JsonValue::Object();
  server_who.Set("display", Str(e.observer));
  server.Set("who", std::move(server_who));
  server.Set("requestor", JsonValue::Bool(false));
  agents.Append(std::move(server));
  ev.Set("agent", std::move(agents));

  JsonValue source = JsonValue::Object();
  JsonValue observer = JsonValue::Object();
  observer.Set("display", Str(e.observer));
  source.Set("observer", std::move(observer));
  source.Set("type", One(Coding("http://terminology.hl7.org/CodeSystem/security-source-type", "4",
                                "Application Server")));
  ev.Set("source", std::move(source));

  JsonValue entities = JsonValue::Array();
  if (!e.patient_reference.empty() || !e.patient_ins.empty()) {
    JsonValue p = JsonValue::Object();
    JsonValue what = JsonValue::Object();
    if (!e.patient_reference.empty()) what.Set("reference", Str(e.patient_reference));
    if (!e.patient_ins.empty())
      what.Set("identifier", Identifier("urn:oid:1.2.250.1.213.1.4.8", e.patient_ins));
    p.Set("what", std::move(what));
    p.Set("type", Coding("http://terminology.hl7.org/CodeSystem/audit-entity-type", "1", "Person"));
    p.Set("role", Coding("http://terminology.hl7.org/CodeSystem/object-role", "1", "Patient"));
    if (e.consent_asserted) {
      JsonValue detail = JsonValue::Object();
      detail.Set("type", Str("consent-asserted"));
      detail.Set("valueString", Str("the professional asserted the patient's explicit consent"));
      p.Set("detail", One(std::move(detail)));
    }
    entities.Append(std::move(p));
  }
  auto object = [&entities](const std::string& ref) {
    JsonValue o = JsonValue::Object();
    JsonValue what = JsonValue::Object();
    if (ref.find('/') != std::string::npos)
      what.Set("reference", Str(ref));
    else
      what.Set("identifier", Identifier("", ref));
    o.Set("what", std::move(what));
    o.Set("type",
          Coding("http://terminology.hl7.org/CodeSystem/audit-entity-type", "2", "System Object"));
    o.Set("role",
          Coding("http://terminology.hl7.org/CodeSystem/object-role", "4", "Domain Resource"));
    entities.Append(std::move(o));
  };
  if (!e.object_reference.empty()) object(e.object_reference);
  for (const auto& ref : e.listed) object(ref);
  if (!e.query.empty()) {
    JsonValue q = JsonValue::Object();
    q.Set("type",
          Coding("http://terminology.hl7.org/CodeSystem/audit-entity-type", "2", "System Object"));
    q.Set("role", Coding("http://terminology.hl7.org/CodeSystem/object-role", "24", "Query"));
    q.Set("query", Str(Base64Encode(e.query)));
    entities.Append(std::move(q));
  }
  if (!e.request_id.empty() || !e.reason_code.empty()) {
    // The request: its id (BALP XrequestId) and the reason code of the decision taken on it
    // (entity.detail "reason-code": R4 has no outcome detail).
    JsonValue r = JsonValue::Object();
    if (!e.request_id.empty()) {
      JsonValue what = JsonValue::Object();
      what.Set("identifier", Identifier("", e.request_id));
      r.Set("what", std::move(what));
    }
    r.Set("type", Coding("https://profiles.ihe.net/ITI/BALP/CodeSystem/BasicAuditEntityType",
                         "XrequestId", "X-Request-Id"));
    if (!e.reason_code.empty()) {
      JsonValue detail = JsonValue::Object();
      detail.Set("type", Str("reason-code"));
      detail.Set("valueString", Str(e.reason_code));
      r.Set("detail", One(std::move(detail)));
    }
    entities.Append(std::move(r));
  }
  if (!entities.items().empty()) ev.Set("entity", std::move(entities));
  return WriteJson(ev);
}

storage::AuditRecord AuditRecordOf(const AuditEntry& entry, const std::string& event_id) {
  storage::AuditRecord r;
  r.patient_key = entry.patient_key;
  r.event_id = event_id;
  // Milliseconds throughout: what the JSON says, what the column holds, what is hashed.
  r.recorded = std::chrono::time_point_cast<std::chrono::milliseconds>(entry.recorded);
  r.action = entry.action;
  r.outcome = entry.outcome;
  r.actor_id = entry.actor_id;
  r.actor_kind = entry.actor_kind;
  r.emergency = entry.emergency;
  r.request_id = entry.request_id;
  r.reason_code = entry.reason_code;
  r.content = BuildAuditEventJson(entry, event_id);
  return r;
}

Result<storage::AppendedAudit> AppendAuditEvent(storage::Transaction& tx, const AuditEntry& entry) {
  return storage::AppendAuditRecord(tx, AuditRecordOf(entry, NewUuid()));
}

}  // namespace carnet::profiles
