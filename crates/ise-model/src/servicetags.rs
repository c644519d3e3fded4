//! Azure service-tag files (the weekly JSON download per cloud): parsed once, indexed by tag name.
//! `VirtualNetwork`, `Internet` and `AzureLoadBalancer` are not in the files; the platform defines
//! them (see the verifier).

use crate::aggregate;
use crate::cloud::CloudId;
use crate::diag::Diagnostic;
use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, OnceLock};

mod file_index;
mod scan;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagEntry {
    pub name: String,
    /// Region id (`westus2`), empty for global tags.
    pub region: String,
    pub system_service: String,
    /// The prefixes in file order (a `Vec<IpNet>` through `Deref`).
    pub prefixes: Prefixes,
    pub network_features: Vec<String>,
}

/// A tag's prefixes, decoded on first use from where they came from: build.rs's bytes for the
/// embedded snapshots, a tag file's checked text for a file the one-pass scan read. So a compile
/// decodes the dozen tags its environment names, not all 3,039 of the public cloud (93,362
/// prefixes).
#[derive(Clone, Default)]
pub struct Prefixes {
    source: Source,
    decoded: OnceLock<Vec<IpNet>>,
    /// An embedded snapshot's IPv4 and IPv6 prefix counts and IPv4 addresses as build.rs merged
    /// them (see [`Self::ipv4_ranges`]).
    embedded: Option<Embedded>,
}

/// What build.rs computed of an embedded tag's prefixes.
#[derive(Clone, Copy)]
struct Embedded {
    counts: (usize, usize),
    ipv4_ranges: &'static [u8],
}

/// Where undecoded prefixes are.
#[derive(Clone, Default)]
enum Source {
    /// Decoded from the start.
    #[default]
    Decoded,
    /// build.rs's encoding of the prefixes (family, length, address bytes each).
    Encoded(&'static [u8]),
    /// A tag file's text and, in it, the `addressPrefixes` array the scan checked.
    Json(Arc<String>, std::ops::Range<usize>),
}

impl Prefixes {
    /// The IPv4 addresses as `(first, last)` ranges, ascending, disjoint and not adjacent, when
    /// build.rs computed them (an embedded snapshot's tags): a proof's set of the tag without
    /// decoding, sorting and merging its prefixes. `None` for a tag file's tags.
    pub fn ipv4_ranges(&self) -> Option<impl ExactSizeIterator<Item = (u32, u32)> + '_> {
        let word = |b: &[u8]| u32::from_le_bytes(b.try_into().expect("4 bytes"));
        self.embedded
            .map(|e| e.ipv4_ranges.chunks_exact(8).map(move |r| (word(&r[..4]), word(&r[4..]))))
    }

    /// How many IPv4 and IPv6 prefixes there are: build.rs's counts for an embedded snapshot's tag
    /// (a review names tags with their counts, and a compile's proofs read an embedded tag's
    /// addresses from its ranges, so its prefixes need no decoding).
    fn counts(&self) -> (usize, usize) {
        if let Some(e) = self.embedded {
            return e.counts;
        }
        let v4 = self.iter().filter(|p| matches!(p, IpNet::V4(_))).count();
        (v4, self.len() - v4)
    }

    fn encoded(encoded: &'static [u8], count: usize) -> Self {
        let p = Prefixes {
            source: Source::Encoded(encoded),
            decoded: OnceLock::new(),
            embedded: None,
        };
        if count == 0 {
            let _ = p.decoded.set(Vec::new());
        }
        p
    }

    fn json(text: Arc<String>, array: std::ops::Range<usize>) -> Self {
        Prefixes {
            source: Source::Json(text, array),
            decoded: OnceLock::new(),
            embedded: None,
        }
    }

    fn decode(bytes: &[u8]) -> Vec<IpNet> {
        let mut out = Vec::with_capacity(bytes.len() / 6);
        let mut rest = bytes;
        while let [family, len, tail @ ..] = rest {
            let (p, tail) = if *family == 4 {
                let (a, tail) = tail.split_at(4);
                let a: [u8; 4] = a.try_into().expect("4 bytes");
                (IpNet::V4(Ipv4Net::new(a.into(), *len).expect("build.rs checked the length")), tail)
            } else {
                let (a, tail) = tail.split_at(16);
                let a: [u8; 16] = a.try_into().expect("16 bytes");
                (IpNet::V6(Ipv6Net::new(a.into(), *len).expect("build.rs checked the length")), tail)
            };
            out.push(p);
            rest = tail;
        }
        out
    }
}

impl From<Vec<IpNet>> for Prefixes {
    fn from(v: Vec<IpNet>) -> Self {
        Prefixes {
            source: Source::Decoded,
            decoded: OnceLock::from(v),
            embedded: None,
        }
    }
}

impl std::ops::Deref for Prefixes {
    type Target = Vec<IpNet>;
    fn deref(&self) -> &Vec<IpNet> {
        self.decoded.get_or_init(|| match &self.source {
            Source::Decoded => Vec::new(),
            Source::Encoded(bytes) => Self::decode(bytes),
            Source::Json(text, array) => file_index::decode_prefixes(&text[array.clone()]),
        })
    }
}

impl<'a> IntoIterator for &'a Prefixes {
    type Item = &'a IpNet;
    type IntoIter = std::slice::Iter<'a, IpNet>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl PartialEq for Prefixes {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl Eq for Prefixes {}

impl std::fmt::Debug for Prefixes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        (**self).fmt(f)
    }
}

impl TagEntry {
    pub fn ipv4(&self) -> Vec<Ipv4Net> {
        self.prefixes
            .iter()
            .filter_map(|p| match p {
                IpNet::V4(v4) => Some(*v4),
                IpNet::V6(_) => None,
            })
            .collect()
    }

    pub fn ipv6(&self) -> Vec<Ipv6Net> {
        aggregate::split_families(&self.prefixes).1
    }

    /// How many IPv4 prefixes the file lists (what `ipv4().len()` says, without the list: reviews
    /// print the counts of each tag they name).
    pub fn ipv4_count(&self) -> usize {
        self.prefixes.counts().0
    }

