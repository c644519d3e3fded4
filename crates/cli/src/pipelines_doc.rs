//! docs/pipelines/ holds an Azure Pipelines YAML and a GitHub Actions workflow. This test parses both
//! and checks every `isenet` command in their scripts against the CLI's own parser, so the examples
//! cannot drift from the flags. (tests/e2e/pipeline_examples.rs runs their offline steps.)

use crate::args::Cli;
use clap::Parser;
use serde_norway::Value;

const FILES: [(&str, &str); 2] = [
    ("azure-pipelines.yml", include_str!("../../../docs/pipelines/azure-pipelines.yml")),
    ("github-actions.yml", include_str!("../../../docs/pipelines/github-actions.yml")),
];

/// Every string under a `run`, `script` or `inlineScript` key.
fn scripts(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Mapping(m) => {
            for (k, v) in m {
                match (k.as_str(), v.as_str()) {
                    (Some("run" | "script" | "inlineScript"), Some(s)) => out.push(s.to_string()),
                    _ => scripts(v, out),
                }
            }
        }
        Value::Sequence(s) => s.iter().for_each(|v| scripts(v, out)),
        _ => {}
    }
}

/// Shell words of a command, quotes removed, up to a redirection or `||`.
fn words(command: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut any = false;
    for c in command.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => cur.push(c),
            (None, '"' | '\'') => {
                quote = Some(c);
                any = true;
            }
            (None, c) if c.is_whitespace() => {
                if !cur.is_empty() || any {
                    out.push(std::mem::take(&mut cur));
                    any = false;
                }
            }
            (None, c) => cur.push(c),
        }
    }
    if !cur.is_empty() || any {
        out.push(cur);
    }
    let end = out
        .iter()
        .position(|w| w.starts_with('>') || w == "||" || w == "&&")
        .unwrap_or(out.len());
    out.truncate(end);
    out
}

/// The `isenet ...` commands of a script: continuation lines joined, pipelines split.
fn isenet_commands(script: &str) -> Vec<Vec<String>> {
    script
        .replace("\\\n", " ")
        .lines()
        .flat_map(|l| l.split('|').map(str::trim).map(str::to_string).collect::<Vec<_>>())
        .map(|c| words(&c))
        .filter(|w| w.first().is_some_and(|w| w == "isenet"))
        .collect()
}

#[test]
fn every_isenet_command_in_the_pipeline_examples_parses() {
    for (name, text) in FILES {
        let doc: Value = serde_norway::from_str(text).unwrap_or_else(|e| panic!("docs/pipelines/{name}: {e}"));
        let mut found = Vec::new();
        scripts(&doc, &mut found);
        let commands: Vec<Vec<String>> = found.iter().flat_map(|s| isenet_commands(s)).collect();
        let subcommands: std::collections::BTreeSet<&str> = commands.iter().map(|c| c[1].as_str()).collect();
        assert_eq!(
            subcommands.into_iter().collect::<Vec<_>>(),
            ["compile", "explain", "tags", "validate", "verify"],
            "{name}: validate, compile --check, verify, the smoke test and the weekly tags diff"
        );
        for c in &commands {
            if let Err(e) = Cli::try_parse_from(c) {
                panic!("docs/pipelines/{name}: `{}` does not parse: {e}", c.join(" "));
            }
        }
        // What each example must show (words of one command, each flag with its value).
        let shown: [&[&str]; 7] = [
            &["compile", "--check"],
            &["verify", "--format sarif"],
            &["explain", "--flows"],
            &["validate", "envs/*.json"],
            &["compile", "--env-dir envs", "--check", "--out-dir deploy"],
            &["verify", "--env-dir envs", "--artifacts-dir deploy"],
            &["verify", "--env-dir envs", "--artifacts-dir deployed", "--format sarif"],
        ];
        for words in shown {
            assert!(
                commands.iter().any(|c| has_all(c, words)),
                "docs/pipelines/{name}: no command with {words:?}"
            );
        }
    }
}

/// Whether a command holds each of `words` (a `--flag value` pair as adjacent words).
fn has_all(command: &[String], words: &[&str]) -> bool {
    words.iter().all(|w| {
        let w: Vec<&str> = w.split(' ').collect();
        command.windows(w.len()).any(|c| c.iter().zip(&w).all(|(a, b)| a == b))
    })
}

#[test]
fn the_command_splitter_handles_quotes_pipes_and_redirections() {
    let got = isenet_commands("az x -o json \\\n  | isenet verify --env \"a b.json\" --nsg - --format sarif > out.sarif\necho hi");
    assert_eq!(got, [["isenet", "verify", "--env", "a b.json", "--nsg", "-", "--format", "sarif"]]);
    // A bad flag is caught by the parser the test uses.
    assert!(Cli::try_parse_from(["isenet", "verify", "--nsg", "x", "--format", "pdf"]).is_err());
}
