//! The canonical text of any serialisable value, written straight into one buffer: JSON exactly as
//! `serde_json::to_string_pretty` prints a `serde_json::Value` (keys sorted, two-space indent), or
//! a Bicep literal (the same layout, no commas, single-quoted strings, bare identifier keys).
//!
//! Why not `serde_json::Value`: building a value tree of every rule and prefix, then printing and
//! dropping it, cost more than everything else a compile does (`--expand-tags`: 11,000 prefixes per
//! artifact). Backends serialise typed views of the plan instead; keys are sorted here, so a
//! struct's field order does not matter and a `Value` still prints as before.

use super::text_cache::Texts;
use serde::ser::{self, Serialize};
use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

thread_local! {
    /// The cached texts of the prefix list being serialised ([`offering`]).
    static OFFERED: std::cell::RefCell<Option<Arc<Texts>>> = const { std::cell::RefCell::new(None) };
}

/// Runs `serialize`, a prefix list's `collect_seq` of `texts`' items, with `texts` on offer: the
/// canonical writer takes them and writes the list straight from their text
/// ([`Texts::write_list`]); any other serializer takes the items as they come.
pub(super) fn offering<R>(texts: &Arc<Texts>, serialize: impl FnOnce() -> R) -> R {
    /// Withdraws the offer however `serialize` ends (a panic too), so no later list takes it.
    struct Withdraw;
    impl Drop for Withdraw {
        fn drop(&mut self) {
            OFFERED.set(None);
        }
    }
    OFFERED.set(Some(Arc::clone(texts)));
    let _withdraw = Withdraw;
    serialize()
}

/// JSON in `serde_json`'s pretty form with sorted keys (no trailing newline).
pub fn json(value: &impl Serialize) -> String {
    write(value, Style::Json, 0)
}

/// A Bicep literal whose nested lines are indented by two under `indent`.
pub fn bicep(value: &impl Serialize, indent: usize) -> String {
    write(value, Style::Bicep, indent)
}

