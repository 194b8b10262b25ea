//! Cast rules (`--cast`, `--cast-file`): the explicit way forward when a
//! value of one engine cannot be held exactly by another.
//!
//! bru refuses such a value by name (table, column, value) rather than
//! change it. A refusal alone would end a migration with no way on, so, in
//! the spirit of pgloader's CAST clauses, the user may ask for a conversion
//! per column, and only there. Every conversion is explicit, applied only to
//! the columns its rule names, counted, and reported in the summary; a
//! refusal names the rule that would accept the value.
//!
//! # Grammar
//!
//! ```text
//! rule     = columns "=" type                  (column type rule)
//!          | columns ":" condition "=" action  (value rule)
//! columns  = [schema "."] table "." column
//! type     = "timestamptz"
//! condition "=" action
//!          = "timestamp-offset=utc" | "float-negative-zero=zero"
//!          | "microseconds=round" | "microseconds=truncate"
//! ```
//!
//! `schema`, `table` and `column` are patterns as `--include` takes them
//! (module `filter`): `*` and `?` do not cross a dot, unquoted letters fold
//! to lower case, `"double quotes"` keep case and make `*`, `?`, `.`, `:`
//! and `=` literal; a table without a schema part is the table in any
//! schema, and SQLite's tables are in `main`. Names are the archive's.
//! A rules file holds one rule per line; `#` starts a comment (outside
//! quotes), blank lines are ignored.
//!
//! - `T.C=timestamptz`: column C (a `timestamp` without time zone) is
//!   created as `timestamp with time zone`, so a text with a UTC offset keeps
//!   its instant (and one without an offset is taken as UTC, as bru reads
//!   every such text into a timestamptz column). The table is then created
//!   from the neutral model, as for another engine. Counted: the non-null
//!   values loaded into the column. On a column that has a time zone
//!   already (SQL Server's `datetimeoffset`, whose values keep the UTC
//!   offset they were written in, which PostgreSQL's timestamptz cannot),
//!   each value becomes its instant and the offset is dropped. Counted the
//!   same way.
//! - `T.C:microseconds=round` / `T.C:microseconds=truncate`: in a time or
//!   timestamp column, fractional seconds finer than a microsecond
//!   (SQL Server's datetime2(7), time(7) and datetimeoffset(7) keep 100 ns;
//!   its datetime ticks in 1/300 s) are rounded half away from zero, or cut,
//!   to whole microseconds, PostgreSQL's resolution; a column declared with
//!   fewer than 6 fractional digits (datetime's 3) is declared with 6, so
//!   that the microseconds stay. Counted: the values changed.
//! - `T.C:timestamp-offset=utc`: in a `timestamp` column, a text with a UTC
//!   offset (`2024-03-01T00:01:05-03:00`) is stored as the same instant in
//!   UTC (`2024-03-01 03:01:05`). Texts without an offset are unchanged.
//!   Counted: the values converted.
//! - `T.C:float-negative-zero=zero`: a floating-point -0.0 is stored as 0
//!   (SQLite's REAL columns cannot keep the sign). Counted: the values
//!   converted.
//!
//! A rule that applies to no column of the restore is an error, as a
//! filter that matches nothing: a mistyped rule would otherwise be a
//! silent no-op. Values no rule converts are refused as before.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use bru_core::{ColumnType, RowBatch, TableDef, TableName, Value};
use serde::Serialize;

use crate::filter::{glob_parts, Part, Pattern};
use crate::Error;

/// The rules given on the command line, parsed, in order.
#[derive(Debug, Clone, Default)]
pub struct CastRules {
    rules: Vec<Rule>,
}

#[derive(Debug, Clone)]
struct Rule {
    /// As written, for messages and the summary.
    text: String,
    table: Pattern,
    column: Part,
    action: Action,
}

/// What a rule does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    /// `=timestamptz`: the column is created as timestamp with time zone.
    TimestampTz,
    /// `:timestamp-offset=utc`.
    OffsetToUtc,
    /// `:float-negative-zero=zero`.
    NegativeZero,
    /// `:microseconds=round`.
    MicrosRound,
    /// `:microseconds=truncate`.
    MicrosTruncate,
}

impl Action {
    /// Whether the rule applies to a column of type `ty`.
    fn applies_to(self, ty: &ColumnType) -> bool {
        match self {
            Action::TimestampTz => matches!(ty, ColumnType::Timestamp { .. }),
            Action::OffsetToUtc => matches!(ty, ColumnType::Timestamp { tz: false, .. }),
            Action::MicrosRound | Action::MicrosTruncate => {
                matches!(ty, ColumnType::Timestamp { .. } | ColumnType::Time { .. })
            }
            // SQLite's untyped columns (`ANY`) hold reals too; other native
            // types travel as text, never as a float.
            Action::NegativeZero => match ty {
                ColumnType::Float32 | ColumnType::Float64 => true,
                ColumnType::Native { name } => name == "ANY",
                _ => false,
            },
        }
    }

