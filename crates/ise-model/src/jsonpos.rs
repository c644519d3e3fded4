//! Maps JSON paths (`subnets[2].prefix`) to line:column in the source text, so diagnostics about a
//! value can point at it. Runs only on text serde_json already accepted, so it can stay small.
//!
//! One scan records a compact node per value (line:column, a hash of its key, its children); a path
//! is resolved only when a diagnostic asks for it. No path string is built per value: on a file of
//! many small values that was most of the memory and time of reading it.

use std::hash::{Hash, Hasher};

#[derive(Debug, Default)]
pub struct Positions {
    /// Every value, in document order; the root first.
    nodes: Vec<Node>,
    /// The children of each container, contiguous per container (see [`Node::children`]).
    children: Vec<u32>,
}

#[derive(Debug, Clone, Copy)]
struct Node {
    line: u32,
    col: u32,
    /// Hash of the key the value has in its object (0 for array items and the root).
    key: u64,
    /// `children[first..first + len]` are the node's children (objects and arrays only).
    first: u32,
    len: u32,
}

impl Positions {
    pub fn of(text: &str) -> Self {
        // A byte-order mark comes before line 1, column 1 (see jsondoc).
        let text = crate::jsondoc::strip_bom(text);
        let mut scanner = Scanner {
            bytes: text.as_bytes(),
            pos: 0,
            at: LineCol::START,
            out: Positions::default(),
            pending: Vec::new(),
        };
        scanner.value(0);
        scanner.out
    }

    /// Position of the value at `path`, or of its closest existing ancestor.
    pub fn find(&self, path: &str) -> Option<(usize, usize)> {
        let root = self.nodes.first()?;
        let (_, node) = deepest(self, 0, path, true);
        let n = self.nodes.get(node).unwrap_or(root);
        Some((n.line as usize, n.col as usize))
    }
}

impl PathTree for Positions {
    fn child_at(&self, node: usize, i: usize) -> Option<usize> {
        let n = self.nodes[node];
        (i < n.len as usize).then(|| self.children[n.first as usize + i] as usize)
    }

    /// The child under `key`; of keys written twice, the last (as a map of paths would keep it).
    fn child_named(&self, node: usize, key: &str) -> Option<usize> {
        let n = self.nodes[node];
        let want = key_hash(key.as_bytes());
        let kids = &self.children[n.first as usize..(n.first + n.len) as usize];
        kids.iter().rev().map(|&c| c as usize).find(|&c| self.nodes[c].key == want)
    }
}

/// A document's values as numbered nodes (the root is 0), for resolving paths.
pub(crate) trait PathTree {
    /// The `i`th child of a container (of an object too: its `i`th member).
    fn child_at(&self, node: usize, i: usize) -> Option<usize>;
    /// The member of an object under `key`.
    fn child_named(&self, node: usize, key: &str) -> Option<usize>;
}

/// The deepest node `rest` leads to from `node`, and how much of `rest` is left over. Keys may
/// hold `.` or `[`, so every split of the next segment is tried and the deepest match wins.
pub(crate) fn deepest(tree: &impl PathTree, node: usize, rest: &str, root: bool) -> (usize, usize) {
    if rest.is_empty() {
        return (0, node);
    }
    let mut best = (rest.len(), node);
    if let Some(after) = rest.strip_prefix('[') {
        let index = after
            .split_once(']')
            .and_then(|(digits, tail)| Some((digits.parse::<usize>().ok()?, tail)));
        if let Some((i, tail)) = index {
            if let Some(child) = tree.child_at(node, i) {
                best = min_left(best, deepest(tree, child, tail, false));
            }
        }
        return best;
    }
    let Some(segment) = (if root { Some(rest) } else { rest.strip_prefix('.') }) else {
        return best;
    };
    let ends = segment.match_indices(['.', '[']).map(|(i, _)| i).chain([segment.len()]);
    for end in ends {
        if let Some(child) = tree.child_named(node, &segment[..end]) {
            best = min_left(best, deepest(tree, child, &segment[end..], false));
        }
    }
    best
}

/// Of two (left over, node) results, the one that went further.
fn min_left(a: (usize, usize), b: (usize, usize)) -> (usize, usize) {
    if b.0 < a.0 {
        b
    } else {
        a
    }
}

fn key_hash(key: &[u8]) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    key.hash(&mut h);
    // 0 marks "no key"; a key hashing to it is moved off it.
    h.finish().max(1)
}

