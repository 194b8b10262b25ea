//! `--include` / `--exclude` table selection, with pg_dump's `-t` patterns.
//!
//! A pattern follows the rules of psql and pg_dump ("Patterns" in the psql
//! manual), so that what selects a table in `pg_dump -t` selects it here:
//!
//! - `*` matches any run of characters and `?` any one character, but
//!   neither crosses the `.` between schema and table;
//! - `schema.table` matches the qualified name, a bare `table` the table's
//!   name in any schema; a table without a schema (SQLite's) is in schema
//!   `main` for matching, so `main.agent*` selects SQLite's `agents`;
//! - unquoted letters are folded to lower case, and double quotes keep
//!   case and make `*`, `?` and `.` literal (`""` is a quote inside them);
//! - names are compared exactly for tables that have a schema (PostgreSQL,
//!   whose identifiers are case-sensitive once quoted), and without regard
//!   to ASCII case for tables without one (SQLite, where `Agents` and
//!   `agents` are the same table), quoted or not;
//! - psql's other regular-expression notation (`[0-9]`, `(a|b)`, `+`…) is
//!   refused rather than taken literally; quote such characters to mean
//!   them.
//!
//! Selecting nothing is an error, as pg_dump's "no matching tables were
//! found", and so is an `--include` pattern that matches no table (what
//! pg_dump does with `--strict-names`): a mistyped pattern would otherwise
//! leave its tables out of a backup that reports success. An `--exclude`
//! pattern may match nothing.
//!
//! Objects go with what they depend on: one on a table or view left out is
//! left out too, transitively, and so is a foreign key to a table left
//! out; each is listed with the reason
//! ([`Selection::skipped`]). The dependencies are those the source recorded
//! ([`ObjectDef::depends_on`]); for an archive written before they were
//! recorded, the identifiers of the object's SQL (outside string literals and
//! comments) stand in for them.

use std::collections::BTreeSet;

use bru_core::{Catalog, ObjectDef, TableName};
use globset::{GlobBuilder, GlobMatcher};

use crate::summary::object_name;
use crate::{Error, ListSelection};

/// The schema a table without one is in, for matching (SQLite's name for
/// its main database).
const DEFAULT_SCHEMA: &str = "main";

/// Selects tables by name. A table is selected when it matches at least one
/// include pattern (or there are none) and no exclude pattern.
#[derive(Debug, Clone, Default)]
pub struct TableFilter {
    include: Vec<Pattern>,
    exclude: Vec<Pattern>,
    /// `restore --use-list`: only the entries the list keeps.
    list: Option<ListSelection>,
}

/// What a filter selected from a catalog.
#[derive(Debug, Clone)]
pub struct Selection {
    /// The selected tables, and the objects that depend on nothing left out.
    pub catalog: Catalog,
    /// The objects left out because something they depend on was, each as
    /// `kind name: depends on …, left out by --include/--exclude`.
    pub skipped: Vec<String>,
}

impl TableFilter {
    /// Compiles the patterns; fails with [`Error::InvalidPattern`] naming a
    /// pattern that is empty, has more than one unquoted `.`, an unclosed
    /// quote or regular-expression notation.
    pub fn new(include: &[String], exclude: &[String]) -> Result<Self, Error> {
        let compile = |patterns: &[String]| {
            patterns
                .iter()
                .map(|p| Pattern::parse(p))
                .collect::<Result<Vec<_>, _>>()
        };
        Ok(TableFilter {
            include: compile(include)?,
            exclude: compile(exclude)?,
            list: None,
        })
    }

    /// The filter that also leaves out every table and object that `list`
    /// (a `restore --use-list` file, [`crate::Toc::selection`]) does not
    /// keep; an object left out so is listed as skipped, and so is what
    /// depends on it.
    pub fn with_list(mut self, list: ListSelection) -> Self {
        self.list = Some(list);
        self
    }

    /// Whether any pattern was given.
    pub fn is_active(&self) -> bool {
        !self.include.is_empty() || !self.exclude.is_empty()
    }

    /// Whether `table` is selected.
    pub fn matches(&self, table: &TableName) -> bool {
        (self.include.is_empty() || self.include.iter().any(|p| p.matches(table)))
            && !self.exclude.iter().any(|p| p.matches(table))
            && self
                .list
                .as_ref()
                .is_none_or(|l| l.tables.contains(&table.to_string()))
    }

