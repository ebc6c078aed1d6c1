//! Key material: the master key, keyed hashes of client secrets, random credentials and
//! authenticated encryption of values at rest.

use std::io::Write;
use std::path::Path;

use anyhow::{bail, Context};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use rand::distributions::Alphanumeric;
use rand::{Rng, RngCore};
use sha2::Sha256;
use subtle::ConstantTimeEq;

type HmacSha256 = Hmac<Sha256>;

const MASTER_KEY_FILE: &str = "master.key";
const NONCE_LEN: usize = 24;

/// Keys derived from the master key, one per purpose, so no key serves two uses.
#[derive(Clone)]
pub struct Keyring {
    secret_hash_key: [u8; 32],
    fingerprint_key: [u8; 32],
    sign_in_link_key: [u8; 32],
    session_key: [u8; 32],
    cipher: XChaCha20Poly1305,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Keyring([redacted])")
    }
}

impl Keyring {
    pub fn from_master_key(master: &[u8; 32]) -> Self {
        let secret_hash_key = derive(master, b"consoled/client-secret-hash/v1");
        let encryption_key = derive(master, b"consoled/encryption-at-rest/v1");
        Keyring {
            secret_hash_key,
            fingerprint_key: derive(master, b"consoled/driver-fingerprint/v1"),
            sign_in_link_key: derive(master, b"consoled/console-sign-in-link/v1"),
            session_key: derive(master, b"consoled/console-session/v1"),
            cipher: XChaCha20Poly1305::new(&encryption_key.into()),
        }
    }

    /// Loads the master key from its configured value or from the key file in `data_dir`,
    /// generating that file (mode 0600) when neither exists.
    pub fn load(configured: Option<&str>, data_dir: &Path) -> anyhow::Result<Self> {
        let master = match configured {
            Some(encoded) => {
                decode_master_key(encoded).context("--master-key (CONSOLED_MASTER_KEY)")?
            }
            None => load_or_create_key_file(data_dir)?,
        };
        Ok(Self::from_master_key(&master))
    }

    /// A keyed hash of a client secret: what the database stores instead of the secret.
    pub fn hash_secret(&self, secret: &str) -> Vec<u8> {
        let mut mac =
            <HmacSha256 as Mac>::new_from_slice(&self.secret_hash_key).expect("any key length");
        mac.update(secret.as_bytes());
        mac.finalize().into_bytes().to_vec()
    }

    /// A keyed fingerprint of what was handed to the provisioning driver (which includes
    /// connector secret values): stored to notice changes without storing anything a
    /// guess could be checked against offline.
    pub fn fingerprint(&self, data: &[u8]) -> String {
        keyed_hash(&self.fingerprint_key, data)
    }

    /// A keyed hash of a one-time sign-in link's token: what the database keeps instead of
    /// the token, so a copy of the database cannot be used to set anyone's password.
    pub fn sign_in_link_hash(&self, token: &str) -> String {
        keyed_hash(&self.sign_in_link_key, token.as_bytes())
    }

    /// A keyed hash of a console session id (the cookie's value): what the database keeps
    /// instead of the id, so a copy of the database cannot be used to sign in.
    pub fn session_hash(&self, session_id: &str) -> String {
        keyed_hash(&self.session_key, session_id.as_bytes())
    }

    /// Compares a presented secret with a stored hash in constant time.
    pub fn verify_secret(&self, secret: &str, stored_hash: &[u8]) -> bool {
        let presented = self.hash_secret(secret);
        presented.ct_eq(stored_hash).into()
    }

    /// Whether a master key is available without creating one: configured, or a key file
    /// in the data dir.
    pub fn exists(configured: Option<&str>, data_dir: &Path) -> bool {
        configured.is_some() || data_dir.join(MASTER_KEY_FILE).exists()
    }

    /// Encrypts `plaintext`, binding it to `context` (e.g. the row it belongs to) so a
    /// ciphertext copied to another row does not decrypt.
    pub fn encrypt(&self, plaintext: &[u8], context: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::thread_rng().fill_bytes(&mut nonce);
        let sealed = self
            .cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad: context,
                },
            )
            .expect("encryption of an in-memory buffer cannot fail");
        let mut out = Vec::with_capacity(NONCE_LEN + sealed.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        out
    }

    pub fn decrypt(&self, sealed: &[u8], context: &[u8]) -> anyhow::Result<Vec<u8>> {
        if sealed.len() < NONCE_LEN {
            bail!("ciphertext too short");
        }
        let (nonce, body) = sealed.split_at(NONCE_LEN);
        self.cipher
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: body,
                    aad: context,
                },
            )
            .map_err(|_| anyhow::anyhow!("ciphertext does not authenticate under the master key"))
    }
}

