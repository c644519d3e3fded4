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
            let b = folded(c);
            // On equal distance, the candidate keeping more of the input's characters in order:
            // `westu2` is a `westus2` that lost an `s` more likely than a `westus` with a `2`.
            (levenshtein(a, &b), std::cmp::Reverse(common_subsequence(a, &b)), c)
        })
        .filter(|(d, _, _)| *d <= limit)
        .min()
        .map(|(_, _, c)| c)
}

/// The length of the longest common subsequence of `a` and `b`.
fn common_subsequence(a: &[char], b: &[char]) -> usize {
    let mut prev = vec![0; b.len() + 1];
    for ca in a {
        let mut cur = vec![0; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = if ca == cb { prev[j] + 1 } else { prev[j + 1].max(cur[j]) };
        }
        prev = cur;
    }
    prev[b.len()]
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
        // Ties on distance go to the candidate that keeps more of the input in order.
        assert_eq!(did_you_mean("westu2", ["westus", "westus2", "westus3"]), Some("westus2"));
        assert_eq!(did_you_mean("westu", ["westus2", "westus"]), Some("westus"));
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
        // 10 MB against the 60-odd location names: the length bound skips every name, so no
        // distance is computed (10 MB x 20 steps per name would be). Its cost is in
        // benches/hostile_inputs.py, not asserted here.
        let huge = "westus2".repeat(1_500_000);
        assert_eq!(did_you_mean(&huge, ["westus2", "eastus"]), None);
    }

    proptest::proptest! {
        /// Skipping by length never changes the answer: it equals the plain minimum over all names.
        #[test]
        fn pruning_keeps_the_plain_answer(input in "[a-dA-D]{0,12}", names in proptest::collection::vec("[a-d]{0,12}", 0..8)) {
            let plain = {
                let limit = (input.chars().count() / 3).max(2);
                let (a, key) = (folded(&input), |c: &str| std::cmp::Reverse(common_subsequence(&folded(&input), &folded(c))));
                names.iter().map(|c| (levenshtein(&a, &folded(c)), key(c), c.as_str())).filter(|(d, _, _)| *d <= limit).min().map(|(_, _, c)| c)
            };
            proptest::prop_assert_eq!(did_you_mean(&input, names.iter().map(String::as_str)), plain);
        }
    }
}
