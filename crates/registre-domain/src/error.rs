/// What can be wrong with data coming in, named so that the edge can map it to a status.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    /// A field's value is not acceptable; `field` is a JSON-pointer-like path.
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    /// A rule of the domain forbids the operation in the current state.
    #[error("{0}")]
    Rule(String),
}

impl DomainError {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }
}
