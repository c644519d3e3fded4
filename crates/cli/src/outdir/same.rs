//! Whether an output directory already holds exactly the artifacts a run would write, so the run
//! leaves it alone (a pipeline compiles into a committed folder, and most runs change nothing):
//! every artifact a regular file of the same bytes, nothing else in the folder.
//!
//! Looked at without the writers' lock (taking it creates and deletes a file beside the target):
//! writers never change a published directory in place, they swap a complete new one in. The
//! directory is held open while its files are read by path and must still be the one the path
//! names at the end, so every read came from that one complete set; holding it open keeps its
//! inode number from going to a later set. Reading costs open, statx, read and close per file,
//! against a write's create, write and close plus the unlink of the previous file.

use rules_compiler::render::Artifact;
use std::cell::RefCell;
use std::fs;
use std::io::Read;
use std::path::Path;

/// Files are compared a chunk at a time, so memory stays flat whatever their size.
const CHUNK: usize = 64 * 1024;

thread_local! {
    /// One read buffer per thread, reused across files and environments.
    static BUFFER: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Whether `dir` holds exactly `artifacts` (see the module documentation).
pub fn holds_exactly(dir: &Path, artifacts: &[Artifact]) -> bool {
    let Ok(held) = fs::File::open(dir) else {
        return false;
    };
    let Ok(before) = held.metadata() else {
        return false;
    };
    // The listing first: an extra or missing file decides without reading any.
    before.is_dir()
        && artifact_files(dir, "", artifacts) == Some(artifacts.len())
        && artifacts.iter().all(|a| same_bytes(&dir.join(a.file_name), a.contents.as_bytes()))
        && fs::metadata(dir).is_ok_and(|now| same_inode(&before, &now))
}

/// How many artifacts `dir` (at `prefix` inside the output directory) holds as regular files, or
/// `None` when it holds anything else: another file, a symbolic link, a folder no artifact is in.
fn artifact_files(dir: &Path, prefix: &str, artifacts: &[Artifact]) -> Option<usize> {
    let mut count = 0;
    for entry in fs::read_dir(dir).ok()? {
        let entry = entry.ok()?;
        let name = entry.file_name();
        let name = name.to_str()?;
        let kind = entry.file_type().ok()?;
        let below = |a: &Artifact| a.file_name.strip_prefix(prefix).and_then(|rest| rest.strip_prefix(name));
        if kind.is_file() && artifacts.iter().any(|a| below(a) == Some("")) {
            count += 1;
        } else if kind.is_dir() && artifacts.iter().any(|a| below(a).is_some_and(|rest| rest.starts_with('/'))) {
            count += artifact_files(&dir.join(name), &format!("{prefix}{name}/"), artifacts)?;
        } else {
            return None;
        }
    }
    Some(count)
}

/// Whether the file at `path` holds exactly `want`.
fn same_bytes(path: &Path, want: &[u8]) -> bool {
    let Ok(mut file) = fs::File::open(path) else {
        return false;
    };
    if !file.metadata().is_ok_and(|m| m.len() == want.len() as u64) {
        return false;
    }
    BUFFER.with_borrow_mut(|buf| {
        buf.resize(CHUNK, 0);
        let mut rest = want;
        while !rest.is_empty() {
            let n = rest.len().min(CHUNK);
            if file.read_exact(&mut buf[..n]).is_err() || buf[..n] != rest[..n] {
                return false;
            }
            rest = &rest[n..];
        }
        true
    })
}

#[cfg(unix)]
fn same_inode(a: &fs::Metadata, b: &fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    a.dev() == b.dev() && a.ino() == b.ino()
}

/// Without inode numbers the directory's identity cannot be checked: always rewrite.
#[cfg(not(unix))]
fn same_inode(_: &fs::Metadata, _: &fs::Metadata) -> bool {
    false
}
