#include "fhir/dossier_writer_impl.h"

namespace carnet::fhir {

Result<storage::StoredResource> DossierWriterImpl::Create(storage::Transaction& tx, profiles::AccessSession& session,
                                                          const std::string& type,
                                                          const JsonValue& resource,
                                                          const std::string& id) {
  auto r = interactions_.Create(tx, session, type, resource, id, "POST");
  if (!r.ok()) return r.status();
  return r->stored;
}

Result<storage::StoredResource> DossierWriterImpl::Update(storage::Transaction& tx, profiles::AccessSession& session,
                                                          const std::string& type,
                                                          const std::string& id,
                                                          const JsonValue& resource) {
  JsonValue copy = resource;
  copy.Set("id", JsonValue::String(id));
  auto r = interactions_.Update(tx, session, type, id, std::move(copy), Preconditions{});
  if (!r.ok()) return r.status();
  return r->stored;
}

Status DossierWriterImpl::Delete(storage::Transaction& tx, profiles::AccessSession& session,
                                 const std::string& type,
                                 const std::string& id) {
  auto r = interactions_.Delete(tx, session, type, id, Preconditions{});
  return r.ok() ? Status::Ok() : r.status();
}

}  // namespace carnet::fhir
