//! Reading inputs: the environment file (or the embedded example) with its diagnostics.

use ise_model::codes::{E_READ, E_STDIN_TWICE, E_TAG_MISSING};
use ise_model::data::EXAMPLE_ENVIRONMENT;
use ise_model::diag::{has_errors, Diagnostic};
use ise_model::env::{self, Environment};
use ise_model::jsondoc::{self, MAX_FILE_BYTES};
use ise_model::jsonpos::Positions;
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

/// Reads a file (or standard input for `-`, at most once per run) as text (`ise_model::text`), or
/// a coded diagnostic naming it. An input over the ceiling is refused before it is read (a file by its size), and by
/// reading at most one byte past the ceiling (pipes, files that grow).
pub fn read_text(path: &Path) -> Result<String, Diagnostic> {
    use std::io::Read;
    static STDIN_TAKEN: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    let file = display_name(path);
    let unreadable = |e: std::io::Error| {
        Diagnostic::error(E_READ, "", format!("cannot read file: {}", why_unreadable(path, &e)))
            .with_help("check the path and that the file is readable UTF-8 text")
            .in_file(&file)
    };
    let mut bytes = Vec::new();
    if is_stdin(path) {
        if STDIN_TAKEN.swap(true, std::sync::atomic::Ordering::SeqCst) {
            return Err(
                Diagnostic::error(E_STDIN_TWICE, "", "standard input was already read by another option")
                    .with_help("only one input can come from `-`: give the others as files")
                    .in_file(STDIN_NAME),
            );
        }
        std::io::stdin()
            .lock()
            .take(MAX_FILE_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(unreadable)?;
    } else {
        let handle = std::fs::File::open(path).map_err(unreadable)?;
        if let Ok(meta) = handle.metadata() {
            if meta.len() > MAX_FILE_BYTES {
                return Err(jsondoc::too_large(Some(meta.len())).in_file(&file));
            }
            // Read into one buffer of the file's size: grown by doubling, a 4 MB tag file is
            // copied and faulted in twice over.
            bytes.reserve_exact(meta.len() as usize + 1);
        }
        handle.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes).map_err(unreadable)?;
    }
    if bytes.len() as u64 > MAX_FILE_BYTES {
        // Read to one byte past the ceiling: the input's whole size is not known.
        return Err(jsondoc::too_large(None).in_file(&file));
    }
    // UTF-8 as it is; UTF-16 with a byte-order mark (Windows PowerShell's `>`) decoded; anything
    // else refused at its first bad byte.
    ise_model::text::decode(bytes).map_err(|d| d.in_file(&file))
}

/// The OS error, and for a path that `ls` lists but cannot be opened, why: a symbolic link whose
/// target does not exist reads as "No such file or directory" alone.
fn why_unreadable(path: &Path, e: &std::io::Error) -> String {
    let dangling = e.kind() == std::io::ErrorKind::NotFound && path.is_symlink();
    match std::fs::read_link(path).ok().filter(|_| dangling) {
        Some(target) => format!("{e}: a symbolic link to `{}`, which does not exist", target.display()),
        None => e.to_string(),
    }
}

/// An environment and its warnings, or every diagnostic of a file that does not load.
pub type LoadedEnvironment = Result<(Environment, Vec<Diagnostic>), Vec<Diagnostic>>;

/// Loads the environment; `Err` carries every diagnostic when there is an error (or a warning under
/// `deny_warnings`), `Ok` the environment and its warnings.
pub fn environment(path: Option<&Path>, deny_warnings: bool) -> LoadedEnvironment {
    environment_and_text(path, deny_warnings).0
}

/// [`environment`], and the text it was read from (empty when it could not be read), for
/// locating what a later stage finds at the environment's keys.
pub fn environment_and_text(path: Option<&Path>, deny_warnings: bool) -> (LoadedEnvironment, String) {
    let (text, name) = match path {
        Some(p) => match read_text(p) {
            Ok(text) => (text, display_name(p)),
            Err(d) => return (Err(vec![d]), String::new()),
        },
        None => (EXAMPLE_ENVIRONMENT.to_string(), EMBEDDED_EXAMPLE.to_string()),
    };
    let loaded = env::load(&text, &name);
    let failed = has_errors(&loaded.diagnostics) || (deny_warnings && !loaded.diagnostics.is_empty());
    let result = match loaded.env {
        Some(env) if !failed => Ok((env, loaded.diagnostics)),
        _ if deny_warnings => Err(loaded.diagnostics.into_iter().map(Diagnostic::denied).collect()),
        _ => Err(loaded.diagnostics),
    };
    (result, text)
}

