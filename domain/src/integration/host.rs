//! The "forward host": an XPLAN site's host name as the practice types it, without scheme.

use crate::error::DomainError;

/// Normalises and checks a forward host: `name.example.com` or `name.example.com:8443`, lower
/// case, no scheme, path, credentials or spaces. The scheme is always https, added by the client.
pub fn forward_host(input: &str) -> Result<String, DomainError> {
    let host = input.trim().trim_end_matches('/').to_ascii_lowercase();
    let invalid = |why: &str| {
        Err(DomainError::InvalidInput(format!(
            "forward host {input:?}: {why}"
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
    if host.contains(['/', '?', '#', '@', ' ']) {
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
    Ok(host)
}

#[cfg(test)]
mod tests {
    use super::forward_host;

    #[test]
    fn accepts_site_names_and_ports_and_normalises_case() {
        assert_eq!(
            forward_host(" Harbour.XPLAN.iress.com.au/ ").unwrap(),
            "harbour.xplan.iress.com.au"
        );
        assert_eq!(forward_host("localhost:8443").unwrap(), "localhost:8443");
    }

    #[test]
    fn refuses_schemes_paths_and_garbage() {
        for bad in [
            "",
            "https://site.example.com",
            "site.example.com/resourceful",
            "a..b",
            "-a.com",
            "site:0",
            "site:99999",
            "us er@site",
            "a_b.com",
        ] {
            assert!(forward_host(bad).is_err(), "{bad:?} was accepted");
        }
    }
}
