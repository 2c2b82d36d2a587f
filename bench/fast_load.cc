#include "bench/fast_load.h"

#include <openssl/evp.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "base/strings.h"
#include "dossier/dossier.h"
#include "dossier/search_index.h"
#include "dossier/search_params.h"
#include "fhir/interactions.h"
#include "mapping/registry_index.h"
#include "model/compartment.h"
#include "model/search_params.h"
#include "model/validator.h"
#include "profiles/access.h"
#include "profiles/policy.h"
#include "profiles/policy_store.h"
#include "storage/audit_store.h"
#include "storage/bulk_copy.h"
#include "storage/connection.h"
#include "storage/document_content.h"
#include "storage/migrations.h"
#include "storage/transaction.h"

namespace carnet::bench {
namespace {

using storage::BulkConnection;
using storage::CopyRows;
using Clock = std::chrono::steady_clock;
using OptText = std::optional<std::string>;

std::string Hex(std::string_view bytes) { return HexEncode(bytes); }

// md5(text)::uuid, as the registry INSERT derives an entryUUID it was not given.
std::string Md5Uuid(const std::string& text) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(text.data(), text.size(), md, &len, EVP_md5(), nullptr);
  std::string h = Hex(std::string_view(reinterpret_cast<char*>(md), len));
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) +
         "-" + h.substr(20);
}

OptText ParamText(const storage::SqlParam& p) { return p.value; }

// The rows of one chunk of dossiers, table by table, in COPY text format.
struct Chunk {
  int first = 0, last = 0;
  CopyRows patient, patient_identifier, resource, history, idx_string, idx_token, idx_reference,
      idx_date, idx_uri, quantity, full_text, registry_object, registry_code, audit_event,
      document_content;
  // audit_chain_head rows: the chains this chunk extended.
  std::vector<std::string> head_keys, head_seqs, head_hashes;
  long long first_seq = 0, last_seq = 0;  // the audit events' sequence numbers (0: none)
  LoadReport counts;
  Status status;

  long long Rows() const {
    long long n = 0;
    for (const CopyRows* r :
         {&patient, &patient_identifier, &resource, &history, &idx_string, &idx_token,
          &idx_reference, &idx_date, &idx_uri, &quantity, &full_text, &registry_object,
          &registry_code, &audit_event, &document_content})
      n += r->rows();
    return n + static_cast<long long>(head_keys.size());
  }
};

// An audit event computed, waiting for its sequence number.
struct PendingAudit {
  std::optional<long long> patient_key;
  storage::AuditRecord record;
  storage::AuditRow row;
  std::string prev_hash;  // raw; empty for the first of a chain
};

// What the live path knows of the record while it writes a dossier.
struct Record {
  long long key = 0;
  profiles::RecordContext context;             // as LoadRecordContext reads it for a new record
  std::string cx;                              // patient id in CX form (mapping::PatientCxOf)
  std::map<std::string, JsonValue> documents;  // stored DocumentReferences, by id
  std::set<std::string> contents;              // SHA-256 of the bytes in document_content
};

// Computes, for one chunk, the rows the live write and read paths would write.
class RowMaker {
 public:
  RowMaker(std::shared_ptr<const model::SearchParamSet> params,
           const profiles::AccessControl& control, std::map<long long, std::string> chains)
      : params_(std::move(params)), control_(control), chains_(std::move(chains)) {}

  Status AddDossier(const Dossier& d, long long key, bool validate, Chunk& c);
  // Numbers the chunk's audit events (sequence values reserved in order) and writes them.
  Status FinishAudit(const std::vector<long long>& seqs, Chunk& c);
  size_t pending_audits() const { return pending_.size(); }

 private:
  Status AddWrite(const Write& w, Record& rec, bool validate, Chunk& c);
  Status AddAccess(const Dossier& d, const Access& a, const Record& rec);
  void AddPatientRecord(const JsonValue& patient, Record& rec, Chunk& c);
  void AddVersion(const storage::StoredResource& s, Chunk& c);
  Status MoveBytesOut(const std::string& what, JsonValue& binary, storage::StoredResource& s,
                      Record& rec, Chunk& c);
  void AddIndex(const storage::StoredResource& s, const dossier::IndexRows& rows, Chunk& c);
  Status AddRegistry(const storage::StoredResource& s, const JsonValue& resource, const Record& rec,
                     Chunk& c);
  // AccessSession::Audit: the entry completed with the actor, the decision, the request and
  // the record, then chained.
  void AddAudit(const profiles::Actor& actor, const profiles::Decision& decision,
                profiles::AuditEntry entry, const profiles::RequestFacts& facts,
                std::optional<long long> key, const Record& rec);

