//! What to say when a WinRM connection cannot be used: where it was going (host, address, port,
//! HTTP or HTTPS, authentication and user — never the password) and the likely causes of the
//! failure, from the stage it failed in and the operating system's or Windows' own message.
//!
//! The causes are the documented ones: a listener is needed per transport (`winrm quickconfig`
//! creates the HTTP one; HTTPS needs a certificate), WinRM listens on 5985 for HTTP and 5986 for
//! HTTPS, the "Windows Remote Management (HTTP-In)" firewall rule opens the port, and the
//! service's `auth` settings (Basic off, Kerberos and Negotiate on by default) decide which
//! logons it answers 401 to; Kerberos needs the SPN `HTTP/<host>` and clocks within 5 minutes
//! (installation-and-configuration-for-windows-remote-management, about_Remote_Troubleshooting;
//! shared/reference/windows-runtime.md §3 and winrm.md).

use cmdeploy_engine::reach::Unreachable;

use super::{AuthKind, ConnectionSpec};

/// Where and how a connection goes, for its errors.
#[derive(Debug, Clone)]
pub struct Endpoint {
    connection: String,
    host: String,
    address: Option<String>,
    port: u16,
    https: bool,
    auth: AuthKind,
    user: Option<String>,
}

impl Endpoint {
    /// The endpoint of a connection table (`port` defaults to 5985, or 5986 with `https`).
    pub fn of(spec: &ConnectionSpec) -> Endpoint {
        Endpoint {
            connection: spec.name.clone().unwrap_or_else(|| spec.host.clone()),
            host: spec.host.clone(),
            address: spec.address.clone().filter(|a| a != &spec.host),
            port: spec.port.unwrap_or(if spec.https { 5986 } else { 5985 }),
            https: spec.https,
            auth: spec.auth,
            user: spec.user.clone(),
        }
    }

