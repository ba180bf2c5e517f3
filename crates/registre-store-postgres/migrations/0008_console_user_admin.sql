-- Console users an administrator disabled (H5: user administration). A disabled user cannot
-- sign in and has no session; NULL for an active one.
ALTER TABLE users ADD COLUMN disabled_at TIMESTAMPTZ;
