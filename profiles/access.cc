#include "profiles/access.h"

#include <chrono>
#include <fstream>
#include <sstream>

#include "base/log.h"
#include "base/strings.h"
#include "profiles/notification.h"
#include "profiles/policy_store.h"

namespace carnet::profiles {
namespace {

long long NowSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool Truthy(const std::string* v) {
  if (!v) return false;
  std::string s;
  for (char c : *v) s.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  return s == "true" || s == "1" || s == "yes";
}

}  // namespace

Decision Refusal(Reason code, std::string reason, ErrorCode refusal) {
  Decision d;
  d.refusal = refusal;
  d.code = code;
  d.reason = std::move(reason);
  return d;
}

namespace {

// The request log line's decision: the first refusal of the request, else its first permit.
// A permit under a refusal's code (a search of a record the actor may not open, answered
// with what little it may see) is logged as a refusal.
void NoteDecision(const Decision& d) {
  RequestNotes& notes = CurrentRequestNotes();
  bool deny = !d.allowed || SideOf(d.code) == ReasonSide::kDeny;
  if (notes.decision == "deny") return;
  if (!deny && !notes.decision.empty()) return;
  notes.decision = deny ? "deny" : "permit";
  notes.reason = std::string(ReasonCode(d.code));
}

}  // namespace

Result<std::unique_ptr<AccessControl>> AccessControl::Load(const AccessSettings& settings) {
  auto verifier = LoadJwtVerifier(settings.identity);
  if (!verifier.ok()) return verifier.status();
  auto matrix = HabilitationMatrix::Load(settings.habilitation_matrix_file);
  if (!matrix.ok()) return matrix.status();
  auto pseudonyms = Pseudonymiser::LoadOrCreate(settings.identity.data_dir);
  if (!pseudonyms.ok()) return pseudonyms.status();
  std::unique_ptr<AccessControl> control(
      new AccessControl(std::move(verifier).value(), std::move(matrix).value(),
                        settings.emergency_window_s, std::move(pseudonyms).value()));
  control->unreadable_deposit_ = settings.unreadable_deposit;
  control->unlisted_deposit_ = settings.unlisted_deposit;
  if (!settings.remote_jwks.urls.empty()) {
    if (settings.remote_jwks.issuers.empty())
      return BadRequest("jwks_urls is set but trusted_issuers names no issuer");
    for (const auto& url : settings.remote_jwks.urls) CARNET_RETURN_IF_ERROR(CheckJwksUrl(url));
    if (!settings.jwks_fetcher) return Internal("jwks_urls set without a fetcher");
    control->remote_ = std::make_shared<RemoteJwks>(control->verifier_, settings.remote_jwks,
                                                    settings.jwks_fetcher);
    // An issuer unreachable at start does not stop the gateway: its tokens are refused until
    // a later fetch (at the next token, within the rate bound) succeeds.
    Status fetched = control->remote_->Refresh(NowSeconds());
    LogLine("{\"time\":\"" + FormatUtc(std::chrono::system_clock::now()) + "\",\"event\":\"" +
            (fetched.ok() ? "jwks_fetched" : "jwks_fetch_failed") + "\",\"detail\":\"" +
            JsonEscape(fetched.ok() ? std::to_string(control->remote_->key_count()) +
                                          " trusted key(s) with those of jwks_urls"
                                    : fetched.ToString()) +
            "\"}");
  }
  if (!settings.client_organisations_file.empty()) {
    std::ifstream in(settings.client_organisations_file);
    if (!in)
      return BadRequest("cannot read client_organisations_file " +
                        settings.client_organisations_file);
    std::string line;
    int n = 0;
    while (std::getline(in, line)) {
      ++n;
      if (auto hash = line.find('#'); hash != std::string::npos) line.erase(hash);
      std::istringstream fields(line);
      std::string cert, org, extra;
      if (!(fields >> cert)) continue;
      if (!(fields >> org) || (fields >> extra))
        return BadRequest(settings.client_organisations_file + ":" + std::to_string(n) +
                          ": expected a certificate (CN or sha256:HEX) and an organisation id");
      if (cert.rfind("sha256:", 0) == 0)
        for (char& c : cert) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      control->organisations_[cert] = org;
    }
  }
  return control;
}

Result<Actor> AccessControl::FromClientCertificate(const HttpRequest& req) const {
  auto it = organisations_.find("sha256:" + req.client_cert_sha256);
  if (it == organisations_.end()) it = organisations_.find(req.client_cert_subject_cn);
  if (it == organisations_.end() || req.client_cert_subject_cn.empty())
    return Status(ErrorCode::kUnauthorized, "client certificate '" + req.client_cert_subject_cn +
                                                "' names no configured organisation");
  Actor a;
  a.kind = ActorKind::kSystem;
  a.issuer = "mtls";
  a.subject = req.client_cert_subject_cn;
  a.organisation = it->second;
  a.client_id = it->second;
  JsonValue claims = JsonValue::Object();
  claims.Set("iss", JsonValue::String("mtls"));
  claims.Set("sub", JsonValue::String(req.client_cert_subject_cn));
  claims.Set("x5t#S256", JsonValue::String(req.client_cert_sha256));
  claims.Set("organisation", JsonValue::String(it->second));
  a.claims = std::move(claims);
  return a;
}

Result<Actor> AccessControl::Authenticate(const HttpRequest& req) const {
  Reason why = Reason::kUnauthenticated;
  auto actor = Credential(req, &why);
  RequestNotes& notes = CurrentRequestNotes();
  if (actor.ok()) {
    notes.actor_kind = std::string(ActorKindName(actor->kind));
    notes.actor = Pseudonym(actor->PrincipalId());
    return actor;
  }
  notes.decision = "deny";
  notes.reason = std::string(ReasonCode(why));
  return actor;
}

Result<Actor> AccessControl::Credential(const HttpRequest& req, Reason* why) const {
  auto refuse = [&](Reason code, std::string message) {
    *why = code;
    return Status(ErrorCode::kUnauthorized, std::move(message));
  };
  const std::string* auth = req.Header("Authorization");
  if (!auth && !req.client_cert_sha256.empty()) {
    *why = Reason::kCertificateUnknown;
    return FromClientCertificate(req);
  }
  if (!auth) return refuse(Reason::kNoCredential, "no Authorization header");
  std::string_view v = *auth;
  constexpr std::string_view kBearer = "bearer ";
  if (v.size() <= kBearer.size())
    return refuse(Reason::kCredentialMalformed, "not a Bearer credential");
  for (size_t i = 0; i < kBearer.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(v[i])) != kBearer[i])
      return refuse(Reason::kCredentialMalformed, "not a Bearer credential");
  std::string_view token = v.substr(kBearer.size());
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
  auto actor = remote_ ? remote_->Verify(token, NowSeconds(), why)
                       : verifier_.Verify(token, NowSeconds(), why);
  if (!actor.ok()) return actor.status();
  if (actor->kind == ActorKind::kProfessional && Truthy(req.Header("X-Patient-Consent")))
    actor->consent_asserted = true;
  return actor;
}

