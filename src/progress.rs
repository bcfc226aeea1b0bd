//! Refresh progress on a terminal: one line for the whole refresh (resources read / total) and
//! one per connection being read (its resources read / total, the kind in flight), drawn with
//! indicatif on stderr and cleared when the refresh ends. Nothing is drawn when stderr is not a
//! terminal, for machine-readable output (`--json`, drift's json, markdown and junit), or when
//! logs go to stderr.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cmdeploy_engine::refresh::RefreshObserver;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::output::Output;

/// How often the spinners move while a slow connection answers.
const TICK: Duration = Duration::from_millis(120);

/// The refresh progress display.
pub struct RefreshProgress {
    multi: MultiProgress,
    overall: ProgressBar,
    connections: Mutex<Connections>,
}

#[derive(Default)]
struct Connections {
    /// Resources to read per connection.
    totals: BTreeMap<String, usize>,
    /// Resources read per connection.
    done: HashMap<String, usize>,
    /// The bars of connections with a batch in flight, and how many batches each has.
    shown: HashMap<String, (ProgressBar, usize)>,
}

/// A refresh observer for `out`: the display on an interactive terminal when `wanted`, else
/// `None` (the refresh then reports to nobody).
pub fn refresh(out: Output, wanted: bool) -> Option<Arc<RefreshProgress>> {
    (wanted && out.interactive)
        .then(|| Arc::new(RefreshProgress::new(ProgressDrawTarget::stderr())))
}

fn style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template)
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ")
}

impl RefreshProgress {
    fn new(target: ProgressDrawTarget) -> RefreshProgress {
        let multi = MultiProgress::with_draw_target(target);
        // Drawn from `planned` on, once the total is known.
        let overall = ProgressBar::hidden();
        overall.set_style(style(
            "{spinner} Reading the estate [{bar:30}] {pos}/{len} resources {msg}",
        ));
        RefreshProgress {
            multi,
            overall,
            connections: Mutex::new(Connections::default()),
        }
    }

    /// Clears the display.
    pub fn finish(&self) {
        if let Ok(mut c) = self.connections.lock() {
            for (_, (bar, _)) in c.shown.drain() {
                bar.finish_and_clear();
            }
        }
        self.overall.finish_and_clear();
        let _ = self.multi.clear();
    }
}

impl Drop for RefreshProgress {
    fn drop(&mut self) {
        self.finish();
    }
}

impl RefreshObserver for RefreshProgress {
    fn planned(&self, per_connection: &[(String, usize)]) {
        let total: usize = per_connection.iter().map(|(_, n)| n).sum();
        self.overall.set_length(total as u64);
        self.multi.add(self.overall.clone());
        self.overall.enable_steady_tick(TICK);
        self.overall
            .set_message(format!("through {} connection(s)", per_connection.len()));
        if let Ok(mut c) = self.connections.lock() {
            c.totals = per_connection.iter().cloned().collect();
        }
    }

    fn batch_started(&self, connection: &str, kind: &str, _resources: usize) {
        let Ok(mut c) = self.connections.lock() else {
            return;
        };
        let total = c.totals.get(connection).copied().unwrap_or(0) as u64;
        let done = c.done.get(connection).copied().unwrap_or(0) as u64;
        let entry = c.shown.entry(connection.to_string()).or_insert_with(|| {
            let bar = self.multi.add(ProgressBar::new(total));
            bar.set_style(style(
                "  {spinner} {prefix:<24} [{bar:20}] {pos}/{len} {msg}",
            ));
            bar.set_prefix(connection.to_string());
            bar.set_position(done);
            bar.enable_steady_tick(TICK);
            (bar, 0)
        });
        entry.1 += 1;
        entry.0.set_message(kind.to_string());
    }

    fn batch_finished(&self, connection: &str, _kind: &str, resources: usize) {
        self.overall.inc(resources as u64);
        let Ok(mut c) = self.connections.lock() else {
            return;
        };
        *c.done.entry(connection.to_string()).or_default() += resources;
        let idle = match c.shown.get_mut(connection) {
            Some((bar, in_flight)) => {
                bar.inc(resources as u64);
                *in_flight = in_flight.saturating_sub(1);
                *in_flight == 0
            }
            None => false,
        };
        if idle {
            if let Some((bar, _)) = c.shown.remove(connection) {
                bar.finish_and_clear();
                self.multi.remove(&bar);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connections_are_shown_while_read_and_counted_overall() {
        let p = RefreshProgress::new(ProgressDrawTarget::hidden());
        p.planned(&[("cm01".into(), 5), ("dc01".into(), 2)]);
        assert_eq!(p.overall.length(), Some(7));
        p.batch_started("cm01", "boundary", 3);
        p.batch_started("cm01", "account", 2);
        p.batch_started("dc01", "gpo", 2);
        p.batch_finished("cm01", "boundary", 3);
        {
            let c = p.connections.lock().unwrap();
            assert_eq!(c.shown["cm01"].0.position(), 3);
            assert_eq!(c.shown["cm01"].0.length(), Some(5));
            assert_eq!(c.shown.len(), 2);
        }
        p.batch_finished("cm01", "account", 2);
        p.batch_finished("dc01", "gpo", 2);
        assert_eq!(p.overall.position(), 7);
        assert!(p.connections.lock().unwrap().shown.is_empty());
    }
}
