// Who is asking: the identity carnet derives from a verified credential (a JWT today, an
// mTLS certificate and SAML/VIHF assertion later), in the domain's words.
//
// An Actor is built once per request, after the credential was verified (profiles/jwt.h),
// and handed to the policy decision point (profiles/policy.h) and to the audit
// (profiles/audit_event.h). Nothing here decides anything: an Actor only says what the
// credential claims, checked for shape.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/json.h"
#include "base/status.h"

namespace carnet::profiles {

// The actor kinds of the DMP (issue 5). kDenied stands for the parties the law keeps out
// whatever they present (complementary or compulsory insurers, employers, the state): they
// authenticate (so their attempt is audited under their own name) but get nothing.
// kSupport: the helpdesk (issue 19), who reads why a professional was refused (the support
// view, $access-decisions) and nothing of any record.
enum class ActorKind {
  kPatient,
  kGuardian,
  kProfessional,
  kApp,
  kSystem,
  kOperator,
  kSupport,
  kDenied
};

// "patient", "guardian", "professional", "app", "system", "operator", "support", "denied".
std::string_view ActorKindName(ActorKind kind);
// Accepts the names above; "insurer", "employer", "state" (and their French names) map to
// kDenied. nullopt for anything else.
std::optional<ActorKind> ParseActorKind(std::string_view name);
// True when a role or profession text names a party that never gets access (insurer,
// employer, state...), compared without case.
bool IsDeniedRole(std::string_view role);

// SMART App Launch v2 scope context: patient/, user/, system/.
enum class ScopeContext { kPatient, kUser, kSystem };

// One condition of a query-restricted scope (SMART 2, "patient/Observation.rs?category=
// vital-signs"): a token parameter and a code, with its system when written system|code.
// Only the token parameters `category`, `code` and `status` are honoured (read from the
// element of the same name, and from the search index of that parameter); a scope restricted
// otherwise grants nothing.
struct ScopeCondition {
  std::string param;
  bool any_system = true;  // "code" (any system) or "system|code"
  std::string system;
  std::string code;
  bool operator==(const ScopeCondition&) const = default;
};
// A token of a resource as the conditions see it.
struct ScopeToken {
  std::string param;
  std::string system;
  std::string code;
};
bool ConditionsHold(const std::vector<ScopeCondition>& conditions,
                    const std::vector<ScopeToken>& tokens);

// One resource scope, e.g. "patient/Observation.rs" or "user/DocumentReference.cruds".
// SMART v1 forms (".read", ".write", ".*") are accepted and mapped to v2 letters
// (read -> rs, write -> cud, * -> cruds).
struct SmartScope {
  ScopeContext context = ScopeContext::kPatient;
  std::string resource_type;  // "*" for every type
  bool create = false;
  bool read = false;
  bool update = false;
  bool remove = false;  // 'd'
  bool search = false;
  std::string raw;  // as written, for the audit
  // Query restriction (all must hold); empty: none.
  std::vector<ScopeCondition> restriction;

