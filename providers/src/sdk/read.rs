//! Batched reads on a site server through described read calls, and conversions between a
//! kind's model and the engine's attributes.

use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use cmdeploy_engine::provider::{
    to_attributes, Context, Observed, ReadRequest, ReadResult, RemoteError,
};
use cmdeploy_engine::resource::{Attributes, Connection, Resource, ResourceSet};

use crate::kit;
use crate::powershell::{Call, Script, ScriptOutput};

/// The values of one request's read calls, by position among them: from a refresh Script's
/// output (a failed call gives its error) or from the end of an apply's values, where a change
/// puts the same reads to verify its writes.
pub struct ReadValues<'a> {
    connection: &'a Connection,
    source: ReadSource<'a>,
}

enum ReadSource<'a> {
    Output {
        script: &'a Script,
        out: &'a ScriptOutput,
        start: usize,
    },
    Values(&'a [Value]),
}

impl<'a> ReadValues<'a> {
    /// The values of a Script's calls from call `start` on (a listing that reads several objects).
    pub fn output(
        connection: &'a Connection,
        script: &'a Script,
        out: &'a ScriptOutput,
        start: usize,
    ) -> Self {
        ReadValues {
            connection,
            source: ReadSource::Output { script, out, start },
        }
    }

    /// The last `n` of an apply's `values` (the reads a change appended to its writes).
    pub fn tail(connection: &'a Connection, values: &'a [Value], n: usize) -> Self {
        ReadValues {
            connection,
            source: ReadSource::Values(&values[values.len().saturating_sub(n)..]),
        }
    }

    /// The value of read call `i`.
    ///
    /// # Errors
    /// When the call failed or did not run (naming host, cmdlet and message).
    pub fn get(&self, i: usize) -> Result<&'a Value, RemoteError> {
        match &self.source {
            ReadSource::Output { script, out, start } => {
                kit::value_of(self.connection, script, out, start + i)
            }
            ReadSource::Values(v) => v
                .get(i)
                .ok_or_else(|| RemoteError::new(self.connection.host(), "a read call did not run")),
        }
    }

    /// The connection the reads ran on.
    pub fn connection(&self) -> &'a Connection {
        self.connection
    }
}

/// A batched read on one site server through described read calls: `reads` gives a request's
/// calls (from its site code) and what `observe` needs to find their values; `observe` turns
/// them into `Some(Observed)` or `None` (absent). The same two functions verify an apply: the
/// change appends `reads` to its writes and reads back from [`ReadValues::tail`].
pub async fn read_by_site<T>(
    ctx: &Context,
    requests: Vec<ReadRequest>,
    reads: impl Fn(&str, &ReadRequest) -> (Vec<Call>, T),
    observe: impl Fn(&ReadValues<'_>, &T, &ReadRequest) -> Result<Option<Observed>, RemoteError>,
) -> Vec<ReadResult> {
    kit::read_by_site(
        ctx,
        requests,
        |script, code, r| {
            let (calls, layout) = reads(code, r);
            let start = script.calls.len();
            script.calls.extend(calls);
            (start, layout)
        },
        |connection, script, out, (start, layout), r| {
            let values = ReadValues {
                connection,
                source: ReadSource::Output {
                    script,
                    out,
                    start: *start,
                },
            };
            observe(&values, layout, r)
        },
    )
    .await
}

/// The ID and model of an observed object (`None` when its attributes do not fit the model).
pub fn observed_model<M: DeserializeOwned>(o: Observed) -> Option<(String, M)> {
    Some((o.id, model(&o.attrs)?))
}

/// A present object with its model as attributes.
pub fn observed<M: Serialize>(id: impl Into<String>, model: &M) -> Observed {
    Observed {
        id: id.into(),
        attrs: to_attributes(model),
        notes: Vec::new(),
        private: Attributes::new(),
    }
}

/// A model from attributes (a resource's, a state entry's or an observed object's), or `None` when
/// they do not fit it.
pub fn model<M: DeserializeOwned>(attrs: &Attributes) -> Option<M> {
    serde_json::from_value(Value::Object(attrs.clone())).ok()
}

/// The desired resources of `kind` with their models, for rules over several resources.
pub fn models<'a, M: DeserializeOwned + 'a>(
    resources: &'a ResourceSet,
    kind: &'a str,
) -> impl Iterator<Item = (&'a Arc<Resource>, M)> + 'a {
    resources
        .of_kind(kind)
        .filter_map(|r| Some((r, model::<M>(&r.attrs)?)))
}
