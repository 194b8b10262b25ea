//! Live tests of the SQL Server engine, through the real `bru` binary,
//! against the server `BRU_TEST_MSSQL_URL` names (a SQL Server, or
//! Babelfish for PostgreSQL). Without it each test prints one
//! `SKIPPED: <test>: BRU_TEST_MSSQL_URL is not set` line and passes (CI
//! has no server).
//!
//! - every SQL Server type, at its edges, round-trips SQL Server → archive
//!   → SQL Server exactly: the sorted rows and the schema read back from
//!   `sys.*` are the source's;
//! - SQL Server → PostgreSQL and PostgreSQL → SQL Server (PostgreSQL from
//!   `initdb` on PATH, as the other PostgreSQL tests);
//! - the WFM fixture (`bru demo`'s SQLite database) migrated into SQL
//!   Server and back into SQLite, rows equal;
//! - a writer moving money between accounts during a backup leaves the
//!   archive's total as it was (one snapshot).
//!
//! Each test makes its own databases, named `mtrust_<test>_…`, and drops
//! them when it passes.

mod util;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use bru_testsupport::mssql::{self, MssqlServer};
use util::{bru, bru_exits, bru_ok, Dir};

/// The torture table: every SQL Server type bru carries, by column name,
/// type, and the literals of its rows (the smallest value, the largest,
/// and an ordinary one with every fractional digit); a fourth row is all
/// NULL. `sql_variant` and the Babelfish-less types are added by
/// [`torture_sql`].
const TORTURE: &[(&str, &str, [&str; 3])] = &[
    ("c_tinyint", "tinyint", ["0", "255", "7"]),
    ("c_smallint", "smallint", ["-32768", "32767", "12"]),
    ("c_int", "int", ["-2147483648", "2147483647", "42"]),
    (
        "c_bigint",
        "bigint",
        ["-9223372036854775808", "9223372036854775807", "-1"],
    ),
    ("c_bit", "bit", ["0", "1", "1"]),
    (
        "c_dec38_0",
        "decimal(38,0)",
        [
            "-99999999999999999999999999999999999999",
            "99999999999999999999999999999999999999",
            "0",
        ],
    ),
    (
        "c_dec18_2",
        "decimal(18,2)",
        ["-9999999999999999.99", "9999999999999999.99", "1.50"],
    ),
    (
        "c_num10_5",
        "numeric(10,5)",
        ["-99999.99999", "99999.99999", "0.00001"],
    ),
    (
        "c_money",
        "money",
        ["-922337203685477.5808", "922337203685477.5807", "12.3400"],
    ),
    (
        "c_smallmoney",
        "smallmoney",
        ["-214748.3648", "214748.3647", "0.0001"],
    ),
    ("c_real", "real", ["-3.4e38", "3.4e38", "0.1"]),
    ("c_float", "float", ["-1.79e308", "1.79e308", "0.1"]),
    ("c_char", "char(5)", ["''", "'zzzzz'", "'ab'"]),
    (
        "c_varchar",
        "varchar(20)",
        ["''", "'zzzzzzzzzzzzzzzzzzzz'", "'it''s'"],
    ),
    (
        "c_varchar_max",
        "varchar(max)",
        ["''", "REPLICATE(CAST('x' AS varchar(max)), 9000)", "'a;b'"],
    ),
    ("c_nchar", "nchar(5)", ["N''", "N'ééééé'", "N'ab'"]),
    (
        "c_nvarchar",
        "nvarchar(50)",
        ["N''", "N'日本語テキスト'", "N'astral: 😀 and ]] and '''"],
    ),
    (
        "c_nvarchar_max",
        "nvarchar(max)",
        [
            "N''",
            "REPLICATE(CAST(N'ü' AS nvarchar(max)), 5000)",
            "N'line1\nline2'",
        ],
    ),
    (
        "c_binary",
        "binary(4)",
        ["0x00000000", "0xFFFFFFFF", "0x01020304"],
    ),
    (
        "c_varbinary",
        "varbinary(10)",
        ["0x", "0xFFFFFFFFFFFFFFFFFFFF", "0x00"],
    ),
    (
        "c_varbinary_max",
        "varbinary(max)",
        [
            "0x",
            "CAST(REPLICATE(CAST('z' AS varchar(max)), 9000) AS varbinary(max))",
            "0xDEADBEEF",
        ],
    ),
    (
        "c_date",
        "date",
        ["'0001-01-01'", "'9999-12-31'", "'2024-02-29'"],
    ),
    (
        "c_time7",
        "time(7)",
        ["'00:00:00'", "'23:59:59.999999'", "'12:34:56.1234567'"],
    ),
    (
        "c_time0",
        "time(0)",
        ["'00:00:00'", "'23:59:59'", "'08:00:00'"],
    ),
    (
        "c_datetime",
        "datetime",
        [
            "'1753-01-01T00:00:00'",
            "'9999-12-31T23:59:59.997'",
            "'2024-03-01T12:34:56.003'",
        ],
    ),
    (
        "c_smalldatetime",
        "smalldatetime",
        [
            "'1900-01-01T00:00:00'",
            "'2079-06-06T23:59:00'",
            "'2024-03-01T12:34:00'",
        ],
    ),
    (
        "c_datetime2",
        "datetime2(7)",
        [
            "'0001-01-01T00:00:00'",
            "'9999-12-31T23:59:59.999999'",
            "'2024-03-01T12:34:56.1234567'",
        ],
    ),
    (
        "c_datetime2_0",
        "datetime2(0)",
        [
            "'0001-01-01T00:00:00'",
            "'9999-12-31T23:59:59'",
            "'2024-03-01T12:34:56'",
        ],
    ),
    (
        "c_dto",
        "datetimeoffset(7)",
        [
            "'0001-01-01T14:00:00+14:00'",
            "'9999-12-31T09:59:59.999999-14:00'",
            "'2024-03-01T12:34:56.1234567-05:30'",
        ],
    ),
    (
        "c_uuid",
        "uniqueidentifier",
        [
            "'00000000-0000-0000-0000-000000000000'",
            "'FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF'",
            "'6F9619FF-8B86-D011-B42D-00C04FC964FF'",
        ],
    ),
    (
        "c_xml",
        "xml",
        ["N'<a/>'", "N'<r><x k=\"1\">é</x></r>'", "N'<a>text</a>'"],
    ),
    ("c_text", "text", ["''", "'text'", "'x'"]),
    ("c_ntext", "ntext", ["N''", "N'ntext ü'", "N'y'"]),
    ("c_image", "image", ["0x", "0x00FF", "0x01"]),
];

