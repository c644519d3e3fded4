//! Compiling a handlebars template: the same `Template` as handlebars' own compile. Our templates
//! compile without pest (`template_direct`); a template outside that subset goes through a
//! shortened text here, in under half of handlebars' instructions.
//!
//! handlebars' compile is most of a single compile's template cost, and little of it is the
//! template's meaning: pest reads raw text a byte at a time, and handlebars asks pest for the line
//! and column of every token, which pest counts from the start of the text each time (quadratic in
//! the template's length). Our templates are mostly raw text. So each run of raw text inside a
//! line is swapped for one placeholder character before handlebars compiles the (much shorter)
//! text, and put back into the compiled template after, with the columns it reports moved back
//! to the original's. Whitespace at the ends of a run stays, because handlebars' trimming and
//! standalone-line rules look only at that. Tests check that the result equals handlebars' own
//! compile of every embedded template and of generated ones; a template outside the subset
//! handled here (comments, raw blocks, quoted literals, placeholder characters in the text) is
//! compiled by handlebars directly.

use handlebars::template::TemplateElement;
use handlebars::{Template, TemplateError};

/// The placeholders: Unicode's private use area, which no template of ours contains.
const FIRST_PLACEHOLDER: u32 = 0xE000;
const LAST_PLACEHOLDER: u32 = 0xF8FF;

/// A run of raw text replaced by a placeholder, and where the placeholder is in the short text.
struct Run<'a> {
    text: &'a str,
    /// The placeholder's line and column in the short text, 1-based as handlebars counts them.
    line: usize,
    col: usize,
}

/// `source` compiled as handlebars compiles it under `name` (`Template::compile_with_name`):
/// without pest when it is in `template_direct`'s subset (all our templates), else through the
/// short text, else by handlebars itself.
pub fn compile(name: &str, source: &str) -> Result<Template, TemplateError> {
    match super::template_direct::compile(name, source) {
        Some(t) => Ok(t),
        None => shortened(name, source).unwrap_or_else(|| Template::compile_with_name(source, name.to_owned())),
    }
}

/// `source` compiled through its short text; `None` when it is outside the subset handled here,
/// or when a placeholder did not come back in a raw string (not so in any template we know, but
/// then the answer must be handlebars' own).
fn shortened(name: &str, source: &str) -> Option<Result<Template, TemplateError>> {
    let (short, runs) = shorten(source)?;
    let mut template = match Template::compile_with_name(&short, name.to_owned()) {
        Ok(t) => t,
        Err(e) => return Some(Err(e)),
    };
    let mut restored = 0;
    restore(&mut template, &runs, &mut restored);
    (restored == runs.len()).then_some(Ok(template))
}

/// The text with each raw run swapped for a placeholder, and the runs; `None` when the text is
/// outside the subset this handles.
fn shorten(source: &str) -> Option<(String, Vec<Run<'_>>)> {
    if source.contains("{{!") || source.contains("{{{{") || source.chars().any(is_placeholder_range) {
        return None;
    }
    let mut short = String::with_capacity(source.len() / 2);
    let mut runs = Vec::new();
    let (mut line, mut col) = (1, 1);
    let mut rest = source;
    while !rest.is_empty() {
        // A tag, copied whole: `{{` not escaped, to its closing braces. handlebars' grammar
        // escapes `{{` after one backslash; after two (or more) the last two are an escaped
        // backslash and the tag is real.
        let escaped = short.ends_with('\\') && !short.ends_with("\\\\");
        if rest.starts_with("{{") && !escaped {
            let close = if rest.starts_with("{{{") { "}}}" } else { "}}" };
            let end = rest.find(close)? + close.len();
            let tag = &rest[..end];
            if tag.contains(['"', '\'', '\n', '\r']) {
                return None;
            }
            col += tag.chars().count();
            short.push_str(tag);
            rest = &rest[end..];
            continue;
        }
        let c = rest.chars().next()?;
        let run_len = rest.find(['{', '}', '\\', '\n', '\r']).unwrap_or(rest.len());
        let core = rest[..run_len].trim_matches(|c: char| c.is_whitespace());
        let lead = rest[..run_len].len() - rest[..run_len].trim_start_matches(|c: char| c.is_whitespace()).len();
        let placeholder = char::from_u32(FIRST_PLACEHOLDER + runs.len() as u32).filter(|p| is_placeholder_range(*p));
        match placeholder {
            // Worth a placeholder only when it saves text, and never right after a backslash
            // (which may escape what follows).
            Some(p) if core.chars().nth(1).is_some() && !short.ends_with('\\') => {
                let leading = &rest[..lead];
                let trailing = &rest[lead + core.len()..run_len];
                short.push_str(leading);
                col += leading.chars().count();
                runs.push(Run { text: core, line, col });
                short.push(p);
                col += 1;
                short.push_str(trailing);
                col += trailing.chars().count();
                rest = &rest[run_len..];
            }
            _ => {
                short.push(c);
                // pest counts `\r\n` as one line break and a lone `\r` as a column.
                if c == '\n' {
                    line += 1;
                    col = 1;
                } else if !(c == '\r' && rest[1..].starts_with('\n')) {
                    col += 1;
                }
                rest = &rest[c.len_utf8()..];
            }
        }
    }
    Some((short, runs))
}

