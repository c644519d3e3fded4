//! Pre-indexes the embedded service-tag snapshots (data/servicetags/*.json, 4.7 MB of JSON) into a
//! compact binary form at build time, so `ServiceTags::embedded` decodes prefixes from bytes instead
//! of parsing JSON text on every run. The format is private to `servicetags.rs` (`decode_index`);
//! a unit test checks that the decoded snapshot equals `ServiceTags::parse` of the JSON.
//!
//! Format (little endian): magic `ISETAGS4`, u64 change number, string cloud, u32 tag count N, then
//! two tables the decoder binary-searches (so a run decodes only the tags it looks up): N u32
//! offsets of the tag records (from the end of the tables), in ascending order of name bytes, and N
//! u32 tag numbers (positions in that order) in ascending order of lower-cased name. Then the
//! records, in name order: string name, string region, string systemService, u32 feature count and
//! the features, u32 prefix count, u32 byte length of the prefixes (so a decoder can skip them and
//! decode prefixes only on first use) and the prefixes in file order, each a family byte (4 or 6),
//! the prefix length byte and the 4 or 16 address bytes (big endian); then u32 count of the IPv4
//! prefixes, u32 count M and the tag's IPv4 addresses as M ranges, each u32 first and u32 last
//! address, ascending, disjoint and not adjacent (what a proof's interval set of the tag is, so a
//! compile does not build it from the prefixes). A string is a u32 byte length and UTF-8 bytes.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::Path;

/// A JSON value. build.rs reads JSON with this small parser rather than serde_json so a clean build
/// does not compile serde and serde_json a second time for the build script (about 7 s on the
/// project's runner).
enum Json {
    Null,
    Bool,
    Number(String),
    String(String),
    Array(Vec<Json>),
    Object(BTreeMap<String, Json>),
}

struct Parser<'a> {
    bytes: &'a [u8],
    pos: usize,
    file: &'a str,
}

impl Parser<'_> {
    fn fail(&self, what: &str) -> ! {
        panic!("{}: byte {}: {what}", self.file, self.pos)
    }
    fn ws(&mut self) {
        while self.pos < self.bytes.len() && self.bytes[self.pos].is_ascii_whitespace() {
            self.pos += 1;
        }
    }
    fn eat(&mut self, b: u8) {
        self.ws();
        if self.bytes.get(self.pos) != Some(&b) {
            self.fail(&format!("expected `{}`", b as char));
        }
        self.pos += 1;
    }
    fn literal(&mut self, word: &str, value: Json) -> Json {
        if !self.bytes[self.pos..].starts_with(word.as_bytes()) {
            self.fail("bad literal");
        }
        self.pos += word.len();
        value
    }
    fn value(&mut self) -> Json {
        self.ws();
        match self.bytes.get(self.pos) {
            Some(b'{') => {
                self.pos += 1;
                let mut map = BTreeMap::new();
                self.ws();
                if self.bytes.get(self.pos) == Some(&b'}') {
                    self.pos += 1;
                    return Json::Object(map);
                }
                loop {
                    self.ws();
                    let key = self.string();
                    self.eat(b':');
                    let v = self.value();
                    map.insert(key, v);
                    self.ws();
                    match self.bytes.get(self.pos) {
                        Some(b',') => self.pos += 1,
                        Some(b'}') => {
                            self.pos += 1;
                            return Json::Object(map);
                        }
                        _ => self.fail("expected `,` or `}`"),
                    }
                }
            }
            Some(b'[') => {
                self.pos += 1;
                let mut items = Vec::new();
                self.ws();
                if self.bytes.get(self.pos) == Some(&b']') {
                    self.pos += 1;
                    return Json::Array(items);
                }
                loop {
                    items.push(self.value());
                    self.ws();
                    match self.bytes.get(self.pos) {
                        Some(b',') => self.pos += 1,
                        Some(b']') => {
                            self.pos += 1;
                            return Json::Array(items);
                        }
                        _ => self.fail("expected `,` or `]`"),
                    }
                }
            }
            Some(b'"') => Json::String(self.string()),
            Some(b't') => self.literal("true", Json::Bool),
            Some(b'f') => self.literal("false", Json::Bool),
            Some(b'n') => self.literal("null", Json::Null),
            Some(b'-' | b'0'..=b'9') => {
                let start = self.pos;
                while self.pos < self.bytes.len() && matches!(self.bytes[self.pos], b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9') {
                    self.pos += 1;
                }
                Json::Number(String::from_utf8_lossy(&self.bytes[start..self.pos]).into_owned())
            }
            _ => self.fail("expected a value"),
        }
    }
    fn string(&mut self) -> String {
        if self.bytes.get(self.pos) != Some(&b'"') {
            self.fail("expected a string");
        }
        self.pos += 1;
        let mut out = String::new();
        loop {
            let start = self.pos;
            while self.pos < self.bytes.len() && !matches!(self.bytes[self.pos], b'"' | b'\\') {
                self.pos += 1;
            }
            out.push_str(std::str::from_utf8(&self.bytes[start..self.pos]).unwrap_or_else(|_| self.fail("not UTF-8")));
            match self.bytes.get(self.pos) {
                Some(b'"') => {
                    self.pos += 1;
                    return out;
                }
                Some(_) => {
                    let esc = self
                        .bytes
                        .get(self.pos + 1)
                        .copied()
                        .unwrap_or_else(|| self.fail("truncated escape"));
                    self.pos += 2;
                    match esc {
                        b'"' => out.push('"'),
                        b'\\' => out.push('\\'),
                        b'/' => out.push('/'),
                        b'b' => out.push('\u{8}'),
                        b'f' => out.push('\u{c}'),
                        b'n' => out.push('\n'),
                        b'r' => out.push('\r'),
                        b't' => out.push('\t'),
                        b'u' => {
                            let hex = std::str::from_utf8(&self.bytes[self.pos..self.pos + 4]).unwrap_or_else(|_| self.fail("bad \\u"));
                            let unit = u32::from_str_radix(hex, 16).unwrap_or_else(|_| self.fail("bad \\u"));
                            self.pos += 4;
                            // The tag files are ASCII; a surrogate pair would need joining.
                            out.push(char::from_u32(unit).unwrap_or_else(|| self.fail("surrogate escapes are not supported")));
                        }
                        _ => self.fail("bad escape"),
                    }
                }
                None => self.fail("unterminated string"),
            }
        }
    }
}

