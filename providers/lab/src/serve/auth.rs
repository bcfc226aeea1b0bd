//! Basic authentication against the lab's domain users, when `--allow-basic` switched it on
//! (Windows ships with Basic off; see [`super::config`]).
//!
//! Clients send `Authorization: Basic base64(user:password)` pre-emptively. The user may be
//! written `CONTOSO\cmadmin`, `contoso.com\cmadmin`, `cmadmin@contoso.com` or plain `cmadmin`;
//! the password is checked by hashing it with the estate's salt and comparing with the user's
//! stored `password_hash`. Passwords are never logged, stored or echoed.

use base64::Engine as _;

use crate::model::{Estate, User};

/// The challenge sent with every 401.
pub const CHALLENGE: &str = "Basic realm=\"WSMAN\"";

/// Why a request was refused (all answered with 401).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// No `Authorization` header, or not Basic.
    Missing,
    /// The header is not valid base64 `user:password`.
    Malformed,
    /// Unknown user or wrong password.
    Rejected,
}

/// Splits a Basic `Authorization` header value into user and password.
///
/// # Errors
/// [`Refusal::Missing`] for another scheme, [`Refusal::Malformed`] for bad encoding.
pub fn parse_basic(header: &str) -> Result<(String, String), Refusal> {
    let header = header.trim();
    let (scheme, token) = header.split_once(' ').ok_or(Refusal::Missing)?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(Refusal::Missing);
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(token.trim())
        .map_err(|_| Refusal::Malformed)?;
    let text = String::from_utf8(bytes).map_err(|_| Refusal::Malformed)?;
    let (user, password) = text.split_once(':').ok_or(Refusal::Malformed)?;
    Ok((user.to_string(), password.to_string()))
}

/// The domain user a login name means, in any of the accepted forms.
pub fn find_user<'e>(estate: &'e Estate, login: &str) -> Option<&'e User> {
    let login = login.trim();
    if let Some((domain, name)) = login.split_once('\\') {
        let d = estate.domain(domain)?;
        return estate.user(&format!("{}\\{name}", d.netbios));
    }
    if let Some((name, domain)) = login.rsplit_once('@') {
        let d = estate.domain(domain)?;
        return estate.user(&format!("{}\\{name}", d.netbios));
    }
    estate
        .domains
        .iter()
        .flat_map(|d| d.users.iter())
        .find(|u| {
            u.name
                .rsplit_once('\\')
                .is_some_and(|(_, n)| n.eq_ignore_ascii_case(login))
        })
}

/// Checks an `Authorization` header against the estate; returns the user's `DOMAIN\user` name.
///
/// # Errors
/// A [`Refusal`] (answer 401).
pub fn authenticate(estate: &Estate, header: Option<&str>) -> Result<String, Refusal> {
    let (login, password) = parse_basic(header.ok_or(Refusal::Missing)?)?;
    let user = find_user(estate, &login).ok_or(Refusal::Rejected)?;
    if user.password_hash.is_empty()
        || !same(
            estate.hash_password(&password).as_bytes(),
            user.password_hash.as_bytes(),
        )
    {
        return Err(Refusal::Rejected);
    }
    Ok(user.name.clone())
}

/// Constant-time equality of two byte strings of equal length.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
