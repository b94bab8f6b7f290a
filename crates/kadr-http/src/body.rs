//! Request bodies paced against slow clients: a body that sends nothing for
//! `server.body_idle_timeout_secs`, or that after that long averages less than
//! `server.body_min_bytes_per_sec`, ends with a timeout error. A client trickling a byte a
//! minute cannot hold an upload slot (and its lease, buffers and connection) for hours.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use actix_web::error::PayloadError;
use bytes::Bytes;
use futures::Stream;
use tokio::time::{Instant, Sleep};

/// What a body must keep up.
#[derive(Debug, Clone, Copy)]
pub struct Pace {
    pub idle: Duration,
    pub min_bytes_per_sec: u64,
}

impl Pace {
    pub fn of(config: &kadr_config::ServerConfig) -> Pace {
        Pace {
            idle: Duration::from_secs(config.body_idle_timeout_secs.max(1)),
            min_bytes_per_sec: config.body_min_bytes_per_sec,
        }
    }
}

/// A body stream held to a [`Pace`].
pub struct Paced<S> {
    inner: S,
    pace: Pace,
    started: Instant,
    bytes: u64,
    idle: Pin<Box<Sleep>>,
    done: bool,
}

/// Wraps `inner`.
pub fn paced<S>(inner: S, pace: Pace) -> Paced<S> {
    Paced {
        inner,
        pace,
        started: Instant::now(),
        bytes: 0,
        idle: Box::pin(tokio::time::sleep(pace.idle)),
        done: false,
    }
}

/// The words of the two errors, which upload handlers answer with 408.
pub const STALLED: &str = "the request body stalled";
pub const TOO_SLOW: &str = "the request body is too slow";

/// Whether an error's text is one of this module's.
pub fn is_pace_error(message: &str) -> bool {
    message.contains(STALLED) || message.contains(TOO_SLOW)
}

fn timed_out(what: &str) -> PayloadError {
    PayloadError::Io(std::io::Error::new(
        std::io::ErrorKind::TimedOut,
        what.to_owned(),
    ))
}

impl<S> Stream for Paced<S>
where
    S: Stream<Item = Result<Bytes, PayloadError>> + Unpin,
{
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.done {
            return Poll::Ready(None);
        }
        match Pin::new(&mut self.inner).poll_next(cx) {
            Poll::Ready(Some(Ok(chunk))) => {
                self.bytes += chunk.len() as u64;
                let now = Instant::now();
                let idle = self.pace.idle;
                self.idle.as_mut().reset(now + idle);
                let elapsed = now.duration_since(self.started);
                if elapsed > idle
                    && (self.bytes as f64)
                        < self.pace.min_bytes_per_sec as f64 * elapsed.as_secs_f64()
                {
                    self.done = true;
                    return Poll::Ready(Some(Err(timed_out(TOO_SLOW))));
                }
                Poll::Ready(Some(Ok(chunk)))
            }
            Poll::Ready(other) => Poll::Ready(other),
            Poll::Pending => match self.idle.as_mut().poll(cx) {
                Poll::Ready(()) => {
                    self.done = true;
                    Poll::Ready(Some(Err(timed_out(STALLED))))
                }
                Poll::Pending => Poll::Pending,
            },
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use futures::StreamExt;

    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_stalled_body_ends_with_a_timeout() {
        let pace = Pace {
            idle: Duration::from_secs(5),
            min_bytes_per_sec: 0,
        };
        let stalled = futures::stream::iter([Ok(Bytes::from_static(b"abc"))])
            .chain(futures::stream::pending());
        let mut body = paced(Box::pin(stalled), pace);
        assert_eq!(
            body.next().await.unwrap().unwrap(),
            Bytes::from_static(b"abc")
        );
        let err = body.next().await.unwrap().unwrap_err();
        assert!(err.to_string().contains("stalled"), "{err}");
        assert!(body.next().await.is_none());
    }

    #[tokio::test(start_paused = true)]
    async fn a_trickle_below_the_minimum_rate_is_cut_off() {
        let pace = Pace {
            idle: Duration::from_secs(5),
            min_bytes_per_sec: 100,
        };
        // A byte every two seconds: never idle for 5 s, far below 100 bytes/s.
        let trickle = futures::stream::unfold(0u32, |n| async move {
            tokio::time::sleep(Duration::from_secs(2)).await;
            Some((Ok(Bytes::from_static(b"x")), n + 1))
        });
        let mut body = paced(Box::pin(trickle), pace);
        let mut got = 0;
        loop {
            match body.next().await.unwrap() {
                Ok(_) => got += 1,
                Err(e) => {
                    assert!(e.to_string().contains("too slow"), "{e}");
                    break;
                }
            }
        }
        assert!(got <= 3, "{got} bytes passed");
    }
}