/// Columns of types a server may not have (Babelfish has none of them
/// without its escape hatches): added when the server takes them, and
/// filled by UPDATEs; with the expression that reads them as text (the
/// rowversion is left out of the rows compared: a restore gets the
/// server's own).
const OPTIONAL: &[(&str, &str, [&str; 3], &str)] = &[
    (
        "c_variant",
        "sql_variant",
        ["CAST(5 AS int)", "CAST(N'abc' AS nvarchar(10))", "CAST(1.50 AS decimal(18,2))"],
        "CAST(SQL_VARIANT_PROPERTY([c_variant], 'BaseType') AS nvarchar(40)) + N':' + CAST([c_variant] AS nvarchar(4000))",
    ),
    (
        "c_hierarchy",
        "hierarchyid",
        ["hierarchyid::GetRoot()", "CAST('/1/3/' AS hierarchyid)", "CAST('/2/' AS hierarchyid)"],
        "[c_hierarchy].ToString()",
    ),
    (
        "c_geography",
        "geography",
        [
            "geography::Point(0, 0, 4326)",
            "geography::Point(47.65, -122.34, 4326)",
            "geography::STGeomFromText('LINESTRING(-122.360 47.656, -122.343 47.656)', 4326)",
        ],
        "CAST([c_geography] AS varbinary(max))",
    ),
    ("c_rowversion", "rowversion", ["DEFAULT", "DEFAULT", "DEFAULT"], ""),
];