  std::shared_ptr<const model::SearchParamSet> params_;
  const profiles::AccessControl& control_;
  profiles::PolicyEnv env_;
  std::map<long long, std::string> chains_;  // chain key -> raw hash of its last event
  std::vector<PendingAudit> pending_;
};

Status RowMaker::AddDossier(const Dossier& d, long long key, bool validate, Chunk& c) {
  env_ = control_.Env();
  Record rec;
  rec.key = key;
  for (const Write& w : d.writes) CARNET_RETURN_IF_ERROR(AddWrite(w, rec, validate, c));
  for (const Access& a : d.accesses) CARNET_RETURN_IF_ERROR(AddAccess(d, a, rec));
  ++c.counts.patients;
  c.counts.documents += d.documents;
  c.counts.resources += static_cast<long long>(d.writes.size());
  c.counts.accesses += static_cast<long long>(d.accesses.size());
  return Status::Ok();
}

Status Refuse(const std::string& what, const std::string& why) {
  return Status(ErrorCode::kInvalid,
                what + ": the bulk load does not cover this (" + why + "); use the exact load");
}

Status RowMaker::AddWrite(const Write& w, Record& rec, bool validate, Chunk& c) {
  const profiles::Actor& loader = LoaderActor();
  const std::string what = w.type + "/" + w.id;
  std::string now = FormatUtc(std::chrono::system_clock::now());
  JsonValue stamped = dossier::StampVersion(w.resource, w.id, 1, now, loader.PrincipalId());
  if (validate)
    for (const auto& issue : model::ValidateResource(stamped))
      if (issue.severity == "error" || issue.severity == "fatal")
        return Invalid(what + ": " + issue.message, issue.expression);
  // The compartment, as Interactions::CompartmentKey finds it: the dossier's record.
  profiles::Decision decision;
  if (w.type == "Patient") {
    if (w.id != rec.context.patient_id && !rec.context.patient_id.empty())
      return Refuse(what, "a second Patient");
    AddPatientRecord(stamped, rec, c);
    decision = profiles::DecideNewRecord(loader);
  } else {
    if (w.type == "Binary") {
      const JsonValue* ctx = stamped.Find("securityContext");
      std::string ref = ctx ? ctx->GetString("reference") : "";
      if (ref.rfind("DocumentReference/", 0) != 0 || !rec.documents.count(ref.substr(18)))
        return Refuse(what, "content of no document of the dossier");
    } else {
      auto ids = model::PatientCompartmentIds(stamped);
      if (ids.empty() || ids.front() != rec.context.patient_id)
        return Refuse(what, "not in the dossier's record");
    }
    decision = profiles::Decide(loader, rec.context, profiles::SummariseResource(stamped),
                                profiles::Action::kCreate, env_);
  }
  if (!decision.allowed) return Status(ErrorCode::kForbidden, what + ": " + decision.reason);
  storage::StoredResource stored;
  stored.patient_key = rec.key;
  stored.type = w.type;
  stored.id = w.id;
  stored.version = 1;
  stored.last_updated = now;
  stored.method = "PUT";
  stored.security = dossier::SecurityCodes(stamped);
  if (w.type == "Binary") CARNET_RETURN_IF_ERROR(MoveBytesOut(what, stamped, stored, rec, c));
  stored.content = WriteJson(stamped);
  AddVersion(stored, c);
  AddIndex(stored, dossier::ExtractIndexRows(*params_, w.type, stamped), c);
  if (w.type == "DocumentReference") {
    CARNET_RETURN_IF_ERROR(AddRegistry(stored, stamped, rec, c));
    rec.documents.emplace(w.id, stamped);
  }
  // Interactions::AfterWrite: level-3 extraction needs CDA content (none here: the content
  // is checked below); the patient's notification goes to the channels of their
  // preferences, and a new record has none.
  if (w.type == "Binary" && stamped.GetString("contentType").find("xml") != std::string::npos)
    return Refuse(what, "CDA content is extracted on the live path");
  profiles::AuditEntry audit = profiles::AuditEntry::Rest("create", 'C');
  audit.object_reference = what;
  AddAudit(loader, decision, std::move(audit), {kLoaderRequestId, kLoaderAddress}, rec.key, rec);
  return Status::Ok();
}

