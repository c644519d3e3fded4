//! Port ranges as Azure writes them: `*`, `443`, `454-455`; lists are comma-separated in our data.

use crate::diag::excerpt;
use serde::{Serialize, Serializer};
use std::fmt;

/// An inclusive port range; `*` is 0-65535.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PortRange {
    pub lo: u16,
    pub hi: u16,
}

impl PortRange {
    pub const ANY: PortRange = PortRange { lo: 0, hi: 65535 };
    pub fn single(p: u16) -> Self {
        PortRange { lo: p, hi: p }
    }
    pub fn is_any(&self) -> bool {
        *self == Self::ANY
    }

    /// Azure Firewall's network and application rules take ports 1-65535 (data/azure-limits.csv)
    /// or `*`; an NSG also takes port 0.
    pub fn azure_firewall_takes(&self) -> bool {
        self.is_any() || self.lo >= 1
    }

    /// Parses `*`, `N` or `A-B` (A <= B, both 0-65535). The error says what is wrong.
    pub fn parse(text: &str) -> Result<Self, String> {
        let t = text.trim();
        if t == "*" {
            return Ok(Self::ANY);
        }
        let num = |s: &str| -> Result<u16, String> {
            let s = s.trim();
            if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
                return Err(format!("`{}` is not a port number", excerpt(s)));
            }
            s.parse::<u32>()
                .ok()
                .filter(|n| *n <= 65535)
                .map(|n| n as u16)
                .ok_or_else(|| format!("port {} is outside 0-65535", excerpt(s)))
        };
        match t.split_once('-') {
            Some((a, b)) => {
                // A side left empty (`-1`, `80-`) is no range: quote what was written, not the
                // empty side.
                if a.trim().is_empty() || b.trim().is_empty() {
                    return Err(format!("`{}` is not a port number", excerpt(t)));
                }
                let (lo, hi) = (num(a)?, num(b)?);
                if lo > hi {
                    return Err(format!("range `{}` starts after it ends", excerpt(t)));
                }
                Ok(PortRange { lo, hi })
            }
            None => num(t).map(PortRange::single),
        }
    }
}

impl fmt::Display for PortRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_any() {
            write!(f, "*")
        } else if self.lo == self.hi {
            write!(f, "{}", self.lo)
        } else {
            write!(f, "{}-{}", self.lo, self.hi)
        }
    }
}

impl Serialize for PortRange {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Parses a comma-separated list (`80,443,445`, `454-455`, `*`).
pub fn parse_list(text: &str) -> Result<Vec<PortRange>, String> {
    text.split(',').map(PortRange::parse).collect()
}

/// Sorts and merges overlapping or adjacent ranges: `454,455` and `454-455` become the same list.
pub fn normalise(ports: &[PortRange]) -> Vec<PortRange> {
    let mut sorted = ports.to_vec();
    sorted.sort();
    let mut out: Vec<PortRange> = Vec::with_capacity(sorted.len());
    for r in sorted {
        match out.last_mut() {
            Some(last) if u32::from(r.lo) <= u32::from(last.hi) + 1 => last.hi = last.hi.max(r.hi),
            _ => out.push(r),
        }
    }
    out
}

/// Formats a list the way our tables and NSG descriptions show it: `80,443`.
pub fn format_list(ports: &[PortRange]) -> String {
    ports.iter().map(ToString::to_string).collect::<Vec<_>>().join(",")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_azure_forms() {
        assert_eq!(PortRange::parse("*"), Ok(PortRange::ANY));
        assert_eq!(PortRange::parse("443"), Ok(PortRange::single(443)));
        assert_eq!(PortRange::parse("454-455"), Ok(PortRange { lo: 454, hi: 455 }));
        assert!(PortRange::parse("70000").is_err());
        assert!(PortRange::parse("455-454").is_err());
        assert!(PortRange::parse("ssh").is_err());
        assert!(PortRange::parse("").is_err());
        assert_eq!(parse_list("80,443,445").unwrap().len(), 3);
    }

    #[test]
    fn errors_quote_the_text_as_written() {
        // A negative number splits as a range with an empty start; the message must still say
        // which text is wrong.
        assert_eq!(PortRange::parse("-1"), Err("`-1` is not a port number".to_string()));
        assert_eq!(PortRange::parse("80-"), Err("`80-` is not a port number".to_string()));
        assert_eq!(PortRange::parse("-"), Err("`-` is not a port number".to_string()));
        assert_eq!(PortRange::parse("80-x"), Err("`x` is not a port number".to_string()));
        assert_eq!(parse_list("443,-1"), Err("`-1` is not a port number".to_string()));
        // A long value is quoted as its first 60 characters and its length, never whole.
        let nines = "9".repeat(100_000);
        let sixty = &nines[..60];
        assert_eq!(
            PortRange::parse(&nines),
            Err(format!("port {sixty}... (100000 characters) is outside 0-65535"))
        );
        assert_eq!(
            PortRange::parse(&format!("x{nines}")),
            Err(format!("`x{}... (100001 characters)` is not a port number", &sixty[1..]))
        );
    }

    #[test]
    fn normalise_merges_adjacent_and_overlapping() {
        assert_eq!(normalise(&parse_list("455,454").unwrap()), parse_list("454-455").unwrap());
        assert_eq!(normalise(&parse_list("80,443,445").unwrap()), parse_list("80,443,445").unwrap());
        assert_eq!(normalise(&parse_list("10-20,15-30,31").unwrap()), parse_list("10-31").unwrap());
    }

    proptest! {
        #[test]
        fn normalise_keeps_the_same_port_set(ranges in proptest::collection::vec((0u16..200, 0u16..20), 0..8)) {
            let list: Vec<PortRange> = ranges.iter().map(|(lo, len)| PortRange { lo: *lo, hi: lo + len }).collect();
            let merged = normalise(&list);
            for p in 0u16..230 {
                prop_assert_eq!(list.iter().any(|r| r.lo <= p && p <= r.hi), merged.iter().any(|r| r.lo <= p && p <= r.hi));
            }
            // Merged ranges are sorted and separated by at least one port.
            for w in merged.windows(2) {
                prop_assert!(u32::from(w[0].hi) + 1 < u32::from(w[1].lo));
            }
        }

        #[test]
        fn display_round_trips(lo in 0u16.., len in 0u16..100) {
            let r = PortRange { lo, hi: lo.saturating_add(len) };
            prop_assert_eq!(PortRange::parse(&r.to_string()), Ok(r));
        }
    }
}
