//! The deployable forms (issue 10): `azuredeploy.json` and its parameters, `main.bicep`,
//! `main.bicepparam` and `modules/*.bicep`, `ise-request.json` and `.http`, for every cloud x access
//! endpoint x tunneling mode, with and without `--network-only`. Checked against Microsoft's
//! published ARM schemas (copies in tests/fixtures/arm-schemas), ARM's limits, the other artifacts
//! (the template's NSG rules are nsg.json's), the Bicep grammar (tree-sitter-bicep: no ERROR or
//! MISSING node), Bicep against ARM resource by resource, and seed 000's request shape.

use crate::common;
use ise_model::servicetags::ServiceTags;
use jsonschema::{Retrieve, Uri, Validator};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::OnceLock;

const UAI: &str = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/contoso-identity/providers/Microsoft.ManagedIdentity/userAssignedIdentities/contoso-ise-identity";
const KEY_VAULT: &str =
    "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/contoso-security/providers/Microsoft.KeyVault/vaults/contoso-kv";

/// One compiled environment of the matrix.
struct Case {
    label: String,
    cloud: &'static str,
    external: bool,
    mode: &'static str,
    network_only: bool,
    env: Value,
    files: BTreeMap<&'static str, String>,
}

impl Case {
    fn json(&self, name: &str) -> Value {
        serde_json::from_str(&self.files[name]).unwrap_or_else(|e| panic!("{}: {name} is not JSON: {e}", self.label))
    }
    fn text(&self, name: &str) -> &str {
        &self.files[name]
    }
}

fn compile(env: &Value, network_only: bool) -> BTreeMap<&'static str, String> {
    let env = ise_model::env::load(&env.to_string(), "matrix.json")
        .env
        .expect("matrix environments are valid");
    let mut plan = rules_compiler::plan::build(&env, ServiceTags::embedded(env.cloud), None).expect("matrix environments compile");
    plan.deployment.include_ise = !network_only;
    rules_compiler::render::render_all(&plan)
        .into_iter()
        .map(|a| (a.file_name, a.contents))
        .collect()
}

/// Every cloud x endpoint x tunneling mode x (`--network-only` or not); identities and keys vary
/// along the matrix so each form of `identity` and `encryption` is rendered somewhere.
fn matrix() -> &'static [Case] {
    static CASES: OnceLock<Vec<Case>> = OnceLock::new();
    CASES.get_or_init(|| {
        let example: Value = serde_json::from_str(ise_model::data::EXAMPLE_ENVIRONMENT).unwrap();
        let mut cases = Vec::new();
        for (cloud, location) in [("public", "westus2"), ("usgovernment", "usgovvirginia"), ("china", "chinanorth2")] {
            for external in [false, true] {
                for mode in ["none", "expressRoute", "firewall"] {
                    let mut env = example.clone();
                    env["cloud"] = json!(cloud);
                    env["location"] = json!(location);
                    env["accessEndpoint"] = json!(if external { "external" } else { "internal" });
                    env["forcedTunneling"] = if mode == "firewall" {
                        json!({ "mode": mode, "firewallPrivateIp": "10.10.0.4" })
                    } else {
                        json!({ "mode": mode })
                    };
                    match cases.len() / 2 % 3 {
                        0 => {}
                        1 => env["identity"] = json!({ "type": "SystemAssigned" }),
                        _ => {
                            env["identity"] = json!({ "type": "UserAssigned", "userAssignedIdentity": UAI, "principalId": "11111111-1111-1111-1111-111111111111", "clientId": "22222222-2222-2222-2222-222222222222" });
                            env["encryption"] = json!({ "keyVaultId": KEY_VAULT, "keyName": "ise-cmk", "keyVersion": "0123456789abcdef0123456789abcdef" });
                        }
                    }
                    for network_only in [false, true] {
                        cases.push(Case {
                            label: format!("{cloud}/{}/{mode}{}", if external { "external" } else { "internal" }, if network_only { "/network-only" } else { "" }),
                            cloud,
                            external,
                            mode,
                            network_only,
                            files: compile(&env, network_only),
                            env: env.clone(),
                        });
                    }
                }
            }
        }
        cases
    })
}

// ---- Microsoft's schemas ------------------------------------------------------------------

const SCHEMA_HOST: &str = "https://schema.management.azure.com/schemas/";

fn schema_dir() -> PathBuf {
    common::workspace().join("tests/fixtures/arm-schemas")
}

/// Serves `https://schema.management.azure.com/schemas/<path>` from the fixture copies; nothing is
/// fetched from the network.
struct Fixtures;

impl Retrieve for Fixtures {
    fn retrieve(&self, uri: &Uri<String>) -> Result<Value, Box<dyn std::error::Error + Send + Sync>> {
        let rel = uri
            .as_str()
            .strip_prefix(SCHEMA_HOST)
            .ok_or_else(|| format!("not a fixture: {uri}"))?;
        let rel = rel.trim_end_matches('#');
        let mut schema: Value = serde_json::from_str(&std::fs::read_to_string(schema_dir().join(rel))?)?;
        if rel == TEMPLATE_SCHEMA {
            rebuild_resource_entry(&mut schema);
        }
        Ok(schema)
    }
}

const TEMPLATE_SCHEMA: &str = "2019-04-01/deploymentTemplate.json";

/// The provider schema definition of each resource type isenet writes.
fn resource_definition(kind: &str) -> String {
    let (file, def) = match kind {
        "Microsoft.Network/networkSecurityGroups" => ("2023-11-01/Microsoft.Network.NRP.json", "networkSecurityGroups"),
        "Microsoft.Network/routeTables" => ("2023-11-01/Microsoft.Network.NRP.json", "routeTables"),
        "Microsoft.Network/virtualNetworks/subnets" => ("2023-11-01/Microsoft.Network.NRP.json", "virtualNetworks_subnets"),
        "Microsoft.Network/firewallPolicies/ruleCollectionGroups" => {
            ("2023-11-01/Microsoft.Network.NRP.json", "firewallPolicies_ruleCollectionGroups")
        }
        "Microsoft.Logic/integrationServiceEnvironments" => ("2019-05-01/Microsoft.Logic.json", "integrationServiceEnvironments"),
        other => panic!("no schema for resource type {other}"),
    };
    format!("{SCHEMA_HOST}{file}#/resourceDefinitions/{def}")
}

/// The template schema's resource entry refers to `common/autogeneratedResources.json` (the union
/// of every provider's resources, not in the mirror) and to old Logic and SendGrid schemas; it is
/// rebuilt the way that file is made: the common resource base and one of the provider
/// definitions of isenet's resource types.
fn rebuild_resource_entry(schema: &mut Value) {
    let kinds = [
        "Microsoft.Network/networkSecurityGroups",
        "Microsoft.Network/routeTables",
        "Microsoft.Network/virtualNetworks/subnets",
        "Microsoft.Network/firewallPolicies/ruleCollectionGroups",
        "Microsoft.Logic/integrationServiceEnvironments",
    ];
    let mut defs: Vec<Value> = kinds.iter().map(|k| json!({ "$ref": resource_definition(k) })).collect();
    defs.push(deployment_definition());
    schema["definitions"]["resource"] = json!({ "allOf": [ { "$ref": "#/definitions/resourceBase" }, { "oneOf": defs } ] });
}

