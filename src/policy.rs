//! The minimum IAM permissions of every command, in one place.
//!
//! A break-glass tool is run by the people with the most sensitive access, so it should ask for
//! exactly what it uses and say why: security reviews read this, `eks-breakglass policy [COMMAND]`
//! prints it as an IAM policy, `docs/permissions.md` explains it, and `tests/policy.rs` keeps it
//! true by running each command against the local world with `--call-log` and comparing the
//! actions it really called with the ones listed here (both ways).
//!
//! `sts:GetCallerIdentity` is never listed: it needs no permission (an explicit Deny cannot even
//! block it). `eks:ListClusters` appears only where it is needed (`audit`); elsewhere it is only
//! called to suggest cluster names when `--cluster` is wrong, and a refusal just drops the hint.
//! Kubernetes permissions (reading aws-auth, SelfSubjectReview) are not IAM and are not here.

use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};

/// One IAM action and why a command needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Permission {
    pub action: &'static str,
    /// Why, in one line (printed by `policy --explain` and in docs/permissions.md).
    pub why: &'static str,
}

/// A command and its permissions.
#[derive(Debug, Clone, Copy)]
pub struct CommandPolicy {
    pub command: &'static str,
    /// Groups of permissions shared with other commands as a whole (e.g. [`TRIAGE`]), first.
    pub base: &'static [&'static [Permission]],
    /// The command's own permissions.
    pub permissions: &'static [Permission],
}

impl CommandPolicy {
    /// Every permission of the command: the shared base, then its own.
    pub fn all(&self) -> impl Iterator<Item = &'static Permission> + use<> {
        self.base
            .iter()
            .flat_map(|group| group.iter())
            .chain(self.permissions.iter())
    }
}

const fn p(action: &'static str, why: &'static str) -> Permission {
    Permission { action, why }
}

// Shared entries: the same action for the same reason in several commands.
const DESCRIBE_CLUSTER: Permission = p(
    "eks:DescribeCluster",
    "the cluster's endpoint, CA, creation time, authentication mode and tags",
);
const LOOKUP_EVENTS: Permission = p(
    "cloudtrail:LookupEvents",
    "find the CreateCluster event (event history, last 90 days)",
);
const DESCRIBE_TRAILS: Permission = p(
    "cloudtrail:DescribeTrails",
    "clusters older than 90 days: find the trail's S3 bucket (skipped with --trail-bucket)",
);
const S3_LIST: Permission = p(
    "s3:ListBucket",
    "clusters older than 90 days: list the trail's log files of the creation day",
);
const S3_GET: Permission = p(
    "s3:GetObject",
    "clusters older than 90 days: read those log files",
);
const LIST_ENTRIES: Permission = p(
    "eks:ListAccessEntries",
    "last fallback: the admin access entry EKS made for the creator at creation",
);
const DESCRIBE_ENTRY_CREATOR: Permission = p(
    "eks:DescribeAccessEntry",
    "last fallback: when each access entry was made (and, in grant/audit, whether one exists)",
);
const LIST_POLICIES_CREATOR: Permission = p(
    "eks:ListAssociatedAccessPolicies",
    "which access entries hold AmazonEKSClusterAdminPolicy",
);
const GET_USER: Permission = p(
    "iam:GetUser",
    "does the creator user still exist, with the same unique id",
);
const GET_ROLE: Permission = p(
    "iam:GetRole",
    "does the creator role still exist (same unique id), and its trust policy",
);
const LIST_KEYS: Permission = p(
    "iam:ListAccessKeys",
    "how many access keys the creator user has (IAM allows 2)",
);
const LIST_MFA: Permission = p(
    "iam:ListMFADevices",
    "whether the creator user has MFA (for the report)",
);

const LIST_NODEGROUPS: Permission = p(
    "eks:ListNodegroups",
    "node roles must stay mapped: the managed node groups",
);
const DESCRIBE_NODEGROUP: Permission = p("eks:DescribeNodegroup", "each node group's node role");
const LIST_FARGATE: Permission = p(
    "eks:ListFargateProfiles",
    "Fargate pod execution roles must stay mapped: the profiles",
);
const DESCRIBE_FARGATE: Permission = p(
    "eks:DescribeFargateProfile",
    "each profile's pod execution role",
);
const API_ROLE: Permission = p(
    "sts:AssumeRole",
    "with --role-arn: write aws-auth as that role (e.g. the creator); with --verify-as: prove \
     a role is mapped as predicted",
);

