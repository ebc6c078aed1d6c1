//! Organization members: email rules, the role vocabulary and which roles may be assigned.

use serde::Serialize;

use super::{DomainError, Timestamp};

/// Longest address SMTP can carry (RFC 5321 §4.5.3.1.3 path limit minus the brackets).
const MAX_EMAIL_CHARS: usize = 254;
const MAX_LOCAL_CHARS: usize = 64;
const MAX_LABEL_CHARS: usize = 63;

macro_rules! roles {
    ($($variant:ident => $name:literal, assignable: $assignable:literal;)*) => {
        /// A role in an organization (`OrganizationRole` of the API document).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum OrgRole { $($variant,)* }

        impl OrgRole {
            pub const ALL: &'static [OrgRole] = &[$(OrgRole::$variant,)*];

            pub fn as_str(self) -> &'static str {
                match self { $(OrgRole::$variant => $name,)* }
            }

            pub fn parse(text: &str) -> Option<OrgRole> {
                match text { $($name => Some(OrgRole::$variant),)* _ => None }
            }

            /// Whether a client may grant it (`AssignableOrganizationRoleType`).
            pub fn is_assignable(self) -> bool {
                match self { $(OrgRole::$variant => $assignable,)* }
            }
        }
    };
}

roles! {
    Member => "member", assignable: false;
    Admin => "admin", assignable: true;
    OrganizationAdmin => "organizationadmin", assignable: false;
    OrganizationOwner => "organizationowner", assignable: false;
    Owner => "owner", assignable: false;
    SupportAgent => "supportagent", assignable: false;
    OperationsEngineer => "operationsengineer", assignable: true;
    TaskUser => "taskuser", assignable: true;
    Analyst => "analyst", assignable: true;
    Developer => "developer", assignable: true;
    Visitor => "visitor", assignable: true;
    Modeler => "modeler", assignable: true;
}

