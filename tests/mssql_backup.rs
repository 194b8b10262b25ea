//! `bru backup` from SQL Server through the real binary (live:
//! `BRU_TEST_MSSQL_URL`, one SKIPPED line without it): the archive holds
//! the tables, `bru list` shows them with their row counts and the source,
//! `bru verify` passes, and `--password-file` carries the password without
//! it showing anywhere.

mod util;

use std::process::{Command, Output};

use bru_testsupport::mssql::{exec, MssqlServer};
use util::Dir;

fn bru(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_bru"))
        .args(args)
        .env_remove("SQLCMDPASSWORD")
        .output()
        .expect("run bru")
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// `url` without its password, and the password.
fn split_password(url: &str) -> (String, String) {
    let (scheme, rest) = url.split_once("://").unwrap();
    let at = rest.rfind('@').unwrap();
    let (user, pw) = rest[..at].split_once(':').unwrap();
    let pw = percent_encoding::percent_decode_str(pw)
        .decode_utf8()
        .unwrap()
        .into_owned();
    (format!("{scheme}://{user}@{}", &rest[at + 1..]), pw)
}

#[test]
fn backup_list_and_verify_from_sql_server() {
    let Some(server) = MssqlServer::from_env("backup_list_and_verify_from_sql_server") else {
        return;
    };
    let url = server.create_db("msrc_e2e");
    exec(
        &url,
        "CREATE TABLE dbo.agent (id int NOT NULL PRIMARY KEY, name nvarchar(40) NOT NULL,
            rate money, hired datetime2(3), tz datetimeoffset(3));
         INSERT INTO dbo.agent
         SELECT TOP (1500) ROW_NUMBER() OVER (ORDER BY a.object_id, b.object_id),
            N'agent ' + CAST(ROW_NUMBER() OVER (ORDER BY a.object_id, b.object_id) AS nvarchar(10)),
            12.3456, '2024-01-02T03:04:05.678', '2024-01-02T03:04:05.678-05:30'
         FROM sys.all_objects a CROSS JOIN sys.all_objects b;",
    );
    let dir = Dir::new();
    let archive = dir.path("mssql.db");
    let archive_s = archive.to_str().unwrap();
    let (bare, password) = split_password(&url);
    let pw_file = dir.path("pw");
    std::fs::write(&pw_file, format!("{password}\n")).unwrap();
    let pw_file_s = pw_file.to_str().unwrap();

    let out = bru(&["--password-file", pw_file_s, "backup", &bare, archive_s]);
    assert!(out.status.success(), "backup: {}", text(&out));
    assert!(!text(&out).contains(&password), "{}", text(&out));
    let bytes = std::fs::read(&archive).unwrap();
    assert!(
        !bytes
            .windows(password.len())
            .any(|w| w == password.as_bytes()),
        "the archive holds the password"
    );

    let out = bru(&["list", archive_s]);
    assert!(out.status.success(), "list: {}", text(&out));
    let listing = text(&out);
    assert!(listing.contains("mssql"), "{listing}");
    assert!(listing.contains("msrc_e2e"), "{listing}");
    assert!(
        listing.contains("agent") && listing.contains("1500"),
        "{listing}"
    );
    assert!(!listing.contains("NOT CONSISTENT"), "{listing}");

    let out = bru(&["verify", archive_s]);
    assert!(out.status.success(), "verify: {}", text(&out));

    // A wrong password in the file: one line, neither password shown.
    std::fs::write(&pw_file, "Wr0ng-Battery-77\n").unwrap();
    let out = bru(&[
        "--password-file",
        pw_file_s,
        "backup",
        &bare,
        archive_s,
        "--force",
    ]);
    assert!(!out.status.success());
    let all = text(&out);
    assert!(all.contains("login failed"), "{all}");
    assert!(
        !all.contains("Wr0ng-Battery-77") && !all.contains(&password),
        "{all}"
    );
    assert_eq!(all.trim().lines().count(), 1, "{all}");
    server.drop_db("msrc_e2e");
}
