// SOAP 1.2 + WS-Addressing: the NIST sample envelopes, Action/Body matching, faults, hostile
// XML (DOCTYPE, entities, depth) and hostile xop:Include.
#include "xds/soap.h"

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <sstream>

#include "xds/requests.h"
#include "mapping/ebrim_xml.h"

namespace carnet::xds {
namespace {

std::string ReadSample(const std::string& name) {
  std::ifstream in(std::string(CARNET_SOURCE_DIR) + "/tests/data/xds/" + name, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

SoapParseOutcome Parse(const std::string& xml) {
  InboundMessage m;
  m.soap_xml = xml;
  return ParseSoapRequest(std::move(m));
}

std::string Envelope(const std::string& action, const std::string& body,
                     const std::string& extra_header = "") {
  return "<s:Envelope xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\" "
         "xmlns:a=\"http://www.w3.org/2005/08/addressing\"><s:Header><a:Action>" +
         action + "</a:Action><a:MessageID>urn:uuid:m1</a:MessageID>" + extra_header +
         "</s:Header><s:Body>" + body + "</s:Body></s:Envelope>";
}

const char kRetrieveBody[] =
    "<RetrieveDocumentSetRequest xmlns=\"urn:ihe:iti:xds-b:2007\"><DocumentRequest>"
    "<RepositoryUniqueId>1.2.3</RepositoryUniqueId><DocumentUniqueId>1.2.4</DocumentUniqueId>"
    "</DocumentRequest></RetrieveDocumentSetRequest>";

TEST(XdsSoap, NistSamplesParse) {
  SoapParseOutcome pnr = Parse(ReadSample("soap-pnr.xml"));
  ASSERT_TRUE(pnr.request) << pnr.fault.reason;
  EXPECT_EQ(pnr.request->transaction->transaction, Transaction::kProvideAndRegister);
  EXPECT_EQ(pnr.request->message_id, "");  // the sample has RelatesTo, no MessageID
  Result<SubmissionRequest> sub = ReadSubmissionRequest(*pnr.request);
  ASSERT_TRUE(sub.ok()) << sub.status().ToString();
  EXPECT_EQ(sub->metadata.documents.size(), 2u);
  EXPECT_TRUE(sub->documents.empty());

  SoapParseOutcome sq = Parse(ReadSample("soap-sq-req.xml"));
  ASSERT_TRUE(sq.request) << sq.fault.reason;
  EXPECT_EQ(sq.request->transaction->transaction, Transaction::kStoredQuery);
  EXPECT_EQ(LocalName(sq.request->body_element), "AdhocQueryRequest");

  SoapParseOutcome ret = Parse(ReadSample("soap-ret-req.xml"));
  ASSERT_TRUE(ret.request) << ret.fault.reason;
  EXPECT_EQ(ret.request->transaction->transaction, Transaction::kRetrieve);
  EXPECT_EQ(ret.request->message_id, "urn:uuid:0fbfdced-6c01-4d09-a110-2201afedaa02");
  EXPECT_EQ(ret.request->to, "http://localhost:2647/XdsService/IHEXDSRepository.svc");
  EXPECT_EQ(ret.request->reply_to, "http://www.w3.org/2005/08/addressing/anonymous");
  Result<std::vector<DocumentRequest>> docs = ReadRetrieveDocumentSetRequest(ret.request->body_element);
  ASSERT_TRUE(docs.ok());
  ASSERT_EQ(docs->size(), 2u);
  EXPECT_EQ((*docs)[1].document_unique_id, "1.3.6.1.4...2301");
  EXPECT_EQ((*docs)[0].repository_unique_id, "1.3.6.1.4...1000");
}

TEST(XdsSoap, NistInvalidSamples) {
  SoapParseOutcome noaction = Parse(ReadSample("soap-noaction-pnr.xml"));
  ASSERT_FALSE(noaction.request);
  EXPECT_EQ(noaction.fault.subcode, "wsa:MessageAddressingHeaderRequired");

  SoapParseOutcome order = Parse(ReadSample("soap-pnr-soap-order.xml"));  // Header after Body
  ASSERT_FALSE(order.request);
  EXPECT_EQ(order.fault.code, SoapFault::Code::kSender);

  SoapParseOutcome broken = Parse(ReadSample("xml-parse-error.xml"));
  ASSERT_FALSE(broken.request);
  EXPECT_NE(broken.fault.reason.find("malformed XML"), std::string::npos);

  // A response envelope sent as a request: an action carnet does not serve.
  SoapParseOutcome response = Parse(ReadSample("empty-soap-wrapper.xml"));
  ASSERT_FALSE(response.request);
  EXPECT_EQ(response.fault.subcode, "wsa:ActionNotSupported");

  // Cross-community (XCA) transactions are not served by carnet.
  EXPECT_EQ(Parse(ReadSample("soap-xcq-req.xml")).fault.subcode, "wsa:ActionNotSupported");
  EXPECT_EQ(Parse(ReadSample("soap-xcr-req.xml")).fault.subcode, "wsa:ActionNotSupported");

  // Retrieve request with DocumentUniqueId before RepositoryUniqueId (schema order).
  SoapParseOutcome ret = Parse(ReadSample("soap-ret-req-order.xml"));
  ASSERT_TRUE(ret.request);
  EXPECT_FALSE(ReadRetrieveDocumentSetRequest(ret.request->body_element).ok());
}

TEST(XdsSoap, ActionMustMatchTheBody) {
  std::string pnr_body = ReadSample("pnr.xml");
  // ITI-42 action with an ITI-41 body.
  SoapParseOutcome r = Parse(Envelope("urn:ihe:iti:2007:RegisterDocumentSet-b", pnr_body));
  ASSERT_FALSE(r.request);
  EXPECT_EQ(r.fault.subcode, "wsa:ActionMismatch");
  EXPECT_EQ(r.relates_to, "urn:uuid:m1");
  // Retrieve action with a stored query body.
  EXPECT_FALSE(Parse(Envelope("urn:ihe:iti:2007:RetrieveDocumentSet",
                              "<query:AdhocQueryRequest xmlns:query=\"urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0\"/>"))
                   .request);
  // ITI-57 and ITI-42 share the body element; the action decides.
  const std::string submit =
      "<lcm:SubmitObjectsRequest xmlns:lcm=\"urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0\"/>";
  EXPECT_EQ(Parse(Envelope("urn:ihe:iti:2010:UpdateDocumentSet", submit)).request->transaction->transaction,
            Transaction::kUpdate);
  EXPECT_EQ(Parse(Envelope("urn:ihe:iti:2007:RegisterDocumentSet-b", submit)).request->transaction->transaction,
            Transaction::kRegister);
  // Unknown action.
  EXPECT_EQ(Parse(Envelope("urn:evil", submit)).fault.subcode, "wsa:ActionNotSupported");
  // Empty Body, two Body elements, two actions.
  EXPECT_FALSE(Parse(Envelope("urn:ihe:iti:2007:RegisterDocumentSet-b", "")).request);
  EXPECT_FALSE(Parse(Envelope("urn:ihe:iti:2007:RegisterDocumentSet-b", submit + submit)).request);
  EXPECT_FALSE(Parse(Envelope("urn:ihe:iti:2007:RegisterDocumentSet-b", submit,
                              "<a:Action>urn:ihe:iti:2007:RegisterDocumentSet-b</a:Action>"))
                   .request);
}

TEST(XdsSoap, Iti62RemoveObjects) {
  std::string body =
      "<lcm:RemoveObjectsRequest xmlns:lcm=\"urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0\" "
      "xmlns:rim=\"urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0\"><rim:ObjectRefList>"
      "<rim:ObjectRef id=\"urn:uuid:a4f0c1c8-4b6b-4a4c-9b9f-3a2e1d0c9b8a\"/></rim:ObjectRefList>"
      "</lcm:RemoveObjectsRequest>";
  SoapParseOutcome r = Parse(Envelope("urn:ihe:iti:2010:DeleteDocumentSet", body));
  ASSERT_TRUE(r.request) << r.fault.reason;
  Result<std::vector<std::string>> ids = ReadRemoveObjectsRequest(r.request->body_element);
  ASSERT_TRUE(ids.ok());
  EXPECT_EQ(ids->at(0), "urn:uuid:a4f0c1c8-4b6b-4a4c-9b9f-3a2e1d0c9b8a");
  SoapParseOutcome bad = Parse(Envelope("urn:ihe:iti:2010:DeleteDocumentSet",
      "<lcm:RemoveObjectsRequest xmlns:lcm=\"urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0\" "
      "xmlns:rim=\"urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0\"><rim:ObjectRefList>"
      "<rim:ObjectRef id=\"Document01\"/></rim:ObjectRefList></lcm:RemoveObjectsRequest>"));
  ASSERT_TRUE(bad.request);
  EXPECT_FALSE(ReadRemoveObjectsRequest(bad.request->body_element).ok());
}

TEST(XdsSoap, VersionAndMustUnderstand) {
  SoapParseOutcome soap11 = Parse(
      "<e:Envelope xmlns:e=\"http://schemas.xmlsoap.org/soap/envelope/\"><e:Body/></e:Envelope>");
  ASSERT_FALSE(soap11.request);
  EXPECT_EQ(soap11.fault.code, SoapFault::Code::kVersionMismatch);
  SoapParseOutcome mu = Parse(Envelope("urn:ihe:iti:2007:RetrieveDocumentSet", kRetrieveBody,
                                       "<x:Custom xmlns:x=\"urn:x\" s:mustUnderstand=\"true\"/>"));
  ASSERT_FALSE(mu.request);
  EXPECT_EQ(mu.fault.code, SoapFault::Code::kMustUnderstand);
  // Without mustUnderstand an unknown header block is ignored; wsse:Security is let through.
  EXPECT_TRUE(Parse(Envelope("urn:ihe:iti:2007:RetrieveDocumentSet", kRetrieveBody,
                             "<x:Custom xmlns:x=\"urn:x\"/><w:Security xmlns:w=\"http://docs.oasis-open.org/wss/2004/01/"
                             "oasis-200401-wss-wssecurity-secext-1.0.xsd\" s:mustUnderstand=\"1\"/>"))
                  .request);
}

TEST(XdsSoap, DoctypeAndEntitiesAreRefused) {
  const std::string good = Envelope("urn:ihe:iti:2007:RetrieveDocumentSet", kRetrieveBody);
  SoapParseOutcome xxe = Parse("<?xml version=\"1.0\"?><!DOCTYPE s:Envelope [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>" +
                               good);
  ASSERT_FALSE(xxe.request);
  EXPECT_NE(xxe.fault.reason.find("DOCTYPE"), std::string::npos);
  std::string laughs = "<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\">";
  for (int i = 1; i < 10; ++i) {
    laughs += "<!ENTITY lol" + std::to_string(i) + " \"";
    for (int j = 0; j < 10; ++j) laughs += "&lol" + (i == 1 ? std::string() : std::to_string(i - 1)) + ";";
    laughs += "\">";
  }
  laughs += "]>" + Envelope("urn:ihe:iti:2007:RetrieveDocumentSet", "<x>&lol9;</x>");
  auto start = std::chrono::steady_clock::now();
  SoapParseOutcome bomb = Parse(laughs);
  EXPECT_FALSE(bomb.request);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
  // An entity reference without declaration is left as text, never expanded or fetched.
  Result<std::unique_ptr<pugi::xml_document>> doc = ParseXml("<a>&ext;</a>");
  ASSERT_TRUE(doc.ok());
  EXPECT_EQ(Text((*doc)->document_element()), "&ext;");
}

TEST(XdsSoap, DeepNestingIsRefusedQuickly) {
  std::string deep;
  for (int i = 0; i < 100000; ++i) deep += "<a>";
  for (int i = 0; i < 100000; ++i) deep += "</a>";
  auto start = std::chrono::steady_clock::now();
  SoapParseOutcome r = Parse(Envelope("urn:ihe:iti:2007:RetrieveDocumentSet", deep));
  ASSERT_FALSE(r.request);
  EXPECT_NE(r.fault.reason.find("nested deeper"), std::string::npos);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
}

InboundMessage WithAttachment(const std::string& soap, const std::string& cid) {
  InboundMessage m;
  m.mtom = true;
  m.soap_xml = soap;
  if (!cid.empty()) m.attachments[cid] = MimePart{cid, "text/plain", "", "bytes"};
  return m;
}

std::string PnrWithHref(const std::string& hrefs) {
  return Envelope("urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-b",
                  "<xds:ProvideAndRegisterDocumentSetRequest xmlns:xds=\"urn:ihe:iti:xds-b:2007\" "
                  "xmlns:xop=\"http://www.w3.org/2004/08/xop/include\"><lcm:SubmitObjectsRequest "
                  "xmlns:lcm=\"urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0\"/>" +
                      hrefs + "</xds:ProvideAndRegisterDocumentSetRequest>");
}

std::string Doc(const std::string& href) {
  return "<xds:Document id=\"D\"><xop:Include href=\"" + href + "\"/></xds:Document>";
}

TEST(XdsSoap, HostileXopIncludes) {
  EXPECT_TRUE(ParseSoapRequest(WithAttachment(PnrWithHref(Doc("cid:p1")), "p1")).request);
  for (const char* href : {"http://169.254.169.254/latest/meta-data", "file:///etc/passwd",
                           "https://evil.example/x", "p1", "cid:", "cid:missing"}) {
    SoapParseOutcome r = ParseSoapRequest(WithAttachment(PnrWithHref(Doc(href)), "p1"));
    EXPECT_FALSE(r.request) << href;
    EXPECT_EQ(r.fault.code, SoapFault::Code::kSender) << href;
  }
  // The same part referenced twice.
  EXPECT_FALSE(ParseSoapRequest(WithAttachment(PnrWithHref(Doc("cid:p1") + Doc("cid:p1")), "p1")).request);
  // xop:Include in a plain SOAP message: there is nothing to reference.
  EXPECT_FALSE(ParseSoapRequest(WithAttachment(PnrWithHref(Doc("cid:p1")), "")).request);
  // Include mixed with other content.
  EXPECT_FALSE(ParseSoapRequest(WithAttachment(
                                    PnrWithHref("<xds:Document id=\"D\">QUJD<xop:Include href=\"cid:p1\"/></xds:Document>"),
                                    "p1"))
                   .request);
}

TEST(XdsSoap, ResponseAndFaultEnvelopes) {
  std::string resp = WriteSoapResponse("urn:ihe:iti:2007:RegisterDocumentSet-bResponse", "urn:uuid:req",
                                       "<rs:RegistryResponse xmlns:rs=\"urn:oasis:names:tc:ebxml-regrep:xsd:rs:3.0\"/>");
  Result<std::unique_ptr<pugi::xml_document>> doc = ParseXml(resp);
  ASSERT_TRUE(doc.ok());
  pugi::xml_node env = (*doc)->document_element();
  pugi::xml_node header = Child(env, kNsSoap12, "Header");
  EXPECT_EQ(Text(Child(header, kNsWsa, "Action")), "urn:ihe:iti:2007:RegisterDocumentSet-bResponse");
  EXPECT_EQ(Text(Child(header, kNsWsa, "RelatesTo")), "urn:uuid:req");
  EXPECT_EQ(Text(Child(header, kNsWsa, "MessageID")).rfind("urn:uuid:", 0), 0u);
  EXPECT_TRUE(Child(Child(env, kNsSoap12, "Body"), kNsRs, "RegistryResponse"));

  std::string fault = WriteSoapFault(SenderFault("bad <thing>", "wsa:ActionNotSupported"), "urn:uuid:req");
  doc = ParseXml(fault);
  ASSERT_TRUE(doc.ok());
  pugi::xml_node f = Child(Child((*doc)->document_element(), kNsSoap12, "Body"), kNsSoap12, "Fault");
  ASSERT_TRUE(f);
  pugi::xml_node code = Child(f, kNsSoap12, "Code");
  EXPECT_EQ(Text(Child(code, kNsSoap12, "Value")), "soap:Sender");
  EXPECT_EQ(Text(Child(Child(code, kNsSoap12, "Subcode"), kNsSoap12, "Value")), "wsa:ActionNotSupported");
  EXPECT_EQ(Text(Child(Child(f, kNsSoap12, "Reason"), kNsSoap12, "Text")), "bad <thing>");
  EXPECT_EQ(FaultFromStatus(Internal("x")).code, SoapFault::Code::kReceiver);
  EXPECT_EQ(FaultFromStatus(Internal("x")).http_status, 500);
}

}  // namespace
}  // namespace carnet::xds
