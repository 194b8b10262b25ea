//! DDL for tables that come from another engine, built from the neutral
//! model (docs/type-mapping.md has the table).
//!
//! A PostgreSQL archive carries PostgreSQL's own DDL and never comes here.

use bru_core::{ColumnType, ForeignKey, IdentityKind, IndexPart, TableDef};

use crate::quote::{ident, qualified, target_name};

/// The PostgreSQL type for a neutral column type.
pub(crate) fn pg_type(ty: &ColumnType) -> String {
    // PostgreSQL keeps at most 6 fractional second digits (SQL Server's
    // datetime2(7) and time(7) have 7): the column is declared with 6 and
    // each value is checked against it, so a 100 ns digit is refused by
    // name rather than rounded by the server.
    let prec = |p: &Option<u8>| p.map(|p| format!("({})", p.min(6))).unwrap_or_default();
    match ty {
        ColumnType::Bool => "boolean".into(),
        ColumnType::Int16 => "smallint".into(),
        ColumnType::Int32 => "integer".into(),
        ColumnType::Int64 => "bigint".into(),
        ColumnType::Float32 => "real".into(),
        ColumnType::Float64 => "double precision".into(),
        ColumnType::Decimal {
            precision: Some(p),
            scale,
        } if *p >= 1 && *p <= 1000 => format!("numeric({p},{})", scale.unwrap_or(0)),
        ColumnType::Decimal { .. } => "numeric".into(),
        ColumnType::Text {
            max_len: Some(n),
            fixed: true,
            ..
        } => format!("character({n})"),
        ColumnType::Text {
            max_len: Some(n), ..
        } => format!("character varying({n})"),
        ColumnType::Text { .. } => "text".into(),
        ColumnType::Binary { .. } => "bytea".into(),
        ColumnType::Date => "date".into(),
        ColumnType::Time { tz, precision } => format!(
            "time{} with{} time zone",
            prec(precision),
            if *tz { "" } else { "out" }
        ),
        ColumnType::Timestamp { tz, precision } => format!(
            "timestamp{} with{} time zone",
            prec(precision),
            if *tz { "" } else { "out" }
        ),
        ColumnType::Interval => "interval".into(),
        ColumnType::Uuid => "uuid".into(),
        ColumnType::Json { binary: false } => "json".into(),
        ColumnType::Json { binary: true } => "jsonb".into(),
        // Another engine's own type: its values travel as canonical text,
        // which a text column keeps exactly.
        ColumnType::Native { .. } => "text".into(),
    }
}

/// CREATE TABLE for a table from another engine: columns and identity, no
/// defaults (see [`defaults`]) and no constraints (those come after the
/// data). Generated columns become plain columns that are loaded with the
/// source's values, since their expressions are in the source's SQL,
/// unless the restore translated them ([`generates`]).
pub(crate) fn create_table(t: &TableDef) -> String {
    let cols: Vec<String> = t
        .columns
        .iter()
        .map(|c| {
            let mut d = format!("{} {}", ident(&c.name), pg_type(&c.ty));
            // A generated column's expression is in the source engine's
            // SQL: the column is plain and holds the source's values (the
            // target reports it as skipped).
            if let (None, Some(id)) = (&c.generated, &c.identity) {
                let how = match id.kind {
                    IdentityKind::Always => "ALWAYS",
                    _ => "BY DEFAULT",
                };
                d.push_str(&format!(" GENERATED {how} AS IDENTITY"));
            }
            if let Some(g) = c.generated.as_ref().filter(|_| generates(t)) {
                // PostgreSQL computes it (stored: it has no virtual
                // columns before 18); the loader leaves the column out.
                d.push_str(&format!(" GENERATED ALWAYS AS ({}) STORED", g.expr));
            }
            if !c.nullable {
                d.push_str(" NOT NULL");
            }
            d
        })
        .collect();
    format!(
        "CREATE TABLE {} (\n    {}\n)",
        qualified(&target_name(&t.name)),
        cols.join(",\n    ")
    )
}

/// Whether `t`'s generation expressions were translated into PostgreSQL's
/// SQL by the restore (`bru-translate`, exactly or not at all), so that
/// PostgreSQL computes the columns.
pub(crate) fn generates(t: &TableDef) -> bool {
    t.translated_into(crate::ENGINE_NAME)
}

