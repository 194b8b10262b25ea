//! A SQL Server to test against, for the live tests of the SQL Server
//! engine: whatever `BRU_TEST_MSSQL_URL` points at (a real SQL Server, or
//! Babelfish for PostgreSQL), since no server can be started from here.
//! Without the variable every live test prints one
//! `SKIPPED: <test>: BRU_TEST_MSSQL_URL is not set` line and passes, which
//! is what CI sees.
//!
//! The helpers talk to the server with tiberius directly, not through
//! bru-mssql, so that a bug in the engine cannot hide itself from the tests
//! that check it. Each call opens its own connection on its own
//! single-threaded runtime and panics with the server's message on
//! failure, which is how a test reports a broken setup.
//!
//! - [`MssqlServer::from_env`], [`MssqlServer::create_db`],
//!   [`MssqlServer::drop_db`]: throwaway databases on the server;
//! - [`exec`]: runs one T-SQL batch;
//! - [`query`]: rows as text, sorted, `NULL` spelled out;
//! - [`schema`]: a database's tables, columns, keys, indexes, foreign keys,
//!   checks, sequences and modules read back from `sys.*` as sorted lines,
//!   for comparing a restored database with its source.

use std::collections::BTreeMap;

use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use tiberius::{AuthMethod, Client, ColumnData, Config, EncryptionLevel};
use tokio::net::TcpStream;
use tokio_util::compat::{Compat, TokioAsyncWriteCompatExt};

/// What a URL part escapes: all but RFC 3986's unreserved characters.
const PART: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// The environment variable naming the server.
pub const URL_VAR: &str = "BRU_TEST_MSSQL_URL";

/// The server `BRU_TEST_MSSQL_URL` names.
#[derive(Debug, Clone)]
pub struct MssqlServer {
    url: String,
}

impl MssqlServer {
    /// The server named by `BRU_TEST_MSSQL_URL`, or `None` after printing
    /// exactly one `SKIPPED: <test>: BRU_TEST_MSSQL_URL is not set` line
    /// when it is unset or empty.
    pub fn from_env(test: &str) -> Option<MssqlServer> {
        match std::env::var(URL_VAR) {
            Ok(url) if !url.trim().is_empty() => {
                // Fails here, not in the middle of a test, on a URL the
                // harness cannot read.
                ParsedUrl::parse(&url);
                Some(MssqlServer { url })
            }
            _ => {
                println!("SKIPPED: {test}: {URL_VAR} is not set");
                None
            }
        }
    }

    /// The URL as given.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The URL of database `db` on this server (same login and
    /// parameters).
    pub fn url_for(&self, db: &str) -> String {
        ParsedUrl::parse(&self.url).with_database(db)
    }

    /// A fresh, empty database `name` (dropped first if it exists), with
    /// snapshot isolation allowed where the server supports the setting;
    /// returns its URL. Prefix names with the test's own prefix so that
    /// tests running at the same time do not collide.
    pub fn create_db(&self, name: &str) -> String {
        self.drop_db(name);
        let q = quote_name(name);
        // Babelfish fails a CREATE DATABASE that runs at the same time as
        // another test's ("tuple concurrently updated"): try again.
        for _ in 0..10 {
            match try_exec(&self.url, &format!("CREATE DATABASE {q}")) {
                Err(e) if e.contains("concurrently updated") => {
                    std::thread::sleep(std::time::Duration::from_millis(300));
                }
                _ => break,
            }
        }
        if query(
            &self.url,
            &format!(
                "SELECT COUNT(*) FROM sys.databases WHERE name = {}",
                quote_string(name)
            ),
        )[0][0]
            == "0"
        {
            exec(&self.url, &format!("CREATE DATABASE {q}"));
        }
        // Real SQL Server needs this for bru's SNAPSHOT transaction;
        // Babelfish has no such switch (its transactions read snapshots
        // already) and refuses the statement, which is not a setup error.
        if let Err(e) = try_exec(
            &self.url,
            &format!("ALTER DATABASE {q} SET ALLOW_SNAPSHOT_ISOLATION ON"),
        ) {
            eprintln!(
                "note: ALTER DATABASE {q} SET ALLOW_SNAPSHOT_ISOLATION ON refused ({e}); going on"
            );
        }
        self.url_for(name)
    }

    /// Drops database `name` if it exists, closing other sessions on it
    /// first where the server allows that.
    pub fn drop_db(&self, name: &str) {
        let q = quote_name(name);
        let lit = quote_string(name);
        let exists = query(
            &self.url,
            &format!("SELECT COUNT(*) FROM sys.databases WHERE name = {lit}"),
        );
        if exists[0][0] == "0" {
            return;
        }
        if try_exec(&self.url, &format!("DROP DATABASE {q}")).is_ok() {
            return;
        }
        // Sessions still on it (a bru process that just ended, whose
        // sessions the server has not closed yet): SQL Server closes them
        // on request; Babelfish has no ALTER DATABASE, so wait for them.
        let _ = try_exec(
            &self.url,
            &format!("ALTER DATABASE {q} SET SINGLE_USER WITH ROLLBACK IMMEDIATE"),
        );
        for _ in 0..20 {
            if try_exec(&self.url, &format!("DROP DATABASE {q}")).is_ok() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(500));
        }
        exec(&self.url, &format!("DROP DATABASE {q}"));
    }
}

