//! `cmdeploy lab console`: one cmdlet statement, typed as at a PowerShell prompt, run against the
//! lab as an administrator on that host would run it.

use serde_json::Value;

use super::exec::{execute, Session};
use super::Lab;
use cmdeploy_providers::powershell::statement::parse_statement;
use cmdeploy_providers::powershell::Target;

impl Lab {
    /// Runs one statement on `host` and returns its output (as `ConvertTo-Json` would print it
    /// when the statement ends in `| ConvertTo-Json`).
    ///
    /// # Errors
    /// A message: the statement cannot be parsed, the host is unknown, or the cmdlet failed (in
    /// ConfigMgr's words).
    pub fn console(&self, host: &str, line: &str) -> Result<Value, String> {
        let statement =
            parse_statement(line).map_err(|e| format!("cannot parse the statement: {e}"))?;
        // SecureString parameters cannot take a typed string; refusing here also keeps the
        // value out of the audit log.
        if let Some(name) = statement.args.keys().find(|k| {
            cmdeploy_providers::powershell::secret_parameters::is_secret(&statement.cmdlet, k)
        }) {
            return Err(format!(
                "{}: Cannot bind parameter '{name}'. Cannot convert the value of type \"System.String\" to type \"System.Security.SecureString\" (the console takes no passwords; declare the account in a manifest)",
                statement.cmdlet
            ));
        }
        self.audit(
            "console",
            host,
            &[(statement.cmdlet.clone(), statement.args.clone(), Vec::new())],
        );
        self.with_estate(|estate| {
            let session = Session::open(estate, host, &Target::Host).map_err(|e| e.to_string())?;
            let now = super::ccmsetup_service::now_ms();
            super::ccmsetup_service::settle(estate, now);
            // What an administrator's `| ConvertTo-Json` prints in Windows PowerShell 5.1.
            let out = execute(estate, &session, &statement.cmdlet, &statement.args);
            super::ccmsetup_service::settle(estate, super::ccmsetup_service::now_ms());
            out.map(|v| super::ps_value::render(v, super::ps_value::Rendering::Windows51))
                .map_err(|e| format!("{}: {} ({})", statement.cmdlet, e.message, e.category))
        })
        .map_err(|e| e.to_string())?
    }
}
