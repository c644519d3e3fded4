//! The byte-level side of the tag-file fuzzing (crates/ise-model/tests/tag_fuzz.rs holds the
//! structural mutations): what only the file path sees, through the binary. A byte-order mark is
//! accepted; bytes that are not UTF-8 (a stray byte, a UTF-16 file as Windows PowerShell 5 writes
//! with `>`, a NUL) are a coded read error, exit 2, never a panic.

use crate::common::{isenet, Run};
use std::path::PathBuf;

const AZ: &[u8] = include_bytes!("../fixtures/servicetags/az-list-service-tags.json");

fn show(name: &str, bytes: &[u8]) -> Run {
    let dir = std::env::temp_dir().join(format!("isenet-e2e-tag-files-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
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

#[test]
fn a_byte_order_mark_is_accepted() {
    let o = show("bom.json", &[b"\xef\xbb\xbf".as_slice(), AZ].concat());
    assert_eq!(o.code, Some(0), "{}", o.stderr);
    assert!(o.stdout.contains("13.65.39.247/32"), "{}", o.stdout);
}

#[test]
fn bytes_that_are_not_utf8_are_a_coded_read_error() {
    let stray = {
        let mut b = AZ.to_vec();
        let at = AZ.windows(9).position(|w| w == b"LogicApps").unwrap();
        b[at + 2] = 0xff;
        b
    };
    let utf16: Vec<u8> = [0xff, 0xfe]
        .into_iter()
        .chain(String::from_utf8_lossy(AZ).encode_utf16().flat_map(u16::to_le_bytes))
        .collect();
    let cut_in_a_character = [AZ, "\"é".as_bytes()].concat();
    let cut = &cut_in_a_character[..cut_in_a_character.len() - 1];
    for (name, bytes) in [("stray.json", stray.as_slice()), ("utf16.json", &utf16), ("cut.json", cut)] {
        let o = show(name, bytes);
        assert_eq!(o.code, Some(2), "{name}: {}", o.stderr);
        assert_eq!(code_of(&o), "E0001", "{name}");
    }
    // A NUL is valid UTF-8 but not JSON outside a string.
    let nul = [AZ, b"\0"].concat();
    let o = show("nul.json", &nul);
    assert_eq!((o.code, code_of(&o)), (Some(2), "E0901".to_string()), "{}", o.stdout);
}
