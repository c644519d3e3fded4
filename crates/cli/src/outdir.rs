//! Atomic output. Artifacts are written into a temporary directory beside the target, then swapped
//! with it in one step, so a reader (or a run killed at any moment) sees either the previous
//! complete set or the new complete set, never a mix and never no directory:
//!
//! - Linux: `renameat2(RENAME_EXCHANGE)` swaps the two directories atomically; the temporary name
//!   then holds the previous artifacts, which are removed. A filesystem without exchange support
//!   falls back to the two renames below.
//! - Other platforms: two renames (`out` -> `.out.isenet-old`, temporary -> `out`); a kill
//!   between them leaves the artifacts in the `old` directory, which the next run restores.
//!
//! Writers to one target are serialised by an advisory lock on `.NAME.isenet-lock` beside it,
//! deleted again when the run ends (Unix). Only the lock holder uses the temporary and old names,
//! so they need no process id: holding the lock, a run finds the leftovers of a killed run at
//! those two fixed names, without listing the parent (a fleet of N writes N targets into one
//! parent: a listing per target made the fleet quadratic).
//! The target must hold only isenet artifacts: a run never deletes a file it did not write.
//!
//! A target that already holds exactly the artifacts, byte for byte, is left alone (`same`): no
//! lock, no file created or removed, every inode and mtime kept.

mod same;

use ise_model::codes::E_OUT_DIR;
use ise_model::diag::Diagnostic;
use rules_compiler::render::Artifact;
use rules_compiler::render::ARTIFACT_NAMES as KNOWN_ARTIFACTS;
use std::fs;
use std::path::{Path, PathBuf};

fn error(dir: &Path, message: String, help: &str) -> Diagnostic {
    Diagnostic::error(E_OUT_DIR, "", message)
        .with_help(help)
        .in_file(&dir.display().to_string())
}

/// Test hook: `ISENET_TEST_FAILPOINT=<step>` kills the process at that step (SIGKILL on Unix: no
/// destructor, no core file). Steps: `locked`, `writing` (after the first file), `written`,
/// `swapped`.
fn failpoint(step: &str) {
    if std::env::var_os("ISENET_TEST_FAILPOINT").is_some_and(|v| v == step) {
        #[cfg(target_os = "linux")]
        // SAFETY: sends a signal to this process; no memory is touched.
        unsafe {
            libc::kill(libc::getpid(), libc::SIGKILL);
        }
        std::process::abort();
    }
}

fn target_name(dir: &Path) -> String {
    dir.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "out".into())
}

/// `.NAME.isenet-KIND` beside the target: used only under the target's lock.
fn sibling(dir: &Path, kind: &str) -> PathBuf {
    dir.with_file_name(format!(".{}.isenet-{kind}", target_name(dir)))
}

fn check_named(dir: &Path) -> Result<(), Diagnostic> {
    // `.`, `..` or `/` have no name of their own: the temporary directory could not sit beside them.
    if dir.file_name().is_none() {
        return Err(error(
            dir,
            "the output directory must be a named directory, not `.`, `..` or a root".into(),
            "point --out-dir at a directory of its own, e.g. out/",
        ));
    }
    Ok(())
}

fn not_a_directory(dir: &Path) -> Diagnostic {
    error(
        dir,
        "the output path exists and is not a directory".into(),
        "choose another --out-dir",
    )
}

/// Refuses a target that holds anything but isenet artifacts; `Ok(false)` when there is none yet.
fn check_target(dir: &Path) -> Result<bool, Diagnostic> {
    let Ok(meta) = fs::symlink_metadata(dir) else {
        return Ok(false);
    };
    // The swap replaces the link itself: its target would keep the previous artifacts.
    if meta.file_type().is_symlink() {
        return Err(error(
            dir,
            "the output directory is a symbolic link".into(),
            "isenet replaces the directory in one step, which would replace the link: point --out-dir at the directory it names",
        ));
    }
    if !meta.is_dir() {
        return Err(not_a_directory(dir));
    }
    let mut foreign =
        foreign_files(dir, "").map_err(|e| error(dir, format!("cannot read the output directory: {e}"), "check its permissions"))?;
    foreign.sort();
    if foreign.is_empty() {
        Ok(true)
    } else {
        Err(error(
            dir,
            format!("the output directory holds files isenet did not write: {}", foreign.join(", ")),
            "isenet replaces the whole directory: point --out-dir at a directory of its own",
        ))
    }
}

