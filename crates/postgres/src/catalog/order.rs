//! The order objects are created in: by their dependencies as `pg_depend`
//! records them, as pg_dump sorts its objects (`pg_dump_sort.c`), not by
//! oid or by kind.
//!
//! Every reader returns [`Read`]s (the object, the catalog table its row is
//! in, and the row's oid), so the sort works for any kind, whatever its
//! catalog: it knows no kind but the few whose cycles it breaks.
//!
//! The rules:
//! - **Dependencies.** Each `pg_depend` row (normal, automatic, internal or
//!   extension-member) says that one catalog object needs another. Both ends
//!   are lifted to what bru carries: an object is itself when it is a
//!   [`Read`] or a table bru carries, else the object it belongs to (the
//!   one it has an internal, extension or automatic dependency on,
//!   followed upwards): a domain's constraint belongs to the domain, a
//!   view's `_RETURN` rule to the view, a composite type's relation to the
//!   type, a table's row type, column defaults and indexes to the table, an
//!   extension's members to the extension. A row between two objects
//!   bru carries orders them; a row to something bru does not carry (a
//!   built-in, pinned object) orders nothing. An automatic dependency of
//!   an object on a table is no need of the table: it is a trigger's, rule's
//!   or statistics object's own (post-data anyway), or a serial sequence's
//!   owning column (its own entry, after the tables), and the sequence
//!   stays before the table whose default calls it.
//! - **Ties** keep the order pg_dump gives before its topological pass:
//!   kind first ([`priority`], pg_dump's `dbObjectTypePriority`), then the
//!   order the readers returned them in (their oid, mostly). With no
//!   dependencies between them, objects keep that order.
//! - **Sections.** Tables are created between the pre-data and the
//!   post-data objects (`bru_engine`'s restore plan), so a pre-data object
//!   that needs a table (its row type, a column, a SQL-standard body
//!   reading it), or an object its reader put after the tables, directly
//!   or through what it needs, is moved to post-data
//!   ([`ObjectDef::section`]), as pg_dump postpones such a function
//!   (`repairFunctionBoundaryMultiLoop`). The other way round, an object of
//!   a post-data kind that a pre-data object needs, and that needs no table
//!   nor anything held after them, is made pre-data: a reader's
//!   [`ObjectKind::Other`] object that a domain or function uses is created
//!   before them even if its reader left its section unset.
//! - **Filters.** Every object records the tables it needs, directly or
//!   through what it needs, in its [`ObjectDef::depends_on`], so that a
//!   restore leaving a table out leaves out, and lists, a view that calls a
//!   function reading it.
//! - **Cycles.** A base type needs its I/O functions and they need the
//!   type, as a range type and its canonical function do: as pg_dump
//!   (`repairTypeFuncLoop`), the type's shell ([`ObjectKind::ShellType`],
//!   `CREATE TYPE t`) comes first, each function in such a two-object loop
//!   depends on the shell instead of the type, and the full `CREATE TYPE`
//!   comes after the functions. A loop no rule breaks (pg_dump warns "could
//!   not resolve dependency loop") is cut at its first object in tie order,
//!   so the sort always ends; the restore then reports the statement that
//!   fails. pg_dump's other repairs are for objects bru does not sort as
//!   separate entries (a view and its `_RETURN` rule, a table and its
//!   constraints or defaults) or does not break (a view whose `_RETURN`
//!   rule is in a loop with a function: pg_dump creates a placeholder view
//!   first; bru cannot, and that restore fails on the function).
//!
//! What hangs on an object as a separate entry (its comment, owner and
//! privileges) is not sorted here: those entries come after every object
//! they can be for, as before.

use std::cmp::Reverse;
use std::collections::{BTreeSet, BinaryHeap, HashMap};

use bru_core::{Error, ObjectDef, ObjectKind, Section, TableName};

use crate::conn::Conn;

use super::Read;

/// The first oid a user object can have (`FirstNormalObjectId`): rows of
/// `pg_depend` for lower oids are the system's own.
const FIRST_NORMAL_OID: u32 = 16384;

/// One row of `pg_depend`: `(class, oid)` needs `(ref_class, ref_oid)`.
struct Depend {
    class: String,
    oid: u32,
    ref_class: String,
    ref_oid: u32,
    deptype: char,
}

/// Where an end of a dependency lands among what bru carries.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Node {
    /// The [`Read`] at this position.
    Object(usize),
    /// A table bru carries (its oid), created between pre- and post-data.
    Table(u32),
}

