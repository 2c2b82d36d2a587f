#include "storage/xds_submission_store.h"

namespace carnet::storage {
namespace {

// The lock space 2 of pg_advisory_xact_lock(hashtextextended(name, space)), beside
// storage/advisory_lock.h's 0 (conditional criteria) and 1 (new ids).
constexpr Statement kLock{"xds_submission_lock",
                          "SELECT pg_advisory_xact_lock(hashtextextended($1, 2))"};
constexpr Statement kFingerprint{"xds_submission_fingerprint",
                                 "SELECT fingerprint FROM xds_submission WHERE unique_id = $1"};
constexpr Statement kRecord{
    "xds_submission_record",
    "INSERT INTO xds_submission (unique_id, fingerprint, patient_key) VALUES ($1, $2, $3::bigint)"};
constexpr Statement kKnownSystem{
    "identifier_system_known",
    "SELECT EXISTS (SELECT 1 FROM patient_identifier WHERE system = $1) OR "
    "EXISTS (SELECT 1 FROM patient WHERE ins_system = regexp_replace($1, '^urn:oid:', ''))"};

}  // namespace

Status LockSubmission(Transaction& tx, const std::string& unique_id) {
  auto r = tx.Run(kLock, {SqlParam::Text(unique_id)});
  return r.ok() ? Status::Ok() : r.status();
}

Result<std::optional<std::string>> SubmissionFingerprint(Transaction& tx,
                                                         const std::string& unique_id) {
  auto r = tx.Run(kFingerprint, {SqlParam::Text(unique_id)});
  if (!r.ok()) return r.status();
  if (r->rows() == 0) return std::optional<std::string>();
  return std::optional<std::string>(r->GetString(0, 0));
}

Status RecordSubmissionFingerprint(Transaction& tx, const std::string& unique_id,
                                   const std::string& fingerprint, long long patient_key) {
  auto r = tx.Run(kRecord, {SqlParam::Text(unique_id), SqlParam::Text(fingerprint),
                            SqlParam::Text(std::to_string(patient_key))});
  return r.ok() ? Status::Ok() : r.status();
}

Result<bool> KnownIdentifierSystem(Transaction& tx, const std::string& system) {
  auto r = tx.Run(kKnownSystem, {SqlParam::Text(system)});
  if (!r.ok()) return r.status();
  return r->GetString(0, 0) == "t";
}

}  // namespace carnet::storage