/// Entries of `dir` (at `prefix` inside the output directory) that are no artifact, nor a
/// subdirectory holding artifacts (`modules/`) with only artifacts in it. Under an artifact's
/// name, a file or a link is replaced (a link's target is not touched) and so is an empty folder,
/// but a folder with anything in it is foreign: the swap would delete what it holds.
fn foreign_files(dir: &Path, prefix: &str) -> std::io::Result<Vec<String>> {
    let mut foreign = Vec::new();
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let name = format!("{prefix}{}", entry.file_name().to_string_lossy());
        let sub = format!("{name}/");
        let kind = entry.file_type()?;
        if kind.is_dir() && KNOWN_ARTIFACTS.iter().any(|a| a.starts_with(&sub)) {
            foreign.extend(foreign_files(&entry.path(), &sub)?);
        } else if !KNOWN_ARTIFACTS.contains(&name.as_str()) || kind.is_dir() && fs::read_dir(entry.path())?.next().is_some() {
            foreign.push(name);
        }
    }
    Ok(foreign)
}

/// Refuses, before anything is written, a target a run could not replace (unnamed, a link, not a
/// directory, holding files isenet did not write): a fleet checks every target first, so that
/// bad input writes nothing. The run checks again under the target's lock.
pub fn precheck(dir: &Path) -> Result<(), Diagnostic> {
    check_named(dir)?;
    check_target(dir).map(|_| ())
}

/// The advisory lock serialising writers to one target, on `.NAME.isenet-lock` beside it. On Unix
/// the holder deletes the file before releasing it, so a run leaves nothing beside the output; a
/// waiter that then wins the lock of the deleted file sees that the path no longer names its file
/// and starts over (the usual lock-file protocol). Elsewhere the file stays.
struct Lock {
    file: fs::File,
    path: PathBuf,
}

impl Lock {
    fn acquire(dir: &Path) -> Result<Lock, Diagnostic> {
        let path = sibling(dir, "lock");
        loop {
            let file = fs::OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(&path)
                .map_err(|e| {
                    error(
                        dir,
                        format!("cannot open the lock file {}: {e}", path.display()),
                        "check the permissions of the output's parent directory",
                    )
                })?;
            file.lock().map_err(|e| {
                error(
                    dir,
                    format!("cannot lock {}: {e}", path.display()),
                    "another process holds it; retry",
                )
            })?;
            if still_named(&file, &path) {
                return Ok(Lock { file, path });
            }
        }
    }
}

