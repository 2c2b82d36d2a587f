-- carnet, version 10: the reminders already queued for delivery (issue 16). A reminder (a
-- vaccination dose or a screening, on its due day) is queued to the patient's outbox once:
-- the row is inserted in the transaction that queues it, so that neither a second run nor a
-- restart sends it twice.
CREATE TABLE reminder_sent (
  patient_key bigint NOT NULL REFERENCES patient (patient_key),
  reminder    text NOT NULL,  -- series|dose or season|due date
  queued_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (patient_key, reminder)
);
