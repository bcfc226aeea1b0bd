//! `cmdeploy validate`: every problem at once, each with its code, file and line.

mod common;

use common::Project;

#[test]
fn the_example_is_valid() {
    let p = Project::example("contoso");
    let out = p.run(&["validate"]).code(0);
    assert!(out.stdout.contains("Valid: 23 resources"), "{}", out.stdout);
}

#[test]
fn reports_unknown_reference_bad_site_code_and_long_push_password_together() {
    let p = Project::example("contoso");
    p.edit(
        "boundaries.toml",
        "boundaries = [\"branch_lan\"]",
        "boundaries = [\"branch_lann\"]",
    );
    p.edit("site.toml", "[site.ABC]\n", "[site.ABC]\ncode = \"ABCD\"\n");
    p.write("lab-secrets/push-account.txt", &"x".repeat(39));
    let out = p.run(&["validate"]).code(1);
    let err = out.stderr;
    // The unknown reference, with a did-you-mean, in boundaries.toml.
    assert!(err.contains("cmdeploy::reference::unknown"), "{err}");
    assert!(
        err.contains("boundary.branch_lann, which is not defined"),
        "{err}"
    );
    assert!(err.contains("did you mean `branch_lan`"), "{err}");
    assert!(
        err.contains("boundaries.toml:34"),
        "file and line of the reference: {err}"
    );
    // The 4-character site code in site.toml.
    assert!(err.contains("cmdeploy::site_code::format"), "{err}");
    assert!(
        err.contains("site code `ABCD` must be exactly 3 characters"),
        "{err}"
    );
    assert!(
        err.contains("site.toml:5"),
        "file and line of the site code: {err}"
    );
    // The 39-character push account password, at the password reference in site.toml.
    assert!(
        err.contains("cmdeploy::account::password_too_long"),
        "{err}"
    );
    assert!(err.contains("is 39 characters"), "{err}");
    assert!(
        err.contains("site.toml:16"),
        "file and line of the password: {err}"
    );
    assert!(err.contains("3 error(s)"), "exactly these three: {err}");
    assert!(
        !err.contains(&"x".repeat(39)),
        "the password itself is never shown"
    );
}

#[test]
fn cycles_and_unknown_kinds_and_fields_are_diagnostics() {
    let p = Project::example("contoso");
    p.write(
        "extra.toml",
        "[boundary_groop.x]\nname = \"x\"\n\n[boundary.loop_a]\nsite = \"ABC\"\ntype = \"ad_site\"\nvalue = \"A\"\ndepends_on = [\"boundary.loop_b\"]\n\n[boundary.loop_b]\nsite = \"ABC\"\ntype = \"ad_site\"\nvalue = \"B\"\ndepends_on = [\"boundary.loop_a\"]\n\n[boundary.typo]\nsite = \"ABC\"\ntype = \"ad_site\"\nvalu = \"C\"\n",
    );
    let err = p.run(&["validate"]).code(1).stderr;
    assert!(
        err.contains("unknown resource kind `boundary_groop`")
            && err.contains("did you mean `boundary_group`"),
        "{err}"
    );
    assert!(
        err.contains("cmdeploy::graph::cycle")
            && err.contains("boundary.loop_a -> boundary.loop_b"),
        "{err}"
    );
    assert!(
        err.contains("unknown field `valu`") && err.contains("did you mean `value`"),
        "{err}"
    );
    assert!(err.contains("extra.toml:1"), "{err}");
}

#[test]
fn supernets_and_overlapping_assignment_boundaries_are_refused() {
    let p = Project::example("contoso");
    p.write(
        "extra.toml",
        "[boundary.wide]\nsite = \"ABC\"\ntype = \"ip_subnet\"\nvalue = \"192.168.0.0/16\"\n\n[boundary_group.other]\nsite = \"ABC\"\nassignment_site = \"XYZ\"\nboundaries = [\"hq_lan\"]\n",
    );
    let err = p.run(&["validate"]).code(1).stderr;
    assert!(
        err.contains("cmdeploy::boundary::supernet") && err.contains("192.168.0.0-192.168.255.255"),
        "{err}"
    );
    assert!(
        err.contains("cmdeploy::boundary::assignment_overlap"),
        "{err}"
    );
}

#[test]
fn syntax_errors_point_at_the_line() {
    let p = Project::example("contoso");
    p.write("broken.toml", "[boundary.x]\nsite = \"ABC\"\ntype = \n");
    let err = p.run(&["validate"]).code(1).stderr;
    assert!(
        err.contains("cmdeploy::toml::syntax") && err.contains("broken.toml:3"),
        "{err}"
    );
}

