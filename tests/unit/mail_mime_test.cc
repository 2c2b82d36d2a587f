// The MIME parser of mail received by carnet (mail/mime.h): what it reads from a message, and
// the bad mail it refuses whole.
#include <gtest/gtest.h>

#include <string>

#include "mail/mime.h"

namespace carnet::mail {
namespace {

const char* kPdf = "%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n";

std::string WithAttachment(const std::string& type, const std::string& filename,
                           const std::string& base64) {
  return "From: Dr Dupre <jerome.dupre@hopital.example>\r\n"
         "To: 2700000000001@patient.carnet.invalid\r\n"
         "Subject: =?utf-8?q?R=C3=A9sultats?=\r\n"
         "MIME-Version: 1.0\r\n"
         "Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n"
         "--b1\r\nContent-Type: text/plain; charset=utf-8\r\n"
         "Content-Transfer-Encoding: 8bit\r\n\r\nVos r\xC3\xA9sultats sont normaux.\r\n"
         "--b1\r\nContent-Type: " +
         type + "\r\nContent-Disposition: attachment; filename=\"" + filename +
         "\"\r\nContent-Transfer-Encoding: base64\r\n\r\n" + base64 + "\r\n--b1--\r\n";
}

// base64 of kPdf.
const char* kPdfBase64 = "JVBERi0xLjQKMSAwIG9iaiA8PD4+IGVuZG9iagp0cmFpbGVyIDw8Pj4KJSVFT0YK";

TEST(MailMimeTest, ReadsSenderRecipientsSubjectTextAndAttachment) {
  auto parsed = ParseMail(WithAttachment("application/pdf", "cr.pdf", kPdfBase64));
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->from, "jerome.dupre@hopital.example");
  ASSERT_EQ(parsed->to.size(), 1u);
  EXPECT_EQ(parsed->to[0], "2700000000001@patient.carnet.invalid");
  EXPECT_EQ(parsed->subject, "R\xC3\xA9sultats");
  EXPECT_NE(parsed->text.find("Vos r\xC3\xA9sultats sont normaux."), std::string::npos);
  ASSERT_EQ(parsed->attachments.size(), 1u);
  EXPECT_EQ(parsed->attachments[0].content_type, "application/pdf");
  EXPECT_EQ(parsed->attachments[0].filename, "cr.pdf");
  EXPECT_EQ(parsed->attachments[0].bytes, kPdf);
}

TEST(MailMimeTest, ASinglePartMessageIsItsText) {
  auto parsed = ParseMail(
      "From: a@b.example\nTo: x@patient.carnet.invalid, y@c.example\nCc: z@d.example\n"
      "Subject: hello\n\nJust text.\n");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->to.size(), 3u);
  EXPECT_EQ(parsed->text, "Just text.\n");
  EXPECT_TRUE(parsed->attachments.empty());
}

TEST(MailMimeTest, RefusesADisallowedAttachmentType) {
  auto parsed = ParseMail(WithAttachment("application/x-msdownload", "setup.exe", "TVqQAAMA"));
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().code(), ErrorCode::kUnsupportedMediaType);
  EXPECT_NE(parsed.status().message().find("application/x-msdownload (setup.exe) is not allowed"),
            std::string::npos)
      << parsed.status().message();
}

TEST(MailMimeTest, RefusesAnOversizeMessage) {
  MailLimits limits;
  limits.max_bytes = 100;
  auto parsed = ParseMail(WithAttachment("application/pdf", "cr.pdf", kPdfBase64), limits);
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().code(), ErrorCode::kPayloadTooLarge);
  EXPECT_NE(parsed.status().message().find("more than the 100 accepted"), std::string::npos);
}

TEST(MailMimeTest, RefusesTooManyPartsAndTooDeepNesting) {
  MailLimits few;
  few.max_parts = 2;  // the multipart, its text, its attachment: 3
  auto parsed = ParseMail(WithAttachment("application/pdf", "cr.pdf", kPdfBase64), few);
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().code(), ErrorCode::kBadRequest);
  EXPECT_NE(parsed.status().message().find("more than 2 MIME parts"), std::string::npos);

  MailLimits flat;
  flat.max_depth = 0;
  parsed = ParseMail(WithAttachment("application/pdf", "cr.pdf", kPdfBase64), flat);
  ASSERT_FALSE(parsed.ok());
  EXPECT_NE(parsed.status().message().find("nested deeper than 0"), std::string::npos);
}

