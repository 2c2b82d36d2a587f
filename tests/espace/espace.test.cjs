// The patient's web space end to end (issue 18), run by tests/espace/run.sh: a live gateway,
// a record seeded through the FHIR API, Debian's chromium driven by playwright-core, axe-core
// on every page (no serious or critical violation), screenshots at 375 px and 1280 px.
'use strict';
const { chromium } = require('playwright-core');
const { default: AxeBuilder } = require('@axe-core/playwright');
const { spawn, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const assert = require('node:assert/strict');

const BUILD = process.env.CARNET_BUILD_DIR;
const SRC = process.env.CARNET_SOURCE_DIR;
const OUT = path.join(BUILD, 'test-output', 'espace');
const GATEWAY = path.join(BUILD, 'carnet-gateway');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const started = Date.now();

function log(msg) {
  console.log(`[espace ${((Date.now() - started) / 1000).toFixed(1)}s] ${msg}`);
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

const keys = fs.mkdtempSync(path.join(os.tmpdir(), 'carnet-espace-keys-'));
function token(args) {
  const out = execFileSync(GATEWAY, ['token', '--data', keys, ...args], { encoding: 'utf8' });
  return out.trim().split('\n').pop();
}

let base = '';
async function api(method, url, tok, body, headers = {}) {
  const h = { Accept: 'application/fhir+json', ...headers };
  if (tok) h.Authorization = 'Bearer ' + tok;
  if (body !== undefined && typeof body !== 'string' && !Buffer.isBuffer(body)) {
    body = JSON.stringify(body);
    h['Content-Type'] = h['Content-Type'] || 'application/fhir+json';
  }
  const res = await fetch(base + '/fhir/' + url, { method, headers: h, body });
  const text = await res.text();
  let json = null;
  try {
    json = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: res.status, json, text };
}
async function must(method, url, tok, body, headers) {
  const r = await api(method, url, tok, body, headers);
  if (r.status >= 300) throw new Error(`${method} ${url}: ${r.status} ${r.text.substring(0, 500)}`);
  return r.json;
}

// A run-specific INS (13 digits) so that a reused test database never mixes two runs.
const run = String(Date.now()).slice(-9);
const INS_ADULT = '27' + run + '01';
const INS_CHILD = '18' + run + '02';
const RPPS_DOCTOR = '8100' + run.slice(-8);
const RPPS_TREATING = '8200' + run.slice(-8);
const RPPS_SYSTEM = 'urn:oid:1.2.250.1.71.4.2.1';

function cda(name, mutate) {
  let xml = fs.readFileSync(path.join(SRC, '..', 'shared', 'testdata', 'cda', 'ci-sis', name), 'utf8');
  xml = xml.split('279035121518989').join(INS_ADULT);
  xml = xml.split('1.2.250.1.213.1.1.1.55.2024.9').join('1.2.250.1.213.1.1.1.55.' + run + '.9');
  return mutate ? mutate(xml) : xml;
}

// A one-page PDF with real text.
function pdf(text) {
  const objs = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>',
    null,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
  ];
  const stream = `BT /F1 18 Tf 72 760 Td (${text}) Tj ET`;
  objs[3] = `<< /Length ${stream.length} >>\nstream\n${stream}\nendstream`;
  let out = '%PDF-1.4\n';
  const offsets = [];
  objs.forEach((o, i) => {
    offsets.push(out.length);
    out += `${i + 1} 0 obj\n${o}\nendobj\n`;
  });
  const xref = out.length;
  out += `xref\n0 ${objs.length + 1}\n0000000000 65535 f \n`;
  for (const o of offsets) out += String(o).padStart(10, '0') + ' 00000 n \n';
  out += `trailer\n<< /Size ${objs.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, 'latin1');
}

function entries(bundle) {
  return (bundle?.entry || []).map((e) => e.resource).filter((r) => r && r.resourceType !== 'OperationOutcome');
}

const violations = [];
let current = null; // the page being driven: screenshot and script errors on failure
const pageErrors = [];
async function check(page, name) {
  // The sandboxed document frame runs no script, so axe cannot enter it: it is checked for
  // its title (frame-title) from the outside, and its content is the sanitised narrative.
  const result = await new AxeBuilder({ page })
    .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'])
    .exclude('iframe.viewer')
    .analyze();
  const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  for (const v of bad) violations.push(`${name}: ${v.id} (${v.impact}) ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', ')}`);
  for (const [w, h] of [[375, 812], [1280, 900]]) {
    await page.setViewportSize({ width: w, height: h });
    await page.screenshot({ path: path.join(OUT, `${name}-${w}.png`), fullPage: true });
  }
  await page.setViewportSize({ width: 1280, height: 900 });
  log(`page ${name}: axe ${bad.length ? bad.length + ' serious/critical' : 'clean'}, screenshots`);
}

async function main() {
  fs.mkdirSync(OUT, { recursive: true });
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  const gw = spawn(GATEWAY, ['serve', '--port', String(port), '--db', process.env.CARNET_TEST_DB, '--data', keys,
    '--trust-dev-key', 'true', '--dev-login', 'true', '--espace-dir', path.join(BUILD, 'espace'), '--reminder-interval-s', '0'],
  { stdio: ['ignore', fs.openSync(path.join(OUT, 'gateway.log'), 'w'), fs.openSync(path.join(OUT, 'gateway.err'), 'w')] });
  let browser;
  try {
    for (let i = 0; ; i++) {
      try {
        if ((await fetch(base + '/readyz')).status === 200) break;
      } catch {
        /* not yet */
      }
      if (i > 200) throw new Error('the gateway did not become ready (build/test-output/espace/gateway.*)');
      await new Promise((r) => setTimeout(r, 100));
    }
    log('gateway ready on ' + base);

    // --- The record, as a hospital system and a laboratory would fill it.
    const system = token(['--actor', 'system', '--id', 'espace-seed', '--client-id', 'espace-seed', '--scope', 'system/*.cruds']);
    const adult = await must('POST', 'Patient', system, {
      resourceType: 'Patient', identifier: [{ system: 'urn:oid:1.2.250.1.213.1.4.10', value: INS_ADULT }],
      name: [{ family: 'Martin', given: ['Camille'] }], gender: 'female', birthDate: '1985-03-14',
    });
    const child = await must('POST', 'Patient', system, {
      resourceType: 'Patient', identifier: [{ system: 'urn:oid:1.2.250.1.213.1.4.8', value: INS_CHILD }],
      name: [{ family: 'Martin', given: ['Léo'] }], gender: 'male', birthDate: '2018-06-02',
    });
    const lab = await must('POST', 'DocumentReference/$deposit', system, cda('BIO-CR-BIO_2024.01_TSH_1.xml'), { 'Content-Type': 'application/xml' });
    const hostileNarrative =
      '<paragraph>Résultat piégé<script>window.parent.__pwned = "script"; fetch("http://evil.example/s")</script>' +
      '<img src="http://evil.example/pixel.png" onerror="window.parent.__pwned = \'onerror\'"/>' +
      '<content onmouseover="window.parent.__pwned = \'handler\'" style="background:url(http://evil.example/bg.png)">survol</content>' +
      '<linkHtml href="javascript:window.parent.__pwned=1">lien</linkHtml>' +
      '<iframe src="http://evil.example/frame"/><style>@import url(http://evil.example/x.css);</style></paragraph>';
    const hostile = await must('POST', 'DocumentReference/$deposit', system,
      cda('BIO-CR-BIO_2024.01_TSH_1.xml', (x) => x.split('1.2.250.1.213.1.1.1.55.' + run + '.9').join('1.2.250.1.213.1.1.1.55.' + run + '.8')
        .replace(/(<title>BIOCHIMIE<\/title>[\s\S]*?<text>)/, `$1${hostileNarrative}`)),
      { 'Content-Type': 'application/xml' });
    const childDoc = await must('POST',
      `DocumentReference/$deposit?patient=${encodeURIComponent('urn:oid:1.2.250.1.213.1.4.8|' + INS_CHILD)}&type=11369-6&title=${encodeURIComponent('Carnet de vaccination de Léo')}&date=2024-09-01`,
      system, pdf('Carnet de vaccination'), { 'Content-Type': 'application/pdf' });
    await must('POST', 'CareTeam', system, {
      resourceType: 'CareTeam', status: 'active', name: 'Suivi thyroïdien', subject: { reference: `Patient/${adult.id}` },
      participant: [{ role: [{ text: 'Endocrinologue' }], member: { display: 'Dr Claire Durand' } }],
    });
    // The doctor is in the care team by their RPPS: they may write to the patient.
    await must('POST', 'CareTeam', system, {
      resourceType: 'CareTeam', status: 'active', name: 'Médecine générale', subject: { reference: `Patient/${adult.id}` },
      participant: [{ member: { identifier: { system: RPPS_SYSTEM, value: RPPS_DOCTOR }, display: 'Dr Jérôme Dupré' } }],
    });
    // A professional's entry in the profile: the patient may hide it, not correct or delete it.
    const proAllergy = await must('POST', 'AllergyIntolerance', system, {
      resourceType: 'AllergyIntolerance', patient: { reference: `Patient/${adult.id}` }, code: { text: 'Pénicilline' },
      clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical', code: 'active' }] },
    });
    const patientApi = token(['--actor', 'patient', '--id', 'patient-' + INS_ADULT, '--patient', INS_ADULT]);
    await must('POST', `Patient/${adult.id}/$treating-physician`, patientApi,
      { resourceType: 'Parameters', parameter: [{ name: 'actor', valueString: RPPS_TREATING }] });
    const doctor = token(['--actor', 'professional', '--id', RPPS_DOCTOR, '--profession', '10', '--org', 'CH-Lyon', '--consent']);
    assert.equal((await api('GET', `DocumentReference/${lab.id}`, doctor)).status, 200, 'the doctor reads the lab report');
    log(`seeded: Patient/${adult.id} (child ${child.id}), lab ${lab.id}, hostile ${hostile.id}, child's ${childDoc.id}`);

    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--lang=fr-FR'] });
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'fr-FR' });
    const page = await context.newPage();
    // Every network request the pages make; the browser's own PDF viewer (chrome-extension:),
    // data: and blob: URLs are not another site.
    const outside = [];
    page.on('request', (r) => {
      const u = r.url();
      if (/^(https?|wss?|ftp):/i.test(u) && !u.startsWith(base + '/')) outside.push(u);
    });
    const consoleErrors = pageErrors;
    page.on('pageerror', (e) => consoleErrors.push(String(e)));
    current = page;

    // --- 1. Log in as the patient; home shows what is new.
    await page.goto(base + '/espace/');
    await page.getByRole('heading', { name: 'Connexion à Mon espace santé' }).waitFor();
    await check(page, '01-connexion');
    await page.getByLabel(/Votre INS/).fill('12ab');
    await page.getByRole('button', { name: 'Se connecter' }).click();
    await page.getByText('un INS compte 13 à 15 chiffres').waitFor();
    await page.getByLabel(/Votre INS/).fill(INS_ADULT);
    await page.getByRole('button', { name: 'Se connecter' }).click();
    await page.getByRole('heading', { name: 'Bonjour' }).waitFor();
    await page.getByRole('link', { name: "Compte rendu d'examens biologiques" }).first().waitFor();
    await page.getByText(`Professionnel de santé ${RPPS_DOCTOR}`).first().waitFor();
    // The reminders due now, as the API's $agenda says them (screenings by their French label).
    const agendaNow = (await api('GET', `Patient/${adult.id}/$agenda`, patientApi)).json || {};
    const dueNow = (agendaNow.entry || []).map((e) => e.resource).filter((r) => r && r.resourceType === 'ServiceRequest' &&
      r.status !== 'completed' && (r.extension || []).some((x) => /reminder-status$/.test(x.url) && ['due', 'overdue'].includes(x.valueCode || x.valueCoding?.code)));
    const reminderCard = page.locator('section[aria-labelledby="h-rappels"]');
    await reminderCard.getByRole('link', { name: 'Votre agenda' }).waitFor();
    await reminderCard.locator('ul, p', { hasText: /Aucun rappel à faire|—/ }).first().waitFor();
    for (const r of dueNow) await reminderCard.getByText(r.code.text).first().waitFor();
    if (!dueNow.length) await reminderCard.getByText('Aucun rappel à faire.').waitFor();
    log(`home: ${dueNow.length} screening reminder(s) due shown`);
    assert.equal(await page.evaluate(() => localStorage.getItem('espace.token')), null, 'no token in localStorage');
    assert.ok(!page.url().includes('ey'), 'no token in the URL');
    await check(page, '02-accueil');

    // --- 2. Documents: by category, search; open the lab report (CDA narrative, sanitised).
    await page.getByRole('link', { name: 'Documents', exact: true }).click();
    await page.getByRole('heading', { name: 'Comptes rendus' }).waitFor();
    await page.getByRole('heading', { name: 'Vaccinations' }).waitFor({ state: 'detached', timeout: 1000 }).catch(() => {});
    await page.getByLabel('Rechercher dans les documents').fill('thyréostimuline');
    await page.getByRole('button', { name: 'Rechercher' }).click();
    await page.getByRole('link', { name: "Compte rendu d'examens biologiques" }).first().waitFor();
    await page.getByLabel('Rechercher dans les documents').fill('introuvablexyz');
    await page.getByRole('button', { name: 'Rechercher' }).click();
    await page.getByText('Aucun document ne contient « introuvablexyz ».').waitFor();
    await page.getByLabel('Rechercher dans les documents').fill('');
    await page.getByRole('button', { name: 'Rechercher' }).click();
    await page.getByRole('heading', { name: 'Comptes rendus' }).waitFor();
    await check(page, '03-documents');

    await page.goto(base + `/espace/#/documents/${lab.id}`);
    await page.getByRole('heading', { name: 'Qui a consulté ou ajouté ce document' }).waitFor();
    const frame = page.frameLocator('iframe.viewer');
    await page.locator('iframe.viewer').waitFor();
    await frame.getByText('BIOCHIMIE').first().waitFor();
    await page.locator('#acces-document').getByText(RPPS_DOCTOR).first().waitFor();
    await check(page, '04-document');

    // Mask it: a doctor no longer finds it, by id or by search; unmask: back.
    await page.getByRole('button', { name: 'Masquer aux professionnels' }).click();
    await page.getByText('Le document est maintenant masqué aux professionnels de santé.').waitFor();
    await page.locator('#visibilite', { hasText: 'Masqué' }).waitFor();
    assert.equal((await api('GET', `DocumentReference/${lab.id}`, doctor)).status, 404, 'masked: the doctor gets 404');
    const search = await must('GET', `DocumentReference?patient=${adult.id}&_summary=count`, doctor);
    const visibleWhileMasked = search.total;
    await page.getByRole('button', { name: 'Rendre visible aux professionnels' }).click();
    await page.getByText('Le document est de nouveau visible').waitFor();
    assert.equal((await api('GET', `DocumentReference/${lab.id}`, doctor)).status, 200, 'unmasked: the doctor reads it again');
    const after = await must('GET', `DocumentReference?patient=${adult.id}&_summary=count`, doctor);
    assert.equal(after.total, visibleWhileMasked + 1, 'the masked document was not counted for the doctor');
    log('mask/unmask checked through the API as the doctor');

    // The hostile narrative: nothing executes, nothing is loaded from outside.
    await page.goto(base + `/espace/#/documents/${hostile.id}`);
    await frame.getByText('Résultat piégé').waitFor();
    await page.waitForTimeout(500);
    assert.equal(await page.evaluate(() => window.__pwned), undefined, 'no script of the document ran');
    const viewer = page.locator('iframe.viewer');
    assert.equal(await viewer.getAttribute('sandbox'), '', 'the document frame is sandboxed without scripts');
    const srcdoc = await viewer.getAttribute('srcdoc');
    for (const bad of ['<script', 'onerror', 'onmouseover', 'evil.example', 'javascript:', '<img', '<iframe', '<style'])
      assert.ok(!srcdoc.toLowerCase().includes(bad), `the sanitised narrative holds no ${bad}`);
    await frame.getByText('survol').hover();
    assert.equal(await page.evaluate(() => window.__pwned), undefined, 'no event handler ran');
    await check(page, '05-document-hostile');

    // Upload: a wrong type is refused in words; a PDF is filed and opened.
    await page.goto(base + '/espace/#/documents/envoyer');
    await page.getByRole('heading', { name: 'Ajouter un document' }).waitFor();
    await page.getByText('20 Mo au plus').first().waitFor();
    await check(page, '06-envoyer');
    await page.getByLabel(/^Fichier/).setInputFiles({ name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('x') });
    await page.getByLabel('Titre').fill('Notes');
    await page.getByRole('button', { name: 'Envoyer le document' }).click();
    await page.getByText('Ce type de fichier n’est pas accepté').waitFor();
    await page.getByLabel(/^Fichier/).setInputFiles({ name: 'ordonnance.pdf', mimeType: 'application/pdf', buffer: pdf('Ordonnance du docteur Durand') });
    await page.getByLabel('Type de document').selectOption('57833-6');
    await page.getByLabel('Titre').fill('Ordonnance du Dr Durand');
    await page.getByLabel('Date du document').fill('2026-11-20');
    await page.getByRole('button', { name: 'Envoyer le document' }).click();
    await page.getByRole('heading', { name: 'Ordonnance du Dr Durand' }).waitFor();
    await page.locator('iframe.viewer[title^="Document PDF"]').waitFor();
    const mine = await must('GET', `DocumentReference?patient=${adult.id}&_count=50`, patientApi);
    assert.ok(JSON.stringify(mine).includes('Ordonnance du Dr Durand'), 'the upload is in the record');
    log('upload filed');

    // --- 3. Professionals: block the doctor (then 404 through the API), the treating
    // physician's refusal explained.
    await page.getByRole('link', { name: 'Professionnels' }).click();
    await page.getByRole('heading', { name: 'Votre équipe de soins' }).waitFor();
    await page.getByText('Dr Claire Durand — Endocrinologue').waitFor();
    await page.getByLabel('Numéro', { exact: true }).fill(RPPS_DOCTOR);
    await page.getByRole('button', { name: 'Bloquer', exact: true }).click();
    await page.getByText(`Le professionnel ${RPPS_DOCTOR} ne peut plus accéder à votre dossier.`).waitFor();
    assert.equal((await api('GET', `DocumentReference/${lab.id}`, doctor)).status, 404, 'blocked: the doctor gets 404');
    await page.getByRole('button', { name: 'Débloquer', exact: true }).click();
    await page.getByText(`Le professionnel ${RPPS_DOCTOR} peut de nouveau accéder à votre dossier.`).waitFor();
    assert.equal((await api('GET', `DocumentReference/${lab.id}`, doctor)).status, 200, 'unblocked: the doctor reads again');
    await page.getByLabel('Numéro', { exact: true }).fill(RPPS_TREATING);
    await page.getByRole('button', { name: 'Bloquer', exact: true }).click();
    await page.getByText('Vous ne pouvez pas bloquer votre médecin traitant').waitFor();
    await check(page, '07-professionnels');

    // --- 4. Access history: the doctor's read, paged, filtered.
    await page.getByRole('link', { name: 'Historique des accès' }).click();
    await page.getByRole('table').waitFor();
    await page.getByRole('cell', { name: `Professionnel de santé ${RPPS_DOCTOR}` }).first().waitFor();
    await page.getByRole('cell', { name: 'Médecin' }).first().waitFor();
    await check(page, '08-historique');
    assert.ok(await page.getByRole('button', { name: 'Page suivante' }).isEnabled(), 'more than one page of accesses');
    await page.getByRole('button', { name: 'Page suivante' }).click();
    await page.getByRole('button', { name: 'Page précédente' }).and(page.locator(':enabled')).waitFor();
    await page.getByLabel('Du').fill('2000-01-01');
    await page.getByLabel('Au').fill('2000-01-02');
    await page.getByRole('button', { name: 'Filtrer' }).click();
    await page.getByText('Aucun accès ne correspond.').waitFor();
    await page.getByLabel('Du').fill(new Date().toISOString().substring(0, 10));
    await page.getByLabel('Au').fill('');
    await page.getByLabel('Professionnel (numéro RPPS)').fill(RPPS_DOCTOR);
    await page.getByRole('button', { name: 'Filtrer' }).click();
    await page.getByRole('cell', { name: `Professionnel de santé ${RPPS_DOCTOR}` }).first().waitFor();
    const whoCells = await page.locator('table.history tbody tr td:first-child').allTextContents();
    assert.ok(whoCells.length > 0 && whoCells.every((t) => t.includes(RPPS_DOCTOR)), 'the filter keeps the doctor only: ' + whoCells.join(' | '));
    log('history checked');

    // --- 5. Messages: the doctor writes (with an attachment and a text that looks like HTML),
    // the patient reads it (marked read), answers, and files the attachment into the record.
    const writer = token(['--actor', 'professional', '--id', RPPS_DOCTOR, '--profession', '10', '--org', 'CH-Lyon',
      '--given', 'Jérôme', '--family', 'Dupré']);
    const letter = 'Compte rendu de consultation : TSH normale.';
    const sent = await must('POST', 'Communication', writer, {
      resourceType: 'Communication', status: 'completed', subject: { reference: `Patient/${adult.id}` },
      sender: { identifier: { system: RPPS_SYSTEM, value: RPPS_DOCTOR }, display: 'Dr Jérôme Dupré' },
      recipient: [{ reference: `Patient/${adult.id}` }], topic: { text: 'Résultats de votre bilan' },
      payload: [
        { contentString: 'Bonjour, vos résultats sont normaux. <img src=x onerror="window.__pwned=\'message\'">' },
        { contentAttachment: { contentType: 'text/plain', title: 'Compte rendu', data: Buffer.from(letter).toString('base64') } },
      ],
    });
    await page.getByRole('link', { name: 'Accueil', exact: true }).click();
    await page.locator('#h-messages').waitFor();
    await page.getByRole('link', { name: 'Résultats de votre bilan' }).waitFor();
    await page.getByRole('link', { name: 'Messages', exact: true }).click();
    await page.getByRole('heading', { name: 'Messages', exact: true }).waitFor();
    await page.getByRole('link', { name: 'Résultats de votre bilan' }).waitFor();
    await page.getByText('Non lu', { exact: true }).waitFor();
    await check(page, '09-messages');
    await page.getByRole('link', { name: 'Résultats de votre bilan' }).click();
    await page.getByText('Bonjour, vos résultats sont normaux. <img src=x', { exact: false }).waitFor();
    assert.equal(await page.evaluate(() => window.__pwned), undefined, 'a message text is shown as text');
    await page.getByText(/lu le /).waitFor();
    assert.ok((await must('GET', `Communication/${sent.id}`, writer)).received, 'opened: the message is marked read');
    await page.getByLabel(/Votre réponse à Dr Jérôme Dupré/).fill('Merci docteur, à bientôt.');
    await page.getByRole('button', { name: 'Envoyer la réponse' }).click();
    await page.getByText('Votre réponse est envoyée.').waitFor();
    await page.getByText('Merci docteur, à bientôt.').waitFor();
    await page.getByRole('button', { name: 'Classer « Compte rendu » dans mes documents' }).click();
    await page.getByText('La pièce jointe « Compte rendu » est classée dans vos documents.').waitFor();
    await check(page, '09-message');
    const box = entries(await must('GET', `Communication?patient=${adult.id}&_count=50`, writer));
    assert.ok(box.some((m) => (m.inResponseTo || []).some((r) => r.reference === `Communication/${sent.id}`) &&
      JSON.stringify(m.payload).includes('Merci docteur')), 'the doctor finds the answer in the thread');
    const docs = entries(await must('GET', `DocumentReference?patient=${adult.id}&_count=100`, patientApi));
    const filedDoc = docs.find((d) => JSON.stringify(d.context || {}).includes(`Communication/${sent.id}`));
    assert.ok(filedDoc, 'the attachment is a DocumentReference of the record, linked to the message');
    log('messages: read, answered, attachment filed');

    // --- 5a. Messages (issue 18, page18b): an attachment opened before it is filed; a new
    // conversation with a PDF attached, to a care-team doctor chosen in the list, read by the
    // doctor through the API with the same bytes; a wrong type refused in words; more than 50
    // messages paged ("Afficher les messages plus anciens").
    await page.goto(base + `/espace/#/messages/${sent.id}`);
    await page.getByRole('button', { name: 'Ouvrir « Compte rendu »' }).click();
    await page.getByLabel('Contenu de « Compte rendu »').getByText(letter).waitFor();
    await page.getByRole('link', { name: 'Retour aux messages' }).click();
    await page.getByRole('link', { name: 'Écrire un nouveau message' }).click();
    await page.getByRole('heading', { name: 'Nouveau message' }).waitFor();
    const recipientOption = page.getByLabel('Destinataire').locator('option', { hasText: 'Dr Jérôme Dupré' });
    assert.match(await recipientOption.textContent(), /équipe de soins « Médecine générale », vous a écrit/);
    // The declared treating physician is offered too (read back by $record-settings).
    const treatingOption = page.getByLabel('Destinataire').locator('option', { hasText: RPPS_TREATING });
    assert.match(await treatingOption.textContent(), /médecin traitant/);
    await page.getByLabel('Destinataire').selectOption(`${RPPS_SYSTEM}|${RPPS_DOCTOR}`);
    await page.getByLabel('Objet').fill('Question sur mon ordonnance');
    await page.getByLabel('Message', { exact: true }).fill('Bonjour docteur, voici l’ordonnance dont je vous parlais.');
    await page.getByLabel(/^Pièces jointes/).setInputFiles({ name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('x') });
    await page.getByRole('button', { name: 'Envoyer le message' }).click();
    await page.getByText('« notes.txt » n’est pas accepté : joignez un PDF, une image JPEG ou PNG.').waitFor();
    await check(page, '09e-nouveau-message');
    const question = pdf('Ordonnance de Camille Martin');
    await page.getByLabel(/^Pièces jointes/).setInputFiles({ name: 'ordonnance-camille.pdf', mimeType: 'application/pdf', buffer: question });
    await page.getByRole('button', { name: 'Envoyer le message' }).click();
    await page.getByRole('heading', { name: 'Question sur mon ordonnance' }).waitFor();
    await page.getByRole('button', { name: 'Ouvrir « ordonnance-camille.pdf »' }).click();
    await page.locator('iframe.viewer[title="Pièce jointe PDF : ordonnance-camille.pdf"]').waitFor();
    await check(page, '09f-message-envoye');
    const inbox = entries(await must('GET', `Communication?patient=${adult.id}&_count=50&_sort=-sent`, writer));
    const asked = inbox.find((m) => m.topic?.text === 'Question sur mon ordonnance');
    assert.ok(asked, 'the doctor finds the patient\'s new message');
    assert.equal(asked.sender?.reference, `Patient/${adult.id}`, 'sent by the patient');
    assert.equal(asked.recipient?.[0]?.identifier?.value, RPPS_DOCTOR, 'to the chosen doctor');
    const pdfPart = (asked.payload || []).find((p) => p.contentAttachment)?.contentAttachment;
    assert.equal(pdfPart?.contentType, 'application/pdf');
    assert.ok(Buffer.from(pdfPart.data, 'base64').equals(question), 'the doctor reads the very PDF the patient attached');
    assert.ok(JSON.stringify(asked.payload).includes('voici l’ordonnance'), 'with its text');
    // Paging: 52 more messages from the doctor; the page shows 50, then the older ones.
    for (let i = 0; i < 52; i++)
      await must('POST', 'Communication', writer, {
        resourceType: 'Communication', status: 'completed', subject: { reference: `Patient/${adult.id}` },
        sender: { identifier: { system: RPPS_SYSTEM, value: RPPS_DOCTOR }, display: 'Dr Jérôme Dupré' },
        recipient: [{ reference: `Patient/${adult.id}` }], topic: { text: `Information ${String(i).padStart(2, '0')}` },
        payload: [{ contentString: 'Message d’information.' }],
      });
    await page.getByRole('link', { name: 'Retour aux messages' }).click();
    await page.getByText('50 messages affichés, les plus récents d’abord.').waitFor();
    assert.equal(await page.getByRole('link', { name: 'Question sur mon ordonnance' }).count(), 0, 'older than the first 50');
    await page.getByRole('button', { name: 'Afficher les messages plus anciens' }).click();
    await page.getByRole('link', { name: 'Question sur mon ordonnance' }).waitFor();
    await page.getByRole('link', { name: 'Résultats de votre bilan' }).waitFor();
    await page.getByRole('button', { name: 'Afficher les messages plus anciens' }).waitFor({ state: 'detached' });
    await page.getByRole('link', { name: 'Information 00' }).waitFor();
    // An old conversation opens from its link although it is beyond the first page.
    await page.getByRole('link', { name: 'Résultats de votre bilan' }).click();
    await page.getByText('Merci docteur, à bientôt.').waitFor();
    log('messages: attachment opened, new conversation with a PDF read by the doctor, 55 messages paged');

    // --- 5b. Applications: the operator references an app; the patient sees it; the app's
    // /oauth/authorize sends the browser to the web space (#/autoriser), where the signed-in
    // patient unticks one scope and approves; the code comes back to the app's redirect URI, the
    // app exchanges it (PKCE) and reads with its token what was granted, not what was unticked;
    // the patient revokes it on the Applications page and the app's token is refused.
    const operator = token(['--actor', 'operator', '--id', 'ops-espace']);
    const clientId = 'suivi-tension-' + run;
    const redirect = base + '/cb';
    const reg = await fetch(base + '/apps', {
      method: 'POST', headers: { Authorization: 'Bearer ' + operator, 'Content-Type': 'application/json' },
      body: JSON.stringify({ client_id: clientId, name: 'Suivi tension ' + run, publisher: 'Éditeur Santé SAS',
        description: 'Vos mesures de tension, en courbes.', category: 'suivi des maladies chroniques',
        redirect_uris: [redirect], scope: 'launch/patient patient/Patient.rs patient/Observation.rs', client_type: 'public' }),
    });
    assert.equal(reg.status, 201, 'the operator registers the app: ' + (await reg.text()).substring(0, 300));
    await page.getByRole('link', { name: 'Applications', exact: true }).click();
    await page.getByRole('heading', { name: 'Suivi tension ' + run }).waitFor();
    await page.getByText('Vous n’avez autorisé aucune application.').waitFor();
    await page.getByText('Ce qu’elle peut demander').first().click();
    await page.getByText('lire, rechercher : vos mesures et résultats').first().waitFor();
    await check(page, '09c-applications');
    const verifier = require('node:crypto').randomBytes(32).toString('base64url');
    const challenge = require('node:crypto').createHash('sha256').update(verifier).digest('base64url');
    const authorize = base + '/oauth/authorize?' + new URLSearchParams({
      response_type: 'code', client_id: clientId, redirect_uri: redirect, scope: 'launch/patient patient/Patient.rs patient/Observation.rs',
      state: 'etat-' + run, code_challenge: challenge, code_challenge_method: 'S256',
    });
    await page.goto(authorize);
    await page.getByRole('heading', { name: 'Autoriser une application' }).waitFor();
    assert.match(page.url(), /\/espace\/#\/autoriser\?/, 'the authorize step goes on in the web space');
    await page.getByText('Suivi tension ' + run, { exact: true }).waitFor();
    await page.getByText('Camille Martin', { exact: true }).waitFor();
    await page.getByLabel(/vos mesures et résultats/).uncheck();
    await check(page, '09g-autoriser');
    await Promise.all([page.waitForURL(/\/cb\?/), page.getByRole('button', { name: 'Autoriser', exact: true }).click()]);
    const back = new URL(page.url());
    assert.equal(back.searchParams.get('state'), 'etat-' + run);
    const code = back.searchParams.get('code');
    assert.ok(code, 'the authorisation page sent a code back: ' + page.url());
    const tokRes = await fetch(base + '/oauth/token', {
      method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: redirect, client_id: clientId, code_verifier: verifier }),
    });
    const granted = await tokRes.json();
    const appToken = granted.access_token;
    assert.ok(appToken, 'the app gets its token');
    assert.equal(granted.patient, adult.id, 'the token names the patient\'s record');
    assert.ok(!String(granted.scope).includes('Observation'), 'the unticked scope is not granted: ' + granted.scope);
    assert.equal((await api('GET', `Patient/${adult.id}`, appToken)).status, 200, 'the authorised app reads the record');
    const notGranted = await api('GET', `Observation?patient=${adult.id}`, appToken);
    assert.ok(notGranted.status === 403 || (notGranted.status === 200 && entries(notGranted.json).length === 0),
      'the app reads no Observation (' + notGranted.status + ')');
    await page.goto(base + '/espace/#/applications');
    await page.getByRole('button', { name: 'Retirer l’accès de Suivi tension ' + run }).waitFor();
    page.once('dialog', (d) => d.accept());
    await page.getByRole('button', { name: 'Retirer l’accès de Suivi tension ' + run }).click();
    await page.getByText(`L’application « Suivi tension ${run} » n’a plus accès à votre dossier.`).waitFor();
    await page.getByText('Vous n’avez autorisé aucune application.').waitFor();
    await check(page, '09d-applications-retiree');
    const revoked = await api('GET', `Patient/${adult.id}`, appToken);
    assert.ok(revoked.status === 404 || revoked.status === 401 || revoked.status === 403,
      'revoked: the app\'s token no longer reads the record (' + revoked.status + ')');
    // The catalogue of a reused test database does not keep this run's app.
    await fetch(base + '/apps/' + clientId, { method: 'DELETE', headers: { Authorization: 'Bearer ' + operator } });
    log(`applications: listed, authorised in the web space (#/autoriser, one scope unticked), code exchanged, revoked (the app then gets ${revoked.status})`);

    // --- 6. Profile and the summary's PDF; agenda with its reminders and calendar link;
    // settings.
    await page.getByRole('link', { name: 'Profil', exact: true }).click();
    await page.getByRole('heading', { name: 'Profil médical' }).waitFor();
    await page.locator('section.card h2').first().waitFor();
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Télécharger la synthèse médicale (PDF)' }).click(),
    ]);
    const pdfPath = path.join(OUT, 'synthese-medicale.pdf');
    await download.saveAs(pdfPath);
    assert.equal(fs.readFileSync(pdfPath).subarray(0, 5).toString('latin1'), '%PDF-', 'the summary is a PDF');
    assert.match(download.suggestedFilename(), /^synthese-medicale-.*\.pdf$/);
    await check(page, '10-profil');

    // --- 6b. The profile's own entries (issue 18): an allergy added, corrected, hidden from
    // professionals (checked through the API as the care-team doctor), deleted; a weight of 0
    // refused in words, a valid one added; the professional's entry has no correct/delete.
    const allergies = page.getByRole('region', { name: 'Allergies et intolérances' });
    await allergies.getByText('Pénicilline').first().waitFor();
    assert.equal(await allergies.getByRole('button', { name: 'Corriger Pénicilline' }).count(), 0, 'a professional\'s entry cannot be corrected');
    assert.equal(await allergies.getByRole('button', { name: 'Supprimer Pénicilline' }).count(), 0, 'a professional\'s entry cannot be deleted');
    await allergies.getByRole('button', { name: 'Masquer aux professionnels Pénicilline' }).waitFor();
    await page.getByLabel('Allergie ou intolérance').fill('Pollen de boulot');
    await page.getByRole('button', { name: 'Ajouter l’allergie' }).click();
    await page.getByText('Votre allergie est ajoutée à votre profil.').waitFor();
    await allergies.getByText('Pollen de boulot').first().waitFor();
    await allergies.getByRole('button', { name: 'Corriger Pollen de boulot' }).click();
    await page.getByLabel('Correction de « Pollen de boulot »').fill('Pollen de bouleau');
    await page.getByRole('button', { name: 'Enregistrer', exact: true }).click();
    await page.getByText('« Pollen de bouleau » est enregistré.').waitFor();
    await allergies.locator('li', { hasText: 'Pollen de bouleau' }).getByText('(déclaré par vous)').waitFor();
    let myAllergy = entries(await must('GET', `AllergyIntolerance?patient=${adult.id}`, patientApi))
      .find((r) => r.code?.text === 'Pollen de bouleau');
    assert.ok(myAllergy, 'the corrected allergy is in the record');
    assert.equal(myAllergy.recorder?.reference, `Patient/${adult.id}`, 'the patient recorded it');
    assert.equal(myAllergy.meta.versionId, '2', 'corrected: a second version');

    await page.getByLabel('Poids (kg)').fill('0');
    await page.getByRole('button', { name: 'Ajouter la mesure' }).click();
    await page.getByText(/Ce poids n’est pas accepté : une mesure possible est comprise entre 0,2 et 700 kg\./).waitFor();
    await check(page, '10b-profil-poids-refuse');
    await page.getByLabel('Poids (kg)').fill('64,5');
    await page.getByRole('button', { name: 'Ajouter la mesure' }).click();
    await page.getByText('Votre poids est ajouté à votre profil.').waitFor();
    await page.getByRole('region', { name: 'Mesures' }).getByText(/64,5 kg/).waitFor();
    await page.getByLabel('Traitement (médicament et dose)').fill('Lévothyroxine 75 µg le matin');
    await page.getByRole('button', { name: 'Ajouter le traitement' }).click();
    await page.getByText('Votre traitement est ajouté à votre profil.').waitFor();
    const treatments = page.getByRole('region', { name: 'Traitements en cours' });
    await treatments.getByRole('button', { name: 'Corriger Lévothyroxine 75 µg le matin' }).waitFor();
    const statement = entries(await must('GET', `MedicationStatement?patient=${adult.id}`, patientApi))
      .find((r) => r.medicationCodeableConcept?.text === 'Lévothyroxine 75 µg le matin');
    assert.equal(statement?.informationSource?.reference, `Patient/${adult.id}`, 'the treatment is the patient\'s statement');
    assert.equal(await page.getByText(/Ce poids n’est pas accepté/).count(), 0, 'the refusal is gone once a weight is accepted');

    const inDoctorsProfile = async () => entries(await must('GET', `Patient/${adult.id}/$profile`, doctor))
      .some((r) => r.resourceType === 'AllergyIntolerance' && r.id === myAllergy.id);
    assert.ok(await inDoctorsProfile(), 'the doctor sees the allergy before it is hidden');
    await allergies.getByRole('button', { name: 'Masquer aux professionnels Pollen de bouleau' }).click();
    await page.getByText('« Pollen de bouleau » est maintenant masqué aux professionnels de santé.').waitFor();
    await allergies.getByRole('button', { name: 'Montrer aux professionnels Pollen de bouleau' }).waitFor();
    assert.ok(!(await inDoctorsProfile()), 'hidden: not in the care-team doctor\'s $profile');
    assert.equal((await api('GET', `AllergyIntolerance/${myAllergy.id}`, doctor)).status, 404, 'hidden: the doctor\'s read answers as for a missing entry');
    await check(page, '10c-profil-modifie');
    await allergies.getByRole('button', { name: 'Montrer aux professionnels Pollen de bouleau' }).click();
    await page.getByText('« Pollen de bouleau » est de nouveau visible par les professionnels qui vous suivent.').waitFor();
    assert.ok(await inDoctorsProfile(), 'shown again: back in the doctor\'s $profile');
    page.once('dialog', (d) => d.accept());
    await allergies.getByRole('button', { name: 'Supprimer Pollen de bouleau' }).click();
    await page.getByText('« Pollen de bouleau » est supprimé de votre profil.').waitFor();
    await allergies.locator('li', { hasText: 'Pollen de bouleau' }).waitFor({ state: 'detached', timeout: 10000 });
    const gone = (await api('GET', `AllergyIntolerance/${myAllergy.id}`, patientApi)).status;
    assert.ok(gone === 410 || gone === 404, 'deleted in the record (' + gone + ')');
    await allergies.getByText('Pénicilline').first().waitFor();
    log(`profile entries: allergy ${myAllergy.id} added, corrected, hidden (doctor checked), shown, deleted; weight 0 refused, 64.5 kg and a treatment added; professional's ${proAllergy.id} not editable`);

    // --- 6c. The profile's other sections (issue 18, page18b): a medical history, a family
    // history, a vaccination, a blood pressure, a wish and a person to contact added; the
    // weight's date corrected; the family history section hidden from professionals as a
    // whole (checked through the API as the care-team doctor), then shown again.
    const region = (name) => page.getByRole('region', { name, exact: true });
    await page.getByLabel('Maladie, hospitalisation ou opération').fill('Appendicectomie');
    await page.getByLabel('Depuis le (facultatif)').fill('2010-05-02');
    await page.getByRole('button', { name: 'Ajouter l’antécédent', exact: true }).click();
    await page.getByText('Votre antécédent est ajouté à votre profil.').waitFor();
    await region('Antécédents médicaux').locator('li', { hasText: 'Appendicectomie' }).getByText('(déclaré par vous)').waitFor();
    await page.getByLabel('Maladie d’un proche').fill('Diabète de type 2');
    await page.getByLabel('Lien de parenté').selectOption('MTH');
    await page.getByRole('button', { name: 'Ajouter l’antécédent familial' }).click();
    await page.getByText('Votre antécédent familial est ajouté à votre profil.').waitFor();
    const family = region('Antécédents familiaux');
    await family.getByText('Mère : Diabète de type 2').first().waitFor();
    await page.getByLabel('Vaccin', { exact: true }).fill('Grippe saisonnière');
    await page.getByLabel('Date de la vaccination').fill('2025-10-15');
    await page.getByRole('button', { name: 'Ajouter la vaccination' }).click();
    await page.getByText('Votre vaccination est ajoutée à votre profil.').waitFor();
    await region('Vaccinations').getByText(/Grippe saisonnière — 15 octobre 2025/).first().waitFor();
    await page.getByLabel('Type de mesure').selectOption('pressure');
    await page.getByLabel('Tension systolique (mm Hg)').fill('135');
    await page.getByLabel('Tension diastolique (mm Hg)').fill('85');
    await page.getByRole('button', { name: 'Ajouter la mesure' }).click();
    await page.getByText('Votre tension artérielle est ajoutée à votre profil.').waitFor();
    await region('Mesures').getByText(/135\/85 mm Hg/).first().waitFor();
    await page.getByLabel('Vos volontés').fill('Je souhaite donner mes organes.');
    await page.getByLabel('Type de volonté').selectOption('organ-donation');
    await page.getByRole('button', { name: 'Ajouter la volonté' }).click();
    await page.getByText('Votre volonté est ajoutée à votre profil.').waitFor();
    await region('Volontés et directives anticipées').getByText('Don d’organes : Je souhaite donner mes organes.').first().waitFor();
    await page.getByLabel('Nom de la personne à prévenir').fill('Alex Martin');
    await page.getByLabel('Lien (conjoint, parent, ami…)').fill('Conjoint');
    await page.getByLabel('Téléphone').fill('06 12 34 56 78');
    await page.getByRole('button', { name: 'Ajouter la personne' }).click();
    await page.getByText('La personne à prévenir est ajoutée à votre profil.').waitFor();
    await region('Personnes à prévenir').getByText('Alex Martin : Conjoint, 06 12 34 56 78').first().waitFor();
    // The weight's date corrected.
    const measures = region('Mesures');
    await measures.getByRole('button', { name: 'Corriger Poids' }).click();
    await measures.getByRole('form', { name: 'Corriger Poids' }).getByLabel('Date de la mesure').fill('2026-11-01');
    await measures.getByRole('button', { name: 'Enregistrer', exact: true }).click();
    await page.getByText('« Poids » est enregistré.').waitFor();
    await measures.getByText(/64,5 kg — 1 novembre 2026/).first().waitFor();
    const weight = entries(await must('GET', `Observation?patient=${adult.id}&code=http://loinc.org|29463-7`, patientApi))
      .find((r) => r.valueQuantity?.value === 64.5);
    assert.equal(weight?.effectiveDateTime?.substring(0, 10), '2026-11-01', 'the weight\'s date is corrected in the record');
    const byType = async (tok, type) => entries(await must('GET', `Patient/${adult.id}/$profile`, tok)).filter((r) => r.resourceType === type);
    const mineFamily = (await byType(patientApi, 'FamilyMemberHistory'))[0];
    assert.equal(mineFamily?.relationship?.coding?.[0]?.code, 'MTH', 'the family history is in the record');
    for (const type of ['Condition', 'Immunization', 'Consent', 'RelatedPerson'])
      assert.ok((await byType(patientApi, type)).length > 0, `the patient's ${type} is in the profile`);
    assert.ok((await byType(doctor, 'FamilyMemberHistory')).some((r) => r.id === mineFamily.id), 'the doctor sees the family history');
    page.once('dialog', (d) => d.accept());
    await family.getByRole('button', { name: 'Masquer la section aux professionnels : Antécédents familiaux' }).click();
    await page.getByText('La section « Antécédents familiaux » est maintenant masquée aux professionnels de santé, y compris ce qui y sera ajouté.').waitFor();
    await family.getByText('Section masquée aux professionnels').first().waitFor();
    await family.getByText('masqué aux professionnels', { exact: true }).first().waitFor();
    assert.equal((await byType(doctor, 'FamilyMemberHistory')).length, 0, 'hidden section: nothing of it in the doctor\'s $profile');
    assert.equal((await api('GET', `FamilyMemberHistory/${mineFamily.id}`, doctor)).status, 404, 'hidden section: the doctor\'s read answers as for nothing');
    assert.ok(!JSON.stringify(await must('GET', `Patient/${adult.id}/$profile`, doctor)).includes('profile-section-hidden'), 'the doctor is not told a section is hidden');
    await check(page, '10d-profil-sections');
    await family.getByRole('button', { name: 'Montrer la section aux professionnels : Antécédents familiaux' }).click();
    await page.getByText('La section « Antécédents familiaux » est de nouveau visible par les professionnels qui vous suivent.').waitFor();
    assert.ok((await byType(doctor, 'FamilyMemberHistory')).some((r) => r.id === mineFamily.id), 'shown again: the doctor sees it');
    log('profile sections: history, family, vaccination, blood pressure, wish, contact added; weight date corrected; family section hidden then shown (doctor checked)');

    await page.getByRole('link', { name: 'Agenda', exact: true }).click();
    await page.getByRole('heading', { name: 'Rappels de vaccination et de dépistage' }).waitFor();
    // The reminders in French (prevention/data/*.tsv label_fr), on the page and in the feed.
    await page.getByText(/^Dépistage du cancer du col de l’utérus : test HPV/).first().waitFor();
    await page.getByText(/^Vaccination : Rappel/).first().waitFor();
    const agendaText = await page.locator('main').innerText();
    for (const english of ['screening', 'booster', 'dose at', 'every autumn'])
      assert.ok(!agendaText.includes(english), `no English on the agenda page (${english})`);
    await page.getByRole('button', { name: 'Obtenir le lien d’abonnement' }).click();
    const icsUrl = await page.getByLabel('Lien iCalendar').inputValue();
    assert.match(icsUrl, /\/agenda\/[^/]+\.ics$/);
    const ics = await fetch(base + icsUrl.substring(icsUrl.indexOf('/agenda/')));
    assert.equal(ics.status, 200);
    const icsText = await ics.text();
    assert.match(icsText, /^BEGIN:VCALENDAR/);
    assert.match(icsText, /SUMMARY:Dépistage du cancer du col de l’utérus/, 'the feed\'s reminders are in French');
    assert.ok(!/SUMMARY:[^\r\n]*(screening|booster)/i.test(icsText), 'no English reminder in the feed');
    await check(page, '11-agenda');

    await page.getByRole('link', { name: 'Réglages', exact: true }).click();
    await page.getByLabel('Adresse électronique').fill('pas-une-adresse');
    await page.getByLabel('un nouveau document dans mon dossier', { exact: true }).check();
    await page.getByRole('button', { name: 'Enregistrer mes notifications' }).click();
    await page.getByText('Vérifiez l’adresse électronique saisie.').waitFor();
    await page.getByLabel('Adresse électronique').fill('camille.martin@example.org');
    await page.getByRole('button', { name: 'Enregistrer mes notifications' }).click();
    await page.getByText('Vos préférences de notification sont enregistrées.').waitFor();
    // The webhook channel (an app's notification service): a bad address refused in words,
    // then stored, as the API reads it back.
    await page.getByLabel('Adresse du service de notification (https)').fill('pas-une-adresse');
    await page.getByLabel('application : un nouveau message sécurisé').check();
    await page.getByRole('button', { name: 'Enregistrer les notifications de l’application' }).click();
    await page.getByText('Vérifiez l’adresse du service de notification').waitFor();
    const hookUrl = `https://push.example.org/carnet/${run}`;
    await page.getByLabel('Adresse du service de notification (https)').fill(hookUrl);
    await page.getByRole('button', { name: 'Enregistrer les notifications de l’application' }).click();
    await page.getByText('Les notifications de votre application sont enregistrées.').waitFor();
    const hookSettings = (await api('GET', `Patient/${adult.id}/$record-settings`, patientApi)).json || {};
    const hooks = (hookSettings.parameter || []).filter((p) => p.name === 'notification')
      .map((p) => Object.fromEntries(p.part.map((x) => [x.name, x.valueString ?? x.valueCode ?? x.valueBoolean])))
      .filter((n) => n.channel === 'webhook');
    assert.ok(hooks.some((n) => n.event === 'messages' && n.enabled === true && n.address === hookUrl),
      `the webhook preference is stored: ${JSON.stringify(hooks)}`);
    await page.getByLabel('je m’y oppose').check();
    await page.getByRole('button', { name: 'Enregistrer mon choix' }).click();
    await page.getByText('Votre opposition à l’accès en urgence est enregistrée.').waitFor();
    await page.getByLabel('je l’autorise').check();
    await page.getByRole('button', { name: 'Enregistrer mon choix' }).click();
    await page.getByText('L’accès en urgence à votre dossier est autorisé.').waitFor();
    await check(page, '12-reglages');
    log('profile, summary PDF, agenda, settings checked');

    // --- 6c. Read back (issue 18): the settings, the treating physician and the blocks as
    // stored ($record-settings), shown on load; who accessed a document asked by entity,
    // paged.
    await page.reload();
    await page.getByRole('heading', { name: 'Réglages' }).waitFor();
    await page.locator('#etat-urgence', { hasText: 'l’accès en urgence est autorisé' }).waitFor();
    assert.equal(await page.getByLabel('Adresse électronique').inputValue(), 'camille.martin@example.org', 'the stored address is shown');
    assert.ok(await page.getByLabel('un nouveau document dans mon dossier', { exact: true }).isChecked(), 'the stored preference is shown');
    assert.ok(!(await page.getByLabel('un accès en urgence', { exact: true }).isChecked()), 'a preference not chosen stays unticked');
    assert.ok(await page.getByLabel('je l’autorise').isChecked());
    await must('POST', `Patient/${adult.id}/$emergency-access`, patientApi, { resourceType: 'Parameters', parameter: [{ name: 'opposed', valueBoolean: true }] });
    await page.reload();
    await page.locator('#etat-urgence', { hasText: 'vous vous opposez à l’accès en urgence' }).waitFor();
    assert.ok(await page.getByLabel('je m’y oppose').isChecked(), 'the opposition made elsewhere is shown');
    await must('POST', `Patient/${adult.id}/$emergency-access`, patientApi, { resourceType: 'Parameters', parameter: [{ name: 'opposed', valueBoolean: false }] });
    await page.getByRole('link', { name: 'Professionnels' }).click();
    await page.locator('#traitant-actuel', { hasText: `RPPS ${RPPS_TREATING}` }).waitFor();
    await page.locator('#bloques-aucun').waitFor();
    await page.getByLabel('un établissement (numéro FINESS)').check();
    await page.getByLabel('Numéro', { exact: true }).fill('690000123');
    await page.getByRole('button', { name: 'Bloquer', exact: true }).click();
    await page.locator('#bloques', { hasText: 'Établissement 690000123' }).waitFor();
    await page.reload();
    await page.locator('#bloques', { hasText: 'Établissement 690000123' }).waitFor();
    await check(page, '07b-professionnels-bloques');
    await page.locator('#bloques').getByRole('button', { name: 'Débloquer l’établissement 690000123' }).click();
    await page.getByText('L’établissement 690000123 peut de nouveau accéder à votre dossier.').waitFor();
    await page.locator('#bloques-aucun').waitFor();
    const stored = await must('GET', `Patient/${adult.id}/$record-settings`, patientApi);
    assert.ok(!JSON.stringify(stored).includes('690000123'), 'unblocked in the record');
    // Who accessed this document: only its own events (the treating physician reads the other
    // document only), and older ones a page further.
    const treating = token(['--actor', 'professional', '--id', RPPS_TREATING, '--profession', '10', '--org', 'Cabinet-Lyon']);
    assert.equal((await api('GET', `DocumentReference/${hostile.id}`, treating)).status, 200, 'the treating physician reads the other document');
    for (let i = 0; i < 21; i++) assert.equal((await api('GET', `DocumentReference/${lab.id}`, doctor)).status, 200);
    await page.goto(base + `/espace/#/documents/${lab.id}`);
    await page.locator('#acces-document').getByText(RPPS_DOCTOR).first().waitFor();
    assert.equal(await page.locator('#acces-document').getByText(RPPS_TREATING).count(), 0, "another document's reader is not listed");
    const firstPage = await page.locator('#acces-document li').count();
    assert.ok(firstPage <= 20, 'one page of accesses at a time (' + firstPage + ')');
    // By the keyboard: the document viewer above (a sandboxed iframe) is still laying out its
    // content when the list appears, and a mouse click aimed at the button's position could
    // land in the viewer instead (seen: the iframe took the focus and nothing was asked).
    const older = page.getByRole('button', { name: 'Afficher les accès plus anciens' });
    await older.focus();
    await older.press('Enter');
    await page.waitForFunction((n) => document.querySelectorAll('#acces-document li').length > n, firstPage);
    await check(page, '04b-document-acces');
    await page.goto(base + `/espace/#/documents/${hostile.id}`);
    await page.locator('#acces-document').getByText(RPPS_TREATING).first().waitFor();
    log(`read back: settings, treating physician, blocks; accesses of one document by entity (${firstPage} then more)`);

    // --- 6d. Closing the record (issue 18): a record of its own, closed from the settings
    // with its consequences and a confirmation, checked through the API, then reopened.
    const INS_CLOSE = '29' + run + '03';
    const toClose = await must('POST', 'Patient', system, {
      resourceType: 'Patient', identifier: [{ system: 'urn:oid:1.2.250.1.213.1.4.10', value: INS_CLOSE }],
      name: [{ family: 'Bernard', given: ['Inès'] }], gender: 'female', birthDate: '1979-11-05',
    });
    const closeDoc = await must('POST',
      `DocumentReference/$deposit?patient=${encodeURIComponent('urn:oid:1.2.250.1.213.1.4.10|' + INS_CLOSE)}&type=11369-6&title=${encodeURIComponent('Vaccinations')}&date=2024-09-01`,
      system, pdf('Vaccinations'), { 'Content-Type': 'application/pdf' });
    await must('POST', 'CareTeam', system, {
      resourceType: 'CareTeam', status: 'active', subject: { reference: `Patient/${toClose.id}` },
      participant: [{ member: { identifier: { system: RPPS_SYSTEM, value: RPPS_DOCTOR } } }],
    });
    assert.equal((await api('GET', `DocumentReference/${closeDoc.id}`, doctor)).status, 200, 'before: the care-team doctor reads');
    const cctx = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'fr-FR' });
    const cpage = await cctx.newPage();
    current = cpage;
    cpage.on('pageerror', (e) => pageErrors.push(String(e)));
    cpage.on('request', (r) => {
      const u = r.url();
      if (/^(https?|wss?|ftp):/i.test(u) && !u.startsWith(base + '/')) outside.push(u);
    });
    await cpage.goto(base + '/espace/');
    await cpage.getByLabel(/Votre INS/).fill(INS_CLOSE);
    await cpage.getByRole('button', { name: 'Se connecter' }).click();
    await cpage.getByRole('heading', { name: 'Bonjour' }).waitFor();
    await cpage.getByRole('link', { name: 'Réglages', exact: true }).click();
    await cpage.getByRole('heading', { name: 'Fermer mon dossier' }).waitFor();
    await cpage.locator('#consequences-fermeture', { hasText: 'aucun professionnel de santé ne pourra plus le consulter' }).waitFor();
    await cpage.locator('#consequences-fermeture', { hasText: 'conservé dix ans' }).waitFor();
    await cpage.getByRole('button', { name: 'Fermer mon dossier…' }).click();
    const confirmButton = cpage.getByRole('button', { name: 'Confirmer la fermeture' });
    assert.ok(await confirmButton.isDisabled(), 'no closure before the confirmation is ticked');
    await check(cpage, '14-fermeture-confirmation');
    await cpage.getByLabel(/J’ai compris les conséquences et je veux fermer votre dossier/).check();
    await confirmButton.click();
    await cpage.getByText('Votre dossier est fermé.').waitFor();
    await cpage.locator('#etat-dossier').waitFor();
    await cpage.getByRole('button', { name: 'Rouvrir mon dossier' }).waitFor();
    const closePatient = token(['--actor', 'patient', '--id', 'patient-' + INS_CLOSE, '--patient', INS_CLOSE]);
    assert.equal((await api('GET', `DocumentReference/${closeDoc.id}`, doctor)).status, 404, 'closed: the doctor gets 404');
    assert.equal((await api('GET', `DocumentReference/${closeDoc.id}`, closePatient)).status, 200, 'closed: the patient still reads the archive');
    const closedSettings = await must('GET', `Patient/${toClose.id}/$record-settings`, closePatient);
    assert.equal(closedSettings.parameter.find((p) => p.name === 'status').valueCode, 'closed');
    await check(cpage, '15-dossier-ferme');
    await cpage.getByRole('button', { name: 'Rouvrir mon dossier' }).click();
    await cpage.getByText('Votre dossier est rouvert').waitFor();
    await cpage.getByRole('heading', { name: 'Fermer mon dossier' }).waitFor();
    assert.equal((await api('GET', `DocumentReference/${closeDoc.id}`, doctor)).status, 200, 'reopened: the doctor reads again');
    await cctx.close();
    current = page;
    log(`record ${toClose.id} closed from the page (doctor refused), then reopened`);

    // --- 5. A guardian switches to the child's space.
    const gctx = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'fr-FR' });
    const gpage = await gctx.newPage();
    current = gpage;
    gpage.on('pageerror', (e) => pageErrors.push(String(e)));
    gpage.on('request', (r) => {
      const u = r.url();
      if (/^(https?|wss?|ftp):/i.test(u) && !u.startsWith(base + '/')) outside.push(u);
    });
    await gpage.goto(base + '/espace/');
    await gpage.getByLabel('un représentant légal').check();
    await gpage.getByLabel(/Votre INS/).fill(INS_ADULT);
    await gpage.getByLabel(/INS de vos enfants/).fill(INS_CHILD);
    await gpage.getByRole('button', { name: 'Se connecter' }).click();
    await gpage.getByRole('heading', { name: 'Bonjour' }).waitFor();
    const switcher = gpage.getByLabel('Espace de');
    if (await switcher.count()) await switcher.selectOption({ label: 'Léo Martin' });
    await gpage.getByText('Vous consultez l’espace de Léo Martin en tant que représentant légal').waitFor();
    await gpage.getByRole('link', { name: 'Documents', exact: true }).click();
    await gpage.getByRole('link', { name: 'Carnet de vaccination de Léo' }).waitFor();
    assert.equal(await gpage.getByText("Compte rendu d'examens biologiques").count(), 0, "the child's space holds the child's documents only");
    await check(gpage, '13-representant-legal');

    assert.deepEqual(outside, [], 'no request to another origin');
    assert.deepEqual(consoleErrors, [], 'no script error in the page');
    assert.deepEqual(violations, [], 'no serious or critical accessibility violation');
    log(`all scenarios passed; screenshots in ${OUT}`);
  } catch (e) {
    if (current) await current.screenshot({ path: path.join(OUT, 'failure.png'), fullPage: true }).catch(() => {});
    if (pageErrors.length) console.error('script errors in the page:', pageErrors);
    throw e;
  } finally {
    if (browser) await browser.close();
    gw.kill('SIGTERM');
    fs.rmSync(keys, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error('espace: FAILED:', e && e.stack ? e.stack : e);
  process.exit(1);
});
