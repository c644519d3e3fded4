//! The process's allocator: glibc's, and once `main` has read the command line (`enable`) small
//! blocks from one free list per size class and thread, carved from a region of address space
//! reserved for them; larger or over-aligned blocks always go to glibc's allocator.
//!
//! Why: a fleet makes about 10,000 allocations per environment, most of them small strings and
//! vectors, and glibc's malloc and free were a fifth of its instructions (about 270 per call, many
//! on its slow paths: `_int_free`, `malloc_consolidate`). A size class is known from the block's
//! `Layout` on every call, so a block needs no header and a call is a pointer pop or push (a fleet
//! of 60: -20 % instructions). mimalloc did the same job but took 41 s of C to build and raised
//! the peak memory past the goal's 64 MB (BENCHMARKS.md, sessions 4 and 11). Every command uses
//! it since session 19: a single compile's proofs now free and reallocate enough small blocks
//! that glibc's calls were a fifth of its instructions too (-18 %, about 55 more pages faulted in,
//! 5 % less CPU; BENCHMARKS.md, session 19).
//!
//! Whose a block is, is known from its address (inside the region or not), so the pool can be
//! enabled after the process started allocating. A block freed by another thread than the one
//! that allocated it joins the freeing thread's list: memory moves between threads but is never
//! lost while both run. A thread's lists are left behind when it ends; the fleet's workers live
//! as long as the fleet.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::ptr::null_mut;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

/// Size classes step by this much; it is also every block's alignment.
const GRAIN: usize = 16;
/// The largest block a class holds; larger ones go to glibc's allocator.
const LARGEST: usize = 1024;
const CLASSES: usize = LARGEST / GRAIN;
/// What a thread takes from the region when its chunk is used up.
const CHUNK: usize = 128 << 10;
/// Address space only (no memory until touched): a fleet of 10,000 peaks at about 50 MB in all.
/// Past it, small blocks come from glibc's allocator again.
#[cfg(target_os = "linux")]
const REGION: usize = 1 << 30;

/// The region (`BASE..END`, empty until `enable`) and its next free chunk.
static BASE: AtomicUsize = AtomicUsize::new(0);
static END: AtomicUsize = AtomicUsize::new(0);
static NEXT: AtomicUsize = AtomicUsize::new(0);

pub struct Pool;

/// Serves small blocks from the pool from now on, for every thread; called before the fleet's
/// threads start, once (later calls change nothing). Without an anonymous mapping (not Linux, or
/// refused) everything stays glibc's.
pub fn enable() {
    #[cfg(target_os = "linux")]
    // SAFETY: a fresh private anonymous mapping, which nothing else knows of.
    unsafe {
        if BASE.load(Relaxed) != 0 {
            return;
        }
        let prot = libc::PROT_READ | libc::PROT_WRITE;
        let flags = libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE;
        let base = libc::mmap(null_mut(), REGION, prot, flags, -1, 0);
        if base == libc::MAP_FAILED {
            return;
        }
        let base = base as usize;
        if BASE.compare_exchange(0, base, Relaxed, Relaxed).is_err() {
            libc::munmap(base as *mut libc::c_void, REGION);
            return;
        }
        NEXT.store(base, Relaxed);
        END.store(base + REGION, Relaxed);
    }
}

/// Whether `block` lies in the region (then it is a pool block of its layout's class).
#[inline]
fn owned(block: *mut u8) -> bool {
    let base = BASE.load(Relaxed);
    (block as usize).wrapping_sub(base) < END.load(Relaxed).wrapping_sub(base)
}

/// The class of a block the pool serves once enabled, or `None` for glibc's allocator.
#[inline]
fn class_of(size: usize, align: usize) -> Option<usize> {
    (size <= LARGEST && align <= GRAIN && BASE.load(Relaxed) != 0).then(|| size.saturating_sub(1) / GRAIN)
}

/// One thread's free lists (each freed block holds the next one's address) and what is left of
/// its current chunk.
struct Local {
    free: [Cell<*mut u8>; CLASSES],
    next: Cell<*mut u8>,
    end: Cell<*mut u8>,
}

thread_local! {
    // A constant without drop glue: a plain thread-local slot, which neither allocates nor
    // registers a destructor (either would re-enter the allocator).
    static LOCAL: Local = const {
        Local { free: [const { Cell::new(null_mut()) }; CLASSES], next: Cell::new(null_mut()), end: Cell::new(null_mut()) }
    };
}

