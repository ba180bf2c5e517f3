-- Registre foundation schema (SQLite). Never edit a migration once it has landed: add one.

-- Configuration registers as validated JSON documents.
CREATE TABLE documents (
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    CONSTRAINT documents_pkey PRIMARY KEY (kind, key)
) STRICT;

-- Every published notice version, forever.
CREATE TABLE notices (
    version TEXT NOT NULL CONSTRAINT notices_pkey PRIMARY KEY,
    touchpoint TEXT NOT NULL,
    content TEXT NOT NULL,
    published_at TEXT NOT NULL
) STRICT;
CREATE INDEX notices_touchpoint ON notices (touchpoint, published_at);

-- Heads of the hash chains (audit log, ledger): the row is the lock that orders appends.
CREATE TABLE chain_heads (
    chain TEXT NOT NULL PRIMARY KEY,
    seq INTEGER NOT NULL,
    hash TEXT NOT NULL
) STRICT;
INSERT INTO chain_heads (chain, seq, hash) VALUES
    ('audit', 0, '0000000000000000000000000000000000000000000000000000000000000000'),
    ('ledger', 0, '0000000000000000000000000000000000000000000000000000000000000000');

CREATE TABLE audit_log (
    seq INTEGER NOT NULL PRIMARY KEY,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    details TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
) STRICT;

CREATE TABLE api_keys (
    id BLOB NOT NULL PRIMARY KEY,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    key_hash TEXT NOT NULL CONSTRAINT api_keys_key_hash_key UNIQUE,
    prefix TEXT NOT NULL,
    created_at TEXT NOT NULL,
    revoked_at TEXT
) STRICT;

CREATE TABLE users (
    id BLOB NOT NULL PRIMARY KEY,
    email TEXT NOT NULL CONSTRAINT users_email_key UNIQUE,
    role TEXT NOT NULL,
    password_hash TEXT,
    language TEXT NOT NULL,
    created_at TEXT NOT NULL
) STRICT;

-- Data subjects: nothing in clear; the wrapped key is the only way to their data.
CREATE TABLE subjects (
    id BLOB NOT NULL PRIMARY KEY,
    blind_index BLOB NOT NULL CONSTRAINT subjects_blind_index_key UNIQUE,
    wrapped_key BLOB NOT NULL,
    email_sealed BLOB NOT NULL,
    external_id_index BLOB CONSTRAINT subjects_external_id_index_key UNIQUE,
    external_id_sealed BLOB,
    restricted INTEGER NOT NULL DEFAULT 0,
    objected_to_marketing INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL
) STRICT;

-- Blind indexes of erased people: the check answers "erased", an import cannot revive them.
CREATE TABLE suppressions (
    blind_index BLOB NOT NULL PRIMARY KEY,
    erased_at TEXT NOT NULL
) STRICT;

CREATE TABLE submissions (
    id BLOB NOT NULL PRIMARY KEY,
    subject_id BLOB NOT NULL REFERENCES subjects (id) ON DELETE CASCADE,
    touchpoint TEXT NOT NULL,
    notice_version TEXT NOT NULL,
    fields_sealed BLOB NOT NULL,
    received_at TEXT NOT NULL
) STRICT;
CREATE INDEX submissions_subject ON submissions (subject_id);

-- The consent ledger: append-only, hash-chained, pseudonymous.
CREATE TABLE consent_events (
    seq INTEGER NOT NULL PRIMARY KEY,
    event_id BLOB NOT NULL CONSTRAINT consent_events_event_id_key UNIQUE,
    recorded_at TEXT NOT NULL,
    occurred_at TEXT NOT NULL,
    subject_id BLOB NOT NULL,
    purpose TEXT,
    action TEXT NOT NULL,
    source TEXT NOT NULL,
    touchpoint TEXT,
    notice_version TEXT,
    provenance TEXT,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
) STRICT;
CREATE INDEX consent_events_subject ON consent_events (subject_id, seq);

-- Current state per subject and purpose, derived from the ledger in the same transaction.
CREATE TABLE consent_states (
    subject_id BLOB NOT NULL REFERENCES subjects (id) ON DELETE CASCADE,
    purpose TEXT NOT NULL,
    state TEXT NOT NULL,
    since TEXT NOT NULL,
    last_seq INTEGER NOT NULL,
    PRIMARY KEY (subject_id, purpose)
) STRICT, WITHOUT ROWID;

-- Messages to deliver (webhooks, mail), written with the change that caused them.
CREATE TABLE outbox (
    id BLOB NOT NULL PRIMARY KEY,
    channel TEXT NOT NULL,
    topic TEXT NOT NULL,
    subject_id BLOB,
    payload BLOB NOT NULL,
    created_at TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    delivered_at TEXT,
    dead_at TEXT,
    last_error TEXT
) STRICT;
CREATE INDEX outbox_pending ON outbox (next_attempt_at) WHERE delivered_at IS NULL AND dead_at IS NULL;