#[test]
fn a_subnet_inside_a_range_assigned_to_another_site_overlaps() {
    let p = Project::example("contoso");
    p.write(
        "extra.toml",
        "[boundary.campus]\nsite = \"ABC\"\ntype = \"ip_range\"\nvalue = \"10.1.200.1-10.1.200.254\"\n\n[boundary_group.campus]\nsite = \"ABC\"\nassignment_site = \"XYZ\"\nboundaries = [\"campus\"]\n",
    );
    let err = p.run(&["validate"]).code(1).stderr;
    assert!(
        err.contains("cmdeploy::boundary::assignment_overlap"),
        "{err}"
    );
    assert!(
        err.contains("boundary.campus") && err.contains("boundary.hq_lan"),
        "{err}"
    );
    // The same range assigned to the same site is fine.
    p.edit(
        "extra.toml",
        "assignment_site = \"XYZ\"",
        "assignment_site = \"ABC\"",
    );
    p.run(&["validate"]).code(0);
}

#[test]
fn validate_json_lists_codes_files_and_lines() {
    let p = Project::example("contoso");
    p.edit("site.toml", "[site.ABC]\n", "[site.ABC]\ncode = \"AB\"\n");
    let out = p.run(&["validate", "--format", "json"]).code(1);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(v["valid"], false);
    let d = &v["diagnostics"][0];
    assert_eq!(d["code"], "cmdeploy::site_code::format");
    assert_eq!(d["line"], 5);
    assert!(d["file"].as_str().unwrap().ends_with("site.toml"));
    let ok = Project::example("contoso")
        .run(&["validate", "--format", "json"])
        .code(0);
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&ok.stdout).unwrap()["valid"],
        true
    );
}

/// Regression: `FSP = "{{ 'x' * 100000000 }}"` made `validate` allocate gigabytes (CI runs
/// validate on pull requests). Amplifying templates are refused at the value, and an over-long
/// value is one diagnostic.
#[test]
fn amplifying_templates_and_overlong_values_are_refused_at_the_value() {
    let p = Project::example("contoso");
    p.edit(
        "client_push.toml",
        "FSP = \"fspserver.contoso.com\"",
        "FSP = \"{{ 'x' * 100000000 }}\"",
    );
    let long = "y".repeat(100_000);
    let text = p.read("boundaries.toml");
    p.write(
        "boundaries.toml",
        &text.replacen("name = \"HQ LAN\"", &format!("name = \"{long}\""), 1),
    );
    let out = p.run(&["validate"]).code(1);
    let err = &out.stderr;
    assert!(err.contains("cmdeploy::template::render"), "{err}");
    assert!(err.contains("client_push.toml:12"), "{err}");
    assert!(
        err.contains("`* 100000000"),
        "points at the operator: {err}"
    );
    assert!(err.contains("cmdeploy::manifest::value_too_long"), "{err}");
    assert!(err.contains("boundaries.toml:7"), "{err}");
    assert!(
        err.len() < 20_000,
        "the long value is not echoed whole: {} bytes",
        err.len()
    );
}

#[test]
fn filters_with_literal_arguments_render() {
    let p = Project::example("contoso");
    p.edit(
        "client_push.toml",
        "FSP = \"fspserver.contoso.com\"",
        "FSP = \"{{ 'FSPSERVER' | lower | replace('server', 'server.contoso.com') }}\"",
    );
    p.run(&["validate"]).code(0);
}

/// A manifest can name `/dev/zero` as a hosts file, and git stores a symbolic link to it as a
/// manifest: both used to be read without end. Only regular files are read, and only so much.
#[cfg(unix)]
#[test]
fn devices_and_links_to_them_are_not_read_as_input() {
    let p = Project::example("contoso");
    std::os::unix::fs::symlink("/dev/zero", p.path().join("zzz.toml")).unwrap();
    let text = p.read("clients.toml");
    let text = text.replacen("hosts = [", "hosts_file = \"/dev/zero\"\nhosts_ = [", 1);
    p.write("clients.toml", &text);
    let out = p.run(&["validate"]).code(1);
    assert!(out.stderr.contains("zzz.toml"), "{}", out.stderr);
    assert!(out.stderr.contains("not a regular file"), "{}", out.stderr);
}

