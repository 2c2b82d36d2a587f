#include "conformance/test_script.h"

#include <curl/curl.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "base/strings.h"
#include "conformance/curl_sink.h"
#include "conformance/xds_test_plan.h"
#include "model/fhirpath.h"
#include "model/structure.h"
#include "model/validator.h"

namespace carnet::conformance {
namespace {

namespace fs = std::filesystem;

struct Response {
  long status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  JsonValue json;  // parsed when the body is JSON
  std::string error;
};

Response Send(const std::string& method, const std::string& url,
              const std::vector<std::string>& headers, const std::string& body, long timeout_ms) {
  Response r;
  CURL* c = curl_easy_init();
  if (!c) {
    r.error = "curl_easy_init failed";
    return r;
  }
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method.c_str());
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, AppendBody);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &r.body);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, CollectHeader);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &r.headers);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  if (method == "HEAD") curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
  if (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH") {
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  }
  struct curl_slist* list = nullptr;
  for (const auto& h : headers) list = curl_slist_append(list, h.c_str());
  list = curl_slist_append(list, "Expect:");
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, list);
  CURLcode rc = curl_easy_perform(c);
  if (rc != CURLE_OK) r.error = curl_easy_strerror(rc);
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
  curl_slist_free_all(list);
  curl_easy_cleanup(c);
  auto ct = r.headers.find("content-type");
  if (ct != r.headers.end() && ct->second.find("json") != std::string::npos) {
    auto parsed = ParseJson(r.body);
    if (parsed.ok()) r.json = std::move(parsed).value();
  }
  return r;
}

std::string Lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string MimeOf(const std::string& code) {
  if (code == "json") return "application/fhir+json";
  if (code == "xml") return "application/fhir+xml";
  if (code == "none" || code.empty()) return "";
  return code;
}

long ResponseCodeOf(const std::string& response) {
  static const std::map<std::string, long> kCodes = {
      {"okay", 200},         {"created", 201},  {"noContent", 204},
      {"notModified", 304},  {"bad", 400},      {"unauthorized", 401},
      {"forbidden", 403},    {"notFound", 404}, {"methodNotAllowed", 405},
      {"conflict", 409},     {"gone", 410},     {"preconditionFailed", 412},
      {"unprocessable", 422}};
  auto it = kCodes.find(response);
  return it == kCodes.end() ? -1 : it->second;
}

// Compares `actual` to `expected` with a TestScript assert operator.
bool Compare(const std::string& op_in, const std::string& actual, const std::string& expected) {
  std::string op = op_in.empty() ? "equals" : op_in;
  auto in_list = [&] {
    std::stringstream ss(expected);
    for (std::string item; std::getline(ss, item, ',');)
      if (item == actual) return true;
    return false;
  };
  auto number = [](const std::string& s, double* d) {
    char* end = nullptr;
    *d = std::strtod(s.c_str(), &end);
    return end && *end == '\0' && !s.empty();
  };
  double a = 0, e = 0;
  if (op == "equals") return actual == expected;
  if (op == "notEquals") return actual != expected;
  if (op == "in") return in_list();
  if (op == "notIn") return !in_list();
  if (op == "greaterThan")
    return number(actual, &a) && number(expected, &e) ? a > e : actual > expected;
  if (op == "lessThan")
    return number(actual, &a) && number(expected, &e) ? a < e : actual < expected;
  if (op == "empty") return actual.empty();
  if (op == "notEmpty") return !actual.empty();
  if (op == "contains") return actual.find(expected) != std::string::npos;
  if (op == "notContains") return actual.find(expected) == std::string::npos;
  return false;
}

