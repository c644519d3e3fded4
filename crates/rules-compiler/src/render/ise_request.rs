//! `ise-request.json`: the body of the PUT that creates the ISE through the Logic Apps REST API,
//! exactly in seed 000's shape:
//!
//! ```text
//! { "id", "name", "type": "Microsoft.Logic/integrationServiceEnvironments", "location",
//!   "sku": { "name", "capacity" },
//!   "identity": { "type", "userAssignedIdentities": { "<resource id>": { "principalId", "clientId" } } },
//!   "properties": { "networkConfiguration": { "accessEndpoint": { "type" }, "subnets": [ { "id" } x4 ] },
//!                   "encryptionConfiguration": { "encryptionKeyReference": { "keyVault": { "id" }, "keyName", "keyVersion" } },
//!                   "certificates": { "<name>": { "publicCertificate", "kind": "TrustedRoot" } } } }
//! ```
//!
//! `identity` only when the environment sets one, `encryptionConfiguration` only with a
//! customer-managed key, `certificates` only when there are certificates. The 2019-05-01 REST
//! spec has no `certificates` on the ISE; the documented request (seed 000) has, and the service
//! takes it, so the request follows the documentation (README, "The ISE REST requests").

use super::template;
use crate::plan::{Plan, ISE_TYPE};
use ise_model::env::{AccessEndpoint, Encryption, Environment, IdentityType};
use serde_json::{json, Map, Value};

pub(super) fn access_endpoint_type(env: &Environment) -> &'static str {
    match env.access_endpoint {
        AccessEndpoint::Internal => "Internal",
        AccessEndpoint::External => "External",
    }
}

pub(super) fn sku(env: &Environment) -> Value {
    json!({ "name": format!("{:?}", env.sku.name), "capacity": env.sku.capacity })
}

/// The identity object. `rest`: the request carries the identity's principal and client ids as
/// seed 000 writes them; a template gives `{}` (ARM fills them in, they are read-only there).
pub(super) fn identity(env: &Environment, rest: bool) -> Option<Value> {
    let id = env.identity.as_ref()?;
    let kind = match id.kind {
        IdentityType::None => "None",
        IdentityType::SystemAssigned => "SystemAssigned",
        IdentityType::UserAssigned => "UserAssigned",
    };
    let mut out = json!({ "type": kind });
    if let Some(resource) = &id.user_assigned_identity {
        let mut ids = Map::new();
        if rest {
            id.principal_id.as_ref().map(|p| ids.insert("principalId".into(), json!(p)));
            id.client_id.as_ref().map(|c| ids.insert("clientId".into(), json!(c)));
        }
        out["userAssignedIdentities"] = json!({ resource: ids });
    }
    Some(out)
}

pub(super) fn encryption_key_reference(e: &Encryption) -> Value {
    json!({ "keyVault": { "id": e.key_vault_id }, "keyName": e.key_name, "keyVersion": e.key_version })
}

/// `certificates` keyed by name, each a trusted root (seed 000: at most 20, the loader checks).
pub(super) fn certificates(env: &Environment) -> Value {
    let map: Map<String, Value> = env
        .certificates
        .iter()
        .map(|c| {
            (
                c.name.clone(),
                json!({ "publicCertificate": c.public_certificate, "kind": "TrustedRoot" }),
            )
        })
        .collect();
    Value::Object(map)
}

/// The id, name, type and location every request body starts with.
pub(super) fn header(plan: &Plan) -> Map<String, Value> {
    let env = &plan.environment;
    let mut body = Map::new();
    body.insert("id".into(), json!(plan.deployment.ise_id));
    body.insert("name".into(), json!(env.name));
    body.insert("type".into(), json!(ISE_TYPE));
    body.insert("location".into(), json!(env.location));
    body
}

/// The PUT body.
pub(super) fn put_body(plan: &Plan) -> Value {
    let env = &plan.environment;
    let mut body = header(plan);
    body.insert("sku".into(), sku(env));
    if let Some(identity) = identity(env, true) {
        body.insert("identity".into(), identity);
    }
    let subnets: Vec<Value> = plan.deployment.subnet_ids.iter().map(|id| json!({ "id": id })).collect();
    let mut props = json!({
        "networkConfiguration": { "accessEndpoint": { "type": access_endpoint_type(env) }, "subnets": subnets },
    });
    if let Some(e) = &env.encryption {
        props["encryptionConfiguration"] = json!({ "encryptionKeyReference": encryption_key_reference(e) });
    }
    if !env.certificates.is_empty() {
        props["certificates"] = certificates(env);
    }
    body.insert("properties".into(), props);
    Value::Object(body)
}

/// The PATCH body that replaces the certificates: an upload replaces every earlier one, so it
/// carries all of them (seed 000). `None` without certificates.
pub(super) fn patch_body(plan: &Plan) -> Option<Value> {
    if plan.environment.certificates.is_empty() {
        return None;
    }
    let mut body = header(plan);
    body.insert("properties".into(), json!({ "certificates": certificates(&plan.environment) }));
    Some(Value::Object(body))
}

pub fn render(plan: &Plan) -> String {
    template::json_file(&put_body(plan))
}
