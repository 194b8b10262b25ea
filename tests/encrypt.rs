//! Encrypted archives (issue 17, FORMAT.md §13), through the real binary:
//! round trips with each kind of key (a key file, a recipient with its
//! identity, a passphrase; SQLite and PostgreSQL), what `bru list` shows
//! without the key, missing and wrong keys, and every way of editing an
//! encrypted archive an attacker has: a flipped ciphertext byte (CRC
//! recomputed), chunks swapped between tables, a chunk replayed from another
//! archive with the same key, a dropped chunk, an edited sealed catalog,
//! edited clear metadata, a truncated file. Each is refused by `verify` and
//! by `restore`, and the restore leaves the target without a table.

mod util;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use bru_testsupport::pg::TestServer;
use bru_testsupport::sqlite::{dump, run_sql};
use rusqlite::{params, Connection};
use util::{bru_fails, bru_ok, url, Dir};

const PASSPHRASE: &str = "correct horse battery staple 17";

/// A SQLite source of two tables of several chunks each at `--chunk-size
/// 1KiB`, with text no archive may show in clear.
fn source(dir: &Dir) -> PathBuf {
    let src = dir.path("src.sqlite");
    let mut sql = String::from(
        "CREATE TABLE agents_secret (id INTEGER PRIMARY KEY, name TEXT NOT NULL, pay REAL);
         CREATE TABLE shifts_secret (id INTEGER PRIMARY KEY, agent INTEGER, note TEXT);",
    );
    for i in 0..300 {
        sql += &format!(
            "INSERT INTO agents_secret VALUES ({i}, 'Zyxwvut Person {i}', {}.5);
             INSERT INTO shifts_secret VALUES ({i}, {i}, 'night shift of Zyxwvut {i}');",
            i * 3
        );
    }
    run_sql(&src, &sql);
    src
}

/// Runs `bru` with `args` and the environment `env`.
fn bru_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_bru"));
    cmd.args(args).env_remove("BRU_PASSPHRASE");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run bru")
}

fn ok_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    let out = bru_env(args, env);
    assert!(
        out.status.success(),
        "bru {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// `bru keygen` into `dir`: the key file and its recipient.
fn keygen(dir: &Dir, name: &str) -> (PathBuf, String) {
    let key = dir.path(name);
    let out = bru_ok(&["keygen", key.to_str().unwrap()]);
    let text = String::from_utf8(out.stdout).unwrap();
    let recipient = text
        .split_whitespace()
        .find(|w| w.starts_with("age1"))
        .expect("keygen prints the recipient")
        .to_owned();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "a key file is private");
    }
    (key, recipient)
}

/// An encrypted backup of `src` at 1 KiB chunks with `extra` flags.
fn backup(src: &Path, archive: &Path, extra: &[&str], env: &[(&str, &str)]) {
    let mut args = vec!["backup", "--quiet", "--chunk-size", "1KiB", "--encrypt"];
    let (s, a) = (url(src), archive.to_str().unwrap().to_owned());
    args.push(&s);
    args.push(&a);
    args.extend_from_slice(extra);
    ok_env(&args, env);
}

/// The tables of the SQLite file at `path` (none if it does not exist).
fn tables(path: &Path) -> Vec<String> {
    if !path.exists() {
        return Vec::new();
    }
    let conn = Connection::open(path).unwrap();
    let mut s = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .unwrap();
    s.query_map([], |r| r.get(0))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap()
}

/// Restores `archive` into a new SQLite file and checks it equals `src`.
fn restores_as(
    archive: &Path,
    src: &Path,
    dir: &Dir,
    name: &str,
    keys: &[&str],
    env: &[(&str, &str)],
) {
    let target = dir.path(name);
    let (a, t) = (archive.to_str().unwrap().to_owned(), url(&target));
    let mut args = vec!["restore", "--quiet", a.as_str(), t.as_str()];
    args.extend_from_slice(keys);
    ok_env(&args, env);
    assert_eq!(dump(&target), dump(src));
    let mut args = vec!["verify", "--quiet", a.as_str()];
    args.extend_from_slice(keys);
    ok_env(&args, env);
}