/// `[name]`, with `]` doubled.
pub fn quote_name(name: &str) -> String {
    format!("[{}]", name.replace(']', "]]"))
}

/// `N'text'`, with `'` doubled.
pub fn quote_string(text: &str) -> String {
    format!("N'{}'", text.replace('\'', "''"))
}

/// Runs one T-SQL batch (any number of statements) on `url`, panicking
/// with the server's message if it fails.
pub fn exec(url: &str, tsql: &str) {
    if let Err(e) = try_exec(url, tsql) {
        panic!("T-SQL failed on {}: {e}\n--- batch:\n{tsql}", redact(url));
    }
}

/// [`exec`], returning the server's error instead of panicking.
pub fn try_exec(url: &str, tsql: &str) -> Result<(), String> {
    block_on(async {
        let mut client = connect(url).await?;
        let stream = client.simple_query(tsql).await.map_err(|e| e.to_string())?;
        stream.into_results().await.map_err(|e| e.to_string())?;
        client.close().await.ok();
        Ok(())
    })
}

/// The rows of the last result set `sql` returns, each cell as text
/// ([`render`]: `NULL` for NULL), sorted.
pub fn query(url: &str, sql: &str) -> Vec<Vec<String>> {
    let mut rows = query_unsorted(url, sql);
    rows.sort();
    rows
}

/// [`query`] in the server's order (for a query with its own ORDER BY).
pub fn query_unsorted(url: &str, sql: &str) -> Vec<Vec<String>> {
    let result = block_on(async {
        let mut client = connect(url).await?;
        let stream = client.simple_query(sql).await.map_err(|e| e.to_string())?;
        let sets = stream.into_results().await.map_err(|e| e.to_string())?;
        client.close().await.ok();
        let rows = sets.into_iter().last().unwrap_or_default();
        Ok(rows
            .into_iter()
            .map(|row| row.into_iter().map(|cell| render(&cell)).collect())
            .collect::<Vec<Vec<String>>>())
    });
    match result {
        Ok(rows) => rows,
        Err(e) => panic!("query failed on {}: {e}\n--- query:\n{sql}", redact(url)),
    }
}

/// One cell as text, the same for the same value on any server: numbers
/// in Rust's shortest form, `bit` as 0/1, binaries as `0x` and upper-case
/// hex, uniqueidentifier upper-case, decimals with every digit of their
/// scale, dates and times in ISO form with every fractional digit the
/// type's scale has (see [`trim_fractions`]; `datetime` in milliseconds as
/// SQL Server rounds its 1/300 s ticks, `datetimeoffset` as local time and
/// offset), NULL as `NULL` (and an empty string as the empty string).
pub fn render(cell: &ColumnData<'_>) -> String {
    fn or_null<T>(v: &Option<T>, f: impl FnOnce(&T) -> String) -> String {
        v.as_ref().map_or_else(|| "NULL".to_string(), f)
    }
    match cell {
        ColumnData::U8(v) => or_null(v, |x| x.to_string()),
        ColumnData::I16(v) => or_null(v, |x| x.to_string()),
        ColumnData::I32(v) => or_null(v, |x| x.to_string()),
        ColumnData::I64(v) => or_null(v, |x| x.to_string()),
        ColumnData::F32(v) => or_null(v, |x| format!("{x:?}")),
        ColumnData::F64(v) => or_null(v, |x| format!("{x:?}")),
        ColumnData::Bit(v) => or_null(v, |x| if *x { "1".into() } else { "0".into() }),
        ColumnData::String(v) => or_null(v, |x| x.to_string()),
        ColumnData::Guid(v) => or_null(v, |x| x.to_string().to_uppercase()),
        ColumnData::Binary(v) => or_null(v, |x| {
            let mut s = String::with_capacity(2 + 2 * x.len());
            s.push_str("0x");
            for b in x.iter() {
                s.push_str(&format!("{b:02X}"));
            }
            s
        }),
        // Not tiberius's Display, which writes -1.5 as `-1.-5`.
        ColumnData::Numeric(v) => or_null(v, |x| numeric(x.value(), x.scale())),
        ColumnData::Xml(v) => or_null(v, |x| x.to_string()),
        ColumnData::DateTime(v) => or_null(v, |x| {
            // days since 1900-01-01, 1/300 s since midnight.
            let ms = (u64::from(x.seconds_fragments()) * 10 + 1) / 3;
            format!(
                "{} {}.{:03}",
                ymd(i64::from(x.days()) + DAYS_1900),
                hms(ms / 1000),
                ms % 1000
            )
        }),
        ColumnData::SmallDateTime(v) => or_null(v, |x| {
            let minutes = u64::from(x.seconds_fragments());
            format!(
                "{} {}",
                ymd(i64::from(x.days()) + DAYS_1900),
                hms(minutes * 60)
            )
        }),
        ColumnData::Date(v) => or_null(v, |x| ymd(i64::from(x.days()) + DAYS_0001)),
        ColumnData::Time(v) => or_null(v, |x| time(x.increments(), x.scale())),
        ColumnData::DateTime2(v) => or_null(v, |x| {
            format!(
                "{} {}",
                ymd(i64::from(x.date().days()) + DAYS_0001),
                time(x.time().increments(), x.time().scale())
            )
        }),
        ColumnData::DateTimeOffset(v) => or_null(v, |x| {
            // TDS carries the instant in UTC and the offset in minutes;
            // shown as SQL Server shows it, local time then offset.
            let dt = x.datetime2();
            let scale = dt.time().scale();
            let per_sec = 10u64.pow(u32::from(scale));
            let day = 86_400 * per_sec as i128;
            let offset = i128::from(x.offset()) * 60 * per_sec as i128;
            let utc = i128::from(dt.date().days()) * day + i128::from(dt.time().increments());
            let local = utc + offset;
            let days = local.div_euclid(day) as i64;
            let inc = local.rem_euclid(day) as u64;
            let off = x.offset();
            let sign = if off < 0 { '-' } else { '+' };
            let off = off.unsigned_abs();
            format!(
                "{} {} {sign}{:02}:{:02}",
                ymd(days + DAYS_0001),
                time(inc, scale),
                off / 60,
                off % 60
            )
        }),
    }
}

