/// Why a domain operation was refused. The HTTP layer maps each to a status code.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DomainError {
    /// 400: the named field is wrong.
    #[error("{0}")]
    Invalid(String),
    /// 403: a limit was reached or the operation is not allowed.
    #[error("{0}")]
    Forbidden(String),
    /// 404: the thing does not exist (or belongs to another organization).
    #[error("{0}")]
    NotFound(String),
    /// 409: a unique name is taken.
    #[error("{0}")]
    Conflict(String),
    /// 412: the resource is not in a state that allows this.
    #[error("{0}")]
    PreconditionFailed(String),
}