/// Asserts that the archive file holds none of the source's names or text.
fn nothing_in_clear(archive: &Path) {
    let bytes = std::fs::read(archive).unwrap();
    for secret in ["agents_secret", "shifts_secret", "Zyxwvut", "src.sqlite"] {
        assert!(
            !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
            "{secret} is in the encrypted archive's bytes"
        );
    }
}

#[test]
fn a_key_file_encrypts_and_opens_an_archive_and_list_without_it_shows_only_clear_fields() {
    let dir = Dir::new();
    let src = source(&dir);
    let (key, _) = keygen(&dir, "bru.key");
    let key = key.to_str().unwrap();
    let archive = dir.path("enc.db");
    backup(&src, &archive, &["--key-file", key], &[]);
    nothing_in_clear(&archive);
    let a = archive.to_str().unwrap();

    let out = ok_env(&["list", a], &[]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("encrypted: catalog and rows"), "{text}");
    assert!(text.contains("state:    complete"), "{text}");
    assert!(text.contains("no key given"), "{text}");
    assert!(
        !text.contains("secret") && !text.contains("sqlite"),
        "{text}"
    );

    let out = ok_env(&["list", a, "--key-file", key], &[]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("agents_secret") && text.contains("shifts_secret"),
        "{text}"
    );
    assert!(text.contains("source:   sqlite"), "{text}");
    assert!(!text.contains("no key given"), "{text}");

    restores_as(
        &archive,
        &src,
        &dir,
        "out.sqlite",
        &["--key-file", key],
        &[],
    );
}

#[test]
fn a_recipient_encrypts_without_the_secret_and_the_identity_opens_it() {
    let dir = Dir::new();
    let src = source(&dir);
    let (identity, recipient) = keygen(&dir, "offline.key");
    let archive = dir.path("enc.db");
    backup(&src, &archive, &["--recipient", &recipient], &[]);
    nothing_in_clear(&archive);
    let id = identity.to_str().unwrap();
    restores_as(&archive, &src, &dir, "out.sqlite", &["--identity", id], &[]);
    // Two recipients: either identity opens it.
    let (second, recipient2) = keygen(&dir, "second.key");
    let both = dir.path("both.db");
    backup(
        &src,
        &both,
        &["--recipient", &recipient, "--recipient", &recipient2],
        &[],
    );
    let second = second.to_str().unwrap();
    restores_as(
        &both,
        &src,
        &dir,
        "out2.sqlite",
        &["--identity", second],
        &[],
    );
}

#[test]
fn a_passphrase_from_the_environment_round_trips_and_is_never_printed() {
    let dir = Dir::new();
    let src = source(&dir);
    let archive = dir.path("enc.db");
    let summary = dir.path("summary.json");
    let env = [("BRU_PASSPHRASE", PASSPHRASE)];
    let s = url(&src);
    let out = ok_env(
        &[
            "backup",
            "--encrypt",
            "--chunk-size",
            "1KiB",
            &s,
            archive.to_str().unwrap(),
            "--summary-json",
            summary.to_str().unwrap(),
            "--verbose",
        ],
        &env,
    );
    nothing_in_clear(&archive);
    let target = dir.path("out.sqlite");
    let restore_summary = dir.path("restore.json");
    let restored = ok_env(
        &[
            "restore",
            archive.to_str().unwrap(),
            &url(&target),
            "--summary-json",
            restore_summary.to_str().unwrap(),
        ],
        &env,
    );
    assert_eq!(dump(&target), dump(&src));
    let listed = ok_env(&["list", archive.to_str().unwrap(), "--json"], &env);
    let bytes = std::fs::read(&archive).unwrap();
    for (what, text) in [
        ("backup stdout", out.stdout),
        ("backup stderr", out.stderr),
        ("restore stdout", restored.stdout),
        ("restore stderr", restored.stderr),
        ("list", listed.stdout),
        ("backup summary", std::fs::read(&summary).unwrap()),
        ("restore summary", std::fs::read(&restore_summary).unwrap()),
        ("archive", bytes),
    ] {
        assert!(
            !text
                .windows(PASSPHRASE.len())
                .any(|w| w == PASSPHRASE.as_bytes()),
            "the passphrase is in the {what}"
        );
    }
    // A wrong passphrase: one line, nothing written.
    let bad = dir.path("bad.sqlite");
    let out = bru_env(
        &["restore", archive.to_str().unwrap(), &url(&bad)],
        &[("BRU_PASSPHRASE", "not it")],
    );
    one_error_line(&out, &["wrong key for archive"]);
    assert!(tables(&bad).is_empty());
}

