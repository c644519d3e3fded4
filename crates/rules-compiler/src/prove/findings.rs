//! Typed findings: what every proof (NSG, routes, firewall) returns. Data, not text: a code from the
//! registry below, a severity, the rule it is about (with its place in the file it was read from),
//! the requirements involved and the exact flows as lists. `views::proof_report` turns them into
//! lines for people; `verify --format json` prints them as they are.

use crate::azure::nsg::Direction;
use crate::engine::flows::FlowPiece;
use serde::Serialize;

/// How much a finding weighs. Errors and warnings make a proof fail (exit 1); notes inform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
    Note,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "note",
        }
    }
}

/// Which artifact a proof is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ArtifactKind {
    Nsg,
    Routes,
    Firewall,
}

impl ArtifactKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ArtifactKind::Nsg => "nsg",
            ArtifactKind::Routes => "routes",
            ArtifactKind::Firewall => "firewall",
        }
    }
}

/// A flow: exact lists of protocols, prefixes and port ranges (one piece of a set of packets).
pub type Flow = FlowPiece;

macro_rules! finding_kinds {
    ($($kind:ident = $code:literal, $name:literal, $severity:ident, $summary:literal, $help:literal;)*) => {
        /// What a finding says.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
        #[serde(rename_all = "kebab-case")]
        pub enum FindingKind { $($kind),* }

        impl FindingKind {
            pub const ALL: &'static [FindingKind] = &[$(FindingKind::$kind),*];
            pub fn info(self) -> &'static FindingCode {
                match self { $(FindingKind::$kind => &FindingCode { code: $code, name: $name, severity: Severity::$severity, summary: $summary, help: $help }),* }
            }
        }
    };
}

/// One entry of the finding-code registry (README lists them; a test checks that it does).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct FindingCode {
    pub code: &'static str,
    pub name: &'static str,
    pub severity: Severity,
    pub summary: &'static str,
    pub help: &'static str,
}

