//! Shared by tests/bad_inputs.rs and tests/schema.rs: where the fixtures are, the catalogue's
//! manifest (tests/bad-inputs/expected.csv), running the real `isenet` binary with a time limit,
//! and finding a JSON path in a document.

#![allow(dead_code)] // each test crate uses its own subset

use serde_json::Value;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The workspace root (the tests live beside their fixtures in its `tests/` folder).
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("workspace root")
}

pub fn bad_inputs_dir() -> PathBuf {
    workspace().join("tests/bad-inputs")
}

pub fn envs_dir() -> PathBuf {
    workspace().join("tests/envs")
}

pub fn schema_path() -> PathBuf {
    workspace().join("schemas/environment.schema.json")
}

/// The `*.json` files of a folder, sorted by name.
pub fn json_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    files
}

pub fn file_name(p: &Path) -> String {
    p.file_name().expect("file name").to_string_lossy().into_owned()
}

/// What the JSON Schema must do with a catalogue file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SchemaExpectation {
    /// The schema can express the broken rule: it must reject the file.
    Refuse,
    /// The schema cannot express it (overlaps, locations, certificate content...) or the file is
    /// not JSON.
    NotApplicable,
}

/// One row of tests/bad-inputs/expected.csv.
#[derive(Debug, Clone)]
pub struct Row {
    pub file: String,
    /// (code, JSON path) of every expected diagnostic, sorted: the exact multiset.
    pub diagnostics: Vec<(String, String)>,
    pub schema: SchemaExpectation,
}

impl Row {
    pub fn path(&self) -> PathBuf {
        bad_inputs_dir().join(&self.file)
    }
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(|(c, _)| c.starts_with('E'))
    }
    /// Only warnings: the file is a valid environment (exit 0 unless `--deny-warnings`).
    pub fn is_warning_only(&self) -> bool {
        !self.diagnostics.is_empty() && !self.has_errors()
    }
    pub fn expected_exit(&self) -> i32 {
        if self.has_errors() {
            2
        } else {
            0
        }
    }
}

/// Parses the manifest `file,codes,paths,schema`; `codes` and `paths` are `;`-separated and
/// aligned (a syntax error's path is empty). Panics on a malformed row: the manifest is a fixture.
pub fn manifest() -> Vec<Row> {
    let path = bad_inputs_dir().join("expected.csv");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("file,codes,paths,schema"), "manifest header");
    lines
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(n, line)| {
            let fields: Vec<&str> = line.split(',').collect();
            assert_eq!(fields.len(), 4, "expected.csv line {}: `{line}` needs 4 fields", n + 2);
            let codes: Vec<&str> = fields[1].split(';').collect();
            let paths: Vec<&str> = fields[2].split(';').collect();
            assert!(!fields[1].is_empty(), "expected.csv line {}: no codes", n + 2);
            assert_eq!(
                codes.len(),
                paths.len(),
                "expected.csv line {}: {} codes but {} paths",
                n + 2,
                codes.len(),
                paths.len()
            );
            let schema = match fields[3] {
                "refuse" => SchemaExpectation::Refuse,
                "n/a" => SchemaExpectation::NotApplicable,
                other => panic!("expected.csv line {}: schema must be `refuse` or `n/a`, not `{other}`", n + 2),
            };
            Row {
                file: fields[0].to_string(),
                diagnostics: codes.iter().zip(&paths).map(|(c, p)| (c.to_string(), p.to_string())).collect(),
                schema,
            }
        })
        .collect()
}

/// What a run of the binary produced.
#[derive(Debug)]
pub struct Run {
    /// `None` when killed by a signal or for running too long (see `stderr`).
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}\nstderr:\n{}", self.stdout, self.stderr))
    }
}

/// Runs `isenet` with `args`. A run that does not end within 30 s is killed and comes back with no
/// exit code and a note on stderr, so the caller's checks fail (a hang is a bug, and must neither
/// stall the suite nor hide the other files' results).
pub fn isenet(args: &[&str]) -> Run {
    isenet_in(&workspace(), args)
}

