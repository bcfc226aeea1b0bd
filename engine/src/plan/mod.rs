//! Plans: plain, serialisable data. A plan is the list of resource changes between the manifests
//! and the refreshed estate, in natural address order (b2 before b10), with the manifest hash and
//! state serial it was made from (a saved plan is refused when either has moved).

mod build;

use std::sync::Arc;

use serde::{Deserialize, Serialize};

pub(crate) use build::natural_order;
pub use build::{build, PlanInput};

use crate::diff::AttrChange;
use crate::resource::Attributes;

/// Version of the JSON plan format (`format_version`).
pub const FORMAT_VERSION: &str = "1.0";

/// What a plan does to one resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    /// Nothing to do.
    NoOp,
    /// Create the object.
    Create,
    /// Change attributes in place.
    Update,
    /// Delete and create again (an attribute that cannot change in place).
    Replace,
    /// Delete the object.
    Delete,
    /// Stop managing the object; it stays where it is.
    Forget,
    /// The object could not be read; nothing will be done to it.
    ReadFailed,
}

impl Action {
    /// Terraform-style action list for JSON (`["delete","create"]` for replace).
    pub fn as_list(self) -> Vec<&'static str> {
        match self {
            Action::NoOp => vec!["no-op"],
            Action::Create => vec!["create"],
            Action::Update => vec!["update"],
            Action::Replace => vec!["delete", "create"],
            Action::Delete => vec!["delete"],
            Action::Forget => vec!["forget"],
            Action::ReadFailed => vec!["read-failed"],
        }
    }

    /// True when apply has work to do.
    pub fn is_change(self) -> bool {
        !matches!(self, Action::NoOp | Action::ReadFailed)
    }
}

/// The planned change of one resource.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ResourceChange {
    /// Address (`kind.name` or `kind.name["key"]`).
    pub address: String,
    /// Kind.
    pub kind: String,
    /// Table key.
    pub name: String,
    /// Instance key, for expanded resources.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub key: Option<String>,
    /// The action, as a Terraform-style list.
    pub actions: Vec<String>,
    /// The action, typed.
    #[serde(skip)]
    pub action: Option<Action>,
    /// Attributes as observed (`null` when absent). Sensitive values are `"(sensitive)"`.
    pub before: Option<Arc<Attributes>>,
    /// Attributes as they will be (`null` for delete). Sensitive values are `"(sensitive)"`.
    /// Shared with the desired resource when it has no secrets (a 100k-resource plan held a
    /// second copy of every resource's attributes); serialised as the plain object.
    pub after: Option<Arc<Attributes>>,
    /// Attribute-level changes.
    pub changes: Vec<AttrChange>,
    /// Notes for the reader (manual steps, retries, why a read failed).
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub notes: Vec<String>,
    /// The command lines the change runs on its target (e.g. an installer's command line),
    /// secrets masked as `(sensitive)`; empty for no-ops and kinds that run none.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub commands: Vec<String>,
    /// Remote identifier, when the object exists.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub id: Option<String>,
    /// The address state knew the object by, when a `[[moved]]` table renamed it (Terraform's
    /// `previous_address`): apply records the new address; nothing is destroyed or created.
    #[serde(
        rename = "previous_address",
        skip_serializing_if = "Option::is_none",
        default
    )]
    pub moved_from: Option<String>,
}

impl ResourceChange {
    /// The typed action (recomputed from `actions` for plans read from JSON).
    pub fn action(&self) -> Action {
        if let Some(a) = self.action {
            return a;
        }
        match self
            .actions
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .as_slice()
        {
            ["create"] => Action::Create,
            ["update"] => Action::Update,
            ["delete", "create"] => Action::Replace,
            ["delete"] => Action::Delete,
            ["forget"] => Action::Forget,
            ["read-failed"] => Action::ReadFailed,
            _ => Action::NoOp,
        }
    }
}

/// Counts for the summary line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// Creates (and the create half of replaces).
    pub add: usize,
    /// In-place updates.
    pub change: usize,
    /// Deletes (and the delete half of replaces).
    pub destroy: usize,
    /// Forgets: objects dropped from state and left in place (as Terraform's `removed` blocks
    /// with `destroy = false`), never counted as destroys.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub forget: usize,
    /// Resources that could not be read.
    pub read_failed: usize,
    /// Resources known by a new address (`[[moved]]`), whatever else changes.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub moved: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// A whole plan.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Plan {
    /// [`FORMAT_VERSION`].
    pub format_version: String,
    /// Project name.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub project: Option<String>,
    /// SHA-256 of the manifests the plan was made from.
    pub manifest_hash: String,
    /// Lineage of the state the plan was made against.
    pub state_lineage: String,
    /// Serial of that state.
    pub state_serial: u64,
    /// One entry per resource, in natural address order (`boundary.b2` before `boundary.b10`).
    pub resource_changes: Vec<ResourceChange>,
    /// Counts.
    pub summary: Summary,
    /// Remote Scripts the refresh sent.
    pub refresh_scripts: usize,
    /// Connections that could not be used, each once, with the resources left unread behind
    /// it (their changes are `read-failed` with a note naming the connection).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unreachable: Vec<crate::reach::UnreachableConnection>,
    /// Plan-time warnings, in address order: facts the reader should act on whatever the
    /// actions (see [`crate::provider::WARNING`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<PlanWarning>,
}

/// One plan-time warning about a resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanWarning {
    /// Address of the resource it is about.
    pub address: String,
    /// The warning, without the `warning: ` prefix.
    pub message: String,
}

impl Plan {
    /// True when apply would change something: an object, or the address state knows one by.
    pub fn has_changes(&self) -> bool {
        self.resource_changes
            .iter()
            .any(|c| c.action().is_change() || c.moved_from.is_some())
    }

    /// Records the moves state went through before this plan was made (`[[moved]]` tables):
    /// each change at a new address names its previous one, and the summary counts them.
    pub fn mark_moves(&mut self, moves: &[crate::state::Moved]) {
        for c in &mut self.resource_changes {
            if let Some(m) = moves.iter().find(|m| m.to == c.address) {
                // A chain (a -> b -> c) shows where it started.
                let mut from = m.from.clone();
                while let Some(earlier) = moves.iter().find(|e| e.to == from) {
                    from.clone_from(&earlier.from);
                }
                c.moved_from = Some(from);
            }
        }
        self.summary = Plan::summarize(&self.resource_changes);
    }

    /// True when some resource could not be read.
    pub fn has_read_failures(&self) -> bool {
        self.resource_changes
            .iter()
            .any(|c| c.action() == Action::ReadFailed)
    }

    /// Recomputes [`Summary`].
    pub fn summarize<'a>(changes: impl IntoIterator<Item = &'a ResourceChange>) -> Summary {
        let mut s = Summary::default();
        for c in changes {
            if c.moved_from.is_some() {
                s.moved += 1;
            }
            match c.action() {
                Action::Create => s.add += 1,
                Action::Update => s.change += 1,
                Action::Replace => {
                    s.add += 1;
                    s.destroy += 1
                }
                Action::Delete => s.destroy += 1,
                Action::Forget => s.forget += 1,
                Action::ReadFailed => s.read_failed += 1,
                Action::NoOp => {}
            }
        }
        s
    }
}
