#include "mail/mime.h"

#include <gmime/gmime.h>

#include <algorithm>
#include <mutex>

#include "profiles/rows.h"

namespace carnet::mail {

const char* EmbeddedAttachmentTypes();

namespace {

void InitGMime() {
  static std::once_flag once;
  std::call_once(once, [] { g_mime_init(); });
}

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// Unreferences a GObject at the end of its scope.
template <typename T>
struct Owned {
  T* p = nullptr;
  explicit Owned(T* x) : p(x) {}
  Owned(const Owned&) = delete;
  Owned& operator=(const Owned&) = delete;
  ~Owned() {
    if (p) g_object_unref(p);
  }
};

// The parser's complaints that make a message malformed for carnet: every critical issue and
// the warnings that mean content was lost or guessed.
struct Complaints {
  std::string first;
};
void OnWarning(gint64 offset, GMimeParserWarning code, const gchar* item, gpointer data) {
  auto* c = static_cast<Complaints*>(data);
  const char* what = nullptr;
  switch (code) {
    case GMIME_CRIT_INVALID_HEADER_NAME:
      what = "invalid header name";
      break;
    case GMIME_CRIT_CONFLICTING_HEADER:
      what = "conflicting header";
      break;
    case GMIME_CRIT_CONFLICTING_PARAMETER:
      what = "conflicting header parameter";
      break;
    case GMIME_CRIT_MULTIPART_WITHOUT_BOUNDARY:
      what = "multipart without a boundary";
      break;
    case GMIME_CRIT_NESTING_OVERFLOW:
      what = "MIME nesting too deep";
      break;
    case GMIME_CRIT_PART_WITHOUT_HEADERS_OR_CONTENT:
      what = "part without headers or content";
      break;
    case GMIME_WARN_MALFORMED_MULTIPART:
      what = "multipart without parts";
      break;
    case GMIME_WARN_TRUNCATED_MESSAGE:
      what = "truncated message";
      break;
    case GMIME_WARN_MALFORMED_MESSAGE:
      what = "malformed message";
      break;
    case GMIME_WARN_INVALID_CONTENT_TYPE:
      what = "invalid Content-Type";
      break;
    default:
      return;
  }
  if (!c->first.empty()) return;
  c->first = std::string(what) + " at byte " + std::to_string(offset);
  if (item && *item) c->first += " (" + std::string(item).substr(0, 80) + ")";
}

std::string Bytes(GMimeDataWrapper* content) {
  if (!content) return {};
  Owned<GMimeStream> out(g_mime_stream_mem_new());
  g_mime_data_wrapper_write_to_stream(content, out.p);
  GByteArray* array = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(out.p));
  return std::string(reinterpret_cast<const char*>(array->data), array->len);
}

std::string MimeType(GMimeObject* object) {
  GMimeContentType* ct = g_mime_object_get_content_type(object);
  if (!ct) return "text/plain";
  gchar* s = g_mime_content_type_get_mime_type(ct);
  std::string type = Lower(s ? s : "");
  g_free(s);
  return type;
}

std::vector<std::string> Addresses(InternetAddressList* list) {
  std::vector<std::string> out;
  if (!list) return out;
  int n = internet_address_list_length(list);
  for (int i = 0; i < n; ++i) {
    InternetAddress* a = internet_address_list_get_address(list, i);
    if (INTERNET_ADDRESS_IS_MAILBOX(a)) {
      const char* addr = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(a));
      if (addr && *addr) out.push_back(Lower(addr));
    } else if (INTERNET_ADDRESS_IS_GROUP(a)) {
      for (auto& m : Addresses(internet_address_group_get_members(INTERNET_ADDRESS_GROUP(a))))
        out.push_back(std::move(m));
    }
  }
  return out;
}

struct Walker {
  const MailLimits& limits;
  MailMessage& message;
  int parts = 0;
  bool have_text = false;

  Status Walk(GMimeObject* object, int depth) {
    if (++parts > limits.max_parts)
      return BadRequest("the message has more than " + std::to_string(limits.max_parts) +
                        " MIME parts");
    if (GMIME_IS_MULTIPART(object)) {
      if (depth + 1 > limits.max_depth)
        return BadRequest("the message's multiparts are nested deeper than " +
                          std::to_string(limits.max_depth));
      GMimeMultipart* multipart = GMIME_MULTIPART(object);
      int n = g_mime_multipart_get_count(multipart);
      if (n == 0) return BadRequest("malformed MIME: a multipart without parts");
      for (int i = 0; i < n; ++i)
        CARNET_RETURN_IF_ERROR(Walk(g_mime_multipart_get_part(multipart, i), depth + 1));
      return Status::Ok();
    }
    std::string type = MimeType(object);
    if (GMIME_IS_MESSAGE_PART(object)) return Attach(object, type, "", {});
    if (!GMIME_IS_PART(object)) return BadRequest("malformed MIME: a part of unknown kind");
    GMimePart* part = GMIME_PART(object);
    const char* disposition = g_mime_object_get_disposition(object);
    bool attachment = disposition && Lower(disposition) == "attachment";
    const char* name = g_mime_part_get_filename(part);
    std::string filename = name ? name : "";
    if (!attachment && filename.empty()) {
      if (type == "text/plain" && !have_text) {
        have_text = true;
        gchar* text = g_mime_text_part_get_text(GMIME_TEXT_PART(part));
        // Line ends as the text's own (LF), not as the wire's (CRLF).
        for (const char* c = text ? text : ""; *c; ++c)
          if (!(*c == '\r' && c[1] == '\n')) message.text.push_back(*c);
        g_free(text);
        return Status::Ok();
      }
      // The HTML twin of the text (multipart/alternative) is not kept.
      if (type == "text/html") return Status::Ok();
    }
    return Attach(object, type, filename, Bytes(g_mime_part_get_content(part)));
  }

