//! Command-line errors as coded diagnostics: clap's error kind picks the code, and the run's
//! `--error-format` (read from the raw arguments, since parsing failed) picks text or JSON.

use crate::args::{ColorArg, ErrorFormat};
use clap::error::{ContextKind, ContextValue, ErrorKind};
use ise_model::codes::{E_USAGE_MISSING, E_USAGE_OTHER, E_USAGE_UNKNOWN, E_USAGE_VALUE};
use ise_model::diag::Diagnostic;

/// What the command line is called in a diagnostic's file field.
pub const COMMAND_LINE: &str = "<command line>";

pub fn code(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::UnknownArgument | ErrorKind::InvalidSubcommand => E_USAGE_UNKNOWN,
        ErrorKind::InvalidValue | ErrorKind::ValueValidation | ErrorKind::InvalidUtf8 => E_USAGE_VALUE,
        ErrorKind::MissingRequiredArgument | ErrorKind::MissingSubcommand | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            E_USAGE_MISSING
        }
        _ => E_USAGE_OTHER,
    }
}

/// The value of the last `--flag VALUE` or `--flag=VALUE` among the raw arguments.
fn raw_value(args: &[std::ffi::OsString], flag: &str) -> Option<String> {
    let args: Vec<String> = args.iter().map(|a| a.to_string_lossy().into_owned()).collect();
    let eq = format!("{flag}=");
    args.iter().enumerate().rev().find_map(|(i, a)| match a.strip_prefix(&eq) {
        Some(v) => Some(v.to_string()),
        None if a == flag => args.get(i + 1).cloned(),
        None => None,
    })
}

/// `--error-format json` (or `=json`) among the arguments, or a command's `--format json`: its
/// report is JSON, so a usage error is too (stdout is never left empty).
pub fn requested_format(args: &[std::ffi::OsString]) -> ErrorFormat {
    match (raw_value(args, "--error-format").as_deref(), raw_value(args, "--format").as_deref()) {
        (Some("json"), _) | (_, Some("json")) => ErrorFormat::Json,
        _ => ErrorFormat::Text,
    }
}

/// A CI report format (`--format sarif|junit|github|azure-devops`) among the arguments: a run
/// refused before its command parsed (a usage error, stdin given twice) still writes that
/// document, holding the diagnostic.
pub fn requested_report(args: &[std::ffi::OsString]) -> Option<crate::args::VerifyFormat> {
    use crate::args::VerifyFormat;
    use clap::ValueEnum;
    let format = VerifyFormat::from_str(&raw_value(args, "--format")?, true).ok()?;
    (!matches!(format, VerifyFormat::Text | VerifyFormat::Json)).then_some(format)
}

/// Whether a bare flag is among the arguments (`--deny-warnings` before the parse).
pub fn has_flag(args: &[std::ffi::OsString], flag: &str) -> bool {
    args.iter().any(|a| a == flag)
}

/// `--color` among the arguments, for the output printed before (or instead of) a parse: help and
/// usage errors.
pub fn requested_color(args: &[std::ffi::OsString]) -> ColorArg {
    match raw_value(args, "--color").as_deref() {
        Some("always") => ColorArg::Always,
        Some("never") => ColorArg::Never,
        _ => ColorArg::Auto,
    }
}

/// clap's rendered error with a long offending value or argument (a `--port` of 100,000
/// characters) quoted as its first characters and its length, as every message quotes values
/// (`diag::excerpt`): clap echoes them whole.
pub fn rendered(err: &clap::Error) -> String {
    let mut text = err.render().to_string();
    for kind in [ContextKind::InvalidValue, ContextKind::InvalidArg] {
        if let Some(ContextValue::String(v)) = err.get(kind) {
            let short = ise_model::diag::excerpt(v);
            if short != v.as_str() {
                text = text.replace(v.as_str(), &short);
            }
        }
    }
    text
}

/// clap's error as one diagnostic: the offending option as the path, clap's first line as the
/// message, its tips (`a similar argument exists`) as the help.
pub fn diagnostic(err: &clap::Error) -> Diagnostic {
    let rendered = rendered(err);
    let mut lines = rendered.lines();
    let message = lines.next().unwrap_or_default().trim_start_matches("error: ").to_string();
    let tips: Vec<&str> = lines.map(str::trim).filter(|l| l.starts_with("tip:")).collect();
    let arg = match err.get(ContextKind::InvalidArg) {
        Some(ContextValue::String(s)) => ise_model::diag::excerpt(s.split_whitespace().next().unwrap_or_default()).into_owned(),
        Some(ContextValue::Strings(v)) => v
            .first()
            .map(|s| s.split_whitespace().next().unwrap_or_default().to_string())
            .unwrap_or_default(),
        _ => match err.get(ContextKind::InvalidSubcommand) {
            Some(ContextValue::String(s)) => s.clone(),
            _ => String::new(),
        },
    };
    let help = if tips.is_empty() {
        "run `isenet --help` or `isenet <command> --help` for the options".to_string()
    } else {
        tips.iter()
            .map(|t| t.trim_start_matches("tip:").trim())
            .collect::<Vec<_>>()
            .join("; ")
    };
    Diagnostic::error(code(err.kind()), arg, message)
        .with_help(help)
        .in_file(COMMAND_LINE)
}

