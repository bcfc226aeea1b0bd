//! `account`: a ConfigMgr account (client push installation account, network access account).
//! ConfigMgr never returns passwords, so a password change is detected by its keyed fingerprint
//! (PSRef New-/Set-/Remove-CMAccount; configmgr.md §2.5).
//!
//! The password is optional. Without one, cmdeploy manages the account's existence only and never
//! touches its password: that is how `cmdeploy import` writes accounts it adopts, because
//! ConfigMgr cannot say what their passwords are. Adding `password = { env = ... }` later starts
//! managing it: no fingerprint is in state yet, so the next plan updates the account once
//! (`Set-CMAccount -Password`) and later plans only when the secret changes. Creating an account
//! needs a password (`New-CMAccount -Password` is mandatory).

use serde::Deserialize;
use serde_json::json;

use cmdeploy_engine::diagnostics::Diagnostic;
use cmdeploy_engine::import::Imported;
use cmdeploy_engine::provider::{
    Applied, Context, DecodeInput, Decoded, Kind, Observed, OpAction, Operation, ReadOutcome,
    ReadRequest, ReadResult, RemoteError,
};
use cmdeploy_engine::resource::Connection;
use cmdeploy_engine::secret::SecretRef;
use cmdeploy_engine::spanned::Spanned;

use crate::kit;
use crate::powershell::{Call, Script, Target};

/// `[account.NAME]`.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountSpec {
    /// Key of the `site` the account is defined at (push accounts of a secondary site are defined
    /// at the secondary site).
    pub site: Spanned<String>,
    /// `DOMAIN\user`.
    pub user_name: Spanned<String>,
    /// The password, as a secret reference (`{ env = "VAR" }` or `{ file = "path" }`). Leave it
    /// out to manage an existing account without touching its password (needed to create one).
    #[serde(default)]
    pub password: Option<Spanned<SecretRef>>,
}

/// The `account` kind.
pub struct AccountKind;

