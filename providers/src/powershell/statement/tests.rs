//! Tests of the statement module.
use super::*;
use serde_json::json;

fn ok(line: &str) -> Statement {
    match parse_statement(line) {
        Ok(s) => s,
        Err(e) => panic!("{line:?} should parse, got {e}"),
    }
}

fn err(line: &str) -> StatementError {
    match parse_statement(line) {
        Ok(s) => panic!("{line:?} should be rejected, got {s:?}"),
        Err(e) => e,
    }
}

fn args(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

#[test]
fn boolean_false_and_string() {
    let s = ok(
        "Set-CMClientPushInstallation -SiteCode ABC -EnableAutomaticClientPushInstallation $false",
    );
    assert_eq!(s.cmdlet, "Set-CMClientPushInstallation");
    assert_eq!(
        s.args,
        args(json!({"SiteCode": "ABC", "EnableAutomaticClientPushInstallation": false}))
    );
    assert!(!s.to_json);
}

#[test]
fn quoted_strings() {
    let s = ok(r#"New-CMBoundary -Name 'HQ LAN' -Type IPSubnet -Value "10.1.0.0/16""#);
    assert_eq!(
        s.args,
        args(json!({"Name": "HQ LAN", "Type": "IPSubnet", "Value": "10.1.0.0/16"}))
    );
    let s = ok("New-CMBoundary -Name 'it''s' -Value \"say `\"hi`\" `$5`n\"");
    assert_eq!(s.args["Name"], json!("it's"));
    assert_eq!(s.args["Value"], json!("say \"hi\" $5\n"));
    let s = ok(r#"X-Y -A "a""b" -B "cost $ 5" -C "`u{263A}""#);
    assert_eq!(s.args["A"], json!("a\"b"));
    assert_eq!(s.args["B"], json!("cost $ 5"));
    assert_eq!(s.args["C"], json!("\u{263A}"));
}

#[test]
fn lists() {
    let s = ok(
        "Set-CMBoundaryGroup -Name HQ -AddSiteSystemServerName 'mp1.contoso.com','dp1.contoso.com'",
    );
    assert_eq!(
        s.args["AddSiteSystemServerName"],
        json!(["mp1.contoso.com", "dp1.contoso.com"])
    );
    let s = ok("Set-CMBoundaryGroup -Name HQ -AddSiteSystemServerName @('a', 'b') -X 'c' , 'd'");
    assert_eq!(s.args["AddSiteSystemServerName"], json!(["a", "b"]));
    assert_eq!(s.args["X"], json!(["c", "d"]));
    let s = ok("Set-CMBoundaryGroup -Name HQ -RemoveSiteSystemServerName @()");
    assert_eq!(s.args["RemoveSiteSystemServerName"], json!([]));
    let s = ok("Set-CMBoundaryGroup -Name HQ -RemoveSiteSystemServerName @( )");
    assert_eq!(s.args["RemoveSiteSystemServerName"], json!([]));
    err("X-Y -A @('a'),'b'");
    err("X-Y -A 'a',");
    err("X-Y -A @('a'");
}

#[test]
fn convert_to_json() {
    let s = ok("Get-CMBoundaryGroup | ConvertTo-Json");
    assert!(s.to_json);
    assert!(s.args.is_empty());
    let s = ok("Get-CMBoundaryGroup -Name HQ|convertto-json -Depth 5 -Compress");
    assert!(s.to_json);
    assert_eq!(s.args, args(json!({"Name": "HQ"})));
    assert!(err("Get-CMBoundaryGroup | Select-Object Name")
        .message
        .contains("ConvertTo-Json"));
    err("Get-CMBoundaryGroup | ConvertTo-Json | Out-File x");
    err("Get-CMBoundaryGroup | ConvertTo-Json -Depth x");
    // Windows PowerShell 5.1's ConvertTo-Json: no -EnumsAsStrings, no -AsArray, -Depth 1 to 100.
    err("Get-GPO -All | ConvertTo-Json -EnumsAsStrings");
    err("Get-GPO -All | ConvertTo-Json -AsArray");
    err("Get-GPO -All | ConvertTo-Json -Depth 0");
    err("Get-CMBoundaryGroup | ConvertTo-Json 5");
    err("Get-CMBoundaryGroup |");
    err("Get-CMBoundaryGroup || Get-CMSite");
}

#[test]
fn switches_colon_null_numbers() {
    let s = ok("Remove-CMBoundary -Name X -Force");
    assert_eq!(s.args, args(json!({"Name": "X", "Force": true})));
    let s = ok("Remove-CMBoundary -Force -Name X");
    assert_eq!(s.args, args(json!({"Name": "X", "Force": true})));
    let s = ok("Set-X -Param:$true -Flag:$false -Other: 'v' -Description $null");
    assert_eq!(
        s.args,
        args(json!({"Param": true, "Flag": false, "Other": "v", "Description": null}))
    );
    let s = ok("Set-CMClientStatusSetting -StateMessageCount 10000 -Offset -5 -Ratio 1.5 -Size 10MB -Mask 0x10");
    assert_eq!(s.args["StateMessageCount"], json!(10000));
    assert_eq!(s.args["Offset"], json!(-5));
    assert_eq!(s.args["Ratio"], json!(1.5));
    assert_eq!(s.args["Size"], json!(10 * 1024 * 1024));
    assert_eq!(s.args["Mask"], json!(16));
    let s = ok("Set-X -A:-5 -B 10.1.0.0 -C 5x -D `-5 -E TRUE");
    assert_eq!(s.args["A"], json!(-5));
    assert_eq!(s.args["B"], json!("10.1.0.0"));
    assert_eq!(s.args["C"], json!("5x"));
    assert_eq!(s.args["D"], json!("-5"));
    assert_eq!(s.args["E"], json!("TRUE"));
    let s = ok(r"New-CMAccount -UserName d\u -SiteCode ABC   ");
    assert_eq!(s.args["UserName"], json!(r"d\u"));
    err("Set-X -Param:");
    err("Set-X -Param: | ConvertTo-Json");
}

#[test]
fn unicode_quotes_and_dashes() {
    let s = ok("New\u{2013}CMBoundary \u{2013}Name \u{2018}HQ\u{2019} \u{2014}Value \u{201C}10.0.0.0/8\u{201D} \u{2015}Force");
    assert_eq!(s.cmdlet, "New-CMBoundary");
    assert_eq!(
        s.args,
        args(json!({"Name": "HQ", "Value": "10.0.0.0/8", "Force": true}))
    );
    // Any single quote doubled with any single quote is one quote.
    let s = ok("X-Y -A 'a\u{2019}\u{2019}b'");
    assert_eq!(s.args["A"], json!("a\u{2019}b"));
    // A curly quote closes an ASCII-opened string, like PowerShell.
    assert!(parse_statement("Write-Output 'a\u{2019}; Remove-Item x; \u{2018}'").is_err());
    let s = ok("X-Y -A \u{2013}5");
    assert_eq!(s.args["A"], json!(-5));
}

#[test]
fn rejects_evaluation() {
    let e = err(r#"New-CMBoundary -Name "HQ $site""#);
    assert!(e.message.contains("does not evaluate variables"), "{e}");
    assert_eq!(e.offset, 25);
    assert_eq!(e.column, 26);
    assert!(err(r#"New-CMBoundary -Name "HQ $(Get-Date)""#)
        .message
        .contains("sub-expression"));
    assert!(err(r#"New-CMBoundary -Name "${x}""#)
        .message
        .contains("variable"));
    assert!(err("New-CMBoundary -Name $site")
        .message
        .contains("variables are not evaluated"));
    assert!(err("New-CMBoundary -Name $env:COMPUTERNAME")
        .message
        .contains("not evaluated"));
    assert!(err("New-CMBoundary -Name $(hostname)")
        .message
        .contains("sub-expression"));
    assert!(err("New-CMBoundary -Name (hostname)")
        .message
        .contains("parenthesised"));
    assert!(err("New-CMBoundary -Name a$b").message.contains("variable"));
    err("Get-CMSite; Remove-CMBoundary -Name X");
    err("Get-CMSite -Name X;");
    err("Get-CMSite\nRemove-CMBoundary -Name X");
    err("Get-CMSite && Get-CMSite");
    assert!(err("Get-CMSite | Where-Object { $_.Name }")
        .message
        .contains("ConvertTo-Json"));
    assert!(err("Invoke-Command -ScriptBlock { Get-CMSite }")
        .message
        .contains("script block"));
    err("New-CMBoundary -Name @{a=1}");
    assert!(err("New-CMBoundary @params").message.contains("splatting"));
    assert!(err("Remove-CMBoundary $b").message.contains("variables"));
    assert!(err(r"PS C:\> Get-CMSite").message.contains("prompt"));
    assert!(err(r"PS XYZ:\>Get-CMSite").message.contains("prompt"));
    assert!(err("(Get-CMSite).SiteCode")
        .message
        .contains("parenthesised"));
    err("New-CMBoundary -Name [string]5");
    err("$x = Get-CMSite");
    err("Get-CMSite > out.txt");
    err("Get-CMSite 2>&1");
    err("New-CMBoundary -Name 'HQ");
    err("New-CMBoundary -Name \"HQ");
    err("New-CMBoundary -Name 'a'b");
    err("New-CMBoundary -Name a'b'");
    err("New-CMBoundary -Name x -name y");
    err("");
    err("   ");
    err("'Get-CMSite'");
    err("New-CMBoundary -Name'x'");
}

#[test]
fn positional_arguments_name_the_parameter() {
    let e = err("Get-CMBoundaryGroup HQ");
    assert!(e.message.contains("positional"), "{e}");
    assert_eq!(e.column, 21);
    struct Hints;
    impl PositionalHints for Hints {
        fn positional_parameters(&self, cmdlet: &str, position: usize) -> Vec<String> {
            if cmdlet == "Get-CMBoundaryGroup" && position == 0 {
                vec!["Name".to_string()]
            } else {
                Vec::new()
            }
        }
    }
    let e = parse_statement_with_hints("Get-CMBoundaryGroup HQ", &Hints).unwrap_err();
    assert!(e.message.contains("-Name HQ"), "{e}");
}

#[test]
fn trailing_newline_and_comment_are_fine() {
    let s = ok("Get-CMSite -SiteCode ABC\r\n");
    assert_eq!(s.args["SiteCode"], json!("ABC"));
    let s = ok("Get-CMSite -SiteCode ABC # the primary");
    assert_eq!(s.args.len(), 1);
    let s = ok("Get-CMSite `\n -SiteCode ABC");
    assert_eq!(s.args["SiteCode"], json!("ABC"));
}

#[test]
fn offsets_are_bytes_columns_are_chars() {
    let e = err("New-CMBoundary -Name \u{2018}\u{00e9}\u{2019} $x");
    assert_eq!(e.column, 26);
    assert_eq!(
        e.offset,
        "New-CMBoundary -Name \u{2018}\u{00e9}\u{2019} ".len()
    );
}

proptest::proptest! {
    #[test]
    fn never_panics_on_any_string(line in ".*") {
        let _ = parse_statement(&line);
    }

    #[test]
    fn never_panics_on_powershell_like_text(
        line in "[-\u{2013}\u{2014}a-zA-Z0-9 '\"`$@(),|;:{}#.\u{2018}\u{2019}\u{201C}\u{201D}\n\r\\[\\]]{0,48}"
    ) {
        if let Err(e) = parse_statement(&line) {
            proptest::prop_assert!(e.offset <= line.len());
            proptest::prop_assert!(line.is_char_boundary(e.offset));
            proptest::prop_assert!(e.column <= line.chars().count() + 1);
        }
    }
}
