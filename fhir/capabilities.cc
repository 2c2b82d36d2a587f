// GET /fhir/metadata: the CapabilityStatement, generated from what is served (the types,
// their interactions, search parameters and operations), so that it cannot drift from the
// route table.
#include "base/strings.h"
#include "fhir/rest_impl.h"
#include "fhir/search.h"

namespace carnet::fhir {
namespace {

// An operation carnet declares: an OperationDefinition contained in the CapabilityStatement
// and named "#<id>" by the types it applies to.
struct OperationParam {
  const char* name;
  const char* use;  // in | out
  int min;
  const char* max;
  const char* type;
  const char* documentation;
};
struct OperationSpec {
  const char* id;
  const char* code;
  const char* name;
  const char* base;  // the standard definition it specialises ("" when carnet's own)
  std::vector<const char*> resources;
  bool type_level;
  bool instance_level;
  const char* description;
  std::vector<OperationParam> parameters;
};

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
  security.Set("cors", JsonValue::Bool(false));
  security.Set("service", std::move(services));
  security.Set("description",
               str("Bearer tokens (RFC 6750) from the trusted issuers, and from carnet's own SMART "
                   "App Launch 2 authorization server for the apps of its catalogue (" +
                   origin + "/.well-known/smart-configuration)"));
  return security;
}

JsonValue OperationDefinitionOf(const OperationSpec& spec, const std::string& base_url) {
  JsonValue od = JsonValue::Object();
  od.Set("resourceType", JsonValue::String("OperationDefinition"));
  od.Set("id", JsonValue::String(spec.id));
  od.Set("url", JsonValue::String(base_url + "/OperationDefinition/" + spec.id));
  od.Set("name", JsonValue::String(spec.name));
  od.Set("status", JsonValue::String("active"));
  od.Set("kind", JsonValue::String("operation"));
  od.Set("description", JsonValue::String(spec.description));
  od.Set("code", JsonValue::String(spec.code));
  if (*spec.base) od.Set("base", JsonValue::String(spec.base));
  JsonValue resources = JsonValue::Array();
  for (const char* r : spec.resources) resources.Append(JsonValue::String(r));
  od.Set("resource", std::move(resources));
  od.Set("system", JsonValue::Bool(false));
  od.Set("type", JsonValue::Bool(spec.type_level));
  od.Set("instance", JsonValue::Bool(spec.instance_level));
  JsonValue params = JsonValue::Array();
  for (const OperationParam& param : spec.parameters) {
    JsonValue p = JsonValue::Object();
    p.Set("name", JsonValue::String(param.name));
    p.Set("use", JsonValue::String(param.use));
    p.Set("min", JsonValue::Number(std::to_string(param.min)));
    p.Set("max", JsonValue::String(param.max));
    p.Set("documentation", JsonValue::String(param.documentation));
    p.Set("type", JsonValue::String(param.type));
    params.Append(std::move(p));
  }
  od.Set("parameter", std::move(params));
  return od;
}

// carnet's $validate: R4's Resource-validate, its modes meaning the server's own verdict on that
// write for the caller (fhir/writes.cc, ValidateResource), for every type.
const OperationSpec kValidate = {
    "Resource-validate",
    "validate",
    "Validate",
    "http://hl7.org/fhir/OperationDefinition/Resource-validate",
    {"Resource"},
    true,
    true,
    "Validates a resource. Without a mode: the R4 definitions, the invariants and the "
    "server's rules that need the resource only. mode=create|update|delete: the verdict "
    "the server would give that write for this caller (every check the write makes: "
    "read-only types, SearchParameter codes, the record the resource is filed under, "
    "the access policy), without writing; the same answer for a resource the caller "
    "may not see as for one that does not exist. Answers 200 with an OperationOutcome "
    "whenever validation ran.",
    {{"resource", "in", 0, "1", "Resource",
      "The resource to validate (the body itself, or this part of a Parameters body); not "
      "needed for mode=delete"},
     {"mode", "in", 0, "1", "code",
      "create | update | delete | profile, in the query or the Parameters body; update and "
      "delete at [type]/[id]/$validate"},
     {"profile", "in", 0, "1", "uri",
      "http://hl7.org/fhir/StructureDefinition/[type]; any other profile is reported as not "
      "known"},
     {"return", "out", 1, "1", "OperationOutcome",
      "Every issue found; for a mode, the write's own answer first"}}};

// Patient/[id]/$agenda (fhir/agenda.cc).
const OperationSpec kAgenda = {
    "Patient-agenda",
    "agenda",
    "Agenda",
    "",
    {"Patient"},
    false,
    true,
    "The patient's agenda over a period: the record's Appointments the caller may see, found "
    "and audited as Patient/[id]/Appointment?date=ge[start]&date=le[end] would be, sorted by "
    "date. As a searchset Bundle, or, with _format=ics or Accept: text/calendar, as an "
    "iCalendar (RFC 5545) feed a phone calendar reads (one VEVENT per scheduled appointment, "
    "times in UTC). The vaccination and screening reminders ($reminders) that fall in the "
    "period are included: all-day events in the feed, the ImmunizationRecommendation and "
    "ServiceRequests (search mode include) in the searchset. A record the caller may not see "
    "answers 404 like one that does not exist.",
    {{"start", "in", 0, "1", "date", "First day (default: 90 days ago)"},
     {"end", "in", 0, "1", "date",
      "Last day (default: 455 days after start); at most three years after start"},
     {"return", "out", 1, "1", "Bundle",
      "A searchset of Appointments (or the text/calendar feed)"}}};

// POST Patient/[id]/$agenda-link (fhir/agenda.cc, profiles/agenda_feed.h).
const OperationSpec kAgendaLink = {
    "Patient-agenda-link",
    "agenda-link",
    "AgendaLink",
    "",
    {"Patient"},
    false,
    true,
    "The caller's calendar subscription link to the record's agenda, for a phone calendar "
    "that cannot send a Bearer token: GET [base]/agenda/[secret].ics answers the $agenda "
    "feed, decided and audited as a read by the identity that asked for the link. The "
    "patient and guardians only. A new link ends the caller's previous one; revoke=true ends "
    "it without a new one. Only a hash of the secret is stored, and it is never logged.",
    {{"revoke", "in", 0, "1", "boolean", "true: end the caller's link, issue none"},
     {"url", "out", 0, "1", "url", "The link (absent after a revocation)"}}};

// Patient/[id]/$profile (fhir/health_profile_op.cc, health_profile/sections.h).
const OperationSpec kProfile = {
    "Patient-profile",
    "profile",
    "HealthProfile",
    "",
    {"Patient"},
    false,
    true,
    "The patient's health profile: the record's entries the caller may see, grouped in the "
    "public service's sections (history, treatments, allergies, family history, "
    "vaccinations, measurements, wishes, contacts, professionals), each section a List with "
    "its LOINC code; the same fact stated by several sources (same code, day and value) is "
    "shown once, each List entry naming its sources (extension profile-entry-source: "
    "patient | professional | document, profile-entry-document, profile-entry-duplicate). "
    "Audited as one read; a record the caller may not see answers 404 like a missing one.",
    {{"return", "out", 1, "1", "Bundle",
      "A collection: the Patient, a List per section, the resources they name"}}};

// POST Patient/[id]/$profile-visibility (fhir/health_profile_op.cc).
const OperationSpec kProfileVisibility = {
    "Patient-profile-visibility",
    "profile-visibility",
    "ProfileVisibility",
    "",
    {"Patient"},
    false,
    true,
    "The patient's (or a guardian's) choice to hide a section of the health profile from "
    "professionals, or to show it again: the entries already there get (or lose) MASQUE_PS, "
    "each change audited, and entries written into a hidden section later are hidden too. "
    "Their author still reads them.",
    {{"section", "in", 1, "1", "code",
      "history | treatments | allergies | family | vaccinations | measurements | wishes | "
      "contacts | professionals"},
     {"visible", "in", 1, "1", "boolean", "false hides the section from professionals"},
     {"changed", "out", 1, "1", "integer", "How many entries changed visibility"}}};

// Patient/[id]/$reminders (fhir/reminders.cc, prevention/).
const OperationSpec kReminders = {
    "Patient-reminders",
    "reminders",
    "Reminders",
    "",
    {"Patient"},
    false,
    true,
    "The vaccinations and screenings recommended for the patient on a day, from the French "
    "vaccination calendar and the organised screening programmes (data tables, each row with "
    "its source and year) and what of the record the caller may see: completed Immunizations, "
    "and Observations, Procedures and DiagnosticReports carrying a screening code. Answers a "
    "Bundle of type collection: one ImmunizationRecommendation (a recommendation per dose or "
    "campaign season: forecastStatus due, overdue, complete or upcoming; dateCriterion LOINC "
    "30981-5, 30980-7, 59778-1, 59777-3; supportingImmunization) and one ServiceRequest of "
    "intent proposal per screening programme (status draft when upcoming, active when due or "
    "overdue, completed when done; occurrencePeriod; supportingInfo; the reminder status in the "
    "extension https://carnet.example.org/fhir/StructureDefinition/reminder-status). A record "
    "the caller may not see answers 404 like one that does not exist; every call is audited.",
    {{"date", "in", 0, "1", "date",
      "The day the reminders are computed for (YYYY-MM-DD); default today (UTC)"},
     {"horizon", "in", 0, "1", "integer",
      "How many days ahead a dose or screening counts as upcoming; default 90"},
     {"return", "out", 1, "1", "Bundle",
      "A collection: the ImmunizationRecommendation, then the screening ServiceRequests"}}};

// Patient/[id]/$summary (fhir/summary.cc, summary/document.h): the IPS operation
// (hl7.fhir.uv.ips 2.0.0) at the instance level, computed for the caller, also as a PDF.
const OperationSpec kSummary = {
    "Patient-summary",
    "summary",
    "Summary",
    "http://hl7.org/fhir/uv/ips/OperationDefinition/summary",
    {"Patient"},
    false,
    true,
    "The International Patient Summary of the record as a document Bundle (Composition LOINC "
    "60591-5: problems, allergies, medications, and the immunizations, results, procedures, "
    "devices, vital signs, past illness, plan of care and advance directives the record "
    "holds), computed for the caller: it holds only what the caller may see, and a record the "
    "caller may not see answers 404 like one that does not exist. With Accept: "
    "application/pdf or _format=pdf, the same summary as a PDF. Audited as $everything is.",
    {{"return", "out", 0, "1", "Bundle",
      "The IPS document Bundle (or, asked for, its PDF rendering)"}}};

// POST Communication/[id]/$mark-read (fhir/messaging.cc).
const OperationSpec kMarkRead = {
    "Communication-mark-read",
    "mark-read",
    "MarkRead",
    "",
    {"Communication"},
    false,
    true,
    "A recipient of a secure message records that they read it: `received` is set to now "
    "(the first reading time stays on later calls). Only a recipient (403 for its sender); "
    "one who is no party to the message gets 404, as for a message that does not exist. "
    "Decided by the access policy and audited.",
    {{"return", "out", 1, "1", "Communication", "The message as it now stands"}}};

// POST Communication/[id]/$file-attachment (fhir/messaging.cc).
const OperationSpec kFileAttachment = {
    "Communication-file-attachment",
    "file-attachment",
    "FileAttachment",
    "",
    {"Communication"},
    false,
    true,
    "The patient (or a guardian) files an attachment of a message they received or sent into "
    "the record: a DocumentReference deposited by the patient (author the Patient, "
    "context.related the Communication) and a Binary with the attachment's bytes. Only an "
    "attachment with inline data. Decided and audited as the patient's deposit.",
    {{"attachment", "in", 0, "1", "integer",
      "Position of the attachment among the message's attachments (default 0)"},
     {"type", "in", 0, "1", "code",
      "Document type: LOINC, or a DMP local code (default DOC_PATIENT, a document deposited "
      "by the patient)"},
     {"return", "out", 1, "1", "DocumentReference", "The document filed"}}};

const std::vector<const OperationSpec*>& DeclaredOperations() {
  static const std::vector<const OperationSpec*> kAll = {
      &kValidate,  &kAgenda,  &kAgendaLink, &kProfile,       &kProfileVisibility,
      &kReminders, &kSummary, &kMarkRead,   &kFileAttachment};
  return kAll;
}

}  // namespace