/// Asserts `out` failed with one `bru: error:` line holding every word of
/// `expect`, no panic.
fn one_error_line(out: &Output, expect: &[&str]) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(!out.status.success(), "should fail: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "one error line: {stderr}");
    assert!(lines[0].starts_with("bru: error: "), "{stderr}");
    for w in expect {
        assert!(lines[0].contains(w), "{w:?} not in {stderr}");
    }
    lines[0].to_owned()
}

#[test]
fn missing_and_wrong_keys_are_one_clear_line_and_write_nothing() {
    let dir = Dir::new();
    let src = source(&dir);
    let (key, _) = keygen(&dir, "right.key");
    let (other, _) = keygen(&dir, "other.key");
    let archive = dir.path("enc.db");
    backup(&src, &archive, &["--key-file", key.to_str().unwrap()], &[]);
    let a = archive.to_str().unwrap();
    let target = dir.path("target.sqlite");
    run_sql(&target, "PRAGMA user_version = 0");
    let t = url(&target);
    let o = other.to_str().unwrap();
    for args in [
        vec!["restore", a, &t],
        vec!["verify", a],
        vec!["restore", "-l", a],
        vec!["verify", a, "--against", &t],
    ] {
        bru_fails(&args, &["is encrypted: give", "--key-file"]);
    }
    for args in [
        vec!["restore", a, &t, "--key-file", o],
        vec!["verify", a, "--identity", o],
        vec!["list", a, "--key-file", o],
    ] {
        bru_fails(&args, &["wrong key for archive", a]);
    }
    // A passphrase for an archive sealed to recipients is no key for it.
    let out = bru_env(&["restore", a, &t], &[("BRU_PASSPHRASE", PASSPHRASE)]);
    one_error_line(&out, &["is encrypted: give"]);
    assert!(tables(&target).is_empty(), "{:?}", tables(&target));
    // A missing key file, and no key at all for --encrypt.
    bru_fails(
        &[
            "restore",
            a,
            &t,
            "--key-file",
            &dir.path("nope.key").display().to_string(),
        ],
        &["nope.key", "no such file"],
    );
    let out = bru_env(
        &[
            "backup",
            "--encrypt",
            &url(&src),
            dir.path("x.db").to_str().unwrap(),
        ],
        &[],
    );
    one_error_line(&out, &["--encrypt needs a key"]);
    assert!(!dir.path("x.db").exists());
}

#[test]
fn encrypt_data_only_leaves_the_catalog_readable_but_not_the_rows() {
    let dir = Dir::new();
    let src = source(&dir);
    let (key, _) = keygen(&dir, "bru.key");
    let key = key.to_str().unwrap();
    let archive = dir.path("enc.db");
    backup(
        &src,
        &archive,
        &["--key-file", key, "--encrypt-data-only"],
        &[],
    );
    let bytes = std::fs::read(&archive).unwrap();
    assert!(bytes.windows(13).any(|w| w == b"agents_secret"));
    assert!(!bytes.windows(7).any(|w| w == b"Zyxwvut"));
    let a = archive.to_str().unwrap();
    let out = ok_env(&["list", a], &[]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("agents_secret") && text.contains("no key given"),
        "{text}"
    );
    let t = url(&dir.path("t.sqlite"));
    bru_fails(&["restore", a, &t], &["is encrypted: give"]);
    restores_as(
        &archive,
        &src,
        &dir,
        "out.sqlite",
        &["--key-file", key],
        &[],
    );
    // Its clear catalog is authenticated: an edit of it is refused.
    let edited = copy(&dir, &archive, "edited.db");
    let conn = Connection::open(&edited).unwrap();
    conn.execute("UPDATE bru_tables SET rows = rows + 1 WHERE id = 0", [])
        .unwrap();
    drop(conn);
    refused(
        &dir,
        &edited,
        &["--key-file", key],
        "its clear catalog fails authentication",
    );
}