/// `auth = "kerberos"` validates (it works: message encryption over HTTP, channel binding over
/// HTTPS, a private CA); what truly cannot work is said at validate time: a host without a DNS
/// domain and a user without a realm give Kerberos no realm to ask.
#[test]
fn kerberos_validates_and_a_missing_realm_is_refused_with_the_reason() {
    let p = Project::example("contoso");
    p.edit(
        "cmdeploy.toml",
        "transport = \"lab\"\nhost = \"cm01.contoso.com\"",
        "transport = \"winrm\"\nauth = \"kerberos\"\nhttps = true\nca_file = \"ca.pem\"\nuser = 'CONTOSO\\cmadmin'\npassword = { file = \"lab-secrets/admin.txt\" }\nhost = \"cm01.contoso.com\"",
    );
    p.run(&["validate"]).code(0);
    p.edit(
        "cmdeploy.toml",
        "host = \"cm01.contoso.com\"",
        "host = \"cm01\"",
    );
    let out = p.run(&["validate"]).code(1);
    assert!(out.stderr.contains("needs a realm"), "{}", out.stderr);
    p.edit(
        "cmdeploy.toml",
        "'CONTOSO\\cmadmin'",
        "'cmadmin@CONTOSO.COM'",
    );
    p.run(&["validate"]).code(0);
}

