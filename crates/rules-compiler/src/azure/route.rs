//! Routes of a route table as Azure defines them: the type the plan builds, the backend writes, the
//! reader reads and the route proof evaluates, with Azure's limits and the route naming isenet uses.

use ipnet::Ipv4Net;
use serde::{Deserialize, Serialize};
use std::net::Ipv4Addr;

/// Azure limits (data/azure-limits.csv).
pub const MAX_ROUTES: usize = 400;
pub const MAX_TAG_ROUTES: usize = 25;

/// The next hop types Azure accepts on a user route.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum NextHop {
    VirtualNetworkGateway,
    VnetLocal,
    Internet,
    VirtualAppliance,
    None,
}

impl NextHop {
    pub const ALL: [NextHop; 5] = [
        NextHop::VirtualNetworkGateway,
        NextHop::VnetLocal,
        NextHop::Internet,
        NextHop::VirtualAppliance,
        NextHop::None,
    ];

    /// The name ARM and `az` write.
    pub fn as_str(self) -> &'static str {
        match self {
            NextHop::VirtualNetworkGateway => "VirtualNetworkGateway",
            NextHop::VnetLocal => "VnetLocal",
            NextHop::Internet => "Internet",
            NextHop::VirtualAppliance => "VirtualAppliance",
            NextHop::None => "None",
        }
    }

    /// Azure compares the value case-insensitively.
    pub fn parse(text: &str) -> Option<NextHop> {
        NextHop::ALL.into_iter().find(|h| h.as_str().eq_ignore_ascii_case(text))
    }
}

impl std::fmt::Display for NextHop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One user route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteEntry {
    pub name: String,
    /// A CIDR or a service tag.
    pub address_prefix: String,
    pub next_hop_type: NextHop,
    /// Set for `VirtualAppliance` only.
    pub next_hop_ip_address: Option<Ipv4Addr>,
}

/// The name of a route isenet writes for one aggregated prefix of a requirement.
pub fn route_name(id: &str, prefix: &Ipv4Net) -> String {
    format!("{id}-{}", prefix.to_string().replace(['.', '/'], "-"))
}
