//! Crash safety: a backup killed mid-way leaves an archive that is visibly
//! incomplete and that restore and verify refuse; a truncated archive is
//! rejected by name.

mod util;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use util::{bru_fails, bru_ok, url, Dir};

#[test]
fn backup_killed_midway_is_incomplete_and_refused() {
    let dir = Dir::new();
    let src = dir.fixture("wfm.sqlite", 3);
    let archive = dir.path("killed.db");
    let a = archive.to_str().unwrap();

    // Small chunks at a high compression level keep the backup busy long
    // enough to be killed while chunks are being written.
    let mut child = Command::new(env!("CARGO_BIN_EXE_bru"))
        .args([
            "backup",
            &url(&src),
            a,
            "--chunk-size",
            "16KiB",
            "--compress-level",
            "19",
            "--jobs",
            "1",
            "--quiet",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start bru backup");
    let start = Instant::now();
    loop {
        let size = std::fs::metadata(&archive).map(|m| m.len()).unwrap_or(0);
        if size > 512 * 1024 {
            break;
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!("backup ended ({status}) before it could be killed; make it slower");
        }
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "backup wrote nothing"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().expect("SIGKILL bru"); // SIGKILL on Unix
    child.wait().unwrap();

    let out = bru_ok(&["list", a]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("incomplete"), "{text}");
    let out = bru_ok(&["list", a, "--json"]);
    let listing: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(listing["meta"]["state"], "in_progress");

    bru_fails(&["verify", a], &["incomplete"]);
    let target = dir.path("target.sqlite");
    bru_fails(&["restore", a, &url(&target)], &["incomplete"]);
}

#[test]
fn truncated_archive_is_rejected() {
    let dir = Dir::new();
    let src = dir.fixture("wfm.sqlite", 1);
    let archive = dir.path("cut.db");
    let a = archive.to_str().unwrap();
    bru_ok(&["backup", &url(&src), a, "--quiet"]);
    let len = std::fs::metadata(&archive).unwrap().len();
    let f = std::fs::OpenOptions::new()
        .write(true)
        .open(&archive)
        .unwrap();
    f.set_len(len * 6 / 10).unwrap();
    drop(f);
    bru_fails(&["verify", a], &["cut.db"]);
    let target = dir.path("target.sqlite");
    bru_fails(&["restore", a, &url(&target)], &["cut.db"]);
}
