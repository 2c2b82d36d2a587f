#include "xds/mtom.h"

#include <cctype>

#include "base/strings.h"

namespace carnet::xds {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string TrimWs(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && (s[b] == ' ' || s[b] == '\t' || s[b] == '\r' || s[b] == '\n')) ++b;
  while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t' || s[e - 1] == '\r' || s[e - 1] == '\n'))
    --e;
  return std::string(s.substr(b, e - b));
}

std::string StripAngles(std::string_view id) {
  std::string s = TrimWs(id);
  if (s.size() >= 2 && s.front() == '<' && s.back() == '>') s = s.substr(1, s.size() - 2);
  return s;
}

// One header block of a MIME part: "Name: value" lines, continuation lines folded in.
std::vector<std::pair<std::string, std::string>> ParseHeaders(std::string_view block) {
  std::vector<std::pair<std::string, std::string>> out;
  size_t pos = 0;
  while (pos < block.size()) {
    size_t eol = block.find('\n', pos);
    if (eol == std::string_view::npos) eol = block.size();
    std::string_view line = block.substr(pos, eol - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    pos = eol + 1;
    if (line.empty()) continue;
    if ((line[0] == ' ' || line[0] == '\t') && !out.empty()) {
      out.back().second += " " + TrimWs(line);
      continue;
    }
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    out.emplace_back(Lower(TrimWs(line.substr(0, colon))), TrimWs(line.substr(colon + 1)));
  }
  return out;
}

int Base64Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

}  // namespace

Result<ContentType> ParseContentType(std::string_view header) {
  ContentType ct;
  size_t i = 0;
  auto skip_ws = [&] {
    while (i < header.size() && (header[i] == ' ' || header[i] == '\t')) ++i;
  };
  skip_ws();
  size_t start = i;
  while (i < header.size() && header[i] != ';') ++i;
  ct.media_type = Lower(TrimWs(header.substr(start, i - start)));
  if (ct.media_type.find('/') == std::string::npos) {
    return Status(ErrorCode::kUnsupportedMediaType, "Content-Type has no media type");
  }
  while (i < header.size()) {
    ++i;  // ';'
    skip_ws();
    size_t name_start = i;
    while (i < header.size() && header[i] != '=' && header[i] != ';') ++i;
    std::string name = Lower(TrimWs(header.substr(name_start, i - name_start)));
    if (i >= header.size() || header[i] == ';') {
      if (!name.empty()) ct.params[name] = "";
      continue;
    }
    ++i;  // '='
    skip_ws();
    std::string value;
    if (i < header.size() && header[i] == '"') {
      ++i;
      bool closed = false;
      while (i < header.size()) {
        char c = header[i++];
        if (c == '\\' && i < header.size()) {
          value += header[i++];
        } else if (c == '"') {
          closed = true;
          break;
        } else {
          value += c;
        }
      }
      if (!closed) return BadRequest("Content-Type: unterminated quoted parameter " + name);
      while (i < header.size() && header[i] != ';') ++i;
    } else {
      size_t v = i;
      while (i < header.size() && header[i] != ';') ++i;
      value = TrimWs(header.substr(v, i - v));
    }
    if (!name.empty()) ct.params[name] = value;
  }
  return ct;
}

