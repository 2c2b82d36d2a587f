// Writes over HTTP: create (conditional with If-None-Exist; a Binary sent as itself), update,
// JSON Patch, delete, their conditional forms on [type]?criteria, and $validate, which
// checks a resource as a write would. Each runs in its own transaction through Interactions.
#include "base/strings.h"
#include "fhir/format.h"
#include "fhir/rest_impl.h"

namespace carnet::fhir {
namespace {

using storage::Transaction;

// A Binary sent in its native form (a PDF, a CDA document...) rather than as a FHIR
// resource: the resource is built around it.
bool IsNativeBinaryBody(const HttpRequest& req) {
  const std::string* ct = req.Header("Content-Type");
  return ct && !ct->empty() && !IsFhirContentType(*ct) &&
         ct->find("application/x-www-form-urlencoded") == std::string::npos;
}

JsonValue BinaryFromNative(const HttpRequest& req, const std::string& id) {
  JsonValue b = JsonValue::Object();
  b.Set("resourceType", JsonValue::String("Binary"));
  if (!id.empty()) b.Set("id", JsonValue::String(id));
  std::string ct = *req.Header("Content-Type");
  b.Set("contentType", JsonValue::String(ct.substr(0, ct.find(';'))));
  if (const std::string* sc = req.Header("X-Security-Context")) {
    JsonValue ref = JsonValue::Object();
    ref.Set("reference", JsonValue::String(*sc));
    b.Set("securityContext", std::move(ref));
  }
  b.Set("data", JsonValue::String(Base64Encode(req.body)));
  return b;
}

}  // namespace

EntryResult FhirContext::WriteInTransaction(
    const std::function<Result<WriteResult>(Transaction&)>& op) const {
  WriteResult out;
  Status st = storage::RunInTransaction(pool, [&](Transaction& tx) {
    auto r = op(tx);
    if (!r.ok()) return r.status();
    out = std::move(r).value();
    return Status::Ok();
  });
  if (!st.ok()) return FromError(st);
  return FromWrite(out);
}

EntryResult CreateResource(const FhirContext& ctx, Call& call) {
  const std::string& type = call.type;
  const HttpRequest& req = call.req;
  Session& session = call.session;
  if (type == "Binary" && IsNativeBinaryBody(req)) {
    JsonValue binary = BinaryFromNative(req, "");
    return ctx.WriteInTransaction(
        [&](Transaction& tx) { return ctx.interactions.Create(tx, session, type, binary); });
  }
  auto body = ParseResourceBody(req);
  if (!body.ok()) return FromError(body.status());
  Status pre_error;
  Preconditions pre = PreconditionsOf(req, &pre_error);
  if (!pre_error.ok()) return FromError(pre_error);
  const JsonValue& resource = *body;
  if (!pre.if_none_exist.empty()) {
    std::string criteria = pre.if_none_exist;
    if (criteria.rfind(type + "?", 0) == 0) criteria = criteria.substr(type.size() + 1);
    return ctx.WriteInTransaction([&](Transaction& tx) {
      return ctx.interactions.CreateIfNoneExist(tx, session, type, resource, criteria);
    });
  }
  return ctx.WriteInTransaction(
      [&](Transaction& tx) { return ctx.interactions.Create(tx, session, type, resource); });
}

EntryResult ConditionalUpdate(const FhirContext& ctx, Call& call) {
  const std::string& type = call.type;
  Status pre_error;
  Preconditions pre = PreconditionsOf(call.req, &pre_error);
  if (!pre_error.ok()) return FromError(pre_error);
  auto body = ParseResourceBody(call.req);
  if (!body.ok()) return FromError(body.status());
  const JsonValue& resource = *body;
  if (resource.GetString("resourceType") != type)
    return FromError(BadRequest("the body is not a " + type, "resourceType"));
  // FindMatchingIds takes the query string as sent.
  return ctx.WriteInTransaction([&](Transaction& tx) {
    return ctx.interactions.ConditionalUpdate(tx, call.session, type, call.req.query, resource,
                                              pre);
  });
}

EntryResult ConditionalDelete(const FhirContext& ctx, Call& call) {
  Status pre_error;
  Preconditions pre = PreconditionsOf(call.req, &pre_error);
  if (!pre_error.ok()) return FromError(pre_error);
  return ctx.WriteInTransaction([&](Transaction& tx) {
    return ctx.interactions.ConditionalDelete(tx, call.session, call.type, call.req.query, pre);
  });
}

EntryResult UpdateResource(const FhirContext& ctx, Call& call) {
  auto body = call.type == "Binary" && IsNativeBinaryBody(call.req)
                  ? Result<JsonValue>(BinaryFromNative(call.req, call.id))
                  : ParseResourceBody(call.req);
  if (!body.ok()) return FromError(body.status());
  const JsonValue& resource = *body;
  return ctx.WriteInTransaction([&](Transaction& tx) {
    return ctx.interactions.Update(tx, call.session, call.type, call.id, resource, call.pre);
  });
}

EntryResult PatchResource(const FhirContext& ctx, Call& call) {
  const std::string* ct = call.req.Header("Content-Type");
  if (!ct || ct->find("application/json-patch+json") == std::string::npos)
    return FromError(
        Status(ErrorCode::kUnsupportedMediaType, "PATCH takes application/json-patch+json"));
  auto patch = ParseJson(call.req.body);
  if (!patch.ok()) return FromError(patch.status());
  const JsonValue& p = *patch;
  return ctx.WriteInTransaction([&](Transaction& tx) {
    return ctx.interactions.Patch(tx, call.session, call.type, call.id, p, call.pre);
  });
}

EntryResult DeleteResource(const FhirContext& ctx, Call& call) {
  return ctx.WriteInTransaction([&](Transaction& tx) {
    return ctx.interactions.Delete(tx, call.session, call.type, call.id, call.pre);
  });
}

// [type]/$validate and [type]/[id]/$validate.
EntryResult ValidateResource(const FhirContext& ctx, Call& call) {
  const std::string& type = call.type;
  const std::string& id = call.id;
  auto body = ParseResourceBody(call.req);
  if (!body.ok()) return FromError(body.status());
  JsonValue resource = std::move(body).value();
  // $validate takes the resource itself or a Parameters with a `resource` parameter.
  if (resource.GetString("resourceType") == "Parameters" && type != "Parameters") {
    JsonValue found;
    if (const JsonValue* params = resource.Find("parameter"); params && params->is_array())
      for (const auto& p : params->items())
        if (p.GetString("name") == "resource" && p.Find("resource")) found = *p.Find("resource");
    if (found.is_null()) return FromError(BadRequest("Parameters has no 'resource' parameter"));
    resource = std::move(found);
  }
  if (!id.empty() && resource.GetString("id") != id)
    return FromError(BadRequest("the resource's id differs from the URL's id " + id));
  JsonValue outcome;
  Status st = ctx.interactions.Validate(type, resource, &outcome);
  if (st.code() == ErrorCode::kBadRequest) return FromError(st);
  return WithResource(std::move(outcome));
}

}  // namespace carnet::fhir
