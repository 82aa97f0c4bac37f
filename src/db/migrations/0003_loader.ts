export default {
  id: '0003_loader',
  sql: `
-- One row per /package/upload (a "job"). The loader's checkpoint lives here:
-- byte_offset and rows_loaded are updated in the SAME transaction as the rows
-- of each batch, so a crashed or redelivered queue message resumes exactly
-- where the last committed batch ended (no duplicates, no gaps).
CREATE TABLE load_jobs (
  job_id uuid PRIMARY KEY,
  -- the datapackage URL exactly as given to /package/upload (the status key)
  status_key text NOT NULL,
  userid text NOT NULL,
  -- queued | loading | done | fail | superseded
  state text NOT NULL DEFAULT 'queued',
  package_id text,
  -- set once the descriptor is validated
  descriptor jsonb,
  descriptor_hash text,
  resource_url text,
  data_etag text,
  -- the new table the rows go into, swapped in under target_table at the end
  staging_table text,
  target_table text,
  columns jsonb,
  -- the CSV header row, read at offset 0 and needed to map columns on resume
  csv_header jsonb,
  byte_offset bigint NOT NULL DEFAULT 0,
  rows_loaded bigint NOT NULL DEFAULT 0,
  content_length bigint,
  chunks integer NOT NULL DEFAULT 0,
  error text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX load_jobs_package ON load_jobs (package_id, created_at DESC);
CREATE INDEX load_jobs_key ON load_jobs (status_key, created_at DESC);
`,
};
