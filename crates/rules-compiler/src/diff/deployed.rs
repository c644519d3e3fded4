//! What `diff --deployed` reads: a file of `az network nsg show`, `az network route-table show` or
//! `az network firewall policy rule-collection-group show` output, an ARM resource (isenet's own
//! artifacts), or an ARM template (an exported resource group) holding any of those. The kind is
//! told from the content; the existing readers do the reading, so every problem is the readers'
//! coded diagnostic with its file, JSON path and line:column.

use crate::prove::findings::ArtifactKind;
use crate::read::firewall::FirewallFile;
use crate::read::nsg::NsgFile;
use crate::read::routes::RouteFile;
pub use crate::read::subnets::SubnetRef;
use crate::read::template::{self, Wanted};
use crate::read::template_names::Place;
use crate::read::{firewall, nsg, routes};
use ise_model::codes::{E_DEPLOYED_CLASSIC, E_DEPLOYED_KIND, E_DEPLOYED_OTHER_NAME, E_DEPLOYED_TWICE};
use ise_model::diag::Diagnostic;
use ise_model::jsonpos::{field, index, Positions};
use serde::Serialize;
use serde_json::Value;

const NSG_TYPE: &str = "Microsoft.Network/networkSecurityGroups";
const ROUTES_TYPE: &str = "Microsoft.Network/routeTables";
const GROUP_TYPE: &str = "Microsoft.Network/firewallPolicies/ruleCollectionGroups";
const CLASSIC_TYPE: &str = "Microsoft.Network/azureFirewalls";
const DEPLOYMENTS_TYPE: &str = "Microsoft.Resources/deployments";

/// The shape a deployed file has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    /// `az ... show -o json`: the resource's properties lifted to the top level.
    AzCli,
    /// One ARM resource, its fields under `properties` (isenet's nsg.json, REST output).
    ArmResource,
    /// An ARM deployment template (`resources`), such as an exported resource group.
    ArmTemplate,
}

impl Format {
    /// How the text report names the format of a file of this kind.
    pub fn describe(self, kind: ArtifactKind) -> &'static str {
        match (self, kind) {
            (Format::AzCli, ArtifactKind::Nsg) => "az network nsg show output",
            (Format::AzCli, ArtifactKind::Routes) => "az network route-table show output",
            (Format::AzCli, ArtifactKind::Firewall) => "az network firewall policy rule-collection-group output",
            (Format::ArmResource, _) => "ARM resource",
            (Format::ArmTemplate, _) => "ARM template",
        }
    }
}

/// The Azure resource a deployed artifact is, as far as the file says (for the `az` commands).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Target {
    /// The subscription, where the file's id says it and it is not the environment's (`diff`
    /// leaves only another one here: the commands then name it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subscription: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_group: Option<String>,
    /// The NSG, route table or rule collection group name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The firewall policy holding a rule collection group.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
}

/// What a deployed file holds, read.
#[derive(Debug)]
pub enum Content {
    /// The NSG and each rule's description (the reader keeps no descriptions), parallel to its rules.
    Nsg(NsgFile, Vec<String>),
    Routes(RouteFile),
    Firewall(FirewallFile),
}

impl Content {
    pub fn kind(&self) -> ArtifactKind {
        match self {
            Content::Nsg(..) => ArtifactKind::Nsg,
            Content::Routes(_) => ArtifactKind::Routes,
            Content::Firewall(_) => ArtifactKind::Firewall,
        }
    }
}

/// One artifact read from a deployed file (an ARM template gives one per resource kind it holds).
#[derive(Debug)]
pub struct Deployed {
    pub file: String,
    pub text: String,
    pub format: Format,
    pub target: Target,
    pub content: Content,
    /// The subnets an NSG or route table is associated with, where the file says (`subnets` of az
    /// and REST output, a template's subnets that name it): `None` when it does not.
    pub subnets: Option<Vec<SubnetRef>>,
    /// ISE subnets the file puts on another NSG or route table instead (a template's subnets):
    /// (subnet, that resource as an association command names it).
    pub elsewhere: Vec<(String, String)>,
}

fn type_is(value: &Value, kind: &str) -> bool {
    value
        .get("type")
        .and_then(Value::as_str)
        .is_some_and(|t| t.eq_ignore_ascii_case(kind))
}

fn has(value: &Value, key: &str) -> bool {
    value.get(key).is_some() || value.get("properties").and_then(|p| p.get(key)).is_some()
}

