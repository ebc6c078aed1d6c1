//! Members' console accounts: password rules and hashing, one-time sign-in links and
//! sessions. Time is passed in; hashing is CPU-heavy, so callers on the async runtime run
//! [`hash_password`] and [`verify_password`] on a blocking thread.

use std::sync::OnceLock;
use std::time::Duration;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

use super::{DomainError, Timestamp};
use crate::crypto::{random_token, Keyring};

/// Shortest accepted password, in characters.
pub const MIN_PASSWORD_CHARS: usize = 12;
/// Longest accepted password, in bytes (hashing time grows with it).
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// Argon2id memory cost in KiB (19 MiB), OWASP's minimum recommendation.
pub const ARGON2_MEMORY_KIB: u32 = 19_456;
/// Argon2id passes over the memory.
pub const ARGON2_ITERATIONS: u32 = 2;
/// Argon2id lanes.
pub const ARGON2_PARALLELISM: u32 = 1;

/// How long an invite link works.
pub const INVITE_LINK_LIFETIME: Duration = Duration::from_secs(7 * 24 * 3600);
/// How long a password reset link works.
pub const RESET_LINK_LIFETIME: Duration = Duration::from_secs(3600);
/// A session unused this long has ended.
pub const SESSION_IDLE_TIMEOUT: Duration = Duration::from_secs(30 * 60);
/// A session this old has ended, however busy.
pub const SESSION_ABSOLUTE_TIMEOUT: Duration = Duration::from_secs(12 * 3600);
/// A session's last use is written at most this often (not on every page).
pub const SESSION_TOUCH_INTERVAL: Duration = Duration::from_secs(60);

/// Characters of a link token or session id (alphanumeric: about 256 bits).
const TOKEN_CHARS: usize = 43;

/// Checks a new password: at least 12 characters, at most 1024 bytes, not the email.
pub fn check_password(password: &str, email: &str) -> Result<(), DomainError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(DomainError::Invalid(format!(
            "the password must have at least {MIN_PASSWORD_CHARS} characters"
        )));
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(DomainError::Invalid(format!(
            "the password must have at most {MAX_PASSWORD_BYTES} bytes"
        )));
    }
    if password.trim().to_lowercase() == email.to_lowercase() {
        return Err(DomainError::Invalid(
            "the password must not be your email address".into(),
        ));
    }
    Ok(())
}

fn argon2() -> Argon2<'static> {
    let params = Params::new(
        ARGON2_MEMORY_KIB,
        ARGON2_ITERATIONS,
        ARGON2_PARALLELISM,
        None,
    )
    .expect("the Argon2 parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// The Argon2id PHC string of `password` with a random salt. CPU-heavy: call it on a
/// blocking thread.
pub fn hash_password(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    argon2()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| anyhow::anyhow!("hashing a password: {e}"))
}

/// Whether `password` matches the PHC string `stored` (with the parameters it was hashed
/// with). CPU-heavy: call it on a blocking thread.
pub fn verify_password(password: &str, stored: &str) -> bool {
    if password.len() > MAX_PASSWORD_BYTES {
        return false;
    }
    match PasswordHash::new(stored) {
        Ok(hash) => argon2().verify_password(password.as_bytes(), &hash).is_ok(),
        Err(_) => false,
    }
}

/// A hash to verify against when there is no account, so that an unknown email takes as
/// long to refuse as a wrong password.
pub fn decoy_hash() -> &'static str {
    static DECOY: OnceLock<String> = OnceLock::new();
    DECOY.get_or_init(|| hash_password(&random_token(TOKEN_CHARS)).expect("hashing works"))
}

wire_names! {
    /// What a one-time link is for.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum LinkPurpose {
        /// Sets the first password and activates a pending member.
        Invite => "invite",
        /// Replaces a member's password.
        Reset => "reset",
    }
}

impl LinkPurpose {
    pub fn lifetime(self) -> Duration {
        match self {
            LinkPurpose::Invite => INVITE_LINK_LIFETIME,
            LinkPurpose::Reset => RESET_LINK_LIFETIME,
        }
    }
}

/// A one-time link as stored: by a keyed hash of its token.
#[derive(Debug, Clone, PartialEq)]
pub struct SignInLink {
    pub token_hash: String,
    pub org_id: String,
    pub email: String,
    pub purpose: LinkPurpose,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

impl SignInLink {
    /// A new link for a member; returns the token (to hand out once) and the link to store.
    pub fn issue(
        keyring: &Keyring,
        purpose: LinkPurpose,
        org_id: &str,
        email: &str,
        now: Timestamp,
    ) -> (String, SignInLink) {
        let token = random_token(TOKEN_CHARS);
        let link = SignInLink {
            token_hash: keyring.sign_in_link_hash(&token),
            org_id: org_id.to_string(),
            email: email.to_string(),
            purpose,
            created_at: now,
            expires_at: now.plus(purpose.lifetime()),
        };
        (token, link)
    }

