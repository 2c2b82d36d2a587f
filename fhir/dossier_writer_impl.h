// mapping::DossierWriter on top of the FHIR interactions, for the XDS.b front end.
#pragma once

#include "fhir/interactions.h"
#include "mapping/dossier_writer.h"

namespace carnet::fhir {

class DossierWriterImpl : public mapping::DossierWriter {
 public:
  explicit DossierWriterImpl(storage::Pool& pool) : interactions_(pool) {}

  Result<storage::StoredResource> Create(storage::Transaction& tx, profiles::AccessSession& session, const std::string& type,
                                         const JsonValue& resource, const std::string& id) override;
  Result<storage::StoredResource> Update(storage::Transaction& tx, profiles::AccessSession& session, const std::string& type,
                                         const std::string& id, const JsonValue& resource) override;
  Status Delete(storage::Transaction& tx, profiles::AccessSession& session, const std::string& type, const std::string& id) override;

 private:
  Interactions interactions_;
};

}  // namespace carnet::fhir
