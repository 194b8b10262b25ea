//! SQLite virtual tables: which module a `CREATE VIRTUAL TABLE` uses, and
//! whether bru can read its rows back.
//!
//! A virtual table keeps its rows in shadow tables that only its module
//! understands, so bru never copies those; it reads the virtual table
//! itself, as an application would, and a restore inserts the rows back
//! through the module, which rebuilds the shadow tables (and the full-text
//! or R-tree index in them). That works for the modules SQLite bundles whose
//! rows can be read back:
//! - FTS5, FTS4 and FTS3 tables that store their own content;
//! - R-tree tables (`rtree`, `rtree_i32`), whose first column is the rowid.
//!
//! Two kinds of FTS table cannot be carried that way:
//! - a contentless table (`content=''`) keeps only its index, which cannot
//!   be turned back into rows: it is restored empty and reported;
//! - an external content table (`content='other'`) has no rows of its own:
//!   after a restore its index is rebuilt from the restored content table.
//!
//! Every other module (a module of an extension, `dbstat`, …) stays a
//! DDL-only object.

use crate::sqltext::{matching_paren, split_top_level, tokenize, Kind};

/// The `sqlite.virtual_module` property of a virtual table carried as a
/// table: the module name, lowercased (`fts5`, `fts4`, `fts3`, `rtree`,
/// `rtree_i32`).
pub const MODULE_PROPERTY: &str = "sqlite.virtual_module";

/// The `sqlite.rowid_column` property: the name of the column that holds
/// an FTS table's rowid as data. It is not a column of the table in SQLite;
/// the source selects it and the target inserts it as the rowid.
pub const ROWID_COLUMN_PROPERTY: &str = "sqlite.rowid_column";

/// Where an FTS table's indexed text lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FtsContent {
    /// In the table's own shadow table: its rows can be read back.
    Own,
    /// In another table (`content='name'`).
    External(String),
    /// Nowhere (`content=''`): only the index exists.
    Contentless,
}

/// What bru does with one virtual table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VirtualTable {
    /// An FTS3/4/5 table; `module` is lowercased.
    Fts { module: String, content: FtsContent },
    /// An R-tree table; `module` is lowercased.
    Rtree { module: String },
    /// Any other module: kept as DDL only.
    Other,
}

impl VirtualTable {
    /// Parses `CREATE VIRTUAL TABLE [IF NOT EXISTS] [schema.]name USING
    /// module(args)`; `None` if `sql` is not such a statement.
    pub fn parse(sql: &str) -> Option<VirtualTable> {
        let (module, args) = module_and_options(sql)?;
        Some(match module.as_str() {
            "fts3" | "fts4" | "fts5" => {
                let content = match args.iter().rev().find(|(k, _)| k == "content") {
                    None => FtsContent::Own,
                    Some((_, v)) if v.is_empty() => FtsContent::Contentless,
                    Some((_, v)) => FtsContent::External(v.clone()),
                };
                VirtualTable::Fts { module, content }
            }
            "rtree" | "rtree_i32" => VirtualTable::Rtree { module },
            _ => VirtualTable::Other,
        })
    }

    /// The module name when bru reads this table's rows (an FTS table with
    /// its own content, or an R-tree), else `None`.
    pub fn carried_module(&self) -> Option<&str> {
        match self {
            VirtualTable::Fts {
                module,
                content: FtsContent::Own,
            }
            | VirtualTable::Rtree { module } => Some(module),
            _ => None,
        }
    }
}

