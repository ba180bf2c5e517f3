-- The admin console: server-side sessions, persisted sign-in lockout, each user's time zone.

-- A session is known by the SHA-256 of its cookie: the cookie alone opens it, a copy of the
-- database does not. Signing out deletes the row.
CREATE TABLE console_sessions (
    id_hash TEXT NOT NULL PRIMARY KEY,
    user_id BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
) STRICT;
CREATE INDEX console_sessions_user ON console_sessions (user_id);

-- Failed sign-ins per account (SHA-256 of the lower-cased email, known user or not).
CREATE TABLE sign_in_failures (
    account TEXT NOT NULL PRIMARY KEY,
    failures INTEGER NOT NULL,
    last_failure_at TEXT NOT NULL,
    locked_until TEXT
) STRICT;

ALTER TABLE users ADD COLUMN time_zone TEXT NOT NULL DEFAULT 'Europe/Paris';

-- The dashboard's figures read the ledger by time.
CREATE INDEX consent_events_recorded ON consent_events (recorded_at);
CREATE INDEX submissions_received ON submissions (received_at);
