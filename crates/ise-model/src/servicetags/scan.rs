//! The fast path of [`ServiceTags::parse`]: one pass over the bytes that checks a valid tag file
//! of the usual kind (the weekly download, `az network list-service-tags`) and indexes it
//! ([`FileIndex`]), with no intermediate strings and no second scan for the strict checks. Every
//! prefix of every tag is checked here, straight from the bytes; none is built: a tag's fields and
//! prefixes are read from the text when the tag is first looked up, so a compile builds the dozen
//! tags its environment names, not all 3,039 of the public file (93,362 prefixes). A big file's
//! `values` are scanned by two threads, one from each half ([`Scan::values_split`]).
//!
//! It is a recogniser of the common case, not a second parser with its own errors: on anything it
//! is not sure of (any syntax or shape problem, an escape in a string, a duplicate key or tag, deep
//! nesting, a number it does not read the way serde would) it answers `None`, and the caller runs
//! the strict path (`jsondoc::check`, then serde), which gives the answer: the same diagnostics,
//! codes, paths and line:column as ever, or the tags of a valid but unusual file. So whenever it
//! answers `Some`, the strict path would have accepted the file with the same tags (tested on the
//! real files and on the fuzz mutations in tests/tag_fuzz.rs).

use super::file_index::{FileIndex, Names, Record};
use super::{prefix, v4_end, v6_end, ServiceTags};
use crate::jsondoc::strings::first_stop;
use crate::jsondoc::{strip_bom, MAX_DEPTH, MAX_FILE_BYTES, MAX_VALUES};
use std::ops::Range;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

/// Objects with more keys than this inside values the loader ignores are left to the strict path
/// (its duplicate-key check uses a hash map; the linear one here is for the handful of keys real
/// files have).
const MAX_KEYS: usize = 32;

/// What the scan found in a valid file: everything but the text itself, which the caller hands
/// over in [`Scanned::into_tags`] (a copy, or the very string it read, so 4 MB is not copied).
#[derive(Debug, PartialEq)]
pub(super) struct Scanned {
    cloud: String,
    change_number: u64,
    names: Names,
}

impl Scanned {
    /// The tags of the file, indexed in `text`: the text [`read`] scanned, BOM and all (the
    /// records' ranges are offsets into it).
    pub(super) fn into_tags(self, text: Arc<String>) -> ServiceTags {
        ServiceTags {
            cloud: self.cloud,
            change_number: self.change_number,
            all: OnceLock::new(),
            index: Some(super::Lookup::File(FileIndex::new(text, self.names))),
            folded: OnceLock::new(),
            id: super::next_id(),
            found: super::Found::default(),
        }
    }
}

/// A `values` array of at least this many bytes is scanned on two threads (see
/// [`Scan::values_split`]): a real file's 4 MB takes milliseconds, a thread's start microseconds.
const SPLIT_AT_LEAST: usize = 256 * 1024;

/// Where a `values` array may be split between two threads.
#[derive(Clone, Copy)]
enum Split {
    /// At the first element starting after its middle, when it has [`SPLIT_AT_LEAST`] bytes.
    Big,
    /// At the first element starting at or after this offset of the text (the tests' choice).
    #[cfg(test)]
    From(usize),
    Never,
}

/// Scans `text` as a service-tag file, or `None` when the strict path must decide (see the module).
pub(super) fn read(text: &str) -> Option<Scanned> {
    read_split(text, Split::Big)
}

fn read_split(text: &str, split: Split) -> Option<Scanned> {
    if text.len() as u64 > MAX_FILE_BYTES {
        return None;
    }
    // The scan starts after any BOM but counts from the text's start, so the ranges it records
    // point into the text as given.
    let mut s = Scan {
        text,
        b: text.as_bytes(),
        pos: text.len() - strip_bom(text).len(),
        separators: 0,
        split,
    };
    let (cloud, change_number, records) = s.file()?;
    s.ws();
    if s.pos != s.b.len() {
        return None;
    }
    // Two names the same in any case go to the strict path, which reports them.
    let names = Names::new(text, records)?;
    Some(Scanned {
        cloud: text[cloud].to_string(),
        change_number,
        names,
    })
}