    /// The column types it applies to, for an error line.
    fn wants(self) -> &'static str {
        match self {
            Action::TimestampTz => "timestamp",
            Action::OffsetToUtc => "timestamp (without time zone)",
            Action::MicrosRound | Action::MicrosTruncate => "time or timestamp",
            Action::NegativeZero => "floating-point or untyped",
        }
    }
}

/// One rule as a restore plan shows it (`--dry-run`): the columns it
/// applies to.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct CastPlan {
    /// The rule as written.
    pub rule: String,
    /// Each column as `table.column`, in table order.
    pub columns: Vec<String>,
}

/// One rule's line in a restore summary: how many values it converted.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct CastCount {
    /// The rule as written.
    pub rule: String,
    /// Values it converted in this run (for a column type rule: the
    /// non-null values loaded into the retyped columns).
    pub converted: u64,
}

impl CastRules {
    /// Parses `--cast` rules; fails with [`Error::InvalidCast`] naming the
    /// first rule that is not one of the grammar's (module docs).
    pub fn new(rules: &[String]) -> Result<CastRules, Error> {
        let rules = rules
            .iter()
            .map(|r| Rule::parse(r.trim()).map_err(|message| invalid(r, message)))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(CastRules { rules })
    }

    /// Adds the rules of a rules file's `text` (one per line, `#`
    /// comments); an error names `path` and the line.
    pub fn add_file(&mut self, path: &Path, text: &str) -> Result<(), Error> {
        for (n, line) in text.lines().enumerate() {
            let rule = strip_comment(line).trim();
            if rule.is_empty() {
                continue;
            }
            let rule = Rule::parse(rule).map_err(|message| Error::InvalidCast {
                rule: format!("{rule} ({} line {})", path.display(), n + 1),
                message,
            })?;
            self.rules.push(rule);
        }
        Ok(())
    }

    /// Whether no rule was given.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Binds the rules to the restore's `tables`: a column type rule
    /// changes its columns' types (and has the table created from the
    /// neutral model); value rules are returned per table for the loads.
    /// Fails with [`Error::CastMatchesNothing`] for a rule that applies to
    /// no column, and with [`Error::InvalidCast`] for two rules that would
    /// both convert one column the same way.
    pub(crate) fn bind(&self, tables: &mut [&mut TableDef]) -> Result<BoundCasts, Error> {
        let mut bound = BoundCasts {
            rules: self.rules.iter().map(|r| r.text.clone()).collect(),
            counts: self.rules.iter().map(|_| AtomicU64::new(0)).collect(),
            tables: vec![Vec::new(); tables.len()],
        };
        for (r, rule) in self.rules.iter().enumerate() {
            let mut named = Vec::new();
            let mut applied = 0usize;
            for (t, table) in tables.iter_mut().enumerate() {
                if !rule.table.matches(&table.name) {
                    continue;
                }
                let fold = table.name.schema.is_none();
                let mut retyped = false;
                for (c, column) in table.columns.iter_mut().enumerate() {
                    if !rule.column.matches(&column.name, fold) {
                        continue;
                    }
                    if !rule.action.applies_to(&column.ty) {
                        named.push(format!(
                            "{}.{} ({})",
                            table.name,
                            column.name,
                            column.ty.display_name()
                        ));
                        continue;
                    }
                    if let Some(other) = bound.tables[t]
                        .iter()
                        .find(|b| b.column == c && self.rules[b.rule].action == rule.action)
                    {
                        return Err(invalid(
                            &rule.text,
                            format!(
                                "column {}.{} has that cast already, by rule {:?}; give one rule per column",
                                table.name, column.name, self.rules[other.rule].text
                            ),
                        ));
                    }
                    let micros =
                        matches!(rule.action, Action::MicrosRound | Action::MicrosTruncate);
                    if micros {
                        if let Some(other) = bound.tables[t].iter().find(|b| {
                            b.column == c
                                && matches!(
                                    self.rules[b.rule].action,
                                    Action::MicrosRound | Action::MicrosTruncate
                                )
                        }) {
                            return Err(invalid(
                                &rule.text,
                                format!(
                                    "column {}.{} is rounded or cut already, by rule {:?}; give one rule per column",
                                    table.name, column.name, self.rules[other.rule].text
                                ),
                            ));
                        }
                        let widened = match &mut column.ty {
                            ColumnType::Timestamp { precision, .. }
                            | ColumnType::Time { precision, .. } => match precision {
                                Some(p) if *p < 6 => {
                                    *precision = Some(6);
                                    true
                                }
                                _ => false,
                            },
                            _ => false,
                        };
                        retyped |= widened;
                    }
                    if rule.action == Action::TimestampTz
                        && matches!(column.ty, ColumnType::Timestamp { tz: false, .. })
                    {
                        let precision = match column.ty {
                            ColumnType::Timestamp { precision, .. } => precision,
                            _ => None,
                        };
                        column.ty = ColumnType::Timestamp {
                            tz: true,
                            precision,
                        };
                        column.native_type = match precision {
                            Some(p) => format!("timestamp({p}) with time zone"),
                            None => "timestamp with time zone".into(),
                        };
                        retyped = true;
                    }
                    bound.tables[t].push(ColumnCast {
                        column: c,
                        rule: r,
                        action: rule.action,
                    });
                    applied += 1;
                }
                if retyped {
                    // The source engine's CREATE TABLE has the old type.
                    table.native = None;
                }
            }
            if applied == 0 {
                return Err(Error::CastMatchesNothing {
                    rule: rule.text.clone(),
                    why: if named.is_empty() {
                        "matches no column of the restored tables".into()
                    } else {
                        format!(
                            "applies to {} columns, and matches only {}",
                            rule.action.wants(),
                            named.join(", ")
                        )
                    },
                });
            }
        }
        Ok(bound)
    }
}