/// The nested deployment (`Microsoft.Resources/deployments` 2022-09-01) that puts the firewall rules
/// into the policy's resource group. The mirror holds no Microsoft.Resources schema: this is the
/// REST API's documented shape of a deployment with an inline template (mode Incremental or
/// Complete, expression scope NotSpecified, Outer or Inner, parameters as `{value}` objects), and
/// the inline template is checked against the template schema on its own (`template_errors`).
fn deployment_definition() -> Value {
    json!({
        "type": "object",
        "required": ["name", "type", "apiVersion", "properties"],
        "properties": {
            "type": { "enum": ["Microsoft.Resources/deployments"] },
            "apiVersion": { "enum": ["2022-09-01"] },
            // A literal name, or an expression ARM evaluates first (as common/definitions.json's
            // `expression`: a string in brackets not starting with `[[`).
            "name": { "anyOf": [
                { "type": "string", "minLength": 1, "maxLength": 64, "pattern": "^[-A-Za-z0-9._()]+$" },
                { "type": "string", "pattern": "^\\[([^\\[].*)?\\]$" }
            ] },
            "resourceGroup": { "type": "string" },
            "properties": {
                "type": "object",
                "required": ["mode", "template"],
                "additionalProperties": false,
                "properties": {
                    "mode": { "enum": ["Incremental", "Complete"] },
                    "expressionEvaluationOptions": {
                        "type": "object",
                        "additionalProperties": false,
                        "properties": { "scope": { "enum": ["NotSpecified", "Outer", "Inner"] } }
                    },
                    "parameters": {
                        "type": "object",
                        "additionalProperties": { "type": "object", "required": ["value"], "additionalProperties": false, "properties": { "value": {} } }
                    },
                    "template": { "type": "object" }
                }
            }
        }
    })
}

/// The inline templates of a template's nested deployments.
fn nested_templates(template: &Value) -> Vec<&Value> {
    template["resources"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|r| r["type"] == "Microsoft.Resources/deployments")
        .map(|r| &r["properties"]["template"])
        .collect()
}

/// Schema errors of a template and of the templates its nested deployments hold.
fn template_errors(template: &Value) -> Vec<String> {
    let mut out = errors(template_validator(), template);
    for inner in nested_templates(template) {
        out.extend(template_errors(inner).into_iter().map(|e| format!("nested template: {e}")));
    }
    out
}

fn validator(schema: &Value) -> Validator {
    jsonschema::options()
        .with_retriever(Fixtures)
        .build(schema)
        .unwrap_or_else(|e| panic!("schema compiles: {e}"))
}

fn template_validator() -> &'static Validator {
    static V: OnceLock<Validator> = OnceLock::new();
    V.get_or_init(|| by_ref(&format!("{SCHEMA_HOST}{TEMPLATE_SCHEMA}#")))
}

fn by_ref(uri: &str) -> Validator {
    validator(&json!({ "$schema": "http://json-schema.org/draft-04/schema#", "$ref": uri }))
}

fn errors(v: &Validator, instance: &Value) -> Vec<String> {
    v.iter_errors(instance).map(|e| format!("{}: {e}", e.instance_path())).collect()
}

/// The REST body's parts against the Microsoft.Logic definitions (the body is not a template
/// resource: it has no apiVersion).
fn request_errors(body: &Value) -> Vec<String> {
    static V: OnceLock<[Validator; 3]> = OnceLock::new();
    let logic = format!("{SCHEMA_HOST}2019-05-01/Microsoft.Logic.json#/definitions/");
    let [sku, identity, props] = V.get_or_init(|| {
        [
            by_ref(&format!("{logic}IntegrationServiceEnvironmentSku")),
            by_ref(&format!("{logic}ManagedServiceIdentity")),
            by_ref(&format!("{logic}IntegrationServiceEnvironmentProperties")),
        ]
    });
    let mut out = errors(sku, &body["sku"]);
    if let Some(i) = body.get("identity") {
        out.extend(errors(identity, i));
    }
    out.extend(errors(props, &body["properties"]));
    out
}

#[test]
fn every_template_parameters_file_and_request_passes_microsofts_schemas() {
    let params = by_ref(&format!("{SCHEMA_HOST}2019-04-01/deploymentParameters.json#"));
    let mut problems = Vec::new();
    for case in matrix() {
        let template = case.json("azuredeploy.json");
        let mut errs = template_errors(&template);
        errs.extend(errors(&params, &case.json("azuredeploy.parameters.json")));
        errs.extend(request_errors(&case.json("ise-request.json")));
        problems.extend(errs.into_iter().map(|e| format!("{}: {e}", case.label)));
    }
    assert!(problems.is_empty(), "{} schema error(s):\n{}", problems.len(), problems.join("\n"));
}

#[test]
fn the_schema_check_refuses_a_broken_resource() {
    // So the zero above means something: wrong values of each resource type are caught.
    let case = &matrix().iter().find(|c| c.mode == "firewall" && !c.network_only).unwrap();
    let template = case.json("azuredeploy.json");
    let breakages: [(&str, &str, Value); 7] = [
        (
            "Microsoft.Network/networkSecurityGroups",
            "/properties/securityRules/0/properties/access",
            json!("Permit"),
        ),
        (
            "Microsoft.Network/networkSecurityGroups",
            "/properties/securityRules/0/properties/priority",
            json!(true),
        ),
        (
            "Microsoft.Network/virtualNetworks/subnets",
            "/properties/serviceEndpoints",
            json!("Microsoft.Sql"),
        ),
        (
            "Microsoft.Network/firewallPolicies/ruleCollectionGroups",
            "/properties/priority",
            json!("first"),
        ),
        (
            "Microsoft.Logic/integrationServiceEnvironments",
            "/properties/networkConfiguration/accessEndpoint/type",
            json!("Public"),
        ),
        ("Microsoft.Resources/deployments", "/properties/mode", json!("Partial")),
        (
            "Microsoft.Resources/deployments",
            "/properties/expressionEvaluationOptions/scope",
            json!("Nested"),
        ),
    ];
    for (kind, pointer, bad) in breakages {
        let mut broken = template.clone();
        let resource = find_mut(&mut broken, kind).unwrap_or_else(|| panic!("{kind} in the template"));
        *resource.pointer_mut(pointer).unwrap_or_else(|| panic!("{kind}{pointer}")) = bad;
        assert!(
            !template_errors(&broken).is_empty(),
            "{kind}{pointer} broken, yet the template passes"
        );
    }
    let mut body = case.json("ise-request.json");
    body["sku"]["name"] = json!("Standard");
    assert!(!request_errors(&body).is_empty());
}

