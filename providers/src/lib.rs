//! x

pub mod powershell;
