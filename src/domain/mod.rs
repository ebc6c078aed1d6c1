//! The API's entities and rules. Nothing here knows about HTTP or SQL; time is passed in.

/// An enum whose variants each have one wire name (the name the API and the store use):
/// declares it with `ALL` (in declaration order), `as_str` and `parse`.
macro_rules! wire_names {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $($(#[$variant_meta:meta])* $variant:ident => $text:literal,)*
        }
    ) => {
        $(#[$meta])*
        $vis enum $name { $($(#[$variant_meta])* $variant,)* }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant,)*];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text,)* }
            }

            pub fn parse(text: &str) -> Option<$name> {
                match text { $($text => Some($name::$variant),)* _ => None }
            }
        }
    };
}

pub mod account;
pub mod api_client;
pub mod audit;
pub mod backup;
pub mod cluster;
pub mod cluster_update;
pub mod connector_secret;
pub mod error;
pub mod ip_allowlist;
pub mod lifecycle;
pub mod member;
pub mod metrics;
pub mod monitoring;
pub mod organization;
pub mod permissions;
pub mod provisioning;
pub mod scope;
pub mod secure_connectivity;
pub mod text;
pub mod time;
pub mod zeebe_client;

pub use error::DomainError;
pub use time::Timestamp;