    /// How many IPv6 prefixes the file lists.
    pub fn ipv6_count(&self) -> usize {
        self.prefixes.counts().1
    }

    /// The IPv4 prefixes aggregated (adjacent merged, contained dropped), ascending.
    pub fn aggregated_ipv4(&self) -> Vec<Ipv4Net> {
        aggregate::aggregate_v4(self.ipv4())
    }

    /// The IPv6 prefixes aggregated, ascending.
    pub fn aggregated_ipv6(&self) -> Vec<Ipv6Net> {
        aggregate::aggregate_v6(self.ipv6())
    }
}

#[derive(Debug, Clone)]
pub struct ServiceTags {
    /// `Public`, `AzureGovernment` or `China`.
    pub cloud: String,
    pub change_number: u64,
    /// Every tag by name ([`Self::tags`]): a parsed file's from the start; the embedded snapshot's
    /// only when all are asked for (`tags show`, `tags diff`, "did you mean").
    all: OnceLock<BTreeMap<String, TagEntry>>,
    /// The embedded snapshot's index, or a file's that the one-pass scan read, whose tags
    /// [`Self::get`] decodes one at a time.
    index: Option<Lookup>,
    /// Lower-cased name -> name: Azure treats tag names case-insensitively. Built on the first
    /// lookup whose case differs from the file's (an embedded snapshot's compile rarely needs it).
    folded: OnceLock<BTreeMap<String, String>>,
    /// See [`Self::id`].
    id: u64,
    /// [`Self::get`]'s answers of the index by the name asked: a fleet asks the same few dozen
    /// names thousands of times, and each search of the index cost about 700 instructions.
    found: Found,
}

/// How many names [`Found`] keeps: a compile asks a few dozen.
const FOUND_KEPT: usize = 4_096;

/// Record numbers of the index by the name looked up (`None`: not in the file). Shared by the
/// threads of a fleet; a clone starts empty (it is a cache).
#[derive(Default)]
struct Found(std::sync::RwLock<crate::fxhash::FxMap<Box<str>, Option<usize>>>);

impl Clone for Found {
    fn clone(&self) -> Self {
        Found::default()
    }
}

impl std::fmt::Debug for Found {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Found")
    }
}

/// A number no other tag file read or snapshot decoded in this process has.
pub(crate) fn next_id() -> u64 {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

/// The weekly download and `az network list-service-tags -o json` (the Service Tags REST API) have
/// the same shape, except that the API gives `changeNumber` as a string ("375") and adds `id`,
/// `name`, `type`, `nextLink`, and `state`/`serviceTagChangeNumber` per tag (ignored here).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawFile {
    #[serde(deserialize_with = "change_number")]
    change_number: u64,
    cloud: String,
    values: Vec<RawTag>,
}

#[derive(Deserialize)]
struct RawTag {
    name: String,
    properties: RawProperties,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawProperties {
    #[serde(default)]
    region: String,
    #[serde(default)]
    system_service: String,
    address_prefixes: Vec<Prefix>,
    #[serde(default)]
    network_features: Option<Vec<String>>,
}

/// One entry of `addressPrefixes`. Deserialises exactly as `IpNet` does (same accepted strings,
/// same errors), but reads the canonical IPv4 form `a.b.c.d/n` with a direct scan: ipnet's
/// general parser took a quarter of a `--service-tags` run on the public file's 68,933 of them.
struct Prefix(IpNet);

impl<'de> Deserialize<'de> for Prefix {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Prefix;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("IPv4 or IPv6 network address") // ipnet's wording
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Prefix, E> {
                prefix(s).map(Prefix).map_err(E::custom)
            }
        }
        d.deserialize_str(Visitor)
    }
}

/// A prefix exactly as `IpNet`'s parser reads it (same result, same error), the canonical forms of
/// the files read by a direct scan: ipnet's general parser took a quarter of a `--service-tags` run.
pub fn prefix(s: &str) -> Result<IpNet, ipnet::AddrParseError> {
    if let Some(net) = canonical_v4(s) {
        return Ok(IpNet::V4(net));
    }
    match canonical_v6(s) {
        Some(net) => Ok(IpNet::V6(net)),
        None => s.parse(),
    }
}

/// `a.b.c.d/n` with decimal octets and length without leading zeros, or `None` for anything else
/// (which `IpNet`'s parser then accepts or refuses with its own message).
pub(crate) fn canonical_v4(s: &str) -> Option<Ipv4Net> {
    v4_at(s.as_bytes(), 0).filter(|&(_, end)| end == s.len()).map(|(net, _)| net)
}

/// [`canonical_v4`] of the bytes from `b[i]` on, up to the first byte that cannot continue it:
/// the prefix and that byte's index (the tag-file scan reads prefixes in place this way).
fn v4_at(b: &[u8], i: usize) -> Option<(Ipv4Net, usize)> {
    let (octets, len, end) = v4_parts(b, i)?;
    Some((Ipv4Net::new(octets.into(), len).ok()?, end))
}

/// Where the prefix [`v4_at`] reads from `b[i]` on ends, without building it: the tag-file scan
/// checks every prefix of a file this way and builds only those of the tags looked up.
fn v4_end(b: &[u8], i: usize) -> Option<usize> {
    v4_parts(b, i).map(|(_, _, end)| end)
}

/// The octets, length (at most 32) and end of the canonical IPv4 prefix at `b[i..]`: four decimal
/// octets and a decimal length, each 1 to 3 digits without a leading zero (as [`decimal`] reads
/// them), each digit looked at once.
#[inline(always)]
fn v4_parts(b: &[u8], mut i: usize) -> Option<([u8; 4], u8, usize)> {
    let digit = |i: usize| b.get(i).map_or(10, |c| c.wrapping_sub(b'0'));
    let mut fields = [0u8; 5];
    for (n, field) in fields.iter_mut().enumerate() {
        let first = digit(i);
        if first > 9 {
            return None;
        }
        let mut value = u32::from(first);
        i += 1;
        let second = digit(i);
        if second <= 9 {
            if first == 0 {
                return None;
            }
            value = value * 10 + u32::from(second);
            i += 1;
            let third = digit(i);
            if third <= 9 {
                value = value * 10 + u32::from(third);
                i += 1;
            }
        }
        *field = u8::try_from(value).ok()?;
        match n {
            0..=2 if b.get(i) == Some(&b'.') => i += 1,
            3 if b.get(i) == Some(&b'/') => i += 1,
            4 if value <= 32 => {}
            _ => return None,
        }
    }
    let [a, b, c, d, len] = fields;
    Some(([a, b, c, d], len, i))
}

