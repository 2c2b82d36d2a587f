// A real FHIR client library (fhir-kit-client) reads the CapabilityStatement and resolves every
// OperationDefinition it declares, then creates, reads, updates, version-reads and deletes
// through carnet. Usage: node client_test.mjs BASE_URL. Exit code 0 when all passed.
import { CapabilityTool, Client } from 'fhir-kit-client';
import assert from 'node:assert/strict';

const baseUrl = process.argv[2];
// carnet admits no anonymous request: the token comes from the harness (third argument).
const token = process.argv[3];
const client = new Client({ baseUrl, bearerToken: token });
let passed = 0;
let failed = 0;

async function check(name, fn) {
  try {
    await fn();
    passed++;
    console.log(`ok - ${name}`);
  } catch (e) {
    failed++;
    console.log(`not ok - ${name}: ${e.message || e}`);
  }
}

let id;
await check('capabilities', async () => {
  const cs = await client.capabilityStatement();
  assert.equal(cs.resourceType, 'CapabilityStatement');
  assert.equal(cs.fhirVersion, '4.0.1');
});
// Issue 19: every operation the CapabilityStatement declares (per type and system-wide) names
// the canonical URL of its OperationDefinition, which the client resolves.
await check('operation definitions resolve', async () => {
  const cs = await client.capabilityStatement();
  const tool = new CapabilityTool(cs);
  const declared = new Map();  // definition URL -> the operation name declared with it
  for (const res of tool.serverCapabilities().resource) {
    const ops = tool.capabilityContents({ resourceType: res.type, capabilityType: 'operation' }) || [];
    for (const op of ops) declared.set(op.definition, op.name);
  }
  for (const op of tool.serverCapabilities().operation || []) declared.set(op.definition, op.name);
  for (const name of ['deposit', 'block', 'unblock', 'treating-physician', 'meta-add', 'meta-delete',
    'emergency-access', 'notification-preferences', 'close', 'oppose', 'reactivate', 'everything', 'validate']) {
    assert.ok([...declared.values()].includes(name), `$${name} is not declared`);
  }
  for (const [definition, name] of declared) {
    assert.ok(definition.startsWith(`${baseUrl}/OperationDefinition/`), definition);
    const od = await client.resolve({ reference: definition });
    assert.equal(od.resourceType, 'OperationDefinition');
    assert.equal(od.url, definition);
    assert.equal(od.code, name);
    for (const p of od.parameter || []) {
      assert.ok(p.name && p.use && p.max && (p.type || p.part) && p.documentation, `${od.id} parameter ${p.name}`);
      assert.equal(typeof p.min, 'number');
    }
  }
  const found = await client.search({ resourceType: 'OperationDefinition', searchParams: { code: 'deposit' } });
  assert.equal(found.entry[0].resource.id, 'DocumentReference-deposit');
  const read = await client.read({ resourceType: 'OperationDefinition', id: 'Patient-everything' });
  assert.equal(read.base, 'http://hl7.org/fhir/OperationDefinition/Patient-everything');
});
await check('create', async () => {
  const created = await client.create({
    resourceType: 'Patient',
    body: { resourceType: 'Patient', name: [{ family: 'Lefebvre', given: ['Anne'] }], birthDate: '1985-06-01' },
  });
  assert.equal(created.resourceType, 'Patient');
  assert.ok(created.id);
  assert.equal(created.meta.versionId, '1');
  id = created.id;
});
await check('read', async () => {
  const p = await client.read({ resourceType: 'Patient', id });
  assert.equal(p.name[0].family, 'Lefebvre');
});
await check('update', async () => {
  const p = await client.read({ resourceType: 'Patient', id });
  p.birthDate = '1985-06-02';
  const updated = await client.update({ resourceType: 'Patient', id, body: p });
  assert.equal(updated.meta.versionId, '2');
  assert.equal(updated.birthDate, '1985-06-02');
});
await check('vread', async () => {
  const v1 = await client.vread({ resourceType: 'Patient', id, version: '1' });
  assert.equal(v1.birthDate, '1985-06-01');
});
await check('history', async () => {
  const h = await client.history({ resourceType: 'Patient', id });
  assert.equal(h.type, 'history');
  assert.equal(h.entry.length, 2);
});
await check('delete', async () => {
  await client.delete({ resourceType: 'Patient', id });
  await assert.rejects(client.read({ resourceType: 'Patient', id }), (e) => e.response && e.response.status === 410);
});
await check('transaction', async () => {
  const r = await client.transaction({
    body: {
      resourceType: 'Bundle', type: 'transaction',
      entry: [{ fullUrl: 'urn:uuid:0b7e7a5a-1111-4c8e-9c1a-3f1f8f0a0001', resource: { resourceType: 'Patient', active: true },
                request: { method: 'POST', url: 'Patient' } }],
    },
  });
  assert.equal(r.type, 'transaction-response');
  assert.match(r.entry[0].response.status, /^201/);
});

await check('search paging to the end', async () => {
  const family = `Paging${Date.now()}`;
  for (let i = 0; i < 23; i++) {
    await client.create({ resourceType: 'Patient', body: { resourceType: 'Patient', name: [{ family, given: [`n${i}`] }] } });
  }
  let bundle = await client.search({ resourceType: 'Patient', searchParams: { family, _count: 10 } });
  const seen = new Set();
  let pages = 0;
  while (bundle) {
    pages++;
    for (const e of bundle.entry || []) seen.add(e.resource.id);
    bundle = await client.nextPage({ bundle });
    if (pages > 10) throw new Error('too many pages');
  }
  assert.equal(seen.size, 23);
  assert.equal(pages, 3);
});

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
