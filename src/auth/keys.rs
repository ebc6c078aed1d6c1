//! Token signing keys: ES256 (ECDSA P-256). Signing costs tens of microseconds (RS256 costs
//! a millisecond per token), verification is cached per token, and every JWT library and
//! JWKS consumer (Zeebe's Spring/Nimbus stack included) understands it, which EdDSA still
//! cannot promise. Keys live in the database, the private half sealed under the master key.
//!
//! Signing goes through ring (already here for TLS): its P-256 assembly signs several times
//! faster than the portable implementation, which matters when every token is signed.

use std::collections::HashMap;
use std::time::Duration;

use anyhow::Context;
use jsonwebtoken::DecodingKey;
use p256::ecdsa::SigningKey;
use p256::pkcs8::DecodePrivateKey;
use p256::pkcs8::EncodePrivateKey;
use ring::rand::SystemRandom;
use ring::signature::{EcdsaKeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use serde::Serialize;
use utoipa::ToSchema;

use crate::crypto::{base64url, Keyring};
use crate::domain::Timestamp;
use crate::storage::SigningKeyRecord;

pub const ALGORITHM: &str = "ES256";

/// The keys in force: the newest active key signs; active keys, and retired ones whose
/// tokens may not have expired yet, verify.
pub struct KeySet {
    signing_kid: String,
    /// Parsed once: signing is on the token endpoint's hot path.
    signing_key: EcdsaKeyPair,
    rng: SystemRandom,
    /// base64url of the JOSE header (`alg`, `typ`, `kid`), the same for every token.
    header_b64: String,
    verifying: HashMap<String, DecodingKey>,
    jwks: String,
}

/// The JSON Web Key Set of the keys that verify tokens (RFC 7517).
#[derive(Debug, Serialize, ToSchema)]
pub struct Jwks {
    pub keys: Vec<Jwk>,
}

/// A public P-256 signing key.
#[derive(Debug, Serialize, ToSchema)]
pub struct Jwk {
    #[schema(example = "EC")]
    pub kty: &'static str,
    #[schema(example = "P-256")]
    pub crv: &'static str,
    /// base64url.
    pub x: String,
    /// base64url.
    pub y: String,
    /// The `kid` in the header of the tokens it verifies.
    pub kid: String,
    #[serde(rename = "use")]
    #[schema(example = "sig")]
    pub key_use: &'static str,
    #[schema(example = "ES256")]
    pub alg: &'static str,
}

impl KeySet {
    pub fn from_records(
        records: &[SigningKeyRecord],
        keyring: &Keyring,
        now: Timestamp,
        verify_retired_for: Duration,
    ) -> anyhow::Result<Self> {
        let usable: Vec<&SigningKeyRecord> = records
            .iter()
            .filter(|r| r.algorithm == ALGORITHM)
            .collect();
        let newest = usable
            .iter()
            .filter(|r| r.retired_at.is_none())
            .max_by_key(|r| (r.created_at, r.kid.clone()))
            .context("no active signing key")?;
        let private = keyring
            .decrypt(&newest.private_key, newest.kid.as_bytes())
            .context(
                "the signing key does not decrypt: is this the master key it was made with?",
            )?;
        let mut verifying = HashMap::new();
        let mut jwks = Vec::new();
        let still_verifies = |r: &SigningKeyRecord| match r.retired_at {
            None => true,
            Some(retired) => retired.plus(verify_retired_for) > now,
        };
        for record in usable.iter().filter(|r| still_verifies(r)) {
            let (x, y) = split_point(&record.public_key)?;
            verifying.insert(record.kid.clone(), DecodingKey::from_ec_components(&x, &y)?);
            jwks.push(Jwk {
                kty: "EC",
                crv: "P-256",
                x,
                y,
                kid: record.kid.clone(),
                key_use: "sig",
                alg: ALGORITHM,
            });
        }
        Ok(KeySet {
            header_b64: base64url(
                serde_json::json!({ "typ": "JWT", "alg": ALGORITHM, "kid": newest.kid })
                    .to_string()
                    .as_bytes(),
            ),
            signing_kid: newest.kid.clone(),
            signing_key: ring_key_pair(&private)?,
            rng: SystemRandom::new(),
            verifying,
            jwks: serde_json::to_string(&Jwks { keys: jwks })?,
        })
    }

    /// The id of the key that signs.
    pub fn signing_kid(&self) -> &str {
        &self.signing_kid
    }

    /// A compact JWS (ES256) of `payload`: `header.payload.signature`, base64url each, the
    /// signature being the fixed-size `r || s` JWS requires.
    pub fn sign_jwt(&self, payload: &[u8]) -> String {
        let mut token = String::with_capacity(self.header_b64.len() + payload.len() * 4 / 3 + 100);
        token.push_str(&self.header_b64);
        token.push('.');
        token.push_str(&base64url(payload));
        // FIXED signing yields the `r || s` form; it fails only if the system RNG does.
        let signature = self
            .signing_key
            .sign(&self.rng, token.as_bytes())
            .expect("the system random number generator failed");
        token.push('.');
        token.push_str(&base64url(signature.as_ref()));
        token
    }

    pub fn verifying(&self, kid: &str) -> Option<&DecodingKey> {
        self.verifying.get(kid)
    }

    /// Key ids that verify, for noticing a change.
    pub fn kids(&self) -> Vec<&str> {
        let mut kids: Vec<&str> = self.verifying.keys().map(String::as_str).collect();
        kids.sort_unstable();
        kids
    }

    /// The JSON Web Key Set document, rendered once.
    pub fn jwks(&self) -> &str {
        &self.jwks
    }
}

/// Creates a new key pair as a storable record.
pub fn generate(keyring: &Keyring, now: Timestamp) -> anyhow::Result<SigningKeyRecord> {
    let secret = SigningKey::random(&mut rand::rngs::OsRng);
    let der = secret.to_pkcs8_der().context("encoding the signing key")?;
    let public = secret
        .verifying_key()
        .to_encoded_point(false)
        .as_bytes()
        .to_vec();
    let kid = uuid::Uuid::new_v4().simple().to_string();
    Ok(SigningKeyRecord {
        private_key: keyring.encrypt(der.as_bytes(), kid.as_bytes()),
        kid,
        algorithm: ALGORITHM.to_string(),
        public_key: public,
        created_at: now,
        retired_at: None,
    })
}

/// Turns a stored PKCS#8 key into ring's signing key, via its scalar and public point so
/// that keys written by any PKCS#8 encoder load.
fn ring_key_pair(pkcs8_der: &[u8]) -> anyhow::Result<EcdsaKeyPair> {
    let secret = SigningKey::from_pkcs8_der(pkcs8_der).context("parsing the signing key")?;
    let public = secret.verifying_key().to_encoded_point(false);
    EcdsaKeyPair::from_private_key_and_public_key(
        &ECDSA_P256_SHA256_FIXED_SIGNING,
        &secret.to_bytes(),
        public.as_bytes(),
        &SystemRandom::new(),
    )
    .map_err(|e| anyhow::anyhow!("loading the signing key: {e}"))
}

/// Splits an uncompressed SEC1 point into base64url `x` and `y`.
fn split_point(sec1: &[u8]) -> anyhow::Result<(String, String)> {
    anyhow::ensure!(
        sec1.len() == 65 && sec1[0] == 4,
        "not an uncompressed P-256 point"
    );
    Ok((base64url(&sec1[1..33]), base64url(&sec1[33..])))
}
