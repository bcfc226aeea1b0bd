//! MIT keytab files (format version 0x0502, as `kadmin ktadd` and `ktutil` write them; MIT krb5
//! `doc/formats/keytab_file_format.rst`): the service keys an acceptor decrypts tickets with.
//!
//! A file is a 16-bit version, then entries, each a 32-bit signed size (negative: a hole to skip)
//! and: component count (16 bits), realm, components (each a 16-bit length and bytes), name type
//! (32 bits), timestamp (32 bits), 8-bit key version, key type (16 bits), key (16-bit length and
//! bytes), and, when the entry has room, a 32-bit key version that replaces the 8-bit one. All
//! integers are big-endian.

use zeroize::Zeroizing;

/// One key of a keytab.
pub struct KeytabEntry {
    /// The principal's name components (`["HTTP", "cm01.contoso.com"]`).
    pub components: Vec<String>,
    /// The realm (`CONTOSO.COM`).
    pub realm: String,
    /// The key version number.
    pub kvno: u32,
    /// The encryption type (18 aes256-cts-hmac-sha1-96, 17 aes128-cts-hmac-sha1-96).
    pub enctype: u16,
    /// The key.
    pub key: Zeroizing<Vec<u8>>,
}

impl KeytabEntry {
    /// The principal as `HTTP/cm01.contoso.com@CONTOSO.COM`.
    pub fn principal(&self) -> String {
        format!("{}@{}", self.components.join("/"), self.realm)
    }
}

impl std::fmt::Debug for KeytabEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeytabEntry")
            .field("principal", &self.principal())
            .field("kvno", &self.kvno)
            .field("enctype", &self.enctype)
            .finish_non_exhaustive()
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let end = self.at.checked_add(n).filter(|&e| e <= self.bytes.len());
        let end = end.ok_or_else(|| format!("truncated at byte {}", self.at))?;
        let out = &self.bytes[self.at..end];
        self.at = end;
        Ok(out)
    }
    fn u16(&mut self) -> Result<u16, String> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }
    fn u32(&mut self) -> Result<u32, String> {
        let b = self.take(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn string(&mut self) -> Result<String, String> {
        let n = self.u16()? as usize;
        String::from_utf8(self.take(n)?.to_vec()).map_err(|_| "a name is not UTF-8".to_string())
    }
}

/// Reads a keytab's entries.
///
/// # Errors
/// A message for another format version or a truncated file.
pub fn parse(bytes: &[u8]) -> Result<Vec<KeytabEntry>, String> {
    let mut r = Reader { bytes, at: 0 };
    let version = r.u16()?;
    if version != 0x0502 {
        return Err(format!(
            "keytab format version {version:#06x} (only 0x0502 is read)"
        ));
    }
    let mut out = Vec::new();
    while r.at < bytes.len() {
        let size = r.u32()? as i32;
        if size < 0 {
            r.take(size.unsigned_abs() as usize)?;
            continue;
        }
        let mut e = Reader {
            bytes: r.take(size as usize)?,
            at: 0,
        };
        let count = e.u16()?;
        let realm = e.string()?;
        let components = (0..count)
            .map(|_| e.string())
            .collect::<Result<Vec<_>, _>>()?;
        let _name_type = e.u32()?;
        let _timestamp = e.u32()?;
        let kvno8 = e.take(1)?[0];
        let enctype = e.u16()?;
        let n = e.u16()? as usize;
        let key = Zeroizing::new(e.take(n)?.to_vec());
        let kvno = if e.bytes.len() - e.at >= 4 {
            e.u32()?
        } else {
            u32::from(kvno8)
        };
        out.push(KeytabEntry {
            components,
            realm,
            kvno,
            enctype,
            key,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(components: &[&str], realm: &str, kvno: u8, enctype: u16, key: &[u8]) -> Vec<u8> {
        let mut e = Vec::new();
        let s = |e: &mut Vec<u8>, v: &str| {
            e.extend_from_slice(&(v.len() as u16).to_be_bytes());
            e.extend_from_slice(v.as_bytes());
        };
        e.extend_from_slice(&(components.len() as u16).to_be_bytes());
        s(&mut e, realm);
        for c in components {
            s(&mut e, c);
        }
        e.extend_from_slice(&1u32.to_be_bytes());
        e.extend_from_slice(&0u32.to_be_bytes());
        e.push(kvno);
        e.extend_from_slice(&enctype.to_be_bytes());
        e.extend_from_slice(&(key.len() as u16).to_be_bytes());
        e.extend_from_slice(key);
        let mut out = (e.len() as u32).to_be_bytes().to_vec();
        out.extend_from_slice(&e);
        out
    }

    #[test]
    fn reads_entries_and_skips_holes() {
        let mut file = vec![0x05, 0x02];
        file.extend(entry(
            &["HTTP", "cm01.contoso.com"],
            "CONTOSO.COM",
            2,
            18,
            &[7; 32],
        ));
        file.extend_from_slice(&(-3i32).to_be_bytes());
        file.extend_from_slice(&[0, 0, 0]);
        file.extend(entry(
            &["HTTP", "dc01.contoso.com"],
            "CONTOSO.COM",
            3,
            17,
            &[9; 16],
        ));
        let entries = parse(&file).unwrap();
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].principal(), "HTTP/cm01.contoso.com@CONTOSO.COM");
        assert_eq!((entries[0].kvno, entries[0].enctype), (2, 18));
        assert_eq!(entries[1].key.as_slice(), &[9; 16]);
        assert!(
            !format!("{:?}", entries[0]).contains("7, 7"),
            "keys are never printed"
        );
    }

    #[test]
    fn refuses_other_versions_and_truncation() {
        assert!(parse(&[0x05, 0x01]).is_err());
        let mut file = vec![0x05, 0x02];
        file.extend(entry(&["HTTP", "x"], "R", 1, 18, &[1; 32]));
        file.truncate(file.len() - 5);
        assert!(parse(&file).is_err());
    }
}