/// One type error in a table no longer hides the later mistakes in it, and an unknown field is
/// named with the nearest known one, not with the list of every field the table takes.
#[test]
fn every_mistake_of_a_table_is_reported_and_unknown_fields_suggest_one_name() {
    let p = Project::example("contoso");
    p.write(
        "extra.toml",
        "[boundary.multi]\nsite = \"ABC\"\ntype = 5\nvalu = \"10.9.0.0/16\"\nname = 7\n\n[client_group.odd]\nmethod = \"manual\"\nsite = \"ABC\"\nhosts = [\"ws90\"]\nqqqq_zzzz = 1\n",
    );
    let out = p.run(&["validate", "--format", "json"]).code(1);
    let json: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let found: Vec<(String, i64, String)> = json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| {
            d["file"]
                .as_str()
                .is_some_and(|f| f.ends_with("extra.toml"))
        })
        .map(|d| {
            (
                d["message"].as_str().unwrap().to_string(),
                d["line"].as_i64().unwrap(),
                d["help"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    let at = |line: i64| {
        found
            .iter()
            .find(|(_, l, _)| *l == line)
            .unwrap_or_else(|| panic!("nothing reported at extra.toml:{line}: {found:#?}"))
    };
    at(3); // type = 5
    assert_eq!(at(4).0, "unknown field `valu`");
    assert_eq!(at(4).2, "did you mean `value`?");
    assert!(at(5).0.contains("invalid type"), "{found:#?}"); // name = 7
    let (message, _, help) = at(11);
    assert_eq!(message, "unknown field `qqqq_zzzz`");
    assert!(
        !help.contains("hosts_file")
            && !help.contains("properties")
            && help.contains("cmdeploy schema"),
        "{help}"
    );
    assert_eq!(found.len(), 4, "{found:#?}");
}

/// Line and column (1-based) of the first `needle` in a project file.
fn position(p: &Project, file: &str, needle: &str) -> (u64, u64) {
    let text = p.read(file);
    let at = text
        .find(needle)
        .unwrap_or_else(|| panic!("{needle} not in {file}"));
    let line = text[..at].matches('\n').count() as u64 + 1;
    let column = (at - text[..at].rfind('\n').map_or(0, |n| n + 1)) as u64 + 1;
    (line, column)
}

fn json_diagnostics(p: &Project) -> Vec<serde_json::Value> {
    let out = p.run(&["validate", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}{}", out.stdout, out.stderr));
    v["diagnostics"].as_array().cloned().unwrap_or_default()
}

fn at(d: &serde_json::Value) -> (String, u64, u64) {
    (
        d["file"]
            .as_str()
            .unwrap_or_default()
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .to_string(),
        d["line"].as_u64().unwrap_or_default(),
        d["column"].as_u64().unwrap_or_default(),
    )
}

/// Regression: the CCMSetup model's findings pointed at the table header (`[client_push.ABC]`),
/// not at the property that is wrong.
#[test]
fn ccmsetup_findings_point_at_the_property_value() {
    let p = Project::example("contoso");
    // A sub-table property, an inline-table property of a GPO's client_deployment, and a
    // parameter of a client group.
    p.edit(
        "client_push.toml",
        "SMSSITECODE = \"ABC\"",
        "SMSSITECODE = \"ABCD\"",
    );
    p.edit(
        "gpo.toml",
        "properties = { SMSSITECODE = \"ABC\"",
        "properties = { SMSSITECODE = \"XY\"",
    );
    p.edit(
        "clients.toml",
        "properties = { SMSSITECODE = \"ABC\", DNSSUFFIX",
        "properties = { SMSSITECODE = \"ABC\", SMSCACHESIZE = 0, DNSSUFFIX",
    );
    let diags = json_diagnostics(&p);
    let find = |code: &str, message: &str| {
        diags
            .iter()
            .find(|d| {
                d["code"] == code && d["message"].as_str().unwrap_or_default().contains(message)
            })
            .map(at)
            .unwrap_or_else(|| panic!("no {code} about {message}: {diags:#?}"))
    };
    let (line, column) = position(&p, "client_push.toml", "\"ABCD\"");
    assert_eq!(
        find("cmdeploy::ccmsetup::site_code", "ABCD"),
        ("client_push.toml".to_string(), line, column)
    );
    let (line, column) = position(&p, "gpo.toml", "\"XY\"");
    assert_eq!(
        find("cmdeploy::ccmsetup::site_code", "`XY`"),
        ("gpo.toml".to_string(), line, column)
    );
    let (line, column) = position(&p, "clients.toml", "0, DNSSUFFIX");
    let range = diags
        .iter()
        .find(|d| d["code"] == "cmdeploy::ccmsetup::range")
        .map(at)
        .unwrap_or_else(|| panic!("no range finding: {diags:#?}"));
    assert_eq!(range, ("clients.toml".to_string(), line, column));
}

/// A finding about one item of a list points at that item.
#[test]
fn ccmsetup_findings_point_at_the_list_item() {
    let p = Project::example("contoso");
    p.edit(
        "clients.toml",
        "ccmsetup = { mp = [\"mpserver.contoso.com\"], UsePKICert = true }",
        "ccmsetup = { mp = [\"mpserver.contoso.com\", \"contoso.cloudapp.net/CCM_Proxy_MutualAuth/72057594037928025\"], UsePKICert = true }",
    );
    let diags = json_diagnostics(&p);
    let d = diags
        .iter()
        .find(|d| d["code"] == "cmdeploy::ccmsetup::mp_cmg_scheme")
        .unwrap_or_else(|| panic!("{diags:#?}"));
    let (line, column) = position(&p, "clients.toml", "\"contoso.cloudapp.net");
    assert_eq!(at(d), ("clients.toml".to_string(), line, column));
}

/// A `setup_parameters` string is the command line itself: a finding points inside it, at the
/// token.
#[test]
fn setup_parameters_findings_point_inside_the_string() {
    let p = Project::example("contoso");
    p.edit(
        "gpo.toml",
        "properties = { SMSSITECODE = \"ABC\", FSP = \"fspserver.contoso.com\" }",
        "setup_parameters = \"FSP=fspserver.contoso.com SMSSITECODE=ABCD\"",
    );
    let diags = json_diagnostics(&p);
    let d = diags
        .iter()
        .find(|d| d["code"] == "cmdeploy::ccmsetup::site_code")
        .unwrap_or_else(|| panic!("{diags:#?}"));
    let (line, column) = position(&p, "gpo.toml", "SMSSITECODE=ABCD");
    assert_eq!(at(d), ("gpo.toml".to_string(), line, column));
}

/// Regression: an unset secret variable or a missing secret file was found by `plan` only; a
/// pull request's `validate` passed.
#[test]
fn unreadable_secrets_are_found_by_validate_at_the_reference() {
    let p = Project::example("contoso");
    p.edit(
        "site.toml",
        "password = { file = \"lab-secrets/push-account.txt\" }",
        "password = { env = \"CMDEPLOY_TEST_UNSET_SECRET\" }",
    );
    std::fs::remove_file(p.path().join("lab-secrets/network-access.txt")).unwrap();
    let diags = json_diagnostics(&p);
    let unreadable: Vec<(String, u64, u64)> = diags
        .iter()
        .filter(|d| d["code"] == "cmdeploy::secret::unreadable")
        .map(at)
        .collect();
    let env = position(&p, "site.toml", "{ env = \"CMDEPLOY_TEST_UNSET_SECRET\" }");
    let file = position(
        &p,
        "site.toml",
        "{ file = \"lab-secrets/network-access.txt\" }",
    );
    assert_eq!(
        unreadable,
        vec![
            ("site.toml".to_string(), env.0, env.1),
            ("site.toml".to_string(), file.0, file.1)
        ],
        "{diags:#?}"
    );
    let text = p.run(&["validate"]).code(1);
    assert!(
        text.stderr
            .contains("CMDEPLOY_TEST_UNSET_SECRET is not set"),
        "{}",
        text.stderr
    );
    // Set, the variable is read and validate passes.
    p.write("lab-secrets/network-access.txt", "naa-password");
    p.run_env(&["validate"], &[("CMDEPLOY_TEST_UNSET_SECRET", "x")])
        .code(0);
}