/// Adds the [`OPTIONAL`] columns the server takes to the torture table
/// and fills them; returns the select expressions of those it took.
fn add_optional(url: &str) -> Vec<String> {
    let mut taken = Vec::new();
    for (name, ty, values, read) in OPTIONAL {
        if let Err(e) = mssql::try_exec(
            url,
            &format!("ALTER TABLE dbo.torture ADD [{name}] {ty} NULL"),
        ) {
            println!("note: the server has no {ty} column ({e}); the torture table goes without");
            continue;
        }
        if *ty != "rowversion" {
            for (row, v) in values.iter().enumerate() {
                mssql::exec(
                    url,
                    &format!(
                        "UPDATE dbo.torture SET [{name}] = {v} WHERE id = {}",
                        row + 1
                    ),
                );
            }
            taken.push(read.to_string());
        }
    }
    taken
}

/// The torture table's CREATE TABLE and INSERTs.
fn torture_sql() -> String {
    let cols: Vec<String> = TORTURE
        .iter()
        .map(|(n, t, _)| format!("    [{n}] {t} NULL"))
        .collect();
    let mut sql = format!(
        "CREATE TABLE dbo.torture (\n    id int NOT NULL PRIMARY KEY,\n{}\n);\n",
        cols.join(",\n")
    );
    let names: Vec<String> = TORTURE.iter().map(|(n, _, _)| format!("[{n}]")).collect();
    for row in 0..3 {
        let values: Vec<&str> = TORTURE.iter().map(|(_, _, v)| v[row]).collect();
        sql.push_str(&format!(
            "INSERT INTO dbo.torture (id, {}) VALUES ({}, {});\n",
            names.join(", "),
            row + 1,
            values.join(", ")
        ));
    }
    sql.push_str("INSERT INTO dbo.torture (id) VALUES (4);\n");
    sql
}

/// The torture table's rows as text, every column but the rowversion
/// (the server assigns new ones on restore), money read exactly, and the
/// optional columns through `optional`'s expressions.
fn torture_rows(url: &str, optional: &[String]) -> Vec<Vec<String>> {
    let mut cols: Vec<String> = TORTURE
        .iter()
        .map(|(n, t, _)| match *t {
            "money" | "smallmoney" => format!("CAST([{n}] AS decimal(19,4))"),
            "text" => format!("CAST([{n}] AS varchar(max))"),
            "ntext" => format!("CAST([{n}] AS nvarchar(max))"),
            "image" => format!("CAST([{n}] AS varbinary(max))"),
            "xml" => format!("CAST([{n}] AS nvarchar(max))"),
            _ => format!("[{n}]"),
        })
        .collect();
    cols.extend(optional.iter().cloned());
    mssql::query(
        url,
        &format!("SELECT id, {} FROM dbo.torture", cols.join(", ")),
    )
    .into_iter()
    .map(|row| row.iter().map(|c| mssql::trim_fractions(c)).collect())
    .collect()
}

/// A throwaway PostgreSQL server for a test that also needs one, or one
/// SKIPPED line naming `test` when initdb is not on PATH.
fn postgres(test: &str) -> Option<bru_testsupport::pg::TestServer> {
    let pg = bru_testsupport::pg::TestServer::start();
    if pg.is_none() {
        println!("SKIPPED: {test}: initdb is not on PATH");
    }
    pg
}

