// A message received by mail (issue 17), parsed from its RFC 822 / MIME bytes with GMime 3:
// who sent it, to whom, its subject, its text and its attachments. Bad mail is refused whole
// with a reason a mail server can return to the sender: too large (kPayloadTooLarge), not a
// well-formed message, too many parts or nested too deep (kBadRequest), an attachment type
// outside mail/data/attachment_types.tsv (kUnsupportedMediaType).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace carnet::mail {

// The limits of a message carnet accepts (settings: --mail-max-bytes and the like).
struct MailLimits {
  size_t max_bytes = 10 * 1024 * 1024;  // the whole message, as received
  int max_parts = 20;                   // MIME parts (leaves and multiparts)
  int max_depth = 5;                    // multipart nesting
};

struct MailAttachment {
  std::string content_type;  // "application/pdf", lower case, without parameters
  std::string filename;      // may be empty
  std::string bytes;         // decoded (base64 / quoted-printable undone)
};

struct MailMessage {
  std::string from;             // the From mailbox's address
  std::vector<std::string> to;  // the To and Cc addresses, in order
  std::string subject;          // decoded (RFC 2047), UTF-8
  std::string text;             // the first inline text/plain part, UTF-8
  std::vector<MailAttachment> attachments;
};

Result<MailMessage> ParseMail(std::string_view raw, const MailLimits& limits = {});

// A message carnet sends (outbound secure mail, issue 17).
struct OutgoingMail {
  std::string from;     // the sender's address (no display name)
  std::string to;       // the recipient's address
  std::string subject;  // UTF-8; line breaks become spaces (no header can be injected)
  std::string text;     // UTF-8, lines ending in LF or CRLF
  std::vector<MailAttachment> attachments;
};

// The RFC 5322 / MIME bytes of the message, built with GMime 3: multipart/mixed, the text as
// text/plain UTF-8, then each attachment in base64 with its filename; lines end in CRLF.
// An address or a media type that is not one line of printable ASCII is refused (kBadRequest).
Result<std::string> BuildMail(const OutgoingMail& mail);

// The media types of mail/data/attachment_types.tsv.
const std::vector<std::string>& AllowedAttachmentTypes();
bool AttachmentTypeAllowed(std::string_view content_type);

}  // namespace carnet::mail
