// fhir/search_query + fhir/search_plan: a search's query string parsed against the official
// R4 search parameters and planned into SQL (text and parameters only: no database). Input
// byte 0 picks the resource type(s) and the options; the rest is the raw query string.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/http.h"
#include "fhir/search_cursor.h"
#include "model/search_params.h"
#include "fhir/search_plan.h"
#include "storage/access_filter.h"
#include "fhir/search_query.h"

using namespace carnet;
using namespace carnet::fhir;

namespace {
const std::vector<std::vector<std::string>> kTypes = {
    {"Patient"},          {"Observation"}, {"DocumentReference"}, {"Encounter"},
    {"Condition"},        {"List"},        {"AuditEvent"},        {"Practitioner"},
    {"MedicationRequest"}, {"Immunization"}, {"Provenance"},      {"Patient", "Observation"},
};
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  static const std::shared_ptr<const model::SearchParamSet> params =
      model::SearchParamRegistry::Instance().Official();
  ParseOptions options;
  options.types = kTypes[data[0] % kTypes.size()];
  options.strict = (data[0] / kTypes.size()) % 2 == 1;
  options.allow_result_params = (data[0] / kTypes.size()) % 4 < 2;
  std::string_view query(reinterpret_cast<const char*>(data) + 1, size - 1);
  auto parsed = ParseSearch(*params, ParseQuery(query), options);
  if (!parsed.ok()) return 0;

  storage::AccessFilter scope = storage::AccessFilter::Everything();
  if (data[0] & 0x80) {  // a restricted caller, as the access policy fills it
    scope = storage::AccessFilter();
    scope.patient_keys = std::vector<long long>{1, 2};
    scope.include_shared = false;
    scope.excluded_security = {"MASQUE_PS"};
    scope.author_exempt_ids = {"801234567890"};
    scope.document_types = std::vector<std::string>{"11488-4"};
    scope.sources = std::vector<std::string>{"urn:oid:1.2.3"};
    scope.excluded_types = {"Binary"};
  }
  PlanInput in;
  in.search = &*parsed;
  in.scope = &scope;
  in.base_url = "http://127.0.0.1:8080/fhir";
  if (data[0] & 0x40) in.compartment_patient = "p1";
  if (!parsed->cursor.empty()) {
    auto position = DecodeCursor(parsed->cursor, std::string(query), parsed->sort.size());
    if (position.ok()) in.position = *position;
  }
  in.with_rows = parsed->summary != "count" && parsed->count > 0;
  in.with_total = parsed->total == "accurate" || !in.with_rows;
  in.limit = parsed->count + 1;
  (void)storage::RenderIndexQuery(PlanSearch(in));
  if (!parsed->includes.empty())
    (void)storage::RenderIncludeQuery(
        PlanIncludes(parsed->includes, {{"Patient", "p1"}, {"Observation", "o1"}}, scope));
  return 0;
}
