//! The text of an IPv4 prefix (`10.0.0.0/16`) without `core::fmt`: `--expand-tags` writes thousands
//! of prefixes into every artifact, and `Display` (padding support, one write per octet) cost more
//! than the rest of the artifact.

use ipnet::Ipv4Net;
use serde::{Serialize, Serializer};

/// Room for the longest form, `255.255.255.255/32`.
pub type Buf = [u8; 18];

/// Writes `net` as `Display` would (`a.b.c.d/len`) into `buf` and returns it.
pub fn ipv4_net<'b>(net: &Ipv4Net, buf: &'b mut Buf) -> &'b str {
    let mut n = 0;
    for (i, octet) in net.addr().octets().into_iter().enumerate() {
        if i > 0 {
            buf[n] = b'.';
            n += 1;
        }
        n += decimal(octet, &mut buf[n..]);
    }
    buf[n] = b'/';
    n += 1;
    n += decimal(net.prefix_len(), &mut buf[n..]);
    std::str::from_utf8(&buf[..n]).expect("ASCII digits")
}

/// Writes `v` in decimal at the start of `out`; returns the length (1 to 3).
fn decimal(v: u8, out: &mut [u8]) -> usize {
    if v >= 100 {
        out[0] = b'0' + v / 100;
        out[1] = b'0' + v / 10 % 10;
        out[2] = b'0' + v % 10;
        3
    } else if v >= 10 {
        out[0] = b'0' + v / 10;
        out[1] = b'0' + v % 10;
        2
    } else {
        out[0] = b'0' + v;
        1
    }
}

/// Appends `net`'s text to `out`.
pub fn push_ipv4_net(out: &mut String, net: &Ipv4Net) {
    out.push_str(ipv4_net(net, &mut Buf::default()));
}

/// A prefix that serialises as its text.
pub struct Ipv4Text<'a>(pub &'a Ipv4Net);

impl Serialize for Ipv4Text<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(ipv4_net(self.0, &mut Buf::default()))
    }
}

/// A list of prefixes that serialises as a list of their texts.
pub struct Ipv4List<'a>(pub &'a [Ipv4Net]);

impl Serialize for Ipv4List<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter().map(Ipv4Text))
    }
}

#[cfg(test)]
mod tests {
    use ipnet::Ipv4Net;
    use proptest::prelude::*;
    use std::net::Ipv4Addr;

    proptest! {
        #[test]
        fn text_is_display(addr in any::<u32>(), len in 0u8..=32) {
            let net = Ipv4Net::new(Ipv4Addr::from(addr), len).unwrap();
            prop_assert_eq!(super::ipv4_net(&net, &mut super::Buf::default()), net.to_string());
        }
    }

    #[test]
    fn extremes() {
        for s in ["0.0.0.0/0", "255.255.255.255/32", "10.0.0.0/8", "100.64.9.1/10"] {
            let net: Ipv4Net = s.parse().unwrap();
            assert_eq!(super::ipv4_net(&net, &mut super::Buf::default()), s);
        }
    }
}
