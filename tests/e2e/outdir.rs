//! Atomic replacement of the output directory (issue 9): concurrent writers to one --out-dir, and a
//! kill at each step of a run, never leave a mix of two runs, a missing directory or debris.

use super::common::workspace;
use super::pipeline::tempdir;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output, Stdio};

const ENVS: [&str; 8] = [
    "china-north2.json",
    "developer-sku.json",
    "expressroute-tunneling.json",
    "firewall-tunneling.json",
    "internal-callers.json",
    "public-external-callers.json",
    "public-internal.json",
    "usgov-virginia.json",
];

fn compile(env: &str, out: &Path, failpoint: Option<&str>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_isenet"));
    cmd.args(["compile", "--env", &format!("tests/envs/{env}"), "--out-dir"])
        .arg(out)
        .current_dir(workspace())
        .stdin(Stdio::null());
    if let Some(f) = failpoint {
        cmd.env("ISENET_TEST_FAILPOINT", f);
    }
    cmd.output().expect("run isenet")
}

/// Every file under `dir` (relative path -> contents).
fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                let rel = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

/// What the parent of `out` holds: the output, nothing else (no lock file, no debris).
fn beside(parent: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(parent)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Each environment compiled alone: the complete sets a shared directory may end up holding.
fn expected_sets(root: &Path) -> Vec<BTreeMap<String, Vec<u8>>> {
    ENVS.iter()
        .map(|env| {
            let out = root.join(format!("alone-{env}"));
            let run = compile(env, &out, None);
            assert_eq!(run.status.code(), Some(0), "{env}: {}", String::from_utf8_lossy(&run.stderr));
            snapshot(&out)
        })
        .collect()
}

#[test]
fn eight_concurrent_writers_all_succeed_and_leave_one_complete_set() {
    let root = tempdir("outdir-concurrent");
    let sets = expected_sets(&root);
    assert_eq!(
        sets.iter().collect::<std::collections::BTreeSet<_>>().len(),
        ENVS.len(),
        "the environments compile to different sets"
    );
    let parent = root.join("shared");
    let out = parent.join("out");
    for round in 0..3 {
        let runs: Vec<Output> = std::thread::scope(|s| {
            let handles: Vec<_> = ENVS.iter().map(|env| s.spawn(|| compile(env, &out, None))).collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        for (env, run) in ENVS.iter().zip(&runs) {
            assert_eq!(
                run.status.code(),
                Some(0),
                "round {round}, {env}: {}",
                String::from_utf8_lossy(&run.stderr)
            );
        }
        let got = snapshot(&out);
        assert!(
            sets.contains(&got),
            "round {round}: the directory is not one writer's complete set: {:?}",
            got.keys()
        );
        assert_eq!(beside(&parent), ["out"], "round {round}");
    }
}

#[test]
fn a_kill_at_any_step_leaves_a_complete_set_and_the_next_run_cleans_up() {
    let root = tempdir("outdir-kill");
    let sets = expected_sets(&root);
    let (before, after) = (&sets[0], &sets[1]);
    // (step, the set the directory holds after a kill there)
    for (step, holds) in [("locked", before), ("writing", before), ("written", before), ("swapped", after)] {
        let parent = root.join(format!("kill-{step}"));
        let out = parent.join("out");
        assert_eq!(compile(ENVS[0], &out, None).status.code(), Some(0));
        let killed = compile(ENVS[1], &out, Some(step));
        assert_eq!(killed.status.code(), None, "{step}: the failpoint aborts the run");
        assert_eq!(&snapshot(&out), holds, "{step}: the directory after the kill");
        let rerun = compile(ENVS[1], &out, None);
        assert_eq!(rerun.status.code(), Some(0), "{step}: {}", String::from_utf8_lossy(&rerun.stderr));
        assert_eq!(&snapshot(&out), after, "{step}: the rerun's set");
        assert_eq!(beside(&parent), ["out"], "{step}: debris of the killed run is removed");
    }
}

#[test]
fn a_first_run_killed_before_the_swap_leaves_no_directory_and_no_debris_after_a_rerun() {
    let root = tempdir("outdir-first-kill");
    let out = root.join("out");
    assert_eq!(compile(ENVS[0], &out, Some("writing")).status.code(), None);
    assert!(!out.exists(), "nothing is published before the swap");
    assert_eq!(compile(ENVS[0], &out, None).status.code(), Some(0));
    assert_eq!(beside(&root), ["out"]);
}

#[cfg(unix)]
#[test]
fn a_lock_file_left_by_a_killed_run_goes_with_the_next_run_even_when_nothing_changes() {
    let root = tempdir("outdir-stale-lock");
    let out = root.join("out");
    assert_eq!(compile(ENVS[0], &out, None).status.code(), Some(0));
    // Another environment's run killed as soon as it holds the lock: only the lock file is left.
    assert_eq!(compile(ENVS[1], &out, Some("locked")).status.code(), None);
    assert_eq!(beside(&root), [".out.isenet-lock", "out"]);
    // The folder still holds the first set: nothing to write, and the lock file goes.
    let again = compile(ENVS[0], &out, None);
    assert_eq!(again.status.code(), Some(0));
    assert!(stdout(&again).contains("up to date"), "{}", stdout(&again));
    assert_eq!(beside(&root), ["out"]);
}

/// Every entry under `dir`, the directory itself included (relative path -> inode, mtime): what a
/// run that writes nothing leaves as it was.
#[cfg(unix)]
pub fn stamps(dir: &Path) -> BTreeMap<String, (u64, i64, i64)> {
    use std::os::unix::fs::MetadataExt;
    fn walk(root: &Path, p: &Path, out: &mut BTreeMap<String, (u64, i64, i64)>) {
        let m = std::fs::symlink_metadata(p).unwrap();
        let rel = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
        out.insert(rel, (m.ino(), m.mtime(), m.mtime_nsec()));
        if m.is_dir() {
            for e in std::fs::read_dir(p).unwrap() {
                walk(root, &e.unwrap().path(), out);
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

#[cfg(unix)]
fn stdout(run: &Output) -> String {
    String::from_utf8_lossy(&run.stdout).into_owned()
}

#[cfg(unix)]
#[test]
fn a_second_identical_run_touches_nothing_and_says_so() {
    let root = tempdir("outdir-same");
    let out = root.join("out");
    let first = compile(ENVS[0], &out, None);
    assert!(
        stdout(&first).contains(&format!("  wrote {}: ", out.display())),
        "{}",
        stdout(&first)
    );
    let before = (stamps(&out), stamps(&root), snapshot(&out));
    // A failpoint on the write path proves the run never reaches it.
    let again = compile(ENVS[0], &out, Some("locked"));
    assert_eq!(again.status.code(), Some(0), "{}", String::from_utf8_lossy(&again.stderr));
    assert!(
        stdout(&again).contains(&format!("  {} up to date, nothing written: azuredeploy.json, ", out.display())),
        "{}",
        stdout(&again)
    );
    assert_eq!(
        before,
        (stamps(&out), stamps(&root), snapshot(&out)),
        "every inode and mtime kept, nothing beside"
    );
}

#[cfg(unix)]
#[test]
fn a_changed_environment_is_rewritten_whole_and_atomically() {
    let root = tempdir("outdir-changed");
    let sets = expected_sets(&root);
    let out = root.join("out");
    assert_eq!(compile(ENVS[0], &out, None).status.code(), Some(0));
    let before = stamps(&out);
    // Killed after writing the new set but before the swap: still the previous set, whole.
    assert_eq!(compile(ENVS[1], &out, Some("written")).status.code(), None);
    assert_eq!(snapshot(&out), sets[0]);
    let run = compile(ENVS[1], &out, None);
    assert!(stdout(&run).contains("  wrote "), "{}", stdout(&run));
    assert_eq!(snapshot(&out), sets[1]);
    let after = stamps(&out);
    assert_ne!(before[""].0, after[""].0, "a new directory was swapped in");
    for (file, stamp) in &after {
        assert_ne!(before.get(file).map(|s| s.0), Some(stamp.0), "{file} is a new file");
    }
    assert_eq!(beside(&root).iter().filter(|n| n.starts_with('.')).count(), 0);
}

/// Each way a folder can differ from what a run writes makes the run rewrite it whole: a byte
/// changed, a file missing, an artifact this run does not write, an empty folder of artifacts, an
/// artifact that is a symbolic link. A file isenet never writes is refused as before (E1101).
#[cfg(unix)]
#[test]
fn any_difference_or_extra_artifact_forces_a_rewrite() {
    let root = tempdir("outdir-differs");
    let out = root.join("out");
    assert_eq!(compile(ENVS[0], &out, None).status.code(), Some(0));
    let set = snapshot(&out);
    /// What a hand or a tool did to the folder, and how.
    type Edit<'a> = (&'a str, &'a dyn Fn(&Path));
    let edits: [Edit; 6] = [
        ("a byte changed", &|o| {
            let p = o.join("nsg.json");
            let mut b = std::fs::read(&p).unwrap();
            b[0] = b' ';
            std::fs::write(p, b).unwrap();
        }),
        ("same length, other bytes", &|o| {
            let p = o.join("review.csv");
            let t = std::fs::read_to_string(&p).unwrap();
            std::fs::write(p, t.replacen(',', ";", 1)).unwrap();
        }),
        ("a file missing", &|o| std::fs::remove_file(o.join("modules/nsg.bicep")).unwrap()),
        ("a folder's files missing", &|o| std::fs::remove_dir_all(o.join("modules")).unwrap()),
        ("an artifact as a link", &|o| {
            std::fs::rename(o.join("plan.json"), o.join("../plan-elsewhere.json")).unwrap();
            std::os::unix::fs::symlink("../plan-elsewhere.json", o.join("plan.json")).unwrap();
        }),
        ("an artifact as a folder", &|o| {
            std::fs::remove_file(o.join("flows.svg")).unwrap();
            std::fs::create_dir(o.join("flows.svg")).unwrap();
        }),
    ];
    for (what, edit) in edits {
        edit(&out);
        let run = compile(ENVS[0], &out, None);
        assert_eq!(run.status.code(), Some(0), "{what}: {}", String::from_utf8_lossy(&run.stderr));
        assert!(stdout(&run).contains("  wrote "), "{what}: {}", stdout(&run));
        assert_eq!(snapshot(&out), set, "{what}: the compiled set again");
        let _ = std::fs::remove_file(root.join("plan-elsewhere.json"));
    }
    // An artifact a full compile writes, beside an --only nsg selection: rewritten without it.
    let only = |out: &Path| {
        Command::new(env!("CARGO_BIN_EXE_isenet"))
            .args(["compile", "--only", "nsg", "--env", &format!("tests/envs/{}", ENVS[0]), "--out-dir"])
            .arg(out)
            .current_dir(workspace())
            .output()
            .unwrap()
    };
    let run = only(&out);
    assert!(stdout(&run).contains("  wrote "), "{}", stdout(&run));
    let nsg_only = snapshot(&out);
    assert_eq!(nsg_only.keys().collect::<Vec<_>>(), ["nsg.json"]);
    assert!(stdout(&only(&out)).contains("up to date, nothing written"));
    std::fs::write(out.join("review.csv"), "x").unwrap();
    assert!(stdout(&only(&out)).contains("  wrote "), "an extra artifact forces a rewrite");
    assert_eq!(snapshot(&out), nsg_only);
    std::fs::create_dir(out.join("modules")).unwrap();
    assert!(
        stdout(&only(&out)).contains("  wrote "),
        "an empty folder of artifacts forces a rewrite"
    );
    assert_eq!(snapshot(&out), nsg_only);
    assert_eq!(stamps(&out).len(), 2, "the folder and nsg.json alone");
    std::fs::write(out.join("notes.txt"), "mine").unwrap();
    let run = only(&out);
    assert_eq!(run.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&run.stderr).contains("E1101"));
    assert_eq!(std::fs::read_to_string(out.join("notes.txt")).unwrap(), "mine");
}

/// The code of an `--error-format json` run's first diagnostic.
fn first_code(run: &super::common::Run) -> String {
    run.json()["diagnostics"][0]["code"].as_str().unwrap_or_default().to_string()
}

#[test]
fn an_artifact_name_on_a_folder_or_a_link_is_foreign_and_kept() {
    use super::common::isenet;
    let dir = tempdir("outdir-shapes");
    let env = workspace().join("tests/envs/public-internal.json");
    let env = env.to_str().unwrap();
    // A folder named like an artifact, with something in it: the swap would delete it.
    let out = dir.join("folder");
    std::fs::create_dir_all(out.join("plan.json/sub")).unwrap();
    std::fs::write(out.join("plan.json/sub/keep.txt"), "precious").unwrap();
    let run = isenet(&[
        "--error-format",
        "json",
        "compile",
        "--env",
        env,
        "--out-dir",
        out.to_str().unwrap(),
    ]);
    assert_eq!((run.code, first_code(&run)), (Some(2), "E1101".to_string()), "{}", run.stderr);
    assert_eq!(std::fs::read_to_string(out.join("plan.json/sub/keep.txt")).unwrap(), "precious");
    // --check lists it (and the artifact under that name as missing) instead of "up to date".
    let check = isenet(&["compile", "--env", env, "--out-dir", out.to_str().unwrap(), "--check"]);
    assert_eq!(check.code, Some(1), "{}", check.stdout);
    assert!(
        check.stdout.contains("foreign: ") && check.stdout.contains("plan.json"),
        "{}",
        check.stdout
    );
    #[cfg(unix)]
    {
        // An output directory that is a link: replacing it would leave what it names stale.
        let real = dir.join("real");
        assert_eq!(
            isenet(&["compile", "--env", env, "--out-dir", real.to_str().unwrap()]).code,
            Some(0)
        );
        let link = dir.join("link");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        // Up to date through the link: nothing to replace. Another environment must replace it.
        assert_eq!(
            isenet(&["compile", "--env", env, "--out-dir", link.to_str().unwrap()]).code,
            Some(0)
        );
        let other = workspace().join("tests/envs/public-external-callers.json");
        let run = isenet(&[
            "--error-format",
            "json",
            "compile",
            "--env",
            other.to_str().unwrap(),
            "--out-dir",
            link.to_str().unwrap(),
        ]);
        assert_eq!((run.code, first_code(&run)), (Some(2), "E1101".to_string()), "{}", run.stderr);
        assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink(), "the link stays");
    }
}

#[test]
fn check_lists_files_isenet_did_not_write() {
    use super::common::isenet;
    let dir = tempdir("outdir-check-foreign");
    let env = workspace().join("tests/envs/public-internal.json");
    let (env, out) = (env.to_str().unwrap(), dir.join("out"));
    assert_eq!(isenet(&["compile", "--env", env, "--out-dir", out.to_str().unwrap()]).code, Some(0));
    std::fs::write(out.join("notes.txt"), "mine").unwrap();
    std::fs::write(out.join("modules/extra.bicep"), "mine").unwrap();
    let check = isenet(&["compile", "--env", env, "--out-dir", out.to_str().unwrap(), "--check"]);
    assert_eq!(check.code, Some(1), "a compile would refuse the folder: {}", check.stdout);
    for file in ["notes.txt", "modules/extra.bicep"] {
        assert!(
            check.stdout.contains(&format!("foreign: {}", out.join(file).display())),
            "{}",
            check.stdout
        );
    }
}

/// `--check` of an output path no compile could write (a file) is bad input, E1101 and exit 2,
/// as the compile it would send the user to: never "stale" with advice that cannot work.
#[test]
fn check_refuses_an_output_path_that_is_a_file() {
    use super::common::isenet;
    let dir = tempdir("outdir-check-file");
    let file = dir.join("afile");
    std::fs::write(&file, "x").unwrap();
    for extra in [&["--check"][..], &[]] {
        let mut args = vec!["--error-format", "json", "compile", "--out-dir", file.to_str().unwrap()];
        args.extend(extra);
        let run = isenet(&args);
        assert_eq!(
            (run.code, first_code(&run)),
            (Some(2), "E1101".to_string()),
            "{args:?}: {}{}",
            run.stdout,
            run.stderr
        );
        assert!(!run.stdout.contains("missing:"), "{args:?}: nothing listed: {}", run.stdout);
    }
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "x");
}

#[test]
fn a_fleet_with_one_target_it_cannot_replace_writes_nothing() {
    use super::common::isenet;
    let dir = tempdir("outdir-fleet-precheck");
    let envs = dir.join("envs");
    std::fs::create_dir_all(&envs).unwrap();
    for name in ["a", "b", "c"] {
        let mut env: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(workspace().join("tests/envs/public-internal.json")).unwrap()).unwrap();
        env["name"] = serde_json::json!(name);
        std::fs::write(envs.join(format!("{name}.json")), env.to_string()).unwrap();
    }
    let out = dir.join("out");
    std::fs::create_dir_all(out.join("b")).unwrap();
    std::fs::write(out.join("b/notes.txt"), "mine").unwrap();
    let run = isenet(&[
        "--error-format",
        "json",
        "compile",
        "--env-dir",
        envs.to_str().unwrap(),
        "--out-dir",
        out.to_str().unwrap(),
    ]);
    assert_eq!((run.code, first_code(&run)), (Some(2), "E1101".to_string()), "{}", run.stderr);
    let mut left: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(left, ["b"], "no other environment was written");
    assert_eq!(std::fs::read_dir(out.join("b")).unwrap().count(), 1);
}