/// `ALTER TABLE ... SET DEFAULT` for each column of a table from another
/// engine that has a default, as (column, statement). They run one by one
/// after CREATE TABLE, because a default is written in the source engine's
/// SQL: one PostgreSQL cannot read is reported, not fatal. SQLite's 0 and 1
/// for booleans become false and true.
pub(crate) fn defaults(t: &TableDef) -> Vec<(String, String)> {
    let q = qualified(&target_name(&t.name));
    t.columns
        .iter()
        .filter(|c| c.generated.is_none() && c.identity.is_none())
        .filter_map(|c| {
            let raw = c.default.as_deref()?.trim();
            let mut expr = raw;
            while let Some(inner) = expr.strip_prefix('(').and_then(|e| e.strip_suffix(')')) {
                expr = inner.trim();
            }
            let expr = match (&c.ty, expr.trim_matches('\'').to_ascii_lowercase().as_str()) {
                (ColumnType::Bool, "0" | "false") => "false".to_owned(),
                (ColumnType::Bool, "1" | "true") => "true".to_owned(),
                _ => expr.to_owned(),
            };
            Some((
                c.name.clone(),
                format!(
                    "ALTER TABLE {q} ALTER COLUMN {} SET DEFAULT {expr}",
                    ident(&c.name)
                ),
            ))
        })
        .collect()
}

pub(crate) fn col_list(cols: &[String]) -> String {
    cols.iter().map(|c| ident(c)).collect::<Vec<_>>().join(", ")
}

/// One post-data statement for a table from another engine.
pub(crate) struct PostData {
    /// The constraint or index the statement creates. Constraints the
    /// source left unnamed get the name PostgreSQL would choose for them
    /// (`t_pkey`, `t_a_b_key`, `t_check`), so that a resumed restore can see
    /// that one already exists rather than adding it twice.
    pub name: String,
    pub sql: String,
    /// Written in the source engine's SQL (a CHECK or index expression), so
    /// PostgreSQL may not understand it: a failure is reported as skipped
    /// rather than ending the restore.
    pub foreign_sql: bool,
    /// The index part ([`Target::build_index`](bru_core::Target::build_index))
    /// that may build this step's index ahead of the rest: set for
    /// secondary indexes and for the keys in [`PostData::split`].
    pub part: Option<IndexPart>,
    /// For a primary key or unique constraint whose index can be built on
    /// its own: that `CREATE UNIQUE INDEX`, and the `ALTER TABLE … USING
    /// INDEX` that then makes it the constraint.
    pub split: Option<KeySplit>,
}

/// A key constraint built in two steps (see [`PostData::split`]): the index
/// build takes a lock that lets the table's other index builds run at the
/// same time, where `ADD CONSTRAINT … PRIMARY KEY (…)` would lock them out;
/// attaching the built index is then only a catalog change.
pub(crate) struct KeySplit {
    pub build: String,
    pub attach: String,
}

impl KeySplit {
    /// `kind` is `PRIMARY KEY` or `UNIQUE`; `name` the constraint's stored
    /// name, which its index also takes; `columns` the key's column list.
    pub fn new(q: &str, kind: &str, name: &str, columns: &str) -> KeySplit {
        let n = ident(name);
        KeySplit {
            build: format!("CREATE UNIQUE INDEX {n} ON {q} ({columns})"),
            attach: format!("ALTER TABLE {q} ADD CONSTRAINT {n} {kind} USING INDEX {n}"),
        }
    }
}

/// PostgreSQL's longest identifier, in bytes: longer names are cut.
const NAMEDATALEN: usize = 63;

/// `name` as PostgreSQL stores it: cut to 63 bytes on a character boundary.
pub(crate) fn stored_name(name: &str) -> String {
    let mut end = name.len().min(NAMEDATALEN);
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    name[..end].to_owned()
}

/// The post-data statements for a table from another engine, except
/// foreign keys: primary key, unique and check constraints, indexes.
pub(crate) fn post_data(t: &TableDef) -> Vec<PostData> {
    let q = qualified(&target_name(&t.name));
    let table = &t.name.name;
    let mut out = Vec::new();
    let constraint = |name: String, body: String, foreign_sql: bool| {
        let name = stored_name(&name);
        let sql = format!("ALTER TABLE {q} ADD CONSTRAINT {} {body}", ident(&name));
        PostData {
            name,
            sql,
            foreign_sql,
            part: None,
            split: None,
        }
    };
    let mut keys = Vec::new();
    if let Some(pk) = &t.primary_key {
        let name = pk.name.clone().unwrap_or_else(|| format!("{table}_pkey"));
        keys.push((IndexPart::PrimaryKey, "PRIMARY KEY", name, &pk.columns));
    }
    for (i, u) in t.uniques.iter().enumerate() {
        let name = u
            .name
            .clone()
            .unwrap_or_else(|| format!("{table}_{}_key", u.columns.join("_")));
        keys.push((IndexPart::Unique(i), "UNIQUE", name, &u.columns));
    }
    for (part, kind, name, columns) in keys {
        let columns = col_list(columns);
        let mut step = constraint(name, format!("{kind} ({columns})"), false);
        step.split = Some(KeySplit::new(&q, kind, &step.name, &columns));
        step.part = Some(part);
        out.push(step);
    }
    for (n, c) in t.checks.iter().enumerate() {
        let name = c.name.clone().unwrap_or_else(|| match n {
            0 => format!("{table}_check"),
            n => format!("{table}_check{n}"),
        });
        out.push(constraint(name, format!("CHECK ({})", c.expr), true));
    }
    for (position, i) in t.indexes.iter().enumerate() {
        let plain = i.predicate.is_none() && i.columns.iter().all(|c| t.column_index(c).is_some());
        let cols: Vec<String> = i
            .columns
            .iter()
            .map(|c| {
                if t.column_index(c).is_some() {
                    ident(c)
                } else {
                    format!("({c})")
                }
            })
            .collect();
        let name = stored_name(&i.name);
        let mut s = format!(
            "CREATE {}INDEX {} ON {q}",
            if i.unique { "UNIQUE " } else { "" },
            ident(&name)
        );
        if let Some(m) = &i.method {
            s.push_str(&format!(" USING {}", ident(m)));
        }
        s.push_str(&format!(" ({})", cols.join(", ")));
        if let Some(p) = &i.predicate {
            s.push_str(&format!(" WHERE {p}"));
        }
        out.push(PostData {
            name,
            sql: s,
            foreign_sql: !plain,
            part: Some(IndexPart::Index(position)),
            split: None,
        });
    }
    out
}

