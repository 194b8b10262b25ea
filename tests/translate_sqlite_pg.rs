//! Cross-engine schema translation through the real `bru` binary, SQLite →
//! PostgreSQL (a throwaway server): views with joins, aggregates, CASE,
//! COALESCE/IFNULL, concatenation, LIMIT/OFFSET, integer division and
//! subqueries are created in PostgreSQL, and each returns the same rows
//! there as in SQLite; CHECKs, defaults and a partial index written with
//! bracket, backtick and double-quoted names are translated and enforced;
//! views without an exact translation are skipped naming the construct,
//! and a view reading one of them is skipped naming it. `--dry-run` lists
//! every translation and every skip and leaves the target empty.

mod util;

use bru_testsupport::pg::TestServer;
use util::{bru_ok, Dir};

const SCHEMA: &str = r#"
CREATE TABLE [Customers] (
    [CustomerID] INTEGER PRIMARY KEY,
    [CompanyName] TEXT NOT NULL,
    `City` TEXT,
    "Rating" INTEGER DEFAULT 3,
    [Active] TEXT NOT NULL DEFAULT '1',
    CHECK ([Rating] BETWEEN 0 AND (5)),
    CHECK (length(`CompanyName`) > 0)
);
CREATE TABLE [Order Details] (
    [OrderID] INTEGER NOT NULL,
    [CustomerID] INTEGER REFERENCES Customers(CustomerID),
    [Quantity] INTEGER NOT NULL DEFAULT 1,
    [Weight] REAL DEFAULT 0,
    [Note] TEXT,
    PRIMARY KEY ([OrderID]),
    CHECK ([Quantity]>(0)),
    CHECK ("Weight" >= 0 OR "Weight" IS NULL)
);
CREATE INDEX [big orders] ON [Order Details] ([Quantity]) WHERE [Quantity] > 10;
CREATE INDEX [by note] ON [Order Details] (upper([Note]));
INSERT INTO Customers VALUES
  (1, 'Alfreds', 'Berlin', 5, '1'),
  (2, 'Ana Trujillo', 'México D.F.', NULL, '0'),
  (3, 'antonio', NULL, 0, '1'),
  (4, 'Around the Horn', 'london', 2, '1'),
  (5, 'Zebra', 'London', 4, '0'),
  (6, 'émile', 'Ängelholm', 1, '1');
INSERT INTO [Order Details] VALUES
  (10, 1, 12, 1.5, 'fast'),
  (11, 1, 3, 0.1, NULL),
  (12, 2, 7, NULL, 'Slow'),
  (13, 4, 20, 2.25, 'fast'),
  (14, 4, 1, 0.2, 'éclair'),
  (15, 5, 9, 0.3, ''),
  (16, NULL, 4, 7.0, 'none');

-- Translated, and equal by query.
CREATE VIEW [Customer Orders] AS
  SELECT c.CompanyName, o.OrderID, o.Quantity
  FROM Customers c JOIN [Order Details] o ON o.customerid = c.CustomerID;
CREATE VIEW [Orders Left] AS
  SELECT Customers.CustomerID, [Order Details].OrderID
  FROM Customers LEFT JOIN [Order Details] ON [Order Details].CustomerID = Customers.CustomerID;
CREATE VIEW [Totals] AS
  SELECT CustomerID, count(*) AS n, sum(Quantity) AS q, avg(Quantity) AS mean,
         min(Note) AS first_note, max(Weight) AS heaviest
  FROM [Order Details] GROUP BY CustomerID HAVING count(*) >= 1;
CREATE VIEW [Ratings] AS
  SELECT CompanyName,
         CASE WHEN Rating IS NULL THEN 'none' WHEN Rating >= 4 THEN 'good' ELSE 'fair' END AS grade,
         coalesce(City, 'unknown') AS city, ifnull(Rating, -1) AS rating
  FROM Customers WHERE Active = 1;
CREATE VIEW [Labels] AS
  SELECT CustomerID || ': ' || CompanyName AS label, City || '/' || CompanyName AS place,
         upper(CompanyName) AS shout, lower(City) AS quiet, substr(CompanyName, 2, 3) AS part,
         length(CompanyName) AS len, instr(CompanyName, 'o') AS o_at, trim(' ' || CompanyName || ' ') AS t
  FROM Customers;
CREATE VIEW [Top Two] AS
  SELECT CompanyName, City FROM Customers ORDER BY City, CompanyName DESC LIMIT 2 OFFSET 1;
