//! Writing files so that a crash never leaves half of one: [`atomic_write`] is the one way the
//! project replaces a file (config, settings, stores, workspace files, transcripts rewritten
//! whole).
//!
//! The bytes go to a fresh temporary file in the target's own directory (a unique name, so two
//! writers never share one), are flushed to disk, and the temporary file is renamed over the
//! target; then the directory is flushed so the rename itself survives a power cut. A reader sees
//! the old file or the new one, never a mix. [`Permissions::Private`] creates the file owner-only
//! (0600 on Unix) from the first byte, for anything that holds a secret.

use std::io::Write;
use std::path::Path;

/// Who may read the written file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Permissions {
    /// The process's umask decides (0644 usually); an existing file keeps nothing of its own.
    #[default]
    Default,
    /// Owner-only (0600 on Unix): tokens, keys, config with secrets.
    Private,
}

/// Replaces `path` with `bytes` atomically (see the module docs), creating missing parent
/// directories. On error the target is untouched and the temporary file is removed.
pub fn atomic_write(path: &Path, bytes: &[u8], permissions: Permissions) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "file".into());
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".tmp")
        .tempfile_in(dir)?;
    // tempfile creates files 0600 on Unix; widen to the umask's default unless private.
    #[cfg(unix)]
    if permissions == Permissions::Default {
        use std::os::unix::fs::PermissionsExt;
        let mode = 0o666 & !current_umask();
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(mode))?;
    }
    #[cfg(not(unix))]
    let _ = permissions;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    sync_dir(dir);
    Ok(())
}

/// Creates `dir` and its missing parents owner-only (0700 on Unix), as state directories must
/// be; an existing directory is left as it is.
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    if dir.as_os_str().is_empty() || dir.is_dir() {
        return Ok(());
    }
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// Flushes a directory's entries (after a rename or create). Best effort: some filesystems
/// refuse to open or sync a directory, and the data itself is already on disk.
pub fn sync_dir(dir: &Path) {
    #[cfg(unix)]
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    #[cfg(not(unix))]
    let _ = dir;
}

/// Keeps the current content of `path` under `<path>.<tag>.<ms>` (plus `-<n>` if that exists):
/// a name never used before, so no earlier copy is ever replaced. The file itself stays where
/// it is (a hard link; a copy where links are not supported), ready to be replaced by
/// [`atomic_write`] or removed. Returns the new name.
pub fn keep_aside(path: &Path, tag: &str) -> std::io::Result<std::path::PathBuf> {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0);
    for n in 0..10_000u32 {
        let suffix = if n == 0 {
            format!(".{tag}.{ms}")
        } else {
            format!(".{tag}.{ms}-{n}")
        };
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        let target = std::path::PathBuf::from(name);
        let linked = match std::fs::hard_link(path, &target) {
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(e),
            Err(_) => copy_new(path, &target),
            Ok(()) => Ok(()),
        };
        match linked {
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
            Ok(()) => {
                if let Some(dir) = target.parent() {
                    sync_dir(dir);
                }
                return Ok(target);
            }
        }
    }
    Err(std::io::Error::other(format!(
        "no free name to keep {} aside",
        path.display()
    )))
}

/// Copies `from` to a file that must not exist yet, flushed to disk.
fn copy_new(from: &Path, to: &Path) -> std::io::Result<()> {
    let mut src = std::fs::File::open(from)?;
    let mut dst = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(to)?;
    std::io::copy(&mut src, &mut dst)?;
    dst.sync_all()
}

/// The process's umask, read without changing it for other threads for longer than the call.
#[cfg(unix)]
fn current_umask() -> u32 {
    // /proc/self/status has "Umask:\t0022" on Linux; elsewhere fall back to the usual 022.
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Umask:"))
                .and_then(|v| u32::from_str_radix(v.trim(), 8).ok())
        })
        .unwrap_or(0o022)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_the_file_and_leaves_no_temporary_behind() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub").join("a.json");
        atomic_write(&path, b"one", Permissions::Default).unwrap();
        atomic_write(&path, b"two", Permissions::Default).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        let names: Vec<_> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, vec!["a.json".to_string()]);
    }

    #[cfg(unix)]
    #[test]
    fn private_files_are_owner_only_and_default_ones_follow_the_umask() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let secret = dir.path().join("token");
        atomic_write(&secret, b"s", Permissions::Private).unwrap();
        let mode = std::fs::metadata(&secret).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let open = dir.path().join("open");
        atomic_write(&open, b"o", Permissions::Default).unwrap();
        let mode = std::fs::metadata(&open).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o666 & !current_umask());
    }

    #[test]
    fn concurrent_writers_never_tear_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("shared.txt");
        let a = vec![b'a'; 1 << 16];
        let b = vec![b'b'; 1 << 16];
        std::thread::scope(|s| {
            for bytes in [&a, &b] {
                let path = &path;
                s.spawn(move || {
                    for _ in 0..50 {
                        atomic_write(path, bytes, Permissions::Default).unwrap();
                    }
                });
            }
        });
        let got = std::fs::read(&path).unwrap();
        assert!(got == a || got == b, "a torn file of {} bytes", got.len());
    }
}
