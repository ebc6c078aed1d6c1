//! A cluster's IP allowlist: which source addresses may reach it.
//!
//! Each entry's `ip` is one IPv4/IPv6 address or CIDR range, or a comma-separated list of
//! them (the hosted API documents "a valid comma separated list of CIDRs"). The text is
//! kept exactly as the client sent it, because clients read the list back and compare it
//! with what they wrote.
//!
//! Parsing stays ours: `ipnet`'s parser requires a prefix and accepts leading zeros in IPv4
//! octets (`010.0.0.1/8`, octal to some tools), which std's address parser refuses;
//! containment is `ipnet`'s.

use std::net::IpAddr;

use ipnet::IpNet;

use serde::{Deserialize, Serialize};

use super::{text, DomainError};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IpAllowlistEntry {
    pub ip: String,
    pub description: String,
}

/// One parsed address range: an address and a prefix length (the full width for a bare
/// address).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpRange {
    pub addr: IpAddr,
    pub prefix: u8,
}

impl IpRange {
    /// Parses `ADDR` or `ADDR/PREFIX`. Host bits below the prefix are allowed
    /// (`10.0.0.1/24` means the same range as `10.0.0.0/24`), as most firewalls accept it.
    pub fn parse(text: &str) -> Option<IpRange> {
        let (addr_text, prefix_text) = match text.split_once('/') {
            Some((addr, prefix)) => (addr, Some(prefix)),
            None => (text, None),
        };
        // std's parsers reject leading zeros in IPv4 octets and IPv6 zone ids (`%eth0`),
        // neither of which belongs in a firewall rule.
        let addr: IpAddr = addr_text.parse().ok()?;
        let width = match addr {
            IpAddr::V4(_) => 32,
            IpAddr::V6(_) => 128,
        };
        let prefix = match prefix_text {
            None => width,
            Some(p) => parse_prefix(p, width)?,
        };
        Some(IpRange { addr, prefix })
    }

    /// Whether `ip` lies in the range. An IPv4 range does not hold IPv6 addresses (map
    /// `::ffff:a.b.c.d` to IPv4 first), nor the other way round.
    pub fn contains(&self, ip: IpAddr) -> bool {
        IpNet::new(self.addr, self.prefix).is_ok_and(|net| net.contains(&ip))
    }
}

/// A decimal prefix length of at most `width`: digits only (no sign, no spaces), no
/// redundant leading zeros.
fn parse_prefix(text: &str, width: u8) -> Option<u8> {
    let well_formed = !text.is_empty()
        && text.len() <= 3
        && text.bytes().all(|b| b.is_ascii_digit())
        && !(text.len() > 1 && text.starts_with('0'));
    if !well_formed {
        return None;
    }
    let prefix: u8 = text.parse().ok()?;
    (prefix <= width).then_some(prefix)
}

/// Parses an entry's `ip`: one or more ranges separated by commas, each optionally
/// surrounded by spaces. Empty items (`"a,,b"`, a trailing comma) are refused.
pub fn parse_ranges(text: &str) -> Option<Vec<IpRange>> {
    text.split(',')
        .map(|item| IpRange::parse(item.trim()))
        .collect()
}

