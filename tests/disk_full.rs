//! A full disk gives one clear line and a non-zero exit, for backup (the
//! archive's disk) and restore (the target's disk).
//!
//! A full disk is made real with a 1 MiB tmpfs, which needs root (and
//! permission to mount); where that is not available the test says so on
//! stderr and checks nothing else.

mod util;

use std::path::{Path, PathBuf};
use std::process::Command;

use util::{bru_fails, bru_ok, url, Dir};

/// A mounted tmpfs, unmounted on drop.
struct TinyFs(PathBuf);

impl TinyFs {
    fn mount(dir: &Path, size: &str) -> Option<TinyFs> {
        std::fs::create_dir_all(dir).ok()?;
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir)
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        ok.then(|| TinyFs(dir.to_owned()))
    }
}

impl Drop for TinyFs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

#[test]
fn full_disk_is_reported_for_backup_and_restore() {
    let dir = Dir::new();
    let src = dir.fixture("wfm.sqlite", 1);
    let Some(fs) = TinyFs::mount(&dir.path("tiny"), "1m") else {
        eprintln!("SKIPPED full_disk_is_reported_for_backup_and_restore: cannot mount a tmpfs here (needs root)");
        return;
    };
    let archive = fs.0.join("wfm.db");
    bru_fails(
        &["backup", &url(&src), archive.to_str().unwrap(), "--quiet"],
        &["disk full", "wfm.db"],
    );

    let good = dir.path("wfm.db");
    bru_ok(&["backup", &url(&src), good.to_str().unwrap(), "--quiet"]);
    let _ = std::fs::remove_file(&archive);
    let target = fs.0.join("restored.sqlite");
    bru_fails(
        &["restore", good.to_str().unwrap(), &url(&target), "--quiet"],
        &["full"],
    );
}
