#include "fhir/format.h"

#include <algorithm>
#include <cctype>

#include "fhir/outcome.h"
#include "fhir/xml_format.h"

namespace carnet::fhir {
namespace {

std::string Lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string Trim(std::string s) {
  s.erase(0, s.find_first_not_of(" \t"));
  s.erase(s.find_last_not_of(" \t") + 1);
  return s;
}

// The media type without parameters, lower case.
std::string MediaType(const std::string& value) {
  return Trim(Lower(value.substr(0, value.find(';'))));
}

enum class Kind { kJson, kXml, kAny, kOther };

// The media types of an Accept header with a non-zero quality, in the client's order.
std::vector<std::pair<std::string, float>> AcceptedTypes(const std::string& accept) {
  std::vector<std::pair<std::string, float>> out;
  size_t start = 0;
  while (start <= accept.size()) {
    size_t comma = accept.find(',', start);
    std::string item =
        accept.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    start = comma == std::string::npos ? accept.size() + 1 : comma + 1;
    float q = 1;
    size_t qpos = Lower(item).find("q=");
    if (qpos != std::string::npos) q = std::strtof(item.c_str() + qpos + 2, nullptr);
    std::string media = MediaType(item);
    if (q > 0 && !media.empty()) out.emplace_back(std::move(media), q);
  }
  return out;
}

Kind Classify(const std::string& media) {
  if (media == "application/fhir+json" || media == "application/json" || media == "json" ||
      media == "application/json+fhir" || media == "text/json")
    return Kind::kJson;
  if (media == "application/fhir+xml" || media == "application/xml" || media == "xml" ||
      media == "text/xml" || media == "application/xml+fhir")
    return Kind::kXml;
  if (media == "*/*" || media == "application/*" || media.empty()) return Kind::kAny;
  return Kind::kOther;
}

}  // namespace

bool IsFhirContentType(const std::string& content_type) {
  Kind k = Classify(MediaType(content_type));
  return k == Kind::kJson || k == Kind::kXml;
}

Result<Negotiated> NegotiateResponse(const HttpRequest& req, const QueryParams& query) {
  Negotiated n;
  std::string format_param;
  for (const auto& [k, v] : query) {
    if (k == "_format") format_param = v;
    if (k == "_pretty") n.pretty = v == "true";
  }
  if (!format_param.empty()) {
    Kind k = Classify(MediaType(format_param));
    if (k == Kind::kJson || k == Kind::kAny) return n;
    if (k == Kind::kXml) {
      n.format = Format::kXml;
      return n;
    }
    return Status(ErrorCode::kNotAcceptable,
                  "_format=" + format_param + " is not supported: use json or xml");
  }
  const std::string* accept = req.Header("Accept");
  if (!accept || Trim(*accept).empty()) return n;
  // The first acceptable entry with a non-zero quality wins (clients list their
  // preference first; full q-ordering is rarely needed for two formats).
  float best_q = -1;
  bool found = false;
  for (const auto& [media, q] : AcceptedTypes(*accept)) {
    Kind k = Classify(media);
    if (k == Kind::kOther) continue;
    if (q > best_q) {
      best_q = q;
      found = true;
      n.format = k == Kind::kXml ? Format::kXml : Format::kJson;
    }
  }
  if (!found)
    return Status(
        ErrorCode::kNotAcceptable,
        "cannot answer in " + *accept + ": use application/fhir+json or application/fhir+xml");
  return n;
}

bool WantsCalendar(const HttpRequest& req, const QueryParams& query) {
  for (const auto& [k, v] : query)
    if (k == "_format") return v == "ics" || MediaType(v) == "text/calendar";
  const std::string* accept = req.Header("Accept");
  if (!accept) return false;
  auto types = AcceptedTypes(*accept);
  return !types.empty() && types.front().first == "text/calendar";
}

Result<JsonValue> ParseResourceBody(const HttpRequest& req) {
  const std::string* ct = req.Header("Content-Type");
  Kind kind;
  if (ct && !Trim(*ct).empty()) {
    kind = Classify(MediaType(*ct));
    if (kind == Kind::kOther || kind == Kind::kAny)
      return Status(ErrorCode::kUnsupportedMediaType,
                    "Content-Type " + *ct +
                        " is not supported: send application/fhir+json or "
                        "application/fhir+xml");
  } else {
    size_t first = req.body.find_first_not_of(" \t\r\n");
    kind = first != std::string::npos && req.body[first] == '<' ? Kind::kXml : Kind::kJson;
  }
  if (req.body.find_first_not_of(" \t\r\n") == std::string::npos)
    return BadRequest("the request has no body: a FHIR resource was expected");
  if (kind == Kind::kXml) return ResourceXmlToJson(req.body);
  auto json = ParseJson(req.body);
  if (!json.ok()) return json.status();
  if (!json->is_object()) return BadRequest("the body is not a JSON object");
  return json;
}

HttpResponse RenderResource(int status, const JsonValue& resource, const Negotiated& n) {
  HttpResponse r;
  r.status = status;
  if (n.format == Format::kXml) {
    auto xml = ResourceJsonToXml(resource, n.pretty);
    if (!xml.ok()) {
      // Nothing we stored should fail to convert; answer in JSON rather than lose it.
      r.status = 500;
      r.content_type = "application/fhir+json;charset=utf-8";
      r.body = WriteJson(OutcomeFromStatus(xml.status()));
      return r;
    }
    r.content_type = "application/fhir+xml;charset=utf-8";
    r.body = std::move(xml).value();
    return r;
  }
  r.content_type = "application/fhir+json;charset=utf-8";
  r.body = WriteJson(resource, n.pretty);
  return r;
}

HttpResponse RenderStoredJson(int status, const std::string& json_text, const Negotiated& n) {
  if (n.format == Format::kJson && !n.pretty) {
    HttpResponse r;
    r.status = status;
    r.content_type = "application/fhir+json;charset=utf-8";
    r.body = json_text;
    return r;
  }
  auto parsed = ParseJson(json_text);
  if (!parsed.ok()) return RenderError(Internal("stored resource is unreadable"), n);
  return RenderResource(status, *parsed, n);
}

HttpResponse RenderError(const Status& status, const Negotiated& n) {
  HttpResponse r = RenderResource(status.http_status(), OutcomeFromStatus(status), n);
  if (status.code() == ErrorCode::kUnauthorized) r.SetHeader("WWW-Authenticate", "Bearer");
  return r;
}

}  // namespace carnet::fhir
