//! Escaping by substitution in one pass: the text between special bytes is copied as runs, not
//! character by character (cells and labels may hold thousands of prefixes).

/// Below this length the replacement function is asked per byte; above it, once per byte value,
/// and the special bytes are found with memchr's vectorised searches.
const TABLE_FROM: usize = 256;

/// `s` with each byte for which `with` gives a replacement replaced by it. Only ASCII bytes may
/// be replaced, so the text between them stays valid UTF-8.
pub fn substitute(s: &str, with: impl Fn(u8) -> Option<&'static str>) -> String {
    let mut out = String::with_capacity(s.len());
    substitute_into(&mut out, s, with);
    out
}

/// [`substitute`] appended to `out` (a table row's cells written into the row).
pub fn substitute_into(out: &mut String, s: &str, with: impl Fn(u8) -> Option<&'static str>) {
    if s.len() < TABLE_FROM {
        return runs(out, s, with);
    }
    let table: [Option<&'static str>; 256] = std::array::from_fn(|b| with(b as u8));
    let specials: Vec<u8> = (0..=u8::MAX).filter(|&b| table[usize::from(b)].is_some()).collect();
    let bytes = s.as_bytes();
    // The specials in groups of up to three (memchr searches for at most three bytes at once),
    // each group with its next match at or after the current position. A group is searched
    // again only once its match is passed, so the text is read once per group.
    let groups: Vec<&[u8]> = specials.chunks(3).collect();
    let find = |group: &[u8], from: usize| -> usize {
        let rest = &bytes[from..];
        let found = match *group {
            [a] => ise_model::bytesearch::find1(a, rest),
            [a, b] => ise_model::bytesearch::find2(a, b, rest),
            [a, b, c] => ise_model::bytesearch::find3(a, b, c, rest),
            _ => unreachable!("groups of one to three"),
        };
        found.map_or(bytes.len(), |i| from + i)
    };
    let mut next: Vec<usize> = groups.iter().map(|g| find(g, 0)).collect();
    out.reserve(s.len());
    let mut from = 0;
    while let Some((g, &at)) = next.iter().enumerate().min_by_key(|&(_, &at)| at) {
        let Some(replacement) = bytes.get(at).and_then(|&b| table[usize::from(b)]) else {
            break;
        };
        out.push_str(&s[from..at]);
        out.push_str(replacement);
        from = at + 1;
        next[g] = find(groups[g], from);
    }
    out.push_str(&s[from..]);
}

fn runs(out: &mut String, s: &str, with: impl Fn(u8) -> Option<&'static str>) {
    out.reserve(s.len());
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
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    fn pipes(b: u8) -> Option<&'static str> {
        match b {
            b'|' => Some("\\|"),
            b'\n' => Some(" "),
            _ => None,
        }
    }

    proptest! {
        /// Short and long texts (both sides of the table threshold) replace exactly the special bytes.
        #[test]
        fn replaces_exactly_the_special_bytes(s in "[a|\né ]{0,40}", repeat in 1usize..20) {
            let s = s.repeat(repeat);
            prop_assert_eq!(super::substitute(&s, pipes), s.replace('|', "\\|").replace('\n', " "));
        }

        /// Five specials (two memchr groups: the SVG and HTML escape), and none at all.
        #[test]
        fn replaces_specials_of_several_groups(s in "[a&<>\"'é 0./|]{0,60}", repeat in 1usize..30) {
            let s = s.repeat(repeat);
            let expected = s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;");
            prop_assert_eq!(super::super::flows_svg::escape(&s), expected);
            prop_assert_eq!(super::substitute(&s, |_| None), s);
        }
    }
}