#[async_trait::async_trait]
impl Kind for AccountKind {
    fn name(&self) -> &'static str {
        "account"
    }

    fn description(&self) -> &'static str {
        "A ConfigMgr account (DOMAIN\\user and a password from a secret reference)."
    }

    fn schema(&self, generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        generator.subschema_for::<AccountSpec>()
    }

    fn decode(&self, input: DecodeInput<'_>) -> Result<Decoded, Vec<Diagnostic>> {
        let file = input.file.clone();
        let spec: AccountSpec = kit::decode_typed(input, "account")?;
        let user = &spec.user_name.value;
        let valid = user
            .split_once('\\')
            .is_some_and(|(d, u)| !d.is_empty() && !u.is_empty() && !u.contains('\\'));
        if !valid {
            return Err(vec![Diagnostic::error("cmdeploy::account::user_name", format!("`{user}` is not in the form DOMAIN\\user"))
                .with_help("ConfigMgr accounts are domain accounts, e.g. user_name = 'CONTOSO\\svc-cmpush' (New-CMAccount -UserName)")
                .at_span(&file, spec.user_name.span.clone())]);
        }
        let mut attrs = serde_json::Map::new();
        attrs.insert("user_name".into(), json!(user));
        let (connection, _no_edge, meta) = super::site_binding(&spec.site, false);
        let mut d = Decoded::new(attrs, connection, user.to_lowercase());
        d.meta = meta;
        d.attr_spans
            .insert("user_name".into(), spec.user_name.span.clone());
        if let Some(password) = spec.password {
            d.attr_spans
                .insert("password".into(), password.span.clone());
            d.secrets.insert("password".into(), password);
        }
        Ok(d)
    }

    fn importable(&self) -> bool {
        true
    }

    fn imports_from(&self, ctx: &Context, connection: &Connection) -> bool {
        super::listing::is_site_server(ctx, connection)
    }

    async fn list(
        &self,
        ctx: &Context,
        connection: &Connection,
    ) -> Result<Vec<Imported>, RemoteError> {
        super::listing::accounts(ctx, connection).await
    }

    async fn read(&self, ctx: &Context, requests: Vec<ReadRequest>) -> Vec<ReadResult> {
        let Some(connection) = requests.first().map(|r| r.connection.clone()) else {
            return Vec::new();
        };
        // Accounts of several sites can share a connection (a secondary site is managed through
        // its parent's provider): one Get-CMAccount per site code, in one Script.
        let codes: Vec<String> = requests
            .iter()
            .map(|r| kit::site_code(ctx, &kit::meta_of(r.desired.as_ref(), r.prior.as_ref())))
            .collect();
        let mut distinct = codes.clone();
        distinct.sort();
        distinct.dedup();
        let mut script = Script::new(Target::SiteServer {
            site_code: codes[0].clone(),
        });
        for code in &distinct {
            script.push(Call::new("Get-CMAccount").arg("SiteCode", code.as_str()));
        }
        let out = kit::run(ctx, &connection, &script).await;
        requests
            .into_iter()
            .zip(codes)
            .map(|(r, code)| {
                let key = r
                    .desired
                    .as_ref()
                    .map(|d| d.natural_key.clone())
                    .or_else(|| r.prior.as_ref().map(|p| p.natural_key.clone()))
                    .unwrap_or_default();
                let id = distinct.iter().position(|c| *c == code).unwrap_or(0);
                let all = out
                    .as_ref()
                    .map_err(Clone::clone)
                    .and_then(|o| kit::value_of(&connection, &script, o, id).cloned());
                let outcome = match &all {
                    Err(e) => ReadOutcome::Failed(e.clone()),
                    Ok(v) => match kit::items(v)
                        .into_iter()
                        .find(|a| kit::s(a, "UserName").eq_ignore_ascii_case(&key))
                    {
                        Some(a) => ReadOutcome::Present(Observed {
                            id: account_id(&code, kit::s(a, "UserName")),
                            attrs: [("user_name".to_string(), json!(kit::s(a, "UserName")))]
                                .into_iter()
                                .collect(),
                            notes: Vec::new(),
                            private: Default::default(),
                        }),
                        None => ReadOutcome::Absent,
                    },
                };
                ReadResult {
                    address: r.address,
                    outcome,
                }
            })
            .collect()
    }

    fn plan_notes(
        &self,
        desired: Option<&cmdeploy_engine::resource::Resource>,
        observed: Option<&Observed>,
    ) -> Vec<String> {
        match desired {
            Some(d) if observed.is_none() && !d.secrets.contains_key("password") => vec![format!(
                "{} has no password: ConfigMgr needs one to create the account; add password = {{ env = \"...\" }}",
                d.address
            )],
            _ => Vec::new(),
        }
    }

    async fn apply(&self, ctx: &Context, op: Operation) -> Result<Applied, RemoteError> {
        let code = kit::site_code(ctx, &kit::meta_of(op.desired.as_ref(), op.prior.as_ref()));
        let target = Target::SiteServer {
            site_code: code.clone(),
        };
        let host = op.connection.host();
        let user = op
            .desired
            .as_ref()
            .and_then(|d| d.str_attr("user_name").map(str::to_string))
            .or_else(|| {
                op.prior.as_ref().map(|p| {
                    p.attributes
                        .get("user_name")
                        .and_then(serde_json::Value::as_str)
                        .map(str::to_string)
                        // A state written before ids carried the site code holds the user alone.
                        .unwrap_or_else(|| user_of_id(&p.id).to_string())
                })
            })
            .unwrap_or_default();
        let call = match op.action {
            OpAction::Delete => Call::new("Remove-CMAccount")
                .arg("UserName", user.as_str())
                .switch("Force"),
            OpAction::Create | OpAction::Update => {
                let password = op.secrets.get("password").ok_or_else(|| {
                    let why = match op.desired.as_ref().map(|d| d.secrets.contains_key("password")) {
                        Some(true) => "could not be read".to_string(),
                        _ => format!("is not set: {} needs `password = {{ env = \"...\" }}` to create or change the account (New-CMAccount -Password)", op.address),
                    };
                    RemoteError::new(host.clone(), format!("the password of {user} {why}"))
                })?;
                let verb = if op.action == OpAction::Create {
                    "New-CMAccount"
                } else {
                    "Set-CMAccount"
                };
                Call::new(verb)
                    .arg("UserName", user.as_str())
                    .secret("Password", password)
                    .arg("SiteCode", code.as_str())
            }
        };
        kit::run_writes(ctx, &op.connection, target, vec![call]).await?;
        Ok(Applied {
            id: account_id(&code, &user),
            attrs: if op.action == OpAction::Delete {
                Default::default()
            } else {
                [("user_name".to_string(), json!(user))]
                    .into_iter()
                    .collect()
            },
        })
    }
}

/// An account's id: its site code and user name (`ABC:CONTOSO\svc-cmpush`). ConfigMgr keeps one
/// account object per site (SMS_SCI_Reserved in each site's control file), so the same user at a
/// primary and its secondary is two objects, and state binds each id to one address.
pub(crate) fn account_id(site_code: &str, user: &str) -> String {
    format!("{}:{user}", site_code.to_uppercase())
}

/// The user name of an account id (`ABC:CONTOSO\x` → `CONTOSO\x`; an id from before the site code
/// was added is the user name itself). Site codes are three characters, and a user name holds no
/// `:`.
fn user_of_id(id: &str) -> &str {
    match id.split_once(':') {
        Some((code, user)) if code.len() == 3 => user,
        _ => id,
    }
}