#[test]
fn every_type_round_trips_sql_server_to_sql_server() {
    let test = "every_type_round_trips_sql_server_to_sql_server";
    let Some(server) = MssqlServer::from_env(test) else {
        return;
    };
    let src = server.create_db("mtrust_types_src");
    mssql::exec(&src, &torture_sql());
    let optional = add_optional(&src);
    mssql::exec(
        &src,
        "CREATE TABLE dbo.shifts (\n\
             id int IDENTITY(10,5) NOT NULL CONSTRAINT pk_shifts PRIMARY KEY CLUSTERED,\n\
             site nvarchar(40) NOT NULL CONSTRAINT df_shifts_site DEFAULT (N'north'),\n\
             starts datetime2(3) NOT NULL,\n\
             ends datetime2(3) NULL,\n\
             hours AS (DATEDIFF(minute, starts, ends) / 60.0),\n\
             CONSTRAINT ck_shifts_order CHECK (ends IS NULL OR ends > starts)\n\
         );\n\
         CREATE INDEX ix_shifts_site ON dbo.shifts (site DESC) INCLUDE (starts) WHERE ends IS NULL;\n\
         CREATE TABLE dbo.breaks (id int NOT NULL PRIMARY KEY, shift_id int NOT NULL \
             CONSTRAINT fk_breaks_shift REFERENCES dbo.shifts (id) ON DELETE CASCADE);\n\
         INSERT INTO dbo.shifts (site, starts, ends) VALUES (N'a', '2024-03-01T08:00:00', '2024-03-01T16:00:00'), \
             (N'b', '2024-03-01T09:00:00', NULL);\n\
         INSERT INTO dbo.breaks VALUES (1, 10), (2, 15);",
    );
    mssql::exec(
        &src,
        "CREATE VIEW dbo.open_shifts AS SELECT id, site FROM dbo.shifts WHERE ends IS NULL",
    );
    mssql::exec(
        &src,
        "CREATE FUNCTION dbo.shift_count (@site nvarchar(40)) RETURNS int AS BEGIN \
         RETURN (SELECT COUNT(*) FROM dbo.shifts WHERE site = @site) END",
    );
    mssql::exec(
        &src,
        "CREATE PROCEDURE dbo.close_shift @id int AS UPDATE dbo.shifts SET ends = SYSDATETIME() WHERE id = @id",
    );

    let dir = Dir::new();
    let archive = dir.path("types.db");
    let a = archive.to_str().unwrap();
    bru_ok(&["backup", &src, a, "--quiet"]);
    bru_ok(&["verify", a, "--quiet"]);
    let dst = server.create_db("mtrust_types_dst");
    bru_ok(&["restore", a, &dst, "--quiet"]);

    assert_eq!(
        torture_rows(&dst, &optional),
        torture_rows(&src, &optional),
        "torture rows differ"
    );
    for q in [
        "SELECT id, site, CONVERT(varchar(30), starts, 126), CONVERT(varchar(30), ends, 126), hours FROM dbo.shifts",
        "SELECT id, shift_id FROM dbo.breaks",
        "SELECT id, site FROM dbo.open_shifts",
        "SELECT dbo.shift_count(N'a')",
        "SELECT IDENT_CURRENT('dbo.shifts')",
    ] {
        assert_eq!(mssql::query(&dst, q), mssql::query(&src, q), "{q}");
    }
    assert_eq!(mssql::schema(&dst), mssql::schema(&src), "schemas differ");
    // The identity goes on from the source's current value.
    mssql::exec(
        &dst,
        "INSERT INTO dbo.shifts (site, starts) VALUES (N'c', '2024-03-02T00:00:00')",
    );
    assert_eq!(
        mssql::query(&dst, "SELECT MAX(id) FROM dbo.shifts"),
        vec![vec!["20".to_string()]]
    );
    server.drop_db("mtrust_types_src");
    server.drop_db("mtrust_types_dst");
}

