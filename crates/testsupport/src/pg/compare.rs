//! Comparing two databases of one [`TestServer`]: their schema as
//! `pg_dump --schema-only` prints it, their rows and their sequences.

use super::server::TestServer;

impl TestServer {
    /// Panics, showing the first 20 lines that differ, unless
    /// `pg_dump --schema-only` (owners and GRANTs included) prints the same
    /// for databases `a` and `b`.
    pub fn assert_same_schema(&self, a: &str, b: &str) {
        let (x, y) = (self.dump_schema(a), self.dump_schema(b));
        if x != y {
            let diff: Vec<String> = x
                .lines()
                .zip(y.lines())
                .filter(|(p, q)| p != q)
                .take(20)
                .map(|(p, q)| format!("- {p}\n+ {q}"))
                .collect();
            panic!(
                "pg_dump --schema-only of {b} differs from {a} ({} vs {} lines):\n{}",
                x.lines().count(),
                y.lines().count(),
                diff.join("\n")
            );
        }
    }

    /// Every user table of `db` with its sorted rows (COPY text form), then
    /// `("sequences", every sequence's state)`, for comparisons.
    pub fn contents(&self, db: &str) -> Vec<(String, Vec<String>)> {
        let mut out: Vec<(String, Vec<String>)> = self
            .tables(db)
            .into_iter()
            .map(|t| {
                let rows = self.sorted_rows(db, &t);
                (t, rows)
            })
            .collect();
        out.push(("sequences".into(), self.sequence_values(db)));
        out
    }
}
