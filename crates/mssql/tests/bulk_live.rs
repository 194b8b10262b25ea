//! The SQL Server target's bulk-load path against the server
//! `BRU_TEST_MSSQL_URL` names (one `SKIPPED` line each without it):
//!
//! - values at the edges of every type the stage carries are stored the
//!   same through bulk load as through parameterized INSERTs (the path the
//!   torture round trip checks), identity values included;
//! - bulk load runs inside the chunk's transaction: rows of a loader
//!   dropped before its chunk committed are gone, and a committed chunk's
//!   rows are there with its journal key;
//! - a value the column cannot hold is refused by table, column and value,
//!   and the session stays usable.

use bru_core::{Column, ColumnType, RowBatch, TableDef, TableName, Target, Value};
use bru_mssql::MssqlTarget;
use bru_testsupport::mssql::{self, MssqlServer};

/// The test table's columns and types: one of each type the bulk stage
/// carries, and an identity. Fractions to microseconds, which Babelfish
/// keeps.
const COLUMNS: &[(&str, &str)] = &[
    ("id", "int IDENTITY(1,1) NOT NULL"),
    ("t", "tinyint"),
    ("s", "smallint"),
    ("b", "bigint"),
    ("f", "bit"),
    ("d38", "decimal(38,38)"),
    ("d18", "decimal(18,2)"),
    ("m", "money"),
    ("sm", "smallmoney"),
    ("r", "real"),
    ("fl", "float"),
    ("c", "char(4)"),
    ("vc", "varchar(20)"),
    ("nv", "nvarchar(10)"),
    ("nmax", "nvarchar(max)"),
    ("bin", "binary(3)"),
    ("vb", "varbinary(max)"),
    ("dt", "date"),
    ("tm", "time(6)"),
    ("dtm", "datetime"),
    ("sdt", "smalldatetime"),
    ("dt2", "datetime2(6)"),
    ("dto", "datetimeoffset(6)"),
    ("u", "uniqueidentifier"),
];

const DAY_MIN: i32 = -719_162; // 0001-01-01
const DAY_MAX: i32 = 2_932_896; // 9999-12-31

fn rows() -> Vec<Vec<Value>> {
    let ts = |secs: i64, nanos: u32| Value::Timestamp { secs, nanos };
    let dec = |s: &str| Value::Decimal(s.into());
    let text = |s: &str| Value::Text(s.into());
    let smallest = vec![
        Value::Int32(1),
        Value::Int16(0),
        Value::Int16(i16::MIN),
        Value::Int64(i64::MIN),
        Value::Bool(false),
        dec("-0.99999999999999999999999999999999999999"),
        dec("-9999999999999999.99"),
        dec("-922337203685477.5808"),
        dec("-214748.3648"),
        Value::Float32(-3.4e38),
        Value::Float64(-1.79e308),
        text("    "),
        text(""),
        text(""),
        text(""),
        Value::Bytes(vec![0, 0, 0]),
        Value::Bytes(vec![]),
        Value::Date(DAY_MIN),
        Value::Time(0),
        ts(-6_847_804_800, 0), // 1753-01-01
        ts(-2_208_988_800, 0), // 1900-01-01
        ts(i64::from(DAY_MIN) * 86_400, 0),
        Value::TimestampOffset {
            secs: i64::from(DAY_MIN) * 86_400 + 14 * 3600,
            nanos: 0,
            offset_secs: -14 * 3600,
        },
        Value::Uuid([0; 16]),
    ];
    let largest = vec![
        Value::Int32(2),
        Value::Int16(255),
        Value::Int16(i16::MAX),
        Value::Int64(i64::MAX),
        Value::Bool(true),
        dec("0.99999999999999999999999999999999999999"),
        dec("9999999999999999.99"),
        dec("922337203685477.5807"),
        dec("214748.3647"),
        Value::Float32(3.4e38),
        Value::Float64(1.79e308),
        text("zzzz"),
        text("zzzzzzzzzzzzzzzzzzzz"),
        text("😀😀😀😀😀"),
        text(&"x😀y".repeat(3000)),
        Value::Bytes(vec![255, 255, 255]),
        Value::Bytes((0..=255).cycle().take(10_000).collect()),
        Value::Date(DAY_MAX),
        Value::Time(86_399_999_999_000),
        ts(i64::from(DAY_MAX) * 86_400 + 86_399, 996_666_667), // .997, a datetime tick
        ts(3_453_317_940, 0),                                  // 2079-06-06 23:59
        ts(i64::from(DAY_MAX) * 86_400 + 86_399, 999_999_000),
        Value::TimestampOffset {
            secs: i64::from(DAY_MAX) * 86_400 + 86_399 - 14 * 3600,
            nanos: 999_999_000,
            offset_secs: 14 * 3600,
        },
        Value::Uuid([
            0x6f, 0x96, 0x19, 0xff, 0x8b, 0x86, 0xd0, 0x11, 0xb4, 0x2d, 0x00, 0xc0, 0x4f, 0xc9,
            0x64, 0xff,
        ]),
    ];
    let ordinary = vec![
        Value::Int32(10),
        Value::Int16(7),
        Value::Int16(-12),
        Value::Int64(-1),
        Value::Bool(true),
        dec("0.00000000000000000000000000000000000001"),
        dec("1.5"),
        dec("12.34"),
        dec("0.0001"),
        Value::Float32(0.1),
        Value::Float64(0.1),
        text("ab  "),
        text("it's"),
        text("Müller"),
        text("line1\nline2\r\n\tend"),
        Value::Bytes(vec![1, 2, 3]),
        Value::Bytes(vec![0]),
        Value::Date(20_454),
        Value::Time(45_296_123_456_000),
        ts(1_767_323_045, 6_666_667), // .007
        ts(1_767_323_040, 0),
        ts(1_767_323_045, 123_456_000),
        Value::TimestampOffset {
            secs: 1_767_323_045,
            nanos: 123_456_000,
            offset_secs: 5 * 3600 + 30 * 60,
        },
        Value::Uuid(*b"\x01\x23\x45\x67\x89\xab\xcd\xef\x01\x23\x45\x67\x89\xab\xcd\xef"),
    ];
    let mut nulls = vec![Value::Null; COLUMNS.len()];
    nulls[0] = Value::Int32(40);
    vec![smallest, largest, ordinary, nulls]
}

