//! The CLI as a pipeline step: standard input, a reader that closes early, usage errors as coded
//! diagnostics, `--version`.

use super::common::{isenet, workspace};
use crate::common::Scratch;
use std::io::{Read, Write};
use std::process::{Command, Stdio};

/// Runs `isenet` with `stdin` piped in; (exit code, stdout, stderr).
pub fn isenet_with_stdin(args: &[&str], stdin: &[u8]) -> (Option<i32>, String, String) {
    isenet_with_stdin_in(&workspace(), args, stdin)
}

/// [`isenet_with_stdin`] run in `dir`.
pub fn isenet_with_stdin_in(dir: &std::path::Path, args: &[&str], stdin: &[u8]) -> (Option<i32>, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_isenet"))
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start isenet");
    let mut input = child.stdin.take().expect("stdin");
    let data = stdin.to_vec();
    // A writer thread: the child may answer (and exit) before reading everything.
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(&data);
    });
    let out = child.wait_with_output().expect("wait for isenet");
    writer.join().expect("stdin writer");
    (
        out.status.code(),
        String::from_utf8(out.stdout).expect("UTF-8"),
        String::from_utf8(out.stderr).expect("UTF-8"),
    )
}

/// An artifact compiled from the embedded example.
fn example_artifact(file: &str) -> String {
    let dir = tempdir(&format!("stdin-{file}"));
    let out = dir.join("out");
    let run = isenet(&["compile", "--out-dir", out.to_str().unwrap()]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    std::fs::read_to_string(out.join(file)).unwrap()
}

/// A fresh, empty directory for one test, removed when it passes.
pub fn tempdir(name: &str) -> Scratch {
    crate::common::scratch("e2e", name)
}

#[test]
fn each_input_can_come_from_stdin() {
    let example = std::fs::read_to_string(workspace().join("data/example-environment.json")).unwrap();
    let (code, out, err) = isenet_with_stdin(&["validate", "--env", "-"], example.as_bytes());
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("<stdin>: valid"), "{out}");

    let (code, out, err) = isenet_with_stdin(&["verify", "--nsg", "-"], example_artifact("nsg.json").as_bytes());
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("result: ok"), "{out}");

    let tags = std::fs::read(workspace().join("data/servicetags/ServiceTags_Public_20251028.json")).unwrap();
    let (code, out, err) = isenet_with_stdin(&["tags", "show", "LogicApps", "--service-tags", "-"], &tags);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.starts_with("LogicApps (cloud Public, change 375)"), "{out}");
}

#[test]
fn a_broken_input_on_stdin_is_named_stdin() {
    let (code, out, _) = isenet_with_stdin(&["--error-format", "json", "verify", "--nsg", "-"], b"{ \"name\": ");
    assert_eq!(code, Some(2));
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(doc["diagnostics"][0]["file"], "<stdin>", "{doc}");
    // A tag file piped in that parses but lacks a tag the requirements need (E0904): the tag
    // file's problem, named as stdin too, never `-`.
    let one_tag = serde_json::json!({"changeNumber": 1, "cloud": "Public", "values": [{"name": "Sql", "id": "Sql", "properties": {
        "changeNumber": 1, "region": "", "regionId": 0, "platform": "Azure", "systemService": "AzureSQL",
        "addressPrefixes": ["13.66.0.0/16"], "networkFeatures": ["NSG", "UDR"]}}]});
    let args = [
        "--error-format",
        "json",
        "verify",
        "--env",
        "data/example-environment.json",
        "--service-tags",
        "-",
    ];
    let (code, out, _) = isenet_with_stdin(&args, one_tag.to_string().as_bytes());
    assert_eq!(code, Some(2));
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    let missing: Vec<&serde_json::Value> = doc["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["code"] == "E0904")
        .collect();
    assert!(!missing.is_empty() && missing.iter().all(|d| d["file"] == "<stdin>"), "{doc}");
}

#[test]
fn stdin_serves_one_input_only() {
    // Refused from the command line, whatever is piped: an NSG read as the route table would
    // otherwise be reported as a bad route table.
    for piped in ["route-table.json", "nsg.json"] {
        let (code, out, _) = isenet_with_stdin(
            &["--error-format", "json", "verify", "--nsg", "-", "--routes", "-"],
            example_artifact(piped).as_bytes(),
        );
        assert_eq!(code, Some(2));
        let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(doc["diagnostics"].as_array().unwrap().len(), 1, "{doc}");
        assert_eq!(doc["diagnostics"][0]["code"], ise_model::codes::E_STDIN_TWICE, "{doc}");
        assert_eq!(doc["diagnostics"][0]["path"], "--nsg, --routes", "{doc}");
    }
}

#[test]
fn a_reader_that_closes_early_ends_the_run_quietly() {
    // AzureCloud lists thousands of prefixes: far more than a pipe buffer, so isenet is still
    // writing when the reader goes away.
    let mut child = Command::new(env!("CARGO_BIN_EXE_isenet"))
        .args(["tags", "show", "AzureCloud"])
        .current_dir(workspace())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 64];
    stdout.read_exact(&mut first).unwrap();
    drop(stdout); // `| head -c 64`
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "stderr: {stderr}");
    assert!(stderr.is_empty(), "a closed pipe is not an error: {stderr}");
}

