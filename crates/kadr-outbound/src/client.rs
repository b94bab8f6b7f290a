//! The guarded client: name resolution that refuses blocked addresses, and redirects followed
//! one checked hop at a time.

use std::error::Error as StdError;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::future::BoxFuture;
use reqwest::StatusCode;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::header::{self, HeaderMap};
use url::Url;

use crate::policy::{Policy, Refused, check_url};

/// A request that did not produce a response.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The guard refused the URL, an address it resolved to, or a redirect.
    #[error(transparent)]
    Refused(#[from] Refused),
    /// Connecting, or the whole request of a POST, took longer than allowed.
    #[error("timed out")]
    Timeout,
    /// No connection could be opened.
    #[error("could not connect: {0}")]
    Connect(String),
    /// Any other transport failure.
    #[error("{0}")]
    Http(String),
}

impl Error {
    /// The refusal, when the guard refused.
    pub fn refused(&self) -> Option<&Refused> {
        match self {
            Error::Refused(r) => Some(r),
            _ => None,
        }
    }

    fn from_reqwest(e: reqwest::Error) -> Error {
        // A refusal raised by the resolver travels up inside hyper's and reqwest's errors.
        let mut source: Option<&(dyn StdError + 'static)> = Some(&e);
        while let Some(err) = source {
            if let Some(refused) = err.downcast_ref::<Refused>() {
                return Error::Refused(refused.clone());
            }
            source = err.source();
        }
        if e.is_timeout() {
            Error::Timeout
        } else if e.is_connect() {
            Error::Connect(describe(&e))
        } else {
            Error::Http(describe(&e))
        }
    }
}

/// The causes of a reqwest error, innermost last, without the URL (the caller knows it).
fn describe(e: &reqwest::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut source = e.source();
    while let Some(err) = source {
        let text = err.to_string();
        if parts.last() != Some(&text) {
            parts.push(text);
        }
        source = err.source();
    }
    if parts.is_empty() {
        parts.push(e.to_string());
    }
    parts.join(": ")
}

/// A name resolver: the system's ([`SystemResolver`]) unless tests or callers give their own.
pub trait Resolver: Send + Sync + 'static {
    /// The addresses of `host`. The guard calls it with port 0 and connects to the URL's port
    /// whatever port comes back.
    fn resolve(&self, host: &str, port: u16) -> BoxFuture<'static, io::Result<Vec<SocketAddr>>>;
}

/// The system's resolver (`getaddrinfo` through [`tokio::net::lookup_host`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemResolver;

impl Resolver for SystemResolver {
    fn resolve(&self, host: &str, port: u16) -> BoxFuture<'static, io::Result<Vec<SocketAddr>>> {
        let host = host.to_owned();
        Box::pin(async move {
            Ok(tokio::net::lookup_host((host.as_str(), port))
                .await?
                .collect())
        })
    }
}

/// reqwest's resolver: resolves with the [`Resolver`], refuses the name when any address is
/// blocked, and hands hyper exactly the addresses it checked.
struct Guard {
    policy: Arc<Policy>,
    resolver: Arc<dyn Resolver>,
}

impl Resolve for Guard {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_owned();
        let policy = Arc::clone(&self.policy);
        let lookup = self.resolver.resolve(&host, 0);
        Box::pin(async move {
            let resolved = match lookup.await {
                Ok(addrs) => addrs,
                Err(e) => {
                    tracing::debug!(host = %host, error = %e, "outbound: name did not resolve");
                    Vec::new()
                }
            };
            // The refusal goes into reqwest's error as itself (not boxed twice), so that
            // `Error::from_reqwest` can find it by downcasting.
            let addrs = checked(&policy, &host, resolved)?;
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

/// The addresses of `host` Kadr may connect to, port 0 (hyper puts the URL's port in), or the
/// refusal: a name with any blocked address is refused as a whole, so a name cannot smuggle an
/// internal address in beside a public one.
fn checked(
    policy: &Policy,
    host: &str,
    resolved: Vec<SocketAddr>,
) -> Result<Vec<SocketAddr>, Refused> {
    if resolved.is_empty() {
        return Err(Refused::NoAddress(host.to_owned()));
    }
    if !policy.allows_host(host) {
        for addr in &resolved {
            if let Err(refused) = policy.check_ip(addr.ip()) {
                tracing::debug!(host = %host, ip = %addr.ip(), "outbound: refused a resolved address");
                return Err(refused);
            }
        }
    }
    Ok(resolved
        .into_iter()
        .map(|mut addr| {
            addr.set_port(0);
            addr
        })
        .collect())
}

struct Inner {
    policy: Arc<Policy>,
    http: reqwest::Client,
}

/// Kadr's client for URLs users name. Cheap to clone; make one per process.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("policy", &self.inner.policy)
            .finish_non_exhaustive()
    }
}

/// Headers that carry credentials, dropped when a redirect leaves the origin they were meant for.
const CREDENTIAL_HEADERS: [header::HeaderName; 3] = [
    header::AUTHORIZATION,
    header::COOKIE,
    header::PROXY_AUTHORIZATION,
];

impl Client {
    /// A client resolving names with the system's resolver.
    pub fn new(policy: Policy) -> Result<Client, Error> {
        Client::with_resolver(policy, Arc::new(SystemResolver))
    }

