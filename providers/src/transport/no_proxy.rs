//! Keeping the loopback relays off proxies. winrm-rs's HTTP client (reqwest) sends every request
//! through the proxy that `HTTP_PROXY`, `HTTPS_PROXY` or `ALL_PROXY` names unless `NO_PROXY`
//! excludes the host, and nothing excludes loopback by default (hyper-util
//! `client/proxy/matcher.rs`: curl's rules). The requests winrm-rs sends to a relay
//! ([`super::relay`]) are plain HTTP with the Script in the clear — account passwords included —
//! so a proxy named in a CI runner's environment would receive them. winrm-rs 1.1.2 has no
//! per-client "no proxy" setting, so the program extends `NO_PROXY` with the relay's addresses
//! before anything starts.

/// Where the relays listen.
const LOOPBACK: [&str; 3] = ["127.0.0.1", "::1", "localhost"];

/// The proxy variables reqwest reads.
const PROXY_VARIABLES: [&str; 6] = [
    "HTTP_PROXY",
    "http_proxy",
    "HTTPS_PROXY",
    "https_proxy",
    "ALL_PROXY",
    "all_proxy",
];

/// The `NO_PROXY` value that keeps the relays off any proxy the environment names (what
/// `NO_PROXY`, else `no_proxy`, holds, with the loopback addresses it lacks added), or `None`
/// when no proxy variable is set or the loopback addresses are excluded already. `var` reads
/// one environment variable.
pub fn no_proxy_for_relays(var: impl Fn(&str) -> Option<String>) -> Option<String> {
    let set = |name: &str| var(name).is_some_and(|v| !v.trim().is_empty());
    if !PROXY_VARIABLES.iter().any(|v| set(v)) {
        return None;
    }
    let current = var("NO_PROXY")
        .or_else(|| var("no_proxy"))
        .unwrap_or_default();
    let listed: Vec<&str> = current
        .split(',')
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .collect();
    if listed.contains(&"*") {
        return None;
    }
    let missing: Vec<&str> = LOOPBACK
        .iter()
        .copied()
        .filter(|h| !listed.iter().any(|l| l.eq_ignore_ascii_case(h)))
        .collect();
    if missing.is_empty() {
        return None;
    }
    Some(
        listed
            .into_iter()
            .chain(missing)
            .collect::<Vec<_>>()
            .join(","),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn without_a_proxy_nothing_changes() {
        assert_eq!(no_proxy_for_relays(env(&[])), None);
        assert_eq!(
            no_proxy_for_relays(env(&[("NO_PROXY", "corp.local")])),
            None
        );
    }

    #[test]
    fn a_proxy_gets_the_loopback_addresses_added_to_what_no_proxy_holds() {
        assert_eq!(
            no_proxy_for_relays(env(&[("https_proxy", "http://proxy:3128")])).as_deref(),
            Some("127.0.0.1,::1,localhost")
        );
        assert_eq!(
            no_proxy_for_relays(env(&[
                ("ALL_PROXY", "socks5://proxy:1080"),
                ("no_proxy", "corp.local, 127.0.0.1")
            ]))
            .as_deref(),
            Some("corp.local,127.0.0.1,::1,localhost")
        );
        assert_eq!(
            no_proxy_for_relays(env(&[
                ("HTTP_PROXY", "http://proxy:3128"),
                ("NO_PROXY", "127.0.0.1,::1,LOCALHOST")
            ])),
            None
        );
        assert_eq!(
            no_proxy_for_relays(env(&[("HTTP_PROXY", "http://p:1"), ("NO_PROXY", "*")])),
            None
        );
    }
}