/// `text` up to a `#` outside double quotes.
fn strip_comment(text: &str) -> &str {
    let mut quoted = false;
    for (i, c) in text.char_indices() {
        match c {
            '"' => quoted = !quoted,
            '#' if !quoted => return &text[..i],
            _ => {}
        }
    }
    text
}

fn invalid(rule: &str, message: impl Into<String>) -> Error {
    Error::InvalidCast {
        rule: rule.to_owned(),
        message: message.into(),
    }
}

/// The position of the first `c` outside double quotes.
fn unquoted(text: &str, c: char) -> Option<usize> {
    let mut quoted = false;
    for (i, x) in text.char_indices() {
        if x == '"' {
            quoted = !quoted;
        } else if x == c && !quoted {
            return Some(i);
        }
    }
    None
}

impl Rule {
    fn parse(text: &str) -> Result<Rule, String> {
        const FORMS: &str = "write TABLE.COLUMN=timestamptz, TABLE.COLUMN:timestamp-offset=utc, \
                             TABLE.COLUMN:float-negative-zero=zero or \
                             TABLE.COLUMN:microseconds=round|truncate (TABLE may be SCHEMA.TABLE)";
        let (columns, action) = match (unquoted(text, ':'), unquoted(text, '=')) {
            (Some(colon), _) => {
                let (columns, rest) = (&text[..colon], text[colon + 1..].trim());
                let action = match rest {
                    "timestamp-offset=utc" => Action::OffsetToUtc,
                    "float-negative-zero=zero" => Action::NegativeZero,
                    "microseconds=round" => Action::MicrosRound,
                    "microseconds=truncate" => Action::MicrosTruncate,
                    other => {
                        return Err(format!(
                            "unknown value conversion {other:?}; the value rules are \
                             :timestamp-offset=utc, :float-negative-zero=zero, \
                             :microseconds=round and :microseconds=truncate"
                        ))
                    }
                };
                (columns, action)
            }
            (None, Some(eq)) => {
                let (columns, ty) = (&text[..eq], text[eq + 1..].trim());
                let action = match ty.to_ascii_lowercase().as_str() {
                    "timestamptz" | "timestamp with time zone" => Action::TimestampTz,
                    _ => {
                        return Err(format!(
                            "unknown column type {ty:?}; the column type rule is =timestamptz"
                        ))
                    }
                };
                (columns, action)
            }
            (None, None) => return Err(FORMS.into()),
        };
        let columns = columns.trim();
        if columns.is_empty() {
            return Err(format!("no columns before the rule; {FORMS}"));
        }
        let mut parts = glob_parts(columns).map_err(|e| match e {
            Error::InvalidPattern { message, .. } => message,
            other => other.to_string(),
        })?;
        if parts.len() < 2 || parts.len() > 3 {
            return Err(format!(
                "{columns:?} names {} part(s); {FORMS}",
                parts.len()
            ));
        }
        let column = parts.pop().expect("two parts at least");
        let pattern_error = |e: Error| match e {
            Error::InvalidPattern { message, .. } => message,
            other => other.to_string(),
        };
        Ok(Rule {
            text: text.to_owned(),
            table: Pattern::from_parts(columns, parts).map_err(pattern_error)?,
            column: Part::new(&column, columns).map_err(pattern_error)?,
            action,
        })
    }
}