void RowMaker::AddPatientRecord(const JsonValue& patient, Record& rec, Chunk& c) {
  auto [ins, system] = dossier::NationalIdentityOf(patient);
  std::string id = patient.GetString("id");
  // storage::CreatePatientRecord (nullif: empty -> NULL) and ReplacePatientIdentifiers
  // (every identifier with a system and a value, once).
  c.patient.Int(rec.key).Text(id);
  ins.empty() ? c.patient.Null() : c.patient.Text(ins);
  system.empty() ? c.patient.Null() : c.patient.Text(system);
  c.patient.EndRow();
  std::set<std::pair<std::string, std::string>> seen;
  if (const JsonValue* ids = patient.Find("identifier"); ids && ids->is_array())
    for (const auto& ident : ids->items()) {
      std::pair<std::string, std::string> sv{ident.GetString("system"), ident.GetString("value")};
      if (sv.first.empty() || sv.second.empty() || !seen.insert(sv).second) continue;
      c.patient_identifier.Int(rec.key).Text(sv.first).Text(sv.second).EndRow();
    }
  // profiles::LoadRecordContext of the new record: its Patient, its INS, active, nothing
  // else (no treating physician, blocks, care team, apps, emergency window).
  rec.context = profiles::RecordContext{};
  rec.context.patient_key = rec.key;
  rec.context.patient_id = id;
  rec.context.ins = ins;
  rec.cx = mapping::PatientCx(ins, system, id);
}

Status RowMaker::MoveBytesOut(const std::string& what, JsonValue& binary,
                              storage::StoredResource& s, Record& rec, Chunk& c) {
  // storage::WriteVersion: the bytes once per record in document_content, their hash on the
  // resource rows, no `data` in the JSON.
  const JsonValue* data = binary.Find("data");
  if (!data || !data->is_string()) return Status::Ok();
  auto bytes = Base64Decode(data->text());
  if (!bytes) return Invalid(what + ": Binary.data is not base64", "Binary.data");
  storage::ContentDigest digest = storage::DigestContent(*bytes);
  if (rec.contents.insert(digest.sha256_hex).second)
    c.document_content.Int(rec.key)
        .Text("\\x" + digest.sha256_hex)
        .Text("\\x" + digest.sha1_hex)
        .Int(static_cast<long long>(bytes->size()))
        .Text(binary.GetString("contentType"))
        .Text("\\x" + HexEncode(*bytes))
        .EndRow();
  binary.Remove("data");
  s.content_sha256 = digest.sha256_hex;
  return Status::Ok();
}

void RowMaker::AddVersion(const storage::StoredResource& s, Chunk& c) {
  // storage::WriteVersion: the current row and the history row.
  auto hash = [&](storage::CopyRows& t) -> storage::CopyRows& {
    return s.content_sha256.empty() ? t.Null() : t.Text("\\x" + s.content_sha256);
  };
  c.resource.Int(*s.patient_key)
      .Text(s.type)
      .Text(s.id)
      .Int(s.version)
      .Text(s.last_updated)
      .Text("f")
      .Text(storage::TextArrayLiteral(s.security))
      .Text(s.content);
  hash(c.resource).EndRow();
  c.history.Int(*s.patient_key)
      .Text(s.type)
      .Text(s.id)
      .Int(s.version)
      .Text(s.last_updated)
      .Text("f")
      .Text(s.method)
      .Text(s.content);
  hash(c.history).EndRow();
}