    /// The part of `catalog` this filter selects: the selected tables, and
    /// the objects that neither belong to nor depend on (transitively) a
    /// table or object left out. Fails with [`Error::NoTablesSelected`] when
    /// patterns were given and select no table, or an include pattern
    /// matches none of the catalog's tables.
    pub fn apply(&self, catalog: &Catalog) -> Result<Selection, Error> {
        if self.is_active() && !catalog.tables.is_empty() {
            let unmatched: Vec<String> = self
                .include
                .iter()
                .filter(|p| !catalog.tables.iter().any(|t| p.matches(&t.name)))
                .map(|p| p.text.clone())
                .collect();
            let selected = catalog.tables.iter().any(|t| self.matches(&t.name));
            if !unmatched.is_empty() || !selected {
                return Err(Error::NoTablesSelected {
                    patterns: if unmatched.is_empty() {
                        self.describe()
                    } else {
                        quoted(&unmatched)
                    },
                    unmatched: !unmatched.is_empty(),
                });
            }
        } else if self.is_active() {
            return Err(Error::NoTablesSelected {
                patterns: self.describe(),
                unmatched: false,
            });
        }
        let mut left_out = LeftOut::default();
        let mut tables = Vec::new();
        for t in &catalog.tables {
            if self.matches(&t.name) {
                tables.push(t.clone());
            } else {
                left_out.insert(&t.name, "table".into());
            }
        }
        let mut skipped = Vec::new();
        // A foreign key to a table left out cannot be created: it is left
        // out, and listed.
        for t in &mut tables {
            t.foreign_keys
                .retain(|fk| match left_out.find(&fk.ref_table) {
                    Some(what) => {
                        skipped.push(format!(
                            "foreign key {}of table {}: references {what}, left out by {}",
                            fk.name
                                .as_ref()
                                .map(|n| format!("{n} "))
                                .unwrap_or_default(),
                            t.name,
                            self.by()
                        ));
                        false
                    }
                    None => true,
                });
        }
        let mut objects = Vec::new();
        // Objects come in creation order, so what an object depends on is
        // decided before it: one pass is transitive.
        for (i, o) in catalog.objects.iter().enumerate() {
            // A trigger, rule, owner... of a table left out goes with it;
            // one on a view (an INSTEAD OF trigger) goes with the view, and
            // stays when the view does.
            if o.table.as_ref().is_some_and(|t| left_out.find(t).is_some()) {
                continue;
            }
            if self.list.as_ref().is_some_and(|l| !l.objects.contains(&i)) {
                skipped.push(format!("{}: left out by --use-list", object_name(o)));
                left_out.insert(&o.name, o.kind.to_string());
                continue;
            }
            match left_out.dependency(o) {
                Some(reason) => {
                    skipped.push(format!(
                        "{}: depends on {reason}, left out by {}",
                        object_name(o),
                        self.by()
                    ));
                    left_out.insert(&o.name, o.kind.to_string());
                }
                None => objects.push(o.clone()),
            }
        }
        Ok(Selection {
            catalog: Catalog { tables, objects },
            skipped,
        })
    }

    /// The options that left things out, for a skipped entry's reason.
    fn by(&self) -> &'static str {
        match (
            self.list.is_some(),
            self.include.is_empty() && self.exclude.is_empty(),
        ) {
            (false, _) => "--include/--exclude",
            (true, true) => "--use-list",
            (true, false) => "--include/--exclude/--use-list",
        }
    }

    /// The patterns, for an error line.
    fn describe(&self) -> String {
        let mut parts = Vec::new();
        if !self.include.is_empty() {
            let texts: Vec<String> = self.include.iter().map(|p| p.text.clone()).collect();
            parts.push(format!("--include {}", quoted(&texts)));
        }
        if !self.exclude.is_empty() {
            let texts: Vec<String> = self.exclude.iter().map(|p| p.text.clone()).collect();
            parts.push(format!("--exclude {}", quoted(&texts)));
        }
        parts.join(" and ")
    }
}

