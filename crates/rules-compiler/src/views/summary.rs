//! Short words for big sets: an address list of 40,000 prefixes reads `Internet except
//! 0.0.0.0/8,10.0.0.0/8,100.64.0.0/10,... (1,532 prefixes)`, `any`, `any outside the VNet`, or
//! its first few entries and a count; port and protocol lists likewise. Only for people: JSON
//! keeps the full lists.

use crate::engine::flows::FlowPiece;
use crate::engine::intervals::IntervalSet;
use crate::engine::PacketProtocol;
use ipnet::Ipv4Net;
use ise_model::ports::PortRange;

/// How many entries of a long list are shown before the count.
const SHOWN: usize = 3;

/// Address sets worth calling by name (the VNet, Internet), compared exactly.
#[derive(Debug, Clone, Default)]
pub struct Names {
    /// Each name's set and its complement (for `any outside NAME`), computed once for all lines.
    named: Vec<(String, IntervalSet<u32>, IntervalSet<u32>)>,
}

impl Names {
    pub fn new(named: Vec<(String, Vec<Ipv4Net>)>) -> Self {
        Names {
            named: named
                .into_iter()
                .map(|(n, p)| {
                    let set = IntervalSet::from_prefixes(p);
                    let outside = set.complement();
                    (n, set, outside)
                })
                .collect(),
        }
    }
}

impl Names {
    /// These names, and first `members`: the addresses VirtualNetwork members the environment
    /// does not declare may have (the far side of F0109).
    pub fn for_undeclared_members(&self, members: &IntervalSet<u32>) -> Names {
        let mut named = self.named.clone();
        named.insert(0, ("any undeclared address".into(), members.clone(), members.complement()));
        Names { named }
    }
}

/// The first names of a list, and how many more: a policy may hold dozens of groups, a template
/// thousands of resources, and a message is one line.
pub fn first_names(names: &[String]) -> String {
    const SHOWN: usize = 12;
    match names.len() {
        n if n <= SHOWN => names.join(", "),
        n => format!("{} and {} more", names[..SHOWN].join(", "), count(n - SHOWN)),
    }
}

