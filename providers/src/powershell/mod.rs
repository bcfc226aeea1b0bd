//! PowerShell at the edges of cmdeploy, without ever running PowerShell text.
//!
//! cmdeploy never splices values into PowerShell source. Providers build
//! calls as a cmdlet name plus a JSON map of named parameters, and the lab
//! (the in-process simulation) or a runner executes them. This module holds
//! the two pieces that connect those calls to the PowerShell people read:
//!
//! * [`statement`] parses ONE line an administrator would type at a console
//!   (`Set-CMBoundaryGroup -Name HQ -Description 'Head office'`) into the
//!   same `{cmdlet, args}` shape, rejecting anything that would need
//!   evaluation (variables, sub-expressions, script blocks, pipelines other
//!   than `| ConvertTo-Json`, positional arguments).
//! * [`oracle`] checks a `{cmdlet, args}` call against Microsoft's documented
//!   syntax (`shared/reference/cmdlets.json`): parameter names and aliases,
//!   parameter sets, mandatory parameters and value types.
//! * [`call`] is the IR providers build ([`Call`], [`Script`]) and [`runner`] the one reviewed
//!   PowerShell script that executes a Script's JSON payload on the far side.
//! * [`cmdlets`] is the one table of the cmdlets and runner functions cmdeploy calls, which
//!   yields the runner's allow-list and the lab's dispatch.

pub mod call;
pub mod cmdlets;
pub mod oracle;
pub mod runner;
pub mod secret_parameters;
pub mod statement;

pub use call::{Call, CallResult, Payload, PayloadCall, Script, ScriptOutput, Target};
