//! Cross-engine schema translation from SQL Server, through the real `bru`
//! binary, against the server `BRU_TEST_MSSQL_URL` names (one `SKIPPED`
//! line without it): a table's CHECKs and defaults and a view with `TOP`,
//! `ISNULL` and bracket-quoted names (lower case: Babelfish folds
//! names) arrive in PostgreSQL and SQLite
//! translated and enforced, or listed with the construct that has no exact
//! translation (`getdate()`, text compared under SQL Server's collation,
//! `newid()` into SQLite); the view returns the rows SQL Server returns.

mod util;

use bru_testsupport::mssql::{self, MssqlServer};
use util::{bru_ok, Dir};

const SCHEMA: &str = "
CREATE TABLE dbo.[shifts] (
    [id] int PRIMARY KEY,
    [hours] int NOT NULL DEFAULT ((8)),
    [rate] float DEFAULT ((0)),
    [active] bit NOT NULL DEFAULT ((1)),
    [note] nvarchar(20),
    [token] uniqueidentifier DEFAULT (newid()),
    [created] datetime DEFAULT (getdate()),
    CONSTRAINT [hours_in_a_day] CHECK ([hours]>(0) AND [hours]<=(24)),
    CONSTRAINT [note_not_empty] CHECK ([note]<>N'')
);
INSERT INTO dbo.[shifts] ([id], [hours], [rate], [active], [note], [created]) VALUES
  (1, 12, 1.5, 1, N'early', NULL), (2, 3, 0.25, 0, N'late', NULL), (3, 7, NULL, 1, NULL, NULL),
  (4, 20, 2.5, 0, N'night', NULL), (5, 1, 0, 1, N'x', NULL);
";

const VIEW: &str =
    "CREATE VIEW dbo.[busy] AS SELECT TOP 3 [id], ISNULL([hours], 0) * 2 AS [double], \
     CASE WHEN [active] = 1 THEN 1 ELSE 0 END AS [onduty] FROM dbo.[shifts] WHERE [hours] > 2 \
     ORDER BY [id] DESC";

#[test]
fn sql_server_checks_defaults_and_views_arrive_translated_or_named() {
    let test = "sql_server_checks_defaults_and_views_arrive_translated_or_named";
    let Some(server) = MssqlServer::from_env(test) else {
        return;
    };
    let Some(pg) = bru_testsupport::pg::TestServer::start() else {
        return;
    };
    let url = server.create_db("mtr_xlate");
    mssql::exec(&url, SCHEMA);
    mssql::exec(&url, VIEW);
    let dir = Dir::new();
    let archive = dir.path("ms.db");
    let archive = archive.to_str().expect("utf-8 path");
    bru_ok(&["backup", &url, archive, "--quiet"]);

    // Into PostgreSQL.
    let db = pg.create_db("fromms");
    let out = bru_ok(&["restore", archive, &pg.url(&db)]);
    let summary = String::from_utf8_lossy(&out.stdout).into_owned();
    for want in [
        "translated: table dbo.shifts: CHECK hours_in_a_day: translated from mssql:",
        "translated: table dbo.shifts: column token: default: translated from mssql: gen_random_uuid()",
        "translated: view dbo.busy: translated from mssql: CREATE VIEW",
    ] {
        assert!(summary.contains(want), "{want} in {summary}");
    }
    // Babelfish keeps N'' as CAST(('') AS nvarchar(2)), SQL Server as
    // N'': either construct is named.
    for (what, constructs) in [
        (
            "table dbo.shifts: column created: default",
            &["getdate()"][..],
        ),
        (
            "table dbo.shifts: CHECK note_not_empty",
            &["collation", "a cast to NVARCHAR"][..],
        ),
    ] {
        let line = summary
            .lines()
            .find(|l| l.starts_with(&format!("skipped: {what}: not translated from mssql")))
            .unwrap_or_else(|| panic!("{what} in {summary}"));
        assert!(constructs.iter().any(|c| line.contains(c)), "{line}");
    }
    // The view gives SQL Server's rows.
    let mut want: Vec<String> = mssql::query(&url, "SELECT * FROM dbo.[busy]")
        .into_iter()
        .map(|r| r.join("|"))
        .collect();
    want.sort();
    let mut got: Vec<String> = pg
        .psql(&db, "SELECT * FROM dbo.\"busy\"")
        .lines()
        .map(str::to_owned)
        .collect();
    got.sort();
    assert_eq!(got, want);
    assert_eq!(want.len(), 3, "{want:?}");
    // The CHECK holds, the defaults give SQL Server's values.
    let e = pg
        .try_psql(
            &db,
            "INSERT INTO dbo.\"shifts\" (\"id\", \"hours\") VALUES (90, 25)",
        )
        .expect_err("hours 25");
    assert!(e.contains("hours_in_a_day"), "{e}");
    pg.psql(&db, "INSERT INTO dbo.\"shifts\" (\"id\") VALUES (91)");
    assert_eq!(
        pg.psql(
            &db,
            "SELECT \"hours\", \"rate\", \"active\", \"token\" IS NOT NULL, \"created\" IS NULL \
             FROM dbo.\"shifts\" WHERE \"id\" = 91"
        )
        .trim(),
        "8|0|t|t|t"
    );

    // Into SQLite.
    let sqlite = dir.path("t.sqlite");
    let out = bru_ok(&["restore", archive, &util::url(&sqlite)]);
    let summary = String::from_utf8_lossy(&out.stdout).into_owned();
    let line = summary
        .lines()
        .find(|l| l.starts_with("skipped: table dbo.shifts: column token: default: not translated"))
        .unwrap_or_else(|| panic!("Token's default in {summary}"));
    assert!(line.contains("uuid"), "{line}");
    let conn = rusqlite::Connection::open(&sqlite).expect("open sqlite");
    let mut got: Vec<String> = bru_testsupport::sqlite::query_strings(
        &conn,
        "SELECT \"id\" || '|' || \"double\" || '|' || \"onduty\" FROM \"busy\"",
    );
    got.sort();
    assert_eq!(got, want, "the view in SQLite");
    let e = conn
        .execute(
            "INSERT INTO \"shifts\" (\"id\", \"hours\") VALUES (90, 0)",
            [],
        )
        .expect_err("hours 0")
        .to_string();
    assert!(e.contains("hours_in_a_day"), "{e}");
    conn.execute("INSERT INTO \"shifts\" (\"id\") VALUES (91)", [])
        .expect("defaults");
    let row: (i64, f64, i64) = conn
        .query_row(
            "SELECT \"hours\", \"rate\", \"active\" FROM \"shifts\" WHERE \"id\" = 91",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .expect("row 91");
    assert_eq!(row, (8, 0.0, 1));
    server.drop_db("mtr_xlate");
}
