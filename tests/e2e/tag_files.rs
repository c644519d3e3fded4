//! The byte-level side of the tag-file fuzzing (crates/ise-model/tests/tag_fuzz.rs holds the
//! structural mutations): what only the file path sees, through the binary. A UTF-8 byte-order mark
//! is accepted, and a UTF-16 file with its mark (as Windows PowerShell 5 writes with `>`) decoded;
//! bytes that are not UTF-8 (a stray byte, a character cut short, a NUL) are `E0008` at their line
//! and column, exit 2, never a panic.

use crate::common::{isenet, Run};
use std::path::PathBuf;

const AZ: &[u8] = include_bytes!("../fixtures/servicetags/az-list-service-tags.json");

fn show(name: &str, bytes: &[u8]) -> Run {
    let dir = crate::common::scratch("tag-files", name);
    let path: PathBuf = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    isenet(&[
        "--error-format",
        "json",
        "tags",
        "show",
        "LogicApps",
        "--service-tags",
        path.to_str().unwrap(),
    ])
}

fn code_of(run: &Run) -> String {
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}", run.stdout));
    doc["diagnostics"][0]["code"].as_str().unwrap_or_default().to_string()
}

/// The (line, column) of the first diagnostic.
fn position_of(run: &Run) -> (u64, u64) {
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}", run.stdout));
    let d = &doc["diagnostics"][0];
    (d["line"].as_u64().unwrap_or(0), d["column"].as_u64().unwrap_or(0))
}

/// The 1-based line and column of byte `at` of ASCII-only text before it.
fn line_column(bytes: &[u8], at: usize) -> (u64, u64) {
    let before = &bytes[..at];
    let line_start = before.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    (
        1 + before.iter().filter(|&&b| b == b'\n').count() as u64,
        (at - line_start + 1) as u64,
    )
}

#[test]
fn a_byte_order_mark_is_accepted() {
    let o = show("bom.json", &[b"\xef\xbb\xbf".as_slice(), AZ].concat());
    assert_eq!(o.code, Some(0), "{}", o.stderr);
    assert!(o.stdout.contains("13.65.39.247/32"), "{}", o.stdout);
}

#[test]
fn a_utf16_file_with_its_byte_order_mark_is_read_like_the_utf8_one() {
    let utf16: Vec<u8> = [0xff, 0xfe]
        .into_iter()
        .chain(String::from_utf8_lossy(AZ).encode_utf16().flat_map(u16::to_le_bytes))
        .collect();
    let o = show("utf16.json", &utf16);
    assert_eq!(o.code, Some(0), "{}", o.stdout);
    assert!(o.stdout.contains("13.65.39.247/32"), "{}", o.stdout);
}

#[test]
fn bytes_that_are_not_utf8_are_a_coded_error_at_their_position() {
    assert!(AZ.is_ascii(), "the fixture is ASCII: its byte offsets are its columns");
    let at = AZ.windows(9).position(|w| w == b"LogicApps").unwrap() + 2;
    let mut stray = AZ.to_vec();
    stray[at] = 0xff;
    // A two-byte `é` cut after its first byte, at the very end.
    let cut = [AZ, b"\"\xc3"].concat();
    // A NUL is valid UTF-8 but no text (UTF-16 without its mark reads so).
    let nul = [AZ, b"\0"].concat();
    for (name, bytes, bad) in [
        ("stray.json", &stray, at),
        ("cut.json", &cut, AZ.len() + 1),
        ("nul.json", &nul, AZ.len()),
    ] {
        let o = show(name, bytes);
        assert_eq!(o.code, Some(2), "{name}: {}", o.stderr);
        assert_eq!(code_of(&o), "E0008", "{name}: {}", o.stdout);
        assert_eq!(position_of(&o), line_column(bytes, bad), "{name}: {}", o.stdout);
    }
}
