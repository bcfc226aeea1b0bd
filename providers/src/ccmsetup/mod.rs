//! One model of a CCMSetup command line, shared by every way of installing the
//! Configuration Manager client.
//!
//! The same text shape appears in many places:
//!
//! * client push "Installation Properties" (`Set-CMClientPushInstallation -InstallationProperty`),
//! * the GPO `SetupParameters` value of `ConfigMgrInstallation.adm`,
//! * manual, workgroup and internet-based installs (`CCMSetup.exe /mp:... SMSSITECODE=...`),
//! * the Intune / co-management bootstrap `ccmsetup.msi CCMSETUPCMD="..."`,
//! * the `[Client Install]` line of a `/config:` file (`Install=INSTALL=ALL SMSSITECODE=...`).
//!
//! This module parses all of them into one [`CommandLine`] ([`parse`]), validates it
//! against the documented rules ([`check`], optionally for a [`Context`]), renders it back
//! ([`CommandLine::render`], round-trip safe) and maps it to and from typed manifest
//! structs ([`CcmsetupParameters`], [`ClientMsiProperties`]).
//!
//! Sources: `about-client-installation-properties.md` (memdocs, 2022+ revision, and the
//! 2017 SCCMdocs revision for removed items), `deploy-clients-to-windows-computers.md`, and
//! the project reference `configmgr.md` §1 and §6 (rules 6, 7, 8, 13, 16, 18).
//!
//! Layout: [`catalog`] (static table of every parameter and property), [`codes`] (stable
//! finding codes), `lex`/`parse` (tokeniser with byte spans), `render`, `check` and `rules`
//! (validation), [`typed`] and `convert` (manifest structs).

pub mod catalog;
mod check;
pub mod codes;
mod context_rules;
mod convert;
mod lex;
mod model;
mod parse;
mod render;
mod rules;
pub mod text_rules;
pub mod typed;
mod values;

#[cfg(test)]
mod corpus_tests;
#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod typed_tests;

pub use check::{check, check_command_line, check_parsed};
pub use convert::{from_command_line, push_installation_property, to_command_line};
pub use model::{
    CommandLine, Context, Finding, Parameter, ParseContextError, Program, Property, Severity,
};
pub use parse::{parse, ParsedCommandLine};
pub use typed::{BitsPriority, CacheFlag, CcmsetupParameters, ClientMsiProperties, ExcludeFeature};
