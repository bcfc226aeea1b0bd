//! Replacing files atomically (a temporary file in the same directory, then a rename), durably
//! or not, and privately (mode 0600 from creation) for keys: state, fingerprint keys, the lab.

use std::io::Write;
use std::path::Path;

/// Writes a file atomically: a temporary file in the same directory, fsync, rename, fsync the
/// directory.
///
/// # Errors
/// Any I/O error; the target is untouched then.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    replace(path, bytes, true, false)
}

/// [`write_atomic`] for a file only its owner may read (mode 0600 on Unix, from creation on, so
/// no other user ever sees it readable): keys.
///
/// # Errors
/// Any I/O error; the target is untouched then.
pub fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    replace(path, bytes, true, true)
}

/// Replaces a file atomically (temporary file, rename) without forcing it to disk: a killed
/// process leaves the old or the new file, never a torn one, but a power loss may lose the last
/// write. For data that is not the source of truth, such as the lab's simulated estate.
///
/// # Errors
/// Any I/O error; the target is untouched then.
pub fn replace_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    replace(path, bytes, false, false)
}

fn replace(path: &Path, bytes: &[u8], durable: bool, private: bool) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let mut tmp = tempfile_in(dir, path, private)?;
    tmp.1.write_all(bytes)?;
    if durable {
        tmp.1.sync_all()?;
    }
    drop(tmp.1);
    std::fs::rename(&tmp.0, path)?;
    if durable {
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
    }
    Ok(())
}

fn tempfile_in(
    dir: &Path,
    target: &Path,
    private: bool,
) -> std::io::Result<(std::path::PathBuf, std::fs::File)> {
    let name = target
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("file");
    for _ in 0..16 {
        let candidate = dir.join(format!(".{name}.{:016x}.tmp", rand::random::<u64>()));
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        if private {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        #[cfg(not(unix))]
        let _ = private;
        match options.open(&candidate) {
            Ok(f) => return Ok((candidate, f)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(std::io::Error::other("cannot create a temporary file"))
}