// Every member of `fixture` is in `response` with the same value (arrays: each fixture item
// matches some response item), server-assigned id and meta aside.
bool Contains(const JsonValue& response, const JsonValue& fixture, int depth = 0) {
  if (depth > 50) return false;
  if (fixture.is_object()) {
    if (!response.is_object()) return false;
    for (const auto& [k, v] : fixture.members()) {
      if (depth == 0 && (k == "id" || k == "meta" || k == "text")) continue;
      const JsonValue* r = response.Find(k);
      if (!r || !Contains(*r, v, depth + 1)) return false;
    }
    return true;
  }
  if (fixture.is_array()) {
    if (!response.is_array()) return false;
    for (const auto& item : fixture.items()) {
      bool found = false;
      for (const auto& candidate : response.items())
        found = found || Contains(candidate, item, depth + 1);
      if (!found) return false;
    }
    return true;
  }
  return WriteJson(response) == WriteJson(fixture);
}

class Runner {
 public:
  Runner(const JsonValue& script, const RunOptions& options) : script_(script), options_(options) {}

  ScriptResult Run() {
    result_.name =
        script_.GetString("name").empty() ? script_.GetString("id") : script_.GetString("name");
    LoadFixtures();
    JsonValue report = JsonValue::Object();
    report.Set("resourceType", JsonValue::String("TestReport"));
    report.Set("id", JsonValue::String(NewUuid()));
    report.Set("name", JsonValue::String(result_.name));
    report.Set("status", JsonValue::String("completed"));
    JsonValue ref = JsonValue::Object();
    ref.Set("display", JsonValue::String(result_.name));
    report.Set("testScript", std::move(ref));
    report.Set("tester", JsonValue::String("carnet conformance"));
    report.Set("issued", JsonValue::String(FormatUtc(std::chrono::system_clock::now())));
    if (const JsonValue* setup = script_.Find("setup")) {
      JsonValue out = JsonValue::Object();
      out.Set("action", Actions(*setup, "setup"));
      report.Set("setup", std::move(out));
    }
    JsonValue tests = JsonValue::Array();
    if (const JsonValue* list = script_.Find("test"); list && list->is_array())
      for (const auto& t : list->items()) {
        JsonValue out = JsonValue::Object();
        std::string name = t.GetString("name").empty() ? t.GetString("id") : t.GetString("name");
        out.Set("name", JsonValue::String(name));
        out.Set("action", Actions(t, "test '" + name + "'"));
        tests.Append(std::move(out));
      }
    if (!tests.items().empty()) report.Set("test", std::move(tests));
    if (const JsonValue* teardown = script_.Find("teardown")) {
      JsonValue out = JsonValue::Object();
      out.Set("action", Actions(*teardown, "teardown"));
      report.Set("teardown", std::move(out));
    }
    report.Set("result", JsonValue::String(result_.failed == 0 ? "pass" : "fail"));
    int total = result_.passed + result_.failed;
    report.Set("score",
               JsonValue::Number(total == 0 ? "0" : std::to_string(100 * result_.passed / total)));
    result_.report = std::move(report);
    return std::move(result_);
  }

 private:
  void LoadFixtures() {
    if (const JsonValue* fixtures = script_.Find("fixture"); fixtures && fixtures->is_array())
      for (const auto& f : fixtures->items()) {
        std::string id = f.GetString("id");
        const JsonValue* resource = f.Find("resource");
        std::string ref = resource ? resource->GetString("reference") : "";
        if (ref.rfind("#", 0) == 0) {
          if (const JsonValue* contained = script_.Find("contained");
              contained && contained->is_array())
            for (const auto& c : contained->items())
              if (c.GetString("id") == ref.substr(1)) fixtures_[id] = c;
        } else if (!ref.empty()) {
          std::ifstream in(fs::path(options_.script_dir) / ref);
          std::stringstream ss;
          ss << in.rdbuf();
          // "${name}" stays in the text until the fixture is sent: variables take their
          // values from responses that come later.
          auto parsed = ParseJson(ss.str());
          if (parsed.ok())
            fixtures_[id] = std::move(parsed).value();
          else
            load_errors_.push_back("fixture " + id + ": cannot read " + ref);
        }
      }
    if (const JsonValue* variables = script_.Find("variable"); variables && variables->is_array())
      for (const auto& v : variables->items()) variables_[v.GetString("name")] = v;
  }

