//! The cmdeploy command line as a library: the clap definition (so completions, the man page and
//! the pipeline tests derive from the one definition) and the renderers of reports and pictures.

pub mod cli;
pub mod graph_svg;
pub mod man;
pub mod plan_text;
pub mod report;
