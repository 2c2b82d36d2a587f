// Submission metadata validation per ITI TF-3 4.2 (spec/xds.md, "Metadata rules worth
// testing"). Everything that can be checked from the message alone is checked here, and every
// problem is collected (a Document Source fixes them all in one round trip). What needs the
// registry (patient known, uniqueId not yet used, referenced entries existing and Approved) is
// left to the caller, who gets the list of external references to look up.
#pragma once

#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "mapping/xds_metadata.h"

namespace carnet::xds {

enum class SubmissionKind {
  kProvideAndRegister,  // ITI-41 from a Document Source: hash/size/repositoryUniqueId optional
  kRegister,            // ITI-42 from a Repository: hash, size, repositoryUniqueId required
  kUpdate,              // ITI-57 Metadata Update
};

struct ValidationContext {
  SubmissionKind kind = SubmissionKind::kRegister;
  // ITI-41: the xds:Document@id values of the message; each must match one DocumentEntry and
  // each stable DocumentEntry must have one (XDSMissingDocument / XDSMissingDocumentMetadata).
  std::vector<std::string> document_ids;
  // Limited Metadata is an XDR/XDM feature; an XDS registry refuses it (ITI TF-3 4.1.1).
  bool accept_limited_metadata = false;
};

struct ValidationResult {
  std::vector<RegistryError> errors;  // reader problems + rule violations, Error and Warning
  // urn:uuid ids that associations point at but that are not in the message: existing
  // registry objects the caller must find (UnresolvedReferenceException otherwise) and check
  // (same patient, Approved for RPLC/APND/XFRM targets...).
  std::set<std::string> external_references;

  bool ok() const;  // no error of severity Error
};

// Validates a SubmitObjectsRequest's metadata. `reader_problems` are those of
// ReadRegistryObjectList; they are copied into the result first.
ValidationResult ValidateSubmission(const RegistryObjectList& metadata,
                                    const ValidationContext& context,
                                    const std::vector<RegistryError>& reader_problems = {});

// ---- value syntax, reusable by the stored query parser ----
// Patient id in CX form "id^^^&OID&ISO" (optionally "^<id type code>", as the French INS
// "...&ISO^NH", spec/france.md).
bool IsValidCxPatientId(std::string_view cx);
// OID: dotted decimal, no leading zeros, at most 64 characters.
bool IsValidOid(std::string_view oid);
// Digits and dots, at least two arcs (an OID-like name that need not sit under the ISO roots).
bool IsDottedNumber(std::string_view text);
// DocumentEntry.uniqueId: OID, or OID^extension with an extension of at most 16 characters.
bool IsValidDocumentUniqueId(std::string_view uid);
// DTM: YYYY[MM[DD[hh[mm[ss]]]]], UTC, each part in range.
bool IsValidDtm(std::string_view dtm);

}  // namespace carnet::xds
