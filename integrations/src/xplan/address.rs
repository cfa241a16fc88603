//! Where Hearth will connect when it calls an XPLAN site. The forward host was checked when it was
//! set, but a DNS name can later resolve anywhere (DNS rebinding), so every connection is checked
//! again on the addresses it would use: loopback, private, link-local (cloud metadata), shared,
//! reserved and multicast ranges are refused. Only development (the fake XPLAN over `http`) may
//! reach loopback.

use std::{
    io,
    net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr},
};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// Whether Hearth refuses to connect to `ip`.
pub fn refused(ip: IpAddr, loopback_allowed: bool) -> bool {
    match ip {
        IpAddr::V4(v4) => refused_v4(v4, loopback_allowed),
        IpAddr::V6(v6) => refused_v6(v6, loopback_allowed),
    }
}

fn refused_v4(ip: Ipv4Addr, loopback_allowed: bool) -> bool {
    let [a, b, ..] = ip.octets();
    (ip.is_loopback() && !loopback_allowed)
        || ip.is_private()
        || ip.is_link_local() // 169.254.0.0/16, where cloud metadata lives
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0 // "this network"
        || (a == 100 && (64..128).contains(&b)) // shared address space, incl. 100.100.100.200
        || (a == 192 && b == 0 && ip.octets()[2] == 0) // IETF protocol assignments
        || (a == 198 && (18..20).contains(&b)) // benchmarking
        || a >= 240 // reserved
}

fn refused_v6(ip: Ipv6Addr, loopback_allowed: bool) -> bool {
    if let Some(v4) = embedded_v4(ip) {
        return refused_v4(v4, loopback_allowed);
    }
    let first = ip.segments()[0];
    (ip.is_loopback() && !loopback_allowed)
        || ip.is_unspecified()
        || ip.is_multicast()
        || (first & 0xfe00) == 0xfc00 // unique local, incl. fd00:ec2::254 (AWS metadata)
        || (first & 0xffc0) == 0xfe80 // link-local
        || (first & 0xffc0) == 0xfec0 // site-local (deprecated)
        || (first == 0x2001 && ip.segments()[1] == 0x0db8) // documentation
}

/// The IPv4 address inside an IPv4-mapped, -compatible or NAT64 (64:ff9b::/96) IPv6 address.
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let v4 = || Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
    match s {
        [0, 0, 0, 0, 0, 0xffff, _, _] => Some(v4()),
        [0, 0, 0, 0, 0, 0, hi, _] if hi != 0 => Some(v4()),
        [0x64, 0xff9b, 0, 0, 0, 0, _, _] => Some(v4()),
        _ => None,
    }
}

/// The host of a URL Hearth is about to call, when it is an IP literal that must not be reached
/// (names go through [`GuardedResolver`]; literals never reach a resolver).
pub fn refused_literal(host: &str, loopback_allowed: bool) -> Option<IpAddr> {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    bare.parse::<IpAddr>()
        .ok()
        .filter(|ip| refused(*ip, loopback_allowed))
}

/// Resolves with the system resolver, then keeps only addresses Hearth may connect to.
pub struct GuardedResolver {
    pub loopback_allowed: bool,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let loopback_allowed = self.loopback_allowed;
        Box::pin(async move {
            let host = name.as_str().to_string();
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let allowed: Vec<SocketAddr> = found
                .into_iter()
                .filter(|a| !refused(a.ip(), loopback_allowed))
                .collect();
            if allowed.is_empty() {
                return Err(Box::new(io::Error::new(
                    io::ErrorKind::PermissionDenied,
                    format!(
                        "{host} resolves only to addresses Hearth does not call \
                         (loopback, private, link-local or metadata ranges)"
                    ),
                ))
                    as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_ranges_are_refused_and_public_ones_allowed() {
        for bad in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.100.100.200",
            "0.0.0.0",
            "::1",
            "fd00:ec2::254",
            "fe80::1",
            "::ffff:169.254.169.254",
            "::ffff:127.0.0.1",
            "64:ff9b::a9fe:a9fe",
        ] {
            assert!(refused(bad.parse().unwrap(), false), "{bad} allowed");
        }
        for good in ["203.0.114.7", "1.1.1.1", "2606:4700:4700::1111"] {
            assert!(!refused(good.parse().unwrap(), false), "{good} refused");
        }
    }

    #[test]
    fn only_development_reaches_loopback_and_never_the_rest() {
        assert!(!refused("127.0.0.1".parse().unwrap(), true));
        assert!(!refused("::1".parse().unwrap(), true));
        assert!(refused("169.254.169.254".parse().unwrap(), true));
        assert!(refused("10.0.0.1".parse().unwrap(), true));
    }

    #[tokio::test]
    async fn a_name_resolving_to_loopback_is_refused_at_connect_time() {
        let strict = GuardedResolver {
            loopback_allowed: false,
        };
        let name: Name = "localhost".parse().unwrap();
        assert!(strict.resolve(name).await.is_err());
        let dev = GuardedResolver {
            loopback_allowed: true,
        };
        let name: Name = "localhost".parse().unwrap();
        assert!(dev.resolve(name).await.unwrap().next().is_some());
    }
}
