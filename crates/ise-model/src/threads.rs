//! The second thread the libraries start for one piece of work (`join`), and the two things the
//! program decides about it: how it is started (`set_joiner`: the CLI places it on another CPU
//! than the caller's) and what it runs first (`on_start`: the CLI advises its heap about huge
//! pages). Both are matters of the process, not of compiling; without them `join` is std's scoped
//! thread.

use std::sync::OnceLock;

/// Runs `there` on a thread it starts and `here` on the calling one, and returns once both have
/// returned, whatever either did (a panic of either is resumed after both are done).
pub type Joiner = fn(there: &mut (dyn FnMut() + Send), here: &mut dyn FnMut());

static ON_START: OnceLock<fn()> = OnceLock::new();
static JOINER: OnceLock<Joiner> = OnceLock::new();

/// Sets the hook every later thread of the libraries runs first; the first call wins.
pub fn on_start(hook: fn()) {
    let _ = ON_START.set(hook);
}

/// Sets how `join` starts its thread; the first call wins.
pub fn set_joiner(joiner: Joiner) {
    let _ = JOINER.set(joiner);
}

/// Runs the start hook, if set; called first on each thread the libraries start.
pub fn started() {
    if let Some(hook) = ON_START.get() {
        hook();
    }
}

/// `there` on a second thread (which runs the start hook first) while `here` runs on this one.
pub fn join<A: Send, B>(there: impl FnOnce() -> A + Send, here: impl FnOnce() -> B) -> (A, B) {
    let (mut there, mut here) = (Some(there), Some(here));
    let (mut a, mut b) = (None, None);
    {
        let mut there = || {
            started();
            a = there.take().map(|f| f());
        };
        let mut here = || b = here.take().map(|f| f());
        match JOINER.get() {
            Some(joiner) => joiner(&mut there, &mut here),
            None => scoped(&mut there, &mut here),
        }
    }
    // A joiner returns only once both ran to their end (a panic would not have returned here).
    (a.expect("joined: `there` ran"), b.expect("joined: `here` ran"))
}

/// std's scoped thread: the default joiner.
pub fn scoped(there: &mut (dyn FnMut() + Send), here: &mut dyn FnMut()) {
    std::thread::scope(|s| {
        let thread = s.spawn(there);
        here();
        thread.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn join_runs_both_and_returns_their_results() {
        let here_thread = std::thread::current().id();
        let (a, b) = join(|| (std::thread::current().id(), 2), || (std::thread::current().id(), "b"));
        assert_ne!(a.0, here_thread, "`there` runs on another thread");
        assert_eq!(b.0, here_thread, "`here` runs on the calling thread");
        assert_eq!((a.1, b.1), (2, "b"));
    }

    #[test]
    fn join_borrows_from_the_caller() {
        let words = vec!["a".to_string(), "b".to_string()];
        let mut seen = Vec::new();
        let (n, ()) = join(|| words.len(), || seen.extend(words.iter().cloned()));
        assert_eq!(n, 2);
        assert_eq!(seen, words);
    }
}