  // The value of variable `name` now.
  std::string Variable(const std::string& name) {
    if (auto it = options_.variables.find(name); it != options_.variables.end()) return it->second;
    auto it = variables_.find(name);
    if (it == variables_.end()) return "";
    const JsonValue& v = it->second;
    std::string source = v.GetString("sourceId");
    if (!v.GetString("headerField").empty()) {
      const Response* r =
          source.empty() ? &last_ : (responses_.count(source) ? &responses_[source] : nullptr);
      if (r) {
        auto h = r->headers.find(Lower(v.GetString("headerField")));
        if (h != r->headers.end()) return h->second;
      }
    }
    if (!v.GetString("expression").empty()) {
      const JsonValue* target = nullptr;
      if (!source.empty() && fixtures_.count(source))
        target = &fixtures_[source];
      else if (!source.empty() && responses_.count(source))
        target = &responses_[source].json;
      else
        target = &last_.json;
      auto expr = model::FhirPathExpression::Parse(v.GetString("expression"));
      if (expr.ok() && target && !target->is_null()) {
        model::FhirPathEnvironment env;
        env.registry = &model::StructureRegistry::R4();
        auto out = expr->Evaluate(*target, env);
        if (out.ok() && !out->empty()) return model::FhirPathToString(out->front());
      }
    }
    return v.GetString("defaultValue");
  }

  std::string Substitute(std::string text) {
    for (size_t pos = text.find("${"); pos != std::string::npos; pos = text.find("${", pos)) {
      size_t end = text.find('}', pos);
      if (end == std::string::npos) break;
      std::string value = Variable(text.substr(pos + 2, end - pos - 2));
      text.replace(pos, end - pos + 1, value);
      pos += value.size();
    }
    return text;
  }

  JsonValue Actions(const JsonValue& section, const std::string& where) {
    JsonValue out = JsonValue::Array();
    const JsonValue* actions = section.Find("action");
    if (!actions || !actions->is_array()) return out;
    for (const auto& a : actions->items()) {
      JsonValue result = JsonValue::Object();
      if (const JsonValue* op = a.Find("operation")) {
        std::string message;
        bool ok = Operation(*op, &message);
        Record(result, "operation", ok,
               ok ? "" : where + ": operation '" + Label(*op) + "': " + message, false);
      } else if (const JsonValue* as = a.Find("assert")) {
        std::string message;
        bool ok = Assert(*as, &message);
        bool warning = as->Find("warningOnly") && as->Find("warningOnly")->is_bool() &&
                       as->Find("warningOnly")->as_bool();
        Record(result, "assert", ok, ok ? "" : where + ": assert '" + Label(*as) + "': " + message,
               warning);
      } else {
        Record(result, "operation", false,
               where + ": an action that is neither operation nor assert", false);
      }
      out.Append(std::move(result));
    }
    return out;
  }

  static std::string Label(const JsonValue& x) {
    std::string label = x.GetString("label");
    if (label.empty()) label = x.GetString("description");
    return label;
  }

  void Record(JsonValue& out, const char* kind, bool ok, const std::string& message, bool warning) {
    JsonValue r = JsonValue::Object();
    r.Set("result", JsonValue::String(ok ? "pass" : warning ? "warning" : "fail"));
    if (!message.empty()) r.Set("message", JsonValue::String(message));
    out.Set(kind, std::move(r));
    if (ok || warning) {
      ++result_.passed;
    } else {
      ++result_.failed;
      result_.failures.push_back(message);
    }
  }

  std::string ResourceId(const std::string& fixture) {
    if (fixtures_.count(fixture)) return fixtures_[fixture].GetString("id");
    if (responses_.count(fixture)) return responses_[fixture].json.GetString("id");
    return "";
  }

