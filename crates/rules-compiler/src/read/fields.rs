//! Reading the fields of one JSON object the same way in every reader: ARM's `properties` or az's
//! flattened shape, strings and string lists whose wrong types are reported at their own path, and
//! names Azure wants unique.

use super::json::Json;
use ise_model::diag::Diagnostic;
use ise_model::jsonpos::{field, index};
use std::collections::btree_map::{BTreeMap, Entry};
use std::rc::Rc;

/// The path of one item of a string list, made into text only when a diagnostic needs it: a
/// 1,000-rule NSG lists tens of thousands of prefixes, and formatting each path took a tenth of
/// reading it.
#[derive(Clone, Debug)]
pub(super) struct ItemPath {
    list: Rc<str>,
    /// `None`: the path is the field itself (a singular field read like a one-item list).
    at: Option<usize>,
}

impl ItemPath {
    pub fn field(path: String) -> Self {
        ItemPath {
            list: path.into(),
            at: None,
        }
    }
}

impl From<ItemPath> for String {
    fn from(p: ItemPath) -> String {
        match p.at {
            Some(i) => index(&p.list, i),
            None => p.list.to_string(),
        }
    }
}

/// One JSON object being read, its path, and the code its missing or mistyped fields get.
pub(super) struct Object<'v, J> {
    pub value: J,
    pub path: String,
    pub code: &'static str,
    _file: std::marker::PhantomData<&'v ()>,
}

impl<'v, J: Json<'v>> Object<'v, J> {
    pub fn new(value: J, path: String, code: &'static str) -> Self {
        Object {
            value,
            path,
            code,
            _file: std::marker::PhantomData,
        }
    }

    /// ARM puts an item's fields under `properties`; az flattens them into the item.
    pub fn properties(&self) -> Object<'v, J> {
        match self.value.get("properties") {
            Some(p) if p.is_object() => Object::new(p, field(&self.path, "properties"), self.code),
            _ => Object::new(self.value, self.path.clone(), self.code),
        }
    }

    /// [`properties`](Self::properties), when `properties` is absent or an object. One that is
    /// there but not an object (null included) is reported and gives `None`: read as az's
    /// flattened shape, the item would lose every field ARM puts under it and read as empty.
    pub fn checked_properties(&self, diags: &mut Vec<Diagnostic>) -> Option<Object<'v, J>> {
        match self.value.get("properties") {
            Some(p) if !p.is_object() => {
                diags.push(Diagnostic::error(
                    self.code,
                    self.at("properties"),
                    "`properties` must be an object",
                ));
                None
            }
            _ => Some(self.properties()),
        }
    }

    /// Whether the value is an object; if not, that is reported (`what` names it: "a rule").
    pub fn is_object(&self, what: &str, diags: &mut Vec<Diagnostic>) -> bool {
        let ok = self.value.is_object();
        if !ok {
            diags.push(Diagnostic::error(self.code, self.path.clone(), format!("{what} must be an object")));
        }
        ok
    }

    pub fn at(&self, key: &str) -> String {
        field(&self.path, key)
    }

    /// The field's value; JSON null counts as absent (az writes null for unset fields).
    pub fn get(&self, key: &str) -> Option<J> {
        self.value.get(key).filter(|v| !v.is_null())
    }

    /// A string field; a missing one is reported only when `required`.
    pub fn text(&self, key: &str, required: bool, diags: &mut Vec<Diagnostic>) -> Option<&'v str> {
        match self.get(key).map(J::as_str) {
            Some(Some(s)) => Some(s),
            Some(None) => {
                diags.push(Diagnostic::error(self.code, self.at(key), format!("`{key}` must be a string")));
                None
            }
            None if required => {
                diags.push(Diagnostic::error(self.code, self.at(key), format!("`{key}` is missing")));
                None
            }
            None => None,
        }
    }

    /// A list of strings, each with its path; absent is empty. A value that is not a list, and every
    /// entry that is not a string, is reported.
    pub fn text_list(&self, key: &str, diags: &mut Vec<Diagnostic>) -> Vec<(&'v str, ItemPath)> {
        let list = match self.get(key).map(J::as_array) {
            None => return Vec::new(),
            Some(Some(list)) => list,
            Some(None) => {
                diags.push(Diagnostic::error(
                    self.code,
                    self.at(key),
                    format!("`{key}` must be a list of strings"),
                ));
                return Vec::new();
            }
        };
        let list_path: Rc<str> = self.at(key).into();
        let mut out = Vec::with_capacity(list.len());
        for (i, v) in list.enumerate() {
            match v.as_str() {
                Some(s) => out.push((
                    s,
                    ItemPath {
                        list: list_path.clone(),
                        at: Some(i),
                    },
                )),
                None => diags.push(Diagnostic::error(self.code, index(&list_path, i), "must be a string")),
            }
        }
        out
    }

    /// A whole-number field; a missing or mistyped one is reported, a number beyond u32 too (Azure
    /// stores these as 32-bit integers).
    pub fn whole_number(&self, key: &str, value_code: &'static str, diags: &mut Vec<Diagnostic>) -> Option<u32> {
        let whole = |v: J| v.as_number().filter(|n| n.is_u64() || n.is_i64());
        match self.get(key).map(whole) {
            Some(Some(n)) => match n.as_u64().and_then(|n| u32::try_from(n).ok()) {
                Some(n) => Some(n),
                None => {
                    diags.push(Diagnostic::error(value_code, self.at(key), format!("`{key}` {n} is out of range")));
                    None
                }
            },
            Some(None) => {
                diags.push(Diagnostic::error(
                    self.code,
                    self.at(key),
                    format!("`{key}` must be a whole number"),
                ));
                None
            }
            None => {
                diags.push(Diagnostic::error(self.code, self.at(key), format!("`{key}` is missing")));
                None
            }
        }
    }
}

