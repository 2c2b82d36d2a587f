// GET /fhir/metadata: the CapabilityStatement, generated from what is served (the types,
// their interactions, search parameters and operations), so that it cannot drift from the
// route table.
#include "base/strings.h"
#include "fhir/rest_impl.h"
#include "fhir/search.h"

namespace carnet::fhir {
namespace {

// carnet's $validate: R4's Resource-validate, its modes meaning the server's own verdict on that
// write for the caller (fhir/writes.cc, ValidateResource). Contained in the CapabilityStatement,
// which names it as "#validate" for every type.
JsonValue ValidateOperationDefinition(const std::string& base_url) {
  JsonValue od = JsonValue::Object();
  od.Set("resourceType", JsonValue::String("OperationDefinition"));
  od.Set("id", JsonValue::String("validate"));
  od.Set("url", JsonValue::String(base_url + "/OperationDefinition/Resource-validate"));
  od.Set("name", JsonValue::String("Validate"));
  od.Set("status", JsonValue::String("active"));
  od.Set("kind", JsonValue::String("operation"));
  od.Set("description",
         JsonValue::String(
             "Validates a resource. Without a mode: the R4 definitions, the invariants and the "
             "server's rules that need the resource only. mode=create|update|delete: the verdict "
             "the server would give that write for this caller (every check the write makes: "
             "read-only types, SearchParameter codes, the record the resource is filed under, "
             "the access policy), without writing; the same answer for a resource the caller "
             "may not see as for one that does not exist. Answers 200 with an OperationOutcome "
             "whenever validation ran."));
  od.Set("code", JsonValue::String("validate"));
  od.Set("base", JsonValue::String("http://hl7.org/fhir/OperationDefinition/Resource-validate"));
  JsonValue resources = JsonValue::Array();
  resources.Append(JsonValue::String("Resource"));
  od.Set("resource", std::move(resources));
  od.Set("system", JsonValue::Bool(false));
  od.Set("type", JsonValue::Bool(true));
  od.Set("instance", JsonValue::Bool(true));
  JsonValue params = JsonValue::Array();
  auto param = [&](const char* name, const char* use, int min, const char* max, const char* type,
                   const char* doc) {
    JsonValue p = JsonValue::Object();
    p.Set("name", JsonValue::String(name));
    p.Set("use", JsonValue::String(use));
    p.Set("min", JsonValue::Number(std::to_string(min)));
    p.Set("max", JsonValue::String(max));
    p.Set("documentation", JsonValue::String(doc));
    p.Set("type", JsonValue::String(type));
    params.Append(std::move(p));
  };
  param("resource", "in", 0, "1", "Resource",
        "The resource to validate (the body itself, or this part of a Parameters body); not "
        "needed for mode=delete");
  param("mode", "in", 0, "1", "code",
        "create | update | delete | profile, in the query or the Parameters body; update and "
        "delete at [type]/[id]/$validate");
  param("profile", "in", 0, "1", "uri",
        "http://hl7.org/fhir/StructureDefinition/[type]; any other profile is reported as not "
        "known");
  param("return", "out", 1, "1", "OperationOutcome",
        "Every issue found; for a mode, the write's own answer first");
  od.Set("parameter", std::move(params));
  return od;
}

// carnet's $summary: the IPS operation (hl7.fhir.uv.ips 2.0.0, OperationDefinition/summary) at
// the instance level, computed for the caller (fhir/summary.cc), also as a PDF. Contained, named
// "#summary" on Patient.
JsonValue SummaryOperationDefinition(const std::string& base_url) {
  JsonValue od = JsonValue::Object();
  od.Set("resourceType", JsonValue::String("OperationDefinition"));
  od.Set("id", JsonValue::String("summary"));
  od.Set("url", JsonValue::String(base_url + "/OperationDefinition/Patient-summary"));
  od.Set("name", JsonValue::String("Summary"));
  od.Set("title", JsonValue::String("Patient summary (HL7 IPS)"));
  od.Set("status", JsonValue::String("active"));
  od.Set("kind", JsonValue::String("operation"));
  od.Set("description",
         JsonValue::String(
             "The International Patient Summary of the record as a document Bundle (Composition "
             "LOINC 60591-5: problems, allergies, medications, and the immunizations, results, "
             "procedures, devices, vital signs, past illness, plan of care and advance "
             "directives the record holds), computed for the caller: it holds only what the "
             "caller may see, and a record the caller may not see answers as one that does not "
             "exist. With Accept: application/pdf or _format=pdf, the same summary as a PDF. "
             "Audited as a read of the record."));
  od.Set("code", JsonValue::String("summary"));
  od.Set("base", JsonValue::String("http://hl7.org/fhir/uv/ips/OperationDefinition/summary"));
  JsonValue resources = JsonValue::Array();
  resources.Append(JsonValue::String("Patient"));
  od.Set("resource", std::move(resources));
  od.Set("system", JsonValue::Bool(false));
  od.Set("type", JsonValue::Bool(false));
  od.Set("instance", JsonValue::Bool(true));
  JsonValue params = JsonValue::Array();
  JsonValue p = JsonValue::Object();
  p.Set("name", JsonValue::String("return"));
  p.Set("use", JsonValue::String("out"));
  p.Set("min", JsonValue::Number("0"));
  p.Set("max", JsonValue::String("1"));
  p.Set("documentation",
        JsonValue::String("The IPS document Bundle (or, asked for, its PDF rendering)"));
  p.Set("type", JsonValue::String("Bundle"));
  params.Append(std::move(p));
  od.Set("parameter", std::move(params));
  return od;
}

}  // namespace

EntryResult Capabilities(const FhirContext& ctx, Call& /*call*/) {
  JsonValue cs = JsonValue::Object();
  cs.Set("resourceType", JsonValue::String("CapabilityStatement"));
  JsonValue contained = JsonValue::Array();
  contained.Append(ValidateOperationDefinition(ctx.options.base_url));
  contained.Append(SummaryOperationDefinition(ctx.options.base_url));
  cs.Set("contained", std::move(contained));
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

  JsonValue rest = JsonValue::Object();
  rest.Set("mode", JsonValue::String("server"));
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
                                                    : "with a prefix (ge, gt, le, lt, eq)"));
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
    auto op = [&](const char* name, const char* def) {
      JsonValue o = JsonValue::Object();
      o.Set("name", JsonValue::String(name));
      o.Set("definition", JsonValue::String(def));
      ops.Append(std::move(o));
    };
    op("validate", "#validate");
    if (type == "Patient") {
      op("everything", "http://hl7.org/fhir/OperationDefinition/Patient-everything");
      op("summary", "#summary");
    }
    if (type == "DocumentReference")
      op("deposit",
         "https://carnet.example.org/fhir/OperationDefinition/DocumentReference-deposit");
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
  JsonValue rests = JsonValue::Array();
  rests.Append(std::move(rest));
  cs.Set("rest", std::move(rests));
  return WithResource(std::move(cs));
}

}  // namespace carnet::fhir
