-- carnet statistics freshness, version 5: the large tables are analyzed after 2% of their rows
-- changed instead of PostgreSQL's 10%.
--
-- At a million documents the resource table holds millions of rows: 10% is hundreds of
-- thousands of writes, days of deposits, during which a resource type the store did not hold
-- at the last ANALYZE (the Provenances of a newly extracted document kind, say) is estimated
-- at one row, and the planner builds plans that walk all of them (seen on the bench store:
-- 600 ms per lookup). ANALYZE samples a fixed number of rows, so running it more often on a
-- large table stays cheap.
ALTER TABLE resource SET (autovacuum_analyze_scale_factor = 0.02);
ALTER TABLE resource_history SET (autovacuum_analyze_scale_factor = 0.02);
ALTER TABLE idx_string SET (autovacuum_analyze_scale_factor = 0.02);
ALTER TABLE idx_token SET (autovacuum_analyze_scale_factor = 0.02);
ALTER TABLE idx_reference SET (autovacuum_analyze_scale_factor = 0.02);
ALTER TABLE idx_date SET (autovacuum_analyze_scale_factor = 0.02);
ALTER TABLE idx_quantity SET (autovacuum_analyze_scale_factor = 0.02);
ALTER TABLE idx_uri SET (autovacuum_analyze_scale_factor = 0.02);
ALTER TABLE registry_object SET (autovacuum_analyze_scale_factor = 0.02);
ALTER TABLE registry_code SET (autovacuum_analyze_scale_factor = 0.02);
ALTER TABLE association SET (autovacuum_analyze_scale_factor = 0.02);
ALTER TABLE audit_event SET (autovacuum_analyze_scale_factor = 0.02);
