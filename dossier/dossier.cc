#include "dossier/dossier.h"

#include <algorithm>
#include <chrono>

#include "base/http.h"
#include "base/strings.h"
#include "dossier/after_write.h"
#include "dossier/conformance_source.h"
#include "dossier/document_extraction.h"
#include "dossier/messages.h"
#include "dossier/search_index.h"
#include "health_profile/sections.h"
#include "mapping/registry_index.h"
#include "model/compartment.h"
#include "model/profile.h"
#include "model/structure.h"
#include "model/validator.h"
#include "profiles/messaging.h"
#include "profiles/shared_content.h"
#include "storage/advisory_lock.h"
#include "storage/document_content.h"
#include "storage/profile_choice_store.h"

namespace carnet::dossier {
namespace {

// National identity (INS) systems: production NIR/NIA, and the test and demo ones.
const char* const kInsSystems[] = {"urn:oid:1.2.250.1.213.1.4.8", "urn:oid:1.2.250.1.213.1.4.9",
                                   "urn:oid:1.2.250.1.213.1.4.10", "urn:oid:1.2.250.1.213.1.4.11"};

std::string NowInstant() { return FormatUtc(std::chrono::system_clock::now()); }

// Puts id and meta (versionId, lastUpdated; other meta members kept) right after
// resourceType, as FHIR writers conventionally order them.
JsonValue Stamp(JsonValue resource, const std::string& id, int version,
                const std::string& last_updated) {
  JsonValue meta = JsonValue::Object();
  if (const JsonValue* old = resource.Find("meta"); old && old->is_object()) meta = *old;
  meta.Remove("versionId");
  meta.Remove("lastUpdated");
  JsonValue stamped_meta = JsonValue::Object();
  stamped_meta.Set("versionId", JsonValue::String(std::to_string(version)));
  stamped_meta.Set("lastUpdated", JsonValue::String(last_updated));
  for (auto& m : meta.members()) stamped_meta.members().push_back(std::move(m));

  JsonValue out = JsonValue::Object();
  out.Set("resourceType", JsonValue::String(resource.GetString("resourceType")));
  out.Set("id", JsonValue::String(id));
  out.Set("meta", std::move(stamped_meta));
  for (auto& m : resource.members()) {
    if (m.first == "resourceType" || m.first == "id" || m.first == "meta") continue;
    out.members().push_back(std::move(m));
  }
  return out;
}

}  // namespace

JsonValue StampVersion(JsonValue resource, const std::string& id, int version,
                       const std::string& last_updated, const std::string& source) {
  if (resource.is_object()) {
    JsonValue meta = JsonValue::Object();
    if (const JsonValue* old = resource.Find("meta"); old && old->is_object()) meta = *old;
    meta.Set("source", JsonValue::String(source));
    resource.Set("meta", std::move(meta));
  }
  return Stamp(std::move(resource), id, version, last_updated);
}

// Security labels the policy filters on: meta.security, and the securityLabel of the
// resources that carry one (DocumentReference: where the French visibility codes MASQUE_PS,
// INVISIBLE_PATIENT and INVISIBLE_REPRESENTANTS_LEGAUX travel).
std::vector<std::string> SecurityCodes(const JsonValue& resource) {
  std::vector<std::string> codes;
  const JsonValue* meta = resource.Find("meta");
  const JsonValue* sec = meta ? meta->Find("security") : nullptr;
  if (sec && sec->is_array())
    for (const auto& c : sec->items()) {
      std::string code = c.GetString("code");
      if (!code.empty()) codes.push_back(code);
    }
  if (const JsonValue* labels = resource.Find("securityLabel"); labels && labels->is_array())
    for (const auto& concept_value : labels->items())
      if (const JsonValue* codings = concept_value.Find("coding"); codings && codings->is_array())
        for (const auto& c : codings->items()) {
          std::string code = c.GetString("code");
          if (!code.empty()) codes.push_back(code);
        }
  return codes;
}

std::pair<std::string, std::string> NationalIdentityOf(const JsonValue& patient) {
  const JsonValue* ids = patient.Find("identifier");
  if (!ids || !ids->is_array()) return {};
  for (const auto& ident : ids->items()) {
    std::string system = ident.GetString("system");
    for (const char* ins : kInsSystems)
      if (system == ins) return {ident.GetString("value"), system.substr(8)};
  }
  return {};
}

Result<JsonValue> StoredJson(const storage::StoredResource& r) {
  auto parsed = ParseJson(r.content);
  if (!parsed.ok()) return Internal("stored " + r.type + "/" + r.id + " is unreadable");
  return parsed;
}

Status CheckResource(storage::Transaction& tx, const std::string& type, const JsonValue& resource,
                     std::vector<model::ValidationIssue>* issues_out,
                     const std::vector<std::string>& profiles) {
  std::string rt = resource.GetString("resourceType");
  if (rt.empty()) return BadRequest("the resource has no resourceType", "resourceType");
  if (rt != type)
    return BadRequest("the body is a " + rt + " but the URL names " + type, "resourceType");
  auto issues = model::ValidateResource(resource);
  // The posted profiles it claims (and those $validate was asked for), after the core rules.
  StoredConformance source(tx);
  model::Conformance conformance(source);
  auto profiled = model::ValidateProfiles(resource, profiles, conformance);
  if (!profiled.ok()) return profiled.status();
  issues.insert(issues.end(), profiled->begin(), profiled->end());
  std::stable_partition(issues.begin(), issues.end(),
                        [](const model::ValidationIssue& i) { return i.severity == "error"; });
  if (issues_out) *issues_out = issues;
  // The first error leads; every other issue travels as a detail, so that the client sees
  // all of them at once. A broken invariant is told as such (issue type "invariant", its key
  // and text in the message); the invariants not checked are for $validate only.
  auto issue_code = [](const model::ValidationIssue& i) {
    return std::string(i.code == "invariant" ? "invariant" : "invalid");
  };
  const model::ValidationIssue* first = nullptr;
  std::vector<Status::Detail> rest;
  for (const auto& i : issues) {
    if (!first && (i.severity == "error" || i.severity == "fatal"))
      first = &i;
    else if (i.severity != "information")
      rest.push_back({i.message, i.expression, issue_code(i),
                      i.severity == "error" ? std::string() : i.severity});
  }
  if (!first) return Status::Ok();
  ErrorCode code = first->code == "invariant" ? ErrorCode::kInvariant : ErrorCode::kInvalid;
  return Status(code, first->message, first->expression).WithDetails(std::move(rest));
}

// The answer to a write into a record the writer does not know: the same whether no such
// record exists or the writer may not see it (a refusal must not tell which).
static Status UnknownRecord(const std::string& type, const JsonValue& resource) {
  if (type == "Subscription")
    return Invalid("Subscription.criteria names no known record", "Subscription.criteria");
  auto ids = model::PatientCompartmentIds(resource);
  std::string patient = ids.empty() ? std::string("the patient") : "Patient/" + ids.front();
  return Invalid(patient + " is not a known record", type);
}

// The record a resource is filed under: a Patient's own (created with its first version), the
// one its compartment references name, a Binary's securityContext's, a Subscription's criteria's,
// a Provenance's targets'; none for shared resources (Practitioner, Organization...).
static Result<std::optional<long long>> CompartmentKey(storage::Transaction& tx,
                                                       const std::string& type,
                                                       const std::string& id,
                                                       const JsonValue& resource) {
  if (type == "Patient") {
    auto key = storage::FindPatientKeyByResourceId(tx, id);
    if (!key.ok()) return key.status();
    auto [ins, system] = NationalIdentityOf(resource);
    std::vector<std::pair<std::string, std::string>> identifiers;
    if (const JsonValue* ids = resource.Find("identifier"); ids && ids->is_array())
      for (const auto& ident : ids->items())
        identifiers.emplace_back(ident.GetString("system"), ident.GetString("value"));
    if (*key) {
      CARNET_RETURN_IF_ERROR(storage::UpdatePatientIdentity(tx, **key, ins, system));
      CARNET_RETURN_IF_ERROR(storage::ReplacePatientIdentifiers(tx, **key, identifiers));
      return key;
    }
    auto created = storage::CreatePatientRecord(tx, id, ins, system);
    if (!created.ok()) {
      if (created.status().code() == ErrorCode::kDuplicate)
        return Status(ErrorCode::kDuplicate,
                      "another record already holds the national identity " + ins);
      return created.status();
    }
    CARNET_RETURN_IF_ERROR(storage::ReplacePatientIdentifiers(tx, *created, identifiers));
    return std::optional<long long>(*created);
  }
  if (type == "Binary") {
    // Content belongs to the record of what its securityContext names (a Patient, the
    // DocumentReference it is the content of, or the message it came with).
    const JsonValue* ctx = resource.Find("securityContext");
    std::string ref = ctx ? ctx->GetString("reference") : "";
    if (ref.rfind("Patient/", 0) == 0)
      return storage::FindPatientKeyByResourceId(tx, ref.substr(8));
    if (ref.rfind("DocumentReference/", 0) == 0) {
      auto doc = storage::ReadCurrent(tx, "DocumentReference", ref.substr(18), false);
      if (!doc.ok()) return doc.status();
      if (*doc) return (*doc)->patient_key;
    }
    // ... or the message it is an attachment of (a mail received).
    if (ref.rfind("Communication/", 0) == 0) {
      auto message = storage::ReadCurrent(tx, "Communication", ref.substr(14), false);
      if (!message.ok()) return message.status();
      if (*message) return (*message)->patient_key;
    }
    return std::optional<long long>();
  }
  for (const std::string& patient_id : model::PatientCompartmentIds(resource)) {
    auto key = storage::FindPatientKeyByResourceId(tx, patient_id);
    if (!key.ok()) return key.status();
    if (!*key) return UnknownRecord(type, resource);
    return key;
  }
  // A type outside the compartment that the rules file in the record its element names (a
  // patient's own Device): in that record, under the policy; without a Patient, shared.
  if (std::string element = profiles::SharedContentRules::Builtin().FiledBy(type);
      !element.empty()) {
    std::string ref;
    if (const JsonValue* e = resource.Find(element); e && e->is_object())
      ref = e->GetString("reference");
    if (ref.rfind("Patient/", 0) == 0) {
      auto key = storage::FindPatientKeyByResourceId(tx, ref.substr(8));
      if (!key.ok()) return key.status();
      if (!*key) return Invalid(ref + " is not a known record", type);
      return key;
    }
  }
  if (type == "Subscription") {
    // A subscription to one patient's record (criteria "DocumentReference?patient=X") is part
    // of that record: the patient's notification channel.
    std::string criteria = resource.GetString("criteria");
    size_t q = criteria.find('?');
    if (q != std::string::npos)
      for (const auto& [k, v] : ParseQuery(criteria.substr(q + 1))) {
        if (k != "patient" && k != "subject" && !(k == "_id" && criteria.rfind("Patient?", 0) == 0))
          continue;
        std::string ref = v.substr(v.rfind('/') == std::string::npos ? 0 : v.rfind('/') + 1);
        auto key = storage::FindPatientKeyByResourceId(tx, ref);
        if (!key.ok()) return key.status();
        if (!*key) return UnknownRecord(type, resource);
        return key;
      }
  }
  if (type == "Provenance") {
    // The provenance of record content belongs to that record (its targets').
    if (const JsonValue* targets = resource.Find("target"); targets && targets->is_array())
      for (const auto& t : targets->items()) {
        // "Type/id", or a version of it: "Type/id/_history/v".
        std::string ref = t.GetString("reference");
        size_t history = ref.find("/_history/");
        if (history != std::string::npos) ref.resize(history);
        size_t slash = ref.find('/');
        if (slash == std::string::npos || ref.find('/', slash + 1) != std::string::npos) continue;
        auto target = storage::ReadCurrent(tx, ref.substr(0, slash), ref.substr(slash + 1), false);
        if (!target.ok()) return target.status();
        if (*target && (*target)->patient_key) return (*target)->patient_key;
      }
  }
  // A type of the Patient compartment that names no record of this server (a contained or
  // display-only patient, a Group subject) would otherwise be shared content, readable by
  // everyone signed in: refused, unless the rules let the type exist outside any record.
  if (type != "Provenance" && type != "Subscription" &&
      !model::StructureRegistry::R4().PatientCompartmentParams(type).empty() &&
      !profiles::SharedContentRules::Builtin().MayStandOutsideRecord(type)) {
    std::string params;
    for (const auto& p : model::StructureRegistry::R4().PatientCompartmentParams(type))
      params += (params.empty() ? "" : ", ") + p;
    return Invalid(type + " belongs in a patient's record, but names no Patient of this server (" +
                       params +
                       "): a contained, display-only or Group subject cannot place it in a record",
                   type);
  }
  return std::optional<long long>();
}

namespace {

// The interaction's name in the audit (restful-interaction codes) and its action code.
std::pair<std::string, char> AuditInteraction(const std::string& method, profiles::Action action) {
  if (action == profiles::Action::kChangeVisibility) return {"update", 'U'};
  if (action == profiles::Action::kDelete) return {"delete", 'D'};
  if (action == profiles::Action::kCreate) return {"create", 'C'};
  return {method == "PATCH" ? "patch" : "update", 'U'};
}

std::string MetaSource(const std::string& content) {
  if (content.empty()) return "";
  auto json = ParseJson(content);
  if (!json.ok()) return "";
  const JsonValue* meta = json->Find("meta");
  return meta ? meta->GetString("source") : "";
}

}  // namespace

// Stores a version (`resource` null: a deletion): the version row and its history, the search
// index rows and the registry rows derived from it, replacing those of the version before.
static Status Store(storage::Transaction& tx, const storage::StoredResource& stored,
                    const JsonValue* resource) {
  CARNET_RETURN_IF_ERROR(storage::WriteVersion(tx, stored));
  CARNET_RETURN_IF_ERROR(UpdateSearchIndex(tx, stored, resource));
  return mapping::UpdateRegistryIndex(tx, stored, resource);
}

// Stores a stamped version: the version row and its history, the search index rows and the
// registry rows derived from it.
static Result<WriteResult> Persist(storage::Transaction& tx, std::optional<long long> key,
                                   const std::string& type, const std::string& id, int version,
                                   const std::string& now, const std::string& method,
                                   JsonValue stamped) {
  WriteResult out;
  out.stored.patient_key = key;
  out.stored.type = type;
  out.stored.id = id;
  out.stored.version = version;
  out.stored.last_updated = now;
  out.stored.method = method;
  out.stored.security = SecurityCodes(stamped);
  if (JsonValue* data = stamped.Find("data");
      type == "Binary" && key && data && data->is_string()) {
    // A record's document bytes: once in document_content, named by hash in the versioned
    // JSON (storage::WriteVersion would find them too, at the cost of parsing that JSON again).
    auto bytes = Base64Decode(data->text());
    if (!bytes) return Invalid("Binary.data is not base64", "Binary.data");
    auto sha = storage::PutDocumentContent(tx, *key, *bytes, stamped.GetString("contentType"));
    if (!sha.ok()) return sha.status();
    std::string base64 = data->text();
    stamped.Remove("data");
    out.stored.content = WriteJson(stamped);
    out.stored.content_sha256 = *sha;
    stamped.Set("data", JsonValue::String(std::move(base64)));
  } else {
    out.stored.content = WriteJson(stamped);
  }
  CARNET_RETURN_IF_ERROR(Store(tx, out.stored, &stamped));
  out.resource = std::move(stamped);
  return out;
}

// Whether `resource` bears an identifier of profiles::kGuardianSystem.
static bool NamesGuardianSystem(const JsonValue& resource) {
  const JsonValue* ids = resource.Find("identifier");
  if (!ids || !ids->is_array()) return false;
  for (const auto& id : ids->items())
    if (id.GetString("system") == profiles::kGuardianSystem) return true;
  return false;
}

static Status GuardianPartyIsCarnets() {
  return Status(ErrorCode::kForbidden,
                std::string("a RelatedPerson with an identifier of ") + profiles::kGuardianSystem +
                    " is written by carnet only (a guardian's own party in the messages)",
                "RelatedPerson.identifier");
}

// The one write: stamps, asks the policy (about the current version `previous`, when there is
// one, and about the new content), persists, runs the after-write rules and audits.
// The patient's choice per section of the health profile: an entry written into a section
// the patient hid from professionals is hidden too (MASQUE_PS), whoever writes it (its author
// still reads it, as for any masked entry).
static Status ApplyProfileSectionChoice(storage::Transaction& tx,
                                        const std::optional<long long>& key, JsonValue& stamped) {
  if (!key) return Status::Ok();
  std::string section = health_profile::SectionOf(stamped);
  if (section.empty()) return Status::Ok();
  auto hidden = storage::HiddenProfileSections(tx, *key);
  if (!hidden.ok()) return hidden.status();
  if (std::find(hidden->begin(), hidden->end(), section) == hidden->end()) return Status::Ok();
  std::vector<std::string> codes = SecurityCodes(stamped);
  if (std::find(codes.begin(), codes.end(), profiles::kMasquePs) != codes.end())
    return Status::Ok();
  JsonValue* meta = stamped.Find("meta");
  if (!meta) meta = &stamped.Set("meta", JsonValue::Object());
  JsonValue* security = meta->Find("security");
  if (!security || !security->is_array()) security = &meta->Set("security", JsonValue::Array());
  JsonValue code = JsonValue::Object();
  code.Set("system", JsonValue::String("urn:oid:1.2.250.1.213.1.1.4.13"));
  code.Set("code", JsonValue::String(std::string(profiles::kMasquePs)));
  security->Append(std::move(code));
  return Status::Ok();
}

static Result<WriteResult> Write(storage::Transaction& tx, profiles::AccessSession& session,
                                 const std::string& type, const std::string& id, JsonValue resource,
                                 const std::optional<storage::StoredResource>& previous,
                                 const std::string& method, profiles::Action action) {
  using profiles::Action;
  const std::string what = type + "/" + id;
  bool existed = previous && !previous->deleted;
  if (!existed && action != Action::kChangeVisibility) action = Action::kCreate;
  auto [interaction, action_code] = AuditInteraction(method, action);
  profiles::AuditEntry audit = profiles::AuditEntry::Rest(interaction, action_code);
  audit.object_reference = what;

  // Resources derived from a deposited document are written under that deposit's decision.
  if (session.extracting()) {
    profiles::Decision derived;
    derived.allowed = true;
    derived.code = profiles::Reason::kDepositSource;
    derived.reason = "extracted from " + session.extraction_document();
    std::string now = NowInstant();
    JsonValue stamped = StampVersion(std::move(resource), id, previous ? previous->version + 1 : 1,
                                     now, session.actor().PrincipalId());
    CARNET_RETURN_IF_ERROR(CheckResource(tx, type, stamped));
    auto key = CompartmentKey(tx, type, id, stamped);
    if (!key.ok()) return key.status();
    CARNET_RETURN_IF_ERROR(ApplyProfileSectionChoice(tx, *key, stamped));
    auto out = Persist(tx, *key, type, id, previous ? previous->version + 1 : 1, now, method,
                       std::move(stamped));
    if (!out.ok()) return out.status();
    // Named by the event of the write that caused the extraction, not audited alone.
    if (!session.ListInDepositEvent(what))
      CARNET_RETURN_IF_ERROR(session.Audit(tx, audit, derived, *key));
    return out;
  }
  // The current version first: may the actor change it at all?
  if (existed) {
    auto d = session.DecideStored(tx, *previous, action);
    if (!d.ok()) return d.status();
    if (!d->allowed) return session.Refuse(audit, *d, previous->patient_key, what);
    if (action == Action::kChangeVisibility) {
      auto before = ParseJson(previous->content);
      if (!before.ok()) return Internal("stored " + what + " is unreadable");
      profiles::Decision change =
          profiles::DecideLabelChange(SecurityCodes(*before), SecurityCodes(resource),
                                      session.env().matrix->IsPatientShareable(
                                          profiles::SummariseResource(*before).document_type));
      if (!change.allowed) {
        // The document is visible to the actor: the refusal says why.
        (void)session.Refuse(audit, change, previous->patient_key, what);
        return Status(ErrorCode::kForbidden, change.reason, "meta.security");
      }
    }
  }
  // carnet's mark on the record of an extraction is carnet's alone to write.
  bool marked_before = false;
  if (existed && previous->content.find(kExtractionTagSystem) != std::string::npos)
    if (auto old = ParseJson(previous->content); old.ok()) marked_before = HasExtractionTag(*old);
  if (marked_before || HasExtractionTag(resource))
    return Status(ErrorCode::kForbidden,
                  std::string("the tag ") + kExtractionTagSystem + " is written by carnet only",
                  "meta.tag");
  // A guardian's RelatedPerson (their own party in the messages of a child's record) is
  // carnet's alone to write: its identifier says whom it stands for.
  if (type == "RelatedPerson" && !session.carnet_writing() &&
      (NamesGuardianSystem(resource) ||
       (existed && previous->content.find(profiles::kGuardianSystem) != std::string::npos)))
    return GuardianPartyIsCarnets();
  // meta.source names who deposited the resource (a deposit source reads back what it
  // deposited, nothing else): set by carnet on the first version, never by the client, and
  // kept by later versions.
  std::string source = previous ? MetaSource(previous->content) : "";
  if (previous && previous->deleted && previous->version > 1) {
    auto before = storage::ReadVersion(tx, type, id, previous->version - 1);
    if (!before.ok()) return before.status();
    if (*before) source = MetaSource((*before)->content);
  }
  if (source.empty()) source = session.actor().PrincipalId();

  std::string now = NowInstant();
  int version = previous ? previous->version + 1 : 1;
  JsonValue stamped = StampVersion(std::move(resource), id, version, now, source);
  CARNET_RETURN_IF_ERROR(CheckResource(tx, type, stamped));

  // A new record (a Patient resource with no record yet) is the operator's (or an identity
  // feed's) act: decided before the record exists.
  std::optional<profiles::Decision> decision;
  if (type == "Patient") {
    auto key = storage::FindPatientKeyByResourceId(tx, id);
    if (!key.ok()) return key.status();
    if (!*key) {
      profiles::Decision d = profiles::DecideNewRecord(session.actor());
      if (!d.allowed) return session.Refuse(audit, d, std::nullopt, what);
      decision = d;
    }
  }
  auto key = CompartmentKey(tx, type, id, stamped);
  if (!key.ok()) return key.status();
  // A guardian's message is theirs, not the child's: sent by their RelatedPerson in the
  // record, found or created here, in this transaction (dossier/messages.h).
  if (type == profiles::kMessageType && action == Action::kCreate && *key &&
      session.actor().kind == profiles::ActorKind::kGuardian) {
    auto own = EnsureGuardianParty(tx, session, **key);
    if (!own.ok()) return own.status();
    auto record = session.Record(tx, **key);
    if (!record.ok()) return record.status();
    profiles::SendAsGuardian(stamped, session.actor(), **record, *own);
  }
  if (!decision) {
    auto d = session.DecideResource(tx, *key, stamped, action);
    if (!d.ok()) return d.status();
    if (!d->allowed) {
      Status refused = session.Refuse(audit, *d, *key, what);
      if (!d->shown.empty()) return refused;  // the record's state, told by the policy
      // A record the writer may not see answers as one that does not exist.
      if (*key && type != "Patient" && d->refusal == ErrorCode::kNotFound) {
        auto gate = session.DecideRecord(tx, **key, Action::kSearch);
        if (!gate.ok()) return gate.status();
        if (!gate->allowed) return UnknownRecord(type, stamped);
      }
      return refused;
    }
    decision = *d;
  }
  // A document of a type no profession may read would be seen by its patient and its author
  // only: refused or told (profiles::DecideDepositType), here, below FHIR, MHD and ITI-41.
  // Checked when a document gets its type, not when it keeps the one it had.
  if ((type == "DocumentReference" || type == "Composition") &&
      action != Action::kChangeVisibility) {
    std::string code = profiles::SummariseResource(stamped).document_type;
    std::string before;
    if (existed)
      if (auto old = ParseJson(previous->content); old.ok())
        before = profiles::SummariseResource(*old).document_type;
    if (!code.empty() && code != before) {
      std::string system;
      if (const JsonValue* t = stamped.Find("type"))
        if (const JsonValue* codings = t->Find("coding"); codings && codings->is_array())
          for (const auto& c : codings->items())
            if (c.GetString("code") == code) {
              system = c.GetString("system");
              break;
            }
      std::string warning;
      CARNET_RETURN_IF_ERROR(profiles::DecideDepositType(session.env(), code, system, &warning));
      if (!warning.empty()) session.Warn(what + ": " + warning, type + ".type");
    }
  }
  // A new secure message: its sending time and its parties' addresses (profiles/messaging.h).
  if (type == profiles::kMessageType && action == Action::kCreate && *key) {
    auto record = session.Record(tx, **key);
    if (!record.ok()) return record.status();
    CARNET_RETURN_IF_ERROR(profiles::StampMessage(stamped, session.actor(), **record, now));
    CARNET_RETURN_IF_ERROR(CheckMessageThread(tx, session, **key, stamped));
  }
  CARNET_RETURN_IF_ERROR(ApplyProfileSectionChoice(tx, *key, stamped));
  auto out = Persist(tx, *key, type, id, version, now, method, std::move(stamped));
  if (!out.ok()) return out.status();
  CARNET_RETURN_IF_ERROR(
      RunAfterWriteHooks(tx, session, WrittenVersion{out->stored, &out->resource, previous}));
  // Within an XDS submission, its Import event names this write; otherwise this write's
  // event names what it caused to be extracted (one event per deposit).
  if (session.ListInDepositEvent(what)) return out;
  audit.listed = session.TakeDepositList(what);
  CARNET_RETURN_IF_ERROR(session.Audit(tx, audit, *decision, *key));
  return out;
}

// Refuses, before any lookup, a write the actor's token can never make (a party that writes
// nothing, an app without the scope): the answer cannot depend on what exists.
Status CheckWriteIntent(profiles::AccessSession& session, const std::string& type,
                        std::string_view permissions, const char* interaction, char action) {
  if (session.extracting()) return Status::Ok();
  profiles::Decision d = profiles::DecideWriteIntent(session.actor(), type, permissions);
  if (d.allowed) return Status::Ok();
  return session.Refuse(profiles::AuditEntry::Rest(interaction, action), d, std::nullopt, type);
}

Result<WriteResult> Create(storage::Transaction& tx, profiles::AccessSession& session,
                           const std::string& type, JsonValue resource, const std::string& id_in,
                           const std::string& method) {
  CARNET_RETURN_IF_ERROR(CheckWriteIntent(session, type, "c", "create", 'C'));
  // An id in the body of a create is ignored (the server assigns ids), as the spec says.
  std::string id = id_in.empty() ? NewUuid() : id_in;
  auto r = Write(tx, session, type, id, std::move(resource), std::nullopt, method,
                 profiles::Action::kCreate);
  if (!r.ok()) return r;
  r->http_status = 201;
  return r;
}

// The one answer to a PUT of an id the actor does not see, unused or hidden alike.
static Status NoUpdateAsCreate(const std::string& type, const std::string& id) {
  return NotFound(type + "/" + id +
                  " is not known (a new resource is created with POST; client-assigned ids are "
                  "reserved to identity feeds and operators)");
}

Result<WriteResult> Update(storage::Transaction& tx, profiles::AccessSession& session,
                           const std::string& type, const std::string& id, JsonValue resource,
                           std::optional<int> if_match) {
  if (!IsValidFhirId(id)) return BadRequest("'" + id + "' is not a valid FHIR id");
  resource.Set("id", JsonValue::String(id));
  CARNET_RETURN_IF_ERROR(CheckWriteIntent(session, type, "cu", "update", 'U'));
  auto current = storage::ReadCurrent(tx, type, id, /*lock=*/true);
  if (!current.ok()) return current.status();
  if (!*current) {
    // Create-on-update: a row lock cannot cover a row that does not exist yet, so two
    // concurrent PUTs of a new id are serialised on an advisory lock for that id; the
    // second then sees the first one's version and updates it.
    CARNET_RETURN_IF_ERROR(
        storage::LockForTransaction(tx, storage::LockSpace::kNewId, type + "/" + id));
    current = storage::ReadCurrent(tx, type, id, /*lock=*/true);
    if (!current.ok()) return current.status();
  }
  // Update as create: ids are chosen by the actors who create records; anyone else gets one
  // answer for an id that is unused and for one it may not see.
  if (!session.extracting() && !profiles::MayAssignIds(session.actor())) {
    bool visible = false;
    if (*current) {
      auto d = session.DecideStored(tx, **current, profiles::Action::kRead);
      if (!d.ok()) return d.status();
      visible = d->allowed;
      if (!visible)
        (void)session.Refuse(profiles::AuditEntry::Rest("update", 'U'), *d, (*current)->patient_key,
                             type + "/" + id);
    }
    if (!visible) return NoUpdateAsCreate(type, id);
  }
  if (if_match && (!*current || (*current)->version != *if_match)) {
    // Only someone who may read the resource learns its version.
    if (*current) {
      auto d = session.DecideStored(tx, **current, profiles::Action::kRead);
      if (!d.ok()) return d.status();
      if (!d->allowed)
        return session.Refuse(profiles::AuditEntry::Rest("update", 'U'), *d,
                              (*current)->patient_key, type + "/" + id);
    }
    return Status(
        ErrorCode::kPreconditionFailed,
        "If-Match W/\"" + std::to_string(*if_match) + "\" does not match the current version" +
            (*current ? " W/\"" + std::to_string((*current)->version) + "\"" : std::string()));
  }
  if (!*current) return Create(tx, session, type, std::move(resource), id, "PUT");
  auto r = Write(tx, session, type, id, std::move(resource), **current, "PUT",
                 profiles::Action::kUpdate);
  if (!r.ok()) return r;
  r->http_status = (*current)->deleted ? 201 : 200;
  return r;
}

// Refuses (as a missing resource would be refused) when the actor may not even read the
// current version: preconditions and "already deleted" answers must not tell what exists.
Status HiddenUnlessReadable(storage::Transaction& tx, profiles::AccessSession& session,
                            const storage::StoredResource& current, const std::string& interaction,
                            char action) {
  auto d = session.DecideStored(tx, current, profiles::Action::kRead);
  if (!d.ok()) return d.status();
  if (d->allowed) return Status::Ok();
  return session.Refuse(profiles::AuditEntry::Rest(interaction, action), *d, current.patient_key,
                        current.type + "/" + current.id);
}

Result<WriteResult> Revise(storage::Transaction& tx, profiles::AccessSession& session,
                           const storage::StoredResource& current, JsonValue resource,
                           const std::string& method, profiles::Action action) {
  return Write(tx, session, current.type, current.id, std::move(resource), current, method, action);
}

Result<WriteResult> ChangeSecurity(storage::Transaction& tx, profiles::AccessSession& session,
                                   const std::string& type, const std::string& id,
                                   const std::vector<JsonValue>& add,
                                   const std::vector<JsonValue>& remove) {
  auto current = storage::ReadCurrent(tx, type, id, /*lock=*/true);
  if (!current.ok()) return current.status();
  if (!*current) return NotFound(type + "/" + id + " is not known");
  CARNET_RETURN_IF_ERROR(HiddenUnlessReadable(tx, session, **current, "update", 'U'));
  if ((*current)->deleted) return Status(ErrorCode::kGone, type + "/" + id + " was deleted");
  auto doc = StoredJson(**current);
  if (!doc.ok()) return doc.status();
  JsonValue resource = std::move(doc).value();
  auto same = [](const JsonValue& a, const JsonValue& b) {
    return a.GetString("code") == b.GetString("code") &&
           (a.GetString("system").empty() || b.GetString("system").empty() ||
            a.GetString("system") == b.GetString("system"));
  };
  JsonValue meta = JsonValue::Object();
  if (const JsonValue* m = resource.Find("meta"); m && m->is_object()) meta = *m;
  JsonValue security = JsonValue::Array();
  if (const JsonValue* sec = meta.Find("security"); sec && sec->is_array())
    for (const auto& c : sec->items()) {
      bool removed = false;
      for (const auto& r : remove) removed = removed || same(c, r);
      if (!removed) security.Append(c);
    }
  for (const auto& a : add) {
    bool present = false;
    for (const auto& c : security.items()) present = present || same(c, a);
    if (!present) security.Append(a);
  }
  if (security.items().empty())
    meta.Remove("security");
  else
    meta.Set("security", std::move(security));
  resource.Set("meta", std::move(meta));
  // The codes also travel in DocumentReference.securityLabel: an unmasking removes them there.
  if (JsonValue* labels = resource.Find("securityLabel");
      labels && labels->is_array() && !remove.empty()) {
    JsonValue kept = JsonValue::Array();
    for (const auto& concept_value : labels->items()) {
      JsonValue cc = concept_value;
      if (JsonValue* codings = cc.Find("coding"); codings && codings->is_array()) {
        JsonValue left = JsonValue::Array();
        for (const auto& c : codings->items()) {
          bool removed = false;
          for (const auto& r : remove) removed = removed || same(c, r);
          if (!removed) left.Append(c);
        }
        if (left.items().empty()) continue;
        cc.Set("coding", std::move(left));
      }
      kept.Append(std::move(cc));
    }
    if (kept.items().empty())
      resource.Remove("securityLabel");
    else
      resource.Set("securityLabel", std::move(kept));
  }
  return Write(tx, session, type, id, std::move(resource), **current, "PUT",
               profiles::Action::kChangeVisibility);
}

Result<WriteResult> Delete(storage::Transaction& tx, profiles::AccessSession& session,
                           const std::string& type, const std::string& id,
                           std::optional<int> if_match) {
  CARNET_RETURN_IF_ERROR(CheckWriteIntent(session, type, "d", "delete", 'D'));
  auto current = storage::ReadCurrent(tx, type, id, /*lock=*/true);
  if (!current.ok()) return current.status();
  WriteResult out;
  out.http_status = 204;
  // A resource the actor may not even read answers as an absent one (nothing is done, the
  // refusal is audited): a DELETE must not tell whether a hidden id exists, as a conditional
  // DELETE already does not, and as $validate mode=delete then cannot either.
  if (*current && !session.extracting()) {
    Status hidden = HiddenUnlessReadable(tx, session, **current, "delete", 'D');
    if (!hidden.ok()) {
      if (hidden.code() != ErrorCode::kNotFound) return hidden;
      *current = std::nullopt;
    }
  }
  if (!*current || (*current)->deleted) {
    if (if_match && !*current)
      return Status(ErrorCode::kPreconditionFailed, type + "/" + id + " does not exist");
    if (*current) out.stored = **current;
    return out;
  }
  if (type == "RelatedPerson" && !session.carnet_writing() && !session.extracting() &&
      (*current)->content.find(profiles::kGuardianSystem) != std::string::npos)
    return GuardianPartyIsCarnets();
  if (if_match && (*current)->version != *if_match)
    return Status(ErrorCode::kPreconditionFailed,
                  "If-Match does not match the current version W/\"" +
                      std::to_string((*current)->version) + "\"");
  profiles::AuditEntry audit = profiles::AuditEntry::Rest("delete", 'D');
  audit.object_reference = type + "/" + id;
  auto d = session.DecideStored(tx, **current, profiles::Action::kDelete);
  if (!d.ok()) return d.status();
  if (session.extracting()) {
    d->allowed = true;
    d->reason = "derived from " + session.extraction_document() + ", which was replaced or removed";
  }
  if (!d->allowed) return session.Refuse(audit, *d, (*current)->patient_key, type + "/" + id);
  out.stored = **current;
  out.stored.version += 1;
  out.stored.deleted = true;
  out.stored.content.clear();
  out.stored.method = "DELETE";
  out.stored.last_updated = NowInstant();
  CARNET_RETURN_IF_ERROR(Store(tx, out.stored, nullptr));
  std::optional<storage::StoredResource> previous = **current;
  CARNET_RETURN_IF_ERROR(
      RunAfterWriteHooks(tx, session, WrittenVersion{out.stored, nullptr, previous}));
  CARNET_RETURN_IF_ERROR(session.Audit(tx, audit, *d, (*current)->patient_key));
  return out;
}

}  // namespace carnet::dossier
