//! The ISE requirement table (data/requirements.csv): one record per row of the published port
//! tables, routes, service endpoints and firewall rules, with its id, condition, table version and
//! source. Data, not code: this module only parses the vocabulary.

use crate::data;
use crate::ports::{self, PortRange};
use ipnet::Ipv4Net;
use serde::{Deserialize, Serialize};
use std::sync::OnceLock;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    Inbound,
    Outbound,
    Route,
    ServiceEndpoint,
    FirewallApplication,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Inbound => "inbound",
            Kind::Outbound => "outbound",
            Kind::Route => "route",
            Kind::ServiceEndpoint => "service-endpoint",
            Kind::FirewallApplication => "firewall-application",
        }
    }
}

/// When a requirement applies to an environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Condition {
    Always,
    /// Internal access endpoint.
    Internal,
    /// External access endpoint.
    External,
    /// The virtual network uses custom DNS servers.
    CustomDns,
    /// Any forced-tunneling mode (ExpressRoute or firewall).
    ForcedTunneling,
    /// ExpressRoute advertises 0.0.0.0/0: route it to Internet.
    Expressroute,
    /// Internet-bound traffic goes to a firewall.
    Firewall,
    /// Firewall mode and an external access endpoint (callers on the Internet).
    FirewallExternal,
    /// Firewall mode, or an NSG that denies the Internet outbound (`outboundPolicy` restricted):
    /// the App Service Environment's own outbound dependencies (seed 002: "you need to add
    /// outbound rules for App Service Environment"), which Azure's AllowInternetOutBound admits
    /// otherwise.
    FirewallOrRestricted,
}

/// The `protocol` column: what a row asks for, as the table writes it. Routes and service endpoints
/// have none (`Option::None`, an empty cell).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Protocol {
    /// `*`: every IP protocol. The seed asks for TCP and UDP on every NSG row; `*` is how NSGs say it.
    #[serde(rename = "*")]
    Any,
    Tcp,
    Udp,
    /// `Http,Https`: a firewall application row, the two paired by position with its ports (`80,443`).
    #[serde(rename = "Http,Https")]
    HttpHttps,
}

impl Protocol {
    /// The cell as the table (and every output) writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Any => "*",
            Protocol::Tcp => "Tcp",
            Protocol::Udp => "Udp",
            Protocol::HttpHttps => "Http,Https",
        }
    }

    /// `""` when there is no protocol (routes, service endpoints), as the table's empty cell.
    pub fn text(p: Option<Protocol>) -> &'static str {
        p.map_or("", Protocol::as_str)
    }

    /// Which protocols a row of `kind` may name: NSG rows a packet protocol, application rows
    /// `Http,Https`, routes and service endpoints none.
    fn fits(p: Option<Protocol>, kind: Kind) -> bool {
        match kind {
            Kind::Inbound | Kind::Outbound => matches!(p, Some(Protocol::Any | Protocol::Tcp | Protocol::Udp)),
            Kind::FirewallApplication => p == Some(Protocol::HttpHttps),
            Kind::Route | Kind::ServiceEndpoint => p.is_none(),
        }
    }
}

impl From<crate::env::DestinationProtocol> for Protocol {
    fn from(p: crate::env::DestinationProtocol) -> Self {
        match p {
            crate::env::DestinationProtocol::Tcp => Protocol::Tcp,
            crate::env::DestinationProtocol::Udp => Protocol::Udp,
            crate::env::DestinationProtocol::Any => Protocol::Any,
        }
    }
}

/// Writes an absent protocol as the empty cell, so JSON keeps the table's `""`.
pub(crate) fn serialize_protocol<S: serde::Serializer>(p: &Option<Protocol>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(Protocol::text(*p))
}

/// A source or destination as the table names it, before an environment gives it addresses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum EndpointSpec {
    /// The address space of the ISE's virtual network.
    Vnet,
    /// A service tag.
    Tag(String),
    /// Published address lists of the environment's region (`ips:logicapps-inbound+logicapps-outbound`).
    Ips(Vec<String>),
    /// The environment's custom DNS servers.
    CustomDns,
    /// The environment's outbound destinations.
    Destinations,
    /// The external ISE's declared callers (`externalCallers`; none: the Internet).
    ExternalCallers,
    /// A fixed prefix (`prefix:0.0.0.0/0`).
    Prefix(Ipv4Net),
    /// A service-endpoint service (`Microsoft.Sql`).
    Service(String),
    /// An Azure Firewall FQDN tag.
    FqdnTag(String),
}

