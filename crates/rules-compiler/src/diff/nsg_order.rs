//! The order of a ticket's NSG rule updates. Azure refuses two rules of one direction at one
//! priority, so an update that moves a rule to a place another rule still holds waits until that
//! rule has moved on; rules that want each other's places (a cycle) are untied by first parking
//! one of them at a free temporary priority, with a comment saying so.

use serde_json::Value;
use std::collections::BTreeSet;

/// Where an NSG rule sits: its direction and priority, unique among the NSG's rules.
pub type Place = (String, u64);

/// An item's place (a canonical security rule), None for other items.
pub fn place(item: &Value) -> Option<Place> {
    Some((item.get("direction")?.as_str()?.to_string(), item.get("priority")?.as_u64()?))
}

/// One rule update: the rule's name, its place before and after, and the command.
pub struct Update {
    pub name: String,
    pub from: Place,
    pub to: Place,
    pub command: String,
    /// Among moves Azure takes in any order, lower goes first: so that no step opens what neither
    /// NSG allows, a deny rule moving ahead goes first, a deny rule moving back last ([`rank`]).
    pub rank: u8,
}

/// [`Update::rank`] of a rule of `access` moving from `from` to `to`.
pub fn rank(access: &str, from: &Place, to: &Place) -> u8 {
    match (access, to.1 < from.1) {
        ("Deny", true) => 0,
        ("Deny", false) => 2,
        _ => 1,
    }
}

/// Priorities Azure allows on a rule.
const PRIORITIES: std::ops::RangeInclusive<u64> = 100..=4096;

/// The free priority of `direction` nearest `near` (the lower on a tie) that is neither held nor
/// any rule's final place: a rule parked there changes the order of the rules as little as can be.
pub fn free_place(direction: &str, near: u64, held: &BTreeSet<Place>, finals: &BTreeSet<Place>) -> Option<Place> {
    let free = |p: u64| {
        let place = (direction.to_string(), p);
        (PRIORITIES.contains(&p) && !held.contains(&place) && !finals.contains(&place)).then_some(place)
    };
    (1..=PRIORITIES.end() - PRIORITIES.start()).find_map(|d| free(near.saturating_sub(d)).or_else(|| free(near + d)))
}

/// The update commands in an order Azure takes. `held` are the places of the rules left after the
/// deletions, `finals` every place of the converged NSG, `park` writes the command that moves a
/// rule to a temporary priority.
pub fn order(updates: Vec<Update>, mut held: BTreeSet<Place>, finals: &BTreeSet<Place>, park: impl Fn(&str, u64) -> String) -> Vec<String> {
    let (still, mut moving): (Vec<Update>, Vec<Update>) = updates.into_iter().partition(|u| u.from == u.to);
    let mut out: Vec<String> = still.into_iter().map(|u| u.command).collect();
    moving.sort_by(|a, b| (a.rank, &a.name).cmp(&(b.rank, &b.name)));
    while !moving.is_empty() {
        let free = moving.iter().position(|m| !held.contains(&m.to));
        if let Some(i) = free {
            let m = moving.remove(i);
            held.remove(&m.from);
            held.insert(m.to);
            out.push(m.command);
            continue;
        }
        // Every target is held by another moving rule: they form cycles. The first steps aside.
        let (name, from, to) = (moving[0].name.clone(), moving[0].from.clone(), moving[0].to.clone());
        let Some(parked) = free_place(&from.0, from.1, &held, finals) else {
            out.push(format!(
                "# {name} cannot move: no free priority to park it at; run the remaining updates by hand"
            ));
            out.extend(moving.drain(..).map(|m| m.command));
            break;
        };
        let holder = moving.iter().find(|o| o.from == to).map_or("", |o| o.name.as_str());
        out.push(format!(
            "# {name} waits at temporary priority {} ({}): its priority {} is held by {holder}, which waits for its own new place",
            parked.1, parked.0, to.1
        ));
        out.push(park(&name, parked.1));
        held.remove(&from);
        held.insert(parked.clone());
        moving[0].from = parked;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(p: u64) -> Place {
        ("Outbound".into(), p)
    }

    fn update(name: &str, from: u64, to: u64) -> Update {
        Update {
            name: name.into(),
            from: at(from),
            to: at(to),
            command: format!("move {name} {from}->{to}"),
            rank: 1,
        }
    }

    fn run(updates: Vec<Update>) -> Vec<String> {
        let held: BTreeSet<Place> = updates.iter().map(|u| u.from.clone()).collect();
        let finals: BTreeSet<Place> = updates.iter().map(|u| u.to.clone()).collect();
        order(updates, held, &finals, |n, p| format!("park {n} {p}"))
    }

    #[test]
    fn deny_rules_move_ahead_first_and_back_last() {
        let ranked = |name: &str, access: &str, from: u64, to: u64| Update {
            rank: rank(access, &at(from), &at(to)),
            ..update(name, from, to)
        };
        // Names would put them the other way round: the ranks decide.
        let order = run(vec![
            ranked("a-deny-back", "Deny", 4000, 4096),
            ranked("b-allow", "Allow", 4090, 140),
            ranked("c-deny-ahead", "Deny", 300, 120),
        ]);
        assert_eq!(
            order,
            [
                "move c-deny-ahead 300->120",
                "move b-allow 4090->140",
                "move a-deny-back 4000->4096"
            ]
        );
    }

    #[test]
    fn a_rule_moves_after_the_rule_holding_its_target() {
        // The reviewer's case: mike wants 2010, which zulu holds until it moves to 2000.
        let got = run(vec![update("out-dest-mike", 2020, 2010), update("out-dest-zulu", 2010, 2000)]);
        assert_eq!(got, ["move out-dest-zulu 2010->2000", "move out-dest-mike 2020->2010"]);
    }

    #[test]
    fn a_swap_parks_one_rule_at_a_free_priority_first() {
        let got = run(vec![update("a", 2000, 2010), update("b", 2010, 2000)]);
        assert_eq!(got.len(), 4, "{got:?}");
        assert!(got[0].starts_with("# a waits at temporary priority 1999 (Outbound)"), "{got:?}");
        assert_eq!(got[1..], ["park a 1999", "move b 2010->2000", "move a 2000->2010"]);
    }

    #[test]
    fn a_parked_rule_avoids_held_and_final_places() {
        let held: BTreeSet<Place> = [at(100), at(101), at(102)].into_iter().collect();
        let finals: BTreeSet<Place> = [at(99), at(103)].into_iter().collect();
        assert_eq!(free_place("Outbound", 101, &held, &finals), Some(at(104)));
        assert_eq!(free_place("Inbound", 101, &held, &finals), Some(("Inbound".into(), 100)));
    }
}
