// The one door every request goes through: who is asking (Authenticate), and, for the rest
// of the request, a session that asks the policy decision point (profiles/policy.h) about
// records and resources and writes the access history (profiles/audit_event.h).
//
// FHIR and XDS.b both hold an AccessSession for the request they serve and call it on every
// read and write path: there is no second implementation of the rules anywhere. The session
// caches record contexts per transaction attempt (a retried transaction starts afresh:
// call BeginAttempt at the top of every transaction body).
#pragma once

#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/http.h"
#include "base/json.h"
#include "base/status.h"
#include "profiles/actor.h"
#include "profiles/audit_event.h"
#include "profiles/habilitation_matrix.h"
#include "profiles/jwt.h"
#include "profiles/policy.h"
#include "profiles/pseudonym.h"
#include "profiles/remote_jwks.h"
#include "storage/pool.h"
#include "storage/resource_store.h"
#include "storage/transaction.h"

namespace carnet::profiles {

struct AccessSettings {
  IdentitySettings identity;
  long long emergency_window_s = 3600;
  std::string habilitation_matrix_file;  // empty: the built-in matrix
  // Deposits of a document type no profession may read (PolicyEnv says why these defaults).
  DepositTypeRule unreadable_deposit = DepositTypeRule::kRefuse;
  DepositTypeRule unlisted_deposit = DepositTypeRule::kAccept;
  // Mutual TLS: which client certificate is which organisation. One line per certificate,
  // tab- or space-separated: the certificate (its subject CN, or sha256:HEX of the DER
  // certificate) then the organisation id (FINESS...). '#' starts a comment. Such callers are
  // deposit sources (ActorKind::kSystem, client id = the organisation).
  std::string client_organisations_file;
  // Keys fetched from the trusted issuers' JWKS URLs (profiles/remote_jwks.h), with the
  // fetcher that gets them; none when remote_jwks.urls is empty.
  RemoteJwksSettings remote_jwks;
  JwksFetcher jwks_fetcher;
};

// Built once at start; const and thread-safe afterwards.
class AccessControl {
 public:
  static Result<std::unique_ptr<AccessControl>> Load(const AccessSettings& settings);

  // The actor behind the request's `Authorization: Bearer` token. kUnauthorized (with the
  // reason, for the log and the audit, never for the caller) when the header is missing,
  // malformed, or the token does not verify. Without an Authorization header, a verified
  // client certificate (mutual TLS) of a configured organisation identifies a deposit source. A
  // professional's assertion of the patient's consent may also come as the request header
  // `X-Patient-Consent: true` (front ends that collect it at the bedside copy it there); it is
  // recorded in the audit.
  //
  // The request log line (base/log.h, CurrentRequestNotes) learns the outcome here, in one
  // place: the actor's kind and pseudonym (Pseudonym), or the refusal and its reason code
  // (token-expired, token-unknown-key...: profiles/reason_codes.def), which AuditFailedLogin
  // records too.
  Result<Actor> Authenticate(const HttpRequest& req) const;
  // The stable pseudonym of an actor id in the log line (profiles/pseudonym.h).
  std::string Pseudonym(std::string_view id) const { return pseudonyms_.Of(id); }
  // Records a refused authentication (`why`: Authenticate's status) in the access history, a
  // security alert without a patient (IHE BALP, DICOM 110114 / 110122 Login), on `channel`
  // ("fhir", "xds"). The refusal goes out whether or not its record could be written: the
  // returned status is for the log.
  Status AuditFailedLogin(storage::Pool& pool, const HttpRequest& req, const std::string& channel,
                          const Status& why) const;

  PolicyEnv Env() const;  // with the current time
  const HabilitationMatrix& matrix() const { return matrix_; }
  size_t key_count() const { return remote_ ? remote_->key_count() : verifier_.key_count(); }

 private:
  AccessControl(JwtVerifier verifier, HabilitationMatrix matrix, long long window,
                Pseudonymiser pseudonyms)
      : verifier_(std::move(verifier)),
        matrix_(std::move(matrix)),
        emergency_window_s_(window),
        pseudonyms_(std::move(pseudonyms)) {}
  Result<Actor> FromClientCertificate(const HttpRequest& req) const;
  Result<Actor> Credential(const HttpRequest& req, Reason* why) const;
  JwtVerifier verifier_;
  std::shared_ptr<RemoteJwks> remote_;  // when keys come from URLs: verifier_ and those
  std::map<std::string, std::string> organisations_;  // CN or sha256:HEX -> organisation
  HabilitationMatrix matrix_;
  long long emergency_window_s_;
  Pseudonymiser pseudonyms_;
  DepositTypeRule unreadable_deposit_ = DepositTypeRule::kRefuse;
  DepositTypeRule unlisted_deposit_ = DepositTypeRule::kAccept;
};

// The request facts the audit records beside the actor.
struct RequestFacts {
  std::string request_id;
  std::string client_address;
};

class AccessSession {
 public:
  AccessSession(const AccessControl& control, Actor actor, RequestFacts facts);

