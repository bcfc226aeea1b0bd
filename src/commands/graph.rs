//! `cmdeploy graph`: the dependency graph as DOT, JSON or SVG.

use std::path::Path;

use crate::cli::{GraphArgs, GraphFormat};
use crate::session::Session;
use crate::Failure;

/// Runs `graph`.
pub fn run(dir: &Path, args: GraphArgs) -> Result<i32, Failure> {
    let s = Session::open(dir)?;
    let g = &s.project.graph;
    let nodes: Vec<String> = g.addresses().map(ToString::to_string).collect();
    let edges: Vec<(String, String)> = g
        .addresses()
        .flat_map(|a| {
            g.dependents(a)
                .into_iter()
                .map(move |d| (a.to_string(), d.to_string()))
        })
        .collect();
    match args.format {
        GraphFormat::Json => {
            let v = serde_json::json!({
                "nodes": nodes,
                "edges": edges.iter().map(|(from, to)| serde_json::json!({"from": from, "to": to})).collect::<Vec<_>>(),
            });
            println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
        }
        GraphFormat::Svg => {
            let svg = cmdeploy::graph_svg::render(&nodes, &edges).map_err(Failure::Message)?;
            print!("{svg}");
        }
        GraphFormat::Dot => print!("{}", g.to_dot()),
    }
    Ok(0)
}
