-- carnet access policy, version 3: the audit chain heads and the patient's choices the
-- policy decision point reads (profiles/policy.h RecordContext).

-- The head of each patient's audit chain: the last event appended and its hash. Appends
-- lock this row (SELECT ... FOR UPDATE), which serialises them per patient under any
-- isolation level (under REPEATABLE READ a concurrent append fails with a serialization
-- error and the transaction is retried, so the chain never forks). patient_key 0 heads the
-- chain of the events that concern no record (patient keys start at 1).
CREATE TABLE audit_chain_head (
  patient_key bigint PRIMARY KEY,
  last_seq    bigint,
  hash        bytea,
  updated_at  timestamptz NOT NULL DEFAULT now()
);

-- Walking one chain in order (verification, the history's last event).
CREATE INDEX audit_event_chain ON audit_event ((coalesce(patient_key, 0)), seq);

-- Members of the patient's care team, derived from the CareTeam resources of the record
-- (participant.member identifiers) in the same transaction as their write. The treating
-- physician is always a member, whether listed here or not.
CREATE TABLE care_team_member (
  patient_key bigint NOT NULL REFERENCES patient (patient_key),
  member_id   text NOT NULL,   -- national id (RPPS/ADELI) of the professional
  res_id      text NOT NULL,   -- the CareTeam resource that lists them
  PRIMARY KEY (patient_key, member_id, res_id)
);

-- Apps the patient authorised (an active Consent resource naming the app's client id), with
-- the SMART scopes agreed. Revocation deletes the row (or sets revoked_at) in the same
-- transaction as the Consent change: access stops at once.
CREATE TABLE app_authorisation (
  patient_key bigint NOT NULL REFERENCES patient (patient_key),
  client_id   text NOT NULL,
  scopes      text NOT NULL,   -- space-separated SMART scopes
  res_id      text,            -- the Consent resource
  granted_at  timestamptz NOT NULL DEFAULT now(),
  revoked_at  timestamptz,
  PRIMARY KEY (patient_key, client_id)
);

-- Emergency ("bris de glace") accesses: when a professional's window on a record opened.
-- The window length is configuration (emergency_window_s); a later emergency after the
-- window closed opens a new one only once this row is replaced by the caller.
CREATE TABLE emergency_access (
  patient_key bigint NOT NULL REFERENCES patient (patient_key),
  actor_id    text NOT NULL,   -- national id of the professional
  started_at  timestamptz NOT NULL DEFAULT now(),
  reason      text NOT NULL,
  PRIMARY KEY (patient_key, actor_id)
);