/// The service tags of `cloud`: the user's file when given (checked to be that cloud's), else the
/// embedded snapshot.
pub fn service_tags(path: Option<&Path>, cloud: ise_model::cloud::CloudId) -> Result<std::borrow::Cow<'static, ServiceTags>, Diagnostic> {
    let Some(path) = path else {
        return Ok(std::borrow::Cow::Borrowed(ServiceTags::embedded(cloud)));
    };
    let file = display_name(path);
    let text = read_text(path)?;
    let tags = ServiceTags::parse_owned(text).map_err(|d| d.in_file(&file))?;
    tags.check_cloud(cloud).map_err(|d| d.in_file(&file))?;
    Ok(std::borrow::Cow::Owned(tags))
}

/// The name diagnostics give the environment: the path as passed, or the embedded example's.
pub fn env_name(path: Option<&Path>) -> String {
    path.map_or(EMBEDDED_EXAMPLE.to_string(), display_name)
}

/// Names the file of each diagnostic a later stage (plan, expand) produced without one: a service
/// tag missing from the tag file (E0904) is that file's problem, anything else the environment's,
/// located at its JSON path in the environment file.
pub fn name_stage_diagnostics(diags: Vec<Diagnostic>, env: Option<&Path>, tags: Option<&Path>) -> Vec<Diagnostic> {
    // Nothing to name: no file read (a fleet asks for every environment's plan warnings).
    if diags.is_empty() {
        return diags;
    }
    let env_file = env_name(env);
    // Read again only on this error path: the loader does not keep the text.
    let positions = match env {
        Some(p) => read_text(p).map(|t| Positions::of(&t)).unwrap_or_default(),
        None => Positions::of(EXAMPLE_ENVIRONMENT),
    };
    diags
        .into_iter()
        .map(|d| match tags {
            _ if !d.file.is_empty() => d,
            Some(t) if d.code == E_TAG_MISSING => d.in_file(&display_name(t)),
            _ => {
                let at = positions.find(&d.path).filter(|_| d.line.is_none());
                let d = d.in_file(&env_file);
                match at {
                    Some((line, column)) => d.at(line, column),
                    None => d,
                }
            }
        })
        .collect()
}

/// The plan `compile` builds, with its diagnostics named ([`name_stage_diagnostics`]).
pub fn plan(
    env: &Environment,
    tags: &ServiceTags,
    version: Option<&str>,
    env_path: Option<&Path>,
    tags_path: Option<&Path>,
) -> Result<rules_compiler::plan::Plan, Vec<Diagnostic>> {
    rules_compiler::plan::build(env, tags, version).map_err(|diags| name_stage_diagnostics(diags, env_path, tags_path))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ise_model::codes::{E_EXPAND_SLOT, E_FIREWALL_LIMIT, E_NSG_DESTINATIONS, E_ROUTE_LIMIT};

    /// The codes that used to print an empty file name: each gets the file it is about.
    #[test]
    fn stage_diagnostics_name_their_file() {
        let diags: Vec<Diagnostic> = [E_NSG_DESTINATIONS, E_ROUTE_LIMIT, E_FIREWALL_LIMIT, E_EXPAND_SLOT, E_TAG_MISSING]
            .into_iter()
            .map(|code| Diagnostic::error(code, "", "m"))
            .collect();
        let named = name_stage_diagnostics(diags.clone(), None, Some(Path::new("tags.json")));
        let files: Vec<&str> = named.iter().map(|d| d.file.as_str()).collect();
        assert_eq!(
            files,
            [EMBEDDED_EXAMPLE, EMBEDDED_EXAMPLE, EMBEDDED_EXAMPLE, EMBEDDED_EXAMPLE, "tags.json"]
        );
        // Without a tag file of the user's, a missing tag is the environment's run too.
        let named = name_stage_diagnostics(diags, None, None);
        assert!(named.iter().all(|d| d.file == EMBEDDED_EXAMPLE));
        // A diagnostic that has a file keeps it, and one with a path is located in the file.
        let located = name_stage_diagnostics(vec![Diagnostic::error(E_NSG_DESTINATIONS, "outboundDestinations", "m")], None, None);
        assert!(located[0].line.is_some());
        let kept = name_stage_diagnostics(vec![Diagnostic::error(E_ROUTE_LIMIT, "", "m").in_file("x")], None, None);
        assert_eq!(kept[0].file, "x");
    }
}
