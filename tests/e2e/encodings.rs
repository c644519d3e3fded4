//! Input encodings: UTF-16 with a byte-order mark (what Windows PowerShell 5.1's `az ... > file`
//! writes) is read like the same text in UTF-8; a byte that is not UTF-8 is `E0008` at its line
//! and column, in any input (environment, NSG, flows file, standard input).

use super::common::{isenet, workspace, Run};
use super::pipeline::{isenet_with_stdin, tempdir};
use ise_model::codes::E_ENCODING;
use std::path::{Path, PathBuf};

const ENV: &str = "tests/envs/firewall-tunneling.json";

fn utf16(text: &str, big_endian: bool) -> Vec<u8> {
    let units = text.encode_utf16();
    if big_endian {
        [0xFE, 0xFF].into_iter().chain(units.flat_map(u16::to_be_bytes)).collect()
    } else {
        [0xFF, 0xFE].into_iter().chain(units.flat_map(u16::to_le_bytes)).collect()
    }
}

/// The environment's compiled NSG (pretty-printed JSON over many lines).
fn compiled_nsg(dir: &Path) -> String {
    let out = dir.join("out");
    let run = isenet(&["compile", "--env", ENV, "--only", "nsg", "--out-dir", out.to_str().unwrap()]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    std::fs::read_to_string(out.join("nsg.json")).unwrap()
}

fn put(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// The output with every occurrence of `file` replaced by `NSG`, to compare runs on two files.
fn named(run: &Run, file: &Path) -> (Option<i32>, String) {
    (run.code, run.stdout.replace(s(file), "NSG"))
}

#[test]
fn a_utf16_nsg_with_its_byte_order_mark_is_verified_like_the_utf8_one() {
    let dir = tempdir("enc-utf16");
    let nsg = compiled_nsg(&dir);
    let utf8 = put(&dir, "nsg.json", nsg.as_bytes());
    let expected = named(&isenet(&["verify", "--env", ENV, "--nsg", s(&utf8)]), &utf8);
    assert_eq!(expected.0, Some(0), "the compiled NSG proves");
    for big_endian in [false, true] {
        let file = put(&dir, &format!("nsg-utf16-{big_endian}.json"), &utf16(&nsg, big_endian));
        let run = isenet(&["verify", "--env", ENV, "--nsg", s(&file)]);
        assert_eq!(named(&run, &file), expected, "big endian: {big_endian}\n{}", run.stderr);
    }
    // Piped, as `az network nsg show ... | isenet verify --nsg -` from PowerShell.
    let (code, out, err) = isenet_with_stdin(&["verify", "--env", ENV, "--nsg", "-"], &utf16(&nsg, false));
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("result: ok"), "{out}");
}

#[test]
fn a_utf16_file_s_problems_are_placed_as_in_the_utf8_file() {
    let dir = tempdir("enc-utf16-positions");
    let env = std::fs::read_to_string(workspace().join(ENV)).unwrap();
    let broken = env.replacen("\"cloud\": \"public\"", "\"cloud\": \"Public\"", 1);
    assert_ne!(broken, env, "the fixture names its cloud");
    let utf8 = put(&dir, "env-utf8.json", broken.as_bytes());
    let wide = put(&dir, "env-utf16.json", &utf16(&broken, false));
    let position = |p: &Path| {
        let doc = isenet(&["--error-format", "json", "validate", "--env", s(p)]).json();
        let d = &doc["diagnostics"][0];
        (d["code"].clone(), d["line"].clone(), d["column"].clone())
    };
    assert_eq!(position(&wide), position(&utf8));
    assert_eq!(
        isenet(&["validate", "--env", s(&put(&dir, "ok.json", &utf16(&env, false)))]).code,
        Some(0)
    );
}

#[test]
fn a_byte_that_is_not_utf8_is_refused_at_its_line_and_column() {
    let dir = tempdir("enc-latin1");
    let nsg = compiled_nsg(&dir);
    // A Windows-1252 `é` (one byte, 0xE9) inside a rule name far down the file.
    let lines: Vec<&str> = nsg.lines().collect();
    let line = lines.iter().rposition(|l| l.contains("\"name\": \"")).unwrap();
    let column = lines[line].find("\"name\": \"").unwrap() + "\"name\": \"".len();
    let mut bytes = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        if i == line {
            bytes.extend_from_slice(&l.as_bytes()[..column]);
            bytes.push(0xE9);
            bytes.extend_from_slice(&l.as_bytes()[column..]);
        } else {
            bytes.extend_from_slice(l.as_bytes());
        }
        bytes.push(b'\n');
    }
    assert!(line > 100, "far into a large file: line {}", line + 1);
    let file = put(&dir, "nsg-latin1.json", &bytes);
    let run = isenet(&["--error-format", "json", "verify", "--env", ENV, "--nsg", s(&file)]);
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    let doc = run.json();
    let d = &doc["diagnostics"][0];
    assert_eq!(d["code"], E_ENCODING, "{doc}");
    assert_eq!(d["file"], s(&file));
    // Lines and columns count from 1; the byte follows `column` ASCII characters.
    assert_eq!(
        (d["line"].as_u64(), d["column"].as_u64()),
        (Some(line as u64 + 1), Some(column as u64 + 1)),
        "{doc}"
    );
    assert!(d["message"].as_str().unwrap().contains("0xE9"), "{doc}");

    // A flows file and an environment the same way, in text.
    let flows = put(
        &dir,
        "flows.csv",
        b"from,to,port\n10.10.1.5,Storage,443\n10.10.1.5,Stor\xe9ge,443\n",
    );
    let run = isenet(&["explain", "--env", ENV, "--flows", s(&flows)]);
    assert_eq!(run.code, Some(2));
    assert!(
        run.stderr.contains(&format!("error[E0008]: {}:3:15: ", s(&flows))),
        "{}",
        run.stderr
    );
    let env = put(&dir, "env.json", b"{\n  \"name\": \"caf\xe9\"\n}\n");
    let run = isenet(&["validate", "--env", s(&env)]);
    assert_eq!(run.code, Some(2));
    assert!(run.stderr.contains(&format!("error[E0008]: {}:2:15: ", s(&env))), "{}", run.stderr);
}
