#include "fhir/document_authors.h"

#include "mapping/document_entry.h"
#include "storage/resource_store.h"

namespace carnet::fhir {
namespace {

bool HasExtension(const JsonValue& r, const std::string& url) {
  if (const JsonValue* exts = r.Find("extension"); exts && exts->is_array())
    for (const auto& x : exts->items())
      if (x.GetString("url") == url) return true;
  return false;
}

void AddExtension(JsonValue& r, JsonValue ext) {
  JsonValue* exts = r.Find("extension");
  if (!exts || !exts->is_array()) exts = &r.Set("extension", JsonValue::Array());
  exts->Append(std::move(ext));
}

}  // namespace

Status RecordReferencedAuthors(storage::Transaction& tx, JsonValue& dr) {
  Status failure = Status::Ok();
  // A reference's target: contained ("#id"), or a current resource of this server ("Type/id").
  auto resolve = [&](const std::string& ref) -> JsonValue {
    if (ref.rfind("#", 0) == 0) {
      if (const JsonValue* contained = dr.Find("contained"); contained && contained->is_array())
        for (const auto& c : contained->items())
          if (c.GetString("id") == ref.substr(1)) return c;
      return JsonValue();
    }
    size_t slash = ref.find('/');
    if (slash == std::string::npos || ref.find('/', slash + 1) != std::string::npos)
      return JsonValue();
    std::string type = ref.substr(0, slash);
    if (type != "Practitioner" && type != "PractitionerRole" && type != "Organization")
      return JsonValue();
    auto stored = storage::ReadCurrent(tx, type, ref.substr(slash + 1), false);
    if (!stored.ok()) {
      failure = stored.status();
      return JsonValue();
    }
    if (!*stored || (*stored)->deleted) return JsonValue();
    auto json = ParseJson((*stored)->content);
    return json.ok() ? std::move(json).value() : JsonValue();
  };
  auto is_external = [](const JsonValue& ref_holder) {
    std::string r = ref_holder.GetString("reference");
    return !r.empty() && r[0] != '#';
  };

  const std::string author_url = mapping::XdsExtensionUrl("xds-author");
  const JsonValue* authors = dr.Find("author");
  bool any_external = false;
  if (authors && authors->is_array())
    for (const auto& a : authors->items()) any_external = any_external || is_external(a);
  if (any_external && !HasExtension(dr, author_url)) {
    std::vector<xds::Author> found;
    for (const auto& a : authors->items()) {
      JsonValue target = resolve(a.GetString("reference"));
      if (!failure.ok()) return failure;
      if (!target.is_object()) continue;
      xds::Author author = mapping::AuthorFromResource(target, resolve);
      if (!failure.ok()) return failure;
      if (!author.person.empty() || !author.institutions.empty())
        found.push_back(std::move(author));
    }
    for (const auto& author : found) AddExtension(dr, mapping::XdsAuthorExtension(author));
  }

  const std::string legal_url = mapping::XdsExtensionUrl("xds-legal-authenticator");
  if (const JsonValue* auth = dr.Find("authenticator");
      auth && is_external(*auth) && !HasExtension(dr, legal_url)) {
    JsonValue target = resolve(auth->GetString("reference"));
    if (!failure.ok()) return failure;
    std::string xcn;
    if (target.GetString("resourceType") == "Practitioner") {
      xcn = mapping::XcnFromPractitioner(target);
    } else if (target.GetString("resourceType") == "PractitionerRole") {
      xcn = mapping::AuthorFromResource(target, resolve).person;
      if (!failure.ok()) return failure;
    }
    if (!xcn.empty()) {
      JsonValue ext = JsonValue::Object();
      ext.Set("url", JsonValue::String(legal_url));
      ext.Set("valueString", JsonValue::String(xcn));
      AddExtension(dr, std::move(ext));
    }
  }
  return Status::Ok();
}

}  // namespace carnet::fhir
