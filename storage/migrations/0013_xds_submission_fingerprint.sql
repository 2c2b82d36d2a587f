-- Issue 19: an ITI-41 / ITI-42 resent after a timeout is answered idempotently when it is the
-- same submission, byte for byte. Each registered SubmissionSet's uniqueId keeps a fingerprint
-- of what was submitted (SHA-256 of the SubmitObjectsRequest as sent and of each document's
-- bytes); a resend with the same fingerprint is a Success that stores nothing, one with
-- another is XDSDuplicateUniqueIdInRegistry. Submissions of one uniqueId are serialised by an
-- advisory lock (storage/xds_submission_store.h, LockSubmission).
-- The record it went to (patient_key) goes with the record when a closed one is purged.
CREATE TABLE xds_submission (
  unique_id   text PRIMARY KEY,
  patient_key bigint NOT NULL REFERENCES patient (patient_key),
  fingerprint text NOT NULL,
  recorded_at timestamptz NOT NULL DEFAULT now()
);