  bool Operation(const JsonValue& op, std::string* message) {
    for (const auto& e : load_errors_) *message += e + "; ";
    if (!load_errors_.empty()) return false;
    const JsonValue* type_node = op.Find("type");
    std::string code = type_node ? type_node->GetString("code") : "";
    std::string resource = op.GetString("resource");
    std::string source = op.GetString("sourceId"), target = op.GetString("targetId");
    if (resource.empty() && fixtures_.count(source))
      resource = fixtures_[source].GetString("resourceType");
    if (resource.empty() && fixtures_.count(target))
      resource = fixtures_[target].GetString("resourceType");
    if (resource.empty() && responses_.count(target))
      resource = responses_[target].json.GetString("resourceType");
    std::string params = Substitute(op.GetString("params"));
    std::string url = Substitute(op.GetString("url"));
    std::string method = op.GetString("method");
    std::string body;
    std::string content_type =
        MimeOf(op.GetString("contentType").empty() ? "json" : op.GetString("contentType"));
    auto target_path = [&] {
      std::string id = ResourceId(target);
      return resource + (id.empty() ? "" : "/" + id);
    };
    if (url.empty()) {
      if (code == "read" || code == "vread" || code == "delete" || code == "history") {
        url = params.empty() ? target_path() + (code == "history" ? "/_history" : "")
                             : resource + params;
        if (method.empty()) method = code == "delete" ? "DELETE" : "GET";
      } else if (code == "search") {
        url = resource + (params.empty() ? "" : params);
        if (method.empty()) method = "GET";
      } else if (code == "create") {
        url = resource;
        if (method.empty()) method = "POST";
      } else if (code == "update" || code == "patch") {
        std::string id = params.empty() ? ResourceId(target.empty() ? source : target) : "";
        url = params.empty() ? resource + "/" + id : resource + params;
        if (method.empty()) method = code == "update" ? "PUT" : "PATCH";
      } else if (code == "transaction" || code == "batch") {
        url = "";
        if (method.empty()) method = "POST";
      } else if (code == "capabilities") {
        url = "metadata";
        if (method.empty()) method = "GET";
      } else if (!method.empty()) {
        url = resource + params;
      } else {
        *message = "operation type '" + code + "' is not supported by this engine";
        return false;
      }
    }
    if (method.empty())
      method = code == "create" || code == "transaction" || code == "batch" ? "POST" : "GET";
    if (!source.empty() && method != "GET" && method != "DELETE" && method != "HEAD") {
      if (!fixtures_.count(source) && !responses_.count(source)) {
        *message = "no fixture " + source;
        return false;
      }
      const JsonValue& fixture =
          fixtures_.count(source) ? fixtures_[source] : responses_[source].json;
      if (code == "patch" && fixture.GetString("resourceType") == "Binary") {
        auto decoded = Base64Decode(fixture.GetString("data"));
        body = decoded ? *decoded : "";
        content_type = "application/json-patch+json";
      } else {
        body = Substitute(WriteJson(fixture));
        if (code == "patch" && fixture.is_array()) content_type = "application/json-patch+json";
      }
    }
    std::string full = url.rfind("http://", 0) == 0 || url.rfind("https://", 0) == 0
                           ? url
                           : options_.base_url + (url.empty() ? "" : "/" + url);
    std::vector<std::string> headers;
    bool has_auth = false;
    std::string accept = MimeOf(op.GetString("accept").empty() ? "json" : op.GetString("accept"));
    if (!accept.empty()) headers.push_back("Accept: " + accept);
    if (!body.empty() && !content_type.empty()) headers.push_back("Content-Type: " + content_type);
    if (const JsonValue* rh = op.Find("requestHeader"); rh && rh->is_array())
      for (const auto& h : rh->items()) {
        std::string field = h.GetString("field");
        if (Lower(field) == "authorization") has_auth = true;
        headers.push_back(field + ": " + Substitute(h.GetString("value")));
      }
    if (!has_auth && !options_.token.empty())
      headers.push_back("Authorization: Bearer " + options_.token);
    last_ = Send(method, full, headers, body, options_.timeout_ms);
    if (!op.GetString("responseId").empty()) responses_[op.GetString("responseId")] = last_;
    if (!last_.error.empty()) {
      *message = method + " " + full + ": " + last_.error;
      return false;
    }
    return true;
  }