/// `h:h:...:h/n` or a form with one `::`, each group 1 to 4 hex digits, the length decimal without
/// leading zeros; `None` for anything else (embedded IPv4, `::` standing for no group, ...), which
/// `IpNet`'s parser then reads or refuses.
fn canonical_v6(s: &str) -> Option<Ipv6Net> {
    let (groups, len, end) = v6_parts(s.as_bytes(), 0)?;
    (end == s.len()).then(|| Ipv6Net::new(groups.into(), len).ok())?
}

/// Where the prefix [`canonical_v6`] reads from `b[i]` on ends, when a byte that cannot continue it
/// (a closing quote) follows, without building it (as [`v4_end`] for IPv4).
fn v6_end(b: &[u8], i: usize) -> Option<usize> {
    v6_parts(b, i).map(|(_, _, end)| end)
}

/// The groups, length (at most 128) and end of the IPv6 prefix at `b[i..]` in the forms
/// [`canonical_v6`] reads.
#[inline(always)]
fn v6_parts(b: &[u8], mut i: usize) -> Option<([u16; 8], u8, usize)> {
    let mut groups = [0u16; 8];
    // `n` groups read; `gap` is where `::` stood (the index of the group after it).
    let (mut n, mut gap) = (0, None);
    if b.get(i..i + 2) == Some(b"::") {
        gap = Some(0);
        i += 2;
    }
    while b.get(i) != Some(&b'/') {
        let start = i;
        let mut group = 0u16;
        while i - start < 4 {
            let digit = match b.get(i) {
                Some(&c @ b'0'..=b'9') => c - b'0',
                Some(&c @ b'a'..=b'f') => c - b'a' + 10,
                Some(&c @ b'A'..=b'F') => c - b'A' + 10,
                _ => break,
            };
            group = group * 16 + u16::from(digit);
            i += 1;
        }
        if i == start || n == 8 {
            return None;
        }
        groups[n] = group;
        n += 1;
        match b.get(i)? {
            b'/' => break,
            b':' => i += 1,
            _ => return None,
        }
        match b.get(i) {
            Some(b':') if gap.is_none() => {
                gap = Some(n);
                i += 1;
            }
            Some(b':' | b'/') | None => return None,
            _ => {}
        }
    }
    i += 1;
    let len = decimal(b, &mut i)?;
    if len > 128 {
        return None;
    }
    match gap {
        None if n == 8 => {}
        Some(at) if n <= 7 => {
            // The groups after `::` move to the end; the zeros it stands for fill the middle.
            groups.copy_within(at..n, at + 8 - n);
            groups[at..at + 8 - n].fill(0);
        }
        _ => return None,
    }
    Some((groups, len as u8, i))
}

/// A decimal of 1 to 3 digits at `b[*i..]` without a leading zero (`0` itself aside), moving `i`
/// past it.
fn decimal(b: &[u8], i: &mut usize) -> Option<u32> {
    let start = *i;
    let mut value = 0;
    while *i - start < 3 {
        match b.get(*i) {
            Some(&c @ b'0'..=b'9') => value = value * 10 + u32::from(c - b'0'),
            _ => break,
        }
        *i += 1;
    }
    match *i - start {
        1 => Some(value),
        2 | 3 if b[start] != b'0' => Some(value),
        _ => None,
    }
}

/// `changeNumber` as the weekly download writes it (a number) or as the API does (a decimal string).
fn change_number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Either {
        Number(u64),
        Text(String),
    }
    match Either::deserialize(d)? {
        Either::Number(n) => Ok(n),
        Either::Text(t) => t
            .parse()
            .map_err(|_| serde::de::Error::custom(format!("changeNumber `{t}` is not a whole number"))),
    }
}

/// The embedded snapshots (data::SERVICE_TAGS_*), pre-indexed by build.rs.
const EMBEDDED_INDEX_PUBLIC: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/servicetags-public.bin"));
const EMBEDDED_INDEX_GOVERNMENT: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/servicetags-government.bin"));
const EMBEDDED_INDEX_CHINA: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/servicetags-china.bin"));

/// Reads build.rs's index (format in build.rs): only its header. Tags are found by binary search
/// of its tables and decoded on first lookup, so a compile decodes the dozen tags its environment
/// names, not all 3,039 of the public cloud. Only ever given the embedded indexes, which the tests
/// decode, so a malformed index is a bug, not an input error.
fn decode_index(bytes: &'static [u8]) -> ServiceTags {
    let mut c = Cursor(bytes);
    assert_eq!(c.take(8), b"ISETAGS4", "service-tag index written by build.rs");
    let change_number = u64::from_le_bytes(c.take(8).try_into().expect("8 bytes"));
    let cloud = c.string().to_string();
    let count = c.u32() as usize;
    let offsets = c.take(4 * count);
    let folded = c.take(4 * count);
    let index = Index {
        offsets,
        folded,
        records: c.0,
        decoded: (0..count).map(|_| OnceLock::new()).collect(),
    };
    ServiceTags {
        cloud,
        change_number,
        all: OnceLock::new(),
        index: Some(Lookup::Embedded(index)),
        folded: OnceLock::new(),
        id: next_id(),
        found: Found::default(),
    }
}

/// Reads build.rs's little-endian fields in order.
struct Cursor(&'static [u8]);

impl Cursor {
    fn take(&mut self, n: usize) -> &'static [u8] {
        let (head, tail) = self.0.split_at(n);
        self.0 = tail;
        head
    }
    fn u32(&mut self) -> u32 {
        u32::from_le_bytes(self.take(4).try_into().expect("4 bytes"))
    }
    fn string(&mut self) -> &'static str {
        std::str::from_utf8(self.bytes()).expect("build.rs writes UTF-8")
    }
    /// A string's bytes, unchecked: enough to compare (`str` orders by its bytes).
    fn bytes(&mut self) -> &'static [u8] {
        let n = self.u32() as usize;
        self.take(n)
    }
}

