// The policy decision point: one place that answers "may this actor do this to this part of
// this record, and why", for every path (FHIR read/search/write, Binary, XDS.b query,
// retrieve and deposit).
//
// Pure functions: no SQL, no clock, no I/O. The caller loads what the decision needs (the
// RecordContext of the patient concerned, a ResourceSummary of the resource) and passes the
// current time. Reads are not filtered in C++ after the fact: for searches the decision
// becomes an AccessFilter that the readers AND into their SQL (storage/access_filter.h), so
// that counts, includes, chains, _has and stored queries see only what the actor may see.
//
// The rules (issue 5; /work/shared/spec/france.md "Who may see what" and "Patient-side
// rules"; /work/shared/spec/security.md hostile inputs 6 to 10):
//   - a denied resource is indistinguishable from a missing one: a refused read is
//     kNotFound; a refused write is kForbidden only when the actor may read the target (it
//     then knows it exists), else kNotFound;
//   - insurers, employers and the state (ActorKind::kDenied) get nothing;
//   - opposed record: no record (nothing, deposits refused) except for operators; closed
//     record: read-only archive for the patient and guardians, nothing for professionals;
//   - patient: everything in their record but documents labelled INVISIBLE_PATIENT; adds
//     documents and profile entries; changes visibility, blocks, treating physician; reads
//     their access history. Guardian: the same on the records of the minors they
//     represent, minus INVISIBLE_REPRESENTANTS_LEGAUX;
//   - professional: only what the habilitation matrix allows their profession (and
//     specialty) for the document type; never MASQUE_PS documents; nothing if blocked
//     (individually or through their organisation); only if they take care of the patient
//     (care team member, the treating physician always is one) or assert the patient's
//     explicit consent, or act in emergency mode with a reason, unless the patient opposed
//     it (read-only, non-masked, limited in time). The author of a document always sees it;
//     the treating physician cannot be blocked and sees masked documents;
//   - app: the intersection of its SMART scopes and what the patient authorised it for;
//     revoking the authorisation stops access at once;
//   - system (deposit source): creates documents in any active record, reads back only what
//     it deposited (meta.source = its client id);
//   - operator: creates, updates and closes records (Patient resources), no medical content.
//     The patient (a guardian, for their child) closes their own record too, and reopens it
//     (Action::kCloseRecord); they, and the operator, read the record's settings (blocks,
//     treating physician, preferences: Action::kReadRecordChoices).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/json.h"
#include "base/status.h"
#include "profiles/actor.h"
#include "profiles/habilitation_matrix.h"
#include "profiles/reason_codes.h"
#include "storage/access_filter.h"

