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
