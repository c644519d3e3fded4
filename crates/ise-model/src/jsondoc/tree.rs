//! A whole JSON file read in one pass into a flat tree of values that point into the text: what
//! the NSG, route and firewall readers walk instead of a serde_json `Value`, whose maps, strings
//! and boxes cost most of reading a 1,000-rule NSG. Line:column are not counted while reading: a
//! value keeps its byte offset, made into line:column only when a location is asked for.
//!
//! The tree accepts exactly what [`super::parse`] accepts (size, nesting, value count, duplicate
//! keys, serde_json's grammar); on anything else it hands the text to that strict path, so every
//! refusal keeps its code, path, line:column and text.

use super::{strip_bom, MAX_DEPTH, MAX_FILE_BYTES, MAX_VALUES};
use crate::diag::Diagnostic;
use crate::jsonpos::{deepest, PathTree};
use std::cell::{Cell, OnceCell};

/// A parsed document: its values in document order (the root first), each container's children
/// contiguous in `children`.
#[derive(Debug)]
pub struct Tree<'t> {
    text: &'t str,
    nodes: Vec<Node>,
    children: Vec<u32>,
    /// Strings and keys written with escapes, decoded, by node index (ascending).
    strings: Vec<(u32, String)>,
    keys: Vec<(u32, String)>,
    /// Byte offsets of the text's newlines, found on the first location asked for.
    lines: OnceCell<Vec<u32>>,
    /// The last location computed (offset, line, column): locations are mostly asked for in
    /// document order, so a column is counted from there rather than from its line's start (a
    /// compact file is one long line).
    last: Cell<(usize, usize, usize)>,
}

/// What a value is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Null,
    Bool,
    Number,
    String,
    Array,
    Object,
}

#[derive(Debug, Clone, Copy)]
struct Node {
    /// Offset of the value's first byte.
    start: u32,
    /// String: content span (offset, length). Number: (offset, length). Containers: their
    /// children `children[a..a + b]`. Bool: b is 1 for true.
    a: u32,
    b: u32,
    /// The key's content span as written (offset, length); object members only.
    key_at: u32,
    key_len: u32,
    kind: Kind,
    flags: u8,
}

const HAS_KEY: u8 = 1;
const KEY_ESCAPED: u8 = 2;
const STRING_ESCAPED: u8 = 4;

/// Reads `text` strictly into a tree; a text [`super::parse`] refuses gets its diagnostics (each
/// naming `file`, syntax errors with `syntax_code`).
pub fn parse<'t>(text: &'t str, file: &str, syntax_code: &'static str) -> Result<Tree<'t>, Vec<Diagnostic>> {
    let stopped = match Tree::read(text) {
        Ok(tree) => return Ok(tree),
        Err(stopped) => stopped,
    };
    match super::parse::<serde_json::Value>(text, file, syntax_code) {
        Err(diags) => Err(diags),
        // Not expected (the tests hold the two to one answer): refuse rather than guess.
        Ok(_) => {
            let (line, col) = Tree::empty(strip_bom(text)).line_col(stopped.min(strip_bom(text).len()));
            Err(vec![Diagnostic::error(syntax_code, "", "invalid JSON").at(line, col).in_file(file)])
        }
    }
}

impl<'t> Tree<'t> {
    fn empty(text: &'t str) -> Self {
        Tree {
            text,
            nodes: Vec::new(),
            children: Vec::new(),
            strings: Vec::new(),
            keys: Vec::new(),
            lines: OnceCell::new(),
            last: Cell::new((0, 1, 1)),
        }
    }

    /// The tree, or the offset where reading stopped.
    fn read(text: &'t str) -> Result<Self, usize> {
        if text.len() as u64 > MAX_FILE_BYTES || text.len() >= u32::MAX as usize {
            return Err(0);
        }
        let text = strip_bom(text);
        let mut r = Reader {
            b: text.as_bytes(),
            pos: 0,
            // A pretty-printed file has a value per 20 bytes or so.
            tree: Tree::empty(text),
            pending: Vec::new(),
            commas: 0,
            depth: 0,
        };
        r.tree.nodes.reserve(text.len() / 24);
        r.tree.children.reserve(text.len() / 24);
        let done = r.value(None).and_then(|()| {
            r.skip_ws();
            if r.pos == r.b.len() {
                Ok(())
            } else {
                Err(r.pos)
            }
        });
        done.map(|()| r.tree)
    }

