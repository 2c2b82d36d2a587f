// ITI-43 Retrieve Document Set.
#include "base/strings.h"
#include "mapping/registry_index.h"
#include "storage/registry_store.h"
#include "storage/resource_store.h"
#include "xds/mtom.h"
#include "xds/requests.h"
#include "xds/transactions.h"

namespace carnet::xds {

using profiles::Action;

// ITI-43: the documents asked for by uniqueId, each as the Binary its DocumentReference points
// at, decided and audited one by one (a partial success names the ones left out).
HttpResponse Retrieve(const XdsContext& xds, Session& session, const SoapRequest& req) {
  auto requests = ReadRetrieveDocumentSetRequest(req.body_element);
  if (!requests.ok()) return Fault(FaultFromStatus(requests.status()), req.message_id);
  std::vector<RetrievedDocument> docs;
  std::vector<RegistryError> errors;
  Status st = storage::RunInTransaction(xds.pool, [&](Tx& tx) -> Status {
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
      auto row = storage::FindDocumentByUniqueId(tx, r.document_unique_id);
      if (!row.ok()) return row.status();
      profiles::AuditEntry audit = profiles::AuditEntry::Dicom("110106", "Export", "ITI-43", 'R');
      audit.object_reference = r.document_unique_id;
      auto unknown = [&] {
        errors.push_back(Error("XDSDocumentUniqueIdError",
                               "no document " + r.document_unique_id + " here",
                               r.document_unique_id));
      };
      if (!*row || !(*row)->binary_content) {
        (void)session.Refuse(audit,
                             profiles::Refusal(profiles::Reason::kNotFound, "no such document"),
                             std::nullopt, r.document_unique_id);
        unknown();
        continue;
      }
      // A document one may not see answers exactly as one that does not exist.
      auto entry = storage::ReadCurrent(tx, "DocumentReference", (*row)->res_id, false);
      if (!entry.ok()) return entry.status();
      if (!*entry) {
        unknown();
        continue;
      }
      // Named by its DocumentReference too: the patient's "who accessed this document" asks
      // for that reference (AuditEvent?entity=), whichever face the document was read from.
      audit.listed = {"DocumentReference/" + (*row)->res_id};
      auto decision = session.DecideStored(tx, **entry, Action::kRead);
      if (!decision.ok()) return decision.status();
      if (!decision->allowed) {
        (void)session.Refuse(audit, *decision, (*entry)->patient_key, r.document_unique_id);
        unknown();
        continue;
      }
      CARNET_RETURN_IF_ERROR(session.Audit(tx, audit, *decision, (*entry)->patient_key));
      auto binary = ParseJson(*(*row)->binary_content);
      if (!binary.ok()) return binary.status();
      // The bytes straight from document_content; inline base64 in a Binary stored before
      // they moved out.
      std::optional<std::string> bytes;
      if ((*row)->bytes_elsewhere) {
        if (!(*row)->bytes) return Internal("stored document's bytes are missing");
        bytes = std::move((*row)->bytes);
      } else {
        bytes = carnet::Base64Decode(binary->GetString("data"));
      }
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

}  // namespace carnet::xds
