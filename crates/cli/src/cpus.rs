//! Where the process's second thread runs: on another CPU than the thread that starts it.
//!
//! Why: a new thread is queued where the kernel puts it, and a scheduler that packs work onto few
//! CPUs (this project's runners: a guest kernel packing virtual CPUs, whose idle ones halt) often
//! queues it behind its own parent, so it starts only when the parent's time slice ends: of 40
//! thread starts from a busy thread, 8 took 0.4-2.4 ms; placed on the other CPU, all 40 started
//! within 0.1 ms. A compile's helper, whose work takes about a millisecond, started that late in
//! most runs (BENCHMARKS.md, session 27). The thread is allowed every CPU again once it runs.

/// The joiner of `ise_model::threads::join`: `there` on a new thread placed on another CPU,
/// `here` on this one; returns once both have returned.
pub fn join_elsewhere(there: &mut (dyn FnMut() + Send), here: &mut dyn FnMut()) {
    // SAFETY: the lifetime is erased only so that a std thread can run the closure; the thread is
    // joined below before this function returns, on every path (a panic of `here` is caught and
    // resumed after the join), so nothing `there` borrows ends while the thread may use it.
    let there: &'static mut (dyn FnMut() + Send) =
        unsafe { std::mem::transmute::<&mut (dyn FnMut() + Send), &'static mut (dyn FnMut() + Send)>(there) };
    // As std's scoped threads do when none can be had.
    let thread = spawn_elsewhere(there).expect("failed to spawn thread");
    let here_ran = std::panic::catch_unwind(std::panic::AssertUnwindSafe(here));
    let there_ran = thread.join();
    if let Err(panic) = here_ran.and(there_ran) {
        std::panic::resume_unwind(panic);
    }
}

/// `std::thread::spawn` of `work`, the thread placed on another CPU than the caller's while it
/// starts.
pub fn spawn_elsewhere<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> std::io::Result<std::thread::JoinHandle<T>> {
    use std::sync::atomic::{AtomicU8, Ordering::AcqRel};
    use std::sync::Arc;
    const STARTED: u8 = 1;
    const PLACED: u8 = 2;
    let Some(placement) = Placement::away_from_here().map(Arc::new) else {
        return std::thread::Builder::new().spawn(work);
    };
    // Whichever of the two marks this second lets the thread run anywhere again: the thread
    // itself when it starts after it was placed, else this one once it has placed it.
    let state = Arc::new(AtomicU8::new(0));
    let (its_placement, its_state) = (Arc::clone(&placement), Arc::clone(&state));
    let thread = std::thread::Builder::new().spawn(move || {
        if its_state.swap(STARTED, AcqRel) == PLACED {
            its_placement.allow_all_here();
        }
        work()
    })?;
    placement.place(&thread);
    if state.swap(PLACED, AcqRel) == STARTED {
        placement.allow_all(&thread);
    }
    Ok(thread)
}

/// The CPUs the process may use, and those of them other than the caller's.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
struct Placement {
    allowed: libc::cpu_set_t,
    elsewhere: libc::cpu_set_t,
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
impl Placement {
    /// `None` with a single CPU to run on, or when the kernel does not say.
    fn away_from_here() -> Option<Placement> {
        // SAFETY: plain system calls on a zeroed CPU set of the size they are told.
        unsafe {
            let here = libc::sched_getcpu();
            let mut allowed: libc::cpu_set_t = std::mem::zeroed();
            if here < 0 || libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut allowed) != 0 {
                return None;
            }
            let mut elsewhere = allowed;
            libc::CPU_CLR(here as usize, &mut elsewhere);
            (libc::CPU_COUNT(&elsewhere) > 0).then_some(Placement { allowed, elsewhere })
        }
    }

    /// Moves `thread`, started a moment ago, to the other CPUs (where it is queued now, if it did
    /// not run yet). Advice only: a refusal leaves it where the kernel put it.
    fn place<T>(&self, thread: &std::thread::JoinHandle<T>) {
        set_affinity(thread, &self.elsewhere);
    }

    /// Lets `thread` run on every CPU the process may use again.
    fn allow_all<T>(&self, thread: &std::thread::JoinHandle<T>) {
        set_affinity(thread, &self.allowed);
    }

    /// Lets the calling thread run on every CPU the process may use again.
    fn allow_all_here(&self) {
        // SAFETY: a valid CPU set of the size told.
        unsafe {
            libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &self.allowed);
        }
    }
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn set_affinity<T>(thread: &std::thread::JoinHandle<T>, cpus: &libc::cpu_set_t) {
    use std::os::unix::thread::JoinHandleExt;
    // SAFETY: the thread is not joined (the handle is borrowed), so its id is valid, and the set
    // is of the size told.
    unsafe {
        libc::pthread_setaffinity_np(thread.as_pthread_t(), std::mem::size_of::<libc::cpu_set_t>(), cpus);
    }
}

/// Elsewhere the kernel places threads as it will.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
struct Placement;

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
impl Placement {
    fn away_from_here() -> Option<Placement> {
        None
    }
    fn place<T>(&self, _: &std::thread::JoinHandle<T>) {}
    fn allow_all<T>(&self, _: &std::thread::JoinHandle<T>) {}
    fn allow_all_here(&self) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn join_elsewhere_runs_both_and_waits_for_both() {
        let (mut a, mut b) = (0, 0);
        let started = std::time::Instant::now();
        join_elsewhere(
            &mut || {
                std::thread::sleep(std::time::Duration::from_millis(20));
                a = 1;
            },
            &mut || b = 2,
        );
        assert_eq!((a, b), (1, 2));
        assert!(started.elapsed() >= std::time::Duration::from_millis(20));
    }

    /// `here`'s panic reaches the caller only after `there` ran to its end (it borrows the
    /// caller's data).
    #[test]
    fn a_panic_here_is_resumed_after_there_ended() {
        let ended = std::sync::atomic::AtomicBool::new(false);
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            join_elsewhere(
                &mut || {
                    std::thread::sleep(std::time::Duration::from_millis(20));
                    ended.store(true, std::sync::atomic::Ordering::SeqCst);
                },
                &mut || panic!("here"),
            )
        }));
        assert!(outcome.is_err());
        assert!(ended.load(std::sync::atomic::Ordering::SeqCst));
    }

    #[test]
    fn a_panic_there_is_resumed() {
        let outcome = std::panic::catch_unwind(|| join_elsewhere(&mut || panic!("there"), &mut || ()));
        assert_eq!(outcome.unwrap_err().downcast_ref::<&str>(), Some(&"there"));
    }

    /// Placed while it starts, the thread may run on every CPU of the process afterwards, whether
    /// it started before or after it was placed.
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[test]
    fn a_placed_thread_is_allowed_every_cpu_once_running() {
        fn allowed() -> Vec<usize> {
            // SAFETY: a zeroed set of the size told.
            let set = unsafe {
                let mut set: libc::cpu_set_t = std::mem::zeroed();
                assert_eq!(libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set), 0);
                set
            };
            (0..libc::CPU_SETSIZE as usize)
                .filter(|&cpu| unsafe { libc::CPU_ISSET(cpu, &set) })
                .collect()
        }
        let process = allowed();
        for wait in [0, 20] {
            let thread = spawn_elsewhere(move || {
                std::thread::sleep(std::time::Duration::from_millis(wait));
                // The other side may restore the set just after the thread began.
                std::thread::sleep(std::time::Duration::from_millis(20));
                allowed()
            })
            .unwrap();
            assert_eq!(thread.join().unwrap(), process);
        }
    }
}
