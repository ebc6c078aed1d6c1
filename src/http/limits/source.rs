//! Where a request comes from: the source address behind trusted proxies, the key a
//! source is limited under (IPv6 by its /64), and how much each source holds at once.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, Mutex};

use axum::http::HeaderMap;

use crate::domain::ip_allowlist::IpRange;

/// How many of something (connections, requests) each source address holds at once, up to
/// a limit. Entries exist only while something is held, so the map is bounded by what the
/// server holds in all.
#[derive(Clone)]
pub struct PerSourceCounter {
    limit: u32,
    pub(super) counts: Arc<Mutex<HashMap<IpAddr, u32>>>,
}

impl PerSourceCounter {
    pub fn new(limit: u32) -> Self {
        PerSourceCounter {
            limit,
            counts: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    /// One more for `addr` (an IPv6 address counts for its /64), released when the slot is
    /// dropped; `None` when the source is at its limit.
    pub fn claim(&self, addr: IpAddr) -> Option<SourceSlot> {
        let key = source_key(addr);
        let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        let count = counts.entry(key).or_insert(0);
        if *count >= self.limit {
            return None;
        }
        *count += 1;
        Some(SourceSlot {
            key,
            counter: self.clone(),
        })
    }
}

/// One thing held by a source; see [`PerSourceCounter`].
pub struct SourceSlot {
    key: IpAddr,
    counter: PerSourceCounter,
}

impl Drop for SourceSlot {
    fn drop(&mut self) {
        let mut counts = self
            .counter
            .counts
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if let Some(count) = counts.get_mut(&self.key) {
            *count -= 1;
            if *count == 0 {
                counts.remove(&self.key);
            }
        }
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
