//! Rows through TDS bulk load, exactly: the loader's fast path.
//!
//! tiberius's `bulk_insert` reads the table's metadata (`SELECT TOP 0 *`),
//! writes `INSERT BULK` with the columns the metadata flags updateable,
//! and encodes each value itself from that metadata. Written straight into
//! the restored table, that is not exact everywhere: it cannot keep
//! identity values (no `KEEP_IDENTITY`, and Babelfish does not flag
//! identity columns at all, so the column list would differ by server),
//! it panics on `money` and on a nullable `money` column's metadata,
//! writes `date` wrong, needs a `decimal`'s scale to match to the digit,
//! and Babelfish corrupts bulk-loaded decimals; its `INSERT BULK` leaves
//! column names unquoted and gives `nvarchar(n)` twice its length.
//!
//! So the rows go through a **stage**: a session temp table
//! (`#bru_stage_N`) of plain, nullable columns `[c1]`, `[c2]`, … of the
//! few types tiberius encodes exactly ([`Kind`]): `bit`, the integers,
//! `real`, `float`, `uniqueidentifier`, `varbinary(max)` and
//! `nvarchar(max)`. Every value is first encoded by [`super::values`], the
//! same checks as the INSERT path; what the INSERT path sends as exact text
//! for the server to cast (decimals, money, every date and time type, xml,
//! hierarchyid, CLR types) is staged as that text in an `nvarchar(max)`
//! column. Then, in the chunk's transaction,
//! `INSERT INTO t (…) SELECT CAST([c2] AS decimal(10,2)), … FROM #stage`
//! moves the rows with the very casts of the INSERT path, and the stage is
//! emptied. Identity values are kept (`IDENTITY_INSERT` is on, as for
//! INSERTs), triggers and checks behave as for INSERTs, and what the
//! server converts is what the INSERT path's parameters were converted
//! from, so both paths store the same values.
//!
//! A table with a `sql_variant` column is loaded with INSERTs (its
//! expression depends on each value's base type).
//!
//! Bulk load runs in the chunk's transaction: tiberius sends the
//! transaction descriptor the server gave at `BEGIN TRANSACTION` with the
//! `INSERT BULK` request, so the rows commit with the journal key or not
//! at all. A failed bulk load leaves the session unusable (the server may
//! be waiting for the rest of the data); the session then refuses every
//! further statement and the server rolls the transaction back when the
//! connection closes ([`super::session::Session::bulk`]).
//!
//! `BRU_MSSQL_BULK=off` in the environment loads every table with INSERTs
//! instead (to compare the two, or to work around a server that refuses
//! bulk load).

use std::sync::atomic::{AtomicU64, Ordering};

use bru_core::{Error, RowBatch};
use tiberius::{ColumnData, TokenRow};

use super::quote::ident;
use super::values::{encode, Enc};

/// The environment variable that turns bulk load off (`off`, `0`,
/// `false`, `no`).
pub(crate) const BULK_ENV: &str = "BRU_MSSQL_BULK";

/// The longest binary or string value (in bytes as sent: UTF-16 for a
/// string) a bulk load carries; a batch with a longer one goes in with
/// INSERTs ([`Stage::rows`]).
pub(crate) const MAX_BULK_VALUE: usize = 65_535;

/// Whether `data` is longer than [`MAX_BULK_VALUE`].
fn too_long(data: &ColumnData<'_>) -> bool {
    match data {
        ColumnData::Binary(Some(b)) => b.len() > MAX_BULK_VALUE,
        // UTF-16 takes at most two bytes per UTF-8 byte: count only when
        // that bound is over the limit.
        ColumnData::String(Some(t)) => {
            t.len() * 2 > MAX_BULK_VALUE && t.encode_utf16().count() * 2 > MAX_BULK_VALUE
        }
        _ => false,
    }
}

/// Whether the environment allows bulk load.
pub(crate) fn enabled_by_env() -> bool {
    enabled(std::env::var(BULK_ENV).ok().as_deref())
}

/// Whether a value of [`BULK_ENV`] (`None`: not set) allows bulk load.
fn enabled(value: Option<&str>) -> bool {
    !value.is_some_and(|v| {
        matches!(
            v.trim().to_ascii_lowercase().as_str(),
            "off" | "0" | "false" | "no"
        )
    })
}

/// The type of a stage column, and the tiberius value that goes into it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Bit,
    TinyInt,
    SmallInt,
    Int,
    BigInt,
    Real,
    Float,
    Guid,
    /// `varbinary(max)`.
    Binary,
    /// `nvarchar(max)`: character data, or the exact text of a value the
    /// server casts.
    Text,
}