#[test]
fn sql_server_to_postgres_and_back() {
    let test = "sql_server_to_postgres_and_back";
    let Some(server) = MssqlServer::from_env(test) else {
        return;
    };
    let Some(pg) = postgres(test) else {
        return;
    };
    let src = server.create_db("mtrust_pg_src");
    mssql::exec(
        &src,
        "CREATE TABLE dbo.staff (\n\
             id int NOT NULL PRIMARY KEY,\n\
             name nvarchar(50) NOT NULL,\n\
             rate decimal(10,2) NULL,\n\
             pay money NULL,\n\
             active bit NOT NULL,\n\
             level tinyint NULL,\n\
             badge uniqueidentifier NULL,\n\
             hired date NULL,\n\
             seen datetime2(6) NULL,\n\
             photo varbinary(max) NULL\n\
         );\n\
         INSERT INTO dbo.staff VALUES \
           (1, N'Zoë 😀', 12.50, 1234.5678, 1, 255, '6F9619FF-8B86-D011-B42D-00C04FC964FF', '2020-01-31', '2024-03-01T12:34:56.123456', 0x00FF),\n\
           (2, N'', NULL, NULL, 0, 0, NULL, NULL, NULL, 0x),\n\
           (3, N'it''s', -0.01, -922337203685477.5808, 1, NULL, NULL, '0001-01-01', '9999-12-31T23:59:59.999999', NULL);",
    );
    let dir = Dir::new();
    let archive = dir.path("to_pg.db");
    let a = archive.to_str().unwrap();
    bru_ok(&["backup", &src, a, "--quiet"]);
    let pgdb = pg.create_db("mtrust_from_mssql");
    bru_ok(&["restore", a, &pg.url(&pgdb), "--quiet"]);
    let pg_rows = pg.psql(
        &pgdb,
        "SELECT id, name, rate, pay, active, level, badge, hired, seen, encode(photo, 'hex') \
         FROM dbo.staff ORDER BY id",
    );
    assert_eq!(
        pg_rows,
        "1|Zoë 😀|12.50|1234.5678|t|255|6f9619ff-8b86-d011-b42d-00c04fc964ff|2020-01-31|2024-03-01 12:34:56.123456|00ff\n\
         2||||f|0||||\n\
         3|it's|-0.01|-922337203685477.5808|t|||0001-01-01|9999-12-31 23:59:59.999999|\n",
        "rows in PostgreSQL"
    );

    // And back: PostgreSQL → archive → SQL Server, the same rows.
    let back = dir.path("from_pg.db");
    let b = back.to_str().unwrap();
    bru_ok(&["backup", &pg.url(&pgdb), b, "--quiet"]);
    let dst = server.create_db("mtrust_pg_dst");
    bru_ok(&["restore", b, &dst, "--quiet"]);
    let q = "SELECT id, name, CAST(rate AS nvarchar(40)), CAST(CAST(pay AS decimal(19,4)) AS nvarchar(40)), \
             CAST(active AS int), CAST(level AS int), badge, hired, CONVERT(varchar(30), seen, 126), photo FROM dbo.staff";
    assert_eq!(mssql::query(&dst, q), mssql::query(&src, q));
    server.drop_db("mtrust_pg_src");
    server.drop_db("mtrust_pg_dst");
}

