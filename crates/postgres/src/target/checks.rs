//! What a target table can take: its columns as the server has them
//! ([`PgTarget::target_columns`]), whether an archive column's type can go
//! into one (the `--data-only` check), and what a column's type modifier
//! keeps ([`Keeps`]), checked value by value so that nothing is rounded,
//! padded or cut silently.

use std::collections::HashMap;

use bru_core::{ColumnType, Error, Interval, TableDef, TableName, Value};

use crate::quote::target_name;
use crate::source::wire_of;
use crate::values::Wire;

use super::PgTarget;

impl PgTarget {
    /// Whether the target's `table` is partitioned, and its columns.
    /// Fails if the table does not exist.
    pub(super) fn target_columns(
        &self,
        name: &TableName,
    ) -> bru_core::Result<(bool, Vec<TargetColumn>)> {
        let t = target_name(name);
        let context = format!("reading the columns of {t}");
        let rows = self.conn.query(
            "SELECT c.relkind::text, a.attname::text, a.atttypid, a.atttypmod,
                    pg_catalog.format_type(a.atttypid, a.atttypmod), a.attgenerated <> ''
             FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
             LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
             WHERE n.nspname = $1 AND c.relname = $2
             ORDER BY a.attnum",
            &[&t.schema, &t.name],
            &context,
        )?;
        let get_err = |e: tokio_postgres::Error| Error::engine(&context, e);
        let mut partitioned = false;
        let mut out = Vec::new();
        for r in &rows {
            let relkind: String = r.try_get(0).map_err(get_err)?;
            partitioned = relkind == "p";
            let Some(name) = r.try_get::<_, Option<String>>(1).map_err(get_err)? else {
                continue;
            };
            let type_oid: u32 = r.try_get(2).map_err(get_err)?;
            let typmod: i32 = r.try_get(3).map_err(get_err)?;
            let wire = Wire::for_type(type_oid, typmod);
            out.push(TargetColumn {
                name,
                wire,
                keeps: Keeps::of(type_oid, typmod, wire),
                neutral: crate::values::neutral_type(type_oid, typmod),
                type_name: r.try_get(4).map_err(get_err)?,
                generated: r.try_get(5).map_err(get_err)?,
            });
        }
        if rows.is_empty() {
            return Err(Error::engine(
                format!("loading {t}"),
                "the table does not exist in the target",
            ));
        }
        Ok((partitioned, out))
    }

    /// Checks that every archive column exists in the target with a
    /// compatible type ([`bru_core::Target::check_table`]).
    pub(super) fn check_columns(&mut self, table: &TableDef) -> bru_core::Result<()> {
        self.live()?;
        let (_, cols) = self.target_columns(&table.name)?;
        let by_name: HashMap<&str, &TargetColumn> =
            cols.iter().map(|c| (c.name.as_str(), c)).collect();
        let mut problems = Vec::new();
        for c in &table.columns {
            match by_name.get(c.name.as_str()) {
                None => problems.push(format!("column {} is missing", c.name)),
                Some(t) if t.generated => {}
                Some(t) if !compatible(&c.ty, t.wire) => problems.push(format!(
                    "column {} is {} in the target but {} in the archive",
                    c.name,
                    t.type_name,
                    c.ty.display_name()
                )),
                Some(_) => {}
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(Error::engine(
                format!("checking table {}", target_name(&table.name)),
                problems.join("; "),
            ))
        }
    }
}

/// One column of a target table.
pub(super) struct TargetColumn {
    pub(super) name: String,
    pub(super) wire: Wire,
    pub(super) keeps: Keeps,
    /// The column's neutral type, when it has one.
    pub(super) neutral: Option<ColumnType>,
    pub(super) type_name: String,
    pub(super) generated: bool,
}

/// What a target column's type modifier lets it keep, checked value by
/// value because the server would otherwise round, pad or cut silently:
/// `time(p)` and `timestamp(p)` round fractional seconds, `character(n)`
/// pads short values with spaces, and both `character(n)` and
/// `character varying(n)` cut trailing spaces beyond `n`.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Keeps {
    /// Fractional second digits of a time or timestamp column.
    pub(super) precision: Option<u8>,
    /// `(n, fixed)` of a `varchar(n)` or `char(n)` column.
    chars: Option<(usize, bool)>,
    /// The type modifier of an `interval` column restricted to some fields
    /// (`interval day`) or fractional digits (`interval(3)`).
    interval: Option<i32>,
}

