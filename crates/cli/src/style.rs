//! Colour for people, never for machines. `--color` (with `NO_COLOR` and `CLICOLOR_FORCE` under
//! `auto`, and whether the stream is a terminal) is resolved once per stream at start-up by anstream,
//! the crate clap already styles its help with. Only text output calls [`paint`]; machine formats
//! (JSON, SARIF, JUnit, annotation commands) are printed as built and so never hold an escape code.

use crate::args::ColorArg;
use anstyle::{AnsiColor, Style};
use std::sync::OnceLock;

/// Whether stdout and stderr take colour, decided by [`init`].
static COLOR: OnceLock<(bool, bool)> = OnceLock::new();

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

/// What a piece of text is, which picks its style.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Role {
    Error,
    Warning,
    Note,
    Ok,
    Code,
    Help,
}

impl Role {
    fn style(self) -> Style {
        let fg = |c: AnsiColor| Style::new().fg_color(Some(c.into()));
        match self {
            Role::Error => fg(AnsiColor::Red).bold(),
            Role::Warning => fg(AnsiColor::Yellow).bold(),
            Role::Note => fg(AnsiColor::Cyan),
            Role::Ok => fg(AnsiColor::Green).bold(),
            Role::Code => Style::new().bold(),
            Role::Help => fg(AnsiColor::Cyan).bold(),
        }
    }
}

/// Resolves `--color` for both streams (anstream's rules: `NO_COLOR` non-empty wins over
/// `CLICOLOR_FORCE`, then whether the stream is a terminal). Called once, before any output.
pub fn init(choice: ColorArg) {
    // CLICOLOR's convention forces colour when CLICOLOR_FORCE is set and not 0; anstream takes any
    // non-empty value. A value of 0 (or blank) is dropped before anything reads it (clap too).
    if std::env::var_os("CLICOLOR_FORCE").is_some_and(|v| clicolor_force_off(&v.to_string_lossy())) {
        // SAFETY: called first thing in `main`, before any other thread exists.
        unsafe { std::env::remove_var("CLICOLOR_FORCE") };
    }
    let global = match choice {
        ColorArg::Auto => anstream::ColorChoice::Auto,
        ColorArg::Always => anstream::ColorChoice::AlwaysAnsi,
        ColorArg::Never => anstream::ColorChoice::Never,
    };
    global.write_global();
    let on = |c: anstream::ColorChoice| c != anstream::ColorChoice::Never;
    let _ = COLOR.set((
        on(anstream::AutoStream::choice(&std::io::stdout())),
        on(anstream::AutoStream::choice(&std::io::stderr())),
    ));
}

/// A CLICOLOR_FORCE that forces nothing: blank, or a number equal to 0 (`0`, `00`).
fn clicolor_force_off(value: &str) -> bool {
    let v = value.trim();
    v.is_empty() || v.parse::<u64>() == Ok(0)
}

fn enabled(stream: Stream) -> bool {
    let (out, err) = COLOR.get().copied().unwrap_or((false, false));
    match stream {
        Stream::Stdout => out,
        Stream::Stderr => err,
    }
}

/// `text` in the role's style when `stream` takes colour, else as is.
pub fn paint(stream: Stream, role: Role, text: &str) -> String {
    if enabled(stream) {
        let style = role.style();
        format!("{}{text}{}", style.render(), style.render_reset())
    } else {
        text.to_string()
    }
}

/// The role of a result word of a summary table (`ok`, `valid`, `findings`, `invalid`...).
pub fn result_role(word: &str) -> Role {
    match word {
        "ok" | "valid" | "up to date" | "unchanged" => Role::Ok,
        "findings" | "changed" | "effective" | "stale" => Role::Warning,
        _ => Role::Error,
    }
}

/// The role of a severity word (`error`, `warning`, `note`).
pub fn severity_role(word: &str) -> Role {
    match word {
        "error" => Role::Error,
        "warning" => Role::Warning,
        _ => Role::Note,
    }
}

/// A diagnostic's text (`error[E0108]: file:3:5: path: message` + `  help: ...`) with its severity
/// and code coloured.
pub fn diagnostic(stream: Stream, text: &str) -> String {
    let mut out = String::new();
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        if let Some(help) = line.strip_prefix("  help:") {
            out += &format!("  {}{help}", paint(stream, Role::Help, "help:"));
        } else if let Some((head, rest)) = line.split_once("]:").filter(|_| i == 0) {
            out += &head_with_code(stream, head);
            out += &format!("{}{rest}", paint(stream, Role::Code, "]:"));
        } else {
            out += line;
        }
    }
    out
}

/// `error[E0108` with the severity word in its colour and the code in bold.
fn head_with_code(stream: Stream, head: &str) -> String {
    let Some((word, code)) = head.split_once('[') else {
        return head.to_string();
    };
    let role = severity_role(word);
    format!("{}{}", paint(stream, role, word), paint(stream, Role::Code, &format!("[{code}")))
}

/// verify's text report with each finding's severity (`  error   F0102 ...`), the covered
/// requirements' `ok` and the closing `result:` line coloured.
pub fn verify_text(text: &str) -> String {
    if !enabled(Stream::Stdout) {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let word = line.trim_start().split(' ').next().unwrap_or_default();
        let role = match word {
            "error" => Some(Role::Error),
            "warning" => Some(Role::Warning),
            "note" => Some(Role::Note),
            "ok" => Some(Role::Ok),
            _ => None,
        };
        match (role, line.strip_prefix("result: ")) {
            (_, Some(result)) => {
                let r = result.trim_end();
                let role = if r == "ok" { Role::Ok } else { Role::Error };
                out += &format!("result: {}\n", paint(Stream::Stdout, role, r));
            }
            (Some(role), None) if line.starts_with("  ") => {
                let at = line.find(word).unwrap_or(0);
                out += &line[..at];
                out += &paint(Stream::Stdout, role, word);
                out += &line[at + word.len()..];
            }
            _ => out += line,
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_colour_text_is_unchanged() {
        // Tests run with COLOR unset: no stream takes colour.
        let d = "error[E0108]: env.json:3:5: subnets: bad\n  help: fix it";
        assert_eq!(diagnostic(Stream::Stderr, d), d);
        assert_eq!(verify_text("  error   F0102 x\nresult: ok\n"), "  error   F0102 x\nresult: ok\n");
        assert_eq!(paint(Stream::Stdout, Role::Ok, "ok"), "ok");
    }
}
