//! Host lookup by name for the lab's estate: 40,000 hosts, one lookup per Script or per name of
//! a `Get-CMDevice -Name` batch.

use super::model::{host_matches, short, Host};

/// Positions of hosts by lower-case FQDN and short name, so that a Script for one of 40,000 hosts
/// does not scan them all. Every hit is verified against the host list and a stale hit rebuilds
/// the index; the index is also rebuilt whenever the number of hosts changed. Hosts are only ever
/// appended and a host's FQDN is never changed in place, so a miss against an index of the
/// current length is a true miss (and costs no rebuild: a plan that names 38,000 hosts the lab
/// does not know stays linear).
#[derive(Debug, Default)]
pub struct HostIndex(std::sync::Mutex<IndexState>);

#[derive(Debug, Default)]
struct IndexState {
    /// `hosts.len()` when the map was built.
    built_for: usize,
    /// Lower-case FQDN or short name → positions, ascending.
    map: std::collections::HashMap<String, Vec<usize>>,
}

impl IndexState {
    fn rebuild(&mut self, hosts: &[Host]) {
        self.map.clear();
        for (i, h) in hosts.iter().enumerate() {
            let fqdn = h.fqdn.to_ascii_lowercase();
            let short_name = short(&fqdn).to_string();
            if short_name != fqdn {
                self.map.entry(short_name).or_default().push(i);
            }
            self.map.entry(fqdn).or_default().push(i);
        }
        self.built_for = hosts.len();
    }

    fn hits(&self, hosts: &[Host], key: &str, name: &str) -> Option<Vec<usize>> {
        let hits = self.map.get(key).cloned().unwrap_or_default();
        hits.iter()
            .all(|&i| hosts.get(i).is_some_and(|h| host_matches(h, name)))
            .then_some(hits)
    }
}

impl Clone for HostIndex {
    fn clone(&self) -> Self {
        HostIndex::default()
    }
}

impl HostIndex {
    /// The positions of every host named `name` (FQDN or short name, case-insensitive), in
    /// host-list order.
    pub fn find_all(&self, hosts: &[Host], name: &str) -> Vec<usize> {
        let key = name.to_ascii_lowercase();
        let mut state = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if state.built_for != hosts.len() || state.map.is_empty() {
            state.rebuild(hosts);
        }
        if let Some(hits) = state.hits(hosts, &key, name) {
            return hits;
        }
        state.rebuild(hosts);
        state.hits(hosts, &key, name).unwrap_or_default()
    }

    /// The position of the first host named `name` (FQDN or short name, case-insensitive).
    pub(super) fn find(&self, hosts: &[Host], name: &str) -> Option<usize> {
        self.find_all(hosts, name).first().copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(fqdn: &str) -> Host {
        Host {
            fqdn: fqdn.into(),
            ..Host::default()
        }
    }

    #[test]
    fn every_host_of_a_name_is_found_in_order_and_appends_are_seen() {
        let mut hosts = vec![
            host("ws1.contoso.com"),
            host("ws1.fabrikam.com"),
            host("ws2"),
        ];
        let index = HostIndex::default();
        assert_eq!(index.find_all(&hosts, "WS1"), vec![0, 1]);
        assert_eq!(index.find_all(&hosts, "ws1.fabrikam.com"), vec![1]);
        assert_eq!(index.find_all(&hosts, "ws3"), Vec::<usize>::new());
        hosts.push(host("ws3.contoso.com"));
        assert_eq!(index.find_all(&hosts, "ws3"), vec![3]);
        assert_eq!(index.find(&hosts, "WS3.CONTOSO.COM"), Some(3));
    }

    #[test]
    fn a_stale_hit_is_never_returned() {
        let mut hosts = vec![host("a.contoso.com"), host("b.contoso.com")];
        let index = HostIndex::default();
        assert_eq!(index.find(&hosts, "b"), Some(1));
        hosts.swap(0, 1);
        assert_eq!(index.find(&hosts, "b"), Some(0));
    }
}
