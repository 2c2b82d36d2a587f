// Erasing a record's rows: every table that holds a patient_key, but the access history
// (audit_event, with its hash chains: who accessed a record must stay provable after the
// record is gone). When a record is due, and which rows belong to it without holding its
// key, is decided above (profiles/record_retention.h).
#pragma once

#include <string>
#include <vector>

#include "base/status.h"
#include "storage/pool.h"

namespace carnet::storage {

// Rows of `resource` that belong to a record without holding its key: of type `res_type`,
// with no patient_key, whose content (JSON) holds at `link_path` the text `owner_prefix`
// followed by the id of one of the record's resources of type `owner_type`. They are erased
// with the record (their index rows and history too).
struct UnkeyedRows {
  std::string res_type;
  std::vector<std::string> link_path;
  std::string owner_type;
  std::string owner_prefix;
};

// Erases every record whose status is 'closed' since more than `retention_days` days, with
// the `unkeyed` rows that belong to it, one transaction per record (a failure leaves that
// record whole; a record reopened meanwhile is left alone). Returns the keys erased.
Result<std::vector<long long>> PurgeClosedRecords(Pool& pool, int retention_days,
                                                  const UnkeyedRows& unkeyed);

}  // namespace carnet::storage
