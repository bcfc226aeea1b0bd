//! `cmdeploy graph --format svg`: a well-formed SVG with one box per resource.

mod common;

use common::Project;
use quick_xml::events::Event;
use quick_xml::{Reader, XmlVersion};
use serde_json::Value;

/// The content of each `<text>` element of an SVG document (checked well-formed), and the root
/// element's name. Entity references (`&quot;`, `&#34;`) are resolved.
fn texts(xml: &str) -> (String, Vec<String>) {
    let mut reader = Reader::from_str(xml);
    reader.config_mut().check_end_names = true;
    let mut root = None;
    let mut texts = Vec::new();
    let mut current = String::new();
    let mut flush = |current: &mut String| {
        let t = current.trim().to_string();
        if !t.is_empty() {
            texts.push(t);
        }
        current.clear();
    };
    loop {
        match reader.read_event().expect("well-formed XML") {
            Event::Eof => break,
            Event::Start(e) | Event::Empty(e) => {
                if e.name().as_ref() == b"text" {
                    current.clear();
                }
                root.get_or_insert_with(|| String::from_utf8_lossy(e.name().as_ref()).into_owned());
            }
            Event::End(e) if e.name().as_ref() == b"text" => flush(&mut current),
            Event::End(_) => {}
            Event::Text(t) => {
                current.push_str(&t.xml_content(XmlVersion::Explicit1_0).expect("text"))
            }
            Event::GeneralRef(r) => {
                let name = r.decode().expect("reference").into_owned();
                let c = match r.resolve_char_ref().expect("character reference") {
                    Some(c) => c.to_string(),
                    None => quick_xml::escape::resolve_predefined_entity(&name)
                        .unwrap_or_else(|| panic!("unknown entity &{name};"))
                        .to_string(),
                };
                current.push_str(&c);
            }
            _ => {}
        }
    }
    (root.unwrap_or_default(), texts)
}

#[test]
fn svg_graph_has_one_node_per_resource() {
    let p = Project::example("contoso");
    let svg = p.run(&["graph", "--format", "svg"]).code(0);
    let (root, texts) = texts(&svg.stdout);
    assert_eq!(root, "svg");
    let json = p.run(&["graph", "--format", "json"]).code(0);
    let v: Value = serde_json::from_str(&json.stdout).unwrap();
    let nodes: Vec<&str> = v["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect();
    assert!(nodes.len() > 10);
    for n in &nodes {
        assert_eq!(
            texts.iter().filter(|t| t == n).count(),
            1,
            "{n} is not exactly one node; texts: {texts:?}"
        );
    }
    assert!(
        nodes.iter().any(|n| n.contains('"')),
        "instance addresses (with quotes) are escaped and read back"
    );
    assert_eq!(texts.len(), nodes.len(), "no other labels: {texts:?}");
}
