// Internal to xds/: the XDS.b transactions, one file each, that xds/service.cc routes SOAP
// requests to, and the pieces they share (answers, errors, the entry lookup).
//   xds/submission.cc       ITI-41 Provide and Register, ITI-42 Register
//   xds/retrieve.cc         ITI-43 Retrieve Document Set
//   xds/query.cc            ITI-18 Registry Stored Query
//   xds/registry_update.cc  ITI-57 Update Document Set, ITI-62 Delete Document Set
#pragma once

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "base/http.h"
#include "base/json.h"
#include "base/status.h"
#include "profiles/access.h"
#include "storage/pool.h"
#include "storage/transaction.h"
#include "xds/registry_response.h"
#include "xds/service.h"
#include "xds/soap.h"

namespace carnet::xds {

using Tx = storage::Transaction;
using Session = profiles::AccessSession;

// What every transaction is given besides the request: the store and the service's options.
struct XdsContext {
  storage::Pool& pool;
  XdsOptions options;
};

// The transactions (the rows of xds/service.cc's route table).
HttpResponse ProvideAndRegister(const XdsContext& xds, Session& session, const SoapRequest& req);
HttpResponse Register(const XdsContext& xds, Session& session, const SoapRequest& req);
HttpResponse Retrieve(const XdsContext& xds, Session& session, const SoapRequest& req);
HttpResponse Query(const XdsContext& xds, Session& session, const SoapRequest& req);
HttpResponse UpdateDocumentSet(const XdsContext& xds, Session& session, const SoapRequest& req);
HttpResponse DeleteDocumentSet(const XdsContext& xds, Session& session, const SoapRequest& req);

inline constexpr const char* kSoapContentType = "application/soap+xml;charset=UTF-8";

HttpResponse SoapResponse(int status, std::string body,
                          const std::string& content_type = kSoapContentType);
HttpResponse Fault(const SoapFault& fault, const std::string& relates_to);
RegistryError Error(std::string code, std::string context, std::string location = {});
// Renders the errors (or success) of a registry transaction.
HttpResponse RegistryAnswer(const SoapRequest& req, const std::vector<RegistryError>& errors);

// A write the access policy refused (or that failed): LocalPolicyRestrictionError for the
// policy's refusals, the error table's code otherwise; the transaction rolls back.
Status PolicyError(const Status& st, const std::string& location,
                   std::vector<RegistryError>& errors);

// When the assigning authority of patient id `cx` (system urn:oid:OID, as
// mapping::PatientIdentifierOfCx gives it) is one the store does not know: the
// XDSUnknownPatientId that names the OID (located at `location`). nullopt when it is known
// (then a patient missing under it stays "no record here", a hidden record included).
Result<std::optional<RegistryError>> UnknownAssigningAuthority(Tx& tx, const std::string& cx,
                                                               const std::string& system,
                                                               const std::string& location);

// "urn:uuid:ABC..." -> "abc..." (the form of resource ids and of the registry's uuid columns).
std::string Uuid(const std::string& urn);

// The current DocumentEntry whose entryUUID or logicalID is `uuid`, its resource row locked,
// if the caller may read it: one it may not see is answered as one that does not exist
// (nullopt), and its refusal audited.
struct CurrentEntry {
  std::string res_id;
  int version = 0;  // the registry version
  JsonValue resource;
};
Result<std::optional<CurrentEntry>> FindEntry(Tx& tx, Session& session, const std::string& uuid);

}  // namespace carnet::xds
