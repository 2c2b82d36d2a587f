#include "fhir/document_extraction.h"

#include <chrono>

#include "base/strings.h"
#include "fhir/search.h"
#include "mapping/cda_entries.h"

namespace carnet::fhir {
namespace {

JsonValue Ref(const std::string& reference) {
  JsonValue r = JsonValue::Object();
  r.Set("reference", JsonValue::String(reference));
  return r;
}

// The bytes of the document's first attachment: inline data, or the Binary its url names.
Result<std::string> ContentOf(storage::Transaction& tx, const JsonValue& dr, std::string* content_type) {
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

}  // namespace

Status ExtractDocumentContent(Interactions& interactions, storage::Transaction& tx,
                              profiles::AccessSession& session, const std::string& dr_id) {
  auto current = storage::ReadCurrent(tx, "DocumentReference", dr_id, false);
  if (!current.ok()) return current.status();
  if (!*current || (*current)->deleted || !(*current)->patient_key) return Status::Ok();
  auto dr = ParseJson((*current)->content);
  if (!dr.ok()) return Status::Ok();
  if (dr->GetString("status") == "entered-in-error") return Status::Ok();
  std::string document = "DocumentReference/" + dr_id;
  // Once per document.
  auto done = FindMatchingIds(tx, "Provenance", "entity=" + document, 1);
  if (!done.ok()) return done.status();
  if (!done->empty()) return Status::Ok();
  std::string content_type;
  auto bytes = ContentOf(tx, *dr, &content_type);
  if (!bytes.ok()) return bytes.status();
  if (bytes->empty() || bytes->find("ClinicalDocument") == std::string::npos ||
      bytes->find("urn:hl7-org:v3") == std::string::npos)
    return Status::Ok();  // not a CDA document (a PDF, an image...): nothing structured to take
  const JsonValue* subject = dr->Find("subject");
  std::string patient = subject ? subject->GetString("reference") : "";
  if (patient.rfind("Patient/", 0) != 0) return Status::Ok();
  auto report = mapping::ExtractCdaEntries(*bytes, patient, document);
  if (!report.ok()) return Status::Ok();  // the header was accepted; a body we cannot read yields nothing

  profiles::AccessSession::ExtractionScope scope(session, document);
  JsonValue targets = JsonValue::Array();
  std::map<std::string, int> counts;
  for (const JsonValue& r : report->resources) {
    std::string type = r.GetString("resourceType");
    auto created = interactions.Create(tx, session, type, r);
    if (!created.ok()) return created.status();
    targets.Append(Ref(type + "/" + created->stored.id));
    ++counts[type];
  }
  if (!report->embedded_content.empty()) {
    // Level 1: the embedded document, retrievable as itself (GET Binary/[id]).
    JsonValue binary = JsonValue::Object();
    binary.Set("resourceType", JsonValue::String("Binary"));
    binary.Set("contentType", JsonValue::String(report->embedded_type));
    binary.Set("securityContext", Ref(document));
    binary.Set("data", JsonValue::String(Base64Encode(report->embedded_content)));
    auto created = interactions.Create(tx, session, "Binary", binary);
    if (!created.ok()) return created.status();
    targets.Append(Ref("Binary/" + created->stored.id));
    ++counts["Binary (embedded " + report->embedded_type + ")"];
  }
  std::string text;
  for (const auto& [type, n] : counts) text += (text.empty() ? "" : ", ") + std::to_string(n) + " " + type;
  text = (text.empty() ? "nothing extracted" : "extracted: " + text);
  if (!report->ignored.empty()) {
    text += "; ignored " + std::to_string(report->ignored.size()) + ":";
    for (const auto& why : report->ignored) text += "\n- " + why;
  }
  JsonValue prov = JsonValue::Object();
  prov.Set("resourceType", JsonValue::String("Provenance"));
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
  auto p = interactions.Create(tx, session, "Provenance", prov);
  return p.ok() ? Status::Ok() : p.status();
}

Status RemoveExtractedContent(Interactions& interactions, storage::Transaction& tx,
                              profiles::AccessSession& session, const std::string& dr_id) {
  std::string document = "DocumentReference/" + dr_id;
  auto provenances = FindMatchingIds(tx, "Provenance", "entity=" + document, 100);
  if (!provenances.ok()) return provenances.status();
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
        auto del = interactions.Delete(tx, session, ref.substr(0, slash), ref.substr(slash + 1), Preconditions{});
        if (!del.ok()) return del.status();
      }
    auto del = interactions.Delete(tx, session, "Provenance", pid, Preconditions{});
    if (!del.ok()) return del.status();
  }
  return Status::Ok();
}

}  // namespace carnet::fhir
