//! Long values in a human plan: a list that does not fit on its line is wrapped, its elements
//! filled greedily to the width and indented under the attribute, as Terraform breaks long
//! lists over lines. Other values stay on one line (a long string is one element).

use serde_json::Value;

/// `v` as shown in a plan whose value starts at column `indent`: on one line when it fits in
/// `width` columns (or is not a list); else the list's elements filled over lines of at most
/// `width` columns, indented by 12 (under the plan's `      ~ name` prefix), the closing bracket
/// by 8. An element wider than a line gets a line of its own and is never cut.
pub fn value(v: &Value, indent: usize, width: usize) -> String {
    let one_line = show(v);
    let Value::Array(items) = v else {
        return one_line;
    };
    if indent + one_line.chars().count() <= width || items.is_empty() {
        return one_line;
    }
    let inner = " ".repeat(ELEMENT_INDENT);
    let mut out = String::from("[\n");
    let mut line = String::new();
    for (i, item) in items.iter().enumerate() {
        let mut token = show(item);
        if i + 1 < items.len() {
            token.push(',');
        }
        let needed = if line.is_empty() {
            token.chars().count()
        } else {
            line.chars().count() + 1 + token.chars().count()
        };
        if !line.is_empty() && ELEMENT_INDENT + needed > width {
            out.push_str(&inner);
            out.push_str(&line);
            out.push('\n');
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(&token);
    }
    if !line.is_empty() {
        out.push_str(&inner);
        out.push_str(&line);
        out.push('\n');
    }
    out.push_str(&" ".repeat(ELEMENT_INDENT - 4));
    out.push(']');
    out
}

/// Columns before a wrapped list's elements.
const ELEMENT_INDENT: usize = 12;

/// A value on one line: strings quoted, the rest as compact JSON.
pub(super) fn show(v: &Value) -> String {
    match v {
        Value::String(s) => format!("{s:?}"),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::value;

    #[test]
    fn short_lists_stay_on_one_line() {
        assert_eq!(value(&json!(["a", "b"]), 20, 100), r#"["a","b"]"#);
    }

    #[test]
    fn long_lists_wrap_within_the_width() {
        let items: Vec<String> = (1..=300).map(|i| format!("boundary{i}")).collect();
        let text = value(&json!(items), 30, 100);
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines.len() > 10, "{text}");
        assert_eq!(lines[0], "[");
        assert_eq!(lines.last().unwrap().trim(), "]");
        for l in &lines {
            assert!(l.chars().count() <= 100, "{l:?} is wider than 100");
        }
        // Every element once, in order.
        let joined: String = lines[1..lines.len() - 1].join(" ");
        let back: Vec<&str> = joined
            .split(',')
            .map(|t| t.trim().trim_matches('"'))
            .collect();
        assert_eq!(back, items);
    }

    #[test]
    fn an_element_wider_than_the_line_gets_a_line_of_its_own() {
        let long = "x".repeat(150);
        let text = value(&json!([long.clone(), "a"]), 10, 100);
        assert!(text.contains(&format!("\"{long}\",\n")), "{text}");
    }
}
