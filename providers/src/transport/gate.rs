//! Whether a connection has been reached in this run, shared by the Scripts that use it. The
//! first Script on a connection probes it (retrying within the connection's budget); the others
//! wait until it got a shell (then all run at once) or gave up (then all fail at once with its
//! error): one retry loop, one budget and one error per connection, however many kinds read
//! through it in parallel.

use cmdeploy_engine::provider::RemoteError;
use tokio::sync::watch;

/// A connection's state in this run.
#[derive(Debug, Clone)]
enum Reach {
    /// Nobody is trying.
    Unknown,
    /// A Script is trying to reach it.
    Probing,
    /// A shell was created on it.
    Reached,
    /// It could not be used; the error every later Script gets.
    Dead(RemoteError),
}

/// The gate of one connection.
pub struct Gate(watch::Sender<Reach>);

impl Default for Gate {
    fn default() -> Gate {
        Gate(watch::Sender::new(Reach::Unknown))
    }
}

impl Gate {
    /// Waits until a Script may go: at once when the connection was reached, as the prober when
    /// nobody tries it (`Ok(true)`), after the prober when one does.
    ///
    /// # Errors
    /// The connection's error once it was found unreachable.
    pub async fn admit(&self) -> Result<bool, RemoteError> {
        let mut rx = self.0.subscribe();
        loop {
            let state = rx.borrow_and_update().clone();
            match state {
                Reach::Reached => return Ok(false),
                Reach::Dead(e) => return Err(e),
                Reach::Unknown => {
                    let became = self.0.send_if_modified(|r| {
                        let unknown = matches!(r, Reach::Unknown);
                        if unknown {
                            *r = Reach::Probing;
                        }
                        unknown
                    });
                    if became {
                        return Ok(true);
                    }
                }
                Reach::Probing => {
                    if rx.changed().await.is_err() {
                        return Ok(false);
                    }
                }
            }
        }
    }

    /// A shell was created: every waiting Script may go.
    pub fn reached(&self) {
        self.0.send_if_modified(|r| {
            let first = !matches!(r, Reach::Reached | Reach::Dead(_));
            if first {
                *r = Reach::Reached;
            }
            first
        });
    }

    /// The connection used up its budget: this and every later Script fail with `error`.
    pub fn dead(&self, error: RemoteError) {
        self.0.send_replace(Reach::Dead(error));
    }

    /// The prober failed for another reason than the connection: the next Script probes.
    pub fn give_up_probe(&self) {
        self.0.send_if_modified(|r| {
            let probing = matches!(r, Reach::Probing);
            if probing {
                *r = Reach::Unknown;
            }
            probing
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::time::Duration;

    #[tokio::test]
    async fn one_script_probes_and_the_others_follow_its_outcome() {
        let gate = Arc::new(Gate::default());
        assert!(gate.admit().await.unwrap(), "the first Script probes");
        let waiting = {
            let gate = gate.clone();
            tokio::spawn(async move { gate.admit().await })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!waiting.is_finished(), "the others wait for the prober");
        gate.dead(RemoteError::new("cm01", "connect: refused"));
        let e = waiting.await.unwrap().unwrap_err();
        assert_eq!(e.message, "connect: refused");
        assert_eq!(gate.admit().await.unwrap_err().message, "connect: refused");
    }

    #[tokio::test]
    async fn a_reached_connection_admits_everyone_and_a_failed_probe_passes_the_turn() {
        let gate = Gate::default();
        assert!(gate.admit().await.unwrap());
        gate.give_up_probe();
        assert!(gate.admit().await.unwrap(), "the next Script probes");
        gate.reached();
        assert!(!gate.admit().await.unwrap());
        assert!(!gate.admit().await.unwrap());
    }
}