/// Joins a field name onto a path. (Built by hand, not `format!`: readers join a path per field.)
pub fn field(path: &str, name: &str) -> String {
    if path.is_empty() {
        return name.to_string();
    }
    let mut out = String::with_capacity(path.len() + 1 + name.len());
    out.push_str(path);
    out.push('.');
    out.push_str(name);
    out
}

/// Joins an array index onto a path.
pub fn index(path: &str, i: usize) -> String {
    use std::fmt::Write;
    let mut out = String::with_capacity(path.len() + 8);
    out.push_str(path);
    // Writing to a String cannot fail.
    let _ = write!(out, "[{i}]");
    out
}

/// Line and column of a position in JSON text, advanced byte by byte. Columns count characters,
/// not UTF-8 continuation bytes, as editors show them.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LineCol {
    pub line: usize,
    pub col: usize,
}

impl LineCol {
    pub(crate) const START: LineCol = LineCol { line: 1, col: 1 };

    pub(crate) fn advance(&mut self, b: u8) {
        if b == b'\n' {
            self.line += 1;
            self.col = 1;
        } else if b & 0xC0 != 0x80 {
            self.col += 1;
        }
    }

    /// [`advance`](Self::advance) over each byte of `bytes`, as counts that vectorise: a
    /// multi-megabyte input is mostly runs of string and number bytes.
    pub(crate) fn advance_over(&mut self, bytes: &[u8]) {
        let chars = |run: &[u8]| run.iter().filter(|&&b| b & 0xC0 != 0x80).count();
        match bytes.iter().rposition(|&b| b == b'\n') {
            None => self.col += chars(bytes),
            Some(last) => {
                self.line += bytes.iter().filter(|&&b| b == b'\n').count();
                self.col = 1 + chars(&bytes[last + 1..]);
            }
        }
    }
}

struct Scanner<'a> {
    bytes: &'a [u8],
    pos: usize,
    at: LineCol,
    out: Positions,
    /// Children of the containers being read, innermost last; moved to `out.children` on close.
    pending: Vec<u32>,
}

