import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { requiredActions } from './authorize.ts';

describe('/v2/ route → ECR actions', () => {
  const q = (s = '') => new URLSearchParams(s);
  const table: Array<[string, string, string, string[]]> = [
    ['base', 'GET', '', []],
    ['catalog', 'GET', '', ['ecr:DescribeRepositories']],
    ['tags', 'GET', '', ['ecr:ListImages']],
    ['manifest', 'GET', '', ['ecr:BatchGetImage']],
    ['manifest', 'HEAD', '', ['ecr:BatchGetImage']],
    ['manifest', 'PUT', '', ['ecr:PutImage']],
    ['manifest', 'DELETE', '', ['ecr:BatchDeleteImage']],
    ['blob', 'GET', '', ['ecr:GetDownloadUrlForLayer']],
    ['blob', 'HEAD', '', ['ecr:BatchCheckLayerAvailability']],
    ['blob', 'DELETE', '', ['ecr:BatchDeleteImage']],
    ['upload-start', 'POST', '', ['ecr:InitiateLayerUpload']],
    ['upload-start', 'POST', 'mount=sha256:ab&from=x', ['ecr:InitiateLayerUpload']],
    ['upload-start', 'POST', 'digest=sha256:ab', ['ecr:InitiateLayerUpload', 'ecr:UploadLayerPart', 'ecr:CompleteLayerUpload']],
    ['upload', 'PATCH', '', ['ecr:UploadLayerPart']],
    ['upload', 'GET', '', ['ecr:UploadLayerPart']],
    ['upload', 'PUT', 'digest=sha256:ab', ['ecr:CompleteLayerUpload']],
    ['upload', 'DELETE', '', ['ecr:UploadLayerPart']],
    ['referrers', 'GET', '', ['ecr:BatchGetImage']],
  ];
  for (const [route, method, query, actions] of table) {
    it(`${method} ${route}${query ? `?${query}` : ''} → ${actions.join(', ') || 'a valid principal'}`, () => {
      assert.deepEqual(requiredActions(route, method, q(query)), actions);
    });
  }
});