/// Thousands separated with commas, as people read counts.
pub fn count(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        let left = digits.len() - i;
        if i > 0 && left / 3 * 3 == left {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn list<T: std::fmt::Display>(items: &[T], noun: &str) -> String {
    first_of(items.iter(), items.len(), noun)
}

/// The first items of `total`, and how many there are: all of them when only one more would be
/// left out.
fn first_of<T: std::fmt::Display>(items: impl Iterator<Item = T>, total: usize, noun: &str) -> String {
    if total <= SHOWN + 1 {
        return items.map(|x| x.to_string()).collect::<Vec<_>>().join(",");
    }
    let shown: Vec<String> = items.take(SHOWN).map(|x| x.to_string()).collect();
    format!("{},... ({} {noun})", shown.join(","), count(total))
}

/// An address set in a few words.
pub fn addresses(prefixes: &[Ipv4Net], names: &Names) -> String {
    let set = IntervalSet::from_prefixes(prefixes.iter().copied());
    if set.is_empty() {
        return "none".into();
    }
    if set.is_full() {
        return "any".into();
    }
    for (name, named, outside) in &names.named {
        if *named == set {
            return name.clone();
        }
        if *outside == set {
            return format!("any outside {name}");
        }
        if set.is_subset(named) {
            // Counted first: the prefixes are made only when they are shown.
            let missing = named.difference(&set);
            let n = missing.prefix_count();
            if n <= SHOWN {
                return format!("{name} except {}", list(&missing.to_prefixes(), "prefixes"));
            }
            if n < prefixes.len() {
                // The first few say where the gaps are (a deny's bogon list, a carved range).
                return format!("{name} except {}", first_of(missing.prefixes(), n, "prefixes"));
            }
        }
    }
    let complement = set.complement();
    // A set takes at least one prefix per interval.
    if complement.intervals().len() <= SHOWN && complement.prefix_count() <= SHOWN {
        return format!("any except {}", list(&complement.to_prefixes(), "prefixes"));
    }
    list(prefixes, "prefixes")
}

pub fn ports(ranges: &[PortRange]) -> String {
    if ranges.iter().any(|r| r.is_any()) {
        return "all ports".into();
    }
    let word = if ranges.len() == 1 && ranges[0].lo == ranges[0].hi {
        "port"
    } else {
        "ports"
    };
    format!("{word} {}", list(ranges, "ranges"))
}

pub fn protocols(protocols: &[PacketProtocol]) -> String {
    if protocols.len() == PacketProtocol::ALL.len() {
        return "any protocol".into();
    }
    protocols.iter().map(|p| p.as_str()).collect::<Vec<_>>().join(",")
}

/// One flow on one line: `tcp any -> 10.20.1.0/25 port 443` (source ports only when not all).
pub fn flow(f: &FlowPiece, names: &Names) -> String {
    let source_ports = if f.src_ports.iter().any(|r| r.is_any()) {
        String::new()
    } else {
        format!(" from {}", ports(&f.src_ports))
    };
    let with_ports = f.protocols.iter().any(|p| p.has_ports());
    format!(
        "{} {}{source_ports} -> {}{}",
        protocols(&f.protocols),
        addresses(&f.src, names),
        addresses(&f.dst, names),
        if with_ports {
            format!(" {}", ports(&f.dst_ports))
        } else {
            String::new()
        }
    )
}

/// Flows on one line: the first two and a count of the rest.
pub fn flows(list: &[FlowPiece], names: &Names) -> String {
    let shown: Vec<String> = list.iter().take(2).map(|f| flow(f, names)).collect();
    match list.len() {
        0..=2 => shown.join("; "),
        n => format!("{}; and {} more flows", shown.join("; "), count(n - 2)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nets(list: &[&str]) -> Vec<Ipv4Net> {
        list.iter().map(|s| s.parse().unwrap()).collect()
    }

    #[test]
    fn big_sets_read_in_a_few_words() {
        let vnet = nets(&["10.20.0.0/16"]);
        let names = Names::new(vec![("the VNet".into(), vnet.clone())]);
        assert_eq!(addresses(&nets(&["0.0.0.0/0"]), &names), "any");
        assert_eq!(addresses(&vnet, &names), "the VNet");
        // Everything but the VNet, whatever prefixes it takes to say so.
        let outside = IntervalSet::<u32>::full()
            .difference(&IntervalSet::from_prefixes(vnet.clone()))
            .to_prefixes();
        assert_eq!(addresses(&outside, &names), "any outside the VNet");
        assert_eq!(addresses(&nets(&["10.20.1.0/25"]), &names), "10.20.1.0/25");
        assert_eq!(addresses(&nets(&["0.0.0.0/1"]), &Names::default()), "any except 128.0.0.0/1");
        let many = nets(&["1.0.0.0/8", "2.0.0.0/8", "3.0.0.0/8", "5.0.0.0/8", "7.0.0.0/8", "9.0.0.0/8"]);
        assert_eq!(
            addresses(&many, &Names::default()),
            "1.0.0.0/8,2.0.0.0/8,3.0.0.0/8,... (6 prefixes)"
        );
        // A name less many prefixes: the first gaps, in address order, and how many there are
        // (9.0.0.0/8 and 10.0.0.0/8 make no aligned /7).
        let internet = Names::new(vec![("Internet".into(), nets(&["0.0.0.0/0"]))]);
        let carved = IntervalSet::<u32>::full()
            .difference(&IntervalSet::from_prefixes(nets(&[
                "9.0.0.0/8",
                "10.0.0.0/8",
                "172.16.0.0/12",
                "192.168.0.0/16",
                "0.0.0.0/8",
            ])))
            .to_prefixes();
        assert_eq!(
            addresses(&carved, &internet),
            "Internet except 0.0.0.0/8,9.0.0.0/8,10.0.0.0/8,... (5 prefixes)"
        );
    }

    #[test]
    fn counts_ports_and_protocols() {
        assert_eq!(count(1532), "1,532");
        assert_eq!(count(999), "999");
        assert_eq!(count(1_000_000), "1,000,000");
        assert_eq!(ports(&[PortRange::ANY]), "all ports");
        assert_eq!(ports(&[PortRange::single(443)]), "port 443");
        assert_eq!(protocols(&PacketProtocol::ALL), "any protocol");
        assert_eq!(protocols(&[PacketProtocol::Tcp]), "tcp");
    }
}
