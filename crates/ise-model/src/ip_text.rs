//! IP addresses and prefixes as text, read one way by every reader (the environment, NSG, route
//! table and firewall files, `explain`): IPv4 octets and prefix lengths are decimal numbers without
//! leading zeros. `010.10.0.0/16` is refused, not guessed: `inet_aton` reads `010` as octal 8 where
//! others read decimal 10. Rust's address parser refuses such addresses, and the environment's
//! JSON Schema such prefixes; `ipnet`'s prefix parser would read them as decimal.

use ipnet::{IpNet, Ipv6Net};
use std::net::IpAddr;

/// A prefix `a.b.c.d/n` (host bits allowed: callers decide) or an IPv6 prefix.
pub fn prefix(s: &str) -> Option<IpNet> {
    if s.contains(':') {
        return s.parse::<Ipv6Net>().ok().map(IpNet::V6);
    }
    crate::servicetags::canonical_v4(s).map(IpNet::V4)
}

/// An address (as a /32 or /128) or a prefix.
pub fn address_or_prefix(s: &str) -> Option<IpNet> {
    prefix(s).or_else(|| s.parse::<IpAddr>().ok().map(IpNet::from))
}

/// Whether `s` is a dotted IPv4 address or prefix refused only for a leading zero in one of its
/// numbers (`010.10.0.0/16`, `10.10.0.04`, `10.0.0.0/08`): the help then says why.
pub fn has_leading_zero(s: &str) -> bool {
    let numbers: Vec<&str> = s.split(['.', '/']).collect();
    let dotted = s.matches('.').count() == 3 && s.matches('/').count() <= 1 && !s.starts_with('/');
    dotted
        && numbers.iter().all(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        && numbers.iter().any(|n| n.len() > 1 && n.starts_with('0'))
}

/// The help for a text refused by [`has_leading_zero`].
pub fn leading_zero_help(s: &str) -> String {
    let decimal: Vec<String> = s
        .split_inclusive(['.', '/'])
        .map(|part| {
            let (digits, sep) = part.split_at(part.trim_end_matches(['.', '/']).len());
            let trimmed = digits.trim_start_matches('0');
            format!("{}{sep}", if trimmed.is_empty() { "0" } else { trimmed })
        })
        .collect();
    format!(
        "write each number in decimal without leading zeros (`{}` if decimal is meant): some tools read a leading 0 as octal",
        decimal.concat()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn leading_zeros_are_refused_in_addresses_and_prefixes() {
        for s in [
            "010.010.0.0/16",
            "10.10.0.0/016",
            "10.0.0.0/08",
            "192.168.001.5",
            "10.10.0.04",
            "00.0.0.0/0",
        ] {
            assert_eq!(address_or_prefix(s), None, "{s}");
            assert!(has_leading_zero(s), "{s}");
        }
        assert_eq!(
            leading_zero_help("010.010.0.0/016"),
            "write each number in decimal without leading zeros (`10.10.0.0/16` if decimal is meant): some tools read a leading 0 as octal"
        );
        assert!(leading_zero_help("10.0.00.4").contains("`10.0.0.4`"));
        for s in ["10.10.0.0/16", "0.0.0.0/0", "10.0.0.0/8", "192.168.1.5", "2001:db8::/32", "::1"] {
            assert!(address_or_prefix(s).is_some(), "{s}");
            assert!(!has_leading_zero(s), "{s}");
        }
        for s in ["10.0.0.1", "0010::/16"] {
            assert_eq!(prefix(s).is_some(), s.contains(':'), "{s}");
        }
        for s in ["Storage", "10.0.0.0/33", "10.0.0/8", "1.2.3.4.5", "010"] {
            assert!(!has_leading_zero(s), "{s}");
            assert_eq!(address_or_prefix(s), None, "{s}");
        }
    }

    proptest! {
        /// Every canonical IPv4 prefix and address is read as ipnet and std read it.
        #[test]
        fn canonical_forms_read_as_before(a: [u8; 4], len in 0u8..=32) {
            let p = format!("{}.{}.{}.{}/{len}", a[0], a[1], a[2], a[3]);
            prop_assert_eq!(prefix(&p), p.parse::<IpNet>().ok());
            let ip = format!("{}.{}.{}.{}", a[0], a[1], a[2], a[3]);
            prop_assert_eq!(address_or_prefix(&ip), Some(IpNet::from(ip.parse::<IpAddr>().unwrap())));
        }

        /// A leading zero put into any number of a canonical prefix makes it unreadable.
        #[test]
        fn a_leading_zero_anywhere_is_refused(a: [u8; 4], len in 0u8..=32, at in 0usize..5) {
            let mut parts: Vec<String> = a.iter().map(u8::to_string).chain([len.to_string()]).collect();
            parts[at].insert(0, '0');
            let s = format!("{}.{}.{}.{}/{}", parts[0], parts[1], parts[2], parts[3], parts[4]);
            prop_assert_eq!(prefix(&s), None);
            prop_assert!(has_leading_zero(&s));
        }
    }
}
