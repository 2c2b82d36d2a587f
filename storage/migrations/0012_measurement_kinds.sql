-- carnet, version 12: the kinds of measurement the patient lets an app write (issue 17,
-- connected devices). NULL: every kind the app's scopes allow (the Consent lists none);
-- otherwise the kinds of profiles/data/measurement_kinds.tsv it lists, comma-separated.
ALTER TABLE app_authorisation ADD COLUMN measurement_kinds text;