fn write(value: &impl Serialize, style: Style, indent: usize) -> String {
    let mut w = Writer {
        out: String::new(),
        style,
        indent,
        plain: None,
        bare: false,
        entries: Vec::new(),
    };
    value.serialize(&mut w).expect("every value the backends write serialises");
    w.out
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Style {
    Json,
    Bicep,
}

struct Writer {
    out: String,
    style: Style,
    /// Indent of the current container's closing bracket.
    indent: usize,
    /// Inside a prefix list (`prefix_text::LIST`), whose strings need no escapes in either style:
    /// what goes before each of them (comma, line break, indent, opening quote), so that a text
    /// costs two copies (`--expand-tags` writes 55,000). See `collect_seq`.
    plain: Option<String>,
    /// Inside such a list's loop: a string is written bare, the loop writes what surrounds it.
    bare: bool,
    /// The members of the objects being written, innermost last: each object's start at its
    /// `Compound::base` (one stack for the document, not a vector per object).
    entries: Vec<Entry>,
}

/// A text of up to 32 bytes on the stack; longer ones fail to write (see `collect_str`).
#[derive(Default)]
struct ShortText {
    bytes: [u8; 32],
    len: usize,
}

impl ShortText {
    fn as_str(&self) -> &str {
        std::str::from_utf8(&self.bytes[..self.len]).expect("written from strs")
    }
}

impl fmt::Write for ShortText {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.len + s.len();
        self.bytes.get_mut(self.len..end).ok_or(fmt::Error)?.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// What the writer cannot represent (keys that are not strings or numbers).
#[derive(Debug)]
pub struct Error(String);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

impl ser::Error for Error {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Error(msg.to_string())
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

impl Writer {
    fn pad(&mut self, mut n: usize) {
        const SPACES: &str = "                                                                ";
        while n > 0 {
            let k = n.min(SPACES.len());
            self.out.push_str(&SPACES[..k]);
            n -= k;
        }
    }

    fn quote(&self) -> char {
        if self.style == Style::Json {
            '"'
        } else {
            '\''
        }
    }

    /// Inlined into the prefix-list loop; the escaping writers stay out of line.
    #[inline(always)]
    fn string(&mut self, s: &str) {
        if self.bare {
            // The quotes around it are written by the list's loop (`collect_seq`).
            debug_assert!(s.bytes().all(|b| b.is_ascii_hexdigit() || b"./:".contains(&b)), "{s}");
            self.out.push_str(s);
            return;
        }
        match self.style {
            Style::Json => json_string(&mut self.out, s),
            Style::Bicep => bicep_string(&mut self.out, s),
        }
    }

    fn key(&mut self, k: &str) {
        let ident = self.style == Style::Bicep
            && k.bytes().next().is_some_and(|c| c.is_ascii_alphabetic() || c == b'_')
            && k.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_');
        if ident {
            self.out.push_str(k);
        } else {
            self.string(k);
        }
    }

    fn integer(&mut self, negative: bool, mut v: u64) {
        let mut buf = [0u8; 20];
        let mut i = buf.len();
        loop {
            i -= 1;
            buf[i] = b'0' + (v % 10) as u8;
            v /= 10;
            if v == 0 {
                break;
            }
        }
        if negative {
            self.out.push('-');
        }
        self.out.push_str(std::str::from_utf8(&buf[i..]).expect("digits"));
    }

    /// Opens a container: its elements are indented two further.
    fn open(&mut self, bracket: char) -> Compound<'_> {
        self.out.push(bracket);
        self.indent += 2;
        Compound {
            start: self.out.len() - 1,
            base: self.entries.len(),
            w: self,
            key: None,
            sorted: true,
            wrapped: false,
        }
    }

    /// Opens `{"variant": ...}` (serde's externally tagged enum forms) and positions after `: `.
    fn open_variant(&mut self, variant: &'static str) {
        self.out.push('{');
        self.indent += 2;
        self.out.push('\n');
        self.pad(self.indent);
        self.key(variant);
        self.out.push_str(": ");
    }

    fn close_variant(&mut self) {
        self.indent -= 2;
        self.out.push('\n');
        self.pad(self.indent);
        self.out.push('}');
    }
}

/// Which bytes a style escapes: 0 none, else the escape's second character (`u` for `\u00XX`).
const fn escapes(bicep: bool) -> [u8; 256] {
    let mut t = [0u8; 256];
    if bicep {
        t[b'\\' as usize] = b'\\';
        t[b'\'' as usize] = b'\'';
        t[b'$' as usize] = b'$';
    } else {
        let mut c = 0;
        while c < 0x20 {
            t[c] = b'u';
            c += 1;
        }
        t[0x08] = b'b';
        t[0x0c] = b'f';
        t[b'"' as usize] = b'"';
        t[b'\\' as usize] = b'\\';
    }
    t[b'\n' as usize] = b'n';
    t[b'\r' as usize] = b'r';
    t[b'\t' as usize] = b't';
    t
}

static JSON_ESCAPES: [u8; 256] = escapes(false);
static BICEP_ESCAPES: [u8; 256] = escapes(true);

/// Whether any byte of the eight in `w` needs a JSON escape: below 0x20, `"` or `\\` (exact: the
/// classic zero-byte test applied to the word and to its differences from the two characters).
#[inline]
fn word_needs_json_escape(w: u64) -> bool {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGH: u64 = u64::from_ne_bytes([0x80; 8]);
    let below_space = w.wrapping_sub(ONES * 0x20) & !w & HIGH;
    let zero_byte = |x: u64| x.wrapping_sub(ONES) & !x & HIGH;
    below_space | zero_byte(w ^ (ONES * u64::from(b'"'))) | zero_byte(w ^ (ONES * u64::from(b'\\'))) != 0
}

/// `serde_json`'s escapes: `"`, `\`, and control characters (short forms where JSON has them).
/// Eight bytes are checked at a time: most strings (names, prefixes, descriptions) need none.
#[inline(never)]
fn json_string(out: &mut String, s: &str) {
    out.push('"');
    let bytes = s.as_bytes();
    let (mut from, mut i) = (0, 0);
    while i < bytes.len() {
        if let Some(word) = bytes.get(i..i + 8) {
            let w = u64::from_ne_bytes(word.try_into().expect("eight bytes"));
            if !word_needs_json_escape(w) {
                i += 8;
                continue;
            }
        }
        let b = bytes[i];
        let e = JSON_ESCAPES[usize::from(b)];
        if e != 0 {
            out.push_str(&s[from..i]);
            out.push('\\');
            out.push(char::from(e));
            if e == b'u' {
                out.push_str("00");
                out.push(char::from(HEX[usize::from(b >> 4)]));
                out.push(char::from(HEX[usize::from(b & 0xf)]));
            }
            from = i + 1;
        }
        i += 1;
    }
    out.push_str(&s[from..]);
    out.push('"');
}

/// Bicep's escapes: `\\`, `\'`, `\${` (interpolation), and newline, return, tab.
#[inline(never)]
fn bicep_string(out: &mut String, s: &str) {
    out.push('\'');
    let bytes = s.as_bytes();
    let mut from = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let e = BICEP_ESCAPES[usize::from(b)];
        if e == 0 || (e == b'$' && bytes.get(i + 1) != Some(&b'{')) {
            continue;
        }
        out.push_str(&s[from..i]);
        out.push('\\');
        out.push(char::from(e));
        from = i + 1;
    }
    out.push_str(&s[from..]);
    out.push('\'');
}

/// One member of an object being written: its key and where its `key: value` text starts and ends.
struct Entry {
    key: Cow<'static, str>,
    start: usize,
    end: usize,
}

/// An array or object being written. Members are written in the order given; an object whose keys
/// did not come sorted is reordered when it closes (nested ones are complete by then).
struct Compound<'a> {
    w: &'a mut Writer,
    /// Offset of the opening bracket.
    start: usize,
    /// Where this object's members start in `Writer::entries`.
    base: usize,
    key: Option<Cow<'static, str>>,
    sorted: bool,
    /// Inside `{"variant": ...}`: close that object too.
    wrapped: bool,
}

