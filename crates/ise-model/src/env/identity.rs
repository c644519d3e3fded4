//! `identity` (the ISE's managed identity) and `encryption` (customer-managed key) of seed 000's
//! ISE request. Ids are checked for their ARM shape, GUIDs for theirs; a user-assigned identity
//! needs its resource id, and a customer-managed key needs a managed identity to read the vault.

use super::load::{NameRule, Walker};
use super::{Encryption, Identity, IdentityType};
use crate::codes::{E_CMK_NEEDS_IDENTITY, E_IDENTITY_FIELD_UNUSED, E_IDENTITY_GUID, E_KEY_NAME, E_RESOURCE_ID, E_USER_IDENTITY_MISSING};
use crate::diag::Diagnostic;
use crate::jsonpos::field;
use serde_json::Value;

const IDENTITY_FIELDS: &[&str] = &["type", "userAssignedIdentity", "principalId", "clientId"];
const ENCRYPTION_FIELDS: &[&str] = &["keyVaultId", "keyName", "keyVersion"];
const USER_IDENTITY_TYPE: &str = "Microsoft.ManagedIdentity/userAssignedIdentities";
const KEY_VAULT_TYPE: &str = "Microsoft.KeyVault/vaults";

/// Checks both fields; each outer `None` means an error was reported, an inner `None` that the
/// field is absent.
pub(super) fn check(
    w: &mut Walker,
    identity: Option<&Value>,
    encryption: Option<&Value>,
) -> (Option<Option<Identity>>, Option<Option<Encryption>>) {
    let id = match identity {
        Some(v) => check_identity(w, v).map(Some),
        None => Some(None),
    };
    let enc = match encryption {
        Some(v) => check_encryption(w, v).map(Some),
        None => Some(None),
    };
    // Only judged when the identity itself was readable, so one mistake is not reported twice.
    if let (Some(Some(_)), Some(id)) = (&enc, &id) {
        let managed = id.as_ref().is_some_and(|i| i.kind != IdentityType::None);
        if !managed {
            w.push(
                Diagnostic::error(
                    E_CMK_NEEDS_IDENTITY,
                    "encryption",
                    "a customer-managed key needs a managed identity: the ISE reads the key from Key Vault with it",
                )
                .with_help(
                    "add `identity` with type `SystemAssigned` or `UserAssigned`, and grant it get, wrapKey and unwrapKey on the vault",
                ),
            );
            return (Some(None), None);
        }
    }
    (id, enc)
}

fn check_identity(w: &mut Walker, v: &Value) -> Option<Identity> {
    let map = w.object(v, "identity", IDENTITY_FIELDS, &["type"])?;
    let kind = map
        .get("type")
        .and_then(|t| w.one_of(t, "identity.type", &["None", "SystemAssigned", "UserAssigned"]));
    let kind = kind.map(|k| match k {
        "None" => IdentityType::None,
        "SystemAssigned" => IdentityType::SystemAssigned,
        _ => IdentityType::UserAssigned,
    });
    let mut ok = true;
    let resource = match map.get("userAssignedIdentity") {
        Some(r) => {
            let r = resource_id(w, r, "identity.userAssignedIdentity", USER_IDENTITY_TYPE);
            ok &= r.is_some();
            r
        }
        None => None,
    };
    let mut guid = |name: &str| match map.get(name) {
        Some(g) => {
            let g = self::guid(w, g, &field("identity", name));
            ok &= g.is_some();
            g
        }
        None => None,
    };
    let principal_id = guid("principalId");
    let client_id = guid("clientId");
    let kind = kind?;
    if kind == IdentityType::UserAssigned && !map.contains_key("userAssignedIdentity") {
        w.push(
            Diagnostic::error(
                E_USER_IDENTITY_MISSING,
                "identity",
                "identity type `UserAssigned` needs `userAssignedIdentity`, the identity's resource id",
            )
            .with_help("add \"userAssignedIdentity\": \"/subscriptions/<id>/resourceGroups/<rg>/providers/Microsoft.ManagedIdentity/userAssignedIdentities/<name>\""),
        );
        return None;
    }
    if kind != IdentityType::UserAssigned {
        for name in ["userAssignedIdentity", "principalId", "clientId"]
            .into_iter()
            .filter(|n| map.contains_key(*n))
        {
            w.push(
                Diagnostic::error(
                    E_IDENTITY_FIELD_UNUSED,
                    field("identity", name),
                    format!("`{name}` belongs to a user-assigned identity, but the type is not `UserAssigned`"),
                )
                .with_help("remove it, or set identity.type to `UserAssigned`"),
            );
            ok = false;
        }
    }
    ok.then_some(Identity {
        kind,
        user_assigned_identity: resource,
        principal_id,
        client_id,
    })
}