finding_kinds! {
    NamedOtherwise = "F0001", "named-otherwise", Error,
        "the file's NSG, route table or rule collection group is named otherwise than the environment's: it was proved as the environment's",
        "if it is the ISE's, name it in the environment (`nsgName`, `routeTableName`, `forcedTunneling.ruleCollectionGroupName`); else verify the environment's own (`diff` refuses to converge it, E1703)";
    UncoveredRequirement = "F0101", "uncovered-requirement", Error,
        "the NSG denies flows a requirement needs",
        "add or widen an allow rule above the first deny that decides these flows";
    Opening = "F0102", "opening", Error,
        "an allow rule admits flows no requirement needs",
        "narrow the rule to the requirement it serves, or remove it";
    ShadowedRule = "F0103", "shadowed-rule", Note,
        "a rule decides no packet: rules of higher priority decide all it matches",
        "remove it, or move it above the rules that cover it if it was meant to decide";
    RedundantRule = "F0104", "redundant-rule", Note,
        "removing the rule changes no decision",
        "remove it unless it documents a requirement another rule also covers";
    UnknownTag = "F0105", "unknown-tag", Error,
        "a rule names a service tag the service-tag file does not have: the proof is incomplete",
        "fix the tag name, or pass a current service-tag file with --service-tags";
    RequirementTagMissing = "F0106", "requirement-tag-missing", Error,
        "a requirement needs a service tag the service-tag file does not have",
        "pass a service-tag file of the environment's cloud that has the tag";
    LimitExceeded = "F0107", "limit-exceeded", Error,
        "the artifact exceeds one of Azure's limits, so Azure would refuse it",
        "split the rules or use fewer prefixes; see data/azure-limits.csv";
    TagNotUsableInNsg = "F0108", "tag-not-usable-in-nsg", Error,
        "a rule names a service tag the environment's cloud does not let NSGs use (Government's Logic Apps tags; a tag whose networkFeatures lack NSG): it was taken to match nothing",
        "name the addresses instead: isenet compile writes the published list or the tag's prefixes";
    UndeclaredMemberOpening = "F0109", "undeclared-member-opening", Error,
        "an allow rule admits, on flows no requirement needs, VirtualNetwork members the environment does not declare (peered networks, on-premises space behind a gateway)",
        "name the declared networks instead of VirtualNetwork or `*`, declare the callers in the environment file, or keep a deny of all VirtualNetwork above Azure's AllowVnet default rules; `isenet explain --as-member PREFIX` replays a flow";
    PortsOnPortlessProtocol = "F0110", "ports-on-portless-protocol", Error,
        "an allow rule for Icmp, Esp or Ah names ports, which those protocols do not have: Azure does not document what the ports match (an ICMP rule's port has been observed to match the ICMP type), so what the rule admits is not proved",
        "write `*` for both port fields of Icmp, Esp and Ah rules, or use Tcp or Udp if ports were meant";
    NsgNotOnSubnet = "F0111", "nsg-not-on-subnet", Error,
        "the deployed NSG is not associated with an ISE subnet (its file lists the subnets it is on): the subnet's traffic meets none of its rules",
        "associate it: az network vnet subnet update -g RG --vnet-name VNET -n SUBNET --network-security-group NSG";
    WrongNextHop = "F0201", "wrong-next-hop", Error,
        "addresses are routed to a next hop their requirement does not allow",
        "add or fix the route so these addresses go to the required next hop";
    UnknownRouteTag = "F0202", "unknown-route-tag", Error,
        "a route names a service tag the service-tag file does not have",
        "fix the tag name, or pass a current service-tag file with --service-tags";
    UnneededRoutes = "F0203", "unneeded-routes", Note,
        "forced tunneling is off, yet the route table has routes",
        "the ISE subnets need no routes without forced tunneling";
    TagNotUsableInRoute = "F0204", "tag-not-usable-in-route", Error,
        "a route names a service tag whose networkFeatures in the cloud's tag file lack UDR: Azure does not take it, so it was ignored",
        "route the tag's addresses instead: isenet compile writes its prefixes";
    RouteTableNotOnSubnet = "F0205", "route-table-not-on-subnet", Error,
        "under forced tunneling, the deployed route table is not associated with an ISE subnet (its file lists the subnets it is on): the subnet's traffic takes none of its routes",
        "associate it: az network vnet subnet update -g RG --vnet-name VNET -n SUBNET --route-table TABLE";
    DependencyBlocked = "F0301", "dependency-blocked", Error,
        "the firewall denies flows a dependency needs",
        "allow the dependency in the ISE rule collections (see firewall-policy.json)";
    NsgBlocksDependency = "F0302", "nsg-blocks-dependency", Error,
        "the NSG denies, on its way to the firewall, flows a firewall dependency needs",
        "allow the flows outbound in the NSG of the ISE subnets";
    FirewallOpening = "F0303", "firewall-opening", Error,
        "a firewall allow rule admits flows or names no dependency needs",
        "narrow the rule to the dependency it serves, or remove it";
    UnreadableEntry = "F0304", "unreadable-entry", Error,
        "a firewall rule entry is neither an address nor a known service tag; it was taken to match nothing",
        "fix the entry";
    DependencyTagMissing = "F0305", "dependency-tag-missing", Error,
        "a firewall dependency needs a service tag the service-tag file does not have",
        "pass a service-tag file of the environment's cloud that has the tag";
    TlsTermination = "F0306", "tls-termination", Error,
        "a firewall allow rule terminates the TLS of traffic from the ISE subnets (terminateTLS), which seed 002 says not to enable",
        "turn terminateTLS off on the rule, or take the ISE subnets out of its sources";
    OtherRuleCollectionGroups = "F0307", "other-rule-collection-groups", Note,
        "the file holds other rule collection groups: those of the ISE's group's policy were evaluated with it in Azure's order (group priority, then collection priority; network rules before application rules), those of another policy, or of one the file does not say plainly, were not",
        "findings on `group/collection` rules are another group's: a group of higher priority (lower number), or any group's network rule ahead of the ISE's application rules, decides the ISE's traffic first";
    UnresolvedRule = "F0309", "unresolved-rule", Error,
        "a rule of another rule collection group of the policy matches on what the verifier cannot resolve (IP groups, FQDNs in a network rule, URLs, web categories, application-rule destination addresses): it was taken to match nothing, so what it decides for the ISE's traffic is not proved",
        "review the rule by hand (a Deny may block what the ISE needs, an Allow may admit more than it needs), or write its addresses and names out";
    TiedRuleCollectionGroups = "F0308", "tied-rule-collection-groups", Error,
        "two rule collection groups of the policy share a priority: Azure does not document which of them it evaluates first, so what the ISE's traffic meets is not known; they were evaluated in the file's order, the environment's group first",
        "give each rule collection group of the policy a priority of its own";
}