impl EndpointSpec {
    fn parse(text: &str, kind: Kind) -> Result<Self, String> {
        let spec = match text.split_once(':') {
            _ if text == "vnet" => EndpointSpec::Vnet,
            _ if text == "custom-dns" => EndpointSpec::CustomDns,
            _ if text == "destinations" => EndpointSpec::Destinations,
            _ if text == "external-callers" => EndpointSpec::ExternalCallers,
            Some(("tag", t)) => EndpointSpec::Tag(t.to_string()),
            Some(("fqdntag", t)) => EndpointSpec::FqdnTag(t.to_string()),
            Some(("prefix", p)) => EndpointSpec::Prefix(p.parse().map_err(|e| format!("`{p}`: {e}"))?),
            Some(("ips", kinds)) => {
                let kinds: Vec<String> = kinds.split('+').map(str::to_string).collect();
                if let Some(k) = kinds.iter().find(|k| !crate::iplists::KINDS.contains(&k.as_str())) {
                    return Err(format!("unknown address list `{k}`"));
                }
                EndpointSpec::Ips(kinds)
            }
            None if kind == Kind::ServiceEndpoint && text.starts_with("Microsoft.") => EndpointSpec::Service(text.to_string()),
            _ => return Err(format!("unknown endpoint `{text}`")),
        };
        Ok(spec)
    }
}

/// One row of the requirement table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Requirement {
    pub id: String,
    pub kind: Kind,
    pub source: EndpointSpec,
    pub destination: EndpointSpec,
    /// `*` for NSG rows (the doc asks for TCP and UDP), `Http,Https` for application rules, none
    /// for routes and service endpoints.
    #[serde(serialize_with = "serialize_protocol")]
    pub protocol: Option<Protocol>,
    /// Empty for routes and service endpoints; `None` when the ports come from outbound destinations.
    pub ports: Option<Vec<PortRange>>,
    pub condition: Condition,
    /// First table version the row appears in (data/table-versions.csv).
    pub since: String,
    /// First table version the row no longer applies in (another row admits the same flows from
    /// then on); `None` for the latest table.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub until: Option<String>,
    pub reference: String,
    pub purpose: String,
}

#[derive(Deserialize)]
struct Row {
    id: String,
    direction: Kind,
    source: String,
    destination: String,
    protocol: Option<Protocol>,
    ports: String,
    condition: Condition,
    since: String,
    reference: String,
    purpose: String,
    until: Option<String>,
}

fn parse_row(row: Row) -> Result<Requirement, String> {
    let ports = match row.ports.as_str() {
        "destinations" => None,
        "" => Some(Vec::new()),
        p => Some(ports::parse_list(p)?),
    };
    if !Protocol::fits(row.protocol, row.direction) {
        return Err(format!(
            "{}: a {} row cannot have protocol `{}`",
            row.id,
            row.direction.as_str(),
            Protocol::text(row.protocol)
        ));
    }
    Ok(Requirement {
        source: EndpointSpec::parse(&row.source, row.direction).map_err(|e| format!("{}: source: {e}", row.id))?,
        destination: EndpointSpec::parse(&row.destination, row.direction).map_err(|e| format!("{}: destination: {e}", row.id))?,
        id: row.id,
        kind: row.direction,
        protocol: row.protocol,
        ports,
        condition: row.condition,
        since: row.since,
        until: row.until,
        reference: row.reference,
        purpose: row.purpose,
    })
}

/// Parses a requirement table; the embedded one is checked by tests, so `model()` can expect it.
pub fn parse_table(csv_text: &str) -> Result<Vec<Requirement>, String> {
    crate::embedded_csv::deserialize::<Row>(csv_text)?
        .into_iter()
        .map(parse_row)
        .collect()
}

/// The embedded requirement table.
pub fn model() -> &'static [Requirement] {
    static MODEL: OnceLock<Vec<Requirement>> = OnceLock::new();
    MODEL.get_or_init(|| parse_table(data::REQUIREMENTS_CSV).expect("embedded data/requirements.csv parses (tested)"))
}

/// data/table-versions.csv, read once: the table versions oldest first, and beside each the ISE
/// article that published it (its file name without `.md`). Every environment resolves against
/// the versions and every review row cites an article; a CSV reader costs more to build than
/// either lookup.
fn table_version_rows() -> &'static (Vec<String>, Vec<String>) {
    static ROWS: OnceLock<(Vec<String>, Vec<String>)> = OnceLock::new();
    ROWS.get_or_init(|| {
        crate::embedded_csv::records(data::TABLE_VERSIONS_CSV)
            .skip(1)
            .map(|r| (r[0].to_string(), r[1].trim_end_matches(".md").to_string()))
            .unzip()
    })
}