    pub fn is_valid(&self, now: Timestamp) -> bool {
        now < self.expires_at
    }
}

/// A signed-in browser, as stored: by a keyed hash of its id (the cookie's value).
#[derive(Debug, Clone, PartialEq)]
pub struct ConsoleSession {
    pub id_hash: String,
    pub org_id: String,
    pub email: String,
    /// The token every state-changing form of this session carries.
    pub csrf_token: String,
    pub created_at: Timestamp,
    pub last_seen_at: Timestamp,
    /// The issuer of the identity provider the member signed in with; None for a password.
    pub identity_provider: Option<String>,
}

impl ConsoleSession {
    /// A new session; returns its id (the cookie's value, never stored) and the session.
    pub fn start(
        keyring: &Keyring,
        org_id: &str,
        email: &str,
        now: Timestamp,
    ) -> (String, ConsoleSession) {
        let id = random_token(TOKEN_CHARS);
        let session = ConsoleSession {
            id_hash: keyring.session_hash(&id),
            org_id: org_id.to_string(),
            email: email.to_string(),
            csrf_token: random_token(TOKEN_CHARS),
            created_at: now,
            last_seen_at: now,
            identity_provider: None,
        };
        (id, session)
    }

    /// The same session, signed in with the identity provider `issuer`.
    pub fn signed_in_with(mut self, issuer: &str) -> ConsoleSession {
        self.identity_provider = Some(issuer.to_string());
        self
    }

    /// Whether the session still holds at `now`: used within the idle timeout and younger
    /// than the absolute one.
    pub fn is_live(&self, now: Timestamp) -> bool {
        now < self.last_seen_at.plus(SESSION_IDLE_TIMEOUT)
            && now < self.created_at.plus(SESSION_ABSOLUTE_TIMEOUT)
    }

    /// Whether its last use should be written again at `now`.
    pub fn needs_touch(&self, now: Timestamp) -> bool {
        now.elapsed_since(self.last_seen_at) >= SESSION_TOUCH_INTERVAL
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE: i64 = 60_000;

    #[test]
    fn password_rules() {
        let email = "dev@example.com";
        assert!(check_password("correct horse battery", email).is_ok());
        assert!(check_password("short", email).is_err());
        // Characters, not bytes: twelve umlauts are enough.
        assert!(check_password(&"ä".repeat(12), email).is_ok());
        assert!(check_password(&"ä".repeat(11), email).is_err());
        assert!(check_password(&"a".repeat(1024), email).is_ok());
        assert!(check_password(&"a".repeat(1025), email).is_err());
        let err = check_password("Dev@Example.com", email).unwrap_err();
        assert!(err.to_string().contains("email"), "{err}");
    }

    #[test]
    fn hashes_are_argon2id_with_the_stated_parameters_and_verify() {
        let hash = hash_password("correct horse battery").unwrap();
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert!(verify_password("correct horse battery", &hash));
        assert!(!verify_password("correct horse battery ", &hash));
        assert!(!verify_password("correct horse battery", "not a hash"));
        // Salted: the same password hashes differently each time.
        assert_ne!(hash, hash_password("correct horse battery").unwrap());
        assert!(!verify_password("anything at all", decoy_hash()));
    }

    #[test]
    fn links_expire_by_purpose_and_are_kept_by_hash() {
        let keyring = Keyring::from_master_key(&[3u8; 32]);
        let now = Timestamp(1_000_000_000_000);
        let (token, invite) = SignInLink::issue(&keyring, LinkPurpose::Invite, "o", "a@b.co", now);
        assert_eq!(invite.token_hash, keyring.sign_in_link_hash(&token));
        assert_ne!(invite.token_hash, token);
        assert!(token.len() >= 43);
        assert!(invite.is_valid(now.plus(Duration::from_secs(7 * 24 * 3600 - 1))));
        assert!(!invite.is_valid(now.plus(INVITE_LINK_LIFETIME)));
        let (_, reset) = SignInLink::issue(&keyring, LinkPurpose::Reset, "o", "a@b.co", now);
        assert!(reset.is_valid(now.plus(Duration::from_secs(59 * 60))));
        assert!(!reset.is_valid(now.plus(Duration::from_secs(3600))));
        assert_eq!(LinkPurpose::parse("reset"), Some(LinkPurpose::Reset));
    }

    #[test]
    fn sessions_end_when_idle_and_when_old() {
        let keyring = Keyring::from_master_key(&[3u8; 32]);
        let start = Timestamp(1_000_000_000_000);
        let (id, mut session) = ConsoleSession::start(&keyring, "o", "a@b.co", start);
        assert_eq!(session.id_hash, keyring.session_hash(&id));
        assert_ne!(session.csrf_token, id);
        assert!(session.is_live(Timestamp(start.0 + 29 * MINUTE)));
        assert!(!session.is_live(Timestamp(start.0 + 30 * MINUTE)));
        // Used every 20 minutes it lives on, up to 12 hours from its start.
        let mut now = start;
        while now.0 < start.0 + 12 * 60 * MINUTE - 20 * MINUTE {
            now = Timestamp(now.0 + 20 * MINUTE);
            assert!(session.is_live(now), "at {now:?}");
            session.last_seen_at = now;
        }
        assert!(!session.is_live(Timestamp(start.0 + 12 * 60 * MINUTE)));
        assert!(!session.needs_touch(session.last_seen_at));
        assert!(session.needs_touch(Timestamp(session.last_seen_at.0 + MINUTE)));
    }
}
