//! Prefix lists as appliances want them: split by address family and aggregated (adjacent prefixes
//! merged, contained prefixes dropped), sorted. Azure's tag files are mostly aggregated per tag
//! already, but not always (`AzureCloud` lists regional blocks that merge).

use ipnet::{IpNet, Ipv4Net, Ipv6Net};

/// IPv4 and IPv6 prefixes of a mixed list, each in input order.
pub fn split_families(prefixes: &[IpNet]) -> (Vec<Ipv4Net>, Vec<Ipv6Net>) {
    let mut v4 = Vec::new();
    let mut v6 = Vec::new();
    for p in prefixes {
        match p {
            IpNet::V4(n) => v4.push(*n),
            IpNet::V6(n) => v6.push(*n),
        }
    }
    (v4, v6)
}

/// The fewest IPv4 prefixes covering exactly the addresses of `prefixes`, ascending.
pub fn aggregate_v4(prefixes: Vec<Ipv4Net>) -> Vec<Ipv4Net> {
    if is_aggregated(&prefixes) {
        return prefixes;
    }
    let mut out = Ipv4Net::aggregate(&prefixes);
    out.sort();
    out
}

/// The fewest IPv6 prefixes covering exactly the addresses of `prefixes`, ascending.
pub fn aggregate_v6(prefixes: Vec<Ipv6Net>) -> Vec<Ipv6Net> {
    if is_aggregated(&prefixes) {
        return prefixes;
    }
    let mut out = Ipv6Net::aggregate(&prefixes);
    out.sort();
    out
}

/// Whether a list is already its own aggregate, checked in one pass: most tags of Azure's files
/// are, and `ipnet`'s aggregation (intervals built, sorted, merged and split again) was a tenth of
/// an `--expand-tags` compile. Such a list is ascending, each prefix written without host bits and
/// ending before the next begins, and no two neighbours are the halves of one larger prefix: were
/// the list not minimal, the smallest prefix it covers with several members would have both its
/// halves as members, and they would be neighbours.
fn is_aggregated<P: Block>(prefixes: &[P]) -> bool {
    let mut previous: Option<Span> = None;
    for p in prefixes {
        let span = p.span();
        if span.first & span.host_mask() != 0 {
            return false;
        }
        if let Some(before) = previous {
            let siblings = before.host_bits == span.host_bits && before.parent().is_some_and(|p| Some(p) == span.parent());
            if before.last() >= span.first || siblings {
                return false;
            }
        }
        previous = Some(span);
    }
    true
}

/// A prefix as numbers: its address as written and how many host bits it has.
#[derive(Clone, Copy)]
struct Span {
    first: u128,
    host_bits: u32,
}

impl Span {
    fn host_mask(self) -> u128 {
        u128::MAX.checked_shr(128 - self.host_bits).unwrap_or(0)
    }

    /// The address of the prefix one bit shorter, shifted right past its host bits (`None` for
    /// the whole IPv6 space; IPv4's has no neighbour to compare it with).
    fn parent(self) -> Option<u128> {
        (self.host_bits < 128).then(|| self.first.checked_shr(self.host_bits + 1).unwrap_or(0))
    }

    fn last(self) -> u128 {
        self.first | self.host_mask()
    }
}

/// Both families as [`Span`]s, for [`is_aggregated`].
trait Block {
    fn span(&self) -> Span;
}

impl Block for Ipv4Net {
    fn span(&self) -> Span {
        Span {
            first: u32::from(self.addr()).into(),
            host_bits: u32::from(32 - self.prefix_len()),
        }
    }
}