void RowMaker::AddIndex(const storage::StoredResource& s, const dossier::IndexRows& rows,
                        Chunk& c) {
  auto head = [&](CopyRows& t) -> CopyRows& {
    return t.Int(*s.patient_key).Text(s.type).Text(s.id);
  };
  // The group of a composite's component rows (migration 0007), NULL on the others.
  auto group = [](CopyRows& t, const std::optional<int>& g) -> CopyRows& {
    return g ? t.Int(*g) : t.Null();
  };
  for (const auto& r : rows.strings)
    group(head(c.idx_string).Text(r.param).Text(r.norm).Text(r.exact), r.group).EndRow();
  for (const auto& r : rows.tokens)
    group(head(c.idx_token)
              .Text(r.param)
              .Opt(r.system)
              .Opt(r.code)
              .Opt(r.text_norm)
              .Opt(r.type_system)
              .Opt(r.type_code),
          r.group)
        .EndRow();
  for (const auto& r : rows.references)
    group(head(c.idx_reference)
              .Text(r.param)
              .Opt(r.target_type)
              .Opt(r.target_id)
              .Opt(r.target_url)
              .Opt(r.id_system)
              .Opt(r.id_value),
          r.group)
        .EndRow();
  for (const auto& r : rows.dates)
    group(head(c.idx_date).Text(r.param).Text(r.low).Text(r.high), r.group).EndRow();
  for (const auto& r : rows.uris)
    group(head(c.idx_uri).Text(r.param).Text(r.uri), r.group).EndRow();
  // The text columns c0..c5 of storage::kQuantitySelect, then the group.
  for (const auto& r : rows.quantities)
    group(head(c.quantity)
              .Text(r.param)
              .Text(r.value)
              .Opt(r.low)
              .Opt(r.high)
              .Opt(r.system)
              .Opt(r.code),
          r.group)
        .EndRow();
  // The text columns c0..c2 of storage::kTextSelect.
  for (const auto& r : rows.texts)
    head(c.full_text).Text(r.param).Text(r.text).Text(r.folded).EndRow();
}

Status RowMaker::AddRegistry(const storage::StoredResource& s, const JsonValue& resource,
                             const Record& rec, Chunk& c) {
  auto rows = mapping::DocumentEntryRowsOf(s, resource, rec.cx);
  if (!rows.ok()) return rows.status();
  if (!rows->assoc_kinds.empty()) return Refuse(s.type + "/" + s.id, "associations (relatesTo)");
  const storage::SqlParams& p = rows->entry;
  if (p.size() != 30)
    return Internal("registry row shape changed: " + std::to_string(p.size()) + " parameters");
  // The expressions of the registry INSERT (storage/registry_store.cc kInsertEntry), column
  // by column: entryUUID and logicalId derived when not given, the hash decoded from hex.
  std::string entry_uuid = p[1].value ? *p[1].value : Md5Uuid(*p[2].value + "/" + *p[3].value);
  std::string logical_id = p[5].value ? *p[5].value : entry_uuid;
  CopyRows& t = c.registry_object;
  t.Opt(p[0].value)
      .Text(entry_uuid)
      .Text("DocumentEntry")
      .Opt(p[2].value)
      .Opt(p[3].value)
      .Opt(p[4].value)
      .Text(logical_id);
  for (size_t i = 6; i <= 26; ++i) t.Opt(ParamText(p[i]));
  p[27].value ? t.Text("\\x" + *p[27].value) : t.Null();
  t.Opt(p[28].value).Opt(p[29].value).EndRow();
  for (size_t i = 0; i < rows->code_schemes.size(); ++i)
    c.registry_code.Int(*s.patient_key)
        .Text(entry_uuid)
        .Text(rows->code_schemes[i])
        .Text(rows->codes[i])
        .Text(rows->code_systems[i])
        .EndRow();
  return Status::Ok();
}