impl FindingKind {
    /// Whether the finding says that the requirements (dependencies, route checks) it names are not
    /// met. The others are about what lies beyond the requirements (openings, unknown tags and
    /// entries, limits, notes on rules), even when they name the requirements a rule also serves.
    pub fn unmet_requirement(self) -> bool {
        use FindingKind::*;
        matches!(
            self,
            UncoveredRequirement | RequirementTagMissing | WrongNextHop | DependencyBlocked | NsgBlocksDependency | DependencyTagMissing
        )
    }
}

/// The finding-code registry, in code order.
pub fn finding_codes() -> Vec<&'static FindingCode> {
    FindingKind::ALL.iter().map(|k| k.info()).collect()
}

/// The rule a finding is about, and where it stands in the file it was read from.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RuleRef {
    pub name: String,
    /// Firewall rules: the rule collection holding the rule.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub collection: Option<String>,
    /// Position among the rules of the file (0-based), when read from a file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<usize>,
    /// NSG rules: the priority, for people reading the finding.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub priority: Option<u32>,
    /// One of Azure's default rules (nobody wrote it).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub is_default: bool,
}

impl RuleRef {
    pub fn named(name: impl Into<String>) -> Self {
        RuleRef {
            name: name.into(),
            ..RuleRef::default()
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Finding {
    pub code: &'static str,
    pub severity: Severity,
    pub kind: FindingKind,
    pub artifact: ArtifactKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub direction: Option<Direction>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<RuleRef>,
    /// Requirement (or dependency, or route check) ids involved.
    pub requirements: Vec<String>,
    /// The exact flows the finding is about (complete, never cut short).
    pub flows: Vec<Flow>,
    /// Other rules involved: the rules that cover a shadowed or redundant rule.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub related_rules: Vec<String>,
    /// Addresses the finding is about when they are not flows (wrong next hop: the destinations).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub addresses: Vec<ipnet::Ipv4Net>,
    /// What happened, in one sentence without the flows.
    pub message: String,
    /// F0109: every address the check took as a possible VirtualNetwork member, so that text can
    /// call the flows' far side by name (JSON has the exact lists in `flows`).
    #[serde(skip)]
    pub members: Option<crate::engine::intervals::IntervalSet<u32>>,
}

impl Finding {
    pub fn new(kind: FindingKind, artifact: ArtifactKind, message: impl Into<String>) -> Self {
        let info = kind.info();
        Finding {
            code: info.code,
            severity: info.severity,
            kind,
            artifact,
            direction: None,
            rule: None,
            requirements: Vec::new(),
            flows: Vec::new(),
            related_rules: Vec::new(),
            addresses: Vec::new(),
            message: message.into(),
            members: None,
        }
    }
    pub fn direction(mut self, d: Direction) -> Self {
        self.direction = Some(d);
        self
    }
    pub fn rule(mut self, r: RuleRef) -> Self {
        self.rule = Some(r);
        self
    }
    pub fn requirements(mut self, ids: Vec<String>) -> Self {
        self.requirements = ids;
        self
    }
    pub fn flows(mut self, flows: Vec<Flow>) -> Self {
        self.flows = flows;
        self
    }
    pub fn related(mut self, rules: Vec<String>) -> Self {
        self.related_rules = rules;
        self
    }
    pub fn addresses(mut self, addresses: Vec<ipnet::Ipv4Net>) -> Self {
        self.addresses = addresses;
        self
    }
    /// Whether the finding makes the proof fail.
    pub fn fails(&self) -> bool {
        self.severity != Severity::Note
    }
}

/// Where a rule stands in its file: index among the rules, line, column.
pub type Place = (usize, usize, usize);

/// A requirement (or dependency, or route check) and whether the artifact meets it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Coverage {
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub direction: Option<Direction>,
    pub covered: bool,
    /// The rules or routes that serve it.
    pub rules: Vec<String>,
}

/// Counts for a summary line and for dashboards.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    /// Rules or routes read.
    pub rules: usize,
    pub requirements: usize,
    pub covered: usize,
    pub openings: usize,
    pub errors: usize,
    pub notes: usize,
}

/// The proof of one artifact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Proof {
    pub artifact: ArtifactKind,
    /// The file proved (empty for the compiled artifact).
    pub file: String,
    /// The resource name, when the file has one.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// Every requirement covered, nothing open beyond them, nothing unknown.
    pub ok: bool,
    pub summary: Summary,
    pub coverage: Vec<Coverage>,
    pub findings: Vec<Finding>,
}