/// An embedded snapshot's tags, in build.rs's tables (format in build.rs).
#[derive(Clone)]
struct Index {
    /// Where each tag's record starts in `records`, in name order (u32 each).
    offsets: &'static [u8],
    /// Tag numbers in the order of their lower-cased names (u32 each).
    folded: &'static [u8],
    records: &'static [u8],
    /// The tags decoded so far, by number. Boxed: a slot is a pointer until its tag is asked for
    /// (the public cloud's 3,039 slots of a whole entry each were 0.7 MB to lay out per run).
    decoded: Box<[OnceLock<Box<TagEntry>>]>,
}

impl std::fmt::Debug for Index {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Index({} tags)", self.decoded.len())
    }
}

impl Index {
    fn u32_at(table: &[u8], i: usize) -> usize {
        u32::from_le_bytes(table[4 * i..4 * i + 4].try_into().expect("4 bytes")) as usize
    }

    fn record(&self, tag: usize) -> Cursor {
        Cursor(&self.records[Self::u32_at(self.offsets, tag)..])
    }

    /// A tag's name (the first field of its record).
    fn name(&self, tag: usize) -> &'static str {
        self.record(tag).string()
    }

    /// The tag of exactly this name, else of this name in any case (as [`ServiceTags::get`]).
    fn find(&self, name: &str) -> Option<usize> {
        let n = self.decoded.len();
        // Names compared as bytes, in the order of their strings: a compile looks up a few
        // hundred tags, a dozen names each, and checking each name's UTF-8 first was 3 % of a
        // fleet's instructions.
        let exact = binary_search(n, |i| self.record(i).bytes().cmp(name.as_bytes()));
        exact.or_else(|| {
            let lower = name.to_lowercase();
            binary_search(n, |i| self.name(Self::u32_at(self.folded, i)).to_lowercase().cmp(&lower)).map(|i| Self::u32_at(self.folded, i))
        })
    }

    fn entry(&self, tag: usize) -> &TagEntry {
        self.decoded[tag].get_or_init(|| {
            let mut c = self.record(tag);
            let name = c.string().to_string();
            let region = c.string().to_string();
            let system_service = c.string().to_string();
            let network_features = (0..c.u32()).map(|_| c.string().to_string()).collect();
            let n = c.u32() as usize;
            let len = c.u32() as usize;
            let mut prefixes = Prefixes::encoded(c.take(len), n);
            let v4 = c.u32() as usize;
            let ranges = c.u32() as usize;
            prefixes.embedded = Some(Embedded {
                counts: (v4, n - v4),
                ipv4_ranges: c.take(8 * ranges),
            });
            Box::new(TagEntry {
                name,
                region,
                system_service,
                prefixes,
                network_features,
            })
        })
    }
}

/// Where a snapshot's or a file's tags are found and decoded one at a time.
#[derive(Clone)]
enum Lookup {
    Embedded(Index),
    File(file_index::FileIndex),
}

impl std::fmt::Debug for Lookup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Lookup::Embedded(index) => index.fmt(f),
            Lookup::File(index) => write!(f, "FileIndex({} tags)", index.len()),
        }
    }
}

impl Lookup {
    fn len(&self) -> usize {
        match self {
            Lookup::Embedded(index) => index.decoded.len(),
            Lookup::File(index) => index.len(),
        }
    }

    fn find(&self, name: &str) -> Option<usize> {
        match self {
            Lookup::Embedded(index) => index.find(name),
            Lookup::File(index) => index.find(name),
        }
    }

    fn entry(&self, tag: usize) -> &TagEntry {
        match self {
            Lookup::Embedded(index) => index.entry(tag),
            Lookup::File(index) => index.entry(tag),
        }
    }
}

/// The `i` in `0..n` where `probe(i)` is `Equal`, for a `probe` ascending in `i`. The keys are read
/// from byte tables, not held in a slice, so std's `binary_search_by` does not apply (viewing the
/// tables as `[[u8; 4]]` needs `as_chunks`, Rust 1.88, above the workspace's 1.80).
fn binary_search(n: usize, probe: impl Fn(usize) -> std::cmp::Ordering) -> Option<usize> {
    let (mut lo, mut hi) = (0, n);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        match probe(mid) {
            std::cmp::Ordering::Less => lo = mid + 1,
            std::cmp::Ordering::Greater => hi = mid,
            std::cmp::Ordering::Equal => return Some(mid),
        }
    }
    None
}

/// Tags the platform defines per virtual network; they are not in the files.
pub const PLATFORM_TAGS: [&str; 3] = ["VirtualNetwork", "Internet", "AzureLoadBalancer"];

/// Whether `tag` is one of [`PLATFORM_TAGS`] (tag names are case-insensitive).
pub fn is_platform_tag(tag: &str) -> bool {
    PLATFORM_TAGS.iter().any(|p| p.eq_ignore_ascii_case(tag))
}

/// Codes of tag-file problems.
pub const E_TAGS_SYNTAX: &str = "E0901";
pub const E_TAGS_WRONG_CLOUD: &str = "E0902";
pub const E_TAGS_DUPLICATE: &str = "E0903";

impl ServiceTags {
    /// Parses a service-tag file. Errors carry the code, the position and what is wrong; the caller
    /// sets the file name. A usual valid file is read in one pass ([`scan`]); anything else by
    /// [`Self::parse_strict`], which is what decides every error.
    pub fn parse(text: &str) -> Result<Self, Diagnostic> {
        match scan::read(text) {
            Some(scanned) => Ok(scanned.into_tags(Arc::new(text.to_string()))),
            None => Self::parse_strict(text),
        }
    }

