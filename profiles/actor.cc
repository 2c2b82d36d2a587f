#include "profiles/actor.h"

#include <algorithm>
#include <cctype>

#include "base/http.h"
#include "base/strings.h"

namespace carnet::profiles {
namespace {

std::string Lower(std::string_view s) { return AsciiLower(s); }

Status Unauthorized(std::string message) {
  return Status(ErrorCode::kUnauthorized, std::move(message));
}

// A claim that may be a boolean or a string ("true", "BRIS_DE_GLACE"...).
bool Truthy(const JsonValue* v) {
  if (!v) return false;
  if (v->is_bool()) return v->as_bool();
  if (v->is_string()) {
    std::string t = Lower(v->text());
    return t == "true" || t == "1" || t == "yes" || t == "bris_de_glace";
  }
  return false;
}

// The string value of a claim that may be a string or a number (national ids are sometimes
// issued as numbers).
std::string Text(const JsonValue* v) {
  if (!v) return {};
  if (v->is_string() || v->is_number()) return v->text();
  return {};
}

// Every string of a claim that may be one string or an array of strings.
std::vector<std::string> Texts(const JsonValue* v) {
  std::vector<std::string> out;
  if (!v) return out;
  if (v->is_string()) out.push_back(v->text());
  if (v->is_array())
    for (const auto& item : v->items())
      if (item.is_string()) out.push_back(item.text());
  return out;
}

const JsonValue* FirstItem(const JsonValue* v) {
  if (!v || !v->is_array() || v->items().empty()) return nullptr;
  return &v->items()[0];
}

// Professional attributes from Pro Sante Connect's SubjectRefPro claim (the first
// exercise and its first activity: PSC issues one per session for the chosen activity).
void ReadSubjectRefPro(const JsonValue& claims, Actor& a) {
  const JsonValue* ref = claims.Find("SubjectRefPro");
  if (!ref || !ref->is_object()) return;
  const JsonValue* exercise = FirstItem(ref->Find("exercices"));
  if (!exercise || !exercise->is_object()) return;
  if (a.profession.empty()) a.profession = Text(exercise->Find("codeProfession"));
  if (a.specialty.empty()) a.specialty = Text(exercise->Find("codeSavoirFaire"));
  const JsonValue* activity = FirstItem(exercise->Find("activities"));
  if (activity && activity->is_object() && a.organisation.empty()) {
    for (const char* key : {"identifiantTechniqueDeLaStructure", "ancienIdentifiantDeLaStructure",
                            "identifiantStructure"}) {
      a.organisation = Text(activity->Find(key));
      if (!a.organisation.empty()) break;
    }
  }
}

}  // namespace

std::string_view ActorKindName(ActorKind kind) {
  switch (kind) {
    case ActorKind::kPatient:
      return "patient";
    case ActorKind::kGuardian:
      return "guardian";
    case ActorKind::kProfessional:
      return "professional";
    case ActorKind::kApp:
      return "app";
    case ActorKind::kSystem:
      return "system";
    case ActorKind::kOperator:
      return "operator";
    case ActorKind::kSupport:
      return "support";
    case ActorKind::kDenied:
      return "denied";
  }
  return "denied";
}

bool IsDeniedRole(std::string_view role) {
  static const char* const kDenied[] = {
      "insurer",        "assureur", "mutuelle",  "complementary-insurer",
      "complementaire", "employer", "employeur", "state",
      "etat",           "état",     "denied",    "assurance",
      "health-insurer"};
  std::string r = Lower(role);
  for (const char* d : kDenied)
    if (r == d) return true;
  return false;
}

std::optional<ActorKind> ParseActorKind(std::string_view name) {
  std::string n = Lower(name);
  if (n == "patient") return ActorKind::kPatient;
  if (n == "guardian") return ActorKind::kGuardian;
  if (n == "professional") return ActorKind::kProfessional;
  if (n == "app") return ActorKind::kApp;
  if (n == "system") return ActorKind::kSystem;
  if (n == "operator") return ActorKind::kOperator;
  if (n == "support") return ActorKind::kSupport;
  if (IsDeniedRole(n)) return ActorKind::kDenied;
  return std::nullopt;
}

bool IsRestrictableParam(std::string_view param) {
  return param == "category" || param == "code" || param == "status";
}

bool ConditionsHold(const std::vector<ScopeCondition>& conditions,
                    const std::vector<ScopeToken>& tokens) {
  for (const auto& c : conditions) {
    bool held = false;
    for (const auto& t : tokens)
      if (t.param == c.param && t.code == c.code && (c.any_system || t.system == c.system))
        held = true;
    if (!held) return false;
  }
  return true;
}

bool SmartScope::Allows(std::string_view type, char permission) const {
  return restriction.empty() && Covers(type, permission);
}

bool SmartScope::AllowsResource(std::string_view type, char permission,
                                const std::vector<ScopeToken>& tokens) const {
  return Covers(type, permission) && ConditionsHold(restriction, tokens);
}

bool ScopesAllowResource(const std::vector<SmartScope>& scopes, std::string_view type,
                         char permission, const std::vector<ScopeToken>& tokens) {
  return std::any_of(scopes.begin(), scopes.end(), [&](const SmartScope& s) {
    return s.AllowsResource(type, permission, tokens);
  });
}

bool SmartScope::Covers(std::string_view type, char permission) const {
  if (resource_type != "*" && resource_type != type) return false;
  switch (permission) {
    case 'c':
      return create;
    case 'r':
      return read;
    case 'u':
      return update;
    case 'd':
      return remove;
    case 's':
      return search;
  }
  return false;
}

std::optional<SmartScope> ParseSmartScope(std::string_view scope) {
  SmartScope s;
  s.raw = std::string(scope);
  auto slash = scope.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  std::string_view ctx = scope.substr(0, slash);
  if (ctx == "patient")
    s.context = ScopeContext::kPatient;
  else if (ctx == "user")
    s.context = ScopeContext::kUser;
  else if (ctx == "system")
    s.context = ScopeContext::kSystem;
  else
    return std::nullopt;  // launch/patient and the like
  std::string_view rest = scope.substr(slash + 1);
  // A restricted scope (?category=...) narrows what it grants; a restriction carnet cannot
  // honour makes the whole scope grant nothing rather than more than it says.
  if (auto q = rest.find('?'); q != std::string_view::npos) {
    std::string_view query = rest.substr(q + 1);
    rest = rest.substr(0, q);
    if (query.empty()) return std::nullopt;
    size_t i = 0;
    while (i <= query.size()) {
      size_t j = query.find('&', i);
      if (j == std::string_view::npos) j = query.size();
      std::string_view pair = query.substr(i, j - i);
      auto eq = pair.find('=');
      if (eq == std::string_view::npos || eq == 0) return std::nullopt;
      ScopeCondition c;
      c.param = std::string(pair.substr(0, eq));
      std::string value = PercentDecode(pair.substr(eq + 1), false);
      if (!IsRestrictableParam(c.param)) return std::nullopt;  // modifiers, chains, others
      if (value.empty() || value.find(',') != std::string::npos) return std::nullopt;
      if (auto bar = value.find('|'); bar != std::string::npos) {
        c.any_system = false;
        c.system = value.substr(0, bar);
        c.code = value.substr(bar + 1);
        if (c.code.empty() || c.code.find('|') != std::string::npos) return std::nullopt;
      } else {
        c.code = value;
      }
      s.restriction.push_back(std::move(c));
      i = j + 1;
    }
  }
  auto dot = rest.find('.');
  if (dot == std::string_view::npos || dot == 0) return std::nullopt;
  std::string_view type = rest.substr(0, dot), perms = rest.substr(dot + 1);
  if (type != "*") {
    if (!std::isupper(static_cast<unsigned char>(type[0]))) return std::nullopt;
    for (char c : type)
      if (!std::isalnum(static_cast<unsigned char>(c))) return std::nullopt;
  }
  s.resource_type = std::string(type);
  if (perms == "read") {
    s.read = s.search = true;
  } else if (perms == "write") {
    s.create = s.update = s.remove = true;
  } else if (perms == "*") {
    s.create = s.read = s.update = s.remove = s.search = true;
  } else {
    // SMART v2: a non-empty subset of "cruds" in that order.
    static constexpr std::string_view kOrder = "cruds";
    size_t at = 0;
    if (perms.empty()) return std::nullopt;
    for (char c : perms) {
      size_t pos = kOrder.find(c, at);
      if (pos == std::string_view::npos) return std::nullopt;
      at = pos + 1;
      if (c == 'c') s.create = true;
      if (c == 'r') s.read = true;
      if (c == 'u') s.update = true;
      if (c == 'd') s.remove = true;
      if (c == 's') s.search = true;
    }
  }
  return s;
}

std::vector<SmartScope> ParseSmartScopes(std::string_view scopes) {
  std::vector<SmartScope> out;
  size_t i = 0;
  while (i < scopes.size()) {
    size_t j = scopes.find(' ', i);
    if (j == std::string_view::npos) j = scopes.size();
    if (j > i)
      if (auto s = ParseSmartScope(scopes.substr(i, j - i))) out.push_back(std::move(*s));
    i = j + 1;
  }
  return out;
}

bool ScopesAllow(const std::vector<SmartScope>& scopes, std::string_view type, char permission) {
  return std::any_of(scopes.begin(), scopes.end(),
                     [&](const SmartScope& s) { return s.Allows(type, permission); });
}

std::string Actor::PrincipalId() const {
  switch (kind) {
    case ActorKind::kProfessional:
      return national_id.empty() ? subject : national_id;
    case ActorKind::kApp:
    case ActorKind::kSystem:
      return client_id.empty() ? subject : client_id;
    default:
      return subject;
  }
}

Result<Actor> ActorFromClaims(const JsonValue& claims) {
  if (!claims.is_object()) return Unauthorized("token claims are not a JSON object");
  Actor a;
  a.claims = claims;
  a.issuer = claims.GetString("iss");
  a.subject = Text(claims.Find("sub"));
  if (const JsonValue* exp = claims.Find("exp"); exp && exp->is_number())
    a.expires_at = static_cast<long long>(std::strtod(exp->text().c_str(), nullptr));
  if (const JsonValue* iat = claims.Find("iat"); iat && iat->is_number())
    a.issued_at = static_cast<long long>(std::strtod(iat->text().c_str(), nullptr));

  a.national_id = Text(claims.Find("preferred_username"));
  if (a.national_id.empty()) a.national_id = Text(claims.Find("national_id"));
  a.profession = Text(claims.Find("profession"));
  a.specialty = Text(claims.Find("specialty"));
  a.given_name = Text(claims.Find("given_name"));
  a.family_name = Text(claims.Find("family_name"));
  a.organisation = Text(claims.Find("organisation"));
  if (a.organisation.empty()) a.organisation = Text(claims.Find("SubjectOrganization"));
  ReadSubjectRefPro(claims, a);
  a.patient_ins = Text(claims.Find("ins"));
  a.patient_id = Text(claims.Find("patient"));
  a.represented_ins = Texts(claims.Find("guardian_of"));
  a.client_id = Text(claims.Find("client_id"));
  if (const JsonValue* scope = claims.Find("scope"); scope && scope->is_string())
    a.scopes = ParseSmartScopes(scope->text());
  for (const std::string& s : Texts(claims.Find("scp")))
    if (auto parsed = ParseSmartScope(s)) a.scopes.push_back(std::move(*parsed));
  a.emergency =
      Truthy(claims.Find("Acces_Regulation_Medicale")) || Truthy(claims.Find("emergency"));
  a.emergency_reason = Text(claims.Find("Mode_Acces_Raison"));
  if (a.emergency_reason.empty()) a.emergency_reason = Text(claims.Find("emergency_reason"));
  // A reason made of blanks is no reason.
  if (a.emergency_reason.find_first_not_of(" \t\r\n") == std::string::npos)
    a.emergency_reason.clear();
  a.consent_asserted = Truthy(claims.Find("consent"));

  // The parties the law keeps out are recognised first, so that no other claim can lift
  // them into an allowed kind.
  std::vector<std::string> roles = Texts(claims.Find("actor"));
  for (const char* key : {"SubjectRole", "role", "roles"})
    for (std::string& r : Texts(claims.Find(key))) roles.push_back(std::move(r));
  roles.push_back(a.profession);
  for (const std::string& r : roles) {
    if (IsDeniedRole(r)) {
      a.kind = ActorKind::kDenied;
      a.denied_role = r;
      return a;
    }
  }

  std::string stated = claims.GetString("actor");
  if (!stated.empty()) {
    auto kind = ParseActorKind(stated);
    if (!kind) return Unauthorized("unknown actor kind '" + stated + "' in the token");
    a.kind = *kind;
  } else if (claims.Find("SubjectRefPro") || (!a.national_id.empty() && !a.profession.empty())) {
    a.kind = ActorKind::kProfessional;
  } else if (!a.client_id.empty() && (!a.patient_id.empty() || !a.patient_ins.empty())) {
    a.kind = ActorKind::kApp;
  } else if (!a.client_id.empty()) {
    a.kind = ActorKind::kSystem;
  } else {
    return Unauthorized("the token does not say which kind of actor it identifies");
  }

  switch (a.kind) {
    case ActorKind::kPatient:
      if (a.patient_ins.empty())
        return Unauthorized("a patient token needs the patient's INS (ins)");
      break;
    case ActorKind::kGuardian:
      if (a.represented_ins.empty())
        return Unauthorized("a guardian token needs the represented minors' INS (guardian_of)");
      if (a.subject.empty()) return Unauthorized("a guardian token needs a subject (sub)");
      break;
    case ActorKind::kProfessional:
      if (a.national_id.empty())
        return Unauthorized("a professional token needs a national id (preferred_username)");
      break;
    case ActorKind::kApp:
      if (a.client_id.empty()) return Unauthorized("an app token needs a client_id");
      if (a.patient_ins.empty() && a.patient_id.empty())
        return Unauthorized("an app token needs the patient it acts for (patient or ins)");
      break;
    case ActorKind::kSystem:
      if (a.client_id.empty() && a.subject.empty())
        return Unauthorized("a system token needs a client_id");
      break;
    case ActorKind::kOperator:
      if (a.subject.empty()) return Unauthorized("an operator token needs a subject (sub)");
      break;
    case ActorKind::kSupport:
      if (a.subject.empty()) return Unauthorized("a support token needs a subject (sub)");
      break;
    case ActorKind::kDenied:
      a.denied_role = stated;
      break;
  }
  return a;
}

}  // namespace carnet::profiles
