//! Property tests: `X-Forwarded-For` and the rate settings come from outside.

use super::source::parse_hop;
use super::*;
use proptest::prelude::*;

proptest! {
    #[test]
    fn a_forwarded_source_is_the_peer_or_named_in_the_header(
        values in proptest::collection::vec(
            prop_oneof!["[0-9., :\\[\\]a-f]{0,40}", any::<String>()], 0..4),
        trusted in any::<bool>(),
    ) {
        let peer: IpAddr = "10.0.0.1".parse().unwrap();
        let mut headers = HeaderMap::new();
        for value in &values {
            if let Ok(value) = value.parse() {
                headers.append("x-forwarded-for", value);
            }
        }
        let proxies = if trusted { vec![IpRange::parse("10.0.0.0/8").unwrap()] } else { vec![] };
        let source = source_address(peer, &headers, &proxies);
        if !trusted {
            prop_assert_eq!(source, peer);
        } else if source != peer {
            let all = values.join(",");
            let named = all.split(',').filter_map(|item| parse_hop(item.trim())).any(|hop| hop == source);
            prop_assert!(named, "{source} is not in {all:?}");
        }
    }

    #[test]
    fn rate_settings_parse_or_are_refused(text in prop_oneof!["[0-9]{0,12}/[0-9]{0,25}[a-z]{0,6}", any::<String>()]) {
        if let Ok(RateLimit(Some(spec))) = text.parse::<RateLimit>() {
            prop_assert!(spec.burst > 0 && !spec.period.is_zero());
            // Usable: a limiter can be made and asked.
            let now = Instant::now();
            let limiter = RateLimiter::<String>::new(spec, now);
            prop_assert!(limiter.check("k", now).is_ok());
        }
    }
}
