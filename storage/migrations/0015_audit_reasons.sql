-- Issue 19, refusals a helpdesk can explain: each access-history event keeps the request id and
-- the reason code of its decision beside the event (the AuditEvent content holds them too, and
-- is what the chain hashes), so that the support view ($access-decisions) finds the decisions
-- of one request, or of one professional over a time range, by index.
ALTER TABLE audit_event ADD COLUMN request_id text, ADD COLUMN reason_code text;
CREATE INDEX audit_event_request ON audit_event (request_id) WHERE request_id IS NOT NULL;
CREATE INDEX audit_event_actor ON audit_event (actor_id, recorded) WHERE actor_id IS NOT NULL;
