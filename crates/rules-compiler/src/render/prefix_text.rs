//! The text of a prefix (`10.0.0.0/16`, `2603:1000::/40`) without `core::fmt`: `--expand-tags`
//! writes thousands of prefixes into every artifact, and `Display` (padding support, one formatted
//! write per octet or group) cost more than the rest of the artifact. The text is exactly
//! `Display`'s (tested against it), so artifacts do not change.

use super::text_cache::{self, Cached};
use ipnet::{Ipv4Net, Ipv6Net};
use serde::{Serialize, Serializer};

/// Room for the longest form of either family (`ffff:...:ffff/128` is 43 bytes).
type Buf = [u8; 48];

/// A prefix that can write its text into a byte buffer.
pub trait PrefixText {
    /// Writes the text at the start of `buf`; returns its length.
    fn write_text(&self, buf: &mut Buf) -> usize;
}

fn ascii(bytes: &[u8]) -> &str {
    std::str::from_utf8(bytes).expect("prefix text is ASCII")
}

/// The decimal text of every byte value, left-aligned, with its length last.
const DECIMALS: [[u8; 4]; 256] = {
    let mut t = [[0u8; 4]; 256];
    let mut v = 0;
    while v < 256 {
        let (h, d, u) = ((v / 100) as u8, (v / 10 % 10) as u8, (v % 10) as u8);
        t[v] = if v >= 100 {
            [b'0' + h, b'0' + d, b'0' + u, 3]
        } else if v >= 10 {
            [b'0' + d, b'0' + u, 0, 2]
        } else {
            [b'0' + u, 0, 0, 1]
        };
        v += 1;
    }
    t
};

/// Writes `v` in decimal at `buf[n..]`; returns the new length.
fn decimal(v: u8, buf: &mut [u8], n: usize) -> usize {
    let d = DECIMALS[usize::from(v)];
    buf[n..n + 3].copy_from_slice(&d[..3]);
    n + usize::from(d[3])
}

fn dotted(octets: [u8; 4], buf: &mut [u8], mut n: usize) -> usize {
    for (i, octet) in octets.into_iter().enumerate() {
        if i > 0 {
            buf[n] = b'.';
            n += 1;
        }
        n = decimal(octet, buf, n);
    }
    n
}

/// The two lowercase hex digits of every byte value.
const HEX_PAIRS: [[u8; 2]; 256] = {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut t = [[0u8; 2]; 256];
    let mut v = 0;
    while v < 256 {
        t[v] = [DIGITS[v >> 4], DIGITS[v & 0xf]];
        v += 1;
    }
    t
};

/// Writes `v` in lowercase hex without leading zeros at `buf[n..]`; returns the new length. All
/// four digits are written, shifted so that the wanted ones come first (one 4-byte store; what
/// follows them is overwritten by the next piece).
fn hex(v: u16, buf: &mut [u8], n: usize) -> usize {
    let [hi, lo] = v.to_be_bytes();
    let four = u32::from_be_bytes([
        HEX_PAIRS[usize::from(hi)][0],
        HEX_PAIRS[usize::from(hi)][1],
        HEX_PAIRS[usize::from(lo)][0],
        HEX_PAIRS[usize::from(lo)][1],
    ]);
    let digits = (16 - v.leading_zeros() as usize).div_ceil(4).max(1);
    let skipped = 4 - digits;
    buf[n..n + 4].copy_from_slice(&(four << (8 * skipped)).to_be_bytes());
    n + digits
}

/// Colon-separated groups.
fn groups(segments: &[u16], buf: &mut [u8], mut n: usize) -> usize {
    for (i, &s) in segments.iter().enumerate() {
        if i > 0 {
            buf[n] = b':';
            n += 1;
        }
        n = hex(s, buf, n);
    }
    n
}

fn suffix(len: u8, buf: &mut [u8], n: usize) -> usize {
    buf[n] = b'/';
    decimal(len, buf, n + 1)
}

impl PrefixText for Ipv4Net {
    fn write_text(&self, buf: &mut Buf) -> usize {
        let n = dotted(self.addr().octets(), buf, 0);
        suffix(self.prefix_len(), buf, n)
    }
}

