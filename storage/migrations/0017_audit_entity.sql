-- Issue 20, the access history of one document by index: each event of a record names its
-- objects (entity.what.reference, a version reference cut to [type]/[id]) in
-- audit_event_entity, written in the statement that appends the event, so that
-- `AuditEvent?patient=&entity=` walks the events of that object in the record newest first
-- instead of every event of the record. The event itself, and what the chain hashes, are
-- unchanged; the rows are derived from the content by audit_entity_refs, here (backfill), on
-- append (storage/audit_store.cc) and in the bench's bulk load alike.
CREATE FUNCTION audit_entity_refs(content text) RETURNS SETOF text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT DISTINCT regexp_replace(e -> 'what' ->> 'reference', '/_history/[^/]*$', '')
  FROM jsonb_array_elements(coalesce(content::jsonb -> 'entity', '[]'::jsonb)) e
  WHERE e -> 'what' ->> 'reference' IS NOT NULL
$$;

-- Events that concern no record are never read by entity: they have no rows here.
CREATE TABLE audit_event_entity (
  patient_key bigint NOT NULL,
  reference   text NOT NULL,  -- [type]/[id]
  seq         bigint NOT NULL,  -- audit_event.seq
  PRIMARY KEY (patient_key, reference, seq)
);
-- Append-only, as the events are.
CREATE TRIGGER audit_event_entity_no_update BEFORE UPDATE OR DELETE ON audit_event_entity
  FOR EACH ROW EXECUTE FUNCTION audit_event_append_only();
CREATE TRIGGER audit_event_entity_no_truncate BEFORE TRUNCATE ON audit_event_entity
  FOR EACH STATEMENT EXECUTE FUNCTION audit_event_append_only();
ALTER TABLE audit_event_entity SET (autovacuum_analyze_scale_factor = 0.02);

INSERT INTO audit_event_entity (patient_key, reference, seq)
  SELECT a.patient_key, r.ref, a.seq FROM audit_event a, audit_entity_refs(a.content) AS r(ref)
  WHERE a.patient_key IS NOT NULL;
ANALYZE audit_event_entity;