Status RowMaker::AddAccess(const Dossier& d, const Access& a, const Record& rec) {
  profiles::Actor actor = a.actor < 0 ? PatientActor(d) : AccessActors()[a.actor];
  profiles::RequestFacts facts{a.request_id, a.client_address};
  if (actor.kind == profiles::ActorKind::kProfessional && actor.emergency)
    return Refuse(a.path, "emergency access windows");
  if (a.path == "/fhir/DocumentReference" && a.query == "patient=" + d.patient_id) {
    // A search naming the record: AccessSession::SearchFilter over that one record, then
    // one audit event per record searched (fhir/rest.cc AuditSearch).
    profiles::AccessFilter f = profiles::FilterFor(actor, rec.context, env_);
    if (f.patient_keys.empty()) {
      f.include_shared = actor.kind != profiles::ActorKind::kDenied;
    } else {
      auto merged = profiles::MergeFilters({f});
      if (!merged.ok()) return merged.status();
      f = std::move(merged).value();
    }
    profiles::Decision decision = profiles::SearchDecision(f);
    if (decision.opens_emergency_window) return Refuse(a.path, "emergency access windows");
    profiles::AuditEntry entry = profiles::AuditEntry::Rest("search-type", 'E');
    entry.query = a.query;
    entry.object_reference = "DocumentReference";
    if (f.patient_keys.empty()) AddAudit(actor, decision, entry, facts, std::nullopt, rec);
    for (long long key : f.patient_keys) AddAudit(actor, decision, entry, facts, key, rec);
    return Status::Ok();
  }
  // A read (fhir/rest.cc GuardedRead): decided on the stored resource; a Binary is read as
  // the document its securityContext names.
  std::string rest = a.path.rfind("/fhir/", 0) == 0 ? a.path.substr(6) : "";
  size_t slash = rest.find('/');
  std::string type = rest.substr(0, slash),
              id = slash == std::string::npos ? "" : rest.substr(slash + 1);
  std::string doc = type == "Binary" && id.size() > 4 ? id.substr(0, id.size() - 4) : id;
  auto it = rec.documents.find(doc);
  if (!a.query.empty() || (type != "DocumentReference" && type != "Binary") ||
      it == rec.documents.end())
    return Refuse(a.path, "a request other than a search of the record or a read of its documents");
  profiles::Decision decision = profiles::Decide(
      actor, rec.context, profiles::SummariseResource(it->second), profiles::Action::kRead, env_);
  if (decision.allowed && decision.opens_emergency_window)
    return Refuse(a.path, "emergency access windows");
  // A refusal is audited by AccessSession::FlushRefusals, which clears the window flag.
  if (!decision.allowed) decision.opens_emergency_window = false;
  profiles::AuditEntry entry = profiles::AuditEntry::Rest("read", 'R');
  entry.object_reference = type + "/" + id;
  AddAudit(actor, decision, std::move(entry), facts, rec.key, rec);
  return Status::Ok();
}

void RowMaker::AddAudit(const profiles::Actor& actor, const profiles::Decision& decision,
                        profiles::AuditEntry entry, const profiles::RequestFacts& facts,
                        std::optional<long long> key, const Record& rec) {
  entry = profiles::AuditEntryFor(actor, decision, std::move(entry));
  entry.request_id = facts.request_id;
  entry.network_address = facts.client_address;
  if (key) {
    entry.patient_key = *key;
    if (!rec.context.patient_id.empty())
      entry.patient_reference = "Patient/" + rec.context.patient_id;
    entry.patient_ins = rec.context.ins;
  }
  std::string& chain = chains_[key.value_or(0)];
  PendingAudit pa;
  pa.patient_key = key;
  pa.prev_hash = chain;
  pa.record = profiles::AuditRecordOf(entry, NewUuid());
  pa.row = storage::ChainAuditRecord(pa.record, chain);
  chain = pa.row.hash;
  pending_.push_back(std::move(pa));
}

Status RowMaker::FinishAudit(const std::vector<long long>& seqs, Chunk& c) {
  if (seqs.size() != pending_.size()) return Internal("audit sequence numbers: wrong count");
  std::map<long long, std::pair<long long, std::string>> heads;  // chain -> last seq, hash
  for (size_t i = 0; i < pending_.size(); ++i) {
    const PendingAudit& pa = pending_[i];
    const storage::AuditRecord& e = pa.record;
    CopyRows& t = c.audit_event;
    pa.patient_key ? t.Int(*pa.patient_key) : t.Null();
    t.Int(seqs[i])
        .Text(pa.row.event_id)
        .Text(pa.row.recorded)
        .Text(std::string(1, e.action))
        .Text(e.outcome);
    e.actor_id.empty() ? t.Null() : t.Text(e.actor_id);
    e.actor_kind.empty() ? t.Null() : t.Text(e.actor_kind);
    t.Text(e.emergency ? "t" : "f").Text(pa.row.content);
    pa.prev_hash.empty() ? t.Null() : t.Text("\\x" + Hex(pa.prev_hash));
    t.Text("\\x" + Hex(pa.row.hash));
    e.request_id.empty() ? t.Null() : t.Text(e.request_id);
    e.reason_code.empty() ? t.Null() : t.Text(e.reason_code);
    t.EndRow();
    heads[pa.row.chain_key] = {seqs[i], pa.row.hash};
  }
  if (!seqs.empty()) c.first_seq = seqs.front(), c.last_seq = seqs.back();
  for (const auto& [key, head] : heads) {
    c.head_keys.push_back(std::to_string(key));
    c.head_seqs.push_back(std::to_string(head.first));
    c.head_hashes.push_back(Hex(head.second));
  }
  pending_.clear();
  return Status::Ok();
}

