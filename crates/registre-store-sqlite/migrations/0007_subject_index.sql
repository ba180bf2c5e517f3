-- no-transaction
-- People are found by their blind index through `subject_index`, which new people join in
-- sorted batches in the background (src/subject_index.rs) rather than one random B-tree
-- page each at sign-up: at a million people that page was most of what a grant wrote.
-- Until then the store keeps them in memory, rebuilt at start from the subjects numbered
-- past `subject_index_merged.through_seq`.
--
-- `subjects` loses its UNIQUE blind index and gains `seq`, the order people were created
-- in (AUTOINCREMENT: never reused, so that a number at or below the mark always means
-- "merged"). Rebuilding a table that others reference needs foreign keys off, which only
-- works outside a transaction, hence the explicit one. Every step can run again on a
-- database where it already ran, should the process stop between this script's COMMIT and
-- the migration's record.
PRAGMA foreign_keys = OFF;
BEGIN IMMEDIATE;

CREATE TABLE subjects_rebuilt (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id BLOB NOT NULL CONSTRAINT subjects_id_key UNIQUE,
    blind_index BLOB NOT NULL,
    wrapped_key BLOB NOT NULL,
    email_sealed BLOB NOT NULL,
    external_id_index BLOB CONSTRAINT subjects_external_id_index_key UNIQUE,
    external_id_sealed BLOB,
    restricted INTEGER NOT NULL DEFAULT 0,
    objected_to_marketing INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL
) STRICT;
INSERT INTO subjects_rebuilt (id, blind_index, wrapped_key, email_sealed, external_id_index, external_id_sealed, restricted, objected_to_marketing, created_at)
    SELECT id, blind_index, wrapped_key, email_sealed, external_id_index, external_id_sealed, restricted, objected_to_marketing, created_at
    FROM subjects ORDER BY created_at, id;
DROP TABLE subjects;
ALTER TABLE subjects_rebuilt RENAME TO subjects;

CREATE TABLE IF NOT EXISTS subject_index (
    blind_index BLOB NOT NULL PRIMARY KEY,
    subject_id BLOB NOT NULL
) STRICT, WITHOUT ROWID;
DELETE FROM subject_index;
INSERT INTO subject_index (blind_index, subject_id)
    SELECT blind_index, id FROM subjects WHERE true ORDER BY blind_index;

-- Every subject numbered up to `through_seq` is in `subject_index`.
CREATE TABLE IF NOT EXISTS subject_index_merged (
    id INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    through_seq INTEGER NOT NULL
) STRICT;
INSERT INTO subject_index_merged (id, through_seq)
    VALUES (1, (SELECT COALESCE(MAX(seq), 0) FROM subjects))
    ON CONFLICT (id) DO UPDATE SET through_seq = excluded.through_seq;

COMMIT;
PRAGMA foreign_keys = ON;
