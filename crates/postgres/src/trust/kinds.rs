//! The statement shapes of the object kinds that have no variant of their
//! own in [`ObjectKind`] (`ObjectKind::Other(name)`): operators, operator
//! families and classes, casts, collations, conversions, procedural
//! languages, transforms, access methods and event triggers, as the
//! catalog readers write them, plus aggregates' names in owners and
//! comments.
//!
//! | entry (`other` kind) | its name | its statements |
//! |---|---|---|
//! | `operator` | `===(integer,integer)` | `CREATE OPERATOR <schema>.<op> (…)` whose LEFTARG and RIGHTARG are the declared ones |
//! | `operator family` | `<name> USING <am>` | `CREATE OPERATOR FAMILY <schema>.<name> USING <am>`, then `ALTER OPERATOR FAMILY <schema>.<name> USING <am> ADD …` |
//! | `operator class` | `<name> USING <am>` | `CREATE OPERATOR CLASS <schema>.<name> [DEFAULT] FOR TYPE … USING <am> …` |
//! | `cast` | `(<source> AS <target>)` | `CREATE CAST (<source> AS <target>) WITH FUNCTION <f>(…) \| WITHOUT FUNCTION \| WITH INOUT [AS ASSIGNMENT \| AS IMPLICIT]` |
//! | `collation` | `<name>` | `CREATE COLLATION <schema>.<name> (…)` |
//! | `conversion` | `<name>` | `CREATE [DEFAULT] CONVERSION <schema>.<name> FOR '…' TO '…' FROM <f>` |
//! | `language` | `<name>` | `CREATE [TRUSTED] [PROCEDURAL] LANGUAGE <name> HANDLER <f> [INLINE <f>] [VALIDATOR <f>]` (never `OR REPLACE`) |
//! | `transform` | `FOR <type> LANGUAGE <lang>` | `CREATE TRANSFORM FOR <type> LANGUAGE <lang> (…)` (never `OR REPLACE`) |
//! | `access method` | `<name>` | `CREATE ACCESS METHOD <name> TYPE INDEX\|TABLE HANDLER <f>` |
//! | `event trigger` | `<name>` | `CREATE EVENT TRIGGER <name> ON <event> [WHEN TAG IN (…)] EXECUTE FUNCTION\|PROCEDURE <f>()`, then `ALTER EVENT TRIGGER <name> ENABLE\|DISABLE [ALWAYS\|REPLICA]` |
//!
//! Owners (`ALTER <kind> <name> OWNER TO`), grants (on a language) and
//! comments (`COMMENT ON <kind> <name>`) on these kinds must name the
//! entry's own object the same way. What a definition names besides its
//! object is not checked, as for a function's body: a support function,
//! and an operator's COMMUTATOR or NEGATOR, which the server creates as a
//! shell operator when it does not exist yet (pg_dump relies on that for
//! a pair of operators that name each other).

use crate::sqltext::{tokenize, Kind, Token};

use super::{Check, Cursor};

/// The `other` kinds this module checks.
pub(super) const KINDS: &[&str] = &[
    "operator",
    "operator family",
    "operator class",
    "cast",
    "collation",
    "conversion",
    "language",
    "transform",
    "access method",
    "event trigger",
];

/// The characters an operator's name is made of.
const OPERATOR_CHARS: &str = "+-*/<>=~!@#%^&|`?";

/// The kind words of the owners and comments of this module's kinds, and
/// of aggregates, longest first so that `OPERATOR CLASS` is not read as
/// `OPERATOR`.
const NAMED_KINDS: &[&str] = &[
    "OPERATOR CLASS",
    "OPERATOR FAMILY",
    "ACCESS METHOD",
    "EVENT TRIGGER",
    "PROCEDURAL LANGUAGE",
    "AGGREGATE",
    "OPERATOR",
    "COLLATION",
    "CONVERSION",
    "LANGUAGE",
    "CAST",
    "TRANSFORM",
];