impl PrefixText for Ipv6Net {
    /// As `Ipv6Addr`'s `Display` (RFC 5952): IPv4-mapped addresses as `::ffff:a.b.c.d`, otherwise
    /// the first longest run of two or more zero groups as `::`.
    fn write_text(&self, buf: &mut Buf) -> usize {
        let addr = self.addr();
        let segments = addr.segments();
        let mut n;
        if let Some(v4) = addr.to_ipv4_mapped() {
            buf[..7].copy_from_slice(b"::ffff:");
            n = dotted(v4.octets(), buf, 7);
        } else {
            let (mut start, mut len, mut run_start, mut run) = (0, 0, 0, 0);
            for (i, &s) in segments.iter().enumerate() {
                if s == 0 {
                    if run == 0 {
                        run_start = i;
                    }
                    run += 1;
                    if run > len {
                        (start, len) = (run_start, run);
                    }
                } else {
                    run = 0;
                }
            }
            if len > 1 {
                n = groups(&segments[..start], buf, 0);
                buf[n..n + 2].copy_from_slice(b"::");
                n = groups(&segments[start + len..], buf, n + 2);
            } else {
                n = groups(&segments, buf, 0);
            }
        }
        suffix(self.prefix_len(), buf, n)
    }
}

/// The prefixes' texts joined by `sep`, from the compile's cache when it holds the list (see
/// `text_cache`).
pub fn join<T: Cached>(items: &[T], sep: &str) -> String {
    match text_cache::texts(items) {
        Some(texts) => texts.joined(sep),
        None => write_joined(items, sep),
    }
}

/// The prefixes' texts joined by `sep`: written as bytes and checked as UTF-8 once for the whole
/// text (a check per prefix cost as much as writing it).
fn write_joined<T: PrefixText>(items: &[T], sep: &str) -> String {
    let mut out = Vec::with_capacity(items.len() * (20 + sep.len()));
    let mut buf = [0; 48];
    for (i, p) in items.iter().enumerate() {
        if i > 0 {
            out.extend_from_slice(sep.as_bytes());
        }
        let n = p.write_text(&mut buf);
        out.extend_from_slice(&buf[..n]);
    }
    String::from_utf8(out).expect("prefix text is ASCII")
}

/// A prefix that serialises as its text.
pub struct Text<'a, T>(pub &'a T);

impl<T: PrefixText> Serialize for Text<'_, T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut buf = [0; 48];
        let n = self.0.write_text(&mut buf);
        s.serialize_str(ascii(&buf[..n]))
    }
}

/// A list of prefixes that serialises as the list of their texts.
pub struct List<'a, T>(pub &'a [T]);

/// The newtype name a `List` serialises under: serializers see through it (a plain list of
/// strings), `canonical` recognises it and copies the texts without scanning them for escapes.
pub const LIST: &str = "$isenet::prefix_text::List";

impl<T: Cached> Serialize for List<'_, T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_newtype_struct(LIST, &Items(self.0))
    }
}

struct Items<'a, T>(&'a [T]);

