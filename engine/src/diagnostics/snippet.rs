//! The source excerpt a diagnostic shows: a few lines around its span, cut out once when the
//! diagnostic is made, so rendering n diagnostics costs O(n × excerpt) instead of miette's default
//! O(n × file) (it scans a source from the start for every report: 8,000 diagnostics took 17.5 s).
//! Long lines are shortened around the span, so a 55 KB value is not printed whole per finding.

use miette::{MietteError, MietteSpanContents, SourceCode, SourceSpan, SpanContents};

/// Lines shown before and after the span.
const CONTEXT_LINES: usize = 1;
/// A span covering more lines than this is shown by its first line only.
const MAX_SPAN_LINES: usize = 8;
/// Characters kept before the span on a shortened line.
const KEEP_BEFORE: usize = 60;
/// Characters kept from the span's start on a shortened line.
const KEEP_AFTER: usize = 120;
/// Lines longer than this (in characters) are shortened.
const LONG_LINE: usize = KEEP_BEFORE + KEEP_AFTER + 20;

/// Byte offsets of the starts of the lines of `text` (`\n`, `\r\n` and a lone `\r` end a line,
/// as miette counts them).
pub fn line_starts(text: &str) -> Vec<usize> {
    let bytes = text.as_bytes();
    let mut starts = vec![0];
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\n' => starts.push(i + 1),
            b'\r' if bytes.get(i + 1) == Some(&b'\n') => {
                starts.push(i + 2);
                i += 1;
            }
            b'\r' => starts.push(i + 1),
            _ => {}
        }
        i += 1;
    }
    starts
}

/// 0-based line of byte `offset`, given [`line_starts`].
pub fn line_index(starts: &[usize], offset: usize) -> usize {
    starts.partition_point(|s| *s <= offset).saturating_sub(1)
}

/// A few lines of a source, with the label's span relative to them.
#[derive(Debug, Clone)]
pub struct Snippet {
    name: String,
    text: String,
    /// 0-based line number of the excerpt's first line in the whole source.
    first_line: usize,
    /// The label's span within `text`.
    pub label: std::ops::Range<usize>,
    /// Per excerpt line: characters of the original line hidden on the left (less the `…`
    /// shown instead), to report true columns.
    hidden_chars: Vec<usize>,
}

impl Snippet {
    /// Cuts the excerpt of `text` (named `name`) around `span` (byte offsets, clamped to the
    /// text and to character boundaries), with `starts` from [`line_starts`] of `text`.
    pub fn cut(name: &str, text: &str, starts: &[usize], span: std::ops::Range<usize>) -> Snippet {
        let floor = |mut i: usize| {
            i = i.min(text.len());
            while !text.is_char_boundary(i) {
                i -= 1;
            }
            i
        };
        let start = floor(span.start);
        let mut end = floor(span.end.max(span.start));
        let first = line_index(starts, start);
        let mut last = line_index(starts, end.saturating_sub(1).max(start));
        if last - first >= MAX_SPAN_LINES {
            last = first;
            end = line_end(text, starts, first).max(start);
        }
        let from_line = first.saturating_sub(CONTEXT_LINES);
        let to_line = (last + CONTEXT_LINES).min(starts.len() - 1);
        let mut out = String::new();
        let mut label = 0..0;
        let mut hidden_chars = Vec::new();
        for line in from_line..=to_line {
            let (ls, le) = (starts[line], line_end(text, starts, line));
            let content = &text[ls..le];
            let base = out.len();
            let (shown, cut_left) = if content.chars().count() > LONG_LINE {
                shorten(content, start.saturating_sub(ls).min(content.len()))
            } else {
                (content.to_string(), 0)
            };
            out.push_str(&shown);
            hidden_chars.push(
                content[..cut_left.min(content.len())]
                    .chars()
                    .count()
                    .saturating_sub(usize::from(cut_left > 0)),
            );
            let map = |offset: usize| -> usize {
                let rel = offset.clamp(ls, le) - ls;
                base + rel.saturating_sub(cut_left).min(shown.len())
            };
            if line == first {
                label.start = map(start);
            }
            if line == last {
                label.end = map(end).max(label.start);
            }
            if line < to_line {
                out.push('\n');
            }
        }
        Snippet {
            name: name.to_string(),
            text: out,
            first_line: from_line,
            label,
            hidden_chars,
        }
    }
}

