//! Golden files: `isenet compile` on named environments must reproduce tests/golden/<name>/*
//! byte for byte. The goldens were reviewed by reading them; regenerate with ISENET_BLESS=1 only
//! after a reviewed change, and read the diff.

use std::path::{Path, PathBuf};
use std::process::Command;

fn isenet() -> Command {
    Command::new(env!("CARGO_BIN_EXE_isenet"))
}

fn golden_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/golden")
}

fn compile(env: &Path, out: &Path) {
    let o = isenet()
        .args(["compile", "--env"])
        .arg(env)
        .arg("--out-dir")
        .arg(out)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn compile_reproduces_the_golden_files() {
    let bless = std::env::var_os("ISENET_BLESS").is_some();
    let mut cases = 0;
    for entry in std::fs::read_dir(golden_root()).unwrap() {
        let dir = entry.unwrap().path();
        let tmp = tempdir(&dir);
        compile(&dir.join("env.json"), &tmp);
        // Both ways: every produced file has a golden, every golden (but env.json) is produced.
        let names = |d: &Path| {
            let mut v: Vec<String> = files(d).into_iter().filter(|n| n != "env.json").collect();
            v.sort();
            v
        };
        if !bless {
            assert_eq!(
                names(&tmp),
                names(&dir),
                "{}: produced files differ from the golden files",
                dir.display()
            );
        }
        for name in files(&tmp) {
            let got = std::fs::read_to_string(tmp.join(&name)).unwrap();
            let golden = dir.join(&name);
            if bless {
                std::fs::create_dir_all(golden.parent().unwrap()).unwrap();
                std::fs::write(&golden, &got).unwrap();
            }
            let want = std::fs::read_to_string(&golden).unwrap_or_else(|_| panic!("missing golden {}", golden.display()));
            assert!(
                got == want,
                "{} differs from its golden file; review the change, then ISENET_BLESS=1",
                golden.display()
            );
        }
        cases += 1;
        std::fs::remove_dir_all(&tmp).unwrap();
    }
    assert!(cases >= 4);
}

/// Every file under `dir`, as paths relative to it (`modules/nsg.bicep`).
fn files(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().to_string_lossy().into_owned();
        if entry.file_type().unwrap().is_dir() {
            out.extend(files(&entry.path()).into_iter().map(|n| format!("{name}/{n}")));
        } else {
            out.push(name);
        }
    }
    out
}

fn tempdir(case: &Path) -> crate::common::Scratch {
    crate::common::scratch("golden", &case.file_name().unwrap().to_string_lossy())
}