    /// The document itself.
    pub fn root(&self) -> Json<'_> {
        Json { tree: self, id: 0 }
    }

    /// The text read (without a byte-order mark).
    pub fn text(&self) -> &'t str {
        self.text
    }

    /// Line:column of a byte offset (columns count characters, as editors do).
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let chars = |run: &[u8]| run.iter().filter(|&&b| b & 0xC0 != 0x80).count();
        let lines = self.lines.get_or_init(|| {
            crate::bytesearch::positions(b'\n', self.text.as_bytes())
                .into_iter()
                .map(|i| i as u32)
                .collect()
        });
        let line = lines.partition_point(|&nl| (nl as usize) < offset);
        let line_start = if line == 0 { 0 } else { lines[line - 1] as usize + 1 };
        let (last, last_line, last_col) = self.last.get();
        let bytes = self.text.as_bytes();
        let col = if last_line == line + 1 && (line_start..=offset).contains(&last) {
            last_col + chars(&bytes[last..offset])
        } else {
            1 + chars(&bytes[line_start..offset])
        };
        self.last.set((offset, line + 1, col));
        (line + 1, col)
    }

    /// Position of the value at `path` (`a.b[2].c`, as diagnostics write paths), or of its
    /// closest existing ancestor: the same answer as [`crate::jsonpos::Positions::find`] on the text.
    pub fn find(&self, path: &str) -> Option<(usize, usize)> {
        let root = self.nodes.first()?;
        let (_, node) = deepest(self, 0, path, true);
        let n = self.nodes.get(node).unwrap_or(root);
        Some(self.line_col(n.start as usize))
    }

    /// The children of a container (of anything else: none).
    fn kids(&self, node: usize) -> &[u32] {
        let n = &self.nodes[node];
        match n.kind {
            Kind::Array | Kind::Object => &self.children[n.a as usize..(n.a + n.b) as usize],
            _ => &[],
        }
    }

    fn raw_key(&self, node: usize) -> &'t str {
        let n = &self.nodes[node];
        &self.text[n.key_at as usize..(n.key_at + n.key_len) as usize]
    }

    /// The key as JSON means it (escapes decoded).
    fn key(&self, node: usize) -> Option<&str> {
        let n = &self.nodes[node];
        if n.flags & HAS_KEY == 0 {
            return None;
        }
        if n.flags & KEY_ESCAPED == 0 {
            return Some(self.raw_key(node));
        }
        decoded(&self.keys, node)
    }

    /// Whether `node`'s key is `segment` of a path the way jsonpos compares them: an escape is
    /// read as the escaped byte (`\u0061` as `u0061`), as the paths' positions always were.
    fn path_key_is(&self, node: usize, segment: &str) -> bool {
        let n = &self.nodes[node];
        if n.flags & HAS_KEY == 0 {
            return false;
        }
        let raw = self.raw_key(node).as_bytes();
        if n.flags & KEY_ESCAPED == 0 {
            return raw == segment.as_bytes();
        }
        let mut unescaped = Vec::with_capacity(raw.len());
        let mut bytes = raw.iter();
        while let Some(&b) = bytes.next() {
            match b {
                b'\\' => unescaped.extend(bytes.next()),
                _ => unescaped.push(b),
            }
        }
        String::from_utf8_lossy(&unescaped) == segment
    }
}

impl PathTree for Tree<'_> {
    fn child_at(&self, node: usize, i: usize) -> Option<usize> {
        self.kids(node).get(i).map(|&c| c as usize)
    }

    fn child_named(&self, node: usize, key: &str) -> Option<usize> {
        self.kids(node)
            .iter()
            .rev()
            .map(|&c| c as usize)
            .find(|&c| self.path_key_is(c, key))
    }
}

fn decoded(list: &[(u32, String)], node: usize) -> Option<&str> {
    let i = list.binary_search_by_key(&(node as u32), |(n, _)| *n).ok()?;
    Some(&list[i].1)
}

/// One value of a tree.
#[derive(Clone, Copy)]
pub struct Json<'a> {
    tree: &'a Tree<'a>,
    id: u32,
}

impl std::fmt::Debug for Json<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Json({:?} at {})", self.kind(), self.node().start)
    }
}

