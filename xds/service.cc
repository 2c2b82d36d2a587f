#include "xds/service.h"

#include "dossier/dossier.h"

#include <openssl/sha.h>

#include <algorithm>
#include <ctime>
#include <map>
#include <optional>
#include <set>

#include "base/strings.h"
#include "mapping/cda_check.h"
#include "mapping/cda_header.h"
#include "mapping/document_entry.h"
#include "mapping/registry_index.h"
#include "mapping/xds_metadata.h"
#include "storage/resource_store.h"
#include "storage/transaction.h"
#include "xds/metadata_validation.h"
#include "xds/mtom.h"
#include "xds/registry_response.h"
#include "xds/requests.h"
#include "xds/soap.h"
#include "xds/stored_query.h"

namespace carnet::xds {
namespace {

using storage::SqlParam;
using Tx = storage::Transaction;
using Session = profiles::AccessSession;
using profiles::AccessFilter;
using profiles::Action;
using profiles::Decision;

constexpr const char* kSoapContentType = "application/soap+xml;charset=UTF-8";

HttpResponse SoapResponse(int status, std::string body,
                          const std::string& content_type = kSoapContentType) {
  HttpResponse r;
  r.status = status;
  r.content_type = content_type;
  r.body = std::move(body);
  return r;
}

HttpResponse Fault(const SoapFault& fault, const std::string& relates_to) {
  return SoapResponse(fault.http_status, WriteSoapFault(fault, relates_to));
}

RegistryError Error(std::string code, std::string context, std::string location = {}) {
  RegistryError e;
  e.error_code = std::move(code);
  e.code_context = std::move(context);
  e.location = std::move(location);
  return e;
}

std::string Sha1Hex(const std::string& bytes) {
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), digest);
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (unsigned char c : digest) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 15]);
  }
  return out;
}

std::string Lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// "id^^^&1.2.3&ISO" -> (urn:oid:1.2.3, id); empty when not a CX with an ISO authority.
std::pair<std::string, std::string> SplitCx(const std::string& cx) {
  size_t caret = cx.find("^^^&");
  if (caret == std::string::npos) return {};
  std::string id = cx.substr(0, caret);
  std::string rest = cx.substr(caret + 4);
  size_t amp = rest.find('&');
  if (amp == std::string::npos) return {};
  return {"urn:oid:" + rest.substr(0, amp), id};
}

std::string Uuid(const std::string& urn) {
  return Lower(urn.rfind("urn:uuid:", 0) == 0 ? urn.substr(9) : urn);
}

// Renders the errors (or success) of a registry transaction.
HttpResponse RegistryAnswer(const SoapRequest& req, const std::vector<RegistryError>& errors) {
  return SoapResponse(200, WriteSoapResponse(req.transaction->response_action, req.message_id,
                                             WriteRegistryResponse(StatusFor(errors), errors)));
}

// A write the access policy refused (or that failed): LocalPolicyRestrictionError for the
// policy's refusals, the error table's code otherwise; the transaction rolls back.
Status PolicyError(const Status& st, const std::string& location,
                   std::vector<RegistryError>& errors) {
  if (st.code() == ErrorCode::kForbidden || st.code() == ErrorCode::kNotFound) {
    errors.push_back(Error("LocalPolicyRestrictionError",
                           "the access policy does not allow this change: " + st.message(),
                           location));
    return Status(ErrorCode::kForbidden, "refused");
  }
  return st;
}

// The extension that keeps an association's entryUUID on the FHIR element it becomes.
JsonValue AssociationIdExtension(const std::string& id) {
  JsonValue ext = JsonValue::Object();
  ext.Set("url", JsonValue::String(std::string(mapping::kExtensionBase) + "xds-association-id"));
  ext.Set("valueUri", JsonValue::String(id.rfind("urn:uuid:", 0) == 0 ? id : "urn:uuid:" + id));
  return ext;
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
    exts.Append(AssociationIdExtension(it->second));
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
  static const storage::Statement kFolder{
      "xds_existing_folder",
      "SELECT res_id FROM registry_object WHERE object_type = 'Folder' AND entry_uuid = $1::uuid"};
  if (!IsUuid(Uuid(uuid))) return std::nullopt;
  auto r = tx.Run(kFolder, {SqlParam::Text(Uuid(uuid))});
  if (!r.ok() || r->rows() == 0) return std::nullopt;
  return r->GetString(0, 0);
}

// The record a DocumentReference belongs to.
std::optional<long long> PatientKeyOf(Tx& tx, const std::string& res_id) {
  auto r = storage::ReadCurrent(tx, "DocumentReference", res_id, false);
  if (!r.ok() || !*r) return std::nullopt;
  return (*r)->patient_key;
}

// The transaction's own audit record (DICOM 110110 Patient Record, as IHE ITI-57 and ITI-62
// ask), one per record touched, beside the record of each resource written.
Status AuditTransaction(Tx& tx, Session& session, const char* iti, char action,
                        const std::set<std::optional<long long>>& keys) {
  Decision granted;
  granted.allowed = true;
  granted.reason = std::string(iti) + " applied";
  for (const auto& key : keys) {
    storage::AuditEntry audit = storage::AuditEntry::Dicom("110110", "Patient Record", iti, action);
    CARNET_RETURN_IF_ERROR(session.Audit(tx, audit, granted, key));
  }
  return Status::Ok();
}

std::string StatusName(const std::string& urn) {
  size_t colon = urn.rfind(':');
  return colon == std::string::npos ? urn : urn.substr(colon + 1);
}

}  // namespace

class XdsService::Impl {
 public:
  Impl(storage::Pool& pool, XdsOptions options) : pool_(pool), options_(options) {}

  HttpResponse Handle(const HttpRequest& req, Session& session);

 private:
  HttpResponse Route(const HttpRequest& req, Session& session);
  HttpResponse ProvideAndRegister(Session& session, const SoapRequest& req, bool with_documents);
  HttpResponse StoredQueryRequest(Session& session, const SoapRequest& req);
  HttpResponse Retrieve(Session& session, const SoapRequest& req);
  HttpResponse UpdateDocumentSet(Session& session, const SoapRequest& req);
  HttpResponse DeleteDocumentSet(Session& session, const SoapRequest& req);
  // The current DocumentReference of a registry entry named by entryUUID or logicalID, with
  // its registry version; nullopt when unknown.
  struct CurrentEntry {
    std::string res_id;
    int version = 0;
    JsonValue resource;
  };
  // The current DocumentEntry whose entryUUID or logicalID is `uuid`, if the caller may read
  // it: one it may not see is answered as one that does not exist (nullopt), and its refusal
  // audited.
  Result<std::optional<CurrentEntry>> FindEntry(Tx& tx, Session& session, const std::string& uuid);

  storage::Pool& pool_;
  XdsOptions options_;
};

XdsService::XdsService(storage::Pool& pool, XdsOptions options)
    : impl_(std::make_unique<Impl>(pool, options)) {}
XdsService::~XdsService() = default;
HttpResponse XdsService::Handle(const HttpRequest& req, Session& session) {
  return impl_->Handle(req, session);
}

HttpResponse XdsService::Unauthorized(const HttpRequest& req) {
  (void)req;
  SoapFault f = SenderFault("authentication required: send a valid Bearer token",
                            "wsse:FailedAuthentication");
  f.http_status = 401;
  HttpResponse r = Fault(f, "");
  r.SetHeader("WWW-Authenticate", "Bearer realm=\"carnet\", error=\"invalid_token\"");
  return r;
}

HttpResponse XdsService::Refused(const Status& status) { return Fault(FaultFromStatus(status), ""); }

