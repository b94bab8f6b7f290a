//! Which addresses Kadr does not connect to, and why.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// IPv4 ranges that are not the public Internet, most specific first: (network, prefix length,
/// class). The first range that holds an address names its class.
const V4: &[([u8; 4], u8, &str)] = &[
    // Cloud instance metadata: AWS, GCP, Azure and most others; Alibaba; Oracle.
    ([169, 254, 169, 254], 32, "metadata"),
    ([100, 100, 100, 200], 32, "metadata"),
    ([192, 0, 0, 192], 32, "metadata"),
    ([255, 255, 255, 255], 32, "broadcast"),
    ([0, 0, 0, 0], 8, "unspecified"),
    ([10, 0, 0, 0], 8, "private"),
    ([100, 64, 0, 0], 10, "carrier-grade NAT"),
    ([127, 0, 0, 0], 8, "loopback"),
    ([169, 254, 0, 0], 16, "link-local"),
    ([172, 16, 0, 0], 12, "private"),
    ([192, 0, 0, 0], 24, "reserved"),
    ([192, 0, 2, 0], 24, "documentation"),
    ([192, 88, 99, 0], 24, "reserved"),
    ([192, 168, 0, 0], 16, "private"),
    ([198, 18, 0, 0], 15, "benchmarking"),
    ([198, 51, 100, 0], 24, "documentation"),
    ([203, 0, 113, 0], 24, "documentation"),
    ([224, 0, 0, 0], 4, "multicast"),
    ([240, 0, 0, 0], 4, "reserved"),
];

/// IPv6 ranges that are not the public Internet, most specific first, once the forms that
/// carry an IPv4 address have been judged by it (see [`blocked`]).
const V6: &[([u16; 8], u8, &str)] = &[
    ([0, 0, 0, 0, 0, 0, 0, 0], 128, "unspecified"),
    ([0, 0, 0, 0, 0, 0, 0, 1], 128, "loopback"),
    // AWS's instance metadata over IPv6.
    ([0xfd00, 0x0ec2, 0, 0, 0, 0, 0, 0x0254], 128, "metadata"),
    ([0x0100, 0, 0, 0, 0, 0, 0, 0], 64, "discard"),
    ([0x2001, 0, 0, 0, 0, 0, 0, 0], 32, "Teredo"),
    ([0x2001, 0x0002, 0, 0, 0, 0, 0, 0], 48, "benchmarking"),
    ([0x2001, 0x0010, 0, 0, 0, 0, 0, 0], 28, "reserved"),
    ([0x2001, 0x0020, 0, 0, 0, 0, 0, 0], 28, "reserved"),
    ([0x2001, 0x0db8, 0, 0, 0, 0, 0, 0], 32, "documentation"),
    ([0x3fff, 0, 0, 0, 0, 0, 0, 0], 20, "documentation"),
    ([0xfc00, 0, 0, 0, 0, 0, 0, 0], 7, "IPv6 unique local"),
    ([0xfe80, 0, 0, 0, 0, 0, 0, 0], 10, "link-local"),
    ([0xfec0, 0, 0, 0, 0, 0, 0, 0], 10, "site-local"),
    ([0xff00, 0, 0, 0, 0, 0, 0, 0], 8, "multicast"),
];

fn within(addr: u128, net: u128, len: u8, bits: u32) -> bool {
    let len = u32::from(len);
    if len == 0 {
        return true;
    }
    let shift = bits - len;
    (addr >> shift) == (net >> shift)
}

fn v4_class(ip: Ipv4Addr) -> Option<&'static str> {
    let addr = u128::from(u32::from(ip));
    V4.iter()
        .find(|(net, len, _)| within(addr, u128::from(u32::from_be_bytes(*net)), *len, 32))
        .map(|(_, _, class)| *class)
}

/// The class of the first of these IPv4 addresses that is blocked. Candidates in 0.0.0.0/8 are
/// passed over: they are the zero bits of an address embedded elsewhere, and no translator
/// forwards to "this network" (the Linux rule that sends 0.0.0.0 to loopback is for local
/// sockets only).
fn any_v4_blocked(candidates: &[[u8; 4]]) -> Option<&'static str> {
    candidates
        .iter()
        .filter(|c| c[0] != 0)
        .find_map(|c| v4_class(Ipv4Addr::from(*c)))
}