fn check_encryption(w: &mut Walker, v: &Value) -> Option<Encryption> {
    let map = w.object(v, "encryption", ENCRYPTION_FIELDS, ENCRYPTION_FIELDS)?;
    let key_vault_id = map
        .get("keyVaultId")
        .and_then(|r| resource_id(w, r, "encryption.keyVaultId", KEY_VAULT_TYPE));
    let key_name = map.get("keyName").and_then(|n| key_part(w, n, "encryption.keyName", false));
    let key_version = map.get("keyVersion").and_then(|n| key_part(w, n, "encryption.keyVersion", true));
    Some(Encryption {
        key_vault_id: key_vault_id?,
        key_name: key_name?,
        key_version: key_version?,
    })
}

/// `8-4-4-4-12` hexadecimal digits, returned lower-cased.
pub(crate) fn is_guid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

fn guid(w: &mut Walker, v: &Value, path: &str) -> Option<String> {
    let s = w.string(v, path)?;
    if is_guid(s) {
        return Some(s.to_ascii_lowercase());
    }
    w.push(
        Diagnostic::error(E_IDENTITY_GUID, path, format!("`{s}` is not a GUID"))
            .with_help("copy the value from the identity's overview page, e.g. 00000000-0000-0000-0000-000000000000"),
    );
    None
}

/// Why `s` is not a resource id `/subscriptions/<guid>/resourceGroups/<rg>/providers/<type>/<name>`
/// of the resource type `kind` (compared case-insensitively, as ARM does).
pub(crate) fn resource_id_problem(s: &str, kind: &str) -> Option<String> {
    let parts: Vec<&str> = s.split('/').collect();
    let (ns, ty) = kind.split_once('/').expect("a resource type is namespace/type");
    let shape = parts.len() == 9
        && parts[0].is_empty()
        && parts[1].eq_ignore_ascii_case("subscriptions")
        && parts[3].eq_ignore_ascii_case("resourceGroups")
        && !parts[4].is_empty()
        && parts[5].eq_ignore_ascii_case("providers")
        && !parts[8].is_empty();
    if !shape {
        return Some(format!(
            "it is not of the form /subscriptions/<id>/resourceGroups/<group>/providers/{kind}/<name>"
        ));
    }
    if !is_guid(parts[2]) {
        return Some(format!("the subscription `{}` is not a GUID", parts[2]));
    }
    if !(parts[6].eq_ignore_ascii_case(ns) && parts[7].eq_ignore_ascii_case(ty)) {
        return Some(format!("it names a `{}/{}`, not a `{kind}`", parts[6], parts[7]));
    }
    // The names go into the templates and the request as they are: ones Azure refuses would fail
    // the deployment, and nothing else checks them.
    if let Err(why) = NameRule::ResourceGroup.check(parts[4]) {
        return Some(format!("the resource group name `{}` is invalid: {why}", parts[4]));
    }
    resource_name_problem(ty, parts[8]).map(|why| format!("the name `{}` is invalid: {why}", parts[8]))
}

/// Azure's naming rules for the resources an environment points at (resource-name-rules):
/// a Key Vault 3-24 letters, digits and `-`, starting with a letter, ending with a letter or digit,
/// no `--`; a user-assigned identity 3-128 letters, digits, `-` and `_`, starting with a letter or
/// digit.
fn resource_name_problem(ty: &str, name: &str) -> Option<&'static str> {
    let len = name.chars().count();
    if ty.eq_ignore_ascii_case("vaults") {
        if !(3..=24).contains(&len) {
            return Some("a Key Vault name is 3 to 24 characters long");
        }
        let ok = name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && name.starts_with(|c: char| c.is_ascii_alphabetic())
            && name.ends_with(|c: char| c.is_ascii_alphanumeric())
            && !name.contains("--");
        return (!ok)
            .then_some("a Key Vault name uses letters, digits and single hyphens, starts with a letter and ends with a letter or digit");
    }
    let ok = (3..=128).contains(&len)
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        && name.starts_with(|c: char| c.is_ascii_alphanumeric());
    (!ok).then_some("an identity name is 3 to 128 letters, digits, `-` and `_`, starting with a letter or digit")
}

