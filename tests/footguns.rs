//! Footguns of issue 9, through the real `bru` binary: a filter that
//! selects nothing, pg_dump's pattern rules, views over a table a filter
//! leaves out, an archive that is the database itself, tables of two schemas
//! that SQLite's one namespace cannot hold, and the error lines around them
//! (said once, with a hint after a failed restore, "nothing to resume",
//! `--jobs 0`).

mod util;

use std::path::{Path, PathBuf};

use bru_testsupport::pg::TestServer;
use bru_testsupport::sqlite::{dump, run_sql};
use util::{bru, bru_fails, bru_ok, schema, url, Dir};

/// A small SQLite database: two tables, a view over each, a view over a
/// view, a view that only names `agents` in a string, and a trigger.
fn source(dir: &Dir) -> PathBuf {
    let path = dir.path("w.sqlite");
    run_sql(
        &path,
        "CREATE TABLE Agents(id INTEGER PRIMARY KEY, n TEXT);
         INSERT INTO Agents VALUES (1, 'a'), (2, 'b');
         CREATE TABLE sites(id INTEGER PRIMARY KEY, name TEXT);
         INSERT INTO sites VALUES (1, 's');
         CREATE VIEW v_agents AS SELECT * FROM agents;
         CREATE VIEW v2 AS SELECT n FROM v_agents;
         CREATE VIEW v_sites AS SELECT * FROM sites;
         CREATE VIEW labels AS SELECT 'agents' AS label, name FROM sites;
         CREATE TRIGGER t_agents AFTER INSERT ON agents BEGIN SELECT 1; END;",
    );
    path
}

fn backup(src: &Path, archive: &Path, flags: &[&str]) -> std::process::Output {
    let mut args = vec!["backup", "--json", src.to_str().unwrap(), ""];
    let src_url = url(src);
    args[2] = &src_url;
    args[3] = archive.to_str().unwrap();
    args.extend_from_slice(flags);
    bru_ok(&args)
}

fn json(out: &std::process::Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).expect("json summary")
}

fn tables_of(summary: &serde_json::Value) -> Vec<String> {
    summary["tables"]
        .as_array()
        .expect("tables")
        .iter()
        .map(|t| t["table"].as_str().unwrap().to_owned())
        .collect()
}

fn skipped_of(summary: &serde_json::Value) -> Vec<String> {
    summary["skipped"]
        .as_array()
        .map(|a| a.iter().map(|s| s.as_str().unwrap().to_owned()).collect())
        .unwrap_or_default()
}

fn views(path: &Path) -> Vec<String> {
    schema(path)
        .into_iter()
        .filter(|s| s.starts_with("view "))
        .map(|s| s.split(' ').nth(1).unwrap().to_owned())
        .collect()
}

#[test]
fn a_filter_that_selects_nothing_is_refused_and_writes_nothing() {
    let dir = Dir::new();
    let src = source(&dir);
    let archive = dir.path("a.db");
    let a = archive.to_str().unwrap();
    bru_fails(
        &["backup", &url(&src), a, "--include", "nothing*", "--quiet"],
        &["no matching tables", "\"nothing*\""],
    );
    assert!(!archive.exists(), "no archive is written");
    // An include pattern that matches nothing is an error even when another
    // one matches (pg_dump --strict-names).
    bru_fails(
        &[
            "backup",
            &url(&src),
            a,
            "--include",
            "sites",
            "--include",
            "typo",
        ],
        &["\"typo\"", "matches no table"],
    );
    assert!(!archive.exists());
    // Excluding everything.
    bru_fails(
        &["backup", &url(&src), a, "--exclude", "*"],
        &["no matching tables", "--exclude"],
    );

    backup(&src, &archive, &[]);
    let target = dir.path("t.sqlite");
    bru_fails(
        &["restore", a, &url(&target), "--include", "nothing"],
        &["no matching tables", "\"nothing\""],
    );
    assert!(!target.exists(), "no target is created");
}