/// Puts `reads` in dependency order (see the module docs), with the
/// section of every pre-data object that needs a table or a post-data
/// object set to post-data, and the tables it needs as its
/// [`ObjectDef::depends_on`] (so a restore that leaves a table out leaves
/// it out too). `tables` are the tables bru carries, by oid (`pg_class`).
pub(super) fn sort(
    conn: &Conn,
    reads: Vec<Read>,
    tables: &HashMap<u32, TableName>,
) -> Result<Vec<ObjectDef>, Error> {
    let rows = conn.query(
        &format!(
            "SELECT c.relname::text, d.objid, r.relname::text, d.refobjid, d.deptype::text
             FROM pg_catalog.pg_depend d
             JOIN pg_catalog.pg_class c ON c.oid = d.classid
             JOIN pg_catalog.pg_class r ON r.oid = d.refclassid
             WHERE d.deptype IN ('n', 'a', 'i', 'e') AND d.objid >= {FIRST_NORMAL_OID}
             ORDER BY d.classid, d.objid, d.objsubid, d.refclassid, d.refobjid"
        ),
        &[],
        "reading dependencies (pg_depend)",
    )?;
    let mut depends = Vec::with_capacity(rows.len());
    for r in &rows {
        let deptype: String = get!(r, 4);
        depends.push(Depend {
            class: get!(r, 0),
            oid: get!(r, 1),
            ref_class: get!(r, 2),
            ref_oid: get!(r, 3),
            deptype: deptype.chars().next().unwrap_or('n'),
        });
    }
    Ok(sort_by(reads, &depends, tables))
}

/// [`sort`] over dependencies already read: the part without a server.
fn sort_by(
    reads: Vec<Read>,
    depends: &[Depend],
    tables: &HashMap<u32, TableName>,
) -> Vec<ObjectDef> {
    let n = reads.len();
    // What each catalog object is: a read, by its row; the shell of a base
    // type shares the type's row and is found through `shells`.
    let mut by_row: HashMap<(&str, u32), usize> = HashMap::new();
    let mut shells: HashMap<u32, usize> = HashMap::new();
    for (i, r) in reads.iter().enumerate() {
        if r.def.kind == ObjectKind::ShellType {
            shells.insert(r.oid, i);
        } else {
            by_row.entry((r.class, r.oid)).or_insert(i);
        }
    }
    // Objects that are no read belong to the first object they have an
    // internal dependency on, else an extension one, else an automatic one.
    let mut owner: HashMap<(&str, u32), (&str, u32, u8)> = HashMap::new();
    for d in depends {
        let rank = match d.deptype {
            'i' => 0,
            'e' => 1,
            'a' => 2,
            _ => continue,
        };
        // An operator family's member (pg_amproc, pg_amop) has automatic
        // dependencies on its function or operator too: it belongs to its
        // family or class, and needs the function.
        if matches!(d.class.as_str(), "pg_amproc" | "pg_amop")
            && !matches!(d.ref_class.as_str(), "pg_opfamily" | "pg_opclass")
        {
            continue;
        }
        let key = (d.class.as_str(), d.oid);
        let better = owner.get(&key).is_none_or(|&(_, _, r)| rank < r);
        if better {
            owner.insert(key, (d.ref_class.as_str(), d.ref_oid, rank));
        }
    }
    let resolve = |class: &str, oid: u32| -> Option<Node> {
        let (mut class, mut oid) = (class, oid);
        // Ownership chains are short (a composite type's relation's
        // column's default); the bound only guards against a loop.
        for _ in 0..8 {
            // A table's row is the table's, whatever entry a reader made
            // under it (its row-security flags are an entry of their own).
            if class == "pg_class" && tables.contains_key(&oid) {
                return Some(Node::Table(oid));
            }
            if let Some(&i) = by_row.get(&(class, oid)) {
                return Some(Node::Object(i));
            }
            let &(c, o, _) = owner.get(&(class, oid))?;
            (class, oid) = (c, o);
        }
        None
    };

    // deps[i]: the objects i needs; needs_table[i]: the tables it needs.
    let mut deps: Vec<BTreeSet<usize>> = vec![BTreeSet::new(); n];
    let mut needs_table: Vec<BTreeSet<u32>> = vec![BTreeSet::new(); n];
    for d in depends {
        let Some(Node::Object(from)) = resolve(&d.class, d.oid) else {
            continue;
        };
        match resolve(&d.ref_class, d.ref_oid) {
            Some(Node::Object(to)) if to != from => {
                deps[from].insert(to);
            }
            // An automatic dependency on a table is the object's own
            // (a trigger, rule or statistics object, all post-data) or a
            // sequence's owning column (its own entry, after the tables):
            // neither makes the object need the table first.
            Some(Node::Table(t)) if d.deptype != 'a' => {
                needs_table[from].insert(t);
            }
            _ => {}
        }
    }
    // Base types and their I/O functions: each function in a two-object
    // loop with the type needs the type's shell instead; the shell needs
    // what the type needs but those functions, and the type its shell.
    for (&type_oid, &shell) in &shells {
        let Some(&base) = by_row.get(&("pg_type", type_oid)) else {
            continue;
        };
        let looped: Vec<usize> = deps[base]
            .iter()
            .copied()
            .filter(|&f| deps[f].contains(&base))
            .collect();
        for &f in &looped {
            deps[f].remove(&base);
            deps[f].insert(shell);
        }
        let shell_deps: BTreeSet<usize> = deps[base]
            .iter()
            .copied()
            .filter(|f| !looped.contains(f) && *f != shell)
            .collect();
        deps[shell].extend(shell_deps);
        deps[base].insert(shell);
        needs_table[shell] = needs_table[base].clone();
    }

    let order = topological(&reads, &deps);

    // Sections. In dependency order: an object is held after the tables
    // when it needs a table, or is set to post-data by its reader, or
    // needs an object held so (what it needs of the tables, it needs
    // through what it needs too).
    let mut held = vec![false; n];
    for &i in &order {
        let through: BTreeSet<u32> = deps[i]
            .iter()
            .flat_map(|&d| needs_table[d].iter().copied())
            .collect();
        needs_table[i].extend(through);
        held[i] = !needs_table[i].is_empty()
            || reads[i].def.section == Some(Section::PostData)
            || deps[i].iter().any(|&d| held[d]);
    }
    // Then, dependents first: an object is pre-data when its kind (or
    // reader) says so and it is not held, or when a pre-data object needs
    // it and it is not held (a post-data kind that a type or function
    // needs, such as a reader's object of kind Other that left its
    // section unset).
    let mut pre = vec![false; n];
    let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (i, ds) in deps.iter().enumerate() {
        for &d in ds {
            dependents[d].push(i);
        }
    }
    for &i in order.iter().rev() {
        pre[i] = !held[i] && (reads[i].def.is_pre_data() || dependents[i].iter().any(|&j| pre[j]));
    }
    let mut slots: Vec<Option<Read>> = reads.into_iter().map(Some).collect();
    order
        .into_iter()
        .filter_map(|i| {
            let mut def = slots[i].take()?.def;
            if pre[i] && !def.is_pre_data() {
                def.section = Some(Section::PreData);
            } else if !pre[i] && def.is_pre_data() {
                def.section = Some(Section::PostData);
            }
            // The tables it needs, through functions too: a restore that
            // leaves one out leaves this out (a view calling a function
            // that reads the table).
            if !needs_table[i].is_empty() {
                let on = def.depends_on.get_or_insert_with(Vec::new);
                for t in &needs_table[i] {
                    if !on.contains(&tables[t]) {
                        on.push(tables[t].clone());
                    }
                }
            }
            Some(def)
        })
        .collect()
}

