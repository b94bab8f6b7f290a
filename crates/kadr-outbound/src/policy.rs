//! What may be reached: the policy, the reasons for refusing, and the check of a URL's text.

use std::net::IpAddr;
use std::time::Duration;

use ipnet::IpNet;
use url::{Host, Url};

use crate::address::blocked;

/// What the guard lets through besides the public Internet, and how requests go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// Host names let through whatever they resolve to (compared without case and without a
    /// trailing dot; no port).
    pub allow_hosts: Vec<String>,
    /// Addresses let through although they are in a blocked range.
    pub allow_nets: Vec<IpNet>,
    /// How many redirects a GET follows (5 by default).
    pub max_redirects: usize,
    /// How long a TCP connection may take to open (10 s by default).
    pub connect_timeout: Duration,
    /// The `User-Agent` of every request.
    pub user_agent: String,
}

impl Default for Policy {
    fn default() -> Policy {
        Policy {
            allow_hosts: Vec::new(),
            allow_nets: Vec::new(),
            max_redirects: 5,
            connect_timeout: Duration::from_secs(10),
            user_agent: format!(
                "Kadr/{} (+https://github.com/kadr)",
                env!("CARGO_PKG_VERSION")
            ),
        }
    }
}

impl Policy {
    /// The policy of `outbound.*` (the allow-list, redirects, connect timeout).
    pub fn from_config(config: &kadr_config::OutboundConfig) -> Policy {
        Policy {
            allow_hosts: config.allowed_hosts(),
            allow_nets: config.allowed_nets(),
            max_redirects: config.max_redirects,
            connect_timeout: Duration::from_secs(config.connect_timeout_secs),
            ..Policy::default()
        }
    }

    /// Whether `host` (a name as it appears in a URL) is on the allow-list.
    pub(crate) fn allows_host(&self, host: &str) -> bool {
        let host = normal_host(host);
        !host.is_empty()
            && self
                .allow_hosts
                .iter()
                .any(|allowed| normal_host(allowed) == host)
    }

    /// Whether `ip` is in one of the allowed networks (an IPv4-mapped IPv6 address also by the
    /// IPv4 address it maps).
    pub(crate) fn allows_ip(&self, ip: IpAddr) -> bool {
        let mapped = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4),
            IpAddr::V4(_) => None,
        };
        self.allow_nets
            .iter()
            .any(|net| net.contains(&ip) || mapped.is_some_and(|v4| net.contains(&v4)))
    }

    /// `Ok` when Kadr may connect to `ip`.
    pub(crate) fn check_ip(&self, ip: IpAddr) -> Result<(), Refused> {
        match blocked(ip) {
            Some(class) if !self.allows_ip(ip) => Err(Refused::Address { ip, class }),
            _ => Ok(()),
        }
    }
}

/// A host name as compared: lower case, without trailing dots ("LocalHost." is "localhost").
fn normal_host(host: &str) -> String {
    host.trim_end_matches('.').to_ascii_lowercase()
}

/// Why a URL or an address is not reachable from Kadr.
///
/// `Display` gives a short English reason that is safe to show the user who named the URL: it
/// names the class of a refused address, never the address itself (a name may have resolved to
/// an internal address the user should not learn). `Debug` has the address, for logs.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum Refused {
    /// The scheme is not http or https.
    #[error("only http and https URLs can be fetched, not {0}")]
    Scheme(String),
    /// The text is not a URL (the parser's reason).
    #[error("not a valid URL: {0}")]
    NotAUrl(String),
    /// The URL carries a user name or a password.
    #[error("URLs with a user name or password are not accepted")]
    Credentials,
    /// The URL has no host.
    #[error("the URL has no host")]
    NoHost,
    /// The host is, or resolved to, an address in a blocked range.
    #[error("{class} addresses are not reachable from Kadr")]
    Address {
        /// The address refused.
        ip: IpAddr,
        /// Its class, as [`blocked`] names it.
        class: &'static str,
    },
    /// The host name did not resolve to any address.
    #[error("{0} did not resolve to any address")]
    NoAddress(String),
    /// A GET met more redirects than the policy's `max_redirects`.
    #[error("more than {0} redirects")]
    TooManyRedirects(usize),
    /// A redirect without a usable `Location`.
    #[error("bad redirect: {0}")]
    BadRedirect(String),
}

