//! A PostgreSQL target asked directly (as a caller that skipped the
//! restore's own check would) to create an object whose SQL is not the
//! object it declares: the target checks again before it runs anything, so
//! the unrelated table and its rows stay, and nothing is created.

use bru_core::{ObjectDef, ObjectKind, TableName, Target};
use bru_postgres::{PgTarget, ENGINE_NAME};
use bru_testsupport::pg::TestServer;

#[test]
fn the_target_refuses_archive_sql_that_is_not_the_declared_object() {
    let Some((server, db)) = TestServer::start_with_db(
        "hostile_target",
        "CREATE TABLE public.victim (a int); INSERT INTO public.victim VALUES (1), (2), (3);",
    ) else {
        return;
    };
    let mut target = PgTarget::open(&server.url(&db)).expect("open target");
    let view = |ddl: &str| {
        ObjectDef::new(
            ObjectKind::View,
            TableName::new(Some("public"), "v"),
            ENGINE_NAME,
            ddl,
        )
    };
    let attacks = [
        (
            view("CREATE VIEW public.v AS SELECT 1; DELETE FROM public.victim"),
            "second statement",
        ),
        (view("DELETE FROM public.victim"), "starts with `DELETE"),
        (
            view("CREATE VIEW public.victim_copy AS SELECT * FROM public.victim"),
            "not public.v",
        ),
        (
            ObjectDef {
                table: Some(TableName::new(Some("public"), "victim")),
                ..ObjectDef::new(
                    ObjectKind::Other("policy".into()),
                    TableName::new(Some("public"), "p"),
                    ENGINE_NAME,
                    "CREATE POLICY p ON public.victim USING (false); DELETE FROM public.victim",
                )
            },
            "second statement",
        ),
        (
            ObjectDef::new(
                ObjectKind::Other("text search dictionary".into()),
                TableName::new(Some("public"), "d"),
                ENGINE_NAME,
                "CREATE TEXT SEARCH DICTIONARY public.other (TEMPLATE = simple)",
            ),
            "not public.d",
        ),
        (
            ObjectDef::new(
                ObjectKind::Other("widget".into()),
                TableName::new(Some("public"), "w"),
                ENGINE_NAME,
                "DELETE FROM public.victim",
            ),
            "no PostgreSQL restore runs",
        ),
    ];
    for (object, why) in attacks {
        let err = target
            .create_object(&object)
            .expect_err(&object.ddl)
            .to_string();
        assert!(
            err.contains(why) && err.contains("altered"),
            "{}: {err}",
            object.ddl
        );
    }
    assert_eq!(
        server.psql(&db, "SELECT count(*) FROM public.victim"),
        "3\n"
    );
    assert_eq!(
        server.psql(
            &db,
            "SELECT count(*) FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n \
             ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relname <> 'victim'"
        ),
        "0\n"
    );
    // The object itself is created.
    let ok = view("CREATE VIEW public.v AS SELECT a FROM public.victim");
    target.create_object(&ok).expect("the declared view");
    assert_eq!(server.psql(&db, "SELECT count(*) FROM public.v"), "3\n");
}