impl Compound<'_> {
    fn separator(&mut self, first: bool) {
        if !first && self.w.style == Style::Json {
            self.w.out.push(',');
        }
        self.w.out.push('\n');
        self.w.pad(self.w.indent);
    }

    fn element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        let first = self.w.out.len() == self.start + 1;
        self.separator(first);
        value.serialize(&mut *self.w)
    }

    fn member<T: Serialize + ?Sized>(&mut self, key: Cow<'static, str>, value: &T) -> Result<(), Error> {
        self.separator(self.w.entries.len() == self.base);
        let start = self.w.out.len();
        self.w.key(&key);
        self.w.out.push_str(": ");
        value.serialize(&mut *self.w)?;
        if self.w.entries[self.base..].last().is_some_and(|e| e.key >= key) {
            self.sorted = false;
        }
        self.w.entries.push(Entry {
            key,
            start,
            end: self.w.out.len(),
        });
        Ok(())
    }

    fn close(mut self, bracket: char) -> Result<(), Error> {
        if !self.sorted {
            self.reorder();
        }
        self.w.entries.truncate(self.base);
        self.w.indent -= 2;
        if self.w.out.len() > self.start + 1 {
            self.w.out.push('\n');
            self.w.pad(self.w.indent);
        }
        self.w.out.push(bracket);
        if self.wrapped {
            self.w.close_variant();
        }
        Ok(())
    }

    /// Rewrites the members sorted by key, the last of equal keys winning (as in a `Value` map).
    fn reorder(&mut self) {
        let entries = &self.w.entries[self.base..];
        let mut order: Vec<usize> = (0..entries.len()).collect();
        order.sort_by(|&a, &b| entries[a].key.cmp(&entries[b].key).then(b.cmp(&a)));
        order.dedup_by(|b, a| entries[*a].key == entries[*b].key);
        let spans: Vec<(usize, usize)> = order.iter().map(|&e| (entries[e].start, entries[e].end)).collect();
        let body = self.w.out.split_off(self.start + 1);
        let base = self.start + 1;
        for (i, (start, end)) in spans.into_iter().enumerate() {
            self.separator(i == 0);
            self.w.out.push_str(&body[start - base..end - base]);
        }
    }
}

/// The four array forms of serde, all written as arrays.
macro_rules! array_forms {
    ($($form:ident :: $method:ident),*) => {$(
        impl ser::$form for Compound<'_> {
            type Ok = ();
            type Error = Error;
            fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
                self.element(value)
            }
            fn end(self) -> Result<(), Error> {
                self.close(']')
            }
        }
    )*};
}

array_forms!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field
);

impl ser::SerializeMap for Compound<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Error> {
        self.key = Some(key.serialize(KeyText)?);
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        let key = self.key.take().ok_or_else(|| Error("a map value without its key".into()))?;
        self.member(key, value)
    }
    fn end(self) -> Result<(), Error> {
        self.close('}')
    }
}

/// Both struct forms of serde, written as objects.
macro_rules! struct_forms {
    ($($form:ident),*) => {$(
        impl ser::$form for Compound<'_> {
            type Ok = ();
            type Error = Error;
            fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> Result<(), Error> {
                self.member(Cow::Borrowed(key), value)
            }
            fn end(self) -> Result<(), Error> {
                self.close('}')
            }
        }
    )*};
}

