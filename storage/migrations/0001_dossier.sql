-- carnet dossier schema, version 1.
--
-- One unified dossier per patient. Every table holding patient data carries patient_key as
-- its first column: the key by which the data can later be partitioned or sharded. Tables
-- of shared, non-patient resources (Practitioner, Organization...) use patient_key NULL.
-- The canonical record of every FHIR resource is its row in `resource`; the search index
-- tables and the XDS registry tables are derived from it in the same transaction.

-- The records themselves: one row per patient (national health record).
CREATE TABLE patient (
  patient_key        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  -- logical id of the Patient resource that carries the demographics
  resource_id        text UNIQUE,
  -- national identity (INS): value and its OID system (1.2.250.1.213.1.4.8, test .10)
  ins                text,
  ins_system         text,
  status             text NOT NULL DEFAULT 'active'
                     CHECK (status IN ('active', 'opposed', 'closed')),
  status_changed_at  timestamptz NOT NULL DEFAULT now(),
  opposed_at         timestamptz,
  closed_at          timestamptz,
  -- national id (RPPS) of the treating physician declared by the patient
  treating_physician text,
  -- the patient may oppose emergency ("bris de glace") access
  emergency_opposed  boolean NOT NULL DEFAULT false,
  created_at         timestamptz NOT NULL DEFAULT now(),
  UNIQUE (ins_system, ins)
);

-- Every identifier of a record (INS, local ids with their assigning authority).
CREATE TABLE patient_identifier (
  patient_key bigint NOT NULL REFERENCES patient (patient_key),
  system      text NOT NULL,
  value       text NOT NULL,
  PRIMARY KEY (system, value)
);
CREATE INDEX patient_identifier_patient ON patient_identifier (patient_key);

-- The patient's choices: blocked professionals and organisations.
CREATE TABLE patient_block (
  patient_key bigint NOT NULL REFERENCES patient (patient_key),
  kind        text NOT NULL CHECK (kind IN ('professional', 'organisation')),
  actor_id    text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (patient_key, kind, actor_id)
);

-- Notification preferences per channel and event kind (opt-in for e-mail).
CREATE TABLE patient_preference (
  patient_key bigint NOT NULL REFERENCES patient (patient_key),
  channel     text NOT NULL,  -- 'email', 'webhook'
  event_kind  text NOT NULL,  -- 'document', 'access', 'emergency', 'message'
  enabled     boolean NOT NULL,
  address     text,
  PRIMARY KEY (patient_key, channel, event_kind)
);

-- Current version of every FHIR resource. `content` is the resource JSON exactly as it is
-- served, so that a read writes it straight out.
CREATE TABLE resource (
  patient_key   bigint,                -- owning compartment; NULL for shared resources
  res_type      text NOT NULL,
  res_id        text NOT NULL,
  version_id    integer NOT NULL CHECK (version_id > 0),
  last_updated  timestamptz NOT NULL,
  deleted       boolean NOT NULL DEFAULT false,
  -- security labels (confidentiality and French visibility codes) for policy filters
  security      text[] NOT NULL DEFAULT '{}',
  content       text,                  -- NULL when deleted
  PRIMARY KEY (res_type, res_id)
);
CREATE INDEX resource_patient ON resource (patient_key, res_type);
CREATE INDEX resource_type_updated ON resource (res_type, last_updated, res_id);

-- Every version of every resource, including deletions (content NULL).
CREATE TABLE resource_history (
  patient_key   bigint,
  res_type      text NOT NULL,
  res_id        text NOT NULL,
  version_id    integer NOT NULL,
  last_updated  timestamptz NOT NULL,
  deleted       boolean NOT NULL DEFAULT false,
  method        text NOT NULL CHECK (method IN ('POST', 'PUT', 'PATCH', 'DELETE')),
  content       text,
  PRIMARY KEY (res_type, res_id, version_id)
);
CREATE INDEX resource_history_updated ON resource_history (last_updated);
CREATE INDEX resource_history_type_updated ON resource_history (res_type, last_updated);
CREATE INDEX resource_history_patient ON resource_history (patient_key, last_updated);