PolicyEnv AccessControl::Env() const {
  PolicyEnv env;
  env.matrix = &matrix_;
  env.now = NowSeconds();
  env.emergency_window_s = emergency_window_s_;
  env.unreadable_deposit = unreadable_deposit_;
  env.unlisted_deposit = unlisted_deposit_;
  return env;
}

AccessSession::AccessSession(const AccessControl& control, Actor actor, RequestFacts facts)
    : control_(control), actor_(std::move(actor)), facts_(std::move(facts)), env_(control.Env()) {}

Result<const RecordContext*> AccessSession::Record(storage::Transaction& tx,
                                                   long long patient_key) {
  auto it = records_.find(patient_key);
  if (it != records_.end()) return &it->second;
  auto loaded = LoadRecordContext(tx, patient_key, actor_);
  if (!loaded.ok()) return loaded.status();
  return &records_.emplace(patient_key, std::move(loaded).value()).first->second;
}

Result<std::optional<storage::StoredResource>> AccessSession::ReadCurrent(storage::Transaction& tx,
                                                                          const std::string& type,
                                                                          const std::string& id) {
  std::optional<RecordContext> context;
  auto row = ReadCurrentWithContext(tx, type, id, actor_, &context);
  if (!row.ok()) return row.status();
  if (*row && (*row)->patient_key && context)
    records_.try_emplace(*(*row)->patient_key, std::move(*context));
  return row;
}