impl<'a> Json<'a> {
    fn node(&self) -> &'a Node {
        &self.tree.nodes[self.id as usize]
    }

    pub fn kind(self) -> Kind {
        self.node().kind
    }

    pub fn is_null(self) -> bool {
        self.kind() == Kind::Null
    }

    pub fn is_object(self) -> bool {
        self.kind() == Kind::Object
    }

    /// Byte offset of the value in the text.
    pub fn offset(self) -> usize {
        self.node().start as usize
    }

    pub fn line_col(self) -> (usize, usize) {
        self.tree.line_col(self.offset())
    }

    pub fn as_str(self) -> Option<&'a str> {
        let n = self.node();
        match n.kind {
            Kind::String if n.flags & STRING_ESCAPED != 0 => decoded(&self.tree.strings, self.id as usize),
            Kind::String => Some(&self.tree.text[n.a as usize..(n.a + n.b) as usize]),
            _ => None,
        }
    }

    pub fn as_bool(self) -> Option<bool> {
        (self.kind() == Kind::Bool).then(|| self.node().b == 1)
    }

    /// The number as serde_json reads it (the same `Number`, whatever its features).
    pub fn as_number(self) -> Option<serde_json::Number> {
        let n = self.node();
        if n.kind != Kind::Number {
            return None;
        }
        let text = &self.tree.text[n.a as usize..(n.a + n.b) as usize];
        // Short whole numbers, all a real file holds, directly.
        if text.len() <= 9 && text.bytes().all(|b| b.is_ascii_digit()) {
            return text.parse::<u64>().ok().map(serde_json::Number::from);
        }
        serde_json::from_str(text).ok()
    }

    /// The member `key` of an object.
    pub fn get(self, key: &str) -> Option<Json<'a>> {
        if self.kind() != Kind::Object {
            return None;
        }
        let tree = self.tree;
        tree.kids(self.id as usize)
            .iter()
            .find(|&&c| tree.key(c as usize) == Some(key))
            .map(|&id| Json { tree, id })
    }

    /// The member of an object whose key is `key` in any ASCII case (the first of several).
    pub fn get_any_case(self, key: &str) -> Option<Json<'a>> {
        if self.kind() != Kind::Object {
            return None;
        }
        let tree = self.tree;
        tree.kids(self.id as usize)
            .iter()
            .find(|&&c| tree.key(c as usize).is_some_and(|k| k.eq_ignore_ascii_case(key)))
            .map(|&id| Json { tree, id })
    }

    /// The items of an array.
    pub fn items(self) -> Option<Items<'a>> {
        (self.kind() == Kind::Array).then(|| self.children())
    }

    fn children(self) -> Items<'a> {
        Items {
            tree: self.tree,
            ids: self.tree.kids(self.id as usize).iter(),
        }
    }

    /// The members of an object, in document order, with their keys.
    pub fn members(self) -> impl Iterator<Item = (&'a str, Json<'a>)> {
        let tree = self.tree;
        let members = if self.kind() == Kind::Object {
            self.children()
        } else {
            Items::default_for(tree)
        };
        members.map(move |m| (tree.key(m.id as usize).unwrap_or(""), m))
    }

    /// The value as serde_json's `Value` (for callers that want one; the readers do not).
    pub fn to_value(self) -> serde_json::Value {
        use serde_json::Value;
        match self.kind() {
            Kind::Null => Value::Null,
            Kind::Bool => Value::Bool(self.as_bool() == Some(true)),
            Kind::Number => self.as_number().map_or(Value::Null, Value::Number),
            Kind::String => Value::String(self.as_str().unwrap_or("").to_string()),
            Kind::Array => Value::Array(self.children().map(Json::to_value).collect()),
            Kind::Object => Value::Object(self.members().map(|(k, v)| (k.to_string(), v.to_value())).collect()),
        }
    }
}

/// The items of an array, in order.
#[derive(Clone)]
pub struct Items<'a> {
    tree: &'a Tree<'a>,
    ids: std::slice::Iter<'a, u32>,
}

impl<'a> Items<'a> {
    fn default_for(tree: &'a Tree<'a>) -> Self {
        Items { tree, ids: [].iter() }
    }
}

impl<'a> Iterator for Items<'a> {
    type Item = Json<'a>;
    fn next(&mut self) -> Option<Json<'a>> {
        self.ids.next().map(|&id| Json { tree: self.tree, id })
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.ids.size_hint()
    }
}

impl ExactSizeIterator for Items<'_> {}

/// A key just read: its content span and, when written with escapes, its decoded text.
struct Key {
    at: u32,
    len: u32,
    decoded: Option<String>,
}

