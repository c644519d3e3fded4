//! Escaping by substitution in one pass: the text between special bytes is copied as runs, not
//! character by character (cells and labels may hold thousands of prefixes).

/// `s` with each byte for which `with` gives a replacement replaced by it. Only ASCII bytes may
/// be replaced, so the text between them stays valid UTF-8.
pub fn substitute(s: &str, with: impl Fn(u8) -> Option<&'static str>) -> String {
    let mut out = String::with_capacity(s.len());
    let mut from = 0;
    for (i, b) in s.bytes().enumerate() {
        if let Some(r) = with(b) {
            debug_assert!(b.is_ascii());
            out.push_str(&s[from..i]);
            out.push_str(r);
            from = i + 1;
        }
    }
    out.push_str(&s[from..]);
    out
}
