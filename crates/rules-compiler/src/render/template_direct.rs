//! Compiling our templates without pest: one pass over the text that builds the `Template`
//! handlebars' own compile builds, for the subset of handlebars our templates use.
//!
//! handlebars parses with pest, which tries every grammar alternative at every character and
//! counts each token's line and column from the start of the text: most of a single compile's
//! template cost, although our templates are a dozen expressions and `if`/`each` blocks. This
//! follows handlebars' compile step by step (its raw-text and skipped-whitespace pieces, the
//! standalone-line and `~` trimming, where each element is mapped in the text) and counts lines
//! and columns as it goes. Anything outside the subset (comments, partials, raw blocks, `else`
//! chains, hashes, block parameters, quoted literals, subexpressions, tags spanning lines) and
//! every malformed template is `None`: the caller falls back to handlebars, whose errors are the
//! ones users see. Tests check that every embedded template and generated ones compile exactly
//! as handlebars compiles them.

use handlebars::template::{ExpressionSpecBuilder, HelperTemplate, Parameter, TemplateElement, TemplateMapping};
use handlebars::{Path, PathSeg, Template};
use std::collections::HashMap;
use std::sync::OnceLock;

/// `source` compiled as handlebars compiles it under `name`, or `None` outside the subset.
pub fn compile(name: &str, source: &str) -> Option<Template> {
    let mut c = Compiler {
        source,
        at: Cursor::default(),
        templates: vec![Template::new()],
        blocks: Vec::new(),
        end: None,
        omit_pro_ws: false,
        trim_line: false,
    };
    let mut pos = 0;
    while pos < source.len() {
        pos = c.next_piece(pos)?;
    }
    if !c.blocks.is_empty() {
        return None;
    }
    // The grammar's end-of-input token is a piece too: whitespace after the last tag is
    // compiled as whitespace before a tag is.
    c.skipped_whitespace_before(source.len());
    let mut root = c.templates.pop()?;
    root.name = Some(name.to_owned());
    Some(root)
}

/// A block being compiled: its helper, and whether its `{{else}}` was seen.
struct Block {
    helper: HelperTemplate,
    has_else: bool,
}

struct Compiler<'a> {
    source: &'a str,
    at: Cursor,
    /// The templates being filled, innermost last (the root first).
    templates: Vec<Template>,
    blocks: Vec<Block>,
    /// Where the last piece ended (`None` before the first).
    end: Option<usize>,
    /// The last tag ended with `~`: the whitespace after it goes.
    omit_pro_ws: bool,
    /// The last block tag stood on a line of its own: the rest of that line goes.
    trim_line: bool,
}

/// A tag of the subset.
struct Tag<'a> {
    kind: TagKind,
    /// The name, then the parameters.
    words: Vec<&'a str>,
    omit_pre_ws: bool,
    omit_pro_ws: bool,
}

#[derive(PartialEq)]
enum TagKind {
    /// `{{x}}`, `{{h a b}}`
    Expression,
    /// `{{{x}}}`
    Html,
    /// `{{#h a}}`
    BlockStart,
    /// `{{else}}`
    Else,
    /// `{{/h}}`
    BlockEnd,
}

impl<'a> Compiler<'a> {
    /// Compiles the piece at `pos` (raw text, or the whitespace the grammar skips before a tag,
    /// and the tag); returns where the next one starts.
    fn next_piece(&mut self, pos: usize) -> Option<usize> {
        let rest = &self.source[pos..];
        // The grammar skips whitespace between pieces, not before the text's first one.
        let skipped = if pos == 0 {
            0
        } else {
            rest.len() - rest.trim_start_matches([' ', '\t', '\n', '\r']).len()
        };
        let start = pos + skipped;
        if start == self.source.len() {
            return Some(start); // whitespace before the end: `compile` takes it
        }
        if !self.source[start..].starts_with("{{") {
            let (end, escapes) = raw_text_end(self.source, start);
            self.raw_text(start, end, &escapes);
            return Some(end);
        }
        let (tag, end) = parse_tag(self.source, start)?;
        self.skipped_whitespace_before(start);
        self.tag(tag, start, end)?;
        self.end = Some(end);
        Some(end)
    }