TEST(MailMimeTest, RefusesMalformedMime) {
  // A multipart without its boundary parameter.
  auto parsed = ParseMail(
      "From: a@b.example\r\nTo: x@patient.carnet.invalid\r\nMIME-Version: 1.0\r\n"
      "Content-Type: multipart/mixed\r\n\r\n--b1\r\nContent-Type: text/plain\r\n\r\nhi\r\n");
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().code(), ErrorCode::kBadRequest);
  EXPECT_NE(parsed.status().message().find("malformed MIME"), std::string::npos)
      << parsed.status().message();
  // No From, no To, nothing at all.
  parsed = ParseMail("To: x@patient.carnet.invalid\r\n\r\nhi\r\n");
  ASSERT_FALSE(parsed.ok());
  EXPECT_NE(parsed.status().message().find("no From address"), std::string::npos);
  parsed = ParseMail("From: a@b.example\r\n\r\nhi\r\n");
  ASSERT_FALSE(parsed.ok());
  EXPECT_NE(parsed.status().message().find("no To address"), std::string::npos);
  parsed = ParseMail("");
  ASSERT_FALSE(parsed.ok());
  EXPECT_NE(parsed.status().message().find("empty message"), std::string::npos);
}

TEST(MailMimeTest, TheAllowedTypesAreTheDataFile) {
  EXPECT_TRUE(AttachmentTypeAllowed("application/pdf"));
  EXPECT_TRUE(AttachmentTypeAllowed("IMAGE/PNG"));
  EXPECT_FALSE(AttachmentTypeAllowed("application/zip"));
  EXPECT_EQ(AllowedAttachmentTypes().size(), 4u);
}

// The builder of outbound mail (BuildMail) writes what the parser reads back unchanged.
TEST(MailMimeTest, BuildsAMessageTheParserReadsBack) {
  OutgoingMail out;
  out.from = "2700000000001@patient.carnet.invalid";
  out.to = "jerome.dupre@hopital.example";
  out.subject = "R\xC3\xA9sultats d'analyse \xE2\x80\x94 f\xC3\xA9vrier";
  out.text = "Bonjour,\nvoici mes r\xC3\xA9sultats.\n.\nMerci.";
  std::string pdf(kPdf);
  pdf += std::string("\0\x01\xff\r\n\x80", 6);
  out.attachments.push_back({"application/pdf", "r\xC3\xA9sultats f\xC3\xA9vrier.pdf", pdf});
  auto raw = BuildMail(out);
  ASSERT_TRUE(raw.ok()) << raw.status().ToString();
  EXPECT_NE(raw->find("multipart/mixed"), std::string::npos);
  EXPECT_NE(raw->find("Content-Transfer-Encoding: base64"), std::string::npos);
  auto parsed = ParseMail(*raw);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString() << "\n" << *raw;
  EXPECT_EQ(parsed->from, out.from);
  ASSERT_EQ(parsed->to.size(), 1u);
  EXPECT_EQ(parsed->to[0], out.to);
  EXPECT_EQ(parsed->subject, out.subject);
  EXPECT_EQ(parsed->text, out.text);
  ASSERT_EQ(parsed->attachments.size(), 1u);
  EXPECT_EQ(parsed->attachments[0].content_type, "application/pdf");
  EXPECT_EQ(parsed->attachments[0].filename, out.attachments[0].filename);
  EXPECT_EQ(parsed->attachments[0].bytes, pdf);
}

TEST(MailMimeTest, ABuiltSubjectCannotAddAHeader) {
  OutgoingMail out;
  out.from = "a@carnet.invalid";
  out.to = "b@example.org";
  out.subject = "Hello\r\nBcc: x@evil.example";
  out.text = "t";
  auto raw = BuildMail(out);
  ASSERT_TRUE(raw.ok()) << raw.status().ToString();
  EXPECT_EQ(raw->find("\r\nBcc:"), std::string::npos) << *raw;
  EXPECT_EQ(raw->find("\nBcc:"), std::string::npos) << *raw;
  auto parsed = ParseMail(*raw);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  ASSERT_EQ(parsed->to.size(), 1u);
  EXPECT_NE(parsed->subject.find("Bcc: x@evil.example"), std::string::npos);
  // Addresses and media types are one line or refused.
  out.to = "b@example.org\r\nBcc: x@evil.example";
  EXPECT_EQ(BuildMail(out).status().code(), ErrorCode::kBadRequest);
  out.to = "b@example.org";
  out.attachments.push_back({"application/pdf\r\nBcc: x@evil.example", "a.pdf", "x"});
  EXPECT_EQ(BuildMail(out).status().code(), ErrorCode::kBadRequest);
}

}  // namespace
}  // namespace carnet::mail