// ---- ARM's limits and the other artifacts ---------------------------------------------------

#[test]
fn templates_stay_within_arm_limits() {
    // https://learn.microsoft.com/azure/azure-resource-manager/templates/best-practices#template-limits
    for case in matrix() {
        let t = case.json("azuredeploy.json");
        assert!(t["parameters"].as_object().unwrap().len() <= 256, "{}", case.label);
        assert!(t["resources"].as_array().unwrap().len() <= 800, "{}", case.label);
        assert!(t["outputs"].as_object().unwrap().len() <= 64, "{}", case.label);
        assert!(case.text("azuredeploy.json").len() < 4 * 1024 * 1024, "{}", case.label);
    }
}

/// Every resource the template deploys: its own and those of its nested deployments' templates.
fn deployed(template: &Value) -> Vec<&Value> {
    let own = template["resources"].as_array().unwrap();
    let mut out: Vec<&Value> = own.iter().collect();
    for inner in nested_templates(template) {
        out.extend(deployed(inner));
    }
    out
}

/// The first resource of `kind`, nested deployments' templates included, to break it.
fn find_mut<'t>(template: &'t mut Value, kind: &str) -> Option<&'t mut Value> {
    for r in template["resources"].as_array_mut()? {
        if r["type"] == kind {
            return Some(r);
        }
        if r["type"] == "Microsoft.Resources/deployments" {
            if let Some(found) = find_mut(&mut r["properties"]["template"], kind) {
                return Some(found);
            }
        }
    }
    None
}

fn resources_of<'t>(template: &'t Value, kind: &str) -> Vec<&'t Value> {
    deployed(template).into_iter().filter(|r| r["type"] == kind).collect()
}

fn one<'t>(template: &'t Value, kind: &str) -> Option<&'t Value> {
    let found = resources_of(template, kind);
    assert!(found.len() <= 1, "{kind} more than once");
    found.first().copied()
}

#[test]
fn template_resources_are_the_other_artifacts() {
    for case in matrix() {
        let t = case.json("azuredeploy.json");
        let label = &case.label;
        let nsg = one(&t, "Microsoft.Network/networkSecurityGroups").unwrap();
        assert_eq!(
            nsg["properties"]["securityRules"],
            case.json("nsg.json")["properties"]["securityRules"],
            "{label}: NSG rules"
        );

        let route_table = one(&t, "Microsoft.Network/routeTables");
        assert_eq!(
            route_table.is_some(),
            case.mode != "none",
            "{label}: a route table exactly when tunneled"
        );
        if let Some(rt) = route_table {
            assert_eq!(
                rt["properties"]["routes"],
                case.json("route-table.json")["properties"]["routes"],
                "{label}: routes"
            );
        }

        let subnets = resources_of(&t, "Microsoft.Network/virtualNetworks/subnets");
        let expected = case.json("subnets.json");
        let expected = expected["resources"].as_array().unwrap();
        assert_eq!(subnets.len(), 4, "{label}");
        for (i, (s, e)) in subnets.iter().zip(expected).enumerate() {
            let name = e["name"].as_str().unwrap().split('/').nth(1).unwrap();
            assert!(
                s["name"].as_str().unwrap().ends_with(&format!("'{name}')]")),
                "{label}: subnet {i} is {name}"
            );
            for field in ["addressPrefix", "serviceEndpoints", "delegations"] {
                assert_eq!(s["properties"][field], e["properties"][field], "{label}: subnet {name} {field}");
            }
            assert_eq!(
                s["properties"].get("routeTable").is_some(),
                case.mode != "none",
                "{label}: {name} route table"
            );
            // Azure updates one subnet of a virtual network at a time: each waits for the one before.
            let depends: Vec<&str> = s["dependsOn"].as_array().unwrap().iter().map(|d| d.as_str().unwrap()).collect();
            if i > 0 {
                let before = expected[i - 1]["name"].as_str().unwrap().split('/').nth(1).unwrap();
                assert!(
                    depends
                        .iter()
                        .any(|d| d.contains("virtualNetworks/subnets") && d.ends_with(&format!("'{before}')]"))),
                    "{label}: {name} waits for {before}"
                );
            }
        }
        assert_eq!(
            expected
                .iter()
                .filter(|s| !s["properties"]["delegations"].as_array().unwrap().is_empty())
                .count(),
            1
        );

        let group = one(&t, "Microsoft.Network/firewallPolicies/ruleCollectionGroups");
        assert_eq!(
            group.is_some(),
            case.mode == "firewall",
            "{label}: firewall rules exactly in firewall mode"
        );
        if let Some(g) = group {
            let policy = case.json("firewall-policy.json");
            assert_eq!(g["properties"], policy["resources"][0]["properties"], "{label}: firewall rules");
            assert!(t["parameters"].get("firewallPolicyName").is_some());
            // The group goes to the policy's resource group, by default the deployment's own: a
            // nested deployment there, whose inline template holds the group and takes the
            // policy's name from the outer parameter.
            assert_eq!(
                t["parameters"]["firewallPolicyResourceGroup"]["defaultValue"], "[resourceGroup().name]",
                "{label}"
            );
            let deployment = one(&t, "Microsoft.Resources/deployments").expect("a nested deployment");
            assert_eq!(
                deployment["resourceGroup"], "[parameters('firewallPolicyResourceGroup')]",
                "{label}"
            );
            assert_eq!(deployment["properties"]["template"]["resources"][0], *g, "{label}");
            assert_eq!(deployment["properties"]["expressionEvaluationOptions"]["scope"], "Inner", "{label}");
            assert_eq!(
                deployment["properties"]["parameters"]["firewallPolicyName"]["value"], "[parameters('firewallPolicyName')]",
                "{label}"
            );
            assert!(t["resources"]
                .as_array()
                .unwrap()
                .iter()
                .all(|r| r["type"] != "Microsoft.Network/firewallPolicies/ruleCollectionGroups"));
        } else {
            assert!(t["parameters"].get("firewallPolicyResourceGroup").is_none(), "{label}");
            assert!(one(&t, "Microsoft.Resources/deployments").is_none(), "{label}");
        }

        let ise = one(&t, "Microsoft.Logic/integrationServiceEnvironments");
        assert_eq!(ise.is_none(), case.network_only, "{label}: the ISE unless --network-only");
        assert_eq!(t["outputs"].get("iseId").is_none(), case.network_only, "{label}");
        // The description names what the template deploys, and nothing it leaves out.
        let description = t["metadata"]["description"].as_str().unwrap();
        assert_eq!(description.contains("the ISE itself"), !case.network_only, "{label}: {description}");
        assert_eq!(description.contains("network only"), case.network_only, "{label}: {description}");
        let route_table = one(&t, "Microsoft.Network/routeTables").is_some();
        assert_eq!(route_table, case.mode != "none", "{label}: a route table under forced tunneling");
        assert_eq!(description.contains("route table"), route_table, "{label}: {description}");
        assert_eq!(
            description.contains("firewall rules"),
            case.mode == "firewall",
            "{label}: {description}"
        );
        if let Some(ise) = ise {
            assert_eq!(ise["apiVersion"], "2019-05-01");
            let depends: Vec<&str> = ise["dependsOn"].as_array().unwrap().iter().map(|d| d.as_str().unwrap()).collect();
            let subnet_ids: Vec<String> = expected
                .iter()
                .map(|e| {
                    let name = e["name"].as_str().unwrap().split('/').nth(1).unwrap();
                    format!("[resourceId('Microsoft.Network/virtualNetworks/subnets', parameters('virtualNetworkName'), '{name}')]")
                })
                .collect();
            let mut want = subnet_ids;
            // In firewall mode the subnets send 0.0.0.0/0 to the firewall, and the ISE's
            // deployment fails unless its dependencies are allowed: it waits for the rules too.
            // The rules are deployed by the nested deployment in the policy's resource group.
            if case.mode == "firewall" {
                want.push(
                    "[resourceId(parameters('firewallPolicyResourceGroup'), 'Microsoft.Resources/deployments', format('ise-firewall-rules-{0}', uniqueString(resourceGroup().id, parameters('nsgName'))))]"
                        .to_string(),
                );
            }
            assert_eq!(depends, want, "{label}: the ISE waits for its subnets (and the firewall rules)");
            assert_eq!(ise["properties"]["networkConfiguration"]["subnets"].as_array().unwrap().len(), 4);
            assert_eq!(ise["identity"]["type"], case.env["identity"]["type"], "{label}: identity");
            assert_eq!(
                ise["properties"].get("encryptionConfiguration").is_some(),
                case.env.get("encryption").is_some(),
                "{label}"
            );
        }
    }
}

