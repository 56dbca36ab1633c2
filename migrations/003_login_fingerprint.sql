-- A link is bound to the login it was made with (SPEC §4): `login_fp` is a
-- keyed fingerprint (HMAC-SHA-256 under `identity.key`, hex) of that login's
-- account identity (the API key, or the OAuth coordinator URL and e-mail),
-- never the secret itself. `reason` says why a `rotated` row (or the
-- `created` row after `usage purge --all`) happened: logout,
-- credentials_removed, credentials_changed, purge.
ALTER TABLE identity ADD COLUMN login_fp TEXT;
ALTER TABLE identity ADD COLUMN reason TEXT;
-- The fingerprint key: random, per journal, never leaves it.
INSERT OR IGNORE INTO settings (key, value) VALUES ('identity.key', lower(hex(randomblob(32))));
