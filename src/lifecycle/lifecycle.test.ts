// The lifecycle evaluation table (cases.ts) through the same functions PutLifecyclePolicy, previews and the
// expiry job use: validateLifecyclePolicyText → evaluateLifecyclePolicy, with time injected (NOW).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isRegistryError } from '../core/errors.ts';
import { digestOf, evalCases, invalidCases, NOW, toImages } from './cases.ts';
import { evaluateLifecyclePolicy } from './evaluate.ts';
import { validateLifecyclePolicyText } from './policy.ts';

/** Policy objects as text of at least ECR's minimum length (trailing whitespace is still the same JSON). */
function text(policy: object | string): string {
  const t = typeof policy === 'string' ? policy : JSON.stringify(policy);
  return typeof policy === 'string' ? t : t.padEnd(100, ' ');
}

describe('lifecycle evaluation table', () => {
  it('has at least 40 evaluation cases and 25 invalid policies, each saying what it proves', () => {
    assert.ok(evalCases.length >= 40, `only ${evalCases.length} evaluation cases`);
    assert.ok(invalidCases.length >= 25, `only ${invalidCases.length} invalid cases`);
    for (const c of [...evalCases, ...invalidCases]) assert.ok(c.proves.length > 10, c.name);
    assert.equal(new Set(evalCases.map((c) => c.name)).size, evalCases.length, 'evaluation case names are unique');
    assert.equal(new Set(invalidCases.map((c) => c.name)).size, invalidCases.length, 'invalid case names are unique');
  });

  for (const c of evalCases) {
    it(`${c.name}: ${c.proves}`, () => {
      const policy = validateLifecyclePolicyText(text(c.policy));
      const images = toImages(c.images);
      const result = evaluateLifecyclePolicy(policy, images, NOW);
      const label = new Map(c.images.map((i) => [digestOf(i.id), i.id]));
      const explain = result.decisions.map((d) => `${label.get(d.digest)}: ${d.action} (${d.reason})`).join('\n');
      const got = Object.fromEntries(result.expired.map((d) => [label.get(d.digest)!, d.rulePriority]));
      assert.deepEqual(got, c.expect, explain);
      assert.equal(result.decisions.length, c.images.length, 'one decision per image');
      for (const d of result.decisions) {
        assert.ok(d.reason.length > 0, `${label.get(d.digest)} has a reason`);
        if (d.action === 'expire') assert.equal(typeof d.rulePriority, 'number');
      }
      if (c.order) {
        const order = result.expired.map((d) => label.get(d.digest));
        const positions = c.order.map((id) => order.indexOf(id));
        assert.ok(positions.every((p, i) => p >= 0 && (i === 0 || p > positions[i - 1]!)), `deletion order ${order.join(', ')} must have ${c.order.join(' before ')}`);
      }
      // Pure: the same input gives the same answer, and the input is left untouched.
      assert.deepEqual(evaluateLifecyclePolicy(policy, images, NOW), result);
    });
  }

  for (const c of invalidCases) {
    it(`refuses ${c.name}: ${c.proves}`, () => {
      assert.throws(() => validateLifecyclePolicyText(text(c.policy)), (e: unknown) => {
        assert.ok(isRegistryError(e), String(e));
        assert.equal(e.spec.ecr, 'InvalidParameterException');
        assert.match(e.message, /^Invalid parameter at '(LifecyclePolicyText|lifecyclePolicyText)' failed to satisfy constraint: '/);
        assert.ok(e.message.includes(c.error), `message ${JSON.stringify(e.message)} should include ${JSON.stringify(c.error)}`);
        if (e.message.startsWith("Invalid parameter at 'LifecyclePolicyText'")) assert.ok(e.message.includes("'Lifecycle policy validation failure: "), e.message);
        return true;
      });
    });
  }
});

describe('lifecycle evaluation', () => {
  it('decides every image of a large repository with each rule taking its share', () => {
    const N = 20_000;
    const list = Array.from({ length: N }, (_, i) => ({ id: `i${i}`, tags: i % 3 === 0 ? [] : [`build-${i}`, ...(i % 10 === 0 ? ['release'] : [])], pushed: (N - i) / 200 }));
    const policy = validateLifecyclePolicyText(text({
      rules: [
        { rulePriority: 1, selection: { tagStatus: 'tagged', tagPatternList: ['release'], countType: 'imageCountMoreThan', countNumber: 50 }, action: { type: 'expire' } },
        { rulePriority: 2, selection: { tagStatus: 'untagged', countType: 'sinceImagePushed', countUnit: 'days', countNumber: 30 }, action: { type: 'expire' } },
        { rulePriority: 3, selection: { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: 1000 }, action: { type: 'expire' } },
      ],
    }));
    const result = evaluateLifecyclePolicy(policy, toImages(list), NOW);
    assert.equal(result.decisions.length, N);
    // release images beyond 50 (rule 1), untagged older than 30 days (rule 2), the rest beyond the newest 1000 (rule 3).
    const byRule = new Map<number, number>();
    for (const d of result.expired) byRule.set(d.rulePriority!, (byRule.get(d.rulePriority!) ?? 0) + 1);
    const releases = list.filter((i) => i.tags.includes('release')).length;
    assert.equal(byRule.get(1), releases - 50);
    assert.ok((byRule.get(2) ?? 0) > 0 && (byRule.get(3) ?? 0) > 0);
  });
});
