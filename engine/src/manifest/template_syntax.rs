//! The template language of manifests, checked before minijinja sees it.
//!
//! A manifest string may interpolate values: `{{ host }}`, `{{ var.domain | upper }}`,
//! `{{ row["site"] | default('ABC') }}`, `{{ '{{' }}` for a literal brace pair, and comments
//! `{# ... #}`. Each `{{ }}` holds one value (a variable path or a literal) and filters from
//! [`FILTERS`] with literal arguments; nothing else. Statements (`{% for %}`, `{% set %}`),
//! operators (`*` repeats a string a hundred million times, `~` doubles one in a loop) and
//! functions (`range`, `lipsum`) are refused, because `validate` runs on untrusted pull requests
//! and a manifest must never make it allocate gigabytes or spin: with values alone, what a
//! template produces is bounded by its inputs, and [`super::template`] also caps the output and
//! the work (fuel).

/// Filters a manifest template may use: none makes its output longer than its inputs, except
/// `replace` and `join`, whose results are size-checked before they are built.
pub const FILTERS: &[&str] = &[
    "upper",
    "lower",
    "title",
    "capitalize",
    "trim",
    "default",
    "d",
    "length",
    "first",
    "last",
    "string",
    "int",
    "float",
    "abs",
    "round",
    "replace",
    "join",
];

/// Checks `src` against the manifest template language. Returns the first problem: a byte
/// offset into `src` and a message.
pub fn check(src: &str) -> Result<(), (usize, String)> {
    let bytes = src.as_bytes();
    let mut i = 0;
    while i + 1 < bytes.len() {
        match (bytes[i], bytes[i + 1]) {
            (b'{', b'{') => i = expression(src, i + 2)?,
            (b'{', b'#') => match src[i + 2..].find("#}") {
                Some(end) => i = i + 2 + end + 2,
                None => return Err((i, "unclosed comment `{#`".into())),
            },
            (b'{', b'%') => {
                return Err((
                    i,
                    "statements (`{% ... %}`) are not available in manifest templates; use `{{ value | filter }}`"
                        .into(),
                ))
            }
            _ => i += 1,
        }
    }
    Ok(())
}

/// What the expression parser expects next.
#[derive(PartialEq, Clone, Copy)]
enum Want {
    /// A value: a name, a literal.
    Value,
    /// After a value: `.name`, `[key]`, `|`, or the end.
    After,
    /// A filter name after `|`.
    Filter,
    /// After a filter name: `(`, `|`, or the end.
    AfterFilter,
}

/// Parses one `{{ ... }}` body starting at `start`; returns the offset after `}}`.
fn expression(src: &str, start: usize) -> Result<usize, (usize, String)> {
    let bytes = src.as_bytes();
    let mut i = start;
    if bytes.get(i) == Some(&b'-') {
        i += 1;
    }
    let mut want = Want::Value;
    loop {
        while bytes.get(i).is_some_and(u8::is_ascii_whitespace) {
            i += 1;
        }
        let Some(&c) = bytes.get(i) else {
            return Err((start - 2, "unclosed `{{`".into()));
        };
        let end_marker = if c == b'-' && bytes.get(i + 1) == Some(&b'}') {
            Some(i + 1)
        } else if c == b'}' {
            Some(i)
        } else {
            None
        };
        if let Some(at) = end_marker {
            if bytes.get(at + 1) != Some(&b'}') {
                return Err((at, "expected `}}`".into()));
            }
            if matches!(want, Want::Value | Want::Filter) {
                return Err((i, "expected a value or a filter before `}}`".into()));
            }
            return Ok(at + 2);
        }
        match want {
            Want::Value => {
                i = value(src, i)?;
                want = Want::After;
            }
            Want::After | Want::AfterFilter => match c {
                b'.' if want == Want::After => {
                    let end = identifier(bytes, i + 1);
                    if end == i + 1 {
                        return Err((i, "expected a name after `.`".into()));
                    }
                    i = end;
                }
                b'[' if want == Want::After => {
                    i = literal(src, skip_space(bytes, i + 1))?;
                    i = skip_space(bytes, i);
                    if bytes.get(i) != Some(&b']') {
                        return Err((i, "expected `]`".into()));
                    }
                    i += 1;
                }
                b'(' if want == Want::AfterFilter => {
                    i = arguments(src, i + 1)?;
                    want = Want::After;
                }
                b'|' => {
                    i += 1;
                    want = Want::Filter;
                }
                _ => return Err((i, not_allowed(src, i))),
            },
            Want::Filter => {
                let end = identifier(bytes, i);
                let name = &src[i..end];
                if name.is_empty() {
                    return Err((i, "expected a filter name after `|`".into()));
                }
                if !FILTERS.contains(&name) {
                    return Err((
                        i,
                        format!(
                            "the filter `{name}` is not available in manifest templates (available: {})",
                            FILTERS.join(", ")
                        ),
                    ));
                }
                i = end;
                want = Want::AfterFilter;
            }
        }
    }
}

