// Secure messaging (issue 17): a message is a FHIR Communication filed in the patient's
// record (Communication is in the Patient compartment). Who may send and read one is the
// policy's (profiles/policy.h, DecideMessage and the search filter's message_parties); this
// file holds what carnet writes on a message and what it tells the patient.
#pragma once

#include <string>

#include "base/json.h"
#include "base/status.h"
#include "profiles/actor.h"
#include "profiles/policy.h"
#include "storage/transaction.h"

namespace carnet::profiles {

// Event kind of the patient's "new message" notification (patient_preference.event_kind).
inline constexpr const char* kEventMessage = "messages";

// What carnet writes on a new message, once the policy let it through: `sent` (now, unless
// given) and each party's MSSante-style address as a ContactPoint (extension
// kMailAddressExtension on the `sender` and `recipient` references): the patient's from the
// record's INS, the sending professional's from their token (given and family name,
// profession). An address the client wrote is kept when it parses (kBadRequest naming the
// element otherwise); a patient address must carry the record's INS.
Status StampMessage(JsonValue& message, const Actor& actor, const RecordContext& record,
                    const std::string& now);

// A guardian's message is sent by the guardian, not by the child (issue 17): `sender`
// becomes `party` (their RelatedPerson in the child's record, dossier::EnsureGuardianParty;
// display their name from the token, else "représentant légal") when the client left it
// out, named the child (their Patient reference or INS) or named `party` already; any other
// sender is left for the policy to refuse. Guardians have no MSSanté-style address (the
// scheme has none for them): they are reached through carnet only.
void SendAsGuardian(JsonValue& message, const Actor& actor, const RecordContext& record,
                    const std::string& party);

// Receipt per recipient: a message's reading is recorded on the recipient who read it, as
// this extension (valueDateTime, the first time they read it) on their `recipient`
// reference; one recipient reading leaves the message unread for the others. The single
// `received` of Communication is set only once every recipient has read it (the last of
// their reading times). A client's own copy of this extension is dropped on sending.
inline constexpr const char* kMessageReadExtension =
    "https://carnet.example.org/fhir/StructureDefinition/message-read";

// Records on `message` that the recipients named by `me` (MessagePartyIds) read it at `now`;
// false when each of them had read it already (nothing changes: the first time stays).
bool MarkReadBy(JsonValue& message, const std::vector<std::string>& me, const std::string& now);

// Whether the record's patient is among the recipients of `message` (and not its sender).
bool MessageReachesPatient(const JsonValue& message, const RecordContext& record);

// Queues the patient's "new message" notification (kEventMessage; opt-in, like every
// channel): words only, no content of the message.
Status EnqueueMessageNotification(storage::Transaction& tx, long long patient_key,
                                  const std::string& reference, const std::string& from);

// Outbound secure mail: the outbox channel (and event kind) of a message that leaves carnet.
inline constexpr const char* kChannelMailOut = "mail-out";

// Queues, in the write's transaction, one outbound mail (kChannelMailOut) per recipient whose
// address (kMailAddressExtension) is outside carnet's mail domain: the sender's address, the
// subject (`topic.text`), the text (`payload.contentString`) and the inline attachments
// (`payload.contentAttachment.data`; those given by url are made inline first, read as the
// sender reads them: dossier::InlineMessageAttachments), which the outbox worker sends as a
// multipart message over SMTP. Nothing when the sender has no carnet address or every recipient is
// inside. Whether a recipient of `message` has an address outside carnet's mail domain (and the
// sender one inside): the message leaves by mail.
bool HasOutboundRecipient(const JsonValue& message);

Status EnqueueOutboundMail(storage::Transaction& tx, long long patient_key,
                           const JsonValue& message, const std::string& reference);

}  // namespace carnet::profiles