// --- the producer: dossiers -> chunks of rows ------------------------------------------

// `count` values of the sequence behind table.column, in order (as `count` INSERTs would
// take them).
Result<std::vector<long long>> Reserve(storage::Connection& conn, const char* table,
                                       const char* column, size_t count) {
  std::vector<long long> out;
  if (count == 0) return out;
  auto r = conn.RunDynamic(
      "SELECT nextval(pg_get_serial_sequence($1, $2)) FROM generate_series(1, $3::int) ORDER BY 1",
      {storage::SqlParam::Text(table), storage::SqlParam::Text(column),
       storage::SqlParam::Text(std::to_string(count))});
  if (!r.ok()) return r.status();
  for (int i = 0; i < r->rows(); ++i) out.push_back(r->GetInt(i, 0));
  return out;
}

Result<std::unique_ptr<Chunk>> MakeChunk(storage::Connection& conn, RowMaker& maker,
                                         const DossierGenerator& gen, int first, int last,
                                         bool validate) {
  auto chunk = std::make_unique<Chunk>();
  chunk->first = first;
  chunk->last = last;
  auto keys = Reserve(conn, "patient", "patient_key", static_cast<size_t>(last - first));
  if (!keys.ok()) return keys.status();
  for (int p = first; p < last; ++p) {
    Dossier d = gen.Generate(p);
    Status st = maker.AddDossier(d, (*keys)[p - first], validate, *chunk);
    if (!st.ok()) return Status(st.code(), PatientId(p) + ": " + st.message());
  }
  auto seqs = Reserve(conn, "audit_event", "seq", maker.pending_audits());
  if (!seqs.ok()) return seqs.status();
  CARNET_RETURN_IF_ERROR(maker.FinishAudit(*seqs, *chunk));
  return chunk;
}

// --- the consumer: chunks -> COPY, one transaction each --------------------------------

