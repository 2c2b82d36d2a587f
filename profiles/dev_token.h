// Development tokens: `carnet token --data DIR --actor KIND ...` prints a JWT signed by the
// development key kept under DIR/keys/ (profiles/jwt.h SigningKey::LoadOrCreateDevKey),
// issuer "carnet-dev". A gateway trusts that key only when configured to (trust_dev_key):
// these tokens exist for tests, demos and local development, never for production.
#pragma once

#include <string>
#include <vector>

#include "base/json.h"
#include "base/status.h"

namespace carnet::profiles {

struct DevTokenRequest {
  std::string actor;       // patient, guardian, professional, app, system, operator
                           // (insurer, employer, state too: their tokens are refused)
  std::string id;          // sub; for professionals also the national id (RPPS)
  std::string profession;  // TRE_G15
  std::string specialty;   // TRE_R38
  std::string organisation;
  std::string given_name;   // OpenID Connect given_name / family_name (a professional's
  std::string family_name;  // name, for their MSSante-style address)
  std::string patient_ins;  // patient: own INS; app: the launch patient's INS
  std::string patient_id;   // app: the launch patient's Patient id
  std::vector<std::string> guardian_of;  // guardian: the minors' INS
  std::string client_id;                 // app, system
  std::vector<std::string> scopes;
  bool emergency = false;
  std::string emergency_reason;  // may be empty to exercise the refusal
  bool consent = false;
  std::string audience = "carnet";
  long long ttl_s = 3600;
  long long now = 0;  // seconds since the epoch; 0: the current time
};

// Parses the command's arguments (what follows `token` and is not a gateway setting):
//   --actor KIND --id ID --profession CODE --specialty CODE --org ID --given NAME --family NAME
//   --patient INS
//   --patient-id ID --guardian-of INS (repeatable) --client-id ID --scope S (repeatable, or
//   several space-separated) --emergency REASON --consent --ttl SECONDS
// kBadRequest on an unknown flag (naming the close matches), a missing value or an unknown
// actor kind (listing the kinds).
Result<DevTokenRequest> ParseDevTokenArgs(const std::vector<std::string>& args);

// The flags above ("--actor"...); --consent alone takes no value.
const std::vector<std::string>& DevTokenFlags();

// The actor kinds a token may state: patient, guardian, professional, app, system, operator.
const std::vector<std::string>& DevTokenActorKinds();

// The claims of the token (Pro Sante Connect shape for professionals; see
// profiles/actor.h ActorFromClaims for the layout).
JsonValue DevTokenClaims(const DevTokenRequest& request);

// Mints the token with the development key under `data_dir` (created if missing).
Result<std::string> MintDevToken(const std::string& data_dir, const DevTokenRequest& request);

}  // namespace carnet::profiles
