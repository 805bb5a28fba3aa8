//! EKS resource tags: the creator record that `record` writes on a cluster.
//!
//! Reading needs no call of its own (DescribeCluster returns the tags); writing is TagResource,
//! and undoing is UntagResource plus TagResource of the previous values.

use super::{AwsContext, AwsError, AwsErrorKind};
use std::collections::{BTreeMap, HashMap};

/// TagResource: sets (adds or overwrites) `tags` on `resource_arn`.
pub async fn tag_resource(
    ctx: &AwsContext,
    resource_arn: &str,
    tags: &BTreeMap<String, String>,
) -> Result<(), AwsError> {
    let map: HashMap<String, String> = tags.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    ctx.eks()
        .tag_resource()
        .resource_arn(resource_arn)
        .set_tags(Some(map))
        .send()
        .await
        .map(|_| ())
        .map_err(|e| AwsError::from_sdk("eks:TagResource", resource_arn, e))
}

/// UntagResource. `Ok(false)` when the resource is gone (nothing left to untag).
pub async fn untag_resource(
    ctx: &AwsContext,
    resource_arn: &str,
    keys: &[String],
) -> Result<bool, AwsError> {
    match ctx
        .eks()
        .untag_resource()
        .resource_arn(resource_arn)
        .set_tag_keys(Some(keys.to_vec()))
        .send()
        .await
    {
        Ok(_) => Ok(true),
        Err(e) => {
            let err = AwsError::from_sdk("eks:UntagResource", resource_arn, e);
            if err.kind == AwsErrorKind::NotFound {
                Ok(false)
            } else {
                Err(err)
            }
        }
    }
}

/// ListTagsForResource. `Ok(None)` when the resource is gone.
pub async fn list_tags(
    ctx: &AwsContext,
    resource_arn: &str,
) -> Result<Option<BTreeMap<String, String>>, AwsError> {
    match ctx
        .eks()
        .list_tags_for_resource()
        .resource_arn(resource_arn)
        .send()
        .await
    {
        Ok(o) => Ok(Some(
            o.tags()
                .map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                .unwrap_or_default(),
        )),
        Err(e) => {
            let err = AwsError::from_sdk("eks:ListTagsForResource", resource_arn, e);
            if err.kind == AwsErrorKind::NotFound {
                Ok(None)
            } else {
                Err(err)
            }
        }
    }
}
