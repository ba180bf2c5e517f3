-- Evidence files behind processors' due-diligence answers, sealed with the system key.
CREATE TABLE evidence_files (
    id UUID NOT NULL PRIMARY KEY,
    processor_id UUID NOT NULL,
    name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    sealed BYTEA NOT NULL,
    uploaded_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX evidence_files_processor ON evidence_files (processor_id, uploaded_at);