#[test]
fn patterns_follow_pg_dump_rules_on_sqlite_names() {
    let dir = Dir::new();
    let src = source(&dir);
    for (pattern, expect) in [
        ("AGENTS", vec!["Agents"]),
        ("main.agent*", vec!["Agents"]),
        ("\"agents\"", vec!["Agents"]),
        ("?ites", vec!["sites"]),
        ("main.*", vec!["Agents", "sites"]),
    ] {
        let archive = dir.path("p.db");
        let out = backup(&src, &archive, &["--include", pattern, "--force"]);
        assert_eq!(tables_of(&json(&out)), expect, "--include {pattern}");
    }
    // `*` does not cross the schema dot: no SQLite table is in schema `m`.
    bru_fails(
        &[
            "backup",
            &url(&src),
            dir.path("x.db").to_str().unwrap(),
            "--include",
            "m*",
        ],
        &["\"m*\""],
    );
    // Regular-expression notation is refused, naming the pattern.
    bru_fails(
        &[
            "backup",
            &url(&src),
            dir.path("x.db").to_str().unwrap(),
            "--include",
            "[a]gents",
        ],
        &["\"[a]gents\"", "regular-expression"],
    );
}

#[test]
fn views_over_a_left_out_table_are_left_out_and_listed() {
    let dir = Dir::new();
    let src = source(&dir);

    // Backup: the views over agents go with it, listed; the view that only
    // names 'agents' in a string stays.
    let part = dir.path("part.db");
    let summary = json(&backup(&src, &part, &["--exclude", "agents"]));
    assert_eq!(tables_of(&summary), ["sites"]);
    assert_eq!(
        skipped_of(&summary),
        [
            "view v_agents: depends on table Agents, left out by --include/--exclude",
            "view v2: depends on table Agents, left out by --include/--exclude",
        ]
    );
    let listed = bru_engine::list(&part).expect("list").objects;
    assert_eq!(listed, ["view v_sites", "view labels"]);

    // Restore from a full archive with --include: the same.
    let full = dir.path("full.db");
    backup(&src, &full, &[]);
    let target = dir.path("t.sqlite");
    let out = bru_ok(&[
        "restore",
        full.to_str().unwrap(),
        &url(&target),
        "--include",
        "sites",
        "--json",
    ]);
    let summary = json(&out);
    assert_eq!(
        skipped_of(&summary),
        [
            "view v_agents: depends on table Agents, left out by --include/--exclude",
            "view v2: depends on table Agents, left out by --include/--exclude",
        ]
    );
    let mut got = views(&target);
    got.sort();
    assert_eq!(got, ["labels", "v_sites"]);
    // Every view left in the target works.
    let conn = run_sql(&target, "SELECT * FROM labels; SELECT * FROM v_sites;");
    let n: i64 = conn
        .query_row("SELECT count(*) FROM labels", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 1);
    // --dry-run lists them too.
    let out = bru_ok(&[
        "restore",
        full.to_str().unwrap(),
        &url(&dir.path("dry.sqlite")),
        "--include",
        "sites",
        "--dry-run",
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("left out: view v_agents"), "{text}");
}

#[test]
fn an_archive_that_is_the_database_itself_is_refused() {
    let dir = Dir::new();
    let src = source(&dir);
    let before = std::fs::read(&src).unwrap();
    let s = src.to_str().unwrap();
    bru_fails(
        &["backup", &url(&src), s, "--force"],
        &["source database itself", "another file"],
    );
    // Through a symlink, a hard link and another spelling of the path.
    let link = dir.path("link.db");
    std::os::unix::fs::symlink(&src, &link).unwrap();
    let hard = dir.path("hard.db");
    std::fs::hard_link(&src, &hard).unwrap();
    let dotted = dir.path(".").join("w.sqlite");
    for other in [&link, &hard, &dotted] {
        bru_fails(
            &["backup", &url(&src), other.to_str().unwrap(), "--force"],
            &["source database itself"],
        );
    }
    assert_eq!(
        std::fs::read(&src).unwrap(),
        before,
        "the source is untouched"
    );

    let archive = dir.path("a.db");
    backup(&src, &archive, &[]);
    let archived = std::fs::read(&archive).unwrap();
    let a = archive.to_str().unwrap();
    bru_fails(
        &["restore", a, &url(&archive)],
        &["target database itself", "another database file"],
    );
    let alink = dir.path("alink.sqlite");
    std::os::unix::fs::symlink(&archive, &alink).unwrap();
    bru_fails(
        &["restore", a, &url(&alink), "--clean"],
        &["target database itself"],
    );
    assert_eq!(
        std::fs::read(&archive).unwrap(),
        archived,
        "the archive is untouched"
    );
    bru_ok(&["verify", a, "--quiet"]);
}

/// Runs `bru` as a user the file permissions apply to: `nobody` when the
/// tests run as root (whom no permission stops), else the current user.
fn bru_unprivileged(args: &[&str]) -> std::process::Output {
    let root = std::process::Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false);
    let mut cmd = if root {
        let mut c = std::process::Command::new("runuser");
        c.args(["-u", "nobody", "--", env!("CARGO_BIN_EXE_bru")]);
        c
    } else {
        std::process::Command::new(env!("CARGO_BIN_EXE_bru"))
    };
    cmd.args(args).output().expect("run bru")
}