Status WriteChunk(BulkConnection& db, const Chunk& c) {
  CARNET_RETURN_IF_ERROR(db.Exec("BEGIN").status());
  const std::pair<const char*, const CopyRows*> tables[] = {
      {"patient (patient_key, resource_id, ins, ins_system)", &c.patient},
      {"patient_identifier (patient_key, system, value)", &c.patient_identifier},
      {"document_content (patient_key, sha256, sha1, size, mime_type, data)", &c.document_content},
      {"resource (patient_key, res_type, res_id, version_id, last_updated, deleted, security, "
       "content, content_sha256)",
       &c.resource},
      {"resource_history (patient_key, res_type, res_id, version_id, last_updated, deleted, "
       "method, content, content_sha256)",
       &c.history},
      {"idx_string (patient_key, res_type, res_id, param, value_norm, value_exact, grp)",
       &c.idx_string},
      {"idx_token (patient_key, res_type, res_id, param, system, code, text_norm, type_system, "
       "type_code, grp)",
       &c.idx_token},
      {"idx_reference (patient_key, res_type, res_id, param, target_type, target_id, target_url, "
       "identifier_system, identifier_value, grp)",
       &c.idx_reference},
      {"idx_date (patient_key, res_type, res_id, param, low, high, grp)", &c.idx_date},
      {"idx_uri (patient_key, res_type, res_id, param, uri, grp)", &c.idx_uri},
      {"bulk_quantity (patient_key, res_type, res_id, c0, c1, c2, c3, c4, c5, grp)", &c.quantity},
      {"bulk_text (patient_key, res_type, res_id, c0, c1, c2)", &c.full_text},
      {"registry_object (patient_key, entry_uuid, object_type, res_type, res_id, unique_id, "
       "logical_id, version, "
       "availability_status, entry_type, repository_unique_id, patient_id, source_patient_id, "
       "class_code, "
       "class_scheme, type_code, type_scheme, format_code, format_scheme, hcft_code, hcft_scheme, "
       "practice_setting_code, practice_setting_scheme, creation_time, service_start_time, "
       "service_stop_time, "
       "mime_type, size, hash_sha1, author_persons, home_community_id)",
       &c.registry_object},
      {"registry_code (patient_key, entry_uuid, scheme, code, code_system)", &c.registry_code},
      {"audit_event (patient_key, seq, event_id, recorded, action, outcome, actor_id, actor_kind, "
       "emergency, "
       "content, prev_hash, hash, request_id, reason_code)",
       &c.audit_event},
  };
  for (const auto& [target, rows] : tables) CARNET_RETURN_IF_ERROR(db.Copy(target, *rows));
  if (c.quantity.rows() > 0)
    CARNET_RETURN_IF_ERROR(
        db.Exec(std::string(
                    "INSERT INTO idx_quantity (patient_key, res_type, res_id, param, "
                    "value, low, high, system, code, grp) SELECT patient_key, res_type, res_id, ") +
                storage::kQuantitySelect + ", grp FROM bulk_quantity")
            .status());
  if (c.full_text.rows() > 0)
    CARNET_RETURN_IF_ERROR(
        db.Exec(std::string("INSERT INTO idx_text (patient_key, res_type, res_id, param, tsv) "
                            "SELECT patient_key, res_type, res_id, ") +
                storage::kTextSelect + " FROM bulk_text")
            .status());
  // The objects the events name (audit_event_entity, migration 0017), derived from the
  // content as the live append derives them. The chunk's sequence numbers were reserved
  // together (Reserve), in order: its events are those between the first and the last.
  if (c.first_seq > 0)
    CARNET_RETURN_IF_ERROR(db.Exec("INSERT INTO audit_event_entity (patient_key, reference, seq) "
                                   "SELECT a.patient_key, r.ref, a.seq FROM audit_event a, "
                                   "audit_entity_refs(a.content) AS r(ref) WHERE a.seq BETWEEN " +
                                   std::to_string(c.first_seq) + " AND " +
                                   std::to_string(c.last_seq) + " AND a.patient_key IS NOT NULL")
                               .status());
  if (!c.head_keys.empty())
    CARNET_RETURN_IF_ERROR(
        db.Exec("INSERT INTO audit_chain_head (patient_key, last_seq, hash) SELECT k, s, decode(h, "
                "'hex') FROM "
                "unnest($1::bigint[], $2::bigint[], $3::text[]) AS u(k, s, h) ON CONFLICT "
                "(patient_key) DO UPDATE "
                "SET last_seq = excluded.last_seq, hash = excluded.hash, updated_at = now()",
                {storage::TextArrayLiteral(c.head_keys), storage::TextArrayLiteral(c.head_seqs),
                 storage::TextArrayLiteral(c.head_hashes)})
            .status());
  return db.Exec("COMMIT").status();
}

// A bounded queue between the producer and the consumer: two chunks in flight at most, so
// that computing the next chunk overlaps PostgreSQL's work on the current one.
class ChunkQueue {
 public:
  void Push(std::unique_ptr<Chunk> c) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return q_.size() < 2 || closed_; });
    q_.push_back(std::move(c));
    cv_.notify_all();
  }
  std::unique_ptr<Chunk> Pop() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return !q_.empty(); });
    auto c = std::move(q_.front());
    q_.pop_front();
    cv_.notify_all();
    return c;
  }
  // The consumer gives up: the producer stops at its next push.
  void Close() {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
    cv_.notify_all();
  }
  bool closed() {
    std::lock_guard<std::mutex> lock(mu_);
    return closed_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::unique_ptr<Chunk>> q_;
  bool closed_ = false;
};

