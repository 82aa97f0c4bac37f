export default {
  id: '0001_identity',
  sql: `
-- Users, keyed by idhash = md5(lower-cased e-mail), the id every client uses.
CREATE TABLE users (
  id text PRIMARY KEY,
  provider_id text,
  name text,
  email text,
  avatar_url text,
  username text,
  join_date timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_username_lower ON users (lower(username)) WHERE username IS NOT NULL;

-- Per-service permissions; userid '*' applies to everyone and is merged first.
CREATE TABLE permissions (
  userid text NOT NULL,
  service text NOT NULL,
  permissions jsonb NOT NULL DEFAULT '{}'::jsonb,
  PRIMARY KEY (userid, service)
);

-- Pending OIDC logins: state is single-use and bound to a browser cookie.
CREATE TABLE oauth_states (
  state_hash text PRIMARY KEY,
  binding_hash text NOT NULL,
  code_verifier text NOT NULL,
  nonce text NOT NULL,
  next_url text,
  provider text NOT NULL,
  expires_at timestamptz NOT NULL
);
CREATE INDEX oauth_states_expires ON oauth_states (expires_at);
`,
};
