//! The one strict entry point for every JSON input isenet reads (environment, service-tag file, NSG,
//! route table, firewall rules). serde_json alone is lenient where Azure and users are not:
//! - a UTF-8 byte-order mark (Windows PowerShell writes one with `az ... > file`) is accepted;
//! - a key twice in one object is refused, naming both positions (serde_json keeps the last value
//!   silently, which hid `"subscriptionId": "not-a-guid"` behind a valid one);
//! - a file over [`MAX_FILE_BYTES`] or nested deeper than [`MAX_DEPTH`] is refused before any
//!   work proportional to its content is done.
//!
//! Syntax errors keep the caller's code (each input kind has its own); the strictness rules have
//! their own codes, the same for every input.

use crate::codes::{E_DUPLICATE_KEY, E_NESTING, E_TOO_LARGE, E_TOO_MANY};
use crate::diag::{excerpt, Diagnostic};
use crate::jsonpos::{field, index, LineCol};
use serde::de::DeserializeOwned;
use std::collections::HashMap;

pub(crate) mod strings;
pub mod tree;

/// The largest input file read: 16 times the largest real input (a 4 MB weekly service-tag file).
pub const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;

/// The deepest nesting of objects and arrays accepted. Real inputs nest at most about 8 levels (an
/// ARM template's firewall rules); serde_json itself stops at 128 with a less helpful message.
pub const MAX_DEPTH: usize = 64;

/// The most values (object members and array elements) a file may hold: about 8 times the largest
/// real input (the public service-tag file has some 121,000). Beyond it even linear per-value work
/// (a diagnostic per malformed item) would cost seconds and gigabytes.
pub const MAX_VALUES: usize = 1_000_000;

const BOM: char = '\u{feff}';

/// The text without a leading byte-order mark: it is not part of the JSON, and line 1 column 1 is
/// the character after it, as editors show it.
pub fn strip_bom(text: &str) -> &str {
    text.strip_prefix(BOM).unwrap_or(text)
}

/// The diagnostic for an input over [`MAX_FILE_BYTES`]; the caller names the file. `size`: the
/// input's size in bytes when known (a file's, or a text's), `None` when it was read only up
/// to one byte past the ceiling (a pipe), so that all that is known is that it is larger.
pub fn too_large(size: Option<u64>) -> Diagnostic {
    let limit = MAX_FILE_BYTES / (1024 * 1024);
    let message = match size {
        Some(size) => format!("the file has {size} bytes; isenet reads inputs of at most {limit} MiB"),
        None => format!("the input is larger than {limit} MiB, the most isenet reads"),
    };
    Diagnostic::error(E_TOO_LARGE, "", message)
        .with_help("check that this is the intended file: the largest real input, a weekly service-tag file, is about 4 MB")
}

/// Checks everything but the syntax: size, nesting and duplicate keys. Returns the text without its
/// byte-order mark, ready for serde_json, or the problems found (without a file name). On malformed
/// JSON it finds what it can and stops: serde_json then reports the syntax error.
pub fn check(text: &str) -> Result<&str, Vec<Diagnostic>> {
    if text.len() as u64 > MAX_FILE_BYTES {
        return Err(vec![too_large(Some(text.len() as u64))]);
    }
    let text = strip_bom(text);
    let problems = Scanner::new(text).run();
    if problems.is_empty() {
        Ok(text)
    } else {
        Err(problems)
    }
}

/// Parses a whole file strictly into `T`: [`check`], then serde_json. A syntax (or, for typed `T`,
/// shape) error gets `syntax_code` and serde's line:column; nesting beyond [`MAX_DEPTH`] is
/// reported alone (the rest of the file was not read); duplicate keys all together, after a clean
/// parse. Every diagnostic names `file`.
pub fn parse<T: DeserializeOwned>(text: &str, file: &str, syntax_code: &'static str) -> Result<T, Vec<Diagnostic>> {
    let named = |diags: Vec<Diagnostic>| diags.into_iter().map(|d| d.in_file(file)).collect::<Vec<_>>();
    let (body, strict) = match check(text) {
        Ok(body) => (body, Vec::new()),
        Err(diags) if diags.iter().any(|d| d.code != E_DUPLICATE_KEY) => return Err(named(diags)),
        Err(dups) => (strip_bom(text), dups),
    };
    match serde_json::from_str::<T>(body) {
        Err(e) => Err(named(vec![syntax_error(syntax_code, &e)])),
        Ok(_) if !strict.is_empty() => Err(named(strict)),
        Ok(value) => Ok(value),
    }
}

/// `E0007`: more of something than any valid input holds (`count` is how many were seen, at least).
pub fn too_many(path: &str, count: usize, max: usize, what: &str) -> Diagnostic {
    Diagnostic::error(
        E_TOO_MANY,
        path,
        format!("{count} or more {what}; no valid input has more than {max}"),
    )
    .with_help("check that this is the intended file: it is far larger than any real one")
}

