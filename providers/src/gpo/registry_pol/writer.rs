//! Writing Registry.pol bytes: the header, then each record as `[key;value;type;size;data]`
//! (configmgr.md §3.5; Microsoft "Registry Policy File Format").

use super::model::{Record, RegistryPol, SIGNATURE, VERSION};
use super::value::utf16z;

fn unit(out: &mut Vec<u8>, c: u8) {
    out.extend_from_slice(&[c, 0]);
}

fn record(out: &mut Vec<u8>, r: &Record) {
    unit(out, b'[');
    out.extend(utf16z(&r.key));
    if let Some(name) = &r.value_name {
        unit(out, b';');
        out.extend(utf16z(name));
        if let Some(t) = r.value_type {
            unit(out, b';');
            out.extend_from_slice(&t.to_le_bytes());
            let size = match &r.data {
                Some(d) => Some(u32::try_from(d.len()).unwrap_or(u32::MAX)),
                None => r.size,
            };
            if let Some(size) = size {
                unit(out, b';');
                out.extend_from_slice(&size.to_le_bytes());
                if let Some(d) = &r.data {
                    unit(out, b';');
                    out.extend_from_slice(d);
                }
            }
        }
    }
    unit(out, b']');
}

/// Serializes a Registry.pol file: `PReg`, version 1, then the records in order.
///
/// For any `b` that [`super::read`] accepts, `write(&read(b)?) == b`.
pub fn write(pol: &RegistryPol) -> Vec<u8> {
    let mut out = Vec::with_capacity(8 + pol.records.len() * 128);
    out.extend_from_slice(&SIGNATURE);
    out.extend_from_slice(&VERSION.to_le_bytes());
    for r in &pol.records {
        record(&mut out, r);
    }
    out
}
