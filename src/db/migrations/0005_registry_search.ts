export default {
  id: '0005_registry_search',
  sql: `
-- Full-text search on the registry (the Postgres search backend). The
-- analysed fields mirror the ElasticSearch text fields searched by q:
-- title, description, regionCode, countryCode ('simple' = lower-cased words,
-- no stemming, like ES's standard analyzer). owner/author/cityCode are
-- keyword fields there, so they are matched whole, from the columns below.
ALTER TABLE packages
  ADD COLUMN search_text tsvector GENERATED ALWAYS AS (
    to_tsvector('simple'::regconfig,
      coalesce(doc #>> '{package,title}', '') || ' ' ||
      coalesce(doc #>> '{package,description}', '') || ' ' ||
      coalesce(doc #>> '{package,regionCode}', '') || ' ' ||
      coalesce(doc #>> '{package,countryCode}', ''))
  ) STORED,
  ADD COLUMN package_owner text GENERATED ALWAYS AS (doc #>> '{package,owner}') STORED,
  ADD COLUMN package_title text GENERATED ALWAYS AS (doc #>> '{package,title}') STORED;
CREATE INDEX packages_search_text ON packages USING gin (search_text);
CREATE INDEX packages_doc_path_ops ON packages USING gin (doc jsonb_path_ops);
CREATE INDEX packages_package_owner ON packages (package_owner);
CREATE INDEX packages_last_update ON packages (last_update);

-- Index writes still to be mirrored to ElasticSearch: one row per package id,
-- written in the same statement as the registry change, removed once the
-- index reflects the row's current state (indexed, or deleted when the row is
-- gone). A failed mirror leaves the row for a later retry.
CREATE TABLE registry_index_outbox (
  package_id text PRIMARY KEY,
  queued_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  attempts integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  last_error text
);
CREATE INDEX registry_index_outbox_due ON registry_index_outbox (next_attempt_at);
`,
};
