//! "Reveal the creator" (issue 17, item 5): on a CONFIG_MAP cluster whose creator no record
//! names, switching to API_AND_CONFIG_MAP makes EKS show the creator's admin as an access entry
//! (EKS workshop, "Switching between authentication modes"). `creator` and `diagnose` offer it as
//! a discovery route; `reveal-creator` makes the one-way switch only with
//! `--allow-auth-mode-change`, writes nothing on `--dry-run`, and names the creator.

mod common;

use common::world::{World, arn, http, text};

const SCENARIO: &str = r#"
account: "123456789012"
region: us-east-1
iam:
  users:
    - name: oncall
    - name: platform-admin
      path: /admins/
operator: oncall
clusters:
  - name: legacy
    createdAt: -20d
    creator: {user: platform-admin}
cloudtrail:
  throttle: {off: true}
"#;

#[test]
fn an_unknown_creator_is_revealed_by_the_consented_one_way_switch() {
    let w = World::start_yaml(SCENARIO);
    // CloudTrail has forgotten the CreateCluster call; no trail, no tag.
    let (status, _) = http("DELETE", &format!("{}/cloudtrail/events", w.admin), &[], "");
    assert_eq!(status, 200);

    let out = w
        .product()
        .args(["creator", "--cluster", "legacy"])
        .output()
        .unwrap();
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(6), "{stdout}{}", text(&out.stderr));
    assert!(stdout.contains("discovery route"), "{stdout}");
    assert!(stdout.contains("ONE-WAY"), "{stdout}");
    assert!(
        stdout.contains("eks-breakglass reveal-creator --cluster legacy --allow-auth-mode-change"),
        "{stdout}"
    );
    let out = w
        .product()
        .args(["diagnose", "--cluster", "legacy"])
        .output()
        .unwrap();
    assert!(
        text(&out.stdout).contains("discovery route"),
        "{}",
        text(&out.stdout)
    );

    // Without the consent: refused, nothing changed. A dry run shows the trade, changes nothing.
    let out = w
        .product()
        .args(["reveal-creator", "--cluster", "legacy", "--yes"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("--allow-auth-mode-change"));
    let out = w
        .product()
        .args(["reveal-creator", "--cluster", "legacy", "--dry-run"])
        .output()
        .unwrap();
    let plan = text(&out.stdout);
    assert!(out.status.success(), "{plan}{}", text(&out.stderr));
    assert!(
        plan.contains("THE TRADE") && plan.contains("nothing was changed"),
        "{plan}"
    );
    assert_eq!(w.auth_mode("legacy"), "CONFIG_MAP");
    assert!(w.calls("eks", "UpdateClusterConfig").is_empty());

    let out = w
        .product()
        .args([
            "reveal-creator",
            "--cluster",
            "legacy",
            "--allow-auth-mode-change",
            "--yes",
            "--journal-dir",
        ])
        .arg(w.path("reveal"))
        .output()
        .unwrap();
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    assert!(
        stdout.contains("Creator (revealed by EKS's access entry, made")
            && stdout.contains(&arn("user/admins/platform-admin")),
        "{stdout}"
    );
    assert_eq!(w.auth_mode("legacy"), "API_AND_CONFIG_MAP");
    // The tag it suggests is the record `creator` reads: the creator is known from now on.
    let cmd = stdout
        .lines()
        .find_map(|l| l.split('`').find(|c| c.starts_with("aws eks tag-resource")))
        .expect("the tag command");
    let args: Vec<&str> = cmd.split_whitespace().skip(1).collect();
    w.aws(&args);
    let out = w
        .product()
        .args(["creator", "--cluster", "legacy"])
        .output()
        .unwrap();
    assert!(
        text(&out.stdout).contains(&format!("Creator: {}", arn("user/admins/platform-admin"))),
        "{}",
        text(&out.stdout)
    );
}