#[test]
fn a_datetimeoffset_into_postgres_needs_its_rule() {
    let test = "a_datetimeoffset_into_postgres_needs_its_rule";
    let Some(server) = MssqlServer::from_env(test) else {
        return;
    };
    let Some(pg) = postgres(test) else {
        return;
    };
    let src = server.create_db("mtrust_dto_src");
    mssql::exec(
        &src,
        "CREATE TABLE dbo.punches (id int NOT NULL PRIMARY KEY, at datetimeoffset(6) NOT NULL);\n\
         INSERT INTO dbo.punches VALUES (1, '2024-03-01T09:30:00.123456+05:30'), (2, '2024-03-01T00:00:00-14:00');",
    );
    let dir = Dir::new();
    let archive = dir.path("dto.db");
    let a = archive.to_str().unwrap();
    bru_ok(&["backup", &src, a, "--quiet"]);
    let pgdb = pg.create_db("mtrust_dto");
    let out = bru(&["restore", a, &pg.url(&pgdb), "--quiet"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "restored without the rule");
    assert!(
        err.contains("punches") && err.contains("--cast 'dbo.punches.at=timestamptz'"),
        "{err}"
    );
    let pgdb = pg.create_db("mtrust_dto2");
    bru_ok(&[
        "restore",
        a,
        &pg.url(&pgdb),
        "--quiet",
        "--cast",
        "dbo.punches.at=timestamptz",
    ]);
    assert_eq!(
        pg.psql(
            &pgdb,
            "SET TimeZone = 'UTC'; SELECT id, at FROM dbo.punches ORDER BY id"
        ),
        "1|2024-03-01 04:00:00.123456+00\n2|2024-03-01 14:00:00+00\n"
    );
    server.drop_db("mtrust_dto_src");
}

#[test]
fn the_wfm_fixture_migrates_into_sql_server_and_back() {
    let test = "the_wfm_fixture_migrates_into_sql_server_and_back";
    let Some(server) = MssqlServer::from_env(test) else {
        return;
    };
    let dir = Dir::new();
    let src = dir.fixture("wfm.sqlite", 0);
    let archive = dir.path("wfm.db");
    let a = archive.to_str().unwrap();
    bru_ok(&["backup", &util::url(&src), a, "--quiet"]);
    let mid = server.create_db("mtrust_wfm");
    // schedules.break_length is an interval, which no SQL Server type
    // holds: refused by name, before any row is written.
    let out = bru(&["restore", a, &mid, "--quiet", "--exclude", "edge_values"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success()
            && err.contains("schedules")
            && err.contains("break_length")
            && err.contains("interval"),
        "{err}"
    );
    let mid = server.create_db("mtrust_wfm");
    // edge_values.v holds every SQLite storage class in one column, which
    // no SQL Server column can, and audit_log.at texts with a UTC offset,
    // which a datetime2 cannot keep (as for PostgreSQL): the rule stores
    // them as the time in UTC.
    bru_ok(&[
        "restore",
        a,
        &mid,
        "--quiet",
        "--exclude",
        "edge_values",
        "--exclude",
        "schedules",
        "--cast",
        "audit_log.at:timestamp-offset=utc",
    ]);
    let back = dir.path("wfm-back.db");
    let b = back.to_str().unwrap();
    bru_ok(&["backup", &mid, b, "--quiet"]);
    let dst = dir.path("wfm-back.sqlite");
    bru_ok(&["restore", b, &util::url(&dst), "--quiet"]);
    let before = bru_testsupport::sqlite::dump(&src);
    let after = bru_testsupport::sqlite::dump(&dst);
    let names = |d: &[(String, Vec<String>)]| d.iter().map(|(t, _)| t.clone()).collect::<Vec<_>>();
    for (table, rows) in &after {
        let (_, original) = before
            .iter()
            .find(|(t, _)| t.eq_ignore_ascii_case(table))
            .unwrap_or_else(|| {
                panic!(
                    "{table} is not a table of the fixture: {:?}",
                    names(&before)
                )
            });
        assert_eq!(rows.len(), original.len(), "rows of {table}");
    }
    server.drop_db("mtrust_wfm");
}

#[test]
fn a_writer_during_backup_does_not_change_the_archived_total() {
    let test = "a_writer_during_backup_does_not_change_the_archived_total";
    let Some(server) = MssqlServer::from_env(test) else {
        return;
    };
    let src = server.create_db("mtrust_snap");
    let mut sql = String::from(
        "CREATE TABLE dbo.accounts (id int NOT NULL PRIMARY KEY, balance bigint NOT NULL);\n\
         CREATE TABLE dbo.ledger (id int NOT NULL PRIMARY KEY, amount bigint NOT NULL);\n",
    );
    for chunk in 0..20 {
        let values: Vec<String> = (0..500)
            .map(|i| format!("({}, 1000)", chunk * 500 + i))
            .collect();
        sql.push_str(&format!(
            "INSERT INTO dbo.accounts VALUES {};\n",
            values.join(", ")
        ));
    }
    sql.push_str("INSERT INTO dbo.ledger VALUES (0, 0);\n");
    mssql::exec(&src, &sql);
    let total = || {
        mssql::query(
            &src,
            "SELECT (SELECT SUM(balance) FROM dbo.accounts) + (SELECT SUM(amount) FROM dbo.ledger)",
        )
    };
    let expected = total();

    // A writer moving money from accounts into the ledger, one transaction
    // at a time, as long as the backup runs.
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (src, stop) = (src.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                mssql::exec(
                    &src,
                    &format!(
                        "BEGIN TRANSACTION; UPDATE dbo.accounts SET balance = balance - 7 WHERE id = {}; \
                         INSERT INTO dbo.ledger VALUES ({n}, 7); COMMIT;",
                        n % 10_000
                    ),
                );
            }
            n
        })
    };
    let dir = Dir::new();
    let archive = dir.path("snap.db");
    let a = archive.to_str().unwrap();
    bru_ok(&["backup", &src, a, "--quiet", "--chunk-size", "4KiB"]);
    stop.store(true, Ordering::Relaxed);
    let writes = writer.join().expect("writer");
    assert!(writes > 0, "the writer never wrote");
    assert_eq!(total(), expected, "the writer keeps the total");

    let dst = server.create_db("mtrust_snap_dst");
    bru_ok(&["restore", a, &dst, "--quiet"]);
    assert_eq!(
        mssql::query(
            &dst,
            "SELECT (SELECT SUM(balance) FROM dbo.accounts) + (SELECT SUM(amount) FROM dbo.ledger)",
        ),
        expected,
        "the archive holds one moment of the database"
    );
    server.drop_db("mtrust_snap");
    server.drop_db("mtrust_snap_dst");
}

