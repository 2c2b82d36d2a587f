-- carnet, version 13: confidential apps that authenticate with private_key_jwt (RFC 7523
-- client assertions, SMART App Launch 2 "client-confidential-asymmetric"). Each assertion's
-- jti is used once: kept here until the assertion expires, so that a replayed assertion
-- is refused. The app's public keys are app_catalogue.jwks (version 11).
CREATE TABLE oauth_client_assertion (
  client_id  text NOT NULL,
  jti        text NOT NULL,
  expires_at timestamptz NOT NULL,
  PRIMARY KEY (client_id, jti)
);
CREATE INDEX oauth_client_assertion_expiry ON oauth_client_assertion (expires_at);
