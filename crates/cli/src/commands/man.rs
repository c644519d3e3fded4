//! `isenet man`: one roff page for the whole CLI, every subcommand at every depth with its options.

/// One man page for the whole CLI: the top page, whose SUBCOMMANDS list points to the sections
/// below (only isenet(1) is shipped, so no isenet-<sub>(1) references), then each subcommand at
/// every depth (`tags show`, `tags diff`) with its options under its own heading.
pub fn render(cmd: &clap::Command, out: &mut Vec<u8>) -> std::io::Result<()> {
    use std::io::Write;
    let man = clap_mangen::Man::new(cmd.clone());
    man.render_title(out)?;
    man.render_name_section(out)?;
    man.render_synopsis_section(out)?;
    man.render_description_section(out)?;
    man.render_options_section(out)?;
    writeln!(out, ".SH SUBCOMMANDS")?;
    let mut sections = Vec::new();
    fn walk<'c>(path: String, cmd: &'c clap::Command, sections: &mut Vec<(String, &'c clap::Command)>) {
        for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
            let path = format!("{path} {}", sub.get_name());
            sections.push((path.clone(), sub));
            walk(path, sub, sections);
        }
    }
    walk("isenet".to_string(), cmd, &mut sections);
    for (path, sub) in &sections {
        writeln!(out, ".TP\n\\fB{path}\\fR\n{} (section {} below)", about(sub), path.to_uppercase())?;
    }
    if cmd.get_after_help().is_some() {
        man.render_extra_section(out)?;
    }
    if cmd.get_version().is_some() {
        man.render_version_section(out)?;
    }
    for (path, sub) in &sections {
        writeln!(out, ".SH \"{}\"\n{}", path.to_uppercase(), about(sub))?;
        clap_mangen::Man::new((*sub).clone()).render_options_section(out)?;
    }
    Ok(())
}

/// A command's about as one roff text line (a leading `.` or `'` would read as a request).
fn about(cmd: &clap::Command) -> String {
    let text = cmd.get_about().map(|a| a.to_string()).unwrap_or_default().replace('\n', " ");
    if text.starts_with(['.', '\'']) {
        format!("\\&{text}")
    } else {
        text
    }
}