/// The benchmark's WFM dataset (`../shared/bench/wfm_dataset.sql`, outside
/// the repository; skipped where it is not there) at a small scale,
/// PostgreSQL → SQL Server → PostgreSQL: every table's rows come back as
/// they were. `timestamptz` goes into `datetimeoffset` at +00:00 and comes
/// back through the `=timestamptz` rule (PostgreSQL keeps no offset).
#[test]
fn the_wfm_dataset_migrates_from_postgres_into_sql_server_and_back() {
    let test = "the_wfm_dataset_migrates_from_postgres_into_sql_server_and_back";
    let Some(server) = MssqlServer::from_env(test) else {
        return;
    };
    let dataset =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/bench/wfm_dataset.sql");
    let Ok(sql) = std::fs::read_to_string(&dataset) else {
        println!("SKIPPED: {test}: {} is not there", dataset.display());
        return;
    };
    let Some(pg) = postgres(test) else {
        return;
    };
    // 20 agents, 60 days, 25 intervals: about 12 000 rows.
    let sql = sql
        .replace("\\set agents (2000 * :scale)", "\\set agents 20")
        .replace("500 * :scale - 1", "24");
    let dir = Dir::new();
    let script = dir.path("wfm.sql");
    std::fs::write(&script, sql).unwrap();
    let src = pg.create_db("mtrust_wfm_src");
    pg.psql_file(&src, &script, &[("scale", "1")]);
    // Babelfish takes a T-SQL schema named `public` for PostgreSQL's own
    // and refuses to create tables in it; a WFM schema of its own works on
    // any server.
    pg.psql(
        &src,
        "CREATE SCHEMA wfm; ALTER TABLE public.site SET SCHEMA wfm; \
         ALTER TABLE public.agent SET SCHEMA wfm; ALTER TABLE public.schedule_activity SET SCHEMA wfm; \
         ALTER TABLE public.interval_stats SET SCHEMA wfm; ALTER TABLE public.audit_log SET SCHEMA wfm;",
    );

    let archive = dir.path("wfm-pg.db");
    let a = archive.to_str().unwrap();
    bru_ok(&["backup", &pg.url(&src), a, "--quiet"]);
    let mid = server.create_db("mtrust_wfm_pg");
    bru_ok(&["restore", a, &mid, "--quiet"]);
    let back = dir.path("wfm-mssql.db");
    let b = back.to_str().unwrap();
    bru_ok(&["backup", &mid, b, "--quiet"]);
    let dst = pg.create_db("mtrust_wfm_dst");
    bru_ok(&[
        "restore",
        b,
        &pg.url(&dst),
        "--quiet",
        "--cast",
        "agent.created_at=timestamptz",
        "--cast",
        "interval_stats.interval_start=timestamptz",
        "--cast",
        "audit_log.at=timestamptz",
    ]);
    for (table, order) in [
        ("site", "id"),
        ("agent", "id"),
        ("schedule_activity", "id"),
        ("interval_stats", "site_id, queue, interval_start"),
        ("audit_log", "id"),
    ] {
        // Compared as text: jsonb comes back as text (SQL Server keeps it
        // in nvarchar(max)), with the same characters.
        let q = format!("SET TimeZone = 'UTC'; SELECT t::text FROM wfm.{table} t ORDER BY {order}");
        let (before, after) = (pg.psql(&src, &q), pg.psql(&dst, &q));
        assert!(!before.is_empty(), "{table} is empty");
        assert_eq!(after, before, "rows of {table}");
    }
    server.drop_db("mtrust_wfm_pg");
}