/// Checks a URL's text, without any I/O: http or https, a host, no credentials, and a host that
/// is an IP address (in any notation the WHATWG URL parser accepts: `2130706433`, `0177.0.0.1`,
/// `0x7f.1`, `127.1`, `[::ffff:127.0.0.1]`, ...) must not be [`blocked`] unless the policy's
/// `allow_nets` holds it. A host name passes here; its addresses are checked when it resolves.
pub fn check_url(policy: &Policy, url: &str) -> Result<Url, Refused> {
    let parsed = Url::parse(url.trim()).map_err(|e| Refused::NotAUrl(e.to_string()))?;
    match parsed.scheme() {
        "http" | "https" => {}
        other => return Err(Refused::Scheme(other.to_owned())),
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(Refused::Credentials);
    }
    match parsed.host() {
        None => return Err(Refused::NoHost),
        Some(Host::Domain(name)) => {
            if normal_host(name).is_empty() {
                return Err(Refused::NoHost);
            }
        }
        Some(Host::Ipv4(v4)) => policy.check_ip(IpAddr::V4(v4))?,
        Some(Host::Ipv6(v6)) => policy.check_ip(IpAddr::V6(v6))?,
    }
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    fn refused(url: &str) -> Refused {
        check_url(&Policy::default(), url).unwrap_err()
    }

    fn class_of(url: &str) -> &'static str {
        match refused(url) {
            Refused::Address { class, .. } => class,
            other => panic!("{url}: {other:?}"),
        }
    }

    #[test]
    fn every_notation_of_loopback_is_refused() {
        for url in [
            "http://127.0.0.1/",
            "http://127.0.0.1./",
            "http://2130706433/",
            "http://0177.0.0.1/",
            "http://0x7f.0.0.1/",
            "http://0x7f000001/",
            "http://0x7f.1/",
            "http://127.1/",
            "http://127.000.000.001/",
            "https://127.0.0.1:8443/x",
            "http://[::1]/",
            "http://[0:0:0:0:0:0:0:1]/",
            "http://[::ffff:127.0.0.1]/",
            "http://[::ffff:7f00:1]/",
            "http://[0:0:0:0:0:ffff:127.0.0.1]/",
            "http://[64:ff9b::7f00:1]/",
            "http://[64:ff9b::127.0.0.1]/",
            "http://[2002:7f00:1::]/",
            "http://[::127.0.0.1]/",
            "HTTP://127.0.0.1/",
        ] {
            assert_eq!(class_of(url), "loopback", "{url}");
        }
    }

    #[test]
    fn the_unspecified_address_is_refused() {
        for url in [
            "http://0/",
            "http://0.0.0.0/",
            "http://[::]/",
            "http://0x0/",
        ] {
            assert_eq!(class_of(url), "unspecified", "{url}");
        }
    }

    #[test]
    fn private_and_metadata_addresses_have_their_class() {
        let cases = [
            ("http://10.0.0.1/", "private"),
            ("http://192.168.1.1/", "private"),
            ("http://172.16.0.1/", "private"),
            ("http://169.254.169.254/latest/meta-data/", "metadata"),
            ("http://169.254.1.1/", "link-local"),
            ("http://100.100.100.200/", "metadata"),
            ("http://100.64.1.1/", "carrier-grade NAT"),
            ("http://[fd00:ec2::254]/", "metadata"),
            ("http://[fd12::1]/", "IPv6 unique local"),
            ("http://[fe80::1]/", "link-local"),
            ("http://224.0.0.1/", "multicast"),
            ("http://255.255.255.255/", "broadcast"),
            ("http://[2001:db8::1]/", "documentation"),
            ("http://[2001::1]/", "Teredo"),
            ("http://[::ffff:a9fe:a9fe]/", "metadata"),
        ];
        for (url, want) in cases {
            assert_eq!(class_of(url), want, "{url}");
        }
    }

    #[test]
    fn refused_address_keeps_the_address() {
        assert_eq!(
            refused("http://0xa9fea9fe/"),
            Refused::Address {
                ip: "169.254.169.254".parse().unwrap(),
                class: "metadata"
            }
        );
    }

    #[test]
    fn public_urls_pass_and_come_back_parsed() {
        let p = Policy::default();
        let u = check_url(&p, "https://Videos.Example.com/a/b.mp4?x=1").unwrap();
        assert_eq!(u.host_str(), Some("videos.example.com"));
        assert!(check_url(&p, "http://93.184.215.14:8080/").is_ok());
        assert!(check_url(&p, "http://[2606:4700:4700::1111]/").is_ok());
        // A name passes here whatever it will resolve to: that is checked at connection time.
        assert!(check_url(&p, "http://localhost/").is_ok());
    }

    #[test]
    fn scheme_credentials_and_garbage_are_refused() {
        assert_eq!(refused("ftp://example.com/"), Refused::Scheme("ftp".into()));
        assert_eq!(
            refused("file:///etc/passwd"),
            Refused::Scheme("file".into())
        );
        assert_eq!(
            refused("gopher://127.0.0.1:6379/_x"),
            Refused::Scheme("gopher".into())
        );
        assert_eq!(refused("http://u:p@example.com/"), Refused::Credentials);
        assert_eq!(refused("http://u@example.com/"), Refused::Credentials);
        assert_eq!(refused("http://:p@example.com/"), Refused::Credentials);
        assert!(matches!(refused("not a url"), Refused::NotAUrl(_)));
        assert!(matches!(refused("/relative"), Refused::NotAUrl(_)));
        assert!(matches!(refused("http://"), Refused::NotAUrl(_)));
        assert!(matches!(refused("http://1.2.3.4.5/"), Refused::NotAUrl(_)));
        assert!(matches!(refused("http://[::1/"), Refused::NotAUrl(_)));
        assert!(matches!(refused("http://./"), Refused::NoHost));
    }

    #[test]
    fn allow_nets_lets_an_address_through() {
        let p = Policy {
            allow_nets: vec!["127.0.0.1/32".parse().unwrap(), "fd00::/8".parse().unwrap()],
            ..Policy::default()
        };
        assert!(check_url(&p, "http://127.0.0.1:9000/").is_ok());
        assert!(check_url(&p, "http://2130706433/").is_ok());
        assert!(check_url(&p, "http://[::ffff:127.0.0.1]/").is_ok());
        assert!(check_url(&p, "http://[fd00:ec2::254]/").is_ok());
        assert_eq!(
            check_url(&p, "http://127.0.0.2/").unwrap_err(),
            Refused::Address {
                ip: "127.0.0.2".parse().unwrap(),
                class: "loopback"
            }
        );
    }

    #[test]
    fn allow_hosts_compares_without_case_or_trailing_dot() {
        let p = Policy {
            allow_hosts: vec!["Media.Internal".into(), String::new()],
            ..Policy::default()
        };
        assert!(p.allows_host("media.internal"));
        assert!(p.allows_host("MEDIA.INTERNAL."));
        assert!(!p.allows_host("media.internal.evil.com"));
        assert!(!p.allows_host("evil-media.internal"));
        assert!(!p.allows_host(""));
        assert!(!p.allows_host("."));
    }

    #[test]
    fn display_names_the_class_not_the_address() {
        let r = refused("http://10.1.2.3/");
        assert_eq!(
            r.to_string(),
            "private addresses are not reachable from Kadr"
        );
        assert!(!r.to_string().contains("10.1.2.3"));
    }
}
