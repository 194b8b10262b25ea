//! Issue 15, through the real `bru` binary: a DBA's pg_dump/pg_restore
//! habits. Each short flag does what its long form does (the same tables
//! in the archive, the same restored database); `restore -l` / `-L` round
//! trip a table of contents with a line deleted; `--filter FILE` in
//! PostgreSQL 17's format; the completion scripts and man pages; a bad
//! flag's one error line with clap's suggestion; the backup's progress log
//! line with an ETA; Ctrl-C with its exit code and hint; the password
//! prompt on a terminal (a pty made by `script`).

mod util;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use bru_testsupport::pg::TestServer;
use bru_testsupport::sqlite::{dump, run_sql};
use util::{bru, bru_fails, bru_ok, schema, url, Dir};

/// A small SQLite database: three tables, a view over one, a trigger.
fn source(dir: &Dir) -> PathBuf {
    let path = dir.path("w.sqlite");
    run_sql(
        &path,
        "CREATE TABLE agents(id INTEGER PRIMARY KEY, n TEXT);
         INSERT INTO agents VALUES (1, 'a'), (2, 'b');
         CREATE TABLE sites(id INTEGER PRIMARY KEY, name TEXT);
         INSERT INTO sites VALUES (1, 's');
         CREATE TABLE audit_log(id INTEGER PRIMARY KEY, what TEXT);
         INSERT INTO audit_log VALUES (1, 'x'), (2, 'y'), (3, 'z');
         CREATE VIEW v_agents AS SELECT * FROM agents;
         CREATE TRIGGER t_sites AFTER INSERT ON sites BEGIN SELECT 1; END;",
    );
    path
}

