#include "fhir/search_access.h"

#include <algorithm>
#include <functional>

#include "storage/resource_store.h"

namespace carnet::fhir {

Result<std::vector<long long>> NamedRecords(storage::Transaction& tx, const std::string& type,
                                            const QueryParams& query,
                                            const std::string& compartment) {
  std::vector<long long> keys;
  auto add_id = [&](std::string ref) -> Status {
    size_t slash = ref.rfind("Patient/");
    if (slash != std::string::npos) ref = ref.substr(slash + 8);
    if (ref.find('/') != std::string::npos || ref.empty()) return Status::Ok();
    auto key = storage::FindPatientKeyByResourceId(tx, ref);
    if (!key.ok()) return key.status();
    if (*key && std::find(keys.begin(), keys.end(), **key) == keys.end()) keys.push_back(**key);
    return Status::Ok();
  };
  auto add_identifier = [&](const std::string& token) -> Status {
    size_t bar = token.find('|');
    if (bar == std::string::npos) return Status::Ok();
    auto ref = storage::FindPatientByIdentifier(tx, token.substr(0, bar), token.substr(bar + 1));
    if (!ref.ok()) return ref.status();
    if (*ref && std::find(keys.begin(), keys.end(), (*ref)->patient_key) == keys.end())
      keys.push_back((*ref)->patient_key);
    return Status::Ok();
  };
  auto each = [](const std::string& v, const std::function<Status(std::string)>& f) -> Status {
    size_t start = 0;
    while (start <= v.size()) {
      size_t comma = v.find(',', start);
      CARNET_RETURN_IF_ERROR(
          f(v.substr(start, comma == std::string::npos ? std::string::npos : comma - start)));
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
    return Status::Ok();
  };
  if (!compartment.empty()) CARNET_RETURN_IF_ERROR(add_id(compartment));
  for (const auto& [k, v] : query) {
    if (k == "patient" || k == "subject" || k == "patient:Patient" || k == "subject:Patient" ||
        (type == "Patient" && (k == "_id" || k == "link")))
      CARNET_RETURN_IF_ERROR(each(v, [&](std::string x) { return add_id(x); }));
    if (k == "patient.identifier" || k == "subject:Patient.identifier" ||
        k == "patient:identifier" || k == "subject:identifier" ||
        (type == "Patient" && k == "identifier"))
      CARNET_RETURN_IF_ERROR(each(v, [&](std::string x) { return add_identifier(x); }));
  }
  return keys;
}

Result<storage::AccessFilter> VisibleScope(storage::Transaction& tx,
                                           profiles::AccessSession& session,
                                           const std::string& type, const QueryParams& query) {
  auto named = NamedRecords(tx, type, query, "");
  if (!named.ok()) return named.status();
  return session.SearchFilter(tx, *named);
}

}  // namespace carnet::fhir
