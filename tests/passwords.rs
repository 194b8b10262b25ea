//! No password anywhere: for each spelling libpq accepts (a URL's
//! `user:password@` in both schemes, `?password=` with the value or the
//! name percent-encoded, a `key=value` string with a quoted or an escaped
//! password, `PGPASSWORD`, the password file, bru's `--password-file`
//! with a URL and with a `key=value` string), a backup and a restore with
//! the right password and `--summary-json`, and a backup and a restore
//! with a wrong one, all through the real `bru` binary against a
//! throwaway server whose role logs in with SCRAM. The password, as
//! written and as meant, appears in none of stdout, stderr, the summary
//! file or the archive; a failure is one error line.
//!
//! The passwords hold a space and a quote, so that every spelling has to
//! escape or encode them.

mod util;

use std::path::Path;
use std::process::{Command, Output};

use bru_testsupport::pg::TestServer;
use util::Dir;

/// The role's password: distinctive parts that no message may contain.
const RIGHT: &str = "Sw0rdfish q'9";
/// A wrong password, as distinctive.
const WRONG: &str = "Wr0ngBattery z'7";
/// What must not appear, for each password: the password as meant and
/// every piece of it a spelling keeps intact.
const RIGHT_PIECES: [&str; 2] = ["Sw0rdfish", "q'9"];
const WRONG_PIECES: [&str; 2] = ["Wr0ngBattery", "z'7"];

/// One way of giving the password: the endpoint for `db` and the
/// environment it needs.
struct Spelling {
    name: &'static str,
    endpoint: fn(sock: &str, db: &str, pw: &str) -> String,
    /// How the password reaches bru outside the endpoint.
    via: Via,
}

#[derive(Clone, Copy)]
enum Via {
    Endpoint,
    PgPassword,
    PgPassFile,
    /// bru's `--password-file`.
    PasswordFile,
}

/// `%XX` for everything but letters, digits and `-`.
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn spellings() -> Vec<Spelling> {
    vec![
        Spelling {
            name: "postgresql:// user:password@",
            endpoint: |sock, db, pw| {
                format!("postgresql://app:{}@{}:5432/{db}", encode(pw), encode(sock))
            },
            via: Via::Endpoint,
        },
        Spelling {
            name: "postgres:// ?password=",
            endpoint: |sock, db, pw| {
                format!(
                    "postgres://app@/{db}?host={sock}&password={}&port=5432",
                    encode(pw)
                )
            },
            via: Via::Endpoint,
        },
        Spelling {
            name: "percent-encoded ?pass%77ord=",
            endpoint: |sock, db, pw| {
                format!(
                    "postgresql:///{db}?user=app&host={sock}&port=5432&pass%77ord={}",
                    encode(pw)
                )
            },
            via: Via::Endpoint,
        },
        Spelling {
            name: "key=value, quoted",
            endpoint: |sock, db, pw| {
                format!(
                    "host={sock} port=5432 user=app password='{}' dbname={db}",
                    pw.replace('\\', "\\\\").replace('\'', "\\'")
                )
            },
            via: Via::Endpoint,
        },
        Spelling {
            name: "key=value, escaped",
            endpoint: |sock, db, pw| {
                let escaped: String = pw
                    .chars()
                    .flat_map(|c| match c {
                        ' ' | '\'' | '\\' => vec!['\\', c],
                        c => vec![c],
                    })
                    .collect();
                format!("dbname={db} user=app host={sock} password={escaped} port=5432")
            },
            via: Via::Endpoint,
        },
        Spelling {
            name: "PGPASSWORD",
            endpoint: |sock, db, _| format!("postgresql://app@/{db}?host={sock}&port=5432"),
            via: Via::PgPassword,
        },
        Spelling {
            name: "password file",
            endpoint: |sock, db, _| format!("host={sock} port=5432 user=app dbname={db}"),
            via: Via::PgPassFile,
        },
        Spelling {
            name: "--password-file, URL",
            endpoint: |sock, db, _| format!("postgresql://app@/{db}?host={sock}&port=5432"),
            via: Via::PasswordFile,
        },
        Spelling {
            name: "--password-file, key=value",
            endpoint: |sock, db, _| format!("host={sock} port=5432 user=app dbname={db}"),
            via: Via::PasswordFile,
        },
    ]
}

/// Runs bru with `args`, the password given `via` (for the environment
/// ways) and a home without a password file of the machine's.
fn bru(dir: &Dir, sock: &str, via: Via, pw: &str, args: &[&str]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_bru"));
    if let Via::PasswordFile = via {
        let file = dir.path("password");
        std::fs::write(&file, format!("{pw}\n")).expect("password file");
        c.arg("--password-file").arg(&file);
    }
    c.args(args)
        .env_remove("PGPASSWORD")
        .env_remove("PGPASSFILE")
        .env("HOME", dir.path(""));
    match via {
        Via::Endpoint | Via::PasswordFile => {}
        Via::PgPassword => {
            c.env("PGPASSWORD", pw);
        }
        Via::PgPassFile => {
            let file = dir.path("pgpass");
            let escaped = pw.replace('\\', "\\\\").replace(':', "\\:");
            std::fs::write(&file, format!("{sock}:5432:*:app:{escaped}\n")).expect("pgpass");
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600))
                    .expect("chmod pgpass");
            }
            c.env("PGPASSFILE", &file);
        }
    }
    c.output().expect("run bru")
}

