-- carnet, version 7: the agenda's calendar subscription links (issue 16).
--
-- A phone calendar subscribes to a URL and cannot send a Bearer token, so the patient (or a
-- guardian) asks for a link whose secret is the credential: /agenda/<secret>.ics. Only the
-- SHA-256 of the secret is kept (a copy of this table opens nothing); the claims of the
-- identity that asked are kept so that every use of the link is decided by the policy as a
-- read by that identity (a closed record, a guardian whose child came of age... refuse it).
-- One live link per identity and record: a new one, or a revocation, ends the previous.
CREATE TABLE agenda_feed (
  feed_id      bigserial PRIMARY KEY,
  secret_hash  bytea NOT NULL UNIQUE,
  patient_key  bigint NOT NULL REFERENCES patient (patient_key),
  patient_id   text NOT NULL,
  principal_id text NOT NULL,
  claims       text NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  revoked_at   timestamptz
);
CREATE INDEX agenda_feed_owner ON agenda_feed (patient_key, principal_id) WHERE revoked_at IS NULL;
