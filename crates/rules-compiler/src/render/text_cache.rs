//! The texts of the prefix lists of one compile, written once: `nsg.json`, `azuredeploy.json`,
//! `main.bicep` and `plan.json` each write every list of the plan (11,319 prefixes with
//! `--expand-tags`), and formatting the prefixes cost more than copying their text.
//!
//! A list is looked up by where it is and how long it is, and its entry is used only when it
//! holds the same prefixes (compared, not trusted): a list freed during the compile and another
//! one allocated in its place can never borrow its text. The threads of one compile share its
//! cache: the review, on the proofs' thread, joins the same lists for its rows.

use super::prefix_text::PrefixText;
use ipnet::{Ipv4Net, Ipv6Net};
use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

/// The texts of one list: one string, and where each prefix's text ends in it. The string ends
/// with `BLOCK` bytes of padding past the last text, so that a block of `BLOCK` bytes from the
/// start of any text lies inside it (see [`Texts::write_list`]).
pub struct Texts {
    text: String,
    ends: Vec<usize>,
    /// The first join asked for and its separator: a review's addresses and the flow picture's
    /// labels join the same lists with the same separator, the second a copy of the first.
    joined: OnceLock<(String, String)>,
}

/// At least the longest prefix text (`ffff:...:ffff/128`, 43 bytes).
const BLOCK: usize = 48;

impl Texts {
    fn of<T: PrefixText>(items: &[T]) -> Texts {
        let mut bytes = Vec::with_capacity(items.len() * 20 + BLOCK);
        let mut ends = Vec::with_capacity(items.len());
        let mut buf = [0; BLOCK];
        for p in items {
            let n = p.write_text(&mut buf);
            block_copy(&mut bytes, &buf, n);
            ends.push(bytes.len());
        }
        bytes.extend_from_slice(&[b' '; BLOCK]);
        Texts {
            text: String::from_utf8(bytes).expect("prefix text is ASCII"),
            ends,
            joined: OnceLock::new(),
        }
    }

    /// Appends the texts to `out`, `first` before the first and `between` before each later one.
    ///
    /// Each text is copied as a block of `BLOCK` bytes and `out` cut back to its end (the next
    /// piece overwrites the rest), and so is `between` when it is short: copies of a size known
    /// when compiling are a few moves, where one of a text's own length is a call to `memcpy`
    /// (`--expand-tags` writes 55,000 texts).
    pub fn write_list(&self, out: &mut String, first: &str, between: &str) {
        let padded_between = (between.len() <= BLOCK).then(|| format!("{between:BLOCK$}"));
        // What is appended, and room for the last block past it.
        let texts = self.ends.last().copied().unwrap_or(0);
        out.reserve(first.len() + texts + self.ends.len().saturating_sub(1) * between.len() + BLOCK);
        let text = self.text.as_bytes();
        // SAFETY: what stays appended is whole: `first`, `between` (UTF-8 strings) and texts
        // (ASCII); the bytes a block copies past its piece are cut off again at once.
        let out = unsafe { out.as_mut_vec() };
        let mut start = 0;
        for (i, &end) in self.ends.iter().enumerate() {
            match &padded_between {
                _ if i == 0 => out.extend_from_slice(first.as_bytes()),
                Some(block) => block_copy(out, block.as_bytes(), between.len()),
                None => out.extend_from_slice(between.as_bytes()),
            }
            block_copy(out, &text[start..], end - start);
            start = end;
        }
    }

    /// Whether the list has no prefix.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Each prefix's text, in list order.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.ends.iter().scan(0, |start, &end| {
            let text = &self.text[*start..end];
            *start = end;
            Some(text)
        })
    }

    /// The texts joined by `sep`.
    pub fn joined(&self, sep: &str) -> String {
        let join = || {
            let mut out = String::new();
            self.write_list(&mut out, "", sep);
            out
        };
        match self.joined.get_or_init(|| (sep.to_string(), join())) {
            (first, text) if first == sep => text.clone(),
            _ => join(),
        }
    }
}

/// Appends the first `len` bytes of `from` to `out`, copying a whole block of `BLOCK` bytes (a
/// copy of a size known when compiling) and cutting `out` back.
#[inline(always)]
fn block_copy(out: &mut Vec<u8>, from: &[u8], len: usize) {
    let at = out.len();
    out.extend_from_slice(&from[..BLOCK]);
    out.truncate(at + len);
}

/// A list's entry: its prefixes (to compare with) and their texts, written by the first thread
/// that asks (another one asking meanwhile waits for them rather than writing them too).
pub struct Entry<T> {
    items: Vec<T>,
    texts: Arc<OnceLock<Arc<Texts>>>,
}

pub type Lists<T> = HashMap<(usize, usize), Entry<T>>;

#[derive(Default)]
pub struct Cache {
    v4: Lists<Ipv4Net>,
    v6: Lists<Ipv6Net>,
}