Result<InboundMessage> ParseMultipartRelated(const ContentType& content_type,
                                             std::string_view body, const MtomLimits& limits) {
  if (body.size() > limits.max_body_bytes) {
    return Status(ErrorCode::kPayloadTooLarge, "MTOM message larger than the configured limit");
  }
  auto param = [&](const char* name) -> std::string {
    auto it = content_type.params.find(name);
    return it == content_type.params.end() ? std::string() : it->second;
  };
  const std::string boundary = param("boundary");
  // RFC 2046 5.1.1: 1 to 70 characters.
  if (boundary.empty() || boundary.size() > 70) {
    return BadRequest("multipart/related without a valid boundary parameter");
  }
  if (Lower(param("type")) != "application/xop+xml") {
    return BadRequest("multipart/related type must be \"application/xop+xml\" (MTOM/XOP)");
  }
  const std::string start = StripAngles(param("start"));
  const std::string delimiter = "--" + boundary;

  // Finds the next delimiter line at or after `from` (at the very beginning or after a line
  // break, which then belongs to the delimiter). Returns the offset where the preceding
  // part's content ends and sets *after to just past the delimiter.
  auto find_delimiter = [&](size_t from, size_t* after) -> size_t {
    size_t pos = from;
    while (true) {
      size_t hit = body.find(delimiter, pos);
      if (hit == std::string_view::npos) return std::string_view::npos;
      size_t content_end = hit;
      bool at_line_start = hit == 0;
      if (hit > 0 && body[hit - 1] == '\n') {
        at_line_start = true;
        content_end = hit - 1;
        if (content_end > 0 && body[content_end - 1] == '\r') --content_end;
      }
      size_t end = hit + delimiter.size();
      // A longer string starting with the boundary is not a delimiter.
      bool terminated = end >= body.size() || body[end] == '-' || body[end] == ' ' ||
                        body[end] == '\t' || body[end] == '\r' || body[end] == '\n';
      if (at_line_start && terminated) {
        *after = end;
        return content_end < from ? from : content_end;
      }
      pos = hit + 1;
    }
  };

  size_t after = 0;
  if (find_delimiter(0, &after) == std::string_view::npos) {
    return BadRequest("multipart/related body has no boundary line");
  }
  std::vector<MimePart> parts;
  while (true) {
    if (body.compare(after, 2, "--") == 0) break;  // close delimiter
    // Transport padding, then the line break ending the delimiter line.
    while (after < body.size() && (body[after] == ' ' || body[after] == '\t')) ++after;
    if (after < body.size() && body[after] == '\r') ++after;
    if (after >= body.size() || body[after] != '\n') {
      return BadRequest("multipart/related: malformed boundary line");
    }
    ++after;
    // Headers end at the first empty line.
    size_t header_end = std::string_view::npos, content_start = 0;
    for (size_t p = after; p < body.size();) {
      size_t eol = body.find('\n', p);
      if (eol == std::string_view::npos) break;
      std::string_view line = body.substr(p, eol - p);
      if (line.empty() || line == "\r") {
        header_end = p;
        content_start = eol + 1;
        break;
      }
      p = eol + 1;
    }
    if (header_end == std::string_view::npos) {
      return BadRequest("multipart/related: part without a header/body separator");
    }
    size_t next_after = 0;
    size_t content_end = find_delimiter(content_start, &next_after);
    if (content_end == std::string_view::npos) {
      return BadRequest("multipart/related: missing close delimiter");
    }
    if (parts.size() + 1 > limits.max_parts) {
      return Status(ErrorCode::kPayloadTooLarge,
                    "MTOM message has more than " + std::to_string(limits.max_parts) + " parts");
    }
    if (content_end - content_start > limits.max_part_bytes) {
      return Status(ErrorCode::kPayloadTooLarge, "MTOM part larger than the configured limit");
    }
    MimePart part;
    for (auto& [name, value] : ParseHeaders(body.substr(after, header_end - after))) {
      if (name == "content-id") {
        part.content_id = StripAngles(value);
      } else if (name == "content-type") {
        part.content_type = value;
      } else if (name == "content-transfer-encoding") {
        part.content_transfer_encoding = Lower(value);
      }
    }
    std::string_view content = body.substr(content_start, content_end - content_start);
    const std::string& cte = part.content_transfer_encoding;
    if (cte.empty() || cte == "binary" || cte == "8bit" || cte == "7bit") {
      part.body.assign(content);
    } else if (cte == "base64") {
      Result<std::string> decoded = Base64Decode(content);
      if (!decoded.ok()) return BadRequest("MTOM part " + part.content_id + ": bad base64");
      part.body = std::move(decoded).value();
    } else {
      return BadRequest("MTOM part " + part.content_id + ": unsupported Content-Transfer-Encoding " +
                        cte);
    }
    parts.push_back(std::move(part));
    after = next_after;
  }
  if (parts.empty()) return BadRequest("multipart/related body has no parts");

  size_t root = 0;
  if (!start.empty()) {
    root = parts.size();
    for (size_t i = 0; i < parts.size(); ++i) {
      if (parts[i].content_id == start) root = i;
    }
    if (root == parts.size()) {
      return BadRequest("multipart/related: no part has the start Content-ID <" + start + ">");
    }
  }
  Result<ContentType> root_type = ParseContentType(parts[root].content_type);
  if (!root_type.ok() || root_type->media_type != "application/xop+xml") {
    return BadRequest("MTOM root part must be application/xop+xml");
  }
  auto inner = root_type->params.find("type");
  if (inner != root_type->params.end() && Lower(inner->second) != "application/soap+xml") {
    return BadRequest("MTOM root part must carry a SOAP 1.2 envelope (type=application/soap+xml)");
  }

  InboundMessage msg;
  msg.mtom = true;
  msg.soap_xml = std::move(parts[root].body);
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i == root) continue;
    if (parts[i].content_id.empty()) {
      // Unreferenceable; XOP parts must have a Content-ID.
      return BadRequest("MTOM attachment without Content-ID");
    }
    if (parts[i].content_id == parts[root].content_id) {
      return BadRequest("duplicate Content-ID <" + parts[i].content_id + ">");
    }
    std::string id = parts[i].content_id;
    if (!msg.attachments.emplace(id, std::move(parts[i])).second) {
      return BadRequest("duplicate Content-ID <" + id + ">");
    }
  }
  return msg;
}

