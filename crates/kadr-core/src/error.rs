//! What the domain's operations fail with: a refusal the caller can act on (a stable
//! [`Code`], words for people, the field at fault), or a failure of ours.

use crate::codes::Code;

pub use sea_orm::DbErr;

/// Whether a database error means the database did not answer in time (no connection, a
/// statement past its timeout): the caller may try again, unlike an error in what was asked.
pub fn db_unavailable(e: &DbErr) -> bool {
    use sea_orm::RuntimeErr;
    use sea_orm::sqlx::Error as Sqlx;
    let runtime = match e {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => return true,
        DbErr::Query(r) | DbErr::Exec(r) => r,
        _ => return false,
    };
    match runtime {
        RuntimeErr::SqlxError(err) => match err.as_ref() {
            Sqlx::Io(_) | Sqlx::PoolTimedOut | Sqlx::PoolClosed | Sqlx::WorkerCrashed => true,
            // SQLSTATE class 08 (connection exception), 57014 (cancelled: the statement
            // timeout), 57P01-57P03 (the server shutting down or not accepting connections).
            Sqlx::Database(db) => db
                .code()
                .is_some_and(|c| c.starts_with("08") || c == "57014" || c.starts_with("57P0")),
            _ => false,
        },
        _ => false,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_database_that_does_not_answer_is_unavailable() {
        assert!(db_unavailable(&DbErr::Conn(sea_orm::RuntimeErr::Internal(
            "refused".into()
        ))));
        // Words in a message do not make it so.
        assert!(!db_unavailable(&DbErr::Query(
            sea_orm::RuntimeErr::Internal("connection timed out".into())
        )));
        assert!(!db_unavailable(&DbErr::Custom("statement timeout".into())));
        assert!(db_unavailable(&DbErr::Query(
            sea_orm::RuntimeErr::SqlxError(std::sync::Arc::new(sea_orm::sqlx::Error::PoolTimedOut))
        )));
    }
}
