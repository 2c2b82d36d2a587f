#include "xds/transactions.h"

#include "base/strings.h"
#include "storage/registry_store.h"
#include "storage/xds_submission_store.h"

namespace carnet::xds {

HttpResponse SoapResponse(int status, std::string body, const std::string& content_type) {
  HttpResponse r;
  r.status = status;
  r.content_type = content_type;
  r.body = std::move(body);
  return r;
}

HttpResponse Fault(const SoapFault& fault, const std::string& relates_to) {
  return SoapResponse(fault.http_status, WriteSoapFault(fault, relates_to));
}

RegistryError Error(std::string code, std::string context, std::string location) {
  RegistryError e;
  e.error_code = std::move(code);
  e.code_context = std::move(context);
  e.location = std::move(location);
  return e;
}

Result<std::optional<RegistryError>> UnknownAssigningAuthority(Tx& tx, const std::string& cx,
                                                               const std::string& system,
                                                               const std::string& location) {
  // The national identity's OIDs (INS-NIR, INS-NIA, test, demo) are always known.
  static const char* const kIns[] = {"urn:oid:1.2.250.1.213.1.4.8", "urn:oid:1.2.250.1.213.1.4.9",
                                     "urn:oid:1.2.250.1.213.1.4.10",
                                     "urn:oid:1.2.250.1.213.1.4.11"};
  for (const char* ins : kIns)
    if (system == ins) return std::optional<RegistryError>();
  std::string oid = system.rfind("urn:oid:", 0) == 0 ? system.substr(8) : system;
  if (!oid.empty()) {
    auto known = storage::KnownIdentifierSystem(tx, system);
    if (!known.ok()) return known.status();
    if (*known) return std::optional<RegistryError>();
  }
  return std::optional<RegistryError>(
      Error("XDSUnknownPatientId",
            oid.empty() ? "patient id '" + cx +
                              "' names no assigning authority (expected ID^^^&OID&ISO, e.g. "
                              "ID^^^&1.2.250.1.213.1.4.8&ISO for an INS)"
                        : "patient id " + cx + ": assigning authority " + oid +
                              " is not one this registry knows (national identity: "
                              "1.2.250.1.213.1.4.8 INS-NIR, 1.2.250.1.213.1.4.9 INS-NIA, "
                              "1.2.250.1.213.1.4.10 and .11 test and demo; or the OID of an "
                              "identifier a record carries)",
            location));
}

HttpResponse RegistryAnswer(const SoapRequest& req, const std::vector<RegistryError>& errors) {
  return SoapResponse(200, WriteSoapResponse(req.transaction->response_action, req.message_id,
                                             WriteRegistryResponse(StatusFor(errors), errors)));
}

Status PolicyError(const Status& st, const std::string& location,
                   std::vector<RegistryError>& errors) {
  if (st.code() == ErrorCode::kForbidden || st.code() == ErrorCode::kNotFound) {
    errors.push_back(Error("LocalPolicyRestrictionError",
                           "the access policy does not allow this change: " + st.message(),
                           location));
    return Status(ErrorCode::kForbidden, "refused");
  }
  return st;
}

std::string Uuid(const std::string& urn) {
  return AsciiLower(urn.rfind("urn:uuid:", 0) == 0 ? urn.substr(9) : urn);
}

Result<std::optional<CurrentEntry>> FindEntry(Tx& tx, Session& session, const std::string& uuid) {
  if (!IsUuid(Uuid(uuid))) return std::optional<CurrentEntry>();
  auto row = storage::LockDocumentEntry(tx, Uuid(uuid));
  if (!row.ok()) return row.status();
  if (!*row) return std::optional<CurrentEntry>();
  CurrentEntry e;
  e.res_id = (*row)->res_id;
  e.version = (*row)->version;
  auto json = ParseJson((*row)->content);
  if (!json.ok()) return json.status();
  e.resource = std::move(json).value();
  std::optional<long long> key = (*row)->patient_key;
  auto d = session.DecideResource(tx, key, e.resource, profiles::Action::kRead);
  if (!d.ok()) return d.status();
  if (!d->allowed) {
    profiles::AuditEntry audit = profiles::AuditEntry::Rest("read", 'R');
    (void)session.Refuse(audit, *d, key, "DocumentReference/" + e.res_id);
    return std::optional<CurrentEntry>();
  }
  return std::optional<CurrentEntry>(std::move(e));
}

}  // namespace carnet::xds