struct_forms!(SerializeStruct, SerializeStructVariant);

/// Narrow numbers are written as their wide type.
macro_rules! widen {
    ($($method:ident: $t:ty),* => $wide:ident) => {$(
        fn $method(self, v: $t) -> Result<(), Error> {
            self.$wide(v.into())
        }
    )*};
}

impl<'a> ser::Serializer for &'a mut Writer {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = Compound<'a>;
    type SerializeTuple = Compound<'a>;
    type SerializeTupleStruct = Compound<'a>;
    type SerializeTupleVariant = Compound<'a>;
    type SerializeMap = Compound<'a>;
    type SerializeStruct = Compound<'a>;
    type SerializeStructVariant = Compound<'a>;

    fn serialize_bool(self, v: bool) -> Result<(), Error> {
        self.out.push_str(if v { "true" } else { "false" });
        Ok(())
    }
    widen!(serialize_i8: i8, serialize_i16: i16, serialize_i32: i32 => serialize_i64);
    widen!(serialize_u8: u8, serialize_u16: u16, serialize_u32: u32 => serialize_u64);
    widen!(serialize_f32: f32 => serialize_f64);
    fn serialize_i64(self, v: i64) -> Result<(), Error> {
        self.integer(v < 0, v.unsigned_abs());
        Ok(())
    }
    fn serialize_u64(self, v: u64) -> Result<(), Error> {
        self.integer(false, v);
        Ok(())
    }
    fn serialize_f64(self, v: f64) -> Result<(), Error> {
        // serde_json's shortest round-trip form; non-finite numbers are null there too.
        self.out.push_str(&serde_json::to_string(&v).map_err(ser::Error::custom)?);
        Ok(())
    }
    fn serialize_char(self, v: char) -> Result<(), Error> {
        self.string(v.encode_utf8(&mut [0; 4]));
        Ok(())
    }
    #[inline(always)]
    fn serialize_str(self, v: &str) -> Result<(), Error> {
        self.string(v);
        Ok(())
    }
    /// Short texts (port ranges, numbers) formatted on the stack, not into a `String` each.
    fn collect_str<T: fmt::Display + ?Sized>(self, value: &T) -> Result<(), Error> {
        let mut short = ShortText::default();
        if fmt::write(&mut short, format_args!("{value}")).is_ok() {
            self.string(short.as_str());
        } else {
            self.string(&value.to_string());
        }
        Ok(())
    }
    /// A prefix list's texts in one loop, two copies each (the text, then its closing quote with
    /// what goes before the next one) instead of an array's per-element steps.
    fn collect_seq<I>(self, items: I) -> Result<(), Error>
    where
        I: IntoIterator,
        I::Item: Serialize,
    {
        if self.plain.is_none() {
            let mut seq = ser::Serializer::serialize_seq(&mut *self, None)?;
            for item in items {
                ser::SerializeSeq::serialize_element(&mut seq, &item)?;
            }
            return ser::SerializeSeq::end(seq);
        }
        let between = self.plain.take().unwrap_or_default();
        // Each text's closing quote goes with what comes before the next one: one copy less.
        let mut after = String::with_capacity(between.len() + 1);
        after.push(self.quote());
        after.push_str(&between);
        if let Some(texts) = OFFERED.take() {
            self.out.push('[');
            texts.write_list(&mut self.out, between.trim_start_matches(','), &after);
            self.plain = Some(between);
            if !texts.is_empty() {
                self.out.push(self.quote());
                self.out.push('\n');
                self.pad(self.indent);
            }
            self.out.push(']');
            return Ok(());
        }
        let items = items.into_iter();
        self.out.reserve(items.size_hint().0 * (after.len() + 24));
        self.out.push('[');
        self.bare = true;
        let mut written = Ok(());
        let mut any = false;
        for item in items {
            // The first text follows the bracket: no comma.
            self.out.push_str(if any { &after } else { between.trim_start_matches(',') });
            any = true;
            written = item.serialize(&mut *self);
            if written.is_err() {
                break;
            }
        }
        self.bare = false;
        self.plain = Some(between);
        written?;
        if any {
            self.out.push(self.quote());
            self.out.push('\n');
            self.pad(self.indent);
        }
        self.out.push(']');
        Ok(())
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<(), Error> {
        ser::Serializer::collect_seq(self, v)
    }
    fn serialize_none(self) -> Result<(), Error> {
        self.serialize_unit()
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Error> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), Error> {
        self.out.push_str("null");
        Ok(())
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<(), Error> {
        self.serialize_unit()
    }
    fn serialize_unit_variant(self, _: &'static str, _: u32, variant: &'static str) -> Result<(), Error> {
        self.serialize_str(variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, name: &'static str, value: &T) -> Result<(), Error> {
        if name != super::prefix_text::LIST || self.plain.is_some() {
            return value.serialize(self);
        }
        // Thousands of prefix texts under `--expand-tags`: copied as they are, not scanned for escapes.
        let quote = self.quote();
        let mut between = String::with_capacity(self.indent + 5);
        if self.style == Style::Json {
            between.push(',');
        }
        between.push('\n');
        // The list's elements are indented one level below the list.
        between.extend(std::iter::repeat_n(' ', self.indent + 2));
        between.push(quote);
        self.plain = Some(between);
        let written = value.serialize(&mut *self);
        self.plain = None;
        written
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        self.open_variant(variant);
        value.serialize(&mut *self)?;
        self.close_variant();
        Ok(())
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Compound<'a>, Error> {
        Ok(self.open('['))
    }
    fn serialize_tuple(self, _: usize) -> Result<Compound<'a>, Error> {
        Ok(self.open('['))
    }
    fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<Compound<'a>, Error> {
        Ok(self.open('['))
    }
    fn serialize_tuple_variant(self, _: &'static str, _: u32, variant: &'static str, _: usize) -> Result<Compound<'a>, Error> {
        self.open_variant(variant);
        let mut c = self.open('[');
        c.wrapped = true;
        Ok(c)
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Compound<'a>, Error> {
        Ok(self.open('{'))
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Compound<'a>, Error> {
        Ok(self.open('{'))
    }
    fn serialize_struct_variant(self, _: &'static str, _: u32, variant: &'static str, _: usize) -> Result<Compound<'a>, Error> {
        self.open_variant(variant);
        let mut c = self.open('{');
        c.wrapped = true;
        Ok(c)
    }
}

