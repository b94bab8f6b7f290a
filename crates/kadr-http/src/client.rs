//! Who is asking, and where we are: the client's address and the base of absolute URLs.
//!
//! - The client address is the socket's peer, unless that peer is one of
//!   `server.trusted_proxies`: then it is the nearest address in `X-Forwarded-For` (or
//!   `Forwarded: for=`) that is not itself a trusted proxy. A client cannot choose its address by
//!   sending a header.
//! - Absolute URLs start with `server.public_url` when set; otherwise with the address the
//!   server is listening on (and, behind a trusted proxy, with what the proxy says). A client's
//!   `Host` or `X-Forwarded-Host` never reaches a URL or a cache key.
//! - Limits keyed by address bucket IPv6 clients by their /64, the block one subscriber gets.

use std::net::{IpAddr, Ipv6Addr};

use actix_web::HttpRequest;
use ipnet::IpNet;
use kadr_config::ServerConfig;

/// The trusted proxies, parsed once per process from the configuration.
#[derive(Debug, Clone, Default)]
pub struct Proxies(Vec<IpNet>);

impl Proxies {
    pub fn new(config: &ServerConfig) -> Proxies {
        Proxies(config.proxies())
    }

    pub fn trusts(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.0.iter().any(|n| n.contains(&ip))
    }
}

/// An IPv4-mapped IPv6 address as the IPv4 address it is.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// Addresses named by the forwarding headers, nearest hop last.
fn forwarded_chain(req: &HttpRequest) -> Vec<IpAddr> {
    let mut chain = Vec::new();
    for v in req.headers().get_all("forwarded") {
        let Ok(v) = v.to_str() else { continue };
        for element in v.split(',') {
            for pair in element.split(';') {
                let Some((k, val)) = pair.trim().split_once('=') else {
                    continue;
                };
                if k.trim().eq_ignore_ascii_case("for")
                    && let Some(ip) = parse_node(val.trim().trim_matches('"'))
                {
                    chain.push(ip);
                }
            }
        }
    }
    if chain.is_empty() {
        for v in req.headers().get_all("x-forwarded-for") {
            let Ok(v) = v.to_str() else { continue };
            chain.extend(v.split(',').filter_map(|a| parse_node(a.trim())));
        }
    }
    chain
}

/// `192.0.2.1`, `192.0.2.1:4711`, `[2001:db8::1]`, `[2001:db8::1]:4711` or `2001:db8::1`.
fn parse_node(s: &str) -> Option<IpAddr> {
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Some(ip);
    }
    if let Some(rest) = s.strip_prefix('[') {
        return rest.split(']').next()?.parse().ok();
    }
    s.rsplit_once(':')?.0.parse().ok()
}

/// The client's address (see the module's rule).
pub fn client_ip(req: &HttpRequest, proxies: &Proxies) -> Option<IpAddr> {
    let peer = canonical(req.peer_addr()?.ip());
    if !proxies.trusts(peer) {
        return Some(peer);
    }
    let chain = forwarded_chain(req);
    // From the nearest hop outwards: the first address that is not one of our proxies.
    Some(
        chain
            .iter()
            .rev()
            .map(|ip| canonical(*ip))
            .find(|ip| !proxies.trusts(*ip))
            .or_else(|| chain.first().copied())
            .unwrap_or(peer),
    )
}

/// The key limits count a client under: its address, IPv6 by /64.
pub fn address_key(ip: IpAddr) -> String {
    match canonical(ip) {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => {
            let s = v6.segments();
            let net = Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0);
            format!("{net}/64")
        }
    }
}

/// `scheme://host[:port]` that absolute URLs start with (see the module's rule).
pub fn base_url(req: &HttpRequest, config: &ServerConfig, proxies: &Proxies) -> String {
    if let Some(u) = &config.public_url {
        return u.trim_end_matches('/').to_owned();
    }
    let peer_trusted = req.peer_addr().is_some_and(|p| proxies.trusts(p.ip()));
    if peer_trusted {
        let info = req.connection_info();
        return format!("{}://{}", info.scheme(), info.host());
    }
    let local = req.app_config().local_addr();
    let scheme = if req.app_config().secure() {
        "https"
    } else {
        "http"
    };
    let host = match local.ip() {
        // Listening on every address: no single one to name; loopback serves this machine.
        ip if ip.is_unspecified() => match ip {
            IpAddr::V4(_) => format!("127.0.0.1:{}", local.port()),
            IpAddr::V6(_) => format!("[::1]:{}", local.port()),
        },
        _ => local.to_string(),
    };
    format!("{scheme}://{host}")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    fn proxies(list: &[&str]) -> Proxies {
        Proxies::new(&ServerConfig {
            trusted_proxies: list.iter().map(|s| (*s).to_owned()).collect(),
            ..ServerConfig::default()
        })
    }

    #[test]
    fn forwarded_headers_count_only_from_trusted_proxies() {
        let spoofed = TestRequest::default()
            .peer_addr("203.0.113.7:5000".parse().unwrap())
            .insert_header(("X-Forwarded-For", "1.2.3.4"))
            .to_http_request();
        let none = proxies(&[]);
        assert_eq!(
            client_ip(&spoofed, &none),
            Some("203.0.113.7".parse().unwrap())
        );
        let behind = TestRequest::default()
            .peer_addr("10.0.0.2:5000".parse().unwrap())
            .insert_header(("X-Forwarded-For", "6.6.6.6, 198.51.100.9, 10.0.0.3"))
            .to_http_request();
        let ours = proxies(&["10.0.0.0/8"]);
        // The client prepended 6.6.6.6 itself; the nearest untrusted hop is the real one.
        assert_eq!(
            client_ip(&behind, &ours),
            Some("198.51.100.9".parse().unwrap())
        );
        let rfc7239 = TestRequest::default()
            .peer_addr("10.0.0.2:5000".parse().unwrap())
            .insert_header(("Forwarded", "for=\"[2001:db8:cafe::17]:4711\";proto=https"))
            .to_http_request();
        assert_eq!(
            client_ip(&rfc7239, &ours),
            Some("2001:db8:cafe::17".parse().unwrap())
        );
    }

    #[test]
    fn ipv6_clients_are_counted_by_their_64() {
        let a = address_key("2001:db8:1:2:aaaa::1".parse().unwrap());
        let b = address_key("2001:db8:1:2:bbbb::2".parse().unwrap());
        assert_eq!(a, b);
        assert_eq!(a, "2001:db8:1:2::/64");
        assert_eq!(
            address_key("::ffff:192.0.2.1".parse().unwrap()),
            "192.0.2.1"
        );
    }

    #[test]
    fn base_url_never_comes_from_an_untrusted_host_header() {
        let req = TestRequest::default()
            .peer_addr("203.0.113.7:5000".parse().unwrap())
            .insert_header(("Host", "evil.example"))
            .insert_header(("X-Forwarded-Host", "evil.example"))
            .to_http_request();
        let base = base_url(&req, &ServerConfig::default(), &proxies(&[]));
        assert!(!base.contains("evil"), "{base}");
        let public = ServerConfig {
            public_url: Some("https://video.example.org/".to_owned()),
            ..ServerConfig::default()
        };
        assert_eq!(
            base_url(&req, &public, &proxies(&[])),
            "https://video.example.org"
        );
    }
}
