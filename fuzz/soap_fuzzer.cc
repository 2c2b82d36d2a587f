// xds/soap: a SOAP 1.2 envelope as it arrives at /xds/registry or /xds/repository
// (application/soap+xml: documents inline in base64), then the request readers of the
// transaction it names, as the service would call them.
#include <cstdint>
#include <string>

#include "mapping/ebrim_xml.h"
#include "xds/requests.h"
#include "xds/soap.h"
#include "xds/stored_query.h"

using namespace carnet::xds;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  InboundMessage message;
  message.soap_xml.assign(reinterpret_cast<const char*>(data), size);
  SoapParseOutcome outcome = ParseSoapRequest(std::move(message));
  if (!outcome.request) {
    (void)WriteSoapFault(outcome.fault, outcome.relates_to);
    return 0;
  }
  const SoapRequest& request = *outcome.request;
  switch (request.transaction->transaction) {
    case Transaction::kProvideAndRegister:
    case Transaction::kRegister:
    case Transaction::kUpdate:
      (void)ReadSubmissionRequest(request);
      break;
    case Transaction::kStoredQuery:
      (void)ParseAdhocQueryRequest(request.body_element);
      break;
    case Transaction::kRetrieve:
      (void)ReadRetrieveDocumentSetRequest(request.body_element);
      break;
    case Transaction::kDelete:
      (void)ReadRemoveObjectsRequest(request.body_element);
      break;
  }
  return 0;
}
