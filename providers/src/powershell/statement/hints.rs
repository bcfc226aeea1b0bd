//! [`PositionalHints`]: what the parser may ask about a cmdlet's positional
//! parameters.

/// Tells the parser which parameter a positional argument would have bound
/// to, so the error can say which parameter to name.
///
/// [`crate::powershell::oracle::Oracle`] implements this from the documented
/// `Position` of each parameter.
pub trait PositionalHints {
    /// The names of the parameters of `cmdlet` at positional index
    /// `position` (0-based), one per parameter set that has one, default set
    /// first; empty if the cmdlet is unknown or has none.
    fn positional_parameters(&self, cmdlet: &str, position: usize) -> Vec<String>;
}
