//! Running described writes in batches: the calls of several operations (each [`ScriptWork`]) go
//! into one write Script, each operation's calls tagged with its own group, so that a failure
//! skips the rest of that operation only ([`crate::powershell::Call::group`]); each operation gets
//! the values of its calls back ([`CallValues`]) or the failure that names host, cmdlet and
//! Windows' message. Scripts are split at operation boundaries to stay under the transport's
//! payload limit.

use serde_json::Value;

use cmdeploy_engine::batch::{Described, Work, WorkOutput};
use cmdeploy_engine::provider::{Applied, Context, Executor, Kind, Operation, RemoteError};
use cmdeploy_engine::resource::Connection;

use crate::kit;
use crate::powershell::{Call, Script, ScriptOutput, Target};
use crate::transport::MAX_PAYLOAD_BYTES;

/// One operation's calls, writes first and then the reads that verify them, for one target.
#[derive(Debug, Clone)]
pub struct ScriptWork {
    /// What the runner prepares (operations share a Script only with the same target).
    pub target: Target,
    /// The calls, in order.
    pub calls: Vec<Call>,
}

/// The values of one operation's calls, in the order of its [`ScriptWork::calls`] (each the
/// runner's array of output objects).
#[derive(Debug, Clone)]
pub struct CallValues(pub Vec<Value>);

impl ScriptWork {
    /// The work as the engine batches it: keyed by target, costed by its number of calls.
    pub fn described(target: Target, calls: Vec<Call>) -> Described {
        let batch_key = serde_json::to_string(&target).unwrap_or_default();
        let cost = calls.len();
        Described {
            batch_key,
            work: Work::new(ScriptWork { target, calls }),
            cost,
        }
    }
}

/// The values of a finished operation's calls.
///
/// # Errors
/// When the output is not [`CallValues`] (a kind finishing work it did not describe).
pub fn values_of(connection: &Connection, output: WorkOutput) -> Result<Vec<Value>, RemoteError> {
    output.downcast::<CallValues>().map(|v| v.0).ok_or_else(|| {
        RemoteError::new(
            connection.host(),
            "the batch returned an output of another kind",
        )
    })
}

/// Runs batches of [`ScriptWork`] as write Scripts on their connection.
pub struct ScriptExecutor;

#[async_trait::async_trait]
impl Executor for ScriptExecutor {
    async fn execute(
        &self,
        ctx: &Context,
        connection: &Connection,
        _batch_key: &str,
        work: Vec<Work>,
    ) -> Vec<Result<WorkOutput, RemoteError>> {
        let host = connection.host();
        let items: Vec<Option<ScriptWork>> = work.into_iter().map(|w| w.downcast()).collect();
        let mut outcomes: Vec<Option<Result<WorkOutput, RemoteError>>> =
            items.iter().map(|_| None).collect();
        let mut parts: Vec<Vec<usize>> = vec![Vec::new()];
        let mut size = 0usize;
        for (i, item) in items.iter().enumerate() {
            let Some(item) = item else {
                outcomes[i] = Some(Err(RemoteError::new(
                    host.clone(),
                    "a batch item is not a Script's calls",
                )));
                continue;
            };
            let bytes: usize = item.calls.iter().map(|c| c.payload_len(0) + 16).sum();
            if size + bytes > MAX_PAYLOAD_BYTES * 9 / 10 && !parts.last().is_some_and(Vec::is_empty)
            {
                parts.push(Vec::new());
                size = 0;
            }
            parts.last_mut().expect("one part").push(i);
            size += bytes;
        }
        let mut unreachable: Option<RemoteError> = None;
        for part in parts.into_iter().filter(|p| !p.is_empty()) {
            if let Some(e) = &unreachable {
                for i in part {
                    outcomes[i] = Some(Err(e.clone()));
                }
                continue;
            }
            let works: Vec<&ScriptWork> = part
                .iter()
                .map(|&i| items[i].as_ref().expect("valid item"))
                .collect();
            let (script, spans) = write_script(&works);
            let ranges: Vec<(usize, std::ops::Range<usize>)> =
                part.iter().copied().zip(spans).collect();
            if script.calls.is_empty() {
                // Operations with nothing to run (forgetting a site's settings) cost no Script.
                for (i, _) in ranges {
                    outcomes[i] = Some(Ok(Work::new(CallValues(Vec::new()))));
                }
                continue;
            }
            match kit::run(ctx, connection, &script).await {
                Err(e) => {
                    if e.is_unreachable() {
                        unreachable = Some(e.clone());
                    }
                    for (i, _) in ranges {
                        outcomes[i] = Some(Err(e.clone()));
                    }
                }
                Ok(out) => {
                    for (i, range) in ranges {
                        outcomes[i] = Some(values(connection, &script, &out, range));
                    }
                }
            }
        }
        outcomes
            .into_iter()
            .map(|o| o.unwrap_or_else(|| Err(RemoteError::new(host.clone(), "did not run"))))
            .collect()
    }
}