namespace carnet::profiles {

// French visibility codes (TRE_A07, 1.2.250.1.213.1.1.4.13), carried as meta.security /
// confidentialityCode codes beside N/R/V.
inline constexpr std::string_view kMasquePs = "MASQUE_PS";
// carnet's own label (same code system): the patient shares this one document of a
// `shareable` matrix category (an administrative paper) with the professionals who may
// access the record. Set and removed by the patient like MASQUE_PS; masking wins.
inline constexpr std::string_view kPartagePs = "PARTAGE_PS";
inline constexpr std::string_view kInvisiblePatient = "INVISIBLE_PATIENT";
inline constexpr std::string_view kInvisibleRepresentants = "INVISIBLE_REPRESENTANTS_LEGAUX";

enum class RecordStatus { kActive, kOpposed, kClosed };
// "active", "opposed", "closed" as in patient.status; anything else is kOpposed (fails closed).
RecordStatus ParseRecordStatus(std::string_view status);

// An app the patient authorised (an active Consent resource naming its client id); the
// scopes are what the patient agreed to. A revoked authorisation is simply absent (or
// active = false).
struct AuthorisedApp {
  std::string client_id;
  std::vector<SmartScope> scopes;
  bool active = true;
  // The kinds of measurement (profiles/data/measurement_kinds.tsv) the patient lets it
  // write; nullopt: every kind its scopes allow.
  std::optional<std::vector<std::string>> measurement_kinds;
};

// What the decision needs to know about one patient's record. Loaded by the caller, in the
// transaction that serves the request.
struct RecordContext {
  long long patient_key = 0;
  std::string patient_id;  // logical id of the Patient resource
  std::string ins;         // national identity (INS)
  RecordStatus status = RecordStatus::kActive;
  std::string treating_physician;  // national id (RPPS) of the declared treating physician
  std::vector<std::string> blocked_professionals;  // national ids
  std::vector<std::string> blocked_organisations;  // organisation ids
  std::vector<std::string> care_team;              // national ids of CareTeam members
  bool emergency_opposed = false;
  std::vector<AuthorisedApp> authorised_apps;
  // When this professional's emergency access to this record began (seconds since the
  // epoch), if it did: the window runs from there. nullopt: an emergency access would open
  // a new window (Decision::opens_emergency_window tells the caller to record it). Once
  // the window is over, only a token issued after its end (a new assertion, with its
  // reason) opens another one.
  std::optional<long long> emergency_started_at;
  // Secure messaging: the national ids of the professionals who sent a message (a
  // Communication) filed in this record; the patient may answer them. Loaded for the
  // patient side only.
  std::vector<std::string> message_correspondents;
  // Secure messaging (issue 17): the guardians' own parties in this record, the RelatedPersons
  // carnet keeps for them (patient = the child, relationship GUARD, identifier
  // kGuardianSystem = the guardian's token subject). A professional of the care team may
  // address them; each guardian reads the messages of their own.
  struct GuardianParty {
    std::string id;       // RelatedPerson id
    std::string subject;  // the guardian's `sub`
  };
  std::vector<GuardianParty> guardians;
};

// What the decision needs to know about one resource.
struct ResourceSummary {
  std::string type;  // "DocumentReference"
  std::string id;
  // Document type (LOINC or DMP local code) for DocumentReference, Composition and XDS
  // DocumentEntries; empty for other resources.
  std::string document_type;
  std::vector<std::string> security;     // meta.security / confidentialityCode codes
  std::vector<std::string> author_ids;   // national ids (or subjects) of the authors
  std::string source;                    // meta.source: who deposited it (system actors)
  std::vector<std::string> loinc_codes;  // an Observation's code: its LOINC codes
  // A shared resource (patient_key NULL: Practitioner, Organization...).
  bool shared = false;
  // A secure message (Communication): its sender and its recipients, each as the
  // identifier values of the reference (a professional's national id, a patient's INS) and
  // the literal reference ("Patient/p1"). Only its parties read a message.
  std::vector<std::string> message_sender;
  std::vector<std::vector<std::string>> message_recipients;  // one list per recipient
  // Its category, code and status codes, for query-restricted SMART scopes.
  std::vector<ScopeToken> tokens;
};

// What is asked. The patient-choice actions are separate from plain writes so that the
// front ends can ask precisely (masking a document is not rewriting it).
enum class Action {
  kRead,                      // read, vread, history of one resource, XDS retrieve
  kSearch,                    // search, XDS stored query (the filter decides the rows)
  kCreate,                    // create, XDS deposit
  kUpdate,                    // update, patch, XDS metadata update
  kDelete,                    // delete, XDS removal
  kChangeVisibility,          // mask / unmask a document (MASQUE_PS...), patient side
  kManageBlocks,              // block / unblock a professional or an organisation
  kDeclareTreatingPhysician,  // declare or change the treating physician
  kReadAccessHistory,         // AuditEvent?patient=...
  kManageRecord,              // operator: create, update, close a record and its identifiers
  kMarkRead,                  // a recipient records that they read a message (received)
  kCloseRecord,               // close the record, or reopen a closed one: the patient, a
                              // guardian (their child's) or an operator
  kReadRecordChoices,         // read the record's settings ($record-settings): the patient,
                              // a guardian or an operator
};
std::string_view ActionName(Action action);

// What a deposit of a document type no profession may read becomes (settings
// deposit_unreadable_type and deposit_unlisted_type): refused with the type named, accepted
// with a warning the protocols carry back, or accepted silently.
enum class DepositTypeRule { kRefuse, kWarn, kAccept };
std::string_view DepositTypeRuleName(DepositTypeRule rule);
// "refuse", "warn", "accept"; kBadRequest for anything else.
Result<DepositTypeRule> ParseDepositTypeRule(std::string_view text);

// The environment of a decision: the matrix in force, the time, the emergency window.
struct PolicyEnv {
  const HabilitationMatrix* matrix = &HabilitationMatrix::Builtin();
  long long now = 0;  // seconds since the epoch
  long long emergency_window_s = 3600;
  // A document type the matrix lists but opens to no profession (nor to the patient's
  // sharing): the matrix says on purpose that nobody reads it, so a deposit of it by default
  // is refused rather than filed where only the patient and its author will ever see it.
  DepositTypeRule unreadable_deposit = DepositTypeRule::kRefuse;
  // A document type the matrix does not list. The matrix's own rule makes it unreadable too
  // ("a document type that is not listed gets nothing"), but the built-in matrix is a set of
  // examples: the IHE sample type (34108-1) and the codes of the NIST XDS test kit are not in
  // it, and refusing them by default would refuse every conformance deposit. So by default
  // accepted; an operator with the official matrix sets it to warn or refuse.
  DepositTypeRule unlisted_deposit = DepositTypeRule::kAccept;
};

// The deposit check of a document of type `type_code` (`system`: the coding's system, named
// in the message), below every protocol: Ok when some profession may read the type (or the
// rule for its case is accept); kBusinessRule naming the type when the rule refuses it; Ok
// with `*warning` set when the rule warns.
Status DecideDepositType(const PolicyEnv& env, const std::string& type_code,
                         const std::string& system, std::string* warning);

struct Decision {
  bool allowed = false;
  // When refused: kNotFound (the actor may not know the target exists) or kForbidden
  // (it may read the target but not do this). kOk when allowed.
  ErrorCode refusal = ErrorCode::kOk;
  // Why, as a code of the fixed vocabulary (reason_codes.def), for the request log line, the
  // audit and the support view; never shown to the caller.
  Reason code = Reason::kRefused;
  // Why, in words, for the audit (outcomeDesc) and the logs; never shown to the caller...
  std::string reason;
  // ...unless the rules let the caller know the record's state: a deposit source is told that
  // a record is closed (kForbidden) or that there is none because the patient opposed it
  // (kUnknownPatient), and each protocol renders `shown` with `refusal` from the error table.
  std::string shown;
  // Granted only through emergency mode: audit as emergency, notify the patient.
  bool emergency = false;
  // Granted only because the professional asserted the patient's consent: audit it.
  bool consent = false;
  // Emergency access with no window open yet: the caller records its start (now).
  bool opens_emergency_window = false;

