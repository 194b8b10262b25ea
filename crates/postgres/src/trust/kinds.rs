//! The statement shapes of the object kinds that have no variant of their
//! own in [`ObjectKind`](bru_core::ObjectKind) (`ObjectKind::Other(name)`): operators, operator
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
        // One name, then `.`: `qname` would take the `.` for its own.
        let schema = c
            .peek()
            .filter(|t| t.kind == Kind::Word || c.sql[t.start..].starts_with('"'))
            .and_then(|t| t.name(c.sql))
            .map(|s| vec![s])
            .ok_or_else(|| format!("names no operator schema: found {}", c.found()))?;
        c.any_token();
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

#[cfg(test)]
mod tests {
    use bru_core::{ObjectDef, ObjectKind, TableName};

    use crate::trust::check_object;
    use crate::ENGINE_NAME;

    fn entry(kind: &str, schema: Option<&str>, name: &str, ddl: &str) -> ObjectDef {
        let kind = match kind {
            "aggregate" => ObjectKind::Aggregate,
            "window function" => ObjectKind::WindowFunction,
            "owner" => ObjectKind::Owner,
            "comment" => ObjectKind::Comment,
            "privileges" => ObjectKind::Privileges,
            other => ObjectKind::Other(other.into()),
        };
        ObjectDef::new(kind, TableName::new(schema, name), ENGINE_NAME, ddl)
    }

    fn check(o: &ObjectDef) -> Result<(), String> {
        let archive = bru_core::Declared {
            relations: vec![TableName::new(Some("public"), "t")],
            ..Default::default()
        };
        check_object(o, Some(&archive))
    }

    const P: Option<&str> = Some("public");

