//! SQLite databases as text, for comparisons: one cell renderer and the
//! table dumps built on it, so that equal renderings mean bit-identical
//! values of the same storage class (reals by their bits, so -0.0 and NaN
//! payloads count; text and blobs byte for byte).

use std::path::Path;

use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags};

/// Opens `path` read-only.
pub fn open_read_only(path: &Path) -> Connection {
    Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY).expect("open database")
}

/// `name` quoted as an SQL identifier.
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// One cell as its storage class and exact value: `null`, `integer:1`,
/// `real:1.5:3ff8000000000000` (the value, then its bits),
/// `text:"é":c3a9` (the text, then its bytes in hex), `blob:00ff`.
pub fn cell<'a>(v: impl Into<ValueRef<'a>>) -> String {
    match v.into() {
        ValueRef::Null => "null".into(),
        ValueRef::Integer(i) => format!("integer:{i}"),
        ValueRef::Real(f) => format!("real:{f:?}:{:016x}", f.to_bits()),
        ValueRef::Text(t) => format!("text:{:?}:{}", String::from_utf8_lossy(t), hex(t)),
        ValueRef::Blob(b) => format!("blob:{}", hex(b)),
    }
}

/// Bytes as lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Every row `sql` returns, in its order, each cell rendered by [`cell`].
pub fn query_rows(conn: &Connection, sql: &str) -> Vec<Vec<String>> {
    let mut stmt = conn.prepare(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
    let n = stmt.column_count();
    let mut rows = stmt.query([]).unwrap_or_else(|e| panic!("{sql}: {e}"));
    let mut out = Vec::new();
    while let Some(row) = rows.next().unwrap_or_else(|e| panic!("{sql}: {e}")) {
        out.push(
            (0..n)
                .map(|i| cell(row.get_ref(i).expect("cell")))
                .collect(),
        );
    }
    out
}

/// The columns of `table` a `SELECT *` shows (generated ones included,
/// the hidden columns of virtual tables not), each with its place in the
/// primary key (0 when not in it).
fn columns(conn: &Connection, table: &str) -> Vec<(String, i64)> {
    let mut stmt = conn
        .prepare("SELECT name, pk FROM pragma_table_xinfo(?1) WHERE hidden <> 1")
        .expect("table_xinfo");
    let rows = stmt
        .query_map([table], |r| Ok((r.get(0)?, r.get(1)?)))
        .expect("table_xinfo rows");
    rows.map(|r| r.expect("column")).collect()
}

/// Every row of `table`, each cell rendered by [`cell`]: with the rowid
/// first, in rowid order, or in primary key order for a WITHOUT ROWID table.
pub fn table_rows(conn: &Connection, table: &str) -> Vec<Vec<String>> {
    let quoted = quote_ident(table);
    let columns = columns(conn, table);
    let mut select: Vec<String> = columns.iter().map(|(c, _)| quote_ident(c)).collect();
    let has_rowid = conn
        .prepare(&format!("SELECT _rowid_ FROM {quoted} LIMIT 0"))
        .is_ok();
    let order = if has_rowid {
        select.insert(0, "_rowid_".into());
        "_rowid_".to_owned()
    } else {
        let mut pk: Vec<&(String, i64)> = columns.iter().filter(|(_, k)| *k > 0).collect();
        pk.sort_by_key(|(_, k)| *k);
        pk.iter()
            .map(|(c, _)| quote_ident(c))
            .collect::<Vec<_>>()
            .join(", ")
    };
    query_rows(
        conn,
        &format!(
            "SELECT {} FROM {quoted} ORDER BY {order}",
            select.join(", ")
        ),
    )
}

/// Every row of `table` without its rowid, cells joined by `|`, sorted, so
/// that a comparison does not depend on rowids or row order.
pub fn sorted_rows(conn: &Connection, table: &str) -> Vec<String> {
    let sql = format!("SELECT * FROM {}", quote_ident(table));
    let mut rows: Vec<String> = query_rows(conn, &sql)
        .into_iter()
        .map(|cells| cells.join("|"))
        .collect();
    rows.sort();
    rows
}

/// Every ordinary user table of the database at `path` (not SQLite's own,
/// not virtual ones) with its [`sorted_rows`], by table name.
pub fn dump(path: &Path) -> Vec<(String, Vec<String>)> {
    let conn = open_read_only(path);
    let tables: Vec<String> = query_strings(
        &conn,
        "SELECT name FROM sqlite_schema WHERE type = 'table' \
         AND name NOT LIKE 'sqlite_%' AND sql NOT LIKE 'CREATE VIRTUAL%' ORDER BY name",
    );
    tables
        .into_iter()
        .map(|t| {
            let rows = sorted_rows(&conn, &t);
            (t, rows)
        })
        .collect()
}

/// Every row of `SELECT * FROM "view"` in the SQLite database at `path`, as
/// psql's unaligned output writes it (`|` between values, NULL empty, REALs
/// by their shortest text, which is how PostgreSQL writes a double), sorted:
/// to compare a translated view's rows with PostgreSQL's.
pub fn unaligned_rows(path: &Path, view: &str) -> Vec<String> {
    let conn = Connection::open(path).expect("open sqlite");
    let mut stmt = conn
        .prepare(&format!("SELECT * FROM {}", quote_ident(view)))
        .expect("prepare");
    let n = stmt.column_count();
    let mut rows: Vec<String> = stmt
        .query_map([], |r| {
            let mut cells = Vec::new();
            for i in 0..n {
                cells.push(match r.get_ref(i)? {
                    ValueRef::Null => String::new(),
                    ValueRef::Integer(v) => v.to_string(),
                    ValueRef::Real(v) => format!("{v}"),
                    ValueRef::Text(t) => String::from_utf8_lossy(t).into_owned(),
                    ValueRef::Blob(_) => panic!("{view}: a blob has no unaligned text"),
                });
            }
            Ok(cells.join("|"))
        })
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows");
    rows.sort();
    rows
}

/// The first column of every row `sql` returns, as text.
pub fn query_strings(conn: &Connection, sql: &str) -> Vec<String> {
    let mut stmt = conn.prepare(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
    let rows = stmt
        .query_map([], |r| r.get::<_, String>(0))
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    rows.map(|r| r.expect("row")).collect()
}

/// Opens the database at `path` (creating it if need be), runs `sql` in it
/// and returns the connection.
pub fn run_sql(path: &Path, sql: &str) -> Connection {
    let conn = Connection::open(path).expect("open database");
    conn.execute_batch(sql)
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    conn
}