/// Whether `path` still names the locked `file` (a previous holder may have deleted it).
#[cfg(unix)]
fn still_named(file: &fs::File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), fs::metadata(path)) {
        (Ok(held), Ok(named)) => held.dev() == named.dev() && held.ino() == named.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn still_named(_: &fs::File, _: &Path) -> bool {
    true
}

impl Drop for Lock {
    fn drop(&mut self) {
        // Deleted while still held, so no other run can be holding this file's lock.
        #[cfg(unix)]
        let _ = fs::remove_file(&self.path);
        let _ = self.file.unlock();
    }
}

/// Removes the temporary and old directories a killed run left beside the target. Called with the
/// lock held, so neither belongs to a live writer. When the target itself is missing, the `old`
/// directory is a previous complete set cut off between two renames: it is restored.
fn clean_stale(dir: &Path) {
    let (tmp, old) = (sibling(dir, "tmp"), sibling(dir, "old"));
    if fs::symlink_metadata(&old).is_ok() {
        if fs::symlink_metadata(dir).is_err() {
            let _ = fs::rename(&old, dir);
        }
        let _ = fs::remove_dir_all(&old);
    }
    let _ = fs::remove_dir_all(&tmp);
}

/// How `dir` differs from holding exactly `artifacts` (`compile --check`): sorted
/// `(stale|missing|extra|foreign, file)` pairs, empty when up to date. A missing directory is all
/// missing.
pub fn compare(dir: &Path, artifacts: &[Artifact]) -> Result<Vec<(&'static str, String)>, Diagnostic> {
    // No compile could write there: bad input, as for the compile (a link to a directory is
    // compared through, as a compile leaves one that is up to date).
    if dir.exists() && !dir.is_dir() {
        return Err(not_a_directory(dir));
    }
    let mut out = Vec::new();
    for a in artifacts {
        let path = dir.join(a.file_name);
        // Under an artifact's name, anything but a regular file (listed as foreign below) is no
        // artifact: the artifact is missing.
        if !fs::symlink_metadata(&path).is_ok_and(|m| m.is_file()) {
            out.push(("missing", a.file_name.to_string()));
            continue;
        }
        match fs::read(&path) {
            Ok(bytes) if bytes == a.contents.as_bytes() => {}
            Ok(_) => out.push(("stale", a.file_name.to_string())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => out.push(("missing", a.file_name.to_string())),
            Err(e) => return Err(error(dir, format!("cannot read {}: {e}", a.file_name), "check its permissions")),
        }
    }
    // Artifacts this run would not write, which a compile would remove.
    for name in KNOWN_ARTIFACTS {
        if !artifacts.iter().any(|a| a.file_name == *name) && dir.join(name).is_file() {
            out.push(("extra", name.to_string()));
        }
    }
    // Files isenet did not write, for which a compile would refuse the directory.
    if fs::symlink_metadata(dir).is_ok_and(|m| m.is_dir()) {
        let foreign =
            foreign_files(dir, "").map_err(|e| error(dir, format!("cannot read the output directory: {e}"), "check its permissions"))?;
        out.extend(foreign.into_iter().map(|f| ("foreign", f)));
    }
    out.sort_by(|a, b| a.1.cmp(&b.1));
    Ok(out)
}

/// The folders directly in `parent` that hold a `plan.json` (a compile's output) and are not
/// named in `names`: a fleet's output left from environments that this run does not compile
/// (removed or renamed). Sorted; a missing or unreadable `parent` has none. Hidden names are a
/// run's temporary and old folders.
pub fn unclaimed_outputs(parent: &Path, names: &std::collections::HashSet<&str>) -> Vec<String> {
    let Ok(entries) = fs::read_dir(parent) else {
        return Vec::new();
    };
    let mut out: Vec<String> = entries
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| !n.starts_with('.') && !names.contains(n.as_str()))
        .filter(|n| fs::symlink_metadata(parent.join(n).join("plan.json")).is_ok_and(|m| m.is_file()))
        .collect();
    out.sort();
    out
}

/// The artifacts of a single compile lying at the top of a fleet's `parent` (`nsg.json`,
/// `modules/`, ...), where a fleet writes only `<name>/` folders: left from compiling one
/// environment into the same directory.
pub fn loose_artifacts(parent: &Path) -> Vec<String> {
    let tops: std::collections::BTreeSet<&str> = rules_compiler::render::BACKENDS
        .iter()
        .flat_map(|b| b.files.iter().map(|f| f.split('/').next().unwrap_or(f)))
        .collect();
    let Ok(entries) = fs::read_dir(parent) else {
        return Vec::new();
    };
    let mut out: Vec<String> = entries
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| tops.contains(n.as_str()))
        .collect();
    out.sort();
    out
}

/// What a run did to its output directory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Written {
    /// The artifacts were written and swapped in.
    Replaced,
    /// The directory held exactly the artifacts already: nothing was touched.
    UpToDate,
}

/// Replaces `dir` by exactly `artifacts`, atomically (see the module documentation), creating
/// its parent first; leaves it alone when it holds them already.
pub fn write(dir: &Path, artifacts: &[Artifact]) -> Result<Written, Diagnostic> {
    check_named(dir)?;
    if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
        create_all(parent)?;
    }
    replace(dir, artifacts)
}

/// Creates `dir` and its missing ancestors (a fleet does this once for the parent of all its
/// targets).
pub fn create_all(dir: &Path) -> Result<(), Diagnostic> {
    fs::create_dir_all(dir).map_err(|e| {
        error(
            dir,
            format!("cannot create {}: {e}", dir.display()),
            "check the path and its permissions",
        )
    })
}