fn is_placeholder_range(c: char) -> bool {
    (FIRST_PLACEHOLDER..=LAST_PLACEHOLDER).contains(&u32::from(c))
}

/// Puts the runs back into every raw string of `template` and its blocks, and moves the
/// columns of its elements back to the original text's; counts the placeholders put back.
fn restore(template: &mut Template, runs: &[Run<'_>], restored: &mut usize) {
    for element in &mut template.elements {
        match element {
            TemplateElement::RawString(text) if text.chars().any(is_placeholder_range) => {
                let mut original = String::with_capacity(text.len());
                for c in text.chars() {
                    match runs.get(placeholder_index(c)) {
                        Some(run) if is_placeholder_range(c) => {
                            *restored += 1;
                            original.push_str(run.text);
                        }
                        _ => original.push(c),
                    }
                }
                *text = original;
            }
            TemplateElement::HelperBlock(h) | TemplateElement::Expression(h) | TemplateElement::HtmlExpression(h) => {
                for inner in [&mut h.template, &mut h.inverse].into_iter().flatten() {
                    restore(inner, runs, restored);
                }
            }
            TemplateElement::DecoratorBlock(d)
            | TemplateElement::PartialBlock(d)
            | TemplateElement::DecoratorExpression(d)
            | TemplateElement::PartialExpression(d) => {
                if let Some(inner) = &mut d.template {
                    restore(inner, runs, restored);
                }
            }
            _ => {}
        }
    }
    for at in &mut template.mapping {
        at.1 += runs
            .iter()
            .filter(|r| r.line == at.0 && r.col < at.1)
            .map(|r| r.text.chars().count() - 1)
            .sum::<usize>();
    }
}

fn placeholder_index(c: char) -> usize {
    u32::from(c).wrapping_sub(FIRST_PLACEHOLDER) as usize
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn handlebars_own(source: &str) -> Result<Template, TemplateError> {
        Template::compile_with_name(source, "t".to_owned())
    }

    /// Whether the direct compile took `source` (after checking it equals handlebars' own).
    fn direct_same_as_handlebars(source: &str) -> bool {
        match super::super::template_direct::compile("t", source) {
            Some(direct) => {
                assert_eq!(Ok(direct), handlebars_own(source).map_err(|e| e.to_string()), "{source:?}");
                true
            }
            None => false,
        }
    }

    /// Whether the short path compiled `source` (after checking it, and the direct compile when
    /// it takes `source`, equal handlebars' own).
    fn same_as_handlebars(source: &str) -> bool {
        direct_same_as_handlebars(source);
        let fast = shortened("t", source);
        let took_short_path = fast.is_some();
        match (fast.unwrap_or_else(|| handlebars_own(source)), handlebars_own(source)) {
            (Ok(fast), Ok(own)) => assert_eq!(fast, own, "{source:?}"),
            (Err(_), Err(_)) => {}
            (fast, own) => panic!("{source:?}: {:?} vs {:?}", fast.is_ok(), own.is_ok()),
        }
        took_short_path
    }

    #[test]
    fn every_embedded_template_compiles_to_handlebars_own_template() {
        for (name, source) in super::super::template::TEMPLATES {
            let own = Template::compile_with_name(source, (*name).to_owned()).unwrap();
            assert_eq!(compile(name, source).unwrap(), own, "{name}");
            if source.contains("{{") {
                let fast = shortened(name, source).unwrap_or_else(|| panic!("{name} is in the subset"));
                assert_eq!(fast.unwrap(), own, "{name}");
            }
            let direct = super::super::template_direct::compile(name, source);
            assert_eq!(direct, Some(own), "{name} compiles directly, as handlebars does");
        }
    }

    #[test]
    fn the_embedded_templates_are_shortened_not_passed_through() {
        for (name, source) in super::super::template::TEMPLATES.iter().filter(|(_, s)| s.contains("{{")) {
            let (short, runs) = shorten(source).unwrap_or_else(|| panic!("{name} is in the subset"));
            let (short, long) = (short.chars().count(), source.chars().count());
            assert!(short * 2 < long, "{name}: {short} of {long} characters");
            assert!(!runs.is_empty());
        }
    }

    #[test]
    fn standalone_lines_escapes_and_whitespace_control_match() {
        for (source, short_path) in [
            ("a b\n{{#if x}}\n  one two\n{{else}}\n  three four\n{{/if}}\nend of it", true),
            ("  lead {{x}} trail  \n\t{{#each xs}}  {{this}} and more\n{{/each}}", true),
            ("PUT \\{{host}}\\{{ise}}?v=\\{{v}} a b\n@t = \\{{$processEnv TOKEN}}\n", true),
            // An escaped backslash before a real tag, and a plain one before that.
            ("{{#if x}}\\\\{{/if}} and \\\\\\{{y}} two words", true),
            ("x {{~ y ~}}  z w \n {{{h a.[0] 4}}} { a } }} b", true),
            ("é ü {{x}} ß ç\r\nnext line {{y}}", true),
            ("{{#if a}} mismatched {{/each}}", true),
            ("{{#if a}}{{/if}}", true),
            ("", true),
            ("text {{!-- comment --}} more", false),
            ("unclosed {{x", false),
            ("quoted {{h 'a b'}} literal", false),
        ] {
            assert_eq!(same_as_handlebars(source), short_path, "{source:?}");
        }
    }

    #[test]
    fn direct_compile_matches_handlebars_on_the_subset_and_leaves_the_rest() {
        for (source, direct) in [
            ("a b\n{{#if x}}\n  one two\n{{else}}\n  three four\n{{/if}}\nend of it", true),
            ("  lead {{x}} trail  \n\t{{#each xs}}  {{this}} and more\n{{/each}}", true),
            ("PUT \\{{host}}\\{{ise}}?v=\\{{v}} a b\n@t = \\{{$processEnv TOKEN}}\n", true),
            ("{{#if x}}\\\\{{/if}} and \\\\\\{{y}} two \\{{{{z}} words", true),
            ("x {{~ y ~}}  z w \n {{{h a.[0] 4}}} { a } }} b", true),
            ("é ü {{x}} ß ç\r\nnext line {{y}}\r lone {{z}}", true),
            ("\n  {{#each a}}\r\n    {{#if b}}\n{{{c}}}\n    {{/if}}\n  {{/each}}  \n\n", true),
            ("{{#if a}}{{/if}}", true),
            ("{{x}}   ", true),
            ("   {{x}}", true),
            ("{{x}} {{y}}\n{{~z}}", true),
            ("{{ x }} and {{# if y }}z{{/ if }}", true),
            ("{{this.x}} {{a.this.[2]}} {{h this 3}} {{[4]}}", false),
            ("{{this.x}} {{a.this.[2]}} {{h this 3}} {{_y.z9}}", true),
            ("", true),
            ("no tags at all", true),
            ("{{#if a}} mismatched {{/each}}", false),
            ("{{#if a}} unclosed", false),
            ("{{else}} outside a block", false),
            ("{{#if a}}{{else}}{{else}}{{/if}}", false),
            ("{{elsewhere}} is an else chain to handlebars", false),
            ("{{#if a}}x{{else if b}}y{{/if}}", false),
            ("text {{!-- comment --}} more", false),
            ("unclosed {{x", false),
            ("quoted {{h 'a b'}} literal", false),
            ("{{h true}} and {{h 007}}", false),
            ("{{#each xs as |x|}}{{x}}{{/each}}", false),
            ("{{> partial}}", false),
        ] {
            assert_eq!(direct_same_as_handlebars(source), direct, "{source:?}");
        }
    }

    /// Pieces of templates: raw words, whitespace, newlines, braces and backslashes, and the tags
    /// our templates use.
    fn piece() -> impl Strategy<Value = &'static str> {
        prop::sample::select(vec![
            "word",
            "two words",
            " ",
            "  ",
            "\t",
            "\n",
            "\r\n",
            "\r",
            "é",
            "{",
            "}",
            "\\",
            "| a | b |",
            "= {",
            "x.y",
            "{{x}}",
            "{{a.b}}",
            "{{this}}",
            "{{{h x 0}}}",
            "{{r.[1]}}",
            "{{~x~}}",
            "\\{{x}}",
            "{{#if x}}",
            "{{else}}",
            "{{/if}}",
            "{{#each xs}}",
            "{{/each}}",
            // Forms only the direct compile takes: spaced and `~` tags, escaped raw-block braces.
            "{{ x }}",
            "{{# if x }}",
            "{{/ if }}",
            "{{~else~}}",
            "\\{{{{x}}",
            "{{{~h a.b 12~}}}",
        ])
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        /// Any sequence of those pieces compiles to handlebars' own template, or fails as it does.
        #[test]
        fn generated_templates_compile_as_handlebars_compiles_them(pieces in prop::collection::vec(piece(), 0..40)) {
            same_as_handlebars(&pieces.concat());
        }
    }

    /// Templates whose blocks are balanced (most compile): pieces without block tags, and
    /// `if`, `if`/`else` and `each` blocks of them nested up to three deep, their tags on lines
    /// of their own or not, one after another.
    fn balanced() -> impl Strategy<Value = String> {
        let inline = prop::sample::select(vec![
            "word",
            "two words",
            "a line\nnext",
            " ",
            "\t",
            "\n",
            "\r\n",
            "é",
            "}",
            "\\",
            "| a |",
            "{{x}}",
            "{{a.b}}",
            "{{this}}",
            "{{{h x 0}}}",
            "{{~x~}}",
            "\\{{x}}",
        ]);
        let leaf = prop::collection::vec(inline, 0..6).prop_map(|v| v.concat());
        let item = leaf.prop_recursive(3, 48, 6, |inner| {
            (prop::collection::vec(inner, 1..5), 0..4usize, any::<bool>()).prop_map(|(parts, kind, own_lines)| {
                let nl = if own_lines { "\n" } else { "" };
                let body = parts.concat();
                match kind {
                    0 => format!("{{{{#if x}}}}{nl}{body}{nl}{{{{/if}}}}{nl}"),
                    1 => format!("{{{{#each xs}}}}{nl}{body}{nl}{{{{/each}}}}{nl}"),
                    2 => {
                        let half = parts.len() / 2;
                        let (a, b) = (parts[..half].concat(), parts[half..].concat());
                        format!("{{{{#if x}}}}{nl}{a}{nl}{{{{else}}}}{nl}{b}{nl}{{{{/if}}}}{nl}")
                    }
                    _ => body,
                }
            })
        });
        prop::collection::vec(item, 1..6).prop_map(|items| items.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        /// Templates that mostly compile (unlike most sequences of the pieces above, whose block
        /// tags rarely balance) compile to handlebars' own template.
        #[test]
        fn balanced_templates_compile_as_handlebars_compiles_them(text in balanced()) {
            same_as_handlebars(&text);
        }
    }

    /// Most balanced templates compile and take the short path, so the property above compares
    /// compiled templates, not only errors.
    #[test]
    fn balanced_templates_mostly_compile_on_the_short_path() {
        use proptest::strategy::ValueTree;
        let mut runner = proptest::test_runner::TestRunner::deterministic();
        let compiled = (0..500)
            .map(|_| balanced().new_tree(&mut runner).unwrap().current())
            .filter(|text| handlebars_own(text).is_ok() && same_as_handlebars(text))
            .count();
        assert!(compiled >= 300, "{compiled} of 500");
    }

    /// Many generated templates (two in five) take the short path, so the property above tests
    /// it and not only the fallback.
    #[test]
    fn generated_templates_often_take_the_short_path() {
        use proptest::strategy::ValueTree;
        let mut runner = proptest::test_runner::TestRunner::deterministic();
        let pieces = prop::collection::vec(piece(), 0..40);
        let short = (0..500)
            .filter(|_| same_as_handlebars(&pieces.new_tree(&mut runner).unwrap().current().concat()))
            .count();
        assert!(short >= 200, "{short} of 500");
    }

    /// Both generators mostly take the direct compile, so the properties above test it.
    #[test]
    fn generated_templates_mostly_compile_directly() {
        use proptest::strategy::ValueTree;
        let mut runner = proptest::test_runner::TestRunner::deterministic();
        let pieces = prop::collection::vec(piece(), 0..40);
        let compiling: Vec<String> = (0..500)
            .map(|_| pieces.new_tree(&mut runner).unwrap().current().concat())
            .filter(|text| handlebars_own(text).is_ok())
            .collect();
        let direct = compiling.iter().filter(|text| direct_same_as_handlebars(text)).count();
        assert!(
            direct * 4 >= compiling.len() * 3,
            "{direct} of {} sequences that compile",
            compiling.len()
        );
        let direct = (0..500)
            .map(|_| balanced().new_tree(&mut runner).unwrap().current())
            .filter(|text| direct_same_as_handlebars(text))
            .count();
        assert!(direct >= 300, "{direct} of 500 balanced templates");
    }
}
