export default {
  id: '0007_load_dialect',
  sql: `
-- The CSV dialect a load uses (declared keys plus what was detected from the
-- file's first lines), fixed by the first chunk so every resumed chunk parses
-- the file the same way. NULL for jobs started before detection existed.
ALTER TABLE load_jobs ADD COLUMN IF NOT EXISTS dialect jsonb;
`,
};
