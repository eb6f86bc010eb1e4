import type { LifecyclePreviewResult } from '../metadata/types.ts';
import { epochSeconds } from './repository-shapes.ts';
import type { Validator } from './validate.ts';

/** Shared by the lifecycle policy operations (Put/Get/Delete, Start/GetLifecyclePolicyPreview). */

/** Get/DeleteLifecyclePolicy output: `lastEvaluatedAt` only once an expiry run evaluated the policy. */
export function policyOutput(registryId: string, repositoryName: string, p: { policyText: string; lastEvaluatedAt: Date | null }): Record<string, unknown> {
  return { registryId, repositoryName, lifecyclePolicyText: p.policyText, ...(p.lastEvaluatedAt ? { lastEvaluatedAt: epochSeconds(p.lastEvaluatedAt) } : {}) };
}

/** ECR's LifecyclePolicyText lengths. */
export const LIFECYCLE_TEXT_RULES = { min: 100, max: 30_720 } as const;

export function lifecycleTextInput(v: Validator, required: boolean): string | undefined {
  return required ? v.string('lifecyclePolicyText', { ...LIFECYCLE_TEXT_RULES, required: true }) : v.string('lifecyclePolicyText', LIFECYCLE_TEXT_RULES);
}

/** `LifecyclePolicyPreviewResult`: tags only when tagged; cargohold has only the STANDARD storage class. */
export function previewResultOutput(r: LifecyclePreviewResult): Record<string, unknown> {
  return {
    ...(r.tags.length ? { imageTags: r.tags } : {}),
    imageDigest: r.digest,
    imagePushedAt: epochSeconds(r.pushedAt),
    action: { type: 'EXPIRE' },
    appliedRulePriority: r.rulePriority,
    storageClass: 'STANDARD',
  };
}