/// A resource's kind by its `type`: `Err` for a classic Azure Firewall, `None` for other types.
fn kind_by_type(value: &Value) -> Option<Result<ArtifactKind, ()>> {
    [
        (NSG_TYPE, Ok(ArtifactKind::Nsg)),
        (ROUTES_TYPE, Ok(ArtifactKind::Routes)),
        (GROUP_TYPE, Ok(ArtifactKind::Firewall)),
        (CLASSIC_TYPE, Err(())),
    ]
    .into_iter()
    .find(|(t, _)| type_is(value, t))
    .map(|(_, k)| k)
}

/// The kind of a single resource (not a template): its `type`, else the list it carries.
fn resource_kind(value: &Value) -> Option<Result<ArtifactKind, ()>> {
    if let Some(k) = kind_by_type(value) {
        return Some(k);
    }
    if has(value, "securityRules") {
        Some(Ok(ArtifactKind::Nsg))
    } else if has(value, "routes") {
        Some(Ok(ArtifactKind::Routes))
    } else if has(value, "ruleCollections") {
        Some(Ok(ArtifactKind::Firewall))
    } else if has(value, "networkRuleCollections") || has(value, "applicationRuleCollections") {
        Some(Err(()))
    } else {
        None
    }
}

fn classic(path: &str) -> Diagnostic {
    Diagnostic::error(E_DEPLOYED_CLASSIC, path, "classic Azure Firewall rule collections")
        .with_help("diff compares a firewall policy: pass `az network firewall policy rule-collection-group show -o json` output (use `verify --firewall` to prove classic rules)")
}

/// The format of a document, the kinds it holds, each with the path of its resource (`` for the
/// document itself), and a template's resources of those kinds named otherwise than the wanted
/// ones (kind and name).
#[derive(Debug, PartialEq)]
struct Detected {
    format: Format,
    kinds: Vec<(ArtifactKind, String)>,
    passed_over: Vec<(ArtifactKind, String)>,
}

impl Detected {
    fn one(format: Format, kind: ArtifactKind, path: String) -> Self {
        Detected {
            format,
            kinds: vec![(kind, path)],
            passed_over: Vec::new(),
        }
    }
}

pub(crate) use template::proved;

/// A template's resources with their paths, and those of the templates its nested deployments
/// hold inline, as the readers take them (isenet's own deploys its rule collection group into the
/// policy's resource group through one).
fn template_resources<'v>(holder: &'v Value, path: &str, out: &mut Vec<(String, &'v Value)>) {
    let Some(resources) = holder.get("resources").and_then(Value::as_array) else {
        return;
    };
    let list = field(path, "resources");
    for (i, r) in resources.iter().enumerate() {
        let at = index(&list, i);
        let inline = r
            .get("properties")
            .filter(|p| type_is(r, DEPLOYMENTS_TYPE) && p.get("templateLink").is_none())
            .and_then(|p| p.get("template"));
        if let Some(template) = inline {
            template_resources(template, &field(&field(&at, "properties"), "template"), out);
        }
        out.push((at, r));
    }
}