/// A prefix family with its lists in the cache.
pub trait Cached: PrefixText + Clone + PartialEq + Sized {
    fn lists(cache: &mut Cache) -> &mut Lists<Self>;
}

impl Cached for Ipv4Net {
    fn lists(cache: &mut Cache) -> &mut Lists<Self> {
        &mut cache.v4
    }
}

impl Cached for Ipv6Net {
    fn lists(cache: &mut Cache) -> &mut Lists<Self> {
        &mut cache.v6
    }
}

/// One compile's cache, which the threads of the compile share (see [`shared`]).
pub type Shared = Arc<Mutex<Cache>>;

thread_local! {
    /// The cache of the compile running on this thread, if any (`with_cache`).
    static CACHE: RefCell<Option<Shared>> = const { RefCell::new(None) };
}

/// Runs `f` with a cache of prefix-list texts on this thread (dropped after it, also on a panic);
/// inside a cache already there, with that one.
pub fn with_cache<R>(f: impl FnOnce() -> R) -> R {
    match shared() {
        Some(_) => f(),
        None => with_shared(Shared::default(), f),
    }
}

/// This thread's cache, to hand to another thread of the same compile (`with_shared`): a list
/// one thread wrote is then read by the other (the review's rows and the artifacts share lists).
pub fn shared() -> Option<Shared> {
    CACHE.with(|c| c.borrow().clone())
}

/// Runs `f` with `cache` on this thread.
pub fn with_shared<R>(cache: Shared, f: impl FnOnce() -> R) -> R {
    struct Reset(Option<Shared>);
    impl Drop for Reset {
        fn drop(&mut self) {
            let before = self.0.take();
            CACHE.with(|c| *c.borrow_mut() = before);
        }
    }
    let before = CACHE.with(|c| c.borrow_mut().replace(cache));
    let _reset = Reset(before);
    f()
}

/// The texts of `items` from this thread's cache (written on first use), or `None` outside
/// `with_cache` and for lists too short to be worth an entry. A list is written outside the lock,
/// once: the review's thread and the artifacts' often reach the same list at the same moment, and
/// writing it twice cost a compile of thousands of prefixes a tenth of its time.
pub fn texts<T: Cached>(items: &[T]) -> Option<Arc<Texts>> {
    const WORTH_FROM: usize = 8;
    if items.len() < WORTH_FROM {
        return None;
    }
    let cache = shared()?;
    let key = (items.as_ptr() as usize, items.len());
    let once = {
        let mut cache = cache.lock().unwrap_or_else(|e| e.into_inner());
        let lists = T::lists(&mut cache);
        match lists.get(&key) {
            Some(e) if e.items == items => Arc::clone(&e.texts),
            _ => {
                let once = Arc::new(OnceLock::new());
                lists.insert(
                    key,
                    Entry {
                        items: items.to_vec(),
                        texts: Arc::clone(&once),
                    },
                );
                once
            }
        }
    };
    Some(Arc::clone(once.get_or_init(|| Arc::new(Texts::of(items)))))
}

#[cfg(test)]
mod tests {
    use super::{texts, with_cache};
    use ipnet::Ipv4Net;
    use proptest::prelude::*;
    use std::net::Ipv4Addr;

    fn nets(addrs: &[u32]) -> Vec<Ipv4Net> {
        addrs.iter().map(|a| Ipv4Net::new(Ipv4Addr::from(*a), 32).unwrap()).collect()
    }

    fn listed(items: &[Ipv4Net]) -> Option<Vec<String>> {
        texts(items).map(|t| t.iter().map(str::to_string).collect())
    }

    proptest! {
        /// Inside a cache, a list's texts are its prefixes' texts; changing the list in place (same
        /// address, same length) gives the new texts, not the remembered ones.
        #[test]
        fn texts_are_the_lists_texts_even_when_changed_in_place(a in prop::collection::vec(any::<u32>(), 8..40), b in any::<u32>(), at in any::<prop::sample::Index>()) {
            with_cache(|| {
                let mut list = nets(&a);
                let expected: Vec<String> = list.iter().map(ToString::to_string).collect();
                prop_assert_eq!(listed(&list), Some(expected.clone()));
                prop_assert_eq!(listed(&list), Some(expected));
                let i = at.index(list.len());
                list[i] = Ipv4Net::new(Ipv4Addr::from(b), 32).unwrap();
                let changed: Vec<String> = list.iter().map(ToString::to_string).collect();
                prop_assert_eq!(listed(&list), Some(changed));
                Ok(())
            })?;
        }
    }

    #[test]
    fn no_cache_outside_a_compile_nor_for_short_lists() {
        let long = nets(&(0..20).collect::<Vec<_>>());
        assert!(listed(&long).is_none());
        with_cache(|| {
            assert!(listed(&long).is_some());
            assert!(listed(&long[..3]).is_none());
        });
        assert!(listed(&long).is_none(), "dropped after the compile");
    }
}
