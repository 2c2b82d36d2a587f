// ITI-41 Provide and Register Document Set-b and ITI-42 Register Document Set-b.
#include <openssl/sha.h>

#include <algorithm>
#include <ctime>
#include <map>
#include <optional>
#include <pugixml.hpp>
#include <set>
#include <sstream>

#include "base/strings.h"
#include "dossier/dossier.h"
#include "dossier/messages.h"
#include "mapping/cda_check.h"
#include "mapping/cda_header.h"
#include "mapping/document_entry.h"
#include "mapping/registry_index.h"
#include "mapping/xds_metadata.h"
#include "storage/registry_store.h"
#include "storage/resource_store.h"
#include "storage/xds_submission_store.h"
#include "xds/metadata_validation.h"
#include "xds/requests.h"
#include "xds/transactions.h"

namespace carnet::xds {
namespace {

using profiles::Action;
using profiles::Decision;

std::string Sha1Hex(const std::string& bytes) {
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), digest);
  return HexEncode(std::string_view(reinterpret_cast<const char*>(digest), sizeof digest));
}

std::string Sha256Hex(const std::string& bytes) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), digest);
  return HexEncode(std::string_view(reinterpret_cast<const char*>(digest), sizeof digest));
}

// What makes two submissions the same one (issue 19: a resend after a timeout): the
// transaction, the SubmitObjectsRequest as sent (its XML as parsed, printed without
// formatting: every metadata value, symbolic ids included) and each document's bytes by its
// id. The envelope (MessageID, MIME boundaries, Content-IDs) is left out: a retry may renew it.
std::string SubmissionFingerprint(const SoapRequest& req,
                                  const std::vector<SubmissionRequest::Document>& documents,
                                  bool with_documents) {
  pugi::xml_node metadata = req.body_element;
  for (pugi::xml_node child : req.body_element.children()) {
    std::string_view name = child.name();
    size_t colon = name.find(':');
    if ((colon == std::string_view::npos ? name : name.substr(colon + 1)) == "SubmitObjectsRequest")
      metadata = child;
  }
  std::ostringstream printed;
  metadata.print(printed, "", pugi::format_raw);
  std::map<std::string, std::string> bytes_by_id;
  for (const auto& d : documents) bytes_by_id[d.id] = Sha256Hex(d.bytes);
  std::string all = with_documents ? "ITI-41\n" : "ITI-42\n";
  all += Sha256Hex(printed.str()) + "\n";
  for (const auto& [id, hash] : bytes_by_id) all += id + " " + hash + "\n";
  return Sha256Hex(all);
}

// Marks the entries of a SubmissionSet or Folder List with the ids of the HasMember
// associations that put them there.
void TagMembers(JsonValue& list, const std::map<std::string, std::string>& association_of) {
  JsonValue* entries = list.Find("entry");
  if (!entries || !entries->is_array()) return;
  for (auto& e : entries->items()) {
    const JsonValue* item = e.Find("item");
    auto it = association_of.find(item ? item->GetString("reference") : "");
    if (it == association_of.end() || e.Find("extension")) continue;
    JsonValue exts = JsonValue::Array();
    exts.Append(mapping::AssociationIdExtension(it->second));
    e.Set("extension", std::move(exts));
  }
}

// The current time as an HL7 DTM (UTC), for lastUpdateTime.
std::string NowDtm() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[16];
  std::strftime(buf, sizeof buf, "%Y%m%d%H%M%S", &tm);
  return buf;
}

// The List behind the registry's Folder `uuid`, if there is one.
std::optional<std::string> ExistingFolder(Tx& tx, const std::string& uuid) {
  if (!IsUuid(Uuid(uuid))) return std::nullopt;
  auto r = storage::FindFolder(tx, Uuid(uuid));
  if (!r.ok()) return std::nullopt;
  return *r;
}

// The record a DocumentReference belongs to.
std::optional<long long> PatientKeyOf(Tx& tx, const std::string& res_id) {
  auto r = storage::ReadCurrent(tx, "DocumentReference", res_id, false);
  if (!r.ok() || !*r) return std::nullopt;
  return (*r)->patient_key;
}

