// The search engine's entry points: RunSearch (one statement for the page, plus one per
// include level, in one read-only transaction), conditional matching and the
// parameters offered in the CapabilityStatement.
#include "fhir/search.h"

#include <algorithm>
#include <set>

#include "base/http.h"
#include "base/strings.h"
#include "dossier/search_params.h"
#include "fhir/interactions.h"
#include "fhir/outcome.h"
#include "fhir/search_bundle.h"
#include "fhir/search_cursor.h"
#include "fhir/search_plan.h"
#include "fhir/search_query.h"
#include "model/search_params.h"
#include "model/structure.h"
#include "storage/index_query.h"

namespace carnet::fhir {
namespace {

// Include levels followed for :iterate (the issue asks for at least one).
constexpr int kMaxIncludeLevels = 3;
// Resources an include level may add, so that `_include=*` on a large page stays bounded.
constexpr int kMaxIncluded = 5000;

// A SQL failure caused by a value (a bad cast of a forged cursor, an out-of-range number)
// is the client's; anything else is ours.
Status SqlStatus(const Status& st, storage::Transaction& tx) {
  const std::string& state = tx.connection().last_sqlstate();
  if (state.size() == 5 && state.compare(0, 2, "22") == 0)
    return BadRequest("a search value is out of range or malformed: " + st.message());
  return st;
}

Result<std::vector<std::string>> ResolveTypes(const SearchRequest& request) {
  if (!request.type.empty()) return std::vector<std::string>{request.type};
  std::vector<std::string> types;
  for (const auto& [k, v] : request.params) {
    if (k != "_type") continue;
    for (const std::string& t : SplitUnescaped(v, ',')) {
      if (!IsServedType(t))
        return BadRequest("parameter _type: '" + t + "' is not a resource type served here",
                          "_type");
      if (std::find(types.begin(), types.end(), t) == types.end()) types.push_back(t);
    }
  }
  if (types.empty()) types = ServedTypes();
  return types;
}

// How the request's parameters are parsed: its types, strictness, page sizes and limits.
Result<ParseOptions> OptionsOf(const SearchRequest& request) {
  auto types = ResolveTypes(request);
  if (!types.ok()) return types.status();
  ParseOptions options;
  options.types = *types;
  options.strict = request.strict;
  options.default_count = request.default_count;
  options.max_count = request.max_count;
  options.limits = request.limits;
  return options;
}

}  // namespace

Result<JsonValue> RunSearch(storage::Pool& pool, const SearchRequest& request_in) {
  SearchRequest request_copy;
  const SearchRequest* req = &request_in;
  if (request_in.resolve_scope) {
    request_copy = request_in;
    req = &request_copy;
  }
  const SearchRequest& request = *req;
  auto resolved = OptionsOf(request);
  if (!resolved.ok()) return resolved.status();
  ParseOptions& options = *resolved;

  ParsedSearch search;
  std::vector<storage::IndexRow> rows, included;
  std::optional<long long> total;
  bool more = false;
  std::optional<KeysetPosition> position;
  std::string canonical;

  storage::TxOptions tx_options;
  tx_options.isolation = storage::Isolation::kRepeatableRead;  // page and includes agree
  tx_options.read_only = true;
  // The page statement is prepared once per shape and connection (storage::Connection::
  // RunShaped: no parse and analysis per search), but planned for its values every time.
  // Measured (EXPLAIN ANALYZE, 100 patients, 3,000 documents, the bench's deposit source
  // searching DocumentReference?patient=&type=&date=ge): custom plans 5.6 ms for the
  // largest record and 0.2-4.4 ms for a 2-document one, generic plans 34.5 ms and 22.6 ms.
  // The generic plan cannot see what the values say: `_source = ANY($n)` (the access
  // filter of a deposit source) looks selective, the uri column having many distinct
  // values, so it drives the search from every resource of that source and probes each one;
  // knowing the value, PostgreSQL sees (most common values) that the source holds most of
  // the store and drives from the patient's resources instead. The cost of the generic plan
  // grows with the source's share of the store (20x and more on the bench's larger stores),
  // and `plan_cache_mode = auto` would pick it after five runs, its estimate being the
  // cheaper one; so the search's transaction forces custom plans.
  tx_options.custom_plans = true;
  Status st = storage::RunInTransaction(pool, tx_options, [&](storage::Transaction& tx) -> Status {
    rows.clear();
    included.clear();
    total.reset();
    if (request_in.resolve_scope) {
      auto scope = request_in.resolve_scope(tx);
      if (!scope.ok()) return scope.status();
      request_copy.scope = std::move(scope).value();
    }
    auto params = dossier::CurrentSearchParams(tx);
    if (!params.ok()) return params.status();
    auto parsed = ParseSearch(**params, request.params, options);
    if (!parsed.ok()) return parsed.status();
    search = std::move(parsed).value();
    canonical.clear();
    for (const auto& [k, v] : search.link_params)
      canonical +=
          (canonical.empty() ? "" : "&") + PercentEncode(k, ":,") + "=" + PercentEncode(v, ":,");
    canonical +=
        std::string(canonical.empty() ? "" : "&") + "_count=" + std::to_string(search.count);
    if (!search.cursor.empty()) {
      auto pos = DecodeCursor(search.cursor, canonical, search.sort.size());
      if (!pos.ok()) return pos.status();
      position = *pos;
    }
    PlanInput in;
    in.search = &search;
    in.scope = &request.scope;
    in.base_url = request.base_url;
    in.compartment_patient = request.compartment_patient;
    in.position = position;
    in.with_rows = search.summary != "count" && search.count > 0;
    in.with_total = search.total == "accurate" || search.total == "estimate" || !in.with_rows;
    in.limit = search.count + 1;
    auto page = storage::RunIndexQuery(tx, PlanSearch(in));
    if (!page.ok()) return SqlStatus(page.status(), tx);
    rows = std::move(page->rows);
    total = page->total;
    more = static_cast<int>(rows.size()) > search.count;
    if (more) rows.resize(search.count);
    if (position && position->before) std::reverse(rows.begin(), rows.end());

    // Includes: one statement per level; :iterate ones again on what the level added.
    std::set<std::pair<std::string, std::string>> seen;
    std::vector<std::pair<std::string, std::string>> from;
    for (const storage::IndexRow& r : rows) {
      seen.insert({r.res_type, r.res_id});
      from.emplace_back(r.res_type, r.res_id);
    }
    for (int level = 0; level < kMaxIncludeLevels && !from.empty(); ++level) {
      std::vector<IncludeSpec> specs;
      for (const IncludeSpec& inc : search.includes)
        if (level == 0 || inc.iterate) specs.push_back(inc);
      if (specs.empty()) break;
      auto level_rows = storage::RunIncludeQuery(tx, PlanIncludes(specs, from, request.scope));
      if (!level_rows.ok()) return SqlStatus(level_rows.status(), tx);
      from.clear();
      for (storage::IndexRow& r : *level_rows) {
        if (static_cast<int>(included.size()) >= kMaxIncluded) break;
        std::pair<std::string, std::string> key{r.res_type, r.res_id};
        if (!seen.insert(key).second) continue;
        from.push_back(key);
        included.push_back(std::move(r));
      }
    }
    return Status::Ok();
  });
  if (!st.ok()) return st;

  // A complete first page tells the total for free.
  if (!total && search.total != "none" && !position && !more)
    total = static_cast<long long>(rows.size());

  std::string path = request.base_url;
  if (!request.compartment_patient.empty()) path += "/Patient/" + request.compartment_patient;
  if (!request.type.empty()) path += "/" + request.type;
  std::string base_link = path + "?" + canonical;

  JsonValue bundle = JsonValue::Object();
  bundle.Set("resourceType", JsonValue::String("Bundle"));
  bundle.Set("id", JsonValue::String(NewUuid()));
  JsonValue meta = JsonValue::Object();
  meta.Set("lastUpdated", JsonValue::String(FormatUtc(std::chrono::system_clock::now())));
  bundle.Set("meta", std::move(meta));
  bundle.Set("type", JsonValue::String("searchset"));
  if (total) bundle.Set("total", JsonValue::Number(std::to_string(*total)));
  JsonValue links = JsonValue::Array();
  links.Append(BundleLink(
      "self",
      base_link + (search.cursor.empty() ? "" : "&_cursor=" + PercentEncode(search.cursor, ":,"))));
  if (search.cursor.size()) links.Append(BundleLink("first", base_link));
  auto cursor_at = [&](const storage::IndexRow& r, bool before) {
    KeysetPosition p;
    p.keys = r.keys;
    p.res_type = r.res_type;
    p.res_id = r.res_id;
    p.before = before;
    return base_link + "&_cursor=" + EncodeCursor(p, canonical);
  };
  bool backward = position && position->before;
  if (!rows.empty()) {
    bool has_previous = backward ? more : position.has_value();
    bool has_next = backward ? true : more;
    if (has_previous) links.Append(BundleLink("previous", cursor_at(rows.front(), true)));
    if (has_next) links.Append(BundleLink("next", cursor_at(rows.back(), false)));
  } else if (position) {
    // An empty page reached by a cursor: offer the way back.
    KeysetPosition p = *position;
    p.before = !p.before;
    links.Append(BundleLink(p.before ? "previous" : "next",
                            base_link + "&_cursor=" + EncodeCursor(p, canonical)));
  }
  bundle.Set("link", std::move(links));

  JsonValue entries = JsonValue::Array();
  auto add = [&](const storage::IndexRow& r, const char* mode) -> Status {
    auto res = ParseJson(r.content);
    if (!res.ok()) return Internal("stored " + r.res_type + "/" + r.res_id + " is unreadable");
    entries.Append(SearchsetEntry(
        request.base_url, r.res_type, r.res_id,
        ShapeResource(std::move(res).value(), search.summary, search.elements), mode));
    return Status::Ok();
  };
  for (const auto& r : rows) CARNET_RETURN_IF_ERROR(add(r, "match"));
  for (const auto& r : included) CARNET_RETURN_IF_ERROR(add(r, "include"));
  if (!search.ignored.empty()) {
    std::vector<OutcomeIssue> issues;
    for (const auto& why : search.ignored)
      issues.push_back({"warning", "not-supported", "parameter ignored: " + why, "", ""});
    JsonValue entry = JsonValue::Object();
    entry.Set("resource", MakeOperationOutcome(issues));
    JsonValue s = JsonValue::Object();
    s.Set("mode", JsonValue::String("outcome"));
    entry.Set("search", std::move(s));
    entries.Append(std::move(entry));
  }
  if (!entries.items().empty()) bundle.Set("entry", std::move(entries));
  return bundle;
}

Result<storage::RenderedQuery> RenderSearch(storage::Transaction& tx,
                                            const SearchRequest& request) {
  auto resolved = OptionsOf(request);
  if (!resolved.ok()) return resolved.status();
  ParseOptions& options = *resolved;
  auto params = dossier::CurrentSearchParams(tx);
  if (!params.ok()) return params.status();
  auto parsed = ParseSearch(**params, request.params, options);
  if (!parsed.ok()) return parsed.status();
  PlanInput in;
  in.search = &*parsed;
  in.scope = &request.scope;
  in.base_url = request.base_url;
  in.compartment_patient = request.compartment_patient;
  in.with_rows = parsed->summary != "count" && parsed->count > 0;
  in.with_total = parsed->total == "accurate" || parsed->total == "estimate" || !in.with_rows;
  in.limit = parsed->count + 1;
  return storage::RenderIndexQuery(PlanSearch(in));
}

Result<std::vector<std::string>> FindMatchingIds(storage::Transaction& tx, const std::string& type,
                                                 const std::string& query, int limit,
                                                 const storage::AccessFilter& scope) {
  auto params = dossier::CurrentSearchParams(tx);
  if (!params.ok()) return params.status();
  ParseOptions options;
  options.types = {type};
  options.strict = true;  // an ignored criterion would widen a conditional write
  options.allow_result_params = false;
  auto parsed = ParseSearch(**params, ParseQuery(query), options);
  if (!parsed.ok()) return parsed.status();
  if (parsed->criteria.empty()) return BadRequest("a conditional operation needs search criteria");
  auto ids = storage::FindMatchingIds(tx, type, PlanCriteria(parsed->criteria, ""), scope, limit);
  if (!ids.ok()) return SqlStatus(ids.status(), tx);
  return ids;
}

std::vector<std::pair<std::string, std::string>> SupportedSearchParams(const std::string& type) {
  std::vector<std::pair<std::string, std::string>> out;
  // Binary content is read by id through its document, never searched; the access history
  // (AuditEvent) is searched by its own parameters, for one patient (FhirApi AccessHistory).
  if (type == "Binary") return out;
  if (type == "AuditEvent")
    return {{"patient", "reference"},
            {"date", "date"},
            {"agent", "reference"},
            {"entity", "reference"}};
  auto set = model::SearchParamRegistry::Instance().Official();
  for (const auto& [code, def] : set->ForType(type)) out.emplace_back(code, def->type);
  // Full-text search (idx_text), which R4 defines without an expression: the narrative of a
  // DomainResource, and the whole content of any resource.
  if (type != "Bundle" && type != "Parameters") out.emplace_back("_text", "string");
  out.emplace_back("_content", "string");
  return out;
}

std::string GroupedParamDocumentation(const std::string& type, const std::string& code) {
  auto set = model::SearchParamRegistry::Instance().Official();
  const model::SearchParamDef* def = set->Find(type, code);
  if (!def || def->components.empty()) return "";
  if (def->type == "special")
    return "latitude|longitude|distance|units: within the great-circle distance of the point "
           "(decimal degrees; km, m, [mi_i] or [nmi_i]; km by default, 10 km without a distance)";
  std::string doc;
  for (const auto& c : def->components)
    doc += (doc.empty() ? "" : " $ ") + c.code + " (" + c.type + ")";
  return doc + ", of one " + def->expression;
}

}  // namespace carnet::fhir
