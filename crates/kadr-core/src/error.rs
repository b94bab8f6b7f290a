//! What the domain's operations fail with: a refusal the caller can act on (a stable
//! [`Code`], words for people, the field at fault), or a failure of ours.

use crate::codes::Code;

pub use sea_orm::DbErr;

/// Whether a database error means the database did not answer in time (no connection, a
/// statement past its timeout): the caller may try again, unlike an error in what was asked.
pub fn db_unavailable(e: &DbErr) -> bool {
    match e {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => true,
        other => {
            let m = other.to_string();
            m.contains("statement timeout")
                || m.contains("canceling statement")
                || m.contains("connection")
                || m.contains("timed out")
        }
    }
}

/// A refusal: the caller's request cannot be done as asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub code: Code,
    pub title: String,
    pub detail: Option<String>,
    pub field: Option<String>,
    /// Seconds to wait before trying again, for refusals that pass.
    pub retry_after: Option<u64>,
}

#[derive(Debug, thiserror::Error)]
pub enum DomainError {
    #[error("{}: {}", .0.code, .0.title)]
    Refused(Box<Refusal>),
    /// Nothing the caller may see under this id.
    #[error("not found")]
    NotFound,
    #[error("database: {0}")]
    Db(#[from] sea_orm::DbErr),
    /// A failure of ours that is none of the above (logged, answered without internals).
    #[error("{0}")]
    Internal(String),
}

impl DomainError {
    pub fn refused(code: Code, title: impl Into<String>) -> DomainError {
        DomainError::Refused(Box::new(Refusal {
            code,
            title: title.into(),
            detail: None,
            field: None,
            retry_after: None,
        }))
    }

    /// An invalid field value.
    pub fn invalid(field: &str, title: impl Into<String>) -> DomainError {
        DomainError::refused(Code::InvalidField, title).field(field)
    }

    pub fn field(mut self, field: impl Into<String>) -> DomainError {
        if let DomainError::Refused(r) = &mut self {
            r.field = Some(field.into());
        }
        self
    }

    pub fn detail(mut self, detail: impl Into<String>) -> DomainError {
        if let DomainError::Refused(r) = &mut self {
            r.detail = Some(detail.into());
        }
        self
    }

    pub fn retry_after(mut self, secs: u64) -> DomainError {
        if let DomainError::Refused(r) = &mut self {
            r.retry_after = Some(secs);
        }
        self
    }

    /// The code of a refusal.
    pub fn code(&self) -> Option<Code> {
        match self {
            DomainError::Refused(r) => Some(r.code),
            DomainError::NotFound => Some(Code::NotFound),
            _ => None,
        }
    }
}

pub type Result<T, E = DomainError> = std::result::Result<T, E>;