fn v6_class(ip: Ipv6Addr) -> Option<&'static str> {
    let o = ip.octets();
    let s = ip.segments();
    let addr = u128::from(ip);
    let last4 = [o[12], o[13], o[14], o[15]];

    // IPv4-mapped ::ffff:a.b.c.d: the socket talks IPv4 to a.b.c.d.
    if s[..6] == [0, 0, 0, 0, 0, 0xffff] {
        return v4_class(Ipv4Addr::from(last4));
    }
    // IPv4-compatible ::a.b.c.d (deprecated since 2006, never routed): judged by the IPv4
    // address when that is blocked, and refused as reserved otherwise.
    if s[..6] == [0, 0, 0, 0, 0, 0] && !(s[6] == 0 && s[7] <= 1) {
        return Some(v4_class(Ipv4Addr::from(last4)).unwrap_or("reserved"));
    }
    // NAT64 well-known prefix 64:ff9b::/96: a translator forwards to the IPv4 address.
    if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return v4_class(Ipv4Addr::from(last4));
    }
    // NAT64 local-use prefix 64:ff9b:1::/48 (RFC 8215): the operator picks a prefix length of
    // /48 to /96, so every place RFC 6052 could put the IPv4 address is judged.
    if s[..3] == [0x64, 0xff9b, 0x0001] {
        return any_v4_blocked(&[
            [o[6], o[7], o[9], o[10]],
            [o[7], o[9], o[10], o[11]],
            [o[9], o[10], o[11], o[12]],
            last4,
        ]);
    }
    // 6to4 2002:aabb:ccdd::/48: a relay forwards to a.b.c.d.
    if s[0] == 0x2002 {
        return v4_class(Ipv4Addr::new(o[2], o[3], o[4], o[5]));
    }
    if let Some((_, _, class)) = V6.iter().find(|(net, len, _)| {
        let net = Ipv6Addr::from(*net);
        within(addr, u128::from(net), *len, 128)
    }) {
        return Some(class);
    }
    // Only 2000::/3 is handed out for global unicast; the rest is reserved by IANA.
    if s[0] & 0xe000 != 0x2000 {
        return Some("reserved");
    }
    None
}