CREATE VIEW [Ratios] AS
  SELECT OrderID, Quantity / 4 AS quarter, Quantity % 4 AS rest, Quantity / (Quantity - 7) AS odd,
         Weight * 2 AS double_weight, Weight / 0 AS by_zero, Quantity * 1.5 AS scaled,
         Quantity > 5 AS many
  FROM [Order Details];
CREATE VIEW [Big Spenders] AS
  SELECT CompanyName FROM Customers
  WHERE CustomerID IN (SELECT CustomerID FROM [Order Details] WHERE Quantity > 5)
    AND EXISTS (SELECT 1 FROM [Order Details] d WHERE d.CustomerID = Customers.CustomerID)
    AND (SELECT max(Quantity) FROM [Order Details]) > 0;
CREATE VIEW [Places] AS
  SELECT City, CompanyName, 'customer' AS kind FROM Customers WHERE City > 'L'
  UNION SELECT Note, 'order', 'order' FROM [Order Details]
  ORDER BY City;
CREATE VIEW [From Places] AS SELECT kind, count(*) AS n FROM Places GROUP BY kind;

-- Skipped, naming the construct.
CREATE VIEW [Sales Person] AS SELECT CompanyName + ' ' + City AS who FROM Customers;
CREATE VIEW [Like A] AS SELECT CompanyName FROM Customers WHERE CompanyName LIKE 'a%';
CREATE VIEW [Today] AS SELECT date('now') AS today;
CREATE VIEW [From Sales] AS SELECT who FROM [Sales Person];
"#;

/// The translated views and a construct each skipped one must name.
const TRANSLATED: [&str; 10] = [
    "Customer Orders",
    "Orders Left",
    "Totals",
    "Ratings",
    "Labels",
    "Top Two",
    "Ratios",
    "Big Spenders",
    "Places",
    "From Places",
];
const SKIPPED: [(&str, &str); 4] = [
    ("Sales Person", "`+` on text"),
    ("Like A", "LIKE"),
    ("Today", "the date function date"),
    ("From Sales", "it reads view Sales Person"),
];

fn pg_rows(server: &TestServer, db: &str, view: &str) -> Vec<String> {
    let out = server.psql(db, &format!("SELECT * FROM public.\"{view}\""));
    let mut rows: Vec<String> = out.lines().map(str::to_owned).collect();
    rows.sort();
    rows
}

#[test]
fn sqlite_views_checks_and_defaults_arrive_in_postgres_translated_or_named() {
    let dir = Dir::new();
    let sqlite = dir.path("shop.sqlite");
    rusqlite::Connection::open(&sqlite)
        .expect("create sqlite")
        .execute_batch(SCHEMA)
        .expect("schema");
    let Some(server) = TestServer::start() else {
        return;
    };
    let archive = dir.path("shop.db");
    let archive = archive.to_str().expect("utf-8 path");
    bru_ok(&["backup", &util::url(&sqlite), archive, "--quiet"]);

    // --dry-run: every translation and every skip, nothing touched.
    let db = server.create_db("xlate");
    let url = server.url(&db);
    let plan = bru_ok(&["restore", archive, &url, "--dry-run"]);
    let plan = String::from_utf8_lossy(&plan.stdout).into_owned();
    for view in TRANSLATED {
        assert!(
            plan.contains(&format!(
                "translated: view {view}: translated from sqlite: CREATE VIEW"
            )),
            "{view} in {plan}"
        );
    }
    for (view, construct) in SKIPPED {
        let line = plan
            .lines()
            .find(|l| l.starts_with(&format!("left out: view {view}: not translated")))
            .unwrap_or_else(|| panic!("{view} in {plan}"));
        assert!(line.contains(construct), "{line}");
    }
    assert!(
        plan.contains("CHECK: translated from sqlite: (\"Quantity\" > (0))"),
        "{plan}"
    );
    assert!(server.tables(&db).is_empty(), "a dry run created tables");

    let out = bru_ok(&["restore", archive, &url]);
    let summary = String::from_utf8_lossy(&out.stdout).into_owned();
    for (view, construct) in SKIPPED {
        let line = summary
            .lines()
            .find(|l| l.starts_with(&format!("skipped: view {view}: not translated")))
            .unwrap_or_else(|| panic!("{view} in {summary}"));
        assert!(line.contains(construct), "{line}");
    }
    // Each translated view gives the rows SQLite gives.
    for view in TRANSLATED {
        let want = bru_testsupport::sqlite::unaligned_rows(&sqlite, view);
        assert!(!want.is_empty(), "{view} has rows to compare");
        assert_eq!(pg_rows(&server, &db, view), want, "view {view}");
    }
    // The CHECKs hold in PostgreSQL, the defaults give SQLite's values, and
    // the indexes have their predicate and expression.
    let checks = server.psql(
        &db,
        "SELECT count(*) FROM pg_constraint WHERE contype = 'c' AND connamespace = 'public'::regnamespace",
    );
    assert_eq!(checks, "4\n");
    for bad in [
        "INSERT INTO public.\"Order Details\" VALUES (99, 1, 0, 1, 'x')",
        "INSERT INTO public.\"Order Details\" VALUES (99, 1, 1, -1, 'x')",
        "INSERT INTO public.\"Customers\" VALUES (99, 'x', 'y', 6, '1')",
        "INSERT INTO public.\"Customers\" VALUES (99, '', 'y', 1, '1')",
    ] {
        let e = server.try_psql(&db, bad).expect_err(bad);
        assert!(e.contains("check constraint"), "{bad}: {e}");
    }
    server.psql(
        &db,
        "INSERT INTO public.\"Customers\" (\"CustomerID\", \"CompanyName\") VALUES (7, 'new');
         INSERT INTO public.\"Order Details\" (\"OrderID\") VALUES (17);",
    );
    assert_eq!(
        server.psql(
            &db,
            "SELECT \"Rating\", \"Active\" FROM public.\"Customers\" WHERE \"CustomerID\" = 7"
        ),
        "3|1\n"
    );
    assert_eq!(
        server.psql(
            &db,
            "SELECT \"Quantity\", \"Weight\" FROM public.\"Order Details\" WHERE \"OrderID\" = 17"
        ),
        "1|0\n"
    );
    let indexes = server.psql(
        &db,
        "SELECT indexdef FROM pg_indexes WHERE indexname IN ('big orders', 'by note') ORDER BY 1",
    );
    assert!(indexes.contains("WHERE (\"Quantity\" > 10)"), "{indexes}");
    assert!(
        indexes.contains("upper((\"Note\" COLLATE \"C\"))"),
        "{indexes}"
    );
}

