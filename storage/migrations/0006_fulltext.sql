-- carnet search engine, version 6: full-text search for _text (the narrative) and _content
-- (the whole resource, and a document's own text), in French and in English.
--
-- One row per resource and parameter ('_text' or '_content'), shaped like the other idx_*
-- tables, with the text as a tsvector built from two configurations: 'french' over the text
-- as written (the French stemmer needs the accents: "thoracique" and "thoraciques" both stem
-- to "thorac"), and 'english' over the text folded to lower case without accents by carnet
-- (model/search_text.h), so that English words are stemmed too and a query typed without
-- accents ("epaule") still finds "épaule". A query is OR'ed the same way (the planner passes
-- the text as written and folded). carnet folds accents itself rather than with the unaccent
-- extension, which a managed PostgreSQL may not let the carnet role create.
CREATE TABLE idx_text (
  patient_key bigint,
  res_type    text NOT NULL,
  res_id      text NOT NULL,
  param       text NOT NULL,      -- _text or _content
  tsv         tsvector NOT NULL
);
CREATE INDEX idx_text_lookup ON idx_text USING gin (tsv);
CREATE INDEX idx_text_res ON idx_text (res_type, res_id);
ALTER TABLE idx_text SET (autovacuum_analyze_scale_factor = 0.02);