Status AccessControl::AuditFailedLogin(storage::Pool& pool, const HttpRequest& req,
                                       const std::string& channel, const Status& why) const {
  AuditEntry entry = AuditEntry::Dicom("110114", "User Authentication", channel, 'E');
  entry.subtype_system = "http://dicom.nema.org/resources/ontology/DCM";
  entry.subtype_code = "110122";
  entry.subtype_display = "Login";
  entry.outcome = "4";
  entry.outcome_desc = why.message();
  // The code Authenticate noted for this request (the same thread serves it).
  const RequestNotes& notes = CurrentRequestNotes();
  entry.reason_code = notes.decision == "deny" && !notes.reason.empty()
                          ? notes.reason
                          : std::string(ReasonCode(Reason::kUnauthenticated));
  entry.actor_kind = "unauthenticated";
  entry.network_address = req.peer;
  entry.request_id = req.request_id;
  entry.object_reference = req.method + " " + req.path;
  return storage::RunInTransaction(pool, [&](storage::Transaction& tx) {
    auto r = AppendAuditEvent(tx, entry);
    return r.ok() ? Status::Ok() : r.status();
  });
}

Result<Decision> AccessSession::DecideSummary(storage::Transaction& tx,
                                              std::optional<long long> patient_key,
                                              const ResourceSummary& summary, Action action) {
  if (!patient_key) {
    ResourceSummary shared = summary;
    shared.shared = true;
    return DecideShared(actor_, shared, action);
  }
  auto record = Record(tx, *patient_key);
  if (!record.ok()) return record.status();
  return Decide(actor_, **record, summary, action, env_);
}

Result<Decision> AccessSession::DecideResource(storage::Transaction& tx,
                                               std::optional<long long> patient_key,
                                               const JsonValue& resource, Action action) {
  ResourceSummary summary = SummariseResource(resource);
  if (summary.type == "Binary") {
    // Document content is read as its document is: the DocumentReference named by the
    // Binary's securityContext decides (document type, visibility labels, authors).
    const JsonValue* ctx = resource.Find("securityContext");
    std::string ref = ctx ? ctx->GetString("reference") : "";
    bool reading = action == Action::kRead || action == Action::kSearch;
    if (reading && ref.rfind("DocumentReference/", 0) == 0) {
      auto doc = storage::ReadCurrent(tx, "DocumentReference", ref.substr(18), false);
      if (!doc.ok()) return doc.status();
      if (*doc && !(*doc)->deleted) return DecideStored(tx, **doc, Action::kRead);
    }
    // A message's attachment (a mail received, issue 17) is read as its message is: by the
    // message's parties only.
    if (reading && ref.rfind("Communication/", 0) == 0) {
      auto message = storage::ReadCurrent(tx, "Communication", ref.substr(14), false);
      if (!message.ok()) return message.status();
      if (*message && !(*message)->deleted) return DecideStored(tx, **message, Action::kRead);
      return Refusal(Reason::kNotFound, "attachment of no message");
    }
    if (!patient_key) {
      // Content not (yet) attached to a record: its depositor's alone.
      if (actor_.kind == ActorKind::kDenied) return Refusal(Reason::kDeniedParty, "denied party");
      if (action == Action::kCreate) {
        if (actor_.kind == ActorKind::kOperator)
          return Refusal(Reason::kNoMedicalContent, "operators add no content",
                         ErrorCode::kForbidden);
        Decision d;
        d.allowed = true;
        d.code = Reason::kDepositSource;
        d.reason = "content deposited ahead of its document";
        return d;
      }
      if (summary.source == actor_.PrincipalId() && !summary.source.empty()) {
        Decision d;
        d.allowed = true;
        d.code = Reason::kAuthor;
        d.reason = "depositor of the content";
        return d;
      }
      return Refusal(Reason::kNotAuthor, "content of no document the actor may see");
    }
  }
  return DecideSummary(tx, patient_key, summary, action);
}

// The content a stored row is judged on: its own, or for a deletion (which carries none)
// that of the version it deleted.
static Result<std::string> JudgedContent(storage::Transaction& tx,
                                         const storage::StoredResource& stored) {
  if (!stored.deleted && !stored.content.empty()) return stored.content;
  if (stored.version > 1) {
    auto before = storage::ReadVersion(tx, stored.type, stored.id, stored.version - 1);
    if (!before.ok()) return before.status();
    if (*before) return (*before)->content;
  }
  return std::string();
}

