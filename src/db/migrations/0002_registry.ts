export default {
  id: '0002_registry',
  sql: `
-- The package registry: one row per package id '<owner>:<name>'. doc holds the
-- os-package-registry document (id, model, package, origin_url, dataset,
-- author, loading_status, loaded, last_update); the columns beside it are
-- copies kept for filtering and visibility.
CREATE TABLE packages (
  id text PRIMARY KEY,
  owner text NOT NULL,
  doc jsonb NOT NULL,
  private boolean NOT NULL DEFAULT false,
  loaded boolean NOT NULL DEFAULT false,
  last_update double precision NOT NULL DEFAULT extract(epoch FROM now()),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX packages_owner ON packages (owner);
`,
};