impl Check<'_> {
    /// The statements of an entry of `kind`, one of [`KINDS`].
    pub(super) fn other_kind<'s>(
        &self,
        kind: &str,
        mut first: Cursor<'s>,
        mut rest: impl Iterator<Item = Cursor<'s>>,
    ) -> Result<(), String> {
        let declared = &self.object.name;
        let name = std::slice::from_ref(&declared.name);
        first.expect("CREATE")?;
        match kind {
            "operator" => {
                first.expect("OPERATOR")?;
                self.operator_name(&mut first)?;
                first.punct('(')?;
                let (_, args) = split_operator(&declared.name)?;
                let (left, right) = args;
                for (clause, arg) in [("LEFTARG", left), ("RIGHTARG", right)] {
                    let given = clause_value(&first, clause);
                    let want = (arg != "NONE").then_some(arg);
                    if !same_tokens(given.unwrap_or(""), want.unwrap_or("")) {
                        return Err(format!(
                            "creates an operator whose {clause} is {}, not the declared {}",
                            given.unwrap_or("none"),
                            want.unwrap_or("none")
                        ));
                    }
                }
            }
            "operator family" => {
                first.expect("OPERATOR")?;
                first.expect("FAMILY")?;
                self.using_name(&mut first)?;
                first.end()?;
                if let Some(mut add) = rest.next() {
                    add.expect("ALTER")?;
                    add.expect("OPERATOR")?;
                    add.expect("FAMILY")?;
                    self.using_name(&mut add)?;
                    add.expect("ADD")?;
                }
            }
            "operator class" => {
                first.expect("OPERATOR")?;
                first.expect("CLASS")?;
                let schema_name = first.qname().ok_or("names no operator class")?;
                first.word("DEFAULT");
                first.expect("FOR")?;
                first.expect("TYPE")?;
                first.skip_to_word("USING")?;
                let am = first.qname().ok_or("names no access method after USING")?;
                self.compare_using(&schema_name, &am)?;
            }
            "cast" => {
                first.expect("CAST")?;
                self.parenthesized_name(&mut first)?;
                if first.word("WITHOUT") {
                    first.expect("FUNCTION")?;
                } else {
                    first.expect("WITH")?;
                    if !first.word("INOUT") {
                        first.expect("FUNCTION")?;
                        first.qname().ok_or("names no cast function")?;
                        first.skip_parens()?;
                    }
                }
                if first.word("AS") && !first.word("ASSIGNMENT") {
                    first.expect("IMPLICIT")?;
                }
                first.end()?;
            }
            "collation" => {
                first.expect("COLLATION")?;
                first.object_name("collation", &self.declared())?;
                first.skip_parens()?;
                first.end()?;
            }
            "conversion" => {
                first.word("DEFAULT");
                first.expect("CONVERSION")?;
                first.object_name("conversion", &self.declared())?;
                first.expect("FOR")?;
                first.string().ok_or("names no source encoding")?;
                first.expect("TO")?;
                first.string().ok_or("names no target encoding")?;
                first.expect("FROM")?;
                first.qname().ok_or("names no conversion function")?;
                first.end()?;
            }
            "language" => {
                // Never OR REPLACE: it would change a language of the
                // target's own.
                first.word("TRUSTED");
                first.word("PROCEDURAL");
                first.expect("LANGUAGE")?;
                first.object_name("language", name)?;
                first.expect("HANDLER")?;
                first.qname().ok_or("names no handler")?;
                for clause in ["INLINE", "VALIDATOR"] {
                    if first.word(clause) {
                        first.qname().ok_or("names no function")?;
                    }
                }
                first.end()?;
            }
            "transform" => {
                first.expect("TRANSFORM")?;
                let start = first.at;
                while !first.peek_punct('(') && first.peek().is_some() {
                    first.any_token();
                }
                let named = span(&first, start, first.at);
                if !same_tokens(&named, &declared.name) {
                    return Err(format!("creates transform {named}, not {}", declared.name));
                }
                first.skip_parens()?;
                first.end()?;
            }
            "access method" => {
                first.expect("ACCESS")?;
                first.expect("METHOD")?;
                first.object_name("access method", name)?;
                first.expect("TYPE")?;
                if !first.word("TABLE") {
                    first.expect("INDEX")?;
                }
                first.expect("HANDLER")?;
                first.qname().ok_or("names no handler")?;
                first.end()?;
            }
            "event trigger" => {
                first.expect("EVENT")?;
                first.expect("TRIGGER")?;
                first.object_name("event trigger", name)?;
                first.expect("ON")?;
                first.any_token();
                if first.word("WHEN") {
                    first.expect("TAG")?;
                    first.expect("IN")?;
                    first.skip_parens()?;
                }
                first.expect("EXECUTE")?;
                if !first.word("PROCEDURE") {
                    first.expect("FUNCTION")?;
                }
                first.qname().ok_or("names no function")?;
                first.punct('(')?;
                first.punct(')')?;
                first.end()?;
                if let Some(mut alter) = rest.next() {
                    alter.expect("ALTER")?;
                    alter.expect("EVENT")?;
                    alter.expect("TRIGGER")?;
                    alter.object_name("event trigger", name)?;
                    if !alter.word("DISABLE") {
                        alter.expect("ENABLE")?;
                        if !alter.word("ALWAYS") {
                            alter.word("REPLICA");
                        }
                    }
                    alter.end()?;
                }
            }
            other => {
                return Err(format!(
                    "is of kind {other}, which no PostgreSQL restore runs"
                ))
            }
        }
        match rest.next() {
            None => Ok(()),
            Some(c) => Err(format!(
                "holds a second statement after its own: {}",
                c.found()
            )),
        }
    }

    /// `<schema>.<operator>` of a CREATE OPERATOR, which must be the
    /// entry's (its name without the argument types).
    fn operator_name(&self, c: &mut Cursor<'_>) -> Result<(), String> {
        let (op, _) = split_operator(&self.object.name.name)?;
        let schema = c.qname().ok_or("names no operator schema")?;
        c.punct('.')
            .map_err(|_| format!("names no qualified operator: found {}", c.found()))?;
        let given = operator(c).ok_or_else(|| format!("names no operator: found {}", c.found()))?;
        if Some(&schema)
            != self
                .object
                .name
                .schema
                .as_ref()
                .map(|s| vec![s.clone()])
                .as_ref()
            || given != op
        {
            return Err(format!(
                "names operator {}.{given}, not {}",
                schema.join("."),
                self.object.name
            ));
        }
        Ok(())
    }

    /// `<schema>.<name> USING <am>` of an operator family or class, which
    /// must be the entry's (`<name> USING <am>`, in its schema).
    fn using_name(&self, c: &mut Cursor<'_>) -> Result<(), String> {
        let name = c.qname().ok_or("names no operator family")?;
        c.expect("USING")?;
        let am = c.qname().ok_or("names no access method after USING")?;
        self.compare_using(&name, &am)
    }

    fn compare_using(&self, name: &[String], am: &[String]) -> Result<(), String> {
        let declared = &self.object.name;
        let (want_name, want_am) = declared
            .name
            .split_once(" USING ")
            .ok_or_else(|| format!("declares {declared}, which is not `<name> USING <am>`"))?;
        let mut want = vec![];
        want.extend(declared.schema.clone());
        want.extend(name_parts(want_name));
        if name != want || am != name_parts(want_am) {
            return Err(format!(
                "names {} USING {}, not {declared}",
                name.join("."),
                am.join(".")
            ));
        }
        Ok(())
    }

    /// `(<source> AS <target>)` of a cast, which must be the entry's name.
    fn parenthesized_name(&self, c: &mut Cursor<'_>) -> Result<(), String> {
        let start = c.at;
        c.skip_parens()?;
        let named = span(c, start, c.at);
        if !same_tokens(&named, &self.object.name.name) {
            return Err(format!("is for {named}, not {}", self.object.name.name));
        }
        Ok(())
    }

    /// After `ALTER` or `COMMENT ON` (or a grant's `ON`): one of
    /// [`NAMED_KINDS`] and the entry's own object, or `None` when the
    /// statement names another kind.
    pub(super) fn named_kind(&self, c: &mut Cursor<'_>) -> Result<Option<&'static str>, String> {
        let Some(kind) = NAMED_KINDS.iter().copied().find(|k| {
            let start = c.at;
            let hit = k.split(' ').all(|w| c.word(w));
            if !hit {
                c.at = start;
            }
            hit
        }) else {
            return Ok(None);
        };
        let declared = &self.object.name;
        let matched = match kind {
            "AGGREGATE" => {
                let name = c.qname().ok_or("names no aggregate")?;
                c.skip_parens()?;
                let mut d = vec![];
                d.extend(declared.schema.clone());
                d.extend(super::routine_name(&declared.name).into_iter().last());
                name == d
            }
            "OPERATOR" => {
                self.operator_name(c)?;
                let start = c.at;
                c.skip_parens()?;
                let (_, (left, right)) = split_operator(&declared.name)?;
                same_tokens(&span(c, start, c.at), &format!("({left}, {right})"))
            }
            "OPERATOR CLASS" | "OPERATOR FAMILY" => {
                self.using_name(c)?;
                true
            }
            "CAST" => {
                self.parenthesized_name(c)?;
                true
            }
            "TRANSFORM" => {
                let start = c.at;
                c.skip_to_word("LANGUAGE")?;
                c.qname().ok_or("names no language")?;
                same_tokens(&span(c, start, c.at), &declared.name)
            }
            "COLLATION" | "CONVERSION" => c.qname().ok_or("names no object")? == self.declared(),
            _ => {
                // Languages, access methods and event triggers have no
                // schema.
                c.qname().ok_or("names no object")? == [declared.name.clone()]
            }
        };
        if !matched {
            return Err(format!(
                "is for {} other than its entry's {declared}",
                kind.to_ascii_lowercase()
            ));
        }
        Ok(Some(kind))
    }
}

