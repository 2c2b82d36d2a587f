// The XDS registry view of the dossier (tables registry_object, registry_code): derived from
// every DocumentReference version in the write's transaction, like the search index, so
// that a document created through FHIR is found by ITI-18 and one deposited through XDS.b is
// a DocumentReference, with no second copy kept in sync by hand.
#pragma once

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "base/json.h"
#include "base/status.h"
#include "mapping/xds_metadata.h"
#include "storage/registry_store.h"
#include "storage/resource_store.h"
#include "storage/transaction.h"

namespace carnet::mapping {

// OID of the assigning authority carnet uses for a record's patient id when the record has
// no national identity (INS). Placeholder arc until carnet has its own registered OID.
inline constexpr const char* kLocalPatientIdAuthority = "1.3.6.1.4.1.21367.2017.2.5.83";
// repositoryUniqueId of carnet's own document repository.
inline constexpr const char* kRepositoryUniqueId = "1.3.6.1.4.1.21367.2017.2.5.84";

// Rewrites the registry rows of one resource: DocumentReference -> a DocumentEntry row and
// its multi-valued codes; a deletion (resource null) removes them. Other types: no effect.
Status UpdateRegistryIndex(storage::Transaction& tx, const storage::StoredResource& stored,
                           const JsonValue* resource);

// The record's patient id in CX form: its INS when it has one, else the Patient resource id
// under kLocalPatientIdAuthority. PatientCx composes it from the record's columns.
Result<std::string> PatientCxOf(storage::Transaction& tx, long long patient_key);
std::string PatientCx(const std::string& ins, const std::string& ins_system,
                      const std::string& resource_id);
// The other way: "id^^^&1.2.3&ISO" -> (urn:oid:1.2.3, id), the identifier system and value a
// record is found by; empty when `cx` is not a CX with an ISO authority.
std::pair<std::string, std::string> PatientIdentifierOfCx(const std::string& cx);

// What UpdateRegistryIndex writes for a DocumentReference version of record
// `stored.patient_key` (storage/registry_store.h: its registry_object row, its multi-valued
// codes, its associations with targets as "DocumentReference/id"). Exposed so that bulk
// loaders (bench/) register documents exactly as a live write does.
using DocumentEntryRows = storage::DocumentEntryRows;
// `resolve` finds the Practitioner/Organization an author reference names (UnContained
// submissions); without it such authors are left out of the XDS view.
using AuthorLookup = std::function<JsonValue(const std::string&)>;
Result<DocumentEntryRows> DocumentEntryRowsOf(const storage::StoredResource& stored,
                                              const JsonValue& resource,
                                              const std::string& patient_cx,
                                              const AuthorLookup& resolve = {});

// Resolves the author-like references of a DocumentReference ("Practitioner/1",
// "PractitionerRole/2", "Organization/3") to their current versions in `tx`; null for
// anything else, absent, deleted or unreadable (the XDS view then lacks that author).
std::function<JsonValue(const std::string&)> AuthorResolver(storage::Transaction& tx);

// A SubmissionSet's HasMember whose target is an association: how a submission adds a document
// to a folder, SubmissionSet -HasMember-> (Folder -HasMember-> DocumentEntry) (ITI TF-3
// 4.2.2.1.1). A List entry names a resource, not an association, so the SubmissionSet List keeps
// each one as an extension (xds-association-member: id, target, status), from which
// UpdateRegistryIndex derives the association row.
struct AssociationMember {
  std::string id;                     // the HasMember's entryUUID (urn:uuid:...)
  std::string target;                 // the member association's entryUUID (urn:uuid:...)
  std::string submission_set_status;  // as submitted; optional on this kind of HasMember
};
JsonValue AssociationMemberExtension(const AssociationMember& member);

// The extension that keeps an association's entryUUID (urn:uuid: or bare) on the FHIR element
// it becomes (a List entry, a relatesTo), from which UpdateRegistryIndex takes it back.
JsonValue AssociationIdExtension(const std::string& id);
// The DocumentReference.relatesTo a document relation `a` becomes (IHE MHD), its target the
// DocumentReference `target_res_id`: its code (xds::RelatesToCodeOf, which must know the
// type), the association's entryUUID and, for XFRM_RPLC, which has no relatesTo code of its
// own ("replaces"), the XDS type kept beside it.
JsonValue RelatesToOf(const xds::Association& a, const std::string& target_res_id);
std::vector<AssociationMember> AssociationMembersOf(const JsonValue& submission_set_list);

// "2.25.<decimal>" OID form of a UUID (ITU-T X.667), for documents created without a uniqueId.
std::string OidFromUuid(const std::string& uuid);

}  // namespace carnet::mapping
