//! Escaping by substitution in one pass: the text between special bytes is copied as runs, not
//! character by character (cells and labels may hold thousands of prefixes).

/// Below this length the replacement function is asked per byte; above it, once per byte value,
/// and the text is scanned eight bytes at a time for the special ones.
const TABLE_FROM: usize = 256;

/// `s` with each byte for which `with` gives a replacement replaced by it. Only ASCII bytes may
/// be replaced, so the text between them stays valid UTF-8.
pub fn substitute(s: &str, with: impl Fn(u8) -> Option<&'static str>) -> String {
    if s.len() < TABLE_FROM {
        return runs(s, with);
    }
    let table: [Option<&'static str>; 256] = std::array::from_fn(|b| with(b as u8));
    let specials: Vec<u64> = (0..=u8::MAX)
        .filter(|&b| table[usize::from(b)].is_some())
        .map(|b| u64::from(b) * LOW_BITS)
        .collect();
    let bytes = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut from = 0;
    let mut words = bytes.chunks(8);
    let mut at = 0;
    for word in &mut words {
        // A whole word without a special byte (the common case: prefix texts) is skipped at once.
        if let Ok(w) = <[u8; 8]>::try_from(word) {
            let w = u64::from_le_bytes(w);
            if !specials.iter().any(|&m| has_zero_byte(w ^ m)) {
                at += 8;
                continue;
            }
        }
        for (i, &b) in word.iter().enumerate() {
            if let Some(r) = table[usize::from(b)] {
                out.push_str(&s[from..at + i]);
                out.push_str(r);
                from = at + i + 1;
            }
        }
        at += word.len();
    }
    out.push_str(&s[from..]);
    out
}

const LOW_BITS: u64 = 0x0101_0101_0101_0101;

/// Whether any byte of `x` is zero (the classic bit trick: a borrow reaches the byte's top bit).
fn has_zero_byte(x: u64) -> bool {
    x.wrapping_sub(LOW_BITS) & !x & (LOW_BITS << 7) != 0
}

fn runs(s: &str, with: impl Fn(u8) -> Option<&'static str>) -> String {
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
        /// Any byte value of a word, in any of its eight positions, is found.
        #[test]
        fn zero_bytes_are_found(w in any::<u64>(), k in 0usize..8) {
            let has = w.to_le_bytes().contains(&0);
            prop_assert_eq!(super::has_zero_byte(w), has);
            let cleared = w & !(0xff << (8 * k));
            prop_assert!(super::has_zero_byte(cleared));
        }

        /// Short and long texts (both sides of the table threshold) replace exactly the special bytes.
        #[test]
        fn replaces_exactly_the_special_bytes(s in "[a|\né ]{0,40}", repeat in 1usize..20) {
            let s = s.repeat(repeat);
            prop_assert_eq!(super::substitute(&s, pipes), s.replace('|', "\\|").replace('\n', " "));
        }
    }
}
