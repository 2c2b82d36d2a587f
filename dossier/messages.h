// Secure messaging on the write path (issue 17): "copy to the patient". A lab or a hospital
// that deposits a document may ask (FHIR $deposit parameter copy-to-patient=true, ITI-41 slot
// urn:carnet:copyToPatient = true) that the patient also receive it in their mailbox: a
// Communication from the depositor to the patient, the document attached, filed in the
// record through the one write path (decided by the policy: DecideMessage; audited; the
// patient's "messages" notification follows).
#pragma once

#include <string>

#include "base/status.h"
#include "dossier/dossier.h"

namespace carnet::dossier {

// The ITI-41 slot that asks for the copy.
inline constexpr const char* kCopyToPatientSlot = "urn:carnet:copyToPatient";

// The DocumentReference extension (valueBoolean true) that asks for the copy when the
// document is created by a FHIR create or an MHD ITI-65 transaction (dossier/after_write.cc).
inline constexpr const char* kCopyToPatientExtension =
    "https://carnet.example.org/fhir/StructureDefinition/copy-to-patient";

// Sends the patient of record Patient/`patient_id` a message from the session's actor with
// the document DocumentReference/`document_id` attached (`content_type`, `bytes`), `title`
// naming it in the message's topic.
Result<WriteResult> CopyDocumentToPatient(storage::Transaction& tx,
                                          profiles::AccessSession& session,
                                          const std::string& patient_id,
                                          const std::string& document_id,
                                          const std::string& content_type, const std::string& bytes,
                                          const std::string& title);

// The same with the attachment as given (inline data, or a url naming the Binary that holds
// the content).
Result<WriteResult> CopyDocumentToPatient(storage::Transaction& tx,
                                          profiles::AccessSession& session,
                                          const std::string& patient_id,
                                          const std::string& document_id, JsonValue attachment,
                                          const std::string& title);

}  // namespace carnet::dossier
