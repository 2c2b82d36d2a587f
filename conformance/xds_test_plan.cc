#include "conformance/xds_test_plan.h"

#include <curl/curl.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <pugixml.hpp>
#include <sstream>

#include "base/strings.h"
#include "conformance/curl_sink.h"

namespace carnet::conformance {
namespace {

const char* ActionOf(const std::string& iti) {
  if (iti == "ITI-18") return "urn:ihe:iti:2007:RegistryStoredQuery";
  if (iti == "ITI-41") return "urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-b";
  if (iti == "ITI-42") return "urn:ihe:iti:2007:RegisterDocumentSet-b";
  if (iti == "ITI-43") return "urn:ihe:iti:2007:RetrieveDocumentSet";
  if (iti == "ITI-57") return "urn:ihe:iti:2010:UpdateDocumentSet";
  if (iti == "ITI-62") return "urn:ihe:iti:2010:DeleteDocumentSet";
  return nullptr;
}

}  // namespace

Result<ScriptResult> RunXdsTestPlan(const JsonValue& plan, const RunOptions& options) {
  if (plan.GetString("resourceType") != "XdsTestPlan") return BadRequest("not an XdsTestPlan");
  ScriptResult result;
  result.name = plan.GetString("name");
  std::string origin = options.base_url;
  if (origin.size() >= 5 && origin.compare(origin.size() - 5, 5, "/fhir") == 0)
    origin.resize(origin.size() - 5);
  std::map<std::string, std::string> vars = options.variables;
  auto substitute = [&](std::string text) {
    for (size_t pos = text.find("${"); pos != std::string::npos; pos = text.find("${", pos)) {
      size_t end = text.find('}', pos);
      if (end == std::string::npos) break;
      std::string name = text.substr(pos + 2, end - pos - 2);
      std::string value =
          name == "uuid" ? NewUuid()
          : name == "oid"
              ? "1.2.250.1.999.66." +
                    std::to_string(std::chrono::system_clock::now().time_since_epoch().count())
          : vars.count(name) ? vars[name]
                             : "";
      text.replace(pos, end - pos + 1, value);
      pos += value.size();
    }
    return text;
  };
  JsonValue actions = JsonValue::Array();
  auto record = [&](const std::string& step, bool ok, const std::string& message) {
    JsonValue a = JsonValue::Object();
    JsonValue r = JsonValue::Object();
    r.Set("result", JsonValue::String(ok ? "pass" : "fail"));
    if (!message.empty()) r.Set("message", JsonValue::String(message));
    a.Set("assert", std::move(r));
    actions.Append(std::move(a));
    if (ok) {
      ++result.passed;
    } else {
      ++result.failed;
      result.failures.push_back("step '" + step + "': " + message);
    }
  };
  const JsonValue* steps = plan.Find("steps");
  if (steps && steps->is_array())
    for (const auto& step : steps->items()) {
      std::string name = step.GetString("name");
      std::string iti = step.GetString("transaction");
      const char* action = ActionOf(iti);
      if (!action) {
        record(name, false, "unknown transaction " + iti);
        continue;
      }
      std::ifstream in(std::filesystem::path(options.script_dir) / step.GetString("request"));
      std::stringstream ss;
      ss << in.rdbuf();
      if (ss.str().empty()) {
        record(name, false, "cannot read " + step.GetString("request"));
        continue;
      }
      std::string body = substitute(ss.str());
      if (body.rfind("<?xml", 0) == 0) body = body.substr(body.find("?>") + 2);
      std::string envelope =
          std::string(
              "<s:Envelope xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\" "
              "xmlns:a=\"http://www.w3.org/2005/08/addressing\"><s:Header><a:Action>") +
          action + "</a:Action><a:MessageID>urn:uuid:" + NewUuid() +
          "</a:MessageID></s:Header><s:Body>" + body + "</s:Body></s:Envelope>";
      bool repository = iti == "ITI-41" || iti == "ITI-43";
      std::string url = origin + (repository ? "/xds/repository" : "/xds/registry");
      std::string answer;
      CURL* c = curl_easy_init();
      struct curl_slist* headers =
          curl_slist_append(nullptr, "Content-Type: application/soap+xml; charset=UTF-8");
      headers = curl_slist_append(headers, "Expect:");
      std::string auth =
          "Authorization: Bearer " +
          substitute(step.GetString("token").empty() ? options.token : step.GetString("token"));
      if (!options.token.empty() || !step.GetString("token").empty())
        headers = curl_slist_append(headers, auth.c_str());
      curl_easy_setopt(c, CURLOPT_URL, url.c_str());
      curl_easy_setopt(c, CURLOPT_POSTFIELDS, envelope.data());
      curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(envelope.size()));
      curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
      curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, AppendBody);
      curl_easy_setopt(c, CURLOPT_WRITEDATA, &answer);
      curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, options.timeout_ms);
      curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
      CURLcode rc = curl_easy_perform(c);
      curl_slist_free_all(headers);
      curl_easy_cleanup(c);
      if (rc != CURLE_OK) {
        record(name, false, std::string("POST ") + url + ": " + curl_easy_strerror(rc));
        continue;
      }
      // An MTOM answer: the SOAP part is the first XML document in it.
      std::string soap = answer;
      if (size_t start = soap.find("<?xml"); start != std::string::npos) soap = soap.substr(start);
      if (size_t end = soap.find("Envelope>"); end != std::string::npos)
        soap = soap.substr(0, end + 9);
      pugi::xml_document doc;
      if (!doc.load_string(soap.c_str())) {
        record(name, false, "the answer is not XML: " + answer.substr(0, 200));
        continue;
      }
      const JsonValue* expect = step.Find("expect");
      if (expect && !expect->GetString("status").empty()) {
        std::string status;
        for (auto x : doc.select_nodes("//*[@status]")) {
          std::string s = x.node().attribute("status").value();
          if (s.find("ResponseStatusType") != std::string::npos) {
            status = s.substr(s.rfind(':') + 1);
            break;
          }
        }
        record(name, status == expect->GetString("status"),
               status == expect->GetString("status")
                   ? ""
                   : "status " + status + ", expected " + expect->GetString("status"));
      }
      if (const JsonValue* errors = expect ? expect->Find("errors") : nullptr;
          errors && errors->is_array())
        for (const auto& e : errors->items()) {
          std::string code = e.is_string() ? e.text() : "";
          bool found = doc.select_node(
              ("//*[local-name()='RegistryError'][@errorCode='" + code + "']").c_str());
          record(name, found, found ? "" : "no RegistryError " + code);
        }
      if (const JsonValue* xpaths = expect ? expect->Find("xpath") : nullptr;
          xpaths && xpaths->is_array())
        for (const auto& x : xpaths->items()) {
          std::string expr = substitute(x.GetString("expression"));
          std::string want = substitute(x.GetString("equals"));
          std::string got;
          try {
            pugi::xpath_query q(expr.c_str());
            got = q.return_type() == pugi::xpath_type_number
                      ? std::to_string(static_cast<long long>(q.evaluate_number(doc)))
                      : q.evaluate_string(doc);
          } catch (const std::exception& ex) {
            got = std::string("(bad XPath: ") + ex.what() + ")";
          }
          record(name, got == want,
                 got == want ? "" : expr + " = '" + got + "', expected '" + want + "'");
        }
      if (const JsonValue* capture = step.Find("capture"); capture && capture->is_object())
        for (const auto& [var, expr] : capture->members()) {
          try {
            vars[var] = pugi::xpath_query(substitute(expr.text()).c_str()).evaluate_string(doc);
          } catch (const std::exception&) {
          }
        }
    }
  JsonValue report = JsonValue::Object();
  report.Set("resourceType", JsonValue::String("TestReport"));
  report.Set("id", JsonValue::String(NewUuid()));
  report.Set("name", JsonValue::String(result.name));
  report.Set("status", JsonValue::String("completed"));
  JsonValue test = JsonValue::Object();
  test.Set("name", JsonValue::String(result.name));
  test.Set("action", std::move(actions));
  JsonValue tests = JsonValue::Array();
  tests.Append(std::move(test));
  report.Set("test", std::move(tests));
  report.Set("result", JsonValue::String(result.failed == 0 ? "pass" : "fail"));
  result.report = std::move(report);
  return result;
}

}  // namespace carnet::conformance
