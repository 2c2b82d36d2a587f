// POST /fhir/DocumentReference/$deposit: a document filed without FHIR metadata (a bare CDA
// R2, or a PDF, image or text with its minimal metadata as parameters).
#include <openssl/sha.h>

#include <cctype>

#include "base/strings.h"
#include "dossier/dossier.h"
#include "dossier/messages.h"
#include "fhir/rest_impl.h"
#include "fhir/search.h"
#include "mapping/cda_header.h"
#include "mapping/document_entry.h"
#include "mapping/registry_index.h"

namespace carnet::fhir {

using storage::Transaction;

namespace {

struct MinimalDeposit {
  xds::DocumentEntry entry;
  std::string patient_system, patient_value;
};

// The metadata of a document deposited without a CDA header, from the parameters of
// $deposit: patient (the national identity, system|value; required), type (a LOINC document
// type, or system|code; required), title, date (its creation, a FHIR dateTime; now when
// absent), confidentiality (N when absent), language (fr-FR when absent). The class follows
// from the type (mapping/data/document_codes.tsv); the uniqueId is derived from a new UUID.
Result<MinimalDeposit> MinimalDepositMetadata(const QueryParams& params, const std::string& media,
                                              const std::string& body) {
  auto get = [&](const char* name) -> std::string {
    for (const auto& [k, v] : params)
      if (k == name) return v;
    return "";
  };
  if (body.empty()) return BadRequest("$deposit: the document is empty");
  MinimalDeposit d;
  std::string patient = get("patient");
  size_t bar = patient.find('|');
  if (bar == std::string::npos || bar == 0 || bar + 1 == patient.size())
    return Invalid("$deposit of a " + media +
                       " needs ?patient=system|value (the national identity, e.g. "
                       "urn:oid:1.2.250.1.213.1.4.8|...)",
                   "patient");
  d.patient_system = patient.substr(0, bar);
  d.patient_value = patient.substr(bar + 1);
  std::string type = get("type");
  if (type.empty())
    return Invalid("$deposit of a " + media + " needs ?type= (a LOINC document type)", "type");
  xds::DocumentEntry& e = d.entry;
  e.object_type = std::string(xds::uuids::kDocumentEntryStable);
  e.mime_type = media;
  size_t tb = type.find('|');
  std::string type_system = tb == std::string::npos ? "http://loinc.org" : type.substr(0, tb);
  e.type_code = {tb == std::string::npos ? type : type.substr(tb + 1),
                 mapping::SchemeFromSystem(type_system), "", ""};
  e.type_code.display = e.type_code.code;
  e.class_code = mapping::ClassCodeForType(e.type_code.code);
  if (e.class_code.code.empty())
    return Invalid(
        "document type " + e.type_code.code + " has no class in carnet's type -> class table",
        "type");
  e.title = get("title");
  std::string date = get("date");
  e.creation_time = mapping::DtmFromFhirDateTime(
      date.empty() ? FormatUtc(std::chrono::system_clock::now()) : date);
  if (e.creation_time.empty()) return Invalid("date '" + date + "' is not a FHIR dateTime", "date");
  std::string conf = get("confidentiality");
  e.confidentiality_codes.push_back(
      {conf.empty() ? "N" : conf, "2.16.840.1.113883.5.25", conf.empty() ? "N" : conf, ""});
  std::string language = get("language");
  e.language_code = language.empty() ? "fr-FR" : language;
  e.format_code = {"urn:ihe:iti:xds:2017:mimeTypeSufficient", "1.3.6.1.4.1.19376.1.2.3",
                   "Format from mimeType", ""};
  e.unique_id = mapping::OidFromUuid(NewUuid());
  std::string system_oid =
      d.patient_system.rfind("urn:oid:", 0) == 0 ? d.patient_system.substr(8) : d.patient_system;
  e.patient_id = d.patient_value + "^^^&" + system_oid + "&ISO^NH";
  e.source_patient_id = e.patient_id;
  return d;
}

}  // namespace

// POST /fhir/DocumentReference/$deposit: a bare CDA R2 document, filed under the record of
// its recordTarget's national identity with metadata derived from its header (a CDA that
// replaces an earlier version, relatedDocument RPLC, supersedes it); or a PDF, image or text
// document with its minimal metadata as parameters (MinimalDepositMetadata).
EntryResult DepositDocument(const FhirContext& ctx, Call& call) {
  Session& session = call.session;
  const HttpRequest& req = call.req;
  const std::string* ct = req.Header("Content-Type");
  std::string media = ct ? ct->substr(0, ct->find(';')) : "";
  while (!media.empty() && media.back() == ' ') media.pop_back();
  for (char& c : media) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  // "Copy to the patient" (dossier/messages.h): the patient also receives the document in
  // their mailbox.
  bool copy_to_patient = false;
  for (const auto& [k, v] : ParseQuery(req.query)) {
    if (k != "copy-to-patient") continue;
    if (v != "true" && v != "false")
      return FromError(
          BadRequest("copy-to-patient is true or false, not '" + v + "'", "copy-to-patient"));
    copy_to_patient = v == "true";
  }
  xds::DocumentEntry entry;
  std::string ins_system, ins, replaces_unique_id;
  if (media == "application/xml" || media == "text/xml" || media == "application/hl7-cda+xml") {
    auto header = mapping::ReadCdaHeader(req.body);
    if (!header.ok()) return FromError(header.status());
    entry = header->entry;
    ins_system = "urn:oid:" + header->patient_ins_oid;
    ins = header->patient_ins;
    replaces_unique_id = header->replaces_unique_id;
  } else if (media == "application/pdf" || media == "image/jpeg" || media == "image/png" ||
             media == "text/plain") {
    // A document without a header (a scanned letter, a patient's upload): the minimal
    // metadata comes as parameters, the rest is derived.
    auto meta = MinimalDepositMetadata(ParseQuery(req.query), media, req.body);
    if (!meta.ok()) return FromError(meta.status());
    entry = std::move(meta->entry);
    ins_system = meta->patient_system;
    ins = meta->patient_value;
  } else {
    return FromError(
        Status(ErrorCode::kUnsupportedMediaType,
               "$deposit takes a CDA R2 document (application/xml, text/xml) or a PDF, JPEG, PNG "
               "or plain-text document with ?patient=&type= parameters"));
  }
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(req.body.data()), req.body.size(), digest);
  static const char* kHex = "0123456789abcdef";
  entry.hash.clear();
  for (unsigned char c : digest) {
    entry.hash.push_back(kHex[c >> 4]);
    entry.hash.push_back(kHex[c & 15]);
  }
  entry.size = std::to_string(req.body.size());
  entry.repository_unique_id = mapping::kRepositoryUniqueId;
  WriteResult created;
  Status st = storage::RunInTransaction(ctx.pool, [&](Transaction& tx) -> Status {
    auto patient = storage::FindPatientByIdentifier(tx, ins_system, ins);
    if (!patient.ok()) return patient.status();
    if (!*patient || (*patient)->status != "active")
      return Status(ErrorCode::kUnknownPatient,
                    "no active record for the national identity " + ins + " the document is about");
    std::string id = NewUuid();
    JsonValue binary = JsonValue::Object();
    binary.Set("resourceType", JsonValue::String("Binary"));
    binary.Set("contentType", JsonValue::String(entry.mime_type));
    JsonValue context = JsonValue::Object();
    context.Set("reference", JsonValue::String("DocumentReference/" + id));
    binary.Set("securityContext", std::move(context));
    binary.Set("data", JsonValue::String(Base64Encode(req.body)));
    // The document first, its content second: the Binary then files under the document's
    // record (its securityContext resolves).
    std::string binary_id = NewUuid();
    entry.id = "urn:uuid:" + id;
    JsonValue dr = mapping::DocumentReferenceFromEntry(entry, "Patient/" + (*patient)->resource_id,
                                                       "Binary/" + binary_id);
    if (!replaces_unique_id.empty()) {
      auto old =
          FindMatchingIds(tx, "DocumentReference", "identifier=urn:oid:" + replaces_unique_id, 2);
      if (!old.ok()) return old.status();
      for (const std::string& old_id : *old) {
        auto current = storage::ReadCurrent(tx, "DocumentReference", old_id, true);
        if (!current.ok()) return current.status();
        if (!*current || (*current)->deleted) continue;
        auto json = dossier::StoredJson(**current);
        if (!json.ok()) return json.status();
        // Only a current version is replaced (it becomes superseded when this one is written:
        // Interactions::AfterWrite); a re-deposit of an already replaced chain changes nothing.
        if (json->GetString("status") != "current") continue;
        JsonValue rel = JsonValue::Object();
        rel.Set("code", JsonValue::String("replaces"));
        JsonValue target = JsonValue::Object();
        target.Set("reference", JsonValue::String("DocumentReference/" + old_id));
        rel.Set("target", std::move(target));
        JsonValue* list = dr.Find("relatesTo");
        if (!list) list = &dr.Set("relatesTo", JsonValue::Array());
        list->Append(std::move(rel));
      }
    }
    auto r = ctx.interactions.Create(tx, session, "DocumentReference", dr, id);
    if (!r.ok()) return r.status();
    created = std::move(r).value();
    auto b = ctx.interactions.Create(tx, session, "Binary", binary, binary_id);
    if (!b.ok()) return b.status();
    if (copy_to_patient) {
      auto c = dossier::CopyDocumentToPatient(
          tx, session, (*patient)->resource_id, id, entry.mime_type, req.body,
          entry.title.empty() ? entry.type_code.display : entry.title);
      if (!c.ok()) return c.status();
    }
    // The level-3 entries follow on their own (dossier/document_extraction.h): the content
    // just stored completes the document.
    return Status::Ok();
  });
  if (!st.ok()) return FromError(st);
  return FromWrite(created);
}

}  // namespace carnet::fhir