fn detect(doc: &Value, wanted: &Wanted) -> Result<Detected, Vec<Diagnostic>> {
    // `az network firewall policy rule-collection-group list` output (REST's holds the list in
    // `value`): the reader takes the wanted group and refuses others.
    let (list, base) = match doc
        .get("value")
        .filter(|v| v.is_array() && doc.get("ruleCollections").is_none() && doc.get("properties").is_none())
    {
        Some(list) => (list, "value"),
        None => (doc, ""),
    };
    if let Some(items) = list.as_array().filter(|items| !items.is_empty()) {
        if items.iter().all(|i| resource_kind(i) == Some(Ok(ArtifactKind::Firewall))) {
            let name = |i: &Value| {
                let from_id = || i.get("id").and_then(Value::as_str)?.rsplit('/').next();
                i.get("name").and_then(Value::as_str).or_else(from_id).map(str::to_string)
            };
            let named = |i: &&Value| wanted.may_be(&template::RULE_COLLECTION_GROUP, name(i).as_deref());
            let at = match items.len() {
                1 => 0,
                _ => items.iter().position(|i| named(&i)).unwrap_or(0),
            };
            let format = if base.is_empty() { Format::AzCli } else { Format::ArmResource };
            return Ok(Detected::one(format, ArtifactKind::Firewall, index(base, at)));
        }
    }
    if doc.get("resources").is_some_and(Value::is_array) {
        let kinds = [ArtifactKind::Nsg, ArtifactKind::Routes, ArtifactKind::Firewall];
        let picked: Vec<(ArtifactKind, template::Picked)> = kinds.iter().map(|&k| (k, template::pick(doc, proved(k), wanted))).collect();
        let mut found: Vec<(ArtifactKind, String)> = Vec::new();
        let mut passed_over = Vec::new();
        let mut diags = Vec::new();
        let mut resources = Vec::new();
        template_resources(doc, "", &mut resources);
        // In the template's order; of a kind, the first that may be the environment's (a second
        // one is the reader's to refuse, as `verify` does) and those named otherwise.
        // The others of each kind by path: a template of thousands made a walk of them per
        // resource.
        let others: Vec<std::collections::HashMap<&str, &str>> = picked
            .iter()
            .map(|(_, p)| p.others.iter().map(|(at, name)| (at.as_str(), name.as_str())).collect())
            .collect();
        for (path, r) in resources {
            if kind_by_type(r) == Some(Err(())) {
                diags.push(classic(&path));
            }
            for ((k, picked), others) in picked.iter().zip(&others) {
                if picked.candidates.first() == Some(&path) {
                    found.push((*k, path.clone()));
                }
                if let Some(name) = others.get(path.as_str()) {
                    passed_over.push((*k, name.to_string()));
                }
            }
        }
        if !diags.is_empty() {
            return Err(diags);
        }
        if !found.is_empty() || !passed_over.is_empty() {
            return Ok(Detected {
                format: Format::ArmTemplate,
                kinds: found,
                passed_over,
            });
        }
    }
    match resource_kind(doc) {
        Some(Ok(kind)) => {
            let flattened = ["securityRules", "routes", "ruleCollections"].iter().any(|k| doc.get(k).is_some());
            let format = if flattened { Format::AzCli } else { Format::ArmResource };
            Ok(Detected::one(format, kind, String::new()))
        }
        Some(Err(())) => Err(vec![classic("")]),
        None => Err(vec![Diagnostic::error(
            E_DEPLOYED_KIND,
            "",
            "neither an NSG, a route table, a firewall policy rule collection group nor an ARM template holding one",
        )
        .with_help(
            "pass `az network nsg show`, `az network route-table show` or `az network firewall policy \
             rule-collection-group show` output (-o json), or an exported ARM template",
        )]),
    }
}

fn twice(kind: ArtifactKind, path: &str, first: &str) -> Diagnostic {
    Diagnostic::error(
        E_DEPLOYED_TWICE,
        path,
        format!("a second deployed {} (the first is {first})", kind.as_str()),
    )
    .with_help("diff compares one NSG, one route table and one rule collection group per run: run it once per resource")
}

/// The value at a reader's path (`resources[2].properties.securityRules[3]`).
fn value_at<'v>(doc: &'v Value, path: &str) -> Option<&'v Value> {
    path.split('.').filter(|p| !p.is_empty()).try_fold(doc, |v, part| {
        let (name, rest) = part.split_once('[').unwrap_or((part, ""));
        let v = if name.is_empty() { v } else { v.get(name)? };
        rest.split('[')
            .filter(|i| !i.is_empty())
            .try_fold(v, |v, i| v.get(i.trim_end_matches(']').parse::<usize>().ok()?))
    })
}

/// A rule's description, under `properties` (ARM) or beside its name (az); empty when absent.
fn description(rule: Option<&Value>) -> String {
    let rule = rule.map(|r| r.get("properties").unwrap_or(r));
    rule.and_then(|r| r.get("description"))
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string()
}

/// What the commands name a resource group or subscription by when the template deploys the
/// resource into one it does not say plainly (the ticket says to replace it).
pub const UNKNOWN_PLACE: &str = "<resource-group-or-subscription>";