/// `bru list --json`'s tables with their rows, and its objects.
fn listing(archive: &Path) -> (Vec<(String, u64)>, Vec<String>) {
    let out = bru_ok(&["list", "--json", archive.to_str().unwrap()]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json listing");
    let tables = v["tables"]
        .as_array()
        .expect("tables")
        .iter()
        .map(|t| {
            (
                t["table"].as_str().unwrap().to_owned(),
                t["rows"].as_u64().unwrap(),
            )
        })
        .collect();
    let objects = v["objects"]
        .as_array()
        .expect("objects")
        .iter()
        .map(|o| o.as_str().unwrap().to_owned())
        .collect();
    (tables, objects)
}

/// Runs `bru args`, each `{}` replaced by the next of `paths`.
fn run(args: &[&str], paths: &[&Path]) -> std::process::Output {
    let mut paths = paths.iter();
    let owned: Vec<String> = args
        .iter()
        .map(|a| match *a {
            "{}" => paths.next().expect("a path per {}").display().to_string(),
            "{url}" => url(paths.next().expect("a path per {url}")),
            a => a.to_owned(),
        })
        .collect();
    let refs: Vec<&str> = owned.iter().map(String::as_str).collect();
    bru_ok(&refs)
}

#[test]
fn each_pg_dump_short_flag_makes_the_archive_of_its_long_form() {
    let dir = Dir::new();
    let src = source(&dir);
    // (short form, long form): both back up into an archive each.
    let cases: [(&[&str], &[&str]); 6] = [
        (
            &["-t", "agents", "-t", "site*"],
            &["--include", "agents", "--include", "site*"],
        ),
        (&["-T", "audit_*"], &["--exclude", "audit_*"]),
        (&["--table", "agents"], &["--include", "agents"]),
        (
            &["-n", "main", "-T", "sites"],
            &["--include", "main.*", "--exclude", "sites"],
        ),
        (
            &["-N", "main", "-t", "x"],
            &["--exclude", "main.*", "--include", "x"],
        ),
        (
            &["-Z", "7", "-j", "2"],
            &["--compress-level", "7", "--jobs", "2"],
        ),
    ];
    for (i, (short, long)) in cases.iter().enumerate() {
        let a = dir.path(&format!("short{i}.db"));
        let b = dir.path(&format!("long{i}.db"));
        let mut s = vec!["backup", "--quiet", "{url}", "-f", "{}"];
        s.extend_from_slice(short);
        let mut l = vec!["backup", "--quiet", "{url}", "{}"];
        l.extend_from_slice(long);
        if short.contains(&"-N") {
            // Every table left out: refused the same way by both spellings.
            let sa: Vec<String> = s
                .iter()
                .map(|x| {
                    x.replace("{url}", &url(&src))
                        .replace("{}", a.to_str().unwrap())
                })
                .collect();
            let la: Vec<String> = l
                .iter()
                .map(|x| {
                    x.replace("{url}", &url(&src))
                        .replace("{}", b.to_str().unwrap())
                })
                .collect();
            let se = bru_fails(
                &sa.iter().map(String::as_str).collect::<Vec<_>>(),
                &["no matching tables"],
            );
            let le = bru_fails(
                &la.iter().map(String::as_str).collect::<Vec<_>>(),
                &["no matching tables"],
            );
            assert_eq!(se, le, "{short:?}");
            continue;
        }
        run(&s, &[&src, &a]);
        run(&l, &[&src, &b]);
        assert_eq!(listing(&a), listing(&b), "{short:?} vs {long:?}");
        let meta = |p: &Path| {
            let out = bru_ok(&["list", "--json", p.to_str().unwrap()]);
            let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            v["meta"]["compress_level"].clone()
        };
        assert_eq!(meta(&a), meta(&b), "{short:?}");
    }
    // pg_dump's -d SOURCE and -f FILE in place of the positional arguments.
    let a = dir.path("d.db");
    let b = dir.path("pos.db");
    run(&["backup", "-q", "-d", "{url}", "-f", "{}"], &[&src, &a]);
    run(&["backup", "-q", "-d", "{url}", "{}"], &[&src, &b]);
    assert_eq!(listing(&a), listing(&b));
    assert_eq!(listing(&a).0.len(), 3);
}

#[test]
fn each_pg_restore_short_flag_restores_what_its_long_form_does() {
    let dir = Dir::new();
    let src = source(&dir);
    let archive = dir.path("a.db");
    run(&["backup", "-q", "{url}", "{}"], &[&src, &archive]);
    let cases: [(&[&str], &[&str]); 5] = [
        (&["-s"], &["--schema-only"]),
        (
            &["-t", "agents", "-j", "1"],
            &["--include", "agents", "--jobs", "1"],
        ),
        (
            &["-T", "agents", "-O", "-x"],
            &["--exclude", "agents", "--no-owner", "--no-privileges"],
        ),
        (
            &["-n", "main", "-e"],
            &["--schema", "main", "--exit-on-error"],
        ),
        (&["-N", "nothing"], &["--exclude-schema", "nothing"]),
    ];
    for (i, (short, long)) in cases.iter().enumerate() {
        let a = dir.path(&format!("short{i}.sqlite"));
        let b = dir.path(&format!("long{i}.sqlite"));
        let mut s = vec!["restore", "-q", "{}", "-d", "{url}"];
        s.extend_from_slice(short);
        let mut l = vec!["restore", "-q", "{}", "{url}"];
        l.extend_from_slice(long);
        run(&s, &[&archive, &a]);
        run(&l, &[&archive, &b]);
        assert_eq!(schema(&a), schema(&b), "{short:?} vs {long:?}");
        assert_eq!(dump(&a), dump(&b), "{short:?} vs {long:?}");
    }
    // -a (data only) into the tables -s made, then -c --if-exists over it.
    let a = dir.path("data_short.sqlite");
    let b = dir.path("data_long.sqlite");
    run(&["restore", "-q", "-s", "{}", "{url}"], &[&archive, &a]);
    run(
        &["restore", "-q", "--schema-only", "{}", "{url}"],
        &[&archive, &b],
    );
    run(&["restore", "-q", "-a", "{}", "{url}"], &[&archive, &a]);
    run(
        &["restore", "-q", "--data-only", "{}", "{url}"],
        &[&archive, &b],
    );
    assert_eq!(dump(&a), dump(&b));
    assert_eq!(dump(&a), dump(&src));
    run(
        &["restore", "-q", "-c", "--if-exists", "{}", "{url}"],
        &[&archive, &a],
    );
    run(
        &["restore", "-q", "--clean", "{}", "{url}"],
        &[&archive, &b],
    );
    assert_eq!(schema(&a), schema(&b));
    assert_eq!(dump(&a), dump(&src));
}

#[test]
fn what_bru_cannot_honour_is_refused_in_one_line() {
    let dir = Dir::new();
    let src = source(&dir);
    let archive = dir.path("a.db");
    let a = archive.to_str().unwrap();
    bru_fails(
        &["backup", &url(&src), a, "-s"],
        &["backup -s/--schema-only", "bru restore -s/--schema-only"],
    );
    bru_fails(&["backup", &url(&src), a, "-c"], &["backup -c/--clean"]);
    assert!(!archive.exists());
    run(&["backup", "-q", "{url}", "{}"], &[&src, &archive]);
    let target = dir.path("t.sqlite");
    bru_fails(
        &["restore", a, &url(&target), "-1"],
        &["-1/--single-transaction", "--resume"],
    );
    assert!(!target.exists());
    bru_fails(&["restore", a], &["needs a TARGET"]);
    bru_fails(&["restore", a, &url(&target), "--if-exists"], &["--clean"]);
}

#[test]
fn a_filter_file_selects_as_the_flags_do_and_refuses_other_object_types() {
    let dir = Dir::new();
    let src = source(&dir);
    let filter = dir.path("filter.txt");
    std::fs::write(
        &filter,
        "# PostgreSQL 17's --filter format\ninclude schema main\n\
         exclude table audit_*   # not the log\n\n",
    )
    .unwrap();
    let a = dir.path("f.db");
    let b = dir.path("flags.db");
    run(
        &["backup", "-q", "{url}", "{}", "--filter", "{}"],
        &[&src, &a, &filter],
    );
    run(
        &["backup", "-q", "{url}", "{}", "-n", "main", "-T", "audit_*"],
        &[&src, &b],
    );
    assert_eq!(listing(&a), listing(&b));
    assert_eq!(
        listing(&a)
            .0
            .iter()
            .map(|t| t.0.as_str())
            .collect::<Vec<_>>(),
        ["agents", "sites"]
    );
    // Restore takes it too.
    let t = dir.path("t.sqlite");
    run(
        &["restore", "-q", "{}", "{url}", "--filter", "{}"],
        &[&b, &t, &filter],
    );
    assert_eq!(dump(&t).len(), 2);

    std::fs::write(&filter, "include table agents\nexclude table_data sites\n").unwrap();
    let line = bru_fails(
        &[
            "backup",
            &url(&src),
            dir.path("x.db").to_str().unwrap(),
            "--filter",
            filter.to_str().unwrap(),
        ],
        &["line 2", "not table_data"],
    );
    assert!(line.contains(filter.to_str().unwrap()), "{line}");
}

#[test]
fn a_table_of_contents_with_a_line_deleted_restores_without_that_table() {
    let dir = Dir::new();
    let src = source(&dir);
    let archive = dir.path("a.db");
    run(&["backup", "-q", "{url}", "{}"], &[&src, &archive]);
    let a = archive.to_str().unwrap();
    let toc = String::from_utf8(bru_ok(&["restore", "-l", a]).stdout).unwrap();
    assert!(toc.starts_with(';'), "{toc}");
    let entries: Vec<&str> = toc.lines().filter(|l| !l.starts_with(';')).collect();
    assert_eq!(entries.len(), 5, "{toc}");
    assert!(
        entries.iter().any(|l| l.ends_with("; table agents")),
        "{toc}"
    );
    assert!(
        entries.iter().any(|l| l.ends_with("; view v_agents")),
        "{toc}"
    );

    // The whole list restores everything.
    let list = dir.path("all.toc");
    std::fs::write(&list, &toc).unwrap();
    let whole = dir.path("whole.sqlite");
    run(
        &["restore", "-q", "{}", "{url}", "-L", "{}"],
        &[&archive, &whole, &list],
    );
    assert_eq!(dump(&whole), dump(&src));
    assert_eq!(schema(&whole), schema(&src));

    // Without agents: the table and the view over it are absent, and the
    // view is listed as skipped; the rest is as in the source.
    let edited: String = toc
        .lines()
        .filter(|l| !l.ends_with("; table agents"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&list, edited).unwrap();
    let target = dir.path("t.sqlite");
    let out = run(
        &["restore", "--json", "{}", "{url}", "--use-list", "{}"],
        &[&archive, &target, &list],
    );
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let skipped = summary["skipped"].to_string();
    assert!(
        skipped.contains("view v_agents: depends on table agents, left out by --use-list"),
        "{skipped}"
    );
    let tables: Vec<String> = dump(&target).into_iter().map(|(t, _)| t).collect();
    assert_eq!(tables, ["audit_log", "sites"]);
    assert!(!schema(&target).iter().any(|s| s.contains("v_agents")));
    assert!(schema(&target)
        .iter()
        .any(|s| s.starts_with("trigger t_sites")));

    // A trigger's line commented out: the trigger alone is left out.
    let edited = toc
        .lines()
        .map(|l| {
            if l.ends_with("; trigger t_sites") {
                format!(";{l}\n")
            } else {
                format!("{l}\n")
            }
        })
        .collect::<String>();
    std::fs::write(&list, edited).unwrap();
    let target = dir.path("t2.sqlite");
    run(
        &["restore", "-q", "{}", "{url}", "-L", "{}"],
        &[&archive, &target, &list],
    );
    assert_eq!(dump(&target), dump(&src));
    assert!(!schema(&target).iter().any(|s| s.starts_with("trigger")));

    // A list of another archive is refused naming the line.
    std::fs::write(&list, "1; table payroll\n").unwrap();
    bru_fails(
        &[
            "restore",
            a,
            &url(&dir.path("t3.sqlite")),
            "-L",
            list.to_str().unwrap(),
        ],
        &["line 1", "entry 1 of the archive is \"table"],
    );
}

#[test]
fn completions_for_each_shell_and_man_pages_are_generated() {
    for (shell, mark) in [
        ("bash", "complete -F"),
        ("zsh", "#compdef bru"),
        ("fish", "complete -c bru"),
        ("powershell", "Register-ArgumentCompleter"),
        ("elvish", "edit:completion"),
    ] {
        let out = bru_ok(&["completions", shell]);
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(text.contains(mark), "{shell}: {text}");
        for word in ["backup", "restore", "use-list", "include"] {
            assert!(text.contains(word), "{shell} completion lacks {word}");
        }
    }
    bru_fails(&["completions", "tcsh"], &["invalid value 'tcsh'"]);

    let page = String::from_utf8(bru_ok(&["man"]).stdout).unwrap();
    assert!(page.contains(".TH bru 1"), "{page}");
    for word in [
        "backup",
        "restore",
        "verify",
        "completions",
        "sqlite://",
        "postgres://",
        "mssql://",
    ] {
        assert!(page.contains(word), "man page lacks {word}");
    }
    let page = String::from_utf8(bru_ok(&["man", "restore"]).stdout).unwrap();
    assert!(page.contains(".TH bru-restore 1"), "{page}");
    assert!(page.contains("use\\-list"), "{page}");
    bru_fails(
        &["man", "frobnicate"],
        &["no command \"frobnicate\"", "bru-COMMAND"],
    );
    // Rendered by man itself where it is installed.
    if Command::new("man").arg("--version").output().is_ok() {
        let dir = Dir::new();
        let file = dir.path("bru.1");
        std::fs::write(&file, &page).unwrap();
        let shown = Command::new("man")
            .arg("-l")
            .arg(&file)
            .env("MANPAGER", "cat")
            .env("COLUMNS", "100")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&shown.stdout);
        assert!(text.contains("use-list"), "{text}");
    }
}

#[test]
fn a_bad_flag_is_one_error_line_with_the_suggestion() {
    let out = bru(&["backup", "--inclde", "x", "sqlite://a", "b.db"]);
    assert_eq!(out.status.code(), Some(2));
    let line = bru_fails(
        &["backup", "--inclde", "x", "sqlite://a", "b.db"],
        &[
            "unexpected argument '--inclde' found",
            "a similar argument exists: '--include'",
            "see bru --help",
        ],
    );
    assert!(
        line.starts_with("bru: error: unexpected argument"),
        "{line}"
    );
    bru_fails(
        &["restroe"],
        &[
            "unrecognized subcommand 'restroe'",
            "a similar subcommand exists: 'restore'",
        ],
    );
    bru_fails(&["backup", "-k"], &["unexpected argument '-k'"]);
    // The help lists every engine's endpoint form.
    for args in [
        &["--help"][..],
        &["backup", "--help"],
        &["restore", "--help"],
    ] {
        let help = String::from_utf8(bru_ok(args).stdout).unwrap();
        for form in ["sqlite://", "postgres://", "mssql://", "sqlserver://"] {
            assert!(help.contains(form), "{args:?} help lacks {form}");
        }
    }
    let help = String::from_utf8(bru_ok(&["--help"]).stdout).unwrap();
    assert!(
        help.lines()
            .any(|l| l.trim_start().starts_with("verify ") && l.contains("Check every chunk")),
        "{help}"
    );
}

#[test]
fn backup_progress_log_lines_carry_an_eta_from_the_row_estimates() {
    let dir = Dir::new();
    let src = dir.fixture("big.sqlite", 1);
    let archive = dir.path("a.db");
    let out = Command::new(env!("CARGO_BIN_EXE_bru"))
        .args([
            "backup",
            &url(&src),
            archive.to_str().unwrap(),
            "--jobs",
            "1",
        ])
        .env("BRU_PROGRESS_INTERVAL", "0.02")
        .output()
        .unwrap();
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    let line = stderr
        .lines()
        .find(|l| l.contains(" rows of about ") && l.contains(", ETA "))
        .unwrap_or_else(|| panic!("no progress line with an ETA: {stderr}"));
    assert!(line.starts_with("bru: "), "{line}");
    assert!(line.contains(" MB/s"), "{line}");
    assert!(!stderr.contains("MiB"), "{stderr}");
    // The backup's summary has one rows column, not the restore's two.
    let stdout = String::from_utf8_lossy(&out.stdout);
    let header = stdout.lines().next().unwrap();
    assert!(
        header.contains("rows") && !header.contains("rows loaded"),
        "{header}"
    );
    assert!(!header.contains("rows read"), "{header}");

    // --verbose: the per-table lines from the start, whatever the interval.
    let out = Command::new(env!("CARGO_BIN_EXE_bru"))
        .args([
            "backup",
            "-v",
            &url(&src),
            archive.to_str().unwrap(),
            "--force",
        ])
        .env("BRU_PROGRESS_INTERVAL", "600")
        .output()
        .unwrap();
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr
            .lines()
            .any(|l| l.starts_with("bru: table ") && l.contains(" done: ")),
        "{stderr}"
    );
}

