use registre_domain::DomainError;
use registre_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Domain(#[from] DomainError),
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("authentication required")]
    Unauthorized,
    #[error("this action needs the {0} permission")]
    Forbidden(&'static str),
    #[error("{0} not found")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("too many requests")]
    RateLimited,
    /// An upload over its size limit.
    #[error("{0}")]
    TooLarge(String),
    #[error("cryptographic failure: {0}")]
    Crypto(#[from] registre_crypto::CryptoError),
    /// A failure of this server that no caller can fix (serialisation, a file it keeps).
    #[error("internal error: {0}")]
    Internal(String),
}

impl AppError {
    pub fn not_found(what: impl Into<String>) -> Self {
        Self::NotFound(what.into())
    }

    /// A failure of this server (mail, serialisation...): a 500 at the edge, with the
    /// message logged and never sent to the caller.
    pub fn internal(message: impl std::fmt::Display) -> Self {
        Self::Internal(message.to_string())
    }
}
