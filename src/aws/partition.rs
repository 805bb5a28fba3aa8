//! Regions and partitions: which STS host signs an EKS token, and whether a region name is real.
//!
//! The token must name the regional STS host of the region's partition (`aws`, `aws-cn`,
//! `aws-us-gov`, …), because that is the host the EKS authenticator will accept. A typo in a
//! region name is a common 3 a.m. mistake, so unknown names are caught here, before any call.

/// An AWS partition and the DNS suffix of its endpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Partition {
    /// `aws`, `aws-cn`, `aws-us-gov`, `aws-iso`, `aws-iso-b`, `aws-eusc`.
    pub id: &'static str,
    pub dns_suffix: &'static str,
}

const AWS: Partition = Partition {
    id: "aws",
    dns_suffix: "amazonaws.com",
};
const AWS_CN: Partition = Partition {
    id: "aws-cn",
    dns_suffix: "amazonaws.com.cn",
};
const AWS_US_GOV: Partition = Partition {
    id: "aws-us-gov",
    dns_suffix: "amazonaws.com",
};
const AWS_ISO: Partition = Partition {
    id: "aws-iso",
    dns_suffix: "c2s.ic.gov",
};
const AWS_ISO_B: Partition = Partition {
    id: "aws-iso-b",
    dns_suffix: "sc2s.sgov.gov",
};
const AWS_EUSC: Partition = Partition {
    id: "aws-eusc",
    dns_suffix: "amazonaws.eu",
};

/// Regions known when this build was made. A region outside this list still works (AWS adds
/// regions), but is reported, since it is far more often a typo.
pub const KNOWN_REGIONS: &[&str] = &[
    "af-south-1",
    "ap-east-1",
    "ap-east-2",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-south-1",
    "ap-south-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-southeast-5",
    "ap-southeast-6",
    "ap-southeast-7",
    "ca-central-1",
    "ca-west-1",
    "eu-central-1",
    "eu-central-2",
    "eu-north-1",
    "eu-south-1",
    "eu-south-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "il-central-1",
    "me-central-1",
    "me-south-1",
    "mx-central-1",
    "sa-east-1",
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "cn-north-1",
    "cn-northwest-1",
    "us-gov-east-1",
    "us-gov-west-1",
    "us-iso-east-1",
    "us-iso-west-1",
    "us-isob-east-1",
    "eusc-de-east-1",
];

/// Why a region name was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{region}' is not a valid AWS region name")]
pub struct InvalidRegion {
    pub region: String,
    /// The closest known region, if one is close.
    pub suggestion: Option<&'static str>,
}

/// The partition a region belongs to, from its name.
pub fn partition_of(region: &str) -> Partition {
    if region.starts_with("cn-") {
        AWS_CN
    } else if region.starts_with("us-gov-") {
        AWS_US_GOV
    } else if region.starts_with("us-isob-") {
        AWS_ISO_B
    } else if region.starts_with("us-iso-") {
        AWS_ISO
    } else if region.starts_with("eusc-") {
        AWS_EUSC
    } else {
        AWS
    }
}

/// The partition id (`aws`, `aws-cn`, …) of an ARN-like string's partition field is what IAM and
/// EKS policy ARNs need; this gives it for a region.
pub fn partition_id(region: &str) -> &'static str {
    partition_of(region).id
}

/// The regional STS host that signs EKS tokens for `region`.
pub fn sts_host(region: &str) -> String {
    format!("sts.{region}.{}", partition_of(region).dns_suffix)
}

/// Checks the shape of a region name (`xx-name-N`, `us-gov-west-1`, …).
pub fn validate_region(region: &str) -> Result<(), InvalidRegion> {
    let parts: Vec<&str> = region.split('-').collect();
    let shape_ok = parts.len() >= 3
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        })
        && parts[0].len() >= 2
        && parts[0].chars().all(|c| c.is_ascii_lowercase())
        && parts
            .last()
            .is_some_and(|p| p.chars().all(|c| c.is_ascii_digit()));
    if shape_ok {
        Ok(())
    } else {
        Err(InvalidRegion {
            region: region.to_string(),
            suggestion: closest_known(region),
        })
    }
}

/// True for a region in [`KNOWN_REGIONS`].
pub fn is_known_region(region: &str) -> bool {
    KNOWN_REGIONS.contains(&region)
}

/// The known region with the smallest edit distance, if it is within 2 edits.
pub fn closest_known(region: &str) -> Option<&'static str> {
    KNOWN_REGIONS
        .iter()
        .map(|k| (edit_distance(region, k), *k))
        .filter(|(d, _)| *d <= 2)
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sts_hosts_per_partition() {
        assert_eq!(sts_host("us-east-1"), "sts.us-east-1.amazonaws.com");
        assert_eq!(sts_host("cn-north-1"), "sts.cn-north-1.amazonaws.com.cn");
        assert_eq!(sts_host("us-gov-west-1"), "sts.us-gov-west-1.amazonaws.com");
        assert_eq!(partition_id("us-gov-west-1"), "aws-us-gov");
        assert_eq!(partition_id("cn-northwest-1"), "aws-cn");
        assert_eq!(partition_id("eu-west-1"), "aws");
    }

    #[test]
    fn region_shapes() {
        assert!(validate_region("us-east-1").is_ok());
        assert!(validate_region("us-gov-west-1").is_ok());
        assert!(validate_region("xx-newplace-7").is_ok());
        let e = validate_region("us-east1").unwrap_err();
        assert_eq!(e.suggestion, Some("us-east-1"));
        assert!(validate_region("").is_err());
        assert!(validate_region("US-EAST-1").is_err());
        assert!(validate_region("https://x").is_err());
    }

    #[test]
    fn known_regions() {
        assert!(is_known_region("eu-west-1"));
        assert!(!is_known_region("eu-middle-9"));
    }
}
