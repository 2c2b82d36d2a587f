// Writes over HTTP: create (conditional with If-None-Exist; a Binary sent as itself), update,
// JSON Patch, delete, their conditional forms on [type]?criteria, and $validate, which
// checks a resource as a write would. Each runs in its own transaction through Interactions.
#include <algorithm>
#include <optional>

#include "base/strings.h"
#include "fhir/format.h"
#include "fhir/outcome.h"
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

namespace {

// What a $validate request asks: the resource (none for mode=delete, where R4 does not require
// it), the mode and the profile, from the query or from a Parameters body.
struct ValidateRequest {
  bool has_resource = false;
  JsonValue resource;
  std::string mode;             // "", create, update, delete, profile
  std::string profile;          // canonical, without |version
  std::string profile_version;  // its |version, when given
};

std::string QueryValue(const QueryParams& query, const std::string& name) {
  for (const auto& [k, v] : query)
    if (k == name) return v;
  return "";
}

bool EmptyBody(const HttpRequest& req) {
  return req.body.find_first_not_of(" \t\r\n") == std::string::npos;
}

Result<ValidateRequest> ReadValidateRequest(const Call& call) {
  ValidateRequest out;
  out.mode = QueryValue(call.query, "mode");
  out.profile = QueryValue(call.query, "profile");
  if (!EmptyBody(call.req)) {
    auto body = ParseResourceBody(call.req);
    if (!body.ok()) return body.status();
    JsonValue resource = std::move(body).value();
    // The resource itself, or a Parameters with `resource`, `mode` and `profile` parts (what
    // the query names is taken first).
    if (resource.GetString("resourceType") == "Parameters" && call.type != "Parameters") {
      if (const JsonValue* params = resource.Find("parameter"); params && params->is_array())
        for (const auto& p : params->items()) {
          std::string name = p.GetString("name");
          if (name == "resource" && p.Find("resource")) {
            out.resource = *p.Find("resource");
            out.has_resource = true;
          } else if (name == "mode" && out.mode.empty()) {
            out.mode = p.GetString("valueCode");
          } else if (name == "profile" && out.profile.empty()) {
            for (const char* v : {"valueCanonical", "valueUri", "valueUrl"})
              if (out.profile.empty()) out.profile = p.GetString(v);
          }
        }
      if (!out.has_resource && out.mode != "delete")
        return BadRequest("Parameters has no 'resource' parameter");
    } else {
      out.resource = std::move(resource);
      out.has_resource = true;
    }
  }
  if (size_t bar = out.profile.find('|'); bar != std::string::npos) {
    out.profile_version = out.profile.substr(bar + 1);
    out.profile.resize(bar);
  }
  if (out.mode != "" && out.mode != "create" && out.mode != "update" && out.mode != "delete" &&
      out.mode != "profile")
    return BadRequest("$validate mode '" + out.mode +
                          "' is not one of create, update, delete, profile (R4 $validate)",
                      "mode");
  if ((out.mode == "update" || out.mode == "delete") && call.id.empty())
    return BadRequest(
        "$validate mode=" + out.mode + " names its target: POST [type]/[id]/$validate", "mode");
  if (out.mode == "profile" && out.profile.empty())
    return BadRequest("$validate mode=profile needs a profile parameter", "profile");
  if (!out.has_resource && out.mode != "delete")
    return BadRequest("the request has no body: a FHIR resource was expected");
  return out;
}

// The write $validate stands for, run for real through the one write path (the same
// Interactions call, hence the same dossier::Create/Update/Delete, policy decisions, placement
// in a record and after-write rules) inside a transaction that is then rolled back: its verdict
// is the write's by construction. The write path's checks are interleaved with what it stores
// (a new record row, a SearchParameter's code taken in the store), so a separate "check only"
// path would have to repeat them and could drift. A refusal is audited as the write's would
// be: a probe through $validate leaves the same trace as an attempt.
Status DryRun(const FhirContext& ctx,
              const std::function<Result<WriteResult>(storage::Transaction&)>& op) {
  Status verdict;
  bool judged = false;
  Status st = storage::RunInTransaction(ctx.pool, [&](storage::Transaction& tx) {
    auto r = op(tx);
    judged = true;
    verdict = r.ok() ? Status::Ok() : r.status();
    // Never committed: a non-OK answer rolls the transaction back.
    return r.ok() ? Status(ErrorCode::kConflict, "$validate: dry run rolled back") : r.status();
  });
  return judged ? verdict : st;
}

const std::string kCoreProfiles = "http://hl7.org/fhir/StructureDefinition/";

// The core R4 definition of another resource type. The core definition of `type` is the core
// validation; any other profile is a posted one, enforced by the write path's own check
// (dossier::CheckResource), or an error "profile not known" there.
std::optional<OutcomeIssue> ProfileIssue(const std::string& type, const std::string& profile) {
  if (profile.empty() || profile == kCoreProfiles + type) return std::nullopt;
  if (profile.rfind(kCoreProfiles, 0) == 0 && IsServedType(profile.substr(kCoreProfiles.size())))
    return OutcomeIssue{"error", "invalid",
                        "the resource is a " + type + ", not a " +
                            profile.substr(kCoreProfiles.size()) + " (profile " + profile + ")",
                        "", ""};
  return std::nullopt;
}

// The profile $validate was asked for when it is not a core definition: the posted one to
// enforce.
std::vector<std::string> PostedProfileAsked(const std::string& profile,
                                            const std::string& version) {
  if (profile.empty() ||
      (profile.rfind(kCoreProfiles, 0) == 0 && IsServedType(profile.substr(kCoreProfiles.size()))))
    return {};
  return {version.empty() ? profile : profile + "|" + version};
}

}  // namespace