  // Whether this scope grants `permission` ('c', 'r', 'u', 'd' or 's') on every resource of
  // `type`: never for a restricted scope, which grants only on resources it matches.
  bool Allows(std::string_view type, char permission) const;
  // The permission on the type, whatever the restriction.
  bool Covers(std::string_view type, char permission) const;
  // Whether it grants `permission` on a resource of `type` holding `tokens`.
  bool AllowsResource(std::string_view type, char permission,
                      const std::vector<ScopeToken>& tokens) const;
};

// Parses one resource scope; nullopt for scopes that are not about resources (openid,
// fhirUser, launch/patient, offline_access...) and for malformed ones. Query restrictions
// ("?category=vital-signs", "?code=http://loinc.org|29463-7", "&"-joined) on the token
// parameters category, code and status are kept in `restriction`; any other restriction makes
// the scope nullopt (it grants nothing: fails closed).
std::optional<SmartScope> ParseSmartScope(std::string_view scope);
// Parses a space-separated scope string (RFC 9068 `scope` claim), keeping resource scopes.
std::vector<SmartScope> ParseSmartScopes(std::string_view scopes);
// True when some scope in `scopes` grants `permission` on `type`.
bool ScopesAllow(const std::vector<SmartScope>& scopes, std::string_view type, char permission);
// True when some scope in `scopes` grants `permission` on this resource (restrictions checked
// against its tokens).
bool ScopesAllowResource(const std::vector<SmartScope>& scopes, std::string_view type,
                         char permission, const std::vector<ScopeToken>& tokens);
// The token parameters a restricted scope may name.
bool IsRestrictableParam(std::string_view param);

struct Actor {
  ActorKind kind = ActorKind::kDenied;
  std::string issuer;   // iss
  std::string subject;  // sub: the issuer's id for the person or system
  // Professional (Pro Sante Connect): national id (RPPS, prefix 8, or ADELI, prefix 0;
  // OID 1.2.250.1.71.4.2.1), profession (TRE_G15), specialty (TRE_R38), organisation
  // (FINESS/SIRET of the activity used for this session).
  std::string national_id;
  std::string profession;
  std::string specialty;
  std::string organisation;
  // OpenID Connect given_name / family_name (Pro Sante Connect carries them): a
  // professional's MSSante-style address (profiles/mail_address.h).
  std::string given_name;
  std::string family_name;
  // Patient: their own INS. App: the INS of the patient the app was launched for.
  std::string patient_ins;
  // SMART launch context `patient`: logical id of the Patient resource, when given.
  std::string patient_id;
  // Guardian: INS of the minors they represent (the "attached profiles").
  std::vector<std::string> represented_ins;
  // App and system: OAuth client id (RFC 9068 client_id).
  std::string client_id;
  std::vector<SmartScope> scopes;
  // Emergency ("bris de glace"): the professional asserts an emergency; the reason is
  // mandatory for the policy to honour it (an emergency without reason is refused).
  bool emergency = false;
  std::string emergency_reason;
  // The professional asserts the patient's explicit consent for this consultation (token
  // claim, or a request header the front end copies here). Recorded in the audit.
  bool consent_asserted = false;
  // What made a kDenied actor denied (the role or profession as claimed), for the audit.
  std::string denied_role;
  long long expires_at = 0;  // exp, seconds since the epoch
  long long issued_at = 0;   // iat (0 when absent): a new emergency assertion is a new token
  // Every claim of the credential, as verified, for the audit.
  JsonValue claims;

  // The identifier the audit and the patient's choices (blocks, treating physician,
  // care team) know this actor by: national id for professionals, client id for apps and
  // systems, else the subject.
  std::string PrincipalId() const;
};

// Builds an Actor from verified claims (the signature, iss, aud, exp and nbf are checked by
// the caller). The claim layout:
//   - `sub`, `iss`, `exp`;
//   - kind: carnet's `actor` claim; without it, a Pro Sante Connect token (a
//     `SubjectRefPro` claim or a national id with a profession) is a professional, a token
//     with `client_id` and a launch `patient` is an app, one with `client_id` alone a system;
//   - professional: `preferred_username` (national id) or `national_id`;
//     `SubjectRefPro.exercices[0].codeProfession` / `codeSavoirFaire` /
//     `activities[0].identifiantTechniqueDeLaStructure` or the flat `profession`,
//     `specialty`, `organisation` (also `SubjectOrganization`);
//   - patient: `ins`; guardian: `guardian_of` (array of INS); app: `client_id`, `patient`
//     (Patient id), `ins`; system: `client_id`;
//   - `scope` (space-separated) or `scp` (array): SMART scopes;
//   - emergency: `Acces_Regulation_Medicale` (true or "BRIS_DE_GLACE") or `emergency`
//     (true), reason from `Mode_Acces_Raison` or `emergency_reason`;
//   - `consent`: true when the professional asserts the patient's consent.
// A role (`actor`, `SubjectRole`, `role`, `profession`) naming an insurer, employer or the
// state makes the actor kDenied, whatever else the token says. kUnauthorized when the
// claims do not describe an actor of the stated kind (a patient without INS...).
Result<Actor> ActorFromClaims(const JsonValue& claims);

}  // namespace carnet::profiles
