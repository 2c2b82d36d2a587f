// Internal to storage/: counts the audit events a transaction appends, for the
// carnet_audit_batch_size metric (observed by RunInTransaction when the transaction commits).
#pragma once

namespace carnet::storage {

// One audit event appended by the transaction the calling thread runs.
void NoteAuditAppend();

}  // namespace carnet::storage