/// The one error line of a failed run.
fn one_error_line(out: &std::process::Output) -> String {
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "one error line: {stderr}");
    lines[0].to_owned()
}

#[test]
fn a_read_only_target_or_directory_is_named_with_what_to_do() {
    use std::os::unix::fs::PermissionsExt;
    let dir = Dir::new();
    std::fs::set_permissions(dir.tmp.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let src = source(&dir);
    let archive = dir.path("a.db");
    backup(&src, &archive, &[]);
    std::fs::set_permissions(&archive, std::fs::Permissions::from_mode(0o644)).unwrap();
    std::fs::set_permissions(&src, std::fs::Permissions::from_mode(0o644)).unwrap();
    let a = archive.to_str().unwrap();

    // A read-only file: refused before anything, not a failed journal
    // write with a --resume hint that cannot help.
    let ro = dir.path("ro.sqlite");
    run_sql(&ro, "CREATE TABLE other(x); INSERT INTO other VALUES (1);");
    std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o444)).unwrap();
    let before = std::fs::read(&ro).unwrap();
    let line = one_error_line(&bru_unprivileged(&["restore", a, &url(&ro)]));
    assert!(line.contains("ro.sqlite: is read-only"), "{line}");
    assert!(line.contains("make it writable"), "{line}");
    assert!(!line.contains("--resume"), "{line}");
    assert_eq!(std::fs::read(&ro).unwrap(), before);
    // A device is no database file either.
    let line = one_error_line(&bru(&["restore", a, "sqlite:///dev/null"]));
    assert!(line.contains("/dev/null: is not a regular file"), "{line}");
    assert!(!line.contains("--resume"), "{line}");

    // A directory the user may not write: the target and the archive.
    let locked = dir.path("locked");
    std::fs::create_dir(&locked).unwrap();
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o555)).unwrap();
    let target = locked.join("t.sqlite");
    let line = one_error_line(&bru_unprivileged(&["restore", a, &url(&target)]));
    // SQLite's own message would name the path a third time.
    assert!(!line.contains("unable to open database file"), "{line}");
    assert!(line.contains("check that you may write"), "{line}");
    let out_archive = locked.join("b.db");
    let line = one_error_line(&bru_unprivileged(&[
        "backup",
        &url(&src),
        out_archive.to_str().unwrap(),
    ]));
    assert!(line.contains("b.db"), "{line}");
    assert!(line.contains("permission denied"), "{line}");
    assert!(
        line.contains("a directory you may create files in"),
        "{line}"
    );
    assert!(!line.contains(".bru-"), "no temporary file name: {line}");
}