/// The name of `fk` (PostgreSQL's choice, `t_a_b_fkey`, when the source
/// left it unnamed) and the ALTER TABLE ... ADD FOREIGN KEY that creates it,
/// from the neutral model.
pub(crate) fn foreign_key(t: &TableDef, fk: &ForeignKey) -> (String, String) {
    let fk_name = stored_name(
        &fk.name
            .clone()
            .unwrap_or_else(|| format!("{}_{}_fkey", t.name.name, fk.columns.join("_"))),
    );
    let name = format!("CONSTRAINT {} ", ident(&fk_name));
    let mut ref_table = fk.ref_table.clone();
    if ref_table.schema.is_none() {
        ref_table.schema = t.name.schema.clone();
    }
    let ref_table = target_name(&ref_table);
    let mut s = format!(
        "ALTER TABLE {} ADD {name}FOREIGN KEY ({}) REFERENCES {}",
        qualified(&target_name(&t.name)),
        col_list(&fk.columns),
        qualified(&ref_table)
    );
    if !fk.ref_columns.is_empty() {
        s.push_str(&format!(" ({})", col_list(&fk.ref_columns)));
    }
    s.push_str(&format!(
        " ON UPDATE {} ON DELETE {}",
        fk.on_update.sql(),
        fk.on_delete.sql()
    ));
    if fk.deferrable {
        s.push_str(" DEFERRABLE");
        if fk.initially_deferred {
            s.push_str(" INITIALLY DEFERRED");
        }
    }
    (fk_name, s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use bru_core::{Column, NativeDdl, PrimaryKey, TableName};

    fn column(name: &str, ty: ColumnType, native_type: &str, nullable: bool) -> Column {
        Column {
            name: name.into(),
            ty,
            native_type: native_type.into(),
            nullable,
            default: None,
            identity: None,
            generated: None,
        }
    }

    /// A SQLite FTS5 table as the SQLite catalog describes it: its rowid
    /// as a first column, its untyped text columns, keyed by the rowid.
    #[test]
    fn a_sqlite_virtual_table_becomes_a_plain_table_keyed_by_its_rowid() {
        let any = || ColumnType::Native { name: "ANY".into() };
        let table = TableDef {
            name: TableName::bare("notes"),
            columns: vec![
                column("rowid", ColumnType::Int64, "INTEGER", false),
                column("title", any(), "", true),
                column("body", any(), "", true),
            ],
            primary_key: Some(PrimaryKey {
                name: None,
                columns: vec!["rowid".into()],
            }),
            uniques: Vec::new(),
            indexes: Vec::new(),
            foreign_keys: Vec::new(),
            checks: Vec::new(),
            native: Some(NativeDdl {
                engine: "sqlite".into(),
                create: "CREATE VIRTUAL TABLE notes USING fts5(title, body)".into(),
            }),
            properties: [
                ("sqlite.virtual_module".to_owned(), "fts5".to_owned()),
                ("sqlite.rowid_column".to_owned(), "rowid".to_owned()),
            ]
            .into_iter()
            .collect(),
            estimated_rows: Some(3),
            created_after: Vec::new(),
            translated_for: None,
        };
        let create = create_table(&table);
        assert!(!create.contains("VIRTUAL"), "{create}");
        let columns: Vec<&str> = create.lines().skip(1).map(str::trim).collect();
        assert_eq!(
            columns,
            ["rowid bigint NOT NULL,", "title text,", "body text", ")"],
            "{create}"
        );
        let steps = post_data(&table);
        assert_eq!(steps.len(), 1);
        assert_eq!(steps[0].name, "notes_pkey");
        assert!(
            steps[0].sql.ends_with("PRIMARY KEY (rowid)"),
            "{}",
            steps[0].sql
        );
    }
}
