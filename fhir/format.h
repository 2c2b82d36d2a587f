// FHIR wire formats: content negotiation (Accept, _format, _pretty), request bodies in
// JSON or XML, and responses rendered in the format the client asked for.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "base/http.h"
#include "base/json.h"
#include "base/status.h"

namespace carnet::fhir {

enum class Format { kJson, kXml };

struct Negotiated {
  Format format = Format::kJson;
  bool pretty = false;
};

using QueryParams = std::vector<std::pair<std::string, std::string>>;

// The response format from `_format` (wins) or Accept; kNotAcceptable when the client
// accepts neither FHIR JSON nor FHIR XML.
Result<Negotiated> NegotiateResponse(const HttpRequest& req, const QueryParams& query);

// Parses a FHIR resource body by its Content-Type (sniffed when absent): kUnsupportedMediaType
// for other types, kBadRequest for unparsable content.
Result<JsonValue> ParseResourceBody(const HttpRequest& req);

// True when the client asks for an iCalendar answer (`_format=ics` or `text/calendar`, or an
// Accept whose first acceptable type is text/calendar): the agenda's feed form.
bool WantsCalendar(const HttpRequest& req, const QueryParams& query);

// True when the Content-Type names FHIR JSON or XML (or plain JSON/XML).
bool IsFhirContentType(const std::string& content_type);

// A response holding `resource` in the negotiated format.
HttpResponse RenderResource(int status, const JsonValue& resource, const Negotiated& n);
// Same, from stored JSON text: written out as is when no transformation is needed.
HttpResponse RenderStoredJson(int status, const std::string& json_text, const Negotiated& n);
// An OperationOutcome for `status` with its HTTP status.
HttpResponse RenderError(const Status& status, const Negotiated& n);

}  // namespace carnet::fhir
