// A message received by mail becomes a Communication in the record of the patient it is
// addressed to (issue 17): `carnet-gateway ingest-mail` (a Postfix pipe transport) and
// POST /mail/inbound both parse the message (mail/mime.h) and call FileInboundMail in one
// transaction, as the mail relay (a system actor) through the dossier's one write path
// (decided by the policy's DecideMessage as a deposit source's message to the patient,
// audited, the patient's "messages" notification following). All or nothing: a refusal
// leaves no row.
#pragma once

#include <string>
#include <vector>

#include "base/status.h"
#include "dossier/dossier.h"
#include "mail/mime.h"

namespace carnet::mail {

// The national identity system the patient part of `<INS>@patient.<domain>` names.
inline constexpr const char* kInsSystem = "urn:oid:1.2.250.1.213.1.4.10";

// The Communication filed for `message` in the record of Patient/`patient_id`: the relay as
// sender (its id; the mail's From as display), the patient as recipient with their address,
// the subject as topic, the text and the attachments as payload: attachment i by url
// "Binary/`binary_ids`[i]" when given (how FileInboundMail files them), inline otherwise.
JsonValue CommunicationFromMail(const MailMessage& message, const profiles::Actor& relay,
                                const std::string& patient_id, const std::string& address,
                                const std::vector<std::string>& binary_ids = {});

// Files `message` for every patient address among its recipients (those of --mail-domain;
// others are ignored), each attachment stored as a Binary of the record (securityContext:
// the Communication, so it is read as the message is) named by url in the payload; all in
// `tx`, so a refusal leaves neither message nor Binary. kUnknownPatient naming the address when a
// patient address has no active record, or when no recipient is a patient address of this domain.
Result<std::vector<dossier::WriteResult>> FileInboundMail(storage::Transaction& tx,
                                                          profiles::AccessSession& session,
                                                          const MailMessage& message);

// The sysexits(3) code a mail server understands for a refusal: 65 (EX_DATAERR) for bad
// mail, 67 (EX_NOUSER) for an unknown recipient, 75 (EX_TEMPFAIL) when the database is
// unreachable (the server retries), 77 (EX_NOPERM) when the policy refuses, 70 otherwise.
int SysexitsCode(const Status& status);

}  // namespace carnet::mail
