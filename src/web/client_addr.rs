//! The address a request came from, for throttling sign-in attempts.
//!
//! Without configuration it is the peer of the TCP connection, and
//! `X-Forwarded-For` is ignored: anyone can send that header. Behind a
//! reverse proxy every peer is the proxy, so its addresses are listed in
//! `DEBRIEF_TRUSTED_PROXIES`; then the client is the nearest address in
//! `X-Forwarded-For` that is not one of them, read from the right, where each
//! trusted proxy appended what it saw.

use std::{
    net::{IpAddr, SocketAddr},
    str::FromStr,
};

use axum::{
    extract::{ConnectInfo, FromRequestParts},
    http::{HeaderMap, request::Parts},
};

use crate::{error::AppError, state::AppState};

/// Addresses and ranges (`10.0.0.0/8`, `::1`) whose `X-Forwarded-For` is
/// believed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<Range>);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Range {
    network: IpAddr,
    prefix: u8,
}

impl Range {
    fn contains(&self, ip: IpAddr) -> bool {
        match (self.network, ip.to_canonical()) {
            (IpAddr::V4(network), IpAddr::V4(ip)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(self.prefix)).unwrap_or(0);
                u32::from(network) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(network), IpAddr::V6(ip)) => {
                let mask = u128::MAX.checked_shl(128 - u32::from(self.prefix)).unwrap_or(0);
                u128::from(network) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

impl FromStr for TrustedProxies {
    type Err = String;

    /// A comma-separated list; empty means no proxy is trusted.
    fn from_str(raw: &str) -> Result<TrustedProxies, String> {
        let mut ranges = Vec::new();
        for item in raw.split(',').map(str::trim).filter(|item| !item.is_empty()) {
            let (address, prefix) = item.split_once('/').map_or((item, None), |(a, p)| (a, Some(p)));
            let network = address
                .parse::<IpAddr>()
                .map_err(|_| format!("{item:?} is not an IP address or a range such as 10.0.0.0/8"))?
                .to_canonical();
            let bits = if network.is_ipv4() { 32 } else { 128 };
            let prefix = match prefix {
                None => bits,
                Some(prefix) => prefix
                    .parse::<u8>()
                    .ok()
                    .filter(|prefix| *prefix <= bits)
                    .ok_or_else(|| format!("{item:?} has a prefix length that is not 0 to {bits}"))?,
            };
            ranges.push(Range { network, prefix });
        }
        Ok(TrustedProxies(ranges))
    }
}

impl TrustedProxies {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|range| range.contains(ip))
    }

    /// The client behind `peer`, given the request's headers.
    pub fn client_ip(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let mut client = peer.to_canonical();
        if !self.trusts(client) {
            return client;
        }
        let hops: Vec<&str> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .map(str::trim)
            .collect();
        for hop in hops.into_iter().rev() {
            // A hop that cannot be read ends the chain we can believe.
            let Some(ip) = parse_hop(hop) else { break };
            client = ip;
            if !self.trusts(ip) {
                break;
            }
        }
        client
    }
}

/// `203.0.113.7`, `203.0.113.7:41000`, `2001:db8::1` or `[2001:db8::1]:443`.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    hop.parse::<IpAddr>()
        .or_else(|_| hop.parse::<SocketAddr>().map(|socket| socket.ip()))
        .ok()
        .map(|ip| ip.to_canonical())
}

/// The client's address, as [`TrustedProxies::client_ip`] finds it.
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub IpAddr);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<ClientIp, AppError> {
        let ConnectInfo(peer) = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .copied()
            .ok_or_else(|| anyhow::anyhow!("the server did not record the peer address"))?;
        Ok(ClientIp(state.config.trusted_proxies.client_ip(peer.ip(), &parts.headers)))
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn forwarded(values: &[&'static str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append("x-forwarded-for", HeaderValue::from_static(value));
        }
        headers
    }

    #[test]
    fn ranges_are_read_and_checked() {
        let proxies: TrustedProxies = " 127.0.0.1, 10.0.0.0/8 ,fd00::/8".parse().unwrap();
        assert!(proxies.trusts(ip("127.0.0.1")) && proxies.trusts(ip("10.200.3.4")));
        assert!(proxies.trusts(ip("::ffff:10.1.1.1")), "an IPv4 address seen as IPv6");
        assert!(proxies.trusts(ip("fd12::1")) && !proxies.trusts(ip("fe80::1")));
        assert!(!proxies.trusts(ip("127.0.0.2")) && !proxies.trusts(ip("11.0.0.1")));
        assert!("".parse::<TrustedProxies>().unwrap().is_empty());
        assert!("0.0.0.0/0".parse::<TrustedProxies>().unwrap().trusts(ip("203.0.113.9")));
        for bad in ["localhost", "10.0.0.0/33", "::/129", "10.0.0.0/x", "10.0.0/8"] {
            assert!(bad.parse::<TrustedProxies>().is_err(), "{bad}");
        }
    }

    #[test]
    fn without_trusted_proxies_the_header_is_ignored() {
        let none = TrustedProxies::default();
        assert_eq!(none.client_ip(ip("198.51.100.4"), &forwarded(&["203.0.113.7"])), ip("198.51.100.4"));
    }

    #[test]
    fn behind_trusted_proxies_the_nearest_untrusted_hop_is_the_client() {
        let proxies: TrustedProxies = "127.0.0.1, 10.0.0.0/8".parse().unwrap();
        let peer = ip("127.0.0.1");
        // The client may send a forged first hop; only what our proxies appended counts.
        let chain = forwarded(&["6.6.6.6, 203.0.113.7", "10.0.0.5"]);
        assert_eq!(proxies.client_ip(peer, &chain), ip("203.0.113.7"));
        assert_eq!(proxies.client_ip(peer, &forwarded(&["[2001:db8::7]:443"])), ip("2001:db8::7"));
        assert_eq!(proxies.client_ip(peer, &forwarded(&["203.0.113.7:41000"])), ip("203.0.113.7"));
        assert_eq!(proxies.client_ip(peer, &HeaderMap::new()), peer, "no header: the proxy itself");
        assert_eq!(proxies.client_ip(peer, &forwarded(&["10.0.0.9"])), ip("10.0.0.9"), "all trusted");
        assert_eq!(proxies.client_ip(peer, &forwarded(&["203.0.113.7, junk"])), peer, "unreadable hop");
        // A peer that is not a trusted proxy is the client, whatever it says.
        assert_eq!(proxies.client_ip(ip("198.51.100.4"), &chain), ip("198.51.100.4"));
    }
}