/// Kahn's algorithm, taking among the objects whose dependencies are all
/// placed the first in tie order (kind priority, then position); when a
/// loop leaves none, the first remaining one is placed anyway.
fn topological(reads: &[Read], deps: &[BTreeSet<usize>]) -> Vec<usize> {
    let n = reads.len();
    let key = |i: usize| (priority(&reads[i]), i);
    let mut waiting: Vec<usize> = deps.iter().map(BTreeSet::len).collect();
    let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (i, ds) in deps.iter().enumerate() {
        for &d in ds {
            dependents[d].push(i);
        }
    }
    let mut ready: BinaryHeap<Reverse<(u8, usize)>> = (0..n)
        .filter(|&i| waiting[i] == 0)
        .map(|i| Reverse(key(i)))
        .collect();
    let mut placed = vec![false; n];
    let mut order = Vec::with_capacity(n);
    while order.len() < n {
        let next = match ready.pop() {
            Some(Reverse((_, i))) if placed[i] => continue,
            Some(Reverse((_, i))) => i,
            // A loop: cut it at its first object in tie order.
            None => match (0..n).filter(|&i| !placed[i]).min_by_key(|&i| key(i)) {
                Some(i) => i,
                None => break,
            },
        };
        placed[next] = true;
        order.push(next);
        for &d in &dependents[next] {
            waiting[d] = waiting[d].saturating_sub(1);
            if waiting[d] == 0 && !placed[d] {
                ready.push(Reverse(key(d)));
            }
        }
    }
    order
}

