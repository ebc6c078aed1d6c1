use super::*;

fn spec(text: &str) -> RateSpec {
    text.parse::<RateLimit>().unwrap().0.unwrap()
}

#[test]
fn rates_parse() {
    assert_eq!(
        spec("60/1m"),
        RateSpec {
            burst: 60,
            period: Duration::from_secs(60)
        }
    );
    assert_eq!(spec(" 5 / 2s ").burst, 5);
    assert_eq!("off".parse::<RateLimit>().unwrap(), RateLimit(None));
    for bad in [
        "",
        "60",
        "0/1m",
        "5/0s",
        "x/1m",
        "5/forever",
        "-1/1s",
        "5/1000y",
    ] {
        assert!(bad.parse::<RateLimit>().is_err(), "{bad:?}");
    }
}

#[test]
fn a_burst_passes_then_requests_are_spaced() {
    let start = Instant::now();
    let limiter = RateLimiter::<String>::new(spec("3/3s"), start);
    for _ in 0..3 {
        assert_eq!(limiter.check("a", start), Ok(()));
    }
    assert_eq!(limiter.check("a", start), Err(Duration::from_secs(1)));
    // Other keys have their own bucket.
    assert_eq!(limiter.check("b", start), Ok(()));
    // One interval later there is room for one more.
    let later = start + Duration::from_secs(1);
    assert_eq!(limiter.check("a", later), Ok(()));
    assert!(limiter.check("a", later).is_err());
    // A refused request does not use up anything.
    let full_again = start + Duration::from_secs(4);
    for _ in 0..3 {
        assert_eq!(limiter.check("a", full_again), Ok(()));
    }
}

#[test]
fn the_map_is_bounded_and_swept() {
    let start = Instant::now();
    let limiter = RateLimiter::<String>::with_capacity(spec("1/1s"), 2, start);
    assert!(limiter.check("a", start).is_ok());
    assert!(limiter.check("b", start).is_ok());
    // Full: a third key waits, the known ones keep their own count.
    assert!(limiter.check("c", start).is_err());
    assert!(limiter.check("a", start).is_err());
    // Once their buckets are full again the entries are swept and room is made.
    let later = start + Duration::from_secs(2);
    assert!(limiter.check("c", later).is_ok());
    assert_eq!(limiter.state.lock().unwrap().entries.len(), 1);
}

#[test]
fn repeated_wrong_secrets_lock_the_id_with_growing_delays() {
    let start = Instant::now();
    let secs = Duration::from_secs;
    let here = Some("192.0.2.1".parse().unwrap());
    let failures = FailedSecrets::new(LockoutPolicy::new(3, secs(10)), start);
    failures.failed("id", here, start);
    failures.failed("id", here, start);
    assert_eq!(failures.check("id", here, start), Ok(()));
    failures.failed("id", here, start);
    assert_eq!(failures.check("id", here, start), Err(secs(10)));
    assert_eq!(failures.check("other", here, start), Ok(()));
    let t = start + secs(10);
    assert_eq!(failures.check("id", here, t), Ok(()));
    failures.failed("id", here, t);
    assert_eq!(failures.check("id", here, t), Err(secs(20)));
    // Capped at 15 minutes.
    for _ in 0..30 {
        failures.failed("id", here, t);
    }
    assert_eq!(failures.check("id", here, t), Err(secs(900)));
    // A right secret ends the streak.
    failures.succeeded("id", here);
    assert_eq!(failures.check("id", here, t), Ok(()));
    // Failures long ago are forgotten.
    failures.failed("id", here, t);
    failures.failed("id", here, t);
    let much_later = t + secs(3600);
    failures.failed("id", here, much_later);
    assert_eq!(failures.check("id", here, much_later), Ok(()));
}

