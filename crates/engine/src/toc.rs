//! An archive's table of contents, as pg_restore's `-l` / `-L`: `restore
//! --list` prints one numbered line per table and object; the user deletes
//! lines (or comments them out with `;`) and gives the file back with
//! `--use-list`, and what is no longer listed is not restored.
//!
//! A line is `ID; KIND NAME`. The ID is the entry's place in the archive's
//! catalog (tables first, then the objects in creation order), which is the
//! same every time the archive is read; the `KIND NAME` after it is checked
//! against the archive, so that a list made from another archive is
//! refused instead of restoring the wrong entries. As with pg_restore, the
//! order of the lines does not matter to bru: the restore plan orders the
//! work itself.

use std::collections::BTreeSet;
use std::path::Path;

use bru_format::ArchiveReader;
use serde::Serialize;

use crate::{Error, Result};

/// One entry of a table of contents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TocEntry {
    /// The entry's number in the list (from 1).
    pub id: usize,
    /// `table`, `view`, `trigger`, `owner`…
    pub kind: String,
    /// The table's or object's name as the archive holds it.
    pub name: String,
}

impl TocEntry {
    /// `KIND NAME`, as on the entry's line.
    fn what(&self) -> String {
        format!("{} {}", self.kind, self.name)
    }
}

/// The table of contents of one archive.
#[derive(Debug, Clone, Serialize)]
pub struct Toc {
    /// The archive's tables, then its other objects.
    pub entries: Vec<TocEntry>,
    /// How many of [`Toc::entries`] are tables.
    pub tables: usize,
}

/// Which entries a `--use-list` file keeps (see [`Toc::selection`]): the
/// tables by qualified name, the objects by their place in the catalog.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListSelection {
    pub(crate) tables: BTreeSet<String>,
    pub(crate) objects: BTreeSet<usize>,
}

/// Reads the table of contents of `archive`. Fails as [`crate::list()`]
/// does (a missing, foreign, newer or damaged archive).
pub fn toc(archive: &Path) -> Result<Toc> {
    let reader = ArchiveReader::open(archive)?;
    let catalog = reader.catalog()?;
    let entries = catalog
        .tables
        .iter()
        .map(|t| ("table".to_owned(), t.name.to_string()))
        .chain(
            catalog
                .objects
                .iter()
                .map(|o| (o.kind.to_string(), o.name.to_string())),
        )
        .enumerate()
        .map(|(i, (kind, name))| TocEntry {
            id: i + 1,
            kind,
            name,
        })
        .collect();
    Ok(Toc {
        entries,
        tables: catalog.tables.len(),
    })
}

impl Toc {
    /// The list as `restore --list` prints it: comment lines starting with
    /// `;` that say how to use it, then one `ID; KIND NAME` line per entry.
    pub fn text(&self, archive: &Path) -> String {
        let mut s = format!(
            ";\n; table of contents of {}: {} entries ({} tables)\n\
             ; delete a line, or comment it out with ';', to leave that entry out of\n\
             ; bru restore --use-list THIS-FILE; what depends on it is left out too\n;\n",
            archive.display(),
            self.entries.len(),
            self.tables
        );
        for e in &self.entries {
            s += &format!("{}; {}\n", e.id, e.what());
        }
        s
    }

    /// What the list `text` (read from `file`) keeps. Blank lines and those
    /// starting with `;` are skipped; every other line must be `ID; KIND
    /// NAME` of an entry of this archive (after the ID, only `KIND NAME` is
    /// compared, with surrounding blanks ignored). Fails with
    /// [`Error::InvalidList`] naming the line otherwise.
    pub fn selection(&self, file: &Path, text: &str) -> Result<ListSelection> {
        let mut kept = ListSelection::default();
        for (n, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with(';') {
                continue;
            }
            let invalid = |message: String| Error::InvalidList {
                file: file.display().to_string(),
                line: n + 1,
                message,
            };
            let (id, what) = line
                .split_once(';')
                .ok_or_else(|| invalid(format!("{line:?} is not an `ID; KIND NAME` line")))?;
            let id: usize = id
                .trim()
                .parse()
                .map_err(|_| invalid(format!("{:?} is not an entry number", id.trim())))?;
            let entry = id
                .checked_sub(1)
                .and_then(|i| self.entries.get(i))
                .ok_or_else(|| {
                    invalid(format!(
                        "the archive has no entry {id} (it has {})",
                        self.entries.len()
                    ))
                })?;
            if entry.what() != what.trim() {
                return Err(invalid(format!(
                    "entry {id} of the archive is {:?}, not {:?}",
                    entry.what(),
                    what.trim()
                )));
            }
            if id <= self.tables {
                kept.tables.insert(entry.name.clone());
            } else {
                kept.objects.insert(id - 1 - self.tables);
            }
        }
        Ok(kept)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Toc {
        let entry = |id, kind: &str, name: &str| TocEntry {
            id,
            kind: kind.into(),
            name: name.into(),
        };
        Toc {
            entries: vec![
                entry(1, "table", "main.agents"),
                entry(2, "table", "main.sites"),
                entry(3, "view", "v_agents"),
            ],
            tables: 2,
        }
    }

    #[test]
    fn the_printed_list_reads_back_whole_and_a_deleted_line_is_left_out() {
        let toc = sample();
        let file = Path::new("toc.txt");
        let all = toc.selection(file, &toc.text(file)).unwrap();
        assert_eq!(all.tables.len(), 2);
        assert_eq!(all.objects, BTreeSet::from([0]));
        let text = toc
            .text(file)
            .replace("2; table main.sites", "; 2; table main.sites");
        let some = toc.selection(file, &text).unwrap();
        assert_eq!(some.tables, BTreeSet::from(["main.agents".to_owned()]));
    }

    #[test]
    fn a_line_of_another_archive_is_refused_naming_the_line() {
        let toc = sample();
        let file = Path::new("toc.txt");
        for (text, says) in [
            (
                "1; table main.other",
                "entry 1 of the archive is \"table main.agents\"",
            ),
            ("9; table main.agents", "no entry 9"),
            ("x; table main.agents", "\"x\" is not an entry number"),
            ("table main.agents", "not an `ID; KIND NAME` line"),
        ] {
            let err = toc
                .selection(file, &format!(";\n{text}\n"))
                .unwrap_err()
                .to_string();
            assert!(err.starts_with("toc.txt, line 2: "), "{err}");
            assert!(err.contains(says), "{err}");
        }
    }
}
