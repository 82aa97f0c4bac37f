export default {
  id: '0010_load_history',
  sql: `
-- Every load of a package is kept as its history (src/jobs/history.ts), the
-- newest OS_LOADER_HISTORY_KEEP per package (pruned as a job ends).
-- report: the validation of a load that met bad data (rows read, errors up
-- to OS_LOADER_MAX_ERRORS, values truncated); it is the checkpoint of such
-- a load, moved with byte_offset (src/jobs/lifecycle.ts saveValidation).
ALTER TABLE load_jobs ADD COLUMN IF NOT EXISTS report jsonb;
-- When the job ended (the history's "finished"; updated_at may move later).
ALTER TABLE load_jobs ADD COLUMN IF NOT EXISTS finished_at timestamptz;
UPDATE load_jobs SET finished_at = updated_at WHERE finished_at IS NULL AND state IN ('done', 'fail', 'superseded');
`,
};