#[test]
fn the_parameters_file_gives_every_parameter_the_environment_knows() {
    for case in matrix() {
        let t = case.json("azuredeploy.json");
        let declared: BTreeSet<&String> = t["parameters"].as_object().unwrap().keys().collect();
        let p = case.json("azuredeploy.parameters.json");
        let given: BTreeSet<&String> = p["parameters"].as_object().unwrap().keys().collect();
        let mut expected = declared.clone();
        // The firewall policy is not in the environment file: the deployment asks for its name,
        // and takes its resource group from the default unless told.
        expected.retain(|k| *k != "firewallPolicyName" && *k != "firewallPolicyResourceGroup");
        assert_eq!(given, expected, "{}", case.label);
        for (name, def) in t["parameters"].as_object().unwrap() {
            let known = given.contains(name) || name == "firewallPolicyName";
            assert_eq!(known, def.get("defaultValue").is_none(), "{}: {name}", case.label);
        }
        for (name, def) in t["parameters"].as_object().unwrap() {
            assert!(
                def["metadata"]["description"].as_str().is_some_and(|d| !d.is_empty()),
                "{}: {name} has a description",
                case.label
            );
        }
        if !case.network_only {
            assert_eq!(
                p["parameters"]["accessEndpointType"]["value"],
                if case.external { "External" } else { "Internal" }
            );
        }
    }
}

// ---- seed 000: the REST request ---------------------------------------------------------------

#[test]
fn the_request_has_seed_000s_shape_for_every_cloud_and_endpoint() {
    let hosts = [
        ("public", "management.azure.com"),
        ("usgovernment", "management.usgovcloudapi.net"),
        ("china", "management.chinacloudapi.cn"),
    ];
    for case in matrix() {
        let body = case.json("ise-request.json");
        let env = &case.env;
        let label = &case.label;
        let group = format!(
            "/subscriptions/{}/resourceGroups/{}",
            env["subscriptionId"].as_str().unwrap(),
            env["resourceGroup"].as_str().unwrap()
        );
        let keys: BTreeSet<&str> = body.as_object().unwrap().keys().map(String::as_str).collect();
        let mut expected: BTreeSet<&str> = ["id", "name", "type", "location", "sku", "properties"].into();
        if env.get("identity").is_some() {
            expected.insert("identity");
        }
        assert_eq!(keys, expected, "{label}");
        assert_eq!(
            body["id"],
            format!(
                "{group}/providers/Microsoft.Logic/integrationServiceEnvironments/{}",
                env["name"].as_str().unwrap()
            )
        );
        assert_eq!(body["type"], "Microsoft.Logic/integrationServiceEnvironments");
        assert_eq!(body["location"], env["location"]);
        assert_eq!(body["sku"], env["sku"], "{label}: sku as given");
        let net = &body["properties"]["networkConfiguration"];
        assert_eq!(net["accessEndpoint"]["type"], if case.external { "External" } else { "Internal" });
        let ids: Vec<String> = env["subnets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                format!(
                    "{group}/providers/Microsoft.Network/virtualNetworks/contoso-vnet/subnets/{}",
                    s["name"].as_str().unwrap()
                )
            })
            .collect();
        assert_eq!(
            net["subnets"],
            json!(ids.iter().map(|id| json!({ "id": id })).collect::<Vec<_>>()),
            "{label}"
        );
        // Certificates keyed by name, each a TrustedRoot with base64 of the certificate's PEM
        // text, the form of seed 000's example (`LS0tLS1CRUdJTiBDRV...`); the environment gives
        // base64 of DER.
        let certs = body["properties"]["certificates"].as_object().unwrap();
        assert!(certs.len() <= 20);
        for c in env["certificates"].as_array().unwrap() {
            let name = c["name"].as_str().unwrap();
            assert_eq!(certs[name].as_object().unwrap().len(), 2, "{label}");
            assert_eq!(certs[name]["kind"], "TrustedRoot", "{label}");
            let sent = certs[name]["publicCertificate"].as_str().unwrap();
            let pem = common::base64_decode(sent).map(String::from_utf8);
            assert_eq!(
                pem,
                Some(Ok(common::pem_of_base64_der(c["publicCertificate"].as_str().unwrap()))),
                "{label}"
            );
        }
        match env["identity"]["type"].as_str() {
            Some("UserAssigned") => {
                assert_eq!(
                    body["identity"],
                    json!({ "type": "UserAssigned", "userAssignedIdentities": { UAI: { "principalId": "11111111-1111-1111-1111-111111111111", "clientId": "22222222-2222-2222-2222-222222222222" } } })
                );
                assert_eq!(
                    body["properties"]["encryptionConfiguration"],
                    json!({ "encryptionKeyReference": { "keyVault": { "id": KEY_VAULT }, "keyName": "ise-cmk", "keyVersion": "0123456789abcdef0123456789abcdef" } })
                );
            }
            Some(t) => assert_eq!(body["identity"], json!({ "type": t })),
            None => assert!(body["properties"].get("encryptionConfiguration").is_none()),
        }

        // The .http file: PUT with this body, PATCH with every certificate, GET to poll, on the cloud's host.
        let http = case.text("ise-request.http");
        let host = hosts.iter().find(|(c, _)| *c == case.cloud).unwrap().1;
        assert!(http.contains(&format!("@host = https://{host}\n")), "{label}");
        // The token comes from the CLI set to the environment's cloud (its `az cloud list` names).
        let cli = match case.cloud {
            "public" => "AzureCloud",
            "usgovernment" => "AzureUSGovernment",
            _ => "AzureChinaCloud",
        };
        assert!(http.contains(&format!("(az cloud set --name {cli}; az login):\n# export ISENET_ARM_TOKEN=\"$(az account get-access-token --resource https://{host}/ ")), "{label}");
        assert!(http.contains(&format!("@ise = {}\n", body["id"].as_str().unwrap())));
        assert!(http.contains("@apiVersion = 2019-05-01\n"));
        assert!(http.contains("@token = {{$processEnv ISENET_ARM_TOKEN}}\n"));
        let requests: Vec<&str> = http.split("\n###").skip(1).collect();
        let methods: Vec<&str> = requests
            .iter()
            .map(|r| r.lines().nth(1).unwrap().split(' ').next().unwrap())
            .collect();
        assert_eq!(methods, ["PUT", "PATCH", "GET"], "{label}");
        for r in &requests {
            assert!(
                r.lines().nth(1).unwrap().ends_with(" {{host}}{{ise}}?api-version={{apiVersion}}"),
                "{label}: {r}"
            );
            assert!(r.contains("\nAuthorization: Bearer {{token}}\n") || r.ends_with("Authorization: Bearer {{token}}\n"));
        }
        let json_after_blank = |r: &str| -> Value { serde_json::from_str(r.split_once("\n\n").unwrap().1.trim()).unwrap() };
        assert_eq!(json_after_blank(requests[0]), body, "{label}: the PUT body is ise-request.json");
        let patch = json_after_blank(requests[1]);
        assert_eq!(
            patch["properties"],
            json!({ "certificates": body["properties"]["certificates"] }),
            "{label}: the PATCH carries all certificates"
        );
    }
}