/// Table versions, oldest first (data/table-versions.csv).
pub fn table_versions() -> &'static [String] {
    &table_version_rows().0
}

/// The ISE article (file name without `.md`) that published table `version`; the latest
/// version's for a version the table does not list.
pub fn table_article(version: &str) -> &'static str {
    let (versions, articles) = table_version_rows();
    let at = versions.iter().position(|v| v == version).unwrap_or(versions.len() - 1);
    &articles[at]
}

pub fn latest_table_version() -> String {
    table_versions().last().expect("at least one table version").clone()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn embedded_table_is_consistent() {
        let model = model();
        let ids: BTreeSet<_> = model.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids.len(), model.len(), "ids are unique");
        let versions = table_versions();
        for r in model {
            assert!(versions.contains(&r.since), "{}: unknown table version {}", r.id, r.since);
            if let Some(until) = &r.until {
                let at = |v: &str| versions.iter().position(|x| x == v);
                assert!(at(until).is_some(), "{}: unknown table version {until}", r.id);
                assert!(at(until) > at(&r.since), "{}: until {until} must follow since {}", r.id, r.since);
            }
            assert!(!r.purpose.is_empty() && !r.reference.is_empty(), "{}", r.id);
            // Ids are usable in NSG rule names: word characters, dots and dashes.
            assert!(r.id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'), "{}", r.id);
            if matches!(r.kind, Kind::Inbound | Kind::Outbound) {
                assert_eq!(
                    r.protocol,
                    Some(Protocol::Any),
                    "{}: the seed asks for TCP and UDP on every NSG rule",
                    r.id
                );
            }
        }
    }

    #[test]
    fn unknown_vocabulary_is_rejected() {
        let head = "id,direction,source,destination,protocol,ports,condition,since,reference,purpose\n";
        assert!(parse_table(&format!("{head}x,inbound,bogus,vnet,*,*,always,2021,r,p\n")).is_err());
        assert!(parse_table(&format!("{head}x,inbound,ips:nope,vnet,*,*,always,2021,r,p\n")).is_err());
        assert!(parse_table(&format!("{head}x,inbound,vnet,vnet,*,99999,always,2021,r,p\n")).is_err());
        assert!(parse_table(&format!("{head}x,sideways,vnet,vnet,*,*,always,2021,r,p\n")).is_err());
    }

    #[test]
    fn protocols_are_the_tables_vocabulary_and_fit_the_row() {
        let head = "id,direction,source,destination,protocol,ports,condition,since,reference,purpose\n";
        let row = |direction: &str, destination: &str, protocol: &str, ports: &str| {
            parse_table(&format!(
                "{head}x,{direction},vnet,{destination},{protocol},{ports},always,2021,r,p\n"
            ))
        };
        for (text, p) in [("*", Protocol::Any), ("Tcp", Protocol::Tcp), ("Udp", Protocol::Udp)] {
            assert_eq!(row("inbound", "vnet", text, "443").unwrap()[0].protocol, Some(p));
            assert_eq!(p.as_str(), text);
        }
        let app = row(
            "firewall-application",
            "fqdntag:AppServiceEnvironment",
            "\"Http,Https\"",
            "\"80,443\"",
        )
        .unwrap();
        assert_eq!(app[0].protocol, Some(Protocol::HttpHttps));
        assert_eq!(row("route", "prefix:0.0.0.0/0", "", "").unwrap()[0].protocol, None);
        // Unknown words and case variants are refused when the table loads, naming the row.
        for bad in ["tcp", "TCP", "Icmp", "any", "Http", "\"Tcp,Udp\""] {
            let err = row("inbound", "vnet", bad, "443").unwrap_err();
            assert!(err.contains("row 2"), "{bad}: {err}");
        }
        // A known word on the wrong kind of row is refused too.
        assert!(row("inbound", "vnet", "\"Http,Https\"", "443").unwrap_err().starts_with("x: "));
        assert!(row("inbound", "vnet", "", "443").is_err());
        assert!(row("route", "prefix:0.0.0.0/0", "*", "").is_err());
        assert!(row("firewall-application", "fqdntag:AppServiceEnvironment", "*", "\"80,443\"").is_err());
    }
}
