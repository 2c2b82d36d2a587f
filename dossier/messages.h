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

// The content of a message attachment given by `url` (issue 17): "Binary/[id]" (or a full
// URL ending in it) of the record `patient_key`, read as the session's actor reads it (the
// policy decides on the Binary as on its document; the read is audited). A Binary the actor
// may not read, of another record, deleted or unknown is refused alike (kNotFound naming the
// url at `where`): what one may not see is indistinguishable from what does not exist.
struct AttachmentContent {
  std::string binary_id;
  std::string content_type;  // the Binary's
  std::string data;          // base64, as stored
};
Result<AttachmentContent> ReadAttachmentBinary(storage::Transaction& tx,
                                               profiles::AccessSession& session,
                                               long long patient_key, const std::string& url,
                                               const std::string& where);

// `message` with every attachment given by url made inline (data, contentType when absent,
// title the Binary's id when absent), for a mail that leaves carnet: each read through
// ReadAttachmentBinary, so a sender never mails what they may not read.
Result<JsonValue> InlineMessageAttachments(storage::Transaction& tx,
                                           profiles::AccessSession& session, long long patient_key,
                                           JsonValue message);

// A new message's thread (inResponseTo, and partOf where it names a Communication): each
// message it names must be one of the same record that the writer may read (a party to it),
// or the write is refused as for a message that does not exist (kNotFound naming the element):
// nobody links into another's thread, nor learns that a message exists.
Status CheckMessageThread(storage::Transaction& tx, profiles::AccessSession& session,
                          long long patient_key, const JsonValue& message);

// A guardian's own party in a child's record (issue 17): the RelatedPerson that stands for
// the session's guardian in record `patient_key` (patient = the child, relationship
// v3-RoleCode GUARD, identifier profiles::kGuardianSystem = the token's `sub`, name from the
// token's given_name / family_name when it has them), found, or created through this write
// path in the caller's transaction (decided by the policy as the guardian's create, audited).
// Idempotent: two first messages at once are serialised on an advisory lock, the second
// finds the first one's. Returns "RelatedPerson/[id]", or "" when the actor is no guardian of
// this record or the record takes no writes (the policy then refuses what follows as before).
Result<std::string> EnsureGuardianParty(storage::Transaction& tx, profiles::AccessSession& session,
                                        long long patient_key);

}  // namespace carnet::dossier