/// One rule on one column of a table.
#[derive(Debug, Clone, Copy)]
struct ColumnCast {
    column: usize,
    rule: usize,
    action: Action,
}

/// The rules bound to a restore's tables: what each load converts, and
/// the counts for the summary. Shared by every session.
#[derive(Debug, Default)]
pub(crate) struct BoundCasts {
    rules: Vec<String>,
    counts: Vec<AtomicU64>,
    /// Per table (by position in the restore's tables), its columns' rules.
    tables: Vec<Vec<ColumnCast>>,
}

/// A batch as converted for one table, with what each rule converted in
/// it (counted once the batch is committed).
pub(crate) struct Converted {
    pub batch: Option<RowBatch>,
    /// (rule, values converted).
    pub counts: Vec<(usize, u64)>,
}

impl BoundCasts {
    /// Converts `batch` of table `t` by its rules: `batch: None` when no
    /// value changed (the original is loaded).
    pub(crate) fn convert(&self, t: usize, batch: &RowBatch) -> Converted {
        let casts = self.tables.get(t).map(Vec::as_slice).unwrap_or_default();
        let mut counts: Vec<(usize, u64)> = Vec::new();
        let mut add = |rule: usize, n: u64| match counts.iter_mut().find(|(r, _)| *r == rule) {
            Some((_, c)) => *c += n,
            None => counts.push((rule, n)),
        };
        let mut values: Option<Vec<Value>> = None;
        let width = batch.column_count();
        for cast in casts {
            let mut n = 0u64;
            for r in 0..batch.row_count() {
                // What an earlier rule on the same column made of it.
                let at = r * width + cast.column;
                let v = values
                    .as_ref()
                    .map_or_else(|| batch.get(r, cast.column), |all| &all[at]);
                let new = convert_value(cast.action, v);
                let counted = match cast.action {
                    Action::TimestampTz => !matches!(v, Value::Null),
                    _ => new.is_some(),
                };
                n += u64::from(counted);
                if let Some(new) = new {
                    values.get_or_insert_with(|| batch.values().to_vec())[at] = new;
                }
            }
            if n > 0 {
                add(cast.rule, n);
            }
        }
        Converted {
            batch: values.map(|v| RowBatch::from_values(width, v)),
            counts,
        }
    }

    /// Counts what committed batches converted (their
    /// [`Converted::counts`]).
    pub(crate) fn commit(&self, counts: &[(usize, u64)]) {
        for &(rule, n) in counts {
            self.counts[rule].fetch_add(n, Ordering::Relaxed);
        }
    }

    /// Each rule with what it converted, for the summary.
    pub(crate) fn counts(&self) -> Vec<CastCount> {
        self.rules
            .iter()
            .zip(&self.counts)
            .map(|(rule, n)| CastCount {
                rule: rule.clone(),
                converted: n.load(Ordering::Relaxed),
            })
            .collect()
    }