#[test]
fn a_lockout_holds_only_at_the_source_that_caused_it() {
    let now = Instant::now();
    let ip = |s: &str| Some(s.parse::<IpAddr>().unwrap());
    let failures = FailedSecrets::new(LockoutPolicy::new(2, Duration::from_secs(10)), now);
    failures.failed("id", ip("192.0.2.1"), now);
    failures.failed("id", ip("192.0.2.1"), now);
    assert!(failures.check("id", ip("192.0.2.1"), now).is_err());
    assert_eq!(failures.check("id", ip("198.51.100.7"), now), Ok(()));
    // An IPv6 source is one /64: hopping addresses inside it does not escape the lock.
    failures.failed("id", ip("2001:db8::1"), now);
    failures.failed("id", ip("2001:db8::2"), now);
    assert!(failures.check("id", ip("2001:db8::ffff"), now).is_err());
    assert_eq!(failures.check("id", ip("2001:db8:0:1::1"), now), Ok(()));
}

#[test]
fn a_zero_threshold_never_locks() {
    let now = Instant::now();
    let failures = FailedSecrets::new(LockoutPolicy::new(0, Duration::from_secs(10)), now);
    for _ in 0..100 {
        failures.failed("id", None, now);
    }
    assert_eq!(failures.check("id", None, now), Ok(()));
}

fn headers(values: &[&str]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for v in values {
        map.append("x-forwarded-for", v.parse().unwrap());
    }
    map
}

#[test]
fn forwarded_addresses_count_only_behind_trusted_proxies() {
    let trusted = vec![IpRange::parse("10.0.0.0/8").unwrap()];
    let ip = |s: &str| s.parse::<IpAddr>().unwrap();
    let proxy = ip("10.1.2.3");
    // An untrusted peer's header is ignored.
    assert_eq!(
        source_address(ip("192.0.2.9"), &headers(&["203.0.113.5"]), &trusted),
        ip("192.0.2.9")
    );
    // Behind a trusted proxy, the nearest untrusted hop counts, not a forged first one.
    assert_eq!(
        source_address(proxy, &headers(&["6.6.6.6, 203.0.113.5"]), &trusted),
        ip("203.0.113.5")
    );
    assert_eq!(
        source_address(
            proxy,
            &headers(&["6.6.6.6", "203.0.113.5, 10.0.0.7"]),
            &trusted
        ),
        ip("203.0.113.5")
    );
    assert_eq!(
        source_address(proxy, &headers(&["[2001:db8::1]:443"]), &trusted),
        ip("2001:db8::1")
    );
    assert_eq!(
        source_address(proxy, &headers(&["203.0.113.5:8080"]), &trusted),
        ip("203.0.113.5")
    );
    // No header, or garbage: the proxy itself.
    assert_eq!(source_address(proxy, &headers(&[]), &trusted), proxy);
    assert_eq!(
        source_address(proxy, &headers(&["unknown"]), &trusted),
        proxy
    );
    // IPv4-mapped peers are matched as IPv4.
    assert_eq!(
        source_address(ip("::ffff:10.0.0.1"), &headers(&["203.0.113.5"]), &trusted),
        ip("203.0.113.5")
    );
}

#[test]
fn ipv6_sources_are_limited_by_their_64() {
    let ip = |s: &str| s.parse::<IpAddr>().unwrap();
    assert_eq!(source_key(ip("2001:db8:1:2:3:4:5:6")), ip("2001:db8:1:2::"));
    assert_eq!(source_key(ip("192.0.2.1")), ip("192.0.2.1"));
    assert_eq!(source_key(ip("::ffff:192.0.2.1")), ip("192.0.2.1"));
}

#[test]
fn a_source_holds_at_most_its_limit_and_gets_slots_back() {
    let counter = PerSourceCounter::new(2);
    let ip = |s: &str| s.parse::<IpAddr>().unwrap();
    let first = counter.claim(ip("192.0.2.1")).unwrap();
    let _second = counter.claim(ip("192.0.2.1")).unwrap();
    assert!(counter.claim(ip("192.0.2.1")).is_none());
    assert!(counter.claim(ip("192.0.2.2")).is_some());
    drop(first);
    assert!(counter.claim(ip("192.0.2.1")).is_some());
    // Released slots leave no entry behind.
    assert!(counter.tracked() <= 1);
}

#[test]
fn retry_after_rounds_up() {
    assert_eq!(retry_after_secs(Duration::ZERO), 1);
    assert_eq!(retry_after_secs(Duration::from_millis(1)), 1);
    assert_eq!(retry_after_secs(Duration::from_secs(2)), 2);
    assert_eq!(retry_after_secs(Duration::from_millis(2001)), 3);
}