    /// The whitespace the grammar skipped before a tag (or the end) at `start`: a raw string of
    /// its own, mapped where the tag is, unless the last tag's `~` drops it.
    fn skipped_whitespace_before(&mut self, start: usize) {
        let prev_end = self.end.unwrap_or(0);
        if prev_end != start && !self.omit_pro_ws {
            let text = trim_line_start(&self.source[prev_end..start], self.trim_line);
            let at = self.mapping(start);
            self.push(TemplateElement::RawString(text), at);
            self.trim_line = false;
        }
    }

    /// Raw text from `start` (where the grammar's raw text begins) to `end`, with the whitespace
    /// skipped before it; `escapes` are the byte positions of the backslashes the grammar drops.
    fn raw_text(&mut self, start: usize, end: usize, escapes: &[usize]) {
        let from = self.end.unwrap_or(0);
        let mut text = String::with_capacity(end - from);
        let mut copied = from;
        for &backslash in escapes {
            text.push_str(&self.source[copied..backslash]);
            copied = backslash + 1;
        }
        text.push_str(&self.source[copied..end]);
        let text = if self.omit_pro_ws {
            text.trim_start().to_owned()
        } else {
            trim_line_start(&text, self.trim_line)
        };
        let at = self.mapping(start);
        self.push(TemplateElement::RawString(text), at);
        self.trim_line = false;
        self.end = Some(end);
    }

    fn tag(&mut self, tag: Tag<'a>, start: usize, end: usize) -> Option<()> {
        if tag.omit_pre_ws {
            if let Some(TemplateElement::RawString(text)) = self.templates.last_mut()?.elements.last_mut() {
                *text = text.trim_end().to_owned();
            }
        }
        self.omit_pro_ws = tag.omit_pro_ws;
        match tag.kind {
            TagKind::Expression | TagKind::Html => {
                let helper = HelperTemplate::new(spec(&tag, false)?, false, false);
                let element = if tag.kind == TagKind::Html {
                    TemplateElement::HtmlExpression(Box::new(helper))
                } else {
                    TemplateElement::Expression(Box::new(helper))
                };
                let at = self.mapping(start);
                self.push(element, at);
            }
            TagKind::BlockStart => {
                self.trim_line = self.standalone(start, end)?;
                let indent_before_write = self.trim_line && !tag.omit_pre_ws;
                let helper = HelperTemplate::new(spec(&tag, true)?, true, indent_before_write);
                let at = self.mapping(start);
                self.templates.last_mut()?.mapping.push(at);
                self.blocks.push(Block { helper, has_else: false });
                self.templates.push(Template::new());
            }
            TagKind::Else => {
                self.trim_line = self.standalone(start, end)?;
                let then = self.templates.pop()?;
                let block = self.blocks.last_mut()?;
                if block.has_else || self.templates.is_empty() {
                    return None;
                }
                block.has_else = true;
                block.helper.template = Some(then);
                self.templates.push(Template::new());
            }
            TagKind::BlockEnd => {
                self.trim_line = self.standalone(start, end)?;
                let Block { mut helper, has_else } = self.blocks.pop()?;
                if helper.name.as_name() != tag.words.first().copied() {
                    return None; // handlebars reports the mismatch
                }
                let inner = self.templates.pop()?;
                if has_else {
                    helper.inverse = Some(inner);
                } else {
                    helper.template = Some(inner);
                }
                self.templates
                    .last_mut()?
                    .elements
                    .push(TemplateElement::HelperBlock(Box::new(helper)));
            }
        }
        Some(())
    }

    /// Whether the block tag at `start..end` stands on a line of its own (only whitespace before
    /// it on its line and after it to the line's end, or the text's end); if so, the whitespace
    /// before it on its line goes.
    fn standalone(&mut self, start: usize, end: usize) -> Option<bool> {
        let after = &self.source[end..];
        if !(after.trim_start_matches(is_blank).starts_with(['\n', '\r']) || after.is_empty()) {
            return Some(false);
        }
        let before = self.source[..start].trim_end_matches(is_blank);
        let leading_newline = before.ends_with(['\n', '\r']) || before.is_empty();
        if leading_newline {
            if let Some(TemplateElement::RawString(text)) = self.templates.last_mut()?.elements.last_mut() {
                *text = text.trim_end_matches(is_blank).to_owned();
            }
        }
        Some(start == 0 || leading_newline)
    }