impl Proof {
    /// Assembles a proof: sorts the findings (severity, then code, then rule) and counts.
    pub fn new(artifact: ArtifactKind, rules: usize, coverage: Vec<Coverage>, mut findings: Vec<Finding>) -> Self {
        findings.sort_by(|a, b| {
            (
                a.severity,
                a.code,
                a.rule.as_ref().map(|r| (&r.collection, r.index, &r.name)),
                &a.requirements,
            )
                .cmp(&(
                    b.severity,
                    b.code,
                    b.rule.as_ref().map(|r| (&r.collection, r.index, &r.name)),
                    &b.requirements,
                ))
        });
        findings.dedup();
        let summary = Summary {
            rules,
            requirements: coverage.len(),
            covered: coverage.iter().filter(|c| c.covered).count(),
            openings: findings
                .iter()
                .filter(|f| {
                    matches!(
                        f.kind,
                        FindingKind::Opening | FindingKind::UndeclaredMemberOpening | FindingKind::FirewallOpening
                    )
                })
                .count(),
            errors: findings.iter().filter(|f| f.fails()).count(),
            notes: findings.iter().filter(|f| !f.fails()).count(),
        };
        Proof {
            artifact,
            file: String::new(),
            name: String::new(),
            ok: summary.errors == 0 && summary.covered == summary.requirements,
            summary,
            coverage,
            findings,
        }
    }

    pub fn in_file(mut self, file: &str, name: &str) -> Self {
        self.file = file.to_string();
        self.name = name.to_string();
        self
    }

    /// The findings of one kind.
    pub fn of_kind(&self, kind: FindingKind) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(move |f| f.kind == kind)
    }

    /// Ids of the requirements not covered.
    pub fn uncovered(&self) -> Vec<&str> {
        self.coverage.iter().filter(|c| !c.covered).map(|c| c.id.as_str()).collect()
    }

    /// Adds findings about the file itself (Azure limits it exceeds, what it holds unread),
    /// recounting.
    pub fn with_findings(self, more: Vec<Finding>) -> Self {
        if more.is_empty() {
            return self;
        }
        let (file, name) = (self.file.clone(), self.name.clone());
        let mut findings = self.findings;
        findings.extend(more);
        Proof::new(self.artifact, self.summary.rules, self.coverage, findings).in_file(&file, &name)
    }

    /// Gives each finding's rule its place in the file (index, line:column).
    pub fn locate(mut self, places: &dyn Fn(&RuleRef) -> Option<Place>) -> Self {
        for f in &mut self.findings {
            if let Some(r) = f.rule.as_mut() {
                if let Some((index, line, column)) = places(r) {
                    r.index = Some(index);
                    r.line = Some(line);
                    r.column = Some(column);
                }
            }
        }
        self
    }
}

/// What `verify` proved: one proof per artifact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Verification {
    /// Every proof holds (of the artifacts given: see `unverified`).
    pub ok: bool,
    pub proofs: Vec<Proof>,
    /// Artifacts the environment's mode needs that were not given, so not proved: a run that
    /// checked only some of them says so instead of a bare "ok".
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unverified: Vec<ArtifactKind>,
}

impl Verification {
    pub fn new(proofs: Vec<Proof>, needed: &[ArtifactKind]) -> Self {
        let unverified = needed
            .iter()
            .copied()
            .filter(|k| !proofs.iter().any(|p| p.artifact == *k))
            .collect();
        Verification {
            ok: proofs.iter().all(|p| p.ok),
            proofs,
            unverified,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn finding_codes_are_unique_and_grouped_by_artifact() {
        let codes = finding_codes();
        let unique: BTreeSet<_> = codes.iter().map(|c| c.code).collect();
        assert_eq!(unique.len(), codes.len());
        let names: BTreeSet<_> = codes.iter().map(|c| c.name).collect();
        assert_eq!(names.len(), codes.len());
        for c in codes {
            assert!(c.code.len() == 5 && c.code.starts_with('F') && c.code[1..].chars().all(|d| d.is_ascii_digit()));
            let kind: FindingKind = FindingKind::ALL.iter().copied().find(|k| k.info().code == c.code).unwrap();
            let wire = serde_json::to_value(kind).unwrap();
            assert_eq!(wire, c.name, "the kind's JSON name is its registry name");
        }
    }
}
