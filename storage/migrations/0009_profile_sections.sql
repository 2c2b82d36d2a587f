-- carnet, version 9: the patient's choice, per section of their health profile, to hide it
-- from professionals (issue 16). A hidden section's entries carry MASQUE_PS: the row keeps
-- the choice so that entries written later into the section are hidden too.
CREATE TABLE profile_section_choice (
  patient_key bigint NOT NULL REFERENCES patient (patient_key),
  section     text NOT NULL,
  hidden      boolean NOT NULL,
  PRIMARY KEY (patient_key, section)
);
