// The one write path of the dossier, as the front ends below fhir/ see it.
//
// Every resource, whatever road it came by (FHIR REST, an XDS.b submission, a CDA deposit),
// is validated, stamped with its version, filed under its patient's record and indexed for
// search and for the XDS registry by the same code. That code lives with the FHIR
// interactions; xds/ must not include fhir/, so it reaches it through this interface, which
// server/ wires (fhir::DossierWriterImpl).
#pragma once

#include <string>

#include "base/json.h"
#include "base/status.h"
#include "profiles/access.h"
#include "storage/resource_store.h"
#include "storage/transaction.h"

namespace carnet::mapping {

class DossierWriter {
 public:
  virtual ~DossierWriter() = default;

  // Every call is decided and audited for the actor behind `session`, as a FHIR write is.
  // Creates `resource` with id `id` (a new id when empty), inside `tx`.
  virtual Result<storage::StoredResource> Create(storage::Transaction& tx, profiles::AccessSession& session,
                                                 const std::string& type,
                                                 const JsonValue& resource,
                                                 const std::string& id) = 0;
  // Replaces the current version (created when absent).
  virtual Result<storage::StoredResource> Update(storage::Transaction& tx, profiles::AccessSession& session,
                                                 const std::string& type,
                                                 const std::string& id,
                                                 const JsonValue& resource) = 0;
  // Soft-deletes (history kept).
  virtual Status Delete(storage::Transaction& tx, profiles::AccessSession& session,
                                                 const std::string& type,
                        const std::string& id) = 0;
};

}  // namespace carnet::mapping