    /// What the catalog readers write for each kind (as read from a real
    /// server by tests/pg_fidelity_kinds.rs).
    #[test]
    fn the_shapes_the_readers_write_pass() {
        let ok = [
            entry("aggregate", P, "group_concat(text)", "CREATE AGGREGATE public.group_concat(text) (\n    SFUNC = public._group_concat,\n    STYPE = text\n)"),
            entry("aggregate", P, "my_pct(double precision,anyelement)", "CREATE AGGREGATE public.my_pct(double precision ORDER BY anyelement) (\n    SFUNC = pg_catalog.ordered_set_transition,\n    STYPE = internal,\n    FINALFUNC = pg_catalog.percentile_disc_final,\n    FINALFUNC_EXTRA\n)"),
            entry("aggregate", P, "my_count()", "CREATE AGGREGATE public.my_count(*) (\n    SFUNC = public.count_step,\n    STYPE = bigint,\n    INITCOND = '0'\n)"),
            entry("window function", P, "w()", "CREATE OR REPLACE FUNCTION public.w()\n RETURNS bigint\n LANGUAGE internal\n IMMUTABLE WINDOW\nAS $function$window_row_number$function$\n"),
            entry("operator", P, "===(integer,integer)", "CREATE OPERATOR public.=== (\n    FUNCTION = public.abs_eq,\n    LEFTARG = integer,\n    RIGHTARG = integer,\n    COMMUTATOR = OPERATOR(public.===),\n    NEGATOR = OPERATOR(public.!==),\n    MERGES,\n    HASHES,\n    RESTRICT = pg_catalog.eqsel,\n    JOIN = pg_catalog.eqjoinsel\n)"),
            entry("operator", P, "~~~(NONE,integer)", "CREATE OPERATOR public.~~~ (\n    FUNCTION = pg_catalog.int4um,\n    RIGHTARG = integer\n)"),
            entry("operator", P, "<<(double precision,\"My Type\")", "CREATE OPERATOR public.<< (FUNCTION = public.f, LEFTARG = double precision, RIGHTARG = \"My Type\")"),
            entry("operator family", P, "abs_ops USING btree", "CREATE OPERATOR FAMILY public.abs_ops USING btree;\nALTER OPERATOR FAMILY public.abs_ops USING btree ADD\n    FUNCTION 1 (integer, bigint) public.abs_cmp8(integer,bigint)"),
            entry("operator family", P, "\"Fam\" USING hash", "CREATE OPERATOR FAMILY public.\"Fam\" USING hash"),
            entry("operator class", P, "abs_int_ops USING btree", "CREATE OPERATOR CLASS public.abs_int_ops\n    FOR TYPE integer USING btree FAMILY public.abs_ops AS\n    OPERATOR 1 public.<<<(integer,integer) ,\n    FUNCTION 1 (integer, integer) public.abs_cmp(integer,integer)"),
            entry("operator class", P, "m USING hash", "CREATE OPERATOR CLASS public.m\n    DEFAULT FOR TYPE public.mood USING hash FAMILY public.m AS\n    STORAGE integer"),
            entry("cast", None, "(integer AS public.temp)", "CREATE CAST (integer AS public.temp) WITH FUNCTION public.temp_of(integer) AS ASSIGNMENT"),
            entry("cast", None, "(public.temp AS text)", "CREATE CAST (public.temp AS text) WITH INOUT AS IMPLICIT"),
            entry("cast", None, "(money AS bigint)", "CREATE CAST (money AS bigint) WITHOUT FUNCTION"),
            entry("collation", P, "ci", "CREATE COLLATION public.ci (provider = icu, deterministic = false, locale = 'und-u-ks-level2')"),
            entry("conversion", P, "my_conv", "CREATE DEFAULT CONVERSION public.my_conv FOR 'UTF8' TO 'LATIN1' FROM pg_catalog.utf8_to_iso8859_1"),
            entry("language", None, "mylang", "CREATE TRUSTED PROCEDURAL LANGUAGE mylang HANDLER public.h INLINE public.i VALIDATOR public.v"),
            entry("transform", None, "FOR public.tr_type LANGUAGE mylang", "CREATE TRANSFORM FOR public.tr_type LANGUAGE mylang (FROM SQL WITH FUNCTION public.tr_from(internal), TO SQL WITH FUNCTION public.tr_to(internal))"),
            entry("access method", None, "myheap", "CREATE ACCESS METHOD myheap TYPE TABLE HANDLER pg_catalog.heap_tableam_handler"),
            entry("event trigger", None, "et", "CREATE EVENT TRIGGER et ON ddl_command_end\n         WHEN TAG IN ('CREATE TABLE', 'DROP TABLE')\n   EXECUTE FUNCTION public.on_ddl();\nALTER EVENT TRIGGER et DISABLE"),
            entry("owner", P, "my_count()", "ALTER AGGREGATE public.my_count(*) OWNER TO ann"),
            entry("owner", P, "===(integer,integer)", "ALTER OPERATOR public.===(integer,integer) OWNER TO ann"),
            entry("owner", P, "abs_ops USING btree", "ALTER OPERATOR FAMILY public.abs_ops USING btree OWNER TO ann"),
            entry("owner", P, "abs_int_ops USING btree", "ALTER OPERATOR CLASS public.abs_int_ops USING btree OWNER TO ann"),
            entry("owner", P, "ci", "ALTER COLLATION public.ci OWNER TO ann"),
            entry("owner", P, "my_conv", "ALTER CONVERSION public.my_conv OWNER TO ann"),
            entry("owner", None, "mylang", "ALTER LANGUAGE mylang OWNER TO ann"),
            entry("owner", None, "et", "ALTER EVENT TRIGGER et OWNER TO ann"),
            entry("privileges", None, "mylang", "REVOKE ALL ON LANGUAGE mylang FROM PUBLIC;\nREVOKE ALL ON LANGUAGE mylang FROM ann;\nGRANT ALL ON LANGUAGE mylang TO bob"),
            entry("comment", P, "===(integer,integer)", "COMMENT ON OPERATOR public.===(integer,integer) IS 'x'"),
            entry("comment", P, "abs_ops USING btree", "COMMENT ON OPERATOR FAMILY public.abs_ops USING btree IS 'x'"),
            entry("comment", P, "abs_int_ops USING btree", "COMMENT ON OPERATOR CLASS public.abs_int_ops USING btree IS 'x'"),
            entry("comment", None, "(integer AS public.temp)", "COMMENT ON CAST (integer AS public.temp) IS 'x'"),
            entry("comment", P, "german", "COMMENT ON COLLATION public.german IS 'x'"),
            entry("comment", P, "my_conv", "COMMENT ON CONVERSION public.my_conv IS 'x'"),
            entry("comment", None, "mylang", "COMMENT ON LANGUAGE mylang IS 'x'"),
            entry("comment", None, "FOR public.tr_type LANGUAGE mylang", "COMMENT ON TRANSFORM FOR public.tr_type LANGUAGE mylang IS 'x'"),
            entry("comment", None, "mybtree", "COMMENT ON ACCESS METHOD mybtree IS 'x'"),
            entry("comment", None, "et", "COMMENT ON EVENT TRIGGER et IS 'x'"),
        ];
        for o in &ok {
            assert_eq!(check(o), Ok(()), "{} {}: {}", o.kind, o.name, o.ddl);
        }
    }

