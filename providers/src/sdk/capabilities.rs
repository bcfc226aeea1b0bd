//! The optional capabilities a typed kind hands out (terraform-plugin-framework's
//! `ResourceWith*` style): rules over several resources, import listings, plan notes, host
//! behaviour, and applying in steps.

use cmdeploy_engine::diagnostics::Diagnostics;
use cmdeploy_engine::import::Imported;
#[cfg(doc)]
use cmdeploy_engine::provider::Kind;
use cmdeploy_engine::provider::{
    Context, DeleteMode, Observed, Operation, ReadOutcome, ReadRequest, RemoteError,
};
use cmdeploy_engine::resource::{Attributes, Connection, Resource, ResourceSet};

use super::read::model;
use super::{Change, TypedKind};

/// A kind whose object is a computer reached over its own connection (a client host, a
/// reference computer): what removing it means and what the plan shows for it (see
/// [`Kind::delete_mode_of`], [`Kind::target_host`], [`Kind::planned_commands`]).
pub trait OnHosts: Send + Sync {
    /// What happens when a resource whose state entry kept `meta` leaves the manifest (an empty
    /// `meta` asks for the kind's default).
    fn delete_mode_of(&self, meta: &Attributes) -> DeleteMode;

    /// Notes for the plan reader about deleting one such object. Default: none.
    fn delete_notes(&self, _meta: &Attributes) -> Vec<String> {
        Vec::new()
    }

    /// The host the object is (for the per-host apply recap).
    fn target_host(&self, desired: &Resource) -> Option<String>;

    /// The command lines a pending change runs on the host, secrets masked. Default: none.
    fn planned_commands(&self, _desired: &Resource, _observed: Option<&Observed>) -> Vec<String> {
        Vec::new()
    }
}

/// A kind whose change cannot be one batch of described calls: a later call takes an earlier
/// one's output as its input (`New-CMPackage`'s PackageID, where names are not unique), or the
/// host must be waited on between calls. It applies each change in its own Scripts; the engine
/// runs such an operation alone, never in a batch.
#[async_trait::async_trait]
pub trait ApplyInSteps<M: Send + Sync>: Send + Sync {
    /// Applies `change` and returns the object's ID and, unless it was deleted, its model as
    /// read back.
    ///
    /// # Errors
    /// The first remote failure (host, operation, Windows' message), or a read-back that does
    /// not show the object.
    async fn apply(
        &self,
        ctx: &Context,
        change: &Change<'_, M>,
    ) -> Result<(String, Option<M>), RemoteError>;
}

/// Reads the object of `op` again with the kind's own refresh read, after [`ApplyInSteps`]
/// changed it: its ID and model. `what` names it in the error.
///
/// # Errors
/// The read failed, the object is not there, or what was read does not fit the model.
pub async fn read_again<K: TypedKind>(
    kind: &K,
    ctx: &Context,
    op: &Operation,
    what: &str,
) -> Result<(String, K::Model), RemoteError> {
    let request = ReadRequest {
        address: op.address.clone(),
        desired: op.desired.clone(),
        prior: op.prior.clone(),
        connection: op.connection.clone(),
    };
    let host = || op.connection.host();
    let o = match kind.read(ctx, vec![request]).await.pop().map(|r| r.outcome) {
        Some(ReadOutcome::Present(o)) => o,
        Some(ReadOutcome::Failed(e)) => return Err(e),
        _ => {
            return Err(RemoteError::new(
                host(),
                format!("{what} is not found after apply"),
            ))
        }
    };
    let m = model(&o.attrs).ok_or_else(|| {
        RemoteError::new(
            host(),
            format!(
                "{what}: what was read back does not fit the {} model",
                K::KIND
            ),
        )
    })?;
    Ok((o.id, m))
}

pub(super) fn in_steps_only(op: &Operation) -> RemoteError {
    RemoteError::new(
        op.connection.host(),
        format!(
            "{}: the kind applies in steps and describes no calls",
            op.address
        ),
    )
}

/// Notes for the plan reader about a pending change (see [`Kind::plan_notes`]).
pub trait PlanNotes: Send + Sync {
    /// The notes for `desired` (absent for a delete) given what the refresh found (absent for a
    /// create).
    fn notes(&self, desired: Option<&Resource>, observed: Option<&Observed>) -> Vec<String>;
}

/// Rules that involve several resources (overlapping boundaries, duplicate names).
pub trait CrossValidate: Send + Sync {
    /// Adds a diagnostic per problem.
    fn validate(&self, resources: &ResourceSet, out: &mut Diagnostics);
}

/// Listing existing objects as manifest tables (see [`Kind::list`]).
#[async_trait::async_trait]
pub trait Import: Send + Sync {
    /// True when objects are listed through `connection`.
    ///
    /// # Errors
    /// The remote failure of asking the host.
    async fn imports_from(
        &self,
        ctx: &Context,
        connection: &Connection,
    ) -> Result<bool, RemoteError>;

    /// Every object `connection` holds, as manifest tables.
    ///
    /// # Errors
    /// The remote failure.
    async fn list(
        &self,
        ctx: &Context,
        connection: &Connection,
    ) -> Result<Vec<Imported>, RemoteError>;
}
