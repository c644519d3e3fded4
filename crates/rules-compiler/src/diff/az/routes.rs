//! The route table's commands: bridges that keep a replaced route's prefix where it went, and
//! route updates ordered so that Azure never sees two routes for one prefix.

use super::{join, nsg_or_route, properties, quote, update, Phases};
use crate::diff::drift::{Action, Compared, ItemChange};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// Routes. A route deleted while another is created for its prefix or updated to it (a rename,
/// or a route replaced under another name) would leave that prefix to a shorter route between the
/// two commands: for 0.0.0.0/0 the system route to the Internet, past the firewall. Azure refuses two routes for one
/// prefix (RouteConflict), so the ticket first routes the prefix's two halves as the deleted route
/// does (the longer prefix wins) and deletes those bridges once the new route is in place. A /32
/// or a service tag has no halves: a comment says what the gap does.
pub(super) fn routes(base: &str, compared: &Compared, changes: &[&ItemChange], out: &mut Phases) {
    // Prefixes a route gets: created, or moved to by an update.
    let key = |item: &Option<Value>| address_prefix(item).map(|p| route_key(&p));
    let created: BTreeSet<String> = changes
        .iter()
        .filter(|c| match c.action {
            Action::Add | Action::Rename => true,
            Action::Change => key(&c.desired) != key(&c.deployed),
            Action::Remove => false,
        })
        .filter_map(|c| key(&c.desired))
        .collect();
    // Deployed routes that keep their prefix until the new routes are in place: neither deleted
    // (removed, or renamed away) nor moved by an update, except to the prefix they bridge.
    let moving: BTreeMap<&str, Option<String>> = changes
        .iter()
        .filter_map(|c| match c.action {
            Action::Remove => Some((c.name.as_str(), None)),
            Action::Add | Action::Rename => c.deployed_name.as_deref().map(|old| (old, None)),
            Action::Change => (key(&c.desired) != key(&c.deployed)).then(|| (c.name.as_str(), key(&c.desired))),
        })
        .collect();
    let taken = Taken {
        prefixes: compared.routes_taken.iter().map(|(_, p)| route_key(p)).collect(),
        names: compared.routes_taken.iter().map(|(n, _)| n.to_lowercase()).collect(),
        deployed: &compared.deployed_routes,
        moving,
    };
    // Deleted routes a bridge took care of (adopted as the bridge, or deleted to make room).
    let mut handled = BTreeSet::new();
    for c in changes {
        bridge(base, c, &created, &taken, out, &mut handled);
    }
    let mut moves = Vec::new();
    for c in changes {
        if c.action == Action::Remove && handled.contains(&c.name) {
            continue;
        }
        match (key(&c.deployed), key(&c.desired)) {
            (Some(from), Some(to)) if c.action == Action::Change && from != to => moves.push((*c, from, to)),
            _ => nsg_or_route(base, c, out),
        }
    }
    // The prefixes the routes left after the deletions hold while the updates run.
    let deleted: BTreeSet<&str> = taken.moving.iter().filter(|(_, to)| to.is_none()).map(|(n, _)| *n).collect();
    let held: BTreeSet<String> = compared
        .deployed_routes
        .iter()
        .filter(|(name, _)| !deleted.contains(name.as_str()))
        .filter_map(|(_, r)| r.get("addressPrefix").and_then(Value::as_str).map(route_key))
        .collect();
    out.update.extend(order_moves(base, moves, held));
}