    fn push(&mut self, element: TemplateElement, at: TemplateMapping) {
        if let Some(t) = self.templates.last_mut() {
            t.elements.push(element);
            t.mapping.push(at);
        }
    }

    /// The line and column of byte `pos` as handlebars maps elements (pest's count: `\r\n` is one
    /// line break, a lone `\r` a column). Positions are asked in increasing order.
    fn mapping(&mut self, pos: usize) -> TemplateMapping {
        let (line, col) = self.at.advance(self.source, pos);
        let mut m = mapping_prototype().clone();
        m.0 = line;
        m.1 = col;
        m
    }
}

/// handlebars' mapping type cannot be built outside it (`non_exhaustive`), only copied and
/// changed: one taken from a compiled one-character template.
fn mapping_prototype() -> &'static TemplateMapping {
    static PROTOTYPE: OnceLock<TemplateMapping> = OnceLock::new();
    PROTOTYPE.get_or_init(|| {
        Template::compile("x")
            .ok()
            .and_then(|t| t.mapping.into_iter().next())
            .expect("a one-character template has one mapping")
    })
}

/// A line and column count that moves forward through the text.
#[derive(Default)]
struct Cursor {
    pos: usize,
    line: usize,
    col: usize,
}

impl Cursor {
    fn advance(&mut self, source: &str, pos: usize) -> (usize, usize) {
        if self.line == 0 {
            (self.line, self.col) = (1, 1);
        }
        let mut chars = source[self.pos..pos].chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '\r' if chars.peek() == Some(&'\n') => {
                    chars.next();
                    (self.line, self.col) = (self.line + 1, 1);
                }
                '\n' => (self.line, self.col) = (self.line + 1, 1),
                _ => self.col += 1,
            }
        }
        self.pos = pos;
        (self.line, self.col)
    }
}

fn is_blank(c: char) -> bool {
    c == ' ' || c == '\t'
}

/// After a standalone block tag, the rest of its line (blanks and one line break) goes.
fn trim_line_start(text: &str, trim_line: bool) -> String {
    if !trim_line {
        return text.to_owned();
    }
    let s = text.trim_start_matches(is_blank);
    s.strip_prefix("\r\n").or_else(|| s.strip_prefix('\n')).unwrap_or(s).to_owned()
}

/// Where raw text from `start` ends (the first `{{` no backslash escapes, or the text's end) and
/// the backslashes its escapes drop: `\{{` (and `\{{{{`) is a literal `{{`; a run of backslashes
/// before `{{` loses its first one and the tag is real.
fn raw_text_end(source: &str, start: usize) -> (usize, Vec<usize>) {
    let bytes = source.as_bytes();
    let mut escapes = Vec::new();
    let mut i = start;
    while i < bytes.len() {
        if bytes[i] == b'\\' {
            let run = bytes[i..].iter().take_while(|&&b| b == b'\\').count();
            if run == 1 && bytes[i + 1..].starts_with(b"{{") {
                escapes.push(i);
                i += if bytes[i + 1..].starts_with(b"{{{{") { 5 } else { 3 };
                continue;
            }
            if run > 1 && bytes[i + run..].starts_with(b"{{") {
                escapes.push(i);
                i += run;
                break;
            }
            i += 1;
            continue;
        }
        if bytes[i..].starts_with(b"{{") {
            break;
        }
        i += 1;
    }
    (i, escapes)
}