impl Kind {
    /// The stage column for values of encoding `enc`; `None` for
    /// `sql_variant`.
    pub(crate) fn of(enc: &Enc) -> Option<Kind> {
        if enc.cast_sql().is_some() {
            return Some(Kind::Text);
        }
        Some(match enc {
            Enc::Bit => Kind::Bit,
            Enc::Int { name, .. } => match *name {
                "tinyint" => Kind::TinyInt,
                "smallint" => Kind::SmallInt,
                "int" => Kind::Int,
                _ => Kind::BigInt,
            },
            Enc::Real => Kind::Real,
            Enc::Float => Kind::Float,
            Enc::Uuid => Kind::Guid,
            Enc::Binary { .. } => Kind::Binary,
            Enc::Text { .. } => Kind::Text,
            _ => return None,
        })
    }

    fn decl(self) -> &'static str {
        match self {
            Kind::Bit => "bit",
            Kind::TinyInt => "tinyint",
            Kind::SmallInt => "smallint",
            Kind::Int => "int",
            Kind::BigInt => "bigint",
            Kind::Real => "real",
            Kind::Float => "float",
            Kind::Guid => "uniqueidentifier",
            Kind::Binary => "varbinary(max)",
            Kind::Text => "nvarchar(max)",
        }
    }

    fn null(self) -> ColumnData<'static> {
        match self {
            Kind::Bit => ColumnData::Bit(None),
            Kind::TinyInt => ColumnData::U8(None),
            Kind::SmallInt => ColumnData::I16(None),
            Kind::Int => ColumnData::I32(None),
            Kind::BigInt => ColumnData::I64(None),
            Kind::Real => ColumnData::F32(None),
            Kind::Float => ColumnData::F64(None),
            Kind::Guid => ColumnData::Guid(None),
            Kind::Binary => ColumnData::Binary(None),
            Kind::Text => ColumnData::String(None),
        }
    }

    /// Whether `data` is a value of this kind.
    fn holds(self, data: &ColumnData<'_>) -> bool {
        matches!(
            (self, data),
            (Kind::Bit, ColumnData::Bit(_))
                | (Kind::TinyInt, ColumnData::U8(_))
                | (Kind::SmallInt, ColumnData::I16(_))
                | (Kind::Int, ColumnData::I32(_))
                | (Kind::BigInt, ColumnData::I64(_))
                | (Kind::Real, ColumnData::F32(_))
                | (Kind::Float, ColumnData::F64(_))
                | (Kind::Guid, ColumnData::Guid(_))
                | (Kind::Binary, ColumnData::Binary(_))
                | (Kind::Text, ColumnData::String(_))
        )
    }
}

/// One table's stage: its statements and the kind of each written column.
#[derive(Debug)]
pub(crate) struct Stage {
    /// `#bru_stage_N`.
    pub(crate) name: String,
    /// `CREATE TABLE #bru_stage_N (…)`.
    pub(crate) create: String,
    /// Moves the staged rows into the table and empties the stage.
    pub(crate) move_rows: String,
    /// `DROP TABLE #bru_stage_N`.
    pub(crate) drop: String,
    kinds: Vec<Kind>,
}

/// Numbers the stages of the process, so no two loaders of one session
/// ever share a name (a session runs one loader at a time, but a loader
/// dropped on an error leaves its stage until the drop runs).
static NEXT: AtomicU64 = AtomicU64::new(1);

impl Stage {
    /// The stage for writing `columns` (target column names, quoted, with
    /// their encodings, in the order of the archive's planned columns)
    /// into `table` (quoted); `None` when a column has no stage kind.
    pub(crate) fn plan(table: &str, columns: &[(&Enc, String)]) -> Option<Stage> {
        let kinds: Vec<Kind> = columns
            .iter()
            .map(|(enc, _)| Kind::of(enc))
            .collect::<Option<_>>()?;
        if kinds.is_empty() {
            return None;
        }
        let name = format!("#bru_stage_{}", NEXT.fetch_add(1, Ordering::Relaxed));
        let stage_col = |i: usize| ident(&format!("c{}", i + 1));
        let decls: Vec<String> = kinds
            .iter()
            .enumerate()
            .map(|(i, k)| format!("{} {} NULL", stage_col(i), k.decl()))
            .collect();
        let targets: Vec<&str> = columns.iter().map(|(_, n)| n.as_str()).collect();
        let exprs: Vec<String> = columns
            .iter()
            .enumerate()
            .map(|(i, (enc, _))| match enc.cast_sql() {
                Some(cast) => cast.replacen("@P", &stage_col(i), 1),
                None => stage_col(i),
            })
            .collect();
        Some(Stage {
            create: format!("CREATE TABLE {name} ({})", decls.join(", ")),
            move_rows: format!(
                "INSERT INTO {table} ({}) SELECT {} FROM {name}; TRUNCATE TABLE {name}",
                targets.join(", "),
                exprs.join(", ")
            ),
            drop: format!("DROP TABLE {name}"),
            name,
            kinds,
        })
    }