    /// [`Self::parse`] of a text the caller hands over: the tags of a usual file keep that very
    /// string (their prefixes are read from it on first use), not a copy of it.
    pub fn parse_owned(text: String) -> Result<Self, Diagnostic> {
        match scan::read(&text) {
            Some(scanned) => Ok(scanned.into_tags(Arc::new(text))),
            None => Self::parse_strict(&text),
        }
    }

    /// [`Self::parse`] without its fast path: the strict checks, then serde. Public for the tests
    /// that hold the fast path to it.
    #[doc(hidden)]
    pub fn parse_strict(text: &str) -> Result<Self, Diagnostic> {
        // Duplicate keys, nesting and size first (their own codes), then the file's shape.
        let text = crate::jsondoc::check(text).map_err(|mut diags| diags.swap_remove(0))?;
        let raw: RawFile = serde_json::from_str(text).map_err(|e| {
            Diagnostic::error(E_TAGS_SYNTAX, "", format!("not a service-tag file: {e}"))
                .at(e.line(), e.column())
                .with_help("expected the weekly JSON download: {\"changeNumber\", \"cloud\", \"values\": [{\"name\", \"properties\": {\"addressPrefixes\": [...]}}]}")
        })?;
        let mut tags = BTreeMap::new();
        let mut folded = BTreeMap::new();
        for (i, v) in raw.values.into_iter().enumerate() {
            let entry = TagEntry {
                name: v.name.clone(),
                region: v.properties.region,
                system_service: v.properties.system_service,
                prefixes: v.properties.address_prefixes.into_iter().map(|p| p.0).collect::<Vec<_>>().into(),
                network_features: v.properties.network_features.unwrap_or_default(),
            };
            // Azure treats tag names case-insensitively: `Storage` and `storage` are the same tag.
            if let Some(first) = folded.insert(v.name.to_lowercase(), v.name.clone()) {
                let what = if first == v.name {
                    format!("tag `{}` appears twice", v.name)
                } else {
                    format!("tags `{first}` and `{}` differ only in case; Azure treats them as one tag", v.name)
                };
                return Err(Diagnostic::error(E_TAGS_DUPLICATE, format!("values[{i}].name"), what)
                    .with_help("a service-tag file names each tag once: use the weekly download unedited"));
            }
            tags.insert(v.name.clone(), entry);
        }
        Ok(ServiceTags {
            cloud: raw.cloud,
            change_number: raw.change_number,
            all: OnceLock::from(tags),
            index: None,
            folded: OnceLock::from(folded),
            id: next_id(),
            found: Found::default(),
        })
    }

