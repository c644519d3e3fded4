//! 32-bit FNV-1a: a fixed, published hash for names that must map to the same number in every
//! build and on every machine (outbound destination priorities, diagram node ids). Not for maps:
//! `ise_model::fxhash` serves those.

pub(crate) fn fnv1a(text: &str) -> u32 {
    text.bytes()
        .fold(0x811c_9dc5_u32, |h, b| (h ^ u32::from(b)).wrapping_mul(0x0100_0193))
}

#[cfg(test)]
mod tests {
    #[test]
    fn fnv1a_is_the_published_function() {
        // Test vectors of the FNV reference (draft-eastlake-fnv): "", "a", "foobar".
        assert_eq!(super::fnv1a(""), 0x811c_9dc5);
        assert_eq!(super::fnv1a("a"), 0xe40c_292c);
        assert_eq!(super::fnv1a("foobar"), 0xbf9c_f968);
    }
}