    /// A client resolving names with `resolver`.
    pub fn with_resolver(policy: Policy, resolver: Arc<dyn Resolver>) -> Result<Client, Error> {
        let policy = Arc::new(policy);
        let guard = Guard {
            policy: Arc::clone(&policy),
            resolver,
        };
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .connect_timeout(policy.connect_timeout)
            .user_agent(policy.user_agent.as_str())
            .dns_resolver(Arc::new(guard))
            .build()
            .map_err(|e| Error::Http(describe(&e)))?;
        Ok(Client {
            inner: Arc::new(Inner { policy, http }),
        })
    }

    /// The policy this client enforces.
    pub fn policy(&self) -> &Policy {
        &self.inner.policy
    }

    /// GET `url`, following up to `max_redirects` redirects (301, 302, 303, 307, 308), each hop
    /// checked again. `headers` (e.g. `Range`, `If-Range`) go with every hop, except that
    /// `Authorization`, `Cookie` and `Proxy-Authorization` are dropped once a redirect leaves the
    /// first URL's origin. The final response comes back whatever its status; its `url()` is the
    /// final URL. The body is not read: stream it with `bytes_stream()`.
    pub async fn get(&self, url: &Url, headers: HeaderMap) -> Result<reqwest::Response, Error> {
        let policy = &self.inner.policy;
        let first = check_url(policy, url.as_str())?;
        let mut current = first.clone();
        let mut headers = headers;
        let mut followed = 0;
        loop {
            let response = self
                .inner
                .http
                .get(current.clone())
                .headers(headers.clone())
                .send()
                .await
                .map_err(Error::from_reqwest)?;
            if !is_redirect(response.status()) {
                return Ok(response);
            }
            if followed >= policy.max_redirects {
                return Err(Refused::TooManyRedirects(policy.max_redirects).into());
            }
            let next = location(&current, &response)?;
            let next = check_url(policy, next.as_str())?;
            if next.origin() != first.origin() {
                for name in &CREDENTIAL_HEADERS {
                    headers.remove(name);
                }
            }
            tracing::debug!(from = %current, to = %next, "outbound: following a redirect");
            followed += 1;
            current = next;
        }
    }

    /// POST `body` to `url` with `headers`, within `timeout` for the whole request. Redirects are
    /// not followed: a 3xx comes back as the response.
    pub async fn post(
        &self,
        url: &Url,
        headers: HeaderMap,
        body: Bytes,
        timeout: Duration,
    ) -> Result<reqwest::Response, Error> {
        let url = check_url(&self.inner.policy, url.as_str())?;
        self.inner
            .http
            .post(url)
            .headers(headers)
            .body(body)
            .timeout(timeout)
            .send()
            .await
            .map_err(Error::from_reqwest)
    }
}

fn is_redirect(status: StatusCode) -> bool {
    matches!(
        status,
        StatusCode::MOVED_PERMANENTLY
            | StatusCode::FOUND
            | StatusCode::SEE_OTHER
            | StatusCode::TEMPORARY_REDIRECT
            | StatusCode::PERMANENT_REDIRECT
    )
}

/// Where a redirect points, resolved against the URL that answered it.
fn location(current: &Url, response: &reqwest::Response) -> Result<Url, Refused> {
    let value = response
        .headers()
        .get(header::LOCATION)
        .ok_or_else(|| Refused::BadRedirect("no Location header".to_owned()))?;
    let text = value
        .to_str()
        .map_err(|_| Refused::BadRedirect("Location is not text".to_owned()))?;
    current
        .join(text)
        .map_err(|e| Refused::BadRedirect(format!("Location is not a URL ({e})")))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    fn addr(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn any_blocked_address_refuses_the_name() {
        let p = Policy::default();
        let got = checked(
            &p,
            "mixed.example",
            vec![addr("1.1.1.1:0"), addr("127.0.0.1:0")],
        );
        assert_eq!(
            got.unwrap_err(),
            Refused::Address {
                ip: "127.0.0.1".parse().unwrap(),
                class: "loopback"
            }
        );
    }

    #[test]
    fn nothing_resolved_is_no_address() {
        let got = checked(&Policy::default(), "nowhere.example", Vec::new());
        assert_eq!(
            got.unwrap_err(),
            Refused::NoAddress("nowhere.example".into())
        );
    }

    #[test]
    fn checked_addresses_lose_their_port() {
        let got = checked(
            &Policy::default(),
            "a.example",
            vec![addr("1.1.1.1:8080"), addr("[2606:4700::1]:25")],
        )
        .unwrap();
        assert_eq!(got, vec![addr("1.1.1.1:0"), addr("[2606:4700::1]:0")]);
    }

    #[test]
    fn allowed_host_passes_whatever_it_resolves_to() {
        let p = Policy {
            allow_hosts: vec!["media.internal".into()],
            ..Policy::default()
        };
        assert!(checked(&p, "Media.Internal.", vec![addr("10.0.0.5:0")]).is_ok());
        assert!(checked(&p, "other.internal", vec![addr("10.0.0.5:0")]).is_err());
    }

    #[test]
    fn allowed_net_passes() {
        let p = Policy {
            allow_nets: vec!["10.0.0.0/24".parse().unwrap()],
            ..Policy::default()
        };
        assert!(checked(&p, "a.internal", vec![addr("10.0.0.5:0")]).is_ok());
        assert!(checked(&p, "b.internal", vec![addr("10.0.1.5:0")]).is_err());
    }
}
