#include "profiles/dev_token.h"

#include <chrono>
#include <cstdlib>

#include "base/strings.h"
#include "profiles/actor.h"
#include "profiles/jwt.h"

namespace carnet::profiles {
namespace {

JsonValue Str(const std::string& s) { return JsonValue::String(s); }
JsonValue Num(long long n) { return JsonValue::Number(std::to_string(n)); }

}  // namespace

const std::vector<std::string>& DevTokenFlags() {
  static const std::vector<std::string> kFlags = {
      "--actor",   "--id",        "--profession", "--specialty",  "--org",         "--organisation",
      "--patient", "--given",     "--family",     "--patient-id", "--guardian-of", "--client-id",
      "--scope",   "--emergency", "--consent",    "--ttl"};
  return kFlags;
}

const std::vector<std::string>& DevTokenActorKinds() {
  static const std::vector<std::string> kKinds = {"patient", "guardian", "professional",
                                                  "app",     "system",   "operator"};
  return kKinds;
}

namespace {

std::string KindsList() {
  std::string out;
  for (const std::string& k : DevTokenActorKinds()) out += (out.empty() ? "" : ", ") + k;
  return out + " (insurer, employer and the like: a denied party)";
}

}  // namespace

Result<DevTokenRequest> ParseDevTokenArgs(const std::vector<std::string>& args) {
  DevTokenRequest r;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string flag = args[i], value;
    bool inline_value = false;
    if (auto eq = flag.find('='); flag.rfind("--", 0) == 0 && eq != std::string::npos) {
      value = flag.substr(eq + 1);
      flag.erase(eq);
      inline_value = true;
    }
    if (flag == "--consent") {
      r.consent = true;
      continue;
    }
    auto next = [&]() -> Result<std::string> {
      if (inline_value) return value;
      if (i + 1 >= args.size()) return BadRequest(flag + " needs a value");
      return args[++i];
    };
    auto v = next();
    if (!v.ok()) return v.status();
    if (flag == "--actor")
      r.actor = *v;
    else if (flag == "--id")
      r.id = *v;
    else if (flag == "--profession")
      r.profession = *v;
    else if (flag == "--specialty")
      r.specialty = *v;
    else if (flag == "--org" || flag == "--organisation")
      r.organisation = *v;
    else if (flag == "--patient")
      r.patient_ins = *v;
    else if (flag == "--given")
      r.given_name = *v;
    else if (flag == "--family")
      r.family_name = *v;
    else if (flag == "--patient-id")
      r.patient_id = *v;
    else if (flag == "--guardian-of")
      r.guardian_of.push_back(*v);
    else if (flag == "--client-id")
      r.client_id = *v;
    else if (flag == "--scope") {
      // "--scope 'patient/*.rs launch/patient'" and repeated --scope both work.
      std::string s = *v;
      size_t a = 0;
      while (a < s.size()) {
        size_t b = s.find(' ', a);
        if (b == std::string::npos) b = s.size();
        if (b > a) r.scopes.push_back(s.substr(a, b - a));
        a = b + 1;
      }
    } else if (flag == "--emergency") {
      r.emergency = true;
      r.emergency_reason = *v;
    } else if (flag == "--ttl") {
      char* end = nullptr;
      long long ttl = std::strtoll(v->c_str(), &end, 10);
      if (v->empty() || *end != '\0' || ttl <= 0 || ttl > 30LL * 24 * 3600)
        return BadRequest("--ttl: seconds, from 1 to 30 days");
      r.ttl_s = ttl;
    } else {
      std::vector<std::string> close = CloseMatches(flag, DevTokenFlags());
      std::string hint;
      for (const std::string& c : close) hint += (hint.empty() ? "; did you mean " : ", ") + c;
      return BadRequest("unknown option " + flag + " for token" + (hint.empty() ? "" : hint + "?"));
    }
  }
  if (r.actor.empty()) return BadRequest("token needs --actor KIND, one of " + KindsList());
  if (!ParseActorKind(r.actor))
    return BadRequest("unknown actor kind '" + r.actor + "'; the kinds are " + KindsList());
  return r;
}

JsonValue DevTokenClaims(const DevTokenRequest& r) {
  long long now = r.now ? r.now
                        : std::chrono::duration_cast<std::chrono::seconds>(
                              std::chrono::system_clock::now().time_since_epoch())
                              .count();
  auto kind = ParseActorKind(r.actor);
  JsonValue c = JsonValue::Object();
  c.Set("iss", Str(std::string(kDevIssuer)));
  std::string sub = r.id;
  if (sub.empty()) sub = !r.client_id.empty() ? r.client_id : r.actor + "-dev";
  c.Set("sub", Str(sub));
  c.Set("aud", Str(r.audience));
  c.Set("iat", Num(now));
  c.Set("nbf", Num(now));
  c.Set("exp", Num(now + r.ttl_s));
  c.Set("jti", Str(RandomHex(12)));
  c.Set("actor", Str(r.actor));
  if (kind == ActorKind::kProfessional) {
    // The shape of a Pro Sante Connect token (security.md, "Identity conventions").
    c.Set("preferred_username", Str(sub));
    JsonValue exercise = JsonValue::Object();
    if (!r.profession.empty()) exercise.Set("codeProfession", Str(r.profession));
    if (!r.specialty.empty()) exercise.Set("codeSavoirFaire", Str(r.specialty));
    if (!r.organisation.empty()) {
      JsonValue activity = JsonValue::Object();
      activity.Set("identifiantTechniqueDeLaStructure", Str(r.organisation));
      JsonValue activities = JsonValue::Array();
      activities.Append(std::move(activity));
      exercise.Set("activities", std::move(activities));
    }
    JsonValue exercises = JsonValue::Array();
    exercises.Append(std::move(exercise));
    JsonValue ref = JsonValue::Object();
    ref.Set("exercices", std::move(exercises));
    c.Set("SubjectRefPro", std::move(ref));
  } else {
    if (!r.profession.empty()) c.Set("profession", Str(r.profession));
    if (!r.organisation.empty()) c.Set("organisation", Str(r.organisation));
  }
  if (!r.given_name.empty()) c.Set("given_name", Str(r.given_name));
  if (!r.family_name.empty()) c.Set("family_name", Str(r.family_name));
  if (!r.patient_ins.empty()) c.Set("ins", Str(r.patient_ins));
  if (!r.patient_id.empty()) c.Set("patient", Str(r.patient_id));
  if (!r.guardian_of.empty()) {
    JsonValue g = JsonValue::Array();
    for (const auto& ins : r.guardian_of) g.Append(Str(ins));
    c.Set("guardian_of", std::move(g));
  }
  if (!r.client_id.empty()) c.Set("client_id", Str(r.client_id));
  if (!r.scopes.empty()) {
    std::string s;
    for (const auto& sc : r.scopes) s += (s.empty() ? "" : " ") + sc;
    c.Set("scope", Str(s));
  }
  if (r.emergency) {
    c.Set("Acces_Regulation_Medicale", Str("BRIS_DE_GLACE"));
    c.Set("Mode_Acces_Raison", Str(r.emergency_reason));
  }
  if (r.consent) c.Set("consent", JsonValue::Bool(true));
  return c;
}

Result<std::string> MintDevToken(const std::string& data_dir, const DevTokenRequest& request) {
  if (!ParseActorKind(request.actor))
    return BadRequest("unknown actor kind '" + request.actor + "'");
  auto key = SigningKey::LoadOrCreateDevKey(data_dir);
  if (!key.ok()) return key.status();
  return key->Sign(DevTokenClaims(request));
}

}  // namespace carnet::profiles
