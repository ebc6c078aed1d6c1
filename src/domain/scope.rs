//! The permission vocabulary of Console API clients.

use std::fmt;

wire_names! {
    /// One permission a Console API client can hold.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    #[repr(u8)]
    pub enum Scope {
        GetClusters => "get:clusters",
        CreateClusters => "create:clusters",
        UpdateClusters => "update:clusters",
        DeleteClusters => "delete:clusters",
        GetClients => "get:clients",
        CreateClients => "create:clients",
        DeleteClients => "delete:clients",
        GetSecrets => "get:secrets",
        CreateSecrets => "create:secrets",
        UpdateSecrets => "update:secrets",
        DeleteSecrets => "delete:secrets",
        GetBackups => "get:backups",
        CreateBackups => "create:backups",
        DeleteBackups => "delete:backups",
        UpdateIpAllowlist => "update:ipallowlist",
        GetMembers => "get:members",
        CreateMembers => "create:members",
        DeleteMembers => "delete:members",
        GetActivity => "get:activity",
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A set of scopes as a bit set: cheap to copy and to check on every request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ScopeSet(u32);

impl ScopeSet {
    pub fn all() -> Self {
        Scope::ALL.iter().copied().collect()
    }

    pub fn contains(self, scope: Scope) -> bool {
        self.0 & (1 << scope as u8) != 0
    }

    pub fn is_subset_of(self, other: ScopeSet) -> bool {
        self.0 & !other.0 == 0
    }

    pub fn iter(self) -> impl Iterator<Item = Scope> {
        Scope::ALL
            .iter()
            .copied()
            .filter(move |s| self.contains(*s))
    }

    /// Parses a list separated by spaces and/or commas; the unknown entry is the error.
    pub fn parse(text: &str) -> Result<Self, String> {
        text.split([' ', ','])
            .filter(|s| !s.is_empty())
            .map(|s| Scope::parse(s).ok_or_else(|| s.to_string()))
            .collect()
    }

    /// Space-separated, in vocabulary order (the OAuth `scope` format).
    pub fn to_scope_string(self) -> String {
        self.iter().map(Scope::as_str).collect::<Vec<_>>().join(" ")
    }
}

impl FromIterator<Scope> for ScopeSet {
    fn from_iter<I: IntoIterator<Item = Scope>>(iter: I) -> Self {
        ScopeSet(iter.into_iter().fold(0, |bits, s| bits | (1 << s as u8)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_print_round_trip() {
        let set = ScopeSet::parse("get:clusters,create:clusters get:activity").unwrap();
        assert_eq!(
            set.to_scope_string(),
            "get:clusters create:clusters get:activity"
        );
        assert_eq!(ScopeSet::parse("get:clusters nope").unwrap_err(), "nope");
        assert!(set.is_subset_of(ScopeSet::all()));
        assert!(!ScopeSet::all().is_subset_of(set));
        assert_eq!(
            ScopeSet::parse(&ScopeSet::all().to_scope_string()).unwrap(),
            ScopeSet::all()
        );
    }
}