Result<Decision> AccessSession::DecideStored(storage::Transaction& tx,
                                             const storage::StoredResource& stored, Action action) {
  auto judged = JudgedContent(tx, stored);
  if (!judged.ok()) return judged.status();
  std::string content = std::move(judged).value();
  if (content.empty()) {
    ResourceSummary s;
    s.type = stored.type;
    s.id = stored.id;
    return DecideSummary(tx, stored.patient_key, s, action);
  }
  auto json = ParseJson(content);
  if (!json.ok()) return Internal("stored " + stored.type + "/" + stored.id + " is unreadable");
  return DecideResource(tx, stored.patient_key, *json, action);
}

Result<Decision> AccessSession::DecideVersion(storage::Transaction& tx,
                                              const storage::StoredResource& version,
                                              Action action) {
  std::string key = version.type + "/" + version.id;
  auto cached = current_labels_.find(key);
  if (cached == current_labels_.end()) {
    auto current = storage::ReadCurrent(tx, version.type, version.id, false);
    if (!current.ok()) return current.status();
    if (!*current || (*current)->version == version.version)
      return DecideStored(tx, version, action);
    auto judged = JudgedContent(tx, **current);
    if (!judged.ok()) return judged.status();
    CurrentLabels labels;
    if (!judged->empty()) {
      auto now = ParseJson(*judged);
      if (!now.ok()) return Internal("stored " + key + " is unreadable");
      if (const JsonValue* meta = now->Find("meta"); meta && meta->Find("security"))
        labels.security = *meta->Find("security");
      if (const JsonValue* sl = now->Find("securityLabel")) labels.security_label = *sl;
      if (const JsonValue* ctx = now->Find("securityContext")) labels.security_context = *ctx;
    }
    cached = current_labels_.emplace(key, std::move(labels)).first;
  }
  auto judged = JudgedContent(tx, version);
  if (!judged.ok()) return judged.status();
  if (judged->empty()) return DecideStored(tx, version, action);
  auto json = ParseJson(*judged);
  if (!json.ok()) return Internal("stored " + key + " is unreadable");
  // The version as it would be decided today: its content, the current labels (and, for
  // content, the document it now belongs to).
  const CurrentLabels& now = cached->second;
  JsonValue meta = JsonValue::Object();
  if (const JsonValue* m = json->Find("meta"); m && m->is_object()) meta = *m;
  meta.Remove("security");
  if (!now.security.is_null()) meta.Set("security", now.security);
  json->Set("meta", std::move(meta));
  json->Remove("securityLabel");
  if (!now.security_label.is_null()) json->Set("securityLabel", now.security_label);
  json->Remove("securityContext");
  if (!now.security_context.is_null()) json->Set("securityContext", now.security_context);
  return DecideResource(tx, version.patient_key, *json, action);
}

Result<Decision> AccessSession::DecideRecord(storage::Transaction& tx, long long patient_key,
                                             Action action) {
  auto record = Record(tx, patient_key);
  if (!record.ok()) return record.status();
  return DecideOnRecord(actor_, **record, action, env_);
}

Result<AccessFilter> AccessSession::SearchFilter(storage::Transaction& tx,
                                                 const std::vector<long long>& records) {
  std::vector<long long> keys = records;
  bool any_record = false;
  if (keys.empty()) {
    switch (actor_.kind) {
      case ActorKind::kSystem:
      case ActorKind::kOperator:
        any_record = true;
        break;
      case ActorKind::kPatient:
      case ActorKind::kGuardian:
      case ActorKind::kApp: {
        auto mine = FindActorRecords(tx, actor_);
        if (!mine.ok()) return mine.status();
        keys = *mine;
        break;
      }
      default:
        break;
    }
  }
  if (any_record) {
    // Deposit sources and operators search across records under rules that do not depend
    // on the record (what they deposited; Patient resources): the filter of a nominal
    // active record, without the record restriction.
    RecordContext nominal;
    AccessFilter f = FilterFor(actor_, nominal, env_);
    f.patient_keys.clear();
    f.any_record = true;
    f.record_rules_spare_shared = true;
    f.reason += " (any record)";
    return f;
  }
  if (keys.empty()) {
    AccessFilter f;
    f.excluded_types = NeverSearchedTypes();
    f.include_shared = actor_.kind != ActorKind::kDenied;
    f.reason = actor_.kind == ActorKind::kDenied ? "denied party"
                                                 : "no record in reach: shared resources only";
    f.reason_code = std::string(ReasonCode(
        actor_.kind == ActorKind::kDenied ? Reason::kDeniedParty : Reason::kSharedResource));
    return f;
  }
  std::vector<AccessFilter> filters;
  for (long long key : keys) {
    auto record = Record(tx, key);
    if (!record.ok()) {
      if (record.status().code() == ErrorCode::kNotFound) continue;
      return record.status();
    }
    filters.push_back(FilterFor(actor_, **record, env_));
  }
  // Records the actor may not search at all leave the union.
  std::vector<AccessFilter> open;
  for (auto& f : filters)
    if (!f.patient_keys.empty()) open.push_back(f);
  if (open.empty()) {
    AccessFilter f = filters.empty() ? AccessFilter{} : filters.front();
    f.patient_keys.clear();
    f.excluded_types = NeverSearchedTypes();
    f.include_shared = actor_.kind != ActorKind::kDenied;
    return f;
  }
  return MergeFilters(open);
}

