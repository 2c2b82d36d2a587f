// The rows behind two XDS.b answers of issue 19: the fingerprint of each registered
// SubmissionSet (an identical resend of ITI-41/42 is answered Success, nothing stored twice;
// migration 0013), the lock that serialises submissions of one SubmissionSet uniqueId, and
// whether an assigning authority is known (an unknown one is XDSUnknownPatientId naming it).
#pragma once

#include <optional>
#include <string>

#include "base/status.h"
#include "storage/transaction.h"

namespace carnet::storage {

// Waits until no other transaction submits SubmissionSet `unique_id`, and holds it until this
// one ends (a transaction-scoped advisory lock).
Status LockSubmission(Transaction& tx, const std::string& unique_id);

// The fingerprint recorded for the SubmissionSet registered under `unique_id`, or nullopt
// when none was (not registered, or registered before migration 0013).
Result<std::optional<std::string>> SubmissionFingerprint(Transaction& tx,
                                                         const std::string& unique_id);

// Records it, in the transaction that registers the SubmissionSet.
Status RecordSubmissionFingerprint(Transaction& tx, const std::string& unique_id,
                                   const std::string& fingerprint, long long patient_key);

// Whether some record carries an identifier of `system` (urn:oid:OID), or a national identity
// under that OID.
Result<bool> KnownIdentifierSystem(Transaction& tx, const std::string& system);

}  // namespace carnet::storage
