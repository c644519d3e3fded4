//! Stable diagnostic codes: the registry users look codes up in (README lists them; a test checks
//! that it does). Codes are never renumbered; retired codes are not reused.

pub struct CodeInfo {
    pub code: &'static str,
    pub summary: &'static str,
}

macro_rules! codes {
    ($($name:ident = $code:literal: $summary:literal;)*) => {
        $(pub const $name: &str = $code;)*
        pub const ALL: &[CodeInfo] = &[$(CodeInfo { code: $code, summary: $summary }),*];
    };
}

codes! {
    E_READ = "E0001": "file cannot be read";
    E_SYNTAX = "E0002": "not valid JSON (line:column given)";
    E_DUPLICATE_KEY = "E0003": "a key appears twice in one JSON object (both positions given)";
    E_TOO_LARGE = "E0004": "input file larger than 64 MiB";
    E_NESTING = "E0005": "objects and arrays nested deeper than 64 levels";
    E_TOO_LONG = "E0006": "string longer than any valid value of its field";
    E_TOO_MANY = "E0007": "more values or list items than any valid input holds";
    E_ENCODING = "E0008": "file is not UTF-8 (nor UTF-16 with a byte-order mark): line:column of the first bad byte given";
    E_UNKNOWN_FIELD = "E0101": "unknown field (a near miss gets a suggestion)";
    E_TYPE = "E0102": "value has the wrong JSON type";
    E_MISSING = "E0103": "required field is missing";
    E_ENUM = "E0104": "value is not one of the allowed values";
    E_NAME = "E0105": "name breaks Azure's naming rules";
    E_GUID = "E0106": "subscriptionId is not a GUID";
    E_CIDR = "E0107": "not an IPv4 address or CIDR prefix";
    E_HOST_BITS = "E0108": "prefix has host bits set (the normalised prefix is suggested)";
    E_IPV6 = "E0109": "IPv6 is not supported: an ISE and its subnets are IPv4 only";
    E_RANGE = "E0110": "number outside its allowed range";
    E_EMPTY = "E0111": "list must not be empty";
    E_DUPLICATE = "E0112": "duplicate name";
    E_SUBNET_COUNT = "E0201": "an ISE needs exactly four subnets";
    E_SUBNET_TOO_SMALL = "E0202": "subnet smaller than /27";
    W_SUBNET_TOO_LARGE = "W0203": "subnet larger than /27 gives no benefit";
    E_SUBNET_OVERLAP = "E0204": "subnets overlap";
    E_SUBNET_OUTSIDE = "E0205": "subnet outside the virtual network's address space";
    E_FORBIDDEN_RANGE = "E0206": "address space or subnet uses a range Logic Apps cannot resolve";
    E_SUBNET_NAME = "E0207": "subnet name breaks the ISE subnet naming rules";
    E_DELEGATION = "E0208": "exactly one subnet must be delegated for template or REST deployment";
    E_SPACE_OVERLAP = "E0210": "address space prefixes overlap";
    E_LOCATION = "E0301": "location is not a location of the cloud";
    E_NO_PUBLISHED_IPS = "E0302": "the location has no published Logic Apps addresses to replace tags that do not work in this cloud";
    W_CONNECTOR_TAG_FALLBACK = "W0303": "no published managed-connector addresses for the location; the regional AzureConnectors tag is used";
    E_SKU_CAPACITY = "E0304": "capacity not allowed for the SKU";
    E_FIREWALL_IP_MISSING = "E0401": "firewall mode needs forcedTunneling.firewallPrivateIp";
    E_FIREWALL_IP = "E0402": "firewallPrivateIp is not an IPv4 address";
    W_FIREWALL_IP_UNUSED = "W0403": "firewallPrivateIp is ignored outside firewall mode";
    E_FIREWALL_IN_ISE_SUBNET = "E0404": "the firewall cannot sit in an ISE subnet (they must stay empty)";
    E_FIREWALL_IP_SPECIAL = "E0405": "firewallPrivateIp is an address no appliance can have (this network, loopback, link-local, multicast, reserved, Azure's platform address)";
    W_FIREWALL_IP_PUBLIC = "W0406": "firewallPrivateIp is a public address outside the virtual network's address space";
    W_RULE_COLLECTION_GROUP_UNUSED = "W0407": "ruleCollectionGroupName and ruleCollectionGroupPriority are ignored outside firewall mode";
    E_EXTERNAL_CALLERS_INTERNAL = "E0501": "externalCallers only apply to an external ISE";
    W_CALLER_IN_VNET = "W0502": "internal caller lies inside the virtual network already";
    W_CALLERS_ANY = "W0503": "0.0.0.0/0 as a caller is the same as the whole Internet";
    W_EXTERNAL_FIREWALL_INTERNET = "W0505": "external ISE in firewall mode without externalCallers (or with 0.0.0.0/0 among them): replies to Internet callers would go to the firewall (asymmetric routing)";
    E_EXTERNAL_CALLER_IN_VNET = "E0506": "external caller overlaps the virtual network's address space (Internet callers lie outside it)";
    E_CALLER_SPECIAL = "E0507": "caller lies in a range no caller sends from (this network, loopback, link-local, multicast, reserved, Azure's platform address)";
    W_DESTINATION_ANY = "W0504": "0.0.0.0/0 as an outbound destination opens every address on its ports";
    E_PORT = "E0601": "not a port, port range or `*`";
    E_CERT_COUNT = "E0701": "more than 20 certificates";
    E_CERT_BASE64 = "E0702": "publicCertificate is not base64 (or PEM)";
    E_CERT_NOT_CERT = "E0703": "publicCertificate does not hold an X.509 certificate";
    E_DNS_IP = "E0801": "custom DNS server is not an IPv4 address";
    E_DNS_COUNT = "E0802": "more than 20 DNS servers on a virtual network";
    E_DNS_IP_SPECIAL = "E0803": "custom DNS server is an address no DNS server can have (this network, loopback, link-local, multicast, reserved)";
    E_DNS_IN_ISE_SUBNET = "E0804": "a custom DNS server cannot sit in an ISE subnet (they must stay empty)";
    E_TAGS_SYNTAX = "E0901": "service-tag file is malformed";
    E_TAGS_WRONG_CLOUD = "E0902": "service-tag file belongs to another cloud";
    E_TAGS_DUPLICATE = "E0903": "service-tag file names a tag twice";
    E_TAG_MISSING = "E0904": "a tag the requirements need is missing from the service-tag file";
    E_NSG_RULES = "E1001": "the NSG would exceed Azure's 1,000 rules";
    E_NSG_DESTINATIONS = "E1002": "more outbound destinations than the NSG priority band holds (200)";
    E_NSG_FILE = "E1201": "NSG file is not valid JSON or not an NSG (our nsg.json or `az network nsg show` output)";
    E_NSG_FIELD = "E1202": "NSG rule field missing or of the wrong type";
    E_NSG_VALUE = "E1203": "NSG rule value invalid (protocol, access, direction, priority, port, prefix)";
    E_NSG_DUPLICATE_PRIORITY = "E1204": "two NSG rules share a priority and direction";
    E_NSG_UNSUPPORTED = "E1205": "NSG rule uses application security groups, which the verifier cannot resolve";
    E_ROUTE_FILE = "E1206": "route table file is not valid JSON or not a route table, or a route field is missing or invalid";
    E_EXPLAIN_ENDPOINT = "E1301": "explain: --from/--to is neither an IPv4 address, a prefix nor a known service tag";
    E_EXPLAIN_PATH = "E1302": "explain: the flow does not cross the ISE subnets' NSG";
    E_ROUTE_LIMIT = "E1003": "the route table would exceed Azure's 400 routes or 25 service-tag routes";
    E_FIREWALL_LIMIT = "E1004": "the firewall rules would exceed Azure Firewall's 20,000 unique source/destination pairs or 2 MB of rules per rule collection group";
    E_FIREWALL_TABLE_VERSION = "E1005": "firewall mode under --table-version older than the first table with the forced tunneling requirements (2020-09-25)";
    E_NSG_RULE_NAMES = "E1006": "two compiled NSG rules would share a name (an outbound destination named like the parts of another's split rules)";
    E_NSG_ADDRESSES = "E1007": "the NSG would name more than Azure's 4,000 address prefixes on its rules' sources or on their destinations (a limit per security group)";
    W_EXPANDED_NSG_ADDRESSES = "W1008": "--expand-tags: the expanded NSG names more than Azure's 4,000 address prefixes on its sources or destinations, so it does not deploy as one Azure NSG";
    E_FIREWALL_FILE = "E1207": "firewall file is not one rule collection group nor one firewall's classic collections (several in one file, a firewall managed by a policy, a policy with a parent policy, none)";
    E_OUT_DIR = "E1101": "the output directory cannot be written or holds files isenet did not write";
    E_TAG_UNKNOWN = "E1401": "service tag not in the service-tag file (a near miss gets a suggestion)";
    E_TAGS_CLOUD_MISMATCH = "E1402": "tags diff: the two service-tag files belong to different clouds";
    E_EXPAND_SLOT = "E1403": "--expand-tags: a requirement's expanded rules need more priorities than its slot of 10";
    // readers (E1208-E1299): what Azure refuses in an NSG, route table or firewall file.
    E_NSG_DUPLICATE_NAME = "E1208": "two NSG rules share a name (Azure compares names case-insensitively)";
    E_ROUTE_DUPLICATE_NAME = "E1209": "two routes of a route table share a name";
    E_FIREWALL_FIELD = "E1210": "firewall rule collection or rule field missing or of the wrong type";
    E_FIREWALL_VALUE = "E1211": "firewall value invalid (protocol, port, address, action, rule type)";
    E_FIREWALL_DUPLICATE_NAME = "E1212": "two firewall rule collections, two rules of one collection, or two listed rule collection groups share a name";
    E_FIREWALL_UNSUPPORTED = "E1213": "firewall rule uses IP groups, FQDNs in a network rule, URLs, web categories or application-rule destination addresses other than `*`, which the verifier cannot resolve (in the environment's own rule collection group; another group's such rule is finding F0309)";
    E_ROUTE_DUPLICATE_PREFIX = "E1214": "two routes of a route table share an address prefix (Azure refuses the table: RouteConflict)";
    E_TEMPLATE_UNSEEN = "E1215": "ARM template holds what the proof would not see: a rule or route outside its NSG or route table, a nested deployment of a linked template, a rule collection group inside its policy, a `condition` or `copy` loop on the resource or its items";
    W_FIREWALL_UNRESOLVED = "W1218": "explain: a rule of another rule collection group of the policy matches on what the verifier cannot resolve; it was taken to match nothing (verify reports it as F0309)";
    W_FIREWALL_TIED = "W1219": "explain: rule collection groups of the policy share a priority, which Azure does not document an order for (verify reports it as F0308)";
    E_TEMPLATE_TWICE = "E1216": "ARM template holds two NSGs or two route tables that may be the environment's (which one the ISE subnets use is not known)";
    E_TEMPLATE_NOT_NAMED = "E1217": "ARM template holds NSGs, route tables or rule collection groups, none of the name the environment gives it";
    E_RESOURCE_ID = "E1601": "not an ARM resource id of the expected type (user-assigned identity, Key Vault)";
    E_IDENTITY_GUID = "E1602": "identity principalId or clientId is not a GUID";
    E_USER_IDENTITY_MISSING = "E1603": "identity type UserAssigned needs userAssignedIdentity";
    E_IDENTITY_FIELD_UNUSED = "E1604": "userAssignedIdentity, principalId and clientId only apply to type UserAssigned";
    E_CMK_NEEDS_IDENTITY = "E1605": "encryption (customer-managed key) needs a managed identity";
    E_KEY_NAME = "E1606": "Key Vault key name or key version is invalid";
    // Drift: `diff --deployed` (E1700-E1749).
    E_DEPLOYED_KIND = "E1700": "deployed file is not an NSG, a route table, a firewall policy rule collection group or an ARM template holding them";
    E_DEPLOYED_TWICE = "E1701": "diff: two deployed NSGs, route tables or rule collection groups in one run";
    E_DEPLOYED_CLASSIC = "E1702": "diff: classic Azure Firewall rule collections (diff takes a firewall policy rule collection group)";
    E_DEPLOYED_OTHER_NAME = "E1703": "diff: the deployed file's NSG, route table or rule collection group is named otherwise than the environment's (converging it would change another resource)";
    // Pipeline: command line, standard input, artifact selection, fleets (E1800-E1849).
    E_USAGE_UNKNOWN = "E1800": "usage: unknown option, argument or subcommand";
    E_USAGE_VALUE = "E1801": "usage: invalid value for an option (a port, a protocol, a format)";
    E_USAGE_MISSING = "E1802": "usage: a required option or argument is missing";
    E_USAGE_OTHER = "E1803": "usage: options that cannot be combined, or another command-line error";
    E_STDIN_TWICE = "E1804": "standard input (`-`) given to more than one input";
    E_ONLY = "E1805": "compile --only names an unknown artifact, or --stdout does not select exactly one file";
    E_FLEET_NAME = "E1806": "two environments of one run have the same name (a run tells them apart by name)";
    E_FLOWS = "E1807": "explain --flows: a CSV row is malformed";
    E_FLOWS_HEADER = "E1808": "explain --flows: the CSV header is not from,to[,port,protocol,expect] (unknown, repeated or missing column)";
    E_FLOWS_EMPTY = "E1809": "explain --flows: the file holds no flows";
    E_EXPLAIN_PORT = "E1810": "explain: a port is not N, N-M or *";
    E_EXPLAIN_PROTOCOL = "E1811": "explain: a protocol is not Tcp, Udp, Icmp, Esp, Ah or * (Any)";
    E_EXPLAIN_PORTLESS = "E1812": "explain: ports given for a protocol without ports (only TCP and UDP have ports)";
    E_EXPLAIN_EXPECT = "E1813": "explain: an expectation is not allow or deny";
    E_EXPLAIN_FQDN = "E1814": "explain: an FQDN destination needs firewall mode, an outbound flow and one TCP port";
    E_FLOWS_TOO_MANY = "E1815": "explain --flows: more than 10,000 flows in one file";
    // Several environments in one validate, verify or tags diff run (E1820-E1839).
    E_FLEET_ONE_FILE = "E1820": "several environments: --nsg, --routes and --firewall name one file; give each environment's with --artifacts-dir";
    E_FLEET_NO_ARTIFACTS = "E1821": "--artifacts-dir holds no nsg.json, route-table.json or firewall-policy.json for the environment";
    E_FLEET_EMPTY = "E1822": "--env-dir holds no environment file (*.json)";
    E_FLEET_ARTIFACT_MISSING = "E1823": "--artifacts-dir lacks a file the environment's mode needs (nsg.json always, route-table.json under forced tunneling, firewall-policy.json in firewall mode)";
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn codes_are_unique_and_well_formed() {
        let set: BTreeSet<_> = ALL.iter().map(|c| c.code).collect();
        assert_eq!(set.len(), ALL.len());
        for c in ALL {
            assert!(
                c.code.len() == 5 && (c.code.starts_with('E') || c.code.starts_with('W')),
                "{}",
                c.code
            );
        }
        assert_eq!(crate::servicetags::E_TAGS_SYNTAX, E_TAGS_SYNTAX);
        assert_eq!(crate::servicetags::E_TAGS_WRONG_CLOUD, E_TAGS_WRONG_CLOUD);
        assert_eq!(crate::servicetags::E_TAGS_DUPLICATE, E_TAGS_DUPLICATE);
    }
}