  const Actor& actor() const { return actor_; }
  const PolicyEnv& env() const { return env_; }
  const RequestFacts& facts() const { return facts_; }
  const AccessControl& control() const { return control_; }

  // Extraction mode: the resources carnet derives from a deposited document (level-3 CDA
  // entries, their Provenance) are written under the authority of that deposit, which was
  // decided already; reads of them are decided as any others. Scoped by ExtractionScope.
  bool extracting() const { return !extraction_document_.empty(); }
  const std::string& extraction_document() const { return extraction_document_; }
  class ExtractionScope {
   public:
    ExtractionScope(AccessSession& s, std::string document)
        : s_(s), previous_(s.extraction_document_) {
      s_.extraction_document_ = std::move(document);
    }
    ~ExtractionScope() { s_.extraction_document_ = previous_; }

   private:
    AccessSession& s_;
    std::string previous_;
  };

  // One audit event per deposit (issue 20): the resources carnet derives from a document
  // (extraction mode) are not audited one by one but listed, and the event of the write that
  // caused the extraction (the document's or its content's create, an ITI-41 Import) names
  // them all. While a DepositScope is open (an XDS submission), the deposit's own writes are
  // listed the same way. True: `reference` is listed, its writer appends no event of its own.
  bool ListInDepositEvent(const std::string& reference) {
    if (!extracting() && deposit_depth_ == 0) return false;
    deposit_list_.push_back(reference);
    return true;
  }
  // The references listed so far, handed over once to the event that names them.
  // Each reference once, in the order listed; `except` (the event's own object) left out.
  std::vector<std::string> TakeDepositList(const std::string& except = "") {
    std::vector<std::string> out;
    for (auto& ref : deposit_list_)
      if (ref != except && std::find(out.begin(), out.end(), ref) == out.end())
        out.push_back(std::move(ref));
    deposit_list_.clear();
    return out;
  }
  class DepositScope {
   public:
    explicit DepositScope(AccessSession& s) : s_(s) {
      if (s_.deposit_depth_++ == 0) s_.deposit_list_.clear();  // a new deposit, or a retry
    }
    ~DepositScope() { --s_.deposit_depth_; }
    DepositScope(const DepositScope&) = delete;
    DepositScope& operator=(const DepositScope&) = delete;

   private:
    AccessSession& s_;
  };

  // Forgets what the previous attempt of a transaction loaded.
  void BeginAttempt() {
    records_.clear();
    current_labels_.clear();
    deposit_list_.clear();
    warnings_.clear();
  }

  // Warnings of the write path for the caller (a deposit of a type no profession reads,
  // accepted by the setting deposit_unreadable_type = warn): each protocol's responder takes
  // them and answers them its way (an OperationOutcome issue of severity warning, a
  // RegistryError of severity Warning). `location`: the element they are about.
  struct Warning {
    std::string message;
    std::string location;
  };
  // Said once: a transaction retried after a serialisation failure says it again.
  void Warn(std::string message, std::string location) {
    for (const auto& w : warnings_)
      if (w.message == message && w.location == location) return;
    warnings_.push_back({std::move(message), std::move(location)});
  }
  std::vector<Warning> TakeWarnings() { return std::exchange(warnings_, {}); }
  bool HasWarnings() const { return !warnings_.empty(); }

  // The context of record `patient_key`, loaded once per attempt.
  Result<const RecordContext*> Record(storage::Transaction& tx, long long patient_key);
  // The current version of type/id (storage::ReadCurrent, unlocked), its record's context
  // read by the same statement and kept for the decision that follows.
  Result<std::optional<storage::StoredResource>> ReadCurrent(storage::Transaction& tx,
                                                             const std::string& type,
                                                             const std::string& id);
  // Tells the context of `patient_key`, when loaded, of the guardian party carnet has just
  // written there (dossier::EnsureGuardianParty), in place: contexts already handed out see it.
  void AddGuardianParty(long long patient_key, RecordContext::GuardianParty party) {
    if (auto it = records_.find(patient_key); it != records_.end())
      it->second.guardians.push_back(std::move(party));
  }