    /// Each rule with the columns it applies to, `tables` being the
    /// restore's tables in the order they were bound.
    pub(crate) fn plan<'a>(&self, tables: impl Iterator<Item = &'a TableDef>) -> Vec<CastPlan> {
        let mut out: Vec<CastPlan> = (self.rules.iter())
            .map(|rule| CastPlan {
                rule: rule.clone(),
                columns: Vec::new(),
            })
            .collect();
        for (table, casts) in tables.zip(&self.tables) {
            for cast in casts {
                if let Some(column) = table.columns.get(cast.column) {
                    out[cast.rule]
                        .columns
                        .push(format!("{}.{}", table.name, column.name));
                }
            }
        }
        out
    }

    /// `error` with the rule that would accept its value added, when it is a
    /// value refused in a column of `table` whose value in `batch` a rule
    /// would convert and no rule converts there yet.
    pub(crate) fn hint(
        &self,
        t: usize,
        table: &TableDef,
        batch: &RowBatch,
        error: bru_core::Error,
    ) -> bru_core::Error {
        let bru_core::Error::Value {
            table: name,
            column,
            value,
            reason,
        } = error
        else {
            return error;
        };
        let suggestion = table
            .columns
            .iter()
            .position(|c| c.name == column)
            .and_then(|c| {
                let has = |a: Action| {
                    self.tables
                        .get(t)
                        .is_some_and(|v| v.iter().any(|x| x.column == c && x.action == a))
                };
                let refused = (0..batch.row_count())
                    .map(|r| batch.get(r, c))
                    .find(|v| v.describe() == value)?;
                let ty = &table.columns[c].ty;
                let columns = rule_columns(&table.name, &column);
                let micros = has(Action::MicrosRound) || has(Action::MicrosTruncate);
                if matches!(refused, Value::TimestampOffset { .. }) && !has(Action::TimestampTz) {
                    Some(format!(
                        "to accept it as its instant (the offset dropped), restore with \
                         --cast '{columns}=timestamptz'"
                    ))
                } else if Action::MicrosRound.applies_to(ty)
                    && !micros
                    && (convert_value(Action::MicrosTruncate, refused).is_some()
                        || finer_than_declared(ty, refused))
                {
                    Some(format!(
                        "to accept it to the microsecond, restore with --cast \
                         '{columns}:microseconds=round' (or :microseconds=truncate)"
                    ))
                } else if Action::OffsetToUtc.applies_to(ty)
                    && convert_value(Action::OffsetToUtc, refused).is_some()
                    && !has(Action::OffsetToUtc)
                    && !has(Action::TimestampTz)
                {
                    Some(format!(
                        "to accept it, restore with --cast '{columns}=timestamptz' \
                         (the column keeps the offset's instant) or --cast \
                         '{columns}:timestamp-offset=utc' (stored as the time in UTC)"
                    ))
                } else if Action::NegativeZero.applies_to(ty)
                    && convert_value(Action::NegativeZero, refused).is_some()
                    && !has(Action::NegativeZero)
                {
                    Some(format!(
                        "to accept it as 0, restore with --cast '{columns}:float-negative-zero=zero'"
                    ))
                } else {
                    None
                }
            });
        bru_core::Error::Value {
            table: name,
            column,
            value,
            reason: match suggestion {
                Some(s) => format!("{reason}; {s}"),
                None => reason,
            },
        }
    }
}

/// `[schema.]table.column` as a rule names it: each part bare when it is a
/// lower-case identifier, else in double quotes; a table without a schema
/// (SQLite's) without one.
fn rule_columns(table: &TableName, column: &str) -> String {
    let part = |s: &str| {
        let plain = !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            && !s.starts_with(|c: char| c.is_ascii_digit());
        if plain {
            s.to_owned()
        } else {
            format!("\"{}\"", s.replace('"', "\"\""))
        }
    };
    let schema = match &table.schema {
        Some(s) => format!("{}.", part(s)),
        None => String::new(),
    };
    format!("{schema}{}.{}", part(&table.name), part(column))
}

/// Whether `v` has more fractional second digits than `ty` declares (up
/// to the 6 a microsecond rule keeps), as SQL Server's datetime, declared
/// with 3 digits and ticking in 1/300 s, has.
fn finer_than_declared(ty: &ColumnType, v: &Value) -> bool {
    let (ColumnType::Timestamp {
        precision: Some(p), ..
    }
    | ColumnType::Time {
        precision: Some(p), ..
    }) = ty
    else {
        return false;
    };
    let frac = match v {
        Value::Time(n) => n.rem_euclid(1_000_000_000),
        Value::Timestamp { nanos, .. }
        | Value::TimestampTz { nanos, .. }
        | Value::TimestampOffset { nanos, .. } => i64::from(*nanos),
        _ => return false,
    };
    *p < 6 && frac % 10i64.pow(9 - u32::from(*p)) != 0
}

/// `nanos` (below 1e9) to whole microseconds, rounded half away from zero
/// or cut: the new nanoseconds and the seconds carried (0 or 1).
fn to_micros(nanos: u32, round: bool) -> (u32, i64) {
    let whole = nanos - nanos % 1000;
    let up = round && nanos % 1000 >= 500;
    let n = whole + if up { 1000 } else { 0 };
    if n >= 1_000_000_000 {
        (n - 1_000_000_000, 1)
    } else {
        (n, 0)
    }
}