/// The archive's description of table `name` (the table itself is made
/// by SQL; the loader reads the target's own column types).
fn table(name: &str) -> TableDef {
    TableDef::new(
        TableName::new(Some("dbo"), name),
        COLUMNS
            .iter()
            .map(|(n, ty)| {
                let ty = ty.split(' ').next().unwrap();
                Column::new(*n, ColumnType::Native { name: ty.into() }, ty)
            })
            .collect(),
    )
}

fn create(url: &str, name: &str) {
    let cols: Vec<String> = COLUMNS
        .iter()
        .map(|(n, t)| {
            if t.contains("NOT NULL") {
                format!("[{n}] {t}")
            } else {
                format!("[{n}] {t} NULL")
            }
        })
        .collect();
    mssql::exec(
        url,
        &format!("CREATE TABLE dbo.{name} ({})", cols.join(", ")),
    );
}

fn batch(rows: Vec<Vec<Value>>) -> RowBatch {
    let mut batch = RowBatch::new(COLUMNS.len());
    for r in rows {
        batch.push_row(r);
    }
    batch
}

/// Every column of `name` as exact text, in id order.
fn read(url: &str, name: &str) -> Vec<Vec<String>> {
    let cols: Vec<String> = COLUMNS
        .iter()
        .map(|(n, t)| match *t {
            "money" | "smallmoney" => format!("CAST([{n}] AS decimal(19,4))"),
            // tiberius cannot read a decimal of scale 38.
            "decimal(38,38)" => format!("CAST([{n}] AS varchar(50))"),
            "real" | "float" => format!("CONVERT(varchar(40), [{n}], 3)"),
            "datetime" | "smalldatetime" | "datetime2(6)" | "datetimeoffset(6)" | "time(6)" => {
                format!("CONVERT(varchar(40), [{n}], 121)")
            }
            _ => format!("[{n}]"),
        })
        .collect();
    mssql::query_unsorted(
        url,
        &format!("SELECT {} FROM dbo.{name} ORDER BY id", cols.join(", ")),
    )
}

fn load(t: &mut MssqlTarget, name: &str, rows: Vec<Vec<Value>>) -> bru_core::Result<u64> {
    let mut loader = t.load(&table(name))?;
    loader.write_batch(&batch(rows))?;
    loader.finish()
}