/// A map key as text: strings as they are, numbers and booleans as their digits (as `serde_json`).
struct KeyText;

type Key = Result<Cow<'static, str>, Error>;

fn key_error() -> Error {
    Error("object keys must be strings or numbers".into())
}

/// `KeyText` methods: keys from the value's text, or refused.
macro_rules! text_keys {
    ($($method:ident: $t:ty),*) => {$(
        fn $method(self, v: $t) -> Key {
            Ok(v.to_string().into())
        }
    )*};
}

macro_rules! no_keys {
    ($($method:ident: $t:ty),*) => {$(
        fn $method(self, _: $t) -> Key {
            Err(key_error())
        }
    )*};
}

impl ser::Serializer for KeyText {
    type Ok = Cow<'static, str>;
    type Error = Error;
    type SerializeSeq = ser::Impossible<Cow<'static, str>, Error>;
    type SerializeTuple = ser::Impossible<Cow<'static, str>, Error>;
    type SerializeTupleStruct = ser::Impossible<Cow<'static, str>, Error>;
    type SerializeTupleVariant = ser::Impossible<Cow<'static, str>, Error>;
    type SerializeMap = ser::Impossible<Cow<'static, str>, Error>;
    type SerializeStruct = ser::Impossible<Cow<'static, str>, Error>;
    type SerializeStructVariant = ser::Impossible<Cow<'static, str>, Error>;

