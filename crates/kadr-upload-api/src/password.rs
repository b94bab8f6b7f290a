//! Password hashing (argon2id, 19 MiB and two passes each) under a concurrency limit: at most
//! `auth.hash_concurrency` hashes at once (default one per core), a short queue behind them,
//! and 503 with `Retry-After` beyond it, so a burst of registrations or logins costs bounded
//! memory and never starves the other requests.

use kadr_core::Code;
use std::sync::OnceLock;
use std::time::Duration;

use actix_web::web;
use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use kadr_http::ApiError;
use tokio::sync::Semaphore;

/// How long a request may wait for a hashing slot.
const WAIT: Duration = Duration::from_secs(5);

struct Limits {
    /// Hashes running.
    running: Semaphore,
    /// Requests hashing or waiting to.
    admitted: Semaphore,
}

static LIMITS: OnceLock<Limits> = OnceLock::new();

/// Sets the limit (once per process; later calls keep the first).
pub fn configure(concurrency: usize) {
    let n = if concurrency == 0 {
        std::thread::available_parallelism().map_or(2, |n| n.get())
    } else {
        concurrency
    };
    let _ = LIMITS.set(Limits {
        running: Semaphore::new(n),
        admitted: Semaphore::new(n * 8),
    });
}

fn limits() -> &'static Limits {
    LIMITS.get_or_init(|| {
        let n = std::thread::available_parallelism().map_or(2, |n| n.get());
        Limits {
            running: Semaphore::new(n),
            admitted: Semaphore::new(n * 8),
        }
    })
}

fn busy() -> ApiError {
    ApiError::new(Code::Busy, "Too many sign-ins and registrations at once")
        .detail("try again in a few seconds")
        .retry_after(2)
}

/// Runs `work` on the blocking pool once a hashing slot is free.
async fn limited<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ApiError> {
    let l = limits();
    let _admitted = l.admitted.try_acquire().map_err(|_| busy())?;
    let _running = tokio::time::timeout(WAIT, l.running.acquire())
        .await
        .map_err(|_| busy())?
        .map_err(|_| busy())?;
    web::block(work).await.map_err(|e| ApiError::internal(&e))
}

/// argon2id with the crate's defaults (19 MiB, 2 passes).
pub async fn hash(password: String) -> Result<String, ApiError> {
    limited(move || {
        let salt_bytes: [u8; 16] = rand::random();
        let salt = SaltString::encode_b64(&salt_bytes).map_err(|e| e.to_string())?;
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| e.to_string())
    })
    .await?
    .map_err(|e| ApiError::internal(&e))
}

/// Whether `password` matches the PHC string `hash`.
pub async fn verify(password: String, hash: String) -> Result<bool, ApiError> {
    limited(move || {
        PasswordHash::new(&hash)
            .map(|parsed| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok()
            })
            .unwrap_or(false)
    })
    .await
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// One hash at a time and eight admitted: the ninth caller is told to come back at once,
    /// and the limit frees as the work ends.
    #[tokio::test]
    async fn the_limiter_admits_a_bounded_queue_and_refuses_the_rest() {
        configure(1);
        let (release, wait) = std::sync::mpsc::channel::<()>();
        let wait = std::sync::Arc::new(std::sync::Mutex::new(wait));
        let mut admitted = Vec::new();
        for _ in 0..8 {
            let wait = wait.clone();
            admitted.push(tokio::spawn(limited(move || {
                let _ = wait.lock().unwrap().recv();
            })));
        }
        // Let the eight take their places.
        tokio::time::sleep(Duration::from_millis(200)).await;
        let refused = limited(|| ()).await.unwrap_err();
        assert_eq!(refused.code, Code::Busy);
        assert_eq!(refused.retry_after, Some(2));
        for _ in 0..8 {
            release.send(()).unwrap();
        }
        for a in admitted {
            a.await.unwrap().unwrap();
        }
        limited(|| ()).await.unwrap();
        let hash = hash("correct horse".to_owned()).await.unwrap();
        assert!(
            verify("correct horse".to_owned(), hash.clone())
                .await
                .unwrap()
        );
        assert!(!verify("wrong".to_owned(), hash).await.unwrap());
        assert!(
            !verify("x".to_owned(), "not a hash".to_owned())
                .await
                .unwrap()
        );
    }
}