/// [`isenet`] run in `dir`, for commands written with paths relative to a user's repository.
pub fn isenet_in(dir: &Path, args: &[&str]) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_isenet"))
        .args(args)
        .current_dir(dir)
        // Text is compared as written: no colour forced by the caller's environment.
        .env_remove("CLICOLOR_FORCE")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start isenet");
    let read = |mut r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            r.read_to_end(&mut buf).expect("read output");
            String::from_utf8(buf).expect("isenet prints UTF-8")
        })
    };
    let out = read(Box::new(child.stdout.take().expect("stdout")));
    let err = read(Box::new(child.stderr.take().expect("stderr")));
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut timed_out = false;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for isenet") {
            break status;
        }
        if Instant::now() > deadline {
            timed_out = true;
            child.kill().expect("kill the hung isenet");
            break child.wait().expect("reap isenet");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let mut stderr = err.join().expect("stderr reader");
    if timed_out {
        stderr.push_str(&format!(
            "\n[test harness] isenet {args:?} did not finish within 30 s and was killed\n"
        ));
    }
    Run {
        code: if timed_out { None } else { status.code() },
        stdout: out.join().expect("stdout reader"),
        stderr,
    }
}

/// One step of a JSON path such as `subnets[2].prefix`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Field(String),
    Index(usize),
}

/// Splits `subnets[2].prefix` into steps; `` is the whole document.
pub fn steps(path: &str) -> Vec<Step> {
    let mut out = Vec::new();
    for part in path.split('.').filter(|p| !p.is_empty()) {
        let (name, rest) = part.split_once('[').map_or((part, ""), |(n, r)| (n, r));
        if !name.is_empty() {
            out.push(Step::Field(name.to_string()));
        }
        for idx in rest.split('[') {
            let idx = idx.trim_end_matches(']');
            if !idx.is_empty() {
                out.push(Step::Index(idx.parse().unwrap_or_else(|_| panic!("bad index in path `{path}`"))));
            }
        }
    }
    out
}

/// The value at `path`, if the document has one.
pub fn lookup<'v>(doc: &'v Value, path: &str) -> Option<&'v Value> {
    steps(path).iter().try_fold(doc, |v, step| match step {
        Step::Field(f) => v.as_object()?.get(f),
        Step::Index(i) => v.as_array()?.get(*i),
    })
}

/// `ise_model::env::load` on a thread with a deadline: `Err` when it panics or does not return
/// within 10 s (the thread is then abandoned), so a hang fails a test instead of stalling it.
pub fn load_within_deadline(text: &str, file: &str) -> Result<ise_model::env::Loaded, String> {
    let (tx, rx) = std::sync::mpsc::channel();
    let (input, name) = (text.to_string(), file.to_string());
    std::thread::spawn(move || {
        let _ = tx.send(ise_model::env::load(&input, &name));
    });
    rx.recv_timeout(Duration::from_secs(10)).map_err(|e| match e {
        std::sync::mpsc::RecvTimeoutError::Timeout => format!("env::load did not return within 10 s on {file}"),
        std::sync::mpsc::RecvTimeoutError::Disconnected => format!("env::load panicked on {file}"),
    })
}

/// Standard base64 (RFC 4648) to bytes; `None` on any other character. Written here, apart from
/// isenet's own decoder, so the tests check its output with an independent reading.
pub fn base64_decode(text: &str) -> Option<Vec<u8>> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let body = text.trim_end_matches('=');
    let mut out = Vec::new();
    let mut bits = 0u32;
    let mut acc = 0u32;
    for c in body.bytes() {
        acc = (acc << 6) | ALPHABET.iter().position(|&a| a == c)? as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    Some(out)
}

/// The PEM text (RFC 7468) of a certificate given as base64 of its DER: the same base64 in lines
/// of 64 characters between the BEGIN and END lines, as `openssl x509` writes it.
pub fn pem_of_base64_der(b64: &str) -> String {
    let lines: Vec<&str> = b64.as_bytes().chunks(64).map(|l| std::str::from_utf8(l).unwrap()).collect();
    format!("-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n", lines.join("\n"))
}

/// Ids of the entries of a proof's `coverage` whose `covered` is false (requirements,
/// dependencies or route checks not met).
pub fn uncovered_ids(coverage: &Value) -> Vec<&str> {
    coverage
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["covered"] == false)
        .map(|c| c["id"].as_str().unwrap())
        .collect()
}

/// A test's scratch folder under the system temp folder (`isenet-<kind>-<pid>-<name>`), created
/// empty and removed when the test ends, so a test run leaves nothing behind; kept when the test
/// fails, to look at what it wrote. Reads as the `Path` it is.
pub struct Scratch(PathBuf);

impl Scratch {
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl std::ops::Deref for Scratch {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl AsRef<Path> for Scratch {
    fn as_ref(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

/// A fresh, empty [`Scratch`] folder; `kind` and `name` make it unique among the tests that run
/// at once.
pub fn scratch(kind: &str, name: &str) -> Scratch {
    let dir = std::env::temp_dir().join(format!("isenet-{kind}-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    Scratch(dir)
}