fn quoted(texts: &[String]) -> String {
    texts
        .iter()
        .map(|t| format!("{t:?}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The tables and objects left out so far, by the name an object's
/// dependencies use, with what each one is (`table`, `view`…).
#[derive(Default)]
struct LeftOut {
    /// (schema or `main`, name, kind); names of tables without a schema are
    /// kept in lower case, as they compare without regard to case.
    names: BTreeSet<(String, String, String)>,
}

impl LeftOut {
    fn key(name: &TableName) -> (String, String) {
        match &name.schema {
            Some(s) => (s.clone(), name.name.clone()),
            None => (DEFAULT_SCHEMA.to_owned(), name.name.to_ascii_lowercase()),
        }
    }

    fn insert(&mut self, name: &TableName, kind: String) {
        let (schema, name) = Self::key(name);
        self.names.insert((schema, name, kind));
    }

    /// `kind name` of a left-out item named `name`, if any.
    fn find(&self, name: &TableName) -> Option<String> {
        let (schema, bare) = Self::key(name);
        self.names
            .iter()
            .find(|(s, n, _)| *s == schema && *n == bare)
            .map(|(_, _, kind)| format!("{kind} {name}"))
    }

    /// What left-out item `object` depends on, if any: from the dependencies
    /// the source recorded, else from the identifiers of its SQL.
    fn dependency(&self, object: &ObjectDef) -> Option<String> {
        if self.names.is_empty() || object.not_carried.is_some() {
            return None;
        }
        match &object.depends_on {
            Some(deps) => deps.iter().find_map(|d| self.find(d)),
            None => {
                let words = identifiers(&object.ddl);
                self.names
                    .iter()
                    .find(|(_, n, _)| words.iter().any(|w| w.eq_ignore_ascii_case(n)))
                    .map(|(s, n, kind)| {
                        let shown = if s == DEFAULT_SCHEMA {
                            n.clone()
                        } else {
                            format!("{s}.{n}")
                        };
                        format!("{kind} {shown}")
                    })
            }
        }
    }
}

/// The identifiers of an SQL text: bare words and quoted names (`"…"`,
/// `` `…` ``, `[…]`), skipping string literals and comments. Only for
/// archives written before objects recorded their dependencies.
fn identifiers(sql: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = sql.chars().peekable();
    let until = |chars: &mut std::iter::Peekable<std::str::Chars>, end: char| {
        let mut s = String::new();
        while let Some(c) = chars.next() {
            if c == end {
                // A doubled closing quote is the quote itself.
                if chars.peek() == Some(&end) && end != ']' {
                    chars.next();
                    s.push(c);
                    continue;
                }
                break;
            }
            s.push(c);
        }
        s
    };
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                until(&mut chars, '\'');
            }
            '"' | '`' => out.push(until(&mut chars, c)),
            '[' => out.push(until(&mut chars, ']')),
            '-' if chars.peek() == Some(&'-') => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        break;
                    }
                }
            }
            '/' if chars.peek() == Some(&'*') => {
                chars.next();
                let mut last = ' ';
                for c in chars.by_ref() {
                    if last == '*' && c == '/' {
                        break;
                    }
                    last = c;
                }
            }
            c if c.is_alphanumeric() || c == '_' => {
                let mut word = String::from(c);
                while let Some(&n) = chars.peek() {
                    if n.is_alphanumeric() || n == '_' || n == '$' {
                        word.push(n);
                        chars.next();
                    } else {
                        break;
                    }
                }
                out.push(word.to_ascii_lowercase());
            }
            _ => {}
        }
    }
    out
}

/// One compiled pattern: its text (for messages), an optional schema part
/// and the name part.
#[derive(Debug, Clone)]
pub(crate) struct Pattern {
    text: String,
    schema: Option<Part>,
    name: Part,
}

/// One side of the dot, as globset globs: `exact` as written (unquoted
/// letters already folded), `folded` with every letter in lower case, for
/// names compared without regard to ASCII case (SQLite's), which are
/// folded the same way before matching.
#[derive(Debug, Clone)]
pub(crate) struct Part {
    exact: GlobMatcher,
    folded: GlobMatcher,
}

impl Part {
    /// `glob` is the part as a globset glob, every literal character
    /// escaped, so only `*` and `?` are wildcards.
    pub(crate) fn new(glob: &str, text: &str) -> Result<Part, Error> {
        let compile = |g: &str| {
            GlobBuilder::new(g)
                .backslash_escape(true)
                .build()
                .map(|g| g.compile_matcher())
                .map_err(|e| Error::InvalidPattern {
                    pattern: text.to_owned(),
                    message: e.kind().to_string(),
                })
        };
        Ok(Part {
            exact: compile(glob)?,
            folded: compile(&glob.to_ascii_lowercase())?,
        })
    }