Result<InboundMessage> ReadInboundMessage(std::string_view content_type_header,
                                          std::string_view body, const MtomLimits& limits) {
  Result<ContentType> ct = ParseContentType(content_type_header);
  if (!ct.ok()) return ct.status();
  if (ct->media_type == "multipart/related") return ParseMultipartRelated(*ct, body, limits);
  if (ct->media_type == "application/soap+xml") {
    if (body.size() > limits.max_body_bytes) {
      return Status(ErrorCode::kPayloadTooLarge, "SOAP message larger than the configured limit");
    }
    InboundMessage msg;
    msg.soap_xml.assign(body);
    return msg;
  }
  return Status(ErrorCode::kUnsupportedMediaType,
                "XDS.b takes application/soap+xml or multipart/related (MTOM), not " +
                    ct->media_type);
}

Result<std::string> ContentIdFromHref(std::string_view href) {
  std::string h = TrimWs(href);
  if (h.size() < 4 || Lower(h.substr(0, 4)) != "cid:") {
    return BadRequest("xop:Include href must be a cid: URL naming a part of this message, not '" +
                      h.substr(0, 64) + "'");
  }
  // RFC 2392: the cid URL is the Content-ID, %-encoded.
  std::string out;
  for (size_t i = 4; i < h.size(); ++i) {
    if (h[i] == '%' && i + 2 < h.size() && std::isxdigit(static_cast<unsigned char>(h[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(h[i + 2]))) {
      out += static_cast<char>(std::stoi(h.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += h[i];
    }
  }
  if (out.empty()) return BadRequest("xop:Include href 'cid:' names no part");
  return out;
}

Result<std::string> Base64Decode(std::string_view text) {
  std::string out;
  out.reserve(text.size() / 4 * 3);
  unsigned buffer = 0;
  int bits = 0, pad = 0;
  size_t count = 0;
  for (char c : text) {
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') continue;
    ++count;
    if (c == '=') {
      ++pad;
      continue;
    }
    int v = Base64Value(c);
    if (v < 0 || pad > 0) return BadRequest("invalid base64");
    buffer = (buffer << 6) | static_cast<unsigned>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((buffer >> bits) & 0xFF);
    }
  }
  if (count % 4 != 0 || pad > 2) return BadRequest("invalid base64 length");
  return out;
}

std::string Base64Encode(std::string_view bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    unsigned n = (static_cast<unsigned char>(bytes[i]) << 16) |
                 (static_cast<unsigned char>(bytes[i + 1]) << 8) |
                 static_cast<unsigned char>(bytes[i + 2]);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
    out += kAlphabet[n & 63];
  }
  if (i < bytes.size()) {
    unsigned n = static_cast<unsigned char>(bytes[i]) << 16;
    if (i + 1 < bytes.size()) n |= static_cast<unsigned char>(bytes[i + 1]) << 8;
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += i + 1 < bytes.size() ? kAlphabet[(n >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

MtomMessage WriteMtom(std::string_view soap_xml, std::string_view soap_action,
                      const std::vector<OutboundPart>& attachments) {
  // A random boundary, redrawn in the (astronomically unlikely) case a part contains it:
  // binary parts are never altered, so the boundary has to avoid them.
  std::string boundary;
  while (true) {
    boundary = "MIMEBoundary_" + RandomHex(16);
    bool clash = soap_xml.find(boundary) != std::string_view::npos;
    for (const OutboundPart& p : attachments) clash = clash || p.body.find(boundary) != std::string::npos;
    if (!clash) break;
  }
  const std::string root_id = "root." + RandomHex(8) + "@carnet";
  MtomMessage m;
  m.content_type = "multipart/related; boundary=\"" + boundary +
                   "\"; type=\"application/xop+xml\"; start=\"<" + root_id +
                   ">\"; start-info=\"application/soap+xml\"";
  if (!soap_action.empty()) m.content_type += "; action=\"" + std::string(soap_action) + "\"";
  size_t total = soap_xml.size() + 256;
  for (const OutboundPart& p : attachments) total += p.body.size() + 256;
  m.body.reserve(total);
  m.body += "--" + boundary + "\r\n";
  m.body += "Content-Type: application/xop+xml; charset=UTF-8; type=\"application/soap+xml\"";
  if (!soap_action.empty()) m.body += "; action=\"" + std::string(soap_action) + "\"";
  m.body += "\r\nContent-Transfer-Encoding: binary\r\nContent-ID: <" + root_id + ">\r\n\r\n";
  m.body += soap_xml;
  for (const OutboundPart& p : attachments) {
    m.body += "\r\n--" + boundary + "\r\n";
    m.body += "Content-Type: " + (p.content_type.empty() ? std::string("application/octet-stream")
                                                         : p.content_type);
    m.body += "\r\nContent-Transfer-Encoding: binary\r\nContent-ID: <" + p.content_id + ">\r\n\r\n";
    m.body += p.body;
  }
  m.body += "\r\n--" + boundary + "--\r\n";
  return m;
}

}  // namespace carnet::xds
