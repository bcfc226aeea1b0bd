//! PowerShell numeric literals in argument mode.

use serde_json::Number;

use super::chars::is_dash;

/// Read a PowerShell numeric literal in argument mode: optional leading dash
/// (any of PowerShell's dashes), decimal integer, decimal fraction or `0x`
/// hex (read as unsigned), with an optional `kb`/`mb`/`gb`/`tb`/`pb`
/// multiplier. Anything else (`10.1.0.0`, `1e`, `5x`) is not a number.
pub(super) fn parse_number(word: &str) -> Option<Number> {
    let (negative, body) = match word.chars().next() {
        Some(c) if is_dash(c) => (true, &word[c.len_utf8()..]),
        _ => (false, word),
    };
    let lower = body.to_ascii_lowercase();
    let (digits, multiplier): (&str, i64) =
        [("kb", 10), ("mb", 20), ("gb", 30), ("tb", 40), ("pb", 50)]
            .iter()
            .find_map(|&(suffix, shift)| lower.strip_suffix(suffix).map(|d| (d, 1i64 << shift)))
            .unwrap_or((lower.as_str(), 1));
    if digits.is_empty() {
        return None;
    }
    if let Some(hex) = digits.strip_prefix("0x") {
        if hex.is_empty() || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
            return None;
        }
        let v = i64::try_from(u64::from_str_radix(hex, 16).ok()?).ok()?;
        let v = v.checked_mul(multiplier)?;
        return Some(Number::from(if negative { v.checked_neg()? } else { v }));
    }
    let (int_part, frac_part) = match digits.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (digits, None),
    };
    if int_part.is_empty() || !int_part.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    match frac_part {
        None => {
            let v: i64 = int_part.parse().ok()?;
            let v = v.checked_mul(multiplier)?;
            Some(Number::from(if negative { -v } else { v }))
        }
        Some(f) => {
            if f.is_empty() || !f.chars().all(|c| c.is_ascii_digit()) {
                return None;
            }
            let v: f64 = format!("{int_part}.{f}").parse().ok()?;
            let v = v * multiplier as f64;
            Number::from_f64(if negative { -v } else { v })
        }
    }
}
