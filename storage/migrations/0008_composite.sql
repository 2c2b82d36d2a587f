-- carnet search engine, version 8: composite search parameters (code-value-quantity...) and
-- Location's near.
--
-- A composite's components are rows of the ordinary idx_* tables (each component in the table of
-- its own type), under the parameter name "<composite>$<component position>" (no parameter code
-- holds a '$'), and the rows of one value of the composite's expression (one Observation, one
-- Observation.component, one Group.characteristic) share a group number, `grp`: a search matches
-- components of the same group, never one component's code with another's value. Ordinary rows
-- have no group (NULL). near keeps Location.position's latitude and longitude as the two
-- components of "near" in idx_quantity.
--
-- Adding a NULL column rewrites nothing. Resources stored before this migration get their
-- composite rows from `carnet-gateway reindex` (or when next written).
ALTER TABLE idx_string ADD COLUMN grp integer;
ALTER TABLE idx_token ADD COLUMN grp integer;
ALTER TABLE idx_reference ADD COLUMN grp integer;
ALTER TABLE idx_date ADD COLUMN grp integer;
ALTER TABLE idx_quantity ADD COLUMN grp integer;
ALTER TABLE idx_uri ADD COLUMN grp integer;

-- A posted composite SearchParameter: its url (what another composite's component may name) and
-- its components as resolved when it was written (code, type, expression of each, flattened).
ALTER TABLE search_param ADD COLUMN url text;
ALTER TABLE search_param ADD COLUMN components text[] NOT NULL DEFAULT '{}';
