//! Atomic, durable files: written to a temporary sibling, synced, renamed into place, and the
//! directory synced, so that after a crash or power cut a file is either absent, its old
//! version, or complete, and a rename that returned is not lost.
//!
//! Written by hand rather than with `atomic-write-file` because the steps go through a small
//! [`FsOps`] trait whose order a test records; the crate does the same four steps.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The file-system steps of an atomic write.
pub trait FsOps {
    /// Creates (truncates) a file for writing.
    fn create(&mut self, path: &Path) -> std::io::Result<File>;
    /// Flushes a file's data and metadata to the device (`fsync`).
    fn sync(&mut self, file: &File, path: &Path) -> std::io::Result<()>;
    /// Renames `from` to `to` (atomic within a file system).
    fn rename(&mut self, from: &Path, to: &Path) -> std::io::Result<()>;
    /// Syncs a directory, making the renames inside it durable.
    fn sync_dir(&mut self, dir: &Path) -> std::io::Result<()>;
}

/// The real file system.
#[derive(Debug, Clone, Copy, Default)]
pub struct RealFs;

impl FsOps for RealFs {
    fn create(&mut self, path: &Path) -> std::io::Result<File> {
        File::create(path)
    }
    fn sync(&mut self, file: &File, _: &Path) -> std::io::Result<()> {
        file.sync_all()
    }
    fn rename(&mut self, from: &Path, to: &Path) -> std::io::Result<()> {
        std::fs::rename(from, to)
    }
    fn sync_dir(&mut self, dir: &Path) -> std::io::Result<()> {
        sync_dir(dir)
    }
}

/// fsync of a directory (a no-op where directories cannot be opened as files).
pub fn sync_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        File::open(dir)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}

/// The temporary name of `path` while it is written by this process: `.<name>.tmp-<pid>`.
pub fn temporary_name(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.tmp-{}", std::process::id()))
}

/// Whether a file name is one of our temporaries (`.<name>.tmp-<digits>`).
pub fn is_temporary_name(name: &str) -> bool {
    name.starts_with('.')
        && name
            .rsplit_once(".tmp-")
            .is_some_and(|(_, pid)| !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit()))
}

/// Removes our temporaries left in `dir` by a killed process. Call it only while holding the
/// directory's exclusive lock, so that no live writer owns them.
pub fn remove_stale_temporaries(dir: &Path) -> usize {
    let mut removed = 0;
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let is_file = e.file_type().is_ok_and(|t| t.is_file());
            if is_file
                && is_temporary_name(&e.file_name().to_string_lossy())
                && std::fs::remove_file(e.path()).is_ok()
            {
                removed += 1;
            }
        }
    }
    removed
}

/// A file written under a temporary name and renamed into place by [`AtomicFile::commit`];
/// dropped without a commit, the temporary is removed.
pub struct AtomicFile<O: FsOps = RealFs> {
    file: Option<std::io::BufWriter<File>>,
    tmp: PathBuf,
    path: PathBuf,
    ops: O,
}

impl AtomicFile<RealFs> {
    /// Starts writing `path`.
    pub fn create(path: &Path) -> std::io::Result<Self> {
        Self::create_with(path, RealFs)
    }
}

impl<O: FsOps> AtomicFile<O> {
    /// Starts writing `path` through `ops`.
    pub fn create_with(path: &Path, mut ops: O) -> std::io::Result<Self> {
        let tmp = temporary_name(path);
        let file = ops.create(&tmp)?;
        Ok(Self {
            file: Some(std::io::BufWriter::new(file)),
            tmp,
            path: path.to_path_buf(),
            ops,
        })
    }

    /// Appends bytes.
    pub fn write_all(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.file
            .as_mut()
            .expect("open until commit")
            .write_all(bytes)
    }

    /// Write, fsync, rename, fsync of the directory; returns the final path.
    pub fn commit(mut self) -> std::io::Result<PathBuf> {
        let file = self
            .file
            .take()
            .expect("open until commit")
            .into_inner()
            .map_err(|e| e.into_error())?;
        self.ops.sync(&file, &self.tmp)?;
        drop(file);
        self.ops.rename(&self.tmp, &self.path)?;
        let dir = match self.path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        self.ops.sync_dir(&dir)?;
        Ok(self.path.clone())
    }
}

impl<O: FsOps> std::io::Write for AtomicFile<O> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.file.as_mut().expect("open until commit").write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.file.as_mut().expect("open until commit").flush()
    }
}

impl<O: FsOps> Drop for AtomicFile<O> {
    fn drop(&mut self) {
        if self.file.take().is_some() {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

/// Writes `bytes` to `path` atomically and durably.
pub fn atomic_write(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut f = AtomicFile::create(path)?;
    f.write_all(bytes)?;
    f.commit().map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Records every step, then does it.
    #[derive(Default)]
    struct Recorder(Vec<String>);

    impl FsOps for &mut Recorder {
        fn create(&mut self, path: &Path) -> std::io::Result<File> {
            self.0.push(format!("create {}", name(path)));
            RealFs.create(path)
        }
        fn sync(&mut self, file: &File, path: &Path) -> std::io::Result<()> {
            // What was written must be on the device before the rename.
            let len = file.metadata()?.len();
            self.0.push(format!("fsync {} ({len} bytes)", name(path)));
            RealFs.sync(file, path)
        }
        fn rename(&mut self, from: &Path, to: &Path) -> std::io::Result<()> {
            self.0
                .push(format!("rename {} -> {}", name(from), name(to)));
            RealFs.rename(from, to)
        }
        fn sync_dir(&mut self, dir: &Path) -> std::io::Result<()> {
            self.0.push(format!("fsync dir {}", name(dir)));
            RealFs.sync_dir(dir)
        }
    }

    fn name(p: &Path) -> String {
        p.file_name().unwrap().to_string_lossy().into_owned()
    }

    #[test]
    fn write_fsync_rename_fsync_dir_in_that_order() {
        let dir = std::env::temp_dir().join(format!("sgd-escape-atomic-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("summary.csv");
        let mut rec = Recorder::default();
        let mut f = AtomicFile::create_with(&path, &mut rec).unwrap();
        f.write_all(b"a,b\n1,2\n").unwrap();
        assert!(!path.exists(), "nothing appears before the commit");
        f.commit().unwrap();
        let tmp = name(&temporary_name(&path));
        assert_eq!(
            rec.0,
            vec![
                format!("create {tmp}"),
                format!("fsync {tmp} (8 bytes)"),
                format!("rename {tmp} -> summary.csv"),
                format!("fsync dir {}", name(&dir)),
            ]
        );
        assert_eq!(std::fs::read(&path).unwrap(), b"a,b\n1,2\n");
        // Dropped uncommitted: the temporary goes, the old file stays.
        let mut f = AtomicFile::create(&path).unwrap();
        f.write_all(b"half").unwrap();
        drop(f);
        assert!(!temporary_name(&path).exists());
        assert_eq!(std::fs::read(&path).unwrap(), b"a,b\n1,2\n");
        // Stale temporaries of a killed process are recognised; nothing else is touched.
        std::fs::write(dir.join(".summary.csv.tmp-999999"), b"x").unwrap();
        std::fs::write(dir.join(".notes.tmp-mine"), b"x").unwrap();
        assert_eq!(remove_stale_temporaries(&dir), 1);
        assert!(dir.join(".notes.tmp-mine").exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
