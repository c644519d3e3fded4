//! The diff ticket's rollback: the commands that take the converged resources back to the
//! exported ones, made by the forward commands' own machinery (ordering, bridges, in-place
//! updates) from the changes turned around.

use super::az;
use super::drift::{Action, Compared, Drift, FieldChange, ItemChange};

/// The rollback's commands, to run after the ticket's; empty when nothing changes.
pub fn commands(d: &Drift) -> Vec<String> {
    let compared: Vec<Compared> = d.compared.iter().map(turned_compared).collect();
    let changes: Vec<ItemChange> = d.changes.iter().map(turned).collect();
    // The subnets leave what the ticket put them on first, as it was put on them last.
    let mut out = az::dissociation_commands(d);
    out.extend(az::commands_for(&compared, &changes));
    out
}

/// The resources as the ticket leaves them: the desired side holds the places and routes.
fn turned_compared(c: &Compared) -> Compared {
    Compared {
        held: c.desired_held.clone(),
        desired_held: c.held.clone(),
        deployed_routes: c.desired_routes.clone(),
        desired_routes: c.deployed_routes.clone(),
        ..c.clone()
    }
}

/// The change that undoes `c`.
fn turned(c: &ItemChange) -> ItemChange {
    let fields = c
        .fields
        .iter()
        .map(|f| FieldChange {
            field: f.field.clone(),
            deployed: f.desired.clone(),
            desired: f.deployed.clone(),
        })
        .collect();
    let (action, name, deployed_name) = match c.action {
        Action::Add => (Action::Remove, c.name.clone(), None),
        Action::Remove => (Action::Add, c.name.clone(), None),
        Action::Change => (Action::Change, c.name.clone(), None),
        Action::Rename => (
            Action::Rename,
            c.deployed_name.clone().unwrap_or_else(|| c.name.clone()),
            Some(c.name.clone()),
        ),
    };
    ItemChange {
        action,
        name,
        deployed_name,
        fields,
        caution: None,
        deployed: c.desired.clone(),
        desired: c.deployed.clone(),
        ..c.clone()
    }
}