  bool Assert(const JsonValue& as, std::string* message) {
    std::string source = as.GetString("sourceId");
    const Response& r = source.empty() || !responses_.count(source) ? last_ : responses_[source];
    std::string op = as.GetString("operator");
    std::string value = Substitute(as.GetString("value"));
    auto fail = [&](const std::string& m) {
      *message = m;
      return false;
    };
    if (!as.GetString("response").empty()) {
      long want = ResponseCodeOf(as.GetString("response"));
      if (want < 0) return fail("unknown response '" + as.GetString("response") + "'");
      if (!Compare(op, std::to_string(r.status), std::to_string(want)))
        return fail("expected HTTP " + std::to_string(want) + ", got " + std::to_string(r.status) +
                    ": " + r.body.substr(0, 300));
    }
    if (!as.GetString("responseCode").empty()) {
      std::string codes = as.GetString("responseCode");
      if (!Compare(op.empty() && codes.find(',') != std::string::npos ? "in" : op,
                   std::to_string(r.status), codes))
        return fail("expected HTTP " + codes + ", got " + std::to_string(r.status) + ": " +
                    r.body.substr(0, 300));
    }
    if (!as.GetString("contentType").empty()) {
      auto ct = r.headers.find("content-type");
      std::string actual = ct == r.headers.end() ? "" : ct->second;
      if (actual.find(MimeOf(as.GetString("contentType"))) == std::string::npos)
        return fail("expected content type " + MimeOf(as.GetString("contentType")) + ", got " +
                    actual);
    }
    if (!as.GetString("resource").empty()) {
      std::string actual = r.json.GetString("resourceType");
      if (!Compare(op, actual, as.GetString("resource")))
        return fail("expected a " + as.GetString("resource") + ", got " +
                    (actual.empty() ? "none" : actual));
    }
    if (!as.GetString("headerField").empty()) {
      auto h = r.headers.find(Lower(as.GetString("headerField")));
      std::string actual = h == r.headers.end() ? "" : h->second;
      if (!Compare(op.empty() && value.empty() ? "notEmpty" : op, actual, value))
        return fail("header " + as.GetString("headerField") + " is '" + actual + "'");
    }
    if (!as.GetString("expression").empty()) {
      const JsonValue* target = &r.json;
      if (!source.empty() && fixtures_.count(source)) target = &fixtures_[source];
      if (target->is_null())
        return fail("no JSON resource to evaluate " + as.GetString("expression") + " on");
      auto expr = model::FhirPathExpression::Parse(Substitute(as.GetString("expression")));
      if (!expr.ok()) return fail("FHIRPath: " + expr.status().message());
      model::FhirPathEnvironment env;
      env.registry = &model::StructureRegistry::R4();
      if (value.empty() && op.empty()) {
        auto b = expr->EvaluateBoolean(*target, env);
        if (!b.ok()) return fail("FHIRPath: " + b.status().message());
        if (!*b)
          return fail(as.GetString("expression") + " is not true on " +
                      WriteJson(*target).substr(0, 300));
      } else {
        auto out = expr->Evaluate(*target, env);
        if (!out.ok()) return fail("FHIRPath: " + out.status().message());
        std::string actual = out->empty() ? "" : model::FhirPathToString(out->front());
        if (!Compare(op, actual, value))
          return fail(as.GetString("expression") + " is '" + actual + "', expected " +
                      (op.empty() ? "equals" : op) + " '" + value + "'");
      }
    }
    if (const JsonValue* nav = as.Find("navigationLinks");
        nav && nav->is_bool() && nav->as_bool()) {
      bool self = false;
      if (const JsonValue* links = r.json.Find("link"); links && links->is_array())
        for (const auto& l : links->items()) self = self || l.GetString("relation") == "self";
      if (!self) return fail("the Bundle has no navigation links");
    }
    if (!as.GetString("validateProfileId").empty()) {
      const JsonValue* target = &r.json;
      if (!source.empty() && fixtures_.count(source)) target = &fixtures_[source];
      std::string why;
      if (!ConformsToProfile(as.GetString("validateProfileId"), *target, &why)) return fail(why);
    }
    if (!as.GetString("minimumId").empty()) {
      std::string id = as.GetString("minimumId");
      if (!fixtures_.count(id)) return fail("no fixture " + id);
      auto expected = ParseJson(Substitute(WriteJson(fixtures_[id])));
      if (!expected.ok() || !Contains(r.json, *expected))
        return fail("the response does not contain fixture " + id);
    }
    return true;
  }