    /// An edited entry of each kind: a second statement, another object's
    /// name, another statement in the kind's place.
    #[test]
    fn edited_entries_of_each_kind_are_refused() {
        let refused = [
            (entry("aggregate", P, "a(text)", "CREATE AGGREGATE public.a(text) (SFUNC = public.f, STYPE = text); DROP TABLE public.t"), "second statement"),
            (entry("aggregate", P, "a(text)", "CREATE AGGREGATE public.victim(text) (SFUNC = public.f, STYPE = text)"), "not public.a"),
            (entry("aggregate", P, "a(text)", "CREATE OR REPLACE AGGREGATE public.a(text) (SFUNC = public.f, STYPE = text)"), "expected AGGREGATE"),
            (entry("window function", P, "w()", "CREATE FUNCTION public.w() RETURNS int LANGUAGE sql AS 'SELECT 1'; DELETE FROM public.t"), "second statement"),
            (entry("operator", P, "===(integer,integer)", "CREATE OPERATOR public.=== (FUNCTION = public.f, LEFTARG = integer, RIGHTARG = integer); DROP TABLE public.t"), "second statement"),
            (entry("operator", P, "===(integer,integer)", "CREATE OPERATOR public.<> (FUNCTION = public.f, LEFTARG = integer, RIGHTARG = integer)"), "names operator public.<>"),
            (entry("operator", P, "===(integer,integer)", "CREATE OPERATOR pg_catalog.=== (FUNCTION = public.f, LEFTARG = integer, RIGHTARG = integer)"), "names operator pg_catalog.==="),
            (entry("operator", P, "===(integer,integer)", "CREATE OPERATOR public.=== (FUNCTION = public.f, LEFTARG = text, RIGHTARG = integer)"), "LEFTARG is text"),
            (entry("operator", P, "===(integer,integer)", "CREATE OPERATOR public.=== (FUNCTION = public.f, LEFTARG = integer)"), "RIGHTARG is none"),
            (entry("operator", P, "===(integer,integer)", "CREATE OPERATOR CLASS public.x FOR TYPE integer USING btree AS STORAGE integer"), "names no qualified operator"),
            (entry("operator family", P, "f USING btree", "CREATE OPERATOR FAMILY public.f USING btree;\nALTER OPERATOR FAMILY pg_catalog.integer_ops USING btree ADD FUNCTION 1 (integer, integer) public.f(integer,integer)"), "names pg_catalog.integer_ops"),
            (entry("operator family", P, "f USING btree", "CREATE OPERATOR FAMILY public.f USING hash"), "not public.f USING btree"),
            (entry("operator family", P, "f USING btree", "CREATE OPERATOR FAMILY public.f USING btree;\nALTER OPERATOR FAMILY public.f USING btree ADD FUNCTION 1 (integer, integer) public.f(integer,integer);\nDROP TABLE public.t"), "second statement"),
            (entry("operator class", P, "c USING btree", "CREATE OPERATOR CLASS public.victim FOR TYPE integer USING btree AS STORAGE integer"), "names public.victim USING btree"),
            (entry("operator class", P, "c USING btree", "CREATE OPERATOR CLASS public.c FOR TYPE integer USING btree AS STORAGE integer; DROP TABLE public.t"), "second statement"),
            (entry("cast", None, "(integer AS public.temp)", "CREATE CAST (integer AS text) WITH INOUT"), "is for (integer AS text)"),
            (entry("cast", None, "(integer AS public.temp)", "CREATE CAST (integer AS public.temp) WITH INOUT; DROP TABLE public.t"), "second statement"),
            (entry("cast", None, "(integer AS public.temp)", "CREATE CAST (integer AS public.temp) WITH INOUT AS IMPLICIT, x"), "goes on"),
            (entry("collation", P, "ci", "CREATE COLLATION public.victim (provider = icu, locale = 'und')"), "not public.ci"),
            (entry("collation", P, "ci", "CREATE COLLATION public.ci FROM pg_catalog.\"C\""), "expected `(`"),
            (entry("collation", P, "ci", "CREATE COLLATION public.ci (locale = 'C'); DROP TABLE public.t"), "second statement"),
            (entry("conversion", P, "c", "CREATE CONVERSION public.victim FOR 'UTF8' TO 'LATIN1' FROM pg_catalog.utf8_to_iso8859_1"), "not public.c"),
            (entry("conversion", P, "c", "CREATE CONVERSION public.c FOR 'UTF8' TO 'LATIN1' FROM pg_catalog.utf8_to_iso8859_1; DROP TABLE public.t"), "second statement"),
            (entry("language", None, "l", "CREATE OR REPLACE LANGUAGE l HANDLER public.h"), "expected LANGUAGE"),
            (entry("language", None, "l", "CREATE LANGUAGE plpgsql HANDLER public.h"), "not l"),
            (entry("language", None, "l", "CREATE LANGUAGE l HANDLER public.h; DROP TABLE public.t"), "second statement"),
            (entry("transform", None, "FOR integer LANGUAGE l", "CREATE TRANSFORM FOR text LANGUAGE l (FROM SQL WITH FUNCTION public.f(internal))"), "not FOR integer LANGUAGE l"),
            (entry("transform", None, "FOR integer LANGUAGE l", "CREATE OR REPLACE TRANSFORM FOR integer LANGUAGE l (FROM SQL WITH FUNCTION public.f(internal))"), "expected TRANSFORM"),
            (entry("access method", None, "am", "CREATE ACCESS METHOD victim TYPE TABLE HANDLER public.h"), "not am"),
            (entry("access method", None, "am", "CREATE ACCESS METHOD am TYPE TABLE HANDLER public.h; DROP TABLE public.t"), "second statement"),
            (entry("event trigger", None, "et", "CREATE EVENT TRIGGER et ON ddl_command_start EXECUTE FUNCTION public.f();\nALTER EVENT TRIGGER victim DISABLE"), "not et"),
            (entry("event trigger", None, "et", "CREATE EVENT TRIGGER et ON ddl_command_start EXECUTE FUNCTION public.f();\nALTER EVENT TRIGGER et DISABLE;\nDROP TABLE public.t"), "second statement"),
            (entry("event trigger", None, "et", "CREATE EVENT TRIGGER other ON ddl_command_start EXECUTE FUNCTION public.f()"), "not et"),
            (entry("owner", P, "===(integer,integer)", "ALTER OPERATOR public.===(integer,text) OWNER TO ann"), "other than its entry's"),
            (entry("owner", P, "===(integer,integer)", "ALTER OPERATOR pg_catalog.=(integer,integer) OWNER TO ann"), "names operator pg_catalog.="),
            (entry("owner", P, "f USING btree", "ALTER OPERATOR FAMILY pg_catalog.integer_ops USING btree OWNER TO ann"), "not public.f USING btree"),
            (entry("owner", P, "ci", "ALTER COLLATION pg_catalog.\"C\" OWNER TO ann"), "other than its entry's"),
            (entry("owner", None, "mylang", "ALTER LANGUAGE plpgsql OWNER TO ann"), "other than its entry's"),
            (entry("owner", P, "a(text)", "ALTER AGGREGATE public.victim(text) OWNER TO ann"), "other than its entry's"),
            (entry("owner", None, "et", "ALTER EVENT TRIGGER et OWNER TO ann; DROP TABLE public.t"), "second statement"),
            (entry("privileges", None, "mylang", "GRANT ALL ON LANGUAGE plpgsql TO bob"), "other than its entry's"),
            (entry("comment", None, "(integer AS public.temp)", "COMMENT ON CAST (integer AS text) IS 'x'"), "is for (integer AS text)"),
            (entry("comment", None, "mybtree", "COMMENT ON ACCESS METHOD btree IS 'x'"), "other than its entry's"),
            (entry("comment", P, "german", "COMMENT ON COLLATION public.german IS 'x'; DROP TABLE public.t"), "second statement"),
        ];
        for (o, why) in &refused {
            let err = check(o).expect_err(&o.ddl);
            assert!(err.contains(why), "{}: {err}", o.ddl);
        }
    }
}