/// The subscription, resource group, name and (for a rule collection group) policy, from the
/// resource's `resourceGroup`, `id` and `name`; in a template (`path` the resource's), what the
/// template says plainly (`template_names`: a name written as `[parameters('x')]` is the value
/// passed or the default, a nested deployment's resource group its own).
fn target(resource: &Value, doc: &Value, path: Option<&str>) -> Target {
    let text = |k: &str| {
        let s = resource.get(k).and_then(Value::as_str)?;
        (!s.starts_with('[')).then(|| s.to_string())
    };
    let described = path.map(|p| template::described(doc, p));
    // A nested deployment's resource group or subscription the template does not say plainly is
    // left for the ticket's reader to fill in, not taken for the environment's.
    let place = |p: Option<&Place>| match p {
        Some(Place::Named(name)) => Some(name.clone()),
        Some(Place::Unknown) => Some(UNKNOWN_PLACE.to_string()),
        _ => None,
    };
    let template_group = place(described.as_ref().map(|d| &d.resource_group));
    let template_subscription = place(described.as_ref().map(|d| &d.subscription));
    let template_name = described.and_then(|d| d.name);
    let id_part = |segment: &str| {
        let id = text("id")?;
        let parts: Vec<&str> = id.split('/').collect();
        let i = parts.iter().position(|p| p.eq_ignore_ascii_case(segment))?;
        parts.get(i + 1).filter(|s| !s.is_empty()).map(|s| s.to_string())
    };
    // az output names the resource, and so does its id (REST output may give only the id).
    let name = template_name.or_else(|| text("name")).or_else(|| {
        let id = text("id")?;
        let last = id.rsplit('/').next().filter(|n| !n.is_empty())?;
        Some(match id_part("firewallPolicies") {
            Some(policy) if id.to_ascii_lowercase().contains("/rulecollectiongroups/") => format!("{policy}/{last}"),
            _ => last.to_string(),
        })
    });
    let (policy, name) = match name.as_deref().map(|n| n.split_once('/').map_or((None, n), |(p, g)| (Some(p), g))) {
        Some((p, n)) => (p.map(str::to_string), Some(n.to_string())),
        None => (None, None),
    };
    Target {
        subscription: template_subscription.or_else(|| id_part("subscriptions")),
        // The id names the resource; az's `resourceGroup` beside it says the same in Azure's output.
        resource_group: template_group
            .or_else(|| id_part("resourceGroups"))
            .or_else(|| text("resourceGroup")),
        name,
        policy: policy.or_else(|| id_part("firewallPolicies")),
    }
}

/// `E1703` when the file names its resource and the environment names its own otherwise.
fn other_name(kind: ArtifactKind, target: &Target, wanted: &Wanted, path: &str) -> Option<Diagnostic> {
    let proved = proved(kind);
    let (name, own) = (target.name.as_deref()?, wanted.of(proved)?);
    if name.eq_ignore_ascii_case(own) {
        return None;
    }
    Some(
        Diagnostic::error(
            E_DEPLOYED_OTHER_NAME,
            field(path, "name"),
            format!("the file's {} is `{name}`; the environment's is `{own}`", proved.what),
        )
        .with_help(format!(
            "if `{name}` is the ISE's, name it in the environment (`{}`); else pass the output of `{}` for `{own}`",
            proved.field, proved.show
        )),
    )
}

/// A template read (an exported resource group): the resources of the kinds `diff` compares that
/// it holds under other names than the environment's, which the report names when the
/// environment's own is not there.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TemplateFile {
    pub file: String,
    pub passed_over: Vec<(ArtifactKind, String)>,
}

/// What the deployed files hold: one artifact of each kind, and the templates among them.
#[derive(Debug, Default)]
pub struct DeployedFiles {
    pub artifacts: Vec<Deployed>,
    pub templates: Vec<TemplateFile>,
}