impl Scanner<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }
    fn bump(&mut self) {
        if let Some(b) = self.peek() {
            self.pos += 1;
            self.at.advance(b);
        }
    }
    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.bump();
        }
    }
    /// A string's content, escapes kept as the escaped byte (the paths diagnostics name are
    /// built from serde's decoded keys, which hold no escapes in the inputs isenet reads).
    fn string(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        self.bump(); // opening quote
        while let Some(b) = self.peek() {
            match b {
                b'"' => {
                    self.bump();
                    break;
                }
                b'\\' => {
                    self.bump();
                    if let Some(e) = self.peek() {
                        out.push(e);
                    }
                    self.bump();
                }
                _ => {
                    out.push(b);
                    self.bump();
                }
            }
        }
        out
    }
    /// Records the value here under `key` (a hash, 0 for none) and reads past it.
    fn value(&mut self, key: u64) {
        self.skip_ws();
        let node = self.out.nodes.len();
        self.out.nodes.push(Node {
            line: self.at.line as u32,
            col: self.at.col as u32,
            key,
            first: 0,
            len: 0,
        });
        let mark = self.pending.len();
        match self.peek() {
            Some(b'{') => {
                self.bump();
                loop {
                    self.skip_ws();
                    match self.peek() {
                        Some(b'"') => {
                            let key = key_hash(&String::from_utf8_lossy(&self.string()).into_owned().into_bytes());
                            self.skip_ws();
                            self.bump(); // colon
                            self.child(key);
                            self.skip_ws();
                            if self.peek() == Some(b',') {
                                self.bump();
                            }
                        }
                        Some(b'}') => {
                            self.bump();
                            break;
                        }
                        _ => break,
                    }
                }
            }
            Some(b'[') => {
                self.bump();
                loop {
                    self.skip_ws();
                    match self.peek() {
                        Some(b']') => {
                            self.bump();
                            break;
                        }
                        None => break,
                        _ => {
                            self.child(0);
                            self.skip_ws();
                            if self.peek() == Some(b',') {
                                self.bump();
                            }
                        }
                    }
                }
            }
            Some(b'"') => {
                self.string();
            }
            _ => {
                while matches!(self.peek(), Some(b) if !matches!(b, b',' | b'}' | b']' | b' ' | b'\n' | b'\r' | b'\t')) {
                    self.bump();
                }
            }
        }
        // The container's children were pushed since `mark`: they become its range.
        let first = self.out.children.len() as u32;
        self.out.children.extend(self.pending.drain(mark..));
        let n = &mut self.out.nodes[node];
        n.first = first;
        n.len = self.out.children.len() as u32 - first;
    }
    fn child(&mut self, key: u64) {
        self.pending.push(self.out.nodes.len() as u32);
        self.value(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_join_as_written() {
        assert_eq!(field("", "a"), "a");
        assert_eq!(field("a[0]", "b"), "a[0].b");
        for i in [0, 7, 10, 99, 1234, usize::MAX] {
            assert_eq!(index("x.y", i), format!("x.y[{i}]"));
        }
    }

    #[test]
    fn finds_nested_values() {
        let text = "{\n  \"a\": 1,\n  \"subnets\": [\n    {\"prefix\": \"x\"},\n    {\"prefix\": \"y\"}\n  ]\n}";
        let p = Positions::of(text);
        assert_eq!(p.find("a"), Some((2, 8)));
        assert_eq!(p.find("subnets[1].prefix"), Some((5, 16)));
        // A missing child falls back to its parent.
        assert_eq!(p.find("subnets[1].name"), Some((5, 5)));
        assert_eq!(p.find(""), Some((1, 1)));
    }

    #[test]
    fn keys_holding_dots_and_brackets_and_repeated_keys() {
        let text = r#"{"a.b": {"c[0]": 1}, "a": {"b": 2}, "x": [[3]], "k": 4, "k": 5}"#;
        let p = Positions::of(text);
        // The deepest reading of the path wins: `a.b` then `c[0]`.
        assert_eq!(p.find("a.b.c[0]"), Some((1, 18)));
        // Both readings reach a value: the first split, `a` then `b` (also the later in the file).
        assert_eq!(p.find("a.b"), Some((1, 33)));
        assert_eq!(p.find("x[0][0]"), Some((1, 44)));
        assert_eq!(p.find("x[1]"), Some((1, 42)));
        assert_eq!(p.find("x[9999999999999999999999]"), Some((1, 42)));
        // A repeated key: the last one.
        assert_eq!(p.find("k"), Some((1, 62)));
    }

    use proptest::prelude::*;
    use serde_json::Value;

    /// Every path of a document as diagnostics write them, with its value.
    fn paths(v: &Value, at: String, out: &mut Vec<(String, Value)>) {
        match v {
            Value::Object(m) => m.iter().for_each(|(k, c)| paths(c, field(&at, k), out)),
            Value::Array(a) => a.iter().enumerate().for_each(|(i, c)| paths(c, index(&at, i), out)),
            _ => {}
        }
        out.push((at, v.clone()));
    }

    /// The value that starts at line:column of `text`, parsed there.
    fn value_at(text: &str, (line, col): (usize, usize)) -> Value {
        let mut at = LineCol::START;
        let start = text
            .bytes()
            .position(|b| {
                let here = at.line == line && at.col == col;
                at.advance(b);
                here
            })
            .expect("a position inside the text");
        let mut values = serde_json::Deserializer::from_str(&text[start..]).into_iter::<Value>();
        values.next().expect("a value").expect("JSON")
    }

    proptest! {
        /// Advancing over a run at once lands where advancing byte by byte does (newlines,
        /// multi-byte characters and stray continuation bytes included).
        #[test]
        fn advance_over_a_run_is_advance_byte_by_byte(
            start in (1usize..5, 1usize..50),
            run in proptest::collection::vec(prop_oneof![Just(b'\n'), Just(0xC3u8), Just(0xA9u8), any::<u8>()], 0..64),
        ) {
            let mut stepped = LineCol { line: start.0, col: start.1 };
            for &b in &run {
                stepped.advance(b);
            }
            let mut at_once = LineCol { line: start.0, col: start.1 };
            at_once.advance_over(&run);
            prop_assert_eq!((at_once.line, at_once.col), (stepped.line, stepped.col));
        }

        /// Each path of a document, pretty or compact, leads to where its own value is written, and
        /// a path one step past it to the same place.
        #[test]
        fn every_path_locates_its_value(doc in crate::jsondoc::tests::arb_value(), pretty in any::<bool>()) {
            // An empty key at the top is written as the path of the document itself: ambiguous.
            prop_assume!(doc.as_object().is_none_or(|m| !m.contains_key("")));
            let text = if pretty { serde_json::to_string_pretty(&doc).unwrap() } else { doc.to_string() };
            let p = Positions::of(&text);
            let mut all = Vec::new();
            paths(&doc, String::new(), &mut all);
            for (path, value) in all {
                let at = p.find(&path).unwrap();
                prop_assert_eq!(&value_at(&text, at), &value, "{}", path);
                prop_assert_eq!(p.find(&field(&path, "zz-missing")), Some(at));
                prop_assert_eq!(p.find(&index(&path, 99)), Some(at));
            }
        }
    }
}