/// [`write`] into an existing parent.
pub fn replace(dir: &Path, artifacts: &[Artifact]) -> Result<Written, Diagnostic> {
    check_named(dir)?;
    // A killed run's debris is removed under the lock: its presence sends the run there (a lock
    // file left by a killed run too, which the lock's holder deletes).
    let debris = [sibling(dir, "tmp"), sibling(dir, "old"), sibling(dir, "lock")]
        .iter()
        .any(|p| fs::symlink_metadata(p).is_ok());
    if !debris && same::holds_exactly(dir, artifacts) {
        return Ok(Written::UpToDate);
    }
    let _lock = Lock::acquire(dir)?;
    clean_stale(dir);
    let exists = check_target(dir)?;
    if debris && exists && same::holds_exactly(dir, artifacts) {
        return Ok(Written::UpToDate);
    }
    failpoint("locked");
    let tmp = sibling(dir, "tmp");
    let result = write_into(&tmp, dir, artifacts).and_then(|()| {
        failpoint("written");
        swap(&tmp, dir, exists)
    });
    failpoint("swapped");
    // After an exchange the temporary name holds the previous artifacts; after a failure, the
    // partial new ones; after a plain rename, nothing.
    if exists || result.is_err() {
        let _ = fs::remove_dir_all(&tmp);
    }
    result.map(|()| Written::Replaced)
}

/// Writes `artifacts` into `tmp`, the temporary sibling of `dir`. A failure names `dir`, the
/// directory the user gave: `tmp` is removed when the run ends, and `dir` is left as it was.
fn write_into(tmp: &Path, dir: &Path, artifacts: &[Artifact]) -> Result<(), Diagnostic> {
    let temporary = tmp
        .file_name()
        .map_or_else(|| tmp.display().to_string(), |n| n.to_string_lossy().into_owned());
    fs::create_dir(tmp).map_err(|e| {
        error(
            dir,
            format!("cannot create the temporary directory {temporary} beside it: {e}; nothing was changed"),
            "check the permissions of the output's parent directory",
        )
    })?;
    // Each subdirectory (`modules/`) is created once, not once per file.
    let mut made: Vec<&Path> = Vec::new();
    for (i, a) in artifacts.iter().enumerate() {
        let path = tmp.join(a.file_name);
        let folder = Path::new(a.file_name).parent().filter(|p| !p.as_os_str().is_empty());
        let written = match folder {
            Some(f) if !made.contains(&f) => {
                made.push(f);
                fs::create_dir_all(tmp.join(f))
            }
            _ => Ok(()),
        }
        .and_then(|()| fs::write(&path, &a.contents));
        written.map_err(|e| {
            error(
                dir,
                format!(
                    "cannot write {} (into the temporary directory {temporary} beside it, then removed): {e}; nothing was changed",
                    a.file_name
                ),
                "check free space and permissions",
            )
        })?;
        if i == 0 {
            failpoint("writing");
        }
    }
    Ok(())
}

fn swap(tmp: &Path, dir: &Path, exists: bool) -> Result<(), Diagnostic> {
    if !exists {
        return fs::rename(tmp, dir).map_err(|e| {
            error(
                dir,
                format!("cannot move the artifacts into place: {e}"),
                "check the permissions of the output's parent directory",
            )
        });
    }
    if exchange(tmp, dir).is_ok() {
        return Ok(());
    }
    two_renames(tmp, dir)
}

/// Swaps two paths in one step (Linux 3.15+; a raw syscall, so no newer glibc is needed).
#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> std::io::Result<()> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let a = CString::new(a.as_os_str().as_bytes())?;
    let b = CString::new(b.as_os_str().as_bytes())?;
    // SAFETY: both paths are valid NUL-terminated strings that outlive the call.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_renameat2,
            libc::AT_FDCWD,
            a.as_ptr(),
            libc::AT_FDCWD,
            b.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

#[cfg(not(target_os = "linux"))]
fn exchange(_: &Path, _: &Path) -> std::io::Result<()> {
    Err(std::io::ErrorKind::Unsupported.into())
}