/// Reads one file: every artifact it holds (of a template holding several of a kind, the one
/// `wanted` names), or every problem.
pub fn read(text: &str, file: &str, wanted: &Wanted) -> Result<DeployedFiles, Vec<Diagnostic>> {
    let doc: Value = ise_model::jsondoc::parse(text, file, E_DEPLOYED_KIND)?;
    let locate = |diags: Vec<Diagnostic>| {
        let positions = Positions::of(text);
        diags
            .into_iter()
            .map(|d| match positions.find(&d.path) {
                Some((l, c)) => d.at(l, c).in_file(file),
                None => d.in_file(file),
            })
            .collect::<Vec<_>>()
    };
    // What a template deploys beyond the resources the readers prove is refused first: a template
    // of child rules alone holds no NSG to tell.
    if doc.get("resources").is_some_and(Value::is_array) {
        let unseen = template::unseen_by_any_reader(text, file, wanted);
        if !unseen.is_empty() {
            return Err(unseen);
        }
    }
    let detected = detect(&doc, wanted).map_err(locate)?;
    let mut out = DeployedFiles::default();
    if detected.format == Format::ArmTemplate {
        out.templates.push(TemplateFile {
            file: file.to_string(),
            passed_over: detected.passed_over,
        });
    }
    let mut diags = Vec::new();
    for (kind, path) in detected.kinds {
        let resource = value_at(&doc, &path).unwrap_or(&doc);
        let content = match kind {
            ArtifactKind::Nsg => nsg::parse_wanted(text, file, wanted).map(|n| {
                let descriptions = n.origins.iter().map(|o| description(value_at(&doc, &o.path))).collect();
                Content::Nsg(n, descriptions)
            }),
            ArtifactKind::Routes => routes::parse_wanted(text, file, wanted).map(Content::Routes),
            ArtifactKind::Firewall => firewall::parse_wanted(text, file, wanted).map(Content::Firewall),
        };
        let target = target(resource, &doc, (detected.format == Format::ArmTemplate).then_some(path.as_str()));
        // The ticket converges the resource the file names: another than the environment's (a jump
        // box's NSG, another spoke's group) would be rewritten into the ISE's.
        let content = content.and_then(|c| match other_name(kind, &target, wanted, &path) {
            Some(d) => Err(locate(vec![d])),
            None => Ok(c),
        });
        match content {
            Ok(content) => out.artifacts.push(Deployed {
                file: file.to_string(),
                text: text.to_string(),
                format: detected.format,
                target,
                subnets: match &content {
                    Content::Nsg(n, _) => n.subnets.clone(),
                    Content::Routes(r) => r.subnets.clone(),
                    Content::Firewall(_) => None,
                },
                elsewhere: match &content {
                    Content::Nsg(n, _) => n.elsewhere.clone(),
                    Content::Routes(r) => r.elsewhere.clone(),
                    Content::Firewall(_) => Vec::new(),
                },
                content,
            }),
            Err(d) => diags.extend(d),
        }
    }
    if diags.is_empty() {
        Ok(out)
    } else {
        Err(diags)
    }
}