fn parse(text: &str, file: &str) -> Json {
    let mut p = Parser {
        bytes: text.as_bytes(),
        pos: 0,
        file,
    };
    let v = p.value();
    p.ws();
    if p.pos != p.bytes.len() {
        p.fail("trailing characters");
    }
    v
}

impl Json {
    fn get(&self, key: &str) -> Option<&Json> {
        match self {
            Json::Object(m) => m.get(key),
            _ => None,
        }
    }
    fn str(&self) -> &str {
        match self {
            Json::String(s) => s,
            _ => panic!("expected a string"),
        }
    }
    fn array(&self) -> &[Json] {
        match self {
            Json::Array(a) => a,
            _ => panic!("expected an array"),
        }
    }
}

fn string(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as u32).to_le_bytes());
    out.extend_from_slice(s.as_bytes());
}

/// Encodes prefix `p`; an IPv4 one's first and last address.
fn prefix(out: &mut Vec<u8>, p: &str, file: &str) -> Option<(u32, u32)> {
    let (addr, len) = p.split_once('/').unwrap_or_else(|| panic!("{file}: `{p}` is not a prefix"));
    let len: u8 = len.parse().unwrap_or_else(|_| panic!("{file}: `{p}` has a bad length"));
    match addr.parse::<IpAddr>().unwrap_or_else(|_| panic!("{file}: `{p}` has a bad address")) {
        IpAddr::V4(a) => {
            assert!(len <= 32, "{file}: `{p}`");
            out.extend_from_slice(&[4, len]);
            out.extend_from_slice(&a.octets());
            let host = u32::MAX.checked_shr(u32::from(len)).unwrap_or(0);
            let first = u32::from(a) & !host;
            Some((first, first | host))
        }
        IpAddr::V6(a) => {
            assert!(len <= 128, "{file}: `{p}`");
            out.extend_from_slice(&[6, len]);
            out.extend_from_slice(&a.octets());
            None
        }
    }
}

/// A string member of an object, empty when absent.
fn field(v: &Json, key: &str) -> String {
    v.get(key).map(|s| s.str().to_string()).unwrap_or_default()
}