  // carnet's own writes of what only carnet writes (a guardian's RelatedPerson, whose
  // identifier kGuardianSystem no client may write), decided by the policy as the actor's
  // like any other. Scoped by CarnetWriteScope.
  bool carnet_writing() const { return carnet_writing_ > 0; }
  class CarnetWriteScope {
   public:
    explicit CarnetWriteScope(AccessSession& s) : s_(s) { ++s_.carnet_writing_; }
    ~CarnetWriteScope() { --s_.carnet_writing_; }
    CarnetWriteScope(const CarnetWriteScope&) = delete;
    CarnetWriteScope& operator=(const CarnetWriteScope&) = delete;

   private:
    AccessSession& s_;
  };

  // May the actor do `action` on `resource` (its JSON), stored in record `patient_key`
  // (nullopt: a shared resource)?
  Result<Decision> DecideResource(storage::Transaction& tx, std::optional<long long> patient_key,
                                  const JsonValue& resource, Action action);
  Result<Decision> DecideSummary(storage::Transaction& tx, std::optional<long long> patient_key,
                                 const ResourceSummary& summary, Action action);
  // A stored row (a deleted row is judged on the version before its deletion).
  Result<Decision> DecideStored(storage::Transaction& tx, const storage::StoredResource& stored,
                                Action action);
  // A version of a resource as the resource stands now: the visibility labels of its
  // current version (of the last version before its deletion) govern every older version,
  // so that masking a document hides its earlier versions too and unmasking shows them
  // again. The current version itself is decided as DecideStored does.
  Result<Decision> DecideVersion(storage::Transaction& tx, const storage::StoredResource& version,
                                 Action action);
  // Decisions on a record as a whole (search it, add to it, the patient's choices).
  Result<Decision> DecideRecord(storage::Transaction& tx, long long patient_key, Action action);

  // The filter of a search over `records` (the records the request names; empty: every
  // record the actor's identity covers, or, for deposit sources and operators, any record).
  // With no record at all in reach, the filter lets shared resources through only.
  Result<AccessFilter> SearchFilter(storage::Transaction& tx,
                                    const std::vector<long long>& records);

  // Appends the AuditEvent of an access or change to record `patient_key` (nullopt: none),
  // with the decision's outcome and reason, and records what the decision asks for (the
  // start of an emergency window). In the caller's transaction: for a change, the one that
  // changes; for a read, one that commits before the answer leaves.
  Status Audit(storage::Transaction& tx, AuditEntry entry, const Decision& decision,
               std::optional<long long> patient_key);

  // A refusal: remembered for the audit (written by FlushRefusals in a transaction of its
  // own, since the refused request's transaction rolls back) and turned into the Status the
  // front end answers with (`what` names the target as a missing one would be named).
  Status Refuse(AuditEntry entry, const Decision& decision, std::optional<long long> patient_key,
                const std::string& what);
  // Audit and Refuse are where the request log line learns the decision and its reason code
  // (a refusal wins over the permits of the same request).
  // Writes the refusals remembered so far (each once). Call before answering: kUnavailable
  // when the audit cannot be written.
  Status FlushRefusals(storage::Pool& pool);

 private:
  struct Pending {
    AuditEntry entry;
    Decision decision;
    std::optional<long long> patient_key;
  };
  std::vector<Pending> refusals_;
  const AccessControl& control_;
  Actor actor_;
  RequestFacts facts_;
  PolicyEnv env_;
  std::map<long long, RecordContext> records_;
  // What of a resource's current version governs its older versions (DecideVersion): null
  // where the current version has none.
  struct CurrentLabels {
    JsonValue security;          // meta.security
    JsonValue security_label;    // securityLabel
    JsonValue security_context;  // Binary.securityContext
  };
  std::map<std::string, CurrentLabels> current_labels_;  // by "Type/id
  std::string extraction_document_;
  int deposit_depth_ = 0;
  int carnet_writing_ = 0;
  std::vector<std::string> deposit_list_;
  std::vector<Warning> warnings_;
};

// A Decision for requests that concern no record and no resource (a failed
// authentication, an unknown target): refused with `code` and `reason`.
Decision Refusal(Reason code, std::string reason, ErrorCode refusal = ErrorCode::kNotFound);

}  // namespace carnet::profiles