// ------------------------------------------------------------- tampering

fn copy(dir: &Dir, archive: &Path, name: &str) -> PathBuf {
    let to = dir.path(name);
    std::fs::copy(archive, &to).unwrap();
    to
}

/// Asserts `verify` and `restore` both refuse `archive` with one line
/// containing `what`, and that the restore's target has no table.
fn refused(dir: &Dir, archive: &Path, keys: &[&str], what: &str) {
    let a = archive.to_str().unwrap();
    let mut verify = vec!["verify", a];
    verify.extend_from_slice(keys);
    bru_fails(&verify, &[what]);
    let target = dir.path(&format!(
        "target-{}.sqlite",
        archive.file_stem().unwrap().to_string_lossy()
    ));
    let t = url(&target);
    let mut restore = vec!["restore", a, &t];
    restore.extend_from_slice(keys);
    bru_fails(&restore, &[what]);
    assert!(tables(&target).is_empty(), "{what}: {:?}", tables(&target));
}

/// The chunk id, table id and seq of every chunk, by table then seq.
fn chunks(conn: &Connection) -> Vec<(i64, i64, i64)> {
    let mut s = conn
        .prepare("SELECT id, table_id, seq FROM bru_chunks ORDER BY table_id, seq")
        .unwrap();
    s.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap()
}

/// Flips the bits of byte `at` of the `data` BLOB of the row of `table`
/// that `row` selects, keeping it a BLOB.
fn flip_byte(conn: &Connection, table: &str, row: &str, at: usize) {
    let mut data: Vec<u8> = conn
        .query_row(&format!("SELECT data FROM {table} WHERE {row}"), [], |r| {
            r.get(0)
        })
        .unwrap();
    data[at] ^= 0xff;
    conn.execute(&format!("UPDATE {table} SET data = ?1 WHERE {row}"), [data])
        .unwrap();
}

/// Sets the CRC of chunk `id` to that of its stored bytes, as an editor
/// would.
fn recompute_crc(conn: &Connection, id: i64) {
    let mut s = conn
        .prepare("SELECT data FROM bru_chunk_parts WHERE chunk_id = ?1 ORDER BY part")
        .unwrap();
    let data: Vec<u8> = s
        .query_map([id], |r| r.get::<_, Vec<u8>>(0))
        .unwrap()
        .flat_map(|r| r.unwrap())
        .collect();
    conn.execute(
        "UPDATE bru_chunks SET crc32 = ?2, stored_len = ?3 WHERE id = ?1",
        params![id, crc32fast::hash(&data), data.len() as i64],
    )
    .unwrap();
}