/// Checks every entry (its `ip`, and its description as free text); the error names the
/// list field, the entry's index and its value.
pub fn validate(field: &str, entries: &[IpAllowlistEntry]) -> Result<(), DomainError> {
    for (index, entry) in entries.iter().enumerate() {
        if parse_ranges(&entry.ip).is_none() {
            return Err(DomainError::Invalid(format!(
                "{field}[{index}].ip: {:?} is not an IPv4/IPv6 address or CIDR range, \
                 or a comma-separated list of them",
                entry.ip
            )));
        }
        text::check_free_text(&format!("{field}[{index}].description"), &entry.description)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(text: &str) -> Option<(String, u8)> {
        IpRange::parse(text).map(|r| (r.addr.to_string(), r.prefix))
    }

    #[test]
    fn addresses_and_cidrs_parse() {
        assert_eq!(range("10.0.0.1"), Some(("10.0.0.1".into(), 32)));
        assert_eq!(range("10.0.0.0/24"), Some(("10.0.0.0".into(), 24)));
        assert_eq!(range("0.0.0.0/0"), Some(("0.0.0.0".into(), 0)));
        assert_eq!(range("10.0.0.1/24"), Some(("10.0.0.1".into(), 24)));
        assert_eq!(range("::1"), Some(("::1".into(), 128)));
        assert_eq!(range("2001:db8::/32"), Some(("2001:db8::".into(), 32)));
        assert_eq!(range("::/0"), Some(("::".into(), 0)));
        assert_eq!(
            range("::ffff:192.0.2.1/128"),
            Some(("::ffff:192.0.2.1".into(), 128))
        );
    }

    #[test]
    fn malformed_ranges_are_refused() {
        for bad in [
            "",
            " ",
            "localhost",
            "10.0.0",
            "10.0.0.256",
            "010.0.0.1",
            "10.0.0.1/33",
            "10.0.0.1/",
            "10.0.0.1/-1",
            "10.0.0.1/+8",
            "10.0.0.1/08",
            "10.0.0.1/ 8",
            "10.0.0.1/8/8",
            "/8",
            "2001:db8::/129",
            "2001:db8:::1",
            "fe80::1%eth0",
            "10.0.0.1/1000",
            "1.2.3.4 5.6.7.8",
        ] {
            assert_eq!(IpRange::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn ranges_contain_their_addresses() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let r = |s: &str| IpRange::parse(s).unwrap();
        assert!(r("10.0.0.0/8").contains(ip("10.255.0.1")));
        assert!(!r("10.0.0.0/8").contains(ip("11.0.0.1")));
        assert!(r("10.0.0.1/24").contains(ip("10.0.0.200")));
        assert!(r("0.0.0.0/0").contains(ip("203.0.113.1")));
        assert!(!r("0.0.0.0/0").contains(ip("::1")));
        assert!(r("192.0.2.1").contains(ip("192.0.2.1")));
        assert!(!r("192.0.2.1").contains(ip("192.0.2.2")));
        assert!(r("2001:db8::/32").contains(ip("2001:db8:ffff::1")));
        assert!(!r("2001:db8::/32").contains(ip("2001:db9::1")));
        assert!(r("::/0").contains(ip("::1")));
        assert!(!r("::1").contains(ip("127.0.0.1")));
    }

    #[test]
    fn comma_separated_lists() {
        assert_eq!(
            parse_ranges("192.168.1.1/32,192.168.1.2/32").map(|r| r.len()),
            Some(2)
        );
        assert_eq!(
            parse_ranges("10.0.0.0/8, 2001:db8::/48 ,::1").map(|r| r.len()),
            Some(3)
        );
        assert_eq!(parse_ranges("10.0.0.0/8,"), None);
        assert_eq!(parse_ranges(",10.0.0.0/8"), None);
        assert_eq!(parse_ranges("10.0.0.0/8,,::1"), None);
        assert_eq!(parse_ranges("10.0.0.0/8,nope"), None);
    }

    #[test]
    fn validation_names_the_entry() {
        let entries = vec![
            IpAllowlistEntry {
                ip: "10.0.0.0/24".into(),
                description: "office".into(),
            },
            IpAllowlistEntry {
                ip: "10.0.0.0/99".into(),
                description: "typo".into(),
            },
        ];
        let err = validate("ipallowlist", &entries).unwrap_err().to_string();
        assert!(err.contains("ipallowlist[1].ip"), "{err}");
        assert!(err.contains("10.0.0.0/99"), "{err}");
        assert!(validate("ipallowlist", &entries[..1]).is_ok());
        assert!(validate("ipallowlist", &[]).is_ok());
    }
}

/// Property tests: allowlist entries and `--trusted-proxies` come from outside.
#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;
    use std::net::{Ipv4Addr, Ipv6Addr};

    fn any_ip() -> impl Strategy<Value = IpAddr> {
        prop_oneof![
            any::<u32>().prop_map(|b| IpAddr::V4(Ipv4Addr::from(b))),
            any::<u128>().prop_map(|b| IpAddr::V6(Ipv6Addr::from(b))),
        ]
    }

    fn any_range() -> impl Strategy<Value = IpRange> {
        any_ip().prop_flat_map(|addr| {
            let width = if addr.is_ipv4() { 32u8 } else { 128 };
            (0..=width).prop_map(move |prefix| IpRange { addr, prefix })
        })
    }

    /// Texts near valid ones: a valid range with a few characters changed.
    fn mangled() -> impl Strategy<Value = String> {
        (
            any_range(),
            proptest::collection::vec((any::<usize>(), "[0-9a-fA-F:./, %+-]"), 0..4),
        )
            .prop_map(|(range, edits)| {
                let mut text: Vec<char> =
                    format!("{}/{}", range.addr, range.prefix).chars().collect();
                for (at, with) in edits {
                    let at = at % (text.len() + 1);
                    text.splice(at..at, with.chars());
                }
                text.into_iter().collect()
            })
    }

    proptest! {
        #[test]
        fn parsing_never_panics(text in any::<String>()) {
            let _ = IpRange::parse(&text);
            let _ = parse_ranges(&text);
        }

        #[test]
        fn what_parses_prints_back_to_itself(text in prop_oneof![mangled(), "[0-9./:]{0,20}"]) {
            if let Some(range) = IpRange::parse(&text) {
                let width = if range.addr.is_ipv4() { 32 } else { 128 };
                prop_assert!(range.prefix <= width);
                let printed = format!("{}/{}", range.addr, range.prefix);
                prop_assert_eq!(IpRange::parse(&printed), Some(range));
            }
        }

        #[test]
        fn valid_ranges_parse(range in any_range()) {
            let text = format!("{}/{}", range.addr, range.prefix);
            prop_assert_eq!(IpRange::parse(&text), Some(range));
            let width = if range.addr.is_ipv4() { 32 } else { 128 };
            prop_assert_eq!(IpRange::parse(&range.addr.to_string()), Some(IpRange { addr: range.addr, prefix: width }));
            let list = format!("{text}, {}", range.addr);
            prop_assert_eq!(parse_ranges(&list).map(|r| r.len()), Some(2));
        }

        #[test]
        fn containment_is_a_prefix_match(range in any_range(), ip in any_ip()) {
            // Reference: compare the leading `prefix` bits one by one.
            let bits = |addr: IpAddr| -> Vec<bool> {
                let bytes = match addr {
                    IpAddr::V4(a) => a.octets().to_vec(),
                    IpAddr::V6(a) => a.octets().to_vec(),
                };
                bytes.iter().flat_map(|b| (0..8).rev().map(move |i| b >> i & 1 == 1)).collect()
            };
            let expected = range.addr.is_ipv4() == ip.is_ipv4()
                && bits(range.addr)[..range.prefix as usize] == bits(ip)[..range.prefix as usize];
            prop_assert_eq!(range.contains(ip), expected);
            prop_assert!(range.contains(range.addr));
        }
    }
}
