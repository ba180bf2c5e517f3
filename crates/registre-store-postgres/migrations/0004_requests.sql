-- Rights requests (Art. 12-22) and certificates of erasure.
-- What names or describes the person is sealed in `sealed`; an erasure empties it.
CREATE TABLE requests (
    id UUID NOT NULL PRIMARY KEY,
    request_type TEXT NOT NULL,
    status TEXT NOT NULL,
    channel TEXT NOT NULL,
    subject_id UUID,
    blind_index BYTEA,
    sealed BYTEA,
    language TEXT NOT NULL,
    identity_verified BOOLEAN NOT NULL,
    received_at TIMESTAMPTZ NOT NULL,
    due_at TIMESTAMPTZ NOT NULL,
    extended_at TIMESTAMPTZ,
    verified_at TIMESTAMPTZ,
    closed_at TIMESTAMPTZ,
    due_soon_notified_at TIMESTAMPTZ,
    restriction_lifted_at TIMESTAMPTZ,
    certificate_id UUID,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX requests_due ON requests (due_at, id);
CREATE INDEX requests_status_due ON requests (status, due_at, id);
CREATE INDEX requests_blind_index ON requests (blind_index) WHERE blind_index IS NOT NULL;

-- What was erased and when, never who.
CREATE TABLE erasure_certificates (
    id UUID NOT NULL PRIMARY KEY,
    erased_at TIMESTAMPTZ NOT NULL,
    body JSONB NOT NULL
);