  // validateProfileId: the TestScript.profile of that id names a StructureDefinition; the R4
  // core resource profiles (http://hl7.org/fhir/StructureDefinition/[type]) are checked here,
  // with the same validator carnet uses (model/validator.h: structure, cardinality, formats,
  // required bindings). Any other profile is reported as not checkable rather than passed.
  bool ConformsToProfile(const std::string& profile_id, const JsonValue& resource,
                         std::string* why) {
    std::string url;
    if (const JsonValue* profiles = script_.Find("profile"); profiles && profiles->is_array())
      for (const auto& p : profiles->items())
        if (p.GetString("id") == profile_id) url = p.GetString("reference");
    if (url.empty()) return *why = "no TestScript.profile with id " + profile_id, false;
    const std::string core = "http://hl7.org/fhir/StructureDefinition/";
    std::string type = url.rfind(core, 0) == 0 ? url.substr(core.size()) : "";
    if (type.empty() || !model::StructureRegistry::R4().Find(type))
      return *why = "profile " + url +
                    " cannot be checked by this runner (only the R4 core resource profiles)",
             false;
    if (resource.GetString("resourceType") != type)
      return *why =
                 "expected a " + type + " (" + url + "), got " +
                 (resource.GetString("resourceType").empty() ? "none"
                                                             : resource.GetString("resourceType")),
             false;
    std::string errors;
    int n = 0;
    for (const auto& issue : model::ValidateResource(resource)) {
      if (issue.severity != "error") continue;
      if (n++ < 3) errors += (errors.empty() ? "" : "; ") + issue.expression + ": " + issue.message;
    }
    if (n > 0)
      return *why = "not valid against " + url + " (" + std::to_string(n) + " errors): " + errors,
             false;
    return true;
  }

  const JsonValue& script_;
  RunOptions options_;
  ScriptResult result_;
  std::map<std::string, JsonValue> fixtures_;
  std::map<std::string, JsonValue> variables_;
  std::map<std::string, Response> responses_;
  std::vector<std::string> load_errors_;
  Response last_;
};

}  // namespace

Result<ScriptResult> RunTestScript(const JsonValue& script, const RunOptions& options) {
  if (script.GetString("resourceType") != "TestScript") return BadRequest("not a TestScript");
  Runner runner(script, options);
  return runner.Run();
}

Result<std::vector<std::string>> SuiteFiles(const std::string& path) {
  std::vector<std::string> files;
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    for (const auto& e : fs::directory_iterator(path, ec))
      if (e.path().extension() == ".json" && e.path().filename().string().rfind("fixture-", 0) != 0)
        files.push_back(e.path().string());
  } else if (fs::exists(path, ec)) {
    files.push_back(path);
  } else {
    return BadRequest("no suite at " + path);
  }
  std::sort(files.begin(), files.end());
  return files;
}

Result<std::vector<ScriptResult>> RunSuite(const std::string& path, RunOptions options) {
  auto suite_files = SuiteFiles(path);
  if (!suite_files.ok()) return suite_files.status();
  std::vector<ScriptResult> out;
  for (const fs::path f : *suite_files) {
    std::ifstream in(f);
    if (!in) return BadRequest("cannot read " + f.string());
    std::stringstream ss;
    ss << in.rdbuf();
    auto json = ParseJson(ss.str());
    if (!json.ok()) return BadRequest(f.string() + ": " + json.status().message());
    std::string type = json->GetString("resourceType");
    if (type != "TestScript" && type != "XdsTestPlan") continue;
    options.script_dir = f.parent_path().string();
    auto r = type == "TestScript" ? RunTestScript(*json, options) : RunXdsTestPlan(*json, options);
    if (!r.ok()) return r.status();
    out.push_back(std::move(r).value());
  }
  return out;
}

}  // namespace carnet::conformance