/// Which of isenet's output streams has no reader.
#[cfg(target_os = "linux")]
#[derive(Clone, Copy, Debug)]
enum Closed {
    Stdout,
    Stderr,
    Both,
}

/// Runs `isenet` with `closed` a pipe whose read end is closed before the process starts, so that
/// its first write fails with EPIPE whatever the timing; (exit code, the other stream's text).
#[cfg(target_os = "linux")]
fn isenet_with_closed(args: &[&str], closed: Closed) -> (Option<i32>, String) {
    use std::os::fd::{FromRawFd, OwnedFd};
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for the two descriptors pipe(2) writes; each is owned exactly once.
    let (read, write) = unsafe {
        assert_eq!(libc::pipe(fds.as_mut_ptr()), 0, "pipe(2)");
        (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1]))
    };
    drop(read); // the reader is gone before isenet writes anything
    let dead = || Stdio::from(write.try_clone().expect("dup the pipe"));
    let (stdout, stderr) = match closed {
        Closed::Stdout => (dead(), Stdio::piped()),
        Closed::Stderr => (Stdio::piped(), dead()),
        Closed::Both => (dead(), dead()),
    };
    let out = Command::new(env!("CARGO_BIN_EXE_isenet"))
        .args(args)
        .current_dir(workspace())
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(stderr)
        .output()
        .expect("run isenet");
    let other = match closed {
        Closed::Stdout => out.stderr,
        _ => out.stdout,
    };
    (out.status.code(), String::from_utf8_lossy(&other).into_owned())
}

