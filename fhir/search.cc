// Placeholder until the search engine lands (issue: FHIR search).
#include "fhir/search.h"

namespace carnet::fhir {

Status UpdateSearchIndex(storage::Transaction&, const storage::StoredResource&, const JsonValue*) {
  return Status::Ok();
}

Result<JsonValue> RunSearch(storage::Pool&, const SearchRequest& request) {
  return Status(ErrorCode::kMethodNotAllowed, "search on " + request.type + " is not available yet");
}

Result<std::vector<std::string>> FindMatchingIds(storage::Transaction&, const std::string& type,
                                                 const std::string&, int) {
  return Status(ErrorCode::kMethodNotAllowed, "conditional operations on " + type +
                                                  " are not available yet");
}

std::vector<std::pair<std::string, std::string>> SupportedSearchParams(const std::string&) {
  return {};
}

}  // namespace carnet::fhir
