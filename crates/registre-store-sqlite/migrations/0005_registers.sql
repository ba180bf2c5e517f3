-- Evidence files behind processors' due-diligence answers, sealed with the system key.
CREATE TABLE evidence_files (
    id BLOB NOT NULL PRIMARY KEY,
    processor_id BLOB NOT NULL,
    name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    sealed BLOB NOT NULL,
    uploaded_at TEXT NOT NULL
) STRICT;
CREATE INDEX evidence_files_processor ON evidence_files (processor_id, uploaded_at);

