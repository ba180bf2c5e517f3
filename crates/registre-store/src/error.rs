/// What went wrong in storage, in terms the layers above can act on.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// A unique or foreign-key constraint refused the write; `constraint` names it, so the
    /// edge maps it to a 409 in one place.
    #[error("conflict on {constraint}")]
    Conflict { constraint: String },
    /// Worth trying again (serialization failure, busy database, lost connection).
    #[error("temporary storage failure: {0}")]
    Retryable(String),
    /// Stored data that does not decode: corruption or a bug, never the caller's fault.
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("storage failure: {0}")]
    Other(String),
}
