// The end of a closed record: once the retention period after its closure has passed
// (10 years by default, France's rule for the DMP), everything the record holds is erased.
// What is kept: the access history (audit_event, with its hash chains): it holds no medical
// content, and who accessed a record must stay provable after the record is gone.
#pragma once

#include <vector>

#include "base/status.h"
#include "storage/pool.h"

namespace carnet::profiles {

// Erases every record closed more than `retention_days` days ago, one transaction per record
// (a failure leaves that record whole), with the content filed before its document. Returns
// the keys of the records erased.
Result<std::vector<long long>> PurgeClosedRecords(storage::Pool& pool, int retention_days);

}  // namespace carnet::profiles
