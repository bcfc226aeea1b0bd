//! `Remove-CMDevice`: deletes a device record of the site (PSRef Remove-CMDevice.md,
//! SearchByNameMandatory: `-Name`, `-Force`).
//!
//! Rules modelled: without `-Force` the cmdlet asks for confirmation, which a non-interactive
//! runner cannot answer, so it fails; an unknown name is an error; a record whose computer still
//! has a client assigned to the site comes back (the client registers again with its heartbeat),
//! so removing it changes nothing a later read sees; a removed discovered record stays removed
//! (the lab runs no further discovery cycle).

use serde_json::Value;

use super::args::{Args, CmdError, CmdResult};
use super::model::{short, Estate};

/// `Remove-CMDevice -Name NAME -Force`.
pub fn remove_device(estate: &mut Estate, a: &Args, session_site: &str) -> CmdResult {
    let name = a.str("Name")?;
    let force = a.has("Force");
    a.accept(&["Confirm"]);
    a.finish()?;
    if !force {
        return Err(CmdError::new(
            "InvalidOperation",
            format!("Remove-CMDevice asks to confirm the removal of '{name}'; a non-interactive session cannot answer (use -Force)."),
        ));
    }
    let records = super::host::device_records(estate, Some(&name), session_site);
    if records.is_empty() {
        return Err(CmdError::new(
            "ObjectNotFound",
            format!("No object corresponds to the specified parameters: device '{name}'."),
        ));
    }
    // A computer whose client is registered with the site re-creates its record at once.
    let registered = records
        .iter()
        .any(|r| r.get("IsClient").and_then(Value::as_bool) == Some(true));
    if registered {
        return Ok(Value::Null);
    }
    let site = estate.site_mut(session_site).ok_or_else(|| {
        CmdError::new(
            "ObjectNotFound",
            format!("The site code '{session_site}' does not exist."),
        )
    })?;
    let device = short(&name).to_uppercase();
    if !site
        .removed_devices
        .iter()
        .any(|d| d.eq_ignore_ascii_case(&device))
    {
        site.removed_devices.push(device);
    }
    Ok(Value::Null)
}