/// The first `{` at or after `from` whose previous byte other than whitespace is a comma: in a tag
/// file, where an element of `values` other than the first starts. A guess, which
/// [`Scan::values_split`] only acts on once the scan from the start meets an element there.
fn element_start_after(b: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    loop {
        let at = i + b.get(i..)?.iter().position(|&c| c == b'{')?;
        let before = b[..at].iter().rposition(|c| !matches!(c, b' ' | b'\n' | b'\r' | b'\t'));
        if before.is_some_and(|j| b[j] == b',') {
            return Some(at);
        }
        i = at + 1;
    }
}

struct Scan<'a> {
    text: &'a str,
    b: &'a [u8],
    pos: usize,
    /// Commas read: the strict scan refuses a file with [`MAX_VALUES`] of them.
    separators: usize,
    split: Split,
}

/// Where one tag's `properties` fields are in the text (see [`Record`]).
#[derive(Default)]
struct Properties {
    region: Range<usize>,
    system_service: Range<usize>,
    prefixes: Option<Range<usize>>,
    network_features: Option<Range<usize>>,
}

impl<'a> Scan<'a> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.pos).copied()
    }

    /// JSON whitespace (exactly the four bytes serde_json skips). Indentation comes in runs of
    /// spaces (a pretty file's every line, half its bytes): those 8 bytes at a time.
    fn ws(&mut self) {
        const SPACES: u64 = u64::from_le_bytes([b' '; 8]);
        let mut i = self.pos;
        loop {
            if let Some(chunk) = self.b.get(i..i + 8) {
                // The spaces that start the chunk: the low zero bytes of its difference from spaces.
                let differ = u64::from_le_bytes(chunk.try_into().expect("8 bytes")) ^ SPACES;
                i += differ.trailing_zeros() as usize / 8;
                if differ == 0 {
                    continue;
                }
            }
            match self.b.get(i) {
                Some(b' ' | b'\n' | b'\r' | b'\t') => i += 1,
                _ => break,
            }
        }
        self.pos = i;
    }

    /// `byte` after optional whitespace.
    fn eat(&mut self, byte: u8) -> Option<()> {
        self.ws();
        (self.peek() == Some(byte)).then(|| self.pos += 1)
    }

    /// A string without escapes or control characters (anything else goes to the strict path):
    /// where its contents are.
    fn span(&mut self) -> Option<Range<usize>> {
        self.eat(b'"')?;
        let start = self.pos;
        let end = start + first_stop(&self.b[start..])?;
        if self.b[end] != b'"' {
            return None;
        }
        self.pos = end + 1;
        Some(start..end)
    }

    /// [`Self::span`]'s text. Both ends are ASCII quotes, so it is a whole `str` (the check is O(1)).
    fn string(&mut self) -> Option<&'a str> {
        let span = self.span()?;
        self.text.get(span)
    }
    /// A JSON number's text (grammar checked: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`).
    fn number(&mut self) -> Option<&'a str> {
        self.ws();
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek()? {
            b'0' => self.pos += 1,
            b'1'..=b'9' => self.digits(),
            _ => return None,
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            self.some_digits()?;
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            self.some_digits()?;
        }
        std::str::from_utf8(&self.b[start..self.pos]).ok()
    }

    fn digits(&mut self) {
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.pos += 1;
        }
    }

    fn some_digits(&mut self) -> Option<()> {
        let start = self.pos;
        self.digits();
        (self.pos > start).then_some(())
    }

    fn literal(&mut self, word: &[u8]) -> Option<()> {
        let end = self.pos + word.len();
        (self.b.get(self.pos..end) == Some(word)).then(|| self.pos = end)
    }

    /// `null` (for fields where serde reads null as absent).
    fn null(&mut self) -> bool {
        self.ws();
        self.literal(b"null").is_some()
    }

    /// The comma between members or elements, counted against the strict scan's limit.
    fn separator(&mut self) -> Option<bool> {
        self.ws();
        match self.peek()? {
            b',' => {
                self.pos += 1;
                self.separators += 1;
                (self.separators < MAX_VALUES - 1).then_some(true)
            }
            _ => Some(false),
        }
    }

    /// An object at nesting `depth` (1 for the root): each member's value is read by `member`,
    /// which is given the key. A key seen twice sends the file to the strict path.
    fn object(&mut self, depth: usize, mut member: impl FnMut(&mut Self, &'a str) -> Option<()>) -> Option<()> {
        if depth >= MAX_DEPTH {
            return None;
        }
        self.eat(b'{')?;
        if self.eat(b'}').is_some() {
            return Some(());
        }
        let (mut keys, mut n) = ([""; MAX_KEYS], 0);
        loop {
            let key = self.string()?;
            if n == MAX_KEYS || keys[..n].contains(&key) {
                return None;
            }
            keys[n] = key;
            n += 1;
            self.eat(b':')?;
            member(self, key)?;
            if !self.separator()? {
                return self.eat(b'}');
            }
        }
    }

    /// An array at nesting `depth`, each element read by `item`.
    fn array(&mut self, depth: usize, mut item: impl FnMut(&mut Self) -> Option<()>) -> Option<()> {
        if depth >= MAX_DEPTH {
            return None;
        }
        self.eat(b'[')?;
        if self.eat(b']').is_some() {
            return Some(());
        }
        loop {
            item(self)?;
            if !self.separator()? {
                return self.eat(b']');
            }
        }
    }

    /// Any value the loader ignores, checked as the strict path would (syntax, keys, nesting).
    fn skip(&mut self, depth: usize) -> Option<()> {
        self.ws();
        match self.peek()? {
            b'"' => self.string().map(drop),
            b'{' => self.object(depth + 1, |s, _| s.skip(depth + 1)),
            b'[' => self.array(depth + 1, |s| s.skip(depth + 1)),
            b't' => self.literal(b"true"),
            b'f' => self.literal(b"false"),
            b'n' => self.literal(b"null"),
            _ => self.number().map(drop),
        }
    }

    /// The root object: the cloud's span, the change number and each tag's record.
    fn file(&mut self) -> Option<(Range<usize>, u64, Vec<Record>)> {
        let (mut change_number, mut cloud) = (None, None);
        let mut records = Vec::new();
        let mut values = false;
        self.object(1, |s, key| match key {
            "changeNumber" => {
                change_number = Some(s.change_number()?);
                Some(())
            }
            "cloud" => {
                cloud = Some(s.span()?);
                Some(())
            }
            "values" => {
                values = true;
                s.ws();
                match s.split_point() {
                    Some(at) => s.values_split(&mut records, at),
                    None => s.array(2, |s| {
                        records.push(s.tag()?);
                        Some(())
                    }),
                }
            }
            _ => s.skip(1),
        })?;
        values.then_some(())?;
        Some((cloud?, change_number?, records))
    }

    /// Where to split the `values` array starting here, if anywhere (see [`Split`]).
    fn split_point(&self) -> Option<usize> {
        let rest = self.b.len() - self.pos;
        match self.split {
            Split::Big if rest >= SPLIT_AT_LEAST => element_start_after(self.b, self.pos + rest / 2),
            #[cfg(test)]
            Split::From(at) => element_start_after(self.b, at.max(self.pos)),
            _ => None,
        }
    }

    /// The `values` array, its elements from the one starting at `at` on scanned by a second
    /// thread while this one scans those before. When this scan meets an element starting exactly
    /// at `at`, the second one read from there what this one would have (the same code, in the
    /// same state but for the separator count, added up here), so its answer is taken; when it
    /// does not (the guess was inside a string), the second is stopped and this one goes on alone.
    fn values_split(&mut self, records: &mut Vec<Record>, at: usize) -> Option<()> {
        let stop = AtomicBool::new(false);
        let (text, b) = (self.text, self.b);
        let (tail, head) = crate::threads::join(
            || {
                let mut s = Scan {
                    text,
                    b,
                    pos: at,
                    separators: 0,
                    split: Split::Never,
                };
                let mut out = Vec::new();
                while !stop.load(Ordering::Relaxed) {
                    out.push(s.tag()?);
                    if !s.separator()? {
                        s.eat(b']')?;
                        return Some((out, s.pos, s.separators));
                    }
                }
                None
            },
            || {
                let head = self.values_until(records, at);
                if head != Some(true) {
                    stop.store(true, Ordering::Relaxed);
                }
                head
            },
        );
        if !head? {
            return Some(());
        }
        let (more, end, separators) = tail?;
        records.extend(more);
        self.pos = end;
        self.separators += separators;
        // The count only grows: it passed the limit somewhere iff it is past it now.
        (self.separators < MAX_VALUES - 1).then_some(())
    }

    /// [`Self::array`] of `values` up to the element starting at `at`: `Some(true)` when it
    /// stopped there, `Some(false)` when the array ended first.
    fn values_until(&mut self, records: &mut Vec<Record>, at: usize) -> Option<bool> {
        self.eat(b'[')?;
        if self.eat(b']').is_some() {
            return Some(false);
        }
        loop {
            self.ws();
            if self.pos == at {
                return Some(true);
            }
            records.push(self.tag()?);
            if !self.separator()? {
                self.eat(b']')?;
                return Some(false);
            }
        }
    }

    /// `changeNumber`: a whole number, or a string of one (the API's form), read as serde reads it.
    fn change_number(&mut self) -> Option<u64> {
        self.ws();
        if self.peek()? == b'"' {
            return self.string()?.parse().ok();
        }
        let n = self.number()?;
        // Only plain non-negative integers: serde refuses fractions and signs here, and reads
        // `0`-led or exponent forms differently; all of those go to the strict path.
        if n.bytes().all(|c| c.is_ascii_digit()) {
            n.parse().ok()
        } else {
            None
        }
    }

    /// One element of `values`.
    fn tag(&mut self) -> Option<Record> {
        let (mut name, mut properties) = (None, None);
        self.object(3, |s, key| match key {
            "name" => {
                name = Some(s.span()?);
                Some(())
            }
            "properties" => {
                properties = Some(s.properties()?);
                Some(())
            }
            _ => s.skip(3),
        })?;
        let (name, p) = (name?, properties?);
        Some(Record {
            name,
            region: p.region,
            system_service: p.system_service,
            prefixes: p.prefixes?,
            network_features: p.network_features,
        })
    }

    /// One element of `addressPrefixes`, checked, not built. The canonical forms (all of the real
    /// files' prefixes) are checked in place, the bytes once; anything else is read as a string by
    /// [`prefix`], ipnet's parser for the forms off the canonical ones.
    fn prefix(&mut self) -> Option<()> {
        self.ws();
        if self.peek() != Some(b'"') {
            return None;
        }
        // Each check stops at the first byte that cannot continue its form: the whole string is a
        // prefix when that byte is the closing quote.
        let at = self.pos + 1;
        match v4_end(self.b, at).or_else(|| v6_end(self.b, at)) {
            Some(end) if self.b.get(end) == Some(&b'"') => {
                self.pos = end + 1;
                Some(())
            }
            _ => prefix(self.string()?).ok().map(drop),
        }
    }

    fn properties(&mut self) -> Option<Properties> {
        let mut p = Properties::default();
        self.object(4, |s, key| {
            match key {
                "region" => p.region = s.span()?,
                "systemService" => p.system_service = s.span()?,
                "addressPrefixes" => {
                    s.ws();
                    let start = s.pos;
                    s.array(5, Self::prefix)?;
                    p.prefixes = Some(start..s.pos);
                }
                // serde reads `null` here as no features.
                "networkFeatures" => {
                    if !s.null() {
                        s.ws();
                        let start = s.pos;
                        s.array(5, |s| s.span().map(drop))?;
                        p.network_features = Some(start..s.pos);
                    }
                }
                _ => s.skip(4)?,
            }
            Some(())
        })?;
        Some(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data;
    use proptest::prelude::*;

    const AZ: &str = include_str!("../../../../tests/fixtures/servicetags/az-list-service-tags.json");

    /// The fast path's tags of `text`, indexed in a copy of it.
    fn fast(text: &str) -> Option<ServiceTags> {
        read(text).map(|scanned| scanned.into_tags(Arc::new(text.to_string())))
    }

    /// Split between two threads anywhere, the scan finds what it finds in one piece.
    fn split_agrees(text: &str) -> Result<(), TestCaseError> {
        let whole = read_split(text, Split::Never);
        for at in [0, text.len() / 4, text.len() / 2, 3 * text.len() / 4, text.len()] {
            prop_assert_eq!(&read_split(text, Split::From(at)), &whole, "split from {}", at);
        }
        prop_assert_eq!(&read_split(text, Split::Big), &whole);
        Ok(())
    }

    /// The fast path's answer, when it gives one, is the strict path's, field for field.
    fn agrees(text: &str) -> Result<bool, TestCaseError> {
        split_agrees(text)?;
        let Some(fast) = fast(text) else { return Ok(false) };
        let strict = ServiceTags::parse_strict(text);
        prop_assert!(
            strict.is_ok(),
            "the fast path accepted what the strict one refuses: {:?}",
            strict.err()
        );
        let strict = strict.unwrap();
        prop_assert_eq!(&fast.cloud, &strict.cloud);
        prop_assert_eq!(fast.change_number, strict.change_number);
        // Tags looked up one at a time (built from the text on first use, as a compile does), by
        // their names in three cases and by names the file does not have.
        for name in strict.tags().keys() {
            for asked in [name.clone(), name.to_lowercase(), name.to_uppercase()] {
                prop_assert_eq!(fast.get(&asked), strict.get(&asked), "{}", asked);
            }
        }
        for absent in ["", "Storage.", "ZZZ", "a", "\u{10ffff}"] {
            prop_assert_eq!(fast.get(absent), strict.get(absent), "{}", absent);
        }
        // And all at once.
        prop_assert_eq!(fast.tags(), strict.tags());
        prop_assert_eq!(fast.folded(), strict.folded());
        Ok(true)
    }

    #[test]
    fn the_real_files_take_the_fast_path_and_read_as_the_strict_path_does() {
        let weekly = AZ.replace("\"changeNumber\": \"375\"", "\"changeNumber\": 375");
        let compact = serde_json::to_string(&serde_json::from_str::<serde_json::Value>(data::SERVICE_TAGS_CHINA).unwrap()).unwrap();
        for text in [
            data::SERVICE_TAGS_PUBLIC,
            data::SERVICE_TAGS_GOVERNMENT,
            data::SERVICE_TAGS_CHINA,
            AZ,
            &weekly,
            &compact,
            &format!("\u{feff}{AZ}"),
        ] {
            assert!(agrees(text).unwrap(), "{}", &text[..80]);
        }
    }

    #[test]
    fn the_real_files_are_split_where_an_element_starts() {
        for text in [data::SERVICE_TAGS_PUBLIC, data::SERVICE_TAGS_GOVERNMENT, data::SERVICE_TAGS_CHINA] {
            let whole = read_split(text, Split::Never).unwrap();
            let b = text.as_bytes();
            let values = text.find("\"values\"").unwrap();
            let at = element_start_after(b, values + (b.len() - values) / 2).unwrap();
            let mut tail = Scan {
                text,
                b,
                pos: at,
                separators: 0,
                split: Split::Never,
            };
            // The guess is where a tag of the file starts, so the head scan meets it.
            let first = tail.tag().unwrap();
            assert!(whole.names.records.contains(&first), "{}", &text[at..at + 80]);
        }
        // A comma and a brace inside a string are no element: the head passes them by.
        let tricky = r#"{"changeNumber":1,"cloud":"Public","values":[{"name":"a, {b","properties":{"addressPrefixes":[]}},{"name":"c","properties":{"addressPrefixes":["10.0.0.0/8"]}}]}"#;
        let guess = element_start_after(tricky.as_bytes(), 0).unwrap();
        assert_eq!(&tricky[guess - 2..guess + 1], ", {");
        assert_eq!(read_split(tricky, Split::From(0)), read_split(tricky, Split::Never));
        assert!(read_split(tricky, Split::Never).is_some());
    }

    #[test]
    fn a_file_s_tags_are_built_only_when_looked_up() {
        let tags = fast(data::SERVICE_TAGS_PUBLIC).unwrap();
        let Some(super::super::Lookup::File(index)) = &tags.index else {
            panic!("the scan indexes the file")
        };
        assert_eq!(index.len(), 3039);
        assert_eq!(index.built().count(), 0);
        let sql = tags.get("sql").unwrap();
        assert_eq!((sql.name.as_str(), sql.system_service.as_str()), ("Sql", "AzureSQL"));
        assert!(sql.prefixes.decoded.get().is_none(), "prefixes wait for their first use");
        assert!(sql.prefixes.contains(&"4.144.9.64/27".parse().unwrap()));
        assert_eq!(index.built().collect::<Vec<_>>(), ["Sql"]);
        assert!(tags.all.get().is_none() && tags.folded.get().is_none());
    }

    #[test]
    fn unusual_but_valid_files_are_left_to_the_strict_path() {
        let file = |prefix: &str| {
            format!(r#"{{"changeNumber":1,"cloud":"Public","values":[{{"name":"X","properties":{{"addressPrefixes":["{prefix}"]}}}}]}}"#)
        };
        // Prefixes off the canonical forms are ipnet's to read, on both paths.
        assert!(agrees(&file("10.0.0.0/8")).unwrap());
        assert!(agrees(&file("::ffff:1.2.3.4/128")).unwrap());
        // The API's string change number is read as serde's `str::parse` reads it.
        assert!(agrees(r#"{"changeNumber":"+0375","cloud":"Public","values":[]}"#).unwrap());
        // Escapes: the strict path reads them, the fast one declines.
        for text in [
            file("10.0.0.0\\/8"),
            r#"{"changeNumber":1,"cloud":"Pub\u006cic","values":[]}"#.to_string(),
        ] {
            assert!(read(&text).is_none(), "{text}");
            assert!(ServiceTags::parse(&text).is_ok(), "{text}");
        }
        // Problems of every kind are the strict path's to report.
        for text in [
            file("10.0.0.0/33"),
            r#"{"changeNumber":1,"changeNumber":1,"cloud":"Public","values":[]}"#.to_string(),
            r#"{"changeNumber":1.0,"cloud":"Public","values":[]}"#.to_string(),
            r#"{"changeNumber":-1,"cloud":"Public","values":[]}"#.to_string(),
            r#"{"changeNumber":1,"cloud":null,"values":[]}"#.to_string(),
            r#"{"changeNumber":1,"cloud":"Public"}"#.to_string(),
            r#"{"changeNumber":1,"cloud":"Public","values":[],}"#.to_string(),
            r#"{"changeNumber":1,"cloud":"Public","values":[]} x"#.to_string(),
            r#"{"changeNumber":1,"cloud":"Public","values":[{"name":"a","properties":{"addressPrefixes":[]}},{"name":"A","properties":{"addressPrefixes":[]}}]}"#.to_string(),
            r#"{"changeNumber":1,"cloud":"Public","values":[{"name":"a","properties":{"region":null,"addressPrefixes":[]}}]}"#.to_string(),
            format!(r#"{{"changeNumber":1,"cloud":"Public","x":{}1{},"values":[]}}"#, "[".repeat(70), "]".repeat(70)),
        ] {
            assert!(read(&text).is_none(), "{text}");
            assert!(ServiceTags::parse(&text).is_err(), "{text}");
        }
        // `networkFeatures: null` and unknown members of any type are read as serde reads them.
        let odd = r#"{"x":[true,false,null,-1.5e3,{"a":[]}],"changeNumber":"7","cloud":"China","values":[{"properties":{"networkFeatures":null,"addressPrefixes":["2603:1030::/48"],"y":{}},"name":"T"}]}"#;
        assert!(agrees(odd).unwrap());
    }

    /// A real file cut to its first tags (so a case is fast), pretty or compact.
    fn seeds() -> Vec<String> {
        let mut doc: serde_json::Value = serde_json::from_str(data::SERVICE_TAGS_GOVERNMENT).unwrap();
        doc["values"].as_array_mut().unwrap().truncate(6);
        vec![AZ.to_string(), serde_json::to_string_pretty(&doc).unwrap(), doc.to_string()]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2000, failure_persistence: None, ..ProptestConfig::default() })]

        /// Byte-level edits of real files (deletions, insertions and replacements of the bytes JSON
        /// and prefixes are made of): the fast path declines or agrees with the strict path.
        #[test]
        fn edited_files_read_as_the_strict_path_reads_them(
            seed in 0usize..3,
            edits in prop::collection::vec((any::<prop::sample::Index>(), 0u8..3, prop::sample::select(b"{}[],:\" \\/.0123456789abefnlrstuAF-+eE\n".to_vec())), 1..4),
        ) {
            let mut text = seeds()[seed].clone().into_bytes();
            for (at, kind, byte) in edits {
                let i = at.index(text.len());
                match kind {
                    0 => { text.remove(i); }
                    1 => text.insert(i, byte),
                    _ => text[i] = byte,
                }
            }
            if let Ok(text) = String::from_utf8(text) {
                agrees(&text)?;
            }
        }
    }
}
