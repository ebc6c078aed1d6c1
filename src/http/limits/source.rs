//! Where a request comes from: the source address behind trusted proxies, the key a
//! source is limited under (IPv6 by its /64), and how much each source holds at once.

use std::net::{IpAddr, Ipv6Addr, SocketAddr};

use axum::http::HeaderMap;

use super::held::{HeldPerKey, HeldSlot};
use crate::domain::ip_allowlist::IpRange;

/// How many connections or requests each source address holds at once, up to a limit (an
/// IPv6 address counts for its /64).
#[derive(Clone)]
pub struct PerSourceCounter(HeldPerKey<IpAddr>);

/// One thing held by a source; see [`PerSourceCounter`].
pub type SourceSlot = HeldSlot<IpAddr>;

impl PerSourceCounter {
    pub fn new(limit: u32) -> Self {
        PerSourceCounter(HeldPerKey::new(limit))
    }

    /// One more for `addr`, released when the slot is dropped; `None` when the source is at
    /// its limit.
    pub fn claim(&self, addr: IpAddr) -> Option<SourceSlot> {
        self.0.claim(source_key(addr))
    }

    #[cfg(test)]
    pub(super) fn tracked(&self) -> usize {
        self.0.tracked()
    }
}

/// The key a source address is limited under: IPv4 addresses as they are, IPv6 addresses by
/// their /64 (one host usually holds a whole /64).
pub fn source_key(addr: IpAddr) -> IpAddr {
    match addr.to_canonical() {
        IpAddr::V6(v6) => {
            let bits = u128::from(v6) & (u128::MAX << 64);
            IpAddr::V6(Ipv6Addr::from(bits))
        }
        v4 => v4,
    }
}

/// Walks `X-Forwarded-For` from the right (each proxy appends the address it saw) while the
/// hop is trusted. A malformed entry stops the walk at the proxy that passed it on.
pub fn source_address(peer: IpAddr, headers: &HeaderMap, trusted: &[IpRange]) -> IpAddr {
    let is_trusted = |addr: IpAddr| trusted.iter().any(|range| range.contains(addr));
    let mut addr = peer.to_canonical();
    if !is_trusted(addr) {
        return addr;
    }
    let values = headers.get_all("x-forwarded-for");
    for value in values.iter().rev() {
        let Ok(text) = value.to_str() else {
            return addr;
        };
        for item in text.rsplit(',') {
            let Some(hop) = parse_hop(item.trim()) else {
                return addr;
            };
            addr = hop;
            if !is_trusted(addr) {
                return addr;
            }
        }
    }
    addr
}

/// An `X-Forwarded-For` entry: an address, possibly with a port (`1.2.3.4:80`, `[::1]:80`).
pub(super) fn parse_hop(text: &str) -> Option<IpAddr> {
    let addr = text
        .parse::<IpAddr>()
        .ok()
        .or_else(|| text.parse::<SocketAddr>().ok().map(|s| s.ip()))
        .or_else(|| {
            text.strip_prefix('[')
                .and_then(|t| t.strip_suffix(']'))
                .and_then(|t| t.parse().ok())
        })?;
    Some(addr.to_canonical())
}
