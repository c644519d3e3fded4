//! Reading inputs: the environment file (or the embedded example) with its diagnostics.

use ise_model::codes::E_READ;
use ise_model::data::EXAMPLE_ENVIRONMENT;
use ise_model::diag::{has_errors, Diagnostic};
use ise_model::env::{self, Environment};
use ise_model::jsondoc::{self, MAX_FILE_BYTES};
use ise_model::servicetags::ServiceTags;
use std::path::Path;

pub const EMBEDDED_EXAMPLE: &str = "<embedded example>";

/// Reads a file as text, or a coded diagnostic naming it. A file over the input ceiling is refused
/// before it is read (by its size, and by reading at most one byte past the ceiling, for pipes and
/// files that grow).
pub fn read_text(path: &Path) -> Result<String, Diagnostic> {
    use std::io::Read;
    let file = path.display().to_string();
    let unreadable = |e: std::io::Error| {
        Diagnostic::error(E_READ, "", format!("cannot read file: {e}"))
            .with_help("check the path and that the file is readable UTF-8 text")
            .in_file(&file)
    };
    let handle = std::fs::File::open(path).map_err(unreadable)?;
    if let Ok(meta) = handle.metadata() {
        if meta.len() > MAX_FILE_BYTES {
            return Err(jsondoc::too_large(meta.len()).in_file(&file));
        }
    }
    let mut text = String::new();
    handle.take(MAX_FILE_BYTES + 1).read_to_string(&mut text).map_err(unreadable)?;
    if text.len() as u64 > MAX_FILE_BYTES {
        return Err(jsondoc::too_large(text.len() as u64).in_file(&file));
    }
    Ok(text)
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