/// Days from 1970-01-01 back to 0001-01-01 and to 1900-01-01 (negative).
const DAYS_0001: i64 = -719_162;
const DAYS_1900: i64 = -25_567;

/// `YYYY-MM-DD` of a day counted from 1970-01-01 (Howard Hinnant's
/// civil_from_days). Written out here rather than taken from
/// `bru_core::calendar` on purpose: the tests' reading of the server must
/// not share the engine's arithmetic, or a bug there would agree with
/// itself.
fn ymd(days: i64) -> String {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

fn hms(secs: u64) -> String {
    format!("{:02}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60)
}

/// `HH:MM:SS[.f…]` of `increments` of 10^-scale s since midnight, with
/// every fractional digit of the scale.
fn time(increments: u64, scale: u8) -> String {
    let per_sec = 10u64.pow(u32::from(scale));
    let whole = hms(increments / per_sec);
    if scale == 0 {
        whole
    } else {
        format!(
            "{whole}.{:0width$}",
            increments % per_sec,
            width = usize::from(scale)
        )
    }
}

/// `cell` with the trailing zeros of every `HH:MM:SS.fff` fraction in it
/// left out (and the `.` of a fraction of zeros): the same value whatever
/// scale the server reports for its column (Babelfish declares a
/// `datetime2(7)` column and reports it as scale 6), for comparing values
/// whose declared types [`schema`] compares.
pub fn trim_fractions(cell: &str) -> String {
    let b = cell.as_bytes();
    let mut out = String::with_capacity(cell.len());
    let mut i = 0;
    while i < b.len() {
        let is_time = i + 9 <= b.len()
            && b[i + 2] == b':'
            && b[i + 5] == b':'
            && b[i + 8] == b'.'
            && [0, 1, 3, 4, 6, 7]
                .iter()
                .all(|&k| b[i + k].is_ascii_digit());
        if is_time {
            out.push_str(&cell[i..i + 8]);
            let mut j = i + 9;
            while j < b.len() && b[j].is_ascii_digit() {
                j += 1;
            }
            let frac = cell[i + 9..j].trim_end_matches('0');
            if !frac.is_empty() {
                out.push('.');
                out.push_str(frac);
            }
            i = j;
        } else {
            let ch = cell[i..].chars().next().unwrap_or('\0');
            out.push(ch);
            i += ch.len_utf8().max(1);
        }
    }
    out
}

/// A decimal `value` × 10^-`scale` as exact text, all `scale` digits kept.
fn numeric(value: i128, scale: u8) -> String {
    let sign = if value < 0 { "-" } else { "" };
    let digits = value.unsigned_abs().to_string();
    let scale = usize::from(scale);
    if scale == 0 {
        return format!("{sign}{digits}");
    }
    let digits = format!("{digits:0>width$}", width = scale + 1);
    let (int, frac) = digits.split_at(digits.len() - scale);
    format!("{sign}{int}.{frac}")
}

/// A database's schema as read back from `sys.*`, one sorted line per fact,
/// for comparing a restore with its source (`assert_eq!` on the two shows
/// the lines that differ). Constraint names are included where the
/// catalog says a user chose them (`is_system_named = 0`); multi-line
/// definitions are written on one line with `\n`.
pub fn schema(url: &str) -> String {
    let mut lines: Vec<String> = Vec::new();
    let db_collation = query(
        url,
        "SELECT collation_name FROM sys.databases WHERE name = DB_NAME()",
    )
    .into_iter()
    .next()
    .map(|r| r[0].clone())
    .unwrap_or_default();

    let babelfish = is_babelfish(url);
    for r in query(
        url,
        "SELECT s.name, t.name FROM sys.tables t JOIN sys.schemas s ON s.schema_id = t.schema_id \
         WHERE t.is_ms_shipped = 0",
    ) {
        lines.push(format!("table {}.{}", r[0], r[1]));
    }

    for r in query(
        url,
        "SELECT s.name, t.name, c.column_id, c.name, ty.name, ts.name, ty.is_user_defined, \
                c.max_length, c.precision, c.scale, c.is_nullable, c.collation_name, \
                c.is_identity, CONVERT(nvarchar(100), ic.seed_value), \
                CONVERT(nvarchar(100), ic.increment_value), \
                c.is_computed, cc.definition, cc.is_persisted, \
                dc.definition, dc.name, dc.is_system_named \
         FROM sys.columns c \
         JOIN sys.tables t ON t.object_id = c.object_id \
         JOIN sys.schemas s ON s.schema_id = t.schema_id \
         JOIN sys.types ty ON ty.user_type_id = c.user_type_id \
         JOIN sys.schemas ts ON ts.schema_id = ty.schema_id \
         LEFT JOIN sys.identity_columns ic ON ic.object_id = c.object_id AND ic.column_id = c.column_id \
         LEFT JOIN sys.computed_columns cc ON cc.object_id = c.object_id AND cc.column_id = c.column_id \
         LEFT JOIN sys.default_constraints dc ON dc.parent_object_id = c.object_id AND dc.parent_column_id = c.column_id \
         WHERE t.is_ms_shipped = 0",
    ) {
        let mut line = format!(
            "column {}.{} #{:>4} {} {}",
            r[0],
            r[1],
            r[2],
            r[3],
            type_spelling(&r[4], &r[5], &r[6], &r[7], &r[8], &r[9])
        );
        line.push_str(if r[10] == "1" { " null" } else { " not null" });
        if r[11] != "NULL" && r[11] != db_collation {
            line.push_str(&format!(" collate {}", r[11]));
        }
        if r[12] == "1" {
            line.push_str(&format!(" identity({},{})", r[13], r[14]));
        }
        if r[15] == "1" {
            line.push_str(&format!(" as {}", one_line(&r[16])));
            if r[17] == "1" {
                line.push_str(" persisted");
            }
        }
        if r[18] != "NULL" {
            line.push_str(&format!(" default {}", one_line(&r[18])));
            if r[20] == "0" {
                line.push_str(&format!(" named {}", r[19]));
            }
        }
        lines.push(line);
    }

    // Index columns, by (object_id, index_id): key columns in key order
    // (with DESC), then included columns by name.
    let mut index_cols: BTreeMap<(String, String), IndexColumns> = BTreeMap::new();
    for r in query(
        url,
        "SELECT ic.object_id, ic.index_id, ic.key_ordinal, c.name, ic.is_descending_key, \
                ic.is_included_column \
         FROM sys.index_columns ic \
         JOIN sys.columns c ON c.object_id = ic.object_id AND c.column_id = ic.column_id \
         JOIN sys.tables t ON t.object_id = ic.object_id WHERE t.is_ms_shipped = 0",
    ) {
        let entry = index_cols.entry((r[0].clone(), r[1].clone())).or_default();
        if r[5] == "1" {
            entry.1.push(r[3].clone());
        } else {
            let ord: u32 = r[2].parse().unwrap_or(0);
            let desc = if r[4] == "1" { " DESC" } else { "" };
            entry.0.push((ord, format!("{}{desc}", r[3])));
        }
    }
    let cols_of = |obj: &str, idx: &str| -> String {
        let (mut keys, mut incl) = index_cols
            .get(&(obj.to_string(), idx.to_string()))
            .cloned()
            .unwrap_or_default();
        keys.sort();
        incl.sort();
        let keys: Vec<String> = keys.into_iter().map(|(_, k)| k).collect();
        let mut s = format!("({})", keys.join(", "));
        if !incl.is_empty() {
            s.push_str(&format!(" include ({})", incl.join(", ")));
        }
        s
    };

    for r in query(
        url,
        "SELECT s.name, t.name, i.object_id, i.index_id, i.name, i.type_desc, i.is_unique, \
                i.is_primary_key, i.is_unique_constraint, i.filter_definition, kc.is_system_named \
         FROM sys.indexes i \
         JOIN sys.tables t ON t.object_id = i.object_id \
         JOIN sys.schemas s ON s.schema_id = t.schema_id \
         LEFT JOIN sys.key_constraints kc ON kc.parent_object_id = i.object_id AND kc.unique_index_id = i.index_id \
         WHERE t.is_ms_shipped = 0 AND i.type > 0",
    ) {
        let what = if r[7] == "1" {
            "primary key".to_string()
        } else if r[8] == "1" {
            "unique constraint".to_string()
        } else if r[6] == "1" {
            "unique index".to_string()
        } else {
            "index".to_string()
        };
        let named = if r[7] == "1" || r[8] == "1" {
            if r[10] == "0" {
                format!(" named {}", r[4])
            } else {
                String::new()
            }
        } else if babelfish {
            // Babelfish names an index `<name><table><md5>` in sys.indexes
            // and makes a new such name of that name on restore: the name
            // cannot be compared there, only on SQL Server.
            " (name not compared on Babelfish)".to_string()
        } else {
            format!(" {}", r[4])
        };
        let mut line = format!(
            "{what}{named} on {}.{} {} {}",
            r[0],
            r[1],
            r[5].to_lowercase(),
            cols_of(&r[2], &r[3])
        );
        if r[9] != "NULL" {
            line.push_str(&format!(" where {}", one_line(&r[9])));
        }
        lines.push(line);
    }

    let mut fk_cols: BTreeMap<String, Vec<(u32, String, String)>> = BTreeMap::new();
    for r in query(
        url,
        "SELECT fkc.constraint_object_id, fkc.constraint_column_id, pc.name, rc.name \
         FROM sys.foreign_key_columns fkc \
         JOIN sys.columns pc ON pc.object_id = fkc.parent_object_id AND pc.column_id = fkc.parent_column_id \
         JOIN sys.columns rc ON rc.object_id = fkc.referenced_object_id AND rc.column_id = fkc.referenced_column_id",
    ) {
        fk_cols.entry(r[0].clone()).or_default().push((
            r[1].parse().unwrap_or(0),
            r[2].clone(),
            r[3].clone(),
        ));
    }
    for r in query(
        url,
        "SELECT fk.object_id, ps.name, pt.name, rs.name, rt.name, fk.name, fk.is_system_named, \
                fk.delete_referential_action_desc, fk.update_referential_action_desc, fk.is_disabled \
         FROM sys.foreign_keys fk \
         JOIN sys.tables pt ON pt.object_id = fk.parent_object_id \
         JOIN sys.schemas ps ON ps.schema_id = pt.schema_id \
         JOIN sys.tables rt ON rt.object_id = fk.referenced_object_id \
         JOIN sys.schemas rs ON rs.schema_id = rt.schema_id",
    ) {
        let mut cols = fk_cols.get(&r[0]).cloned().unwrap_or_default();
        cols.sort();
        let from: Vec<&str> = cols.iter().map(|c| c.1.as_str()).collect();
        let to: Vec<&str> = cols.iter().map(|c| c.2.as_str()).collect();
        let named = if r[6] == "0" {
            format!(" named {}", r[5])
        } else {
            String::new()
        };
        lines.push(format!(
            "foreign key{named} on {}.{} ({}) references {}.{} ({}) on delete {} on update {}{}",
            r[1],
            r[2],
            from.join(", "),
            r[3],
            r[4],
            to.join(", "),
            r[7].to_lowercase(),
            r[8].to_lowercase(),
            if r[9] == "1" { " disabled" } else { "" }
        ));
    }

    for r in query(
        url,
        "SELECT s.name, t.name, cc.name, cc.is_system_named, cc.definition, cc.is_disabled \
         FROM sys.check_constraints cc \
         JOIN sys.tables t ON t.object_id = cc.parent_object_id \
         JOIN sys.schemas s ON s.schema_id = t.schema_id",
    ) {
        let named = if r[3] == "0" {
            format!(" named {}", r[2])
        } else {
            String::new()
        };
        lines.push(format!(
            "check{named} on {}.{} {}{}",
            r[0],
            r[1],
            one_line(&r[4]),
            if r[5] == "1" { " disabled" } else { "" }
        ));
    }

    for line in sequences(url) {
        lines.push(line);
    }

    for r in query(
        url,
        "SELECT s.name, o.name, RTRIM(o.type), ps.name, p.name, m.uses_ansi_nulls, \
                m.uses_quoted_identifier, m.definition \
         FROM sys.sql_modules m \
         JOIN sys.objects o ON o.object_id = m.object_id \
         JOIN sys.schemas s ON s.schema_id = o.schema_id \
         LEFT JOIN sys.objects p ON p.object_id = o.parent_object_id \
         LEFT JOIN sys.schemas ps ON ps.schema_id = p.schema_id \
         WHERE o.is_ms_shipped = 0",
    ) {
        let on = if r[4] != "NULL" {
            format!(" on {}.{}", r[3], r[4])
        } else {
            String::new()
        };
        lines.push(format!(
            "module {} {}.{}{on} ansi_nulls={} quoted_identifier={}: {}",
            r[2],
            r[0],
            r[1],
            r[5],
            r[6],
            one_line(&r[7])
        ));
    }

    lines.sort();
    let mut out = lines.join("\n");
    out.push('\n');
    out
}

/// An index's key columns (key ordinal, name with DESC) and included
/// columns.
type IndexColumns = (Vec<(u32, String)>, Vec<String>);

/// The sequences, one line each: from `sys.sequences`, or where the
/// server has no such view (Babelfish) from `INFORMATION_SCHEMA.SEQUENCES`,
/// without the sequences Babelfish makes for identity columns
/// (`<table>_<column>_seq`), which are no sequence of the database's.
fn sequences(url: &str) -> Vec<String> {
    let sys = "SELECT s.name, sq.name, ty.name, CONVERT(nvarchar(100), sq.start_value), \
                CONVERT(nvarchar(100), sq.increment), CONVERT(nvarchar(100), sq.minimum_value), \
                CONVERT(nvarchar(100), sq.maximum_value), sq.is_cycling, \
                CONVERT(nvarchar(100), sq.current_value) \
         FROM sys.sequences sq \
         JOIN sys.schemas s ON s.schema_id = sq.schema_id \
         JOIN sys.types ty ON ty.user_type_id = sq.user_type_id";
    let line = |r: &[String]| {
        format!(
            "sequence {}.{} as {} start {} increment {} min {} max {}{} current {}",
            r[0],
            r[1],
            r[2],
            r[3],
            r[4],
            r[5],
            r[6],
            if r[7] == "1" { " cycle" } else { "" },
            r[8]
        )
    };
    if try_exec(url, "SELECT TOP 0 1 FROM sys.sequences").is_ok() {
        return query(url, sys).iter().map(|r| line(r)).collect();
    }
    let identity: Vec<String> = query(
        url,
        "SELECT s.name, t.name, c.name FROM sys.identity_columns c \
         JOIN sys.tables t ON t.object_id = c.object_id \
         JOIN sys.schemas s ON s.schema_id = t.schema_id",
    )
    .into_iter()
    .map(|r| format!("{}.{}_{}_seq", r[0], r[1], r[2]).to_lowercase())
    .collect();
    query(
        url,
        "SELECT SEQUENCE_SCHEMA, SEQUENCE_NAME, DATA_TYPE, CONVERT(nvarchar(100), START_VALUE), \
                CONVERT(nvarchar(100), INCREMENT), CONVERT(nvarchar(100), MINIMUM_VALUE), \
                CONVERT(nvarchar(100), MAXIMUM_VALUE), \
                CASE WHEN CAST(CYCLE_OPTION AS nvarchar(10)) IN (N'YES', N'1') THEN 1 ELSE 0 END, N'?' \
         FROM INFORMATION_SCHEMA.SEQUENCES",
    )
    .into_iter()
    .filter(|r| !identity.contains(&format!("{}.{}", r[0], r[1]).to_lowercase()))
    .map(|r| line(&r))
    .collect()
}

/// Whether the server at `url` is Babelfish for PostgreSQL (its
/// `@@VERSION` says so), whose catalog differs from SQL Server's in ways
/// [`schema`] has to leave out.
pub fn is_babelfish(url: &str) -> bool {
    query(url, "SELECT @@VERSION")
        .first()
        .is_some_and(|r| r[0].starts_with("Babelfish"))
}

/// A column's type as T-SQL spells it, from `sys.columns` and `sys.types`.
fn type_spelling(
    name: &str,
    type_schema: &str,
    user_defined: &str,
    max_length: &str,
    precision: &str,
    scale: &str,
) -> String {
    if user_defined == "1" {
        return format!("{}.{}", quote_name(type_schema), quote_name(name));
    }
    let len = |per_char: i64| -> String {
        match max_length.parse::<i64>() {
            Ok(-1) => "max".into(),
            Ok(n) => (n / per_char).to_string(),
            Err(_) => max_length.into(),
        }
    };
    match name {
        "char" | "varchar" | "binary" | "varbinary" => format!("{name}({})", len(1)),
        "nchar" | "nvarchar" => format!("{name}({})", len(2)),
        "decimal" | "numeric" => format!("{name}({precision},{scale})"),
        "datetime2" | "time" | "datetimeoffset" => format!("{name}({scale})"),
        _ => name.to_string(),
    }
}

fn one_line(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace("\r\n", "\\n")
        .replace('\n', "\\n")
}

/// The URL with its password replaced by `***`, for panic messages.
pub fn redact(url: &str) -> String {
    let p = ParsedUrl::parse(url);
    let mut r = p.clone();
    if r.password.is_some() {
        r.password = Some("***".into());
    }
    r.to_url()
}

/// An `mssql://` / `sqlserver://` URL's parts, as far as the harness needs
/// them: `user:password@host:port/database` with `encrypt=` and
/// `trustServerCertificate=` parameters, and `SQLCMDPASSWORD` for a URL
/// without a password (sqlcmd's convention, as bru's).
#[derive(Debug, Clone)]
struct ParsedUrl {
    scheme: String,
    user: String,
    password: Option<String>,
    host: String,
    port: u16,
    database: String,
    params: Vec<(String, String)>,
}

impl ParsedUrl {
    fn parse(url: &str) -> ParsedUrl {
        let bad = |why: &str| -> ! {
            panic!(
                "{URL_VAR} must look like mssql://USER:PASSWORD@HOST:PORT/DATABASE?encrypt=off: {why}"
            )
        };
        let (scheme, rest) = url.split_once("://").unwrap_or_else(|| bad("no scheme"));
        if scheme != "mssql" && scheme != "sqlserver" {
            bad("the scheme is not mssql or sqlserver");
        }
        let (rest, query) = match rest.split_once('?') {
            Some((r, q)) => (r, q),
            None => (rest, ""),
        };
        let (auth, hostpath) = rest.rsplit_once('@').unwrap_or_else(|| bad("no user"));
        let dec = |s: &str| percent_decode_str(s).decode_utf8_lossy().into_owned();
        let (user, password) = match auth.split_once(':') {
            Some((u, p)) => (dec(u), Some(dec(p))),
            None => (dec(auth), None),
        };
        let (hostport, database) = match hostpath.split_once('/') {
            Some((h, d)) => (h, dec(d)),
            None => (hostpath, "master".to_string()),
        };
        let (host, port) = match hostport.rsplit_once(':') {
            Some((h, p)) => (
                h.to_string(),
                p.parse()
                    .unwrap_or_else(|_| bad("the port is not a number")),
            ),
            None => (hostport.to_string(), 1433),
        };
        let params = query
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| match p.split_once('=') {
                Some((k, v)) => (dec(k), dec(v)),
                None => (dec(p), String::new()),
            })
            .collect();
        ParsedUrl {
            scheme: scheme.into(),
            user,
            password,
            host,
            port,
            database,
            params,
        }
    }

    fn param(&self, key: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
    }

    fn with_database(&self, db: &str) -> String {
        let mut p = self.clone();
        p.database = db.into();
        p.to_url()
    }

    fn to_url(&self) -> String {
        let enc = |s: &str| utf8_percent_encode(s, PART).to_string();
        let mut s = format!("{}://{}", self.scheme, enc(&self.user));
        if let Some(p) = &self.password {
            s.push(':');
            s.push_str(&enc(p));
        }
        s.push_str(&format!(
            "@{}:{}/{}",
            self.host,
            self.port,
            enc(&self.database)
        ));
        if !self.params.is_empty() {
            let q: Vec<String> = self
                .params
                .iter()
                .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
                .collect();
            s.push('?');
            s.push_str(&q.join("&"));
        }
        s
    }

    fn config(&self) -> Config {
        let mut c = Config::new();
        c.host(&self.host);
        c.port(self.port);
        c.database(&self.database);
        c.application_name("bru-testsupport");
        let password = self
            .password
            .clone()
            .or_else(|| std::env::var("SQLCMDPASSWORD").ok())
            .unwrap_or_default();
        c.authentication(AuthMethod::sql_server(&self.user, password));
        c.encryption(
            match self
                .param("encrypt")
                .map(str::to_ascii_lowercase)
                .as_deref()
            {
                Some("strict") | Some("mandatory") | Some("true") | Some("yes") => {
                    EncryptionLevel::Required
                }
                // As bru reads them (crates/mssql/src/conn/settings.rs):
                // `optional` encrypts the login, `off` nothing.
                Some("optional") | Some("false") | Some("no") => EncryptionLevel::Off,
                Some("off") => EncryptionLevel::NotSupported,
                _ => EncryptionLevel::Required,
            },
        );
        if self
            .param("trustServerCertificate")
            .is_some_and(|v| v.eq_ignore_ascii_case("true") || v.eq_ignore_ascii_case("yes"))
        {
            c.trust_cert();
        }
        c
    }
}

/// Runs `f` to completion on a fresh single-threaded runtime.
fn block_on<T>(f: impl std::future::Future<Output = Result<T, String>>) -> Result<T, String> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start a tokio runtime: {e}"))?
        .block_on(f)
}