/// The portable fallback: not atomic, but a kill between the renames leaves the previous set in
/// the `old` directory, which the next run restores (`clean_stale`).
fn two_renames(tmp: &Path, dir: &Path) -> Result<(), Diagnostic> {
    let old = sibling(dir, "old");
    fs::rename(dir, &old).map_err(|e| {
        error(
            dir,
            format!("cannot replace the previous artifacts: {e}"),
            "check the permissions of the output directory",
        )
    })?;
    if let Err(e) = fs::rename(tmp, dir) {
        let _ = fs::rename(&old, dir);
        return Err(error(
            dir,
            format!("cannot move the artifacts into place: {e}"),
            "the previous artifacts were kept",
        ));
    }
    let _ = fs::remove_dir_all(&old);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn artifacts_in_subdirectories_are_written_and_their_folder_is_allowed() {
        let root = std::env::temp_dir().join(format!("isenet-outdir-unit-{}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
        let out = root.join("out");
        let artifacts = [
            Artifact {
                file_name: "nsg.json",
                contents: "{}".into(),
            },
            Artifact {
                file_name: "modules/nsg.bicep",
                contents: "param x string".into(),
            },
        ];
        write(&out, &artifacts).unwrap();
        assert_eq!(fs::read_to_string(out.join("modules/nsg.bicep")).unwrap(), "param x string");
        let _ = fs::remove_dir_all(&root);
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn a_killed_runs_debris_at_the_fixed_names_is_removed_and_its_old_set_restored_first() {
        let root = std::env::temp_dir().join(format!("isenet-outdir-debris-{}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
        let out = root.join("out");
        // Killed between the two renames: the target is gone, the previous set is in `old`, and a
        // half-written temporary directory remains; another target's debris is not ours to touch.
        for (dir, file) in [
            (".out.isenet-old", "nsg.json"),
            (".out.isenet-tmp", "plan.json"),
            (".other.isenet-tmp", "x"),
        ] {
            fs::create_dir_all(root.join(dir)).unwrap();
            fs::write(root.join(dir).join(file), "previous").unwrap();
        }
        // A foreign file refuses the restored set: proof that `old` was restored before the check.
        fs::write(root.join(".out.isenet-old/notes.txt"), "mine").unwrap();
        let nsg = Artifact {
            file_name: "nsg.json",
            contents: "{}".into(),
        };
        let err = write(&out, std::slice::from_ref(&nsg)).unwrap_err();
        assert!(err.message.contains("notes.txt"), "{}", err.message);
        assert_eq!(names(&root), [".other.isenet-tmp", "out"]);
        assert_eq!(names(&out), ["notes.txt", "nsg.json"], "the previous set, restored whole");
        fs::remove_file(out.join("notes.txt")).unwrap();
        write(&out, &[nsg]).unwrap();
        assert_eq!(names(&out), ["nsg.json"]);
        assert_eq!(fs::read_to_string(out.join("nsg.json")).unwrap(), "{}");
        assert_eq!(names(&root), [".other.isenet-tmp", "out"], "nothing of ours beside the output");
        let _ = fs::remove_dir_all(&root);
    }

    /// A file that cannot be written (here a folder's name taken by a file; on a full disk, the
    /// same path) is reported against the output directory, which is left as it was: the
    /// temporary directory the message mentions is gone when the run ends.
    #[test]
    fn a_failed_write_names_the_output_directory_and_changes_nothing() {
        let root = std::env::temp_dir().join(format!("isenet-outdir-failed-write-{}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
        let out = root.join("out");
        let previous = Artifact {
            file_name: "nsg.json",
            contents: "previous".into(),
        };
        write(&out, std::slice::from_ref(&previous)).unwrap();
        let clashing = [
            Artifact {
                file_name: "modules",
                contents: "a file".into(),
            },
            Artifact {
                file_name: "modules/nsg.bicep",
                contents: "param x string".into(),
            },
        ];
        let err = write(&out, &clashing).unwrap_err();
        assert_eq!(err.code, E_OUT_DIR);
        assert_eq!(err.file, out.display().to_string(), "the directory the user named");
        assert!(
            err.message
                .starts_with("cannot write modules/nsg.bicep (into the temporary directory .out.isenet-tmp beside it")
                && err.message.ends_with("nothing was changed"),
            "{}",
            err.message
        );
        assert_eq!(names(&root), ["out"], "no temporary directory left");
        assert_eq!(names(&out), ["nsg.json"]);
        assert_eq!(fs::read_to_string(out.join("nsg.json")).unwrap(), "previous");
        let _ = fs::remove_dir_all(&root);
    }

    #[test]
    fn foreign_files_refuse_the_target_and_stay() {
        let root = std::env::temp_dir().join(format!("isenet-outdir-foreign-{}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
        let out = root.join("out");
        fs::create_dir_all(&out).unwrap();
        fs::write(out.join("notes.txt"), "mine").unwrap();
        let err = write(
            &out,
            &[Artifact {
                file_name: "nsg.json",
                contents: "{}".into(),
            }],
        )
        .unwrap_err();
        assert_eq!(err.code, E_OUT_DIR);
        assert!(err.message.contains("notes.txt"));
        assert_eq!(fs::read_to_string(out.join("notes.txt")).unwrap(), "mine");
        let _ = fs::remove_dir_all(&root);
    }
}