/// pg_dump's type priority (`dbObjectTypePriority` in `pg_dump_sort.c`):
/// the order of kinds when dependencies leave a choice. By catalog, so
/// that a reader of a new kind needs nothing here (an unknown catalog
/// sorts after the tables' kinds, before the post-data ones).
fn priority(read: &Read) -> u8 {
    match read.class {
        "pg_namespace" => 1,
        "pg_language" => 2,
        "pg_collation" => 3,
        "pg_transform" => 4,
        "pg_extension" => 5,
        "pg_type" => 6,
        "pg_cast" => 7,
        "pg_proc" => match read.def.kind {
            ObjectKind::Aggregate => 9,
            _ => 8,
        },
        "pg_aggregate" => 9,
        "pg_am" => 10,
        "pg_operator" => 11,
        "pg_opfamily" | "pg_opclass" => 12,
        "pg_conversion" => 13,
        "pg_ts_parser" => 14,
        "pg_ts_template" => 15,
        "pg_ts_dict" => 16,
        "pg_ts_config" => 17,
        "pg_foreign_data_wrapper" => 18,
        "pg_foreign_server" => 19,
        "pg_class" => 20,
        "pg_largeobject_metadata" => 22,
        "pg_constraint" => 30,
        "pg_statistic_ext" => 32,
        "pg_rewrite" => 33,
        "pg_trigger" => 34,
        "pg_policy" => 36,
        "pg_publication" => 37,
        "pg_publication_rel" => 38,
        "pg_publication_namespace" => 39,
        "pg_subscription" => 40,
        "pg_default_acl" => 41,
        "pg_event_trigger" => 42,
        _ => 29,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(kind: ObjectKind, class: &'static str, oid: u32, name: &str) -> Read {
        Read::new(
            ObjectDef::new(
                kind,
                TableName::new(Some("s"), name),
                "postgresql",
                String::new(),
            ),
            class,
            oid,
        )
    }

    fn dep(class: &str, oid: u32, ref_class: &str, ref_oid: u32, deptype: char) -> Depend {
        Depend {
            class: class.into(),
            oid,
            ref_class: ref_class.into(),
            ref_oid,
            deptype,
        }
    }

    fn table_60() -> HashMap<u32, TableName> {
        HashMap::from([(60, TableName::new(Some("s"), "t"))])
    }

    fn names(defs: &[ObjectDef]) -> Vec<String> {
        defs.iter()
            .map(|d| match (&d.kind, d.section) {
                (ObjectKind::ShellType, _) => format!("shell {}", d.name.name),
                (_, Some(Section::PostData)) => format!("post {}", d.name.name),
                _ => d.name.name.clone(),
            })
            .collect()
    }

    #[test]
    fn with_no_dependencies_kind_then_position_decide() {
        let reads = vec![
            read(ObjectKind::Function, "pg_proc", 30, "f"),
            read(ObjectKind::Type, "pg_type", 20, "t"),
            read(ObjectKind::Schema, "pg_namespace", 40, "s"),
            read(ObjectKind::Function, "pg_proc", 10, "g"),
        ];
        let out = sort_by(reads, &[], &HashMap::new());
        assert_eq!(names(&out), ["s", "t", "f", "g"]);
    }

    #[test]
    fn an_object_comes_after_what_it_needs_through_its_parts() {
        // Domain d (type 20) has a CHECK (constraint 21, owned by d) that
        // calls function f (30), created after d's base type; a view (50)
        // reads through its _RETURN rule (51) a function g (31).
        let reads = vec![
            read(ObjectKind::Type, "pg_type", 20, "d"),
            read(ObjectKind::Function, "pg_proc", 30, "f"),
            read(ObjectKind::Function, "pg_proc", 31, "g"),
            read(ObjectKind::View, "pg_class", 50, "v"),
        ];
        let depends = [
            dep("pg_constraint", 21, "pg_type", 20, 'a'),
            dep("pg_constraint", 21, "pg_proc", 30, 'n'),
            dep("pg_rewrite", 51, "pg_class", 50, 'i'),
            dep("pg_rewrite", 51, "pg_proc", 31, 'n'),
            // g uses d.
            dep("pg_proc", 31, "pg_type", 20, 'n'),
        ];
        let out = sort_by(reads, &depends, &HashMap::new());
        assert_eq!(names(&out), ["f", "d", "g", "v"]);
    }

    #[test]
    fn what_needs_a_table_or_a_post_data_object_is_post_data() {
        // f uses table 60's row type (pg_type 61, internal to the table);
        // domain d's check calls f; h needs nothing.
        let reads = vec![
            read(ObjectKind::Type, "pg_type", 20, "d"),
            read(ObjectKind::Function, "pg_proc", 30, "f"),
            read(ObjectKind::Function, "pg_proc", 31, "h"),
        ];
        let depends = [
            dep("pg_type", 61, "pg_class", 60, 'i'),
            dep("pg_proc", 30, "pg_type", 61, 'n'),
            dep("pg_constraint", 21, "pg_type", 20, 'a'),
            dep("pg_constraint", 21, "pg_proc", 30, 'n'),
        ];
        let out = sort_by(reads, &depends, &table_60());
        assert_eq!(names(&out), ["post f", "post d", "h"]);
        // Both need the table, d through f: a restore leaving it out
        // leaves them out.
        let t = Some(vec![TableName::new(Some("s"), "t")]);
        assert_eq!((&out[0].depends_on, &out[1].depends_on), (&t, &t));
        assert_eq!(out[2].depends_on, None);
    }

    #[test]
    fn what_a_pre_data_object_needs_is_pre_data_unless_it_needs_a_table() {
        // Domain d uses collation c (a kind that is post-data by default);
        // domain e uses operator o, whose function f reads table 60.
        let other = |k: &str| ObjectKind::Other(k.into());
        let reads = vec![
            read(other("collation"), "pg_collation", 10, "c"),
            read(other("operator"), "pg_operator", 11, "o"),
            read(ObjectKind::Type, "pg_type", 20, "d"),
            read(ObjectKind::Type, "pg_type", 21, "e"),
            read(ObjectKind::Function, "pg_proc", 30, "f"),
        ];
        let depends = [
            dep("pg_type", 20, "pg_collation", 10, 'n'),
            dep("pg_type", 21, "pg_operator", 11, 'n'),
            dep("pg_operator", 11, "pg_proc", 30, 'n'),
            dep("pg_proc", 30, "pg_class", 60, 'n'),
        ];
        let out = sort_by(reads, &depends, &table_60());
        let sections: Vec<(String, Option<Section>)> = out
            .iter()
            .map(|d| (d.name.name.clone(), d.section))
            .collect();
        let (pre, post) = (Some(Section::PreData), Some(Section::PostData));
        assert_eq!(
            sections,
            [
                ("c".to_string(), pre),
                ("d".into(), None),
                ("f".into(), post),
                ("o".into(), None),
                ("e".into(), post),
            ]
        );
    }

    #[test]
    fn a_sequence_a_table_owns_stays_before_the_tables() {
        let reads = vec![read(ObjectKind::Sequence, "pg_class", 70, "t_id_seq")];
        let depends = [dep("pg_class", 70, "pg_class", 60, 'a')];
        let out = sort_by(reads, &depends, &table_60());
        assert_eq!(names(&out), ["t_id_seq"]);
    }

    #[test]
    fn a_base_type_is_a_shell_then_its_functions_then_the_type() {
        // Type t (20) with input/output functions in (30), out (31), made
        // after them; in and out take or return t. f (32) takes t.
        let reads = vec![
            read(ObjectKind::ShellType, "pg_type", 20, "t"),
            read(ObjectKind::Type, "pg_type", 20, "t"),
            read(ObjectKind::Function, "pg_proc", 30, "in"),
            read(ObjectKind::Function, "pg_proc", 31, "out"),
            read(ObjectKind::Function, "pg_proc", 32, "f"),
        ];
        let depends = [
            dep("pg_type", 20, "pg_proc", 30, 'n'),
            dep("pg_type", 20, "pg_proc", 31, 'n'),
            dep("pg_proc", 30, "pg_type", 20, 'n'),
            dep("pg_proc", 31, "pg_type", 20, 'n'),
            dep("pg_proc", 32, "pg_type", 20, 'n'),
        ];
        let out = sort_by(reads, &depends, &HashMap::new());
        assert_eq!(names(&out), ["shell t", "in", "out", "t", "f"]);
    }

    #[test]
    fn a_loop_no_rule_breaks_is_cut_and_every_object_placed() {
        let reads = vec![
            read(ObjectKind::Function, "pg_proc", 30, "a"),
            read(ObjectKind::Function, "pg_proc", 31, "b"),
            read(ObjectKind::Function, "pg_proc", 32, "c"),
        ];
        let depends = [
            dep("pg_proc", 30, "pg_proc", 31, 'n'),
            dep("pg_proc", 31, "pg_proc", 30, 'n'),
            dep("pg_proc", 32, "pg_proc", 31, 'n'),
        ];
        let out = sort_by(reads, &depends, &HashMap::new());
        assert_eq!(names(&out), ["a", "b", "c"]);
    }
}
