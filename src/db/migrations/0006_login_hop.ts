export default {
  id: '0006_login_hop',
  sql: `
-- A pending login is created by /user/check (often an XHR from another site,
-- where browsers refuse to set our cookie) without a browser binding; the
-- first-party hop /oauth/google_login binds it to the login cookie once.
-- Rows with a NULL binding never match the callback.
ALTER TABLE oauth_states ALTER COLUMN binding_hash DROP NOT NULL;
`,
};