/// Every command that calls AWS, with its permissions. Commands that call nothing (`aws-auth`
/// without `--cluster`, `completions`, `policy`) need none.
/// Finding the creator and judging it: cluster facts, CloudTrail, trail logs in S3, access
/// entries, IAM status (`creator`, `assume-creator`, and the triage of `diagnose`/`recover`).
pub const CREATOR_DISCOVERY: &[Permission] = &[
    DESCRIBE_CLUSTER,
    LOOKUP_EVENTS,
    DESCRIBE_TRAILS,
    S3_LIST,
    S3_GET,
    LIST_ENTRIES,
    DESCRIBE_ENTRY_CREATOR,
    LIST_POLICIES_CREATOR,
    GET_USER,
    LIST_KEYS,
    LIST_MFA,
    GET_ROLE,
];

/// The cluster's node and Fargate roles, which a restore must keep mapped.
pub const NODE_ROLES: &[Permission] = &[
    LIST_NODEGROUPS,
    DESCRIBE_NODEGROUP,
    LIST_FARGATE,
    DESCRIBE_FARGATE,
];

/// What `diagnose` needs, and `recover` before it changes anything.
pub const TRIAGE: &[&[Permission]] = &[CREATOR_DISCOVERY, NODE_ROLES];

pub const COMMANDS: &[CommandPolicy] = &[
    CommandPolicy {
        command: "token",
        base: &[],
        permissions: &[p(
            "sts:AssumeRole",
            "only with --role-arn: make the token as that role",
        )],
    },
    CommandPolicy {
        command: "kubeconfig",
        base: &[],
        permissions: &[DESCRIBE_CLUSTER],
    },
    CommandPolicy {
        command: "aws-auth",
        base: &[],
        permissions: &[
            p(
                "eks:DescribeCluster",
                "lint, show, salvage, diff with --cluster: the endpoint and CA to read kube-system/aws-auth (then Kubernetes RBAC applies)",
            ),
            p(
                "eks:ListAccessEntries",
                "lint/show --cluster on a cluster with access entries: stale entries, shadowed mappings",
            ),
            p(
                "eks:DescribeAccessEntry",
                "lint/show --cluster: each entry's creation time, username and groups",
            ),
            p(
                "eks:ListAssociatedAccessPolicies",
                "lint/show --cluster: what each entry really grants",
            ),
            LIST_NODEGROUPS,
            DESCRIBE_NODEGROUP,
            LIST_FARGATE,
            DESCRIBE_FARGATE,
            p(
                "iam:GetUser",
                "lint/show --cluster: a user entry's principal now (CreateDate: stale or not)",
            ),
            p(
                "iam:GetRole",
                "lint/show --cluster: a role entry's principal now (CreateDate: stale or not)",
            ),
        ],
    },
    CommandPolicy {
        command: "aws-auth restore",
        base: &[],
        permissions: &[
            DESCRIBE_CLUSTER,
            LIST_NODEGROUPS,
            DESCRIBE_NODEGROUP,
            LIST_FARGATE,
            DESCRIBE_FARGATE,
            p(
                "s3:ListBucket",
                "with --from s3://…: the snapshots of the cluster",
            ),
            p("s3:GetObject", "with --from s3://…: read the snapshot"),
            p(
                "iam:GetRole",
                "who gets in afterwards: a role principal's real ARN, with the path STS hides; a role entry's principal now (stale or not)",
            ),
            p(
                "eks:DescribeAccessEntry",
                "on clusters with access entries: does the principal have one (it gets in outside aws-auth)",
            ),
            p(
                "eks:ListAccessEntries",
                "on API_AND_CONFIG_MAP clusters: which mappings an access entry shadows",
            ),
            p(
                "eks:ListAssociatedAccessPolicies",
                "what a shadowing entry really grants",
            ),
            p(
                "iam:GetUser",
                "a user entry's principal now (a stale entry shadows nothing)",
            ),
            API_ROLE,
        ],
    },
    CommandPolicy {
        command: "aws-auth edit",
        base: &[],
        permissions: &[
            DESCRIBE_CLUSTER,
            LIST_NODEGROUPS,
            DESCRIBE_NODEGROUP,
            LIST_FARGATE,
            DESCRIBE_FARGATE,
            API_ROLE,
        ],
    },
    CommandPolicy {
        command: "aws-auth snapshot",
        base: &[],
        permissions: &[
            DESCRIBE_CLUSTER,
            p(
                "s3:PutObject",
                "with --to s3://…: write the snapshot and its metadata",
            ),
            p(
                "sts:AssumeRole",
                "only with --role-arn: read aws-auth as that role",
            ),
        ],
    },
    CommandPolicy {
        command: "diagnose",
        base: TRIAGE,
        permissions: &[],
    },
    CommandPolicy {
        command: "recover",
        base: TRIAGE,
        permissions: &[
            p(
                "sts:AssumeRole",
                "become the creator role; with --verify-as: prove a role is mapped as predicted",
            ),
            p(
                "iam:UpdateAssumeRolePolicy",
                "the creator route: add one trust statement for you, and remove it at the end",
            ),
            p(
                "iam:CreateAccessKey",
                "the creator route: a temporary access key for the creator user",
            ),
            p(
                "iam:DeleteAccessKey",
                "delete that key at the end (unless --keep)",
            ),
            p(
                "eks:UpdateClusterConfig",
                "the access-entry route with --allow-auth-mode-change: CONFIG_MAP -> API_AND_CONFIG_MAP",
            ),
            p("eks:DescribeUpdate", "wait for that mode switch to finish"),
            p(
                "eks:CreateAccessEntry",
                "the access-entry route: an entry for you",
            ),
            p(
                "eks:AssociateAccessPolicy",
                "the access-entry route: AmazonEKSClusterAdminPolicy for it",
            ),
        ],
    },
    CommandPolicy {
        command: "creator",
        base: &[CREATOR_DISCOVERY],
        permissions: &[],
    },
    CommandPolicy {
        command: "record",
        base: &[],
        permissions: &[
            DESCRIBE_CLUSTER,
            LOOKUP_EVENTS,
            DESCRIBE_TRAILS,
            S3_LIST,
            S3_GET,
            LIST_ENTRIES,
            DESCRIBE_ENTRY_CREATOR,
            LIST_POLICIES_CREATOR,
            p(
                "eks:TagResource",
                "write the creator record (eks-breakglass/creator-*) on the cluster",
            ),
        ],
    },
    CommandPolicy {
        command: "grant",
        base: &[],
        permissions: &[
            DESCRIBE_CLUSTER,
            p(
                "iam:GetRole",
                "a role principal (or your session's role): its real ARN, with the path STS hides",
            ),
            p(
                "eks:DescribeAccessEntry",
                "does the principal already have an access entry",
            ),
            p(
                "eks:ListAssociatedAccessPolicies",
                "does that entry already hold AmazonEKSClusterAdminPolicy",
            ),
            p(
                "eks:UpdateClusterConfig",
                "only with --allow-auth-mode-change: CONFIG_MAP -> API_AND_CONFIG_MAP (one-way)",
            ),
            p("eks:DescribeUpdate", "wait for that mode switch to finish"),
            p(
                "eks:DeleteAccessEntry",
                "a stale entry (its principal was deleted and recreated): deleted, then created again",
            ),
            p("eks:CreateAccessEntry", "create the STANDARD access entry"),
            p(
                "eks:AssociateAccessPolicy",
                "associate AmazonEKSClusterAdminPolicy with cluster scope",
            ),
        ],
    },
    CommandPolicy {
        command: "migrate",
        base: &[NODE_ROLES],
        permissions: &[
            DESCRIBE_CLUSTER,
            p(
                "iam:GetRole",
                "each role aws-auth maps: its real ARN, with the path an access entry needs (IAM Identity Center roles: aws-reserved/sso.amazonaws.com/…)",
            ),
            p(
                "iam:GetUser",
                "each user aws-auth maps: that it exists, with its exact ARN",
            ),
            p(
                "eks:ListAccessEntries",
                "API modes: the entries that exist (adopted, never replaced) and, before the switch to API, that every translated one is there",
            ),
            p(
                "eks:DescribeAccessEntry",
                "each entry's type, username and groups, compared with what aws-auth gave",
            ),
            p(
                "eks:ListAssociatedAccessPolicies",
                "each entry's cluster-scoped policies (AmazonEKSClusterAdminPolicy for system:masters)",
            ),
            p(
                "eks:UpdateClusterConfig",
                "only with --allow-auth-mode-change MODE: CONFIG_MAP -> API_AND_CONFIG_MAP, then (--switch-to-api) -> API; both one-way",
            ),
            p("eks:DescribeUpdate", "wait for a mode switch to finish"),
            p(
                "eks:CreateAccessEntry",
                "create the translated entries (STANDARD, EC2_LINUX, EC2_WINDOWS, FARGATE_LINUX)",
            ),
            p(
                "iam:PassRole",
                "EKS requires it of whoever creates an EC2_LINUX or EC2_WINDOWS entry (for the node role); not an API call of its own",
            ),
            p(
                "eks:AssociateAccessPolicy",
                "AmazonEKSClusterAdminPolicy (cluster scope) where aws-auth gave system:masters",
            ),
            p(
                "sts:AssumeRole",
                "with --verify-as: log in as that role to prove it gets what aws-auth gave",
            ),
        ],
    },
    CommandPolicy {
        command: "reveal-creator",
        base: &[],
        permissions: &[
            DESCRIBE_CLUSTER,
            p(
                "eks:UpdateClusterConfig",
                "with --allow-auth-mode-change: CONFIG_MAP -> API_AND_CONFIG_MAP (one-way)",
            ),
            p("eks:DescribeUpdate", "wait for that mode switch to finish"),
            p(
                "eks:ListAccessEntries",
                "the entries after the switch: the creator's admin entry",
            ),
            p(
                "eks:DescribeAccessEntry",
                "when the creator's entry was made",
            ),
            p(
                "eks:ListAssociatedAccessPolicies",
                "which entry holds AmazonEKSClusterAdminPolicy",
            ),
        ],
    },
    CommandPolicy {
        command: "fix-entries",
        base: &[NODE_ROLES],
        permissions: &[
            DESCRIBE_CLUSTER,
            p("eks:ListAccessEntries", "the cluster's access entries"),
            p(
                "eks:DescribeAccessEntry",
                "each entry's type, username, groups and creation time",
            ),
            p(
                "eks:ListAssociatedAccessPolicies",
                "each entry's access policies and their scopes, to make them again",
            ),
            p(
                "iam:GetUser",
                "a user entry's principal now: CreateDate and unique id (an older entry is stale)",
            ),
            p(
                "iam:GetRole",
                "a role entry's principal now: CreateDate and unique id (an older entry is stale)",
            ),
            p(
                "eks:DeleteAccessEntry",
                "delete the stale entry (it lets nobody in)",
            ),
            p(
                "eks:CreateAccessEntry",
                "make it again, bound to the principal as it is now",
            ),
            p(
                "eks:AssociateAccessPolicy",
                "associate its policies again, with their scopes",
            ),
        ],
    },
    CommandPolicy {
        command: "assume-creator",
        base: &[CREATOR_DISCOVERY],
        permissions: &[
            p(
                "sts:AssumeRole",
                "become the creator role (or a recreated one)",
            ),
            p(
                "iam:UpdateAssumeRolePolicy",
                "add one trust statement for you to the creator role (undone by cleanup)",
            ),
            p(
                "iam:CreateAccessKey",
                "a temporary access key for the creator user",
            ),
            p(
                "iam:DeleteAccessKey",
                "delete that temporary key when the run ends (unless --keep)",
            ),
            p(
                "iam:CreateUser",
                "best effort: recreate a deleted creator user with the same path and name",
            ),
            p(
                "iam:CreateRole",
                "best effort: recreate a deleted creator role with the same path and name",
            ),
            p(
                "iam:PutRolePolicy",
                "the recreated role's inline policy (eks:DescribeCluster only)",
            ),
        ],
    },
    CommandPolicy {
        command: "cleanup",
        base: &[],
        permissions: &[
            p(
                "eks:ListAssociatedAccessPolicies",
                "rollback: the entry's policies and scopes now, compared with what the run made (a colleague's additions stop the delete)",
            ),
            p(
                "iam:ListAccessKeys",
                "find keys a crashed run created, and the keys of a user to delete",
            ),
            p("iam:DeleteAccessKey", "delete temporary access keys"),
            p(
                "iam:GetRole",
                "read the live trust policy (to take out exactly the run's statement) and a recreated role's unique id",
            ),
            p(
                "iam:GetUser",
                "a recreated user's unique id: only the user the run created is deleted",
            ),
            p(
                "iam:UpdateAssumeRolePolicy",
                "take the run's trust statement out again (every other statement stays)",
            ),
            p(
                "iam:ListUserPolicies",
                "a recreated user's inline policies: any (someone else's) stops its deletion",
            ),
            p(
                "iam:ListAttachedUserPolicies",
                "a recreated user's managed policies: any (someone else's) stops its deletion",
            ),
            p(
                "iam:DeleteLoginProfile",
                "a console password someone gave the recreated user",
            ),
            p("iam:DeleteUser", "delete a user the run recreated"),
            p("iam:ListRolePolicies", "a recreated role's inline policies"),
            p(
                "iam:DeleteRolePolicy",
                "delete a recreated role's inline policies (IAM refuses DeleteRole before)",
            ),
            p(
                "iam:ListAttachedRolePolicies",
                "a recreated role's managed policies",
            ),
            p(
                "iam:DetachRolePolicy",
                "detach a recreated role's managed policies (same reason)",
            ),
            p("iam:DeleteRole", "delete a role the run recreated"),
            p(
                "eks:DeleteAccessEntry",
                "delete an access entry the run created",
            ),
            p(
                "eks:DisassociateAccessPolicy",
                "remove the admin policy the run added to an existing entry",
            ),
            p(
                "eks:UntagResource",
                "remove the creator tags `record` added",
            ),
            p(
                "eks:ListTagsForResource",
                "rollback of `record`: which creator tags are still as the run wrote them",
            ),
            p(
                "eks:DescribeAccessEntry",
                "rollback: is the access entry still the one the run created (its ARN)",
            ),
            p(
                "eks:TagResource",
                "put back creator tags `record` overwrote",
            ),
            p(
                "eks:DescribeCluster",
                "a Kubernetes undo (aws-auth put back): the cluster's endpoint and CA",
            ),
            p(
                "sts:AssumeRole",
                "only with --role-arn: undo a Kubernetes change as that role",
            ),
        ],
    },
    CommandPolicy {
        command: "audit",
        base: &[],
        permissions: &[
            p(
                "eks:ListClusters",
                "the clusters of each account and region",
            ),
            DESCRIBE_CLUSTER,
            p(
                "eks:DescribeAccessEntry",
                "with --breakglass-role: does that role have an access entry",
            ),
            p(
                "eks:ListAssociatedAccessPolicies",
                "with --breakglass-role: does the entry hold AmazonEKSClusterAdminPolicy",
            ),
            GET_USER,
            LIST_KEYS,
            GET_ROLE,
            p(
                "organizations:ListAccounts",
                "with --org-role: the organisation's accounts",
            ),
            p(
                "sts:AssumeRole",
                "with --org-role: the audit role in each member account",
            ),
            p(
                "cloudtrail:LookupEvents",
                "with --deep: find creators that are not recorded on the tags",
            ),
            p(
                "cloudtrail:DescribeTrails",
                "with --deep, for clusters older than 90 days: the trail's bucket",
            ),
            p("s3:ListBucket", "with --deep: the trail's log files"),
            p("s3:GetObject", "with --deep: read the trail's log files"),
            p(
                "eks:ListAccessEntries",
                "with --deep: the creator's access entry, as a last fallback; with --entries: every entry",
            ),
            p(
                "eks:ListAccessPolicies",
                "with --entries: the access policies EKS offers",
            ),
            p(
                "eks:ListNodegroups",
                "with --entries: node groups, whose node entries are EKS's own",
            ),
            p(
                "eks:DescribeNodegroup",
                "with --entries: a node group's node role",
            ),
            p(
                "eks:ListFargateProfiles",
                "with --entries: Fargate profiles, whose entries are EKS's own",
            ),
            p(
                "eks:DescribeFargateProfile",
                "with --entries: a profile's pod execution role",
            ),
        ],
    },
];

