// fhir/json_patch: a PATCH body (application/json-patch+json) applied to a resource.
// Input: the patch, optionally followed by "\n---\n" and the document to patch (else a
// fixed Patient).
#include <cstdint>
#include <string_view>

#include "base/json.h"
#include "fhir/json_patch.h"

namespace {
constexpr std::string_view kPatient =
    R"({"resourceType":"Patient","id":"p1","meta":{"versionId":"1"},"active":true,)"
    R"("name":[{"family":"Martin","given":["Anne","Marie"]}],"birthDate":"1970-01-01",)"
    R"("identifier":[{"system":"urn:oid:1.2.250.1.213.1.4.8","value":"1234567890123"}],)"
    R"("extension":[{"url":"u","valueDecimal":1.50}],"multipleBirthInteger":2})";
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::string_view patch_text = input, document_text = kPatient;
  if (size_t sep = input.find("\n---\n"); sep != std::string_view::npos) {
    patch_text = input.substr(0, sep);
    document_text = input.substr(sep + 5);
  }
  auto patch = carnet::ParseJson(patch_text);
  auto document = carnet::ParseJson(document_text);
  if (!patch.ok() || !document.ok()) return 0;
  carnet::JsonValue patched = *document;
  (void)carnet::fhir::ApplyJsonPatch(*patch, &patched);
  (void)carnet::fhir::JsonPatchEquals(patched, *document);
  return 0;
}
