// mail/mime: a hostile message as a mail relay hands it over (POST /mail/inbound,
// carnet-gateway ingest-mail). GMime parses it under carnet's limits; small limits here so that
// the part-count and depth refusals are reached as often as the accepting paths.
#include <cstdint>
#include <string_view>

#include "mail/mime.h"

using namespace carnet;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view raw(reinterpret_cast<const char*>(data), size);
  mail::MailLimits limits;
  limits.max_bytes = 1 << 20;
  limits.max_parts = 8;
  limits.max_depth = 3;
  auto message = mail::ParseMail(raw, limits);
  if (message.ok())
    for (const auto& a : message->attachments) (void)mail::AttachmentTypeAllowed(a.content_type);
  return 0;
}