#[test]
fn every_edit_of_an_encrypted_archive_is_refused_by_verify_and_restore() {
    let dir = Dir::new();
    let src = source(&dir);
    let (key, _) = keygen(&dir, "bru.key");
    let key_path = key.to_str().unwrap().to_owned();
    let keys = ["--key-file", key_path.as_str()];
    let archive = dir.path("enc.db");
    backup(&src, &archive, &keys, &[]);
    let other = dir.path("other.db");
    backup(&src, &other, &keys, &[]);
    {
        let conn = Connection::open(&archive).unwrap();
        let all = chunks(&conn);
        assert!(all.iter().filter(|c| c.1 == 0).count() > 3, "{all:?}");
        assert!(all.iter().filter(|c| c.1 == 1).count() > 3, "{all:?}");
    }

    // A flipped ciphertext byte, its CRC recomputed.
    let flipped = copy(&dir, &archive, "flipped.db");
    let conn = Connection::open(&flipped).unwrap();
    let (id, _, _) = chunks(&conn)[2];
    flip_byte(
        &conn,
        "bru_chunk_parts",
        &format!("chunk_id = {id} AND part = 0"),
        40,
    );
    recompute_crc(&conn, id);
    drop(conn);
    refused(&dir, &flipped, &keys, "fails authentication");

    // Chunk 1 of the two tables swapped.
    let swapped = copy(&dir, &archive, "swapped.db");
    let conn = Connection::open(&swapped).unwrap();
    conn.execute_batch(
        "UPDATE bru_chunks SET table_id = -1 WHERE table_id = 0 AND seq = 1;
         UPDATE bru_chunks SET table_id = 0 WHERE table_id = 1 AND seq = 1;
         UPDATE bru_chunks SET table_id = 1 WHERE table_id = -1 AND seq = 1;",
    )
    .unwrap();
    drop(conn);
    refused(&dir, &swapped, &keys, "fails authentication");

    // Chunk 0 of table 0 replaced by the same chunk of another archive
    // sealed for the same key.
    let replayed = copy(&dir, &archive, "replayed.db");
    let conn = Connection::open(&replayed).unwrap();
    conn.execute("ATTACH ?1 AS other", [other.to_str().unwrap()])
        .unwrap();
    conn.execute_batch(
        "DELETE FROM bru_chunk_parts WHERE chunk_id = \
             (SELECT id FROM bru_chunks WHERE table_id = 0 AND seq = 0);
         INSERT INTO bru_chunk_parts SELECT (SELECT id FROM main.bru_chunks WHERE table_id = 0 AND seq = 0), p.part, p.data \
             FROM other.bru_chunk_parts p JOIN other.bru_chunks c ON c.id = p.chunk_id \
             WHERE c.table_id = 0 AND c.seq = 0;
         UPDATE main.bru_chunks SET (row_count, raw_len, stored_len, crc32, parts) = \
             (SELECT row_count, raw_len, stored_len, crc32, parts FROM other.bru_chunks \
              WHERE table_id = 0 AND seq = 0) WHERE table_id = 0 AND seq = 0;
         DETACH other;",
    )
    .unwrap();
    drop(conn);
    refused(
        &dir,
        &replayed,
        &keys,
        "chunk 0 of table agents_secret fails authentication",
    );

    // A dropped chunk: the middle one, and the last one.
    for (name, which) in [
        ("dropped.db", "1"),
        (
            "dropped-last.db",
            "(SELECT max(seq) FROM bru_chunks WHERE table_id = 1)",
        ),
    ] {
        let dropped = copy(&dir, &archive, name);
        let conn = Connection::open(&dropped).unwrap();
        conn.execute_batch(&format!(
            "DELETE FROM bru_chunk_parts WHERE chunk_id = \
                 (SELECT id FROM bru_chunks WHERE table_id = 1 AND seq = {which});
             DELETE FROM bru_chunks WHERE table_id = 1 AND seq = {which};"
        ))
        .unwrap();
        drop(conn);
        refused(&dir, &dropped, &keys, "missing chunk");
    }

    // The sealed catalog edited.
    let catalog = copy(&dir, &archive, "catalog.db");
    let conn = Connection::open(&catalog).unwrap();
    flip_byte(&conn, "bru_sealed", "part = 0", 30);
    drop(conn);
    refused(&dir, &catalog, &keys, "the catalog fails authentication");

    // Clear metadata edited: the archive id (which the seals are bound to),
    // the state, the creation time.
    for (name, key, value) in [
        ("id.db", "archive_id", "00000000000000000000000000000000"),
        ("created.db", "created_at", "2001-01-01T00:00:00Z"),
        ("tool.db", "tool_version", "9.9.9"),
    ] {
        let edited = copy(&dir, &archive, name);
        let conn = Connection::open(&edited).unwrap();
        conn.execute(
            "UPDATE bru_meta SET value = ?2 WHERE key = ?1",
            params![key, value],
        )
        .unwrap();
        drop(conn);
        let expect = if key == "archive_id" {
            "the catalog fails authentication"
        } else {
            "its clear metadata fails authentication"
        };
        refused(&dir, &edited, &keys, expect);
    }
    // A key added to the clear metadata.
    let added = copy(&dir, &archive, "added.db");
    let conn = Connection::open(&added).unwrap();
    conn.execute(
        "INSERT INTO bru_meta VALUES ('source_database', 'elsewhere')",
        [],
    )
    .unwrap();
    drop(conn);
    refused(
        &dir,
        &added,
        &keys,
        "its clear metadata fails authentication",
    );

    // Truncated.
    let truncated = copy(&dir, &archive, "truncated.db");
    let len = std::fs::metadata(&truncated).unwrap().len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&truncated)
        .unwrap()
        .set_len(len / 2)
        .unwrap();
    refused(&dir, &truncated, &keys, "truncated");

    // The untouched archive still restores.
    restores_as(&archive, &src, &dir, "good.sqlite", &keys, &[]);
}