#[test]
fn bulk_load_stores_what_inserts_store() {
    let test = "bulk_load_stores_what_inserts_store";
    let Some(server) = MssqlServer::from_env(test) else {
        return;
    };
    let url = server.create_db("mbulk_same");
    create(&url, "by_bulk");
    create(&url, "by_insert");
    let mut t = MssqlTarget::open(&url).unwrap();
    assert_eq!(load(&mut t, "by_bulk", rows()).unwrap(), 4);
    t.use_bulk_load(false);
    assert_eq!(load(&mut t, "by_insert", rows()).unwrap(), 4);
    drop(t);
    let bulk = read(&url, "by_bulk");
    assert_eq!(bulk, read(&url, "by_insert"));
    assert_eq!(bulk.len(), 4);
    // The identity values are the archive's, and a few edges read back as
    // written.
    let ids: Vec<&str> = bulk.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(ids, ["1", "2", "10", "40"]);
    let col = |name: &str| COLUMNS.iter().position(|(n, _)| *n == name).unwrap();
    assert_eq!(
        bulk[1][col("d38")],
        "0.99999999999999999999999999999999999999"
    );
    assert_eq!(bulk[0][col("m")], "-922337203685477.5808");
    assert!(
        bulk[1][col("dt")].starts_with("9999-12-31"),
        "{:?}",
        bulk[1]
    );
    assert!(
        bulk[0][col("dt")].starts_with("0001-01-01"),
        "{:?}",
        bulk[0]
    );
    assert_eq!(bulk[2][col("nv")], "Müller");
    assert_eq!(bulk[1][col("nv")], "😀😀😀😀😀");
    assert_eq!(bulk[0][col("vc")], "");
    assert_eq!(bulk[3][col("vc")], "NULL");
    let lengths = |t: &str| {
        mssql::query(
            &url,
            &format!(
                "SELECT LEN(nmax), DATALENGTH(nmax), DATALENGTH(vb) FROM dbo.{t} WHERE id = 2"
            ),
        )
    };
    assert_eq!(lengths("by_bulk"), lengths("by_insert"));
    assert_eq!(lengths("by_bulk")[0][2], "10000");
    assert_eq!(
        mssql::query(
            &url,
            "SELECT COUNT(*) FROM dbo.by_bulk a JOIN dbo.by_insert b ON a.id = b.id \
             AND a.nmax = b.nmax AND a.vb = b.vb"
        ),
        [["3"]]
    );
    server.drop_db("mbulk_same");
}

#[test]
fn bulk_load_commits_with_the_chunk_or_not_at_all() {
    let test = "bulk_load_commits_with_the_chunk_or_not_at_all";
    let Some(server) = MssqlServer::from_env(test) else {
        return;
    };
    let url = server.create_db("mbulk_tx");
    create(&url, "tx");
    let mut t = MssqlTarget::open(&url).unwrap();
    {
        // Written, then dropped before its chunk committed (an error).
        let mut loader = t.load(&table("tx")).unwrap();
        loader.write_batch(&batch(rows())).unwrap();
    }
    assert_eq!(mssql::query(&url, "SELECT COUNT(*) FROM dbo.tx"), [["0"]]);
    {
        let mut loader = t.load(&table("tx")).unwrap();
        loader.write_batch(&batch(rows())).unwrap();
        loader.commit_chunk("chunk tx 1").unwrap();
        loader.finish().unwrap();
    }
    assert_eq!(mssql::query(&url, "SELECT COUNT(*) FROM dbo.tx"), [["4"]]);
    let keys = t.journal().unwrap().keys().unwrap().unwrap_or_default();
    assert!(keys.iter().any(|k| k == "chunk tx 1"), "{keys:?}");
    // A value the column cannot hold is refused by name before anything
    // is sent, and the session goes on.
    let mut bad = rows().swap_remove(2);
    bad[0] = Value::Int32(50);
    bad[6] = Value::Decimal("1.005".into());
    let e = load(&mut t, "tx", vec![bad]).unwrap_err();
    let bru_core::Error::Value { table, column, .. } = &e else {
        panic!("{e}");
    };
    assert_eq!((table.as_str(), column.as_str()), ("dbo.tx", "d18"));
    let mut good = rows().swap_remove(2);
    good[0] = Value::Int32(60);
    assert_eq!(load(&mut t, "tx", vec![good]).unwrap(), 1);
    assert_eq!(mssql::query(&url, "SELECT COUNT(*) FROM dbo.tx"), [["5"]]);
    drop(t);
    server.drop_db("mbulk_tx");
}