/// Asserts that none of `pieces` is in `what` (named `label`).
fn assert_absent(label: &str, what: &[u8], pieces: &[&str]) {
    let text = String::from_utf8_lossy(what);
    for piece in pieces {
        assert!(!text.contains(piece), "{label} holds {piece:?}: {text}");
    }
}

/// Asserts the run failed with one error line, without a panic.
fn assert_one_error_line(label: &str, out: &Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(!out.status.success(), "{label}: should fail");
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "{label}: {stderr}");
    assert!(lines[0].starts_with("bru: error: "), "{label}: {stderr}");
    lines[0].to_owned()
}

/// Everything a run left for people and scripts: stdout, stderr and the
/// summary file, if it wrote one.
fn assert_run_clean(label: &str, out: &Output, summary: &Path, pieces: &[&str]) {
    assert_absent(&format!("{label}: stdout"), &out.stdout, pieces);
    assert_absent(&format!("{label}: stderr"), &out.stderr, pieces);
    if let Ok(bytes) = std::fs::read(summary) {
        assert_absent(&format!("{label}: summary"), &bytes, pieces);
    }
}

#[test]
fn no_spelling_of_a_password_reaches_any_output() {
    let Some(server) = TestServer::start() else {
        return;
    };
    if !server.is_local() {
        eprintln!("password test needs its own server; skipped with BRU_TEST_PG_URL");
        return;
    }
    let src = server.create_db("pw_src");
    let sql_pw = RIGHT.replace('\'', "''");
    server.psql(
        &src,
        &format!(
            "CREATE ROLE app LOGIN PASSWORD '{sql_pw}'; \
             GRANT ALL ON SCHEMA public TO app; SET ROLE app; \
             CREATE TABLE public.shift (id int PRIMARY KEY, note text); \
             INSERT INTO public.shift SELECT g, 'shift ' || g FROM generate_series(1, 500) g"
        ),
    );
    let sock = server.socket_dir().display().to_string();
    let dir = Dir::new();

    for (i, s) in spellings().iter().enumerate() {
        let label = s.name;
        let archive = dir.path(&format!("a{i}.db"));
        let archive_s = archive.to_str().expect("utf-8 path");
        let summary = dir.path(&format!("summary{i}.json"));
        let summary_s = summary.to_str().expect("utf-8 path");

        // The right password: a backup and a restore that succeed.
        let endpoint = (s.endpoint)(&sock, &src, RIGHT);
        let out = bru(
            &dir,
            &sock,
            s.via,
            RIGHT,
            &[
                "backup",
                &endpoint,
                archive_s,
                "--summary-json",
                summary_s,
                "--force",
            ],
        );
        assert!(
            out.status.success(),
            "{label}: backup failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_run_clean(&format!("{label}: backup"), &out, &summary, &RIGHT_PIECES);
        let report: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&summary).expect("summary")).expect("json");
        assert_eq!(report["status"], "ok", "{label}: {report}");
        assert_absent(
            &format!("{label}: archive"),
            &std::fs::read(&archive).expect("archive"),
            &RIGHT_PIECES,
        );

        let dst = server.create_db("pw_dst");
        server.psql(
            &dst,
            &format!("ALTER DATABASE {dst} OWNER TO app; GRANT ALL ON SCHEMA public TO app"),
        );
        let target = (s.endpoint)(&sock, &dst, RIGHT);
        let out = bru(
            &dir,
            &sock,
            s.via,
            RIGHT,
            &["restore", archive_s, &target, "--summary-json", summary_s],
        );
        assert!(
            out.status.success(),
            "{label}: restore failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_run_clean(&format!("{label}: restore"), &out, &summary, &RIGHT_PIECES);
        assert_eq!(
            server
                .psql(&dst, "SELECT count(*), sum(id) FROM public.shift")
                .trim(),
            "500|125250",
            "{label}"
        );
        let out = bru(
            &dir,
            &sock,
            s.via,
            RIGHT,
            &["restore", archive_s, &target, "--dry-run"],
        );
        assert!(out.status.success(), "{label}: dry run");
        assert_run_clean(&format!("{label}: dry run"), &out, &summary, &RIGHT_PIECES);

        // A wrong password: both commands fail with one line naming the
        // login, and neither the wrong nor the right one shows.
        let wrong_src = (s.endpoint)(&sock, &src, WRONG);
        let wrong_dst = (s.endpoint)(&sock, &dst, WRONG);
        let pieces: Vec<&str> = RIGHT_PIECES.iter().chain(&WRONG_PIECES).copied().collect();
        for args in [
            vec![
                "backup",
                &wrong_src,
                archive_s,
                "--force",
                "--summary-json",
                summary_s,
            ],
            vec![
                "restore",
                archive_s,
                &wrong_dst,
                "--summary-json",
                summary_s,
            ],
        ] {
            let _ = std::fs::remove_file(&summary);
            let out = bru(&dir, &sock, s.via, WRONG, &args);
            let what = format!("{label}: {} with a wrong password", args[0]);
            let line = assert_one_error_line(&what, &out);
            assert!(line.contains("password authentication failed"), "{line}");
            assert!(line.contains("app"), "{line}");
            assert_run_clean(&what, &out, &summary, &pieces);
            let report: serde_json::Value =
                serde_json::from_slice(&std::fs::read(&summary).expect("summary")).expect("json");
            assert_eq!(report["status"], "failed", "{what}: {report}");
        }

        // Nothing listening on the port: the error names the endpoint, not
        // the password.
        let gone = (s.endpoint)(&sock, &src, WRONG).replace("5432", "5999");
        let out = bru(
            &dir,
            &sock,
            s.via,
            WRONG,
            &["backup", &gone, archive_s, "--force"],
        );
        let what = format!("{label}: backup from a closed port");
        let line = assert_one_error_line(&what, &out);
        assert!(line.contains("5999"), "{line}");
        assert_run_clean(&what, &out, &summary, &pieces);
    }
}

