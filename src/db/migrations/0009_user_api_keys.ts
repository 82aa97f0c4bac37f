export default {
  id: '0009_user_api_keys',
  sql: `
-- Named API keys a user creates for automation (src/identity/user-api-keys.ts).
-- Only the SHA-256 of a key is stored; the key itself is shown once. A
-- revoked key's row is deleted, so it stops working at once; a deleted user
-- takes their keys along.
CREATE TABLE user_api_keys (
  id uuid PRIMARY KEY,
  userid text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  name text NOT NULL,
  key_hash text NOT NULL UNIQUE,
  created_at timestamptz NOT NULL DEFAULT now(),
  last_used_at timestamptz,
  expires_at timestamptz
);
CREATE UNIQUE INDEX user_api_keys_name ON user_api_keys (userid, lower(name));
`,
};
