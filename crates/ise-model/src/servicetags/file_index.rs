//! A parsed tag file's tags as [`scan`](super::scan) found them: where each tag's fields are in the
//! text, and their names lower-cased in order, so a lookup is a binary search and a tag is built from the text on first
//! use (the embedded snapshots' `Index` does the same from build.rs's bytes).

use super::{binary_search, prefix, v4_at, Prefixes, TagEntry};
use ipnet::IpNet;
use std::ops::Range;
use std::sync::{Arc, OnceLock};

/// Where one tag's fields are in the text: string contents, and whole arrays (`[` to `]`) of strings
/// without escapes (the scan declines escapes), each already checked.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Record {
    pub name: Range<usize>,
    /// Empty (`0..0`) when absent, as serde's default.
    pub region: Range<usize>,
    pub system_service: Range<usize>,
    pub prefixes: Range<usize>,
    /// `None` when absent or `null`.
    pub network_features: Option<Range<usize>>,
}

/// A lower-cased name: its first 16 bytes as a big-endian number (zero-padded), where it is in
/// [`FileIndex::lower`], and the record's number.
type Folded = (u128, Range<usize>, usize);

/// A file's records and their names folded for lookup: the index but for the text.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Names {
    /// In file order.
    pub(super) records: Vec<Record>,
    /// The lower-cased names, one after another (one string, not one each).
    lower: String,
    /// Each record's lower-cased name, in ascending order of it.
    folded: Vec<Folded>,
}

#[derive(Clone)]
pub(super) struct FileIndex {
    /// The file's text: the records' ranges point into it.
    text: Arc<String>,
    names: Names,
    /// The tags built so far, by record number (boxed, as the embedded index's: an empty slot is
    /// a pointer).
    decoded: Box<[OnceLock<Box<TagEntry>>]>,
}

/// The strings of a checked array of strings without escapes (`[ "a", "b" ]`): the pieces between
/// its quotes, every other one.
fn strings(array: &str) -> impl Iterator<Item = &str> {
    array.split('"').skip(1).step_by(2)
}

/// A checked `addressPrefixes` array's prefixes, read as [`prefix`] reads them (the scan checked
/// each with the same rules, so none fails); canonical IPv4 ones in place, as the scan checked them.
pub(super) fn decode_prefixes(array: &str) -> Vec<IpNet> {
    let b = array.as_bytes();
    let quote = |from: usize| b[from..].iter().position(|&c| c == b'"').map(|n| from + n);
    // A canonical IPv4 prefix takes at least 10 bytes of the array with its quotes and separator.
    let mut out = Vec::with_capacity(b.len() / 10);
    let mut at = 0;
    while let Some(open) = quote(at) {
        let start = open + 1;
        let (net, end) = match v4_at(b, start) {
            Some((net, end)) if b.get(end) == Some(&b'"') => (IpNet::V4(net), end),
            _ => {
                let end = quote(start).expect("the scan checked the array's strings");
                (prefix(&array[start..end]).expect("the tag-file scan checked every prefix"), end)
            }
        };
        out.push(net);
        at = end + 1;
    }
    out
}

impl Names {
    /// The names of `records` found in `text`, or `None` when two are the same in some case (the
    /// strict path reports those).
    pub(super) fn new(text: &str, records: Vec<Record>) -> Option<Names> {
        // Lower-cased as the strict path folds names (`str::to_lowercase`), without a string per
        // name for ASCII ones (all real ones).
        let mut lower = String::with_capacity(text.len().min(records.len() * 32));
        let mut folded = Vec::with_capacity(records.len());
        for (i, r) in records.iter().enumerate() {
            let start = lower.len();
            match &text[r.name.clone()] {
                n if n.is_ascii() => {
                    lower.push_str(n);
                    lower[start..].make_ascii_lowercase();
                }
                n => lower.push_str(&n.to_lowercase()),
            }
            let mut head = [0u8; 16];
            let n = (lower.len() - start).min(16);
            head[..n].copy_from_slice(&lower.as_bytes()[start..start + n]);
            folded.push((u128::from_be_bytes(head), start..lower.len(), i));
        }
        // Sorted by the first 16 bytes as one number, then by all (most names differ early).
        let key = |f: &Folded| &lower.as_bytes()[f.1.clone()];
        folded.sort_unstable_by(|a, b| a.0.cmp(&b.0).then_with(|| key(a).cmp(key(b))));
        if folded.windows(2).any(|w| key(&w[0]) == key(&w[1])) {
            return None;
        }
        Some(Names { records, lower, folded })
    }
}

impl FileIndex {
    /// The index of `names` in `text`, the text they were found in.
    pub(super) fn new(text: Arc<String>, names: Names) -> FileIndex {
        FileIndex {
            text,
            decoded: (0..names.records.len()).map(|_| OnceLock::new()).collect(),
            names,
        }
    }

    pub(super) fn len(&self) -> usize {
        self.names.records.len()
    }

    /// The names of the tags built so far (for the tests).
    #[cfg(test)]
    pub(super) fn built(&self) -> impl Iterator<Item = &str> {
        self.decoded.iter().filter_map(OnceLock::get).map(|t| t.name.as_str())
    }

    /// The tag of exactly this name, else of this name in any case (as `ServiceTags::get`): the
    /// same thing, as no two names of an indexed file are the same in any case.
    pub(super) fn find(&self, name: &str) -> Option<usize> {
        let asked = name.to_lowercase();
        let Names { lower, folded, .. } = &self.names;
        binary_search(folded.len(), |i| lower[folded[i].1.clone()].cmp(&asked)).map(|i| folded[i].2)
    }

    /// A tag, built from the text on first use; its prefixes wait for their own first use.
    pub(super) fn entry(&self, tag: usize) -> &TagEntry {
        self.decoded[tag].get_or_init(|| {
            let r = &self.names.records[tag];
            let text = |range: &Range<usize>| self.text[range.clone()].to_string();
            Box::new(TagEntry {
                name: text(&r.name),
                region: text(&r.region),
                system_service: text(&r.system_service),
                prefixes: Prefixes::json(self.text.clone(), r.prefixes.clone()),
                network_features: r
                    .network_features
                    .as_ref()
                    .map(|a| strings(&self.text[a.clone()]).map(str::to_string).collect())
                    .unwrap_or_default(),
            })
        })
    }
}