/// The tag of the subset at `start` (`{{...}}` or `{{{...}}}`) and where it ends.
fn parse_tag(source: &str, start: usize) -> Option<(Tag<'_>, usize)> {
    let rest = &source[start..];
    let html = rest.starts_with("{{{");
    if rest.starts_with("{{{{") {
        return None;
    }
    let (open, close) = if html { ("{{{", "}}}") } else { ("{{", "}}") };
    let inner_len = rest[open.len()..].find(close)?;
    let end = start + open.len() + inner_len + close.len();
    let mut inner = &rest[open.len()..open.len() + inner_len];
    // Only what our templates write: words of path characters, single-spaced (handlebars takes
    // more whitespace, but then the text is handlebars').
    if !inner.bytes().all(|b| b.is_ascii_alphanumeric() || b"_.[]~#/ ".contains(&b)) {
        return None;
    }
    let omit_pre_ws = inner.starts_with('~');
    let omit_pro_ws = inner.ends_with('~') && inner.len() > usize::from(omit_pre_ws);
    inner = &inner[usize::from(omit_pre_ws)..inner.len() - usize::from(omit_pro_ws)];
    let inner = inner.trim_matches(' ');
    let (kind, body) = match inner.as_bytes().first()? {
        b'#' if !html => (TagKind::BlockStart, &inner[1..]),
        b'/' if !html => (TagKind::BlockEnd, &inner[1..]),
        _ if inner == "else" && !html => (TagKind::Else, inner),
        _ if html => (TagKind::Html, inner),
        _ => (TagKind::Expression, inner),
    };
    let words: Vec<&str> = body.split(' ').filter(|w| !w.is_empty()).collect();
    let plain = |w: &str| w.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    let name = *words.first()?;
    let name_ok = match kind {
        TagKind::Else => true,
        // Words handlebars reads otherwise: `else` chains and keywords, literals, `~` and `#`
        // inside the tag.
        _ if name.starts_with("else") || name.starts_with("as") => false,
        TagKind::BlockStart | TagKind::BlockEnd => plain(name) && starts_like_a_name(name),
        _ if words.len() > 1 => plain(name) && starts_like_a_name(name),
        _ => is_path(name),
    };
    let params_ok = words[1..].iter().all(|w| is_path(w) || w.bytes().all(|b| b.is_ascii_digit()))
        && !words[1..].iter().any(|w| matches!(*w, "as" | "else" | "true" | "false" | "null"));
    if !name_ok || !params_ok || body.contains('~') || body.contains('#') || body.contains('/') {
        return None;
    }
    if (kind == TagKind::BlockEnd || kind == TagKind::Else) && words.len() != 1 {
        return None;
    }
    Some((
        Tag {
            kind,
            words,
            omit_pre_ws,
            omit_pro_ws,
        },
        end,
    ))
}

fn starts_like_a_name(w: &str) -> bool {
    w.bytes().next().is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
}

/// A path of the subset: names joined by `.`, and `[digits]` keys (`range.[0]`).
fn is_path(w: &str) -> bool {
    starts_like_a_name(w)
        && w.split('.').all(|seg| {
            let key = seg.strip_prefix('[').and_then(|s| s.strip_suffix(']'));
            match key {
                Some(k) => !k.is_empty() && k.bytes().all(|b| b.is_ascii_digit()),
                None => !seg.is_empty() && seg.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'),
            }
        })
}

/// A path of the subset (`is_path`) as handlebars reads it: its names and keys, without `this`.
fn path(raw: &str) -> Path {
    let segs = raw
        .split('.')
        .map(|seg| seg.strip_prefix('[').and_then(|s| s.strip_suffix(']')).unwrap_or(seg))
        .filter(|seg| *seg != "this")
        .map(|seg| PathSeg::Named(seg.to_owned()))
        .collect();
    Path::Relative((segs, raw.to_owned()))
}

/// The expression handlebars reads from a tag: a block's or a helper call's name is a name, a
/// lone word a path; parameters are paths or number literals.
fn spec(tag: &Tag<'_>, block: bool) -> Option<handlebars::template::ExpressionSpec> {
    let (name, params) = tag.words.split_first()?;
    let name = if block || !params.is_empty() {
        Parameter::Name((*name).to_owned())
    } else {
        Parameter::Path(path(name))
    };
    let params = params
        .iter()
        .map(|w| match w.bytes().all(|b| b.is_ascii_digit()) {
            true => serde_json::from_str(w).ok().map(Parameter::Literal),
            false => Some(Parameter::Path(path(w))),
        })
        .collect::<Option<Vec<_>>>()?;
    ExpressionSpecBuilder::default()
        .name(name)
        .params(params)
        .hash(HashMap::new())
        .omit_pre_ws(tag.omit_pre_ws)
        .omit_pro_ws(tag.omit_pro_ws)
        .build()
        .ok()
}
