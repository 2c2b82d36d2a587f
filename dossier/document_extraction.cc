#include "dossier/document_extraction.h"

#include <algorithm>
#include <chrono>
#include <set>

#include "base/metrics.h"
#include "base/strings.h"
#include "dossier/dossier.h"
#include "mapping/cda_check.h"
#include "mapping/cda_entries.h"
#include "mapping/document_entry.h"
#include "mapping/registry_index.h"
#include "storage/index_lookup.h"

namespace carnet::dossier {
namespace {

JsonValue Ref(const std::string& reference) {
  JsonValue r = JsonValue::Object();
  r.Set("reference", JsonValue::String(reference));
  return r;
}

}  // namespace

Result<std::string> DocumentContentOf(storage::Transaction& tx, const JsonValue& dr,
                                      std::string* content_type) {
  const JsonValue* content = dr.Find("content");
  if (!content || !content->is_array() || content->items().empty()) return std::string();
  const JsonValue* attachment = content->items()[0].Find("attachment");
  if (!attachment) return std::string();
  *content_type = attachment->GetString("contentType");
  std::string data = attachment->GetString("data");
  std::string url = attachment->GetString("url");
  if (data.empty() && url.rfind("Binary/", 0) == 0) {
    auto binary = storage::ReadCurrent(tx, "Binary", url.substr(7), false);
    if (!binary.ok()) return binary.status();
    if (!*binary || (*binary)->deleted) return std::string();
    auto json = ParseJson((*binary)->content);
    if (!json.ok()) return std::string();
    data = json->GetString("data");
    if (content_type->empty()) *content_type = json->GetString("contentType");
  }
  if (data.empty()) return std::string();
  auto bytes = Base64Decode(data);
  return bytes ? *bytes : std::string();
}

namespace {

// Copies into `into` what `from` has and `into` lacks: top-level elements, and inside
// context and the first content's attachment and format, their sub-elements. A contained
// resource comes along when an element copied refers to it.
void MergeMissing(JsonValue& into, const JsonValue& from) {
  static const std::set<std::string> kNever = {"resourceType", "id",        "meta",
                                               "text",         "contained", "extension"};
  std::set<std::string> wanted_contained;
  auto note_refs = [&](const JsonValue& v, auto&& self) -> void {
    if (v.is_object()) {
      std::string ref = v.GetString("reference");
      if (ref.rfind("#", 0) == 0) wanted_contained.insert(ref.substr(1));
      for (const auto& [k, x] : v.members()) self(x, self);
    } else if (v.is_array()) {
      for (const auto& x : v.items()) self(x, self);
    }
  };
  auto merge_object = [&](JsonValue& to, const JsonValue& src) {
    for (const auto& [k, v] : src.members())
      if (!to.Find(k)) {
        note_refs(v, note_refs);
        to.Set(k, v);
      }
  };
  for (const auto& [key, value] : from.members()) {
    if (kNever.count(key)) continue;
    JsonValue* have = into.Find(key);
    if (!have) {
      note_refs(value, note_refs);
      into.Set(key, value);
    } else if (key == "context" && have->is_object() && value.is_object()) {
      merge_object(*have, value);
    } else if (key == "content" && have->is_array() && !have->items().empty() && value.is_array() &&
               !value.items().empty() && have->items()[0].is_object()) {
      JsonValue& mine = have->items()[0];
      const JsonValue& theirs = value.items()[0];
      if (const JsonValue* fmt = theirs.Find("format"); fmt && !mine.Find("format"))
        mine.Set("format", *fmt);
      const JsonValue* att = theirs.Find("attachment");
      JsonValue* my_att = mine.Find("attachment");
      if (att && my_att && my_att->is_object()) merge_object(*my_att, *att);
    }
  }
  const JsonValue* contained = from.Find("contained");
  if (wanted_contained.empty() || !contained) return;
  JsonValue* mine = into.Find("contained");
  if (!mine) mine = &into.Set("contained", JsonValue::Array());
  for (const auto& c : contained->items()) {
    std::string id = c.GetString("id");
    if (!wanted_contained.count(id)) continue;
    bool clash = false;
    for (const auto& m : mine->items()) clash = clash || m.GetString("id") == id;
    if (!clash) mine->Append(c);
  }
}

// The CDA header against the DocumentReference it came with (mapping/cda_check.h), on every
// FHIR road: the patient must be the document's recordTarget (by national identity), the
// attributes given on both sides must agree (kInvalid naming each element otherwise, which
// rolls the whole submission back), and what the DocumentReference left out is filled from
// the header as a new version written under the depositor's authority. A document that says it
// replaces an earlier version (relatedDocument RPLC) supersedes it when the submitter did not
// say so; when the submitter named another document, that is a disagreement.
Status ReconcileWithHeader(storage::Transaction& tx, profiles::AccessSession& session,
                           const storage::StoredResource& stored, const JsonValue& dr,
                           const std::string& patient, const std::string& bytes) {
  const std::string& dr_id = stored.id;
  auto header = mapping::ReadCdaHeader(bytes);
  if (!header.ok()) return Status::Ok();  // not a CDA header we can read: extraction says so
  auto record = storage::ReadCurrent(tx, "Patient", patient.substr(8), false);
  if (!record.ok()) return record.status();
  bool same_patient = false;
  if (*record && !(*record)->deleted) {
    auto json = ParseJson((*record)->content);
    if (json.ok())
      if (const JsonValue* ids = json->Find("identifier"); ids && ids->is_array())
        for (const auto& id : ids->items())
          same_patient =
              same_patient || (id.GetString("value") == header->patient_ins &&
                               id.GetString("system") == "urn:oid:" + header->patient_ins_oid);
  }
  if (!same_patient)
    return Status(ErrorCode::kPatientIdMismatch,
                  "the CDA document's recordTarget (INS " + header->patient_ins + ", " +
                      header->patient_ins_oid + ") is not the DocumentReference's subject " +
                      patient,
                  "DocumentReference.subject");
  std::string patient_cx = header->entry.patient_id;
  auto entry = mapping::EntryFromDocumentReference(dr, patient_cx, mapping::AuthorResolver(tx));
  if (!entry.ok()) return Status::Ok();
  std::vector<Status::Detail> problems;
  for (const auto& m : mapping::CompareWithCdaHeader(*header, *entry))
    if (!m.patient) problems.push_back({m.Message(), m.fhir_path});
  // relatedDocument RPLC: the earlier versions of this record with the uniqueId it names.
  std::vector<std::string> replaced_by_header, replaced_by_submitter;
  if (const JsonValue* rel = dr.Find("relatesTo"); rel && rel->is_array())
    for (const auto& r : rel->items()) {
      std::string target = r.Find("target") ? r.Find("target")->GetString("reference") : "";
      if (r.GetString("code") == "replaces" && target.rfind("DocumentReference/", 0) == 0)
        replaced_by_submitter.push_back(target.substr(18));
    }
  if (!header->replaces_unique_id.empty()) {
    auto found = storage::FindByTokenCode(tx, "DocumentReference", "identifier",
                                          "urn:oid:" + header->replaces_unique_id, 10);
    if (!found.ok()) return found.status();
    for (const std::string& id : *found) {
      auto old = storage::ReadCurrent(tx, "DocumentReference", id, false);
      if (!old.ok()) return old.status();
      if (*old && !(*old)->deleted && (*old)->patient_key == stored.patient_key && id != dr_id)
        replaced_by_header.push_back(id);
    }
    bool agree = replaced_by_submitter.empty();
    for (const auto& id : replaced_by_submitter)
      agree = agree || std::find(replaced_by_header.begin(), replaced_by_header.end(), id) !=
                           replaced_by_header.end();
    if (!agree)
      problems.push_back({"relatesTo replaces DocumentReference/" + replaced_by_submitter[0] +
                              ", while the CDA document replaces " + header->replaces_unique_id +
                              " (relatedDocument RPLC)",
                          "DocumentReference.relatesTo"});
  }
  if (!problems.empty()) {
    Status first = Invalid(problems[0].message, problems[0].location);
    problems.erase(problems.begin());
    return first.WithDetails(std::move(problems));
  }
  xds::DocumentEntry filled = *entry;
  bool fill = !mapping::FillFromCdaHeader(*header, &filled).empty();
  // The replacement the submitter left out: of the current earlier version only.
  std::vector<std::string> to_replace;
  if (replaced_by_submitter.empty())
    for (const std::string& id : replaced_by_header) {
      auto old = storage::ReadCurrent(tx, "DocumentReference", id, false);
      if (!old.ok()) return old.status();
      auto json = ParseJson((*old)->content);
      if (json.ok() && json->GetString("status") == "current") to_replace.push_back(id);
    }
  if (!fill && to_replace.empty()) return Status::Ok();
  std::string content_url;
  if (const JsonValue* content = dr.Find("content");
      content && content->is_array() && !content->items().empty())
    if (const JsonValue* att = content->items()[0].Find("attachment"))
      content_url = att->GetString("url");
  JsonValue generated = mapping::DocumentReferenceFromEntry(filled, patient, content_url);
  JsonValue merged = dr;
  if (fill) MergeMissing(merged, generated);
  for (const std::string& id : to_replace) {
    JsonValue rel = JsonValue::Object();
    rel.Set("code", JsonValue::String("replaces"));
    rel.Set("target", Ref("DocumentReference/" + id));
    JsonValue* list = merged.Find("relatesTo");
    if (!list) list = &merged.Set("relatesTo", JsonValue::Array());
    list->Append(std::move(rel));
    CARNET_RETURN_IF_ERROR(SupersedeReplacedDocument(tx, session, stored, id));
  }
  if (merged == dr) return Status::Ok();
  auto updated = Update(tx, session, "DocumentReference", dr_id, std::move(merged));
  return updated.ok() ? Status::Ok() : updated.status();
}

// The Provenances that record the extraction of DocumentReference `dr_id`, from the search
// index alone (a deleted resource has no index rows).
Result<std::vector<std::string>> ExtractionProvenances(storage::Transaction& tx,
                                                       const std::string& dr_id, int limit) {
  return storage::FindTaggedReferrers(tx, "Provenance", "entity", "DocumentReference", dr_id,
                                      kExtractionTagSystem, kExtractionTagCode, limit);
}

}  // namespace

Status AuditExtraction(storage::Transaction& tx, profiles::AccessSession& session,
                       const std::string& dr_id) {
  std::vector<std::string> listed = session.TakeDepositList("DocumentReference/" + dr_id);
  if (listed.empty()) return Status::Ok();
  auto current = storage::ReadCurrent(tx, "DocumentReference", dr_id, false);
  if (!current.ok()) return current.status();
  if (!*current) return Internal("DocumentReference/" + dr_id + " vanished while extracted");
  profiles::AuditEntry audit = profiles::AuditEntry::Dicom("110107", "Import", "ITI-65", 'C');
  audit.object_reference = "DocumentReference/" + dr_id;
  audit.listed = std::move(listed);
  profiles::Decision derived;
  derived.allowed = true;
  derived.reason = "extracted from DocumentReference/" + dr_id;
  return session.Audit(tx, audit, derived, (*current)->patient_key);
}

Status ExtractDocumentContent(storage::Transaction& tx, profiles::AccessSession& session,
                              const std::string& dr_id) {
  auto current = storage::ReadCurrent(tx, "DocumentReference", dr_id, false);
  if (!current.ok()) return current.status();
  if (!*current || (*current)->deleted || !(*current)->patient_key) return Status::Ok();
  auto dr = ParseJson((*current)->content);
  if (!dr.ok()) return Status::Ok();
  if (dr->GetString("status") == "entered-in-error") return Status::Ok();
  std::string document = "DocumentReference/" + dr_id;
  // Once per document.
  auto done = ExtractionProvenances(tx, dr_id, 1);
  if (!done.ok()) return done.status();
  if (!done->empty()) return Status::Ok();
  std::string content_type;
  auto bytes = DocumentContentOf(tx, *dr, &content_type);
  if (!bytes.ok()) return bytes.status();
  if (bytes->empty() || bytes->find("ClinicalDocument") == std::string::npos ||
      bytes->find("urn:hl7-org:v3") == std::string::npos)
    return Status::Ok();  // not a CDA document (a PDF, an image...): nothing structured to take
  const JsonValue* subject = dr->Find("subject");
  std::string patient = subject ? subject->GetString("reference") : "";
  if (patient.rfind("Patient/", 0) != 0) return Status::Ok();
  CARNET_RETURN_IF_ERROR(
      ReconcileWithHeader(tx, session, **current, *dr, patient, *bytes));
  static auto& extractions = Metrics().Counter(
      "carnet_cda_extractions_total",
      "CDA documents whose level-3 entries were extracted (outcome extracted) or whose body "
      "could not be read (outcome unreadable); counted in the depositing transaction, again "
      "when it is retried",
      {"outcome"});
  static auto& extracted = Metrics().Counter(
      "carnet_cda_extracted_resources_total",
      "resources created from CDA documents' entries, by resource type", {"type"});
  auto report = mapping::ExtractCdaEntries(*bytes, patient, document);
  if (!report.ok()) {
    extractions.With({"unreadable"}).Inc();
    return Status::Ok();  // the header was accepted; a body we cannot read yields nothing
  }
  extractions.With({"extracted"}).Inc();

  profiles::AccessSession::ExtractionScope scope(session, document);
  // The deposit's one event names the document the extraction read (when its content, not
  // the document, is what was just written) and what came of it.
  session.ListInDepositEvent(document);
  JsonValue targets = JsonValue::Array();
  std::map<std::string, int> counts;
  for (const JsonValue& r : report->resources) {
    std::string type = r.GetString("resourceType");
    auto created = Create(tx, session, type, r);
    if (!created.ok()) return created.status();
    targets.Append(Ref(type + "/" + created->stored.id));
    ++counts[type];
    extracted.With({type}).Inc();
  }
  if (!report->embedded_content.empty()) {
    // Level 1: the embedded document, retrievable as itself (GET Binary/[id]).
    JsonValue binary = JsonValue::Object();
    binary.Set("resourceType", JsonValue::String("Binary"));
    binary.Set("contentType", JsonValue::String(report->embedded_type));
    binary.Set("securityContext", Ref(document));
    binary.Set("data", JsonValue::String(Base64Encode(report->embedded_content)));
    auto created = Create(tx, session, "Binary", binary);
    if (!created.ok()) return created.status();
    targets.Append(Ref("Binary/" + created->stored.id));
    ++counts["Binary (embedded " + report->embedded_type + ")"];
  }
  std::string text;
  for (const auto& [type, n] : counts)
    text += (text.empty() ? "" : ", ") + std::to_string(n) + " " + type;
  text = (text.empty() ? "nothing extracted" : "extracted: " + text);
  if (!report->ignored.empty()) {
    text += "; ignored " + std::to_string(report->ignored.size()) + ":";
    for (const auto& why : report->ignored) text += "\n- " + why;
  }
  JsonValue prov = JsonValue::Object();
  prov.Set("resourceType", JsonValue::String("Provenance"));
  JsonValue tag = JsonValue::Object();
  tag.Set("system", JsonValue::String(kExtractionTagSystem));
  tag.Set("code", JsonValue::String(kExtractionTagCode));
  JsonValue tags = JsonValue::Array();
  tags.Append(std::move(tag));
  JsonValue meta = JsonValue::Object();
  meta.Set("tag", std::move(tags));
  prov.Set("meta", std::move(meta));
  JsonValue ext = JsonValue::Object();
  ext.Set("url", JsonValue::String(kMappingReportExtension));
  ext.Set("valueString", JsonValue::String(text));
  JsonValue exts = JsonValue::Array();
  exts.Append(std::move(ext));
  prov.Set("extension", std::move(exts));
  if (targets.items().empty()) targets.Append(Ref(document));
  prov.Set("target", std::move(targets));
  prov.Set("recorded", JsonValue::String(FormatUtc(std::chrono::system_clock::now())));
  JsonValue activity = JsonValue::Object();
  JsonValue coding = JsonValue::Object();
  coding.Set("system", JsonValue::String("http://terminology.hl7.org/CodeSystem/v3-DataOperation"));
  coding.Set("code", JsonValue::String("DERIVE"));
  JsonValue codings = JsonValue::Array();
  codings.Append(std::move(coding));
  activity.Set("coding", std::move(codings));
  prov.Set("activity", std::move(activity));
  JsonValue agent = JsonValue::Object();
  JsonValue who = JsonValue::Object();
  who.Set("display", JsonValue::String("carnet CDA level-3 extraction"));
  agent.Set("who", std::move(who));
  JsonValue agents = JsonValue::Array();
  agents.Append(std::move(agent));
  prov.Set("agent", std::move(agents));
  JsonValue entity = JsonValue::Object();
  entity.Set("role", JsonValue::String("source"));
  entity.Set("what", Ref(document));
  JsonValue entities = JsonValue::Array();
  entities.Append(std::move(entity));
  prov.Set("entity", std::move(entities));
  auto p = Create(tx, session, "Provenance", prov);
  return p.ok() ? Status::Ok() : p.status();
}

Status SupersedeReplacedDocument(storage::Transaction& tx, profiles::AccessSession& session,
                                 const storage::StoredResource& replacement,
                                 const std::string& target_id) {
  auto current = storage::ReadCurrent(tx, "DocumentReference", target_id, true);
  if (!current.ok()) return current.status();
  std::string what = "DocumentReference/" + target_id;
  if (!*current || (*current)->deleted)
    return Invalid("the document replaced (" + what + ") is not in the registry",
                   "DocumentReference.relatesTo");
  if ((*current)->patient_key != replacement.patient_key)
    return Status(ErrorCode::kPatientIdMismatch,
                  "the document replaced (" + what + ") belongs to another record",
                  "DocumentReference.relatesTo");
  auto json = ParseJson((*current)->content);
  if (!json.ok()) return json.status();
  JsonValue old = std::move(json).value();
  if (old.GetString("status") == "superseded") return Status::Ok();  // the XDS road got here first
  if (old.GetString("status") != "current")
    return Invalid(
        "the document replaced (" + what + ") is " + old.GetString("status") + ", not current",
        "DocumentReference.relatesTo");
  old.Set("status", JsonValue::String("superseded"));
  auto upd = Update(tx, session, "DocumentReference", target_id, std::move(old));
  if (!upd.ok()) return upd.status();
  return RemoveExtractedContent(tx, session, target_id);
}

bool HasExtractionTag(const JsonValue& resource) {
  const JsonValue* meta = resource.Find("meta");
  const JsonValue* tags = meta ? meta->Find("tag") : nullptr;
  if (!tags || !tags->is_array()) return false;
  for (const auto& t : tags->items())
    if (t.GetString("system") == kExtractionTagSystem) return true;
  return false;
}

Status RemoveExtractedContent(storage::Transaction& tx, profiles::AccessSession& session,
                              const std::string& dr_id) {
  std::string document = "DocumentReference/" + dr_id;
  auto provenances = ExtractionProvenances(tx, dr_id, 1000);
  if (!provenances.ok()) return provenances.status();
  // The deletions below skip the access decision (they follow the document's): they are
  // limited to the document's record, so that a Provenance written by a client, naming this
  // document as its entity and another record's resources as its targets, deletes nothing
  // there.
  auto doc_row = storage::ReadCurrent(tx, "DocumentReference", dr_id, false);
  if (!doc_row.ok()) return doc_row.status();
  if (!*doc_row || !(*doc_row)->patient_key) return Status::Ok();
  long long record = *(*doc_row)->patient_key;
  auto derived_here = [&](const storage::StoredResource& r) {
    return !r.deleted && r.patient_key && *r.patient_key == record;
  };
  profiles::AccessSession::ExtractionScope scope(session, document);
  for (const std::string& pid : *provenances) {
    auto prov = storage::ReadCurrent(tx, "Provenance", pid, false);
    if (!prov.ok()) return prov.status();
    if (!*prov || (*prov)->deleted) continue;
    auto json = ParseJson((*prov)->content);
    if (!json.ok()) continue;
    if (const JsonValue* targets = json->Find("target"); targets && targets->is_array())
      for (const auto& t : targets->items()) {
        std::string ref = t.GetString("reference");
        size_t slash = ref.find('/');
        if (slash == std::string::npos || ref == document) continue;
        auto target = storage::ReadCurrent(tx, ref.substr(0, slash), ref.substr(slash + 1), false);
        if (!target.ok()) return target.status();
        if (!*target || !derived_here(**target)) continue;
        auto del = Delete(tx, session, ref.substr(0, slash), ref.substr(slash + 1));
        if (!del.ok()) return del.status();
      }
    if (!derived_here(**prov)) continue;
    auto del = Delete(tx, session, "Provenance", pid);
    if (!del.ok()) return del.status();
  }
  return Status::Ok();
}

}  // namespace carnet::dossier
