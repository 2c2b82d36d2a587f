-- Issue 20, document bytes once: a Binary of a record keeps its metadata in its versioned JSON
-- and names its bytes by SHA-256 here; the bytes themselves are one row of document_content
-- (per record and hash), so a new version of the metadata, or a second deposit of the same
-- bytes, copies nothing. Rows written before this migration keep their inline `data` (reads
-- accept both forms): moving them out needs a SHA-1 that plain SQL cannot compute.
ALTER TABLE resource ADD COLUMN content_sha256 bytea;
ALTER TABLE resource_history ADD COLUMN content_sha256 bytea;
