//! Property tests: token requests are the most exposed input there is.

use super::*;
use proptest::prelude::*;

fn headers(content_type: Option<&[u8]>, authorization: Option<&[u8]>) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in [
        (header::CONTENT_TYPE, content_type),
        (header::AUTHORIZATION, authorization),
    ] {
        if let Some(value) = value.and_then(|v| HeaderValue::from_bytes(v).ok()) {
            map.insert(name, value);
        }
    }
    map
}

/// RFC 6749 §2.3.1: `application/x-www-form-urlencoded` encoding, then Basic.
fn basic(id: &str, secret: &str) -> Vec<u8> {
    let encode = |v: &str| serde_urlencoded::to_string([("", v)]).unwrap()[1..].to_string();
    format!(
        "Basic {}",
        STANDARD.encode(format!("{}:{}", encode(id), encode(secret)))
    )
    .into_bytes()
}

fn content_type() -> impl Strategy<Value = Option<Vec<u8>>> {
    prop_oneof![
        Just(None),
        Just(Some(b"application/x-www-form-urlencoded".to_vec())),
        Just(Some(b"application/json; charset=utf-8".to_vec())),
        Just(Some(b"APPLICATION/JSON".to_vec())),
        proptest::collection::vec(any::<u8>(), 0..40).prop_map(Some),
    ]
}

fn authorization() -> impl Strategy<Value = Option<Vec<u8>>> {
    prop_oneof![
        Just(None),
        (any::<String>(), any::<String>()).prop_map(|(i, s)| Some(basic(&i, &s))),
        "(Basic|basic|Bearer) [A-Za-z0-9+/=:%]{0,40}".prop_map(|s| Some(s.into_bytes())),
        proptest::collection::vec(any::<u8>(), 0..60).prop_map(Some),
    ]
}

proptest! {
    #[test]
    fn any_request_parses_or_is_refused_without_panicking(
        content_type in content_type(),
        authorization in authorization(),
        body in prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..300),
            "[a-z_]{0,12}=[^&]{0,20}(&[a-z_]{0,12}=[^&]{0,20}){0,6}".prop_map(String::into_bytes),
            "\\{(\"[a-z_]{0,14}\": ?(\"[^\"]{0,12}\"|[0-9]{1,3}|null|\\[\\]|\\{\\}),? ?){0,6}\\}".prop_map(String::into_bytes),
        ],
    ) {
        let headers = headers(content_type.as_deref(), authorization.as_deref());
        if let Err(e) = parse_token_request(&headers, &body) {
            prop_assert!(matches!(e, OAuthError::InvalidRequest(_)));
        }
    }

    #[test]
    fn every_encoding_yields_the_same_request(
        id in any::<String>(),
        secret in any::<String>(),
        audience in any::<String>(),
        scope in any::<String>(),
    ) {
        let fields = [
            ("grant_type", "client_credentials"),
            ("client_id", id.as_str()),
            ("client_secret", secret.as_str()),
            ("audience", audience.as_str()),
            ("scope", scope.as_str()),
        ];
        let form = serde_urlencoded::to_string(fields).unwrap();
        let json = serde_json::to_vec(&serde_json::Map::from_iter(
            fields.iter().map(|(k, v)| (k.to_string(), serde_json::Value::from(*v))),
        ))
        .unwrap();
        let form_request = parse_token_request(
            &headers(Some(b"application/x-www-form-urlencoded"), None),
            form.as_bytes(),
        )
        .unwrap();
        let json_request =
            parse_token_request(&headers(Some(b"application/json"), None), &json).unwrap();
        let body_only = serde_urlencoded::to_string([
            ("grant_type", "client_credentials"),
            ("audience", audience.as_str()),
            ("scope", scope.as_str()),
        ])
        .unwrap();
        let basic_request = parse_token_request(
            &headers(None, Some(&basic(&id, &secret))),
            body_only.as_bytes(),
        )
        .unwrap();
        for request in [form_request, json_request, basic_request] {
            prop_assert_eq!(request.grant_type.as_deref(), Some("client_credentials"));
            prop_assert_eq!(request.client_id.as_deref(), Some(id.as_str()));
            prop_assert_eq!(request.client_secret.as_deref(), Some(secret.as_str()));
            prop_assert_eq!(request.audience.as_deref(), Some(audience.as_str()));
            prop_assert_eq!(request.scope.as_deref(), Some(scope.as_str()));
        }
    }
}