Status AccessSession::Audit(storage::Transaction& tx, AuditEntry entry, const Decision& decision,
                            std::optional<long long> patient_key) {
  NoteDecision(decision);
  entry = AuditEntryFor(actor_, decision, std::move(entry));
  // Recorded when appended, not when the entry was prepared: a write that appends an inner
  // write's event first (the Provenance of a declared entry, an extraction) keeps the access
  // history's newest-first order true to time.
  entry.recorded = std::chrono::system_clock::now();
  entry.request_id = facts_.request_id;
  entry.network_address = facts_.client_address;
  bool first_access = false;
  if (patient_key) {
    entry.patient_key = *patient_key;
    auto record = Record(tx, *patient_key);
    if (record.ok()) {
      if (!(*record)->patient_id.empty())
        entry.patient_reference = "Patient/" + (*record)->patient_id;
      entry.patient_ins = (*record)->ins;
    }
    if (decision.allowed && decision.opens_emergency_window)
      CARNET_RETURN_IF_ERROR(RecordEmergencyAccess(tx, *patient_key, actor_, env_.now));
    if (decision.allowed && actor_.kind == ActorKind::kProfessional) {
      auto seen = HasAccessedBefore(tx, *patient_key, actor_.PrincipalId());
      if (!seen.ok()) return seen.status();
      first_access = !*seen;
    }
  }
  bool notify = patient_key && decision.allowed && (decision.emergency || first_access);
  if ((entry.action == 'R' || entry.action == 'E') && !notify &&
      !(decision.allowed && decision.opens_emergency_window)) {
    // A read or a search: its event joins the group commit when the transaction ends
    // (Transaction::DeferAudit), durable before RunInTransaction returns and so before the
    // answer leaves. Writes keep their events in their own transaction (one commit for both).
    tx.DeferAudit(AuditRecordOf(entry, NewUuid()));
    return Status::Ok();
  }
  auto appended = AppendAuditEvent(tx, entry);
  // No access without its record: the request fails whole (a retryable conflict is still
  // retried by the transaction runner, which looks at the connection, not at this status).
  if (!appended.ok())
    return Status(ErrorCode::kUnavailable,
                  "the access history cannot be written; nothing was done");
  if (notify) {
    CARNET_RETURN_IF_ERROR(EnqueueAccessNotification(
        tx, *patient_key, decision.emergency ? "emergency" : "access", entry, appended->event_id));
  }
  return Status::Ok();
}

Status AccessSession::Refuse(AuditEntry entry, const Decision& decision,
                             std::optional<long long> patient_key, const std::string& what) {
  NoteDecision(decision);
  if (entry.object_reference.empty()) entry.object_reference = what;
  bool seen = false;
  for (const auto& p : refusals_)
    if (p.entry.object_reference == entry.object_reference &&
        p.entry.subtype_code == entry.subtype_code && p.decision.reason == decision.reason)
      seen = true;
  if (!seen) refusals_.push_back({std::move(entry), decision, patient_key});
  return decision.ToStatus(what);
}

Status AccessSession::FlushRefusals(storage::Pool& pool) {
  if (refusals_.empty()) return Status::Ok();
  std::vector<Pending> pending = std::move(refusals_);
  refusals_.clear();
  Status st = storage::RunInTransaction(pool, [&](storage::Transaction& tx) -> Status {
    for (const auto& p : pending) {
      Decision d = p.decision;
      d.allowed = false;
      d.opens_emergency_window = false;
      CARNET_RETURN_IF_ERROR(Audit(tx, p.entry, d, p.patient_key));
    }
    return Status::Ok();
  });
  if (!st.ok())
    return Status(ErrorCode::kUnavailable, "the access history cannot be written: " + st.message());
  return Status::Ok();
}

}  // namespace carnet::profiles
