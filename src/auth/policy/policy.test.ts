// Policy engine: the evaluation table (cases.ts), explanations, ECR denial wording, and parse validation.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ACCOUNT, ALICE, REPO, policyCases } from './cases.ts';
import { denialMessage, evaluate, explainDecision, parsePolicy, PolicyError, type PolicyDocument } from './index.ts';

const parseAll = (docs: object[] | undefined, kind: 'identity' | 'resource', prefix: string): PolicyDocument[] =>
  (docs ?? []).map((d, i) => parsePolicy(JSON.stringify(d), { kind, name: `${prefix}${i}` }));

describe('policy evaluation table', () => {
  it('has at least 60 cases, each saying what it proves', () => {
    assert.ok(policyCases.length >= 60, `only ${policyCases.length} cases`);
    for (const c of policyCases) assert.ok(c.proves.length > 10, c.name);
    assert.equal(new Set(policyCases.map((c) => c.name)).size, policyCases.length, 'case names are unique');
  });

  for (const c of policyCases) {
    it(`${c.name}: ${c.proves}`, () => {
      const decision = evaluate(
        { principal: c.principal ?? ALICE, action: c.action ?? 'ecr:PutImage', resource: c.resource ?? REPO, context: c.context ?? {} },
        { identity: parseAll(c.identity, 'identity', 'id'), resource: parseAll(c.resource_, 'resource', 'repo'), registry: parseAll(c.registry, 'resource', 'reg') },
      );
      const detail = explainDecision(decision).join('\n');
      assert.equal(decision.allowed, c.expect.allowed, detail);
      assert.equal(decision.reason, c.expect.reason, detail);
      if (c.expect.source) assert.equal(decision.decidedBy?.source, c.expect.source, detail);
      if (c.expect.sid) assert.equal(decision.decidedBy?.sid, c.expect.sid, detail);
      if (c.expect.missing) assert.equal(decision.missingAllowFrom, c.expect.missing, detail);
      if (decision.reason === 'implicit-deny') assert.equal(decision.decidedBy, undefined);
      else assert.ok(decision.decidedBy, 'allow and explicit deny name the deciding statement');
    });
  }
});

describe('explainDecision', () => {
  const identity = [
    parsePolicy(JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        { Sid: 'Pull', Effect: 'Allow', Action: ['ecr:BatchGetImage'], Resource: '*' },
        { Sid: 'PushFromOffice', Effect: 'Allow', Action: 'ecr:PutImage', Resource: REPO, Condition: { IpAddress: { 'aws:SourceIp': '10.0.0.0/8' } } },
      ],
    }), { name: 'Developers' }),
  ];

  it('names the allowing statement and the conditions that held', () => {
    const d = evaluate({ principal: ALICE, action: 'ecr:PutImage', resource: REPO, context: { 'aws:SourceIp': '10.0.0.5' } }, { identity });
    const lines = explainDecision(d);
    assert.equal(lines[0], 'ALLOWED by identity policy "Developers", statement "PushFromOffice"');
    assert.ok(lines.some((l) => l.includes('statement 0 (Sid "Pull") Allow: does not apply — ecr:PutImage not in Action [ecr:BatchGetImage]')), lines.join('\n'));
    assert.ok(lines.some((l) => l.includes('APPLIES') && l.includes('condition met: IpAddress aws:SourceIp ["10.0.0.0/8"] vs "10.0.0.5" → true')), lines.join('\n'));
    assert.equal(lines.at(-1), '  decision: ALLOW (by identity policy)');
  });

  it('says which condition failed when nothing allows', () => {
    const d = evaluate({ principal: ALICE, action: 'ecr:PutImage', resource: REPO, context: { 'aws:SourceIp': '192.0.2.9' } }, { identity });
    const lines = explainDecision(d);
    assert.equal(lines[0], 'DENIED implicitly: no identity-based policy statement allows the request');
    assert.ok(lines.some((l) => l.includes('condition failed: IpAddress aws:SourceIp ["10.0.0.0/8"] vs "192.0.2.9" → false')), lines.join('\n'));
  });

  it('names the denying statement of a repository policy', () => {
    const repo = parsePolicy(JSON.stringify({ Version: '2008-10-17', Statement: [{ Sid: 'ReadOnlyRepo', Effect: 'Deny', Principal: '*', Action: 'ecr:PutImage' }] }), { kind: 'resource', name: 'repository policy' });
    const d = evaluate({ principal: ALICE, action: 'ecr:PutImage', resource: REPO, context: {} }, { identity: identity.slice(0, 1), resource: [repo] });
    assert.equal(explainDecision(d)[0], 'DENIED explicitly by resource policy "repository policy", statement "ReadOnlyRepo"');
  });
});