/// A value: a literal or a variable name (not a function call).
fn value(src: &str, i: usize) -> Result<usize, (usize, String)> {
    let bytes = src.as_bytes();
    let end = identifier(bytes, i);
    if end > i {
        if bytes.get(skip_space(bytes, end)) == Some(&b'(') {
            return Err((
                i,
                format!(
                    "functions such as `{}(...)` are not available in manifest templates",
                    &src[i..end]
                ),
            ));
        }
        if matches!(
            &src[i..end],
            "not" | "if" | "else" | "and" | "or" | "is" | "in"
        ) {
            return Err((i, not_allowed(src, i)));
        }
        return Ok(end);
    }
    literal(src, i)
}

/// `( literal, name=literal, ... )` after a filter; `i` is after `(`.
fn arguments(src: &str, mut i: usize) -> Result<usize, (usize, String)> {
    let bytes = src.as_bytes();
    i = skip_space(bytes, i);
    if bytes.get(i) == Some(&b')') {
        return Ok(i + 1);
    }
    loop {
        let name_end = identifier(bytes, i);
        let after = skip_space(bytes, name_end);
        if name_end > i && bytes.get(after) == Some(&b'=') {
            i = skip_space(bytes, after + 1);
        }
        i = skip_space(bytes, literal(src, i)?);
        match bytes.get(i) {
            Some(b',') => i = skip_space(bytes, i + 1),
            Some(b')') => return Ok(i + 1),
            _ => return Err((i, "filter arguments are literals separated by `,`".into())),
        }
    }
}

/// A string, number, `true`, `false` or `none` literal.
fn literal(src: &str, i: usize) -> Result<usize, (usize, String)> {
    let bytes = src.as_bytes();
    match bytes.get(i) {
        Some(&q @ (b'\'' | b'"')) => {
            let mut j = i + 1;
            while let Some(&c) = bytes.get(j) {
                if c == b'\\' {
                    j += 2;
                } else if c == q {
                    return Ok(j + 1);
                } else {
                    j += 1;
                }
            }
            Err((i, "unclosed string literal".into()))
        }
        Some(c) if c.is_ascii_digit() || *c == b'-' => {
            let mut j = i + 1;
            while bytes
                .get(j)
                .is_some_and(|c| c.is_ascii_digit() || *c == b'.' || *c == b'_')
            {
                j += 1;
            }
            Ok(j)
        }
        _ => {
            let end = identifier(bytes, i);
            match &src[i..end] {
                "true" | "false" | "none" | "True" | "False" | "None" => Ok(end),
                _ => Err((i, not_allowed(src, i))),
            }
        }
    }
}

fn identifier(bytes: &[u8], i: usize) -> usize {
    let mut j = i;
    while bytes
        .get(j)
        .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_')
    {
        if j == i && bytes[j].is_ascii_digit() {
            break;
        }
        j += 1;
    }
    j
}

fn skip_space(bytes: &[u8], mut i: usize) -> usize {
    while bytes.get(i).is_some_and(u8::is_ascii_whitespace) {
        i += 1;
    }
    i
}

fn not_allowed(src: &str, i: usize) -> String {
    let shown: String = src[i..].chars().take(12).collect();
    format!(
        "`{shown}`: manifest templates hold one value and filters (`{{{{ var.name | upper }}}}`); operators, conditions and calls are not available"
    )
}

#[cfg(test)]
mod tests {
    use super::check;

    #[test]
    fn values_literals_and_filters_pass() {
        for ok in [
            "plain text, no template",
            "{{ host }}.{{ var.domain }}",
            "{{ row[\"site\"] | default('ABC') | upper }}",
            "{{- host -}}",
            "{{ '{{' }}",
            "{# a comment #}{{ var.x | replace('a', 'b') }}",
            "{{ var.list | join(', ') }}",
            "{{ var.n | round(2) }}",
            "{{ var.x | default(true) }}",
        ] {
            assert_eq!(check(ok), Ok(()), "{ok}");
        }
    }

    #[test]
    fn amplifiers_statements_and_calls_are_refused() {
        for bad in [
            "{{ 'x' * 100000000 }}",
            "{{ var.a ~ var.a }}",
            "{% set a = 'x' %}",
            "{% for i in range(10) %}{% endfor %}",
            "{{ range(100000) | join }}",
            "{{ lipsum(1000000) }}",
            "{{ var.x | center(1000000000) }}",
            "{{ var.x | indent(1000000000) }}",
            "{{ 'a' if var.x else 'b' }}",
            "{{ var.x",
            "{{ }}",
            "{{ var.x | }}",
            "{{ 'unclosed }}",
            "{# unclosed",
        ] {
            assert!(check(bad).is_err(), "{bad} accepted");
        }
    }
}
