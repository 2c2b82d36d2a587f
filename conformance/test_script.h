// A FHIR R4 TestScript engine (Touchstone-style): runs TestScript resources against any FHIR
// base URL over HTTP (libcurl) and writes a TestReport.
//
// Supported (what carnet's suites and common conformance scripts use):
//   - fixtures: static (resource.reference to a JSON file beside the script, or a contained
//     resource "#id"), and responses kept by operation.responseId;
//   - variables: defaultValue, headerField, expression (FHIRPath, the shared engine of
//     model/fhirpath.h), from a fixture (sourceId) or the last response; values given from
//     outside (--var name=value) override defaults; "${name}" is substituted in params, url,
//     request headers and bodies;
//   - setup, test, teardown; operations read, vread, create, update, delete, search, history,
//     transaction, batch, patch (JSON Patch from a Binary fixture), capabilities, and a raw
//     method + url; requestHeader, contentType, accept, sourceId, targetId, params, resource;
//   - asserts: response, responseCode, contentType, resource, headerField (+operator and
//     value), expression (FHIRPath true), navigationLinks, minimumId (every element of the
//     fixture found with the same value in the response), with operators equals, notEquals,
//     in, notIn, greaterThan, lessThan, empty, notEmpty, contains, notContains; warningOnly.
// An action this engine does not know fails (never passes silently).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "base/json.h"
#include "base/status.h"

namespace carnet::conformance {

struct RunOptions {
  std::string base_url;  // "http://127.0.0.1:8080/fhir"
  // Sent as Authorization: Bearer on every request that does not set Authorization itself.
  std::string token;
  std::map<std::string, std::string> variables;  // override the scripts' defaults
  std::string script_dir;                         // where static fixture files are read from
  long timeout_ms = 30000;
};

struct ScriptResult {
  std::string name;
  int passed = 0;  // asserts and operations that passed
  int failed = 0;
  std::vector<std::string> failures;  // "test 'read': assert 'status 200': got 404"
  JsonValue report;                   // the TestReport resource
};

// Runs one TestScript. kBadRequest when the resource is not a TestScript.
Result<ScriptResult> RunTestScript(const JsonValue& script, const RunOptions& options);

// The suite files RunSuite runs for `path`: every *.json of a directory (but fixture-*.json),
// in name order, or the one file named.
Result<std::vector<std::string>> SuiteFiles(const std::string& path);

// Runs every *.json TestScript of a directory (or the one file named), in name order.
Result<std::vector<ScriptResult>> RunSuite(const std::string& path, RunOptions options);

}  // namespace carnet::conformance
