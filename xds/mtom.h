// MTOM/XOP (W3C SOAP MTOM, XOP 1.0) for XDS.b: ITI-41 requests carry their documents as MIME
// parts referenced from the SOAP envelope by <xop:Include href="cid:..."/>, and ITI-43
// responses send them back the same way (spec/xds.md, "Transactions").
//
// Only parts of the same message can be referenced: an href that is not cid:, or names a part
// that is not there, is a fault (spec/security.md item 4; Apache CXF CVE-2022-46364 fetched
// http: hrefs). Part count and sizes are bounded before anything is copied.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"

namespace carnet::xds {

struct MtomLimits {
  size_t max_parts = 1000;                   // root + attachments
  size_t max_part_bytes = 256u << 20;        // one document
  size_t max_body_bytes = 512u << 20;        // the whole HTTP body
};

struct MimePart {
  std::string content_id;    // without the angle brackets
  std::string content_type;  // as sent
  std::string content_transfer_encoding;
  std::string body;          // bytes, untouched (binary or 8bit; base64 parts are decoded)
};

// What arrives in the HTTP body of a SOAP request, whichever way it was packaged.
struct InboundMessage {
  bool mtom = false;
  std::string soap_xml;  // the root part, or the whole body for application/soap+xml
  // Attachments by Content-ID (without angle brackets); the root part is not among them.
  std::map<std::string, MimePart> attachments;
};

// Parameters of a Content-Type header: "multipart/related; boundary=x; type=\"...\"".
struct ContentType {
  std::string media_type;  // lower-cased "multipart/related"
  std::map<std::string, std::string> params;  // names lower-cased, values unquoted
};
Result<ContentType> ParseContentType(std::string_view header);

// Splits a multipart/related body. Requires boundary, type="application/xop+xml" and a root
// part of type application/xop+xml (start= names it, else the first part). Accepts CRLF or LF
// line ends and transport padding after boundaries. Duplicate Content-IDs are refused.
Result<InboundMessage> ParseMultipartRelated(const ContentType& content_type,
                                             std::string_view body,
                                             const MtomLimits& limits = {});

// The entry point for a SOAP HTTP body: multipart/related (MTOM) or plain
// application/soap+xml (documents then inline in base64). Other media types -> kUnsupportedMediaType.
Result<InboundMessage> ReadInboundMessage(std::string_view content_type_header,
                                          std::string_view body, const MtomLimits& limits = {});

// The Content-ID an href names: "cid:a%40b" -> "a@b". Anything but a cid: URL is an error.
Result<std::string> ContentIdFromHref(std::string_view href);

// Strict RFC 4648 base64 decoding; whitespace is skipped (XML line-wraps base64Binary).
Result<std::string> Base64Decode(std::string_view text);
std::string Base64Encode(std::string_view bytes);

// An outbound MTOM message. The root part is the SOAP envelope (which references the
// attachments by cid:); attachments are written byte for byte with
// Content-Transfer-Encoding: binary.
struct OutboundPart {
  std::string content_id;  // without brackets, e.g. "doc0@carnet"
  std::string content_type;
  std::string body;
};
struct MtomMessage {
  std::string content_type;  // the HTTP Content-Type header value
  std::string body;
};
MtomMessage WriteMtom(std::string_view soap_xml, std::string_view soap_action,
                      const std::vector<OutboundPart>& attachments);

}  // namespace carnet::xds