fn index(json: &str, file: &str) -> Vec<u8> {
    let doc = parse(json, file);
    let change_number: u64 = match doc.get("changeNumber") {
        Some(Json::Number(n)) => n.parse().unwrap_or_else(|_| panic!("{file}: changeNumber `{n}`")),
        _ => panic!("{file}: changeNumber is not a number"),
    };
    let values = doc.get("values").unwrap_or_else(|| panic!("{file}: no values")).array();
    let mut out = Vec::with_capacity(json.len() / 4);
    out.extend_from_slice(b"ISETAGS4");
    out.extend_from_slice(&change_number.to_le_bytes());
    string(&mut out, &field(&doc, "cloud"));
    out.extend_from_slice(&(values.len() as u32).to_le_bytes());
    let mut values: Vec<&Json> = values.iter().collect();
    values.sort_by_key(|a| field(a, "name"));
    let mut folded: Vec<(String, u32)> = values
        .iter()
        .enumerate()
        .map(|(i, t)| (field(t, "name").to_lowercase(), i as u32))
        .collect();
    folded.sort();
    assert!(folded.windows(2).all(|w| w[0].0 != w[1].0), "{file}: two tags differ only in case");
    let mut records = Vec::with_capacity(json.len() / 4);
    for t in values {
        out.extend_from_slice(&(records.len() as u32).to_le_bytes());
        record(&mut records, t, file);
    }
    for (_, tag) in folded {
        out.extend_from_slice(&tag.to_le_bytes());
    }
    out.extend_from_slice(&records);
    out
}

/// One tag's record (see the format above).
fn record(out: &mut Vec<u8>, t: &Json, file: &str) {
    let p = t.get("properties").unwrap_or_else(|| panic!("{file}: a tag without properties"));
    string(out, &field(t, "name"));
    string(out, &field(p, "region"));
    string(out, &field(p, "systemService"));
    let features = match p.get("networkFeatures") {
        None | Some(Json::Null) => &[][..],
        Some(f) => f.array(),
    };
    out.extend_from_slice(&(features.len() as u32).to_le_bytes());
    for f in features {
        string(out, f.str());
    }
    let prefixes = p
        .get("addressPrefixes")
        .unwrap_or_else(|| panic!("{file}: a tag without addressPrefixes"))
        .array();
    out.extend_from_slice(&(prefixes.len() as u32).to_le_bytes());
    let mut encoded = Vec::new();
    let mut ranges = Vec::new();
    for a in prefixes {
        if let Some(range) = prefix(&mut encoded, a.str(), file) {
            ranges.push(range);
        }
    }
    out.extend_from_slice(&(encoded.len() as u32).to_le_bytes());
    out.extend_from_slice(&encoded);
    out.extend_from_slice(&(ranges.len() as u32).to_le_bytes());
    let ranges = merged(ranges);
    out.extend_from_slice(&(ranges.len() as u32).to_le_bytes());
    for (first, last) in ranges {
        out.extend_from_slice(&first.to_le_bytes());
        out.extend_from_slice(&last.to_le_bytes());
    }
}

/// Address ranges sorted, overlapping and adjacent ones merged.
fn merged(mut ranges: Vec<(u32, u32)>) -> Vec<(u32, u32)> {
    ranges.sort_unstable();
    let mut out: Vec<(u32, u32)> = Vec::with_capacity(ranges.len());
    for (first, last) in ranges {
        match out.last_mut() {
            Some(prev) if u64::from(first) <= u64::from(prev.1) + 1 => prev.1 = prev.1.max(last),
            _ => out.push((first, last)),
        }
    }
    out
}

