-- carnet search engine, version 2: what the search planner needs beyond the 0001 index tables.

-- Identifier tokens: Identifier.type, for the :of-type modifier (type system|code|value).
ALTER TABLE idx_token ADD COLUMN type_system text;
ALTER TABLE idx_token ADD COLUMN type_code text;

-- system|code lookups and system| (any code of a system) start from the system.
CREATE INDEX idx_token_system ON idx_token (res_type, param, system, code);
-- :text is a starts-with on the normalised display/text.
CREATE INDEX idx_token_text ON idx_token (res_type, param, text_norm text_pattern_ops);
-- :exact compares the string as written.
CREATE INDEX idx_string_exact ON idx_string (res_type, param, value_exact);
-- Absolute and canonical references, and Reference.identifier (:identifier).
CREATE INDEX idx_reference_url ON idx_reference (res_type, param, target_url);
CREATE INDEX idx_reference_identifier ON idx_reference (res_type, param, identifier_value,
                                                       identifier_system);
-- ge/gt/sa on dates compare the upper bound first.
CREATE INDEX idx_date_high ON idx_date (res_type, param, high);
-- Resources of one compartment with a given type, newest id order (compartment searches).
CREATE INDEX resource_patient_type_id ON resource (patient_key, res_type, res_id);

-- Custom SearchParameter resources (posted at run time), one row per (base type, code).
-- Derived from the SearchParameter resource in the same transaction as its write; the
-- registry reloads this table when it changes (search_param_generation).
CREATE TABLE search_param (
  sp_id       text NOT NULL,   -- logical id of the SearchParameter resource
  base_type   text NOT NULL,   -- resource type the parameter applies to
  code        text NOT NULL,
  param_type  text NOT NULL,   -- number date string token reference quantity uri
  expression  text NOT NULL,   -- FHIRPath, narrowed to base_type
  targets     text[] NOT NULL DEFAULT '{}',
  PRIMARY KEY (base_type, code)
);
CREATE INDEX search_param_sp ON search_param (sp_id);

-- A counter bumped by every change of search_param, so that each gateway process notices
-- (with one cheap read) that its cached registry is stale.
CREATE TABLE search_param_generation (
  only_row   boolean PRIMARY KEY DEFAULT true CHECK (only_row),
  generation bigint NOT NULL
);
INSERT INTO search_param_generation VALUES (true, 0);