-- Search index tables, one per parameter type, holding the current version only. They are
-- rewritten with the resource in the same transaction. `param` is the search parameter code.
CREATE TABLE idx_string (
  patient_key bigint,
  res_type    text NOT NULL,
  res_id      text NOT NULL,
  param       text NOT NULL,
  value_norm  text NOT NULL,  -- lower case, accents removed: default and :contains
  value_exact text NOT NULL   -- as written: :exact
);
CREATE INDEX idx_string_lookup ON idx_string (res_type, param, value_norm text_pattern_ops);
CREATE INDEX idx_string_res ON idx_string (res_type, res_id);

CREATE TABLE idx_token (
  patient_key bigint,
  res_type    text NOT NULL,
  res_id      text NOT NULL,
  param       text NOT NULL,
  system      text,           -- NULL when the coding has no system
  code        text,
  text_norm   text            -- display / text, normalised, for :text
);
CREATE INDEX idx_token_lookup ON idx_token (res_type, param, code, system);
CREATE INDEX idx_token_res ON idx_token (res_type, res_id);

CREATE TABLE idx_reference (
  patient_key bigint,
  res_type    text NOT NULL,
  res_id      text NOT NULL,
  param       text NOT NULL,
  target_type text,           -- resolved local target
  target_id   text,
  target_url  text,           -- absolute or canonical reference as written
  identifier_system text,     -- Reference.identifier, for :identifier
  identifier_value  text
);
CREATE INDEX idx_reference_lookup ON idx_reference (res_type, param, target_id, target_type);
CREATE INDEX idx_reference_target ON idx_reference (target_type, target_id);
CREATE INDEX idx_reference_res ON idx_reference (res_type, res_id);

CREATE TABLE idx_date (
  patient_key bigint,
  res_type    text NOT NULL,
  res_id      text NOT NULL,
  param       text NOT NULL,
  low         timestamptz NOT NULL,  -- inclusive lower bound of the value's range
  high        timestamptz NOT NULL   -- inclusive upper bound
);
CREATE INDEX idx_date_lookup ON idx_date (res_type, param, low, high);
CREATE INDEX idx_date_res ON idx_date (res_type, res_id);

CREATE TABLE idx_quantity (
  patient_key bigint,
  res_type    text NOT NULL,
  res_id      text NOT NULL,
  param       text NOT NULL,
  value       numeric NOT NULL,
  low         numeric NOT NULL,   -- implicit precision range of the value as written
  high        numeric NOT NULL,
  system      text,
  code        text                -- unit code (UCUM) or NULL for plain numbers
);
CREATE INDEX idx_quantity_lookup ON idx_quantity (res_type, param, value);
CREATE INDEX idx_quantity_res ON idx_quantity (res_type, res_id);

CREATE TABLE idx_uri (
  patient_key bigint,
  res_type    text NOT NULL,
  res_id      text NOT NULL,
  param       text NOT NULL,
  uri         text NOT NULL
);
CREATE INDEX idx_uri_lookup ON idx_uri (res_type, param, uri text_pattern_ops);
CREATE INDEX idx_uri_res ON idx_uri (res_type, res_id);

-- Document bytes, stored once per patient and content hash.
CREATE TABLE document_content (
  patient_key bigint NOT NULL,
  sha256      bytea NOT NULL,
  sha1        bytea NOT NULL,   -- XDS hash
  size        bigint NOT NULL,
  mime_type   text NOT NULL,
  data        bytea NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (patient_key, sha256)
);

