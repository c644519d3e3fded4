//! Reads the Azure Firewall rules to verify: isenet's `firewall-policy.json` (a template holding a
//! rule collection group), `az network firewall policy rule-collection-group show` output, isenet's
//! `firewall-classic.json`, or `az network firewall show` output (classic collections). NAT
//! collections are skipped: DNAT never admits traffic from the ISE subnets outward.

use crate::azure::firewall::{
    ApplicationProtocol, ApplicationProtocolType, ApplicationRule, FirewallAction, NetworkProtocol, NetworkRule, RuleCollection,
};
use ise_model::codes::E_FIREWALL_FILE;
use ise_model::diag::Diagnostic;
use serde_json::Value;

#[derive(Debug, Default)]
pub struct FirewallFile {
    pub network: Vec<RuleCollection<NetworkRule>>,
    pub application: Vec<RuleCollection<ApplicationRule>>,
}

struct Reader<'a> {
    file: &'a str,
}

impl Reader<'_> {
    fn err(&self, path: &str, msg: impl Into<String>) -> Diagnostic {
        Diagnostic::error(E_FIREWALL_FILE, path, msg).in_file(self.file)
    }

    fn strings(&self, v: &Value, key: &str) -> Vec<String> {
        v.get(key)
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).map(str::to_string).collect())
            .unwrap_or_default()
    }

    fn collection_header(&self, c: &Value, path: &str) -> Result<(String, u32, FirewallAction, Vec<Value>), Diagnostic> {
        let props = c.get("properties").unwrap_or(c);
        let name = c
            .get("name")
            .and_then(Value::as_str)
            .ok_or_else(|| self.err(path, "rule collection has no name"))?;
        let priority = props
            .get("priority")
            .and_then(Value::as_u64)
            .filter(|p| (100..=65000).contains(p))
            .ok_or_else(|| self.err(path, format!("rule collection `{name}` has no priority in 100-65000")))?;
        let action = match props.pointer("/action/type").and_then(Value::as_str) {
            Some(a) if a.eq_ignore_ascii_case("allow") => FirewallAction::Allow,
            Some(a) if a.eq_ignore_ascii_case("deny") => FirewallAction::Deny,
            _ => return Err(self.err(path, format!("rule collection `{name}` has no action Allow or Deny"))),
        };
        let rules = props.get("rules").and_then(Value::as_array).cloned().unwrap_or_default();
        Ok((name.to_string(), priority as u32, action, rules))
    }

    fn network_rule(&self, r: &Value, path: &str) -> Result<NetworkRule, Diagnostic> {
        let protocols = if r.get("ipProtocols").is_some() {
            self.strings(r, "ipProtocols")
        } else {
            self.strings(r, "protocols")
        };
        let ip_protocols = protocols
            .iter()
            .map(|p| match p.to_ascii_uppercase().as_str() {
                "TCP" => Ok(NetworkProtocol::Tcp),
                "UDP" => Ok(NetworkProtocol::Udp),
                "ICMP" => Ok(NetworkProtocol::Icmp),
                "ANY" => Ok(NetworkProtocol::Any),
                _ => Err(self.err(path, format!("unknown network protocol `{p}`"))),
            })
            .collect::<Result<_, _>>()?;
        Ok(NetworkRule {
            name: r.get("name").and_then(Value::as_str).unwrap_or_default().to_string(),
            description: r.get("description").and_then(Value::as_str).unwrap_or_default().to_string(),
            ip_protocols,
            source_addresses: self.strings(r, "sourceAddresses"),
            destination_addresses: self.strings(r, "destinationAddresses"),
            destination_ports: self.strings(r, "destinationPorts"),
        })
    }

    fn application_rule(&self, r: &Value, path: &str) -> Result<ApplicationRule, Diagnostic> {
        let protocols = r
            .get("protocols")
            .and_then(Value::as_array)
            .map(|a| a.as_slice())
            .unwrap_or_default()
            .iter()
            .map(|p| {
                let kind = match p
                    .get("protocolType")
                    .and_then(Value::as_str)
                    .map(str::to_ascii_lowercase)
                    .as_deref()
                {
                    Some("http") => ApplicationProtocolType::Http,
                    Some("https") => ApplicationProtocolType::Https,
                    Some("mssql") => ApplicationProtocolType::Mssql,
                    other => return Err(self.err(path, format!("unknown application protocol {other:?}"))),
                };
                let port = p
                    .get("port")
                    .and_then(Value::as_u64)
                    .and_then(|x| u16::try_from(x).ok())
                    .ok_or_else(|| self.err(path, "application protocol without a port"))?;
                Ok(ApplicationProtocol { protocol_type: kind, port })
            })
            .collect::<Result<_, _>>()?;
        Ok(ApplicationRule {
            name: r.get("name").and_then(Value::as_str).unwrap_or_default().to_string(),
            description: r.get("description").and_then(Value::as_str).unwrap_or_default().to_string(),
            protocols,
            source_addresses: self.strings(r, "sourceAddresses"),
            fqdn_tags: self.strings(r, "fqdnTags"),
            target_fqdns: self.strings(r, "targetFqdns"),
        })
    }

    /// Policy rule collections: each rule says its type.
    fn policy(&self, collections: &[Value], base: &str, out: &mut FirewallFile) -> Result<(), Diagnostic> {
        for (i, c) in collections.iter().enumerate() {
            let path = format!("{base}[{i}]");
            if c.get("ruleCollectionType").and_then(Value::as_str) == Some("FirewallPolicyNatRuleCollection") {
                continue;
            }
            let (name, priority, action, rules) = self.collection_header(c, &path)?;
            let (mut network, mut application) = (Vec::new(), Vec::new());
            for (j, r) in rules.iter().enumerate() {
                let rpath = format!("{path}.rules[{j}]");
                match r.get("ruleType").and_then(Value::as_str) {
                    Some("NetworkRule") => network.push(self.network_rule(r, &rpath)?),
                    Some("ApplicationRule") => application.push(self.application_rule(r, &rpath)?),
                    other => return Err(self.err(&rpath, format!("unknown ruleType {other:?}"))),
                }
            }
            if !network.is_empty() {
                out.network.push(RuleCollection {
                    name: name.clone(),
                    priority,
                    action,
                    rules: network,
                });
            }
            if !application.is_empty() {
                out.application.push(RuleCollection {
                    name,
                    priority,
                    action,
                    rules: application,
                });
            }
        }
        Ok(())
    }
}