#[test]
fn an_encrypted_postgres_database_round_trips() {
    let Some((server, db)) = TestServer::start_with_db(
        "enc_src",
        "CREATE TABLE people (id int PRIMARY KEY, name text NOT NULL, rate numeric(8,2));
         INSERT INTO people SELECT g, 'person ' || g, g * 1.25 FROM generate_series(1, 2000) g;
         CREATE TABLE shifts (id bigint PRIMARY KEY, person int REFERENCES people, at timestamptz);
         INSERT INTO shifts SELECT g, 1 + g % 2000, timestamptz '2026-01-01' + g * interval '1 hour' \
             FROM generate_series(1, 3000) g;",
    ) else {
        eprintln!("skipped: no initdb on PATH");
        return;
    };
    let dir = Dir::new();
    let (key, recipient) = keygen(&dir, "bru.key");
    let key = key.to_str().unwrap();
    // Each key kind: the key file both ways; the recipient to write and
    // its identity to read; a passphrase from the environment.
    /// A key kind: its name, the flags that write, those that read, the
    /// environment of both.
    type Kind<'a> = (&'a str, Vec<&'a str>, Vec<&'a str>, Vec<(&'a str, &'a str)>);
    let kinds: [Kind; 3] = [
        (
            "key-file",
            vec!["--key-file", key],
            vec!["--key-file", key],
            vec![],
        ),
        (
            "recipient",
            vec!["--recipient", recipient.as_str()],
            vec!["--identity", key],
            vec![],
        ),
        (
            "passphrase",
            vec![],
            vec![],
            vec![("BRU_PASSPHRASE", PASSPHRASE)],
        ),
    ];
    for (n, (kind, write, read, env)) in kinds.iter().enumerate() {
        let archive = dir.path(&format!("pg-{kind}.db"));
        let a = archive.to_str().unwrap();
        let src = server.url(&db);
        let mut args = vec!["backup", "--quiet", "--encrypt", src.as_str(), a];
        args.extend(write.iter().copied());
        ok_env(&args, env);
        let bytes = std::fs::read(&archive).unwrap();
        assert!(
            !bytes.windows(6).any(|w| w == b"people"),
            "{kind}: a table name in clear"
        );
        assert!(
            !bytes
                .windows(PASSPHRASE.len())
                .any(|w| w == PASSPHRASE.as_bytes()),
            "{kind}: the passphrase in the archive"
        );
        let mut args = vec!["verify", "--quiet", a];
        args.extend(read.iter().copied());
        ok_env(&args, env);
        let restored = server.create_db(&format!("enc_dst{n}"));
        let dst = server.url(&restored);
        let mut args = vec!["restore", "--quiet", a, dst.as_str()];
        args.extend(read.iter().copied());
        ok_env(&args, env);
        for table in ["people", "shifts"] {
            assert_eq!(
                server.sorted_rows(&db, table),
                server.sorted_rows(&restored, table),
                "{kind}: table {table}"
            );
        }
        let mut args = vec!["verify", "--quiet", a, "--against", dst.as_str()];
        args.extend(read.iter().copied());
        ok_env(&args, env);
        // Without its key the archive restores nothing.
        let empty = server.create_db(&format!("enc_none{n}"));
        let out = bru_env(&["restore", "--quiet", a, &server.url(&empty)], &[]);
        assert!(!out.status.success(), "{kind}: restored without a key");
        assert!(
            server.tables(&empty).is_empty(),
            "{kind}: tables created without a key: {:?}",
            server.tables(&empty)
        );
    }
}