impl Serialize for OrgRole {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// Parses the roles of a `PostMemberBody`: at least one, each assignable. Returns them in
/// vocabulary order without repeats, so equal sets compare and store equally.
pub fn parse_assignable_roles(names: &[String]) -> Result<Vec<OrgRole>, DomainError> {
    if names.is_empty() {
        return Err(DomainError::Invalid(
            "orgRoles must name at least one role".into(),
        ));
    }
    let mut roles = Vec::with_capacity(names.len());
    for name in names {
        match OrgRole::parse(name) {
            Some(role) if role.is_assignable() => roles.push(role),
            _ => {
                let allowed: Vec<&str> = OrgRole::ALL
                    .iter()
                    .filter(|r| r.is_assignable())
                    .map(|r| r.as_str())
                    .collect();
                return Err(DomainError::Invalid(format!(
                    "invalid orgRoles: {name:?} is not an assignable role (one of {})",
                    allowed.join(", ")
                )));
            }
        }
    }
    roles.sort();
    roles.dedup();
    Ok(roles)
}

/// Roles as stored and as shown in audit records: names joined by commas.
pub fn roles_to_text(roles: &[OrgRole]) -> String {
    roles
        .iter()
        .map(|r| r.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

pub fn roles_from_text(text: &str) -> Vec<OrgRole> {
    text.split(',').filter_map(OrgRole::parse).collect()
}

/// Checks an email address and returns it lower-cased, the form it is stored and compared
/// in (mail providers treat addresses case-insensitively; so does sign-in). The lower-cased
/// form is what is checked: lower-casing can lengthen a text or add combining marks
/// (`İ` becomes `i̇`), and what is stored must pass the check again.
pub fn normalize_email(raw: &str) -> Result<String, DomainError> {
    let invalid = |why: &str| DomainError::Invalid(format!("invalid email {raw:?}: {why}"));
    let email = raw.to_lowercase();
    if email.is_empty() {
        return Err(invalid("it is empty"));
    }
    if email.chars().count() > MAX_EMAIL_CHARS {
        return Err(invalid("it is longer than 254 characters"));
    }
    let (local, domain) = match email.split_once('@') {
        Some((l, d)) if !d.contains('@') => (l, d),
        _ => return Err(invalid("it must contain exactly one @")),
    };
    if local.is_empty() || local.chars().count() > MAX_LOCAL_CHARS {
        return Err(invalid("the part before @ must have 1 to 64 characters"));
    }
    // RFC 5322 dot-atom characters (quoted local parts are not accepted).
    let atom_char = |c: char| c.is_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c);
    if !local
        .split('.')
        .all(|a| !a.is_empty() && a.chars().all(atom_char))
    {
        return Err(invalid(
            "the part before @ has a character or dot out of place",
        ));
    }
    let labels: Vec<&str> = domain.split('.').collect();
    let label_ok = |l: &&str| {
        !l.is_empty()
            && l.chars().count() <= MAX_LABEL_CHARS
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.chars().all(|c| c.is_alphanumeric() || c == '-')
    };
    if labels.len() < 2 || !labels.iter().all(label_ok) {
        return Err(invalid(
            "the domain must be a host name such as example.com",
        ));
    }
    Ok(email)
}

/// A member of an organization, or an invite not yet accepted.
#[derive(Debug, Clone, PartialEq)]
pub struct Member {
    pub org_id: String,
    /// Lower-cased; the member's identity within the organization.
    pub email: String,
    pub name: String,
    pub roles: Vec<OrgRole>,
    pub invite_pending: bool,
    /// The organization's owner: its roles cannot be changed and it cannot be removed.
    pub is_owner: bool,
    pub created_at: Timestamp,
}

impl Member {
    /// The owner an organization is created with. `email` must be normalized.
    pub fn owner(org_id: &str, email: &str, now: Timestamp) -> Member {
        Member {
            org_id: org_id.to_string(),
            email: email.to_string(),
            name: email.to_string(),
            roles: vec![OrgRole::Owner],
            invite_pending: false,
            is_owner: true,
            created_at: now,
        }
    }

    /// A pending invite. Until it is accepted the name is unknown, so the email stands in.
    pub fn invite(org_id: &str, email: &str, roles: Vec<OrgRole>, now: Timestamp) -> Member {
        Member {
            org_id: org_id.to_string(),
            email: email.to_string(),
            name: email.to_string(),
            roles,
            invite_pending: true,
            is_owner: false,
            created_at: now,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_checked_and_lower_cased() {
        for ok in [
            "a@example.com",
            "sdk+1@example.com",
            "First.Last@Sub.Example.COM",
            "o'neil@example.co.uk",
            "jörg@bücher.de",
        ] {
            assert!(normalize_email(ok).is_ok(), "{ok} should be accepted");
        }
        assert_eq!(
            normalize_email("Sdk+X@Example.com").unwrap(),
            "sdk+x@example.com"
        );
        for bad in [
            "",
            "plain",
            "@example.com",
            "a@",
            "a@b@example.com",
            "a@localhost",
            "a b@example.com",
            ".a@example.com",
            "a..b@example.com",
            "a@-example.com",
            "a@example..com",
            "a@exa_mple.com",
            &format!("{}@example.com", "a".repeat(65)),
            &format!("a@{}.com", "b".repeat(250)),
        ] {
            let err = normalize_email(bad).unwrap_err();
            assert!(err.to_string().contains("invalid email"), "{bad}: {err}");
        }
    }

    #[test]
    fn the_lower_cased_form_is_what_is_checked() {
        // Found by the property tests: `İ` lower-cases to `i` and a combining dot, which
        // the stored address then failed the check with.
        assert!(normalize_email("x@example.İo").is_err());
        assert_eq!(
            normalize_email("ΣΑΣ@Example.com").unwrap(),
            "σας@example.com"
        );
        let stored = normalize_email("ΣΑΣ@Example.com").unwrap();
        assert_eq!(normalize_email(&stored).unwrap(), stored);
    }

    #[test]
    fn only_assignable_roles_are_accepted() {
        let names = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            parse_assignable_roles(&names(&["modeler", "admin", "admin"])).unwrap(),
            vec![OrgRole::Admin, OrgRole::Modeler]
        );
        for bad in ["owner", "member", "supportagent", "Admin", "nope"] {
            let err = parse_assignable_roles(&names(&["developer", bad])).unwrap_err();
            assert!(err.to_string().contains(bad), "{err}");
        }
        assert!(parse_assignable_roles(&[]).is_err());
        let all: Vec<OrgRole> = OrgRole::ALL.to_vec();
        assert_eq!(roles_from_text(&roles_to_text(&all)), all);
    }
}

/// Property tests: any text, as it can arrive in a path (`POST /members/{email}`).
#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    /// Addresses that look like email addresses, with letters from several scripts.
    fn email_like() -> impl Strategy<Value = String> {
        let atom = "[a-zA-Z0-9ÄÖÜäöüßİıŞğÅǅΣσςЖж!#$%&'*+/=?^_`{|}~-]{1,12}";
        let label = "[a-zA-Z0-9ÄÖÜäöüİıΣσЖж-]{1,12}";
        (
            proptest::collection::vec(atom, 1..4),
            proptest::collection::vec(label, 2..4),
        )
            .prop_map(|(local, domain)| format!("{}@{}", local.join("."), domain.join(".")))
    }

    proptest! {
        #[test]
        fn normalizing_never_panics(raw in any::<String>()) {
            let _ = normalize_email(&raw);
        }

        #[test]
        fn a_normalized_email_is_stable_and_valid(raw in prop_oneof![email_like(), any::<String>()]) {
            if let Ok(email) = normalize_email(&raw) {
                // What is stored must pass the same check and stay the same, or a member
                // could never be found again by the address it was stored under.
                prop_assert_eq!(normalize_email(&email).ok(), Some(email.clone()));
                prop_assert!(email.chars().count() <= MAX_EMAIL_CHARS);
                prop_assert_eq!(email.matches('@').count(), 1);
            }
        }

        #[test]
        fn case_does_not_make_another_member(raw in email_like()) {
            // A spelling and its lower case are one member, or both refused.
            prop_assert_eq!(normalize_email(&raw).ok(), normalize_email(&raw.to_lowercase()).ok());
            // Upper case ASCII letters are the same member as their lower case.
            let ascii_upper = raw.to_ascii_uppercase();
            prop_assert_eq!(normalize_email(&raw.to_ascii_lowercase()).ok(), normalize_email(&ascii_upper).ok());
        }
    }
}
