//! What `--help`, `isenet man` and `isenet completions` tell a user: every subcommand at every depth
//! ends its help with examples that fit a 100-column terminal, the `explain --expect` examples hold
//! against the example environment, the man page documents nested subcommands' options, and bash
//! completes `explain --protocol` with the protocols.

use crate::common::{isenet, isenet_in};

/// Every subcommand path (`["tags", "show"]`), found by reading each help's `Commands:` list.
fn subcommands() -> Vec<Vec<String>> {
    let mut found = Vec::new();
    let mut todo: Vec<Vec<String>> = vec![vec![]];
    while let Some(path) = todo.pop() {
        let args: Vec<&str> = path.iter().map(String::as_str).chain(["--help"]).collect();
        let r = isenet(&args);
        assert_eq!(r.code, Some(0), "isenet {args:?}: {}", r.stderr);
        let commands = r.stdout.lines().skip_while(|l| *l != "Commands:").skip(1);
        // A command's line is indented by two; its description's wrapped lines by more.
        for line in commands.take_while(|l| l.starts_with("  ")).filter(|l| !l.starts_with("   ")) {
            let name = line.split_whitespace().next().unwrap().to_string();
            if name != "help" {
                let mut sub = path.clone();
                sub.push(name);
                todo.push(sub.clone());
                found.push(sub);
            }
        }
    }
    found.sort();
    found
}

/// The lines of a subcommand's `Examples:` section (None when it has none).
fn examples(path: &[String]) -> Option<Vec<String>> {
    let args: Vec<&str> = path.iter().map(String::as_str).chain(["--help"]).collect();
    let help = isenet(&args).stdout;
    let at = help.find("\nExamples:\n")?;
    Some(help[at..].lines().skip(2).map(str::to_string).collect())
}

#[test]
fn every_subcommand_at_every_depth_ends_its_help_with_examples_that_fit_100_columns() {
    let all = subcommands();
    for nested in [["tags", "show"], ["tags", "diff"]] {
        assert!(all.iter().any(|p| p == &nested), "{nested:?} not found in {all:?}");
    }
    for path in &all {
        let lines = examples(path).unwrap_or_else(|| panic!("isenet {} --help has no Examples section", path.join(" ")));
        assert!(!lines.is_empty(), "isenet {}: empty Examples section", path.join(" "));
        for line in lines {
            // Longer lines wrap on a 100-column terminal, leaving part of a command (or its
            // comment) as a bare line.
            assert!(
                line.chars().count() <= 100,
                "isenet {} --help: example wider than 100 columns: {line}",
                path.join(" ")
            );
            let text = line.trim_start();
            assert!(
                line.starts_with("  ") && ["isenet ", "az ", "# "].iter().any(|p| text.starts_with(p)),
                "isenet {} --help: example line is neither a command nor a comment: {line:?}",
                path.join(" ")
            );
        }
    }
}

#[test]
fn every_explain_expect_example_holds_against_the_example_environment() {
    // The examples name env.json: here the embedded example that `isenet example` prints.
    let dir = crate::common::scratch("help", "examples");
    std::fs::write(dir.join("env.json"), isenet(&["example"]).stdout).unwrap();
    let mut ran = Vec::new();
    for path in subcommands() {
        for line in examples(&path).unwrap_or_default() {
            let command = line.split(" #").next().unwrap().trim();
            let words: Vec<&str> = command.split_whitespace().collect();
            if words.starts_with(&["isenet", "explain"]) && words.contains(&"--expect") {
                let r = isenet_in(&dir, &words[1..]);
                assert_eq!(
                    r.code,
                    Some(0),
                    "`{command}` (from isenet {} --help):\n{}{}",
                    path.join(" "),
                    r.stdout,
                    r.stderr
                );
                ran.push(words[words.iter().position(|w| *w == "--expect").unwrap() + 1].to_string());
            }
        }
    }
    ran.sort();
    assert_eq!(ran, ["allow", "deny"], "the help should show one --expect example of each verdict");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The roff of one `.SH "ISENET ..."` section of the man page.
fn man_section<'m>(man: &'m str, heading: &str) -> &'m str {
    let start = man
        .find(&format!(".SH \"{heading}\"\n"))
        .unwrap_or_else(|| panic!("no section {heading}"));
    let rest = &man[start + 1..];
    &rest[..rest.find("\n.SH \"ISENET ").unwrap_or(rest.len())]
}

#[test]
fn the_man_page_documents_nested_subcommands_and_names_no_unshipped_pages() {
    let r = isenet(&["man"]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let man = r.stdout;
    let show = man_section(&man, "ISENET TAGS SHOW");
    for flag in ["\\-\\-location", "\\-\\-cloud", "\\-\\-service\\-tags", "\\-\\-format"] {
        assert!(show.contains(flag), "tags show lacks {flag}:\n{show}");
    }
    let diff = man_section(&man, "ISENET TAGS DIFF");
    for flag in ["\\-\\-fail\\-on", "\\-\\-env\\-dir", "\\-\\-expand\\-tags", "\\-\\-all"] {
        assert!(diff.contains(flag), "tags diff lacks {flag}:\n{diff}");
    }
    // Every subcommand has its section, with its own options.
    for path in subcommands() {
        let heading = format!("ISENET {}", path.join(" ").to_uppercase());
        assert!(man_section(&man, &heading).contains(".SH OPTIONS"), "{heading}");
    }
    // Only isenet(1) is shipped: no isenet-explain(1) and the like.
    assert!(!man.contains("isenet\\-"), "the man page points to pages that are not generated");
    assert!(!man.contains("(1)\n"), "the man page points to another page");
}

#[test]
fn bash_completes_explain_protocol_with_the_protocols() {
    let r = isenet(&["completions", "bash"]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let at = r.stdout.find("--protocol)").expect("a --protocol case");
    let case: String = r.stdout[at..].lines().take(3).collect::<Vec<_>>().join("\n");
    assert!(case.contains("compgen -W \"tcp udp icmp esp ah *\""), "{case}");
    // The inputs accepted before stay accepted: any case, and `any`.
    for protocol in ["TCP", "Udp", "any", "*"] {
        let port = if protocol == "Udp" { "53" } else { "443" };
        let r = isenet(&[
            "explain",
            "--from",
            "10.10.1.5",
            "--to",
            "Storage",
            "--port",
            port,
            "--protocol",
            protocol,
        ]);
        assert_eq!(r.code, Some(0), "--protocol {protocol}: {}", r.stderr);
    }
    let r = isenet(&["explain", "--from", "10.10.1.5", "--to", "Storage", "--protocol", "gre"]);
    assert_eq!(r.code, Some(2), "{}", r.stdout);
    assert!(r.stderr.contains("not an NSG protocol"), "{}", r.stderr);
}