/// The lowercased module of the `CREATE VIRTUAL TABLE` statement `sql` and
/// its `key=value` arguments (keys lowercased, quoted values unquoted);
/// `None` if `sql` is not such a statement.
fn module_and_options(sql: &str) -> Option<(String, Vec<(String, String)>)> {
    let tokens = tokenize(sql);
    let head_ok = tokens.len() >= 3
        && tokens[0].is_word(sql, "CREATE")
        && tokens[1].is_word(sql, "VIRTUAL")
        && tokens[2].is_word(sql, "TABLE");
    if !head_ok {
        return None;
    }
    let using = tokens.iter().position(|t| t.is_word(sql, "USING"))?;
    let module = tokens.get(using + 1)?.name(sql).to_ascii_lowercase();
    let args = match tokens.get(using + 2) {
        Some(t) if t.is_punct(sql, '(') => {
            let close = matching_paren(sql, &tokens, using + 2)?;
            split_top_level(sql, &tokens[using + 3..close])
                .into_iter()
                .filter_map(|arg| match arg {
                    [key, eq, value, ..] if eq.is_punct(sql, '=') => Some((
                        key.name(sql).to_ascii_lowercase(),
                        match value.kind {
                            Kind::Str | Kind::Quoted => value.name(sql),
                            _ => value.text(sql).to_owned(),
                        },
                    )),
                    _ => None,
                })
                .collect()
        }
        _ => Vec::new(),
    };
    Some((module, args))
}

/// The hidden column of an FTS3/FTS4 table that holds each row's language
/// id (its `languageid=` option), which is data like any column.
pub fn language_id_column(sql: &str) -> Option<String> {
    let (module, args) = module_and_options(sql)?;
    if module != "fts3" && module != "fts4" {
        return None;
    }
    args.into_iter()
        .rev()
        .find(|(k, _)| k == "languageid")
        .map(|(_, v)| v)
}

/// Why the rows of the virtual table `sql` are not restored, for the
/// restore summary; `None` when nothing is lost (its rows are carried, it
/// has none of its own, or bru does not know the module).
pub fn not_carried_reason(sql: &str) -> Option<&'static str> {
    match VirtualTable::parse(sql)? {
        VirtualTable::Fts {
            content: FtsContent::Contentless,
            ..
        } => Some(
            "contentless FTS table: its index cannot be read back, so it is restored empty; \
             rebuild it from its source",
        ),
        _ => None,
    }
}

/// The statement that rebuilds the index of the FTS table `name` from its
/// content table.
pub fn rebuild_statement(name: &str) -> String {
    let q = crate::quote::ident(name);
    format!("INSERT INTO {q}({q}) VALUES('rebuild')")
}

/// The statement that checks the index of the FTS table `name` against
/// its content; it fails if they disagree.
pub fn integrity_check_statement(name: &str) -> String {
    let q = crate::quote::ident(name);
    format!("INSERT INTO {q}({q}) VALUES('integrity-check')")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modules_and_content_options_are_recognised() {
        let parse = |s: &str| VirtualTable::parse(s);
        assert_eq!(
            parse("CREATE VIRTUAL TABLE t USING fts5(a, b, tokenize='porter')"),
            Some(VirtualTable::Fts {
                module: "fts5".into(),
                content: FtsContent::Own
            })
        );
        assert_eq!(
            parse("create virtual table if not exists \"t\" using FTS4(a, content=\"\")"),
            Some(VirtualTable::Fts {
                module: "fts4".into(),
                content: FtsContent::Contentless
            })
        );
        assert_eq!(
            parse("CREATE VIRTUAL TABLE t USING fts5(a, content='docs', content_rowid='id')"),
            Some(VirtualTable::Fts {
                module: "fts5".into(),
                content: FtsContent::External("docs".into())
            })
        );
        assert_eq!(
            parse("CREATE VIRTUAL TABLE r USING rtree_i32(id, a, b)")
                .as_ref()
                .and_then(VirtualTable::carried_module),
            Some("rtree_i32")
        );
        assert_eq!(
            parse("CREATE VIRTUAL TABLE s USING dbstat"),
            Some(VirtualTable::Other)
        );
        assert_eq!(parse("CREATE TABLE t (a)"), None);
        assert!(not_carried_reason("CREATE VIRTUAL TABLE t USING fts5(a, content='')").is_some());
        assert!(not_carried_reason("CREATE VIRTUAL TABLE t USING fts5(a)").is_none());
        assert_eq!(
            language_id_column("CREATE VIRTUAL TABLE t USING fts4(a, languageid=\"lid\")"),
            Some("lid".into())
        );
        assert_eq!(
            language_id_column("CREATE VIRTUAL TABLE t USING fts5(a)"),
            None
        );
    }
}
