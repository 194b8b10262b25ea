//! Refusing an archive that is the database itself.
//!
//! `bru backup sqlite://w.sqlite w.sqlite --force` would replace the source
//! with its own archive, and `bru restore a.db sqlite://a.db` would write
//! tables into the archive. Where an endpoint is a local file
//! ([`bru_core::Engine::database_file`]), the caller checks it against the
//! archive with [`refuse_same_file`] before anything is opened for writing.
//! Two paths are the same file when they reach the same device and inode
//! (through symlinks, hard links, `..` or a relative path), or, for paths
//! that do not exist yet, when they are the same absolute path once
//! symlinks in their existing directories are resolved.

use std::path::{Path, PathBuf};

use crate::{Error, Result};

/// Which end of the operation the database is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The database a backup reads.
    Source,
    /// The database a restore writes.
    Target,
}

/// Fails with [`Error::SameFile`] when `database` (an endpoint's local
/// file) and `archive` are one file.
pub fn refuse_same_file(database: &Path, archive: &Path, side: Side) -> Result<()> {
    if same_file(database, archive) {
        return Err(Error::SameFile {
            path: archive.to_owned(),
            side,
        });
    }
    Ok(())
}

/// Whether `a` and `b` name the same file.
pub fn same_file(a: &Path, b: &Path) -> bool {
    // Both exist: the same device and inode (or file index), which a
    // symlink, a hard link or another spelling cannot hide.
    if let Ok(same) = same_file::is_same_file(a, b) {
        return same;
    }
    resolved(a) == resolved(b)
}

/// `path` made absolute, with its nearest existing ancestor canonicalized
/// (symlinks resolved) and the rest appended as written.
fn resolved(path: &Path) -> Option<PathBuf> {
    let absolute = std::path::absolute(path).ok()?;
    let mut rest = Vec::new();
    let mut existing = absolute.as_path();
    loop {
        if let Ok(canonical) = existing.canonicalize() {
            let mut out = canonical;
            for part in rest.iter().rev() {
                out.push(part);
            }
            return Some(out);
        }
        rest.push(existing.file_name()?.to_owned());
        existing = existing.parent()?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_and_spellings_of_one_file_are_the_same() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("w.sqlite");
        std::fs::write(&file, b"x").unwrap();
        let other = dir.path().join("other.db");
        std::fs::write(&other, b"y").unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        assert!(same_file(&file, &dir.path().join("sub/../w.sqlite")));
        assert!(!same_file(&file, &other));
        #[cfg(unix)]
        {
            let link = dir.path().join("link.db");
            std::os::unix::fs::symlink(&file, &link).unwrap();
            assert!(same_file(&file, &link));
            let hard = dir.path().join("hard.db");
            std::fs::hard_link(&file, &hard).unwrap();
            assert!(same_file(&hard, &file));
            let err = refuse_same_file(&file, &hard, Side::Source).unwrap_err();
            assert!(err.to_string().contains("hard.db"), "{err}");
        }
        // Neither exists yet: the same absolute path is the same file.
        let new = dir.path().join("new.db");
        assert!(same_file(&new, &dir.path().join(".").join("new.db")));
        assert!(!same_file(&new, &dir.path().join("new2.db")));
    }
}