// [type]/$validate and [type]/[id]/$validate (R4 Resource-validate). Without a mode: the R4
// definitions, the invariants and the server's rules that need nothing but the resource. With
// mode=create|update|delete: the verdict of that write for this caller (DryRun), without writing
// and telling no more than the write would. 200 with the OperationOutcome whenever validation
// ran; 4xx only for a request that is itself wrong.
EntryResult ValidateResource(const FhirContext& ctx, Call& call) {
  const std::string& type = call.type;
  const std::string& id = call.id;
  auto asked = ReadValidateRequest(call);
  if (!asked.ok()) return FromError(asked.status());
  ValidateRequest& v = *asked;
  JsonValue issues = JsonValue::Array();
  if (v.has_resource) {
    if (!id.empty() && v.resource.GetString("id") != id)
      return FromError(BadRequest("the resource's id differs from the URL's id " + id));
    JsonValue structure;
    Status st = ctx.interactions.Validate(type, v.resource, &structure,
                                          PostedProfileAsked(v.profile, v.profile_version));
    if (st.code() == ErrorCode::kBadRequest || st.http_status() >= 500) return FromError(st);
    if (const JsonValue* found = structure.Find("issue"))
      for (const auto& i : found->items())
        if (i.GetString("severity") != "information" || i.GetString("diagnostics") != "All OK")
          issues.Append(i);
  }
  if (auto p = ProfileIssue(type, v.profile)) {
    JsonValue one = MakeOperationOutcome({*p});
    issues.Append(one.Find("issue")->items()[0]);
  }
  if (v.mode == "create" || v.mode == "update" || v.mode == "delete") {
    Status verdict;
    if (IsReadOnlyType(type)) {
      // The route table answers a write of these types 405 before any other check.
      verdict = Status(ErrorCode::kMethodNotAllowed,
                       type + " is read-only: carnet writes it, no client does");
    } else if (v.mode == "create") {
      verdict = DryRun(ctx, [&](storage::Transaction& tx) {
        return ctx.interactions.Create(tx, call.session, type, v.resource);
      });
    } else if (v.mode == "update") {
      verdict = DryRun(ctx, [&](storage::Transaction& tx) {
        return ctx.interactions.Update(tx, call.session, type, id, v.resource, call.pre);
      });
    } else {
      verdict = DryRun(ctx, [&](storage::Transaction& tx) {
        return ctx.interactions.Delete(tx, call.session, type, id, call.pre);
      });
    }
    if (verdict.http_status() >= 500) return FromError(verdict);
    JsonValue told = JsonValue::Array();
    if (!verdict.ok()) {
      // The write's own answer leads, as the write would give it; what validation found
      // besides follows, without repeating it.
      JsonValue write_outcome = OutcomeFromStatus(verdict);
      std::vector<std::string> said;
      if (const JsonValue* found = write_outcome.Find("issue"))
        for (const auto& i : found->items()) {
          said.push_back(i.GetString("diagnostics"));
          told.Append(i);
        }
      for (const auto& i : issues.items())
        if (std::find(said.begin(), said.end(), i.GetString("diagnostics")) == said.end())
          told.Append(i);
    } else {
      told = std::move(issues);
      OutcomeIssue fine{
          "information", "informational",
          "mode=" + v.mode + ": this " + v.mode + " would be accepted for this caller", "", ""};
      told.Append(MakeOperationOutcome({fine}).Find("issue")->items()[0]);
    }
    issues = std::move(told);
  }
  JsonValue outcome = MakeOperationOutcome({});
  if (!issues.items().empty()) outcome.Set("issue", std::move(issues));
  return WithResource(std::move(outcome));
}

}  // namespace carnet::fhir