EntryResult Capabilities(const FhirContext& ctx, Call& /*call*/) {
  JsonValue cs = JsonValue::Object();
  cs.Set("resourceType", JsonValue::String("CapabilityStatement"));
  JsonValue contained = JsonValue::Array();
  for (const OperationSpec* spec : DeclaredOperations())
    contained.Append(OperationDefinitionOf(*spec, ctx.options.base_url));
  contained.Append(AccessDecisionsDefinition(ctx.options.base_url));
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
    auto op = [&](const char* name, const char* def) {
      JsonValue o = JsonValue::Object();
      o.Set("name", JsonValue::String(name));
      o.Set("definition", JsonValue::String(def));
      ops.Append(std::move(o));
    };
    for (const OperationSpec* spec : DeclaredOperations())
      for (const char* r : spec->resources)
        if (r == std::string("Resource") || r == type)
          op(spec->code, ("#" + std::string(spec->id)).c_str());
    if (type == "Patient")
      op("everything", "http://hl7.org/fhir/OperationDefinition/Patient-everything");
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
  // System-level operations.
  JsonValue sys_ops = JsonValue::Array();
  JsonValue access_decisions = JsonValue::Object();
  access_decisions.Set("name", JsonValue::String("access-decisions"));
  access_decisions.Set("definition", JsonValue::String("#access-decisions"));
  sys_ops.Append(std::move(access_decisions));
  rest.Set("operation", std::move(sys_ops));
  JsonValue rests = JsonValue::Array();
  rests.Append(std::move(rest));
  cs.Set("rest", std::move(rests));
  return WithResource(std::move(cs));
}

}  // namespace carnet::fhir