/// An operator's name at `c`: adjacent operator characters.
fn operator(c: &mut Cursor<'_>) -> Option<String> {
    let mut out = String::new();
    let mut end = None;
    while let Some(t) = c.peek().copied() {
        let ch = t.text(c.sql).chars().next()?;
        let adjacent = end.is_none_or(|e| e == t.start);
        if t.kind != Kind::Punct || !OPERATOR_CHARS.contains(ch) || !adjacent {
            break;
        }
        out.push_str(t.text(c.sql));
        end = Some(t.end);
        c.any_token();
    }
    (!out.is_empty()).then_some(out)
}

/// An operator entry's name, `===(integer,integer)`, as the operator and
/// its left and right argument types (`NONE` for a prefix operator's left).
fn split_operator(name: &str) -> Result<(&str, (&str, &str)), String> {
    let bad = || format!("declares operator {name}, which is not `<op>(<left>,<right>)`");
    let (op, args) = name.split_once('(').ok_or_else(bad)?;
    let args = args.strip_suffix(')').ok_or_else(bad)?;
    // Type names hold no top-level comma (regoperator prints no typmod).
    let (left, right) = args.split_once(',').ok_or_else(bad)?;
    Ok((op, (left.trim(), right.trim())))
}

/// The text of a top-level `<clause> = <value>` inside the parenthesized
/// definition `c` has just opened, up to the next `,` or its `)`.
fn clause_value<'s>(c: &Cursor<'s>, clause: &str) -> Option<&'s str> {
    let tokens = &c.tokens[c.at..];
    let mut depth = 0usize;
    let mut i = 0;
    while i < tokens.len() {
        let t = tokens[i];
        if t.is_punct(c.sql, '(') {
            depth += 1;
        } else if t.is_punct(c.sql, ')') {
            if depth == 0 {
                return None;
            }
            depth -= 1;
        } else if depth == 0
            && t.is_word(c.sql, clause)
            && tokens.get(i + 1).is_some_and(|e| e.is_punct(c.sql, '='))
        {
            let start = tokens.get(i + 2)?.start;
            let mut end = start;
            let mut inner = 0usize;
            for v in &tokens[i + 2..] {
                if v.is_punct(c.sql, '(') {
                    inner += 1;
                } else if v.is_punct(c.sql, ')') {
                    if inner == 0 {
                        break;
                    }
                    inner -= 1;
                } else if inner == 0 && v.is_punct(c.sql, ',') {
                    break;
                }
                end = v.end;
            }
            return Some(&c.sql[start..end]);
        }
        i += 1;
    }
    None
}

/// The source text of tokens `from..to` of `c`.
fn span(c: &Cursor<'_>, from: usize, to: usize) -> String {
    match (
        c.tokens.get(from),
        to.checked_sub(1).and_then(|t| c.tokens.get(t)),
    ) {
        (Some(a), Some(b)) if to > from => c.sql[a.start..b.end].to_owned(),
        _ => String::new(),
    }
}

/// Whether `a` and `b` are the same tokens (names as the server reads
/// them, everything else as written), whatever the spacing.
fn same_tokens(a: &str, b: &str) -> bool {
    let read = |s: &str| -> Vec<String> {
        tokenize(s)
            .iter()
            .map(|t: &Token| t.name(s).unwrap_or_else(|| t.text(s).to_owned()))
            .collect()
    };
    read(a) == read(b)
}

/// A name as written in an entry's name (`"My Fam"`, `btree`), as parts.
fn name_parts(s: &str) -> Vec<String> {
    let mut c = Cursor::new(s, tokenize(s));
    c.qname().unwrap_or_default()
}
