//! Reading inputs: the environment file (or the embedded example) with its diagnostics.

use ise_model::codes::E_READ;
use ise_model::data::EXAMPLE_ENVIRONMENT;
use ise_model::diag::{has_errors, Diagnostic};
use ise_model::env::{self, Environment};
use ise_model::servicetags::ServiceTags;
use std::path::Path;

pub const EMBEDDED_EXAMPLE: &str = "<embedded example>";

/// Reads a file as text, or a coded diagnostic naming it.
pub fn read_text(path: &Path) -> Result<String, Diagnostic> {
    std::fs::read_to_string(path).map_err(|e| {
        Diagnostic::error(E_READ, "", format!("cannot read file: {e}"))
            .with_help("check the path and that the file is readable UTF-8 text")
            .in_file(&path.display().to_string())
    })
}

/// Loads the environment; `Err` carries every diagnostic when there is an error (or a warning under
/// `deny_warnings`), `Ok` the environment and its warnings.
pub fn environment(path: Option<&Path>, deny_warnings: bool) -> Result<(Environment, Vec<Diagnostic>), Vec<Diagnostic>> {
    let (text, name) = match path {
        Some(p) => (read_text(p).map_err(|d| vec![d])?, p.display().to_string()),
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
    let file = path.display().to_string();
    let text = read_text(path)?;
    let tags = ServiceTags::parse(&text).map_err(|d| d.in_file(&file))?;
    tags.check_cloud(cloud).map_err(|d| d.in_file(&file))?;
    Ok(std::borrow::Cow::Owned(tags))
}
