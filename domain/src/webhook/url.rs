//! Where a webhook may point: an `https` URL on a DNS name, never an IP address or a name that
//! is internal by definition. The connection is checked again when made (the name could later
//! resolve into a private range: see `hearth_integrations::xplan::address`). Development alone may
//! post over `http` to a loopback receiver.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::{error::DomainError, limits::excerpt};

/// Longest URL accepted.
pub const MAX_URL: usize = 2_000;

/// Given with the command, from configuration.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UrlPolicy {
    /// Development only (`HEARTH_WEBHOOK_ALLOW_LOOPBACK`): `http://localhost`/`127.0.0.1`/`[::1]`.
    pub loopback_allowed: bool,
}

/// Names that never leave the machine or the site network.
const INTERNAL_SUFFIXES: [&str; 5] = [".localhost", ".local", ".internal", ".localdomain", ".lan"];

/// Normalises and checks a webhook URL (scheme and host lower-cased).
pub fn webhook_url(input: &str, policy: &UrlPolicy) -> Result<String, DomainError> {
    let refuse = |why: &str| {
        Err(DomainError::WebhookUrlRefused(format!(
            "{}: {why}",
            excerpt(input)
        )))
    };
    let url = input.trim();
    if url.len() > MAX_URL {
        return refuse("longer than 2,000 characters");
    }
    if url.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return refuse("spaces and control characters are not allowed");
    }
    let lower = url.to_ascii_lowercase();
    let (scheme, rest) = match lower.split_once("://") {
        Some((s, _)) => (s.to_string(), &url[s.len() + 3..]),
        None => return refuse("it must start with https://"),
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    if authority.contains('@') {
        return refuse("credentials in the URL are not allowed; Hearth signs each delivery");
    }
    let authority = authority.to_ascii_lowercase();
    let Some((host, _port)) = split_port(&authority) else {
        return refuse("the port is not a number from 1 to 65535");
    };
    if host.is_empty() {
        return refuse("it names no host");
    }
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let loopback = match bare.parse::<IpAddr>() {
        Ok(ip) if ip.is_loopback() => true,
        Ok(_) => return refuse("IP addresses are not accepted; use the receiver's DNS name"),
        Err(_) => host == "localhost" || host.ends_with(".localhost"),
    };
    if loopback {
        if !policy.loopback_allowed {
            return refuse("loopback addresses are internal and are not accepted");
        }
    } else {
        if !host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
            || !host.contains('.')
            || host.starts_with(['.', '-'])
        {
            return refuse("the host must be a fully qualified DNS name");
        }
        if INTERNAL_SUFFIXES.iter().any(|s| host.ends_with(s)) {
            return refuse("internal host names are not accepted");
        }
    }
    match scheme.as_str() {
        "https" => {}
        "http" if loopback && policy.loopback_allowed => {}
        _ => return refuse("it must use https"),
    }
    Ok(format!("{scheme}://{authority}{tail}"))
}

/// The host and optional port of an authority; `None` when the port is malformed.
fn split_port(authority: &str) -> Option<(&str, Option<u16>)> {
    let (host, port) = if let Some(v6_end) = authority.rfind(']') {
        match authority[v6_end + 1..].strip_prefix(':') {
            Some(p) => (&authority[..=v6_end], Some(p)),
            None if v6_end + 1 == authority.len() => (authority, None),
            None => return None,
        }
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    match port {
        None => Some((host, None)),
        Some(p) => p
            .parse::<u16>()
            .ok()
            .filter(|p| *p != 0)
            .map(|p| (host, Some(p))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_urls_on_public_names_are_accepted_and_normalised() {
        let p = UrlPolicy::default();
        assert_eq!(
            webhook_url("HTTPS://Hooks.Example.com:8443/hearth?x=1", &p).unwrap(),
            "https://hooks.example.com:8443/hearth?x=1"
        );
    }

    #[test]
    fn internal_and_insecure_urls_are_refused() {
        let p = UrlPolicy::default();
        for bad in [
            "http://hooks.example.com/",
            "https://10.0.0.1/hook",
            "https://169.254.169.254/latest/meta-data",
            "https://[::1]/",
            "https://[fd00:ec2::254]/",
            "https://localhost/",
            "https://printer.local/",
            "https://metadata.google.internal/",
            "https://user:pw@hooks.example.com/",
            "https://hooks.example.com:0/",
            "https://hooks.example.com:99999/",
            "ftp://hooks.example.com/",
            "hooks.example.com",
            "https://intranet/",
        ] {
            assert!(
                matches!(webhook_url(bad, &p), Err(DomainError::WebhookUrlRefused(_))),
                "{bad} accepted"
            );
        }
    }

    #[test]
    fn only_development_posts_over_http_to_loopback() {
        let dev = UrlPolicy {
            loopback_allowed: true,
        };
        assert!(webhook_url("http://127.0.0.1:9000/hook", &dev).is_ok());
        assert!(webhook_url("http://localhost:9000/hook", &dev).is_ok());
        assert!(webhook_url("http://hooks.example.com/", &dev).is_err());
        assert!(webhook_url("https://10.0.0.1/", &dev).is_err());
        assert!(webhook_url("http://127.0.0.1:9000/hook", &UrlPolicy::default()).is_err());
    }
}
