//! What the readers need of a parsed JSON file, so one reader walks the file read once as
//! `jsondoc::tree` (no serde_json `Value`, positions counted only for what is located) and, in
//! tests, the old path it replaced: serde_json's `Value` located with `jsonpos::Positions`.

use ise_model::jsondoc::tree::{Items, Json as Node, Tree};
use serde_json::Value;

/// A JSON value, as the readers look at it (serde_json's `Value` methods of the same names).
pub(crate) trait Json<'a>: Copy {
    type Items: ExactSizeIterator<Item = Self> + Clone;
    /// The member `key` of an object (null included).
    fn get(self, key: &str) -> Option<Self>;
    /// The member whose key is `key` in any ASCII case (ARM's parameter and variable names).
    fn get_any_case(self, key: &str) -> Option<Self>;
    fn as_str(self) -> Option<&'a str>;
    fn as_array(self) -> Option<Self::Items>;
    fn is_object(self) -> bool;
    fn is_null(self) -> bool;
    fn as_bool(self) -> Option<bool>;
    fn as_number(self) -> Option<serde_json::Number>;
    /// The value as serde_json's `Value` (to compare two values whole).
    fn to_value(self) -> serde_json::Value;
}

/// Line:column of a JSON path of the file (of its closest existing ancestor when it has none).
pub(crate) trait Locate {
    fn find(&self, path: &str) -> Option<(usize, usize)>;
}

impl<'a> Json<'a> for Node<'a> {
    type Items = Items<'a>;
    fn get(self, key: &str) -> Option<Self> {
        Node::get(self, key)
    }
    fn get_any_case(self, key: &str) -> Option<Self> {
        Node::get_any_case(self, key)
    }
    fn as_str(self) -> Option<&'a str> {
        Node::as_str(self)
    }
    fn as_array(self) -> Option<Items<'a>> {
        self.items()
    }
    fn is_object(self) -> bool {
        Node::is_object(self)
    }
    fn is_null(self) -> bool {
        Node::is_null(self)
    }
    fn as_bool(self) -> Option<bool> {
        Node::as_bool(self)
    }
    fn as_number(self) -> Option<serde_json::Number> {
        Node::as_number(self)
    }
    fn to_value(self) -> serde_json::Value {
        Node::to_value(self)
    }
}

impl Locate for Tree<'_> {
    fn find(&self, path: &str) -> Option<(usize, usize)> {
        Tree::find(self, path)
    }
}

/// serde's `Value`, which `diff` holds its deployed files in (and the readers' tests their oracle).
impl<'a> Json<'a> for &'a Value {
    type Items = std::slice::Iter<'a, Value>;
    fn get(self, key: &str) -> Option<Self> {
        Value::get(self, key)
    }
    fn get_any_case(self, key: &str) -> Option<Self> {
        self.as_object()?.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v)
    }
    fn as_str(self) -> Option<&'a str> {
        Value::as_str(self)
    }
    fn as_array(self) -> Option<Self::Items> {
        Value::as_array(self).map(|a| a.iter())
    }
    fn is_object(self) -> bool {
        Value::is_object(self)
    }
    fn is_null(self) -> bool {
        Value::is_null(self)
    }
    fn as_bool(self) -> Option<bool> {
        Value::as_bool(self)
    }
    fn as_number(self) -> Option<serde_json::Number> {
        match self {
            Value::Number(n) => Some(n.clone()),
            _ => None,
        }
    }
    fn to_value(self) -> Value {
        self.clone()
    }
}

/// The path the readers took before the tree: the oracle their tests compare with.
#[cfg(test)]
pub(crate) mod old {
    use super::Locate;
    use ise_model::jsonpos::Positions;

    impl Locate for Positions {
        fn find(&self, path: &str) -> Option<(usize, usize)> {
            Positions::find(self, path)
        }
    }
}