struct Reader<'t> {
    b: &'t [u8],
    pos: usize,
    tree: Tree<'t>,
    /// Children of the containers being read, innermost last; moved to `tree.children` on close.
    pending: Vec<u32>,
    /// Separators seen (the strict scan's count of values).
    commas: usize,
    depth: usize,
}

/// Where reading stopped, as a byte offset.
type Read<T> = Result<T, usize>;

impl<'t> Reader<'t> {
    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.b.get(self.pos) {
            self.pos += 1;
        }
    }

    fn expect(&mut self, byte: u8) -> Read<()> {
        if self.b.get(self.pos) == Some(&byte) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.pos)
        }
    }

    fn comma(&mut self) -> Read<()> {
        self.commas += 1;
        if self.commas >= MAX_VALUES {
            return Err(self.pos);
        }
        self.pos += 1;
        Ok(())
    }

    /// A string at its opening quote: its content span and, if it has escapes, its decoded text.
    fn string(&mut self) -> Read<Key> {
        let open = self.pos;
        self.pos += 1;
        let mut escaped = false;
        loop {
            let rest = self.b.get(self.pos..).ok_or(self.pos)?;
            self.pos += super::strings::first_stop(rest).ok_or(self.b.len())?;
            match self.b[self.pos] {
                b'"' => break,
                b'\\' => {
                    escaped = true;
                    self.pos += 2;
                }
                _ => return Err(self.pos),
            }
        }
        self.pos += 1;
        let text = self.tree.text;
        let decoded = if escaped {
            // Escapes are rare: serde_json decodes (and so judges) them.
            Some(serde_json::from_str::<String>(&text[open..self.pos]).map_err(|_| open)?)
        } else {
            None
        };
        Ok(Key {
            at: open as u32 + 1,
            len: (self.pos - open - 2) as u32,
            decoded,
        })
    }

    fn number(&mut self) -> Read<(u32, u32)> {
        let start = self.pos;
        let digits = |r: &mut Self| {
            let from = r.pos;
            while r.b.get(r.pos).is_some_and(u8::is_ascii_digit) {
                r.pos += 1;
            }
            if r.pos == from {
                Err(r.pos)
            } else {
                Ok(())
            }
        };
        if self.b[self.pos] == b'-' {
            self.pos += 1;
        }
        if self.b.get(self.pos) == Some(&b'0') {
            self.pos += 1;
        } else {
            digits(self)?;
        }
        let mut plain = true;
        if self.b.get(self.pos) == Some(&b'.') {
            plain = false;
            self.pos += 1;
            digits(self)?;
        }
        if let Some(b'e' | b'E') = self.b.get(self.pos) {
            plain = false;
            self.pos += 1;
            if let Some(b'+' | b'-') = self.b.get(self.pos) {
                self.pos += 1;
            }
            digits(self)?;
        }
        let text = &self.tree.text[start..self.pos];
        // A fraction, an exponent or many digits may be out of serde_json's range: it judges.
        if (!plain || text.len() > 18) && serde_json::from_str::<serde_json::Value>(text).is_err() {
            return Err(start);
        }
        Ok((start as u32, (self.pos - start) as u32))
    }

    /// Reads the value here (after whitespace), recorded under `key`.
    fn value(&mut self, key: Option<Key>) -> Read<()> {
        self.skip_ws();
        let id = self.tree.nodes.len() as u32;
        let mut node = Node {
            start: self.pos as u32,
            a: 0,
            b: 0,
            key_at: 0,
            key_len: 0,
            kind: Kind::Null,
            flags: 0,
        };
        if let Some(k) = key {
            node.flags |= HAS_KEY;
            (node.key_at, node.key_len) = (k.at, k.len);
            if let Some(d) = k.decoded {
                node.flags |= KEY_ESCAPED;
                self.tree.keys.push((id, d));
            }
        }
        let literal = |r: &mut Self, word: &[u8]| {
            if r.b[r.pos..].starts_with(word) {
                r.pos += word.len();
                Ok(())
            } else {
                Err(r.pos)
            }
        };
        match *self.b.get(self.pos).ok_or(self.pos)? {
            b'{' | b'[' => {
                node.kind = if self.b[self.pos] == b'{' { Kind::Object } else { Kind::Array };
                if self.depth >= MAX_DEPTH {
                    return Err(self.pos);
                }
                self.tree.nodes.push(node);
                self.depth += 1;
                self.container(id, node.kind)?;
                self.depth -= 1;
                return Ok(());
            }
            b'"' => {
                let s = self.string()?;
                node.kind = Kind::String;
                (node.a, node.b) = (s.at, s.len);
                if let Some(d) = s.decoded {
                    node.flags |= STRING_ESCAPED;
                    self.tree.strings.push((id, d));
                }
            }
            b't' => {
                literal(self, b"true")?;
                (node.kind, node.b) = (Kind::Bool, 1);
            }
            b'f' => {
                literal(self, b"false")?;
                node.kind = Kind::Bool;
            }
            b'n' => literal(self, b"null")?,
            b'-' | b'0'..=b'9' => {
                node.kind = Kind::Number;
                (node.a, node.b) = self.number()?;
            }
            _ => return Err(self.pos),
        }
        self.tree.nodes.push(node);
        Ok(())
    }

    /// The members or items of the container `id`, from its opening bracket to past its closing one.
    fn container(&mut self, id: u32, kind: Kind) -> Read<()> {
        let close = if kind == Kind::Object { b'}' } else { b']' };
        self.pos += 1;
        let mark = self.pending.len();
        self.skip_ws();
        if self.b.get(self.pos) == Some(&close) {
            self.pos += 1;
        } else {
            loop {
                self.pending.push(self.tree.nodes.len() as u32);
                if kind == Kind::Object {
                    self.skip_ws();
                    if self.b.get(self.pos) != Some(&b'"') {
                        return Err(self.pos);
                    }
                    let key = self.string()?;
                    self.skip_ws();
                    self.expect(b':')?;
                    self.value(Some(key))?;
                } else {
                    self.value(None)?;
                }
                self.skip_ws();
                match self.b.get(self.pos) {
                    Some(b',') => self.comma()?,
                    Some(&c) if c == close => {
                        self.pos += 1;
                        break;
                    }
                    _ => return Err(self.pos),
                }
            }
        }
        if kind == Kind::Object && self.repeats_a_key(mark) {
            return Err(self.pos);
        }
        let first = self.tree.children.len() as u32;
        self.tree.children.extend(self.pending.drain(mark..));
        let n = &mut self.tree.nodes[id as usize];
        n.a = first;
        n.b = self.tree.children.len() as u32 - first;
        Ok(())
    }

    /// Whether two members of the object being closed (its children `pending[mark..]`) share a key.
    fn repeats_a_key(&self, mark: usize) -> bool {
        let members = &self.pending[mark..];
        let key = |&c: &u32| self.tree.key(c as usize).unwrap_or("");
        // An object of a real file has a dozen keys or so: compared pairwise, from a stack array.
        let mut small = [""; 16];
        if members.len() <= small.len() {
            let keys = &mut small[..members.len()];
            keys.iter_mut().zip(members).for_each(|(k, m)| *k = key(m));
            return keys.iter().enumerate().any(|(i, a)| keys[i + 1..].contains(a));
        }
        let mut keys: Vec<&str> = members.iter().map(key).collect();
        keys.sort_unstable();
        keys.windows(2).any(|w| w[0] == w[1])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codes::{E_DUPLICATE_KEY, E_NESTING, E_SYNTAX, E_TOO_MANY};
    use crate::jsonpos::{field, index, Positions};
    use proptest::prelude::*;
    use serde_json::Value;

    /// What the tree answers and what serde_json with the strict scan answers, side by side.
    fn both(text: &str) -> (Result<Value, Vec<Diagnostic>>, Result<Value, Vec<Diagnostic>>) {
        let tree = parse(text, "f.json", E_SYNTAX).map(|t| t.root().to_value());
        (tree, super::super::parse::<Value>(text, "f.json", E_SYNTAX))
    }

    /// Every path of a document as diagnostics write them.
    fn paths(v: &Value, at: String, out: &mut Vec<String>) {
        match v {
            Value::Object(m) => m.iter().for_each(|(k, c)| paths(c, field(&at, k), out)),
            Value::Array(a) => a.iter().enumerate().for_each(|(i, c)| paths(c, index(&at, i), out)),
            _ => {}
        }
        out.push(at);
    }

    #[test]
    fn values_strings_numbers_and_positions() {
        let text = "\u{feff}{\n  \"a\": [1, -2.5e3, true, false, null],\n  \"b\\u0063\": \"x\\ny\", \"é\": {\"k\": \"v\"}\n}";
        let tree = parse(text, "f", E_SYNTAX).unwrap();
        let root = tree.root();
        assert_eq!(root.get("bc").and_then(Json::as_str), Some("x\ny"));
        assert_eq!(root.get("é").and_then(|e| e.get("k")).map(Json::line_col), Some((3, 33)));
        let a: Vec<Value> = root.get("a").unwrap().items().unwrap().map(Json::to_value).collect();
        assert_eq!(a, serde_json::from_str::<Vec<Value>>("[1, -2.5e3, true, false, null]").unwrap());
        assert_eq!(tree.find("a[1]"), Some((2, 12)));
        // A missing member falls back to its parent; a path through an escaped key is read as
        // jsonpos reads it.
        assert_eq!(tree.find("a[9]"), Some((2, 8)));
        assert_eq!(tree.find("bu0063"), Some((3, 14)));
        assert!(root.get("a").unwrap().get("x").is_none() && root.items().is_none());
    }

    #[test]
    fn refusals_are_the_strict_paths() {
        for text in [
            "",
            "{",
            "{\"a\": 1,}",
            "[1,]",
            "[01]",
            "[1.]",
            "[1e400]",
            "[\"\t\"]",
            "[\"\\x\"]",
            "[\"\\ud800\"]",
            "{\"a\": 1, \"a\": 2}",
            "{\"a\": 1, \"\\u0061\": 2}",
            "[tru]",
            "nul",
            "{} {}",
            "{1: 2}",
        ] {
            let (tree, strict) = both(text);
            assert!(strict.is_err(), "{text}");
            assert_eq!(tree.unwrap_err(), strict.unwrap_err(), "{text}");
        }
        let deep = format!("{}{}", "[".repeat(MAX_DEPTH + 1), "]".repeat(MAX_DEPTH + 1));
        assert_eq!(both(&deep).0.unwrap_err()[0].code, E_NESTING);
        let ok = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(both(&ok).0.is_ok());
        let over = format!("[{}0]", "0,".repeat(MAX_VALUES));
        assert_eq!(both(&over).0.unwrap_err()[0].code, E_TOO_MANY);
        let many: String = (0..40).map(|i| format!("\"k{}\": 0,", i % 39)).collect();
        assert_eq!(both(&format!("{{{many} \"z\": 1}}")).0.unwrap_err()[0].code, E_DUPLICATE_KEY);
    }

    proptest! {
        /// Any document, pretty or compact, reads to the Value serde_json reads, and every path
        /// (and one past each) is located where jsonpos locates it.
        #[test]
        fn documents_read_as_serde_and_jsonpos_read_them(v in super::super::tests::arb_value(), pretty in any::<bool>(), bom in any::<bool>()) {
            let text = if pretty { serde_json::to_string_pretty(&v).unwrap() } else { v.to_string() };
            let text = if bom { format!("\u{feff}{text}") } else { text };
            let tree = parse(&text, "f", E_SYNTAX).unwrap();
            prop_assert_eq!(tree.root().to_value(), v.clone());
            let positions = Positions::of(&text);
            let mut all = Vec::new();
            paths(&v, String::new(), &mut all);
            for p in all {
                for q in [p.clone(), field(&p, "zz"), index(&p, 0), index(&p, 7)] {
                    prop_assert_eq!(tree.find(&q), positions.find(&q), "{}", q);
                }
            }
        }

        /// Byte edits of a document (deleting, doubling or replacing one byte by a JSON-significant
        /// one): the tree accepts what the strict path accepts, with the same value, and refuses
        /// the rest with the same diagnostics.
        #[test]
        fn edited_documents_get_the_strict_paths_answer(
            v in super::super::tests::arb_value(),
            pretty in any::<bool>(),
            edits in prop::collection::vec((any::<prop::sample::Index>(), 0u8..3, prop::sample::select(b"{}[],:\"\\ 0-.eE1tfnu\n\x01".to_vec())), 1..3),
        ) {
            let text = if pretty { serde_json::to_string_pretty(&v).unwrap() } else { v.to_string() };
            let mut bytes = text.into_bytes();
            for (at, op, byte) in edits {
                if bytes.is_empty() { break; }
                let i = at.index(bytes.len());
                match op {
                    0 => { bytes.remove(i); }
                    1 => { let b = bytes[i]; bytes.insert(i, b); }
                    _ => bytes[i] = byte,
                }
            }
            let Ok(text) = String::from_utf8(bytes) else { return Ok(()) };
            let (tree, strict) = both(&text);
            prop_assert_eq!(tree, strict);
        }
    }
}
