//! The aws-auth domain: how EKS's authenticator reads `kube-system/aws-auth`.