/// Finds the list of items: ARM's `properties.<key>` or az's top-level `<key>`, with its path.
pub(super) fn items<'v, J: Json<'v>>(value: J, key: &str) -> Option<(String, J::Items)> {
    match (
        value.get("properties").and_then(|p| p.get(key)?.as_array()),
        value.get(key).and_then(J::as_array),
    ) {
        (Some(r), _) => Some((field("properties", key), r)),
        (_, Some(r)) => Some((key.to_string(), r)),
        _ => None,
    }
}

/// The error when neither shape holds the list of items.
pub(super) fn no_items(code: &'static str, key: &str, help: &str) -> Diagnostic {
    Diagnostic::error(
        code,
        "",
        format!("no `properties.{key}` (ARM resource) or `{key}` (az output) array found"),
    )
    .with_help(help)
}

/// Azure wants the names of items unique in their parent and compares them case-insensitively:
/// each repeat is reported at its own path, naming the first. Items without a name string are
/// reported by their own checks.
pub(super) fn unique_names<'v, J: Json<'v>>(
    items: impl Iterator<Item = J>,
    path: &str,
    code: &'static str,
    what: &str,
    diags: &mut Vec<Diagnostic>,
) {
    // Each name's first index: its path is made only for a repeat.
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for (i, item) in items.enumerate() {
        let Some(name) = item.get("name").and_then(J::as_str) else {
            continue;
        };
        match seen.entry(name.to_lowercase()) {
            Entry::Occupied(first) => diags.push(
                Diagnostic::error(
                    code,
                    index(path, i),
                    format!("{what} `{name}` is named like the one at {}", index(path, *first.get())),
                )
                .with_help("Azure refuses two names that differ only in case within one parent"),
            ),
            Entry::Vacant(slot) => {
                slot.insert(i);
            }
        }
    }
}

/// Azure's rule for the name of a network child resource (security rule, route, rule collection
/// group, classic rule collection): 1-80 letters, digits, `_`, `.` and `-`, starting with a letter
/// or digit and ending with one or `_` (learn.microsoft.com, resource-name-rules, Microsoft.Network;
/// the REST pattern of a rule collection group name says the same). A name Azure refuses is no
/// deployed item, and one holding a line break would break the one-line reports that name it.
/// `what` names the item in the message ("rule", "route").
pub(super) fn resource_name(name: &str, what: &str, code: &'static str, path: String) -> Option<Diagnostic> {
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let valid = (1..=80).contains(&name.chars().count())
        && name.chars().all(|c| word(c) || c == '.' || c == '-')
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.ends_with(word);
    (!valid).then(|| {
        Diagnostic::error(code, path, format!("`{}` is not a {what} name Azure takes", shown(name))).with_help(format!(
            "a {what} name is 1-80 letters, digits, `_`, `.` and `-`, starting with a letter or digit and ending with one or `_`"
        ))
    })
}

/// A name Azure takes in any printable characters but not empty (firewall rules, policy rule
/// collections: Azure Firewall documents no character rule for them and accepts spaces and
/// punctuation). A control character (a line break, a tab) is refused: no portal or CLI shows
/// it, and printed in a report it could forge lines such as `result: ok`.
pub(super) fn non_empty_name(name: &str, what: &str, code: &'static str, path: String) -> Option<Diagnostic> {
    if name.is_empty() {
        return Some(Diagnostic::error(code, path, format!("a {what} needs a name: `name` is empty")));
    }
    name.chars().any(char::is_control).then(|| {
        Diagnostic::error(
            code,
            path,
            format!("the {what} name `{}` holds a control character (a line break, a tab)", shown(name)),
        )
        .with_help("give the name in printable characters")
    })
}

/// A name as a one-line message shows it: at most 80 characters, control characters as spaces.
fn shown(name: &str) -> String {
    name.chars().take(80).map(|c| if c.is_control() { ' ' } else { c }).collect()
}

/// Matches a word case-insensitively against the words Azure accepts.
pub(super) fn one_of<T: Copy>(word: &str, table: &[(&str, T)]) -> Option<T> {
    table.iter().find(|(w, _)| w.eq_ignore_ascii_case(word)).map(|(_, t)| *t)
}

/// The words of a table, for a help line: `Tcp, Udp or *`.
pub(super) fn words<T>(table: &[(&str, T)]) -> String {
    let names: Vec<&str> = table.iter().map(|(w, _)| *w).collect();
    match names.split_last() {
        Some((last, [])) => last.to_string(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
        None => String::new(),
    }
}