/// Route updates that move a prefix, in an order Azure takes (one route per prefix): a route
/// moves once the route holding its new prefix has moved on. Routes that trade prefixes (a cycle)
/// cannot: the first is deleted, and created again after the others have moved, with a comment
/// on the gap.
fn order_moves(base: &str, mut moves: Vec<(&ItemChange, String, String)>, mut held: BTreeSet<String>) -> Vec<String> {
    let verb = |v: &str| base.replace("{}", v);
    let mut out = Vec::new();
    let mut recreate = Vec::new();
    while !moves.is_empty() {
        if let Some(i) = moves.iter().position(|(_, _, to)| !held.contains(to)) {
            let (c, from, to) = moves.remove(i);
            held.remove(&from);
            held.insert(to);
            out.push(update(base, c));
            continue;
        }
        let (c, from, _) = moves.remove(0);
        let written = address_prefix(&c.deployed).unwrap_or_default();
        out.push(format!(
            "# route {} trades prefixes with another route: Azure refuses two routes for one prefix, so it is deleted and created again once the others have moved; until then traffic to {written} follows the next longest route",
            c.name
        ));
        out.push(join(vec![verb("delete"), format!("--name {}", quote(&c.name))]));
        held.remove(&from);
        let mut parts = vec![verb("create"), format!("--name {}", quote(&c.name))];
        parts.extend(properties(c.desired.as_ref().unwrap_or(&Value::Null), &[]));
        recreate.push(join(parts));
    }
    out.extend(recreate);
    out
}

/// The route names and prefixes (as [`route_key`]) a bridge route must not take, and the deployed
/// routes (a half a deployed route already sends where the bridge would needs no bridge).
struct Taken<'c> {
    prefixes: BTreeSet<String>,
    names: BTreeSet<String>,
    deployed: &'c [(String, Value)],
    /// Deployed routes that lose their prefix: deleted (`None`) or moved to another.
    moving: BTreeMap<&'c str, Option<String>>,
}

impl Taken<'_> {
    /// The deployed route holding `half` that the change deletes, if one does.
    fn deleted_holder(&self, half: &str) -> Option<(&str, &Value)> {
        self.deployed.iter().find_map(|(name, r)| {
            let holds = r.get("addressPrefix").and_then(Value::as_str).is_some_and(|p| route_key(p) == half);
            let deleted = matches!(self.moving.get(name.as_str()), Some(None));
            (holds && deleted).then_some((name.as_str(), r))
        })
    }

    /// Whether a deployed route holds `half` of `whole` with `route`'s next hop, and keeps holding
    /// it until `whole` is routed again: it stays, or it is the route that moves to `whole`.
    fn held_alike(&self, half: &str, whole: &str, route: &Value) -> bool {
        self.deployed.iter().any(|(name, r)| {
            let holds = r.get("addressPrefix").and_then(Value::as_str).is_some_and(|p| route_key(p) == half);
            let stays = match self.moving.get(name.as_str()) {
                None => true,
                Some(to) => to.as_deref() == Some(whole),
            };
            holds && stays && hop(r) == hop(route)
        })
    }
}

/// A canonical route's next hop: where its traffic goes.
fn hop(route: &Value) -> (Option<Value>, Option<Value>) {
    (route.get("nextHopType").cloned(), route.get("nextHopIpAddress").cloned())
}

fn address_prefix(item: &Option<Value>) -> Option<String> {
    Some(item.as_ref()?.get("addressPrefix")?.as_str()?.to_string())
}