#[test]
#[cfg(target_os = "linux")]
fn a_closed_pipe_neither_panics_nor_changes_the_exit_code() {
    let dir = tempdir("closed-pipe");
    let empty = dir.join("empty.json");
    std::fs::write(&empty, "").unwrap();
    let empty = empty.to_str().unwrap();
    // An NSG without rules: every requirement is a finding (exit 1).
    let bare = dir.join("bare-nsg.json");
    std::fs::write(&bare, r#"{"name": "bare", "properties": {"securityRules": []}}"#).unwrap();
    let bare = bare.to_str().unwrap();
    let example = "data/example-environment.json";
    let cases: &[(&[&str], i32)] = &[
        (&["validate", "--env", empty], 2),
        (&["validate", "--env", empty, "--format", "json"], 2),
        (&["--error-format", "json", "requirements", "--env", empty], 2),
        (
            &["--error-format", "json", "compile", "--env", empty, "--out-dir", "never-written"],
            2,
        ),
        (&["verify", "--env", example, "--nsg", empty], 2),
        (&["verify", "--env", example, "--nsg", bare], 1),
        (&["verify", "--env", example, "--nsg", bare, "--format", "sarif"], 1),
        (&["validate", example], 0),
    ];
    for (args, expected) in cases {
        for closed in [Closed::Stdout, Closed::Stderr, Closed::Both] {
            let (code, other) = isenet_with_closed(args, closed);
            assert_eq!(code, Some(*expected), "{args:?} with {closed:?} closed: {other}");
            assert!(!other.contains("panicked"), "{args:?} with {closed:?} closed: {other}");
        }
    }
    // Nothing of a closed stdout leaks to stderr: a reader that went away is not an error.
    let (code, stderr) = isenet_with_closed(&["tags", "show", "AzureCloud"], Closed::Stdout);
    assert_eq!(code, Some(0));
    assert!(stderr.is_empty(), "{stderr}");
}

#[test]
fn usage_errors_are_coded_and_honour_the_error_format() {
    let cases: &[(&[&str], &str, &str)] = &[
        (
            &["explain", "--from", "10.0.0.1", "--to", "Internet", "--port", "70000"],
            "E1801",
            "--port",
        ),
        (
            &["explain", "--from", "a", "--to", "b", "--port", "443", "--protocol", "sctp"],
            "E1801",
            "--protocol",
        ),
        (&["compile", "--no-such-flag"], "E1800", "--no-such-flag"),
        (&["explain", "--from", "a", "--port", "443"], "E1802", ""),
    ];
    for (args, code, path) in cases {
        let mut json_args = vec!["--error-format", "json"];
        json_args.extend_from_slice(args);
        let run = isenet(&json_args);
        assert_eq!(run.code, Some(2), "{args:?}: {}", run.stderr);
        let doc = run.json();
        let d = &doc["diagnostics"][0];
        assert_eq!(d["code"], *code, "{args:?}: {doc}");
        assert_eq!(d["file"], "<command line>");
        if !path.is_empty() {
            assert_eq!(d["path"], *path, "{args:?}: {doc}");
        }
        let text = isenet(args);
        assert_eq!(text.code, Some(2));
        assert!(text.stdout.is_empty());
        assert!(text.stderr.starts_with(&format!("error[{code}]: ")), "{args:?}: {}", text.stderr);
    }
}

#[test]
fn version_prints_each_embedded_snapshot_and_its_date() {
    let run = isenet(&["--version"]);
    assert_eq!(run.code, Some(0));
    assert!(run.stdout.starts_with(&format!("isenet {}\n", env!("CARGO_PKG_VERSION"))));
    // data/SOURCES.md: the public snapshot is the weekly file of 2025-10-28, change 375.
    assert!(
        run.stdout
            .contains("embedded service tags Public: change 375, published 2025-10-28"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("AzureGovernment: change 401") && run.stdout.contains("China: change 405"));
}

/// A compile that writes prefixes from the embedded public snapshot notes its age on stderr when
/// `--version` does (the same note), and not when given a tag file or not expanding tags.
#[test]
fn expanding_a_stale_embedded_snapshot_says_so_on_stderr() {
    let version = isenet(&["--version"]);
    let stale: Vec<&str> = version.stderr.lines().filter(|l| l.contains("embedded Public")).collect();
    let dir = tempdir("stale");
    let out = |name: &str| dir.join(name).to_str().unwrap().to_string();
    let tags = workspace().join("data/servicetags/ServiceTags_Public_20251028.json");
    let expanded = isenet(&["compile", "--expand-tags", "--out-dir", &out("a")]);
    assert_eq!(expanded.code, Some(0));
    // Beside the note, the expanded example's W1008 (over Azure's addresses per NSG side).
    let notes: Vec<&str> = expanded.stderr.lines().filter(|l| l.starts_with("note: ")).collect();
    assert_eq!(notes, stale, "{}", expanded.stderr);
    assert!(expanded.stderr.contains("warning[W1008]"), "{}", expanded.stderr);
    // verify fails such an NSG (F0107), so the compile's proof line does not say ok.
    assert!(
        expanded
            .stdout
            .contains("proof: findings (the rules are proved, but the NSG is over Azure's address limit, W1008"),
        "{}",
        expanded.stdout
    );
    for args in [
        vec![
            "compile",
            "--expand-tags",
            "--service-tags",
            tags.to_str().unwrap(),
            "--out-dir",
            &out("b"),
        ],
        vec!["compile", "--out-dir", &out("c")],
    ] {
        let run = isenet(&args);
        assert_eq!(run.code, Some(0), "{args:?}");
        assert!(!run.stderr.contains("note: "), "{args:?}: {}", run.stderr);
    }
}

#[test]
fn az_list_service_tags_output_compiles_like_the_weekly_download() {
    let weekly_path = workspace().join("data/servicetags/ServiceTags_Public_20251028.json");
    let mut doc: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&weekly_path).unwrap()).unwrap();
    // Reshape the weekly file as the API returns it: string change numbers, resource fields.
    let n = doc["changeNumber"].as_u64().unwrap();
    doc["changeNumber"] = n.to_string().into();
    doc["id"] = "/subscriptions/00000000-0000-0000-0000-000000000000/providers/Microsoft.Network/serviceTags/Public".into();
    doc["type"] = "Microsoft.Network/serviceTags".into();
    for v in doc["values"].as_array_mut().unwrap() {
        let c = v["properties"]["changeNumber"].as_u64().unwrap_or(1);
        v["properties"]["changeNumber"] = c.to_string().into();
        v["properties"]["state"] = "GA".into();
        v["serviceTagChangeNumber"] = n.to_string().into();
    }
    let dir = tempdir("az-tags");
    let az = dir.join("az.json");
    std::fs::write(&az, serde_json::to_string(&doc).unwrap()).unwrap();
    let (a, w) = (dir.join("from-az"), dir.join("from-weekly"));
    for (tags, out) in [(&az, &a), (&weekly_path, &w)] {
        let run = isenet(&[
            "compile",
            "--service-tags",
            tags.to_str().unwrap(),
            "--out-dir",
            out.to_str().unwrap(),
        ]);
        assert_eq!(run.code, Some(0), "{}", run.stderr);
    }
    for f in ["nsg.json", "route-table.json", "plan.json"] {
        assert_eq!(std::fs::read(a.join(f)).unwrap(), std::fs::read(w.join(f)).unwrap(), "{f}");
    }
}

/// Stdin is read to one byte past the 64 MiB ceiling: the message says it is larger, not a size
/// it does not know (a file's size is known and said).
#[test]
fn an_input_over_the_ceiling_on_stdin_is_said_to_be_larger() {
    let over = vec![b' '; (64 << 20) + 10];
    let (code, out, _) = isenet_with_stdin(&["--error-format", "json", "validate", "--env", "-"], &over);
    assert_eq!(code, Some(2));
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    let d = &doc["diagnostics"][0];
    assert_eq!(
        (&d["code"], &d["file"]),
        (&serde_json::json!("E0004"), &serde_json::json!("<stdin>")),
        "{doc}"
    );
    assert_eq!(d["message"], "the input is larger than 64 MiB, the most isenet reads", "{doc}");
}