/// A serde_json error as a diagnostic at its line:column.
pub fn syntax_error(code: &'static str, e: &serde_json::Error) -> Diagnostic {
    // serde's text ends in its own position, whose column can be 0 (at a line's end) where the
    // diagnostic's, an editor's, starts at 1: the message says the diagnostic's position.
    let d = Diagnostic::error(code, "", String::new()).at(e.line(), e.column());
    let text = e.to_string();
    let what = text
        .strip_suffix(&format!(" at line {} column {}", e.line(), e.column()))
        .unwrap_or(&text);
    let (line, column) = (d.line.unwrap_or(1), d.column.unwrap_or(1));
    Diagnostic {
        message: format!("invalid JSON: {what} at line {line} column {column}"),
        ..d
    }
    .with_help("fix the JSON at that position (a trailing comma or a missing quote is the usual cause)")
}

/// The bytes the scan stops at outside strings.
const STRUCTURAL: [bool; 256] = {
    let mut table = [false; 256];
    let mut i = 0;
    let stops = b"{}[],\"";
    while i < stops.len() {
        table[stops[i] as usize] = true;
        i += 1;
    }
    table
};

/// One open object or array, with how it was entered (for the JSON path of a problem inside it).
enum Frame {
    Object {
        /// Keys seen so far, with their line:column.
        keys: HashMap<String, (usize, usize)>,
        /// The key whose value comes next (or came last).
        key: Option<String>,
        expect_key: bool,
    },
    Array {
        index: usize,
    },
}

/// A single pass over the bytes, O(length), no recursion: tracks line:column (in characters), the
/// open containers, and the keys of each open object.
struct Scanner<'a> {
    bytes: &'a [u8],
    text: &'a str,
    pos: usize,
    /// Line:column of byte `synced`: brought up to a position only when a key or a problem needs
    /// it, so the long runs between (a tag file's prefix lists) are counted in one pass each.
    at: LineCol,
    synced: usize,
    stack: Vec<Frame>,
    /// Separators seen: one less than the members and elements of all containers.
    values: usize,
    problems: Vec<Diagnostic>,
}

impl<'a> Scanner<'a> {
    fn new(text: &'a str) -> Self {
        Scanner {
            bytes: text.as_bytes(),
            text,
            pos: 0,
            at: LineCol::START,
            synced: 0,
            stack: Vec::new(),
            values: 0,
            problems: Vec::new(),
        }
    }

    fn bump(&mut self) {
        self.pos += 1;
    }

    /// Line:column of the current byte (positions only move forward, so the total is linear).
    fn line_col(&mut self) -> (usize, usize) {
        self.at.advance_over(&self.bytes[self.synced..self.pos]);
        self.synced = self.pos;
        (self.at.line, self.at.col)
    }

    /// The JSON path of the container on top of the stack (`subnets[2]`).
    fn path(&self) -> String {
        let mut path = String::new();
        for (depth, frame) in self.stack.iter().enumerate() {
            // A frame's own key/index names the child entered from it; the innermost names nothing yet.
            if depth + 1 == self.stack.len() {
                break;
            }
            path = match frame {
                Frame::Object { key: Some(k), .. } => field(&path, k),
                Frame::Object { key: None, .. } => path,
                Frame::Array { index: i } => index(&path, *i),
            };
        }
        path
    }

    /// The JSON path of the value about to be read in the innermost container.
    fn child_path(&self) -> String {
        let path = self.path();
        match self.stack.last() {
            Some(Frame::Object { key: Some(k), .. }) => field(&path, k),
            Some(Frame::Array { index: i }) => index(&path, *i),
            _ => path,
        }
    }

    fn run(mut self) -> Vec<Diagnostic> {
        while self.pos < self.bytes.len() {
            match self.bytes[self.pos] {
                b'{' | b'[' => {
                    if self.stack.len() >= MAX_DEPTH {
                        let (line, col) = self.line_col();
                        let path = self.child_path();
                        self.problems.push(
                            Diagnostic::error(
                                E_NESTING,
                                path,
                                format!("objects and arrays nest deeper than {MAX_DEPTH} levels here"),
                            )
                            .at(line, col)
                            .with_help("no isenet input nests this deep: check that this is the intended file"),
                        );
                        return self.problems;
                    }
                    self.stack.push(if self.bytes[self.pos] == b'{' {
                        Frame::Object {
                            keys: HashMap::new(),
                            key: None,
                            expect_key: true,
                        }
                    } else {
                        Frame::Array { index: 0 }
                    });
                    self.bump();
                }
                b'}' | b']' => {
                    self.stack.pop();
                    self.bump();
                }
                b',' => {
                    self.values += 1;
                    if self.values >= MAX_VALUES {
                        let (line, col) = self.line_col();
                        self.problems
                            .push(too_many("", self.values, MAX_VALUES, "values in one file").at(line, col));
                        return self.problems;
                    }
                    match self.stack.last_mut() {
                        Some(Frame::Object { expect_key, .. }) => *expect_key = true,
                        Some(Frame::Array { index }) => *index += 1,
                        None => {}
                    }
                    self.bump();
                }
                b'"' => {
                    let start = self.pos;
                    let is_key = matches!(self.stack.last(), Some(Frame::Object { expect_key: true, .. }));
                    let at = if is_key { Some(self.line_col()) } else { None };
                    self.skip_string();
                    if let Some(at) = at {
                        let key = decode_key(&self.text[start..self.pos]);
                        self.key(key, at);
                    }
                }
                _ => {
                    let rest = &self.bytes[self.pos..];
                    self.pos += rest.iter().position(|&b| STRUCTURAL[usize::from(b)]).unwrap_or(rest.len());
                }
            }
        }
        self.problems
    }

