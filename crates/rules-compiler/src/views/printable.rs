//! Text for a terminal from what files say: a name or a description read from a deployed NSG or a
//! template may hold control characters (a newline that breaks a finding's line or a command of
//! the ticket, an escape sequence a terminal obeys) or bidirectional overrides that reorder what
//! is shown. Each is written as its code (`\u{1b}`); line ends and tabs stay.

use std::borrow::Cow;

/// `text` with every character a terminal would act on written as its code.
pub fn printable(text: &str) -> Cow<'_, str> {
    if !text.chars().any(acted_on) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if acted_on(c) {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// C0 and C1 controls but the line end and the tab, and the bidirectional embeddings, overrides
/// and isolates.
fn acted_on(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t') || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_and_overrides_are_written_as_codes() {
        assert!(matches!(printable("plain\ttext\n"), Cow::Borrowed(_)));
        assert_eq!(printable("jump\u{1b}[31mbox"), "jump\\u{1b}[31mbox");
        assert_eq!(printable("a\rb\u{7}c\u{85}d\u{9b}e"), "a\\u{d}b\\u{7}c\\u{85}d\\u{9b}e");
        assert_eq!(printable("nsg\u{202e}gsn"), "nsg\\u{202e}gsn");
        assert_eq!(printable("ünïcode names stay"), "ünïcode names stay");
    }
}
