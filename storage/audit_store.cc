#include "storage/audit_store.h"

#include <openssl/evp.h>

#include "base/json.h"
#include "base/strings.h"

namespace carnet::storage {
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

std::string Hex(const std::string& bytes) {
  static const char* kDigits = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

std::string Unhex(std::string_view hex) {
  auto v = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2)
    out.push_back(static_cast<char>((v(hex[i]) << 4) | v(hex[i + 1])));
  return out;
}

// The row as hashed: each field as <length>:<bytes>; so that no two rows share a text.
// Fields, in order: chain key, event id, recorded (microseconds since the epoch), action,
// outcome, actor id, actor kind, emergency (t/f), content. seq is left out (it is assigned
// by the INSERT); order is carried by prev_hash.
std::string CanonicalRow(long long chain_key, const std::string& event_id, long long recorded_us,
                         const std::string& action, const std::string& outcome,
                         const std::string& actor_id, const std::string& actor_kind, bool emergency,
                         const std::string& content) {
  std::string out;
  auto field = [&](const std::string& f) { out += std::to_string(f.size()) + ":" + f + ";"; };
  field(std::to_string(chain_key));
  field(event_id);
  field(std::to_string(recorded_us));
  field(action);
  field(outcome);
  field(actor_id);
  field(actor_kind);
  field(emergency ? "t" : "f");
  field(content);
  return out;
}

constexpr Statement kEnsureHead{
    "audit_ensure_head",
    "INSERT INTO audit_chain_head (patient_key) VALUES ($1::bigint) ON CONFLICT DO NOTHING"};
constexpr Statement kLockHead{
    "audit_lock_head",
    "SELECT last_seq, encode(hash, 'hex') FROM audit_chain_head WHERE patient_key = $1::bigint "
    "FOR UPDATE"};
// The event and the new chain head in one round trip (the head row is already locked).
constexpr Statement kAppendEvent{
    "audit_append_event",
    "WITH ins AS (INSERT INTO audit_event (patient_key, event_id, recorded, action, outcome, "
    "actor_id, actor_kind, emergency, content, prev_hash, hash) VALUES ($1::bigint, $2::uuid, "
    "$3::timestamptz, $4, $5, $6, $7, $8::boolean, $9, decode($10, 'hex'), decode($11, 'hex')) "
    "RETURNING seq) "
    "UPDATE audit_chain_head h SET last_seq = ins.seq, hash = decode($11, 'hex'), "
    "updated_at = now() FROM ins WHERE h.patient_key = $12::bigint RETURNING ins.seq"};

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

std::string AuditHash(const std::string& prev_hash, const std::string& canonical_row) {
  std::string input = prev_hash + canonical_row;
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(input.data(), input.size(), md, &len, EVP_sha256(), nullptr);
  return std::string(reinterpret_cast<char*>(md), len);
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
  if (!e.object_reference.empty()) {
    JsonValue o = JsonValue::Object();
    JsonValue what = JsonValue::Object();
    if (e.object_reference.find('/') != std::string::npos)
      what.Set("reference", Str(e.object_reference));
    else
      what.Set("identifier", Identifier("", e.object_reference));
    o.Set("what", std::move(what));
    o.Set("type",
          Coding("http://terminology.hl7.org/CodeSystem/audit-entity-type", "2", "System Object"));
    o.Set("role",
          Coding("http://terminology.hl7.org/CodeSystem/object-role", "4", "Domain Resource"));
    entities.Append(std::move(o));
  }
  if (!e.query.empty()) {
    JsonValue q = JsonValue::Object();
    q.Set("type",
          Coding("http://terminology.hl7.org/CodeSystem/audit-entity-type", "2", "System Object"));
    q.Set("role", Coding("http://terminology.hl7.org/CodeSystem/object-role", "24", "Query"));
    q.Set("query", Str(Base64Encode(e.query)));
    entities.Append(std::move(q));
  }
  if (!e.request_id.empty()) {
    JsonValue r = JsonValue::Object();
    JsonValue what = JsonValue::Object();
    what.Set("identifier", Identifier("", e.request_id));
    r.Set("what", std::move(what));
    r.Set("type", Coding("https://profiles.ihe.net/ITI/BALP/CodeSystem/BasicAuditEntityType",
                         "XrequestId", "X-Request-Id"));
    entities.Append(std::move(r));
  }
  if (!entities.items().empty()) ev.Set("entity", std::move(entities));
  return WriteJson(ev);
}

AuditRow ComputeAuditRow(const AuditEntry& entry, const std::string& event_id,
                         const std::string& prev_hash) {
  AuditRow row;
  row.chain_key = entry.patient_key.value_or(0);
  row.event_id = event_id;
  // Milliseconds throughout: what the JSON says, what the column holds, what is hashed.
  auto recorded = std::chrono::time_point_cast<std::chrono::milliseconds>(entry.recorded);
  long long recorded_us = recorded.time_since_epoch().count() * 1000;
  AuditEntry stamped = entry;
  stamped.recorded = recorded;
  row.recorded = FormatUtc(recorded);
  row.content = BuildAuditEventJson(stamped, event_id);
  row.hash =
      AuditHash(prev_hash, CanonicalRow(row.chain_key, event_id, recorded_us,
                                        std::string(1, entry.action), entry.outcome, entry.actor_id,
                                        entry.actor_kind, entry.emergency, row.content));
  return row;
}

Result<AppendedAudit> AppendAuditEvent(Transaction& tx, const AuditEntry& entry) {
  std::string key = std::to_string(entry.patient_key.value_or(0));
  // Lock the chain head; a chain's first event creates it first (one round trip otherwise).
  auto head = tx.Run(kLockHead, {SqlParam::Text(key)});
  if (!head.ok()) return head.status();
  if (head->rows() == 0) {
    auto ensured = tx.Run(kEnsureHead, {SqlParam::Text(key)});
    if (!ensured.ok()) return ensured.status();
    head = tx.Run(kLockHead, {SqlParam::Text(key)});
    if (!head.ok()) return head.status();
    if (head->rows() == 0)
      return Status(ErrorCode::kInternal, "audit chain head " + key + " missing");
  }
  std::string prev_hex = !head->IsNull(0, 1) ? head->GetString(0, 1) : "";
  AuditRow row = ComputeAuditRow(entry, NewUuid(), Unhex(prev_hex));
  AppendedAudit out;
  out.event_id = row.event_id;
  out.hash = row.hash;
  std::string hash_hex = Hex(out.hash);
  auto appended =
      tx.Run(kAppendEvent,
             {entry.patient_key ? SqlParam::Text(key) : SqlParam::Null(),
              SqlParam::Text(row.event_id), SqlParam::Text(row.recorded),
              SqlParam::Text(std::string(1, entry.action)), SqlParam::Text(entry.outcome),
              entry.actor_id.empty() ? SqlParam::Null() : SqlParam::Text(entry.actor_id),
              entry.actor_kind.empty() ? SqlParam::Null() : SqlParam::Text(entry.actor_kind),
              SqlParam::Text(entry.emergency ? "true" : "false"), SqlParam::Text(row.content),
              prev_hex.empty() ? SqlParam::Null() : SqlParam::Text(prev_hex),
              SqlParam::Text(hash_hex), SqlParam::Text(key)});
  if (!appended.ok()) return appended.status();
  if (appended->rows() != 1)
    return Status(ErrorCode::kInternal, "audit chain head " + key + " not updated");
  out.seq = appended->GetInt(0, 0);
  return out;
}

Result<AuditVerification> VerifyAuditChains(Connection& conn,
                                            std::optional<long long> patient_key) {
  AuditVerification v;
  std::vector<long long> chains;
  if (patient_key) {
    chains.push_back(*patient_key);
  } else {
    auto r = conn.RunDynamic(
        "SELECT patient_key FROM audit_chain_head UNION "
        "SELECT DISTINCT coalesce(patient_key, 0) FROM audit_event ORDER BY 1");
    if (!r.ok()) return r.status();
    for (int i = 0; i < r->rows(); ++i) chains.push_back(r->GetInt(i, 0));
  }
  static constexpr Statement kRows{
      "audit_verify_rows",
      "SELECT seq, event_id::text, (extract(epoch FROM recorded) * 1000000)::bigint, action, "
      "outcome, coalesce(actor_id, ''), coalesce(actor_kind, ''), emergency, content, "
      "coalesce(encode(prev_hash, 'hex'), ''), encode(hash, 'hex') FROM audit_event "
      "WHERE coalesce(patient_key, 0) = $1::bigint AND seq > $2::bigint ORDER BY seq LIMIT 1000"};
  static constexpr Statement kHead{
      "audit_verify_head",
      "SELECT last_seq, coalesce(encode(hash, 'hex'), '') FROM audit_chain_head "
      "WHERE patient_key = $1::bigint"};
  for (long long chain : chains) {
    ++v.chains;
    std::string key = std::to_string(chain);
    std::string prev_hex;  // hash of the previous row, hex; empty before the first
    long long last_seq = 0;
    auto fail = [&](long long seq, std::string problem) {
      v.first_break = AuditBreak{chain, seq, std::move(problem)};
      return v;
    };
    for (;;) {
      auto rows = conn.Run(kRows, {SqlParam::Text(key), SqlParam::Text(std::to_string(last_seq))});
      if (!rows.ok()) return rows.status();
      for (int i = 0; i < rows->rows(); ++i) {
        ++v.events;
        long long seq = rows->GetInt(i, 0);
        std::string stored_prev = rows->GetString(i, 9), stored_hash = rows->GetString(i, 10);
        if (stored_prev != prev_hex)
          return fail(seq, prev_hex.empty() ? "first event of the chain has a previous hash"
                                            : "previous hash does not match the previous event "
                                              "(an event was removed or reordered)");
        std::string expected = Hex(AuditHash(
            Unhex(prev_hex),
            CanonicalRow(chain, rows->GetString(i, 1), rows->GetInt(i, 2), rows->GetString(i, 3),
                         rows->GetString(i, 4), rows->GetString(i, 5), rows->GetString(i, 6),
                         rows->GetBool(i, 7), rows->GetString(i, 8))));
        if (expected != stored_hash)
          return fail(seq, "event content does not match its hash (altered)");
        prev_hex = stored_hash;
        last_seq = seq;
      }
      if (rows->rows() < 1000) break;
    }
    auto head = conn.Run(kHead, {SqlParam::Text(key)});
    if (!head.ok()) return head.status();
    if (head->rows() == 0) {
      if (last_seq != 0) return fail(0, "chain has events but no head");
    } else if ((head->IsNull(0, 0) ? 0 : head->GetInt(0, 0)) != last_seq ||
               head->GetString(0, 1) != prev_hex) {
      return fail(0, "chain head does not match the last event (events removed at the end)");
    }
  }
  return v;
}

}  // namespace carnet::storage
