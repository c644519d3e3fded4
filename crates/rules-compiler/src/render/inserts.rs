//! Long texts put into a rendered template after handlebars is done with it.
//!
//! handlebars copies a string value three times on its way out (into a rendered value, through
//! the escape function, into its output, which grows by doubling). The lists of thousands of
//! prefixes in `main.bicep` and the change ticket (400 KB each with `--expand-tags`) cost more
//! that way than the rest of their templates. So the data holds a short placeholder where such a
//! text goes, and the text replaces it in the output, copied once. Our escape function writes
//! values as they are, so the result is the same bytes.
//!
//! A placeholder is a private-use character, the text's index and a second private-use
//! character, and must be written as it is (`{{x}}`, `{{{x}}}`), not through a helper. Our
//! templates contain no private-use character (tested below); when the rest of the data does,
//! the texts go into the data itself instead, as before.

use serde_json::Value;

const OPEN: char = '\u{E000}';
const CLOSE: char = '\u{E001}';

/// The texts of one rendering, each behind its placeholder.
#[derive(Default)]
pub struct Inserts {
    texts: Vec<String>,
}

impl Inserts {
    /// The placeholder for `text`: the value to put in the template's data where `text` goes.
    pub fn add(&mut self, text: String) -> Value {
        self.texts.push(text);
        Value::String(format!("{OPEN}{}{CLOSE}", self.texts.len() - 1))
    }

    /// Renders with `render` and puts the texts in: in the output when the data holds no
    /// private-use character of its own, otherwise in the data before rendering.
    pub fn render(self, mut data: Value, render: impl FnOnce(Value) -> String) -> String {
        if self.texts.is_empty() {
            return render(data);
        }
        if !clean(&data, self.texts.len()) {
            put_back(&mut data, &self.texts);
            return render(data);
        }
        self.apply(&render(data))
    }

    /// `rendered` with each placeholder replaced by its text.
    fn apply(&self, rendered: &str) -> String {
        let mut out = String::with_capacity(rendered.len() + self.texts.iter().map(String::len).sum::<usize>());
        let mut rest = rendered;
        while let Some(open) = rest.find(OPEN) {
            out.push_str(&rest[..open]);
            let after = &rest[open + OPEN.len_utf8()..];
            let close = after.find(CLOSE).expect("a placeholder is closed");
            let index: usize = after[..close].parse().expect("a placeholder holds its index");
            out.push_str(&self.texts[index]);
            rest = &after[close + CLOSE.len_utf8()..];
        }
        out.push_str(rest);
        out
    }
}

/// The index of the placeholder `s` is, if it is one of `count`.
fn placeholder(s: &str, count: usize) -> Option<usize> {
    s.strip_prefix(OPEN)
        .and_then(|r| r.strip_suffix(CLOSE))
        .and_then(|i| i.parse::<usize>().ok())
        .filter(|&i| i < count)
}

/// Whether every string of `data` (keys too) is a placeholder or holds no private-use
/// character of ours.
fn clean(data: &Value, count: usize) -> bool {
    // Both characters start with this byte in UTF-8: a byte search (memchr) rules most strings out.
    let plain = |s: &str| !s.as_bytes().contains(&0xEE) || !s.contains([OPEN, CLOSE]);
    match data {
        Value::String(s) => plain(s) || placeholder(s, count).is_some(),
        Value::Array(items) => items.iter().all(|v| clean(v, count)),
        Value::Object(members) => members.iter().all(|(k, v)| plain(k) && clean(v, count)),
        _ => true,
    }
}

/// `data` with every placeholder replaced by its text (the slow way, for data that holds
/// private-use characters of its own).
fn put_back(data: &mut Value, texts: &[String]) {
    match data {
        Value::String(s) => {
            if let Some(index) = placeholder(s, texts.len()) {
                *s = texts[index].clone();
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| put_back(v, texts)),
        Value::Object(members) => members.values_mut().for_each(|v| put_back(v, texts)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A stand-in for a template: writes `a`, then each `list` item, then `a` again.
    fn render(data: Value) -> String {
        let a = data["a"].as_str().unwrap_or_default();
        let items: Vec<&str> = data["list"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
        format!("<{a}|{}|{a}>", items.join(","))
    }

    #[test]
    fn texts_come_out_where_their_placeholders_were_written() {
        let mut inserts = Inserts::default();
        let data =
            json!({ "a": inserts.add("long é text".into()), "list": [inserts.add("x".into()), "plain", inserts.add(String::new())] });
        assert_eq!(inserts.render(data, render), "<long é text|x,plain,|long é text>");
    }

    /// Data with private-use characters of its own renders with the texts in the data.
    #[test]
    fn stray_private_use_characters_fall_back_to_the_data() {
        for stray in ["\u{E000}0\u{E001}x", "\u{E000}", "\u{E001}9\u{E001}", "\u{E000}7\u{E001}"] {
            let mut inserts = Inserts::default();
            let data = json!({ "a": inserts.add("T".into()), "list": [stray] });
            assert_eq!(inserts.render(data, render), format!("<T|{stray}|T>"));
        }
    }

    #[test]
    fn no_embedded_template_holds_a_private_use_character() {
        for (name, text) in crate::render::template::TEMPLATES {
            assert!(!text.contains([OPEN, CLOSE]), "{name}");
        }
    }

    #[test]
    fn without_texts_the_data_renders_as_it_is() {
        let data = json!({ "a": "\u{E000}", "list": [] });
        assert_eq!(Inserts::default().render(data, render), "<\u{E000}||\u{E000}>");
    }
}
