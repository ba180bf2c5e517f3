-- Signed checkpoints of the consent ledger, and per-subscription webhook deliveries.
-- Never edit a migration once it has landed: add one.

-- The chain head at `seq`, signed with the ledger key: `signature` is a compact JWS (EdDSA)
-- whose payload is {"typ", "seq", "head", "signed_at"}; `public_key` is the signer's key
-- (hex), `key_id` its JWK `kid`.
CREATE TABLE ledger_checkpoints (
    id UUID NOT NULL PRIMARY KEY,
    seq BIGINT NOT NULL,
    head_hash TEXT NOT NULL,
    signed_at TIMESTAMPTZ NOT NULL,
    key_id TEXT NOT NULL,
    public_key TEXT NOT NULL,
    signature TEXT NOT NULL
);
CREATE INDEX ledger_checkpoints_seq ON ledger_checkpoints (seq, signed_at);

-- One row per outbox message and subscription: each subscription has its own retries.
CREATE TABLE webhook_deliveries (
    outbox_id UUID NOT NULL,
    subscription_id UUID NOT NULL,
    event_id UUID NOT NULL,
    topic TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    created_at TIMESTAMPTZ NOT NULL,
    next_attempt_at TIMESTAMPTZ NOT NULL,
    last_attempt_at TIMESTAMPTZ,
    last_status INTEGER,
    last_error TEXT,
    delivered_at TIMESTAMPTZ,
    PRIMARY KEY (outbox_id, subscription_id)
);
CREATE INDEX webhook_deliveries_subscription ON webhook_deliveries (subscription_id, created_at);
