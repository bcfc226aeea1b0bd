//! The dependency graph as an SVG picture, laid out by layout-rs (no Graphviz needed): one box
//! per resource, an arrow from each resource to the resources that depend on it.

use layout::backends::svg::SVGWriter;
use layout::core::base::Orientation;
use layout::core::style::StyleAttr;
use layout::std_shapes::render::get_shape_size;
use layout::std_shapes::shapes::{Arrow, Element, ShapeKind};
use layout::topo::layout::VisualGraph;

/// Font size of the node labels.
const FONT_SIZE: usize = 14;

/// Renders `nodes` (addresses) and `edges` (from, to) as an SVG document.
///
/// # Errors
/// A message when an edge names an unknown node or the layout engine fails.
pub fn render(nodes: &[String], edges: &[(String, String)]) -> Result<String, String> {
    if nodes.is_empty() {
        return Ok(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"0\" height=\"0\"></svg>\n".into(),
        );
    }
    let nodes = nodes.to_vec();
    let edges = edges.to_vec();
    // layout-rs asserts internally; a bug there must be an error message, not a crash.
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let result = std::panic::catch_unwind(move || layout_svg(&nodes, &edges));
    std::panic::set_hook(previous);
    match result {
        Ok(r) => r,
        Err(_) => Err("the graph layout failed; use --format dot with Graphviz instead".into()),
    }
}

fn layout_svg(nodes: &[String], edges: &[(String, String)]) -> Result<String, String> {
    let dir = Orientation::LeftToRight;
    let mut vg = VisualGraph::new(dir);
    let mut handles = std::collections::BTreeMap::new();
    for n in nodes {
        let shape = ShapeKind::new_box(n);
        // Boxes of a left-to-right graph are sized in the flipped orientation, as layout-rs's own
        // DOT builder does.
        let size = get_shape_size(dir.flip(), &shape, FONT_SIZE, false);
        let look = StyleAttr::new(
            layout::core::color::Color::fast("black"),
            1,
            Some(layout::core::color::Color::fast("#f4f6fb")),
            4,
            FONT_SIZE,
        );
        let handle = vg.add_node(Element::create(shape, look, dir.flip(), size));
        handles.insert(n.as_str(), handle);
    }
    for (from, to) in edges {
        let (Some(f), Some(t)) = (handles.get(from.as_str()), handles.get(to.as_str())) else {
            return Err(format!("edge {from} -> {to} names an unknown resource"));
        };
        vg.add_edge(Arrow::simple(""), *f, *t);
    }
    let mut svg = SVGWriter::new();
    vg.do_it(false, false, false, &mut svg);
    Ok(svg.finalize())
}