// ---- Bicep --------------------------------------------------------------------------------

fn bicep_files(case: &Case) -> impl Iterator<Item = (&&'static str, &String)> {
    case.files
        .iter()
        .filter(|(n, _)| n.ends_with(".bicep") || n.ends_with(".bicepparam"))
}

/// tree-sitter-bicep 1.1 has no rule for the one statement only `.bicepparam` files have, the typeless
/// `param NAME = value` assignment; it is read as `var NAME = value` (the same shape) so the grammar
/// still checks the rest of the file, every value included.
fn as_grammar_input(text: &str) -> String {
    text.lines()
        .map(|l| match l.strip_prefix("param ") {
            Some(rest) if rest.split_once(' ').is_some_and(|(_, after)| after.starts_with("= ")) => format!("var {rest}\n"),
            _ => format!("{l}\n"),
        })
        .collect()
}

fn parse(text: &str) -> tree_sitter::Tree {
    let mut parser = tree_sitter::Parser::new();
    parser
        .set_language(&tree_sitter_bicep::LANGUAGE.into())
        .expect("the Bicep grammar loads");
    parser.parse(text, None).expect("tree-sitter returns a tree")
}

/// Every ERROR and MISSING node, with its position.
fn syntax_errors(tree: &tree_sitter::Tree) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![tree.root_node()];
    while let Some(n) = stack.pop() {
        if n.is_error() || n.is_missing() {
            let p = n.start_position();
            out.push(format!("{}:{}: {}", p.row + 1, p.column + 1, n.to_sexp()));
        }
        let mut c = n.walk();
        stack.extend(n.children(&mut c));
    }
    out
}

#[test]
fn every_bicep_file_parses_without_error_or_missing_nodes() {
    let mut problems = Vec::new();
    for case in matrix() {
        let mut count = 0;
        for (name, text) in bicep_files(case) {
            count += 1;
            let input = if name.ends_with(".bicepparam") {
                as_grammar_input(text)
            } else {
                text.clone()
            };
            problems.extend(
                syntax_errors(&parse(&input))
                    .into_iter()
                    .map(|e| format!("{}: {name}:{e}", case.label)),
            );
        }
        assert_eq!(count, 7, "main.bicep, main.bicepparam and five modules");
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    // And the check bites: a missing brace is reported.
    assert!(!syntax_errors(&parse("var x = {\n  a: 1\n")).is_empty());
}

/// The named children of a node but comments and decorators.
fn named<'t>(n: tree_sitter::Node<'t>) -> Vec<tree_sitter::Node<'t>> {
    let mut c = n.walk();
    n.named_children(&mut c)
        .filter(|k| k.kind() != "comment" && k.kind() != "decorators")
        .collect()
}

/// A Bicep literal as JSON (objects, arrays, strings, numbers, booleans, null); any other
/// expression becomes `{"expr": "<its text>"}`.
fn literal(n: tree_sitter::Node, src: &str) -> Value {
    let text = |n: tree_sitter::Node| n.utf8_text(src.as_bytes()).unwrap().to_string();
    match n.kind() {
        "object" => Value::Object(
            named(n)
                .into_iter()
                .map(|p| {
                    let parts = named(p);
                    let key = match literal(parts[0], src) {
                        Value::String(s) => s,
                        _ => text(parts[0]),
                    };
                    (key, literal(*parts.last().unwrap(), src))
                })
                .collect(),
        ),
        "array" => Value::Array(named(n).into_iter().map(|x| literal(x, src)).collect()),
        "string" => {
            let mut s = String::new();
            for part in named(n) {
                match part.kind() {
                    "string_content" => s.push_str(&text(part)),
                    "escape_sequence" => s.push(match text(part).as_str() {
                        "\\n" => '\n',
                        "\\r" => '\r',
                        "\\t" => '\t',
                        other => other.chars().nth(1).unwrap(),
                    }),
                    _ => return json!({ "expr": text(n) }),
                }
            }
            Value::String(s)
        }
        "number" => json!(text(n).parse::<i64>().unwrap()),
        "boolean" => json!(text(n) == "true"),
        "null" => Value::Null,
        "identifier" | "compatible_identifier" | "property_identifier" => Value::String(text(n)),
        _ => json!({ "expr": text(n) }),
    }
}

/// The top-level declarations of a Bicep file: `var`/`param` values, modules (path and params),
/// resources (type@api, unless `existing`), and declared params.
#[derive(Default, Debug)]
struct BicepFile {
    vars: BTreeMap<String, Value>,
    params: BTreeMap<String, Value>,
    modules: BTreeMap<String, (String, Value)>,
    /// Each module's `dependsOn` (Null when it has none).
    module_depends: BTreeMap<String, Value>,
    /// Each module's `scope` (Null when it has none).
    module_scopes: BTreeMap<String, Value>,
    resources: Vec<String>,
}

