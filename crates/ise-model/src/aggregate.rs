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
pub fn aggregate_v4(prefixes: &[Ipv4Net]) -> Vec<Ipv4Net> {
    let mut out = Ipv4Net::aggregate(&prefixes.to_vec());
    out.sort();
    out
}

/// The fewest IPv6 prefixes covering exactly the addresses of `prefixes`, ascending.
pub fn aggregate_v6(prefixes: &[Ipv6Net]) -> Vec<Ipv6Net> {
    let mut out = Ipv6Net::aggregate(&prefixes.to_vec());
    out.sort();
    out
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
            aggregate_v4(&[v4("10.0.1.0/24"), v4("10.0.0.0/24"), v4("10.0.0.128/25"), v4("192.0.2.1/32")]),
            [v4("10.0.0.0/23"), v4("192.0.2.1/32")]
        );
        // Adjacent but not aligned: stays two prefixes.
        assert_eq!(aggregate_v4(&[v4("10.0.1.0/24"), v4("10.0.2.0/24")]).len(), 2);
        assert_eq!(
            aggregate_v6(&[v6("2001:db8::/33"), v6("2001:db8:8000::/33"), v6("2001:db8::1/128")]),
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

    proptest! {
        #[test]
        fn aggregation_keeps_every_address_and_no_more(raw in prop::collection::vec((any::<u32>(), 8u8..=32), 0..40)) {
            let input: Vec<Ipv4Net> = raw.iter().map(|(a, l)| Ipv4Net::new((*a & 0xff00_ffff).into(), *l).unwrap().trunc()).collect();
            let out = aggregate_v4(&input);
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