// The start state: the parameters in force, the chain heads that exist already (events
// without a record, chain 0, may have been appended before), and no dossier loaded twice.
Status Prepare(storage::Connection& conn, int first, int last,
               std::shared_ptr<const model::SearchParamSet>* params,
               std::map<long long, std::string>* chains) {
  CARNET_RETURN_IF_ERROR(storage::ApplyMigrations(conn, storage::BuiltinMigrations()));
  storage::Transaction tx(conn);
  auto current = dossier::CurrentSearchParams(tx);
  if (!current.ok()) return current.status();
  *params = *current;
  auto loaded = conn.RunDynamic(
      "SELECT count(*) FROM patient WHERE resource_id IN ($1, $2)",
      {storage::SqlParam::Text(PatientId(first)), storage::SqlParam::Text(PatientId(last - 1))});
  if (!loaded.ok()) return loaded.status();
  if (loaded->GetInt(0, 0) > 0)
    return Status(ErrorCode::kDuplicate, "dossiers " + PatientId(first) + ".." +
                                             PatientId(last - 1) +
                                             " are loaded already: load into a fresh database");
  auto head = conn.RunDynamic(
      "SELECT encode(hash, 'hex') FROM audit_chain_head WHERE patient_key = 0 AND hash IS NOT "
      "NULL");
  if (!head.ok()) return head.status();
  if (head->rows() > 0) {
    std::string hex = head->GetString(0, 0), raw;
    for (size_t i = 0; i + 1 < hex.size(); i += 2)
      raw.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
    (*chains)[0] = raw;
  }
  return Status::Ok();
}

}  // namespace

Result<LoadReport> FastLoad(const std::string& conninfo, const DossierGenerator& generator,
                            int first, int last, const FastLoadOptions& options) {
  auto conn = storage::Connection::Open(conninfo);
  if (!conn.ok()) return conn.status();
  std::shared_ptr<const model::SearchParamSet> params;
  std::map<long long, std::string> chains;
  if (last <= first) return LoadReport{};
  CARNET_RETURN_IF_ERROR(Prepare(**conn, first, last, &params, &chains));
  auto control = profiles::AccessControl::Load(profiles::AccessSettings{});
  if (!control.ok()) return control.status();
  auto db = BulkConnection::Open(conninfo);
  if (!db.ok()) return db.status();
  CARNET_RETURN_IF_ERROR(
      (*db)
          ->Exec(
              "CREATE TEMP TABLE bulk_quantity (patient_key bigint, res_type text, res_id text, "
              "c0 text, c1 text, c2 text, c3 text, c4 text, c5 text, grp integer) ON COMMIT DELETE "
              "ROWS")
          .status());
  CARNET_RETURN_IF_ERROR(
      (*db)
          ->Exec("CREATE TEMP TABLE bulk_text (patient_key bigint, res_type text, res_id text, "
                 "c0 text, c1 text, c2 text) ON COMMIT DELETE ROWS")
          .status());
  RowMaker maker(params, **control, std::move(chains));
  ChunkQueue queue;
  int step = std::max(1, options.chunk_patients);
  std::thread producer([&] {
    for (int start = first; start < last && !queue.closed(); start += step) {
      auto chunk = MakeChunk(**conn, maker, generator, start, std::min(last, start + step),
                             options.validate_all || start == first);
      if (!chunk.ok()) {
        auto failed = std::make_unique<Chunk>();
        failed->status = chunk.status();
        queue.Push(std::move(failed));
        break;
      }
      queue.Push(std::move(chunk).value());
    }
    queue.Push(nullptr);  // the end
  });
  LoadReport total;
  Status st = Status::Ok();
  auto t0 = Clock::now();
  while (auto chunk = queue.Pop()) {
    if (st.ok()) st = chunk->status.ok() ? WriteChunk(**db, *chunk) : chunk->status;
    if (!st.ok()) {
      queue.Close();
      continue;  // drain until the producer's end marker
    }
    total.patients += chunk->counts.patients;
    total.documents += chunk->counts.documents;
    total.resources += chunk->counts.resources;
    total.accesses += chunk->counts.accesses;
    total.rows += chunk->Rows();
    double s = std::chrono::duration<double>(Clock::now() - t0).count();
    if (options.progress)
      std::fprintf(stderr,
                   "  fast: %lld/%d patients, %lld documents, %lld resources, %lld rows, %.0f s "
                   "(%.0f documents/s, %.0f rows/s)\n",
                   total.patients, last - first, total.documents, total.resources, total.rows, s,
                   total.documents / s, total.rows / s);
  }
  producer.join();
  if (!st.ok()) return st;
  total.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  return total;
}

}  // namespace carnet::bench