impl Block for Ipv6Net {
    fn span(&self) -> Span {
        Span {
            first: u128::from(self.addr()),
            host_bits: u32::from(128 - self.prefix_len()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn v4(s: &str) -> Ipv4Net {
        s.parse().unwrap()
    }
    fn v6(s: &str) -> Ipv6Net {
        s.parse().unwrap()
    }

    #[test]
    fn adjacent_and_contained_prefixes_merge() {
        assert_eq!(
            aggregate_v4(vec![v4("10.0.1.0/24"), v4("10.0.0.0/24"), v4("10.0.0.128/25"), v4("192.0.2.1/32")]),
            [v4("10.0.0.0/23"), v4("192.0.2.1/32")]
        );
        // Adjacent but not aligned: stays two prefixes.
        assert_eq!(aggregate_v4(vec![v4("10.0.1.0/24"), v4("10.0.2.0/24")]).len(), 2);
        assert_eq!(
            aggregate_v6(vec![v6("2001:db8::/33"), v6("2001:db8:8000::/33"), v6("2001:db8::1/128")]),
            [v6("2001:db8::/32")]
        );
        let (a, b) = split_families(&["10.0.0.0/8".parse().unwrap(), "2001:db8::/32".parse().unwrap()]);
        assert_eq!((a.len(), b.len()), (1, 1));
    }

    /// Independent count of the addresses a list covers, by walking sorted intervals.
    fn address_count(prefixes: &[Ipv4Net]) -> u64 {
        let mut iv: Vec<(u64, u64)> = prefixes
            .iter()
            .map(|p| (u64::from(u32::from(p.network())), u64::from(u32::from(p.broadcast()))))
            .collect();
        iv.sort();
        let (mut total, mut next) = (0u64, 0u64);
        for (lo, hi) in iv {
            let lo = lo.max(next);
            if hi >= lo {
                total += hi - lo + 1;
                next = hi + 1;
            }
        }
        total
    }

    /// `ipnet`'s aggregate, sorted: what the one-pass check must agree with.
    fn by_ipnet_v4(prefixes: &[Ipv4Net]) -> Vec<Ipv4Net> {
        let mut out = Ipv4Net::aggregate(&prefixes.to_vec());
        out.sort();
        out
    }

    fn by_ipnet_v6(prefixes: &[Ipv6Net]) -> Vec<Ipv6Net> {
        let mut out = Ipv6Net::aggregate(&prefixes.to_vec());
        out.sort();
        out
    }

    #[test]
    fn lists_that_only_look_aggregated_are_aggregated() {
        // Ascending and disjoint, but halves of one /23: merged.
        assert_eq!(aggregate_v4(vec![v4("10.0.0.0/24"), v4("10.0.1.0/24")]), [v4("10.0.0.0/23")]);
        // Host bits set: written as the network.
        assert_eq!(aggregate_v4(vec![v4("10.0.0.1/24")]), [v4("10.0.0.0/24")]);
        // Not ascending.
        assert_eq!(
            aggregate_v4(vec![v4("10.0.2.0/24"), v4("10.0.0.0/24")]),
            [v4("10.0.0.0/24"), v4("10.0.2.0/24")]
        );
        // Overlapping.
        assert_eq!(aggregate_v4(vec![v4("10.0.0.0/16"), v4("10.0.3.0/24")]), [v4("10.0.0.0/16")]);
        // Neighbours of one length, not halves of one prefix: kept.
        assert_eq!(
            aggregate_v4(vec![v4("10.0.1.0/24"), v4("10.0.2.0/24")]),
            [v4("10.0.1.0/24"), v4("10.0.2.0/24")]
        );
        // The whole space has no larger prefix to merge into.
        assert_eq!(aggregate_v6(vec![v6("::/0")]), [v6("::/0")]);
        assert_eq!(aggregate_v6(vec![v6("::/1"), v6("8000::/1")]), [v6("::/0")]);
    }

    /// Prefixes drawn near each other (a few high bits fixed) so that siblings, overlaps and
    /// neighbours are common.
    fn near_v4() -> impl Strategy<Value = Vec<Ipv4Net>> {
        prop::collection::vec((0u32..64, 26u8..=32), 0..24).prop_map(|raw| {
            raw.into_iter()
                .map(|(a, l)| Ipv4Net::new((0x0a00_0000 | (a << 2)).into(), l).unwrap())
                .collect()
        })
    }

    fn near_v6() -> impl Strategy<Value = Vec<Ipv6Net>> {
        prop::collection::vec((0u128..64, 122u8..=128), 0..24).prop_map(|raw| {
            raw.into_iter()
                .map(|(a, l)| Ipv6Net::new((0x2001_0db8_u128 << 96 | (a << 2)).into(), l).unwrap())
                .collect()
        })
    }

    proptest! {
        /// Whatever the list (aggregated, sorted, or neither), the result is `ipnet`'s.
        #[test]
        fn agrees_with_ipnet(raw in near_v4(), raw6 in near_v6(), sort_first in any::<bool>()) {
            let (mut v4s, mut v6s) = (raw, raw6);
            if sort_first {
                v4s.sort();
                v4s.dedup_by(|b, a| a.contains(&*b) || b.contains(&*a));
                v6s.sort();
                v6s.dedup_by(|b, a| a.contains(&*b) || b.contains(&*a));
            }
            prop_assert_eq!(aggregate_v4(v4s.clone()), by_ipnet_v4(&v4s));
            prop_assert_eq!(aggregate_v6(v6s.clone()), by_ipnet_v6(&v6s));
            // An aggregate is its own aggregate, by the one-pass check.
            let once = by_ipnet_v4(&v4s);
            prop_assert!(is_aggregated(&once));
            prop_assert!(is_aggregated(&by_ipnet_v6(&v6s)));
        }

        #[test]
        fn aggregation_keeps_every_address_and_no_more(raw in prop::collection::vec((any::<u32>(), 8u8..=32), 0..40)) {
            let input: Vec<Ipv4Net> = raw.iter().map(|(a, l)| Ipv4Net::new((*a & 0xff00_ffff).into(), *l).unwrap().trunc()).collect();
            let out = aggregate_v4(input.clone());
            prop_assert_eq!(address_count(&out), address_count(&input));
            for p in &input {
                prop_assert!(out.iter().any(|o| o.contains(p)));
            }
            // Disjoint and sorted: no prefix contains another.
            for w in out.windows(2) {
                prop_assert!(w[0] < w[1] && !w[0].contains(&w[1]));
            }
            prop_assert!(out.len() <= input.len().max(1) || input.is_empty());
        }
    }
}