// ITI-41 (with the documents) and ITI-42 (metadata only): one SubmissionSet, its
// DocumentEntries as DocumentReferences (and their bytes as Binaries), its Folders and the
// SubmissionSet as MHD Lists, all in one transaction through the dossier's write path.
HttpResponse Submit(const XdsContext& xds, Session& session, const SoapRequest& req,
                    bool with_documents) {
  auto submission = ReadSubmissionRequest(req);
  if (!submission.ok()) return RegistryAnswer(req, {RegistryErrorFromStatus(submission.status())});
  SubmissionRequest& sub = *submission;
  // A CDA document fills what its DocumentEntry left out and is checked against what it gave
  // (mapping/cda_check.h), before the metadata is validated: an attribute the document
  // carries need not be repeated.
  std::vector<RegistryError> header_errors;
  if (with_documents) {
    for (auto& e : sub.metadata.documents) {
      if (!mapping::IsCdaMimeType(e.mime_type)) continue;
      auto doc = std::find_if(sub.documents.begin(), sub.documents.end(),
                              [&](const SubmissionRequest::Document& d) { return d.id == e.id; });
      if (doc == sub.documents.end()) continue;
      auto header = mapping::ReadCdaHeader(doc->bytes);
      if (!header.ok()) continue;  // XML that is not a CDA document: nothing to compare
      for (const auto& m : mapping::CompareWithCdaHeader(*header, e))
        header_errors.push_back(Error(
            m.patient ? "XDSPatientIdDoesNotMatch" : "XDSRegistryMetadataError",
            "DocumentEntry " + (e.unique_id.empty() ? e.id : e.unique_id) + ": " + m.Message(),
            e.id));
      mapping::FillFromCdaHeader(*header, &e);
    }
  }
  ValidationResult validation = ValidateSubmission(
      sub.metadata,
      sub.Context(with_documents ? SubmissionKind::kProvideAndRegister : SubmissionKind::kRegister),
      sub.read_problems);
  if (!header_errors.empty() || !validation.ok()) {
    header_errors.insert(header_errors.end(), validation.errors.begin(), validation.errors.end());
    return RegistryAnswer(req, header_errors);
  }
  if (sub.metadata.submission_sets.size() != 1)
    return RegistryAnswer(
        req, {Error("XDSRegistryMetadataError", "a submission carries exactly one SubmissionSet")});
  // Taken before the symbolic ids are renamed: a resend carries the same symbolic ids.
  const std::string fingerprint = SubmissionFingerprint(req, sub.documents, with_documents);
  // Symbolic ids become UUIDs; the documents follow their entries.
  auto renamed = AssignUuidsToSymbolicIds(&sub.metadata);
  for (auto& d : sub.documents)
    if (auto it = renamed.find(d.id); it != renamed.end()) d.id = it->second;
  std::map<std::string, const SubmissionRequest::Document*> bytes_of;
  for (const auto& d : sub.documents) bytes_of[d.id] = &d;

  std::vector<RegistryError> errors;
  // The repository computes hash and size; supplied values must agree (ITI TF-3 4.2).
  for (auto& e : sub.metadata.documents) {
    auto it = bytes_of.find(e.id);
    if (!with_documents || it == bytes_of.end()) continue;
    std::string hash = Sha1Hex(it->second->bytes);
    std::string size = std::to_string(it->second->bytes.size());
    // Both rule books are answered: the Repository's XDSRepositoryMetadataError (ITI TF-2b
    // 3.41.4.1.3, what the NIST kit expects) and XDSNonIdenticalHash / XDSNonIdenticalSize
    // (ITI TF-3 4.2, what registry-side tools look for).
    if (!e.hash.empty() && AsciiLower(e.hash) != hash) {
      errors.push_back(Error("XDSRepositoryMetadataError",
                             "hash of " + e.unique_id + " does not match the document", e.id));
      errors.push_back(Error("XDSNonIdenticalHash",
                             "hash of " + e.unique_id + " does not match the document", e.id));
    }
    if (!e.size.empty() && std::to_string(std::strtoull(e.size.c_str(), nullptr, 10)) != size) {
      errors.push_back(Error("XDSRepositoryMetadataError",
                             "size of " + e.unique_id + " does not match the document", e.id));
      errors.push_back(Error("XDSNonIdenticalSize",
                             "size of " + e.unique_id + " does not match the document", e.id));
    }
    e.hash = hash;
    e.size = size;
    if (e.repository_unique_id.empty()) e.repository_unique_id = mapping::kRepositoryUniqueId;
  }
  if (!errors.empty()) return RegistryAnswer(req, errors);

  const SubmissionSet& set = sub.metadata.submission_sets.front();
  // References, not a structured binding: clang before 16 cannot capture one (fuzz build).
  const auto patient_cx = mapping::PatientIdentifierOfCx(set.patient_id);
  const std::string& system = patient_cx.first;
  const std::string& value = patient_cx.second;
  // Warnings of a submission that succeeds (a document type no profession may read, accepted
  // with deposit_unreadable_type = warn): RegistryErrors of severity Warning beside Success.
  std::vector<RegistryError> warnings;
  Status st = storage::RunInTransaction(xds.pool, [&](Tx& tx) -> Status {
    errors.clear();
    warnings.clear();
    (void)session.TakeWarnings();  // a previous attempt's
    // Submissions of one SubmissionSet uniqueId one at a time: a resend that arrives while
    // the first is still being stored waits for it, then finds it (below).
    CARNET_RETURN_IF_ERROR(storage::LockSubmission(tx, set.unique_id));
    auto patient = storage::FindPatientByIdentifier(tx, system, value);
    if (!patient.ok()) return patient.status();
    if (!*patient) {
      auto authority = UnknownAssigningAuthority(tx, set.patient_id, system, set.id);
      if (!authority.ok()) return authority.status();
      if (*authority) {
        errors.push_back(**authority);
        return Status::Ok();
      }
    }
    auto unknown_patient = [&] {
      errors.push_back(Error("XDSUnknownPatientId",
                             "patient " + set.patient_id + " has no record here", set.id));
      return Status::Ok();
    };
    if (!*patient) return unknown_patient();
    // May the submitter add to this record at all (its state, the submitter's rights)? The
    // policy decides; a record the submitter may not see is one that does not exist, and a
    // state the policy tells (closed, opposed) comes with its code from the error table.
    auto may_add = session.DecideRecord(tx, (*patient)->patient_key, Action::kCreate);
    if (!may_add.ok()) return may_add.status();
    if (!may_add->allowed) {
      profiles::AuditEntry audit = profiles::AuditEntry::Dicom(
          "110107", "Import", with_documents ? "ITI-41" : "ITI-42", 'C');
      Status refused = session.Refuse(audit, *may_add, (*patient)->patient_key,
                                      "Patient/" + (*patient)->resource_id);
      if (may_add->shown.empty() && may_add->refusal != ErrorCode::kForbidden)
        return unknown_patient();
      RegistryError e = RegistryErrorFromStatus(refused);
      e.location = set.id;
      errors.push_back(e);
      return Status::Ok();
    }
    std::string patient_ref = "Patient/" + (*patient)->resource_id;
    // The same SubmissionSet uniqueId again: the same submission, byte for byte, is a retry
    // (answered Success, nothing stored twice); anything else reuses a registered uniqueId.
    auto previous = storage::SubmissionFingerprint(tx, set.unique_id);
    if (!previous.ok()) return previous.status();
    if (*previous) {
      if (**previous == fingerprint) {
        profiles::AuditEntry audit = profiles::AuditEntry::Dicom(
            "110107", "Import", with_documents ? "ITI-41" : "ITI-42", 'C');
        audit.object_reference = set.unique_id;
        Decision granted;
        granted.allowed = true;
        granted.reason = "identical resend of a registered submission set: nothing stored";
        return session.Audit(tx, audit, granted, (*patient)->patient_key);
      }
      for (const auto& e : sub.metadata.documents) {
        auto known = storage::RegisteredDocumentHash(tx, e.unique_id);
        if (!known.ok()) return known.status();
        if (*known && !(*known)->empty() && !e.hash.empty() && AsciiLower(e.hash) != **known)
          errors.push_back(Error(
              "XDSNonIdenticalHash",
              "uniqueId " + e.unique_id + " is registered for a document with another hash", e.id));
      }
      errors.push_back(Error("XDSDuplicateUniqueIdInRegistry",
                             "SubmissionSet uniqueId " + set.unique_id +
                                 " is already registered with other content (a resend must "
                                 "repeat the metadata and documents unchanged)",
                             set.id));
      return Status(ErrorCode::kDuplicate, "duplicate");
    }
    // One audit event for the deposit: the resources it writes (and those extracted from its
    // documents) are named by its Import event below, not audited one by one.
    profiles::AccessSession::DepositScope deposit(session);
    // Associations from a new entry to an existing one become the new DocumentReference's
    // relatesTo (IHE MHD), from which the registry derives them.
    std::map<std::string, JsonValue> relates_to;
    for (const auto& a : sub.metadata.associations) {
      if (!xds::RelatesToCodeOf(a.type) || sub.metadata.FindDocument(a.target)) continue;
      auto target = FindEntry(tx, session, a.target);
      if (!target.ok()) return target.status();
      if (!*target) {
        errors.push_back(Error("UnresolvedReferenceException",
                               "association target " + a.target + " is not in the registry", a.id));
        return Status(ErrorCode::kInvalid, "unresolved");
      }
      // A document replaced, transformed or appended to must still be current (ITI TF-3
      // 4.2.2): a Deprecated one was already replaced.
      if (a.type != AssociationType::kSigns &&
          (*target)->resource.GetString("status") == "superseded") {
        errors.push_back(
            Error("XDSRegistryDeprecatedDocumentError",
                  "the targetObject " + a.target + " of " + a.type_uri + " is Deprecated", a.id));
        return Status(ErrorCode::kInvalid, "deprecated target");
      }
      JsonValue rel = mapping::RelatesToOf(a, (*target)->res_id);
      JsonValue& list = relates_to[a.source];
      if (list.is_null()) list = JsonValue::Array();
      list.Append(std::move(rel));
    }
    std::vector<std::string> members;
    for (const auto& e : sub.metadata.documents) {
      // The document first, its content second: the Binary then files under the document's
      // record (its securityContext resolves), and is read as the document is.
      std::string content_url;
      std::optional<JsonValue> binary;
      std::string binary_id;
      if (with_documents) {
        auto it = bytes_of.find(e.id);
        if (it != bytes_of.end()) {
          binary_id = NewUuid();
          content_url = "Binary/" + binary_id;
          JsonValue b = JsonValue::Object();
          b.Set("resourceType", JsonValue::String("Binary"));
          b.Set("contentType", JsonValue::String(e.mime_type));
          JsonValue context = JsonValue::Object();
          context.Set("reference", JsonValue::String("DocumentReference/" + Uuid(e.id)));
          b.Set("securityContext", std::move(context));
          b.Set("data", JsonValue::String(carnet::Base64Encode(it->second->bytes)));
          binary = std::move(b);
        }
      }
      // The same uniqueId with other bytes is another document under a taken name
      // (XDSNonIdenticalHash); with the same bytes, a document registered twice (below).
      auto known = storage::RegisteredDocumentHash(tx, e.unique_id);
      if (!known.ok()) return known.status();
      if (*known && !(*known)->empty() && !e.hash.empty() && AsciiLower(e.hash) != **known) {
        errors.push_back(Error(
            "XDSNonIdenticalHash",
            "uniqueId " + e.unique_id + " is registered for a document with another hash", e.id));
        return Status(ErrorCode::kDuplicate, "duplicate");
      }
      JsonValue dr = mapping::DocumentReferenceFromEntry(e, patient_ref, content_url);
      if (auto rel = relates_to.find(e.id); rel != relates_to.end())
        dr.Set("relatesTo", rel->second);
      auto created = dossier::Create(tx, session, "DocumentReference", dr, Uuid(e.id));
      if (created.ok()) members.push_back("DocumentReference/" + created->stored.id);
      for (auto& w : session.TakeWarnings()) {
        RegistryError warning =
            Error("XDSRegistryMetadataError", "DocumentEntry " + e.id + ": " + w.message, e.id);
        warning.severity = RegistryError::Severity::kWarning;
        warnings.push_back(std::move(warning));
      }
      if (!created.ok()) {
        if (created.status().code() == ErrorCode::kDuplicate) {
          errors.push_back(Error("XDSDuplicateUniqueIdInRegistry",
                                 "uniqueId " + e.unique_id + " is already registered", e.id));
          return Status(ErrorCode::kDuplicate, "duplicate");  // roll back everything
        }
        if (created.status().code() == ErrorCode::kForbidden ||
            created.status().code() == ErrorCode::kNotFound)
          return PolicyError(created.status(), e.id, errors);
        return Status(created.status().code(),
                      "DocumentEntry " + e.id + ": " + created.status().message(), e.id);
      }
      if (binary) {
        auto b = dossier::Create(tx, session, "Binary", *binary, binary_id);
        if (!b.ok()) return b.status();
        // "Copy to the patient": the slot on the DocumentEntry or on the SubmissionSet.
        bool copy = false;
        for (const auto* slots : {&e.other_slots, &set.other_slots})
          for (const auto& slot : *slots)
            if (slot.name == dossier::kCopyToPatientSlot && !slot.values.empty() &&
                AsciiLower(slot.values[0]) == "true")
              copy = true;
        if (copy) {
          auto c = dossier::CopyDocumentToPatient(
              tx, session, (*patient)->resource_id, created->stored.id, e.mime_type,
              bytes_of.at(e.id)->bytes, e.title.empty() ? e.type_code.display : e.title);
          if (!c.ok())
            return Status(
                c.status().code(),
                "DocumentEntry " + e.id + ": copy to the patient: " + c.status().message(), e.id);
        }
      }
    }
    // Folders (MHD Lists of code folder): the new ones with the documents the submission puts
    // in them; existing ones gain the documents added to them and a new lastUpdateTime.
    std::string now_dtm = NowDtm();
    std::map<std::string, std::vector<std::string>> folder_members;  // folder id -> references
    // source id -> (member reference -> the HasMember association's id)
    std::map<std::string, std::map<std::string, std::string>> member_association;
    std::set<std::string> folder_memberships;  // ids of the Folder -> DocumentEntry HasMembers
    for (const auto& a : sub.metadata.associations) {
      if (a.type != AssociationType::kHasMember || a.source != set.id) continue;
      if (sub.metadata.FindDocument(a.target))
        member_association[set.id]["DocumentReference/" + Uuid(a.target)] = a.id;
      else if (sub.metadata.FindFolder(a.target))
        member_association[set.id]["List/" + Uuid(a.target)] = a.id;
    }
    for (const auto& a : sub.metadata.associations) {
      if (a.type != AssociationType::kHasMember || a.source == set.id) continue;
      bool new_folder = sub.metadata.FindFolder(a.source) != nullptr;
      if (!new_folder && !ExistingFolder(tx, a.source)) continue;
      std::string target_ref;
      if (sub.metadata.FindDocument(a.target)) {
        target_ref = "DocumentReference/" + Uuid(a.target);
      } else {
        auto target = FindEntry(tx, session, a.target);
        if (!target.ok()) return target.status();
        if (!*target) {
          errors.push_back(Error("UnresolvedReferenceException",
                                 "folder member " + a.target + " is not in the registry", a.id));
          return Status(ErrorCode::kInvalid, "unresolved");
        }
        if (PatientKeyOf(tx, (*target)->res_id) !=
            std::optional<long long>((*patient)->patient_key)) {
          errors.push_back(
              Error("XDSPatientIdDoesNotMatch",
                    "document " + a.target + " belongs to another patient than folder " + a.source,
                    a.id));
          return Status(ErrorCode::kInvalid, "patient");
        }
        target_ref = "DocumentReference/" + (*target)->res_id;
      }
      folder_members[a.source].push_back(target_ref);
      member_association[a.source][target_ref] = a.id;
      folder_memberships.insert(a.id);
    }
    // SubmissionSet -HasMember-> (Folder -HasMember-> DocumentEntry): kept on the SubmissionSet
    // List, from which the registry derives the association (mapping::AssociationMember).
    std::vector<mapping::AssociationMember> association_members;
    for (const auto& a : sub.metadata.associations)
      if (a.type == AssociationType::kHasMember && a.source == set.id &&
          folder_memberships.count(a.target))
        association_members.push_back({a.id, a.target, a.submission_set_status});
    for (const auto& f : sub.metadata.folders) {
      xds::Folder folder = f;
      folder.last_update_time = now_dtm;
      JsonValue fl = mapping::ListFromFolder(folder, patient_ref, folder_members[f.id]);
      TagMembers(fl, member_association[f.id]);
      auto created_folder = dossier::Create(tx, session, "List", fl, Uuid(f.id));
      if (!created_folder.ok()) {
        if (created_folder.status().code() == ErrorCode::kDuplicate) {
          errors.push_back(Error("XDSDuplicateUniqueIdInRegistry",
                                 "Folder uniqueId " + f.unique_id + " is already registered",
                                 f.id));
          return Status(ErrorCode::kDuplicate, "duplicate");
        }
        return PolicyError(created_folder.status(), f.id, errors);
      }
      members.push_back("List/" + created_folder->stored.id);
    }
    for (const auto& [folder_id, refs] : folder_members) {
      if (sub.metadata.FindFolder(folder_id)) continue;
      std::string list_id = ExistingFolder(tx, folder_id).value_or(Uuid(folder_id));
      auto existing = storage::ReadCurrent(tx, "List", list_id, true);
      if (!existing.ok()) return existing.status();
      if (!*existing || (*existing)->deleted) continue;
      if ((*existing)->patient_key != std::optional<long long>((*patient)->patient_key)) {
        errors.push_back(Error("XDSPatientIdDoesNotMatch",
                               "folder " + folder_id + " belongs to another patient", folder_id));
        return Status(ErrorCode::kInvalid, "patient");
      }
      auto json = ParseJson((*existing)->content);
      if (!json.ok()) return json.status();
      JsonValue folder_list = std::move(json).value();
      JsonValue* entries = folder_list.Find("entry");
      if (!entries) entries = &folder_list.Set("entry", JsonValue::Array());
      for (const auto& ref : refs) {
        JsonValue item = JsonValue::Object();
        JsonValue r = JsonValue::Object();
        r.Set("reference", JsonValue::String(ref));
        item.Set("item", std::move(r));
        entries->Append(std::move(item));
      }
      TagMembers(folder_list, member_association[folder_id]);
      folder_list.Set("date", JsonValue::String(mapping::TimestampFromDtm(now_dtm)));
      auto upd = dossier::Update(tx, session, "List", list_id, folder_list);
      if (!upd.ok()) return PolicyError(upd.status(), folder_id, errors);
    }
    // The SubmissionSet, as an MHD List holding its documents and folders.
    JsonValue list = mapping::ListFromSubmissionSet(set, patient_ref, members);
    TagMembers(list, member_association[set.id]);
    if (!association_members.empty()) {
      JsonValue* exts = list.Find("extension");
      if (!exts || !exts->is_array()) exts = &list.Set("extension", JsonValue::Array());
      for (const auto& m : association_members)
        exts->Append(mapping::AssociationMemberExtension(m));
    }
    auto created_set = dossier::Create(tx, session, "List", list, Uuid(set.id));
    if (!created_set.ok()) {
      if (created_set.status().code() == ErrorCode::kDuplicate) {
        errors.push_back(Error("XDSDuplicateUniqueIdInRegistry",
                               "SubmissionSet uniqueId " + set.unique_id + " is already registered",
                               set.id));
        return Status(ErrorCode::kDuplicate, "duplicate");
      }
      return created_set.status();
    }
    // Replacement: the replaced entries are deprecated in the same transaction.
    for (const auto& a : sub.metadata.associations) {
      if (a.type != AssociationType::kReplace && a.type != AssociationType::kTransformAndReplace)
        continue;
      std::string target = Uuid(a.target);
      auto current = storage::ReadCurrent(tx, "DocumentReference", target, true);
      if (!current.ok()) return current.status();
      if (!*current || (*current)->deleted) {
        errors.push_back(
            Error("XDSRegistryError", "RPLC target " + a.target + " is not in the registry", a.id));
        return Status(ErrorCode::kInvalid, "unresolved");
      }
      auto json = ParseJson((*current)->content);
      if (!json.ok()) return json.status();
      JsonValue old = std::move(json).value();
      // Usually done already: writing the replacement superseded its target
      // (dossier::SupersedeReplacedDocument); kept for a target the mapping did not name.
      if (old.GetString("status") == "superseded") continue;
      old.Set("status", JsonValue::String("superseded"));
      auto upd = dossier::Update(tx, session, "DocumentReference", target, old);
      if (!upd.ok()) return upd.status();
    }
    CARNET_RETURN_IF_ERROR(storage::RecordSubmissionFingerprint(tx, set.unique_id, fingerprint,
                                                                (*patient)->patient_key));
    // The transaction's audit record (IHE ITI-41 / ITI-42: DICOM Import), naming every
    // resource written.
    profiles::AuditEntry audit =
        profiles::AuditEntry::Dicom("110107", "Import", with_documents ? "ITI-41" : "ITI-42", 'C');
    audit.object_reference = set.unique_id;
    audit.listed = session.TakeDepositList();
    Decision granted;
    granted.allowed = true;
    granted.code = profiles::Reason::kDepositSource;
    granted.reason = "submission set registered";
    return session.Audit(tx, audit, granted, (*patient)->patient_key);
  });
  if (!st.ok() && errors.empty()) errors.push_back(RegistryErrorFromStatus(st));
  if (st.ok()) errors.insert(errors.end(), warnings.begin(), warnings.end());
  return RegistryAnswer(req, errors);
}

}  // namespace

HttpResponse ProvideAndRegister(const XdsContext& xds, Session& session, const SoapRequest& req) {
  return Submit(xds, session, req, true);
}

HttpResponse Register(const XdsContext& xds, Session& session, const SoapRequest& req) {
  return Submit(xds, session, req, false);
}

}  // namespace carnet::xds