    fn scheme(&self) -> &'static str {
        if self.https {
            "HTTPS"
        } else {
            "HTTP"
        }
    }

    fn auth_name(&self) -> &'static str {
        self.auth.name()
    }

    /// `cm01.contoso.com at 127.0.0.1:5985, winrm over HTTP, ntlm as CONTOSO\cmadmin`.
    pub fn describe(&self) -> String {
        let at = match &self.address {
            Some(a) => format!("{} at {a}:{}", self.host, self.port),
            None => format!("{}:{}", self.host, self.port),
        };
        let user = self
            .user
            .as_ref()
            .filter(|_| self.auth != AuthKind::Certificate)
            .map(|u| format!(" as {u}"))
            .unwrap_or_default();
        format!(
            "{at}, winrm over {}, {}{user}",
            self.scheme(),
            self.auth_name()
        )
    }

    /// The typed failure of this connection for the stage and message it failed with.
    pub fn unreachable(&self, stage: &str, message: &str) -> Unreachable {
        Unreachable {
            connection: self.connection.clone(),
            endpoint: self.describe(),
            causes: self.causes(stage, message),
        }
    }

    /// The likely causes of a failure, most likely first.
    pub fn causes(&self, stage: &str, message: &str) -> Vec<String> {
        let m = message.to_ascii_lowercase();
        let has = |words: &[&str]| words.iter().any(|w| m.contains(w));
        if stage == "auth" || has(&["http 401", "401 unauthorized"]) {
            return self.auth_causes();
        }
        let target = format!(
            "{}:{}",
            self.address.as_deref().unwrap_or(&self.host),
            self.port
        );
        let mut out = Vec::new();
        if has(&[
            "dns error",
            "failed to lookup",
            "name or service not known",
            "no such host",
            "nodename nor servname",
        ]) {
            out.push(format!(
                "the name `{}` does not resolve from this machine: check `host` (and `address`, to connect by IP address)",
                self.address.as_deref().unwrap_or(&self.host)
            ));
            return out;
        }
        if has(&[
            "certificate",
            "tls handshake",
            "invalid peer",
            "unknownissuer",
        ]) {
            out.push(format!(
                "the HTTPS certificate of {target}: it must chain to `ca_file` (or a public root), name `{}` and be in date",
                self.host
            ));
            out.push("the port speaks plain HTTP (an HTTP listener behind https = true)".into());
            return out;
        }
        if has(&["invalid http version"]) && !self.https {
            out.push(format!(
                "{target} answers in TLS: it is an HTTPS listener; set https = true (WinRM's HTTPS port is 5986)"
            ));
            return out;
        }
        if has(&["refused", "os error 111", "os error 10061"]) {
            out.push(format!(
                "nothing listens on {target}: the WinRM service is stopped or has no {} listener (`winrm enumerate winrm/config/listener` on the host; `winrm quickconfig` creates the HTTP listener, an HTTPS one needs a certificate)",
                self.scheme()
            ));
            out.push(self.port_cause());
            out.push("a firewall that rejects the connection".into());
            return out;
        }
        if has(&["timed out", "timeout", "os error 110"]) {
            out.push(format!(
                "a firewall drops the traffic to {target}: the host's \"Windows Remote Management ({}-In)\" rule (on a Public network it admits the local subnet only) or a network firewall",
                self.scheme()
            ));
            out.push("the host is down or `host`/`address` names another machine".into());
            out.push(self.port_cause());
            return out;
        }
        if has(&["http 5", "internalerror", "bad gateway"]) {
            out.push("the WinRM service answered but failed: it is restarting or overloaded (a longer `retry_budget_seconds` waits it out)".into());
            return out;
        }
        if has(&[
            "reset",
            "closed",
            "broken pipe",
            "unexpected eof",
            "os error 104",
        ]) {
            out.push(format!(
                "the service closed the connection: {} spoken to an {} listener, or a proxy or firewall in between",
                self.scheme(),
                if self.https { "HTTP" } else { "HTTPS" }
            ));
            out.push(self.port_cause());
            return out;
        }
        out.push(format!(
            "no WinRM {} listener on {target}, or a firewall in between",
            self.scheme()
        ));
        out.push(self.port_cause());
        out
    }

    fn port_cause(&self) -> String {
        let usual = if self.https { 5986 } else { 5985 };
        let other = if self.https { 5985 } else { 5986 };
        if self.port == other {
            format!(
                "the wrong port: {} is WinRM's {} port, and this connection speaks {} (https = {}); use port {usual} or set https = {}",
                self.port,
                if self.https { "HTTP" } else { "HTTPS" },
                self.scheme(),
                self.https,
                !self.https
            )
        } else if self.port == usual {
            format!(
                "the port: WinRM listens on 5985 for HTTP and 5986 for HTTPS; this connection uses {} on {}",
                self.scheme(),
                self.port
            )
        } else {
            format!(
                "the port: WinRM listens on 5985 for HTTP and 5986 for HTTPS, and this connection uses {} on {} (a listener moved with `winrm set winrm/config/listener?...@{{Port=\"{}\"}}`?)",
                self.scheme(),
                self.port,
                self.port
            )
        }
    }

    fn auth_causes(&self) -> Vec<String> {
        let user = self.user.as_deref().unwrap_or("(no user)");
        let mut out = Vec::new();
        let setting = match self.auth {
            AuthKind::Ntlm => "Negotiate",
            AuthKind::Kerberos => "Kerberos",
            AuthKind::Basic => "Basic",
            AuthKind::Certificate => "Certificate",
        };
        let mut method = format!(
            "auth = \"{}\" is not enabled on the WinRM service: `winrm get winrm/config/service/auth` on the host must show {setting} = true",
            self.auth_name()
        );
        if self.auth == AuthKind::Basic {
            method.push_str(
                " (Windows ships with Basic off; over HTTP it also needs AllowUnencrypted = true)",
            );
        }
        out.push(method);
        match self.auth {
            AuthKind::Certificate => out.push(
                "the client certificate is not mapped to a local account on the host (`winrm enumerate winrm/config/service/certmapping`)".into(),
            ),
            _ => out.push(format!(
                "a wrong user or password for {user}: a domain account as DOMAIN\\user, a local one as HOST\\user, in the host's Administrators or Remote Management Users group"
            )),
        }
        if self.auth == AuthKind::Kerberos {
            out.push(format!(
                "Kerberos: the SPN HTTP/{} must be registered on the host's computer account (`setspn -L`), `host` must be that name (not an IP address), and this machine's clock must be within 5 minutes of the domain controller's",
                self.host
            ));
        }
        if self.auth == AuthKind::Ntlm {
            out.push("NTLM refused by policy (\"Network security: Restrict NTLM\") on the host or the domain".into());
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(extra: serde_json::Value) -> ConnectionSpec {
        let mut v = serde_json::json!({
            "transport": "winrm", "host": "cm01.contoso.com", "address": "127.0.0.1",
            "user": "CONTOSO\\cmadmin", "password": {"env": "X"}, "name": "cm01"
        });
        for (k, x) in extra.as_object().unwrap() {
            v[k] = x.clone();
        }
        serde::Deserialize::deserialize(v).unwrap()
    }

    #[test]
    fn the_endpoint_names_host_address_port_scheme_auth_and_user_never_a_password() {
        let e = Endpoint::of(&spec(serde_json::json!({"port": 1})));
        assert_eq!(
            e.describe(),
            "cm01.contoso.com at 127.0.0.1:1, winrm over HTTP, ntlm as CONTOSO\\cmadmin"
        );
        assert_eq!(e.unreachable("connect", "x").connection, "cm01");
    }

    #[test]
    fn a_refused_connection_names_the_listener_the_firewall_and_a_port_mixup() {
        let e = Endpoint::of(&spec(serde_json::json!({"port": 5986})));
        let c = e.causes(
            "connect",
            "connect to 127.0.0.1:5986: Connection refused (os error 111)",
        );
        assert!(c[0].contains("listener"), "{c:?}");
        assert!(c[1].contains("5986 is WinRM's HTTPS port"), "{c:?}");
        assert!(c.iter().any(|x| x.contains("firewall")), "{c:?}");
    }

    #[test]
    fn a_401_names_the_auth_method_and_the_credentials_and_for_kerberos_the_spn_and_clock() {
        let e = Endpoint::of(&spec(serde_json::json!({"auth": "kerberos"})));
        let c = e
            .causes("auth", "authentication failed: HTTP 401")
            .join("\n");
        assert!(c.contains("Kerberos = true"), "{c}");
        assert!(c.contains("user or password for CONTOSO\\cmadmin"), "{c}");
        assert!(c.contains("HTTP/cm01.contoso.com"), "{c}");
        assert!(c.contains("5 minutes"), "{c}");
    }

    #[test]
    fn plain_http_to_an_https_listener_says_so() {
        let e = Endpoint::of(&spec(serde_json::json!({"port": 5986})));
        let c = e.causes("connect", "127.0.0.1:5986: invalid HTTP version parsed");
        assert_eq!(c.len(), 1, "{c:?}");
        assert!(c[0].contains("set https = true"), "{c:?}");
    }

    #[test]
    fn a_timeout_points_at_a_firewall() {
        let e = Endpoint::of(&spec(serde_json::json!({})));
        let c = e.causes("connect", "connect to 10.0.0.1:5985: timed out");
        assert!(c[0].contains("firewall"), "{c:?}");
    }
}
