//! The "forward host": an XPLAN site's host name as the practice types it, without scheme.
//!
//! Hearth sends its XPLAN client id and secret to this host, so it may only name an XPLAN site:
//! a DNS name under one of the configured site suffixes, never an IP address. (The connection
//! itself is checked again when made — see `hearth_integrations::xplan::address` — so a name
//! that resolves into a private range is refused too.)

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::{error::DomainError, limits::excerpt};

/// XPLAN's site domains: sites are `{practice}.xplan.iress.com.au` (Australia, also the older
/// `{practice}.xplan.com.au`), `{practice}.xplan.iress.co.uk` / `.xplan.co.uk` (United Kingdom)
/// and `{practice}.xplan.co.nz` (New Zealand). Configurable with `HEARTH_XPLAN_SITE_SUFFIXES`.
pub const DEFAULT_SITE_SUFFIXES: [&str; 5] = [
    "xplan.iress.com.au",
    "xplan.com.au",
    "xplan.iress.co.uk",
    "xplan.co.uk",
    "xplan.co.nz",
];

/// Which forward hosts are acceptable: given with the command, from configuration.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostPolicy {
    /// A forward host must be a name under one of these (a sub-domain, not the suffix itself).
    pub site_suffixes: Vec<String>,
    /// Development only (the fake XPLAN over `http`): `localhost` and loopback addresses too.
    pub loopback_allowed: bool,
}

impl Default for HostPolicy {
    fn default() -> Self {
        Self {
            site_suffixes: DEFAULT_SITE_SUFFIXES.map(String::from).to_vec(),
            loopback_allowed: false,
        }
    }
}

impl HostPolicy {
    /// The default suffixes plus loopback, for the fake XPLAN.
    pub fn development() -> Self {
        Self {
            loopback_allowed: true,
            ..Self::default()
        }
    }
}

/// Normalises and checks a forward host: `name.xplan.iress.com.au` or with `:port`, lower case,
/// no scheme, path, credentials or spaces, under an allowed site suffix. The scheme is added by
/// the client (https in production).
pub fn forward_host(input: &str, policy: &HostPolicy) -> Result<String, DomainError> {
    let host = input.trim().trim_end_matches('/').to_ascii_lowercase();
    let invalid = |why: &str| {
        Err(DomainError::InvalidInput(format!(
            "forward host {}: {why}",
            excerpt(input)
        )))
    };
    if host.is_empty() {
        return invalid(
            "it is empty; enter the XPLAN site address, e.g. yourpractice.xplan.iress.com.au",
        );
    }
    if host.contains("://") {
        return invalid("leave out the scheme (https://); enter only the site address");
    }
    if host.contains(['/', '?', '#', '@', ' ', '[', ']']) {
        return invalid("enter only the site address, without a path, query or user name");
    }
    let (name, port) = match host.rsplit_once(':') {
        Some((name, port)) => (name, Some(port)),
        None => (host.as_str(), None),
    };
    if let Some(port) = port {
        if port.parse::<u16>().map_or(true, |p| p == 0) {
            return invalid("the port is not a number between 1 and 65535");
        }
    }
    if let Ok(ip) = name.parse::<IpAddr>() {
        return if policy.loopback_allowed && ip.is_loopback() {
            Ok(host)
        } else {
            invalid("an IP address is not an XPLAN site; enter the site's name")
        };
    }
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    };
    if name.len() > 253 || !name.split('.').all(label_ok) {
        return invalid("it is not a valid host name");
    }
    if policy.loopback_allowed && name == "localhost" {
        return Ok(host);
    }
    let under_suffix = policy.site_suffixes.iter().any(|suffix| {
        let suffix = suffix.trim().trim_start_matches('.').to_ascii_lowercase();
        !suffix.is_empty()
            && name
                .strip_suffix(suffix.as_str())
                .is_some_and(|prefix| prefix.len() > 1 && prefix.ends_with('.'))
    });
    if !under_suffix {
        return invalid(&format!(
            "not an XPLAN site; the address ends in one of {}",
            policy.site_suffixes.join(", ")
        ));
    }
    Ok(host)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prod(input: &str) -> Result<String, DomainError> {
        forward_host(input, &HostPolicy::default())
    }

    #[test]
    fn accepts_site_names_and_ports_and_normalises_case() {
        assert_eq!(
            prod(" Harbour.XPLAN.iress.com.au/ ").unwrap(),
            "harbour.xplan.iress.com.au"
        );
        assert_eq!(
            prod("harbour.xplan.co.nz:8443").unwrap(),
            "harbour.xplan.co.nz:8443"
        );
    }

    #[test]
    fn refuses_schemes_paths_and_garbage() {
        for bad in [
            "",
            "https://site.xplan.com.au",
            "site.xplan.com.au/resourceful",
            "a..b.xplan.com.au",
            "-a.xplan.com.au",
            "site.xplan.com.au:0",
            "site.xplan.com.au:99999",
            "us er@site.xplan.com.au",
            "a_b.xplan.com.au",
        ] {
            assert!(prod(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn refuses_internal_addresses_and_names_outside_the_xplan_sites() {
        for bad in [
            "169.254.169.254",
            "127.0.0.1:8080",
            "10.0.0.1",
            "[::1]:8080",
            "localhost",
            "localhost:8443",
            "metadata.google.internal",
            "xplan.com.au",
            "evilxplan.com.au",
            "xplan.com.au.evil.example",
            "2130706433",
        ] {
            assert!(prod(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn development_reaches_loopback_but_nothing_else_internal() {
        let dev = HostPolicy::development();
        assert!(forward_host("127.0.0.1:8080", &dev).is_ok());
        assert!(forward_host("localhost:8443", &dev).is_ok());
        for bad in ["10.0.0.1", "169.254.169.254", "metadata.google.internal"] {
            assert!(forward_host(bad, &dev).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn configured_suffixes_replace_the_default() {
        let policy = HostPolicy {
            site_suffixes: vec!["xplan.example.com".into()],
            loopback_allowed: false,
        };
        assert!(forward_host("nz.xplan.example.com", &policy).is_ok());
        assert!(forward_host("harbour.xplan.com.au", &policy).is_err());
    }
}
