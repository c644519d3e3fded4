//! Where a fast scan of a JSON string's contents must stop, shared by the readers that scan JSON
//! from its bytes (the tag file's fast path and the one-pass tree reader).

/// The bytes that end a fast scan of a string's contents: its closing quote, an escape, and the
/// control characters JSON refuses inside strings.
const STOP: [bool; 256] = {
    let mut table = [false; 256];
    let mut c = 0;
    while c < 256 {
        table[c] = c < 0x20 || c == b'"' as usize || c == b'\\' as usize;
        c += 1;
    }
    table
};

/// Where the first [`STOP`] byte of `bytes` is. Real strings are short (a prefix, a name), too
/// short for memchr's setup to pay: 8 bytes at a time while none of them can stop the scan, then
/// byte by byte.
pub(crate) fn first_stop(bytes: &[u8]) -> Option<usize> {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGH: u64 = u64::from_ne_bytes([0x80; 8]);
    // Whether some byte of `w` is zero, or below `n` (n <= 0x80), by the usual bit tricks (exact).
    let below = |w: u64, n: u8| w.wrapping_sub(ONES * u64::from(n)) & !w & HIGH != 0;
    let mut i = 0;
    while let Some(chunk) = bytes.get(i..i + 8) {
        let w = u64::from_ne_bytes(chunk.try_into().expect("8 bytes"));
        if below(w, 0x20) || below(w ^ (ONES * u64::from(b'"')), 1) || below(w ^ (ONES * u64::from(b'\\')), 1) {
            break;
        }
        i += 8;
    }
    bytes[i..].iter().position(|&c| STOP[usize::from(c)]).map(|n| i + n)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    proptest! {
        /// The word-at-a-time search finds what a byte-by-byte one finds.
        #[test]
        fn first_stop_is_the_first_quote_backslash_or_control_byte(bytes in prop::collection::vec(prop_oneof![Just(b'"'), Just(b'\\'), 0u8..0x20, 0x20u8..0x80, any::<u8>()], 0..40), fill in 0usize..40) {
            let mut text = vec![b'a'; fill];
            text.extend(bytes);
            prop_assert_eq!(super::first_stop(&text), text.iter().position(|&c| c == b'"' || c == b'\\' || c < 0x20));
        }
    }
}
