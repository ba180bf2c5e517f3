-- Rights requests (Art. 12-22) and certificates of erasure.
-- What names or describes the person is sealed in `sealed`; an erasure empties it.
CREATE TABLE requests (
    id BLOB NOT NULL PRIMARY KEY,
    request_type TEXT NOT NULL,
    status TEXT NOT NULL,
    channel TEXT NOT NULL,
    subject_id BLOB,
    blind_index BLOB,
    sealed BLOB,
    language TEXT NOT NULL,
    identity_verified INTEGER NOT NULL,
    received_at TEXT NOT NULL,
    due_at TEXT NOT NULL,
    -- due_at in microseconds since the epoch: the order of the register and of reminders.
    due_micros INTEGER NOT NULL,
    extended_at TEXT,
    verified_at TEXT,
    closed_at TEXT,
    due_soon_notified_at TEXT,
    restriction_lifted_at TEXT,
    certificate_id BLOB,
    updated_at TEXT NOT NULL
) STRICT;
CREATE INDEX requests_due ON requests (due_micros, id);
CREATE INDEX requests_status_due ON requests (status, due_micros, id);
CREATE INDEX requests_blind_index ON requests (blind_index) WHERE blind_index IS NOT NULL;

-- What was erased and when, never who.
CREATE TABLE erasure_certificates (
    id BLOB NOT NULL PRIMARY KEY,
    erased_at TEXT NOT NULL,
    body TEXT NOT NULL
) STRICT;