/// Reads every `(file, text)`, reporting the problems of all files; one artifact of each kind.
pub fn read_all(files: &[(String, String)], wanted: &Wanted) -> Result<DeployedFiles, Vec<Diagnostic>> {
    let mut out = DeployedFiles::default();
    let mut diags = Vec::new();
    for (file, text) in files {
        match read(text, file, wanted) {
            Ok(read) => {
                out.templates.extend(read.templates);
                for d in read.artifacts {
                    match out.artifacts.iter().find(|o| o.content.kind() == d.content.kind()) {
                        Some(first) => diags.push(twice(d.content.kind(), "", &first.file).in_file(file)),
                        None => out.artifacts.push(d),
                    }
                }
            }
            Err(d) => diags.extend(d),
        }
    }
    if diags.is_empty() {
        Ok(out)
    } else {
        Err(diags)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn kinds_and_formats_are_told_from_the_content() {
        let cases = [
            (json!({"type": NSG_TYPE, "securityRules": []}), Format::AzCli, ArtifactKind::Nsg),
            (json!({"properties": {"securityRules": []}}), Format::ArmResource, ArtifactKind::Nsg),
            (
                json!({"routes": [], "disableBgpRoutePropagation": false}),
                Format::AzCli,
                ArtifactKind::Routes,
            ),
            (
                json!({"type": GROUP_TYPE, "properties": {"ruleCollections": []}}),
                Format::ArmResource,
                ArtifactKind::Firewall,
            ),
            (
                json!({"ruleCollections": [], "priority": 500}),
                Format::AzCli,
                ArtifactKind::Firewall,
            ),
        ];
        let none = Wanted::default();
        let detect = |doc: &Value| {
            let d = detect(doc, &none).unwrap();
            (d.format, d.kinds)
        };
        for (doc, format, kind) in cases {
            assert_eq!(detect(&doc), (format, vec![(kind, String::new())]), "{doc}");
        }
        let template = json!({"resources": [{"type": "Microsoft.Network/virtualNetworks"}, {"type": ROUTES_TYPE}, {"type": NSG_TYPE}]});
        assert_eq!(
            detect(&template),
            (
                Format::ArmTemplate,
                vec![
                    (ArtifactKind::Routes, "resources[1]".into()),
                    (ArtifactKind::Nsg, "resources[2]".into())
                ]
            )
        );
        // The rule collection group of isenet's template, in an inline nested deployment; a
        // linked one holds nothing to read.
        let nested = |properties: Value| json!({"resources": [{"type": NSG_TYPE}, {"type": DEPLOYMENTS_TYPE, "resourceGroup": "hub", "properties": properties}]});
        let inline = nested(json!({"mode": "Incremental", "template": {"resources": [{"type": GROUP_TYPE}]}}));
        assert_eq!(
            detect(&inline),
            (
                Format::ArmTemplate,
                vec![
                    (ArtifactKind::Nsg, "resources[0]".into()),
                    (ArtifactKind::Firewall, "resources[1].properties.template.resources[0]".into())
                ]
            )
        );
        let linked = nested(
            json!({"mode": "Incremental", "templateLink": {"uri": "https://example.com/t.json"}, "template": {"resources": [{"type": GROUP_TYPE}]}}),
        );
        assert_eq!(
            detect(&linked),
            (Format::ArmTemplate, vec![(ArtifactKind::Nsg, "resources[0]".into())])
        );
    }

    #[test]
    fn unknown_classic_and_doubled_resources_are_coded() {
        let code = |doc: Value| {
            detect(&doc, &Wanted::default())
                .unwrap_err()
                .iter()
                .map(|d| (d.code, d.path.clone()))
                .collect::<Vec<_>>()
        };
        assert_eq!(code(json!({"name": "x"})), [(E_DEPLOYED_KIND, String::new())]);
        assert_eq!(code(json!({"networkRuleCollections": []})), [(E_DEPLOYED_CLASSIC, String::new())]);
    }

    /// Within one template, the readers refuse what they would not prove, as for `verify`.
    #[test]
    fn a_template_is_refused_as_its_readers_refuse_it() {
        let rules = json!({"securityRules": []});
        let code = |doc: Value| -> Vec<(&str, String)> {
            let text = doc.to_string();
            read(&text, "t.json", &Wanted::default())
                .unwrap_err()
                .iter()
                .map(|d| (d.code, d.path.clone()))
                .collect()
        };
        let twice = json!({"resources": [{"type": NSG_TYPE, "properties": rules}, {"type": NSG_TYPE, "properties": rules}]});
        assert_eq!(code(twice), [(ise_model::codes::E_TEMPLATE_TWICE, "resources[1]".to_string())]);
        let child = json!({"resources": [{"type": "Microsoft.Network/routeTables/routes", "name": "rt/r", "properties": {}}]});
        assert_eq!(code(child), [(ise_model::codes::E_TEMPLATE_UNSEEN, "resources[0]".to_string())]);
    }

    /// An exported resource group holds a jump box's NSG beside the ISE's: the environment's is
    /// read (named plainly or by a parameter's default, in any case), the other is passed over
    /// and so are its child rules, whatever they open.
    #[test]
    fn of_a_templates_nsgs_the_environments_is_read() {
        let rule = |name: &str, priority: u32| {
            json!({"name": name, "properties": {"access": "Allow", "direction": "Inbound", "priority": priority, "protocol": "Tcp",
                "sourceAddressPrefix": "*", "sourcePortRange": "*", "destinationAddressPrefix": "*", "destinationPortRange": "22"}})
        };
        let template = json!({
            "parameters": {"nsg_jump": {"type": "String", "defaultValue": "jumpbox-nsg"}, "nsg_ise": {"type": "String", "defaultValue": "Contoso-ISE-NSG"}},
            "resources": [
                {"type": NSG_TYPE, "name": "[parameters('nsg_jump')]", "properties": {"securityRules": [rule("ssh", 100)]}},
                {"type": "Microsoft.Network/networkSecurityGroups/securityRules", "name": "[concat(parameters('nsg_jump'), '/rdp')]", "properties": rule("rdp", 110)["properties"]},
                {"type": NSG_TYPE, "name": "[parameters('nsg_ise')]", "properties": {"securityRules": [rule("in-x", 200)]}},
            ]
        });
        let wanted = Wanted {
            nsg: Some("contoso-ise-nsg"),
            ..Wanted::default()
        };
        let files = read(&template.to_string(), "t.json", &wanted).unwrap();
        let [d] = files.artifacts.as_slice() else {
            panic!("{:?}", files.artifacts)
        };
        let Content::Nsg(n, _) = &d.content else { panic!() };
        assert_eq!(n.rules.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(), ["in-x"]);
        assert_eq!(d.target.name.as_deref(), Some("Contoso-ISE-NSG"));
        assert_eq!(
            files.templates,
            [TemplateFile {
                file: "t.json".into(),
                passed_over: vec![(ArtifactKind::Nsg, "jumpbox-nsg".into())]
            }]
        );
        // Without the environment's name, the jump box's child rule is one the proof of either NSG
        // would not see (refused first, before the second NSG); named otherwise, neither NSG is
        // the environment's: the template holds none.
        let codes = |w: &Wanted| {
            read(&template.to_string(), "t.json", w)
                .err()
                .map(|d| d.iter().map(|d| d.code).collect::<Vec<_>>())
        };
        assert_eq!(codes(&Wanted::default()).unwrap(), [ise_model::codes::E_TEMPLATE_UNSEEN]);
        let other = Wanted {
            nsg: Some("legacy-ise-nsg"),
            ..Wanted::default()
        };
        let files = read(&template.to_string(), "t.json", &other).unwrap();
        assert!(files.artifacts.is_empty());
        assert_eq!(files.templates[0].passed_over.len(), 2);
    }

    #[test]
    fn the_target_comes_from_resource_group_id_and_name() {
        let id = "/subscriptions/s/resourceGroups/net-rg/providers/Microsoft.Network/firewallPolicies/fw-pol/ruleCollectionGroups/ise-dependencies";
        let t = target(&json!({"id": id, "name": "ise-dependencies"}), &json!({}), None);
        assert_eq!(
            t,
            Target {
                subscription: Some("s".into()),
                resource_group: Some("net-rg".into()),
                name: Some("ise-dependencies".into()),
                policy: Some("fw-pol".into())
            }
        );
        let t = target(&json!({"name": "[parameters('nsgName')]", "resourceGroup": "rg"}), &json!({}), None);
        assert_eq!((t.resource_group.as_deref(), t.name), (Some("rg"), None));
        assert_eq!(target(&json!({"name": "pol/rcg"}), &json!({}), None).policy.as_deref(), Some("pol"));
        // The id names the resource: a `resourceGroup` beside it that says otherwise is not taken.
        let t = target(&json!({"id": id, "resourceGroup": "contoso-network"}), &json!({}), None);
        assert_eq!(t.resource_group.as_deref(), Some("net-rg"));
    }

    /// An exported template names its resources by parameters whose defaults hold the names.
    #[test]
    fn exported_names_come_from_parameter_defaults() {
        let doc = json!({"parameters": {
            "networkSecurityGroups_legacy_name": {"type": "String", "defaultValue": "legacy-ise-nsg"},
            "firewallPolicies_hub_name": {"type": "String", "defaultValue": "hub-fw-policy"},
            "computed": {"type": "String", "defaultValue": "[resourceGroup().name]"},
            "none": {"type": "String"}
        }});
        let name = |n: &str| {
            let mut doc = doc.clone();
            doc["resources"] = json!([{"type": NSG_TYPE, "name": n}]);
            target(&doc["resources"][0], &doc, Some("resources[0]"))
        };
        assert_eq!(
            name("[parameters('networkSecurityGroups_legacy_name')]").name.as_deref(),
            Some("legacy-ise-nsg")
        );
        let group = name("[concat(parameters('firewallPolicies_hub_name'), '/spoke-rules')]");
        assert_eq!(
            (group.policy.as_deref(), group.name.as_deref()),
            (Some("hub-fw-policy"), Some("spoke-rules"))
        );
        for unresolved in [
            "[parameters('computed')]",
            "[parameters('none')]",
            "[parameters('missing')]",
            "[variables('v')]",
        ] {
            assert_eq!(name(unresolved).name, None, "{unresolved}");
        }
    }

    #[test]
    fn values_are_found_at_reader_paths() {
        let doc = json!({"resources": [{}, {"properties": {"securityRules": [{"name": "a"}, {"name": "b"}]}}]});
        assert_eq!(
            value_at(&doc, "resources[1].properties.securityRules[1]"),
            Some(&json!({"name": "b"}))
        );
        assert_eq!(value_at(&doc, "resources[5]"), None);
        assert_eq!(value_at(&doc, ""), Some(&doc));
    }
}
