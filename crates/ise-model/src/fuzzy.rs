//! "Did you mean" suggestions: the closest known name by edit distance, if close enough.
//!
//! Cost is bounded for hostile input: the distance is at least the difference in length, so a
//! candidate whose length is too far off is skipped without the quadratic comparison. A 10 MB
//! input against short names costs one pass over the input, not 10 MB x name length per name.

fn folded(s: &str) -> Vec<char> {
    s.chars().flat_map(char::to_lowercase).collect()
}

fn levenshtein(a: &[char], b: &[char]) -> usize {
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// The candidate closest to `input` when the distance is at most a third of its length (min 2).
pub fn did_you_mean<'a>(input: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let len = input.chars().count();
    let limit = (len / 3).max(2);
    // Folded only when some candidate is near enough in length to be compared.
    let mut folded_input: Option<Vec<char>> = None;
    candidates
        .into_iter()
        .filter(|c| c.chars().count().abs_diff(len) <= limit)
        .map(|c| {
            let a = folded_input.get_or_insert_with(|| folded(input));
            (levenshtein(a, &folded(c)), c)
        })
        .filter(|(d, _)| *d <= limit)
        .min()
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_near_misses_only() {
        let known = ["accessEndpoint", "addressSpace", "customDnsServers"];
        assert_eq!(did_you_mean("acessEndpoint", known), Some("accessEndpoint"));
        assert_eq!(did_you_mean("customDNSServers", known), Some("customDnsServers"));
        assert_eq!(did_you_mean("zzz", known), None);
    }

    #[test]
    fn distance_is_symmetric_and_zero_on_equal() {
        let d = |a: &str, b: &str| levenshtein(&folded(a), &folded(b));
        assert_eq!(d("kitten", "sitting"), 3);
        assert_eq!(d("sitting", "kitten"), 3);
        assert_eq!(d("abc", "abc"), 0);
    }

    #[test]
    fn a_huge_input_is_not_compared_quadratically() {
        // 10 MB against the 60-odd location names: must not take 10 MB x 20 steps per name.
        let huge = "westus2".repeat(1_500_000);
        let start = std::time::Instant::now();
        assert_eq!(did_you_mean(&huge, ["westus2", "eastus"]), None);
        let bound = std::time::Duration::from_secs(if cfg!(debug_assertions) { 5 } else { 1 });
        assert!(start.elapsed() < bound, "{:?}", start.elapsed());
    }

    proptest::proptest! {
        /// Skipping by length never changes the answer: it equals the plain minimum over all names.
        #[test]
        fn pruning_keeps_the_plain_answer(input in "[a-dA-D]{0,12}", names in proptest::collection::vec("[a-d]{0,12}", 0..8)) {
            let plain = {
                let limit = (input.chars().count() / 3).max(2);
                names.iter().map(|c| (levenshtein(&folded(&input), &folded(c)), c.as_str())).filter(|(d, _)| *d <= limit).min().map(|(_, c)| c)
            };
            proptest::prop_assert_eq!(did_you_mean(&input, names.iter().map(String::as_str)), plain);
        }
    }
}