#[test]
fn resume_on_a_finished_target_says_there_is_nothing_to_resume() {
    let dir = Dir::new();
    let src = source(&dir);
    let archive = dir.path("a.db");
    backup(&src, &archive, &[]);
    let a = archive.to_str().unwrap();
    let target = dir.path("t.sqlite");
    bru_ok(&["restore", a, &url(&target), "--quiet"]);
    let before = std::fs::read(&target).unwrap();
    let out = bru_ok(&["restore", a, &url(&target), "--resume"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("nothing to resume"), "{text}");
    assert_eq!(std::fs::read(&target).unwrap(), before, "nothing was done");
    let summary = json(&bru_ok(&[
        "restore",
        a,
        &url(&target),
        "--resume",
        "--json",
    ]));
    assert_eq!(summary["nothing_to_resume"], true);

    // A target that never saw a restore: --resume starts from the beginning.
    let fresh = dir.path("fresh.sqlite");
    bru_ok(&["restore", a, &url(&fresh), "--resume", "--quiet"]);
    assert_eq!(dump(&fresh), dump(&src));
}

#[test]
fn a_failed_restore_says_its_cause_once_and_how_to_go_on() {
    let dir = Dir::new();
    let src = source(&dir);
    let archive = dir.path("a.db");
    backup(&src, &archive, &[]);
    let a = archive.to_str().unwrap();
    let target = dir.path("t.sqlite");
    bru_ok(&["restore", a, &url(&target), "--schema-only", "--quiet"]);
    // A row with the key of the archive's: the data-only restore fails on it.
    run_sql(&target, "INSERT INTO sites VALUES (1, 'taken')");
    let line = bru_fails(
        &["restore", a, &url(&target), "--data-only", "--jobs", "1"],
        &["--resume", "--clean", "sites"],
    );
    assert_eq!(
        line.matches("UNIQUE constraint failed").count(),
        1,
        "the cause is said once: {line}"
    );
}

#[test]
fn jobs_zero_is_refused_by_the_argument_parser() {
    let dir = Dir::new();
    let src = source(&dir);
    let a = dir.path("a.db");
    let a = a.to_str().unwrap();
    bru_fails(
        &["backup", &url(&src), a, "--jobs", "0"],
        &["--jobs", "1 or more"],
    );
    assert!(!Path::new(a).exists());
    bru_fails(&["verify", a, "-j", "0"], &["--jobs", "1 or more"]);
    bru_fails(
        &["restore", a, &url(&dir.path("t.sqlite")), "--jobs", "0"],
        &["--jobs"],
    );
    // Far more workers than any machine has cores is refused too: it hung.
    bru_fails(
        &["backup", &url(&src), a, "--jobs", "100000"],
        &["--jobs", "at most 256"],
    );
    assert!(!Path::new(a).exists());
    bru_ok(&["backup", &url(&src), a, "--jobs", "256", "--quiet"]);
    // Other argument errors are one line too.
    bru_fails(&["backup"], &["<SOURCE>", "<ARCHIVE>"]);
    assert_eq!(bru(&["backup", "--jobs", "0"]).status.code(), Some(2));
}

/// Two schemas with a table `staff` each (b's pointing at a's), an index on
/// each, and a view over a's.
const TWO_SCHEMAS: &str = "
    CREATE SCHEMA a; CREATE SCHEMA b;
    CREATE TABLE a.staff (id int PRIMARY KEY, name text);
    CREATE INDEX staff_name ON a.staff (name);
    CREATE TABLE b.staff (id int PRIMARY KEY, boss int REFERENCES a.staff (id), name text);
    CREATE INDEX staff_name ON b.staff (name);
    INSERT INTO a.staff VALUES (1, 'ann'), (2, 'bob');
    INSERT INTO b.staff VALUES (10, 1, 'cy'), (11, 2, 'di'), (12, 1, 'ed');
    CREATE VIEW a.v AS SELECT name FROM a.staff;
    CREATE VIEW public.names AS SELECT name FROM b.staff;
";

#[test]
fn resume_that_leaves_out_a_table_the_unfinished_restore_started_is_refused() {
    let dir = Dir::new();
    let src = dir.path("s.sqlite");
    run_sql(
        &src,
        "CREATE TABLE a (x INTEGER); CREATE INDEX a_x ON a (x);
         INSERT INTO a VALUES (1), (2);
         CREATE TABLE b (y INTEGER); INSERT INTO b VALUES (3), (4), (5);",
    );
    let archive = dir.path("a.db");
    backup(&src, &archive, &[]);
    let a = archive.to_str().unwrap();
    // An index of the user's named like the archive's stops the restore
    // after its tables are created: an unfinished restore.
    let target = dir.path("t.sqlite");
    let t = url(&target);
    run_sql(
        &target,
        "CREATE TABLE other (z); CREATE INDEX a_x ON other (z);",
    );
    bru_fails(&["restore", a, &t], &["a_x", "--resume"]);
    run_sql(&target, "DROP INDEX a_x;");
    let before = dump(&target);

    // Resuming with a filter that leaves b out would end the restore with
    // b as the first run left it, and the journal saying nothing of it.
    bru_fails(
        &["restore", a, &t, "--resume", "--exclude", "b"],
        &["cannot resume", "table(s) b", "same --include/--exclude"],
    );
    bru_fails(
        &["restore", a, &t, "--resume", "--include", "a"],
        &["cannot resume", "table(s) b"],
    );
    assert_eq!(dump(&target), before, "nothing was done");

    // With the same selection, it finishes as the source.
    bru_ok(&["restore", a, &t, "--resume", "--quiet"]);
    let rows = dump(&target);
    for table in ["a", "b"] {
        let got = rows.iter().find(|r| r.0 == table).expect("restored table");
        let want = dump(&src).into_iter().find(|r| r.0 == table).unwrap();
        assert_eq!(got.1, want.1, "{table}");
    }
}

#[test]
fn resume_with_another_schema_prefix_is_refused() {
    let Some((server, src)) = TestServer::start_with_db("fg_prefix_src", TWO_SCHEMAS) else {
        return;
    };
    let dir = Dir::new();
    let archive = dir.path("pg.db");
    let a = archive.to_str().unwrap();
    bru_ok(&["backup", &server.url(&src), a, "--quiet"]);
    // An index of the user's named like the archive's index of a.staff
    // stops the restore after the rows are in: an unfinished restore,
    // journal and all.
    let target = dir.path("t.sqlite");
    let t = url(&target);
    run_sql(
        &target,
        "CREATE TABLE other (x); CREATE INDEX staff_name ON other (x);",
    );
    bru_fails(
        &["restore", a, &t, "--exclude", "b.staff"],
        &["staff_name", "--resume"],
    );
    run_sql(&target, "DROP INDEX staff_name;");
    let before = dump(&target);

    // --schema-prefix renames every table: resuming with it would restore
    // a_staff afresh and leave the unfinished staff as it is.
    bru_fails(
        &[
            "restore",
            a,
            &t,
            "--exclude",
            "b.staff",
            "--resume",
            "--schema-prefix",
        ],
        &["cannot resume", "full (--schema-prefix)", "same options"],
    );
    assert_eq!(dump(&target), before, "nothing was done");

    // With the same options, it finishes.
    bru_ok(&[
        "restore",
        a,
        &t,
        "--exclude",
        "b.staff",
        "--resume",
        "--quiet",
    ]);
    let rows = dump(&target);
    let staff = rows.iter().find(|r| r.0 == "staff").expect("staff");
    assert_eq!(staff.1.len(), 2);
    assert!(!rows.iter().any(|r| r.0 == "a_staff"), "{rows:?}");
}

#[test]
fn same_table_in_two_postgres_schemas_into_sqlite() {
    let Some((server, src)) = TestServer::start_with_db("fg_src", TWO_SCHEMAS) else {
        return;
    };
    let dir = Dir::new();
    let archive = dir.path("pg.db");
    let a = archive.to_str().unwrap();
    bru_ok(&["backup", &server.url(&src), a, "--quiet"]);

    // Refused before anything is written, naming both and the ways forward.
    let target = dir.path("t.sqlite");
    bru_fails(
        &["restore", a, &url(&target)],
        &[
            "table a.staff and table b.staff",
            "--exclude",
            "--schema-prefix",
        ],
    );
    assert!(!target.exists(), "nothing was written");

    // --exclude one of them.
    let one = dir.path("one.sqlite");
    let summary = json(&bru_ok(&[
        "restore",
        a,
        &url(&one),
        "--exclude",
        "b.staff",
        "--json",
    ]));
    assert_eq!(tables_of(&summary), ["a.staff"]);
    assert!(
        skipped_of(&summary)
            .iter()
            .any(|s| s.starts_with("view public.names: depends on table b.staff")),
        "{summary}"
    );
    let rows = dump(&one);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].0, "staff");
    assert_eq!(rows[0].1.len(), 2);

    // --schema-prefix: both, renamed, with the foreign key and indexes, and
    // every table's rows counted once.
    let both = dir.path("both.sqlite");
    let summary = json(&bru_ok(&[
        "restore",
        a,
        &url(&both),
        "--schema-prefix",
        "--json",
    ]));
    let mut rows: Vec<(String, u64)> = summary["tables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["table"].as_str().unwrap().to_owned(),
                t["rows_loaded"].as_u64().unwrap(),
            )
        })
        .collect();
    rows.sort();
    assert_eq!(rows, [("a_staff".to_owned(), 2), ("b_staff".to_owned(), 3)]);
    let skipped = skipped_of(&summary);
    for view in ["view a.v", "view public.names"] {
        assert!(
            skipped
                .iter()
                .any(|s| s.starts_with(view) && s.contains("--schema-prefix")),
            "{view}: {skipped:?}"
        );
    }
    let conn = run_sql(&both, "PRAGMA foreign_key_check;");
    let fk: String = conn
        .query_row(
            "SELECT \"table\" FROM pragma_foreign_key_list('b_staff')",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(fk, "a_staff");
    let indexes: i64 = conn
        .query_row(
            "SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND name IN ('a_staff_name', 'b_staff_name')",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(indexes, 2);
    let tables: Vec<String> = dump(&both).into_iter().map(|(t, _)| t).collect();
    assert_eq!(tables, ["a_staff", "b_staff"]);

    // Indexes share SQLite's one namespace too: two of one name on tables
    // of different names clash as well.
    let idx = server.create_db("fg_idx");
    server.psql(
        &idx,
        "CREATE SCHEMA a; CREATE SCHEMA b;
         CREATE TABLE a.shifts (id int, day date); CREATE INDEX by_day ON a.shifts (day);
         CREATE TABLE b.rota (id int, day date); CREATE INDEX by_day ON b.rota (day);
         INSERT INTO a.shifts VALUES (1, '2026-01-01'); INSERT INTO b.rota VALUES (2, '2026-01-02');",
    );
    let idx_archive = dir.path("idx.db");
    let ia = idx_archive.to_str().unwrap();
    bru_ok(&["backup", &server.url(&idx), ia, "--quiet"]);
    let t = dir.path("idx.sqlite");
    bru_fails(
        &["restore", ia, &url(&t)],
        &["index a.by_day and index b.by_day", "--exclude 'b.rota'"],
    );
    assert!(!t.exists(), "nothing was written");
    bru_ok(&["restore", ia, &url(&t), "--schema-prefix", "--quiet"]);
    let conn = run_sql(&t, "SELECT 1");
    let mut names: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_schema WHERE type = 'index' ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    names.sort();
    assert_eq!(names, ["a_by_day", "b_by_day"]);

    // Into PostgreSQL, which keeps schemas, there is no clash, and
    // --schema-prefix is refused as not needed.
    let db = server.create_db("fg_dst");
    bru_fails(
        &["restore", a, &server.url(&db), "--schema-prefix"],
        &["--schema-prefix", "keeps schemas"],
    );
    bru_ok(&["restore", a, &server.url(&db), "--quiet"]);
    assert_eq!(server.contents(&src), server.contents(&db));
}

#[test]
fn postgres_patterns_and_views_over_left_out_tables() {
    let Some((server, src)) = TestServer::start_with_db("fg_pat", TWO_SCHEMAS) else {
        return;
    };
    let dir = Dir::new();
    let archive = dir.path("pg.db");
    let a = archive.to_str().unwrap();
    // Unquoted letters fold to lower case; quoted ones keep it.
    let summary = json(&bru_ok(&[
        "backup",
        &server.url(&src),
        a,
        "--include",
        "A.STAFF",
        "--json",
    ]));
    assert_eq!(tables_of(&summary), ["a.staff"]);
    assert_eq!(
        skipped_of(&summary),
        [
            "view public.names: depends on table b.staff, left out by --include/--exclude",
            "owner public.names: depends on view public.names, left out by --include/--exclude",
        ]
    );
    bru_fails(
        &[
            "backup",
            &server.url(&src),
            dir.path("q.db").to_str().unwrap(),
            "--include",
            "\"A\".staff",
        ],
        &["no matching tables", "\"\\\"A\\\".staff\""],
    );
    // The bare name matches in every schema; `*` does not cross the dot.
    let all = dir.path("all.db");
    let summary = json(&bru_ok(&[
        "backup",
        &server.url(&src),
        all.to_str().unwrap(),
        "--include",
        "staff",
        "--json",
    ]));
    assert_eq!(tables_of(&summary), ["a.staff", "b.staff"]);

    // Restored into PostgreSQL with a view over a left-out table: the view
    // and its owner are left out, listed; the rest restores.
    let db = server.create_db("fg_part");
    let summary = json(&bru_ok(&[
        "restore",
        all.to_str().unwrap(),
        &server.url(&db),
        "--exclude",
        "a.staff",
        "--json",
    ]));
    let skipped = skipped_of(&summary);
    assert!(
        skipped
            .iter()
            .any(|s| s.starts_with("view a.v: depends on table a.staff")),
        "{skipped:?}"
    );
    assert!(
        skipped.iter().any(|s| s
            == "foreign key staff_boss_fkey of table b.staff: references table a.staff, \
                left out by --include/--exclude"),
        "{skipped:?}"
    );
    assert_eq!(
        server.psql(
            &db,
            "SELECT to_regclass('a.v') IS NULL, count(*) FROM b.staff"
        ),
        "t|3\n"
    );
}
