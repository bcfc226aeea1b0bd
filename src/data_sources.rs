//! A run's data sources (`[data.KIND.NAME]`): read before the refresh, then the manifests are
//! loaded again with their items. A source that cannot be read declares nothing, and everything
//! that depends on its items — its instances in state, the resources that refer to its table —
//! is a read failure: left alone, never deleted or changed, and the run exits as a run with read
//! failures does (plan and apply 1, drift 3).

use std::collections::BTreeMap;
use std::mem::ManuallyDrop;

use cmdeploy_engine::manifest;
use cmdeploy_engine::provider::ReadOutcome;
use cmdeploy_engine::state::State;
use cmdeploy_engine::Address;

use crate::output::Output;
use crate::session::Session;
use crate::Failure;

impl Session {
    /// Reads the project's data sources and reloads the manifests with their items (nothing to
    /// do without data sources). Sources that cannot be read go to [`Session::unread`] and the
    /// project stays as loaded offline.
    ///
    /// # Errors
    /// Diagnostics of the manifests with the items (e.g. an item the kind refuses).
    pub async fn read_data(&mut self) -> Result<(), Failure> {
        if self.project.data_sources.is_empty() {
            return Ok(());
        }
        let read = cmdeploy_engine::data::read(
            self.registry.data_kinds(),
            &self.ctx,
            &self.project.data_sources,
        )
        .await;
        let items = match read {
            Ok(items) => items,
            Err(failures) => {
                self.unread = failures;
                return Ok(());
            }
        };
        let (project, warnings) =
            manifest::load_with(&self.project.dir, &self.registry, Some(&items))
                .map_err(Failure::Diagnostics)?;
        self.ctx.resources = project.resources.clone();
        self.warnings = warnings;
        // The offline project is never freed either (see `Session::project`).
        let _offline = std::mem::replace(&mut self.project, ManuallyDrop::new(project));
        Ok(())
    }

    /// Marks as read failures what depends on the items of an unread source: each instance in
    /// state of a table expanded over it, and each resource that refers to such a table.
    pub fn mark_unread(&self, state: &State, outcomes: &mut BTreeMap<Address, ReadOutcome>) {
        for f in &self.unread {
            for address in state
                .resources
                .keys()
                .filter_map(|a| Address::parse(a).ok())
            {
                if self.project.for_each.get(&address.base()) == Some(&f.reference) {
                    outcomes.insert(address, ReadOutcome::Failed(f.error.clone()));
                }
            }
            for (base, reference) in &self.project.for_each {
                if reference != &f.reference {
                    continue;
                }
                for dependent in self
                    .project
                    .refers_to_for_each
                    .get(base)
                    .into_iter()
                    .flatten()
                {
                    let mut error = f.error.clone();
                    error.message = format!(
                        "not compared: it refers to {base}, whose data source {reference} could not be read ({})",
                        f.error.message
                    );
                    outcomes.insert(dependent.clone(), ReadOutcome::Failed(error));
                }
            }
        }
    }

    /// Prints one error per unread source. When its connection could not be reached, the
    /// connection's own report (with the likely causes) follows with the plan: it is not repeated.
    pub fn report_unread(&self, out: Output) {
        for f in &self.unread {
            let why = if f.error.is_unreachable() {
                format!("{} cannot be reached", f.error.host)
            } else {
                f.error.to_string()
            };
            eprintln!(
                "{} {} could not be read: {why}. What it declares is left alone (a failed read is never taken for \"no items\", which would destroy every resource expanded over it).",
                out.paint("\x1b[31;1m", "error:"),
                f.reference
            );
        }
    }
}
