// mapping/ebrim_*: ebRIM 3.0 metadata without its SOAP envelope (a SubmitObjectsRequest, a
// RegistryObjectList, a stored query or a retrieve request), read into carnet's XDS model,
// and what was read written back and read again, as a stored query answer is.
#include <cstdint>
#include <string_view>
#include <vector>

#include "mapping/ebrim_xml.h"
#include "mapping/xds_metadata.h"
#include "xds/requests.h"
#include "xds/stored_query.h"

using namespace carnet::xds;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view xml(reinterpret_cast<const char*>(data), size);
  auto document = ParseXml(xml);
  if (!document.ok()) return 0;
  pugi::xml_node root = FirstElement(**document);
  if (!root) return 0;
  std::string_view name = LocalName(root);
  if (name == "RegistryObjectList") {
    std::vector<RegistryError> problems;
    auto list = ReadRegistryObjectList(root, &problems);
    if (!list.ok()) return 0;
    (void)WriteRegistryObjectList(*list, ReturnType::kObjectRef);
    AssignUuidsToSymbolicIds(&*list);
    auto again = ParseXml(WriteSubmitObjectsRequest(*list));
    if (!again.ok()) __builtin_trap();  // carnet wrote XML it cannot read back
    (void)ReadSubmissionElement(FirstElement(**again), nullptr);
  } else if (name == "AdhocQueryRequest") {
    (void)ParseAdhocQueryRequest(root);
  } else if (name == "RetrieveDocumentSetRequest") {
    (void)ReadRetrieveDocumentSetRequest(root);
  } else if (name == "RemoveObjectsRequest") {
    (void)ReadRemoveObjectsRequest(root);
  } else {
    auto submission = ReadSubmissionElement(root, nullptr);
    if (submission.ok()) (void)WriteRegistryObjectList(submission->metadata);
  }
  return 0;
}