/// `E1804` when standard input (`-`) is given to more than one input: found on the command line
/// before anything is read, so the message names the options instead of the second reader
/// failing on what the first left (or, worse, parsing the other input's text as its own).
pub fn stdin_twice(argv: &[std::ffi::OsString]) -> Option<Diagnostic> {
    let args: Vec<&str> = argv.iter().map(|a| a.to_str().unwrap_or_default()).collect();
    let takers: Vec<String> = args
        .iter()
        .enumerate()
        .skip(1)
        .filter_map(|(i, a)| match (a.strip_suffix("=-"), *a == "-") {
            (Some(option), _) if option.starts_with("--") => Some(option.to_string()),
            (_, true) if args[i - 1].starts_with('-') && args[i - 1] != "-" => Some(args[i - 1].to_string()),
            (_, true) => Some("ENV".to_string()),
            _ => None,
        })
        .collect();
    (takers.len() > 1).then(|| {
        Diagnostic::error(
            ise_model::codes::E_STDIN_TWICE,
            takers.join(", "),
            format!("standard input (`-`) is given to {}: it can be read once", takers.join(" and ")),
        )
        .with_help("give all inputs but one as files")
        .in_file(COMMAND_LINE)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::args::Cli;
    use clap::Parser;

    fn parse_err(args: &[&str]) -> Diagnostic {
        diagnostic(&Cli::try_parse_from(args).expect_err("a usage error"))
    }

    #[test]
    fn standard_input_named_twice_is_refused_naming_both_options() {
        let argv = |a: &[&str]| a.iter().map(std::ffi::OsString::from).collect::<Vec<_>>();
        let d = stdin_twice(&argv(&["isenet", "verify", "--env", "e.json", "--nsg", "-", "--routes=-"])).expect("refused");
        assert_eq!((d.code, d.path.as_str()), ("E1804", "--nsg, --routes"));
        let d = stdin_twice(&argv(&["isenet", "verify", "-", "--nsg", "-"])).expect("refused");
        assert_eq!(d.path, "ENV, --nsg");
        assert!(stdin_twice(&argv(&["isenet", "verify", "--env", "-", "--nsg", "n.json"])).is_none());
        assert!(stdin_twice(&argv(&["isenet", "explain", "--flows", "-"])).is_none());
    }

    #[test]
    fn each_class_of_usage_error_has_its_code_and_names_the_option() {
        let d = parse_err(&["isenet", "compile", "--bogus"]);
        assert_eq!((d.code, d.path.as_str()), (E_USAGE_UNKNOWN, "--bogus"));
        let d = parse_err(&["isenet", "explain", "--from", "a", "--to", "b", "--port", "70000"]);
        assert_eq!((d.code, d.path.as_str()), (E_USAGE_VALUE, "--port"));
        let d = parse_err(&["isenet", "explain", "--from", "a", "--to", "b", "--port", "1", "--protocol", "sctp"]);
        assert_eq!((d.code, d.path.as_str()), (E_USAGE_VALUE, "--protocol"));
        let d = parse_err(&["isenet", "explain", "--from", "a", "--port", "1"]);
        assert_eq!(d.code, E_USAGE_MISSING);
        let d = parse_err(&["isenet", "frobnicate"]);
        assert_eq!((d.code, d.path.as_str()), (E_USAGE_UNKNOWN, "frobnicate"));
        assert_eq!(d.file, COMMAND_LINE);
    }

    #[test]
    fn the_error_format_is_found_in_either_spelling() {
        let os = |v: &[&str]| v.iter().map(std::ffi::OsString::from).collect::<Vec<_>>();
        assert_eq!(requested_format(&os(&["isenet", "--error-format", "json", "x"])), ErrorFormat::Json);
        assert_eq!(requested_format(&os(&["isenet", "x", "--error-format=json"])), ErrorFormat::Json);
        assert_eq!(requested_format(&os(&["isenet", "x", "--error-format", "text"])), ErrorFormat::Text);
        assert_eq!(requested_format(&os(&["isenet", "json"])), ErrorFormat::Text);
        // A JSON report asks for JSON errors too; a SARIF one does not.
        assert_eq!(requested_format(&os(&["isenet", "x", "--format", "json"])), ErrorFormat::Json);
        assert_eq!(requested_format(&os(&["isenet", "x", "--format=sarif"])), ErrorFormat::Text);
        assert_eq!(requested_color(&os(&["isenet", "--color", "never", "x"])), ColorArg::Never);
        assert_eq!(requested_color(&os(&["isenet", "x", "--color=always"])), ColorArg::Always);
        assert_eq!(requested_color(&os(&["isenet", "x"])), ColorArg::Auto);
    }
}