  Status Attach(GMimeObject*, const std::string& type, const std::string& filename,
                std::string bytes) {
    if (!AttachmentTypeAllowed(type))
      return Status(
          ErrorCode::kUnsupportedMediaType, "attachment type " + type +
                                                (filename.empty() ? "" : " (" + filename + ")") +
                                                " is not allowed (allowed: " +
                                                [] {
                                                  std::string all;
                                                  for (const auto& t : AllowedAttachmentTypes())
                                                    all += (all.empty() ? "" : ", ") + t;
                                                  return all;
                                                }() +
                                                ")");
    message.attachments.push_back({type, filename, std::move(bytes)});
    return Status::Ok();
  }
};

}  // namespace

const std::vector<std::string>& AllowedAttachmentTypes() {
  static const std::vector<std::string> kTypes = [] {
    std::vector<std::string> types;
    Status st = profiles::ForEachRow(EmbeddedAttachmentTypes(), "attachment_types.tsv",
                                     [&](std::string_view line, const std::string&) {
                                       auto f = profiles::RowFields(line);
                                       if (!f.empty()) types.push_back(Lower(f[0]));
                                       return Status::Ok();
                                     });
    (void)st;
    return types;
  }();
  return kTypes;
}

bool AttachmentTypeAllowed(std::string_view content_type) {
  std::string type = Lower(std::string(content_type));
  const auto& all = AllowedAttachmentTypes();
  return std::find(all.begin(), all.end(), type) != all.end();
}

Result<MailMessage> ParseMail(std::string_view raw, const MailLimits& limits) {
  if (raw.size() > limits.max_bytes)
    return Status(ErrorCode::kPayloadTooLarge, "the message is " + std::to_string(raw.size()) +
                                                   " bytes, more than the " +
                                                   std::to_string(limits.max_bytes) + " accepted");
  if (raw.empty()) return BadRequest("malformed MIME: an empty message");
  InitGMime();
  Complaints complaints;
  GMimeParserOptions* options = g_mime_parser_options_new();
  g_mime_parser_options_set_warning_callback(options, OnWarning, &complaints);
  Owned<GMimeStream> stream(g_mime_stream_mem_new_with_buffer(raw.data(), raw.size()));
  Owned<GMimeParser> parser(g_mime_parser_new_with_stream(stream.p));
  Owned<GMimeMessage> parsed(g_mime_parser_construct_message(parser.p, options));
  g_mime_parser_options_free(options);
  if (!parsed.p) return BadRequest("malformed MIME: not an RFC 822 message");
  if (!complaints.first.empty()) return BadRequest("malformed MIME: " + complaints.first);

  MailMessage message;
  auto from = Addresses(g_mime_message_get_from(parsed.p));
  if (from.empty()) return BadRequest("malformed MIME: the message has no From address");
  message.from = from[0];
  message.to = Addresses(g_mime_message_get_addresses(parsed.p, GMIME_ADDRESS_TYPE_TO));
  for (auto& cc : Addresses(g_mime_message_get_addresses(parsed.p, GMIME_ADDRESS_TYPE_CC)))
    message.to.push_back(std::move(cc));
  if (message.to.empty()) return BadRequest("malformed MIME: the message has no To address");
  const char* subject = g_mime_message_get_subject(parsed.p);
  message.subject = subject ? subject : "";
  GMimeObject* body = g_mime_message_get_mime_part(parsed.p);
  if (!body) return BadRequest("malformed MIME: the message has no body");
  Walker walker{limits, message};
  CARNET_RETURN_IF_ERROR(walker.Walk(body, 0));
  return message;
}

