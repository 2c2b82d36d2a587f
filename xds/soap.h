// SOAP 1.2 envelopes with WS-Addressing for the XDS.b transactions (spec/xds.md,
// "Transactions": one wsa:Action per transaction, response action = request action +
// "Response", wsa:RelatesTo = the request's wsa:MessageID).
#pragma once

#include <pugixml.hpp>

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "xds/mtom.h"

namespace carnet::xds {

enum class Transaction {
  kProvideAndRegister,  // ITI-41
  kRegister,            // ITI-42
  kStoredQuery,         // ITI-18
  kRetrieve,            // ITI-43
  kUpdate,              // ITI-57
  kDelete,              // ITI-62
};

struct TransactionInfo {
  Transaction transaction;
  std::string_view iti;              // "ITI-41"
  std::string_view action;           // request wsa:Action
  std::string_view response_action;  // action + "Response"
  std::string_view body_ns;          // namespace of the Body's first element
  std::string_view body_element;     // its local name
};

// nullptr for an action carnet does not serve.
const TransactionInfo* TransactionForAction(std::string_view action);
const TransactionInfo& InfoFor(Transaction t);

// A parsed request. `document` owns the XML; the node handles point into it.
struct SoapRequest {
  const TransactionInfo* transaction = nullptr;
  std::string action;
  std::string message_id;  // empty when the sender gave none (then no RelatesTo in the reply)
  std::string to;
  std::string reply_to;
  std::unique_ptr<pugi::xml_document> document;
  pugi::xml_node header;  // may be empty
  pugi::xml_node body_element;
  // MTOM parts by Content-ID, for ResolveBinary.
  std::map<std::string, MimePart> attachments;
};

// What ParseSoapRequest and the handlers fail with: a SOAP 1.2 Fault.
struct SoapFault {
  enum class Code { kSender, kReceiver, kMustUnderstand, kVersionMismatch };
  Code code = Code::kSender;
  std::string subcode;  // QName, e.g. "wsa:ActionNotSupported"; may be empty
  std::string reason;
  int http_status = 400;  // SOAP 1.2 HTTP binding: Sender -> 400, Receiver -> 500
};

// Parses an inbound message (already split by ReadInboundMessage): the envelope must be
// SOAP 1.2, Header (if any) before Body, one wsa:Action naming a transaction carnet serves and
// matching the Body's first element. Every xop:Include in the envelope must be a cid: reference
// to an attachment of the message, each attachment referenced at most once. Header blocks with
// mustUnderstand that carnet does not process give a MustUnderstand fault.
// On failure the SoapFault says what to answer.
struct SoapParseOutcome {
  std::unique_ptr<SoapRequest> request;  // set on success
  SoapFault fault;                       // meaningful when !request
  std::string relates_to;                // the MessageID if it could be read, for the fault
};
SoapParseOutcome ParseSoapRequest(InboundMessage message);

// The bytes of a base64Binary element that is either inline base64 text or a single
// <xop:Include href="cid:..."/> child resolved against the request's attachments.
Result<std::string> ResolveBinary(pugi::xml_node element, const SoapRequest& request);

// A response envelope: wsa:Action, a fresh wsa:MessageID, wsa:RelatesTo (when the request
// had a MessageID), and `body_xml` (one element, written by the registry_response writers)
// as the Body content.
std::string WriteSoapResponse(std::string_view response_action, std::string_view relates_to,
                              std::string_view body_xml);

// A SOAP 1.2 Fault envelope (action http://www.w3.org/2005/08/addressing/soap/fault).
std::string WriteSoapFault(const SoapFault& fault, std::string_view relates_to);

SoapFault SenderFault(std::string reason, std::string subcode = {});
// A Status from a lower layer as a fault: 5xx codes -> Receiver, the rest -> Sender.
SoapFault FaultFromStatus(const Status& status);

}  // namespace carnet::xds