/// The commands [`COMMANDS`] knows, in order.
pub fn command_names() -> Vec<&'static str> {
    COMMANDS.iter().map(|c| c.command).collect()
}

/// The command a name means: exact (`aws-auth restore`), or the last word of one (`restore`).
pub fn find(name: &str) -> Option<&'static CommandPolicy> {
    let name = name.trim();
    COMMANDS.iter().find(|c| c.command == name).or_else(|| {
        COMMANDS
            .iter()
            .find(|c| c.command.rsplit(' ').next() == Some(name) && c.command.contains(' '))
    })
}

/// The permissions of one command (`None`: unknown command), or of all (`None` given).
pub fn permissions(command: Option<&str>) -> Option<Vec<Permission>> {
    match command {
        Some(name) => find(name).map(|c| c.all().copied().collect()),
        None => Some(COMMANDS.iter().flat_map(|c| c.all().copied()).collect()),
    }
}

/// The IAM policy document: version 2012-10-17, one statement per service (Sid = the service),
/// sorted, de-duplicated actions, Resource `*` (narrow it as docs/permissions.md explains).
pub fn document(perms: &[Permission]) -> Value {
    let mut by_service: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for perm in perms {
        let service = perm.action.split(':').next().unwrap_or_default();
        by_service.entry(service).or_default().insert(perm.action);
    }
    let statements: Vec<Value> = by_service
        .iter()
        .map(|(service, actions)| {
            json!({
                "Sid": sid(service),
                "Effect": "Allow",
                "Action": actions.iter().collect::<Vec<_>>(),
                "Resource": "*",
            })
        })
        .collect();
    json!({"Version": "2012-10-17", "Statement": statements})
}