    /// Moves past a string starting at its opening quote (to the end of the text if unterminated).
    fn skip_string(&mut self) {
        self.bump();
        while self.pos < self.bytes.len() {
            match self.bytes[self.pos] {
                b'"' => {
                    self.bump();
                    return;
                }
                b'\\' => {
                    self.bump();
                    if self.pos < self.bytes.len() {
                        self.bump();
                    }
                }
                _ => {
                    let rest = &self.bytes[self.pos..];
                    self.pos += crate::bytesearch::find2(b'"', b'\\', rest).unwrap_or(rest.len());
                }
            }
        }
    }

    /// Records a key of the innermost object, reporting it when the object has it already.
    fn key(&mut self, name: String, at: (usize, usize)) {
        let Some(Frame::Object { keys, key, expect_key }) = self.stack.last_mut() else {
            return;
        };
        *expect_key = false;
        *key = Some(name.clone());
        let Some(&first) = keys.get(&name) else {
            keys.insert(name, at);
            return;
        };
        let path = field(&self.path(), &name);
        self.problems.push(
            Diagnostic::error(
                E_DUPLICATE_KEY,
                path,
                format!(
                    "key `{}` appears twice in one object: at {}:{} and again at {}:{}",
                    excerpt(&name),
                    first.0,
                    first.1,
                    at.0,
                    at.1
                ),
            )
            .at(at.0, at.1)
            .with_help("keep one of them: a JSON reader silently keeps only the last value, which can hide a wrong one"),
        );
    }
}

