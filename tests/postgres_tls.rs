//! State in PostgreSQL over verified TLS: `sslmode=require` in the URL and `[state] ca_file`.
//! tests/run.sh starts the server with TLS and a role, `cmdeploy_tls`, that pg_hba lets in only
//! over TLS, and exports CMDEPLOY_TEST_PG_TLS_URL and CMDEPLOY_TEST_PG_CA (the test fails, never
//! skips, without them).

mod common;

use common::Project;

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: run `bash tests/run.sh` (it starts PostgreSQL with TLS), or set CMDEPLOY_TEST_PG_TLS_URL (sslmode=require, a role that may connect only over TLS) and CMDEPLOY_TEST_PG_CA")
    })
}

fn tls_project(ca_file: bool) -> Project {
    let p = Project::example("contoso");
    std::fs::create_dir_all(p.path().join("certs")).unwrap();
    std::fs::copy(env("CMDEPLOY_TEST_PG_CA"), p.path().join("certs/pg-ca.pem")).unwrap();
    let name = format!(
        "tls-{}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    );
    let ca = if ca_file {
        "\nca_file = \"certs/pg-ca.pem\""
    } else {
        ""
    };
    p.edit(
        "cmdeploy.toml",
        "backend = \"local\"",
        &format!("backend = \"postgres\"\nurl = {{ env = \"PG_URL\" }}\nname = \"{name}\"{ca}"),
    );
    p
}

#[test]
fn state_goes_over_verified_tls_and_an_untrusted_server_is_refused() {
    let url = env("CMDEPLOY_TEST_PG_TLS_URL");
    let secret = common::url_password(&url).expect("the TLS URL has a password");
    // With the CA: apply and a no-op plan, through a role the server admits only over TLS.
    let p = tls_project(true);
    p.run_env(&["lab", "reset"], &[("PG_URL", &url)]).code(0);
    let apply = p.run_env(&["apply", "--auto-approve"], &[("PG_URL", &url)]);
    let apply = apply.code(0);
    assert!(!apply.all().contains(&secret));
    let plan = p.run_env(&["plan", "--detailed-exitcode"], &[("PG_URL", &url)]);
    plan.code(0);
    let list = p.run_env(&["state", "list"], &[("PG_URL", &url)]).code(0);
    assert_eq!(list.stdout.lines().count(), 25);

    // Without it, sslmode=require verifies against the public roots, which do not know the test
    // CA: refused, with the fix in the message and no password.
    let p = tls_project(false);
    let out = p.run_env(&["plan"], &[("PG_URL", &url)]).code(1);
    let all = out.all();
    assert!(all.contains("certificate"), "{all}");
    assert!(all.contains("ca_file"), "{all}");
    assert!(!all.contains(&secret), "the URL's password was printed");

    // The role cannot connect without TLS (what proves the first run used it).
    let plain = url.replace("sslmode=require", "sslmode=disable");
    let out = p.run_env(&["plan"], &[("PG_URL", &plain)]).code(1);
    assert!(
        out.all().contains("no encryption") || out.all().contains("pg_hba"),
        "{}",
        out.all()
    );
}
