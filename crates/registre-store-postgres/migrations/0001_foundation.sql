-- Registre foundation schema (PostgreSQL). Never edit a migration once it has landed: add one.

CREATE TABLE documents (
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    body JSONB NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    CONSTRAINT documents_pkey PRIMARY KEY (kind, key)
);

CREATE TABLE notices (
    version TEXT NOT NULL CONSTRAINT notices_pkey PRIMARY KEY,
    touchpoint TEXT NOT NULL,
    content TEXT NOT NULL,
    published_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX notices_touchpoint ON notices (touchpoint, published_at);

CREATE TABLE chain_heads (
    chain TEXT NOT NULL PRIMARY KEY,
    seq BIGINT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO chain_heads (chain, seq, hash) VALUES
    ('audit', 0, '0000000000000000000000000000000000000000000000000000000000000000'),
    ('ledger', 0, '0000000000000000000000000000000000000000000000000000000000000000');

CREATE TABLE audit_log (
    seq BIGINT NOT NULL PRIMARY KEY,
    at TIMESTAMPTZ NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    details TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);

CREATE TABLE api_keys (
    id UUID NOT NULL PRIMARY KEY,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    key_hash TEXT NOT NULL CONSTRAINT api_keys_key_hash_key UNIQUE,
    prefix TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    revoked_at TIMESTAMPTZ
);

CREATE TABLE users (
    id UUID NOT NULL PRIMARY KEY,
    email TEXT NOT NULL CONSTRAINT users_email_key UNIQUE,
    role TEXT NOT NULL,
    password_hash TEXT,
    language TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE subjects (
    id UUID NOT NULL PRIMARY KEY,
    blind_index BYTEA NOT NULL CONSTRAINT subjects_blind_index_key UNIQUE,
    wrapped_key BYTEA NOT NULL,
    email_sealed BYTEA NOT NULL,
    external_id_index BYTEA CONSTRAINT subjects_external_id_index_key UNIQUE,
    external_id_sealed BYTEA,
    restricted BOOLEAN NOT NULL DEFAULT FALSE,
    objected_to_marketing BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE suppressions (
    blind_index BYTEA NOT NULL PRIMARY KEY,
    erased_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE submissions (
    id UUID NOT NULL PRIMARY KEY,
    subject_id UUID NOT NULL REFERENCES subjects (id) ON DELETE CASCADE,
    touchpoint TEXT NOT NULL,
    notice_version TEXT NOT NULL,
    fields_sealed BYTEA NOT NULL,
    received_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX submissions_subject ON submissions (subject_id);

CREATE TABLE consent_events (
    seq BIGINT NOT NULL PRIMARY KEY,
    event_id UUID NOT NULL CONSTRAINT consent_events_event_id_key UNIQUE,
    recorded_at TIMESTAMPTZ NOT NULL,
    occurred_at TIMESTAMPTZ NOT NULL,
    subject_id UUID NOT NULL,
    purpose TEXT,
    action TEXT NOT NULL,
    source TEXT NOT NULL,
    touchpoint TEXT,
    notice_version TEXT,
    provenance TEXT,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX consent_events_subject ON consent_events (subject_id, seq);

CREATE TABLE consent_states (
    subject_id UUID NOT NULL REFERENCES subjects (id) ON DELETE CASCADE,
    purpose TEXT NOT NULL,
    state TEXT NOT NULL,
    since TIMESTAMPTZ NOT NULL,
    last_seq BIGINT NOT NULL,
    PRIMARY KEY (subject_id, purpose)
);

CREATE TABLE outbox (
    id UUID NOT NULL PRIMARY KEY,
    channel TEXT NOT NULL,
    topic TEXT NOT NULL,
    subject_id UUID,
    payload BYTEA NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMPTZ NOT NULL,
    delivered_at TIMESTAMPTZ,
    dead_at TIMESTAMPTZ,
    last_error TEXT
);
CREATE INDEX outbox_pending ON outbox (next_attempt_at) WHERE delivered_at IS NULL AND dead_at IS NULL;