    /// The embedded snapshot for a cloud, decoded on first use from the index build.rs made of it
    /// (no JSON parse at run time; a test checks it equals `parse` of the JSON).
    pub fn embedded(cloud: CloudId) -> &'static ServiceTags {
        static FILES: [OnceLock<ServiceTags>; 3] = [OnceLock::new(), OnceLock::new(), OnceLock::new()];
        let slot = match cloud {
            CloudId::Public => &FILES[0],
            CloudId::UsGovernment => &FILES[1],
            CloudId::China => &FILES[2],
        };
        slot.get_or_init(|| Self::decode_embedded(cloud))
    }

    /// The build-time index of a cloud's embedded snapshot, as the binary holds it. Read where
    /// it lies: a run touches the tables and the dozen records it looks up, and mapping the whole
    /// index in at once (`MADV_POPULATE_READ`, until session 12) had come to cost more than the
    /// faults it saved.
    fn embedded_index(cloud: CloudId) -> &'static [u8] {
        match cloud {
            CloudId::Public => EMBEDDED_INDEX_PUBLIC,
            CloudId::UsGovernment => EMBEDDED_INDEX_GOVERNMENT,
            CloudId::China => EMBEDDED_INDEX_CHINA,
        }
    }

    /// The embedded snapshot decoded afresh from its build-time index (what [`Self::embedded`] does
    /// once per process; public for the benchmarks).
    pub fn decode_embedded(cloud: CloudId) -> ServiceTags {
        decode_index(Self::embedded_index(cloud))
    }

    /// Checks the file belongs to `cloud`.
    pub fn check_cloud(&self, cloud: CloudId) -> Result<(), Diagnostic> {
        let expected = &cloud.facts().service_tag_cloud;
        if &self.cloud == expected {
            Ok(())
        } else {
            Err(Diagnostic::error(
                E_TAGS_WRONG_CLOUD,
                "cloud",
                format!(
                    "this service-tag file is for cloud `{}`, but the environment's cloud is `{cloud}` (file cloud `{expected}`)",
                    self.cloud
                ),
            )
            .with_help(format!(
                "download the {} service tags file, or fix `cloud` in the environment",
                cloud.facts().display_name
            )))
        }
    }

    /// Which file read (or snapshot decode) these tags come from: unique in the process, shared
    /// only by clones, which hold the same tags. Caches of what is derived from the tags key on it.
    pub fn id(&self) -> u64 {
        self.id
    }

    pub fn get(&self, name: &str) -> Option<&TagEntry> {
        if let Some(index) = &self.index {
            let cached = self.found.0.read().unwrap_or_else(|e| e.into_inner()).get(name).copied();
            let tag = match cached {
                Some(tag) => tag,
                None => {
                    let tag = index.find(name);
                    let mut found = self.found.0.write().unwrap_or_else(|e| e.into_inner());
                    // Bounded: a run that asks for ever new names (a flows file of made-up
                    // tags) searches the index for them each time instead of growing the map.
                    if found.len() < FOUND_KEPT {
                        found.insert(name.into(), tag);
                    }
                    tag
                }
            };
            return tag.map(|tag| index.entry(tag));
        }
        let tags = self.tags();
        tags.get(name)
            .or_else(|| self.folded().get(&name.to_lowercase()).and_then(|n| tags.get(n)))
    }

    /// Whether the file lists `feature` (`NSG`, `UDR`, `FW`) among the tag's `networkFeatures`:
    /// where the tag may be named. A tag the file lacks, or publishes without the field (`null`,
    /// as China does for several), is usable nowhere.
    pub fn tag_works_in(&self, tag: &str, feature: &str) -> bool {
        self.get(tag).is_some_and(|t| t.network_features.iter().any(|f| f == feature))
    }

    /// Every tag, by name.
    pub fn tags(&self) -> &BTreeMap<String, TagEntry> {
        self.all.get_or_init(|| {
            let Some(index) = &self.index else { return BTreeMap::new() };
            // In name order: the map is built from a sorted run.
            (0..index.len())
                .map(|tag| {
                    let entry = index.entry(tag).clone();
                    (entry.name.clone(), entry)
                })
                .collect()
        })
    }

    fn folded(&self) -> &BTreeMap<String, String> {
        self.folded
            .get_or_init(|| self.tags().keys().map(|name| (name.to_lowercase(), name.clone())).collect())
    }

    /// The cloud the file belongs to, when its `cloud` field names one of the three.
    pub fn cloud_id(&self) -> Option<CloudId> {
        CloudId::ALL.into_iter().find(|c| c.facts().service_tag_cloud == self.cloud)
    }

    /// Tag names, ascending.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.tags().keys().map(String::as_str)
    }

    /// The closest tag name to a name the file does not have ("did you mean").
    pub fn suggest(&self, name: &str) -> Option<&str> {
        crate::fuzzy::did_you_mean(name, self.names())
    }

    /// One `E0904` per service tag the requirements name that the file does not have (platform tags
    /// aside), with the requirement that needs it.
    pub fn check_required(&self, reqs: &[crate::resolve::Resolved]) -> Vec<Diagnostic> {
        use crate::resolve::Peer;
        let mut out = Vec::new();
        for r in reqs {
            for peer in [&r.source, &r.destination] {
                let Peer::Tag { name } = peer else { continue };
                if is_platform_tag(name) || self.get(name).is_some() {
                    continue;
                }
                let mut d = Diagnostic::error(
                    crate::codes::E_TAG_MISSING,
                    "",
                    format!(
                        "requirement {} needs service tag `{name}`, which the service-tag file (cloud {}, change {}) does not have",
                        r.id, self.cloud, self.change_number
                    ),
                );
                d = match self.suggest(name) {
                    Some(s) => d.with_help(format!(
                        "the closest tag in the file is `{s}`; use a current service-tag file of the environment's cloud"
                    )),
                    None => d.with_help("use a current service-tag file of the environment's cloud"),
                };
                out.push(d);
            }
        }
        out
    }

    /// Region ids named in `properties.region`.
    pub fn regions(&self) -> BTreeSet<&str> {
        self.tags().values().map(|t| t.region.as_str()).filter(|r| !r.is_empty()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data;

    #[test]
    fn az_list_service_tags_output_parses_like_the_weekly_download() {
        // The documented shape of `az network list-service-tags --location westus2 -o json`.
        let az = include_str!("../../../tests/fixtures/servicetags/az-list-service-tags.json");
        let tags = ServiceTags::parse(az).unwrap();
        assert_eq!((tags.cloud.as_str(), tags.change_number), ("Public", 375));
        tags.check_cloud(CloudId::Public).unwrap();
        let logic = tags.get("logicapps").unwrap();
        assert_eq!(logic.ipv4().len(), 2);
        assert_eq!(logic.ipv6().len(), 1);
        assert_eq!((logic.ipv4_count(), logic.ipv6_count()), (2, 1));
        assert_eq!(logic.network_features, ["API", "NSG", "UDR", "FW"]);
        let storage = tags.get("Storage.WestUS2").unwrap();
        assert_eq!(
            (storage.region.as_str(), storage.system_service.as_str()),
            ("westus2", "AzureStorage")
        );
        assert!(storage.network_features.is_empty());
        // The same tags in the weekly download's shape give the same result.
        let weekly = az.replace("\"changeNumber\": \"375\"", "\"changeNumber\": 375");
        assert_eq!(ServiceTags::parse(&weekly).unwrap().tags(), tags.tags());
        let bad = az.replace("\"changeNumber\": \"375\"", "\"changeNumber\": \"3x\"");
        assert_eq!(ServiceTags::parse(&bad).unwrap_err().code, E_TAGS_SYNTAX);
    }

    /// Every read and decode gets its own id (caches of derived sets key on it); a clone, holding
    /// the same tags, shares it.
    #[test]
    fn each_read_has_its_own_id_and_clones_share_it() {
        let az = include_str!("../../../tests/fixtures/servicetags/az-list-service-tags.json");
        let reads = [
            ServiceTags::parse(az).unwrap(),
            ServiceTags::parse(az).unwrap(),
            ServiceTags::parse_owned(az.to_string()).unwrap(),
            ServiceTags::decode_embedded(CloudId::Public),
            ServiceTags::decode_embedded(CloudId::Public),
        ];
        let ids: std::collections::BTreeSet<u64> = reads.iter().map(ServiceTags::id).collect();
        assert_eq!(ids.len(), reads.len());
        assert_eq!(reads[0].clone().id(), reads[0].id());
    }

    /// The lookup cache changes no answer: the embedded index, asked each name twice (exact,
    /// other case, missing), a clone (empty cache) and the parsed file (no index) agree.
    #[test]
    fn repeated_lookups_answer_as_the_first() {
        let fresh = ServiceTags::decode_embedded(CloudId::Public);
        let parsed = ServiceTags::parse(include_str!("../../../data/servicetags/ServiceTags_Public_20251028.json")).unwrap();
        for name in [
            "Storage",
            "storage.westus2",
            "STORAGE.WestUS2",
            "AzureMonitor",
            "NoSuchTag",
            "",
            "Sql.WestUS2",
        ] {
            let first = fresh.get(name).map(|t| t.name.clone());
            assert_eq!(fresh.get(name).map(|t| t.name.clone()), first, "{name}");
            assert_eq!(fresh.clone().get(name).map(|t| t.name.clone()), first, "{name}");
            assert_eq!(parsed.get(name).map(|t| t.name.clone()), first, "{name}");
        }
    }

    #[test]
    fn a_text_handed_over_reads_as_a_borrowed_one() {
        let az = include_str!("../../../tests/fixtures/servicetags/az-list-service-tags.json");
        // With a BOM the index's ranges count it; the strict path, BOM stripped, is the oracle.
        for text in [az.to_string(), format!("\u{feff}{az}"), "{".to_string()] {
            let owned = ServiceTags::parse_owned(text.clone());
            match ServiceTags::parse_strict(&text) {
                Ok(strict) => {
                    let owned = owned.unwrap();
                    assert_eq!(owned.get("Storage.WestUS2"), strict.get("Storage.WestUS2"));
                    assert_eq!(owned.tags(), strict.tags());
                }
                Err(d) => assert_eq!(owned.unwrap_err().code, d.code),
            }
        }
    }

    #[test]
    fn embedded_files_parse_and_belong_to_their_cloud() {
        for cloud in CloudId::ALL {
            let tags = ServiceTags::embedded(cloud);
            tags.check_cloud(cloud).unwrap();
            // The tags the ISE tables name exist in every cloud's file.
            for t in [
                "LogicApps",
                "LogicAppsManagement",
                "AzureConnectors",
                "AppServiceManagement",
                "AzureTrafficManager",
                "ApiManagement",
                "AzureActiveDirectory",
                "Storage",
                "AppService",
                "AzureMonitor",
                "Sql",
                "EventHub",
            ] {
                assert!(tags.get(t).is_some(), "{cloud}: {t}");
            }
        }
        assert!(ServiceTags::embedded(CloudId::Public).check_cloud(CloudId::China).is_err());
    }

    #[test]
    fn embedded_indexes_decode_to_exactly_the_parsed_json() {
        for (cloud, json) in [
            (CloudId::Public, data::SERVICE_TAGS_PUBLIC),
            (CloudId::UsGovernment, data::SERVICE_TAGS_GOVERNMENT),
            (CloudId::China, data::SERVICE_TAGS_CHINA),
        ] {
            let parsed = ServiceTags::parse(json).unwrap();
            // Each tag found one at a time through the index, by its name in three cases, as the
            // parsed file finds it.
            let embedded = ServiceTags::decode_embedded(cloud);
            assert_eq!(embedded.cloud, parsed.cloud);
            assert_eq!(embedded.change_number, parsed.change_number);
            for (name, tag) in parsed.tags() {
                for asked in [name.clone(), name.to_lowercase(), name.to_uppercase()] {
                    assert_eq!(embedded.get(&asked), parsed.get(&asked), "{cloud} {asked}");
                }
                assert_eq!(embedded.get(name).unwrap(), tag, "{cloud} {name}");
            }
            for absent in ["", "Storage.", "ZZZ", "a", "\u{10ffff}"] {
                assert_eq!(embedded.get(absent), None, "{cloud} {absent}");
            }
            // And all at once.
            let embedded = ServiceTags::embedded(cloud);
            assert_eq!(embedded.tags(), parsed.tags(), "{cloud}");
            assert_eq!(embedded.folded(), parsed.folded(), "{cloud}");
        }
    }

    /// build.rs's IPv4 ranges of each embedded tag are its IPv4 prefixes' addresses, merged here
    /// independently (sorted by first address, overlapping and adjacent ones joined); a file's
    /// tags have none. And the prefix counts read off the encoded prefixes are the decoded ones'.
    #[test]
    fn embedded_ipv4_ranges_are_the_merged_prefixes() {
        for cloud in [CloudId::Public, CloudId::UsGovernment, CloudId::China] {
            let undecoded = ServiceTags::decode_embedded(cloud);
            for (name, tag) in ServiceTags::embedded(cloud).tags() {
                // Counted from the encoded prefixes, as from the decoded ones.
                let counted = undecoded.get(name).unwrap();
                assert_eq!(
                    (counted.ipv4_count(), counted.ipv6_count()),
                    (tag.ipv4().len(), tag.ipv6().len()),
                    "{cloud} {name}"
                );
                let mut want: Vec<(u64, u64)> = tag
                    .ipv4()
                    .iter()
                    .map(|n| (u64::from(u32::from(n.network())), u64::from(u32::from(n.broadcast()))))
                    .collect();
                want.sort_unstable();
                let mut merged: Vec<(u64, u64)> = Vec::new();
                for (first, last) in want {
                    match merged.last_mut() {
                        Some(prev) if first <= prev.1 + 1 => prev.1 = prev.1.max(last),
                        _ => merged.push((first, last)),
                    }
                }
                let got: Vec<(u64, u64)> = tag
                    .prefixes
                    .ipv4_ranges()
                    .expect("embedded tags have ranges")
                    .map(|(a, b)| (u64::from(a), u64::from(b)))
                    .collect();
                assert_eq!(got, merged, "{cloud} {name}");
            }
        }
        let parsed = ServiceTags::parse(data::SERVICE_TAGS_CHINA).unwrap();
        assert!(parsed.tags().values().all(|t| t.prefixes.ipv4_ranges().is_none()));
    }

    #[test]
    fn embedded_tags_are_decoded_only_when_asked_for() {
        let tags = ServiceTags::decode_embedded(CloudId::Public);
        let Some(Lookup::Embedded(index)) = &tags.index else {
            panic!("an embedded snapshot has its index")
        };
        let decoded = || {
            index
                .decoded
                .iter()
                .filter_map(OnceLock::get)
                .map(|t| t.name.as_str())
                .collect::<Vec<_>>()
        };
        assert!(decoded().is_empty());
        let sql = tags.get("sql").unwrap();
        assert_eq!(sql.name, "Sql");
        assert!(sql.prefixes.decoded.get().is_none(), "prefixes wait for their first use");
        assert!(sql.prefixes.contains(&"4.144.9.64/27".parse().unwrap()));
        assert_eq!(decoded(), ["Sql"]);
        assert!(tags.all.get().is_none() && tags.folded.get().is_none());
    }

    proptest::proptest! {
        /// The fast path agrees with ipnet's parser on every string it accepts, and accepts every
        /// canonical IPv4 prefix.
        #[test]
        fn canonical_v4_agrees_with_ipnet(s in "[0-9./]{1,20}|(0|[1-9][0-9]{0,2})(\\.(0|[1-9][0-9]{0,2})){3}/(0|[1-9][0-9]?)") {
            if let Some(net) = canonical_v4(&s) {
                proptest::prop_assert_eq!(Ok(IpNet::V4(net)), s.parse::<IpNet>());
            }
        }

        #[test]
        fn canonical_v6_agrees_with_ipnet(s in "[0-9a-fA-F:./]{1,45}|([0-9a-f]{1,4}:){0,7}:?(:[0-9a-f]{1,4}){0,7}/[0-9]{1,3}") {
            if let Some(net) = canonical_v6(&s) {
                proptest::prop_assert_eq!(Ok(IpNet::V6(net)), s.parse::<IpNet>());
            }
        }

        /// Every address as Rust writes it (compressed) and in full, with any length, is read.
        #[test]
        fn canonical_v6_reads_every_written_form(a: [u16; 8], zeros in 0usize..8, at in 0usize..8, len in 0u8..=128) {
            let mut a = a;
            // Runs of zero groups, where `::` appears.
            for g in a.iter_mut().skip(at).take(zeros) {
                *g = 0;
            }
            let addr = std::net::Ipv6Addr::from(a);
            let want = Some(Ipv6Net::new(addr, len).unwrap());
            proptest::prop_assert_eq!(canonical_v6(&format!("{addr}/{len}")), want);
            let full: Vec<String> = a.iter().map(|g| format!("{g:x}")).collect();
            proptest::prop_assert_eq!(canonical_v6(&format!("{}/{len}", full.join(":"))), want);
        }

        /// The check-only scans accept exactly what the building ones read, and end where they do:
        /// on the bytes prefixes are made of, and on every canonical IPv4 prefix.
        #[test]
        fn v4_end_agrees_with_v4_at(s in "[0-9./:a-f\"]{0,22}|(0|[1-9][0-9]{0,3})(\\.(0|[1-9][0-9]{0,3})){3}/(0|[1-9][0-9]{0,2})\"?", at in 0usize..3) {
            let b = s.as_bytes();
            proptest::prop_assert_eq!(v4_end(b, at), v4_at(b, at).map(|(_, end)| end));
        }

        #[test]
        fn v6_end_agrees_with_canonical_v6(s in "[0-9a-fA-F:./]{1,45}|([0-9a-f]{1,4}:){0,7}:?(:[0-9a-f]{1,4}){0,7}/[0-9]{1,3}") {
            // Followed by the closing quote, as in a file.
            let text = format!("{s}\"");
            let end = v6_end(text.as_bytes(), 0).filter(|&e| text.as_bytes()[e] == b'"');
            proptest::prop_assert_eq!(end, canonical_v6(&s).map(|_| s.len()), "{}", text);
        }

        #[test]
        fn canonical_v4_reads_every_canonical_prefix(a: [u8; 4], len in 0u8..=32) {
            let s = format!("{}.{}.{}.{}/{len}", a[0], a[1], a[2], a[3]);
            proptest::prop_assert_eq!(canonical_v4(&s), Some(Ipv4Net::new(a.into(), len).unwrap()));
        }
    }

    #[test]
    fn prefixes_off_the_fast_path_are_read_by_ipnet_with_its_result() {
        let odd = [
            "10.0.0.0/8\\u0000",
            "10.0.0.0/8 ",
            "10.0.0.0/33",
            "10.0.0.01/8",
            "256.0.0.0/8",
            "10.0.0/8",
            "10.0.0.0/",
            "10.0.0.0/08",
            "10.0.0.0.0/8",
            "::1/128",
            "1.2.3.4",
            "::ffff:1.2.3.4/128",
            "1:2:3:4:5:6:7::8/64",
            "::1:2:3:4:5:6:7:8/64",
            "2603:1030::/064",
            "2603:1030::/129",
            "2603:1030:::/64",
            "2603:1030::1::/64",
            "12345::/64",
            "2603:1030:/64",
        ];
        for text in odd {
            let file =
                format!(r#"{{"changeNumber":1,"cloud":"Public","values":[{{"name":"X","properties":{{"addressPrefixes":["{text}"]}}}}]}}"#);
            let ours = ServiceTags::parse(&file);
            match serde_json::from_str::<Vec<IpNet>>(&format!(r#"["{text}"]"#)) {
                Ok(theirs) => assert_eq!(*ours.unwrap().get("X").unwrap().prefixes, theirs, "{text}"),
                Err(e) => {
                    let (ours, theirs) = (ours.unwrap_err(), e.to_string());
                    assert_eq!(ours.code, E_TAGS_SYNTAX, "{text}");
                    let theirs = theirs.split(" at line").next().unwrap();
                    assert!(ours.message.contains(theirs), "{text}: {} vs {theirs}", ours.message);
                }
            }
        }
    }

    #[test]
    fn duplicate_names_differing_in_case_are_refused() {
        let file = r#"{"changeNumber":1,"cloud":"Public","values":[
            {"name":"Storage","properties":{"addressPrefixes":["10.0.0.0/8"]}},
            {"name":"storage","properties":{"addressPrefixes":["10.0.0.0/8"]}}]}"#;
        let d = ServiceTags::parse(file).unwrap_err();
        assert_eq!((d.code, d.path.as_str()), (E_TAGS_DUPLICATE, "values[1].name"));
    }

    #[test]
    fn lookup_is_case_insensitive_and_regional_variants_exist() {
        let tags = ServiceTags::embedded(CloudId::Public);
        assert_eq!(tags.get("sql").unwrap().name, "Sql");
        assert_eq!(tags.get("LogicApps.WestUS2").unwrap().region, "westus2");
        assert!(tags.regions().contains("germanywc"));
    }

    #[test]
    fn malformed_files_are_coded_errors() {
        assert_eq!(ServiceTags::parse("{").unwrap_err().code, E_TAGS_SYNTAX);
        let bad_prefix = r#"{"changeNumber":1,"cloud":"Public","values":[{"name":"X","properties":{"addressPrefixes":["10.0.0.0/33"]}}]}"#;
        assert_eq!(ServiceTags::parse(bad_prefix).unwrap_err().code, E_TAGS_SYNTAX);
    }
}