    pub(crate) fn matches(&self, name: &str, fold: bool) -> bool {
        if fold {
            self.folded.is_match(name.to_ascii_lowercase())
        } else {
            self.exact.is_match(name)
        }
    }
}

/// The dot-separated parts of a pattern, each as a globset glob: `*` and
/// `?` as themselves, every other character a literal (escaped, so that a
/// quoted `*`, `[` or `\\` means itself), unquoted letters folded to lower
/// case. Fails on an unclosed quote, regular-expression notation or an
/// empty part.
pub(crate) fn glob_parts(text: &str) -> Result<Vec<String>, Error> {
    let invalid = |message: &str| Error::InvalidPattern {
        pattern: text.to_owned(),
        message: message.to_owned(),
    };
    let mut parts: Vec<String> = vec![String::new()];
    let mut chars = text.chars().peekable();
    let mut in_quotes = false;
    let literal = |part: &mut String, c: char| {
        part.push('\\');
        part.push(c);
    };
    while let Some(c) = chars.next() {
        let part = parts.last_mut().expect("one part at least");
        if in_quotes {
            if c == '"' {
                if chars.peek() == Some(&'"') {
                    chars.next();
                    literal(part, '"');
                } else {
                    in_quotes = false;
                }
            } else {
                literal(part, c);
            }
            continue;
        }
        match c {
            '"' => in_quotes = true,
            '.' => parts.push(String::new()),
            '*' | '?' => part.push(c),
            '[' | ']' | '(' | ')' | '{' | '}' | '|' | '+' | '^' | '\\' => {
                return Err(invalid(&format!(
                    "{c:?} is regular-expression notation, which bru does not take; \
                     use * and ?, or double quotes around a literal {c:?}"
                )))
            }
            c => literal(part, c.to_ascii_lowercase()),
        }
    }
    if in_quotes {
        return Err(invalid("a double quote is not closed"));
    }
    if parts.iter().any(String::is_empty) {
        return Err(invalid("a schema, table or column name is empty"));
    }
    Ok(parts)
}

impl Pattern {
    fn parse(text: &str) -> Result<Pattern, Error> {
        let invalid = |message: &str| Error::InvalidPattern {
            pattern: text.to_owned(),
            message: message.to_owned(),
        };
        let mut parts = glob_parts(text)?;
        if parts.len() > 2 {
            return Err(invalid(
                "write schema.table or table (a database name is not taken)",
            ));
        }
        let name = parts.pop().expect("one part at least");
        Ok(Pattern {
            text: text.to_owned(),
            schema: parts.pop().map(|s| Part::new(&s, text)).transpose()?,
            name: Part::new(&name, text)?,
        })
    }

    /// `schema.table` or `table` from its dot-separated parts as
    /// [`glob_parts`] gave them (one or two), `text` being the whole
    /// pattern for messages.
    pub(crate) fn from_parts(text: &str, mut parts: Vec<String>) -> Result<Pattern, Error> {
        let name = parts.pop().unwrap_or_default();
        Ok(Pattern {
            text: text.to_owned(),
            schema: parts.pop().map(|s| Part::new(&s, text)).transpose()?,
            name: Part::new(&name, text)?,
        })
    }

