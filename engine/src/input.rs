//! Reading files a manifest names, bounded. A manifest (or a pull request changing one) can name
//! `/dev/zero`, a FIFO, or a symbolic link to either, as a hosts file, a secret file or a manifest
//! itself; git stores symbolic links. Reading such a file would never end or would fill memory, so
//! only regular files are read, and only up to a limit.

use std::io::Read;
use std::path::Path;

/// Largest manifest file read: 256 MiB (a 100,000-resource project is about 15 MB).
pub const MAX_MANIFEST_BYTES: u64 = 256 * 1024 * 1024;
/// Largest `hosts_file` read: 64 MiB (a million hosts with a few columns).
pub const MAX_HOSTS_FILE_BYTES: u64 = 64 * 1024 * 1024;
/// Largest secret file read: 64 KiB (a password, a key or a certificate).
pub const MAX_SECRET_FILE_BYTES: u64 = 64 * 1024;

/// Reads `path` as UTF-8 text when it is a regular file (symbolic links followed) of at most
/// `limit` bytes.
///
/// # Errors
/// `InvalidInput` for anything but a regular file or a file over `limit` (the message says
/// which), `InvalidData` for text that is not UTF-8, and any I/O error.
pub fn read_text(path: &Path, limit: u64) -> std::io::Result<String> {
    let meta = std::fs::metadata(path)?;
    if !meta.is_file() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "not a regular file (a device, a pipe or a folder cannot be read as input)",
        ));
    }
    let too_big = || {
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("larger than the {limit} bytes cmdeploy reads from such a file"),
        )
    };
    if meta.len() > limit {
        return Err(too_big());
    }
    let mut text = String::new();
    // `take` also bounds a file that grows while it is read.
    std::fs::File::open(path)?
        .take(limit + 1)
        .read_to_string(&mut text)?;
    if text.len() as u64 > limit {
        return Err(too_big());
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_folders_and_large_files_are_refused() {
        assert!(read_text(Path::new("/dev/zero"), 10).is_err());
        let dir = tempfile::tempdir().unwrap();
        assert!(read_text(dir.path(), 10).is_err());
        let f = dir.path().join("f");
        std::fs::write(&f, "0123456789x").unwrap();
        assert!(read_text(&f, 10).is_err());
        assert_eq!(read_text(&f, 11).unwrap(), "0123456789x");
    }
}