fn declarations(src: &str) -> BicepFile {
    let tree = parse(src);
    let root = tree.root_node();
    let mut out = BicepFile::default();
    let mut c = root.walk();
    for stmt in root.named_children(&mut c) {
        let mut c2 = stmt.walk();
        let parts: Vec<tree_sitter::Node> = stmt.named_children(&mut c2).filter(|k| k.kind() != "decorators").collect();
        let text = |n: tree_sitter::Node| n.utf8_text(src.as_bytes()).unwrap().to_string();
        match stmt.kind() {
            "variable_declaration" => {
                out.vars.insert(text(parts[0]), literal(*parts.last().unwrap(), src));
            }
            "parameter_declaration" => {
                let value = parts
                    .iter()
                    .skip(1)
                    .find(|p| p.kind() != "type" && p.kind() != "primitive_type")
                    .map(|v| literal(*v, src));
                out.params.insert(text(parts[0]), value.unwrap_or(Value::Null));
            }
            "module_declaration" => {
                let path = literal(parts[1], src).as_str().unwrap().to_string();
                let body = literal(*parts.last().unwrap(), src);
                out.module_depends.insert(text(parts[0]), body["dependsOn"].clone());
                out.module_scopes.insert(text(parts[0]), body["scope"].clone());
                out.modules.insert(text(parts[0]), (path, body["params"].clone()));
            }
            "resource_declaration" if !text(stmt).contains(" existing ") => {
                out.resources.push(literal(parts[1], src).as_str().unwrap().to_string());
            }
            _ => {}
        }
    }
    out
}

#[test]
fn bicep_and_arm_deploy_the_same_resources() {
    for case in matrix() {
        let label = &case.label;
        let t = case.json("azuredeploy.json");
        let main = declarations(case.text("main.bicep"));
        // Parameters: the same names, and main.bicepparam gives the values of the ARM parameters file.
        let arm_params: BTreeSet<&String> = t["parameters"].as_object().unwrap().keys().collect();
        assert_eq!(main.params.keys().collect::<BTreeSet<_>>(), arm_params, "{label}: parameters");
        let values = declarations(&as_grammar_input(case.text("main.bicepparam")));
        let p = case.json("azuredeploy.parameters.json");
        for (name, v) in p["parameters"].as_object().unwrap() {
            assert_eq!(values.vars.get(name), Some(&v["value"]), "{label}: main.bicepparam {name}");
        }

        // Resource types and api versions: the modules main.bicep uses declare exactly the template's.
        let mut bicep_types = BTreeSet::new();
        for (path, _) in main.modules.values() {
            bicep_types.extend(declarations(&case.files[path.as_str()]).resources);
        }
        // A nested deployment is how ARM writes a module with a scope of its own: what it deploys
        // is compared, not the deployment.
        let arm_types: BTreeSet<String> = deployed(&t)
            .into_iter()
            .filter(|r| r["type"] != "Microsoft.Resources/deployments")
            .map(|r| format!("{}@{}", r["type"].as_str().unwrap(), r["apiVersion"].as_str().unwrap()))
            .collect();
        assert_eq!(bicep_types, arm_types, "{label}: resource types");

        // Names: each module is named by the parameter that names the template's resource.
        let module = |path: &str| main.modules.values().find(|(p, _)| p == path).map(|(_, params)| params.clone());
        let arm_name = |kind: &str| one(&t, kind).map(|r| r["name"].as_str().unwrap().to_string());
        let nsg = module("modules/nsg.bicep").unwrap();
        assert_eq!(
            arm_name("Microsoft.Network/networkSecurityGroups").unwrap(),
            format!("[parameters('{}')]", nsg["name"].as_str().unwrap())
        );
        // Rule sets: literally the template's.
        assert_eq!(
            main.vars["securityRules"],
            one(&t, "Microsoft.Network/networkSecurityGroups").unwrap()["properties"]["securityRules"],
            "{label}: NSG rules"
        );
        assert_eq!(nsg["securityRules"], "securityRules");

        match (module("modules/route-table.bicep"), one(&t, "Microsoft.Network/routeTables")) {
            (Some(rt), Some(arm)) => {
                assert_eq!(arm["name"], format!("[parameters('{}')]", rt["name"].as_str().unwrap()));
                assert_eq!(main.vars["routes"], arm["properties"]["routes"], "{label}: routes");
            }
            (None, None) => {}
            _ => panic!("{label}: route table in one form only"),
        }

        let subnets = resources_of(&t, "Microsoft.Network/virtualNetworks/subnets");
        let bicep_subnets = main.vars["subnets"].as_array().unwrap();
        assert_eq!(bicep_subnets.len(), subnets.len(), "{label}");
        for (b, a) in bicep_subnets.iter().zip(&subnets) {
            assert!(
                a["name"]
                    .as_str()
                    .unwrap()
                    .ends_with(&format!("'{}')]", b["name"].as_str().unwrap())),
                "{label}: subnet order and names"
            );
            for field in ["addressPrefix", "serviceEndpoints", "delegations"] {
                assert_eq!(b[field], a["properties"][field], "{label}: subnet {field}");
            }
        }
        let sub = module("modules/subnets.bicep").unwrap();
        assert_eq!(
            sub.get("routeTableId").is_some(),
            one(&t, "Microsoft.Network/routeTables").is_some(),
            "{label}: subnets on the route table"
        );

        match (
            module("modules/firewall-rules.bicep"),
            one(&t, "Microsoft.Network/firewallPolicies/ruleCollectionGroups"),
        ) {
            (Some(fw), Some(arm)) => {
                assert!(arm["name"]
                    .as_str()
                    .unwrap()
                    .ends_with(&format!("'{}')]", fw["name"].as_str().unwrap())));
                // Both deploy into the policy's resource group, by default the deployment's own.
                let symbol = main
                    .modules
                    .iter()
                    .find(|(_, (p, _))| p == "modules/firewall-rules.bicep")
                    .unwrap()
                    .0;
                assert_eq!(
                    main.module_scopes[symbol],
                    json!({ "expr": "resourceGroup(firewallPolicyResourceGroup)" }),
                    "{label}: the firewall module's scope"
                );
                assert_eq!(
                    one(&t, "Microsoft.Resources/deployments").unwrap()["resourceGroup"],
                    "[parameters('firewallPolicyResourceGroup')]"
                );
                assert_eq!(
                    main.params["firewallPolicyResourceGroup"],
                    json!({ "expr": "resourceGroup().name" })
                );
                assert_eq!(
                    t["parameters"]["firewallPolicyResourceGroup"]["defaultValue"],
                    "[resourceGroup().name]"
                );
                assert_eq!(fw["priority"], arm["properties"]["priority"]);
                assert_eq!(
                    main.vars["ruleCollections"], arm["properties"]["ruleCollections"],
                    "{label}: firewall rules"
                );
            }
            (None, None) => {}
            _ => panic!("{label}: firewall rules in one form only"),
        }

        match (
            module("modules/ise.bicep"),
            one(&t, "Microsoft.Logic/integrationServiceEnvironments"),
        ) {
            (Some(ise), Some(arm)) => {
                assert_eq!(arm["name"], format!("[parameters('{}')]", ise["name"].as_str().unwrap()));
                // The ISE waits for the firewall rules exactly when the template's ISE does.
                let symbol = |path: &str| main.modules.iter().find(|(_, (p, _))| p == path).map(|(k, _)| k.clone());
                let ise_depends = &main.module_depends[&symbol("modules/ise.bicep").unwrap()];
                let want = match symbol("modules/firewall-rules.bicep") {
                    Some(fw) => json!([fw]),
                    None => Value::Null,
                };
                assert_eq!(ise_depends, &want, "{label}: the ISE module's dependsOn");
                assert_eq!(
                    want.is_null(),
                    !arm["dependsOn"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|d| d.as_str().unwrap().contains("Microsoft.Resources/deployments")),
                    "{label}"
                );
                assert_eq!(ise.get("identity").cloned(), arm.get("identity").cloned(), "{label}: identity");
                assert_eq!(
                    ise.get("encryptionKeyReference").cloned(),
                    arm["properties"]
                        .get("encryptionConfiguration")
                        .map(|e| e["encryptionKeyReference"].clone()),
                    "{label}: customer-managed key"
                );
            }
            (None, None) => assert!(case.network_only),
            _ => panic!("{label}: the ISE in one form only"),
        }
    }
}

