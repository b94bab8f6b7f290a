//! Kadr's one way to make HTTP requests to addresses users name (URL imports, webhooks),
//! guarded against server-side request forgery.
//!
//! A user who names a URL must not reach, through Kadr, what only Kadr can reach: its loopback
//! services, the private network it lives in, or the cloud's instance metadata service (which
//! hands out credentials). Every outbound request to a user's URL goes through [`Client`].
//!
//! # What is blocked
//! [`blocked`] names the class of every address that is not the public Internet: IPv4
//! 0.0.0.0/8, 10/8, 100.64/10 (carrier-grade NAT, holding Alibaba's metadata 100.100.100.200),
//! 127/8, 169.254/16 (link-local, and 169.254.169.254 the metadata service), 172.16/12,
//! 192.0.0/24 (with Oracle's metadata 192.0.0.192), the documentation and benchmarking ranges,
//! 192.88.99/24, 192.168/16, multicast and 240/4 with the broadcast address; IPv6 `::`, `::1`,
//! unique local `fc00::/7` (with AWS's `fd00:ec2::254`), link-local, site-local, multicast,
//! discard-only, Teredo, documentation, and everything outside the global unicast `2000::/3`.
//! IPv6 forms that carry an IPv4 address (IPv4-mapped, IPv4-compatible, NAT64, 6to4) are judged
//! by that IPv4 address, so `[::ffff:127.0.0.1]` and `[64:ff9b::7f00:1]` are loopback.
//!
//! # Where the check happens, and why the connection goes where the check looked
//! - [`check_url`] reads the URL with the WHATWG parser hyper will see (so `http://2130706433/`,
//!   `http://0x7f.1/` and `http://127.1/` are all 127.0.0.1): http or https only, no
//!   credentials, and a host that is an IP address must not be blocked. IP-literal hosts never
//!   reach a resolver in hyper, so this check is the only one they get, and every hop makes it.
//! - A host name is checked when it resolves: the client's reqwest resolver ([`Resolver`], the
//!   system's by default) resolves the name, refuses it when any of its addresses is blocked,
//!   and hands hyper exactly the addresses it checked. hyper connects to those addresses and
//!   resolves nothing else, so there is no window between the check and the connection for a
//!   name to change its answer (DNS rebinding): each new connection resolves and checks again.
//! - The refusal travels out through reqwest's error and comes back as [`Error::Refused`].
//! - Proxies from the environment are ignored (`no_proxy`): through a proxy the address checked
//!   would not be the address reached.
//!
//! # Redirects
//! reqwest follows none. [`Client::get`] follows 301, 302, 303, 307 and 308 itself, up to
//! [`Policy::max_redirects`], and each `Location`, resolved against the URL that sent it, goes
//! through [`check_url`] and resolution like the first URL; so a public URL cannot redirect
//! Kadr to `http://127.0.0.1/` or to a name that resolves there. The caller's headers (`Range`,
//! `If-Range`) go with every hop; credentials (`Authorization`, `Cookie`) only while the hop is
//! on the first URL's origin. [`Client::post`] never follows a redirect.
//!
//! # The allow-list
//! An operator may let internal services through: [`Policy::allow_hosts`] names hosts let
//! through whatever they resolve to (compared without case or trailing dot), and
//! [`Policy::allow_nets`] lists networks let through although blocked. Nothing else is.
//!
//! # Memory
//! Nothing here reads a body: callers stream `response.bytes_stream()` under their own limits.

mod address;
mod client;
mod policy;

pub use address::blocked;
pub use client::{Client, Error, Resolver, SystemResolver};
pub use policy::{Policy, Refused, check_url};
/// The HTTP client the guard wraps, for its types (status codes, headers, responses).
pub use reqwest;
