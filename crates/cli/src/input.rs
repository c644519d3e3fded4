//! Reading inputs: the environment file (or the embedded example) with its diagnostics.

use ise_model::codes::{E_READ, E_STDIN_TWICE};
use ise_model::data::EXAMPLE_ENVIRONMENT;
use ise_model::diag::{has_errors, Diagnostic};
use ise_model::env::{self, Environment};
use ise_model::servicetags::ServiceTags;
use std::path::Path;

pub const EMBEDDED_EXAMPLE: &str = "<embedded example>";

/// The path that means standard input (`az network nsg show ... | isenet verify --nsg -`).
pub const STDIN: &str = "-";
/// How standard input is named in diagnostics and reports.
pub const STDIN_NAME: &str = "<stdin>";

pub fn is_stdin(path: &Path) -> bool {
    path.as_os_str() == STDIN
}

/// The name diagnostics give an input: its path, or `<stdin>`.
pub fn display_name(path: &Path) -> String {
    if is_stdin(path) {
        STDIN_NAME.to_string()
    } else {
        path.display().to_string()
    }
}

/// Reads a file (or standard input for `-`, at most once per run) as text, or a coded diagnostic
/// naming it.
pub fn read_text(path: &Path) -> Result<String, Diagnostic> {
    static STDIN_TAKEN: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    let result = if is_stdin(path) {
        if STDIN_TAKEN.swap(true, std::sync::atomic::Ordering::SeqCst) {
            return Err(
                Diagnostic::error(E_STDIN_TWICE, "", "standard input was already read by another option")
                    .with_help("only one input can come from `-`: give the others as files")
                    .in_file(STDIN_NAME),
            );
        }
        let mut text = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin().lock(), &mut text).map(|_| text)
    } else {
        std::fs::read_to_string(path)
    };
    result.map_err(|e| {
        Diagnostic::error(E_READ, "", format!("cannot read file: {e}"))
            .with_help("check the path and that the file is readable UTF-8 text")
            .in_file(&display_name(path))
    })
}

/// Loads the environment; `Err` carries every diagnostic when there is an error (or a warning under
/// `deny_warnings`), `Ok` the environment and its warnings.
pub fn environment(path: Option<&Path>, deny_warnings: bool) -> Result<(Environment, Vec<Diagnostic>), Vec<Diagnostic>> {
    let (text, name) = match path {
        Some(p) => (read_text(p).map_err(|d| vec![d])?, display_name(p)),
        None => (EXAMPLE_ENVIRONMENT.to_string(), EMBEDDED_EXAMPLE.to_string()),
    };
    let loaded = env::load(&text, &name);
    let failed = has_errors(&loaded.diagnostics) || (deny_warnings && !loaded.diagnostics.is_empty());
    match loaded.env {
        Some(env) if !failed => Ok((env, loaded.diagnostics)),
        _ => Err(loaded.diagnostics),
    }
}

/// The service tags of `cloud`: the user's file when given (checked to be that cloud's), else the
/// embedded snapshot.
pub fn service_tags(path: Option<&Path>, cloud: ise_model::cloud::CloudId) -> Result<std::borrow::Cow<'static, ServiceTags>, Diagnostic> {
    let Some(path) = path else {
        return Ok(std::borrow::Cow::Borrowed(ServiceTags::embedded(cloud)));
    };
    let file = display_name(path);
    let text = read_text(path)?;
    let tags = ServiceTags::parse(&text).map_err(|d| d.in_file(&file))?;
    tags.check_cloud(cloud).map_err(|d| d.in_file(&file))?;
    Ok(std::borrow::Cow::Owned(tags))
}