/// The published address lists (data/logicapps-ips.csv, data/apim-control-plane-ips.csv) as Rust
/// tables for `iplists.rs`: a compile looks up the few rows of its location by binary search
/// instead of splitting 2,000 CSV rows (about a fifth of a compile's instructions when read at run
/// time). Clouds, kinds and normalised locations are sorted name tables; `ROWS` holds every row as
/// `Row { location, cloud, kind, address, length }` (indexes into those tables, the address as
/// written and its prefix length), sorted, and `GLOBALS` the rows marked global (APIM's addresses
/// for every region of the cloud). A unit test compares the tables with the CSV read at run time.
fn address_lists(data: &Path) -> String {
    struct Row {
        cloud: String,
        location: String,
        kind: String,
        address: u32,
        length: u8,
        global: bool,
    }
    let mut rows = Vec::new();
    for (file, kind_column) in [("logicapps-ips.csv", true), ("apim-control-plane-ips.csv", false)] {
        let path = data.join(file);
        println!("cargo:rerun-if-changed={}", path.display());
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let mut lines = text.lines().filter(|l| !l.is_empty());
        let header: Vec<&str> = lines.next().unwrap_or_default().split(',').collect();
        let column = |name: &str| {
            header
                .iter()
                .position(|h| *h == name)
                .unwrap_or_else(|| panic!("{file}: no column {name}"))
        };
        let (cloud, region, prefix) = (column("cloud"), column("region"), column("prefix"));
        let (kind, global) = if kind_column {
            (Some(column("kind")), None)
        } else {
            (None, Some(column("global")))
        };
        for line in lines {
            let fields: Vec<&str> = line.split(',').collect();
            assert_eq!(fields.len(), header.len(), "{file}: `{line}` is not a plain row");
            let (address, length) = fields[prefix].split_once('/').unwrap_or_else(|| panic!("{file}: `{line}`"));
            let address: std::net::Ipv4Addr = address.parse().unwrap_or_else(|_| panic!("{file}: `{line}`"));
            let length: u8 = length.parse().unwrap_or_else(|_| panic!("{file}: `{line}`"));
            assert!(length <= 32, "{file}: `{line}`");
            rows.push(Row {
                cloud: fields[cloud].to_string(),
                // As `cloud::normalise_location` (the unit test compares every row).
                location: fields[region]
                    .chars()
                    .filter(|c| !c.is_whitespace())
                    .flat_map(char::to_lowercase)
                    .collect(),
                kind: kind.map_or("apim-control-plane", |k| fields[k]).to_string(),
                address: u32::from(address),
                length,
                global: global.is_some_and(|g| fields[g] == "yes"),
            });
        }
    }
    let names = |pick: fn(&Row) -> &str| -> Vec<String> {
        let mut v: Vec<String> = rows.iter().map(|r| pick(r).to_string()).collect();
        v.sort();
        v.dedup();
        v
    };
    let (clouds, kinds, locations) = (names(|r| &r.cloud), names(|r| &r.kind), names(|r| &r.location));
    let at = |names: &[String], name: &str| names.binary_search_by(|n| n.as_str().cmp(name)).expect("listed");
    let mut indexed: Vec<(usize, usize, usize, u32, u8, bool)> = rows
        .iter()
        .map(|r| {
            (
                at(&locations, &r.location),
                at(&clouds, &r.cloud),
                at(&kinds, &r.kind),
                r.address,
                r.length,
                r.global,
            )
        })
        .collect();
    indexed.sort_unstable();
    let row = |(location, cloud, kind, address, length, _): &(usize, usize, usize, u32, u8, bool)| {
        format!("    Row {{ location: {location}, cloud: {cloud}, kind: {kind}, address: {address:#010x}, length: {length} }},\n")
    };
    let list = |names: &[String]| names.iter().map(|n| format!("{n:?}")).collect::<Vec<_>>().join(", ");
    let mut out =
        String::from("// Generated by build.rs (`address_lists`) from data/logicapps-ips.csv and data/apim-control-plane-ips.csv.\n");
    out += &format!("const CLOUDS: &[&str] = &[{}];\n", list(&clouds));
    out += &format!("const KIND_NAMES: &[&str] = &[{}];\n", list(&kinds));
    out += &format!("const LOCATIONS: &[&str] = &[{}];\n", list(&locations));
    out += "const ROWS: &[Row] = &[\n";
    indexed.iter().for_each(|r| out += &row(r));
    out += "];\nconst GLOBALS: &[Row] = &[\n";
    indexed.iter().filter(|r| r.5).for_each(|r| out += &row(r));
    out += "];\n";
    out
}

fn main() {
    let manifest = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let out_dir = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    let lists = address_lists(&Path::new(&manifest).join("../../data"));
    std::fs::write(Path::new(&out_dir).join("iplists.rs"), lists).expect("OUT_DIR is writable");
    let data = Path::new(&manifest).join("../../data/servicetags");
    println!("cargo:rerun-if-changed=build.rs");
    for (file, index_name) in [
        ("ServiceTags_Public_20251028.json", "servicetags-public.bin"),
        ("ServiceTags_AzureGovernment.json", "servicetags-government.bin"),
        ("ServiceTags_China.json", "servicetags-china.bin"),
    ] {
        let path = data.join(file);
        println!("cargo:rerun-if-changed={}", path.display());
        let json = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let bytes = index(&json, file);
        std::fs::write(Path::new(&out_dir).join(index_name), bytes).expect("OUT_DIR is writable");
    }
}