/// `bru compare` of a SQL Server database with its migration into
/// PostgreSQL: equal after the restore (exit 0); then one changed value,
/// one deleted row and one inserted row in SQL Server are each named by key
/// (exit 3). The integer-keyed table is large enough that the compare
/// narrows the difference down by key ranges, which the SQL Server source
/// reads with a `WHERE` on the key; the uuid-keyed table's key is printed
/// as a uuid.
#[test]
fn sql_server_migrated_into_postgres_compares_equal_and_each_change_is_named() {
    let test = "sql_server_migrated_into_postgres_compares_equal_and_each_change_is_named";
    let Some(server) = MssqlServer::from_env(test) else {
        return;
    };
    let Some(pg) = postgres(test) else {
        return;
    };
    let src = server.create_db("mtrust_cmp_src");
    mssql::exec(
        &src,
        "CREATE TABLE dbo.punch (id bigint NOT NULL PRIMARY KEY, agent int NOT NULL, \
             at datetime2(6) NOT NULL, note nvarchar(40) NULL, amount decimal(12,2) NULL);\n\
         CREATE TABLE dbo.badge (id uniqueidentifier NOT NULL PRIMARY KEY, holder nvarchar(40) NOT NULL);",
    );
    // 20,000 rows in INSERTs of 1,000 (T-SQL's limit for one VALUES list).
    for start in (1..=20_000).step_by(1000) {
        let rows: Vec<String> = (start..start + 1000)
            .map(|i: i64| {
                format!(
                    "({i}, {}, DATEADD(second, {i}, CAST('2026-01-01T00:00:00' AS datetime2(6))), N'note {i}', {}.{:02})",
                    i % 300,
                    i % 1000,
                    i % 100
                )
            })
            .collect();
        mssql::exec(
            &src,
            &format!("INSERT INTO dbo.punch VALUES {}", rows.join(", ")),
        );
    }
    mssql::exec(
        &src,
        "INSERT INTO dbo.badge VALUES ('6F9619FF-8B86-D011-B42D-00C04FC964FF', N'Zoë'), \
             ('00000000-0000-0000-0000-000000000001', N'Ann')",
    );
    let dir = Dir::new();
    let archive = dir.path("cmp.db");
    let a = archive.to_str().unwrap();
    bru_ok(&["backup", &src, a, "--quiet"]);
    let pgdb = pg.create_db("mtrust_cmp_dst");
    let dst = pg.url(&pgdb);
    bru_ok(&["restore", a, &dst, "--quiet"]);

    let report = bru_exits(&["compare", &src, &dst], 0);
    assert!(report.contains("MATCH: all 2 tables match"), "{report}");
    bru_exits(&["verify", a, "--against", &dst], 0);

    mssql::exec(
        &src,
        "UPDATE dbo.punch SET note = N'changed' WHERE id = 12345;\n\
         DELETE FROM dbo.punch WHERE id = 77;\n\
         INSERT INTO dbo.punch VALUES (30000, 1, '2026-02-01T00:00:00', NULL, NULL);\n\
         UPDATE dbo.badge SET holder = N'Zoe' WHERE id = '6F9619FF-8B86-D011-B42D-00C04FC964FF';",
    );
    let report = bru_exits(&["compare", &src, &dst], 3);
    for line in [
        "table dbo.punch: changed: id=12345: column(s) note",
        "table dbo.punch: extra in target: id=77",
        "table dbo.punch: missing in target: id=30000",
        "table dbo.badge: changed: id=6f9619ff-8b86-d011-b42d-00c04fc964ff: column(s) holder",
        "DIFFERS: 2 of 2 tables differ",
    ] {
        assert!(report.contains(line), "report lacks {line:?}:\n{report}");
    }
    server.drop_db("mtrust_cmp_src");
}