    fn serialize_bool(self, v: bool) -> Key {
        Ok(Cow::Borrowed(if v { "true" } else { "false" }))
    }
    text_keys!(serialize_i8: i8, serialize_i16: i16, serialize_i32: i32, serialize_i64: i64, serialize_u8: u8, serialize_u16: u16,
        serialize_u32: u32, serialize_u64: u64, serialize_char: char, serialize_str: &str);
    no_keys!(serialize_f32: f32, serialize_f64: f64, serialize_bytes: &[u8], serialize_unit_struct: &'static str);
    fn serialize_none(self) -> Key {
        Err(key_error())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, _: &T) -> Key {
        Err(key_error())
    }
    fn serialize_unit(self) -> Key {
        Err(key_error())
    }
    fn serialize_unit_variant(self, _: &'static str, _: u32, variant: &'static str) -> Key {
        Ok(Cow::Borrowed(variant))
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _: &'static str, value: &T) -> Key {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(self, _: &'static str, _: u32, _: &'static str, _: &T) -> Key {
        Err(key_error())
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, Error> {
        Err(key_error())
    }
    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, Error> {
        Err(key_error())
    }
    fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeTupleStruct, Error> {
        Err(key_error())
    }
    fn serialize_tuple_variant(self, _: &'static str, _: u32, _: &'static str, _: usize) -> Result<Self::SerializeTupleVariant, Error> {
        Err(key_error())
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, Error> {
        Err(key_error())
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeStruct, Error> {
        Err(key_error())
    }
    fn serialize_struct_variant(self, _: &'static str, _: u32, _: &'static str, _: usize) -> Result<Self::SerializeStructVariant, Error> {
        Err(key_error())
    }
}

#[cfg(test)]
mod tests {
    use super::{bicep, json};
    use proptest::prelude::*;
    use serde::Serialize;
    use serde_json::{json as j, Value};

    /// Any JSON value of a few levels (keys with characters that need escaping, in any order).
    fn values() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(|n| j!(n)),
            any::<u64>().prop_map(|n| j!(n)),
            any::<f64>().prop_map(|f| j!(f)),
            any::<String>().prop_map(Value::String),
            "[a-z$'\"\\\\{}\n\t\u{1}-]{0,6}".prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 40, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::btree_map("[a-zA-Z_$'\\-0-9]{0,5}", inner, 0..6).prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    /// The byte-wise answer the eight-byte test must give.
    fn any_needs_escape(word: [u8; 8]) -> bool {
        word.iter().any(|&b| b < 0x20 || b == b'"' || b == b'\\')
    }

    /// Every byte value at every position of a word of plain letters.
    #[test]
    fn the_word_test_finds_every_escaped_byte_anywhere() {
        for b in 0..=255u8 {
            for at in 0..8 {
                let mut word = [b'a'; 8];
                word[at] = b;
                let w = u64::from_ne_bytes(word);
                assert_eq!(super::word_needs_json_escape(w), any_needs_escape(word), "byte {b:#04x} at {at}");
            }
        }
    }

    proptest! {
        /// Words of any bytes (several odd ones together: borrows between bytes must not hide one).
        #[test]
        fn the_word_test_is_the_byte_test(word in any::<[u8; 8]>()) {
            prop_assert_eq!(super::word_needs_json_escape(u64::from_ne_bytes(word)), any_needs_escape(word));
        }

        #[test]
        fn json_is_serde_json_pretty(v in values()) {
            prop_assert_eq!(json(&v), serde_json::to_string_pretty(&v).unwrap());
        }

        #[test]
        fn bicep_is_the_literal_of_the_value(v in values(), indent in 0usize..6) {
            prop_assert_eq!(bicep(&v, indent), super::super::template::bicep_literal_of_value(&v, indent));
        }

        /// A struct's fields print sorted, whatever their declaration order: as its `Value` prints.
        #[test]
        fn structs_print_as_their_values(a in any::<u32>(), b in any::<Option<String>>(), c in prop::collection::vec(any::<i16>(), 0..4)) {
            #[derive(Serialize)]
            #[allow(non_snake_case)]
            struct S { zeta: u32, Alpha: Option<String>, mid: Vec<i16>, #[serde(rename = "$k")] k: Inner }
            #[derive(Serialize)]
            enum Inner { V { y: u8, x: u8 } }
            let s = S { zeta: a, Alpha: b, mid: c, k: Inner::V { y: 1, x: 2 } };
            let v = serde_json::to_value(&s).unwrap();
            prop_assert_eq!(json(&s), serde_json::to_string_pretty(&v).unwrap());
            prop_assert_eq!(bicep(&s, 2), bicep(&v, 2));
        }
    }

    #[test]
    fn duplicate_keys_keep_the_last_as_a_value_map_does() {
        struct Dup;
        impl Serialize for Dup {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                use serde::ser::SerializeMap;
                let mut m = s.serialize_map(None)?;
                m.serialize_entry("b", &1)?;
                m.serialize_entry("a", &2)?;
                m.serialize_entry("b", &3)?;
                m.end()
            }
        }
        assert_eq!(json(&Dup), "{\n  \"a\": 2,\n  \"b\": 3\n}");
        assert_eq!(bicep(&Dup, 0), "{\n  a: 2\n  b: 3\n}");
    }

    #[test]
    fn enum_forms_nest_like_serde_json() {
        #[derive(Serialize)]
        enum E {
            N(u8),
            T(u8, u8),
            U,
        }
        for e in [E::N(1), E::T(1, 2), E::U] {
            assert_eq!(json(&e), serde_json::to_string_pretty(&e).unwrap());
        }
    }
}