#[test]
fn the_delta_of_an_encrypted_archive_is_encrypted_and_applies() {
    let dir = Dir::new();
    let src = source(&dir);
    let (key, _) = keygen(&dir, "bru.key");
    let key = key.to_str().unwrap();
    let base = dir.path("base.db");
    backup(&src, &base, &["--key-file", key], &[]);
    let target = dir.path("target.sqlite");
    let (b, t, s) = (base.to_str().unwrap(), url(&target), url(&src));
    bru_ok(&["restore", "--quiet", b, &t, "--key-file", key]);
    run_sql(
        &src,
        "UPDATE agents_secret SET name = 'Zyxwvut Changed' WHERE id = 7;
         DELETE FROM shifts_secret WHERE id = 9;
         INSERT INTO shifts_secret VALUES (1000, 1, 'Zyxwvut new');",
    );
    let delta = dir.path("delta.db");
    let d = delta.to_str().unwrap();
    // Without --encrypt the delta would hold the same rows in clear.
    bru_fails(
        &["backup", &s, d, "--since", b, "--key-file", key],
        &["is encrypted", "--encrypt"],
    );
    assert!(!delta.exists());
    bru_ok(&[
        "backup",
        "--quiet",
        &s,
        d,
        "--since",
        b,
        "--encrypt",
        "--key-file",
        key,
    ]);
    nothing_in_clear(&delta);
    bru_fails(&["restore", d, &t], &["is encrypted: give"]);
    bru_ok(&["restore", "--quiet", d, &t, "--key-file", key]);
    let mut restored = dump(&target);
    restored.retain(|(table, _)| table != "_bru_restore_journal");
    assert_eq!(restored, dump(&src));
}

#[test]
fn the_hostile_archive_edits_of_the_catalog_are_refused_in_an_encrypted_archive() {
    let dir = Dir::new();
    let src = source(&dir);
    let (key, _) = keygen(&dir, "bru.key");
    let key = key.to_str().unwrap();
    let keys = ["--key-file", key];
    // With the catalog in clear (--encrypt-data-only): the hostile-archive
    // edit (a table's DDL replaced, the catalog CRC recomputed) is refused
    // because the clear catalog is not the sealed one.
    let data_only = dir.path("data.db");
    backup(
        &src,
        &data_only,
        &["--key-file", key, "--encrypt-data-only"],
        &[],
    );
    let edited = copy(&dir, &data_only, "ddl.db");
    bru_testsupport::archive::tamper(&edited, |what, json| {
        if what != "table" {
            return false;
        }
        json["native"] = serde_json::json!({ "create": "DROP TABLE victim" });
        true
    });
    // (Its recomputed catalog_crc32 is clear metadata the seal vouches for.)
    refused(
        &dir,
        &edited,
        &keys,
        "its clear metadata fails authentication",
    );
    // A fully encrypted archive: a definition planted in the empty clear
    // catalog, with its CRC, is refused too.
    let all = dir.path("all.db");
    backup(&src, &all, &keys, &[]);
    let planted = copy(&dir, &all, "planted.db");
    let conn = Connection::open(&planted).unwrap();
    conn.execute(
        "INSERT INTO bru_objects (id, def) VALUES (0, '{\"kind\": \"view\"}')",
        [],
    )
    .unwrap();
    bru_testsupport::archive::reseal_catalog(&conn);
    drop(conn);
    refused(
        &dir,
        &planted,
        &keys,
        "its clear catalog fails authentication",
    );
}