/// A session on `url`'s database.
async fn connect(url: &str) -> Result<Client<Compat<TcpStream>>, String> {
    let parsed = ParsedUrl::parse(url);
    let config = parsed.config();
    let tcp = TcpStream::connect(config.get_addr())
        .await
        .map_err(|e| format!("cannot connect to {}:{}: {e}", parsed.host, parsed.port))?;
    tcp.set_nodelay(true).ok();
    Client::connect(config, tcp.compat_write())
        .await
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_keep_their_parameters_and_hide_the_password() {
        let p = ParsedUrl::parse(
            "mssql://babelfish_user:Bru-test-12345@127.0.0.1:1433/brutest?encrypt=off",
        );
        assert_eq!(p.user, "babelfish_user");
        assert_eq!(p.password.as_deref(), Some("Bru-test-12345"));
        assert_eq!(p.port, 1433);
        assert_eq!(p.database, "brutest");
        assert_eq!(p.param("ENCRYPT"), Some("off"));
        assert_eq!(
            p.with_database("mtrust x"),
            "mssql://babelfish_user:Bru-test-12345@127.0.0.1:1433/mtrust%20x?encrypt=off"
        );
        let r = redact("sqlserver://u:s%40cret@h/d");
        assert!(!r.contains("cret"), "{r}");
        assert_eq!(r, "sqlserver://u:%2A%2A%2A@h:1433/d");
    }

    #[test]
    fn dates_and_times_render_as_iso_text() {
        assert_eq!(ymd(0), "1970-01-01");
        assert_eq!(ymd(DAYS_0001), "0001-01-01");
        assert_eq!(ymd(DAYS_1900), "1900-01-01");
        // 9999-12-31 is day 3652058 from 0001-01-01.
        assert_eq!(ymd(DAYS_0001 + 3_652_058), "9999-12-31");
        assert_eq!(time(863_999_999_999, 7), "23:59:59.9999999");
        assert_eq!(time(0, 0), "00:00:00");
        assert_eq!(time(1_500, 3), "00:00:01.500");
        assert_eq!(
            trim_fractions("2024-01-01 00:00:01.5000000 +05:00"),
            "2024-01-01 00:00:01.5 +05:00"
        );
        assert_eq!(
            trim_fractions("00:00:01.000|x 12:00:00.10"),
            "00:00:01|x 12:00:00.1"
        );
        assert_eq!(numeric(-150, 2), "-1.50");
        assert_eq!(numeric(-5, 3), "-0.005");
        assert_eq!(numeric(0, 0), "0");
        assert_eq!(
            numeric(-99_999_999_999_999_999_999_999_999_999_999_999_999, 38),
            "-0.99999999999999999999999999999999999999"
        );
        // datetime ticks: 1 → .003, 2 → .007, 299 → .997.
        let dt = |frag| {
            render(&ColumnData::DateTime(Some(tiberius::time::DateTime::new(
                0, frag,
            ))))
        };
        assert_eq!(dt(1), "1900-01-01 00:00:00.003");
        assert_eq!(dt(2), "1900-01-01 00:00:00.007");
        assert_eq!(dt(299), "1900-01-01 00:00:00.997");
        // datetimeoffset: 2000-01-01 00:30 UTC at -05:00 is the evening before.
        let days_2000 = (10_957 - DAYS_0001) as u32;
        let utc = tiberius::time::DateTime2::new(
            tiberius::time::Date::new(days_2000),
            tiberius::time::Time::new(30 * 60, 0),
        );
        let dto = tiberius::time::DateTimeOffset::new(utc, -300);
        assert_eq!(
            render(&ColumnData::DateTimeOffset(Some(dto))),
            "1999-12-31 19:30:00 -05:00"
        );
        let dto = tiberius::time::DateTimeOffset::new(utc, 14 * 60);
        assert_eq!(
            render(&ColumnData::DateTimeOffset(Some(dto))),
            "2000-01-01 14:30:00 +14:00"
        );
    }

    #[test]
    fn cells_render_null_empty_and_binary_apart() {
        assert_eq!(render(&ColumnData::String(None)), "NULL");
        assert_eq!(render(&ColumnData::String(Some("".into()))), "");
        assert_eq!(
            render(&ColumnData::Binary(Some(vec![0, 0xab].into()))),
            "0x00AB"
        );
        assert_eq!(render(&ColumnData::Binary(Some(Vec::new().into()))), "0x");
        assert_eq!(render(&ColumnData::Bit(Some(true))), "1");
    }

    #[test]
    fn types_are_spelled_as_t_sql_spells_them() {
        assert_eq!(
            type_spelling("nvarchar", "sys", "0", "100", "0", "0"),
            "nvarchar(50)"
        );
        assert_eq!(
            type_spelling("varbinary", "sys", "0", "-1", "0", "0"),
            "varbinary(max)"
        );
        assert_eq!(
            type_spelling("decimal", "sys", "0", "17", "38", "38"),
            "decimal(38,38)"
        );
        assert_eq!(
            type_spelling("datetime2", "sys", "0", "8", "27", "7"),
            "datetime2(7)"
        );
        assert_eq!(type_spelling("money", "sys", "0", "8", "19", "4"), "money");
        assert_eq!(
            type_spelling("alias", "dbo", "1", "4", "10", "0"),
            "[dbo].[alias]"
        );
    }
}
