/**
 * Every ECR operation cargohold serves, by its X-Amz-Target name. Each has a module
 * `operations/<kebab-name>.ts` whose default export is an {@link EcrOperation}.
 */
export const ECR_TARGET_PREFIX = 'AmazonEC2ContainerRegistry_V20150921.';

export const ECR_OPERATIONS = [
  'CreateRepository', 'DescribeRepositories', 'DeleteRepository', 'PutImageTagMutability', 'PutImageScanningConfiguration',
  'SetRepositoryPolicy', 'GetRepositoryPolicy', 'DeleteRepositoryPolicy',
  'PutRegistryPolicy', 'GetRegistryPolicy', 'DeleteRegistryPolicy', 'DescribeRegistry',
  'GetAuthorizationToken',
  'PutImage', 'BatchGetImage', 'DescribeImages', 'ListImages', 'BatchDeleteImage',
  'BatchCheckLayerAvailability', 'InitiateLayerUpload', 'UploadLayerPart', 'CompleteLayerUpload', 'GetDownloadUrlForLayer',
  'TagResource', 'UntagResource', 'ListTagsForResource', 'ListImageReferrers',
  'PutAccountSetting', 'GetAccountSetting',
  'StartImageScan', 'DescribeImageScanFindings', 'PutRegistryScanningConfiguration', 'GetRegistryScanningConfiguration', 'BatchGetRepositoryScanningConfiguration',
  'CreateRepositoryCreationTemplate', 'DescribeRepositoryCreationTemplates', 'UpdateRepositoryCreationTemplate', 'DeleteRepositoryCreationTemplate',
  'PutLifecyclePolicy', 'GetLifecyclePolicy', 'DeleteLifecyclePolicy', 'StartLifecyclePolicyPreview', 'GetLifecyclePolicyPreview',
] as const;

export type EcrOperationName = (typeof ECR_OPERATIONS)[number];

/** `CreateRepository` → `create-repository`. */
export function operationModuleName(op: string): string {
  return op.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase();
}