impl Local {
    /// A block of `class`: the last one freed, else the next from the chunk.
    ///
    /// # Safety
    /// `class < CLASSES`; every block on the list was freed with this class.
    unsafe fn take(&self, class: usize) -> *mut u8 {
        let slot = self.free.get_unchecked(class);
        let head = slot.get();
        if !head.is_null() {
            slot.set(*head.cast::<*mut u8>());
            return head;
        }
        let size = (class + 1) * GRAIN;
        let next = self.next.get();
        if self.end.get() as usize - next as usize >= size {
            self.next.set(next.add(size));
            return next;
        }
        self.refill(size)
    }

    #[cold]
    unsafe fn refill(&self, size: usize) -> *mut u8 {
        let chunk = NEXT.fetch_add(CHUNK, Relaxed);
        if chunk.saturating_add(CHUNK) > END.load(Relaxed) {
            // The region is used up: glibc's block, freed as such (not `owned`).
            return System.alloc(Layout::from_size_align_unchecked(size, GRAIN));
        }
        // What was left of the previous chunk (under one block) is not worth a list.
        let chunk = chunk as *mut u8;
        self.next.set(chunk.add(size));
        self.end.set(chunk.add(CHUNK));
        chunk
    }

    /// # Safety
    /// `block` came from `take(class)` on any thread and is no longer used.
    unsafe fn give(&self, block: *mut u8, class: usize) {
        let slot = self.free.get_unchecked(class);
        *block.cast::<*mut u8>() = slot.get();
        slot.set(block);
    }
}