/// A string that is not a connection string at all, or a URL that the
/// driver would misread, is refused without being echoed.
#[test]
fn malformed_endpoints_are_refused_without_their_password() {
    let dir = Dir::new();
    let archive = dir.path("x.db");
    let archive = archive.to_str().expect("utf-8 path");
    for endpoint in [
        "wfm.sqlite password=Sw0rdfish",
        "dbname=wfm password='Sw0rdfish",
        "postgres://app:Sw0rd@fish@host/db",
        "postgres:///db?password=Sw0rd@fish",
        "oracle://app:Sw0rdfish@host/db",
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_bru"))
            .args(["backup", endpoint, archive, "--force"])
            .output()
            .expect("run bru");
        let line = assert_one_error_line(endpoint, &out);
        assert!(!line.contains("Sw0rd"), "{line}");
        assert!(!line.contains("fish"), "{line}");
    }
}

#[test]
fn a_mask_never_spells_the_password_out() {
    let Some(server) = TestServer::start() else {
        return;
    };
    if !server.is_local() {
        eprintln!("password test needs its own server; skipped with BRU_TEST_PG_URL");
        return;
    }
    let db = server.create_db("pw_mask");
    server.psql(&db, "CREATE ROLE tom LOGIN PASSWORD 'Sw0rdfish q''9'");
    let sock = server.socket_dir().display().to_string();
    let dir = Dir::new();
    let archive = dir.path("m.db");
    // A wrong password that is the user's name, and one of a letter the
    // server's message is full of: masking them where they occur would
    // say what they are ('for user "********"', 'p********ssword').
    for pw in ["tom", "a", "o"] {
        let endpoint = format!("host={sock} port=5432 user=tom dbname=pw_mask password={pw}");
        let out = bru(
            &dir,
            &sock,
            Via::Endpoint,
            pw,
            &["backup", &endpoint, archive.to_str().unwrap(), "--force"],
        );
        let line = assert_one_error_line(pw, &out);
        assert!(
            line.contains("password authentication failed for user \"tom\""),
            "{pw}: {line}"
        );
        assert!(line.contains("password=***"), "{pw}: {line}");
        assert!(line.contains("check the user and the password"), "{line}");
    }
    // No password at all, where the server asks for one: what to do.
    let endpoint = format!("host={sock} port=5432 user=tom dbname=pw_mask");
    let out = bru(
        &dir,
        &sock,
        Via::Endpoint,
        "",
        &["backup", &endpoint, archive.to_str().unwrap(), "--force"],
    );
    let line = assert_one_error_line("no password", &out);
    assert!(line.contains("password missing"), "{line}");
    assert!(
        line.contains("give the password in the URL, PGPASSWORD or ~/.pgpass"),
        "{line}"
    );
}

#[test]
fn an_option_the_driver_does_not_take_is_named_with_what_to_do() {
    let dir = Dir::new();
    let archive = dir.path("x.db");
    let archive = archive.to_str().expect("utf-8 path");
    for (endpoint, option, hint) in [
        (
            "host=/tmp port=5432 user=app dbname=db passfile=/tmp/pgp password=Sw0rdfish",
            "`passfile`",
            "PGPASSFILE",
        ),
        (
            "postgres://app@/db?host=/tmp&port=x54&password=Sw0rdfish",
            "`port`",
            "fix or remove",
        ),
        // Nothing listens on port 1: the server could not be reached.
        (
            "postgres://app:Sw0rdfish@127.0.0.1:1/db",
            "app@127.0.0.1:1/db",
            "check that the server is running",
        ),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_bru"))
            .args(["backup", endpoint, archive, "--force"])
            .output()
            .expect("run bru");
        let line = assert_one_error_line(endpoint, &out);
        assert!(line.contains(option), "{line}");
        assert!(line.contains(hint), "{line}");
        assert!(!line.contains("Sw0rd"), "{line}");
    }
}