    /// The rows of `batch` for the stage: each value of a planned column
    /// (`plan[c]` is the encoding and archive column name of archive
    /// column `c`, `None` for one not written) encoded as the INSERT path
    /// encodes it. Every value is encoded before anything is sent, so a
    /// value that cannot be stored exactly is refused, naming table, column
    /// and value, while the session is still usable.
    ///
    /// `None` when a binary or string value is longer than
    /// [`MAX_BULK_VALUE`] bytes: the batch then goes in with INSERTs (a
    /// server may refuse a longer value in a bulk load — Babelfish does:
    /// "Binary length 103052 exceed column limit 65535" — where an INSERT
    /// stores it).
    pub(crate) fn rows(
        &self,
        table: &str,
        plan: &[Option<(Enc, String)>],
        batch: &RowBatch,
        babelfish: bool,
    ) -> bru_core::Result<Option<Vec<TokenRow<'static>>>> {
        let mut rows = Vec::with_capacity(batch.row_count());
        for r in 0..batch.row_count() {
            let mut row = TokenRow::with_capacity(self.kinds.len());
            let mut kinds = self.kinds.iter();
            for (c, planned) in plan.iter().enumerate() {
                let Some((enc, column)) = planned else {
                    continue;
                };
                let kind = *kinds.next().ok_or_else(|| self.mismatch(table, column))?;
                let value = batch.get(r, c);
                let encoded = encode(enc, value, babelfish).map_err(|reason| Error::Value {
                    table: table.to_owned(),
                    column: column.clone(),
                    value: value.describe(),
                    reason,
                })?;
                let data = match encoded.param {
                    None => kind.null(),
                    Some(p) if kind.holds(&p.0) => p.0,
                    Some(_) => return Err(self.mismatch(table, column)),
                };
                if too_long(&data) {
                    return Ok(None);
                }
                row.push(data);
            }
            if row.len() != self.kinds.len() {
                return Err(Error::engine(
                    format!("loading {table}"),
                    "the bulk-load stage does not match the table's columns",
                ));
            }
            rows.push(row);
        }
        Ok(Some(rows))
    }

    fn mismatch(&self, table: &str, column: &str) -> Error {
        Error::engine(
            format!("loading {table}"),
            format!(
                "column {column}'s values do not fit its bulk-load stage; \
                 restore with {BULK_ENV}=off to load with INSERTs"
            ),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::target::values::{test_enc, CodePage};
    use bru_core::Value;

    fn enc(name: &str, max_length: i16, precision: u8, scale: u8) -> Enc {
        test_enc(name, max_length, precision, scale, CodePage::Utf16)
    }

    #[test]
    fn every_type_but_sql_variant_has_a_stage_column() {
        for (name, len, p, s, kind) in [
            ("bit", 1, 0, 0, Kind::Bit),
            ("tinyint", 1, 3, 0, Kind::TinyInt),
            ("smallint", 2, 5, 0, Kind::SmallInt),
            ("int", 4, 10, 0, Kind::Int),
            ("bigint", 8, 19, 0, Kind::BigInt),
            ("real", 4, 24, 0, Kind::Real),
            ("float", 8, 53, 0, Kind::Float),
            ("uniqueidentifier", 16, 0, 0, Kind::Guid),
            ("varbinary", -1, 0, 0, Kind::Binary),
            ("binary", 4, 0, 0, Kind::Binary),
            ("nvarchar", 40, 0, 0, Kind::Text),
            ("char", 4, 0, 0, Kind::Text),
            ("decimal", 17, 38, 38, Kind::Text),
            ("money", 8, 19, 4, Kind::Text),
            ("smallmoney", 4, 10, 4, Kind::Text),
            ("date", 3, 10, 0, Kind::Text),
            ("time", 5, 16, 7, Kind::Text),
            ("datetime", 8, 23, 3, Kind::Text),
            ("smalldatetime", 4, 16, 0, Kind::Text),
            ("datetime2", 8, 27, 7, Kind::Text),
            ("datetimeoffset", 10, 34, 7, Kind::Text),
            ("xml", -1, 0, 0, Kind::Text),
            ("hierarchyid", 892, 0, 0, Kind::Text),
            ("geography", -1, 0, 0, Kind::Text),
        ] {
            assert_eq!(Kind::of(&enc(name, len, p, s)), Some(kind), "{name}");
        }
        assert_eq!(Kind::of(&enc("sql_variant", 8016, 0, 0)), None);
    }

    #[test]
    fn the_stage_moves_rows_with_the_insert_paths_casts() {
        let id = enc("int", 4, 10, 0);
        let pay = enc("decimal", 9, 10, 2);
        let day = enc("date", 3, 10, 0);
        let stage = Stage::plan(
            "[dbo].[t]",
            &[
                (&id, "[id]".into()),
                (&pay, "[pay]".into()),
                (&day, "[da]]y]".into()),
            ],
        )
        .unwrap();
        let n = &stage.name;
        assert!(n.starts_with("#bru_stage_"), "{n}");
        assert_eq!(
            stage.create,
            format!(
                "CREATE TABLE {n} ([c1] int NULL, [c2] nvarchar(max) NULL, [c3] nvarchar(max) NULL)"
            )
        );
        assert_eq!(
            stage.move_rows,
            format!(
                "INSERT INTO [dbo].[t] ([id], [pay], [da]]y]) SELECT [c1], \
                 CAST([c2] AS decimal(10,2)), CAST([c3] AS date) FROM {n}; TRUNCATE TABLE {n}"
            )
        );
        assert_eq!(stage.drop, format!("DROP TABLE {n}"));
        let other = Stage::plan("[dbo].[t]", &[(&id, "[id]".into())]).unwrap();
        assert_ne!(other.name, stage.name);
        let variant = enc("sql_variant", 8016, 0, 0);
        assert!(Stage::plan(
            "[dbo].[t]",
            &[(&id, "[id]".into()), (&variant, "[v]".into())]
        )
        .is_none());
    }

    #[test]
    fn rows_carry_the_encoded_values_and_typed_nulls() {
        let id = enc("int", 4, 10, 0);
        let pay = enc("decimal", 9, 10, 2);
        let stage =
            Stage::plan("[dbo].[t]", &[(&id, "[id]".into()), (&pay, "[pay]".into())]).unwrap();
        // The middle archive column is not written (computed).
        let plan = vec![
            Some((id.clone(), "id".to_owned())),
            None,
            Some((pay.clone(), "pay".to_owned())),
        ];
        let mut batch = RowBatch::new(3);
        batch.push_row(vec![
            Value::Int32(7),
            Value::Int32(0),
            Value::Decimal("12.50".into()),
        ]);
        batch.push_row(vec![Value::Null, Value::Null, Value::Null]);
        let rows = stage
            .rows("dbo.t", &plan, &batch, true)
            .unwrap()
            .expect("short values are bulk-loaded");
        let cells: Vec<Vec<ColumnData<'static>>> =
            rows.into_iter().map(|r| r.into_iter().collect()).collect();
        assert_eq!(
            cells,
            vec![
                vec![
                    ColumnData::I32(Some(7)),
                    ColumnData::String(Some("12.5".into()))
                ],
                vec![ColumnData::I32(None), ColumnData::String(None)],
            ]
        );
        // A value the column cannot hold is refused by name, as by the
        // INSERT path.
        let mut batch = RowBatch::new(3);
        batch.push_row(vec![
            Value::Int32(1),
            Value::Null,
            Value::Decimal("1.005".into()),
        ]);
        let e = stage.rows("dbo.t", &plan, &batch, false).unwrap_err();
        let Error::Value { table, column, .. } = &e else {
            panic!("{e}");
        };
        assert_eq!((table.as_str(), column.as_str()), ("dbo.t", "pay"));
    }

    #[test]
    fn the_environment_turns_bulk_load_off() {
        for v in ["off", "OFF", "0", "false", " no "] {
            assert!(!enabled(Some(v)), "{v}");
        }
        for v in [None, Some("on"), Some("1"), Some("")] {
            assert!(enabled(v), "{v:?}");
        }
    }

    #[test]
    fn a_value_longer_than_a_bulk_load_carries_sends_its_batch_with_inserts() {
        let at = |n: usize| vec![0u8; n];
        assert!(!too_long(&ColumnData::Binary(Some(
            at(MAX_BULK_VALUE).into()
        ))));
        assert!(too_long(&ColumnData::Binary(Some(
            at(MAX_BULK_VALUE + 1).into()
        ))));
        // A string counts in UTF-16 bytes: 32,768 ASCII characters are
        // 65,536 bytes; 21,846 three-byte characters (65,538 UTF-8 bytes)
        // are 43,692.
        assert!(too_long(&ColumnData::String(Some(
            "a".repeat(32_768).into()
        ))));
        assert!(!too_long(&ColumnData::String(Some(
            "a".repeat(32_767).into()
        ))));
        assert!(!too_long(&ColumnData::String(Some(
            "\u{20ac}".repeat(21_846).into()
        ))));
        assert!(!too_long(&ColumnData::Binary(None)));
    }
}
