//! The human form of a plan's unreachable connections: one block per connection naming where it
//! goes and the resources it left unread, instead of one block per resource. The error itself,
//! with its likely causes, is reported once on stderr (and in the JSON plan).

use std::fmt::Write;

use cmdeploy_engine::reach::UnreachableConnection;

/// Width the lists of addresses are wrapped at.
const WIDTH: usize = 100;

/// Renders the plan's unreachable connections (`red`/`dim`/`reset` are ANSI styles or empty).
pub(super) fn render(
    out: &mut String,
    groups: &[UnreachableConnection],
    red: &str,
    dim: &str,
    reset: &str,
) {
    for g in groups {
        let u = &g.unreachable;
        let _ = writeln!(
            out,
            "  {red}!{reset} connection {} is unreachable ({}): {} resource(s) not read",
            u.connection,
            u.endpoint,
            g.resources.len()
        );
        let mut line = String::new();
        for (i, a) in g.resources.iter().enumerate() {
            let item = if i + 1 < g.resources.len() {
                format!("{a}, ")
            } else {
                a.clone()
            };
            if !line.is_empty() && line.len() + item.len() > WIDTH {
                let _ = writeln!(out, "      {dim}{}{reset}", line.trim_end());
                line.clear();
            }
            line.push_str(&item);
        }
        if !line.is_empty() {
            let _ = writeln!(out, "      {dim}{line}{reset}");
        }
        out.push('\n');
    }
}
