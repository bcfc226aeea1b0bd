//! How plans read: addresses in natural order.

mod common;

use common::Project;

/// Numbers in addresses compare as numbers, in the text plan and the JSON plan alike.
#[test]
fn addresses_are_in_natural_order() {
    let p = Project::example("contoso");
    p.run(&["lab", "reset"]).code(0);
    let mut extra = String::new();
    for n in [10, 2, 1, 11] {
        extra.push_str(&format!(
            "[boundary.b{n}]\nsite = \"ABC\"\ntype = \"ad_site\"\nvalue = \"Branch{n}\"\n\n"
        ));
    }
    p.write("extra.toml", &extra);
    let text = p.run(&["plan", "--target", "boundary"]).code(0).stdout;
    let order: Vec<usize> = ["b1 ", "b2 ", "b10 ", "b11 "]
        .iter()
        .map(|b| {
            text.find(&format!("# boundary.{b}"))
                .unwrap_or_else(|| panic!("boundary.{b}missing:\n{text}"))
        })
        .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{text}");
    let json = p
        .run(&["plan", "--json", "--target", "boundary"])
        .code(0)
        .stdout;
    let json: serde_json::Value = serde_json::from_str(&json).unwrap();
    let planned: Vec<&str> = json["resource_changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["address"].as_str().unwrap())
        .filter(|a| a.starts_with("boundary.b") && !a.contains('_'))
        .collect();
    assert_eq!(
        planned,
        ["boundary.b1", "boundary.b2", "boundary.b10", "boundary.b11"]
    );
}
