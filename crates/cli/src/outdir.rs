//! Atomic output: artifacts are written into a temporary directory beside the target and renamed
//! into place only when all succeeded, so a failed run leaves nothing behind and a rerun replaces
//! the previous artifacts as one step. The target directory must hold only isenet artifacts: a run
//! never deletes a file it did not write.

use ise_model::codes::E_OUT_DIR;
use ise_model::diag::Diagnostic;
use rules_compiler::render::Artifact;
use std::fs;
use std::path::{Path, PathBuf};

use rules_compiler::render::ARTIFACT_NAMES as KNOWN_ARTIFACTS;

fn error(dir: &Path, message: String, help: &str) -> Diagnostic {
    Diagnostic::error(E_OUT_DIR, "", message)
        .with_help(help)
        .in_file(&dir.display().to_string())
}

fn sibling(dir: &Path, tag: &str) -> PathBuf {
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "out".into());
    dir.with_file_name(format!(".{name}.isenet-{tag}-{}", std::process::id()))
}

/// Refuses a target that holds anything but isenet artifacts.
fn check_target(dir: &Path) -> Result<(), Diagnostic> {
    // `.`, `..` or `/` have no name of their own: the temporary directory could not sit beside them.
    if dir.file_name().is_none() {
        return Err(error(
            dir,
            "the output directory must be a named directory, not `.`, `..` or a root".into(),
            "point --out-dir at a directory of its own, e.g. out/",
        ));
    }
    if !dir.exists() {
        return Ok(());
    }
    if !dir.is_dir() {
        return Err(error(
            dir,
            "the output path exists and is not a directory".into(),
            "choose another --out-dir",
        ));
    }
    let mut foreign =
        foreign_files(dir, "").map_err(|e| error(dir, format!("cannot read the output directory: {e}"), "check its permissions"))?;
    foreign.sort();
    if foreign.is_empty() {
        Ok(())
    } else {
        Err(error(
            dir,
            format!("the output directory holds files isenet did not write: {}", foreign.join(", ")),
            "isenet replaces the whole directory: point --out-dir at a directory of its own",
        ))
    }
}

/// Entries of `dir` (at `prefix` inside the output directory) that are no artifact, nor a
/// subdirectory holding artifacts (`modules/`) with only artifacts in it.
fn foreign_files(dir: &Path, prefix: &str) -> std::io::Result<Vec<String>> {
    let mut foreign = Vec::new();
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let name = format!("{prefix}{}", entry.file_name().to_string_lossy());
        let sub = format!("{name}/");
        if entry.file_type()?.is_dir() && KNOWN_ARTIFACTS.iter().any(|a| a.starts_with(&sub)) {
            foreign.extend(foreign_files(&entry.path(), &sub)?);
        } else if !KNOWN_ARTIFACTS.contains(&name.as_str()) {
            foreign.push(name);
        }
    }
    Ok(foreign)
}

pub fn write(dir: &Path, artifacts: &[Artifact]) -> Result<(), Diagnostic> {
    check_target(dir)?;
    if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
        fs::create_dir_all(parent).map_err(|e| {
            error(
                dir,
                format!("cannot create {}: {e}", parent.display()),
                "check the path and its permissions",
            )
        })?;
    }
    let tmp = sibling(dir, "tmp");
    let result = write_into(&tmp, artifacts).and_then(|()| swap(&tmp, dir));
    if result.is_err() {
        let _ = fs::remove_dir_all(&tmp);
    }
    result
}

fn write_into(tmp: &Path, artifacts: &[Artifact]) -> Result<(), Diagnostic> {
    let _ = fs::remove_dir_all(tmp);
    fs::create_dir(tmp).map_err(|e| {
        error(
            tmp,
            format!("cannot create a temporary directory: {e}"),
            "check the permissions of the output's parent directory",
        )
    })?;
    for a in artifacts {
        let path = tmp.join(a.file_name);
        // Artifacts in a subdirectory (`modules/nsg.bicep`) need it first.
        let parent = path.parent().expect("an artifact path has its directory");
        fs::create_dir_all(parent)
            .and_then(|()| fs::write(&path, &a.contents))
            .map_err(|e| {
                error(
                    tmp,
                    format!("cannot write {}: {e}", a.file_name),
                    "check free space and permissions",
                )
            })?;
    }
    Ok(())
}

fn swap(tmp: &Path, dir: &Path) -> Result<(), Diagnostic> {
    if !dir.exists() {
        return fs::rename(tmp, dir).map_err(|e| {
            error(
                dir,
                format!("cannot move the artifacts into place: {e}"),
                "check the permissions of the output's parent directory",
            )
        });
    }
    let old = sibling(dir, "old");
    let _ = fs::remove_dir_all(&old);
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
