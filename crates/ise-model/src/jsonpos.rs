//! Maps JSON paths (`subnets[2].prefix`) to line:column in the source text, so diagnostics about a
//! value can point at it. Runs only on text serde_json already accepted, so it can stay small.

use std::collections::HashMap;

#[derive(Debug, Default)]
pub struct Positions {
    map: HashMap<String, (usize, usize)>,
}

impl Positions {
    pub fn of(text: &str) -> Self {
        // A byte-order mark comes before line 1, column 1 (see jsondoc).
        let text = crate::jsondoc::strip_bom(text);
        let mut scanner = Scanner {
            bytes: text.as_bytes(),
            pos: 0,
            at: LineCol::START,
            map: HashMap::new(),
        };
        scanner.value(String::new());
        Positions { map: scanner.map }
    }

    /// Position of the value at `path`, or of its closest existing ancestor.
    pub fn find(&self, path: &str) -> Option<(usize, usize)> {
        let mut p = path.to_string();
        loop {
            if let Some(pos) = self.map.get(&p) {
                return Some(*pos);
            }
            if p.is_empty() {
                return None;
            }
            p = parent(&p).to_string();
        }
    }
}

fn parent(path: &str) -> &str {
    match path.rfind(['.', '[']) {
        Some(i) => &path[..i],
        None => "",
    }
}

/// Joins a field name onto a path.
pub fn field(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_string()
    } else {
        format!("{path}.{name}")
    }
}

/// Joins an array index onto a path.
pub fn index(path: &str, i: usize) -> String {
    format!("{path}[{i}]")
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
}

struct Scanner<'a> {
    bytes: &'a [u8],
    pos: usize,
    at: LineCol,
    map: HashMap<String, (usize, usize)>,
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
    fn string(&mut self) -> String {
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
        String::from_utf8_lossy(&out).into_owned()
    }
    fn value(&mut self, path: String) {
        self.skip_ws();
        self.map.insert(path.clone(), (self.at.line, self.at.col));
        match self.peek() {
            Some(b'{') => {
                self.bump();
                loop {
                    self.skip_ws();
                    match self.peek() {
                        Some(b'"') => {
                            let key = self.string();
                            self.skip_ws();
                            self.bump(); // colon
                            self.value(field(&path, &key));
                            self.skip_ws();
                            if self.peek() == Some(b',') {
                                self.bump();
                            }
                        }
                        Some(b'}') => {
                            self.bump();
                            return;
                        }
                        _ => return,
                    }
                }
            }
            Some(b'[') => {
                self.bump();
                let mut i = 0;
                loop {
                    self.skip_ws();
                    match self.peek() {
                        Some(b']') => {
                            self.bump();
                            return;
                        }
                        None => return,
                        _ => {
                            self.value(index(&path, i));
                            i += 1;
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
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
