//! Files and directories made durable before the product relies on them.
//!
//! A file's `fsync` makes its bytes durable, not its name: the directory entry that points
//! at it is the directory's data, and only a sync of the directory keeps it through a power
//! loss (POSIX promises nothing more, and file systems without ext4's ordering take it away).
//! Every file or directory Registre creates and later relies on (the key files, the data
//! dir, the outbox, backups, a restore's files) is created through this module: the bytes
//! written and synced, then the directory that names them synced, and for a new directory
//! the directory above it too. These syncs happen once, at creation, never per write.
//!
//! It lives in the leaf crate so that the binary and the application crates share one way.
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Syncs a directory: what it names (created, renamed, removed) survives a power loss.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// The directory that holds `path` (`.` for a bare file name).
fn parent_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Creates a new file (refusing one that exists), private to its owner on Unix (mode 0600),
/// for the caller to fill; [`finish`] then makes it durable.
pub fn create_new_private(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}

/// Makes a file created at `path` durable: its bytes synced, then its directory.
pub fn finish(file: &File, path: &Path) -> io::Result<()> {
    file.sync_all()?;
    sync_dir(&parent_of(path))
}

/// Makes a file written by someone else (a writer that could not be handed a [`File`])
/// durable: its bytes synced, then its directory.
pub fn sync_file(path: &Path) -> io::Result<()> {
    finish(&File::open(path)?, path)
}

/// Creates `path` (never over an existing file) holding `bytes`, mode 0600, durably.
pub fn create_private(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut file = create_new_private(path)?;
    file.write_all(bytes)?;
    finish(&file, path)
}

/// Appends `bytes` to the file at `path` (created mode 0600 with its directory synced when
/// new) and syncs it before returning. A line left unfinished by a crash is ended first, so
/// each append starts a line of its own.
pub fn append(path: &Path, bytes: &[u8]) -> io::Result<()> {
    use std::io::{Read, Seek, SeekFrom};
    let mut options = OpenOptions::new();
    options.read(true).append(true).create(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    let length = file.metadata()?.len();
    let mut text = Vec::with_capacity(bytes.len() + 1);
    if length > 0 {
        let mut last = [0u8; 1];
        file.seek(SeekFrom::Start(length - 1))?;
        file.read_exact(&mut last)?;
        if last[0] != b'\n' {
            text.push(b'\n');
        }
    }
    text.extend_from_slice(bytes);
    // One write: appends of other processes land before or after it, never inside.
    file.write_all(&text)?;
    if length == 0 {
        finish(&file, path)
    } else {
        file.sync_data()
    }
}

/// Renames `from` over `to` and syncs the directory (or both directories) that changed.
/// With `from` synced before, a reader after a power loss sees the old file or the new one.
pub fn rename(from: &Path, to: &Path) -> io::Result<()> {
    std::fs::rename(from, to)?;
    let (from_dir, to_dir) = (parent_of(from), parent_of(to));
    sync_dir(&to_dir)?;
    if from_dir != to_dir {
        sync_dir(&from_dir)?;
    }
    Ok(())
}

/// Creates `dir` and any missing parents, like `create_dir_all`, each new directory private
/// to its owner on Unix (mode 0700) when `private`, and durable: every directory this call
/// creates is synced, and so is the directory that names it. Nothing is synced when `dir`
/// already exists.
pub fn create_dir_all(dir: &Path, private: bool) -> io::Result<()> {
    let mut missing = Vec::new();
    let mut cursor = Some(dir);
    while let Some(current) = cursor.filter(|c| !c.as_os_str().is_empty()) {
        if current.is_dir() {
            break;
        }
        missing.push(current.to_path_buf());
        cursor = current.parent();
    }
    for current in missing.iter().rev() {
        let mut builder = std::fs::DirBuilder::new();
        #[cfg(unix)]
        if private {
            use std::os::unix::fs::DirBuilderExt;
            builder.mode(0o700);
        }
        #[cfg(not(unix))]
        let _ = private;
        match builder.create(current) {
            Ok(()) => {}
            // Someone else created it a moment ago: they make it durable.
            Err(error) if error.kind() == io::ErrorKind::AlreadyExists && current.is_dir() => {
                continue;
            }
            Err(error) => return Err(error),
        }
        sync_dir(current)?;
        sync_dir(&parent_of(current))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_private_file_is_created_once_with_its_bytes() {
        let dir = tempfile_dir();
        let path = dir.join("secret.key");
        create_private(&path, b"abc").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"abc");
        assert_eq!(
            create_private(&path, b"other").unwrap_err().kind(),
            io::ErrorKind::AlreadyExists
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn missing_directories_are_created_down_to_the_last() {
        let dir = tempfile_dir();
        let deep = dir.join("a").join("b").join("c");
        create_dir_all(&deep, true).unwrap();
        assert!(deep.is_dir());
        create_dir_all(&deep, true).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.join("a"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o700);
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    fn tempfile_dir() -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "registre-durable-{}-{}",
            std::process::id(),
            rand::random::<u64>()
        ));
        std::fs::create_dir(&dir).unwrap();
        dir
    }
}