fn resource_id(w: &mut Walker, v: &Value, path: &str, kind: &str) -> Option<String> {
    let s = w.string(v, path)?;
    match resource_id_problem(s, kind) {
        None => Some(s.to_string()),
        Some(why) => {
            w.push(
                Diagnostic::error(E_RESOURCE_ID, path, format!("`{s}` is not a {kind} resource id: {why}")).with_help(format!(
                    "copy the id from the resource's JSON view: /subscriptions/<id>/resourceGroups/<group>/providers/{kind}/<name>"
                )),
            );
            None
        }
    }
}

/// Key Vault's rules: a key name is 1-127 letters, digits and `-`; a key version is 32 hex digits.
fn key_part(w: &mut Walker, v: &Value, path: &str, version: bool) -> Option<String> {
    let s = w.string(v, path)?;
    let ok = if version {
        s.len() == 32 && s.bytes().all(|b| b.is_ascii_hexdigit())
    } else {
        (1..=127).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    };
    if ok {
        return Some(s.to_string());
    }
    let (what, help) = if version {
        (
            "key version",
            "a key version is the 32 hexadecimal digits at the end of the key's identifier",
        )
    } else {
        ("key name", "a Key Vault key name is 1-127 letters, digits and `-`")
    };
    w.push(Diagnostic::error(E_KEY_NAME, path, format!("`{s}` is not a valid {what}")).with_help(help));
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const VAULT: &str = "Microsoft.KeyVault/vaults";

    #[test]
    fn resource_ids_are_checked_part_by_part() {
        let good = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv1";
        assert_eq!(resource_id_problem(good, VAULT), None);
        assert_eq!(
            resource_id_problem(&good.to_lowercase(), VAULT),
            None,
            "ARM ids compare case-insensitively"
        );
        assert!(
            resource_id_problem(&good.replace("KeyVault/vaults", "Storage/storageAccounts"), VAULT)
                .unwrap()
                .contains("not a `Microsoft.KeyVault/vaults`")
        );
        assert!(resource_id_problem(&good.replace("00000000-0000", "x"), VAULT)
            .unwrap()
            .contains("GUID"));
        assert!(resource_id_problem(&format!("{good}/keys/k"), VAULT).is_some());
        // Names Azure refuses: a vault of 2 or 25 characters, one with markup, a double hyphen or
        // a leading digit; a resource group with `|` or a trailing `.`; an identity with `.`.
        let vault = |name: &str| good.replace("vaults/kv1", &format!("vaults/{name}"));
        for bad in ["kv", &"k".repeat(25), "v<img src=x>", "kv--1", "1kv", "kv-"] {
            assert!(resource_id_problem(&vault(bad), VAULT).unwrap().contains("Key Vault name"), "{bad}");
        }
        assert!(resource_id_problem(&vault(&format!("k{}", "v".repeat(23))), VAULT).is_none());
        for bad in ["a|b", "rg."] {
            assert!(
                resource_id_problem(&good.replace("/rg/", &format!("/{bad}/")), VAULT)
                    .unwrap()
                    .contains("resource group"),
                "{bad}"
            );
        }
        let identity = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/";
        let kind = "Microsoft.ManagedIdentity/userAssignedIdentities";
        assert!(resource_id_problem(&format!("{identity}ise_identity-1"), kind).is_none());
        assert!(resource_id_problem(&format!("{identity}ise.identity"), kind).is_some());
        assert!(resource_id_problem("kv", VAULT).is_some());
    }

    proptest! {
        #[test]
        fn guid_is_exactly_the_8_4_4_4_12_hex_shape(s in "[0-9a-fA-F-]{0,40}") {
            let groups: Vec<usize> = s.split('-').map(str::len).collect();
            prop_assert_eq!(is_guid(&s), groups == [8, 4, 4, 4, 12]);
        }
    }
}
