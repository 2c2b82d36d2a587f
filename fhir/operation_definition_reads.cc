// carnet's own OperationDefinitions (fhir/operation_definitions.h), served as FHIR resources:
//   GET OperationDefinition/[id]   one of them (any other id: the stored resource, if any)
//   GET OperationDefinition?...    the stored ones the search finds, and first, on the first
//                                  page, the own ones that match the parameters (_id, url, code,
//                                  name, title, status, kind, base, system, type, instance)
// Reads are decided and audited as reads of shared content; writes to their ids are refused
// by fhir/interactions.cc.
#include <algorithm>
#include <cctype>
#include <optional>

#include "fhir/operation_definitions.h"
#include "fhir/rest_impl.h"

namespace carnet::fhir {
namespace {

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Whether `od` (as served) matches one search parameter; nullopt when the parameter is not
// one evaluated here (the own definitions are then left out: the answer never claims a match
// it did not check).
std::optional<bool> Matches(const JsonValue& od, const std::string& key, const std::string& value) {
  std::string name = key, modifier;
  if (size_t colon = key.find(':'); colon != std::string::npos) {
    name = key.substr(0, colon);
    modifier = key.substr(colon + 1);
  }
  std::vector<std::string> alternatives;
  for (size_t start = 0;;) {
    size_t comma = value.find(',', start);
    alternatives.push_back(value.substr(start, comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  auto any = [&](auto&& pred) {
    return std::any_of(alternatives.begin(), alternatives.end(), pred);
  };
  if (name == "_id" || name == "code" || name == "status" || name == "kind") {
    if (!modifier.empty()) return std::nullopt;
    std::string field = name == "_id" ? "id" : name;
    return any([&](const std::string& v) { return od.GetString(field) == v; });
  }
  if (name == "url" || name == "base") {
    if (!modifier.empty()) return std::nullopt;
    return any(
        [&](const std::string& v) { return od.GetString(name) == v.substr(0, v.find('|')); });
  }
  if (name == "name" || name == "title") {
    std::string field = Lower(od.GetString(name));
    if (modifier == "exact")
      return any([&](const std::string& v) { return od.GetString(name) == v; });
    if (modifier == "contains")
      return any([&](const std::string& v) { return field.find(Lower(v)) != std::string::npos; });
    if (!modifier.empty()) return std::nullopt;
    return any([&](const std::string& v) { return field.rfind(Lower(v), 0) == 0; });
  }
  if (name == "system" || name == "type" || name == "instance") {
    if (!modifier.empty()) return std::nullopt;
    bool flag = od.Find(name) && od.Find(name)->as_bool();
    return any([&](const std::string& v) { return v == (flag ? "true" : "false"); });
  }
  return std::nullopt;
}

}  // namespace

EntryResult ReadOperationDefinition(const FhirContext& ctx, Call& call) {
  call.type = "OperationDefinition";  // the pattern's literal binds no {type}
  const JsonValue* od = FindOperationDefinition(call.id);
  if (!od) return ReadInstance(ctx, call);
  std::string what = "OperationDefinition/" + call.id;
  Status st = storage::RunInTransaction(ctx.pool, [&](storage::Transaction& tx) -> Status {
    profiles::ResourceSummary summary;
    summary.type = "OperationDefinition";
    summary.id = call.id;
    summary.shared = true;
    auto d = call.session.DecideSummary(tx, std::nullopt, summary, profiles::Action::kRead);
    if (!d.ok()) return d.status();
    profiles::AuditEntry audit = profiles::AuditEntry::Rest("read", 'R');
    audit.object_reference = what;
    if (!d->allowed) return call.session.Refuse(audit, *d, std::nullopt, what);
    return call.session.Audit(tx, audit, *d, std::nullopt);
  });
  if (!st.ok()) return FromError(st);
  return WithResource(ServedOperationDefinition(*od, ctx.options.base_url));
}

EntryResult SearchOperationDefinitions(const FhirContext& ctx, Call& call) {
  call.type = "OperationDefinition";
  EntryResult stored = SearchType(ctx, call);
  if (!stored.error.ok() || !stored.has_resource) return stored;
  bool count_only = false;
  std::vector<JsonValue> own;
  for (const JsonValue& definition : OperationDefinitions())
    own.push_back(ServedOperationDefinition(definition, ctx.options.base_url));
  for (const auto& [key, value] : call.query) {
    if (key == "_cursor") return stored;  // a later page: the own ones came on the first
    if (key == "_format" || key == "_pretty" || key == "_count" || key == "_total" ||
        key == "_sort" || key == "_elements")
      continue;
    if (key == "_summary") {
      count_only = value == "count";
      continue;
    }
    std::vector<JsonValue> kept;
    for (JsonValue& od : own) {
      std::optional<bool> m = Matches(od, key, value);
      if (!m) return stored;
      if (*m) kept.push_back(std::move(od));
    }
    own = std::move(kept);
  }
  JsonValue& bundle = stored.resource;
  if (const JsonValue* total = bundle.Find("total"); total && total->is_number())
    bundle.Set("total", JsonValue::Number(std::to_string(std::stoll(total->text()) +
                                                         static_cast<long long>(own.size()))));
  if (count_only || own.empty()) return stored;
  JsonValue entries = JsonValue::Array();
  for (JsonValue& od : own) {
    JsonValue entry = JsonValue::Object();
    entry.Set("fullUrl", JsonValue::String(od.GetString("url")));
    entry.Set("resource", std::move(od));
    JsonValue search = JsonValue::Object();
    search.Set("mode", JsonValue::String("match"));
    entry.Set("search", std::move(search));
    entries.Append(std::move(entry));
  }
  // A stored resource of one of the own ids (written before they were carnet's) is shadowed.
  if (const JsonValue* found = bundle.Find("entry"); found && found->is_array())
    for (const JsonValue& e : found->items()) {
      const JsonValue* r = e.Find("resource");
      if (r && r->GetString("resourceType") == "OperationDefinition" &&
          IsOwnOperationDefinition(r->GetString("id")))
        continue;
      entries.Append(e);
    }
  bundle.Set("entry", std::move(entries));
  return stored;
}

}  // namespace carnet::fhir