/// The bridge routes (or the comment) for `c` when it deletes a route whose prefix another change
/// creates.
fn bridge(base: &str, c: &ItemChange, created: &BTreeSet<String>, taken: &Taken, out: &mut Phases, handled: &mut BTreeSet<String>) {
    let verb = |v: &str| base.replace("{}", v);
    let key = |item: &Option<Value>| address_prefix(item).map(|p| route_key(&p));
    let moves_away = c.action == Action::Change && key(&c.desired) != key(&c.deployed);
    let old = match c.action {
        Action::Remove => Some(c.name.as_str()),
        Action::Add | Action::Rename => c.deployed_name.as_deref(),
        Action::Change => moves_away.then_some(c.name.as_str()),
    };
    let (Some(old), Some(deployed), Some(written)) = (old, &c.deployed, address_prefix(&c.deployed)) else {
        return;
    };
    let prefix = route_key(&written);
    if !created.contains(&prefix) {
        return;
    }
    // The first pair of bridge names no route has.
    let names = (0..)
        .map(|k: u32| [1, 2].map(|i| format!("{old}-bridge-{}", 2 * k + i)))
        .find(|pair| pair.iter().all(|n| !taken.names.contains(&n.to_lowercase())))
        .expect("some pair of names is free");
    // A half some deployed route already sends the same way needs no bridge (when that route is
    // the successor, moving to the whole prefix, it never stops covering the half).
    // So does the half a route moving away takes itself, on its next hop.
    let own_half = key(&c.desired).filter(|_| moves_away && c.desired.as_ref().map(hop) == Some(hop(deployed)));
    let needed = |half: &String| own_half.as_ref() != Some(half) && !taken.held_alike(half, &prefix, deployed);
    // A half a deleted route holds: on the same next hop that route is the bridge (deleted last);
    // on another it goes first, its traffic falling to the whole prefix's route meanwhile.
    let deleted_holder = |half: &String| taken.deleted_holder(half).map(|(name, r)| (name, hop(r) == hop(deployed)));
    let free = |halves: &[String; 2]| {
        halves
            .iter()
            .filter(|h| needed(h) && deleted_holder(h).is_none())
            .all(|p| !taken.prefixes.contains(p))
    };
    let Some(halves) = halves(&prefix).filter(free) else {
        out.delete.push(match moves_away {
            false => {
                format!("# between deleting route {old} and creating its successor, traffic to {written} follows the next longest route")
            }
            true => {
                format!("# between route {old} leaving {written} and another route taking it, its traffic follows the next longest route")
            }
        });
        return;
    };
    for (name, half) in names.iter().zip(&halves).filter(|(_, h)| needed(h)) {
        match deleted_holder(half) {
            Some((holder, true)) => {
                handled.insert(holder.to_string());
                out.unbridge.push(join(vec![verb("delete"), format!("--name {}", quote(holder))]));
                continue;
            }
            Some((holder, false)) => {
                handled.insert(holder.to_string());
                out.bridge.push(join(vec![verb("delete"), format!("--name {}", quote(holder))]));
            }
            None => {}
        }
        let mut bridge = deployed.clone();
        bridge["addressPrefix"] = Value::from(half.as_str());
        let mut parts = vec![verb("create"), format!("--name {}", quote(name))];
        parts.extend(properties(&bridge, &[]));
        out.bridge.push(join(parts));
        out.unbridge.push(join(vec![verb("delete"), format!("--name {}", quote(name))]));
    }
}

/// A route's address prefix as Azure tells prefixes apart: a CIDR by its network, a service tag
/// without case.
fn route_key(prefix: &str) -> String {
    match ise_model::ip_text::prefix(prefix) {
        Some(net) => net.trunc().to_string(),
        None => prefix.to_lowercase(),
    }
}

/// The two halves of an IPv4 CIDR shorter than /32, as CIDRs.
fn halves(prefix: &str) -> Option<[String; 2]> {
    let Some(ipnet::IpNet::V4(net)) = ise_model::ip_text::prefix(prefix) else {
        return None;
    };
    let mut subnets = net.subnets(net.prefix_len().checked_add(1).filter(|l| *l <= 32)?).ok()?;
    Some([subnets.next()?.to_string(), subnets.next()?.to_string()])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_prefix_halves_into_its_two_longer_prefixes() {
        let h = |p: &str| halves(p).map(|[a, b]| (a, b));
        assert_eq!(h("0.0.0.0/0"), Some(("0.0.0.0/1".into(), "128.0.0.0/1".into())));
        assert_eq!(h("10.0.0.0/8"), Some(("10.0.0.0/9".into(), "10.128.0.0/9".into())));
        assert_eq!(h("4.156.25.188/31"), Some(("4.156.25.188/32".into(), "4.156.25.189/32".into())));
        assert_eq!(h("4.156.25.14/32"), None);
        assert_eq!(h("AzureMonitor"), None);
    }

    #[test]
    fn route_prefixes_are_told_apart_as_azure_does() {
        assert_eq!(route_key("10.1.0.0/8"), route_key("10.0.0.0/8"));
        assert_eq!(route_key("AppServiceManagement"), route_key("appservicemanagement"));
        assert_ne!(route_key("10.0.0.0/8"), route_key("10.0.0.0/9"));
    }
}