#[test]
fn ctrl_c_stops_a_restore_with_130_and_resume_finishes_it() {
    let dir = Dir::new();
    let src = dir.fixture("big.sqlite", 2);
    let archive = dir.path("a.db");
    run(
        &["backup", "-q", "{url}", "{}", "--chunk-size", "64KiB"],
        &[&src, &archive],
    );
    let target = dir.path("t.sqlite");
    let mut child = Command::new(env!("CARGO_BIN_EXE_bru"))
        .args([
            "restore",
            archive.to_str().unwrap(),
            &url(&target),
            "--jobs",
            "1",
        ])
        .env("BRU_PROGRESS_INTERVAL", "0.05")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    // The first progress line: rows are being loaded.
    let mut line = String::new();
    loop {
        line.clear();
        assert!(
            stderr.read_line(&mut line).unwrap() > 0,
            "restore ended before any progress"
        );
        if line.contains(" rows of ") && !line.starts_with("bru: 0 rows") {
            break;
        }
    }
    // Frozen while the signal is sent, so that the Ctrl-C lands where the
    // progress line said the restore was, with most chunks still to load,
    // however fast this machine is: the restore cannot finish first.
    for signal in ["-STOP", "-INT", "-CONT"] {
        let kill = Command::new("kill")
            .args([signal, &child.id().to_string()])
            .status()
            .unwrap();
        assert!(kill.success(), "kill {signal}");
    }
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut rest).unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130), "{rest}");
    let last = rest
        .lines()
        .rfind(|l| !l.trim().is_empty())
        .unwrap_or_default();
    assert!(last.starts_with("bru: interrupted: "), "{rest}");
    assert!(last.contains("--resume"), "{last}");
    run(
        &["restore", "-q", "{}", "{url}", "--resume"],
        &[&archive, &target],
    );
    assert_eq!(dump(&target), dump(&src));
}

