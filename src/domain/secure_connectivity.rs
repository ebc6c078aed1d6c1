//! Secure connectivity: a private endpoint for a cluster, reachable only by the listed
//! cloud principals from the listed regions. Modelled on AWS PrivateLink, which is what
//! the hosted service offers: principals are IAM ARNs (or account ids), regions are AWS
//! region codes.

use std::collections::HashSet;

use super::{DomainError, Timestamp};

pub const MAX_PRINCIPALS: usize = 50;
pub const MAX_REGIONS: usize = 30;
const MAX_PRINCIPAL_CHARS: usize = 1024;

/// The active configuration of a cluster's secure connectivity.
#[derive(Debug, Clone, PartialEq)]
pub struct SecureConnectivity {
    pub cluster_id: String,
    pub org_id: String,
    pub allowed_principals: Vec<String>,
    pub allowed_regions: Vec<String>,
    /// Incremented by every change of the configuration.
    pub generation: i64,
    pub activated_at: Timestamp,
    pub updated_at: Timestamp,
}

/// Checks an activation request; the error names the offending entry.
pub fn validate(principals: &[String], regions: &[String]) -> Result<(), DomainError> {
    if principals.is_empty() {
        return Err(DomainError::Invalid(
            "allowedPrincipals must name at least one principal".into(),
        ));
    }
    if principals.len() > MAX_PRINCIPALS {
        return Err(DomainError::Invalid(format!(
            "allowedPrincipals: at most {MAX_PRINCIPALS} entries"
        )));
    }
    if regions.len() > MAX_REGIONS {
        return Err(DomainError::Invalid(format!(
            "allowedRegions: at most {MAX_REGIONS} entries"
        )));
    }
    for principal in principals {
        if !is_principal(principal) {
            return Err(DomainError::Invalid(format!(
                "allowedPrincipals: {principal:?} is not an AWS account id or IAM principal ARN \
                 (arn:aws:iam::<12-digit account>:root, :user/<name> or :role/<name>)"
            )));
        }
    }
    for region in regions {
        if !is_region(region) {
            return Err(DomainError::Invalid(format!(
                "allowedRegions: {region:?} is not an AWS region code such as \"us-east-1\""
            )));
        }
    }
    unique("allowedPrincipals", principals)?;
    unique("allowedRegions", regions)
}

fn unique(field: &str, values: &[String]) -> Result<(), DomainError> {
    let mut seen = HashSet::new();
    match values.iter().find(|v| !seen.insert(v.as_str())) {
        Some(repeated) => Err(DomainError::Invalid(format!(
            "{field}: {repeated:?} is listed twice"
        ))),
        None => Ok(()),
    }
}

fn is_account_id(text: &str) -> bool {
    text.len() == 12 && text.bytes().all(|b| b.is_ascii_digit())
}

/// `123456789012`, or `arn:<aws|aws-cn|aws-us-gov>:iam::<account>:<root|user/..|role/..>`.
fn is_principal(text: &str) -> bool {
    if is_account_id(text) {
        return true;
    }
    if text.len() > MAX_PRINCIPAL_CHARS {
        return false;
    }
    let parts: Vec<&str> = text.splitn(6, ':').collect();
    let [arn, partition, service, region, account, resource] = parts[..] else {
        return false;
    };
    let name_ok = |name: &str| {
        !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+=,.@_/-".contains(c))
    };
    let resource_ok = resource == "root"
        || resource.strip_prefix("user/").is_some_and(name_ok)
        || resource.strip_prefix("role/").is_some_and(name_ok);
    arn == "arn"
        && matches!(partition, "aws" | "aws-cn" | "aws-us-gov")
        && service == "iam"
        && region.is_empty()
        && is_account_id(account)
        && resource_ok
}

/// `<2 letters>-<words>-<number>`: `us-east-1`, `eu-central-2`, `us-gov-west-1`.
fn is_region(text: &str) -> bool {
    let parts: Vec<&str> = text.split('-').collect();
    let lower = |p: &&str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase());
    match parts.as_slice() {
        [country, middle @ .., number] if !middle.is_empty() => {
            country.len() == 2
                && lower(country)
                && middle.iter().all(lower)
                && (1..=2).contains(&number.len())
                && number.bytes().all(|b| b.is_ascii_digit())
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(values: &[&str]) -> Vec<String> {
        values.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn accepts_iam_principals_and_region_codes() {
        let principals = strings(&[
            "arn:aws:iam::123456789012:root",
            "arn:aws-us-gov:iam::123456789012:role/path/to/Deployer",
            "arn:aws:iam::123456789012:user/ci+bot@example.com",
            "210987654321",
        ]);
        let regions = strings(&[
            "us-east-1",
            "eu-central-2",
            "us-gov-west-1",
            "ap-southeast-11",
        ]);
        assert_eq!(validate(&principals, &regions), Ok(()));
        assert_eq!(validate(&principals, &[]), Ok(()));
    }

    #[test]
    fn names_the_bad_entry() {
        let regions = strings(&["us-east-1"]);
        for bad in [
            "*",
            "",
            "arn:aws:iam::12345678901:root",
            "arn:aws:s3:::bucket",
            "arn:aws:iam:us-east-1:123456789012:root",
            "arn:aws:iam::123456789012:group/admins",
            "arn:aws:iam::123456789012:role/",
            "arn:aws:iam::123456789012:role/has space",
        ] {
            let err = validate(&strings(&[bad]), &regions).unwrap_err();
            assert!(
                err.to_string().contains("allowedPrincipals"),
                "{bad}: {err}"
            );
            assert!(
                err.to_string().contains(&format!("{bad:?}")),
                "{bad}: {err}"
            );
        }
        let principals = strings(&["123456789012"]);
        for bad in [
            "",
            "us",
            "US-EAST-1",
            "us-east",
            "useast-1",
            "us-east-1a",
            "u-east-1",
        ] {
            let err = validate(&principals, &strings(&[bad])).unwrap_err();
            assert!(err.to_string().contains("allowedRegions"), "{bad}: {err}");
        }
    }

    #[test]
    fn rejects_empty_oversized_and_repeated_lists() {
        let regions = strings(&["us-east-1"]);
        assert!(validate(&[], &regions).is_err());
        let many: Vec<String> = (0..=MAX_PRINCIPALS).map(|i| format!("{:012}", i)).collect();
        assert!(validate(&many, &regions).is_err());
        let twice = strings(&["123456789012", "123456789012"]);
        let err = validate(&twice, &regions).unwrap_err();
        assert!(err.to_string().contains("listed twice"));
        let twice = strings(&["us-east-1", "us-east-1"]);
        assert!(validate(&strings(&["123456789012"]), &twice).is_err());
    }
}