/// What `action` makes of `v`, or `None` when it leaves it as it is.
fn convert_value(action: Action, v: &Value) -> Option<Value> {
    let round = action == Action::MicrosRound;
    match (action, v) {
        (Action::TimestampTz, Value::TimestampOffset { secs, nanos, .. }) => {
            Some(Value::TimestampTz {
                secs: *secs,
                nanos: *nanos,
            })
        }
        (Action::MicrosRound | Action::MicrosTruncate, v) => {
            let micros = |secs: i64, nanos: u32| {
                let (n, carry) = to_micros(nanos, round);
                (n != nanos).then(|| (secs.checked_add(carry), n))
            };
            match v {
                Value::Time(n) => {
                    let sub = n.rem_euclid(1000);
                    if sub == 0 {
                        return None;
                    }
                    let down = n - sub;
                    Some(Value::Time(if round && sub >= 500 {
                        down + 1000
                    } else {
                        down
                    }))
                }
                // Infinities (i64::MIN/MAX seconds) have no fraction.
                Value::Timestamp { secs, nanos } => {
                    let (s, n) = micros(*secs, *nanos)?;
                    Some(Value::Timestamp { secs: s?, nanos: n })
                }
                Value::TimestampTz { secs, nanos } => {
                    let (s, n) = micros(*secs, *nanos)?;
                    Some(Value::TimestampTz { secs: s?, nanos: n })
                }
                Value::TimestampOffset {
                    secs,
                    nanos,
                    offset_secs,
                } => {
                    let (s, n) = micros(*secs, *nanos)?;
                    Some(Value::TimestampOffset {
                        secs: s?,
                        nanos: n,
                        offset_secs: *offset_secs,
                    })
                }
                _ => None,
            }
        }
        (Action::NegativeZero, Value::Float64(f)) if *f == 0.0 && f.is_sign_negative() => {
            Some(Value::Float64(0.0))
        }
        (Action::NegativeZero, Value::Float32(f)) if *f == 0.0 && f.is_sign_negative() => {
            Some(Value::Float32(0.0))
        }
        (Action::OffsetToUtc, Value::Text(s)) => offset_to_utc(s),
        _ => None,
    }
}

