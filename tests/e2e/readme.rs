//! README is part of the contract: its Quick start holds the two commands, and its code table
//! lists every diagnostic code of the registry.

fn readme() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md")).unwrap()
}

#[test]
fn every_code_is_documented_once() {
    let text = readme();
    for c in ise_model::codes::ALL {
        let row = format!("| `{}` | ", c.code);
        assert_eq!(text.matches(&row).count(), 1, "README code table row for {}", c.code);
    }
}

#[test]
fn every_finding_code_is_documented_once() {
    let text = readme();
    for c in rules_compiler::prove::findings::finding_codes() {
        let row = format!("| `{}` | {} | {} | ", c.code, c.name, c.severity.as_str());
        assert_eq!(text.matches(&row).count(), 1, "README finding table row for {}", c.code);
    }
}

#[test]
fn quick_start_runs_compile_and_the_tests() {
    let text = readme();
    let start = text.find("## Quick start").expect("Quick start section");
    let block = &text[start..];
    let fence = block.find("```sh\n").expect("a fenced block") + 6;
    let end = block[fence..].find("```").unwrap();
    let commands: Vec<&str> = block[fence..fence + end].lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(
        commands,
        ["cargo run --release -p isenet -- compile", "cargo test --workspace --release"]
    );
    let ci = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../.ci/run")).unwrap();
    assert!(ci.contains(commands[1]), ".ci/run runs the README's test command");
}