impl<T: Cached> Serialize for Items<'_, T> {
    /// The texts written once per compile when a compile caches them (`text_cache`).
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match text_cache::texts(self.0) {
            Some(texts) => super::canonical::offering(&texts, || s.collect_seq(texts.iter())),
            None => s.collect_seq(self.0.iter().map(Text)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::PrefixText;
    use ipnet::{Ipv4Net, Ipv6Net};
    use proptest::prelude::*;
    use std::net::{Ipv4Addr, Ipv6Addr};

    fn text<T: PrefixText>(p: &T) -> String {
        super::write_joined(std::slice::from_ref(p), "")
    }

    /// Groups drawn so that zero runs, ties between runs and IPv4-mapped addresses are common.
    fn segment() -> impl Strategy<Value = u16> {
        prop_oneof![Just(0u16), Just(0xffff), 0u16..0x10, any::<u16>()]
    }

    proptest! {
        #[test]
        fn ipv4_text_is_display(addr in any::<u32>(), len in 0u8..=32) {
            let net = Ipv4Net::new(Ipv4Addr::from(addr), len).unwrap();
            prop_assert_eq!(text(&net), net.to_string());
        }

        #[test]
        fn ipv6_text_is_display(s in prop::array::uniform8(segment()), mapped in any::<bool>(), v4 in any::<u32>(), len in 0u8..=128) {
            let addr = if mapped { Ipv4Addr::from(v4).to_ipv6_mapped() } else { Ipv6Addr::from(s) };
            let net = Ipv6Net::new(addr, len).unwrap();
            prop_assert_eq!(text(&net), net.to_string());
        }

        #[test]
        fn lists_serialise_as_their_texts(addrs in prop::collection::vec(any::<u32>(), 0..5)) {
            let nets: Vec<Ipv4Net> = addrs.iter().map(|a| Ipv4Net::new(Ipv4Addr::from(*a), 24).unwrap()).collect();
            let texts: Vec<String> = nets.iter().map(ToString::to_string).collect();
            prop_assert_eq!(serde_json::to_value(super::List(&nets)).unwrap(), serde_json::json!(texts));
            prop_assert_eq!(super::join(&nets, " "), texts.join(" "));
        }

        /// Inside a compile's cache, a list long enough to be cached joins from its cached texts,
        /// the same as written afresh, whatever the separator.
        #[test]
        fn cached_lists_join_as_written(addrs in prop::collection::vec(any::<u32>(), 0..40), sep in prop_oneof![Just(" "), Just(", "), Just("")]) {
            let nets: Vec<Ipv4Net> = addrs.iter().map(|a| Ipv4Net::new(Ipv4Addr::from(*a), 28).unwrap().trunc()).collect();
            let texts: Vec<String> = nets.iter().map(ToString::to_string).collect();
            crate::render::text_cache::with_cache(|| {
                prop_assert_eq!(super::join(&nets, sep), texts.join(sep));
                prop_assert_eq!(super::join(&nets, sep), texts.join(sep));
                // Another separator after the first (the list keeps the first join only).
                prop_assert_eq!(super::join(&nets, "|"), texts.join("|"));
                prop_assert_eq!(super::join(&nets, sep), texts.join(sep));
                Ok(())
            })?;
        }

        /// The canonical writer copies the texts as they are: the same JSON and Bicep as for the
        /// list of their strings, at any depth.
        #[test]
        fn canonical_lists_are_the_lists_of_their_texts(s in prop::collection::vec(prop::array::uniform8(segment()), 0..5), len in 0u8..=128, indent in 0usize..6) {
            let nets: Vec<Ipv6Net> = s.iter().map(|s| Ipv6Net::new(Ipv6Addr::from(*s), len).unwrap()).collect();
            let texts: Vec<String> = nets.iter().map(ToString::to_string).collect();
            let nested = serde_json::json!({ "a": [texts] });
            #[derive(serde::Serialize)]
            struct Nested<'a> { a: [super::List<'a, Ipv6Net>; 1] }
            let list = Nested { a: [super::List(&nets)] };
            prop_assert_eq!(crate::render::canonical::json(&list), serde_json::to_string_pretty(&nested).unwrap());
            prop_assert_eq!(crate::render::canonical::bicep(&list, indent), crate::render::canonical::bicep(&nested, indent));
        }
    }

    proptest! {
        /// Inside a compile's cache a list long enough to be cached is written from its cached
        /// texts (`Texts::write_list`): the same JSON and Bicep as the list of their strings, at
        /// any indent (separators longer than a block included), and other serializers, offered
        /// the texts too, still take the items.
        #[test]
        fn cached_lists_write_as_their_texts(
            s in prop::collection::vec(prop::array::uniform8(segment()), 8..30),
            v4 in prop::collection::vec(any::<u32>(), 8..30),
            len in 0u8..=128,
            indent in 0usize..70,
        ) {
            let nets: Vec<Ipv6Net> = s.iter().map(|s| Ipv6Net::new(Ipv6Addr::from(*s), len).unwrap()).collect();
            let nets4: Vec<Ipv4Net> = v4.iter().map(|a| Ipv4Net::new(Ipv4Addr::from(*a), 30).unwrap()).collect();
            let texts: Vec<String> = nets.iter().map(ToString::to_string).collect();
            let texts4: Vec<String> = nets4.iter().map(ToString::to_string).collect();
            let nested = serde_json::json!({ "a": [texts], "b": texts4 });
            #[derive(serde::Serialize)]
            struct Nested<'a> { a: [super::List<'a, Ipv6Net>; 1], b: super::List<'a, Ipv4Net> }
            let list = Nested { a: [super::List(&nets)], b: super::List(&nets4) };
            crate::render::text_cache::with_cache(|| {
                // Twice: written, then from the cache.
                for _ in 0..2 {
                    prop_assert_eq!(crate::render::canonical::json(&list), serde_json::to_string_pretty(&nested).unwrap());
                    prop_assert_eq!(crate::render::canonical::bicep(&list, indent), crate::render::canonical::bicep(&nested, indent));
                    prop_assert_eq!(serde_json::to_value(&list).unwrap(), nested.clone());
                }
                Ok(())
            })?;
        }
    }

    #[test]
    fn extremes() {
        for s in ["0.0.0.0/0", "255.255.255.255/32", "10.0.0.0/8", "100.64.9.1/10"] {
            assert_eq!(text(&s.parse::<Ipv4Net>().unwrap()), s);
        }
        for s in [
            "::/0",
            "::1/128",
            "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128",
            "2603:1000::/40",
            "1:0:0:2::/64",
            "::ffff:1.2.3.4/128",
            "0:1::/32",
        ] {
            let net: Ipv6Net = s.parse().unwrap();
            assert_eq!(text(&net), net.to_string(), "{s}");
        }
    }
}
