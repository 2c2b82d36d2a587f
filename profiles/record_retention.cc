#include "profiles/record_retention.h"

#include "storage/record_purge.h"

namespace carnet::profiles {

Result<std::vector<long long>> PurgeClosedRecords(storage::Pool& pool, int retention_days) {
  // Content filed before its document (a Binary whose securityContext names a
  // DocumentReference of the record) carries no record key: it goes through that reference.
  storage::UnkeyedRows content_of_documents;
  content_of_documents.res_type = "Binary";
  content_of_documents.link_path = {"securityContext", "reference"};
  content_of_documents.owner_type = "DocumentReference";
  content_of_documents.owner_prefix = "DocumentReference/";
  return storage::PurgeClosedRecords(pool, retention_days, content_of_documents);
}

}  // namespace carnet::profiles
