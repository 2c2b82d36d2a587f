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

}  // namespace carnet::mail