pub fn parse(text: &str, file: &str) -> Result<FirewallFile, Diagnostic> {
    let reader = Reader { file };
    let value: Value = ise_model::jsondoc::parse(text, file, E_FIREWALL_FILE).map_err(|mut diags| diags.swap_remove(0))?;
    let mut out = FirewallFile::default();
    // A template: the rule collection group is one of its resources. Groups order collections by
    // (group priority, collection priority); one group per file keeps that order unambiguous.
    let groups: Vec<&Value> = value
        .get("resources")
        .and_then(Value::as_array)
        .map(|rs| {
            rs.iter()
                .filter(|r| r.get("type").and_then(Value::as_str) == Some("Microsoft.Network/firewallPolicies/ruleCollectionGroups"))
                .collect()
        })
        .unwrap_or_default();
    if groups.len() > 1 {
        return Err(reader
            .err("resources", format!("{} rule collection groups in one file", groups.len()))
            .with_help("verify one rule collection group per file (isenet writes one: ise-dependencies)"));
    }
    let group = groups.first().copied().unwrap_or(&value);
    let policy = group
        .pointer("/properties/ruleCollections")
        .or_else(|| group.get("ruleCollections"));
    if let Some(Value::Array(collections)) = policy {
        reader.policy(collections, "ruleCollections", &mut out)?;
        return Ok(out);
    }
    let classic = value
        .get("properties")
        .filter(|p| p.get("networkRuleCollections").is_some() || p.get("applicationRuleCollections").is_some())
        .unwrap_or(&value);
    let (net, app) = (
        classic.get("networkRuleCollections").and_then(Value::as_array),
        classic.get("applicationRuleCollections").and_then(Value::as_array),
    );
    if net.is_none() && app.is_none() {
        return Err(reader.err("", "no rule collections found").with_help("pass isenet's firewall-policy.json or firewall-classic.json, or the output of `az network firewall policy rule-collection-group show` / `az network firewall show`"));
    }
    for (i, c) in net.map(Vec::as_slice).unwrap_or_default().iter().enumerate() {
        let path = format!("networkRuleCollections[{i}]");
        let (name, priority, action, rules) = reader.collection_header(c, &path)?;
        let rules = rules
            .iter()
            .enumerate()
            .map(|(j, r)| reader.network_rule(r, &format!("{path}.rules[{j}]")))
            .collect::<Result<_, _>>()?;
        out.network.push(RuleCollection {
            name,
            priority,
            action,
            rules,
        });
    }
    for (i, c) in app.map(Vec::as_slice).unwrap_or_default().iter().enumerate() {
        let path = format!("applicationRuleCollections[{i}]");
        let (name, priority, action, rules) = reader.collection_header(c, &path)?;
        let rules = rules
            .iter()
            .enumerate()
            .map(|(j, r)| reader.application_rule(r, &format!("{path}.rules[{j}]")))
            .collect::<Result<_, _>>()?;
        out.application.push(RuleCollection {
            name,
            priority,
            action,
            rules,
        });
    }
    Ok(out)
}
