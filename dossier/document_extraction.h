// The structured content of deposited documents, whatever road they came by (XDS.b ITI-41,
// MHD ITI-65, $deposit, a plain FHIR create): once a DocumentReference and its CDA content
// are both in the dossier, the level-3 entries become resources of the patient's health
// profile (mapping/cda_entries.h), derivedFrom the document, with one Provenance that names
// the document as its source and carries the mapping report (what was extracted, what was
// ignored and why). A replaced or deleted document takes what it produced with it.
//
// Everything runs in the caller's transaction, under the deposit's authority
// (AccessSession::ExtractionScope).
#pragma once

#include <string>

#include "base/json.h"
#include "base/status.h"
#include "profiles/access.h"
#include "storage/transaction.h"

namespace carnet::dossier {

// The extension of the Provenance that holds the mapping report (valueString).
inline constexpr const char* kMappingReportExtension =
    "https://carnet.example.org/fhir/StructureDefinition/mapping-report";

// The tag (meta.tag) on the Provenance an extraction writes. Only the extraction writes it
// (the write path refuses it, and any change to a resource carrying it, from everyone else), and
// only a Provenance carrying it records an extraction: one a client writes neither stops a
// document's extraction nor takes anything along when the document goes.
inline constexpr const char* kExtractionTagSystem =
    "https://carnet.example.org/fhir/CodeSystem/carnet-internal";
inline constexpr const char* kExtractionTagCode = "cda-extraction";
bool HasExtractionTag(const JsonValue& resource);

// The bytes of DocumentReference `dr`'s first attachment: its inline data, or the data of the
// Binary its url names (empty when there is neither); `content_type` gets the attachment's (or
// the Binary's) contentType.
Result<std::string> DocumentContentOf(storage::Transaction& tx, const JsonValue& dr,
                                      std::string* content_type);

// Extracts DocumentReference `dr_id`'s content when it is a CDA document and has not been
// extracted yet; does nothing when the document, its content, or a CDA body is missing.
// The one audit event of an extraction no write's own event names (an MHD bundle extracts once
// every entry is stored): an Import naming the document and what was extracted from it
// (AccessSession::TakeDepositList); nothing when nothing was. Within a DepositScope (an MHD
// Provide Document Bundle) the list holds every write of the submission too: called once,
// for its first document, it is the submission's one event.
Status AuditExtraction(storage::Transaction& tx, profiles::AccessSession& session,
                       const std::string& dr_id);

Status ExtractDocumentContent(storage::Transaction& tx, profiles::AccessSession& session,
                              const std::string& dr_id);

// A new document replaces DocumentReference `target_id` (relatesTo replaces, an XDS RPLC or
// XFRM_RPLC, or the CDA's relatedDocument RPLC): the target must exist in the same record and
// be current; it becomes superseded (Deprecated in XDS) and what was extracted from it goes.
// Replacing a document already superseded by this very document is a no-op.
Status SupersedeReplacedDocument(storage::Transaction& tx, profiles::AccessSession& session,
                                 const storage::StoredResource& replacement,
                                 const std::string& target_id);

// Removes what was extracted from DocumentReference `dr_id` (its Provenance and targets).
Status RemoveExtractedContent(storage::Transaction& tx, profiles::AccessSession& session,
                              const std::string& dr_id);

}  // namespace carnet::dossier
