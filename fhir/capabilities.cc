// GET /fhir/metadata: the CapabilityStatement, generated from what is served (the types,
// their interactions, search parameters and operations), so that it cannot drift from the
// route table; the operations from fhir/data/operation_definitions.json, each declared by the
// canonical URL of its OperationDefinition (served at GET /fhir/OperationDefinition/[id]).
#include "base/strings.h"
#include "fhir/operation_definitions.h"
#include "fhir/rest_impl.h"
#include "fhir/search.h"

namespace carnet::fhir {
namespace {

// rest.security: SMART App Launch (carnet's own authorization server, server/smart.h), with
// the oauth-uris extension SMART defines, beside the other issuers' bearer tokens.
JsonValue SmartSecurity(const std::string& base_url) {
  std::string origin = base_url;
  if (origin.size() >= 5 && origin.compare(origin.size() - 5, 5, "/fhir") == 0)
    origin.resize(origin.size() - 5);
  auto str = [](std::string v) { return JsonValue::String(std::move(v)); };
  auto uri = [&](const char* name, const std::string& value) {
    JsonValue e = JsonValue::Object();
    e.Set("url", str(name));
    e.Set("valueUri", str(value));
    return e;
  };
  JsonValue inner = JsonValue::Array();
  inner.Append(uri("authorize", origin + "/oauth/authorize"));
  inner.Append(uri("token", origin + "/oauth/token"));
  inner.Append(uri("revoke", origin + "/oauth/revoke"));
  JsonValue oauth = JsonValue::Object();
  oauth.Set("url", str("http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris"));
  oauth.Set("extension", std::move(inner));
  JsonValue extensions = JsonValue::Array();
  extensions.Append(std::move(oauth));
  JsonValue coding = JsonValue::Object();
  coding.Set("system", str("http://terminology.hl7.org/CodeSystem/restful-security-service"));
  coding.Set("code", str("SMART-on-FHIR"));
  JsonValue codings = JsonValue::Array();
  codings.Append(std::move(coding));
  JsonValue service = JsonValue::Object();
  service.Set("coding", std::move(codings));
  service.Set("text",
              str("OAuth2 using SMART-on-FHIR profile (see http://docs.smarthealthit.org)"));
  JsonValue services = JsonValue::Array();
  services.Append(std::move(service));
  JsonValue security = JsonValue::Object();
  security.Set("extension", std::move(extensions));
  // Browser apps of the catalogue: CORS for the origins of their redirect URIs.
  security.Set("cors", JsonValue::Bool(true));
  security.Set("service", std::move(services));
  security.Set("description",
               str("Bearer tokens (RFC 6750) from the trusted issuers, and from carnet's own SMART "
                   "App Launch 2 authorization server for the apps of its catalogue (" +
                   origin +
                   "/.well-known/smart-configuration); CORS answered for the origins of the "
                   "catalogue's redirect URIs"));
  return security;
}

}  // namespace

EntryResult Capabilities(const FhirContext& ctx, Call& /*call*/) {
  JsonValue cs = JsonValue::Object();
  cs.Set("resourceType", JsonValue::String("CapabilityStatement"));
  cs.Set("status", JsonValue::String("active"));
  cs.Set("date", JsonValue::String(FormatUtc(std::chrono::system_clock::now()).substr(0, 10)));
  cs.Set("publisher", JsonValue::String("carnet"));
  cs.Set("kind", JsonValue::String("instance"));
  JsonValue software = JsonValue::Object();
  software.Set("name", JsonValue::String("carnet"));
  cs.Set("software", std::move(software));
  JsonValue impl = JsonValue::Object();
  impl.Set("description",
           JsonValue::String("carnet FHIR R4 gateway onto the personal health record"));
  impl.Set("url", JsonValue::String(ctx.options.base_url));
  cs.Set("implementation", std::move(impl));
  cs.Set("fhirVersion", JsonValue::String("4.0.1"));
  JsonValue formats = JsonValue::Array();
  for (const char* f : {"application/fhir+json", "application/fhir+xml", "json", "xml"})
    formats.Append(JsonValue::String(f));
  cs.Set("format", std::move(formats));
  JsonValue patch_formats = JsonValue::Array();
  patch_formats.Append(JsonValue::String("application/json-patch+json"));
  cs.Set("patchFormat", std::move(patch_formats));

  const std::string& base = ctx.options.base_url;
  JsonValue rest = JsonValue::Object();
  rest.Set("mode", JsonValue::String("server"));
  rest.Set("security", SmartSecurity(ctx.options.base_url));
  JsonValue resources = JsonValue::Array();
  for (const std::string& type : ServedTypes()) {
    JsonValue r = JsonValue::Object();
    r.Set("type", JsonValue::String(type));
    JsonValue interactions = JsonValue::Array();
    std::vector<const char*> codes = {"read", "vread", "history-instance", "history-type"};
    if (!IsReadOnlyType(type))
      for (const char* c : {"create", "update", "patch", "delete"}) codes.push_back(c);
    for (const char* c : codes) {
      JsonValue i = JsonValue::Object();
      i.Set("code", JsonValue::String(c));
      interactions.Append(std::move(i));
    }
    auto params = SupportedSearchParams(type);
    if (!params.empty()) {
      JsonValue i = JsonValue::Object();
      i.Set("code", JsonValue::String("search-type"));
      interactions.Append(std::move(i));
    }
    r.Set("interaction", std::move(interactions));
    if (!params.empty()) {
      JsonValue sp = JsonValue::Array();
      for (const auto& [code, sptype] : params) {
        JsonValue p = JsonValue::Object();
        p.Set("name", JsonValue::String(code));
        p.Set("type", JsonValue::String(sptype));
        if (type == "AuditEvent")
          p.Set("documentation",
                JsonValue::String(code == "patient"
                                      ? "required: the access history of one record, read by the "
                                        "patient or a guardian"
                                  : code == "agent" ? "the actor, by identifier ([system|]value)"
                                  : code == "entity"
                                      ? "the object accessed ([type]/[id]; several, comma-separated, "
                                        "for any of them): e.g. a document and its Binary"
                                      : "with a prefix (ge, gt, le, lt, eq)"));
        if (sptype == "composite" || sptype == "special")
          p.Set("documentation", JsonValue::String(GroupedParamDocumentation(type, code)));
        if (code == "_text" || code == "_content")
          p.Set("documentation",
                JsonValue::String(std::string(code == "_text"
                                                  ? "the narrative"
                                                  : "the whole resource, and a DocumentReference's "
                                                    "document when it is text") +
                                  ": words (French and English stemming, accents optional), \"a "
                                  "phrase\", or, -excluded"));
        sp.Append(std::move(p));
      }
      r.Set("searchParam", std::move(sp));
    }
    r.Set("versioning", JsonValue::String("versioned-update"));
    r.Set("readHistory", JsonValue::Bool(true));
    r.Set("updateCreate", JsonValue::Bool(!IsReadOnlyType(type)));
    r.Set("conditionalRead", JsonValue::String("modified-since"));
    if (!IsReadOnlyType(type)) {
      r.Set("conditionalCreate", JsonValue::Bool(true));
      r.Set("conditionalUpdate", JsonValue::Bool(true));
      r.Set("conditionalDelete", JsonValue::String("single"));
    }
    JsonValue ops = JsonValue::Array();
    auto op = [&](const std::string& name, const std::string& def) {
      JsonValue o = JsonValue::Object();
      o.Set("name", JsonValue::String(name));
      o.Set("definition", JsonValue::String(def));
      ops.Append(std::move(o));
    };
    // Every operation of fhir/data/operation_definitions.json that applies to the type, by
    // the canonical URL of its OperationDefinition (served at that URL).
    for (const JsonValue& od : OperationDefinitions())
      if (AppliesTo(od, type) && (od.Find("type")->as_bool() || od.Find("instance")->as_bool()))
        op(od.GetString("code"), OperationDefinitionUrl(base, od.GetString("id")));
    r.Set("operation", std::move(ops));
    resources.Append(std::move(r));
  }
  rest.Set("resource", std::move(resources));
  JsonValue sys = JsonValue::Array();
  for (const char* c : {"transaction", "batch", "history-system"}) {
    JsonValue i = JsonValue::Object();
    i.Set("code", JsonValue::String(c));
    sys.Append(std::move(i));
  }
  rest.Set("interaction", std::move(sys));
  JsonValue system_ops = JsonValue::Array();
  for (const JsonValue& od : OperationDefinitions()) {
    if (!od.Find("system")->as_bool()) continue;
    JsonValue o = JsonValue::Object();
    o.Set("name", JsonValue::String(od.GetString("code")));
    o.Set("definition", JsonValue::String(OperationDefinitionUrl(base, od.GetString("id"))));
    system_ops.Append(std::move(o));
  }
  if (!system_ops.items().empty()) rest.Set("operation", std::move(system_ops));
  JsonValue rests = JsonValue::Array();
  rests.Append(std::move(rest));
  cs.Set("rest", std::move(rests));
  return WithResource(std::move(cs));
}

}  // namespace carnet::fhir
