//! The HTTP answers of `lab serve`: plain text, empty, SOAP, a 401 offering the auth schemes
//! the service accepts, and a WS-Management fault (HTTP 500), as a WinRM service sends them.

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::{Response, StatusCode};

use super::auth::CHALLENGE;
use super::faults::Fault;
use super::{response, Server};

/// One HTTP answer.
pub(super) type Reply = Response<Full<Bytes>>;

pub(super) fn plain(status: StatusCode, text: &str) -> Reply {
    let mut r = Response::new(Full::new(Bytes::from(text.to_string())));
    *r.status_mut() = status;
    r.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

pub(super) fn empty(status: StatusCode) -> Reply {
    let mut r = Response::new(Full::new(Bytes::new()));
    *r.status_mut() = status;
    r
}

pub(super) fn soap(status: StatusCode, body: String) -> Reply {
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = status;
    r.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/soap+xml;charset=UTF-8"),
    );
    r
}

/// 401 with an empty body, offering what the service accepts (with a token: the CHALLENGE).
pub(super) fn unauthorized(server: &Server, token: Option<&str>) -> Reply {
    let mut r = empty(StatusCode::UNAUTHORIZED);
    let h = r.headers_mut();
    let negotiate = match token {
        Some(t) => format!("Negotiate {t}"),
        None => "Negotiate".to_string(),
    };
    if let Ok(v) = hyper::header::HeaderValue::from_str(&negotiate) {
        h.append(hyper::header::WWW_AUTHENTICATE, v);
    }
    if server.kerberos.is_some() && token.is_none() {
        h.append(
            hyper::header::WWW_AUTHENTICATE,
            hyper::header::HeaderValue::from_static("Kerberos"),
        );
    }
    if server.config.basic && token.is_none() {
        h.append(
            hyper::header::WWW_AUTHENTICATE,
            hyper::header::HeaderValue::from_static(CHALLENGE),
        );
    }
    r
}

pub(super) fn fault_reply(relates_to: Option<&str>, fault: &Fault, machine: &str) -> Reply {
    soap(
        StatusCode::INTERNAL_SERVER_ERROR,
        response::fault(relates_to, fault, machine),
    )
}
