//! Finding a resource inside an ARM deployment template (`azuredeploy.json`), so the readers take
//! a whole template as well as a bare resource.

use super::json::Json;

/// The one resource of type `kind` (compared case-insensitively, as ARM does) in the template's
/// `resources`, with its JSON path prefix (`resources[2].`); `None` when `value` is not a template
/// or holds no such resource.
pub(crate) fn resource<'v, J: Json<'v>>(value: J, kind: &str) -> Option<(String, J)> {
    let resources = value.get("resources")?.as_array()?;
    resources.enumerate().find_map(|(i, r)| {
        let t = r.get("type")?.as_str()?;
        t.eq_ignore_ascii_case(kind).then(|| (format!("resources[{i}]."), r))
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn finds_the_resource_of_the_type_and_its_path() {
        let t = json!({ "resources": [ { "type": "Microsoft.Network/routeTables" }, { "type": "microsoft.network/networkSecurityGroups", "name": "n" } ] });
        let (path, r) = super::resource(&t, "Microsoft.Network/networkSecurityGroups").unwrap();
        assert_eq!((path.as_str(), &r["name"]), ("resources[1].", &json!("n")));
        assert!(super::resource(&json!({ "resources": [] }), "Microsoft.Network/networkSecurityGroups").is_none());
        assert!(super::resource(&json!({ "properties": {} }), "Microsoft.Network/networkSecurityGroups").is_none());
    }
}
