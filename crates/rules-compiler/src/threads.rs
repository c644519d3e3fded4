//! What the threads this library starts run first: a hook the program sets once (the CLI advises
//! each such thread's heap about huge pages, a matter of the process, not of compiling), and
//! nothing by default.

use std::sync::OnceLock;

static ON_START: OnceLock<fn()> = OnceLock::new();

/// Sets the hook every later thread of the library runs first; the first call wins.
pub fn on_start(hook: fn()) {
    let _ = ON_START.set(hook);
}

/// Runs the hook, if set; called first on each thread the library starts.
pub(crate) fn started() {
    if let Some(hook) = ON_START.get() {
        hook();
    }
}