/// One write Script for the operations `works` (they share a target): each operation's calls
/// tagged with its own group (its index), so that a failure skips the rest of that operation
/// only, except [`Call::absent_on_error`] reads, each in a group of its own after the
/// operations' so that their failure skips nothing. Returns the Script and each operation's
/// range of calls in it.
fn write_script(works: &[&ScriptWork]) -> (Script, Vec<std::ops::Range<usize>>) {
    let target = works.first().map_or(Target::Host, |w| w.target.clone());
    let mut script = Script::new(target);
    script.stop_on_error = true;
    let mut ranges = Vec::with_capacity(works.len());
    let mut own_group = works.len();
    for (group, work) in works.iter().enumerate() {
        let start = script.calls.len();
        for c in &work.calls {
            let mut c = c.clone();
            c.group = Some(if c.absent_on_error {
                own_group += 1;
                own_group
            } else {
                group
            });
            script.calls.push(c);
        }
        ranges.push(start..script.calls.len());
    }
    (script, ranges)
}

/// The values of the calls in `range`, or the first failure among them (a failed
/// [`Call::absent_on_error`] read is `null`, not a failure).
fn values(
    connection: &Connection,
    script: &Script,
    out: &ScriptOutput,
    range: std::ops::Range<usize>,
) -> Result<WorkOutput, RemoteError> {
    let mut values = Vec::with_capacity(range.len());
    for id in range {
        match kit::value_of(connection, script, out, id) {
            Ok(v) => values.push(v.clone()),
            Err(_) if script.calls[id].absent_on_error => values.push(Value::Null),
            Err(e) => return Err(e),
        }
    }
    Ok(Work::new(CallValues(values)))
}

/// Runs one operation of a kind that describes its work ([`Kind::describe`]) on its own: the
/// [`Kind::apply`] of such kinds, for runs without the engine's batching.
///
/// # Errors
/// The remote failure, naming host, cmdlet and message.
pub async fn apply_alone(
    kind: &dyn Kind,
    ctx: &Context,
    op: Operation,
) -> Result<Applied, RemoteError> {
    let Some(described) = kind.describe(ctx, &op) else {
        return Err(RemoteError::new(
            op.connection.host(),
            format!("{}: nothing describes this operation", op.address),
        ));
    };
    let d = described?;
    let out = ScriptExecutor
        .execute(ctx, &op.connection, &d.batch_key, vec![d.work])
        .await
        .pop()
        .unwrap_or_else(|| Err(RemoteError::new(op.connection.host(), "did not run")))?;
    kind.finish(ctx, &op, out)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::powershell::CallResult;

    fn gpo_work(name: &str) -> ScriptWork {
        ScriptWork {
            target: Target::DomainController {
                domain: "contoso.com".into(),
            },
            calls: vec![
                Call::new("New-GPO").arg("Name", name),
                Call::new("Get-GPRegistryValue")
                    .arg("Name", name)
                    .arg("Key", "HKLM\\Software\\Microsoft\\SMS\\Mobile Client")
                    .absent_on_error(),
                Call::new("Get-GPO").switch("All"),
            ],
        }
    }

    fn result(id: usize, ok: bool) -> CallResult {
        CallResult {
            id,
            ok,
            value: if ok { json!([{"id": id}]) } else { Value::Null },
            error: (!ok)
                .then(|| "The following Group Policy registry setting was not found".into()),
            category: (!ok).then(|| "ObjectNotFound".into()),
        }
    }

    #[test]
    fn a_read_whose_failure_means_absence_runs_in_a_group_of_its_own() {
        let (a, b) = (gpo_work("A"), gpo_work("B"));
        let (script, ranges) = write_script(&[&a, &b]);
        let groups: Vec<Option<usize>> = script.calls.iter().map(|c| c.group).collect();
        assert_eq!(
            groups,
            [Some(0), Some(3), Some(0), Some(1), Some(4), Some(1)]
        );
        assert_eq!(ranges, [0..3, 3..6]);
        assert!(script.stop_on_error);
    }

    #[test]
    fn its_failure_reads_as_null_while_any_other_failure_fails_the_operation() {
        let connection = Connection {
            key: "dc".into(),
            spec: std::sync::Arc::new(json!({"host": "dc01.contoso.com"})),
        };
        let (a, b) = (gpo_work("A"), gpo_work("B"));
        let (script, _) = write_script(&[&a, &b]);
        // A: the registry read fails (no value under the key); B: New-GPO fails, so its later
        // calls of group 1 are skipped while its registry read still runs.
        let out = ScriptOutput {
            results: vec![
                result(0, true),
                result(1, false),
                result(2, true),
                result(3, false),
                result(4, false),
            ],
        };
        let a = values(&connection, &script, &out, 0..3).unwrap();
        let a = a.downcast::<CallValues>().unwrap().0;
        assert_eq!(a[1], Value::Null);
        assert_eq!(a[2], json!([{"id": 2}]));
        let e = values(&connection, &script, &out, 3..6).unwrap_err();
        assert_eq!(e.operation.as_deref(), Some("New-GPO"));
    }
}
