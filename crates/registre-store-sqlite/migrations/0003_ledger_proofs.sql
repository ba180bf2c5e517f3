-- Signed checkpoints of the consent ledger, and per-subscription webhook deliveries.
-- Never edit a migration once it has landed: add one.

-- The chain head at `seq`, signed with the ledger key: `signature` is a compact JWS (EdDSA)
-- whose payload is {"typ", "seq", "head", "signed_at"}; `public_key` is the signer's key
-- (hex), `key_id` its JWK `kid`.
CREATE TABLE ledger_checkpoints (
    id BLOB NOT NULL PRIMARY KEY,
    seq INTEGER NOT NULL,
    head_hash TEXT NOT NULL,
    signed_at TEXT NOT NULL,
    key_id TEXT NOT NULL,
    public_key TEXT NOT NULL,
    signature TEXT NOT NULL
) STRICT;
CREATE INDEX ledger_checkpoints_seq ON ledger_checkpoints (seq, signed_at);

-- One row per outbox message and subscription: each subscription has its own retries.
CREATE TABLE webhook_deliveries (
    outbox_id BLOB NOT NULL,
    subscription_id BLOB NOT NULL,
    event_id BLOB NOT NULL,
    topic TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    next_attempt_at TEXT NOT NULL,
    last_attempt_at TEXT,
    last_status INTEGER,
    last_error TEXT,
    delivered_at TEXT,
    PRIMARY KEY (outbox_id, subscription_id)
) STRICT;
CREATE INDEX webhook_deliveries_subscription ON webhook_deliveries (subscription_id, created_at);
