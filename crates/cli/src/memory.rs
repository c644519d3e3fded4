//! How the process takes its memory from the kernel: glibc's allocator settings, made once after
//! the command line is read and before any thread starts; the heap of the proofs' thread advised
//! as that thread starts (`advise_thread_heap`, through `rules_compiler::threads`); and the
//! embedded tag index mapped in at once. Measured in BENCHMARKS.md (sessions 8 and 10); on other
//! platforms nothing here applies.
//!
//! On a virtual machine each page fault is a trip to the hypervisor (about 5 µs here), and a
//! compile that touched 8 MB in 4 KiB pages spent a third of its CPU time faulting them in.

/// Tunes the allocator: `fleet` when the command may run several environments at once (its main
/// heap then keeps small pages).
#[cfg_attr(not(all(target_os = "linux", target_env = "gnu")), allow(unused_variables))]
pub fn tune_allocator(fleet: bool) {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt sets allocator parameters, and the rest allocates one block it keeps and
    // advises the kernel about the heap; called before any other thread exists.
    unsafe {
        // A heap's freed memory at its top is given back to the kernel only past 128 MiB, and
        // blocks under 32 MiB come from the heap instead of an mmap each, unmapped when freed: a
        // fleet, which allocates and frees the same sizes per environment, would otherwise fault
        // the same pages in again for every environment.
        libc::mallopt(libc::M_TRIM_THRESHOLD, 128 << 20);
        libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
        // Heaps grow by 64 MiB of address space at a time (memory only once touched), so they are
        // not extended dozens of times, each extension stalling the other thread's page faults.
        libc::mallopt(libc::M_TOP_PAD, 64 << 20);
        // Every thread keeps a heap of its own (glibc's default): one heap shared by a
        // compile's threads made them queue for its lock, and the proofs' thread started about
        // 1 ms late (example compile 5.9 -> 3.9 ms without it; a fleet sharing one took 1.7
        // times as long). A single environment's main heap is advised below; a fleet's main
        // thread, which only reads the environments, keeps small pages: huge ones added 3-5 MB
        // to the peak memory of a fleet of 10,000 and no speed.
        if !fleet {
            advise_huge_pages();
        }
    }
}

/// Grows the main heap once by its 64 MiB pad and asks the kernel to back it with 2 MiB pages
/// where it can (transparent huge pages, `madvise` mode): one fault per 2 MiB touched instead of
/// 512. Without transparent huge pages the advice changes nothing.
///
/// The kernel gives a huge page only to a whole 2 MiB-aligned stretch of which no page was touched
/// yet, and the heap starts anywhere (address randomisation). So a block is allocated from the
/// heap's free top up to just below the next 2 MiB boundary and kept, never touched (no memory
/// behind it): it makes the heap grow now, the allocator's bookkeeping for the rest stays below
/// the boundary, and everything allocated later lies past it.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
unsafe fn advise_huge_pages() {
    const HUGE_PAGE: usize = 2 << 20;
    // A chunk's header before its data, and its size rounding.
    const HEADER: usize = 8;
    const ALIGN: usize = 16;
    let brk = libc::sbrk(0) as usize;
    // sbrk fails with -1.
    if brk == usize::MAX {
        return;
    }
    // The main heap's free top ends at the break.
    let Some(top) = brk.checked_sub(libc::mallinfo2().keepcost) else {
        return;
    };
    let mut boundary = brk.div_ceil(HUGE_PAGE) * HUGE_PAGE;
    if boundary - brk < 4096 {
        boundary += HUGE_PAGE;
    }
    // The kept chunk spans `top..boundary - ALIGN`; the new top's header then sits just below
    // the boundary.
    let kept = libc::malloc(boundary - ALIGN - top - HEADER);
    std::hint::black_box(kept);
    let grown = libc::sbrk(0) as usize;
    let new_top = grown.wrapping_sub(libc::mallinfo2().keepcost);
    if grown != usize::MAX && grown > boundary && new_top == boundary - ALIGN {
        libc::madvise(boundary as *mut libc::c_void, grown - boundary, libc::MADV_HUGEPAGE);
    }
}

/// Asks the kernel for transparent huge pages on the heap of the calling thread, when it is one
/// of glibc's thread heaps: a compile's second thread allocates megabytes (the review, and with
/// `--expand-tags` its texts of thousands of prefixes) that would otherwise fault in page by page.
pub fn advise_thread_heap() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: two allocations kept for the thread heap's life, and advice on the block of address
    // space that holds them; advice changes no memory contents.
    unsafe {
        // glibc's thread heaps are blocks of this size aligned to it (HEAP_MAX_SIZE on 64-bit),
        // read and write in one mapping from the start (the 64 MiB top pad), so the advice
        // covers the whole heap.
        const THREAD_HEAP: usize = 64 << 20;
        const HUGE_PAGE: usize = 2 << 20;
        // Larger than glibc's per-thread cache holds: a small block could be one another thread
        // allocated and this one freed (the thread's start does), from another heap.
        const PROBE: usize = 16 << 10;
        let probe = libc::malloc(PROBE) as usize;
        // The main heap lies below the program break; it has its own advice.
        if probe == 0 || probe < libc::sbrk(0) as usize {
            libc::free(probe as *mut libc::c_void);
            return;
        }
        let base = probe & !(THREAD_HEAP - 1);
        libc::madvise(base as *mut libc::c_void, THREAD_HEAP, libc::MADV_HUGEPAGE);
        // The heap's first 2 MiB holds its header, touched before the advice, so it keeps small
        // pages: the rest of it goes to a block never touched (no memory behind it), and what
        // the thread allocates next lies in stretches the kernel backs with huge pages.
        let used_to = probe + PROBE;
        let boundary = base + HUGE_PAGE;
        if boundary > used_to + 4096 {
            std::hint::black_box(libc::malloc(boundary - used_to - 64));
        }
    }
}