HttpResponse XdsService::Impl::Handle(const HttpRequest& req, Session& session) {
  HttpResponse r = Route(req, session);
  // Refusals leave their audit record before the answer leaves.
  Status audited = session.FlushRefusals(pool_);
  if (!audited.ok()) return Fault(FaultFromStatus(audited), "");
  return r;
}

HttpResponse XdsService::Impl::Route(const HttpRequest& req, Session& session) {
  bool registry = req.path == "/xds/registry";
  if (req.method != "POST") {
    HttpResponse r = Fault(SenderFault("XDS.b endpoints take SOAP 1.2 over HTTP POST"), "");
    r.status = 405;
    r.SetHeader("Allow", "POST");
    return r;
  }
  const std::string* ct = req.Header("Content-Type");
  auto message = ReadInboundMessage(ct ? *ct : "", req.body);
  if (!message.ok()) {
    SoapFault f = FaultFromStatus(message.status());
    if (message.status().code() == ErrorCode::kUnsupportedMediaType) f.http_status = 415;
    return Fault(f, "");
  }
  SoapParseOutcome parsed = ParseSoapRequest(std::move(message).value());
  if (!parsed.request) return Fault(parsed.fault, parsed.relates_to);
  const SoapRequest& soap = *parsed.request;
  switch (soap.transaction->transaction) {
    case xds::Transaction::kProvideAndRegister:
      if (registry) break;
      return ProvideAndRegister(session, soap, true);
    case xds::Transaction::kRetrieve:
      if (registry) break;
      return Retrieve(session, soap);
    case xds::Transaction::kRegister:
      if (!registry) break;
      return ProvideAndRegister(session, soap, false);
    case xds::Transaction::kStoredQuery:
      if (!registry) break;
      return StoredQueryRequest(session, soap);
    case xds::Transaction::kUpdate:
      if (!registry) break;
      return UpdateDocumentSet(session, soap);
    case xds::Transaction::kDelete:
      if (!registry) break;
      return DeleteDocumentSet(session, soap);
  }
  return Fault(
      SenderFault(std::string(soap.transaction->iti) + " is not served at " + req.path +
                      (registry ? " (send it to /xds/repository)" : " (send it to /xds/registry)"),
                  "wsa:ActionNotSupported"),
      soap.message_id);
}