  // OK when allowed; else the Status the front end answers with. `what` names the target
  // ("DocumentReference/123") in the message exactly as a missing target would.
  Status ToStatus(const std::string& what) const;
};

// The record(s) an actor's own identity points at: a patient's INS, a guardian's minors,
// an app's launch patient (INS or Patient id). Empty for the other kinds.
std::vector<std::string> ActorRecordIns(const Actor& actor);
// Whether `record` is the actor's own (patient), a represented minor's (guardian) or the
// app's launch patient.
bool ActorCoversRecord(const Actor& actor, const RecordContext& record);

// May `actor` do `action` on `resource` of `record`?
Decision Decide(const Actor& actor, const RecordContext& record, const ResourceSummary& resource,
                Action action, const PolicyEnv& env);

// Decisions that concern the record itself rather than one resource in it: kSearch (may
// the actor search this record at all), kCreate (may it add anything), the patient-choice
// actions, kReadAccessHistory, kManageRecord. For kCreate of a given type, prefer Decide
// with a ResourceSummary of the new resource (document type included).
Decision DecideOnRecord(const Actor& actor, const RecordContext& record, Action action,
                        const PolicyEnv& env);

// A new record (the first version of a Patient resource): the operator's act, or that of
// a deposit source whose scopes name Patient creation (a hospital's identity feed, the
// IHE Patient Identity Source).
Decision DecideNewRecord(const Actor& actor);

// Whether the actor may write `type` at all, with one of the SMART `permissions` letters
// ("c", "cu", "d"...), decided from the token alone before any lookup: a party that writes
// nothing (insurer, employer) or an app whose scopes grant no such write is refused
// (kForbidden) without learning whether the target exists.
Decision DecideWriteIntent(const Actor& actor, std::string_view type, std::string_view permissions);

// A change of a document's visibility codes from `before` to `after` (meta.security codes),
// once the actor was found able to change its visibility at all (Action::kChangeVisibility):
// the patient side moves MASQUE_PS, and PARTAGE_PS on a document the matrix lets the
// patient share (`shareable`: HabilitationMatrix::IsPatientShareable of its type); the
// invisibility codes (INVISIBLE_PATIENT, INVISIBLE_REPRESENTANTS_LEGAUX) are the author's,
// set at deposit. kForbidden otherwise.
Decision DecideLabelChange(const std::vector<std::string>& before,
                           const std::vector<std::string>& after, bool shareable = false);

// Whether the actor may create a resource with an id of its own choosing (update as
// create). Ids name resources across every record, so a PUT to an unused id and to an id
// the actor may not see must answer alike: only the actors who create records (operators,
// identity feeds) choose ids; the others create with POST and the server's ids.
bool MayAssignIds(const Actor& actor);

// The support view ($access-decisions): the decisions and reasons the access history
// recorded, without documents or medical content. Support staff (ActorKind::kSupport) and
// operators read it; everyone else is refused (kForbidden: the operation is public).
Decision DecideSupportView(const Actor& actor);

// Shared resources (Practitioner, Organization, ValueSet...): readable by every actor but
// kDenied ones, writable by operators (and deposit sources, which register authors).
Decision DecideShared(const Actor& actor, const ResourceSummary& resource, Action action);

// A block request: the patient may block any professional or organisation but the
// treating physician (kConflict with a clear message).
Status CheckBlockRequest(const RecordContext& record, std::string_view kind,
                         std::string_view actor_id);

// The search filter (storage/access_filter.h): what every reader ANDs into its SQL, FHIR
// search and the XDS stored queries alike. FilterFor fills it for one record.
using AccessFilter = storage::AccessFilter;

// The resource type of a secure message, filed in the patient's record, read by its parties
// only (sender and recipients), never opened by an emergency access.
inline constexpr std::string_view kMessageType = "Communication";
// The party ids (AccessFilter::message_parties) that stand for the actor in the messages of
// `record`: a professional's national id; the patient's (and a guardian's, acting for the
// child) Patient reference and INS; a deposit source's client id.
std::vector<std::string> MessagePartyIds(const Actor& actor, const RecordContext& record);

// The identifier system of the RelatedPerson that stands for a guardian in a child's record
// (its value: the guardian's token subject). Written by carnet only: a client's write of a
// RelatedPerson bearing it is refused (dossier/dossier.cc), so that nobody takes another's
// place in the messages.
inline constexpr const char* kGuardianSystem =
    "https://carnet.example.org/fhir/NamingSystem/guardian-subject";
// The guardian's own party in `record` ("RelatedPerson/[id]"), "" when the actor is no
// guardian or carnet keeps no RelatedPerson for them there yet.
std::string GuardianPartyOf(const Actor& actor, const RecordContext& record);

// The types no search returns, whoever asks: Binary, whose content is read by id through the
// decision on the document that points at it (AccessFilter::excluded_types of every filter).
const std::vector<std::string>& NeverSearchedTypes();

// The decision a search filter stands for, for the search's audit events.
Decision SearchDecision(const AccessFilter& filter);

// The filter for searching `record` (and, for a search with no patient, call it once per
// record the actor covers and combine with MergeFilters).
AccessFilter FilterFor(const Actor& actor, const RecordContext& record, const PolicyEnv& env);
// One filter over several records (a guardian's children): the union of the records.
// kBadRequest when the filters differ in anything but the records (the caller then asks
// for one patient at a time).
Result<AccessFilter> MergeFilters(const std::vector<AccessFilter>& filters);

// A ResourceSummary of a FHIR resource: type, id, meta.security codes, meta.source, the
// document type (DocumentReference.type / Composition.type: LOINC coding first, else the
// first coding) and the authors' identifiers (Reference.identifier.value of `author`, and
// of contained Practitioner / PractitionerRole resources it points at).
ResourceSummary SummariseResource(const JsonValue& resource);

// Appends the `value` of each Identifier in `identifiers` (one object or an array) to *out,
// once each.
void CollectIdentifierValues(const JsonValue* identifiers, std::vector<std::string>& out);

}  // namespace carnet::profiles
