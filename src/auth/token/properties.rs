//! Property tests: whatever arrives as a bearer token, only an unchanged token of ours
//! verifies.

use super::*;
use crate::auth::keys;
use crate::crypto::Keyring;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use proptest::prelude::*;
use std::sync::OnceLock;

/// A service with a fresh key, and a valid token of it.
fn fixture() -> &'static (TokenService, String) {
    static FIXTURE: OnceLock<(TokenService, String)> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let keyring = Keyring::from_master_key(&[7; 32]);
        let now = Timestamp::now();
        let record = keys::generate(&keyring, now).unwrap();
        let keys = KeySet::from_records(&[record], &keyring, now, Duration::ZERO).unwrap();
        let service = TokenService::new(
            TokenSettings {
                issuer: "https://consoled.example".into(),
                lifetime: Duration::from_secs(3600),
                console_audiences: vec!["api.cloud.camunda.io".into()],
                zeebe_audiences: vec!["zeebe.camunda.io".into()],
                base_domain: "camunda.local".into(),
                leeway: Duration::from_secs(30),
                client_state_ttl: Duration::ZERO,
                reuse_window: Duration::ZERO,
            },
            keys,
        );
        let mut claims = service.base_claims("client", "org", "api.cloud.camunda.io", now);
        claims.scope = "get:clusters".into();
        claims.client_generation = Some(1);
        let token = service.sign(&claims).unwrap();
        assert!(service.verify_console_token(&token).is_ok());
        (service, token)
    })
}

fn segment() -> impl Strategy<Value = String> {
    prop_oneof![
        "[A-Za-z0-9_-]{0,120}",
        any::<String>(),
        any::<Vec<u8>>().prop_map(|b| URL_SAFE_NO_PAD.encode(b)),
        "\\{(\"[a-z]{1,4}\":(\"[A-Za-z0-9]{0,8}\"|[0-9]{1,12}|null),?){0,8}\\}"
            .prop_map(|j| URL_SAFE_NO_PAD.encode(j)),
    ]
}

proptest! {
    #[test]
    fn garbage_never_verifies(
        token in prop_oneof![
            any::<String>(),
            (segment(), segment(), segment()).prop_map(|(a, b, c)| format!("{a}.{b}.{c}")),
            (segment(), segment()).prop_map(|(a, b)| format!("{a}.{b}")),
        ],
    ) {
        let (service, _) = fixture();
        prop_assert!(service.verify_console_token(&token).is_err());
    }

    #[test]
    fn any_changed_character_is_refused(at in any::<usize>(), with in "[A-Za-z0-9_.=+/-]") {
        let (service, token) = fixture();
        let mut chars: Vec<char> = token.chars().collect();
        let at = at % chars.len();
        let replacement = with.chars().next().unwrap();
        prop_assume!(chars[at] != replacement);
        chars[at] = replacement;
        let changed: String = chars.into_iter().collect();
        prop_assert!(service.verify_console_token(&changed).is_err());
    }

    #[test]
    fn a_changed_claim_or_header_is_refused(
        part in 0..2usize,
        key in "(iss|sub|aud|iat|exp|nbf|scope|alg|kid|typ|https://camunda.com/orgId|x)",
        value in prop_oneof![
            any::<String>().prop_map(serde_json::Value::from),
            any::<i64>().prop_map(serde_json::Value::from),
            Just(serde_json::Value::Null),
            Just(serde_json::json!(["api.cloud.camunda.io"])),
            Just(serde_json::json!("none")),
            Just(serde_json::json!("HS256")),
        ],
    ) {
        let (service, token) = fixture();
        let mut parts: Vec<String> = token.split('.').map(str::to_string).collect();
        let decoded = URL_SAFE_NO_PAD.decode(&parts[part]).unwrap();
        let mut json: serde_json::Value = serde_json::from_slice(&decoded).unwrap();
        prop_assume!(json.get(&key) != Some(&value));
        json[&key] = value;
        parts[part] = URL_SAFE_NO_PAD.encode(json.to_string());
        prop_assert!(service.verify_console_token(&parts.join(".")).is_err());
    }
}