describe('denialMessage (ECR AccessDeniedException wording)', () => {
  const req = { principal: ALICE, action: 'ecr:PutImage', resource: REPO, context: {} };
  const head = `User: ${ALICE.arn} is not authorized to perform: ecr:PutImage on resource: ${REPO}`;

  it('implicit deny: no identity-based policy allows', () => {
    const d = evaluate(req, { identity: [] });
    assert.equal(denialMessage(ALICE.arn, 'ecr:PutImage', REPO, d), `${head} because no identity-based policy allows the ecr:PutImage action`);
    assert.equal(
      denialMessage(ALICE.arn, 'ecr:PutImage', REPO, d),
      'User: arn:aws:iam::123456789012:user/alice is not authorized to perform: ecr:PutImage on resource: arn:aws:ecr:us-east-1:123456789012:repository/app because no identity-based policy allows the ecr:PutImage action',
    );
  });

  it('explicit deny in an identity-based policy', () => {
    const d = evaluate(req, { identity: [parsePolicy('{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"ecr:*","Resource":"*"}}')] });
    assert.equal(denialMessage(ALICE.arn, 'ecr:PutImage', REPO, d), `${head} with an explicit deny in an identity-based policy`);
  });

  it('explicit deny in a resource-based policy', () => {
    const d = evaluate(req, { identity: [], resource: [parsePolicy('{"Version":"2012-10-17","Statement":{"Effect":"Deny","Principal":"*","Action":"ecr:*"}}')] });
    assert.equal(denialMessage(ALICE.arn, 'ecr:PutImage', REPO, d), `${head} with an explicit deny in a resource-based policy`);
  });

  it('cross-account without a repository grant: no resource-based policy allows', () => {
    const carol = { arn: 'arn:aws:iam::210987654321:user/carol', accountId: '210987654321' };
    const d = evaluate({ ...req, principal: carol }, { identity: [parsePolicy('{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ecr:*","Resource":"*"}}')] });
    assert.equal(
      denialMessage(carol.arn, 'ecr:PutImage', REPO, d),
      `User: ${carol.arn} is not authorized to perform: ecr:PutImage on resource: ${REPO} because no resource-based policy allows the ecr:PutImage action`,
    );
  });

  it('refuses to word an allowed decision', () => {
    const d = evaluate(req, { identity: [parsePolicy('{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ecr:*","Resource":"*"}}')] });
    assert.throws(() => denialMessage(ALICE.arn, 'ecr:PutImage', REPO, d), TypeError);
  });
});

describe('parsePolicy: normalisation', () => {
  it('normalises single values to lists and canonicalises operators', () => {
    const doc = parsePolicy(JSON.stringify({
      Version: '2012-10-17',
      Id: 'p1',
      Statement: {
        Sid: 'S',
        Effect: 'Allow',
        Principal: { AWS: ACCOUNT, Service: ['codebuild.amazonaws.com'] },
        Action: 'ecr:BatchGetImage',
        Condition: { 'forallvalues:stringequalsifexists': { 'aws:TagKeys': ['a', 'b'] }, NumericLessThan: { 'ecr:n': 5 } },
      },
    }), { kind: 'resource', name: 'repo' });
    assert.equal(doc.version, '2012-10-17');
    assert.equal(doc.id, 'p1');
    assert.equal(doc.name, 'repo');
    const st = doc.statements[0]!;
    assert.deepEqual(st.principal, { AWS: [ACCOUNT], Service: ['codebuild.amazonaws.com'] });
    assert.deepEqual(st.action, ['ecr:BatchGetImage']);
    assert.equal(st.resource, undefined);
    assert.deepEqual(st.conditions[0], { operator: 'ForAllValues:StringEqualsIfExists', base: 'StringEquals', qualifier: 'ForAllValues', ifExists: true, key: 'aws:TagKeys', values: ['a', 'b'] });
    assert.deepEqual(st.conditions[1]!.values, ['5']);
  });

  it('defaults Version to 2008-10-17 and accepts every operator with IfExists', () => {
    const ops = ['StringEquals', 'StringNotEquals', 'StringEqualsIgnoreCase', 'StringNotEqualsIgnoreCase', 'StringLike', 'StringNotLike', 'ArnEquals', 'ArnLike', 'ArnNotEquals', 'ArnNotLike'];
    const Condition = Object.fromEntries(ops.map((op) => [`${op}IfExists`, { 'aws:k': 'v' }]));
    const doc = parsePolicy(JSON.stringify({ Statement: [{ Effect: 'Deny', Action: '*', Resource: '*', Condition }] }));
    assert.equal(doc.version, '2008-10-17');
    assert.equal(doc.statements[0]!.conditions.length, ops.length);
    assert.ok(doc.statements[0]!.conditions.every((c) => c.ifExists));
  });
});

