#include "profiles/policy.h"

#include <algorithm>
#include <set>

#include "profiles/measurement_kinds.h"
#include "profiles/shared_content.h"

namespace carnet::profiles {
namespace {

bool Contains(const std::vector<std::string>& v, std::string_view s) {
  return !s.empty() && std::find(v.begin(), v.end(), s) != v.end();
}

Decision Allow(Reason code, std::string reason) {
  Decision d;
  d.allowed = true;
  d.code = code;
  d.reason = std::move(reason);
  return d;
}
// Refused as if the target did not exist.
Decision Hide(Reason code, std::string reason) {
  Decision d;
  d.refusal = ErrorCode::kNotFound;
  d.code = code;
  d.reason = std::move(reason);
  return d;
}
// Refused, the actor knowing the target exists.
Decision Forbid(Reason code, std::string reason) {
  Decision d;
  d.refusal = ErrorCode::kForbidden;
  d.code = code;
  d.reason = std::move(reason);
  return d;
}

bool IsDocument(const ResourceSummary& r) {
  return !r.document_type.empty() || r.type == "DocumentReference" || r.type == "Composition";
}

bool HasLabel(const ResourceSummary& r, std::string_view label) {
  return std::find(r.security.begin(), r.security.end(), label) != r.security.end();
}

// What a deposit source may create when its token carries no resource scope: the pieces of
// a document deposit (metadata, content, submission set).
const std::vector<std::string>& DepositTypes() {
  static const std::vector<std::string> kTypes = {"Binary", "Composition", "DocumentReference",
                                                  "List"};
  return kTypes;
}

char Permission(Action a) {
  switch (a) {
    case Action::kRead:
      return 'r';
    case Action::kSearch:
      return 's';
    case Action::kCreate:
      return 'c';
    case Action::kUpdate:
      return 'u';
    case Action::kDelete:
      return 'd';
    default:
      return '\0';
  }
}

// The actor deposited or authored this resource: the author always sees their document, a
// deposit source reads back (and may replace or remove) what it wrote.
bool DepositedOrAuthoredBy(const Actor& actor, const ResourceSummary& r) {
  std::string me = actor.PrincipalId();
  if (me.empty()) return false;
  return Contains(r.author_ids, me) || r.source == me;
}

// Labels that hide a document from the patient side. A guardian does not see what is
// hidden from the patient either: the representatives act in the patient's name.
std::vector<std::string> HiddenLabels(const Actor& actor) {
  std::vector<std::string> labels = {std::string(kInvisiblePatient)};
  if (actor.kind == ActorKind::kGuardian) labels.emplace_back(kInvisibleRepresentants);
  return labels;
}

// An app's effective scopes: patient/ and user/ scopes (the user being the patient who
// launched it); system/ scopes mean nothing for an app acting for one patient.
std::vector<SmartScope> AppScopes(const std::vector<SmartScope>& scopes) {
  std::vector<SmartScope> out;
  for (const auto& s : scopes)
    if (s.context != ScopeContext::kSystem) out.push_back(s);
  return out;
}

storage::AccessFilter::TokenCondition ToCondition(const ScopeCondition& c) {
  return {c.param, c.any_system, c.system, c.code};
}

// What one side's scopes (the token's, or the patient's authorisation) let a search see of
// the rows of `key` (a type, or "*" for all): nullopt when a scope grants them all.
std::optional<AccessFilter::TypeRestriction> ScopeRestriction(const std::vector<SmartScope>& side,
                                                              const std::string& key) {
  AccessFilter::TypeRestriction r;
  r.type = key;
  for (const auto& s : side) {
    if (!s.search) continue;
    bool general = s.resource_type == "*";
    if (!general && key != "*" && s.resource_type != key) continue;
    if (general && s.restriction.empty()) return std::nullopt;
    if (!general && key != "*" && s.restriction.empty()) return std::nullopt;
    AccessFilter::Alternative a;
    if (!general && key == "*") a.type = s.resource_type;
    for (const auto& c : s.restriction) a.conditions.push_back(ToCondition(c));
    r.alternatives.push_back(std::move(a));
  }
  return r;
}

const AuthorisedApp* FindAuthorisedApp(const Actor& actor, const RecordContext& record) {
  for (const auto& app : record.authorised_apps)
    if (app.active && !actor.client_id.empty() && app.client_id == actor.client_id) return &app;
  return nullptr;
}

// Whether the actor may see anything at all of this record, and on what ground: the part of
// every decision that does not depend on the resource.
struct Gate {
  Decision decision;
  bool treating_physician = false;
  bool read_only = false;  // closed record (patient side), emergency access
  // Refused for want of a care relationship only: the professional still sees the documents
  // they authored (the author always sees their document), nothing else.
  bool author_only = false;
};

// `action`: a deposit source that creates (Action::kCreate) is told the record's state.
Gate RecordGate(const Actor& actor, const RecordContext& record, const PolicyEnv& env,
                Action action = Action::kRead) {
  Gate g;
  bool depositing = actor.kind == ActorKind::kSystem && action == Action::kCreate;
  if (actor.kind == ActorKind::kDenied) {
    g.decision = Hide(Reason::kDeniedParty,
                      "denied party (" +
                          (actor.denied_role.empty() ? std::string("insurer, employer or state")
                                                     : actor.denied_role) +
                          "): no access whatever the token says");
    return g;
  }
  if (actor.kind == ActorKind::kOperator) {
    g.decision = Allow(Reason::kOperator, "operator: record management, no medical content");
    return g;
  }
  if (record.status == RecordStatus::kOpposed) {
    g.decision = Hide(Reason::kOpposed, "the patient opposed the record: there is no record");
    // A deposit source learns that its deposit has no record to go to (XDSUnknownPatientId).
    if (depositing) {
      g.decision.refusal = ErrorCode::kUnknownPatient;
      g.decision.shown =
          "Patient/" + record.patient_id + " has no record here (the patient opposed it)";
    }
    return g;
  }
  switch (actor.kind) {
    case ActorKind::kPatient:
    case ActorKind::kGuardian:
    case ActorKind::kApp: {
      if (!ActorCoversRecord(actor, record)) {
        g.decision = Hide(Reason::kNotOwnRecord, actor.kind == ActorKind::kGuardian
                                                     ? "not the record of a represented minor"
                                                 : actor.kind == ActorKind::kApp
                                                     ? "not the app's launch patient"
                                                     : "not the patient's own record");
        return g;
      }
      if (actor.kind == ActorKind::kApp && !FindAuthorisedApp(actor, record)) {
        g.decision =
            Hide(Reason::kNoConsent,
                 "app " + actor.client_id + " is not authorised by the patient (or was revoked)");
        return g;
      }
      g.read_only = record.status == RecordStatus::kClosed;
      g.decision = Allow(actor.kind == ActorKind::kPatient    ? Reason::kOwnRecord
                         : actor.kind == ActorKind::kGuardian ? Reason::kRepresentedMinor
                                                              : Reason::kAppAuthorised,
                         actor.kind == ActorKind::kPatient    ? "patient's own record"
                         : actor.kind == ActorKind::kGuardian ? "record of a represented minor"
                                                              : "app authorised by the patient");
      if (g.read_only) g.decision.reason += " (closed: read-only archive)";
      return g;
    }
    case ActorKind::kSystem:
      if (record.status == RecordStatus::kClosed) {
        g.decision = Hide(Reason::kClosedRecord, "closed record: deposits refused");
        // A deposit source may know the state of a record it deposits to.
        if (depositing) {
          g.decision.refusal = ErrorCode::kForbidden;
          g.decision.shown =
              "the record of Patient/" + record.patient_id + " is closed: it takes no new content";
        }
        return g;
      }
      g.decision = Allow(Reason::kDepositSource, "deposit source");
      return g;
    case ActorKind::kProfessional:
      break;
    default:
      g.decision = Hide(Reason::kActorKind, "unknown actor kind");
      return g;
  }

  // Professionals.
  if (record.status == RecordStatus::kClosed) {
    g.decision = Hide(Reason::kClosedRecord, "closed record: no professional access");
    return g;
  }
  g.treating_physician =
      !record.treating_physician.empty() && record.treating_physician == actor.national_id;
  // The treating physician cannot be blocked: a block that predates the declaration is
  // without effect.
  if (!g.treating_physician) {
    if (Contains(record.blocked_professionals, actor.national_id)) {
      g.decision = Hide(Reason::kBlocked, "professional blocked by the patient");
      return g;
    }
    if (Contains(record.blocked_organisations, actor.organisation)) {
      g.decision = Hide(Reason::kOrganisationBlocked,
                        "organisation " + actor.organisation + " blocked by the patient");
      return g;
    }
  }
  if (!env.matrix || !env.matrix->KnowsProfession(actor.profession)) {
    g.decision = Hide(Reason::kMatrix, "profession '" + actor.profession +
                                           "' has no right in the habilitation matrix");
    return g;
  }
  if (g.treating_physician) {
    g.decision = Allow(Reason::kTreatingPhysician, "treating physician");
    return g;
  }
  if (Contains(record.care_team, actor.national_id)) {
    g.decision = Allow(Reason::kCareTeam, "member of the patient's care team");
    return g;
  }
  if (actor.consent_asserted) {
    g.decision =
        Allow(Reason::kConsent, "outside the care team, patient's explicit consent asserted");
    g.decision.consent = true;
    return g;
  }
  if (actor.emergency) {
    g.author_only = true;
    if (actor.emergency_reason.empty()) {
      g.decision = Hide(Reason::kEmergencyNoReason, "emergency access without a reason refused");
      return g;
    }
    if (record.emergency_opposed) {
      g.decision = Hide(Reason::kEmergencyOpposed, "the patient opposed emergency access");
      return g;
    }
    bool reopens = false;
    if (record.emergency_started_at &&
        env.now >= *record.emergency_started_at + env.emergency_window_s) {
      // The window is over. Only a new assertion (a token issued after the window closed,
      // with its own reason) opens another one; the old token no longer serves.
      if (actor.issued_at < *record.emergency_started_at + env.emergency_window_s) {
        g.decision = Hide(Reason::kEmergencyExpired, "emergency access window expired");
        return g;
      }
      reopens = true;
    }
    g.author_only = false;
    g.decision = Allow(Reason::kEmergency, "emergency access: " + actor.emergency_reason);
    g.decision.emergency = true;
    g.decision.opens_emergency_window = !record.emergency_started_at.has_value() || reopens;
    g.read_only = true;
    return g;
  }
  g.decision =
      Hide(Reason::kNotInCareTeam, "not in the patient's care team and no consent asserted");
  g.author_only = true;
  return g;
}

Decision WithFlags(Decision d, const Decision& gate) {
  d.emergency = gate.emergency;
  d.consent = gate.consent;
  d.opens_emergency_window = gate.opens_emergency_window;
  return d;
}

Decision DecideAccessHistory(const Actor& actor, const RecordContext& record, Action action,
                             const PolicyEnv& env) {
  if (action != Action::kRead && action != Action::kSearch && action != Action::kReadAccessHistory)
    return Forbid(Reason::kActorKind, "the access history is append-only: written by carnet alone");
  if (actor.kind != ActorKind::kPatient && actor.kind != ActorKind::kGuardian)
    return Hide(Reason::kActorKind,
                std::string(ActorKindName(actor.kind)) + " may not read the access history");
  Gate g = RecordGate(actor, record, env);
  if (!g.decision.allowed) return g.decision;
  return Allow(g.decision.code, g.decision.reason + ": access history");
}

// Professionals, once the record gate let them in.
Decision DecideProfessional(const Actor& actor, const Gate& g, const ResourceSummary& r,
                            Action action, const PolicyEnv& env) {
  bool own = DepositedOrAuthoredBy(actor, r);
  const HabilitationMatrix& m = *env.matrix;
  // What the matrix judges: a document by its type code; a clinical resource of a type the
  // matrix files in a category (`resource` rows: a MedicationDispense is a dispensation) by
  // its resource type; anything else is record content any reading profession reads.
  std::string governed = IsDocument(r)                   ? r.document_type
                         : m.GovernsResourceType(r.type) ? r.type
                                                         : std::string();
  // Visibility first: what the professional may read.
  bool visible;
  std::string why;
  Reason why_code = Reason::kMatrix;  // when not visible
  if (HasLabel(r, kMasquePs) && !own && !g.treating_physician) {
    visible = false;
    why = "document masked from professionals (MASQUE_PS)";
    why_code = Reason::kMasked;
  } else if (own) {
    visible = true;
    why = "author of the document";
  } else if (IsDocument(r) && HasLabel(r, kPartagePs) && m.IsPatientShareable(governed)) {
    visible = !m.ReadableTypes(actor.profession, actor.specialty).empty();
    why = visible ? "administrative paper the patient shares (PARTAGE_PS)"
                  : "profession reads nothing";
  } else if (!governed.empty()) {
    visible = m.MayRead(actor.profession, actor.specialty, governed);
    why = visible ? "habilitation matrix allows " + actor.profession + " to read " + governed
                  : "habilitation matrix does not allow " + actor.profession + " to read '" +
                        governed + "'";
  } else {
    visible = !m.ReadableTypes(actor.profession, actor.specialty).empty();
    why = visible ? "record content readable by the profession" : "profession reads nothing";
  }
  if (action == Action::kRead || action == Action::kSearch) {
    if (!visible) return Hide(why_code, why);
    return WithFlags(Allow(g.decision.code, g.decision.reason + "; " + why), g.decision);
  }
  // Writes.
  auto refuse = [&](Reason code, std::string reason) {
    return visible ? Forbid(code, reason) : Hide(code, reason);
  };
  if (g.read_only) return refuse(Reason::kReadOnly, "emergency access is read-only");
  const std::string& what = governed.empty() ? r.type : governed;
  switch (action) {
    case Action::kCreate: {
      bool may = !governed.empty() ? m.MayWrite(actor.profession, actor.specialty, governed)
                                   : m.MayWriteAnything(actor.profession, actor.specialty);
      if (!may)
        return refuse(Reason::kMatrix, "habilitation matrix does not allow " + actor.profession +
                                           " to write '" + what + "'");
      return WithFlags(Allow(g.decision.code, g.decision.reason + "; may write " + what),
                       g.decision);
    }
    case Action::kUpdate:
    case Action::kDelete:
      if (!visible) return Hide(why_code, why);
      if (!own) return Forbid(Reason::kNotAuthor, "a professional changes only what they authored");
      if (!governed.empty() && action == Action::kUpdate &&
          !m.MayWrite(actor.profession, actor.specialty, governed))
        return Forbid(Reason::kMatrix, "habilitation matrix does not allow " + actor.profession +
                                           " to write '" + governed + "'");
      return WithFlags(Allow(g.decision.code, g.decision.reason + "; author of the resource"),
                       g.decision);
    default:
      return refuse(Reason::kPatientsChoice,
                    std::string(ActionName(action)) + " is the patient's choice");
  }
}

// Patients, guardians and apps, once the record gate let them in.
Decision DecidePatientSide(const Actor& actor, const Gate& g, const RecordContext& record,
                           const ResourceSummary& r, Action action) {
  bool visible = true;
  std::string why;
  Reason why_code = Reason::kInvisible;  // when not visible
  for (const auto& label : HiddenLabels(actor))
    if (HasLabel(r, label)) {
      visible = false;
      why = "document hidden from " + std::string(ActorKindName(actor.kind)) + " (" + label + ")";
    }
  if (actor.kind == ActorKind::kApp) {
    char p = Permission(action);
    const AuthorisedApp* app = FindAuthorisedApp(actor, record);
    std::vector<SmartScope> scopes = AppScopes(actor.scopes);
    // Both the token's scopes and the patient's authorisation must grant it, restrictions
    // (?category=...) checked on the resource itself.
    auto allow = [&](const std::vector<SmartScope>& sc, char perm) {
      return ScopesAllowResource(sc, r.type, perm, r.tokens);
    };
    bool may_read = allow(scopes, 'r') && app && allow(app->scopes, 'r');
    if (!may_read) {
      visible = false;
      why = "app scopes do not cover reading " + r.type;
      why_code = Reason::kScope;
    }
    if (p == '\0')
      return visible ? Forbid(Reason::kPatientsChoice, "apps do not make the patient's choices")
                     : Hide(why_code, why);
    bool granted = allow(scopes, p) && app && allow(app->scopes, p);
    if (action == Action::kRead || action == Action::kSearch) {
      if (!visible || !granted)
        return Hide(visible ? Reason::kScope : why_code,
                    visible ? "app scopes do not cover this" : why);
      return Allow(g.decision.code,
                   g.decision.reason + "; scopes allow " + std::string(1, p) + " on " + r.type);
    }
    if (g.read_only)
      return visible ? Forbid(Reason::kClosedRecord, "closed record: read-only archive")
                     : Hide(why_code, why);
    if (action != Action::kCreate && !visible) return Hide(why_code, why);
    if (!granted)
      return visible || action == Action::kCreate
                 ? Forbid(Reason::kScope,
                          "app scopes (or the patient's authorisation) do not allow " +
                              std::string(1, p) + " on " + r.type)
                 : Hide(why_code, why);
    // The patient chose which kinds of measurement this app writes.
    if (r.type == "Observation" && app->measurement_kinds &&
        (action == Action::kCreate || action == Action::kUpdate)) {
      std::string kind = MeasurementKinds::Builtin().KindOfCodes(r.loinc_codes);
      if (!Contains(*app->measurement_kinds, kind)) {
        // The app is authorised on this record: it may learn which kind it lacks.
        Decision d = Forbid(Reason::kScope,
                            kind.empty() ? "the patient lets app " + actor.client_id +
                                               " write only some kinds of measurement, and this "
                                               "Observation's code is of none of them"
                                         : "the patient has not let app " + actor.client_id +
                                               " write " + kind + " measurements");
        d.shown = d.reason;
        return d;
      }
    }
    return Allow(g.decision.code,
                 g.decision.reason + "; scopes allow " + std::string(1, p) + " on " + r.type);
  }
  if (action == Action::kRead || action == Action::kSearch) {
    if (!visible) return Hide(why_code, why);
    return Allow(g.decision.code, g.decision.reason);
  }
  if (action != Action::kCreate && !visible) return Hide(why_code, why);
  if (g.read_only) return Forbid(Reason::kClosedRecord, "closed record: read-only archive");
  switch (action) {
    case Action::kCreate:
      return Allow(g.decision.code, g.decision.reason + "; adds to the record");
    case Action::kUpdate:
    case Action::kDelete:
      if (r.type == "Patient")
        return Forbid(Reason::kActorKind, "the record's identity is managed by the operator");
      if (!DepositedOrAuthoredBy(actor, r))
        return Forbid(Reason::kNotAuthor,
                      "the patient changes only what they added (visibility aside)");
      return Allow(Reason::kAuthor, g.decision.reason + "; added by the patient");
    case Action::kChangeVisibility:
      // Every entry of the record has one (a document, and each entry of the health profile:
      // a Condition, an allergy, a measurement...), but the record's identity itself.
      if (r.type == "Patient")
        return Forbid(Reason::kRefused, "the Patient is the record itself: it has no visibility");
      return Allow(Reason::kPatientChoice, g.decision.reason + "; patient's choice of visibility");
    default:
      return Forbid(Reason::kRefused,
                    std::string(ActionName(action)) + " does not apply to one resource");
  }
}

bool NamesAny(const std::vector<std::string>& names, const std::vector<std::string>& ids) {
  for (const auto& id : ids)
    if (Contains(names, id)) return true;
  return false;
}

// Secure messages (Communication): their parties only; written by a professional to a
// patient they take care of, by the patient (or a guardian, for a child) to the
// professionals of the care team and those who wrote to them, by a deposit source as the
// copy of a deposit to the patient; never opened by an emergency access.
Decision DecideMessage(const Actor& actor, const RecordContext& record, const ResourceSummary& r,
                       Action action, const PolicyEnv& env) {
  // A party that may see the record is told why a message is refused (it knows the record).
  auto Tell = [](std::string reason) {
    Decision d = Forbid(Reason::kRefused, reason);
    d.shown = std::move(reason);
    return d;
  };
  Gate g = RecordGate(actor, record, env, action);
  if (!g.decision.allowed) return g.decision;
  if (g.decision.emergency)
    return Hide(Reason::kReadOnly, "emergency access does not open the mailbox");
  if (actor.kind == ActorKind::kOperator)
    return Hide(Reason::kNoMedicalContent, "operators read no medical content");
  if (actor.kind == ActorKind::kApp) {
    // An app acts for the patient, as far as both its token's scopes and the patient's
    // authorisation grant it on Communication (patient/Communication.rs to read, .c to
    // send; $mark-read is an update, .u): the same letters as on any other type.
    char p = action == Action::kMarkRead ? 'u' : Permission(action);
    const AuthorisedApp* app = FindAuthorisedApp(actor, record);
    std::vector<SmartScope> scopes = AppScopes(actor.scopes);
    auto granted = [&](char perm) {
      return perm != '\0' && ScopesAllowResource(scopes, r.type, perm, r.tokens) && app &&
             ScopesAllowResource(app->scopes, r.type, perm, r.tokens);
    };
    if (action == Action::kRead || action == Action::kSearch) {
      if (!granted(p))
        return Hide(Reason::kScope, "app scopes do not cover reading the patient's messages");
    } else if (!granted(p)) {
      return granted('r') || action == Action::kCreate
                 ? Forbid(Reason::kScope,
                          "app scopes (or the patient's authorisation) do not allow " +
                              std::string(1, p == '\0' ? '?' : p) + " on " + r.type)
                 : Hide(Reason::kScope, "app scopes do not cover the patient's messages");
    }
  }
  std::vector<std::string> me = MessagePartyIds(actor, record);
  bool sender = NamesAny(r.message_sender, me);
  bool party = sender;
  for (const auto& recipient : r.message_recipients) party = party || NamesAny(recipient, me);
  if (action == Action::kRead || action == Action::kSearch) {
    if (!party) return Hide(Reason::kNotParty, "not a party to the message");
    return WithFlags(Allow(g.decision.code, g.decision.reason + "; party to the message"),
                     g.decision);
  }
  if (action == Action::kMarkRead) {
    if (!party) return Hide(Reason::kNotParty, "not a party to the message");
    bool recipient = false;
    for (const auto& to : r.message_recipients) recipient = recipient || NamesAny(to, me);
    if (!recipient) return Tell("only a recipient marks a message read");
    return WithFlags(Allow(g.decision.code, g.decision.reason + "; recipient of the message"),
                     g.decision);
  }
  if (action != Action::kCreate) {
    if (!party) return Hide(Reason::kNotParty, "not a party to the message");
    return Tell(
        "a message is not changed once sent ($mark-read records its reading, $file-attachment "
        "files an attachment)");
  }
  if (g.read_only) return Tell("closed record: read-only archive");
  // A guardian writes as themselves: their RelatedPerson in the child's record (carnet puts
  // it in `sender` on the write path), not as the child.
  if (actor.kind == ActorKind::kGuardian) {
    std::string own = GuardianPartyOf(actor, record);
    sender = !own.empty() && NamesAny(r.message_sender, {own});
    if (!sender)
      return Tell("a guardian's message is sent by their RelatedPerson in the child's record (" +
                  (own.empty() ? std::string("none yet") : own) + ")");
  }
  if (!sender)
    return Tell("the sender of a message is the one who writes it (sender: " +
                (me.empty() ? std::string("nobody") : me[0]) + ")");
  std::vector<std::string> patient = {"Patient/" + record.patient_id};
  if (!record.ins.empty()) patient.push_back(record.ins);
  std::vector<std::string> guardians;
  for (const auto& gp : record.guardians) guardians.push_back("RelatedPerson/" + gp.id);
  bool to_patient = false, to_guardian = false;
  for (const auto& recipient : r.message_recipients) {
    to_patient = to_patient || NamesAny(recipient, patient);
    to_guardian = to_guardian || NamesAny(recipient, guardians);
  }
  switch (actor.kind) {
    case ActorKind::kProfessional:
      // To the patient, or to a guardian of theirs (the RelatedPerson carnet keeps for them in
      // this record); any other RelatedPerson (of another record, or not a guardian's) is no
      // party a message of this record reaches.
      for (const auto& recipient : r.message_recipients)
        for (const auto& id : recipient)
          if (id.rfind("RelatedPerson/", 0) == 0 && !Contains(guardians, id))
            return Tell(id + " is not a guardian in this patient's record");
      if (!to_patient && !to_guardian)
        return Tell(
            "a message filed in a record is addressed to its patient or to a guardian of "
            "theirs (their RelatedPerson in the record)");
      return WithFlags(
          Allow(g.decision.code,
                g.decision.reason + (to_patient ? "; writes to a patient they take care of"
                                                : "; writes to the guardian of a patient "
                                                  "they take care of")),
          g.decision);
    case ActorKind::kSystem:
      if (!to_patient) return Tell("a message filed in a record is addressed to its patient");
      return Allow(Reason::kDepositSource, "deposit source: a copy of its deposit to the patient");
    case ActorKind::kPatient:
    case ActorKind::kGuardian:
    case ActorKind::kApp: {
      if (r.message_recipients.empty()) return Tell("a message needs a recipient");
      for (const auto& recipient : r.message_recipients) {
        if (NamesAny(recipient, patient)) continue;
        bool known = false;
        for (const auto& id : recipient)
          known = known || id == record.treating_physician || Contains(record.care_team, id) ||
                  Contains(record.message_correspondents, id);
        if (!known)
          return Tell(
              "the patient writes to the professionals of their care team and to those who "
              "wrote to them: " +
              (recipient.empty() ? std::string("a recipient without identifier") : recipient[0]) +
              " is neither");
      }
      return Allow(g.decision.code,
                   g.decision.reason + (actor.kind == ActorKind::kApp
                                            ? "; scopes allow c on Communication; writes to the "
                                              "patient's care team"
                                            : "; writes to their care team"));
    }
    default:
      return Hide(Reason::kActorKind, "no access to messages");
  }
}

}  // namespace

std::vector<std::string> MessagePartyIds(const Actor& actor, const RecordContext& record) {
  switch (actor.kind) {
    case ActorKind::kProfessional:
      return actor.national_id.empty() ? std::vector<std::string>{}
                                       : std::vector<std::string>{actor.national_id};
    case ActorKind::kPatient:
    case ActorKind::kGuardian:
    case ActorKind::kApp: {  // an app acts for the patient, within its scopes
      std::vector<std::string> ids;
      if (!record.patient_id.empty()) ids.push_back("Patient/" + record.patient_id);
      if (!record.ins.empty()) ids.push_back(record.ins);
      // A guardian is also a party of their own: their RelatedPerson in the child's record.
      if (std::string own = GuardianPartyOf(actor, record); !own.empty()) ids.push_back(own);
      return ids;
    }
    case ActorKind::kSystem:
      return actor.PrincipalId().empty() ? std::vector<std::string>{}
                                         : std::vector<std::string>{actor.PrincipalId()};
    default:
      return {};
  }
}

std::string GuardianPartyOf(const Actor& actor, const RecordContext& record) {
  if (actor.kind != ActorKind::kGuardian || actor.subject.empty()) return "";
  for (const auto& g : record.guardians)
    if (g.subject == actor.subject) return "RelatedPerson/" + g.id;
  return "";
}

RecordStatus ParseRecordStatus(std::string_view status) {
  if (status == "active") return RecordStatus::kActive;
  if (status == "closed") return RecordStatus::kClosed;
  return RecordStatus::kOpposed;
}

std::string_view DepositTypeRuleName(DepositTypeRule rule) {
  switch (rule) {
    case DepositTypeRule::kRefuse:
      return "refuse";
    case DepositTypeRule::kWarn:
      return "warn";
    case DepositTypeRule::kAccept:
      return "accept";
  }
  return "refuse";
}

Result<DepositTypeRule> ParseDepositTypeRule(std::string_view text) {
  for (auto rule : {DepositTypeRule::kRefuse, DepositTypeRule::kWarn, DepositTypeRule::kAccept})
    if (text == DepositTypeRuleName(rule)) return rule;
  return BadRequest("'" + std::string(text) +
                    "' is not a deposit type rule (refuse, warn, accept)");
}

Status DecideDepositType(const PolicyEnv& env, const std::string& type_code,
                         const std::string& system, std::string* warning) {
  const HabilitationMatrix& m = *env.matrix;
  if (type_code.empty() || m.ReadableByAnyProfession(type_code)) return Status::Ok();
  bool listed = m.FindType(type_code) != nullptr;
  DepositTypeRule rule = listed ? env.unreadable_deposit : env.unlisted_deposit;
  if (rule == DepositTypeRule::kAccept) return Status::Ok();
  std::string named = "document type " + type_code + (system.empty() ? "" : " (" + system + ")");
  std::string why = listed ? named + " is one the habilitation matrix opens to no profession"
                           : named +
                                 " is not listed in the habilitation matrix, so no "
                                 "profession may read it";
  why += ": only the patient and its author would ever see the document";
  if (rule == DepositTypeRule::kWarn) {
    *warning = why;
    return Status::Ok();
  }
  return Status(ErrorCode::kBusinessRule, "refused: " + why, "DocumentReference.type");
}

std::string_view ActionName(Action action) {
  switch (action) {
    case Action::kRead:
      return "read";
    case Action::kSearch:
      return "search";
    case Action::kCreate:
      return "create";
    case Action::kUpdate:
      return "update";
    case Action::kDelete:
      return "delete";
    case Action::kChangeVisibility:
      return "change-visibility";
    case Action::kManageBlocks:
      return "manage-blocks";
    case Action::kDeclareTreatingPhysician:
      return "declare-treating-physician";
    case Action::kReadAccessHistory:
      return "read-access-history";
    case Action::kManageRecord:
      return "manage-record";
    case Action::kMarkRead:
      return "mark-read";
    case Action::kCloseRecord:
      return "close-record";
    case Action::kReadRecordChoices:
      return "read-record-choices";
  }
  return "unknown";
}

Status Decision::ToStatus(const std::string& what) const {
  if (allowed) return Status::Ok();
  if (!shown.empty()) return Status(refusal, shown);
  if (refusal == ErrorCode::kForbidden)
    return Status(ErrorCode::kForbidden, "not allowed on " + what);
  // Word for word what a missing resource answers (fhir/interactions.cc).
  return NotFound(what + " is not known");
}

std::vector<std::string> ActorRecordIns(const Actor& actor) {
  switch (actor.kind) {
    case ActorKind::kPatient:
    case ActorKind::kApp:
      return actor.patient_ins.empty() ? std::vector<std::string>{}
                                       : std::vector<std::string>{actor.patient_ins};
    case ActorKind::kGuardian:
      return actor.represented_ins;
    default:
      return {};
  }
}

bool ActorCoversRecord(const Actor& actor, const RecordContext& record) {
  if (actor.kind == ActorKind::kApp && !actor.patient_id.empty())
    return actor.patient_id == record.patient_id &&
           (actor.patient_ins.empty() || actor.patient_ins == record.ins);
  for (const auto& ins : ActorRecordIns(actor))
    if (!record.ins.empty() && ins == record.ins) return true;
  return false;
}

Decision Decide(const Actor& actor, const RecordContext& record, const ResourceSummary& resource,
                Action action, const PolicyEnv& env) {
  if (resource.shared) return DecideShared(actor, resource, action);
  if (resource.type == "AuditEvent") return DecideAccessHistory(actor, record, action, env);
  if (resource.type == kMessageType) return DecideMessage(actor, record, resource, action, env);
  if (action != Action::kRead && action != Action::kSearch && action != Action::kCreate &&
      action != Action::kUpdate && action != Action::kDelete && action != Action::kChangeVisibility)
    return DecideOnRecord(actor, record, action, env);

  // A subscription to a record is the patient's notification channel: theirs alone to set.
  if (resource.type == "Subscription" && action != Action::kRead && action != Action::kSearch &&
      actor.kind != ActorKind::kPatient && actor.kind != ActorKind::kGuardian) {
    Gate g = RecordGate(actor, record, env);
    return g.decision.allowed
               ? Forbid(Reason::kPatientsChoice, "subscriptions to a record are the patient's")
               : g.decision;
  }
  Gate g = RecordGate(actor, record, env, action);
  if (!g.decision.allowed) {
    if (g.author_only && (action == Action::kRead || action == Action::kSearch) &&
        DepositedOrAuthoredBy(actor, resource))
      return Allow(Reason::kAuthor, "author of the document (" + g.decision.reason + ")");
    return g.decision;
  }
  switch (actor.kind) {
    case ActorKind::kOperator:
      if (resource.type != "Patient")
        return Hide(Reason::kNoMedicalContent, "operators read no medical content");
      if (action == Action::kDelete || action == Action::kChangeVisibility)
        return Forbid(Reason::kActorKind, "records are closed, not deleted");
      return Allow(Reason::kOperator,
                   "operator: record identity (" + std::string(ActionName(action)) + ")");
    case ActorKind::kSystem: {
      bool own = DepositedOrAuthoredBy(actor, resource);
      if (action == Action::kCreate) {
        bool allowed = actor.scopes.empty() ? Contains(DepositTypes(), resource.type)
                                            : ScopesAllow(actor.scopes, resource.type, 'c');
        if (!allowed)
          return Forbid(Reason::kScope, "deposit source may not create " + resource.type);
        return Allow(Reason::kDepositSource, "deposit source: creates " + resource.type);
      }
      if (!own)
        return Hide(Reason::kNotAuthor, "a deposit source reads back only what it deposited");
      char p = Permission(action);
      if (!actor.scopes.empty() && p != '\0' && !ScopesAllow(actor.scopes, resource.type, p))
        return Forbid(Reason::kScope,
                      "deposit source scopes do not allow " + std::string(ActionName(action)));
      if (p == '\0')
        return Forbid(Reason::kPatientsChoice, "deposit sources do not make the patient's choices");
      return Allow(Reason::kAuthor, "deposit source: its own deposit");
    }
    case ActorKind::kProfessional:
      return DecideProfessional(actor, g, resource, action, env);
    case ActorKind::kPatient:
    case ActorKind::kGuardian:
    case ActorKind::kApp:
      return DecidePatientSide(actor, g, record, resource, action);
    default:
      return Hide(Reason::kActorKind, "no access");
  }
}

Decision DecideOnRecord(const Actor& actor, const RecordContext& record, Action action,
                        const PolicyEnv& env) {
  if (action == Action::kReadAccessHistory) return DecideAccessHistory(actor, record, action, env);
  Gate g = RecordGate(actor, record, env, action);
  if (!g.decision.allowed) return g.decision;
  bool patient_side = actor.kind == ActorKind::kPatient || actor.kind == ActorKind::kGuardian;
  switch (action) {
    case Action::kRead:
    case Action::kSearch:
      if (actor.kind == ActorKind::kProfessional &&
          env.matrix->ReadableTypes(actor.profession, actor.specialty).empty())
        return Hide(Reason::kMatrix, "profession reads nothing");
      return WithFlags(Allow(g.decision.code, g.decision.reason), g.decision);
    case Action::kCreate:
      if (g.read_only)
        return Forbid(Reason::kReadOnly, g.decision.emergency ? "emergency access is read-only"
                                                              : "closed record: read-only archive");
      if (actor.kind == ActorKind::kOperator)
        return Forbid(Reason::kNoMedicalContent, "operators add no medical content");
      if (actor.kind == ActorKind::kProfessional &&
          !env.matrix->MayWriteAnything(actor.profession, actor.specialty))
        return Forbid(Reason::kMatrix, "profession writes nothing");
      return WithFlags(Allow(g.decision.code, g.decision.reason), g.decision);
    case Action::kManageBlocks:
    case Action::kDeclareTreatingPhysician:
    case Action::kChangeVisibility:
      if (!patient_side)
        return Forbid(Reason::kPatientsChoice,
                      std::string(ActionName(action)) + " is the patient's choice");
      if (g.read_only) return Forbid(Reason::kClosedRecord, "closed record: read-only archive");
      return Allow(Reason::kPatientChoice, g.decision.reason + "; patient's choice");
    case Action::kManageRecord:
      if (actor.kind != ActorKind::kOperator)
        return Forbid(Reason::kActorKind, "records are managed by operators");
      return Allow(Reason::kOperator, "operator: record management");
    // Closing (or reopening) a closed record is allowed on the read-only archive: it is the
    // one change the patient still makes there.
    case Action::kCloseRecord:
      if (actor.kind == ActorKind::kOperator)
        return Allow(Reason::kOperator, "operator: record management");
      if (!patient_side)
        return Forbid(Reason::kPatientsChoice, "a record is closed by its patient or an operator");
      return Allow(g.decision.code,
                   g.decision.reason + "; patient's choice: closes or reopens the record");
    case Action::kReadRecordChoices:
      if (actor.kind == ActorKind::kOperator)
        return Allow(Reason::kOperator, "operator: the record's settings");
      if (!patient_side)
        return Forbid(Reason::kPatientsChoice,
                      "the record's settings are read by its patient, a guardian or an operator");
      return Allow(g.decision.code, g.decision.reason + ": the record's settings");
    default:
      return Forbid(Reason::kRefused, std::string(ActionName(action)) + " needs a resource");
  }
}

Decision DecideNewRecord(const Actor& actor) {
  if (actor.kind == ActorKind::kOperator)
    return Allow(Reason::kOperator, "operator: creates the record");
  if (actor.kind == ActorKind::kSystem && ScopesAllow(actor.scopes, "Patient", 'c'))
    return Allow(Reason::kDepositSource, "identity feed: creates the record");
  if (actor.kind == ActorKind::kDenied)
    return Hide(Reason::kDeniedParty, "denied party: no access whatever the token says");
  return Forbid(Reason::kActorKind, "records are created by operators and identity feeds");
}

Decision DecideWriteIntent(const Actor& actor, std::string_view type,
                           std::string_view permissions) {
  if (actor.kind == ActorKind::kDenied)
    return Forbid(Reason::kDeniedParty, "this party writes nothing to any record");
  if (actor.kind == ActorKind::kApp) {
    std::vector<SmartScope> scopes = AppScopes(actor.scopes);
    bool any = false;
    for (char p : permissions) any = any || ScopesAllow(scopes, type, p);
    if (!any)
      return Forbid(Reason::kScope, "the app's scopes grant no " + std::string(permissions) +
                                        " on " + std::string(type));
  }
  return Allow(Reason::kPermitted, "may write " + std::string(type));
}

Decision DecideLabelChange(const std::vector<std::string>& before,
                           const std::vector<std::string>& after, bool shareable) {
  for (const auto* side : {&before, &after})
    for (const auto& code : *side) {
      if (code == kMasquePs) continue;
      const auto* other = side == &before ? &after : &before;
      if (Contains(*other, code)) continue;
      if (code == kPartagePs) {
        if (shareable) continue;
        return Forbid(Reason::kRefused,
                      "PARTAGE_PS shares an administrative paper; professionals read this document "
                      "per the habilitation matrix");
      }
      return Forbid(Reason::kRefused,
                    code + " is set by the author at deposit, not by the patient");
    }
  return Allow(Reason::kPatientChoice,
               "the patient changes who sees the document (MASQUE_PS, PARTAGE_PS)");
}

Decision DecideSupportView(const Actor& actor) {
  if (actor.kind == ActorKind::kSupport || actor.kind == ActorKind::kOperator)
    return Allow(Reason::kSupportRole, std::string(ActorKindName(actor.kind)) +
                                           ": reads access decisions, no medical content");
  return Forbid(Reason::kActorKind, std::string(ActorKindName(actor.kind)) +
                                        " may not read access decisions (support staff and "
                                        "operators do)");
}

bool MayAssignIds(const Actor& actor) { return DecideNewRecord(actor).allowed; }

Decision DecideShared(const Actor& actor, const ResourceSummary& resource, Action action) {
  if (actor.kind == ActorKind::kDenied)
    return Hide(Reason::kDeniedParty, "denied party: no access whatever the token says");
  if (action == Action::kRead || action == Action::kSearch)
    return Allow(Reason::kSharedResource, "shared resource (" + resource.type + ")");
  if (action != Action::kCreate && action != Action::kUpdate && action != Action::kDelete)
    return Forbid(Reason::kRefused,
                  std::string(ActionName(action)) + " does not apply to a shared resource");
  const SharedContentRules& rules = SharedContentRules::Builtin();
  if (rules.WrittenByServer(resource.type))
    return Forbid(Reason::kActorKind, resource.type + " is written by carnet alone");
  if (action == Action::kDelete)
    return actor.kind == ActorKind::kOperator
               ? Allow(Reason::kOperator, "operator: deletes shared content")
               : Forbid(Reason::kActorKind, "shared content is deleted by operators");
  if (rules.MayWrite(resource.type, actor.kind))
    return Allow(Reason::kSharedResource, std::string(ActorKindName(actor.kind)) +
                                              " writes shared " + resource.type +
                                              " (shared_content.tsv)");
  return Forbid(Reason::kActorKind, "shared " + resource.type + " is not written by a " +
                                        std::string(ActorKindName(actor.kind)));
}

Status CheckBlockRequest(const RecordContext& record, std::string_view kind,
                         std::string_view actor_id) {
  if (kind != "professional" && kind != "organisation")
    return BadRequest("a block names a professional or an organisation");
  if (actor_id.empty()) return BadRequest("a block names whom it blocks");
  if (kind == "professional" && actor_id == record.treating_physician)
    return Conflict(
        "the treating physician cannot be blocked; declare another treating physician first");
  return Status::Ok();
}

const std::vector<std::string>& NeverSearchedTypes() {
  static const std::vector<std::string> kTypes = {"Binary"};
  return kTypes;
}

AccessFilter FilterFor(const Actor& actor, const RecordContext& record, const PolicyEnv& env) {
  AccessFilter f;
  f.excluded_types = NeverSearchedTypes();
  Gate g = RecordGate(actor, record, env);
  f.reason = g.decision.reason;
  f.reason_code = std::string(ReasonCode(g.decision.code));
  f.emergency = g.decision.emergency;
  f.consent = g.decision.consent;
  f.opens_emergency_window = g.decision.opens_emergency_window;
  f.include_shared = actor.kind != ActorKind::kDenied;
  if (!g.decision.allowed) {
    if (g.author_only) {
      // Only the documents they authored: no type is allowed but the author exemption.
      f.patient_keys = {record.patient_key};
      f.resource_types = std::vector<std::string>{"Composition", "DocumentReference"};
      f.document_types = std::vector<std::string>{};
      f.excluded_security = {std::string(kMasquePs)};
      f.author_exempt_ids = {actor.national_id};
      f.reason = "author's own documents only (" + f.reason + ")";
    }
    return f;
  }
  switch (actor.kind) {
    case ActorKind::kOperator:
      f.resource_types = std::vector<std::string>{"Patient"};
      break;
    case ActorKind::kSystem: {
      f.sources = std::vector<std::string>{actor.PrincipalId()};
      if (ScopesAllow(actor.scopes, "*", 's')) break;  // system/*.s: any type it deposited
      std::vector<std::string> types;
      for (const auto& t : DepositTypes())
        if (actor.scopes.empty() || ScopesAllow(actor.scopes, t, 's')) types.push_back(t);
      // A scope on another type (system/Observation.s) adds it.
      for (const auto& s : actor.scopes)
        if (s.resource_type != "*" && s.search && !Contains(types, s.resource_type))
          types.push_back(s.resource_type);
      f.resource_types = types;
      break;
    }
    case ActorKind::kPatient:
    case ActorKind::kGuardian:
      f.excluded_security = HiddenLabels(actor);
      break;
    case ActorKind::kApp: {
      f.excluded_security = HiddenLabels(actor);
      const AuthorisedApp* app = FindAuthorisedApp(actor, record);
      std::vector<SmartScope> mine = AppScopes(actor.scopes);
      std::vector<SmartScope> consented = app ? app->scopes : std::vector<SmartScope>{};
      auto covers = [](const std::vector<SmartScope>& sc, const std::string& t) {
        return std::any_of(sc.begin(), sc.end(),
                           [&](const SmartScope& s) { return s.Covers(t, 's'); });
      };
      bool mine_all = covers(mine, "*"), consented_all = covers(consented, "*");
      std::vector<std::string> keys;  // the types restrictions are computed for
      if (!(mine_all && consented_all)) {
        // Both sides name types (or one says '*'): the named types both allow.
        std::set<std::string> candidates;
        for (const auto& s : mine)
          if (s.resource_type != "*") candidates.insert(s.resource_type);
        for (const auto& s : consented)
          if (s.resource_type != "*") candidates.insert(s.resource_type);
        std::vector<std::string> types;
        for (const auto& t : candidates)
          if (covers(mine, t) && covers(consented, t)) types.push_back(t);
        f.resource_types = types;
        keys = types;
      } else {
        keys = {"*"};
      }
      // Query-restricted scopes narrow the rows of their type, on each side.
      for (const auto* side : {&mine, &consented})
        for (const auto& key : keys) {
          auto restriction = ScopeRestriction(*side, key);
          if (restriction) f.restrictions.push_back(std::move(*restriction));
        }
      break;
    }
    case ActorKind::kProfessional: {
      std::vector<std::string> readable =
          env.matrix->ReadableTypes(actor.profession, actor.specialty);
      if (readable.empty()) {
        f.reason += "; profession reads nothing";
        f.reason_code = std::string(ReasonCode(Reason::kMatrix));
        return f;
      }
      if (!g.treating_physician) f.excluded_security.emplace_back(kMasquePs);
      f.document_types = readable;
      f.shared_document_types = env.matrix->PatientShareableTypes();
      f.shared_label = std::string(kPartagePs);
      // Clinical resources of a category the profession may not read.
      for (auto& t : env.matrix->UnreadableResourceTypes(actor.profession, actor.specialty))
        f.excluded_types.push_back(std::move(t));
      f.author_exempt_ids = {actor.national_id};
      break;
    }
    default:
      return f;
  }
  // Messages: their parties only; an emergency access does not open the mailbox; an app
  // reaches it as the patient would when both its scopes and the patient's authorisation
  // name Communication (resource_types and restrictions above).
  if (f.emergency)
    f.excluded_types.emplace_back(kMessageType);
  else
    f.message_parties = MessagePartyIds(actor, record);
  f.patient_keys = {record.patient_key};
  return f;
}

Result<AccessFilter> MergeFilters(const std::vector<AccessFilter>& filters) {
  AccessFilter out;
  if (filters.empty()) return out;
  out = filters[0];
  out.patient_keys.clear();
  std::set<std::string> reasons;
  for (const auto& f : filters) {
    if (f.include_shared != out.include_shared || f.excluded_security != out.excluded_security ||
        f.author_exempt_ids != out.author_exempt_ids || f.resource_types != out.resource_types ||
        f.document_types != out.document_types || f.sources != out.sources ||
        f.excluded_types != out.excluded_types || f.restrictions != out.restrictions ||
        f.shared_document_types != out.shared_document_types ||
        f.message_parties.has_value() != out.message_parties.has_value())
      return BadRequest(
          "these records are searched under different rules: search one patient at a time");
    out.patient_keys.insert(out.patient_keys.end(), f.patient_keys.begin(), f.patient_keys.end());
    if (&f != &filters[0] && f.message_parties && out.message_parties)
      for (const auto& id : *f.message_parties)
        if (!Contains(*out.message_parties, id)) out.message_parties->push_back(id);
    out.emergency = out.emergency || f.emergency;
    out.consent = out.consent || f.consent;
    out.opens_emergency_window = out.opens_emergency_window || f.opens_emergency_window;
    reasons.insert(f.reason);
  }
  out.reason.clear();
  for (const auto& r : reasons) out.reason += (out.reason.empty() ? "" : " | ") + r;
  return out;
}

namespace {

const JsonValue* Contained(const JsonValue& resource, std::string_view local_id) {
  const JsonValue* contained = resource.Find("contained");
  if (!contained || !contained->is_array()) return nullptr;
  for (const auto& c : contained->items())
    if (c.GetString("id") == local_id) return &c;
  return nullptr;
}

}  // namespace

ResourceSummary SummariseResource(const JsonValue& resource) {
  ResourceSummary s;
  s.type = resource.GetString("resourceType");
  s.id = resource.GetString("id");
  if (const JsonValue* meta = resource.Find("meta")) {
    s.source = meta->GetString("source");
    if (const JsonValue* sec = meta->Find("security"); sec && sec->is_array())
      for (const auto& c : sec->items())
        if (std::string code = c.GetString("code"); !code.empty()) s.security.push_back(code);
  }
  if (s.type == "Observation") s.loinc_codes = LoincCodes(resource);
  if (s.type == "DocumentReference" || s.type == "Composition") {
    if (const JsonValue* type = resource.Find("type")) {
      if (const JsonValue* codings = type->Find("coding"); codings && codings->is_array()) {
        for (const auto& c : codings->items())
          if (c.GetString("system") == "http://loinc.org" && !c.GetString("code").empty()) {
            s.document_type = c.GetString("code");
            break;
          }
        if (s.document_type.empty() && !codings->items().empty())
          s.document_type = codings->items()[0].GetString("code");
      }
    }
    // DocumentReference.securityLabel carries the confidentiality codes too (MHD).
    if (const JsonValue* labels = resource.Find("securityLabel"); labels && labels->is_array())
      for (const auto& l : labels->items())
        if (const JsonValue* codings = l.Find("coding"); codings && codings->is_array())
          for (const auto& c : codings->items())
            if (std::string code = c.GetString("code");
                !code.empty() &&
                std::find(s.security.begin(), s.security.end(), code) == s.security.end())
              s.security.push_back(code);
  }
  if (s.type == kMessageType) {
    auto party = [](const JsonValue& ref) {
      std::vector<std::string> ids;
      CollectIdentifierValues(ref.Find("identifier"), ids);
      if (std::string literal = ref.GetString("reference"); !literal.empty())
        ids.push_back(literal);
      return ids;
    };
    if (const JsonValue* sender = resource.Find("sender"); sender && sender->is_object())
      s.message_sender = party(*sender);
    if (const JsonValue* to = resource.Find("recipient"); to && to->is_array())
      for (const auto& ref : to->items()) s.message_recipients.push_back(party(ref));
  }
  // category, code, status: what a query-restricted scope may name.
  for (const char* param : {"category", "code", "status"}) {
    const JsonValue* v = resource.Find(param);
    if (!v) continue;
    auto add = [&](const JsonValue& e) {
      if (e.is_string()) s.tokens.push_back({param, "", e.text()});
      if (!e.is_object()) return;
      if (const JsonValue* codings = e.Find("coding"); codings && codings->is_array())
        for (const auto& c : codings->items())
          if (std::string code = c.GetString("code"); !code.empty())
            s.tokens.push_back({param, c.GetString("system"), code});
    };
    if (v->is_array())
      for (const auto& e : v->items()) add(e);
    else
      add(*v);
  }
  if (const JsonValue* authors = resource.Find("author"); authors && authors->is_array()) {
    for (const auto& ref : authors->items()) {
      CollectIdentifierValues(ref.Find("identifier"), s.author_ids);
      std::string reference = ref.GetString("reference");
      if (reference.size() > 1 && reference[0] == '#') {
        if (const JsonValue* c = Contained(resource, std::string_view(reference).substr(1))) {
          CollectIdentifierValues(c->Find("identifier"), s.author_ids);
          if (const JsonValue* practitioner = c->Find("practitioner")) {
            CollectIdentifierValues(practitioner->Find("identifier"), s.author_ids);
            std::string pref = practitioner->GetString("reference");
            if (pref.size() > 1 && pref[0] == '#')
              if (const JsonValue* p = Contained(resource, std::string_view(pref).substr(1)))
                CollectIdentifierValues(p->Find("identifier"), s.author_ids);
          }
        }
      }
    }
  }
  return s;
}

void CollectIdentifierValues(const JsonValue* identifiers, std::vector<std::string>& out) {
  if (!identifiers) return;
  auto add = [&](const JsonValue& id) {
    std::string v = id.GetString("value");
    if (!v.empty() && std::find(out.begin(), out.end(), v) == out.end()) out.push_back(v);
  };
  if (identifiers->is_object()) add(*identifiers);
  if (identifiers->is_array())
    for (const auto& id : identifiers->items()) add(id);
}

Decision SearchDecision(const AccessFilter& f) {
  Decision d;
  d.allowed = f.any_record || !f.patient_keys.empty() || f.include_shared;
  d.refusal = d.allowed ? ErrorCode::kOk : ErrorCode::kNotFound;
  d.reason = f.reason;
  d.code = ParseReason(f.reason_code).value_or(d.allowed ? Reason::kPermitted : Reason::kRefused);
  d.emergency = f.emergency;
  d.consent = f.consent;
  d.opens_emergency_window = f.opens_emergency_window;
  return d;
}

}  // namespace carnet::profiles