/// `eks` -> `Eks`, `cloudtrail` -> `Cloudtrail` (Sids are alphanumeric).
fn sid(service: &str) -> String {
    let mut c = service.chars();
    match c.next() {
        Some(f) => f.to_ascii_uppercase().to_string() + c.as_str(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_sorted_statement_per_service() {
        let perms = permissions(Some("creator")).unwrap();
        let doc = document(&perms);
        assert_eq!(doc["Version"], "2012-10-17");
        let sids: Vec<&str> = doc["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["Sid"].as_str().unwrap())
            .collect();
        assert_eq!(sids, vec!["Cloudtrail", "Eks", "Iam", "S3"]);
        for s in doc["Statement"].as_array().unwrap() {
            let actions: Vec<&str> = s["Action"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a.as_str().unwrap())
                .collect();
            let mut sorted = actions.clone();
            sorted.sort();
            sorted.dedup();
            assert_eq!(actions, sorted);
        }
    }

    #[test]
    fn the_union_holds_every_command_and_no_duplicates() {
        let all = document(&permissions(None).unwrap());
        let text = all.to_string();
        for c in COMMANDS {
            for perm in c.all() {
                assert!(text.contains(perm.action), "{}", perm.action);
            }
        }
        assert_eq!(text.matches("\"eks:DescribeCluster\"").count(), 1);
        assert!(permissions(Some("nope")).is_none());
        assert_eq!(find("restore").map(|c| c.command), Some("aws-auth restore"));
        assert_eq!(
            find("aws-auth edit").map(|c| c.command),
            Some("aws-auth edit")
        );
        assert_eq!(find("aws-auth").map(|c| c.command), Some("aws-auth"));
    }

    #[test]
    fn every_action_names_a_service_and_a_reason() {
        for c in COMMANDS {
            let mut seen = BTreeSet::new();
            for perm in c.all() {
                assert!(perm.action.contains(':'), "{}", perm.action);
                assert!(!perm.why.is_empty(), "{}", perm.action);
                assert!(
                    seen.insert(perm.action),
                    "{} twice in {}",
                    perm.action,
                    c.command
                );
                assert_ne!(perm.action, "sts:GetCallerIdentity");
            }
        }
    }
}
