//! Where each named object stands in a JSON file: the line:column of its `"name"` key, so findings
//! about a rule, route or collection point into the file that was read, whatever its shape (ARM
//! resource, template, `az` output). The deepest object of a name wins: rules sit deeper than the
//! resource or collection that holds them.

use std::collections::HashMap;

/// name -> (line, column) of its `"name"` key.
pub fn name_positions(text: &str) -> HashMap<String, (usize, usize)> {
    let bytes = text.as_bytes();
    let mut found: HashMap<String, (usize, usize, usize)> = HashMap::new();
    let (mut i, mut line, mut col, mut depth) = (0usize, 1usize, 1usize, 0usize);
    // The last string seen, where it started, and whether a `:` followed it (so it was a key).
    let mut pending_key: Option<(String, usize, usize)> = None;
    let mut after_name_key: Option<(usize, usize)> = None;
    while i < bytes.len() {
        let b = bytes[i];
        match b {
            b'"' => {
                let (start_line, start_col) = (line, col);
                let (value, len) = string_at(&bytes[i..]);
                if let Some((l, c)) = after_name_key.take() {
                    let entry = found.entry(value.clone()).or_insert((depth, l, c));
                    if depth > entry.0 {
                        *entry = (depth, l, c);
                    }
                }
                pending_key = Some((value, start_line, start_col));
                // Strings hold no newlines in valid JSON, so the column moves by characters.
                col += text[i..i + len].chars().count();
                i += len;
                continue;
            }
            b':' => {
                if let Some((key, l, c)) = pending_key.take() {
                    if key == "name" {
                        after_name_key = Some((l, c));
                    }
                }
            }
            b'{' | b'[' => depth += 1,
            b'}' | b']' => depth = depth.saturating_sub(1),
            b'\n' => {
                line += 1;
                col = 0;
            }
            b if b.is_ascii_whitespace() => {}
            _ => {
                pending_key = None;
                after_name_key = None;
            }
        }
        if b == b',' {
            pending_key = None;
        }
        i += 1;
        col += 1;
    }
    found.into_iter().map(|(k, (_, l, c))| (k, (l, c))).collect()
}

/// The JSON string starting at `bytes[0]` (a `"`): its value (escapes kept as written except `\"`)
/// and its length in bytes including the quotes.
fn string_at(bytes: &[u8]) -> (String, usize) {
    let mut i = 1;
    let mut value = Vec::new();
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if i + 1 < bytes.len() => {
                value.push(bytes[i + 1]);
                i += 2;
            }
            b'"' => return (String::from_utf8_lossy(&value).into_owned(), i + 1),
            b => {
                value.push(b);
                i += 1;
            }
        }
    }
    (String::from_utf8_lossy(&value).into_owned(), bytes.len())
}

#[cfg(test)]
mod tests {
    use super::name_positions;

    #[test]
    fn the_deepest_object_of_a_name_wins() {
        let text = "{\n  \"name\": \"a\",\n  \"rules\": [\n    { \"name\": \"a\", \"x\": \"name\" },\n    {\"name\":\"b\"}\n  ]\n}";
        let p = name_positions(text);
        assert_eq!(p["a"], (4, 7));
        assert_eq!(p["b"], (5, 6));
        assert!(!p.contains_key("x"), "only values of `name` keys are names");
        assert!(!p.contains_key("name"), "a value that reads `name` is not a key");
    }
}
