-- carnet, version 11: the app catalogue and carnet's SMART App Launch authorization server
-- (issue 17). The operator keeps the catalogue of referenced apps; the patient's approval
-- of one is a Consent (app_authorisation, version 3), and the codes and refresh tokens carnet
-- issues are kept here by their SHA-256 only, never in clear.
CREATE TABLE app_catalogue (
  client_id     text PRIMARY KEY,
  name          text NOT NULL,
  publisher     text NOT NULL,
  description   text NOT NULL DEFAULT '',
  category      text NOT NULL DEFAULT '',
  logo_uri      text NOT NULL DEFAULT '',
  redirect_uris text[] NOT NULL,
  scopes        text NOT NULL,             -- space-separated: what the app may ask for
  client_type   text NOT NULL CHECK (client_type IN ('public', 'confidential')),
  secret_hash   bytea,                     -- confidential clients (client_secret_basic)
  jwks          text NOT NULL DEFAULT '',  -- private_key_jwt (not served yet)
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now()
);

-- Authorization codes: used once (used_at set by the exchange, in the same statement that
-- reads them), valid a short while.
CREATE TABLE oauth_code (
  code_hash      bytea PRIMARY KEY,
  client_id      text NOT NULL,
  redirect_uri   text NOT NULL,
  code_challenge text NOT NULL,            -- S256 only
  patient_key    bigint NOT NULL REFERENCES patient (patient_key),
  patient_id     text NOT NULL,
  ins            text NOT NULL,
  scopes         text NOT NULL,            -- as approved
  consent_id     text NOT NULL,            -- the Consent the approval became
  expires_at     timestamptz NOT NULL,
  used_at        timestamptz
);

-- Refresh tokens (offline_access): valid while the Consent they came from stands.
CREATE TABLE oauth_refresh_token (
  token_hash  bytea PRIMARY KEY,
  client_id   text NOT NULL,
  patient_key bigint NOT NULL REFERENCES patient (patient_key),
  patient_id  text NOT NULL,
  ins         text NOT NULL,
  scopes      text NOT NULL,
  consent_id  text NOT NULL,
  expires_at  timestamptz NOT NULL,
  revoked_at  timestamptz
);
CREATE INDEX oauth_refresh_token_consent ON oauth_refresh_token (patient_key, consent_id);
