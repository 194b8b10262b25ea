//! The foreign-key references between the tables of a plan.
//!
//! The planner orders steps by them (module `plan`): a table's foreign keys
//! wait for the tables they reference, a referenced table loads just ahead of
//! the tables referencing it, and a table on a cycle of references gets its
//! keys after its own indexes. This module answers the graph questions
//! (who references whom, who is on a cycle, the load ranks that follow), on
//! plain table definitions, so the planner reads as the order it builds.

use bru_core::{TableDef, TableName};

/// Per table, the other tables in the plan its foreign keys reference
/// (itself included when it references itself), each once.
pub(crate) fn references(tables: &[&TableDef]) -> Vec<Vec<usize>> {
    tables
        .iter()
        .map(|table| {
            let mut out: Vec<usize> = Vec::new();
            for fk in &table.foreign_keys {
                let referenced = tables
                    .iter()
                    .position(|r| same_table(&r.name, &fk.ref_table));
                if let Some(r) = referenced {
                    if !out.contains(&r) {
                        out.push(r);
                    }
                }
            }
            out
        })
        .collect()
}

/// Whether table `t` can reach itself through `refs`.
pub(crate) fn on_cycle(t: usize, refs: &[Vec<usize>]) -> bool {
    let mut seen = vec![false; refs.len()];
    let mut stack: Vec<usize> = refs[t].clone();
    while let Some(r) = stack.pop() {
        if r == t {
            return true;
        }
        if !std::mem::replace(&mut seen[r], true) {
            stack.extend(refs[r].iter().copied());
        }
    }
    false
}

/// Per table, the size its loads rank by (the plan's module docs): its
/// `rows`, raised to one more than the rank of any table referencing it,
/// through chains of references. Tables on a cycle settle after as many
/// rounds as there are tables.
pub(crate) fn load_ranks(rows: &[u64], refs: &[Vec<usize>]) -> Vec<u64> {
    let mut rank: Vec<u64> = rows.to_vec();
    for _ in 0..rows.len() {
        let mut changed = false;
        for (u, referenced) in refs.iter().enumerate() {
            for &r in referenced {
                let wanted = rank[u].saturating_add(1);
                if r != u && rank[r] < wanted {
                    rank[r] = wanted;
                    changed = true;
                }
            }
        }
        if !changed {
            break;
        }
    }
    rank
}

/// Whether a foreign key's referenced name designates `table`: the same name,
/// and the same schema when both have one (SQLite names carry none).
fn same_table(table: &TableName, referenced: &TableName) -> bool {
    table.name.eq_ignore_ascii_case(&referenced.name)
        && match (&table.schema, &referenced.schema) {
            (Some(a), Some(b)) => a == b,
            _ => true,
        }
}
