#include "xds/soap.h"

#include <set>
#include <vector>

#include "base/log.h"
#include "base/strings.h"
#include "mapping/ebrim_xml.h"

namespace carnet::xds {
namespace {

constexpr TransactionInfo kTransactions[] = {
    {Transaction::kProvideAndRegister, "ITI-41", "urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-b",
     "urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-bResponse", kNsXds,
     "ProvideAndRegisterDocumentSetRequest"},
    {Transaction::kRegister, "ITI-42", "urn:ihe:iti:2007:RegisterDocumentSet-b",
     "urn:ihe:iti:2007:RegisterDocumentSet-bResponse", kNsLcm, "SubmitObjectsRequest"},
    {Transaction::kStoredQuery, "ITI-18", "urn:ihe:iti:2007:RegistryStoredQuery",
     "urn:ihe:iti:2007:RegistryStoredQueryResponse", kNsQuery, "AdhocQueryRequest"},
    {Transaction::kRetrieve, "ITI-43", "urn:ihe:iti:2007:RetrieveDocumentSet",
     "urn:ihe:iti:2007:RetrieveDocumentSetResponse", kNsXds, "RetrieveDocumentSetRequest"},
    {Transaction::kUpdate, "ITI-57", "urn:ihe:iti:2010:UpdateDocumentSet",
     "urn:ihe:iti:2010:UpdateDocumentSetResponse", kNsLcm, "SubmitObjectsRequest"},
    {Transaction::kDelete, "ITI-62", "urn:ihe:iti:2010:DeleteDocumentSet",
     "urn:ihe:iti:2010:DeleteDocumentSetResponse", kNsLcm, "RemoveObjectsRequest"},
};

constexpr std::string_view kFaultAction = "http://www.w3.org/2005/08/addressing/soap/fault";

SoapFault Fault(SoapFault::Code code, std::string reason, std::string subcode = {}) {
  SoapFault f;
  f.code = code;
  f.reason = std::move(reason);
  f.subcode = std::move(subcode);
  f.http_status = code == SoapFault::Code::kReceiver ? 500 : 400;
  return f;
}

bool MustUnderstand(pugi::xml_node block) {
  for (pugi::xml_attribute a : block.attributes()) {
    std::string_view name = a.name();
    size_t colon = name.find(':');
    std::string_view local = colon == std::string_view::npos ? name : name.substr(colon + 1);
    if (local != "mustUnderstand" || colon == std::string_view::npos) continue;
    if (ResolvePrefix(block, name.substr(0, colon)) != kNsSoap12) continue;
    std::string v = Trim(a.value());
    if (v == "true" || v == "1") return true;
  }
  return false;
}

}  // namespace

const TransactionInfo* TransactionForAction(std::string_view action) {
  for (const TransactionInfo& t : kTransactions) {
    if (t.action == action) return &t;
  }
  return nullptr;
}

const TransactionInfo& InfoFor(Transaction t) {
  for (const TransactionInfo& info : kTransactions) {
    if (info.transaction == t) return info;
  }
  return kTransactions[0];
}

SoapFault SenderFault(std::string reason, std::string subcode) {
  return Fault(SoapFault::Code::kSender, std::move(reason), std::move(subcode));
}

SoapFault FaultFromStatus(const Status& status) {
  SoapFault f =
      Fault(status.http_status() >= 500 ? SoapFault::Code::kReceiver : SoapFault::Code::kSender,
            PublicMessage(status));
  f.http_status = status.http_status() >= 500 ? 500 : (status.http_status() == 413 ? 413 : 400);
  if (status.code() == ErrorCode::kUnsupportedMediaType) f.http_status = 415;
  return f;
}

SoapParseOutcome ParseSoapRequest(InboundMessage message) {
  SoapParseOutcome out;
  auto fail = [&](SoapFault f) {
    out.fault = std::move(f);
    return std::move(out);
  };
  Result<std::unique_ptr<pugi::xml_document>> parsed = ParseXml(message.soap_xml);
  if (!parsed.ok()) return fail(SenderFault(parsed.status().message()));
  auto req = std::make_unique<SoapRequest>();
  req->document = std::move(parsed).value();
  req->attachments = std::move(message.attachments);

  pugi::xml_node env = req->document->document_element();
  if (LocalName(env) != "Envelope") return fail(SenderFault("the root element is not a SOAP Envelope"));
  if (NamespaceOf(env) != kNsSoap12) {
    // SOAP 1.2 part 1, 5.4.7: another envelope namespace is a VersionMismatch.
    return fail(Fault(SoapFault::Code::kVersionMismatch,
                      "XDS.b requires SOAP 1.2 (" + std::string(kNsSoap12) + ")"));
  }
  // SOAP 1.2 part 1, 5.1: an optional Header, then exactly one Body, nothing else.
  pugi::xml_node header, body;
  for (pugi::xml_node c = env.first_child(); c; c = c.next_sibling()) {
    if (c.type() == pugi::node_pcdata && !Trim(c.value()).empty())
      return fail(SenderFault("text content in the SOAP Envelope"));
    if (c.type() != pugi::node_element) continue;
    if (Is(c, kNsSoap12, "Header") && !header && !body) {
      header = c;
    } else if (Is(c, kNsSoap12, "Body") && !body) {
      body = c;
    } else {
      return fail(SenderFault("SOAP Envelope must be an optional Header followed by one Body; found " +
                              std::string(c.name())));
    }
  }
  if (!body) return fail(SenderFault("SOAP Envelope without a Body"));
  req->header = header;

  int actions = 0, message_ids = 0;
  for (pugi::xml_node block = header.first_child(); block; block = block.next_sibling()) {
    if (block.type() != pugi::node_element) continue;
    std::string_view ns = NamespaceOf(block);
    std::string_view local = LocalName(block);
    if (ns == kNsWsa) {
      if (local == "Action") {
        ++actions;
        req->action = Trim(Text(block));
      } else if (local == "MessageID") {
        ++message_ids;
        req->message_id = Trim(Text(block));
      } else if (local == "To") {
        req->to = Trim(Text(block));
      } else if (local == "ReplyTo") {
        req->reply_to = Trim(Text(Child(block, kNsWsa, "Address")));
      }
      continue;
    }
    // wsse:Security (XUA) is read by the security layer above, which is why it is let through
    // here; any other block the sender insists on is one carnet would silently ignore.
    if (ns == kNsWsse && local == "Security") continue;
    if (MustUnderstand(block)) {
      return fail(Fault(SoapFault::Code::kMustUnderstand,
                        "header block {" + std::string(ns) + "}" + std::string(local) +
                            " is marked mustUnderstand and carnet does not process it"));
    }
  }
  if (message_ids > 1) return fail(SenderFault("more than one wsa:MessageID", "wsa:InvalidAddressingHeader"));
  out.relates_to = req->message_id;
  if (actions == 0) {
    return fail(SenderFault("wsa:Action is required (WS-Addressing)",
                            "wsa:MessageAddressingHeaderRequired"));
  }
  if (actions > 1) return fail(SenderFault("more than one wsa:Action", "wsa:InvalidAddressingHeader"));
  req->transaction = TransactionForAction(req->action);
  if (!req->transaction) {
    return fail(SenderFault("wsa:Action '" + req->action.substr(0, 200) +
                                "' is not an XDS.b transaction served here",
                            "wsa:ActionNotSupported"));
  }
  req->body_element = FirstElement(body);
  if (!req->body_element) return fail(SenderFault("SOAP Body is empty"));
  for (pugi::xml_node c = req->body_element.next_sibling(); c; c = c.next_sibling()) {
    if (c.type() == pugi::node_element)
      return fail(SenderFault("SOAP Body must hold exactly one request element"));
  }
  if (!Is(req->body_element, req->transaction->body_ns, req->transaction->body_element)) {
    return fail(SenderFault("wsa:Action " + req->action + " (" + std::string(req->transaction->iti) +
                                ") expects {" + std::string(req->transaction->body_ns) + "}" +
                                std::string(req->transaction->body_element) + " in the Body, not {" +
                                std::string(NamespaceOf(req->body_element)) + "}" +
                                std::string(LocalName(req->body_element)),
                            "wsa:ActionMismatch"));
  }

  // XOP: every Include must name an attachment of this message, once, and be the only content
  // of its element (XOP 1.0, 3.1). Checked for the whole envelope before any handler runs.
  std::set<std::string> referenced;
  std::vector<pugi::xml_node> stack{env};
  while (!stack.empty()) {
    pugi::xml_node n = stack.back();
    stack.pop_back();
    for (pugi::xml_node c = n.first_child(); c; c = c.next_sibling()) {
      if (c.type() != pugi::node_element) continue;
      if (Is(c, kNsXop, "Include")) {
        Result<std::string> cid = ContentIdFromHref(c.attribute("href").value());
        if (!cid.ok()) return fail(SenderFault(cid.status().message()));
        if (!req->attachments.count(*cid)) {
          return fail(SenderFault("xop:Include references cid:" + cid->substr(0, 200) +
                                  " which is not a part of this message"));
        }
        if (!referenced.insert(*cid).second) {
          return fail(SenderFault("MTOM part <" + cid->substr(0, 200) + "> is referenced twice"));
        }
        for (pugi::xml_node s = n.first_child(); s; s = s.next_sibling()) {
          if ((s.type() == pugi::node_element && s != c) ||
              (s.type() == pugi::node_pcdata && !Trim(s.value()).empty())) {
            return fail(SenderFault("xop:Include must be the only content of its element"));
          }
        }
        continue;
      }
      stack.push_back(c);
    }
  }
  out.request = std::move(req);
  return out;
}

Result<std::string> ResolveBinary(pugi::xml_node element, const SoapRequest& request) {
  pugi::xml_node include = Child(element, kNsXop, "Include");
  if (include) {
    Result<std::string> cid = ContentIdFromHref(include.attribute("href").value());
    if (!cid.ok()) return cid.status();
    auto it = request.attachments.find(*cid);
    if (it == request.attachments.end()) {
      return BadRequest("xop:Include references a missing part cid:" + *cid);
    }
    return it->second.body;
  }
  return Base64Decode(Text(element));
}

std::string WriteSoapResponse(std::string_view response_action, std::string_view relates_to,
                              std::string_view body_xml) {
  std::string out;
  out.reserve(body_xml.size() + 600);
  out += "<?xml version=\"1.0\" encoding=\"UTF-8\"?>";
  out += "<soap:Envelope xmlns:soap=\"";
  out += kNsSoap12;
  out += "\" xmlns:wsa=\"";
  out += kNsWsa;
  out += "\"><soap:Header><wsa:Action soap:mustUnderstand=\"true\">";
  out += XmlEscape(response_action);
  out += "</wsa:Action><wsa:MessageID>urn:uuid:" + NewUuid() + "</wsa:MessageID>";
  if (!relates_to.empty()) {
    out += "<wsa:RelatesTo>" + XmlEscape(relates_to) + "</wsa:RelatesTo>";
  }
  out += "</soap:Header><soap:Body>";
  out += body_xml;
  out += "</soap:Body></soap:Envelope>";
  return out;
}

std::string WriteSoapFault(const SoapFault& fault, std::string_view relates_to) {
  // The request log line says the answer was a Fault (issue 19), with its subcode if any.
  CurrentRequestNotes().xds_status = "Fault";
  CurrentRequestNotes().xds_errors = fault.subcode;
  std::string_view code = "soap:Sender";
  switch (fault.code) {
    case SoapFault::Code::kSender: code = "soap:Sender"; break;
    case SoapFault::Code::kReceiver: code = "soap:Receiver"; break;
    case SoapFault::Code::kMustUnderstand: code = "soap:MustUnderstand"; break;
    case SoapFault::Code::kVersionMismatch: code = "soap:VersionMismatch"; break;
  }
  std::string body = "<soap:Fault><soap:Code><soap:Value>" + std::string(code) + "</soap:Value>";
  if (!fault.subcode.empty()) {
    body += "<soap:Subcode><soap:Value>" + XmlEscape(fault.subcode) + "</soap:Value></soap:Subcode>";
  }
  body += "</soap:Code><soap:Reason><soap:Text xml:lang=\"en\">" + XmlEscape(fault.reason) +
          "</soap:Text></soap:Reason></soap:Fault>";
  return WriteSoapResponse(kFaultAction, relates_to, body);
}

}  // namespace carnet::xds