/// A key as JSON means it (escapes decoded, so `"a"` and `"\u0061"` are the same key); the raw
/// text when it is not a valid string literal (serde_json then reports the syntax error).
fn decode_key(literal: &str) -> String {
    if !literal.contains('\\') {
        let inner = literal.strip_prefix('"').unwrap_or(literal);
        return inner.strip_suffix('"').unwrap_or(inner).to_string();
    }
    serde_json::from_str::<String>(literal).unwrap_or_else(|_| literal.to_string())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::codes::E_SYNTAX;
    use proptest::prelude::*;
    use serde_json::Value;

    fn problems(text: &str) -> Vec<(&'static str, String, Option<usize>, Option<usize>)> {
        match parse::<Value>(text, "f.json", E_SYNTAX) {
            Ok(_) => Vec::new(),
            Err(diags) => diags.into_iter().map(|d| (d.code, d.path, d.line, d.column)).collect(),
        }
    }

    #[test]
    fn a_byte_order_mark_is_accepted_and_not_counted_as_a_column() {
        let v: Value = parse("\u{feff}{\"a\": 1}", "f", E_SYNTAX).unwrap();
        assert_eq!(v["a"], 1);
        // The syntax error's column is the editor's: the mark is not a character of line 1.
        assert_eq!(problems("\u{feff}{\"a\": }"), vec![(E_SYNTAX, String::new(), Some(1), Some(7))]);
    }

    /// The message names the diagnostic's own position: serde's `line 2 column 0` (at a line's
    /// end) no longer contradicts the diagnostic's 2:1.
    #[test]
    fn a_syntax_error_says_the_position_it_is_at() {
        for text in ["{\n", "{\"a\":\n", "", "[1, 2,]", "{\"a\": }"] {
            let diags = parse::<Value>(text, "f.json", E_SYNTAX).unwrap_err();
            assert_eq!(diags.len(), 1, "{text:?}");
            let d = &diags[0];
            let (line, column) = (d.line.expect("line"), d.column.expect("column"));
            assert!(column >= 1, "{text:?}");
            let at = format!(" at line {line} column {column}");
            assert!(
                d.message.starts_with("invalid JSON: ") && d.message.ends_with(&at),
                "{text:?}: {}",
                d.message
            );
            assert_eq!(d.message.matches(" at line ").count(), 1, "{}", d.message);
        }
    }

    #[test]
    fn duplicate_keys_name_both_positions_at_any_depth() {
        let text = "{\"a\": 1,\n \"b\": {\"c\": [1, {\"d\": 1, \"d\": 2}]},\n \"a\": 3}";
        let diags = parse::<Value>(text, "f.json", E_SYNTAX).unwrap_err();
        let got: Vec<_> = diags.iter().map(|d| (d.path.as_str(), d.line, d.column)).collect();
        assert_eq!(got, vec![("b.c[1].d", Some(2), Some(26)), ("a", Some(3), Some(2))]);
        assert!(diags[1].message.contains("at 1:2 and again at 3:2"), "{}", diags[1].message);
        assert!(diags.iter().all(|d| d.code == E_DUPLICATE_KEY && d.file == "f.json"));
    }

    #[test]
    fn keys_are_compared_as_json_means_them() {
        assert_eq!(problems("{\"a\": 1, \"\\u0061\": 2}").len(), 1);
        // The same key in sibling objects, and a key-like string value, are not duplicates.
        assert!(problems("[{\"a\": 1}, {\"a\": 2}, {\"x\": \"a\", \"a\": 1}]").is_empty());
        // Case matters in JSON (the environment's fields are case-sensitive).
        assert!(problems("{\"a\": 1, \"A\": 2}").is_empty());
    }

    #[test]
    fn nesting_beyond_the_limit_is_refused_once() {
        let ok = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(problems(&ok).is_empty());
        let deep = format!("{{\"x\": {}{}}}", "[".repeat(100_000), "]".repeat(100_000));
        let got = problems(&deep);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].0, E_NESTING);
        assert_eq!(got[0].1, format!("x{}", "[0]".repeat(MAX_DEPTH - 1)));
    }

    #[test]
    fn more_values_than_any_real_file_are_refused_before_parsing() {
        let ok = format!("[{}0]", "0,".repeat(MAX_VALUES - 2));
        assert!(problems(&ok).is_empty());
        let over = format!("[{}0]", "0,".repeat(MAX_VALUES));
        assert_eq!(problems(&over).iter().map(|p| p.0).collect::<Vec<_>>(), [E_TOO_MANY]);
    }

    #[test]
    fn syntax_errors_keep_the_callers_code() {
        assert_eq!(problems("{\"a\": 1,}")[0].0, E_SYNTAX);
        let d = parse::<Value>("{", "n.json", "E1201").unwrap_err();
        assert_eq!((d[0].code, d[0].file.as_str()), ("E1201", "n.json"));
    }

    /// JSON documents with unique keys, odd ones among them (quotes, backslashes, empty); jsonpos
    /// tests use them too.
    pub(crate) fn arb_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<i32>().prop_map(Value::from),
            "[a-c\\\\\"é]{0,4}".prop_map(Value::String)
        ];
        leaf.prop_recursive(4, 32, 5, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::btree_map("[a-c\"\\\\]{0,3}", inner, 0..4).prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        /// Any document serde_json writes (its objects have unique keys) is accepted unchanged,
        /// pretty or compact, with or without a byte-order mark.
        #[test]
        fn documents_without_duplicates_parse_to_what_serde_reads(v in arb_value(), pretty in any::<bool>(), bom in any::<bool>()) {
            let text = if pretty { serde_json::to_string_pretty(&v).unwrap() } else { v.to_string() };
            let text = if bom { format!("\u{feff}{text}") } else { text };
            prop_assert_eq!(parse::<Value>(&text, "f", E_SYNTAX).unwrap(), v);
        }

        /// Repeating any member of any object is found, at the repeated key's path.
        #[test]
        fn a_repeated_member_is_always_found(v in arb_value(), pick in any::<prop::sample::Index>()) {
            // Rewrite one non-empty object `{k: x, ...}` as `{k: x, k: x, ...}` in the text.
            let text = v.to_string();
            let opens: Vec<usize> = text.match_indices("{\"").map(|(i, _)| i).collect();
            prop_assume!(!opens.is_empty());
            let at = *pick.get(&opens);
            // The first member of that object, as serde_json wrote it.
            let sub: Value = serde_json::Deserializer::from_str(&text[at..]).into_iter::<Value>().next().unwrap().unwrap();
            let (k, x) = sub.as_object().unwrap().iter().next().unwrap();
            let member = format!("{}:{}", Value::String(k.clone()), x);
            let doubled = format!("{}{member},{}", &text[..=at], &text[at + 1..]);
            let diags = parse::<Value>(&doubled, "f", E_SYNTAX).unwrap_err();
            prop_assert!(diags.iter().any(|d| d.code == E_DUPLICATE_KEY && d.path.ends_with(&field("", k).to_string())), "{:?}", diags);
        }
    }
}
