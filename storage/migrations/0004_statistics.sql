-- carnet search statistics, version 4: extended statistics on the search index tables.
--
-- The planner multiplies the selectivities of res_type, param, system and code as if they
-- were independent; they are not (a code belongs to one parameter of one resource type), so
-- it took "DocumentReference type = LOINC 11502-2" for 3 rows when a 2,000-document store
-- had 803, started the search from that token instead of the patient's 17 references and ran
-- 35 times slower (51 ms -> 1.5 ms with these statistics, bench/ search floor). Functional
-- dependencies over the columns a search compares together give it the real frequencies
-- after the next ANALYZE. Dependencies only: most-common-value lists as well doubled the
-- planning time of a gateway search (1.4 -> 2.7 ms) for a worse plan.
CREATE STATISTICS IF NOT EXISTS idx_token_stats (dependencies)
  ON res_type, param, system, code FROM idx_token;
CREATE STATISTICS IF NOT EXISTS idx_reference_stats (dependencies)
  ON res_type, param, target_type, target_id FROM idx_reference;
CREATE STATISTICS IF NOT EXISTS idx_string_stats (dependencies)
  ON res_type, param, value_norm FROM idx_string;
CREATE STATISTICS IF NOT EXISTS idx_date_stats (dependencies)
  ON res_type, param FROM idx_date;
CREATE STATISTICS IF NOT EXISTS idx_quantity_stats (dependencies)
  ON res_type, param, system, code FROM idx_quantity;
CREATE STATISTICS IF NOT EXISTS registry_object_stats (dependencies)
  ON object_type, availability_status, type_code, class_code FROM registry_object;
