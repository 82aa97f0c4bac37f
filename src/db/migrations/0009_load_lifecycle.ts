export default {
  id: '0009_load_lifecycle',
  sql: `
-- The normalised form of the upload URL (src/durable/status-keys.ts): two
-- spellings of one upload are one package's load, and the newer supersedes
-- the older.
ALTER TABLE load_jobs ADD COLUMN url_key text;
CREATE INDEX load_jobs_url_key ON load_jobs (url_key) WHERE state IN ('queued', 'loading');
-- The load plan (validated package, column names, babbage model, caster
-- settings, CSV dialect), computed once by the job's first message and read
-- by every later one (src/jobs/plan.ts).
ALTER TABLE load_jobs ADD COLUMN plan jsonb;
`,
};