/// The class of a blocked address ("loopback", "private", "metadata", ...), or `None` when Kadr
/// may connect to it.
///
/// IPv4-mapped (`::ffff:a.b.c.d`), IPv4-compatible (`::a.b.c.d`), NAT64 (`64:ff9b::/96`,
/// `64:ff9b:1::/48`) and 6to4 (`2002::/16`) IPv6 addresses are judged by the IPv4 address they
/// carry, and blocked when that is blocked (IPv4-compatible ones are blocked in any case).
/// Teredo (`2001::/32`) is blocked, and so is every IPv6 address outside the global unicast
/// `2000::/3` that is not one of those forms.
pub fn blocked(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => v4_class(v4),
        IpAddr::V6(v6) => v6_class(v6),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    fn class(s: &str) -> Option<&'static str> {
        blocked(s.parse().unwrap())
    }

    #[test]
    fn ipv4_ranges_have_their_class() {
        let cases = [
            ("0.0.0.0", "unspecified"),
            ("0.1.2.3", "unspecified"),
            ("10.0.0.1", "private"),
            ("10.255.255.255", "private"),
            ("100.64.0.1", "carrier-grade NAT"),
            ("100.127.255.255", "carrier-grade NAT"),
            ("100.100.100.200", "metadata"),
            ("127.0.0.1", "loopback"),
            ("127.255.255.254", "loopback"),
            ("169.254.0.1", "link-local"),
            ("169.254.169.254", "metadata"),
            ("172.16.0.1", "private"),
            ("172.31.255.255", "private"),
            ("192.0.0.8", "reserved"),
            ("192.0.0.192", "metadata"),
            ("192.0.2.1", "documentation"),
            ("192.88.99.1", "reserved"),
            ("192.168.1.1", "private"),
            ("198.18.0.1", "benchmarking"),
            ("198.19.255.255", "benchmarking"),
            ("198.51.100.7", "documentation"),
            ("203.0.113.9", "documentation"),
            ("224.0.0.1", "multicast"),
            ("239.255.255.250", "multicast"),
            ("240.0.0.1", "reserved"),
            ("255.255.255.255", "broadcast"),
        ];
        for (ip, want) in cases {
            assert_eq!(class(ip), Some(want), "{ip}");
        }
    }

    #[test]
    fn public_ipv4_passes() {
        for ip in [
            "1.1.1.1",
            "8.8.8.8",
            "9.255.255.255",
            "11.0.0.0",
            "100.63.255.255",
            "100.128.0.0",
            "126.255.255.255",
            "128.0.0.0",
            "169.253.255.255",
            "172.15.255.255",
            "172.32.0.0",
            "192.0.3.0",
            "192.167.255.255",
            "192.169.0.0",
            "198.17.255.255",
            "198.20.0.0",
            "223.255.255.255",
        ] {
            assert_eq!(class(ip), None, "{ip}");
        }
    }

    #[test]
    fn ipv6_ranges_have_their_class() {
        let cases = [
            ("::", "unspecified"),
            ("::1", "loopback"),
            ("100::1", "discard"),
            ("2001::1", "Teredo"),
            ("2001:0:4136:e378:8000:63bf:3fff:fdd2", "Teredo"),
            ("2001:2::1", "benchmarking"),
            ("2001:db8::1", "documentation"),
            ("3fff::1", "documentation"),
            ("fc00::1", "IPv6 unique local"),
            ("fd12:3456::1", "IPv6 unique local"),
            ("fd00:ec2::254", "metadata"),
            ("fe80::1", "link-local"),
            ("febf::1", "link-local"),
            ("fec0::1", "site-local"),
            ("ff02::1", "multicast"),
            ("::ffff:0:1:2", "reserved"),
            ("4000::1", "reserved"),
            ("1::", "reserved"),
        ];
        for (ip, want) in cases {
            assert_eq!(class(ip), Some(want), "{ip}");
        }
    }

    #[test]
    fn ipv6_forms_carrying_ipv4_are_judged_by_it() {
        let cases = [
            ("::ffff:127.0.0.1", Some("loopback")),
            ("::ffff:7f00:1", Some("loopback")),
            ("::ffff:10.1.2.3", Some("private")),
            ("::ffff:169.254.169.254", Some("metadata")),
            ("::ffff:0.0.0.0", Some("unspecified")),
            ("::ffff:8.8.8.8", None),
            ("::127.0.0.1", Some("loopback")),
            ("::192.168.0.1", Some("private")),
            ("::8.8.8.8", Some("reserved")),
            ("64:ff9b::7f00:1", Some("loopback")),
            ("64:ff9b::a9fe:a9fe", Some("metadata")),
            ("64:ff9b::808:808", None),
            // Local-use NAT64 with a /48 prefix: 127.0.0.1 is split around the u octet.
            ("64:ff9b:1:7f00:0:100::", Some("loopback")),
            ("64:ff9b:1:a9fe:a9:fe00::", Some("metadata")),
            ("64:ff9b:1:808:8:800::", None),
            ("64:ff9b:1::7f00:1", Some("loopback")),
            ("64:ff9b:1::808:808", None),
            ("2002:7f00:1::", Some("loopback")),
            ("2002:a00:1::1", Some("private")),
            ("2002:808:808::1", None),
        ];
        for (ip, want) in cases {
            assert_eq!(class(ip), want, "{ip}");
        }
    }

    #[test]
    fn public_ipv6_passes() {
        for ip in [
            "2606:4700:4700::1111",
            "2a00:1450:4001:82a::200e",
            "2001:4860:4860::8888",
            "2001:4:112::1",
        ] {
            assert_eq!(class(ip), None, "{ip}");
        }
    }
}
