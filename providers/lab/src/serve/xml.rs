//! A small namespace-aware element tree, read with quick-xml: just enough to query a WS-Man
//! request by namespace URI and local name.
//!
//! The tree is built without recursion and its depth and size are capped, so no request body,
//! however hostile, can exhaust the stack or the memory.

use quick_xml::events::Event;
use quick_xml::name::ResolveResult;
use quick_xml::NsReader;

/// Deepest nesting accepted (a WS-Man request needs about 6 levels).
const MAX_DEPTH: usize = 64;
/// Most elements accepted in one document.
const MAX_ELEMENTS: usize = 10_000;

/// One element: its namespace URI (empty when unbound), local name, attributes by local name,
/// concatenated text, and children.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Element {
    /// Namespace URI, or "" when the name has no namespace.
    pub ns: String,
    /// Local name, without prefix.
    pub name: String,
    /// Attributes as (local name, unescaped value), in document order.
    pub attrs: Vec<(String, String)>,
    /// The element's own text (character data directly inside it), unescaped.
    pub text: String,
    /// Child elements in order.
    pub children: Vec<Element>,
}

impl Element {
    /// Whether the element is `{ns}name`.
    pub fn is(&self, ns: &str, name: &str) -> bool {
        self.ns == ns && self.name == name
    }

    /// The value of the attribute with this local name (case-sensitive), if present.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The first child `{ns}name`.
    pub fn child(&self, ns: &str, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.is(ns, name))
    }

    /// Every child `{ns}name`.
    pub fn children_named<'a>(
        &'a self,
        ns: &'a str,
        name: &'a str,
    ) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.is(ns, name))
    }

    /// Every descendant (depth first, document order), the element itself excluded.
    pub fn descendants(&self) -> Vec<&Element> {
        let mut out = Vec::new();
        let mut stack: Vec<&Element> = self.children.iter().rev().collect();
        while let Some(e) = stack.pop() {
            out.push(e);
            stack.extend(e.children.iter().rev());
        }
        out
    }

    /// The first descendant `{ns}name`.
    pub fn find(&self, ns: &str, name: &str) -> Option<&Element> {
        self.descendants().into_iter().find(|e| e.is(ns, name))
    }
}

/// Parses a document into its root element.
///
/// # Errors
/// A short message when the text is not well-formed XML, has no root element, or exceeds the
/// depth or size limits.
pub fn parse(text: &str) -> Result<Element, String> {
    let mut reader = NsReader::from_str(text);
    reader.config_mut().check_end_names = true;
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    let mut count = 0usize;
    loop {
        let (resolved, event) = reader
            .read_resolved_event()
            .map_err(|e| format!("malformed XML: {e}"))?;
        let ns = match resolved {
            ResolveResult::Bound(n) => String::from_utf8_lossy(n.as_ref()).into_owned(),
            ResolveResult::Unbound => String::new(),
            ResolveResult::Unknown(p) => {
                return Err(format!(
                    "malformed XML: unknown namespace prefix `{}`",
                    String::from_utf8_lossy(&p)
                ))
            }
        };
        match event {
            Event::Start(ref e) | Event::Empty(ref e) => {
                count += 1;
                if count > MAX_ELEMENTS || stack.len() >= MAX_DEPTH {
                    return Err("request too large or too deeply nested".into());
                }
                if root.is_some() {
                    return Err("malformed XML: content after the root element".into());
                }
                let mut el = Element {
                    ns,
                    name: String::from_utf8_lossy(e.local_name().as_ref()).into_owned(),
                    ..Element::default()
                };
                for a in e.attributes() {
                    let a = a.map_err(|e| format!("malformed XML attribute: {e}"))?;
                    let key = a.key.local_name();
                    let key = String::from_utf8_lossy(key.as_ref()).into_owned();
                    let value = a
                        .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                        .map_err(|e| format!("malformed XML attribute: {e}"))?;
                    el.attrs.push((key, value.into_owned()));
                }
                if matches!(event, Event::Start(_)) {
                    stack.push(el);
                } else {
                    close(&mut stack, &mut root, el);
                }
            }
            Event::End(_) => {
                let el = stack
                    .pop()
                    .ok_or_else(|| "malformed XML: unexpected end tag".to_string())?;
                close(&mut stack, &mut root, el);
            }
            Event::Text(t) => {
                let t = t.decode().map_err(|e| format!("malformed XML text: {e}"))?;
                push_text(&mut stack, &t)?;
            }
            Event::CData(t) => {
                let t = t.decode().map_err(|e| format!("malformed XML text: {e}"))?;
                push_text(&mut stack, &t)?;
            }
            Event::GeneralRef(r) => {
                let text = match r.resolve_char_ref() {
                    Ok(Some(c)) => c.to_string(),
                    Ok(None) => {
                        let name = r.decode().map_err(|e| format!("malformed XML: {e}"))?;
                        quick_xml::escape::resolve_predefined_entity(&name)
                            .ok_or_else(|| format!("malformed XML: unknown entity `{name}`"))?
                            .to_string()
                    }
                    Err(e) => return Err(format!("malformed XML: {e}")),
                };
                push_text(&mut stack, &text)?;
            }
            Event::Eof => break,
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) | Event::DocType(_) => {}
        }
    }
    if !stack.is_empty() {
        return Err("malformed XML: unclosed element".into());
    }
    root.ok_or_else(|| "malformed XML: no root element".into())
}

fn close(stack: &mut [Element], root: &mut Option<Element>, el: Element) {
    match stack.last_mut() {
        Some(parent) => parent.children.push(el),
        None => *root = Some(el),
    }
}

fn push_text(stack: &mut [Element], text: &str) -> Result<(), String> {
    match stack.last_mut() {
        Some(el) => {
            el.text.push_str(text);
            Ok(())
        }
        None if text.trim().is_empty() => Ok(()),
        None => Err("malformed XML: text outside the root element".into()),
    }
}

/// Escapes text for an XML element or a double-quoted attribute.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}
