// XDS.b test plans for `carnet conformance`: a JSON document (resourceType "XdsTestPlan",
// carnet's own format, in the spirit of the NIST kit) of steps, each a SOAP request file sent to
// /xds/registry or /xds/repository and assertions on the answer:
//   {"resourceType":"XdsTestPlan","name":"...","steps":[
//     {"name":"query","transaction":"ITI-18","request":"requests/find.xml",
//      "expect":{"status":"Success","errors":["XDSUnknownPatientId"],
//                "xpath":[{"expression":"count(//*[local-name()='ExtrinsicObject'])","equals":"1"}]},
//      "capture":{"uid":"string(//*[local-name()='ExternalIdentifier'][1]/@value)"}}]}
// The request file is a SOAP Body element; the runner wraps it in an envelope with the
// transaction's WS-Addressing Action and a MessageID. "${name}" is replaced in request files
// by the run's variables, values captured by earlier steps (XPath over the answer), and
// ${uuid} / ${oid} (fresh each time).
#pragma once

#include "base/json.h"
#include "base/status.h"
#include "conformance/test_script.h"

namespace carnet::conformance {

// Runs one plan; the gateway's origin is options.base_url without its "/fhir" suffix.
Result<ScriptResult> RunXdsTestPlan(const JsonValue& plan, const RunOptions& options);

}  // namespace carnet::conformance