fn keyed_hash(key: &[u8; 32], data: &[u8]) -> String {
    let mut mac = <HmacSha256 as Mac>::new_from_slice(key).expect("any key length");
    mac.update(data);
    base64url(&mac.finalize().into_bytes())
}

fn derive(master: &[u8; 32], label: &[u8]) -> [u8; 32] {
    let mut mac = <HmacSha256 as Mac>::new_from_slice(master).expect("any key length");
    mac.update(label);
    mac.finalize().into_bytes().into()
}

fn decode_master_key(encoded: &str) -> anyhow::Result<[u8; 32]> {
    let trimmed = encoded.trim();
    let bytes = STANDARD
        .decode(trimmed)
        .or_else(|_| URL_SAFE_NO_PAD.decode(trimmed.trim_end_matches('=')))
        .context("the master key is not valid base64")?;
    bytes
        .try_into()
        .map_err(|_| anyhow::anyhow!("the master key must be exactly 32 bytes"))
}

fn load_or_create_key_file(data_dir: &Path) -> anyhow::Result<[u8; 32]> {
    let path = data_dir.join(MASTER_KEY_FILE);
    match std::fs::read_to_string(&path) {
        Ok(contents) => {
            decode_master_key(&contents).with_context(|| format!("reading {}", path.display()))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir_all(data_dir)
                .with_context(|| format!("creating {}", data_dir.display()))?;
            let mut key = [0u8; 32];
            rand::rngs::OsRng.fill_bytes(&mut key);
            write_owner_only(&path, STANDARD.encode(key).as_bytes())?;
            Ok(key)
        }
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
}

/// Creates `path` exclusively with mode 0600 and syncs it; if another process won the race,
/// its key is used instead.
fn write_owner_only(path: &Path, contents: &[u8]) -> anyhow::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(path) {
        Ok(mut file) => {
            file.write_all(contents)?;
            file.sync_all()?;
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e).with_context(|| format!("creating {}", path.display())),
    }
}

/// A random alphanumeric string from the OS-seeded CSPRNG.
pub fn random_token(len: usize) -> String {
    rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}

/// A new client id: 32 alphanumeric characters.
pub fn new_client_id() -> String {
    random_token(32)
}

/// A new client secret: 64 alphanumeric characters (about 380 bits).
pub fn new_client_secret() -> String {
    random_token(64)
}

pub fn base64url(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_hash_verifies_only_the_right_secret() {
        let keyring = Keyring::from_master_key(&[7u8; 32]);
        let hash = keyring.hash_secret("s3cret");
        assert!(keyring.verify_secret("s3cret", &hash));
        assert!(!keyring.verify_secret("s3cret ", &hash));
        let other = Keyring::from_master_key(&[8u8; 32]);
        assert!(!other.verify_secret("s3cret", &hash));
    }

    #[test]
    fn console_hashes_are_keyed_and_apart() {
        let keyring = Keyring::from_master_key(&[7u8; 32]);
        let link = keyring.sign_in_link_hash("token");
        assert_eq!(link, keyring.sign_in_link_hash("token"));
        assert_ne!(link, keyring.session_hash("token"));
        assert_ne!(link, keyring.fingerprint(b"token"));
        assert_ne!(
            link,
            Keyring::from_master_key(&[8u8; 32]).sign_in_link_hash("token")
        );
    }

    #[test]
    fn encryption_round_trips_and_binds_context() {
        let keyring = Keyring::from_master_key(&[1u8; 32]);
        let sealed = keyring.encrypt(b"value", b"row-1");
        assert_eq!(keyring.decrypt(&sealed, b"row-1").unwrap(), b"value");
        assert!(keyring.decrypt(&sealed, b"row-2").is_err());
        assert!(!sealed.windows(5).any(|w| w == b"value"));
    }

    #[test]
    fn master_key_must_be_32_bytes() {
        assert!(decode_master_key(&STANDARD.encode([0u8; 16])).is_err());
        assert!(decode_master_key(&STANDARD.encode([0u8; 32])).is_ok());
        assert!(decode_master_key(&URL_SAFE_NO_PAD.encode([0u8; 32])).is_ok());
    }
}