/// SQLite's generated columns: an exact translation of the column's own
/// kind is computed by PostgreSQL (and gives SQLite's values); one whose
/// value SQLite would store in another kind is listed, and the column keeps
/// SQLite's values.
#[test]
fn sqlite_generated_columns_are_computed_by_postgres_or_listed() {
    let dir = Dir::new();
    let sqlite = dir.path("gen.sqlite");
    rusqlite::Connection::open(&sqlite)
        .expect("create sqlite")
        .execute_batch(
            "CREATE TABLE line (id INTEGER PRIMARY KEY, qty INTEGER NOT NULL, price INTEGER,
               name TEXT,
               total INTEGER GENERATED ALWAYS AS (qty * price) STORED,
               label TEXT GENERATED ALWAYS AS ([name] || '!') VIRTUAL,
               half REAL GENERATED ALWAYS AS (qty / 2));
             INSERT INTO line (id, qty, price, name) VALUES (1, 3, 5, 'a'), (2, 7, NULL, NULL), (3, 0, 2, 'c');",
        )
        .expect("schema");
    let Some(server) = TestServer::start() else {
        return;
    };
    let archive = dir.path("gen.db");
    let archive = archive.to_str().expect("utf-8 path");
    bru_ok(&["backup", &util::url(&sqlite), archive, "--quiet"]);
    let db = server.create_db("gen");
    let out = bru_ok(&["restore", archive, &server.url(&db)]);
    let summary = String::from_utf8_lossy(&out.stdout).into_owned();
    for want in [
        "translated: table line: column total: generated: translated from sqlite:",
        "translated: table line: column label: generated: translated from sqlite:",
        "skipped: table line: column half: generated: not translated from sqlite (a generated value of an integer for a column of a floating-point value)",
    ] {
        assert!(summary.contains(want), "{want} in {summary}");
    }
    assert_eq!(
        server.psql(
            &db,
            "SELECT string_agg(attname || '=' || attgenerated::text, ',' ORDER BY attnum) FROM pg_attribute \
             WHERE attrelid = 'public.line'::regclass AND attnum > 0"
        )
        .trim(),
        "id=,qty=,price=,name=,total=s,label=s,half="
    );
    assert_eq!(
        pg_rows(&server, &db, "line"),
        vec!["1|3|5|a|15|a!|1", "2|7|||||3", "3|0|2|c|0|c!|0"]
    );
    server.psql(
        &db,
        "INSERT INTO line (id, qty, price, name) VALUES (4, 2, 4, 'd')",
    );
    assert_eq!(
        server
            .psql(&db, "SELECT total, label FROM line WHERE id = 4")
            .trim(),
        "8|d!"
    );
}