// Invalid documents: each must be rejected with a message naming the problem.
const invalid: Array<[string, string, RegExp, ('identity' | 'resource')?]> = [
  ['not JSON', '{"Version":', /not valid JSON/],
  ['not an object', '[]', /must be a JSON object/],
  ['unknown top-level element', '{"Version":"2012-10-17","Statement":[],"Extra":1}', /unknown element "Extra"/],
  ['bad version', '{"Version":"2020-01-01","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}', /Version must be "2012-10-17" or "2008-10-17"/],
  ['no Statement', '{"Version":"2012-10-17"}', /missing required element Statement/],
  ['empty Statement', '{"Version":"2012-10-17","Statement":[]}', /Statement must not be empty/],
  ['missing Effect', '{"Statement":{"Action":"*","Resource":"*"}}', /missing required element Effect.*Statement\[0\]\.Effect/],
  ['bad Effect', '{"Statement":{"Effect":"allow","Action":"*","Resource":"*"}}', /Effect must be "Allow" or "Deny"/],
  ['unknown statement element', '{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Actions":"x"}}', /unknown element "Actions"/],
  ['no Action', '{"Statement":{"Effect":"Allow","Resource":"*"}}', /missing required element Action/],
  ['Action and NotAction', '{"Statement":{"Effect":"Allow","Action":"*","NotAction":"ecr:x","Resource":"*"}}', /both Action and NotAction/],
  ['action without vendor', '{"Statement":{"Effect":"Allow","Action":"PutImage","Resource":"*"}}', /must be prefaced by a vendor/],
  ['empty action list', '{"Statement":{"Effect":"Allow","Action":[],"Resource":"*"}}', /Action must not be an empty list/],
  ['Resource not an ARN', '{"Statement":{"Effect":"Allow","Action":"*","Resource":"repository/app"}}', /must be in ARN format or "\*"/],
  ['Resource and NotResource', '{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","NotResource":"*"}}', /both Resource and NotResource/],
  ['identity policy without Resource', '{"Statement":{"Effect":"Allow","Action":"*"}}', /missing required element Resource/, 'identity'],
  ['identity policy with Principal', '{"Statement":{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}}', /cannot contain Principal/, 'identity'],
  ['repository policy without Principal', '{"Statement":{"Effect":"Allow","Action":"ecr:*"}}', /missing required element Principal/, 'resource'],
  ['Principal and NotPrincipal', '{"Statement":{"Effect":"Deny","Principal":"*","NotPrincipal":{"AWS":"123456789012"},"Action":"*"}}', /both Principal and NotPrincipal/],
  ['bad principal type', '{"Statement":{"Effect":"Allow","Principal":{"User":"alice"},"Action":"*"}}', /Invalid principal type "User"/],
  ['bad AWS principal', '{"Statement":{"Effect":"Allow","Principal":{"AWS":"alice"},"Action":"*"}}', /Invalid principal in policy: "AWS":"alice"/],
  ['wildcard AWS principal ARN', '{"Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:user/*"},"Action":"*"}}', /wildcards are only allowed as "\*"/],
  ['principal as bare string', '{"Statement":{"Effect":"Allow","Principal":"123456789012","Action":"*"}}', /Principal must be "\*" or an object/],
  ['unknown condition operator', '{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEqualz":{"aws:k":"v"}}}}', /Invalid condition operator "StringEqualz".*Statement\[0\]\.Condition\.StringEqualz/],
  ['NullIfExists', '{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"NullIfExists":{"aws:k":"true"}}}}', /Null takes no IfExists/],
  ['condition key without vendor', '{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"SourceIp":"x"}}}}', /must be prefaced by a vendor.*condition key "SourceIp"/],
  ['numeric value', '{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"NumericLessThan":{"aws:n":"ten"}}}}', /not a valid number/],
  ['date value', '{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"DateLessThan":{"aws:CurrentTime":"tomorrow"}}}}', /not a valid date/],
  ['bool value', '{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"yes"}}}}', /not a valid boolean/],
  ['CIDR value', '{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/33"}}}}', /not a valid IP address or CIDR block/],
  ['object as condition value', '{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"aws:k":{"a":1}}}}}', /must be strings, numbers or booleans/],
  ['empty condition block', '{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{}}}}', /must map condition keys to values/],
];

describe('parsePolicy: invalid documents', () => {
  for (const [name, json, message, kind] of invalid) {
    it(`rejects ${name}`, () => {
      assert.throws(() => parsePolicy(json, kind ? { kind } : {}), (e: unknown) => {
        assert.ok(e instanceof PolicyError, `expected PolicyError, got ${String(e)}`);
        assert.match(e.message, message);
        return true;
      });
    });
  }

  it('rejects documents over the size limit', () => {
    const big = JSON.stringify({ Version: '2012-10-17', Statement: { Effect: 'Allow', Action: '*', Resource: '*', Sid: 'x'.repeat(11_000) } });
    assert.throws(() => parsePolicy(big), /longer than 10240 characters/);
    assert.doesNotThrow(() => parsePolicy(big, { maxLength: 20_000 }));
  });
});