#[test]
fn the_nsg_module_takes_rules_in_the_avm_shape() {
    // The AVM network-security-group module's securityRuleType: name + properties with these fields.
    let avm_fields: BTreeSet<&str> = [
        "access",
        "description",
        "destinationAddressPrefix",
        "destinationAddressPrefixes",
        "destinationApplicationSecurityGroupResourceIds",
        "destinationPortRange",
        "destinationPortRanges",
        "direction",
        "priority",
        "protocol",
        "sourceAddressPrefix",
        "sourceAddressPrefixes",
        "sourceApplicationSecurityGroupResourceIds",
        "sourcePortRange",
        "sourcePortRanges",
    ]
    .into();
    for case in matrix() {
        let main = declarations(case.text("main.bicep"));
        for rule in main.vars["securityRules"].as_array().unwrap() {
            let keys: BTreeSet<&str> = rule.as_object().unwrap().keys().map(String::as_str).collect();
            assert_eq!(keys, ["name", "properties"].into());
            for k in rule["properties"].as_object().unwrap().keys() {
                assert!(
                    avm_fields.contains(k.as_str()),
                    "{}: {k} is not an AVM securityRuleType field",
                    case.label
                );
            }
        }
    }
}

// ---- End to end through the CLI --------------------------------------------------------------