#[test]
fn the_password_is_asked_for_on_a_terminal_when_the_server_wants_one() {
    let Some(server) = TestServer::start() else {
        return;
    };
    if !server.is_local() {
        eprintln!("password prompt test needs its own server; skipped with BRU_TEST_PG_URL");
        return;
    }
    if Command::new("script").arg("--version").output().is_err() {
        eprintln!("SKIPPED: no `script` command to give bru a terminal");
        return;
    }
    const PW: &str = "Pr0mpted zq9";
    let db = server.create_db("hb_prompt");
    server.psql(
        &db,
        &format!(
            "CREATE ROLE pat LOGIN PASSWORD '{PW}'; GRANT ALL ON SCHEMA public TO pat; SET ROLE pat; \
             CREATE TABLE public.t (id int PRIMARY KEY); INSERT INTO public.t VALUES (1), (2)"
        ),
    );
    let sock = server.socket_dir().display().to_string();
    let dir = Dir::new();
    let endpoint = format!("host={sock} port=5432 user=pat dbname={db}");
    let archive = dir.path("p.db");
    // On a terminal (a pty that `script` makes), typing the password after
    // the prompt is up.
    let on_tty = |extra: &str, archive: &Path| {
        let cmd = format!(
            "{} backup '{endpoint}' {} --quiet {extra}",
            env!("CARGO_BIN_EXE_bru"),
            archive.display()
        );
        Command::new("sh")
            .arg("-c")
            .arg(format!(
                "(sleep 2; printf '%s\\n' '{PW}') | script -qec \"$0\" /dev/null"
            ))
            .arg(cmd)
            .env_remove("PGPASSWORD")
            .env("PGPASSFILE", dir.path("none"))
            .env("HOME", dir.path(""))
            .output()
            .unwrap()
    };
    let out = on_tty("", &archive);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{text}");
    assert!(text.contains("Password for "), "{text}");
    assert!(!text.contains("Pr0mpted"), "{text}");
    assert_eq!(listing(&archive).0, [("public.t".to_owned(), 2)]);
    // -W asks even before the server does.
    let forced = dir.path("w.db");
    let out = on_tty("-W", &forced);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("Password for "));
    // -w never asks: the error line says what to do.
    let never = dir.path("never.db");
    let out = on_tty("-w", &never);
    assert!(!out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!text.contains("Password for "), "{text}");
    assert!(
        text.contains("bru: error: ") && text.contains("password"),
        "{text}"
    );
    // Without a terminal, no prompt either: the same error, one line.
    let out = Command::new(env!("CARGO_BIN_EXE_bru"))
        .args(["backup", &endpoint, never.to_str().unwrap()])
        .env_remove("PGPASSWORD")
        .env("PGPASSFILE", dir.path("none"))
        .env("HOME", dir.path(""))
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("run bru on a terminal to be asked"),
        "{stderr}"
    );
    // -W on a SQLite endpoint is refused.
    bru_fails(
        &[
            "backup",
            "-W",
            &url(&dir.path("s.sqlite")),
            dir.path("s.db").to_str().unwrap(),
        ],
        &["sqlite:// endpoint takes no password"],
    );
}
