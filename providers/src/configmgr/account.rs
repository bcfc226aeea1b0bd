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

use serde::{Deserialize, Serialize};
use serde_json::Value;

use cmdeploy_engine::diagnostics::Diagnostic;
use cmdeploy_engine::provider::{
    Context, Observed, OpAction, ReadOutcome, ReadRequest, ReadResult, RemoteError,
};
use cmdeploy_engine::resource::Resource;
use cmdeploy_engine::secret::SecretRef;
use cmdeploy_engine::spanned::Spanned;

use crate::kit;
use crate::powershell::{Call, Script, Target};
use crate::sdk::{self, Change, Declared, DecodeCx, Import, PlanNotes, TypedKind};

/// The secret attribute holding the account's password.
const PASSWORD: &str = "password";

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

/// An account's attributes, desired and observed (the password is a secret, never here).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccountModel {
    /// SMS_SCI_Reserved UserName, `DOMAIN\user`.
    pub user_name: String,
}

/// The `account` kind.
pub struct AccountKind;

#[async_trait::async_trait]
impl TypedKind for AccountKind {
    type Spec = AccountSpec;
    type Model = AccountModel;
    const KIND: &'static str = "account";
    const DESCRIPTION: &'static str =
        "A ConfigMgr account (DOMAIN\\user and a password from a secret reference).";

    fn decode(
        &self,
        spec: AccountSpec,
        cx: &DecodeCx,
    ) -> Result<Declared<AccountModel>, Vec<Diagnostic>> {
        let user = &spec.user_name.value;
        let valid = user
            .split_once('\\')
            .is_some_and(|(d, u)| !d.is_empty() && !u.is_empty() && !u.contains('\\'));
        if !valid {
            return Err(vec![Diagnostic::error("cmdeploy::account::user_name", format!("`{user}` is not in the form DOMAIN\\user"))
                .with_help("ConfigMgr accounts are domain accounts, e.g. user_name = 'CONTOSO\\svc-cmpush' (New-CMAccount -UserName)")
                .at_span(&cx.file, spec.user_name.span.clone())]);
        }
        let (connection, _no_edge, meta) = super::site_binding(&spec.site, false);
        let model = AccountModel {
            user_name: user.clone(),
        };
        let mut d = Declared::new(model, connection, user.to_lowercase());
        d.meta = meta;
        if let Some(password) = spec.password {
            d.secrets.insert(PASSWORD.into(), password);
        }
        Ok(d)
    }

    fn import(&self) -> Option<&dyn Import> {
        Some(self)
    }

    fn plan_notes(&self) -> Option<&dyn PlanNotes> {
        Some(self)
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
            script.push(get_accounts(code));
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
                    Ok(v) => match find(v, &key) {
                        Some((id, m)) => {
                            ReadOutcome::Present(sdk::observed(account_id(&code, &id), &m))
                        }
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

    /// A delete removes the account; a create or update sets it with its password (needed:
    /// `New-CMAccount -Password` is mandatory), then reads the site's accounts to verify it.
    fn calls(
        &self,
        ctx: &Context,
        change: &Change<'_, AccountModel>,
    ) -> Result<Vec<Call>, RemoteError> {
        let op = change.op;
        let code = site_code(ctx, change);
        let user = user_of(change);
        if op.action == OpAction::Delete {
            return Ok(vec![Call::new("Remove-CMAccount")
                .arg("UserName", user.as_str())
                .switch("Force")]);
        }
        let password = op.secrets.get(PASSWORD).ok_or_else(|| {
            let why = match op.desired.as_ref().map(|d| d.secrets.contains_key(PASSWORD)) {
                Some(true) => "could not be read".to_string(),
                _ => format!("is not set: {} needs `password = {{ env = \"...\" }}` to create or change the account (New-CMAccount -Password)", op.address),
            };
            RemoteError::new(op.connection.host(), format!("the password of {user} {why}"))
        })?;
        let verb = if op.action == OpAction::Create {
            "New-CMAccount"
        } else {
            "Set-CMAccount"
        };
        Ok(vec![
            Call::new(verb)
                .arg("UserName", user.as_str())
                .secret("Password", password)
                .arg("SiteCode", code.as_str()),
            get_accounts(&code),
        ])
    }

    fn read_back(
        &self,
        ctx: &Context,
        change: &Change<'_, AccountModel>,
        values: &[Value],
    ) -> Result<(String, AccountModel), RemoteError> {
        let user = user_of(change);
        values
            .last()
            .and_then(|v| find(v, &user))
            .map(|(name, m)| (account_id(&site_code(ctx, change), &name), m))
            .ok_or_else(|| {
                RemoteError::new(
                    change.op.connection.host(),
                    format!("account {user} is not found after apply"),
                )
            })
    }
}

impl PlanNotes for AccountKind {
    fn notes(&self, desired: Option<&Resource>, observed: Option<&Observed>) -> Vec<String> {
        match desired {
            Some(d) if observed.is_none() && !d.secrets.contains_key(PASSWORD) => vec![format!(
                "{} has no password: ConfigMgr needs one to create the account; add password = {{ env = \"...\" }}",
                d.address
            )],
            _ => Vec::new(),
        }
    }
}

/// `Get-CMAccount -SiteCode`: every account defined at a site.
fn get_accounts(code: &str) -> Call {
    Call::new("Get-CMAccount").arg("SiteCode", code)
}

/// The account named `user` (case-insensitive) in a `Get-CMAccount` result: its user name as
/// ConfigMgr holds it, and its model.
fn find(accounts: &Value, user: &str) -> Option<(String, AccountModel)> {
    let a = kit::items(accounts)
        .into_iter()
        .find(|a| kit::s(a, "UserName").eq_ignore_ascii_case(user))?;
    let user_name = kit::s(a, "UserName").to_string();
    Some((user_name.clone(), AccountModel { user_name }))
}

/// The site code of the site a change's account is defined at.
fn site_code(ctx: &Context, change: &Change<'_, AccountModel>) -> String {
    let op = change.op;
    kit::site_code(ctx, &kit::meta_of(op.desired.as_ref(), op.prior.as_ref()))
}

/// The user name a change is about: the manifest's, else the one state recorded.
fn user_of(change: &Change<'_, AccountModel>) -> String {
    change
        .desired
        .as_ref()
        .map(|d| d.user_name.clone())
        .or_else(|| {
            change.op.prior.as_ref().map(|p| {
                sdk::model::<AccountModel>(&p.attributes)
                    .map(|m| m.user_name)
                    // A state written before ids carried the site code holds the user alone.
                    .unwrap_or_else(|| user_of_id(&p.id).to_string())
            })
        })
        .unwrap_or_default()
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