impl Keeps {
    pub(super) fn of(type_oid: u32, typmod: i32, wire: Wire) -> Keeps {
        let mut k = Keeps::default();
        match wire {
            Wire::Time | Wire::TimeTz | Wire::Timestamp | Wire::TimestampTz if typmod >= 0 => {
                k.precision = u8::try_from(typmod).ok();
            }
            Wire::Text if typmod >= 4 => {
                let fixed = type_oid == crate::values::oid::BPCHAR;
                k.chars = usize::try_from(typmod - 4).ok().map(|n| (n, fixed));
            }
            Wire::Interval if typmod >= 0 => k.interval = Some(typmod),
            _ => {}
        }
        k
    }

    /// Whether there is anything to check.
    pub(super) fn any(&self) -> bool {
        self.precision.is_some() || self.chars.is_some() || self.interval.is_some()
    }

    /// Refuses a value the column would change, with the reason.
    pub(super) fn check(&self, v: &Value) -> Result<(), String> {
        if let (Some((n, fixed)), Value::Text(s) | Value::Native(s)) = (self.chars, v) {
            // Byte length bounds the character count from above.
            if s.len() > n || fixed {
                let count = s.chars().count();
                if count > n {
                    return Err(format!(
                        "{count} characters do not fit the column's {n}; \
                         PostgreSQL would refuse it or cut trailing spaces"
                    ));
                }
                if fixed && count < n {
                    return Err(format!(
                        "{count} characters in a character({n}) column would be padded \
                         with spaces and come back changed"
                    ));
                }
            }
        }
        if let Some(p) = self.precision {
            let frac = match v {
                Value::Time(n) | Value::TimeTz { nanos: n, .. } => n.rem_euclid(1_000_000_000),
                Value::Timestamp { nanos, .. } | Value::TimestampTz { nanos, .. } => {
                    i64::from(*nanos)
                }
                _ => 0,
            };
            let p = u32::from(p.min(6));
            if frac % 10i64.pow(9 - p) != 0 {
                return Err(format!(
                    "the column keeps {p} fractional second digits; the value would be rounded"
                ));
            }
        }
        if let (Some(typmod), Value::Interval(iv)) = (self.interval, v) {
            if interval_kept(*iv, typmod) != Some(*iv) {
                return Err(
                    "the column's interval type keeps fewer fields or fractional digits; \
                     the value would be cut or rounded"
                        .into(),
                );
            }
        }
        Ok(())
    }
}

/// What an `interval` column with type modifier `typmod` makes of `iv`:
/// PostgreSQL's AdjustIntervalForTypmod (src/backend/utils/adt/timestamp.c),
/// which interval_recv applies to every value COPY brings in. `None` for a
/// modifier PostgreSQL would not have made.
fn interval_kept(iv: Interval, typmod: i32) -> Option<Interval> {
    // Field bits of the range (src/include/utils/datetime.h).
    const MONTH: i32 = 1 << 1;
    const YEAR: i32 = 1 << 2;
    const DAY: i32 = 1 << 3;
    const HOUR: i32 = 1 << 10;
    const MINUTE: i32 = 1 << 11;
    const SECOND: i32 = 1 << 12;
    const FULL_RANGE: i32 = 0x7FFF;
    const FULL_PRECISION: i32 = 0xFFFF;
    const USECS_PER_HOUR: i64 = 3_600_000_000;
    const USECS_PER_MINUTE: i64 = 60_000_000;
    let range = (typmod >> 16) & 0x7FFF;
    let precision = typmod & 0xFFFF;
    let mut out = iv;
    let truncate = |t: i64, unit: i64| t / unit * unit;
    match range {
        FULL_RANGE => {}
        YEAR => {
            out.months = iv.months / 12 * 12;
            out.days = 0;
            out.micros = 0;
        }
        r if r == MONTH || r == YEAR | MONTH => {
            out.days = 0;
            out.micros = 0;
        }
        DAY => out.micros = 0,
        HOUR => out.micros = truncate(iv.micros, USECS_PER_HOUR),
        r if r == DAY | HOUR => out.micros = truncate(iv.micros, USECS_PER_HOUR),
        MINUTE => out.micros = truncate(iv.micros, USECS_PER_MINUTE),
        r if r == DAY | HOUR | MINUTE || r == HOUR | MINUTE => {
            out.micros = truncate(iv.micros, USECS_PER_MINUTE)
        }
        SECOND => {}
        r if r == DAY | HOUR | MINUTE | SECOND || r == HOUR | MINUTE | SECOND => {}
        r if r == MINUTE | SECOND => {}
        _ => return None,
    }
    if precision != FULL_PRECISION {
        let scale = 10i64.pow(6u32.checked_sub(u32::try_from(precision).ok()?)?);
        let offset = scale / 2;
        out.micros = if out.micros >= 0 {
            (out.micros + offset) / scale * scale
        } else {
            -((-out.micros + offset) / scale * scale)
        };
    }
    Some(out)
}

