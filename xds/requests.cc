#include "xds/requests.h"

#include "mapping/ebrim_xml.h"

namespace carnet::xds {

ValidationContext SubmissionRequest::Context(SubmissionKind kind) const {
  ValidationContext c;
  c.kind = kind;
  for (const Document& d : documents) c.document_ids.push_back(d.id);
  return c;
}

Result<SubmissionRequest> ReadSubmissionElement(pugi::xml_node element, const SoapRequest* request) {
  SubmissionRequest out;
  pugi::xml_node submit = element;
  const bool pnr = Is(element, kNsXds, "ProvideAndRegisterDocumentSetRequest");
  if (pnr) submit = Child(element, kNsLcm, "SubmitObjectsRequest");
  if (!Is(submit, kNsLcm, "SubmitObjectsRequest")) {
    return Invalid("expected lcm:SubmitObjectsRequest (ebRS 3.0)");
  }
  pugi::xml_node list = FirstElement(submit);
  Result<RegistryObjectList> metadata = ReadRegistryObjectList(list, &out.read_problems);
  if (!metadata.ok()) return metadata.status();
  out.metadata = std::move(metadata).value();
  if (!pnr) return out;
  for (pugi::xml_node c = element.first_child(); c; c = c.next_sibling()) {
    if (c.type() != pugi::node_element || c == submit) continue;
    if (!Is(c, kNsXds, "Document")) {
      return Invalid("unexpected element " + std::string(c.name()) +
                     " in ProvideAndRegisterDocumentSetRequest");
    }
    SubmissionRequest::Document doc;
    doc.id = c.attribute("id").value();
    Result<std::string> bytes = request ? ResolveBinary(c, *request) : [&]() -> Result<std::string> {
      if (Child(c, kNsXop, "Include")) return BadRequest("xop:Include outside an MTOM message");
      return Base64Decode(Text(c));
    }();
    if (!bytes.ok()) {
      return Status(ErrorCode::kBadRequest,
                    "xds:Document " + doc.id + ": " + bytes.status().message(), doc.id);
    }
    doc.bytes = std::move(bytes).value();
    out.documents.push_back(std::move(doc));
  }
  return out;
}

Result<SubmissionRequest> ReadSubmissionRequest(const SoapRequest& request) {
  return ReadSubmissionElement(request.body_element, &request);
}

Result<std::vector<DocumentRequest>> ReadRetrieveDocumentSetRequest(pugi::xml_node element) {
  if (!Is(element, kNsXds, "RetrieveDocumentSetRequest")) {
    return BadRequest("expected xds:RetrieveDocumentSetRequest");
  }
  std::vector<DocumentRequest> out;
  for (pugi::xml_node dr = element.first_child(); dr; dr = dr.next_sibling()) {
    if (dr.type() != pugi::node_element) continue;
    if (!Is(dr, kNsXds, "DocumentRequest")) {
      return BadRequest("unexpected element " + std::string(dr.name()) +
                        " in RetrieveDocumentSetRequest");
    }
    DocumentRequest r;
    // The schema's sequence, enforced: HomeCommunityId?, RepositoryUniqueId, DocumentUniqueId.
    int step = 0;
    for (pugi::xml_node c = dr.first_child(); c; c = c.next_sibling()) {
      if (c.type() != pugi::node_element) continue;
      std::string_view local = NamespaceOf(c) == kNsXds ? LocalName(c) : std::string_view{};
      std::string value = Trim(Text(c));
      if (local == "HomeCommunityId" && step == 0) {
        r.home_community_id = value;
        step = 1;
      } else if (local == "RepositoryUniqueId" && step <= 1) {
        r.repository_unique_id = value;
        step = 2;
      } else if (local == "DocumentUniqueId" && step == 2) {
        r.document_unique_id = value;
        step = 3;
      } else {
        return BadRequest("DocumentRequest " + std::to_string(out.size() + 1) +
                          ": expected (HomeCommunityId?, RepositoryUniqueId, DocumentUniqueId), found " +
                          std::string(c.name()));
      }
    }
    if (step != 3 || r.repository_unique_id.empty() || r.document_unique_id.empty()) {
      return BadRequest("DocumentRequest " + std::to_string(out.size() + 1) +
                        " needs RepositoryUniqueId and DocumentUniqueId");
    }
    out.push_back(std::move(r));
  }
  if (out.empty()) return BadRequest("RetrieveDocumentSetRequest without DocumentRequest");
  return out;
}

Result<std::vector<std::string>> ReadRemoveObjectsRequest(pugi::xml_node element) {
  if (!Is(element, kNsLcm, "RemoveObjectsRequest")) return BadRequest("expected lcm:RemoveObjectsRequest");
  pugi::xml_node list = Child(element, kNsRim, "ObjectRefList");
  if (!list) return Invalid("RemoveObjectsRequest without rim:ObjectRefList");
  std::vector<std::string> ids;
  for (pugi::xml_node r = list.first_child(); r; r = r.next_sibling()) {
    if (r.type() != pugi::node_element) continue;
    if (!Is(r, kNsRim, "ObjectRef")) return Invalid("ObjectRefList holds only rim:ObjectRef");
    std::string id = r.attribute("id").value();
    if (!IsUuidUrn(id)) return Invalid("ObjectRef id '" + id + "' is not a urn:uuid", id);
    ids.push_back(std::move(id));
  }
  if (ids.empty()) return Invalid("RemoveObjectsRequest names no object");
  return ids;
}

}  // namespace carnet::xds
