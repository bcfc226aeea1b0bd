//! IP rules shared by the boundary kind and the lab: subnet IDs, classful supernets, ranges.
//!
//! ConfigMgr stores only the subnet ID of an IP-subnet boundary and refuses supernets (a prefix
//! shorter than the address's classful mask), which must be IP-range boundaries instead
//! (configmgr.md §2.2, §6 rule 5).

use std::net::Ipv4Addr;

use ipnet::Ipv4Net;

/// Classful prefix length of an address: 8 (class A), 16 (B), 24 (C), 32 otherwise.
pub fn classful_prefix(addr: Ipv4Addr) -> u8 {
    match addr.octets()[0] {
        0..=127 => 8,
        128..=191 => 16,
        192..=223 => 24,
        _ => 32,
    }
}

/// Outcome of reading an IP-subnet boundary value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subnet {
    /// The subnet ID ConfigMgr stores, e.g. `10.1.0.0` for `10.1.0.0/16`.
    Id(String),
    /// A supernet: refused; suggest this IP range (`start-end`) instead.
    Supernet {
        /// The equivalent IP range value.
        range: String,
    },
}

/// Parses `a.b.c.d/len` (or a bare subnet ID) into the subnet ID ConfigMgr stores.
///
/// # Errors
/// A message when the text is neither a CIDR nor an IPv4 address.
pub fn subnet(value: &str) -> Result<Subnet, String> {
    let value = value.trim();
    if let Ok(addr) = value.parse::<Ipv4Addr>() {
        return Ok(Subnet::Id(addr.to_string()));
    }
    let net: Ipv4Net = value.parse().map_err(|_| {
        format!("`{value}` is not an IPv4 subnet (expected a.b.c.d/len, e.g. 10.1.0.0/16)")
    })?;
    if net.prefix_len() < classful_prefix(net.network()) {
        return Ok(Subnet::Supernet {
            range: format!("{}-{}", net.network(), net.broadcast()),
        });
    }
    Ok(Subnet::Id(net.network().to_string()))
}

/// Parses an IP range `start-end`.
///
/// # Errors
/// A message when it is not two IPv4 addresses with start ≤ end.
pub fn range(value: &str) -> Result<(Ipv4Addr, Ipv4Addr), String> {
    let (a, b) = value
        .split_once('-')
        .ok_or_else(|| format!("`{value}` is not an IP range (expected start-end)"))?;
    let a: Ipv4Addr = a
        .trim()
        .parse()
        .map_err(|_| format!("`{a}` is not an IPv4 address"))?;
    let b: Ipv4Addr = b
        .trim()
        .parse()
        .map_err(|_| format!("`{b}` is not an IPv4 address"))?;
    if u32::from(a) > u32::from(b) {
        return Err(format!("range start {a} is after its end {b}"));
    }
    Ok((a, b))
}

/// Parses a host address `a.b.c.d/len` (or bare, taken as its classful prefix).
pub fn host_net(value: &str) -> Option<Ipv4Net> {
    if let Ok(n) = value.parse::<Ipv4Net>() {
        return Some(n);
    }
    let a: Ipv4Addr = value.parse().ok()?;
    Ipv4Net::new(a, classful_prefix(a)).ok()
}

/// The widest block an IP-subnet boundary's stored subnet ID allows, as an inclusive interval:
/// ConfigMgr keeps only the ID (`10.1.4.0`), not the mask, so the block is the ID's trailing
/// zero bits, never wider than its classful network (`10.1.4.0` → `10.1.4.0/22`, `10.1.0.0` →
/// `10.1.0.0/16`, `192.168.1.0` → `/24`). `None` when the text is not an IPv4 address.
pub fn subnet_id_block(id: &str) -> Option<(u32, u32)> {
    let a: Ipv4Addr = id.trim().parse().ok()?;
    let n = u32::from(a);
    let zeros = u8::try_from(n.trailing_zeros().min(32)).unwrap_or(32);
    let prefix = (32 - zeros).max(classful_prefix(a));
    let net = Ipv4Net::new(a, prefix).ok()?;
    Some((u32::from(net.network()), u32::from(net.broadcast())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subnet_id_blocks_are_the_widest_the_id_allows() {
        let block = |id| {
            subnet_id_block(id).map(|(a, b)| format!("{}-{}", Ipv4Addr::from(a), Ipv4Addr::from(b)))
        };
        assert_eq!(block("10.1.4.0").unwrap(), "10.1.4.0-10.1.7.255");
        assert_eq!(block("10.1.0.0").unwrap(), "10.1.0.0-10.1.255.255");
        assert_eq!(block("192.168.1.0").unwrap(), "192.168.1.0-192.168.1.255");
        assert_eq!(block("10.1.4.1").unwrap(), "10.1.4.1-10.1.4.1");
        assert!(block("nonsense").is_none());
    }

    #[test]
    fn subnet_ids_and_supernets() {
        assert_eq!(
            subnet("10.1.0.0/16").unwrap(),
            Subnet::Id("10.1.0.0".into())
        );
        assert_eq!(
            subnet("10.1.7.9/16").unwrap(),
            Subnet::Id("10.1.0.0".into())
        );
        assert_eq!(
            subnet("192.168.10.0/24").unwrap(),
            Subnet::Id("192.168.10.0".into())
        );
        assert_eq!(
            subnet("192.168.0.0/16").unwrap(),
            Subnet::Supernet {
                range: "192.168.0.0-192.168.255.255".into()
            }
        );
        assert!(subnet("nonsense").is_err());
    }

    #[test]
    fn ranges() {
        assert!(range("10.0.0.1-10.0.0.9").is_ok());
        assert!(range("10.0.0.9-10.0.0.1").is_err());
    }
}
