// MTOM/XOP: the NIST raw HTTP ITI-41 sample byte for byte, generated messages with 1-byte,
// 10 MiB and several parts, limits and malformed packaging.
#include "xds/mtom.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "xds/metadata_validation.h"
#include "xds/requests.h"
#include "xds/soap.h"

namespace carnet::xds {
namespace {

std::string ReadSample(const std::string& name) {
  std::ifstream in(std::string(CARNET_SOURCE_DIR) + "/tests/data/xds/" + name, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Splits a raw HTTP request into its Content-Type header and body, as server/ would.
void SplitHttp(const std::string& raw, std::string* content_type, std::string* body) {
  size_t end = raw.find("\r\n\r\n");
  size_t skip = 4;
  size_t lf = raw.find("\n\n");
  if (end == std::string::npos || (lf != std::string::npos && lf < end)) {
    end = lf;
    skip = 2;
  }
  ASSERT_NE(end, std::string::npos);
  std::istringstream headers(raw.substr(0, end));
  std::string line;
  while (std::getline(headers, line)) {
    if (line.rfind("Content-Type:", 0) == 0) *content_type = line.substr(13);
  }
  *body = raw.substr(end + skip);
}

TEST(XdsMtom, NistHttpSampleSplitsIntoSoapAndOneDocument) {
  std::string content_type, body;
  SplitHttp(ReadSample("http-mtom-pnr.txt"), &content_type, &body);
  Result<InboundMessage> msg = ReadInboundMessage(content_type, body);
  ASSERT_TRUE(msg.ok()) << msg.status().ToString();
  EXPECT_TRUE(msg->mtom);
  EXPECT_EQ(msg->soap_xml.rfind("<?xml version='1.0' encoding='UTF-8'?><soapenv:Envelope", 0), 0u);
  ASSERT_EQ(msg->attachments.size(), 1u);
  const MimePart& part = msg->attachments.begin()->second;
  EXPECT_EQ(part.content_id, "1.urn:uuid:3D4B161591CD1DEC0C1286850962319@apache.org");
  EXPECT_EQ(part.content_type, "text/plain");
  EXPECT_EQ(part.body.rfind("Four score and seven years ago", 0), 0u);
  // The line break before the close delimiter belongs to the delimiter, not to the document.
  ASSERT_FALSE(part.body.empty());
  EXPECT_NE(part.body.back(), '\n');
  EXPECT_EQ(part.body.substr(part.body.size() - 6), "earth.");

  SoapParseOutcome parsed = ParseSoapRequest(std::move(msg).value());
  ASSERT_TRUE(parsed.request) << parsed.fault.reason;
  EXPECT_EQ(parsed.request->transaction->transaction, Transaction::kProvideAndRegister);
  EXPECT_EQ(parsed.request->message_id, "urn:uuid:3D4B161591CD1DEC0C1286850962146");
  Result<SubmissionRequest> sub = ReadSubmissionRequest(*parsed.request);
  ASSERT_TRUE(sub.ok()) << sub.status().ToString();
  ASSERT_EQ(sub->documents.size(), 1u);
  EXPECT_EQ(sub->documents[0].id, "urn:uuid:102439f8-5881-4b36-8b42-ef73ae560c04");
  EXPECT_EQ(sub->documents[0].bytes, part.body);
  ValidationResult v = ValidateSubmission(sub->metadata, sub->Context(SubmissionKind::kProvideAndRegister),
                                          sub->read_problems);
  for (const RegistryError& e : v.errors) ADD_FAILURE() << e.error_code << ": " << e.code_context;
  EXPECT_TRUE(v.ok());
}

std::string Envelope(const std::string& body) {
  return "<s:Envelope xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\" "
         "xmlns:a=\"http://www.w3.org/2005/08/addressing\"><s:Header>"
         "<a:Action>urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-b</a:Action>"
         "<a:MessageID>urn:uuid:1</a:MessageID></s:Header><s:Body>" +
         body + "</s:Body></s:Envelope>";
}

std::string PnrWithIncludes(const std::vector<std::string>& cids) {
  std::string body =
      "<xds:ProvideAndRegisterDocumentSetRequest xmlns:xds=\"urn:ihe:iti:xds-b:2007\" "
      "xmlns:xop=\"http://www.w3.org/2004/08/xop/include\"><lcm:SubmitObjectsRequest "
      "xmlns:lcm=\"urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0\"><rim:RegistryObjectList "
      "xmlns:rim=\"urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0\"/></lcm:SubmitObjectsRequest>";
  for (size_t i = 0; i < cids.size(); ++i) {
    body += "<xds:Document id=\"Document0" + std::to_string(i) + "\"><xop:Include href=\"cid:" +
            cids[i] + "\"/></xds:Document>";
  }
  return Envelope(body + "</xds:ProvideAndRegisterDocumentSetRequest>");
}

// Writes, then reads back, an MTOM message with the given documents.
std::vector<std::string> RoundTrip(const std::vector<std::string>& documents) {
  std::vector<OutboundPart> parts;
  std::vector<std::string> cids;
  for (size_t i = 0; i < documents.size(); ++i) {
    cids.push_back("doc" + std::to_string(i) + "@test");
    parts.push_back({cids.back(), "application/octet-stream", documents[i]});
  }
  MtomMessage m = WriteMtom(PnrWithIncludes(cids), "urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-b", parts);
  Result<InboundMessage> in = ReadInboundMessage(m.content_type, m.body);
  EXPECT_TRUE(in.ok()) << in.status().ToString();
  if (!in.ok()) return {};
  SoapParseOutcome parsed = ParseSoapRequest(std::move(in).value());
  EXPECT_TRUE(parsed.request) << parsed.fault.reason;
  if (!parsed.request) return {};
  Result<SubmissionRequest> sub = ReadSubmissionRequest(*parsed.request);
  EXPECT_TRUE(sub.ok()) << sub.status().ToString();
  std::vector<std::string> out;
  for (auto& d : sub->documents) out.push_back(d.bytes);
  return out;
}

TEST(XdsMtom, OneBytePart) {
  EXPECT_EQ(RoundTrip({"x"}), std::vector<std::string>{"x"});
  EXPECT_EQ(RoundTrip({std::string(1, '\0')}), std::vector<std::string>{std::string(1, '\0')});
  EXPECT_EQ(RoundTrip({"\n"}), std::vector<std::string>{"\n"});
}

TEST(XdsMtom, TenMebibytePartIsUntouched) {
  std::string big(10u << 20, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>((i * 7919) >> 3);
  // Things that look like MIME structure inside a binary part.
  big.replace(1000, 20, "\r\n--MIMEBoundary\r\n\r\n");
  std::vector<std::string> got = RoundTrip({big});
  ASSERT_EQ(got.size(), 1u);
  EXPECT_TRUE(got[0] == big);
}

TEST(XdsMtom, SeveralDocumentsKeepTheirOrderAndBytes) {
  std::vector<std::string> docs = {"first", std::string("sec\0nd", 6), "", "third\r\n", "\r\n--x"};
  EXPECT_EQ(RoundTrip(docs), docs);
}

TEST(XdsMtom, HandWrittenCrlfMessageWithPaddingAndBase64Part) {
  std::string soap = PnrWithIncludes({"a%40b", "c@d"});
  std::string body = "preamble\r\n--b1 \r\nContent-Type: application/xop+xml; type=\"application/soap+xml\"\r\n"
                     "Content-ID: <root@x>\r\n\r\n" + soap +
                     "\r\n--b1\r\nContent-Type: text/plain\r\nContent-ID: <a@b>\r\n\r\nhello\r\n--b1\r\n"
                     "Content-ID: <c@d>\r\nContent-Transfer-Encoding: base64\r\n\r\naGk=\r\n--b1--\r\nepilogue";
  Result<InboundMessage> in = ReadInboundMessage(
      "multipart/related; boundary=\"b1\"; type=\"application/xop+xml\"; start=\"<root@x>\"", body);
  ASSERT_TRUE(in.ok()) << in.status().ToString();
  EXPECT_EQ(in->attachments.at("a@b").body, "hello");
  EXPECT_EQ(in->attachments.at("c@d").body, "hi");
  SoapParseOutcome parsed = ParseSoapRequest(std::move(in).value());
  ASSERT_TRUE(parsed.request) << parsed.fault.reason;
  Result<SubmissionRequest> sub = ReadSubmissionRequest(*parsed.request);
  ASSERT_TRUE(sub.ok());
  EXPECT_EQ(sub->documents[0].bytes, "hello");  // cid:a%40b is <a@b> (RFC 2392)
  EXPECT_EQ(sub->documents[1].bytes, "hi");
}

TEST(XdsMtom, PlainSoapWithInlineBase64Document) {
  std::string soap = Envelope(
      "<xds:ProvideAndRegisterDocumentSetRequest xmlns:xds=\"urn:ihe:iti:xds-b:2007\"><lcm:SubmitObjectsRequest "
      "xmlns:lcm=\"urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0\"><rim:RegistryObjectList "
      "xmlns:rim=\"urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0\"/></lcm:SubmitObjectsRequest>"
      "<xds:Document id=\"Doc\">SGVs\nbG8=</xds:Document></xds:ProvideAndRegisterDocumentSetRequest>");
  Result<InboundMessage> in = ReadInboundMessage("application/soap+xml; charset=UTF-8", soap);
  ASSERT_TRUE(in.ok());
  EXPECT_FALSE(in->mtom);
  SoapParseOutcome parsed = ParseSoapRequest(std::move(in).value());
  ASSERT_TRUE(parsed.request);
  Result<SubmissionRequest> sub = ReadSubmissionRequest(*parsed.request);
  ASSERT_TRUE(sub.ok());
  EXPECT_EQ(sub->documents[0].bytes, "Hello");
}

TEST(XdsMtom, LimitsAreEnforced) {
  std::vector<OutboundPart> parts;
  for (int i = 0; i < 5; ++i) parts.push_back({"p" + std::to_string(i) + "@t", "text/plain", "data"});
  MtomMessage m = WriteMtom(Envelope(""), "", parts);
  MtomLimits few;
  few.max_parts = 3;
  Result<InboundMessage> r = ReadInboundMessage(m.content_type, m.body, few);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kPayloadTooLarge);
  MtomLimits small;
  small.max_part_bytes = 3;
  r = ReadInboundMessage(m.content_type, m.body, small);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kPayloadTooLarge);
  MtomLimits tiny_body;
  tiny_body.max_body_bytes = 10;
  EXPECT_EQ(ReadInboundMessage(m.content_type, m.body, tiny_body).status().code(),
            ErrorCode::kPayloadTooLarge);
}

TEST(XdsMtom, MalformedPackagingIsRefused) {
  const std::string ct = "multipart/related; boundary=b; type=\"application/xop+xml\"";
  const std::string root = "--b\r\nContent-Type: application/xop+xml\r\nContent-ID: <r>\r\n\r\n<x/>\r\n";
  // Duplicate Content-ID.
  EXPECT_FALSE(ReadInboundMessage(ct, root + "--b\r\nContent-ID: <a>\r\n\r\n1\r\n--b\r\nContent-ID: <a>\r\n\r\n2\r\n--b--").ok());
  // No close delimiter.
  EXPECT_FALSE(ReadInboundMessage(ct, root + "--b\r\nContent-ID: <a>\r\n\r\n1").ok());
  // start names no part.
  EXPECT_FALSE(ReadInboundMessage(ct + "; start=\"<nope>\"", root + "--b--").ok());
  // Not XOP.
  EXPECT_FALSE(ReadInboundMessage("multipart/related; boundary=b; type=\"text/xml\"", root + "--b--").ok());
  // Root part not xop+xml.
  EXPECT_FALSE(ReadInboundMessage(ct, "--b\r\nContent-Type: text/plain\r\n\r\nx\r\n--b--").ok());
  // No boundary.
  EXPECT_FALSE(ReadInboundMessage("multipart/related; type=\"application/xop+xml\"", root).ok());
  // Attachment without Content-ID.
  EXPECT_FALSE(ReadInboundMessage(ct, root + "--b\r\nContent-Type: text/plain\r\n\r\n1\r\n--b--").ok());
  // Unsupported transfer encoding.
  EXPECT_FALSE(ReadInboundMessage(ct, root + "--b\r\nContent-ID: <a>\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n1\r\n--b--").ok());
  // Another media type.
  EXPECT_EQ(ReadInboundMessage("text/xml", "<x/>").status().code(), ErrorCode::kUnsupportedMediaType);
  // Valid baseline.
  EXPECT_TRUE(ReadInboundMessage(ct, root + "--b\r\nContent-ID: <a>\r\n\r\n1\r\n--b--").ok());
}

TEST(XdsMtom, ContentIdFromHrefOnlyAcceptsCid) {
  EXPECT_EQ(*ContentIdFromHref("cid:abc%40def"), "abc@def");
  EXPECT_EQ(*ContentIdFromHref("CID:x"), "x");
  EXPECT_FALSE(ContentIdFromHref("http://evil.example/x").ok());
  EXPECT_FALSE(ContentIdFromHref("file:///etc/passwd").ok());
  EXPECT_FALSE(ContentIdFromHref("cid:").ok());
  EXPECT_FALSE(ContentIdFromHref("x").ok());
}

TEST(XdsMtom, Base64) {
  for (const std::string& s : std::vector<std::string>{"", "a", "ab", "abc", "abcd", std::string("\0\xff\x10", 3)}) {
    EXPECT_EQ(*Base64Decode(Base64Encode(s)), s);
  }
  EXPECT_FALSE(Base64Decode("abc").ok());
  EXPECT_FALSE(Base64Decode("ab=c").ok());
  EXPECT_FALSE(Base64Decode("a*bc").ok());
  EXPECT_EQ(*Base64Decode(" YW\r\nJj "), "abc");
}

}  // namespace
}  // namespace carnet::xds
