//! Which tables a command works on, from pg_dump's selection options:
//! `-t/--include`, `-T/--exclude`, `-n/--schema`, `-N/--exclude-schema`
//! and `--filter FILE` in PostgreSQL 17's format, all made into one
//! [`TableFilter`] of table patterns, so that the engine has one notion of
//! selection whatever the spelling.
//!
//! A schema pattern `S` is the table pattern `S.*`: the schema's tables
//! (SQLite's are in schema `main`). As with `--include`, other objects
//! follow the tables they depend on, which is where bru differs from
//! pg_dump -n: a function of a schema left out that no table needs is
//! still carried.
//!
//! A `--filter` line is `include|exclude OBJECT-TYPE PATTERN`, `#` starting
//! a comment. bru selects tables only, so the object types `table` and
//! `schema` are taken and every other one (`table_data`,
//! `table_and_children`, `extension`, `function`…) is refused naming it and
//! the line, rather than ignored: a filter that did less than it says
//! would back up or restore what the user meant to leave out.

use std::path::Path;

use anyhow::{bail, Context, Result};
use bru_engine::TableFilter;

use crate::args::Filter;

/// The object types of pg_dump's and pg_restore's `--filter` format that
/// bru does not select by, for the refusal.
const OTHER_TYPES: [&str; 8] = [
    "table_data",
    "table_and_children",
    "table_data_and_children",
    "extension",
    "foreign_data",
    "function",
    "index",
    "trigger",
];

/// The include and exclude table patterns of a selection.
#[derive(Debug, Default, PartialEq, Eq)]
struct Patterns {
    include: Vec<String>,
    exclude: Vec<String>,
}

impl Patterns {
    fn add(&mut self, include: bool, schema: bool, pattern: &str) {
        let pattern = if schema {
            format!("{pattern}.*")
        } else {
            pattern.to_owned()
        };
        if include {
            self.include.push(pattern);
        } else {
            self.exclude.push(pattern);
        }
    }
}

/// The filter of `filter`'s options and `--filter` files. Fails naming the
/// file and line of a `--filter` line bru does not take, or a pattern that
/// is not one ([`TableFilter::new`]).
pub fn table_filter(filter: &Filter) -> Result<TableFilter> {
    let mut p = Patterns::default();
    for t in &filter.include {
        p.add(true, false, t);
    }
    for t in &filter.exclude {
        p.add(false, false, t);
    }
    for s in &filter.schema {
        p.add(true, true, s);
    }
    for s in &filter.exclude_schema {
        p.add(false, true, s);
    }
    for file in &filter.filter_file {
        let text = std::fs::read_to_string(file)
            .with_context(|| format!("cannot read the --filter file {}", file.display()))?;
        read_filter(file, &text, &mut p)?;
    }
    Ok(TableFilter::new(&p.include, &p.exclude)?)
}

/// Adds the lines of a `--filter` file to `p`.
fn read_filter(file: &Path, text: &str, p: &mut Patterns) -> Result<()> {
    for (n, raw) in text.lines().enumerate() {
        let line = strip_comment(raw).trim();
        if line.is_empty() {
            continue;
        }
        let at = || format!("--filter file {}, line {}", file.display(), n + 1);
        let (verb, rest) = first_word(line);
        let (kind, pattern) = first_word(rest);
        let include = match verb.to_ascii_lowercase().as_str() {
            "include" => true,
            "exclude" => false,
            _ => bail!(
                "{}: {verb:?} is neither include nor exclude; a line is \
                 `include|exclude table|schema PATTERN`",
                at()
            ),
        };
        let schema = match kind.to_ascii_lowercase().as_str() {
            "table" => false,
            "schema" => true,
            other if OTHER_TYPES.contains(&other) => bail!(
                "{}: bru selects tables and schemas only, not {other}: use a table or \
                 schema line, or leave the line out",
                at()
            ),
            "" => bail!(
                "{}: {verb} what? a line is `{verb} table|schema PATTERN`",
                at()
            ),
            other => bail!(
                "{}: {other:?} is not an object type; a line is `{verb} table|schema PATTERN`",
                at()
            ),
        };
        if pattern.is_empty() {
            bail!("{}: `{verb} {kind}` needs a PATTERN after it", at());
        }
        p.add(include, schema, pattern);
    }
    Ok(())
}

/// The first word of `s` and the rest, both trimmed.
fn first_word(s: &str) -> (&str, &str) {
    let s = s.trim_start();
    match s.find(char::is_whitespace) {
        Some(i) => (&s[..i], s[i..].trim()),
        None => (s, ""),
    }
}

/// The line without a `#` comment, a `#` inside double quotes being part
/// of a name.
fn strip_comment(line: &str) -> &str {
    let mut quoted = false;
    for (i, c) in line.char_indices() {
        match c {
            '"' => quoted = !quoted,
            '#' if !quoted => return &line[..i],
            _ => {}
        }
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<Patterns> {
        let mut p = Patterns::default();
        read_filter(Path::new("f.txt"), text, &mut p)?;
        Ok(p)
    }

    #[test]
    fn filter_lines_become_table_patterns() {
        let p = read(
            "# what to back up\n\ninclude table agents*\nexclude  table \"Audit#1\" # old\n\
             INCLUDE schema hr\nexclude schema tmp_*\n",
        )
        .unwrap();
        assert_eq!(p.include, ["agents*", "hr.*"]);
        assert_eq!(p.exclude, ["\"Audit#1\"", "tmp_*.*"]);
    }

    #[test]
    fn unsupported_filter_lines_are_refused_naming_the_line() {
        for (text, says) in [
            (
                "exclude table_data big",
                "line 1: bru selects tables and schemas only, not table_data",
            ),
            ("include\textension x", "not extension"),
            ("keep table t", "\"keep\" is neither include nor exclude"),
            ("include tables t", "\"tables\" is not an object type"),
            ("include table", "needs a PATTERN"),
            ("include", "include what?"),
        ] {
            let err = read(text).unwrap_err().to_string();
            assert!(err.starts_with("--filter file f.txt, line 1: "), "{err}");
            assert!(err.contains(says), "{text}: {err}");
        }
    }
}