/// The end of line `line` (before its line break).
fn line_end(text: &str, starts: &[usize], line: usize) -> usize {
    let next = starts.get(line + 1).copied().unwrap_or(text.len());
    let bytes = text.as_bytes();
    let mut end = next;
    while end > starts[line] && matches!(bytes[end - 1], b'\n' | b'\r') {
        end -= 1;
    }
    end
}

/// Shortens a long line around byte `at`: up to [`KEEP_BEFORE`] characters before it and
/// [`KEEP_AFTER`] from it, with `…` where text was cut. Returns the text and how many bytes of
/// the original were cut on the left, minus the marker's length (so offsets map by subtraction).
fn shorten(line: &str, at: usize) -> (String, usize) {
    let mut at = at.min(line.len());
    while !line.is_char_boundary(at) {
        at -= 1;
    }
    let before: Vec<(usize, char)> = line[..at].char_indices().collect();
    let left = if before.len() > KEEP_BEFORE {
        before[before.len() - KEEP_BEFORE].0
    } else {
        0
    };
    let right = line[at..]
        .char_indices()
        .nth(KEEP_AFTER)
        .map_or(line.len(), |(i, _)| at + i);
    let mut out = String::new();
    let mut cut_left = left;
    if left > 0 {
        out.push('…');
        cut_left -= '…'.len_utf8().min(left);
    }
    out.push_str(&line[left..right]);
    if right < line.len() {
        out.push('…');
    }
    (out, cut_left)
}

impl SourceCode for Snippet {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        before: usize,
        after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        // Offsets are the excerpt's own (the labels point into it); lines and columns are the
        // whole source's.
        let inner = self.text.as_str().read_span(span, before, after)?;
        let line = inner.line();
        let column = if inner.column() > 0 || before == 0 {
            inner.column() + self.hidden_chars.get(line).copied().unwrap_or(0)
        } else {
            0
        };
        Ok(Box::new(
            MietteSpanContents::new_named(
                self.name.clone(),
                inner.data(),
                *inner.span(),
                line + self.first_line,
                column,
                inner.line_count(),
            )
            .with_language("toml"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cut(text: &str, span: std::ops::Range<usize>) -> Snippet {
        Snippet::cut("f", text, &line_starts(text), span)
    }

    #[test]
    fn lines_and_offsets() {
        let starts = line_starts("a\nbb\r\nc\rd");
        assert_eq!(starts, vec![0, 2, 6, 8]);
        assert_eq!(line_index(&starts, 0), 0);
        assert_eq!(line_index(&starts, 3), 1);
        assert_eq!(line_index(&starts, 8), 3);
    }

    #[test]
    fn an_excerpt_has_one_line_of_context_and_the_label_inside_it() {
        let text = "one\ntwo = \"x\"\nthree\nfour\n";
        let s = cut(text, 10..13);
        assert_eq!(s.text, "one\ntwo = \"x\"\nthree");
        assert_eq!(s.first_line, 0);
        assert_eq!(&s.text[s.label.clone()], "\"x\"");
    }

    #[test]
    fn a_long_line_is_shortened_around_the_label() {
        let value = "y".repeat(100_000);
        let text = format!("a = 1\nname = \"{value}\" # end\nb = 2\n");
        let start = text.find("# end").unwrap();
        let s = cut(&text, start..start + 5);
        assert!(s.text.len() < 1_000, "{}", s.text.len());
        assert_eq!(&s.text[s.label.clone()], "# end");
        assert!(s.text.contains('…'));
    }

    #[test]
    fn spans_out_of_range_or_inside_characters_are_clamped() {
        let text = "é = \"ü\"";
        #[allow(clippy::reversed_empty_ranges)]
        let spans = [0..1, 5..6, 100..200, 3..1];
        for span in spans {
            let s = cut(text, span);
            assert!(s.label.end <= s.text.len());
        }
    }
}