// SAFETY: a class's blocks are GRAIN-aligned and at least as large as any layout of that class;
// a block is on one list at a time, and only its thread touches a list. A block is the pool's
// exactly when it lies in the region, which only the pool hands out; everything else is glibc's,
// freed and reallocated there.
unsafe impl GlobalAlloc for Pool {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        match class_of(layout.size(), layout.align()) {
            Some(class) => LOCAL.with(|l| l.take(class)),
            None => System.alloc(layout),
        }
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        match class_of(layout.size(), layout.align()) {
            Some(class) => {
                let block = LOCAL.with(|l| l.take(class));
                if !block.is_null() {
                    block.write_bytes(0, layout.size());
                }
                block
            }
            // calloc knows when fresh pages are zero already.
            None => System.alloc_zeroed(layout),
        }
    }

    #[inline]
    unsafe fn dealloc(&self, block: *mut u8, layout: Layout) {
        if owned(block) {
            LOCAL.with(|l| l.give(block, layout.size().saturating_sub(1) / GRAIN));
        } else {
            System.dealloc(block, layout);
        }
    }

    #[inline]
    unsafe fn realloc(&self, block: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if !owned(block) {
            return System.realloc(block, layout, new_size);
        }
        if class_of(new_size, layout.align()) == class_of(layout.size(), layout.align()) {
            return block;
        }
        let moved = self.alloc(Layout::from_size_align_unchecked(new_size, layout.align()));
        if !moved.is_null() {
            moved.copy_from_nonoverlapping(block, layout.size().min(new_size));
            self.dealloc(block, layout);
        }
        moved
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn classes_cover_sizes_up_to_the_largest_at_the_grain() {
        enable();
        assert_eq!(class_of(1, 1), Some(0));
        assert_eq!(class_of(16, 8), Some(0));
        assert_eq!(class_of(17, 8), Some(1));
        assert_eq!(class_of(LARGEST, 16), Some(CLASSES - 1));
        assert_eq!(class_of(LARGEST + 1, 1), None);
        // Over-aligned blocks are glibc's, whatever their size.
        assert_eq!(class_of(8, 32), None);
    }

    #[derive(Debug, Clone)]
    enum Step {
        Alloc(usize, bool),
        Free(usize),
        Realloc(usize, usize),
    }

    fn step() -> impl Strategy<Value = Step> {
        // Sizes on both sides of LARGEST, so reallocs cross between the pool and glibc.
        let size = prop_oneof![1usize..=64, 1usize..=LARGEST + 64, LARGEST - 32..=4 * LARGEST];
        prop_oneof![
            (size.clone(), any::<bool>()).prop_map(|(s, z)| Step::Alloc(s, z)),
            any::<usize>().prop_map(Step::Free),
            (any::<usize>(), size).prop_map(|(i, s)| Step::Realloc(i, s)),
        ]
    }

    /// Fills a block with a pattern of its own, so that two live blocks sharing memory, or a
    /// realloc that loses contents, shows.
    unsafe fn fill(block: *mut u8, size: usize, tag: u8) {
        for i in 0..size {
            *block.add(i) = tag.wrapping_add(i as u8);
        }
    }

    unsafe fn holds(block: *mut u8, size: usize, tag: u8) -> bool {
        (0..size).all(|i| *block.add(i) == tag.wrapping_add(i as u8))
    }

    proptest! {
        /// Any sequence of allocations, frees and reallocs keeps every live block's contents,
        /// alignment and size: no two live blocks overlap.
        #[test]
        fn live_blocks_keep_their_contents(steps in proptest::collection::vec(step(), 1..300)) {
            enable();
            let pool = Pool;
            let mut live: Vec<(*mut u8, Layout, u8)> = Vec::new();
            let mut tag = 0u8;
            unsafe {
                for s in steps {
                    match s {
                        Step::Alloc(size, zeroed) => {
                            let layout = Layout::from_size_align(size, 8).unwrap();
                            let block = if zeroed { pool.alloc_zeroed(layout) } else { pool.alloc(layout) };
                            prop_assert!(!block.is_null());
                            prop_assert_eq!(block as usize % 8, 0);
                            if zeroed {
                                prop_assert!((0..size).all(|i| *block.add(i) == 0));
                            }
                            tag = tag.wrapping_add(37);
                            fill(block, size, tag);
                            live.push((block, layout, tag));
                        }
                        Step::Free(i) if !live.is_empty() => {
                            let (block, layout, tag) = live.swap_remove(i % live.len());
                            prop_assert!(holds(block, layout.size(), tag));
                            pool.dealloc(block, layout);
                        }
                        Step::Realloc(i, size) if !live.is_empty() => {
                            let at = i % live.len();
                            let (block, layout, tag) = live[at];
                            let moved = pool.realloc(block, layout, size);
                            prop_assert!(!moved.is_null());
                            prop_assert!(holds(moved, layout.size().min(size), tag));
                            let layout = Layout::from_size_align(size, 8).unwrap();
                            fill(moved, size, tag);
                            live[at] = (moved, layout, tag);
                        }
                        _ => {}
                    }
                }
                for &(block, layout, tag) in &live {
                    prop_assert!(holds(block, layout.size(), tag));
                }
                for (block, layout, _) in live {
                    pool.dealloc(block, layout);
                }
            }
        }
    }

    #[test]
    fn a_block_freed_on_another_thread_is_reused_there() {
        enable();
        let pool = Pool;
        let layout = Layout::from_size_align(40, 8).unwrap();
        let block = unsafe { pool.alloc(layout) } as usize;
        let reused = std::thread::spawn(move || unsafe {
            Pool.dealloc(block as *mut u8, layout);
            Pool.alloc(layout) as usize
        })
        .join()
        .unwrap();
        assert_eq!(reused, block);
        unsafe { Pool.dealloc(reused as *mut u8, layout) };
    }

    /// Blocks glibc's allocator gave (before `enable`, or too large) are not the pool's, whatever
    /// their size: freeing or growing them goes back to glibc.
    #[test]
    fn ownership_follows_the_address() {
        enable();
        let layout = Layout::from_size_align(48, 8).unwrap();
        unsafe {
            let glibcs = System.alloc(layout);
            let pools = Pool.alloc(layout);
            assert!(!owned(glibcs) && owned(pools));
            glibcs.write_bytes(7, 48);
            let grown = Pool.realloc(glibcs, layout, 64);
            assert!(!owned(grown), "still glibc's");
            assert!((0..48).all(|i| *grown.add(i) == 7));
            Pool.dealloc(grown, Layout::from_size_align(64, 8).unwrap());
            let large = Layout::from_size_align(LARGEST + 1, 8).unwrap();
            let big = Pool.alloc(large);
            assert!(!owned(big));
            Pool.dealloc(big, large);
            Pool.dealloc(pools, layout);
        }
    }
}
