-- Nothing to change here: the SQLite store's 0007 moves its blind index out of the sign-up
-- path (merged in the background); PostgreSQL keeps its unique index on subjects, which
-- several servers need to agree on. The number is kept so both stores stay in step.
SELECT 1;