/// Types whose values another engine may keep as text (SQLite does),
/// parsed strictly by [`crate::text_input`] rather than by the server.
pub(super) fn parsed_from_text(wire: Wire) -> bool {
    matches!(
        wire,
        Wire::Date
            | Wire::Time
            | Wire::TimeTz
            | Wire::Timestamp
            | Wire::TimestampTz
            | Wire::Interval
            | Wire::Uuid
    )
}

/// Whether an archive column of type `ty` can be loaded into a target column
/// that travels as `wire` (the `--data-only` check). Values are still
/// checked one by one as they are written.
fn compatible(ty: &ColumnType, wire: Wire) -> bool {
    let from = wire_of(ty);
    if from == wire {
        return true;
    }
    matches!(
        (from, wire),
        (Wire::Int2, Wire::Int4 | Wire::Int8 | Wire::Numeric { .. })
            | (Wire::Int4, Wire::Int8 | Wire::Numeric { .. })
            | (Wire::Int8, Wire::Numeric { .. })
            | (Wire::Float4, Wire::Float8)
            | (Wire::Numeric { .. }, Wire::Numeric { .. })
            | (Wire::Json, Wire::Jsonb)
            | (Wire::Jsonb, Wire::Json)
            | (Wire::Text | Wire::NativeText, Wire::NativeText)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A type modifier as PostgreSQL's intervaltypmodin makes it: the range
    /// (field bits) in the high half, the precision (0xFFFF: none) in the low.
    fn typmod(range: i32, precision: i32) -> i32 {
        (range << 16) | precision
    }

    fn iv(months: i32, days: i32, micros: i64) -> Interval {
        Interval {
            months,
            days,
            micros,
        }
    }

    #[test]
    fn interval_columns_keep_what_postgresql_keeps() {
        let (year, month, day) = (1 << 2, 1 << 1, 1 << 3);
        let (hour, minute, second) = (1 << 10, 1 << 11, 1 << 12);
        let full = 0xFFFF;
        let value = iv(14, 3, 5_400_123_456); // 1 year 2 mons 3 days 01:30:00.123456
        let cases = [
            (typmod(0x7FFF, full), value),
            (typmod(year, full), iv(12, 0, 0)),
            (typmod(month, full), iv(14, 0, 0)),
            (typmod(year | month, full), iv(14, 0, 0)),
            (typmod(day, full), iv(14, 3, 0)),
            (typmod(hour, full), iv(14, 3, 3_600_000_000)),
            (typmod(day | hour, full), iv(14, 3, 3_600_000_000)),
            (typmod(minute, full), iv(14, 3, 5_400_000_000)),
            (typmod(hour | minute, full), iv(14, 3, 5_400_000_000)),
            (typmod(second, full), value),
            (typmod(day | hour | minute | second, full), value),
            (typmod(0x7FFF, 3), iv(14, 3, 5_400_123_000)),
            (typmod(0x7FFF, 0), iv(14, 3, 5_400_000_000)),
            (typmod(minute | second, 2), iv(14, 3, 5_400_120_000)),
        ];
        for (t, kept) in cases {
            assert_eq!(interval_kept(value, t), Some(kept), "typmod {t:#x}");
        }
        // Rounding is half away from zero on both signs, as the server does.
        assert_eq!(
            interval_kept(iv(0, 0, -1_500_000), typmod(0x7FFF, 0)),
            Some(iv(0, 0, -2_000_000))
        );
        assert_eq!(interval_kept(value, typmod(1 << 5, full)), None);
    }

    #[test]
    fn an_interval_the_column_would_change_is_refused() {
        let keeps = Keeps::of(
            crate::values::oid::INTERVAL,
            typmod(1 << 3, 0xFFFF),
            Wire::Interval,
        );
        assert!(keeps.any());
        assert!(keeps.check(&Value::Interval(iv(0, 2, 0))).is_ok());
        let refused = keeps
            .check(&Value::Interval(iv(0, 1, 10_800_000_000)))
            .unwrap_err();
        assert!(refused.contains("cut or rounded"), "{refused}");
        // A plain interval column keeps everything and checks nothing.
        let plain = Keeps::of(crate::values::oid::INTERVAL, -1, Wire::Interval);
        assert!(!plain.any());
    }
}
