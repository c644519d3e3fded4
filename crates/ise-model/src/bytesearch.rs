//! Byte searches with memchr's SSE2 routines, which every x86-64 processor has. memchr's default
//! entry points first ask the processor whether it has AVX2 (Rust's feature detection: about ten
//! CPUID instructions, once per process), and on a virtual machine each CPUID traps to the
//! hypervisor: about 4 µs each on this project's runners, 1-2 % of a whole compile. The texts
//! searched here are short (an environment file, template texts, CSV fields), where SSE2 is as
//! fast. Elsewhere, memchr's portable entry points.

#[cfg(target_arch = "x86_64")]
use memchr::arch::x86_64::sse2::memchr::{One, Three, Two};

/// The first `a` in `hay`.
pub fn find1(a: u8, hay: &[u8]) -> Option<usize> {
    #[cfg(target_arch = "x86_64")]
    if let Some(s) = One::new(a) {
        return s.find(hay);
    }
    memchr::memchr(a, hay)
}

/// The first `a` or `b` in `hay`.
pub fn find2(a: u8, b: u8, hay: &[u8]) -> Option<usize> {
    #[cfg(target_arch = "x86_64")]
    if let Some(s) = Two::new(a, b) {
        return s.find(hay);
    }
    memchr::memchr2(a, b, hay)
}

/// The first `a`, `b` or `c` in `hay`.
pub fn find3(a: u8, b: u8, c: u8, hay: &[u8]) -> Option<usize> {
    #[cfg(target_arch = "x86_64")]
    if let Some(s) = Three::new(a, b, c) {
        return s.find(hay);
    }
    memchr::memchr3(a, b, c, hay)
}

/// Every position of `a` in `hay`, in order.
pub fn positions(a: u8, hay: &[u8]) -> Vec<usize> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(i) = find1(a, &hay[from..]) {
        out.push(from + i);
        from += i + 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// The same answers as a plain scan, on texts long enough for the vector loops and
        /// their unaligned ends.
        #[test]
        fn finds_what_a_scan_finds(hay in proptest::collection::vec(0u8..8, 0..200), a in 0u8..8, b in 0u8..8, c in 0u8..8) {
            let scan = |set: &[u8]| hay.iter().position(|x| set.contains(x));
            proptest::prop_assert_eq!(find1(a, &hay), scan(&[a]));
            proptest::prop_assert_eq!(find2(a, b, &hay), scan(&[a, b]));
            proptest::prop_assert_eq!(find3(a, b, c, &hay), scan(&[a, b, c]));
            let all: Vec<usize> = (0..hay.len()).filter(|&i| hay[i] == a).collect();
            proptest::prop_assert_eq!(positions(a, &hay), all);
        }
    }
}