HttpResponse XdsService::Impl::ProvideAndRegister(Session& session, const SoapRequest& req,
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
    if (!e.hash.empty() && Lower(e.hash) != hash) {
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
  const auto patient_cx = SplitCx(set.patient_id);
  const std::string& system = patient_cx.first;
  const std::string& value = patient_cx.second;
  Status st = storage::RunInTransaction(pool_, [&](Tx& tx) -> Status {
    errors.clear();
    auto patient = storage::FindPatientByIdentifier(tx, system, value);
    if (!patient.ok()) return patient.status();
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
      storage::AuditEntry audit = storage::AuditEntry::Dicom("110107", "Import", with_documents ? "ITI-41" : "ITI-42", 'C');
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
    // Associations from a new entry to an existing one become the new DocumentReference's
    // relatesTo (IHE MHD), from which the registry derives them.
    std::map<std::string, JsonValue> relates_to;
    for (const auto& a : sub.metadata.associations) {
      const char* code = xds::RelatesToCodeOf(a.type);
      if (!code || sub.metadata.FindDocument(a.target)) continue;
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
      JsonValue rel = JsonValue::Object();
      // The association keeps its entryUUID; XFRM_RPLC, which has no relatesTo code of its
      // own, is "replaces" with the XDS type kept beside it.
      JsonValue exts = JsonValue::Array();
      exts.Append(AssociationIdExtension(a.id));
      if (a.type == AssociationType::kTransformAndReplace) {
        JsonValue ext = JsonValue::Object();
        ext.Set("url",
                JsonValue::String(std::string(mapping::kExtensionBase) + "xds-association-type"));
        ext.Set("valueUri", JsonValue::String(a.type_uri));
        exts.Append(std::move(ext));
      }
      rel.Set("extension", std::move(exts));
      rel.Set("code", JsonValue::String(code));
      JsonValue ref = JsonValue::Object();
      ref.Set("reference", JsonValue::String("DocumentReference/" + (*target)->res_id));
      rel.Set("target", std::move(ref));
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
      static const storage::Statement kKnownHash{
          "xds_known_hash",
          "SELECT coalesce(encode(hash_sha1, 'hex'), '') FROM registry_object WHERE unique_id = $1 "
          "AND object_type = 'DocumentEntry'"};
      auto known = tx.Run(kKnownHash, {SqlParam::Text(e.unique_id)});
      if (!known.ok()) return known.status();
      if (known->rows() > 0 && !known->GetString(0, 0).empty() && !e.hash.empty() &&
          Lower(e.hash) != known->GetString(0, 0)) {
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
    // The transaction's own audit record (IHE ITI-41 / ITI-42: DICOM Import), beside the
    // record of each resource written.
    storage::AuditEntry audit =
        storage::AuditEntry::Dicom("110107", "Import", with_documents ? "ITI-41" : "ITI-42", 'C');
    audit.object_reference = set.unique_id;
    Decision granted;
    granted.allowed = true;
    granted.reason = "submission set registered";
    return session.Audit(tx, audit, granted, (*patient)->patient_key);
  });
  if (!st.ok() && errors.empty()) errors.push_back(RegistryErrorFromStatus(st));
  return RegistryAnswer(req, errors);
}

Result<std::optional<XdsService::Impl::CurrentEntry>> XdsService::Impl::FindEntry(
    Tx& tx, Session& session, const std::string& uuid) {
  static const storage::Statement kFind{
      "xds_find_entry_key",
      "SELECT o.res_id, o.version, r.content, r.patient_key FROM registry_object o JOIN resource "
      "r ON r.res_type = o.res_type AND r.res_id = o.res_id AND NOT r.deleted "
      "WHERE o.object_type = 'DocumentEntry' AND (o.entry_uuid = $1::uuid OR o.logical_id = "
      "$1::uuid) "
      "FOR UPDATE OF r"};
  if (!IsUuid(Uuid(uuid))) return std::optional<CurrentEntry>();
  auto r = tx.Run(kFind, {SqlParam::Text(Uuid(uuid))});
  if (!r.ok()) return r.status();
  if (r->rows() == 0) return std::optional<CurrentEntry>();
  CurrentEntry e;
  e.res_id = r->GetString(0, 0);
  e.version = static_cast<int>(r->GetInt(0, 1));
  auto json = ParseJson(r->GetString(0, 2));
  if (!json.ok()) return json.status();
  e.resource = std::move(json).value();
  std::optional<long long> key;
  if (!r->IsNull(0, 3)) key = r->GetInt(0, 3);
  auto d = session.DecideResource(tx, key, e.resource, Action::kRead);
  if (!d.ok()) return d.status();
  if (!d->allowed) {
    storage::AuditEntry audit = storage::AuditEntry::Rest("read", 'R');
    (void)session.Refuse(audit, *d, key, "DocumentReference/" + e.res_id);
    return std::optional<CurrentEntry>();
  }
  return std::optional<CurrentEntry>(std::move(e));
}

// ITI-57: a new version of a DocumentEntry's metadata (same logicalID, PreviousVersion =
// the current version; this is how a French source masks or unmasks a document, through its
// confidentialityCodes), or an availability status change.
HttpResponse XdsService::Impl::UpdateDocumentSet(Session& session, const SoapRequest& req) {
  auto submission = ReadSubmissionRequest(req);
  if (!submission.ok()) return RegistryAnswer(req, {RegistryErrorFromStatus(submission.status())});
  SubmissionRequest& sub = *submission;
  ValidationResult validation =
      ValidateSubmission(sub.metadata, sub.Context(SubmissionKind::kUpdate), sub.read_problems);
  if (!validation.ok()) return RegistryAnswer(req, validation.errors);
  AssignUuidsToSymbolicIds(&sub.metadata);
  std::vector<RegistryError> errors;
  Status st = storage::RunInTransaction(pool_, [&](Tx& tx) -> Status {
    errors.clear();
    std::set<std::optional<long long>> keys;
    // New metadata versions.
    for (const auto& e : sub.metadata.documents) {
      const Association* member = nullptr;
      for (const auto& a : sub.metadata.associations)
        if (a.type == AssociationType::kHasMember && a.target == e.id) member = &a;
      if (e.lid.empty() || !member || member->previous_version.empty()) {
        errors.push_back(Error("XDSMetadataUpdateError",
                               "an updated DocumentEntry needs its logicalID and a PreviousVersion",
                               e.id));
        return Status(ErrorCode::kInvalid, "update");
      }
      auto current = FindEntry(tx, session, e.lid);
      if (!current.ok()) return current.status();
      if (!*current) {
        errors.push_back(
            Error("XDSMetadataUpdateError", "no DocumentEntry with logicalID " + e.lid, e.id));
        return Status(ErrorCode::kInvalid, "update");
      }
      if (member->previous_version != std::to_string((*current)->version)) {
        errors.push_back(Error("XDSMetadataVersionError",
                               "PreviousVersion " + member->previous_version +
                                   " is not the current version " +
                                   std::to_string((*current)->version) + " of " + e.lid,
                               e.id));
        return Status(ErrorCode::kInvalid, "update");
      }
      // The document itself cannot change: keep its content (url, hash, size, mime type).
      // The new entryUUID, the logicalID and the next version number travel in the mapped
      // DocumentReference (identifier and carnet extensions).
      xds::DocumentEntry next = e;
      next.version = std::to_string((*current)->version + 1);
      const JsonValue& old = (*current)->resource;
      JsonValue dr = mapping::DocumentReferenceFromEntry(
          next, old.Find("subject") ? old.Find("subject")->GetString("reference") : "", "");
      if (const JsonValue* content = old.Find("content")) dr.Set("content", *content);
      dr.Set("id", JsonValue::String((*current)->res_id));
      auto upd = dossier::Update(tx, session, "DocumentReference", (*current)->res_id, dr);
      if (!upd.ok()) return PolicyError(upd.status(), e.id, errors);
      keys.insert(upd->stored.patient_key);
    }
    // Availability status changes.
    for (const auto& a : sub.metadata.associations) {
      if (a.type != AssociationType::kUpdateAvailabilityStatus) continue;
      auto current = FindEntry(tx, session, a.target);
      if (!current.ok()) return current.status();
      if (!*current) {
        errors.push_back(
            Error("UnresolvedReferenceException", "no DocumentEntry " + a.target, a.id));
        return Status(ErrorCode::kInvalid, "update");
      }
      JsonValue dr = (*current)->resource;
      std::string from = dr.GetString("status") == "superseded" ? std::string(kStatusDeprecated)
                                                                : std::string(kStatusApproved);
      if (from != a.original_status) {
        errors.push_back(Error("XDSMetadataUpdateOperationError",
                               "OriginalStatus does not match the entry's status", a.id));
        return Status(ErrorCode::kInvalid, "update");
      }
      dr.Set("status",
             JsonValue::String(a.new_status == kStatusDeprecated ? "superseded" : "current"));
      auto upd = dossier::Update(tx, session, "DocumentReference", (*current)->res_id, dr);
      if (!upd.ok()) return PolicyError(upd.status(), a.id, errors);
      keys.insert(upd->stored.patient_key);
    }
    return AuditTransaction(tx, session, "ITI-57", 'U', keys);
  });
  if (!st.ok() && errors.empty()) errors.push_back(RegistryErrorFromStatus(st));
  return RegistryAnswer(req, errors);
}

// ITI-62: removal of DocumentEntries (their metadata; every version stays in the history).
HttpResponse XdsService::Impl::DeleteDocumentSet(Session& session, const SoapRequest& req) {
  auto ids = ReadRemoveObjectsRequest(req.body_element);
  if (!ids.ok()) return RegistryAnswer(req, {RegistryErrorFromStatus(ids.status())});
  static const storage::Statement kObject{
      "xds_remove_object",
      "SELECT object_type, res_type, res_id, entry_uuid::text FROM registry_object "
      "WHERE entry_uuid = $1::uuid OR (object_type = 'DocumentEntry' AND logical_id = $1::uuid)"};
  static const storage::Statement kAssociation{
      "xds_remove_association",
      "SELECT a.association_type, a.source_uuid::text, a.target_uuid::text, "
      "coalesce(o.object_type, ''), "
      "coalesce(o.res_type, ''), coalesce(o.res_id, ''), coalesce(t.res_type || '/' || t.res_id, "
      "'') "
      "FROM association a LEFT JOIN registry_object o ON o.entry_uuid = a.source_uuid "
      "LEFT JOIN registry_object t ON t.entry_uuid = a.target_uuid WHERE a.entry_uuid = $1::uuid"};
  static const storage::Statement kReferences{"xds_remove_references",
                                              "SELECT entry_uuid::text FROM association WHERE "
                                              "source_uuid = $1::uuid OR target_uuid = $1::uuid"};
  struct Object {
    std::string type, res_type, res_id, uuid;
  };
  struct Link {
    std::string uuid, type, source, target, source_type, source_res_type, source_res_id, target_ref;
  };
  std::vector<RegistryError> errors;
  Status st = storage::RunInTransaction(pool_, [&](Tx& tx) -> Status {
    errors.clear();
    std::vector<Object> objects;
    std::vector<Link> links;
    std::set<std::string> removing;
    // An object the caller may not see is answered as one that does not exist.
    auto visible = [&](const std::string& res_type, const std::string& res_id) -> Result<bool> {
      if (res_type.empty() || res_id.empty()) return true;
      auto current = storage::ReadCurrent(tx, res_type, res_id, false);
      if (!current.ok()) return current.status();
      if (!*current) return true;
      auto d = session.DecideStored(tx, **current, Action::kRead);
      if (!d.ok()) return d.status();
      if (!d->allowed)
        (void)session.Refuse(storage::AuditEntry::Rest("read", 'R'), *d, (*current)->patient_key,
                             res_type + "/" + res_id);
      return d->allowed;
    };
    for (const auto& id : *ids) {
      std::string uuid = Uuid(id);
      if (!IsUuid(uuid)) {
        errors.push_back(Error("UnresolvedReferenceException", "no registry object " + id, id));
        continue;
      }
      auto o = tx.Run(kObject, {SqlParam::Text(uuid)});
      if (!o.ok()) return o.status();
      if (o->rows() > 0) {
        auto seen = visible(o->GetString(0, 1), o->GetString(0, 2));
        if (!seen.ok()) return seen.status();
        if (!*seen) {
          errors.push_back(Error("UnresolvedReferenceException", "no registry object " + id, id));
          continue;
        }
        objects.push_back(
            {o->GetString(0, 0), o->GetString(0, 1), o->GetString(0, 2), o->GetString(0, 3)});
        removing.insert(o->GetString(0, 3));
        continue;
      }
      auto a = tx.Run(kAssociation, {SqlParam::Text(uuid)});
      if (!a.ok()) return a.status();
      if (a->rows() > 0) {
        std::string target = a->GetString(0, 6);
        size_t slash = target.find('/');
        auto source_seen = visible(a->GetString(0, 4), a->GetString(0, 5));
        if (!source_seen.ok()) return source_seen.status();
        auto target_seen = slash == std::string::npos
                               ? Result<bool>(true)
                               : visible(target.substr(0, slash), target.substr(slash + 1));
        if (!target_seen.ok()) return target_seen.status();
        if (!*source_seen || !*target_seen) {
          errors.push_back(Error("UnresolvedReferenceException", "no registry object " + id, id));
          continue;
        }
        links.push_back({uuid, a->GetString(0, 0), a->GetString(0, 1), a->GetString(0, 2),
                         a->GetString(0, 3), a->GetString(0, 4), a->GetString(0, 5),
                         a->GetString(0, 6)});
        removing.insert(uuid);
        continue;
      }
      errors.push_back(Error("UnresolvedReferenceException", "no registry object " + id, id));
    }
    if (!errors.empty()) return Status(ErrorCode::kInvalid, "delete");
    // ITI TF-2b 3.62.4.1.3: an object still referenced by an association that stays cannot go
    // (ReferencesExistException), nor can a Folder membership that a SubmissionSet's HasMember
    // still holds; a membership cannot go while its SubmissionSet stays
    // (XDSUnreferencedObjectException).
    std::vector<std::pair<std::string, std::string>> referenced;  // (what, uuid)
    for (const auto& o : objects) referenced.emplace_back(o.type, o.uuid);
    for (const auto& l : links) referenced.emplace_back("Association", l.uuid);
    for (const auto& [what, uuid] : referenced) {
      auto refs = tx.Run(kReferences, {SqlParam::Text(uuid)});
      if (!refs.ok()) return refs.status();
      for (int i = 0; i < refs->rows(); ++i)
        if (refs->GetString(i, 0) != uuid && !removing.count(refs->GetString(i, 0)))
          errors.push_back(Error("ReferencesExistException",
                                 what + " urn:uuid:" + uuid +
                                     " is referenced by association urn:uuid:" +
                                     refs->GetString(i, 0) + ", which is not removed",
                                 "urn:uuid:" + uuid));
    }
    for (const auto& l : links)
      if (l.source_type == "SubmissionSet" && !removing.count(l.source))
        errors.push_back(Error("XDSUnreferencedObjectException",
                               "association urn:uuid:" + l.uuid +
                                   " is a member of SubmissionSet urn:uuid:" + l.source +
                                   ", which is not removed",
                               "urn:uuid:" + l.uuid));
    if (!errors.empty()) return Status(ErrorCode::kInvalid, "delete");
    std::set<std::optional<long long>> keys;
    // Associations whose source stays: the membership or relation leaves that source.
    for (const auto& l : links) {
      if (removing.count(l.source) || l.source_res_id.empty()) continue;
      auto current = storage::ReadCurrent(tx, l.source_res_type, l.source_res_id, true);
      if (!current.ok()) return current.status();
      if (!*current || (*current)->deleted) continue;
      auto json = ParseJson((*current)->content);
      if (!json.ok()) return json.status();
      JsonValue resource = std::move(json).value();
      const char* field = l.source_res_type == "List" ? "entry" : "relatesTo";
      const char* ref_field = l.source_res_type == "List" ? "item" : "target";
      if (JsonValue* list = resource.Find(field); list && list->is_array()) {
        JsonValue kept = JsonValue::Array();
        for (const auto& e : list->items()) {
          const JsonValue* r = e.Find(ref_field);
          if (r && r->GetString("reference") == l.target_ref) continue;
          kept.Append(e);
        }
        if (kept.items().empty())
          resource.Remove(field);
        else
          resource.Set(field, std::move(kept));
      }
      auto upd = dossier::Update(tx, session, l.source_res_type, l.source_res_id, resource);
      if (!upd.ok()) return PolicyError(upd.status(), "urn:uuid:" + l.uuid, errors);
      keys.insert(upd->stored.patient_key);
    }
    for (const auto& o : objects) {
      auto current = storage::ReadCurrent(tx, o.res_type, o.res_id, false);
      if (!current.ok()) return current.status();
      if (*current) keys.insert((*current)->patient_key);
      auto removed = dossier::Delete(tx, session, o.res_type, o.res_id);
      if (!removed.ok()) return PolicyError(removed.status(), "urn:uuid:" + o.uuid, errors);
    }
    return AuditTransaction(tx, session, "ITI-62", 'D', keys);
  });
  if (!st.ok() && errors.empty()) errors.push_back(RegistryErrorFromStatus(st));
  return RegistryAnswer(req, errors);
}

HttpResponse XdsService::Impl::Retrieve(Session& session, const SoapRequest& req) {
  auto requests = ReadRetrieveDocumentSetRequest(req.body_element);
  if (!requests.ok()) return Fault(FaultFromStatus(requests.status()), req.message_id);
  std::vector<RetrievedDocument> docs;
  std::vector<RegistryError> errors;
  static const storage::Statement kFind{
      "xds_retrieve",
      "SELECT d.res_id, b.content FROM registry_object o "
      "JOIN resource d ON d.res_type = o.res_type AND d.res_id = o.res_id AND NOT d.deleted "
      "LEFT JOIN resource b ON b.res_type = 'Binary' AND NOT b.deleted AND b.res_id = "
      "substring(d.content::jsonb #>> '{content,0,attachment,url}' from '^Binary/(.*)$') "
      "WHERE o.object_type = 'DocumentEntry' AND o.unique_id = $1"};
  Status st = storage::RunInTransaction(pool_, [&](Tx& tx) -> Status {
    docs.clear();
    errors.clear();
    for (const auto& r : *requests) {
      if (r.repository_unique_id != mapping::kRepositoryUniqueId) {
        errors.push_back(Error("XDSUnknownRepositoryId",
                               "repository " + r.repository_unique_id + " is not this one (" +
                                   mapping::kRepositoryUniqueId + ")",
                               r.document_unique_id));
        continue;
      }
      auto row = tx.Run(kFind, {SqlParam::Text(r.document_unique_id)});
      if (!row.ok()) return row.status();
      storage::AuditEntry audit = storage::AuditEntry::Dicom("110106", "Export", "ITI-43", 'R');
      audit.object_reference = r.document_unique_id;
      auto unknown = [&] {
        errors.push_back(Error("XDSDocumentUniqueIdError",
                               "no document " + r.document_unique_id + " here",
                               r.document_unique_id));
      };
      if (row->rows() == 0 || row->IsNull(0, 1)) {
        (void)session.Refuse(audit, profiles::Refusal("no such document"), std::nullopt,
                             r.document_unique_id);
        unknown();
        continue;
      }
      // A document one may not see answers exactly as one that does not exist.
      auto entry = storage::ReadCurrent(tx, "DocumentReference", row->GetString(0, 0), false);
      if (!entry.ok()) return entry.status();
      if (!*entry) {
        unknown();
        continue;
      }
      auto decision = session.DecideStored(tx, **entry, Action::kRead);
      if (!decision.ok()) return decision.status();
      if (!decision->allowed) {
        (void)session.Refuse(audit, *decision, (*entry)->patient_key, r.document_unique_id);
        unknown();
        continue;
      }
      CARNET_RETURN_IF_ERROR(session.Audit(tx, audit, *decision, (*entry)->patient_key));
      auto binary = ParseJson(row->GetString(0, 1));
      if (!binary.ok()) return binary.status();
      auto bytes = carnet::Base64Decode(binary->GetString("data"));
      if (!bytes) return Internal("stored document is not base64");
      RetrievedDocument d;
      d.repository_unique_id = r.repository_unique_id;
      d.document_unique_id = r.document_unique_id;
      d.home_community_id = r.home_community_id;
      d.mime_type = binary->GetString("contentType");
      d.content = std::move(*bytes);
      docs.push_back(std::move(d));
    }
    return Status::Ok();
  });
  if (!st.ok()) {
    docs.clear();
    errors = {RegistryErrorFromStatus(st)};
  }
  ResponseStatus status = errors.empty() ? ResponseStatus::kSuccess
                          : docs.empty() ? ResponseStatus::kFailure
                                         : ResponseStatus::kPartialSuccess;
  MtomMessage m = WriteRetrieveDocumentSetResponse(status, docs, errors, req.message_id);
  return SoapResponse(200, std::move(m.body), m.content_type);
}

HttpResponse XdsService::Impl::StoredQueryRequest(Session& session, const SoapRequest& req) {
  static const storage::Statement kVersions{
      "xds_entry_versions",
      "SELECT res_id, content FROM resource_history WHERE res_type = 'DocumentReference' "
      "AND res_id = ANY($1::text[]) AND NOT deleted ORDER BY res_id, version_id DESC"};
  StoredQueryParse parse = ParseAdhocQueryRequest(req.body_element);
  auto answer = [&](ResponseStatus status, const RegistryObjectList& list, ReturnType type,
                    const std::vector<RegistryError>& errors) {
    return SoapResponse(200,
                        WriteSoapResponse(req.transaction->response_action, req.message_id,
                                          WriteAdhocQueryResponse(status, list, type, errors)));
  };
  if (!parse.query)
    return answer(ResponseStatus::kFailure, {}, ReturnType::kObjectRef, parse.errors);
  const StoredQuery& q = *parse.query;
  storage::SqlBuilder b;
  // Each query becomes up to three predicates over the registry: which DocumentEntries,
  // which SubmissionSets and which Associations it returns ("false" for none).
  std::string docs = "false", sets = "false", assocs = "false", folders = "false";
  // The record a patient query names (its patient_key expression); empty for the queries that
  // name objects.
  std::string named_patient;

  auto patient_key = [&](const char* param) {
    const QueryValue* pid = q.Single(param);
    auto [system, value] = SplitCx(pid ? pid->text : "");
    named_patient =
        "(SELECT p.patient_key FROM patient p WHERE p.patient_key = (SELECT patient_key FROM "
        "patient_identifier WHERE system = " +
        b.Param(system) + " AND value = " + b.Param(value) +
        ") OR (p.ins_system = " + b.Param(system.size() > 8 ? system.substr(8) : "") +
        " AND p.ins = " + b.Param(value) + ") LIMIT 1)";
    return named_patient;
  };
  auto statuses = [&](const char* param) {
    std::vector<std::string> out;
    for (const auto& v : q.Values(param)) out.push_back(StatusName(v));
    return b.TextArray(out);
  };
  // The UUIDs a parameter names, as a uuid[] (values that are not UUIDs name nothing): the
  // registry's uuid columns compared as uuids, which their indexes answer (compared as text,
  // every query read the whole registry).
  auto uuids = [&](const char* param) {
    std::vector<std::string> out;
    for (const auto& v : q.Values(param))
      if (IsUuid(Uuid(v))) out.push_back(Uuid(v));
    return b.TextArray(out) + "::uuid[]";
  };
  // Coded and time filters of the document queries, ANDed to `where`.
  auto document_filters = [&](std::string& where) {
    auto add = [&](const std::string& p) { where += " AND " + p; };
    auto coded = [&](const char* param, const char* column) {
      for (const auto& group : q.Codes(param)) {
        std::vector<std::string> codes;
        for (const auto& c : group) codes.push_back(c.code + "^^" + c.scheme);
        add(std::string("(") + column + "_code || '^^' || coalesce(" + column +
            "_scheme, '')) = ANY(" + b.TextArray(codes) + ")");
      }
    };
    coded("$XDSDocumentEntryClassCode", "o.class");
    coded("$XDSDocumentEntryTypeCode", "o.type");
    coded("$XDSDocumentEntryPracticeSettingCode", "o.practice_setting");
    coded("$XDSDocumentEntryHealthcareFacilityTypeCode", "o.hcft");
    coded("$XDSDocumentEntryFormatCode", "o.format");
    auto multi = [&](const char* param, const char* scheme) {
      for (const auto& group : q.Codes(param)) {
        std::vector<std::string> codes;
        for (const auto& c : group) codes.push_back(c.code + "^^" + c.scheme);
        add(std::string("EXISTS (SELECT 1 FROM registry_code c WHERE c.entry_uuid = o.entry_uuid "
                        "AND c.scheme = '") +
            scheme + "' AND (c.code || '^^' || c.code_system) = ANY(" + b.TextArray(codes) + "))");
      }
    };
    multi("$XDSDocumentEntryEventCodeList", "eventCode");
    multi("$XDSDocumentEntryConfidentialityCode", "confidentialityCode");
    auto time = [&](const char* param, const char* column, const char* op) {
      if (const QueryValue* v = q.Single(param)) {
        std::string fhir = mapping::TimestampFromDtm(v->text);
        if (!fhir.empty())
          add(std::string(column) + " " + op + " " + b.Param(fhir) + "::timestamptz");
      }
    };
    time("$XDSDocumentEntryCreationTimeFrom", "o.creation_time", ">=");
    time("$XDSDocumentEntryCreationTimeTo", "o.creation_time", "<");
    time("$XDSDocumentEntryServiceStartTimeFrom", "o.service_start_time", ">=");
    time("$XDSDocumentEntryServiceStartTimeTo", "o.service_start_time", "<");
    time("$XDSDocumentEntryServiceStopTimeFrom", "o.service_stop_time", ">=");
    time("$XDSDocumentEntryServiceStopTimeTo", "o.service_stop_time", "<");
    auto authors = q.Values("$XDSDocumentEntryAuthorPerson");
    if (!authors.empty())
      add("EXISTS (SELECT 1 FROM unnest(o.author_persons) a WHERE a LIKE ANY(" +
          b.TextArray(authors) + "))");
    auto types = q.Values("$XDSDocumentEntryType");
    if (!types.empty()) add("o.entry_type = ANY(" + b.TextArray(types) + ")");
  };
  // An object named by EntryUUID, UniqueId (or LogicalID) parameters.
  auto named = [&](const char* uuid_param, const char* uid_param, const char* lid_param) {
    std::string u = uuids(uuid_param);
    std::string pred = "(o.entry_uuid = ANY(" + u + ") OR o.unique_id = ANY(" +
                       b.TextArray(q.Values(uid_param)) + ")";
    if (lid_param) pred += " OR o.logical_id = ANY(" + uuids(lid_param) + ")";
    return pred + ")";
  };
  // With document filters ($XDSDocumentEntryFormatCode, ConfidentialityCode, Type) the
  // associations that reach a filtered-out DocumentEntry go with it: directly, or through the
  // membership association they hold (ITI TF-2a 3.18.4.1.2.3.7.11 / .12 return the
  // associations between returned objects). "" when the query has no document filter.
  auto without_filtered_out_documents = [&]() -> std::string {
    std::string kept = "true";
    document_filters(kept);
    if (kept == "true") return "";
    return " AND NOT EXISTS (SELECT 1 FROM registry_object o WHERE o.object_type = "
           "'DocumentEntry' AND o.entry_uuid IN (a.target_uuid, (SELECT m.target_uuid FROM "
           "association m WHERE m.entry_uuid = a.target_uuid)) AND NOT coalesce(" +
           kept + ", false))";
  };
  const char* kAssocOf =
      "(a.source_uuid IN (SELECT entry_uuid FROM registry_object o WHERE %s) OR "
      "a.target_uuid IN (SELECT entry_uuid FROM registry_object o WHERE %s))";
  auto assoc_touching = [&](const std::string& objects) {
    std::string out = kAssocOf;
    out.replace(out.find("%s"), 2, objects);
    out.replace(out.find("%s"), 2, objects);
    return out;
  };

  switch (q.kind) {
    case StoredQueryKind::kFindDocuments: {
      docs = "o.patient_key = " + patient_key("$XDSDocumentEntryPatientId") +
             " AND o.availability_status = ANY(" + statuses("$XDSDocumentEntryStatus") + ")";
      document_filters(docs);
      break;
    }
    case StoredQueryKind::kFindSubmissionSets: {
      sets = "o.patient_key = " + patient_key("$XDSSubmissionSetPatientId") +
             " AND o.availability_status = ANY(" + statuses("$XDSSubmissionSetStatus") + ")";
      auto sources = q.Values("$XDSSubmissionSetSourceId");
      if (!sources.empty()) sets += " AND o.source_id = ANY(" + b.TextArray(sources) + ")";
      for (const auto& [param, op] :
           {std::pair<const char*, const char*>{"$XDSSubmissionSetSubmissionTimeFrom", ">="},
            {"$XDSSubmissionSetSubmissionTimeTo", "<"}})
        if (const QueryValue* v = q.Single(param)) {
          std::string fhir = mapping::TimestampFromDtm(v->text);
          if (!fhir.empty())
            sets +=
                std::string(" AND o.submission_time ") + op + " " + b.Param(fhir) + "::timestamptz";
        }
      auto authors = q.Values("$XDSSubmissionSetAuthorPerson");
      if (!authors.empty())
        sets += " AND EXISTS (SELECT 1 FROM unnest(o.author_persons) a WHERE a LIKE ANY(" +
                b.TextArray(authors) + "))";
      std::vector<std::string> content;
      for (const auto& group : q.Codes("$XDSSubmissionSetContentType"))
        for (const auto& c : group) content.push_back(c.code + "^^" + c.scheme);
      if (!content.empty())
        sets += " AND (o.content_type_code || '^^' || coalesce(o.content_type_scheme, '')) = ANY(" +
                b.TextArray(content) + ")";
      break;
    }
    case StoredQueryKind::kGetAll: {
      std::string key = patient_key("$patientId");
      docs = "o.patient_key = " + key + " AND o.availability_status = ANY(" +
             statuses("$XDSDocumentEntryStatus") + ")";
      document_filters(docs);
      sets = "o.patient_key = " + key + " AND o.availability_status = ANY(" +
             statuses("$XDSSubmissionSetStatus") + ")";
      folders = "o.patient_key = " + key + " AND o.availability_status = ANY(" +
                statuses("$XDSFolderStatus") + ")";
      assocs = "a.patient_key = " + key;
      break;
    }
    case StoredQueryKind::kGetDocuments:
      docs = named("$XDSDocumentEntryEntryUUID", "$XDSDocumentEntryUniqueId",
                   "$XDSDocumentEntryLogicalID");
      break;
    case StoredQueryKind::kGetDocumentsAndAssociations:
      docs = named("$XDSDocumentEntryEntryUUID", "$XDSDocumentEntryUniqueId", nullptr);
      assocs = assoc_touching(docs);
      break;
    case StoredQueryKind::kGetAssociations: {
      std::string u = uuids("$uuid");
      assocs = "(a.source_uuid = ANY(" + u + ") OR a.target_uuid = ANY(" + u + "))";
      break;
    }
    case StoredQueryKind::kGetSubmissionSets: {
      std::string u = uuids("$uuid");
      // ITI TF-2a 3.18.4.1.2.3.7.10: the SubmissionSets' HasMembers, not a Folder's.
      assocs = "(a.association_type LIKE '%:HasMember' AND a.target_uuid = ANY(" + u +
               ") AND EXISTS (SELECT 1 FROM registry_object s WHERE s.entry_uuid = a.source_uuid "
               "AND s.object_type = 'SubmissionSet'))";
      sets = "o.entry_uuid IN (SELECT a.source_uuid FROM association a WHERE " + assocs + ")";
      break;
    }
    case StoredQueryKind::kGetSubmissionSetAndContents: {
      // ITI TF-2a 3.18.4.1.2.3.7.11: the set, its members, and the HasMembers among them: the
      // set's own (to entries, folders and folder memberships), and its folders' memberships
      // that the set holds (as a member association, or whose both ends it holds).
      sets = named("$XDSSubmissionSetEntryUUID", "$XDSSubmissionSetUniqueId", nullptr);
      std::string set_uuids =
          "(SELECT entry_uuid FROM registry_object o WHERE o.object_type = 'SubmissionSet' AND " +
          sets + ")";
      std::string member_uuids =
          "SELECT m.target_uuid FROM association m WHERE m.association_type LIKE '%:HasMember' "
          "AND m.source_uuid IN " +
          set_uuids;
      std::string members = "(" + member_uuids + ")";
      // One IN over the associations' primary key (a union of index lookups), not an OR of
      // subqueries, which would read the whole association table.
      assocs =
          "(a.association_type LIKE '%:HasMember' AND a.entry_uuid IN (SELECT s.entry_uuid "
          "FROM association s WHERE s.source_uuid IN " +
          set_uuids + " UNION ALL " + member_uuids +
          " UNION ALL SELECT f.entry_uuid FROM association f WHERE f.source_uuid IN " + members +
          " AND f.target_uuid IN " + members + "))";
      docs = "o.entry_uuid IN " + members;
      folders = docs;
      document_filters(docs);
      assocs += without_filtered_out_documents();
      break;
    }
    case StoredQueryKind::kGetRelatedDocuments: {
      // ITI TF-2a 3.18.4.1.2.3.7.13: the associations of the types asked for between the given
      // DocumentEntry and other DocumentEntries (a SubmissionSet's or Folder's HasMember relates
      // no documents), and the documents at their ends: nothing when there is none, not the
      // given document alone.
      std::string self =
          "(SELECT entry_uuid FROM registry_object o WHERE o.object_type = "
          "'DocumentEntry' AND " +
          named("$XDSDocumentEntryEntryUUID", "$XDSDocumentEntryUniqueId", nullptr) + ")";
      auto entry = [](const char* end) {
        return std::string("EXISTS (SELECT 1 FROM registry_object e WHERE e.entry_uuid = a.") +
               end + " AND e.object_type = 'DocumentEntry')";
      };
      std::string types = b.TextArray(q.Values("$AssociationTypes"));
      assocs = "(a.entry_uuid IN (SELECT r.entry_uuid FROM association r WHERE r.source_uuid IN " +
               self + " UNION ALL SELECT r.entry_uuid FROM association r WHERE r.target_uuid IN " +
               self + ") AND a.association_type = ANY(" + types + ") AND " + entry("source_uuid") +
               " AND " + entry("target_uuid") + ")";
      docs =
          "o.entry_uuid IN (SELECT unnest(ARRAY[a.source_uuid, a.target_uuid]) FROM "
          "association a WHERE " +
          assocs + ")";
      break;
    }
    case StoredQueryKind::kFindFolders: {
      folders = "o.patient_key = " + patient_key("$XDSFolderPatientId") +
                " AND o.availability_status = ANY(" + statuses("$XDSFolderStatus") + ")";
      for (const auto& [param, op] :
           {std::pair<const char*, const char*>{"$XDSFolderLastUpdateTimeFrom", ">="},
            {"$XDSFolderLastUpdateTimeTo", "<"}})
        if (const QueryValue* v = q.Single(param)) {
          std::string fhir = mapping::TimestampFromDtm(v->text);
          if (!fhir.empty())
            folders += std::string(" AND o.last_update_time ") + op + " " + b.Param(fhir) +
                       "::timestamptz";
        }
      for (const auto& group : q.Codes("$XDSFolderCodeList")) {
        std::vector<std::string> codes;
        for (const auto& c : group) codes.push_back(c.code + "^^" + c.scheme);
        folders +=
            " AND EXISTS (SELECT 1 FROM registry_code c WHERE c.entry_uuid = o.entry_uuid AND "
            "c.scheme = 'folderCode' AND (c.code || '^^' || c.code_system) = ANY(" +
            b.TextArray(codes) + "))";
      }
      break;
    }
    case StoredQueryKind::kGetFolders:
      folders = named("$XDSFolderEntryUUID", "$XDSFolderUniqueId", "$XDSFolderLogicalID");
      break;
    case StoredQueryKind::kGetFolderAndContents: {
      folders = named("$XDSFolderEntryUUID", "$XDSFolderUniqueId", nullptr);
      assocs =
          "(a.association_type LIKE '%:HasMember' AND a.source_uuid IN (SELECT entry_uuid FROM "
          "registry_object o WHERE o.object_type = 'Folder' AND " +
          folders + "))";
      docs = "o.entry_uuid IN (SELECT a.target_uuid FROM association a WHERE " + assocs + ")";
      document_filters(docs);
      assocs += without_filtered_out_documents();
      break;
    }
    case StoredQueryKind::kGetFoldersForDocument: {
      std::string doc = named("$XDSDocumentEntryEntryUUID", "$XDSDocumentEntryUniqueId", nullptr);
      folders =
          "o.entry_uuid IN (SELECT a.source_uuid FROM association a WHERE a.association_type LIKE "
          "'%:HasMember' AND a.target_uuid IN (SELECT entry_uuid FROM registry_object o WHERE "
          "o.object_type = 'DocumentEntry' AND " +
          doc + "))";
      break;
    }
    case StoredQueryKind::kFindDocumentsByReferenceId: {
      docs = "o.patient_key = " + patient_key("$XDSDocumentEntryPatientId") +
             " AND o.availability_status = ANY(" + statuses("$XDSDocumentEntryStatus") + ")";
      document_filters(docs);
      docs +=
          " AND EXISTS (SELECT 1 FROM registry_code c WHERE c.entry_uuid = o.entry_uuid AND "
          "c.scheme = 'referenceId' AND c.code = ANY(" +
          b.TextArray(q.Values("$XDSDocumentEntryReferenceIdList")) + "))";
      break;
    }
  }

  std::string limit = b.Param(std::to_string(options_.max_query_results + 1)) + "::int";
  // The records the query reaches before any access filter: the patient a patient query
  // names, else the records of the objects it names and of the ends of its associations. The
  // policy's filter is per record (a professional may be in one patient's care team and not
  // another's), so it is asked for each of these.
  std::string records_sql;
  if (!named_patient.empty()) {
    records_sql = "SELECT " + named_patient;
  } else {
    std::vector<std::string> parts;
    for (const auto& [type, pred] :
         {std::pair<const char*, const std::string*>{"DocumentEntry", &docs},
          {"SubmissionSet", &sets},
          {"Folder", &folders}})
      if (*pred != "false")
        parts.push_back(std::string("SELECT o.patient_key FROM registry_object o WHERE "
                                    "o.object_type = '") +
                        type + "' AND " + *pred);
    if (assocs != "false")
      parts.push_back(
          "SELECT e.patient_key FROM registry_object e WHERE e.entry_uuid IN (SELECT "
          "unnest(ARRAY[a.source_uuid, a.target_uuid, m.source_uuid, m.target_uuid]) FROM "
          "association a LEFT JOIN association m ON m.entry_uuid = a.target_uuid WHERE " +
          assocs + ")");
    for (const auto& part : parts) records_sql += (records_sql.empty() ? "" : " UNION ") + part;
  }

  bool all_versions = q.kind == StoredQueryKind::kGetDocuments &&
                      (q.Has("$XDSDocumentEntryUniqueId") || q.Has("$XDSDocumentEntryLogicalID"));
  RegistryObjectList list;
  std::vector<RegistryError> errors;
  Status st = storage::RunInTransaction(
      pool_, storage::TxOptions{storage::Isolation::kRepeatableRead, false, 3},
      [&](Tx& tx) -> Status {
        list = RegistryObjectList{};
        errors.clear();
        // What the caller may see of each record reached, as the one AccessFilter FHIR search
        // uses, ANDed into every statement below: the rows counted against the maximum and
        // returned are only the visible ones (an object one may not see is not returned, nor
        // counted, nor any association that touches it).
        std::map<long long, AccessFilter> filters;
        if (!records_sql.empty()) {
          auto records = tx.RunDynamicText(records_sql, b.params());
          if (!records.ok()) return records.status();
          for (int i = 0; i < records->rows(); ++i) {
            if (records->IsNull(i, 0)) continue;
            long long key = records->GetInt(i, 0);
            auto f = session.SearchFilter(tx, {key});
            if (!f.ok()) return f.status();
            filters.emplace(key, std::move(f).value());
          }
        }
        storage::SqlBuilder sb = b;  // the query's parameters, then the filters'
        auto shown = [&](const std::string& alias) {
          std::string out;
          for (const auto& [key, f] : filters)
            out += (out.empty() ? "(" : " OR ") + storage::AccessPredicate(f, alias, sb);
          return out.empty() ? std::string("FALSE") : out + ")";
        };
        auto objects_sql = [&](const char* type, const std::string& pred, const char* extra,
                               const char* order) {
          return std::string("SELECT r.content, r.patient_key") + extra +
                 " FROM registry_object o JOIN resource r ON r.res_type = o.res_type AND "
                 "r.res_id = o.res_id AND NOT r.deleted WHERE o.object_type = '" +
                 type + "' AND " + pred + " AND " + shown("r") + " ORDER BY " + order +
                 " NULLS LAST, o.entry_uuid LIMIT " + limit;
        };
        // An association is shown when every object at its ends (and at the ends of the
        // membership it holds) is.
        auto assocs_sql = [&]() {
          return "SELECT a.entry_uuid::text, a.association_type, a.source_uuid::text, "
                 "a.target_uuid::text, coalesce(a.submission_set_status, ''), a.patient_key FROM "
                 "association a LEFT JOIN association m ON m.entry_uuid = a.target_uuid WHERE " +
                 assocs +
                 " AND NOT EXISTS (SELECT 1 FROM registry_object e JOIN resource er ON "
                 "er.res_type = e.res_type AND er.res_id = e.res_id AND NOT er.deleted WHERE "
                 "e.entry_uuid IN (a.source_uuid, a.target_uuid, m.source_uuid, m.target_uuid) "
                 "AND NOT coalesce(" +
                 shown("er") + ", false)) ORDER BY a.created_at, a.entry_uuid LIMIT " + limit;
        };
        std::map<long long, Decision> reached;  // one audit record per record reached
        auto reach = [&](const storage::PgResult& rows, int i, int key_column) {
          if (rows.IsNull(i, key_column)) return;
          long long key = rows.GetInt(i, key_column);
          if (auto f = filters.find(key); f != filters.end())
            reached.emplace(key, profiles::SearchDecision(f->second));
        };
        std::map<std::string, std::string> versions_of;  // res_id -> patient CX
        std::set<std::string> seen_versions;
        // Compares the VISIBLE rows with the maximum: a caller learns nothing of what it may
        // not see.
        auto too_many = [&](int rows) {
          if (rows <= options_.max_query_results) return false;
          errors.push_back(Error("XDSTooManyResults",
                                 "the query matches more than " +
                                     std::to_string(options_.max_query_results) + " objects"));
          return true;
        };
        std::map<long long, std::string> cx_of_record;  // one lookup per record, not per object
        auto cx_of = [&](const storage::PgResult& rows, int i, int key_column) -> std::string {
          if (rows.IsNull(i, key_column)) return "";
          long long key = rows.GetInt(i, key_column);
          if (auto it = cx_of_record.find(key); it != cx_of_record.end()) return it->second;
          auto c = mapping::PatientCxOf(tx, key);
          return cx_of_record[key] = c.ok() ? *c : "";
        };
        // One statement of the query: hands each object (its JSON, the rows, its row) to
        // `take`. True when the statement matched more than the maximum.
        auto each_object =
            [&](const std::string& sql, int key_column,
                const std::function<Status(const JsonValue&, const storage::PgResult&, int)>& take)
            -> Result<bool> {
          auto rows = tx.RunDynamicText(sql, sb.params());
          if (!rows.ok()) return rows.status();
          if (too_many(rows->rows())) return true;
          for (int i = 0; i < rows->rows(); ++i) {
            auto json = ParseJson(rows->GetString(i, 0));
            if (!json.ok()) return json.status();
            reach(*rows, i, key_column);
            CARNET_RETURN_IF_ERROR(take(*json, *rows, i));
          }
          return false;
        };
        if (docs != "false") {
          auto over = each_object(
              objects_sql("DocumentEntry", docs, "", "o.creation_time"), 1,
              [&](const JsonValue& dr, const storage::PgResult& rows, int i) -> Status {
                auto entry = mapping::EntryFromDocumentReference(dr, cx_of(rows, i, 1),
                                                                 mapping::AuthorResolver(tx));
                if (!entry.ok()) return entry.status();
                if (entry->repository_unique_id.empty())
                  entry->repository_unique_id = mapping::kRepositoryUniqueId;
                std::string res_id = dr.GetString("id");
                std::string current_uuid = entry->id;
                std::string cx = entry->patient_id;
                list.documents.push_back(std::move(entry).value());
                if (all_versions) {
                  versions_of[res_id] = cx;
                  seen_versions.insert(current_uuid);
                }
                return Status::Ok();
              });
          if (!over.ok()) return over.status();
          if (*over) return Status::Ok();
          // Asked by uniqueId or logicalID, GetDocuments returns every metadata version (ITI-57:
          // the versions share both), the earlier ones Deprecated; one round trip for all.
          if (!versions_of.empty()) {
            std::vector<std::string> ids;
            for (const auto& [id, cx] : versions_of) ids.push_back(id);
            auto older = tx.Run(kVersions, {SqlParam::Text(storage::TextArrayLiteral(ids))});
            if (!older.ok()) return older.status();
            for (int v = 0; v < older->rows(); ++v) {
              auto json = ParseJson(older->GetString(v, 1));
              if (!json.ok()) continue;
              auto version = mapping::EntryFromDocumentReference(
                  *json, versions_of[older->GetString(v, 0)], mapping::AuthorResolver(tx));
              if (!version.ok() || !seen_versions.insert(version->id).second) continue;
              version->status = std::string(kStatusDeprecated);
              if (version->repository_unique_id.empty())
                version->repository_unique_id = mapping::kRepositoryUniqueId;
              list.documents.push_back(std::move(version).value());
            }
          }
        }
        if (sets != "false") {
          auto over =
              each_object(objects_sql("SubmissionSet", sets, ", o.patient_id", "o.submission_time"),
                          1, [&](const JsonValue& json, const storage::PgResult& rows, int i) {
                            list.submission_sets.push_back(
                                mapping::SubmissionSetFromList(json, rows.GetString(i, 2)));
                            return Status::Ok();
                          });
          if (!over.ok()) return over.status();
          if (*over) return Status::Ok();
        }
        if (folders != "false") {
          auto over = each_object(
              objects_sql("Folder", folders, ", o.patient_id", "o.last_update_time"), 1,
              [&](const JsonValue& json, const storage::PgResult& rows, int i) {
                list.folders.push_back(mapping::FolderFromList(json, rows.GetString(i, 2)));
                return Status::Ok();
              });
          if (!over.ok()) return over.status();
          if (*over) return Status::Ok();
        }
        if (assocs != "false") {
          auto rows = tx.RunDynamicText(assocs_sql(), sb.params());
          if (!rows.ok()) return rows.status();
          if (too_many(rows->rows())) return Status::Ok();
          for (int i = 0; i < rows->rows(); ++i) {
            Association a;
            a.id = "urn:uuid:" + rows->GetString(i, 0);
            a.type_uri = rows->GetString(i, 1);
            a.type = AssociationTypeFromUri(a.type_uri);
            a.source = "urn:uuid:" + rows->GetString(i, 2);
            a.target = "urn:uuid:" + rows->GetString(i, 3);
            a.status = std::string(kStatusApproved);
            a.submission_set_status = rows->GetString(i, 4);
            reach(*rows, i, 5);
            list.associations.push_back(std::move(a));
          }
        }
        // A document whose relations one may not see is related to nothing one sees.
        if (q.kind == StoredQueryKind::kGetRelatedDocuments && list.associations.empty())
          list.documents.clear();
        // A query that names objects rather than a patient must not mix patients (ITI TF-2a
        // 3.18.4.1.2.3.7: XDSResultNotSinglePatient).
        bool patient_query = q.kind == StoredQueryKind::kFindDocuments ||
                             q.kind == StoredQueryKind::kFindSubmissionSets ||
                             q.kind == StoredQueryKind::kFindFolders ||
                             q.kind == StoredQueryKind::kGetAll ||
                             q.kind == StoredQueryKind::kFindDocumentsByReferenceId;
        if (!patient_query && reached.size() > 1) {
          list = RegistryObjectList{};
          errors.push_back(Error("XDSResultNotSinglePatient",
                                 "the objects asked for belong to more than one patient"));
        }
        storage::AuditEntry audit = storage::AuditEntry::Dicom("110112", "Query", "ITI-18", 'E');
        // The query as asked (entity.query): every parameter and its values.
        for (const auto& [name, groups] : q.parameters)
          for (const auto& group : groups)
            for (const auto& v : group)
              audit.query += (audit.query.empty() ? "" : "&") + name + "=" + v.text;
        if (reached.empty()) {
          Decision none;
          none.allowed = true;
          none.reason = "stored query: nothing visible matched";
          return session.Audit(tx, audit, none, std::nullopt);
        }
        for (const auto& [key, d] : reached)
          CARNET_RETURN_IF_ERROR(session.Audit(tx, audit, d, key));
        return Status::Ok();
      });
  if (!st.ok())
    return answer(ResponseStatus::kFailure, {}, q.return_type, {RegistryErrorFromStatus(st)});
  if (!errors.empty()) return answer(ResponseStatus::kFailure, {}, q.return_type, errors);
  return answer(ResponseStatus::kSuccess, list, q.return_type, parse.errors);
}

}  // namespace carnet::xds