-- The XDS registry view. Each DocumentEntry row is derived from the DocumentReference
-- resource it points at (res_type/res_id); SubmissionSets and Folders from their List.
CREATE TABLE registry_object (
  patient_key          bigint NOT NULL,
  entry_uuid           uuid PRIMARY KEY,
  object_type          text NOT NULL
                       CHECK (object_type IN ('DocumentEntry', 'SubmissionSet', 'Folder')),
  res_type             text NOT NULL,
  res_id               text NOT NULL,
  unique_id            text NOT NULL,
  logical_id           uuid NOT NULL,
  version              integer NOT NULL DEFAULT 1,
  availability_status  text NOT NULL
                       CHECK (availability_status IN ('Approved', 'Deprecated', 'Submitted')),
  entry_type           text,   -- stable / on-demand DocumentEntry objectType UUID
  repository_unique_id text,
  patient_id           text NOT NULL,  -- CX form as registered
  source_patient_id    text,
  class_code           text, class_scheme text,
  type_code            text, type_scheme text,
  format_code          text, format_scheme text,
  hcft_code            text, hcft_scheme text,
  practice_setting_code text, practice_setting_scheme text,
  content_type_code    text, content_type_scheme text,  -- SubmissionSet
  creation_time        timestamptz,
  service_start_time   timestamptz,
  service_stop_time    timestamptz,
  submission_time      timestamptz,
  last_update_time     timestamptz,  -- Folder
  mime_type            text,
  size                 bigint,
  hash_sha1            bytea,
  author_persons       text[] NOT NULL DEFAULT '{}',
  source_id            text,         -- SubmissionSet sourceId
  home_community_id    text,
  created_at           timestamptz NOT NULL DEFAULT now()
);
-- A uniqueId names one document (or one submission set, one folder) in the registry. The
-- table holds the current version of each object, so the index is plain.
CREATE UNIQUE INDEX registry_object_unique_id ON registry_object (unique_id, object_type);
CREATE INDEX registry_object_find ON registry_object (patient_key, object_type, availability_status);
CREATE INDEX registry_object_logical ON registry_object (logical_id, version);
CREATE INDEX registry_object_res ON registry_object (res_type, res_id);

-- Multi-valued codes of registry objects (eventCodeList, confidentialityCode, folder codeList),
-- queried as AND-of-ORs by the stored queries.
CREATE TABLE registry_code (
  patient_key bigint NOT NULL,
  entry_uuid  uuid NOT NULL REFERENCES registry_object (entry_uuid) ON DELETE CASCADE,
  scheme      text NOT NULL,  -- 'eventCode', 'confidentialityCode', 'folderCode'
  code        text NOT NULL,
  code_system text NOT NULL
);
CREATE INDEX registry_code_lookup ON registry_code (scheme, code, code_system);
CREATE INDEX registry_code_entry ON registry_code (entry_uuid);

CREATE TABLE association (
  patient_key       bigint NOT NULL,
  entry_uuid        uuid PRIMARY KEY,
  association_type  text NOT NULL,  -- HasMember, RPLC, APND, XFRM, XFRM_RPLC, signs...
  source_uuid       uuid NOT NULL,
  target_uuid       uuid NOT NULL,
  availability_status text NOT NULL DEFAULT 'Approved',
  submission_set_status text,       -- Original / Reference (HasMember to a document)
  original_status   text,           -- UpdateAvailabilityStatus
  new_status        text,
  created_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX association_source ON association (source_uuid);
CREATE INDEX association_target ON association (target_uuid);

-- The access history: append-only, hash-chained per patient (prev_hash of the patient's
-- previous event, hash over this row's content and prev_hash).
CREATE TABLE audit_event (
  patient_key bigint,           -- NULL for events that concern no record
  seq         bigint GENERATED ALWAYS AS IDENTITY,
  event_id    uuid NOT NULL DEFAULT gen_random_uuid(),
  recorded    timestamptz NOT NULL DEFAULT now(),
  action      text NOT NULL,    -- C R U D E
  outcome     text NOT NULL,    -- 0 success, 4 minor failure, 8 serious, 12 major
  actor_id    text,
  actor_kind  text,
  emergency   boolean NOT NULL DEFAULT false,
  content     text NOT NULL,    -- the AuditEvent resource JSON
  prev_hash   bytea,
  hash        bytea NOT NULL,
  PRIMARY KEY (seq)
);
CREATE UNIQUE INDEX audit_event_id ON audit_event (event_id);
CREATE INDEX audit_event_patient ON audit_event (patient_key, recorded);

CREATE FUNCTION audit_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_event is append-only' USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER audit_event_no_update BEFORE UPDATE OR DELETE ON audit_event
  FOR EACH ROW EXECUTE FUNCTION audit_event_append_only();
CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_event
  FOR EACH STATEMENT EXECUTE FUNCTION audit_event_append_only();

-- Notifications to deliver, written in the same transaction as the event that causes them.
CREATE TABLE outbox (
  patient_key     bigint,
  id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  channel         text NOT NULL,   -- 'email', 'webhook'
  event_kind      text NOT NULL,
  destination     text NOT NULL,
  payload         text NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  attempts        integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  delivered_at    timestamptz,
  last_error      text
);
CREATE INDEX outbox_pending ON outbox (next_attempt_at) WHERE delivered_at IS NULL;