namespace {

// One line of printable ASCII: what an address or a media type from the outbox may be.
bool PrintableLine(const std::string& s) {
  if (s.empty()) return false;
  for (unsigned char c : s)
    if (c < 0x21 || c > 0x7e) return false;
  return true;
}

// Line breaks and other control characters become spaces: a header value stays one header.
std::string OneLine(const std::string& s) {
  std::string out;
  for (unsigned char c : s) out.push_back(c < 0x20 || c == 0x7f ? ' ' : static_cast<char>(c));
  return out;
}

// Lines ending in CRLF (the base64 of the text carries the wire's line ends).
std::string Crlf(const std::string& text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\n' && (i == 0 || text[i - 1] != '\r')) out += '\r';
    out.push_back(text[i]);
  }
  return out;
}

std::string NewMessageId() {
  gchar* id = g_mime_utils_generate_message_id("carnet");
  std::string out = id ? id : "";
  g_free(id);
  return out;
}

}  // namespace

Result<std::string> BuildMail(const OutgoingMail& mail) {
  InitGMime();
  if (!PrintableLine(mail.from) || mail.from.find_first_of("<>,;\"") != std::string::npos)
    return BadRequest("the sender's address is not a mail address");
  if (!PrintableLine(mail.to) || mail.to.find_first_of("<>,;\"") != std::string::npos)
    return BadRequest("the recipient's address is not a mail address");
  Owned<GMimeMessage> message(g_mime_message_new(TRUE));
  g_mime_message_add_mailbox(message.p, GMIME_ADDRESS_TYPE_FROM, nullptr, mail.from.c_str());
  g_mime_message_add_mailbox(message.p, GMIME_ADDRESS_TYPE_TO, nullptr, mail.to.c_str());
  g_mime_message_set_subject(message.p, OneLine(mail.subject).c_str(), "utf-8");
  GDateTime* now = g_date_time_new_now_utc();
  g_mime_message_set_date(message.p, now);
  g_date_time_unref(now);
  g_mime_message_set_message_id(message.p, NewMessageId().c_str());

  Owned<GMimeMultipart> mixed(g_mime_multipart_new_with_subtype("mixed"));
  Owned<GMimeTextPart> text(g_mime_text_part_new_with_subtype("plain"));
  // The text's own UTF-8 bytes (g_mime_text_part_set_text would pick another charset).
  std::string body = Crlf(mail.text);
  Owned<GMimeStream> body_stream(g_mime_stream_mem_new_with_buffer(body.data(), body.size()));
  Owned<GMimeDataWrapper> body_content(
      g_mime_data_wrapper_new_with_stream(body_stream.p, GMIME_CONTENT_ENCODING_DEFAULT));
  g_mime_part_set_content(GMIME_PART(text.p), body_content.p);
  g_mime_text_part_set_charset(text.p, "utf-8");
  g_mime_part_set_content_encoding(GMIME_PART(text.p), GMIME_CONTENT_ENCODING_BASE64);
  g_mime_multipart_add(mixed.p, GMIME_OBJECT(text.p));

  for (const MailAttachment& a : mail.attachments) {
    // The media type without its parameters (the filename is the only parameter written).
    std::string media = a.content_type.substr(0, a.content_type.find(';'));
    while (!media.empty() && media.back() == ' ') media.pop_back();
    media = Lower(media);
    size_t slash = media.find('/');
    if (!PrintableLine(media) || slash == std::string::npos || slash == 0 ||
        slash + 1 == media.size() ||
        media.find_first_of(";\"()<>@,:\\[]?=", 0) != std::string::npos)
      return BadRequest("an attachment's media type is not type/subtype: " +
                        OneLine(a.content_type));
    std::string type = media.substr(0, slash);
    std::string subtype = media.substr(slash + 1);
    Owned<GMimePart> part(g_mime_part_new_with_type(type.c_str(), subtype.c_str()));
    Owned<GMimeStream> stream(g_mime_stream_mem_new_with_buffer(a.bytes.data(), a.bytes.size()));
    Owned<GMimeDataWrapper> content(
        g_mime_data_wrapper_new_with_stream(stream.p, GMIME_CONTENT_ENCODING_DEFAULT));
    g_mime_part_set_content(part.p, content.p);
    g_mime_part_set_content_encoding(part.p, GMIME_CONTENT_ENCODING_BASE64);
    std::string filename = OneLine(a.filename);
    if (filename.empty()) filename = "attachment";
    g_mime_object_set_disposition(GMIME_OBJECT(part.p), "attachment");
    g_mime_part_set_filename(part.p, filename.c_str());
    g_mime_multipart_add(mixed.p, GMIME_OBJECT(part.p));
  }
  g_mime_message_set_mime_part(message.p, GMIME_OBJECT(mixed.p));

  GMimeFormatOptions* options = g_mime_format_options_clone(g_mime_format_options_get_default());
  g_mime_format_options_set_newline_format(options, GMIME_NEWLINE_FORMAT_DOS);
  gchar* bytes = g_mime_object_to_string(GMIME_OBJECT(message.p), options);
  g_mime_format_options_free(options);
  if (!bytes) return Internal("GMime could not write the message");
  std::string out = bytes;
  g_free(bytes);
  return out;
}

}  // namespace carnet::mail