/// A text with a UTC offset (`2024-03-01T00:01:05-03:00`, `…Z`) as the
/// same instant, a UTC timestamp; `None` for a text without an offset, or
/// one that is no timestamp (left for the target to refuse by name).
fn offset_to_utc(text: &str) -> Option<Value> {
    // jiff reads a Timestamp only from a text with an offset, which is the
    // condition of the rule.
    let ts: jiff::Timestamp = text.parse().ok()?;
    Some(Value::Timestamp {
        secs: ts.as_second(),
        nanos: u32::try_from(ts.subsec_nanosecond()).ok()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use bru_core::Column;

    fn rules(r: &[&str]) -> Result<CastRules, Error> {
        CastRules::new(&r.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    fn table() -> TableDef {
        TableDef::new(
            TableName::bare("audit_log"),
            vec![
                Column::new("id", ColumnType::Int64, "INTEGER"),
                Column::new(
                    "at",
                    ColumnType::Timestamp {
                        tz: false,
                        precision: None,
                    },
                    "DATETIME",
                ),
                Column::new("r", ColumnType::Float64, "REAL"),
            ],
        )
    }

    #[test]
    fn the_grammar_and_its_errors() {
        assert!(rules(&["audit_log.at=timestamptz", "*.*:float-negative-zero=zero"]).is_ok());
        assert!(rules(&["main.audit_log.at:timestamp-offset=utc"]).is_ok());
        for (bad, says) in [
            ("audit_log.at", "write TABLE.COLUMN"),
            ("at=timestamptz", "names 1 part"),
            ("a.b.c.d=timestamptz", "names 4 part"),
            ("audit_log.at=varchar", "unknown column type"),
            ("audit_log.at:offset=utc", "unknown value conversion"),
            ("=timestamptz", "no columns"),
            ("\"audit_log.at=timestamptz", "write TABLE.COLUMN"),
            ("audit_log.a[t]=timestamptz", "regular-expression"),
        ] {
            let e = rules(&[bad]).expect_err(bad).to_string();
            assert!(e.contains(says) && e.contains("--cast"), "{bad}: {e}");
        }
    }

    #[test]
    fn a_file_names_the_line() {
        let mut r = CastRules::default();
        r.add_file(
            Path::new("rules.txt"),
            "# casts\n\naudit_log.at=timestamptz  # offsets kept\n",
        )
        .unwrap();
        assert_eq!(r.rules.len(), 1);
        assert_eq!(r.rules[0].text, "audit_log.at=timestamptz");
        let e = r
            .add_file(Path::new("rules.txt"), "a.b=timestamptz\na.b=int\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("rules.txt line 2"), "{e}");
    }

    #[test]
    fn binding_retypes_and_refuses_a_rule_that_matches_nothing() {
        let mut t = table();
        let r = rules(&["AUDIT_LOG.AT=timestamptz"]).unwrap();
        r.bind(&mut [&mut t]).unwrap();
        assert_eq!(
            t.columns[1].ty,
            ColumnType::Timestamp {
                tz: true,
                precision: None
            }
        );
        let mut t = table();
        let e = rules(&["audit_log.nope=timestamptz"])
            .unwrap()
            .bind(&mut [&mut t])
            .unwrap_err()
            .to_string();
        assert!(e.contains("matches no column"), "{e}");
        let e = rules(&["audit_log.id:timestamp-offset=utc"])
            .unwrap()
            .bind(&mut [&mut t])
            .unwrap_err()
            .to_string();
        assert!(e.contains("audit_log.id (int64)"), "{e}");
    }

    #[test]
    fn values_convert_only_where_asked_and_are_counted() {
        let mut t = table();
        let bound = rules(&["*.at:timestamp-offset=utc", "*.r:float-negative-zero=zero"])
            .unwrap()
            .bind(&mut [&mut t])
            .unwrap();
        let batch = RowBatch::from_values(
            3,
            vec![
                Value::Int64(1),
                Value::Text("2024-03-01T00:01:05-03:00".into()),
                Value::Float64(-0.0),
                Value::Int64(2),
                Value::Text("2024-03-01 00:01:05".into()),
                Value::Float64(-1.5),
            ],
        );
        let converted = bound.convert(0, &batch);
        let out = converted.batch.as_ref().expect("converted");
        // 2024-03-01 03:01:05 UTC.
        assert_eq!(
            out.get(0, 1),
            &Value::Timestamp {
                secs: 1_709_262_065,
                nanos: 0
            }
        );
        assert!(out.get(0, 2).same_as(&Value::Float64(0.0)));
        assert_eq!(out.get(1, 1), batch.get(1, 1));
        // A space between date and time, `Z`, fractions and `+HHMM` too.
        for (text, secs, nanos) in [
            ("2024-03-01 00:01:05+02:00", 1_709_244_065, 0),
            ("2024-03-01T00:01:05.25Z", 1_709_251_265, 250_000_000),
            ("2024-03-01T05:31:05+0530", 1_709_251_265, 0),
        ] {
            assert_eq!(
                convert_value(Action::OffsetToUtc, &Value::Text(text.into())),
                Some(Value::Timestamp { secs, nanos }),
                "{text}"
            );
        }
        for text in ["2024-03-01 00:01:05", "now", "2024-03-01"] {
            assert_eq!(
                convert_value(Action::OffsetToUtc, &Value::Text(text.into())),
                None,
                "{text}"
            );
        }
        assert!(out.get(1, 2).same_as(&Value::Float64(-1.5)));
        assert_eq!(out.get(0, 0), &Value::Int64(1));
        bound.commit(&converted.counts);
        let counts = bound.counts();
        assert_eq!(
            counts.iter().map(|c| c.converted).collect::<Vec<_>>(),
            [1, 1]
        );
    }

    #[test]
    fn a_refusal_names_the_rule_that_accepts_it() {
        let t = table();
        let bound = rules(&[]).unwrap().bind(&mut []).unwrap();
        let v = Value::Text("2024-03-01T00:01:05-03:00".into());
        let batch = RowBatch::from_values(3, vec![Value::Int64(1), v.clone(), Value::Null]);
        let e = bound.hint(
            0,
            &t,
            &batch,
            bru_core::Error::Value {
                table: "audit_log".into(),
                column: "at".into(),
                value: v.describe(),
                reason: "the text has a UTC offset".into(),
            },
        );
        let e = e.to_string();
        assert!(
            e.contains("--cast 'audit_log.at=timestamptz'")
                && e.contains("--cast 'audit_log.at:timestamp-offset=utc'"),
            "{e}"
        );
        assert_eq!(
            rule_columns(&TableName::new(Some("Hr"), "audit log"), "at"),
            "\"Hr\".\"audit log\".at"
        );
    }

    /// A SQL Server table: datetime (3 digits declared, 1/300 s ticks),
    /// datetime2(7) and datetimeoffset(7).
    fn mssql_table() -> TableDef {
        let ts = |tz, p| ColumnType::Timestamp {
            tz,
            precision: Some(p),
        };
        TableDef::new(
            TableName::new(Some("dbo"), "shifts"),
            vec![
                Column::new("dt", ts(false, 3), "datetime"),
                Column::new("d2", ts(false, 7), "datetime2(7)"),
                Column::new("dto", ts(true, 7), "datetimeoffset(7)"),
                Column::new(
                    "t",
                    ColumnType::Time {
                        tz: false,
                        precision: Some(7),
                    },
                    "time(7)",
                ),
            ],
        )
    }

    #[test]
    fn sql_server_times_convert_to_microseconds_only_when_asked() {
        // Rounding half away from zero, carrying into the next second.
        assert_eq!(to_micros(3_333_333, true), (3_333_000, 0));
        assert_eq!(to_micros(6_666_667, true), (6_667_000, 0));
        assert_eq!(to_micros(999_999_500, true), (0, 1));
        assert_eq!(to_micros(999_999_900, false), (999_999_000, 0));
        assert_eq!(
            convert_value(Action::MicrosRound, &Value::Time(86_399_999_999_600)),
            Some(Value::Time(86_400_000_000_000))
        );
        assert_eq!(
            convert_value(Action::MicrosTruncate, &Value::Time(100)),
            Some(Value::Time(0))
        );
        assert_eq!(
            convert_value(Action::MicrosRound, &Value::Time(1_000)),
            None
        );
        let off = Value::TimestampOffset {
            secs: 10,
            nanos: 100,
            offset_secs: 14 * 3600,
        };
        assert_eq!(
            convert_value(Action::MicrosRound, &off),
            Some(Value::TimestampOffset {
                secs: 10,
                nanos: 0,
                offset_secs: 14 * 3600
            })
        );
        // The infinities have no fraction to round.
        assert_eq!(
            convert_value(
                Action::MicrosRound,
                &Value::Timestamp {
                    secs: i64::MAX,
                    nanos: 0
                }
            ),
            None
        );

        let mut t = mssql_table();
        let bound = rules(&[
            "dbo.shifts.*:microseconds=round",
            "dbo.shifts.dto=timestamptz",
        ])
        .unwrap()
        .bind(&mut [&mut t])
        .unwrap();
        // datetime's column keeps the microseconds its ticks round to.
        assert_eq!(
            t.columns[0].ty,
            ColumnType::Timestamp {
                tz: false,
                precision: Some(6)
            }
        );
        let ts = |secs, nanos| Value::Timestamp { secs, nanos };
        let batch = RowBatch::from_values(
            4,
            vec![
                ts(0, 3_333_333),
                ts(0, 123_456_700),
                Value::TimestampOffset {
                    secs: 5,
                    nanos: 999_999_600,
                    offset_secs: -3600,
                },
                Value::Time(100),
                ts(0, 0),
                Value::Null,
                Value::Null,
                Value::Time(1_000),
            ],
        );
        let converted = bound.convert(0, &batch);
        let out = converted.batch.as_ref().expect("converted");
        assert_eq!(out.get(0, 0), &ts(0, 3_333_000));
        assert_eq!(out.get(0, 1), &ts(0, 123_457_000));
        // Both rules on one column: rounded, then its instant.
        assert_eq!(out.get(0, 2), &Value::TimestampTz { secs: 6, nanos: 0 });
        assert_eq!(out.get(0, 3), &Value::Time(0));
        assert_eq!(out.get(1, 0), &ts(0, 0));
        bound.commit(&converted.counts);
        assert_eq!(
            bound
                .counts()
                .iter()
                .map(|c| c.converted)
                .collect::<Vec<_>>(),
            [4, 1]
        );

        // Round and truncate on one column is two answers to one question.
        let mut t = mssql_table();
        let e = rules(&[
            "dbo.shifts.t:microseconds=round",
            "*.*.t:microseconds=truncate",
        ])
        .unwrap()
        .bind(&mut [&mut t])
        .unwrap_err()
        .to_string();
        assert!(e.contains("rounded or cut already"), "{e}");
    }

    #[test]
    fn sql_server_refusals_name_their_rule() {
        let t = mssql_table();
        let bound = rules(&[]).unwrap().bind(&mut []).unwrap();
        let hint = |c: usize, v: Value| {
            let mut row = vec![Value::Null; 4];
            row[c] = v.clone();
            let batch = RowBatch::from_values(4, row);
            bound
                .hint(
                    0,
                    &t,
                    &batch,
                    bru_core::Error::Value {
                        table: "dbo.shifts".into(),
                        column: t.columns[c].name.clone(),
                        value: v.describe(),
                        reason: "refused".into(),
                    },
                )
                .to_string()
        };
        let e = hint(
            2,
            Value::TimestampOffset {
                secs: 0,
                nanos: 0,
                offset_secs: 3600,
            },
        );
        assert!(e.contains("--cast 'dbo.shifts.dto=timestamptz'"), "{e}");
        let e = hint(
            1,
            Value::Timestamp {
                secs: 0,
                nanos: 100,
            },
        );
        assert!(
            e.contains("--cast 'dbo.shifts.d2:microseconds=round'"),
            "{e}"
        );
        // datetime: whole microseconds, but more digits than its 3.
        let e = hint(
            0,
            Value::Timestamp {
                secs: 0,
                nanos: 3_333_000,
            },
        );
        assert!(
            e.contains("--cast 'dbo.shifts.dt:microseconds=round'"),
            "{e}"
        );
        let e = hint(3, Value::Time(1_000_000));
        assert!(!e.contains("--cast"), "{e}");
    }
}