    pub(crate) fn matches(&self, table: &TableName) -> bool {
        // Tables without a schema are SQLite's: one case-insensitive
        // namespace, `main`.
        let fold = table.schema.is_none();
        let schema = table.schema.as_deref().unwrap_or(DEFAULT_SCHEMA);
        self.schema.as_ref().is_none_or(|p| p.matches(schema, fold))
            && self.name.matches(&table.name, fold)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bru_core::{ObjectKind, TableDef};

    fn filter(include: &[&str], exclude: &[&str]) -> TableFilter {
        let own = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        TableFilter::new(&own(include), &own(exclude)).expect("valid patterns")
    }

    fn pg(schema: &str, name: &str) -> TableName {
        TableName::new(Some(schema), name)
    }

    #[test]
    fn no_patterns_select_everything() {
        let f = filter(&[], &[]);
        assert!(f.matches(&TableName::bare("agents")));
        assert!(f.matches(&pg("hr", "agents")));
    }

    #[test]
    fn bare_pattern_matches_the_name_in_any_schema() {
        let f = filter(&["agents", "hr.sites"], &[]);
        assert!(f.matches(&TableName::bare("agents")));
        assert!(f.matches(&pg("public", "agents")));
        assert!(f.matches(&pg("hr", "sites")));
        assert!(!f.matches(&pg("ops", "sites")));
        assert!(!f.matches(&TableName::bare("sites")));
    }

    #[test]
    fn exclude_wins_over_include() {
        let f = filter(&["*"], &["audit_*"]);
        assert!(f.matches(&TableName::bare("agents")));
        assert!(!f.matches(&TableName::bare("audit_log")));
        assert!(!f.matches(&pg("public", "audit_log")));
    }

    #[test]
    fn wildcards_do_not_cross_the_schema_dot() {
        let f = filter(&["public.*"], &[]);
        assert!(f.matches(&pg("public", "a")));
        assert!(!f.matches(&pg("public2", "a")));
        // `*` alone is a table name in any schema, never `schema.table`.
        let f = filter(&["p*"], &[]);
        assert!(!f.matches(&pg("public", "agents")));
        assert!(f.matches(&pg("hr", "people")));
        let f = filter(&["a?ents", "*.s*"], &[]);
        assert!(f.matches(&pg("x", "agents")));
        assert!(!f.matches(&pg("x", "aagents")));
        assert!(f.matches(&pg("hr", "sites")));
        assert!(!f.matches(&pg("hr", "people")));
    }

    #[test]
    fn sqlite_tables_are_in_main_and_case_insensitive() {
        let f = filter(&["main.agent*"], &[]);
        assert!(f.matches(&TableName::bare("agents")));
        assert!(f.matches(&TableName::bare("Agents")));
        assert!(!f.matches(&pg("public", "agents")));
        let f = filter(&["AGENTS"], &[]);
        assert!(f.matches(&TableName::bare("agents")));
        assert!(f.matches(&TableName::bare("AgEnTs")));
        let f = filter(&["\"Agents\""], &[]);
        assert!(f.matches(&TableName::bare("agents")));
    }

    #[test]
    fn postgres_case_follows_quoting() {
        // Unquoted letters fold to lower case and compare exactly.
        let f = filter(&["AGENTS"], &[]);
        assert!(f.matches(&pg("public", "agents")));
        assert!(!f.matches(&pg("public", "Agents")));
        // Double quotes keep case.
        let f = filter(&["\"Agents\""], &[]);
        assert!(f.matches(&pg("public", "Agents")));
        assert!(!f.matches(&pg("public", "agents")));
        let f = filter(&["\"HR\".\"Staff\""], &[]);
        assert!(f.matches(&pg("HR", "Staff")));
        assert!(!f.matches(&pg("hr", "staff")));
    }

    #[test]
    fn quotes_make_wildcards_and_dots_literal() {
        let f = filter(&["\"a.b*\""], &[]);
        assert!(f.matches(&pg("public", "a.b*")));
        assert!(!f.matches(&pg("public", "a.bc")));
        let f = filter(&["\"say \"\"hi\"\"\""], &[]);
        assert!(f.matches(&pg("public", "say \"hi\"")));
        let f = filter(&["price$"], &[]);
        assert!(f.matches(&pg("public", "price$")));
        // What would be glob notation is literal inside quotes too.
        let f = filter(&["\"a[1]{x,y}\\\"*"], &[]);
        assert!(f.matches(&pg("public", "a[1]{x,y}\\")));
        assert!(f.matches(&pg("public", "a[1]{x,y}\\z")));
        assert!(!f.matches(&pg("public", "a1x")));
        // A slash is an ordinary character of a name, and `*` takes it.
        assert!(filter(&["a*"], &[]).matches(&pg("public", "a/b")));
    }

    #[test]
    fn bad_patterns_are_named() {
        for bad in ["bad[", "a.b.c", "\"open", "", "public.", "a+"] {
            let err = TableFilter::new(&["ok".into(), bad.into()], &[]).unwrap_err();
            let msg = err.to_string();
            assert!(msg.contains(&format!("{bad:?}")), "{msg}");
        }
    }

    fn catalog() -> Catalog {
        let table = |n: &str| TableDef::new(TableName::bare(n), Vec::new());
        let mut view = ObjectDef::new(
            ObjectKind::View,
            TableName::bare("v_agents"),
            "sqlite",
            "CREATE VIEW v_agents AS SELECT * FROM agents",
        );
        view.depends_on = Some(vec![TableName::bare("agents")]);
        let mut over_view = ObjectDef::new(
            ObjectKind::View,
            TableName::bare("v2"),
            "sqlite",
            "CREATE VIEW v2 AS SELECT * FROM v_agents",
        );
        over_view.depends_on = Some(vec![TableName::bare("v_agents")]);
        // Only names 'agents' in a string: recorded dependencies say no.
        let mut label = ObjectDef::new(
            ObjectKind::View,
            TableName::bare("labels"),
            "sqlite",
            "CREATE VIEW labels AS SELECT 'agents' AS l FROM sites",
        );
        label.depends_on = Some(vec![TableName::bare("sites")]);
        Catalog {
            tables: vec![table("agents"), table("sites")],
            objects: vec![view, over_view, label],
        }
    }

    #[test]
    fn objects_over_left_out_tables_are_left_out_transitively() {
        let s = filter(&["sites"], &[]).apply(&catalog()).unwrap();
        let names: Vec<String> = s.catalog.objects.iter().map(object_name).collect();
        assert_eq!(names, ["view labels"]);
        assert_eq!(
            s.skipped,
            [
                "view v_agents: depends on table agents, left out by --include/--exclude",
                "view v2: depends on view v_agents, left out by --include/--exclude",
            ]
        );
    }

    #[test]
    fn a_trigger_on_a_kept_view_stays_and_one_on_a_left_out_table_goes() {
        let mut c = catalog();
        let mut on_view = ObjectDef::new(
            ObjectKind::Trigger,
            TableName::bare("t_labels"),
            "sqlite",
            "CREATE TRIGGER t_labels INSTEAD OF INSERT ON labels BEGIN SELECT 1; END",
        );
        on_view.table = Some(TableName::bare("labels"));
        on_view.depends_on = Some(vec![TableName::bare("labels")]);
        let mut on_table = ObjectDef::new(
            ObjectKind::Trigger,
            TableName::bare("t_agents"),
            "sqlite",
            "CREATE TRIGGER t_agents AFTER INSERT ON agents BEGIN SELECT 1; END",
        );
        on_table.table = Some(TableName::bare("Agents"));
        c.objects.push(on_view);
        c.objects.push(on_table);
        let s = filter(&["sites"], &[]).apply(&c).unwrap();
        let names: Vec<String> = s.catalog.objects.iter().map(object_name).collect();
        assert_eq!(names, ["view labels", "trigger t_labels"]);
        assert_eq!(s.skipped.len(), 2, "{:?}", s.skipped);
    }

    #[test]
    fn old_archives_fall_back_to_the_identifiers_of_the_sql() {
        let mut c = catalog();
        for o in &mut c.objects {
            o.depends_on = None;
        }
        let s = filter(&[], &["agents"]).apply(&c).unwrap();
        let names: Vec<String> = s.catalog.objects.iter().map(object_name).collect();
        // 'agents' in a string literal is no identifier.
        assert_eq!(names, ["view labels"]);
        assert_eq!(s.skipped.len(), 2, "{:?}", s.skipped);
        assert_eq!(
            identifiers("SELECT \"A b\", x -- y\n FROM [t] /* z */ WHERE 'q' = `r`"),
            ["select", "A b", "x", "from", "t", "where", "r"]
        );
    }

    #[test]
    fn selecting_nothing_is_an_error_naming_the_patterns() {
        let err = filter(&["nothing*"], &[]).apply(&catalog()).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("\"nothing*\""), "{msg}");
        assert!(msg.contains("no table"), "{msg}");
        // Each include pattern must match a table, as --strict-names.
        let err = filter(&["agents", "typo"], &[])
            .apply(&catalog())
            .unwrap_err();
        assert!(err.to_string().contains("\"typo\""), "{err}");
        assert!(!err.to_string().contains("\"agents\""), "{err}");
        // Excluding everything.
        let err = filter(&[], &["*"]).apply(&catalog()).unwrap_err();
        assert!(err.to_string().contains("--exclude \"*\""), "{err}");
        // No patterns on an empty catalog is fine.
        assert!(filter(&[], &[]).apply(&Catalog::default()).is_ok());
    }
}
