//! Connections: URLs, libpq environment variables, the password file, and
//! errors that never show the password.

use bru_core::Error;
use bru_postgres::{PgSource, PgTarget};
use bru_testsupport::pg::TestServer;

const PASSWORD: &str = "Sw0rdfish-9f3k";

fn connect_error(r: bru_core::Result<PgSource>) -> (String, String) {
    match r {
        Err(Error::Connect { what, message, .. }) => (what, message),
        Err(other) => panic!("expected a connection error, got {other}"),
        Ok(_) => panic!("expected a connection error, got a connection"),
    }
}

#[test]
fn urls_environment_pgpass_and_password_hygiene() {
    let Some(server) = TestServer::start() else {
        return;
    };
    if !server.is_local() {
        eprintln!("connection test needs its own server; skipped with BRU_TEST_PG_URL");
        return;
    }
    let db = server.create_db("conn");
    server.psql(
        &db,
        &format!("CREATE ROLE app LOGIN PASSWORD '{PASSWORD}'; GRANT ALL ON DATABASE {db} TO app"),
    );
    let sock = server.socket_dir();
    let sock = sock.display();

    // The libpq unix-socket URL form, in both schemes.
    for scheme in ["postgres", "postgresql"] {
        let url = format!("{scheme}://bru@/{db}?host={sock}&port=5432");
        let src = PgSource::open(&url).expect("unix socket URL");
        assert!(src.endpoint().contains(&db));
    }
    // Password in the URL works, and a percent-encoded socket host too.
    let enc = sock.to_string().replace('/', "%2F");
    PgSource::open(&format!("postgresql://app:{PASSWORD}@{enc}:5432/{db}"))
        .expect("password in the URL");

    // A wrong password: one line, names the endpoint, never the password.
    let wrong = "not-the-Sw0rdfish";
    let (what, message) = connect_error(PgSource::open(&format!(
        "postgresql://app:{wrong}@/{db}?host={sock}&port=5432"
    )));
    let line = format!("{what}: {message}");
    assert!(line.contains("app@"), "{line}");
    assert!(line.contains("password authentication failed"), "{line}");
    assert!(!line.contains(wrong) && !line.contains('\n'), "{line}");

    // Nothing listening: a connection error naming the place.
    let (what, message) = connect_error(PgSource::open(&format!(
        "postgresql://bru@/{db}?host={sock}&port=5999"
    )));
    assert!(what.contains("5999"), "{what}: {message}");

    // Not a postgres URL at all.
    assert!(matches!(
        PgTarget::open("mysql://x@y/z"),
        Err(Error::Connect { .. })
    ));

    // The environment fills in what the URL leaves out.
    std::env::set_var("PGHOST", sock.to_string());
    std::env::set_var("PGPORT", "5432");
    std::env::set_var("PGUSER", "app");
    std::env::set_var("PGDATABASE", &db);
    std::env::set_var("PGPASSWORD", PASSWORD);
    PgSource::open("postgresql://").expect("everything from PG* variables");

    // Without PGPASSWORD, the password file is used...
    std::env::remove_var("PGPASSWORD");
    let dir = tempfile::tempdir().expect("temp dir");
    let pgpass = dir.path().join("pgpass");
    std::fs::write(
        &pgpass,
        format!("otherhost:*:*:app:nope\n{sock}:5432:*:app:{PASSWORD}\n"),
    )
    .expect("write pgpass");
    set_mode(&pgpass, 0o600);
    std::env::set_var("PGPASSFILE", &pgpass);
    PgSource::open("postgresql://").expect("password from PGPASSFILE");

    // ...but not when others can read it, as with libpq.
    set_mode(&pgpass, 0o644);
    let (_, message) = connect_error(PgSource::open("postgresql://"));
    assert!(!message.contains(PASSWORD), "{message}");

    // A wrong PGPASSWORD is not echoed either.
    std::env::set_var("PGPASSWORD", "Zz-secret-wrong-77");
    let (what, message) = connect_error(PgSource::open("postgresql://"));
    assert!(!format!("{what}{message}").contains("Zz-secret-wrong-77"));

    for k in [
        "PGHOST",
        "PGPORT",
        "PGUSER",
        "PGDATABASE",
        "PGPASSWORD",
        "PGPASSFILE",
    ] {
        std::env::remove_var(k);
    }

    // sslmode: the socket never uses TLS; disable and prefer connect,
    // require is refused by a server without TLS, as libpq does.
    let base = format!("postgresql://bru@/{db}?host={sock}&port=5432");
    PgSource::open(&format!("{base}&sslmode=disable")).expect("sslmode=disable");
    PgSource::open(&format!("{base}&sslmode=prefer")).expect("sslmode=prefer");
}

#[cfg(unix)]
fn set_mode(path: &std::path::Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

#[test]
fn sslmode_require_and_prefer_use_tls() {
    let Some((server, port)) = TestServer::start_tls() else {
        return;
    };
    let db = server.create_db("tls");
    // The server rejects non-TLS TCP logins, so a connection proves TLS.
    let base = format!("postgresql://bru@127.0.0.1:{port}/{db}");
    for mode in ["require", "prefer"] {
        let src = PgSource::open(&format!("{base}?sslmode={mode}"))
            .unwrap_or_else(|e| panic!("sslmode={mode}: {e}"));
        assert!(src.endpoint().contains("127.0.0.1"));
    }
    let (_, message) = connect_error(PgSource::open(&format!("{base}?sslmode=disable")));
    assert!(
        message.contains("no encryption") || message.contains("pg_hba"),
        "{message}"
    );
}