#[test]
fn compile_writes_the_modules_directory_and_verify_reads_the_template() {
    let dir = common::scratch("deploy", "modules");
    let out = dir.join("out");
    let env = common::envs_dir().join("identity-user-assigned-cmk.json");
    let env_arg = env.to_str().unwrap();
    let out_arg = out.to_str().unwrap();
    let run = common::isenet(&["compile", "--env", env_arg, "--out-dir", out_arg, "--network-only"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let template: Value = serde_json::from_str(&std::fs::read_to_string(out.join("azuredeploy.json")).unwrap()).unwrap();
    assert!(
        one(&template, "Microsoft.Logic/integrationServiceEnvironments").is_none(),
        "--network-only leaves the ISE out"
    );
    for m in ["nsg", "route-table", "subnets", "firewall-rules", "ise"] {
        assert!(out.join(format!("modules/{m}.bicep")).is_file(), "modules/{m}.bicep");
    }
    // A rerun replaces the directory, modules/ included; a foreign file in modules/ is refused.
    let again = common::isenet(&["compile", "--env", env_arg, "--out-dir", out_arg]);
    assert_eq!(again.code, Some(0), "{}", again.stderr);
    std::fs::write(out.join("modules/mine.bicep"), "// mine").unwrap();
    let refused = common::isenet(&["compile", "--env", env_arg, "--out-dir", out_arg]);
    assert_eq!(refused.code, Some(2));
    assert!(
        refused.stderr.contains("E1101") && refused.stderr.contains("modules/mine.bicep"),
        "{}",
        refused.stderr
    );
    std::fs::remove_file(out.join("modules/mine.bicep")).unwrap();

    // verify proves the NSG inside the template like nsg.json.
    let template_path = out.join("azuredeploy.json");
    let ok = common::isenet(&["verify", "--env", env_arg, "--nsg", template_path.to_str().unwrap()]);
    assert_eq!(ok.code, Some(0), "{}{}", ok.stdout, ok.stderr);
    assert!(ok.stdout.contains("result: ok"), "{}", ok.stdout);
    // A template whose NSG lost a required rule is a finding, located in the template.
    let mut broken = template.clone();
    let rules = broken["resources"][0]["properties"]["securityRules"].as_array_mut().unwrap();
    let idx = rules.iter().position(|r| r["name"] == "in-triggers-443-external").unwrap();
    rules.remove(idx);
    let broken_path = dir.join("broken.json");
    std::fs::write(&broken_path, serde_json::to_string_pretty(&broken).unwrap()).unwrap();
    let gap = common::isenet(&["verify", "--env", env_arg, "--nsg", broken_path.to_str().unwrap()]);
    assert_eq!(gap.code, Some(1), "{}", gap.stdout);
    broken["resources"][0]["properties"]["securityRules"][0]["properties"]["priority"] = json!("high");
    std::fs::write(&broken_path, serde_json::to_string_pretty(&broken).unwrap()).unwrap();
    let bad = common::isenet(&["verify", "--env", env_arg, "--nsg", broken_path.to_str().unwrap()]);
    assert_eq!(bad.code, Some(2));
    assert!(bad.stderr.contains("resources[0].properties.securityRules[0]"), "{}", bad.stderr);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn without_certificates_the_request_has_none_and_the_http_file_no_patch() {
    let mut env: Value = serde_json::from_str(ise_model::data::EXAMPLE_ENVIRONMENT).unwrap();
    env["certificates"] = json!([]);
    let files = compile(&env, false);
    let body: Value = serde_json::from_str(&files["ise-request.json"]).unwrap();
    assert!(body["properties"].get("certificates").is_none());
    assert!(body.get("identity").is_none(), "no identity unless the environment sets one");
    let http = &files["ise-request.http"];
    let methods: Vec<&str> = http
        .split("\n###")
        .skip(1)
        .map(|r| r.lines().nth(1).unwrap().split(' ').next().unwrap())
        .collect();
    assert_eq!(methods, ["PUT", "GET"]);
    assert!(http.contains("# No custom root certificates in the environment: no PATCH."));
}

/// The templates take only the location and access endpoint the rules were compiled for: the
/// regional routes and tags and the endpoint's inbound rules fit no other, so an override is
/// refused by ARM (`allowedValues`) and Bicep (`@allowed`) rather than deployed.
#[test]
fn location_and_access_endpoint_allow_only_the_compiled_values() {
    for case in matrix() {
        let params = case.json("azuredeploy.json")["parameters"].clone();
        let location = case.env["location"].as_str().unwrap();
        assert_eq!(params["location"]["allowedValues"], json!([location]), "{}", case.label);
        let bicep = case.text("main.bicep");
        assert!(
            bicep.contains(&format!("@allowed([\n  '{location}'\n])\nparam location string")),
            "{}",
            case.label
        );
        if case.network_only {
            assert!(params.get("accessEndpointType").is_none(), "{}", case.label);
            continue;
        }
        let endpoint = if case.external { "External" } else { "Internal" };
        assert_eq!(params["accessEndpointType"]["allowedValues"], json!([endpoint]), "{}", case.label);
        assert!(
            bicep.contains(&format!("@allowed([\n  '{endpoint}'\n])\nparam accessEndpointType string")),
            "{}",
            case.label
        );
    }
}

/// Azure allows Unicode letters in resource group names; the `.http` request line carries them
/// percent-encoded (UTF-8), while the request body's `id` keeps the name as Azure returns it.
#[test]
fn the_http_file_percent_encodes_a_unicode_resource_group() {
    let mut env: Value = serde_json::from_str(ise_model::data::EXAMPLE_ENVIRONMENT).unwrap();
    env["resourceGroup"] = json!("réseau-(prod)");
    let files = compile(&env, false);
    let body: Value = serde_json::from_str(&files["ise-request.json"]).unwrap();
    let id = body["id"].as_str().unwrap();
    assert!(id.contains("/resourceGroups/réseau-(prod)/providers/"), "{id}");
    let http = &files["ise-request.http"];
    let line = http.lines().find(|l| l.starts_with("@ise = ")).unwrap();
    // é is U+00E9, UTF-8 C3 A9; parentheses and hyphens are valid in a path as they are.
    assert_eq!(line, format!("@ise = {}", id.replace('é', "%C3%A9")));
    assert!(
        line.contains("/resourceGroups/r%C3%A9seau-(prod)/providers/Microsoft.Logic/"),
        "{line}"
    );
}

/// A hub's firewall policy serves many spokes: the environment names its rule collection group
/// and priority (or gets `<name>-dependencies` at 500), and every artifact that writes, saves,
/// deletes or checks the group uses that one, from `compile` to `verify`.
#[test]
fn the_rule_collection_group_is_the_environments_own_in_every_artifact() {
    let dir = common::scratch("deploy", "rule-collection-group");
    let mut env: Value =
        serde_json::from_str(&std::fs::read_to_string(common::envs_dir().join("firewall-tunneling.json")).unwrap()).unwrap();
    env["forcedTunneling"]["ruleCollectionGroupName"] = json!("spoke7-ise_rules");
    env["forcedTunneling"]["ruleCollectionGroupPriority"] = json!(1200);
    let env_path = dir.join("env.json");
    std::fs::write(&env_path, env.to_string()).unwrap();
    let out = dir.join("out");
    let (env_arg, out_arg) = (env_path.to_str().unwrap(), out.to_str().unwrap());
    let run = common::isenet(&["compile", "--env", env_arg, "--out-dir", out_arg]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let read = |name: &str| std::fs::read_to_string(out.join(name)).unwrap();
    let policy: Value = serde_json::from_str(&read("firewall-policy.json")).unwrap();
    assert_eq!(
        policy["resources"][0]["name"],
        "[concat(parameters('firewallPolicyName'), '/spoke7-ise_rules')]"
    );
    assert_eq!(policy["resources"][0]["properties"]["priority"], 1200);
    let template: Value = serde_json::from_str(&read("azuredeploy.json")).unwrap();
    let nested = template["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["type"] == "Microsoft.Resources/deployments")
        .unwrap();
    let group = &nested["properties"]["template"]["resources"][0];
    assert_eq!(
        group["name"],
        "[format('{0}/{1}', parameters('firewallPolicyName'), 'spoke7-ise_rules')]"
    );
    assert_eq!(group["properties"]["priority"], 1200);
    assert!(read("main.bicep").contains("    name: 'spoke7-ise_rules'\n    priority: 1200\n"));
    let ticket = read("change-ticket.md");
    assert!(
        ticket.contains("one rule collection group, `spoke7-ise_rules`, at priority 1200"),
        "{ticket}"
    );
    for verb in ["show", "delete"] {
        assert!(
            ticket.contains(&format!(
                "rule-collection-group {verb} -g <policy-resource-group> --policy-name <policy> -n spoke7-ise_rules "
            )),
            "the ticket's {verb} command names the group"
        );
    }
    let plan: Value = serde_json::from_str(&read("plan.json")).unwrap();
    assert_eq!(plan["firewall"]["ruleCollectionGroup"], "spoke7-ise_rules");
    assert_eq!(
        plan["environment"]["forcedTunneling"]["ruleCollectionGroup"],
        json!({"name": "spoke7-ise_rules", "priority": 1200})
    );
    // The compiled group, as a template fragment and inside the deployment template, proves.
    for artifact in ["firewall-policy.json", "azuredeploy.json"] {
        let file = out.join(artifact);
        let verify = common::isenet(&["verify", "--env", env_arg, "--firewall", file.to_str().unwrap()]);
        assert_eq!(verify.code, Some(0), "{artifact}: {}{}", verify.stdout, verify.stderr);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Deployment names are per network: Bicep's module deployments and the ARM template's nested
/// one end in `uniqueString(resourceGroup().id, nsgName)` (an NSG name is unique in its resource
/// group), so two ISEs deploying at once, into one resource group or into one hub's policy, do not
/// replace each other's deployment. ARM and Bicep name the firewall rules' deployment alike.
#[test]
fn deployment_names_are_per_network() {
    for case in matrix() {
        let bicep = case.text("main.bicep");
        assert!(
            bicep.contains("\nvar deploymentSuffix = uniqueString(resourceGroup().id, nsgName)\n"),
            "{}",
            case.label
        );
        let modules: Vec<&str> = bicep.lines().filter(|l| l.starts_with("module ")).collect();
        let names: Vec<&str> = bicep.split("\nmodule ").skip(1).map(|m| m.lines().nth(1).unwrap().trim()).collect();
        assert_eq!(names.len(), modules.len());
        assert!(names.len() >= 2, "{}: {names:?}", case.label);
        for name in &names {
            assert!(
                name.starts_with("name: 'ise-") && name.ends_with("-${deploymentSuffix}'"),
                "{}: {name}",
                case.label
            );
        }
        let nested: Vec<Value> = case.json("azuredeploy.json")["resources"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["type"] == "Microsoft.Resources/deployments")
            .cloned()
            .collect();
        assert_eq!(nested.len(), usize::from(case.mode == "firewall"), "{}", case.label);
        for d in nested {
            assert_eq!(
                d["name"], "[format('ise-firewall-rules-{0}', uniqueString(resourceGroup().id, parameters('nsgName')))]",
                "{}",
                case.label
            );
            assert!(names.contains(&"name: 'ise-firewall-rules-${deploymentSuffix}'"), "{}", case.label);
        }
    }
}
