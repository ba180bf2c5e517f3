-- Nonces of single-use links already spent (sign-in, confirmation, questionnaire).
CREATE TABLE spent_tokens (
    nonce TEXT NOT NULL PRIMARY KEY,
    expires_at TEXT NOT NULL
) STRICT;
CREATE INDEX spent_tokens_expiry ON spent_tokens (expires_at);
