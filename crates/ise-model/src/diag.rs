//! Diagnostics: one record per problem found, with a stable code, the file, the JSON path, the
//! position when known, what is wrong and how to fix it. Collected, never thrown: callers report
//! every problem at once.

use serde::Serialize;
use std::fmt;

/// Error fails the run (exit 2); Warning only with `--deny-warnings`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    pub code: &'static str,
    pub severity: Severity,
    pub file: String,
    /// JSON path such as `subnets[2].prefix`; empty for the whole document.
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<usize>,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn error(code: &'static str, path: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(code, Severity::Error, path, message)
    }
    pub fn warning(code: &'static str, path: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(code, Severity::Warning, path, message)
    }
    fn new(code: &'static str, severity: Severity, path: impl Into<String>, message: impl Into<String>) -> Self {
        Diagnostic {
            code,
            severity,
            file: String::new(),
            path: path.into(),
            line: None,
            column: None,
            message: message.into(),
            help: None,
        }
    }
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
    /// Positions are 1-based, as editors, SARIF (`startColumn` >= 1) and the CI annotations count
    /// them; serde_json reports the end of an empty or cut-off file as column 0, which becomes 1.
    pub fn at(mut self, line: usize, column: usize) -> Self {
        self.line = Some(line.max(1));
        self.column = Some(column.max(1));
        self
    }
    pub fn in_file(mut self, file: &str) -> Self {
        self.file = file.to_string();
        self
    }
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// The diagnostic as an error: under `--deny-warnings` a warning refuses the input, and every
    /// report (text, JSON counts, CI formats) calls it what it did.
    pub fn denied(self) -> Self {
        Diagnostic {
            severity: Severity::Error,
            ..self
        }
    }
}

impl fmt::Display for Diagnostic {
    /// `error[E0108]: env.json:12:17: subnets[2].prefix: message` then `  help: ...`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let severity = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(f, "{severity}[{}]: {}", self.code, Escaped(&self.file))?;
        if let (Some(line), Some(column)) = (self.line, self.column) {
            write!(f, ":{line}:{column}")?;
        }
        if !self.path.is_empty() {
            write!(f, ": {}", Escaped(&self.path))?;
        }
        write!(f, ": {}", Escaped(&self.message))?;
        if let Some(help) = &self.help {
            write!(f, "\n  help: {}", Escaped(help))?;
        }
        Ok(())
    }
}

/// Text with its control characters written as escapes (`\n`, `\u{1b}`): messages quote values
/// from the user's files, and a line break or a terminal escape sequence in one must not start a
/// line of its own in a log (a CI system reads `::error ...` at a line's start as a command) nor
/// drive the terminal.
struct Escaped<'a>(&'a str);

impl fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut rest = self.0;
        while let Some(at) = rest.find(char::is_control) {
            f.write_str(&rest[..at])?;
            let c = rest[at..].chars().next().expect("found");
            match c {
                '\n' => f.write_str("\\n")?,
                '\r' => f.write_str("\\r")?,
                '\t' => f.write_str("\\t")?,
                other => write!(f, "\\u{{{:x}}}", u32::from(other))?,
            }
            rest = &rest[at + c.len_utf8()..];
        }
        f.write_str(rest)
    }
}

/// Sorts diagnostics into a stable order: by position in the file, then path, then code.
pub fn sort_diagnostics(diags: &mut [Diagnostic]) {
    diags.sort_by(|a, b| {
        (
            &a.file,
            a.line.unwrap_or(usize::MAX),
            a.column.unwrap_or(0),
            &a.path,
            a.code,
            &a.message,
        )
            .cmp(&(
                &b.file,
                b.line.unwrap_or(usize::MAX),
                b.column.unwrap_or(0),
                &b.path,
                b.code,
                &b.message,
            ))
    });
}

pub fn has_errors(diags: &[Diagnostic]) -> bool {
    diags.iter().any(Diagnostic::is_error)
}

/// A value as a message quotes it: whole when short, else its start and its length, so a hostile
/// 10 MB string never makes a 10 MB diagnostic.
pub fn excerpt(s: &str) -> std::borrow::Cow<'_, str> {
    const KEEP: usize = 60;
    match s.char_indices().nth(KEEP) {
        None => std::borrow::Cow::Borrowed(s),
        Some((cut, _)) => std::borrow::Cow::Owned(format!("{}... ({} characters)", &s[..cut], s.chars().count())),
    }
}

#[cfg(test)]
mod tests {
    use super::Diagnostic;

    /// Values quoted from a file cannot break a text diagnostic into lines of their own (a CI
    /// log reads `::error ...` at a line's start as a command) nor reach the terminal as escapes.
    #[test]
    fn control_characters_in_quoted_values_are_escaped() {
        let d = Diagnostic::error("E0104", "location", "`westus2\n::error file=x::owned` is not a location")
            .with_help("pick \u{1b}[31mred\u{1b}[0m\tor\r\u{7f}");
        let text = d.in_file("env.json").to_string();
        assert_eq!(
            text,
            "error[E0104]: env.json: location: `westus2\\n::error file=x::owned` is not a location\n  \
             help: pick \\u{1b}[31mred\\u{1b}[0m\\tor\\r\\u{7f}"
        );
        assert_eq!(text.lines().count(), 2, "the message and its help, one line each");
    }
}
