// The access history: every access to the record (AuditEvent, IHE BALP) as a readable table,
// newest first, paged, filtered by date and by professional.
import { useState } from 'preact/hooks';
import { entries, get, nextLink } from './api';
import type { Ctx } from './main';
import { Busy, ErrorBox, PageTitle, frDate, useLoad } from './ui';

// TRE_G15 (professions of health, the RPPS's codes).
const PROFESSIONS: Record<string, string> = {
  '10': 'Médecin', '21': 'Pharmacien', '26': 'Audioprothésiste', '28': 'Opticien-lunetier', '40': 'Chirurgien-dentiste',
  '50': 'Sage-femme', '60': 'Infirmier', '69': 'Infirmier psychiatrique', '70': 'Masseur-kinésithérapeute',
  '80': 'Pédicure-podologue', '81': 'Orthoprothésiste', '91': 'Orthophoniste', '92': 'Orthoptiste',
  '94': 'Ergothérapeute', '95': 'Psychomotricien', '96': 'Manipulateur ERM',
};
const KINDS: Record<string, string> = {
  professional: 'Professionnel de santé', patient: 'Vous', guardian: 'Représentant légal', app: 'Application',
  system: 'Système d’un établissement', operator: 'Service gestionnaire', denied: 'Identité refusée',
};
const ACTIONS: Record<string, string> = { C: 'Ajout', R: 'Consultation', U: 'Modification', D: 'Suppression' };
const TYPES: Record<string, string> = {
  DocumentReference: 'un document', Binary: 'le contenu d’un document', Patient: 'votre dossier', AuditEvent: 'l’historique des accès',
  Observation: 'un résultat', Condition: 'un problème de santé', CareTeam: 'l’équipe de soins', Consent: 'un consentement',
};
// "de" before a noun phrase, as French writes it: d’un, du, de l’, de votre.
function de(np: string): string {
  if (np.startsWith('un ') || np.startsWith('une ')) return 'd’' + np;
  if (np.startsWith('le ')) return 'du ' + np.substring(3);
  if (np.startsWith('les ')) return 'des ' + np.substring(4);
  return 'de ' + np;
}

export interface AccessRow {
  who: string; kind: string; id: string; profession: string; organisation: string; when: string; what: string;
  emergency: boolean; refused: boolean;
}

export function accessRow(ev: any): AccessRow {
  const user = (ev.agent || []).find((a: any) => a.requestor) || (ev.agent || [])[0] || {};
  const display: string = user.who?.display || '';
  const m = display.match(/^(\S+)(?: ([^(]+?))?(?: \(organisation (.+)\))?$/);
  const kindKey = m?.[1] || '';
  const id = user.who?.identifier?.value || m?.[2] || '';
  const prof = (user.role || []).map((r: any) => r.coding?.[0]?.code).find((c: string) => PROFESSIONS[c]);
  const obj = (ev.entity || []).find((e: any) => e.what?.reference && !/^Patient\//.test(e.what.reference)) ||
    (ev.entity || []).find((e: any) => e.what?.reference);
  const ref: string = obj?.what?.reference || '';
  const type = ref.split('/')[0];
  const subtype = ev.subtype?.[0]?.display || ev.subtype?.[0]?.code || '';
  const np = type ? TYPES[type] || `un élément (${type})` : 'votre dossier';
  let what: string;
  if (subtype === 'Login') what = 'Connexion';
  else if (ACTIONS[ev.action]) what = `${ACTIONS[ev.action]} ${de(np)}`;
  else if (/search/i.test(ev.subtype?.[0]?.code || '')) what = 'Recherche dans ' + np;
  else what = 'Opération sur ' + np;
  return {
    who: kindKey === 'professional' ? `${KINDS.professional} ${id}` : KINDS[kindKey] ? `${KINDS[kindKey]}${kindKey === 'patient' ? '' : ' ' + id}` : display || 'Inconnu',
    kind: kindKey, id, profession: prof ? PROFESSIONS[prof] : '', organisation: m?.[3] || '',
    when: ev.recorded, what, emergency: !!(ev.purposeOfEvent || []).some((p: any) => p.coding?.some((c: any) => c.code === 'ETREAT')),
    refused: ev.outcome && ev.outcome !== '0',
  };
}

export function History({ ctx }: { ctx: Ctx }) {
  const pid = ctx.patient.id;
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [who, setWho] = useState('');
  const [filters, setFilters] = useState({ from: '', to: '', who: '' });
  const [pageUrl, setPageUrl] = useState<string | null>(null);
  const [stack, setStack] = useState<string[]>([]);
  const first =
    `AuditEvent?patient=${encodeURIComponent(pid)}&_count=10&_sort=-date` +
    (filters.from ? `&date=ge${filters.from}` : '') +
    (filters.to ? `&date=le${filters.to}T23:59:59Z` : '') +
    (filters.who ? `&agent=${encodeURIComponent(filters.who)}` : '');
  const url = pageUrl || first;
  const [bundle, error, loading] = useLoad(() => get(url), [url]);
  const rows = entries(bundle).filter((e: any) => e.resourceType === 'AuditEvent').map(accessRow);
  const next = nextLink(bundle);
  return (
    <section aria-labelledby="titre-page">
      <PageTitle>Historique des accès</PageTitle>
      <p>Chaque consultation, ajout ou modification de votre dossier, par qui et quand.</p>
      <form class="filters" onSubmit={(e) => { e.preventDefault(); setPageUrl(null); setStack([]); setFilters({ from, to, who: who.trim() }); }}>
        <div>
          <label for="du">Du</label>
          <input id="du" type="date" value={from} onInput={(e) => setFrom((e.target as HTMLInputElement).value)} />
        </div>
        <div>
          <label for="au">Au</label>
          <input id="au" type="date" value={to} onInput={(e) => setTo((e.target as HTMLInputElement).value)} />
        </div>
        <div>
          <label for="qui">Professionnel (numéro RPPS)</label>
          <input id="qui" value={who} onInput={(e) => setWho((e.target as HTMLInputElement).value)} />
        </div>
        <button type="submit">Filtrer</button>
      </form>
      {loading && <Busy label="Chargement de l’historique…" />}
      <ErrorBox error={error} />
      {!loading && !error && !rows.length && <p>Aucun accès ne correspond.</p>}
      {rows.length > 0 && (
        <div class="table-wrap" tabIndex={0} role="region" aria-label="Historique des accès">
          <table class="history">
            <caption class="visually-hidden">Accès à votre dossier, du plus récent au plus ancien</caption>
            <thead>
              <tr><th scope="col">Qui</th><th scope="col">Profession</th><th scope="col">Organisation</th><th scope="col">Quand</th><th scope="col">Quoi</th><th scope="col">Urgence</th></tr>
            </thead>
            <tbody>
              {rows.map((r, i) => (
                <tr key={i}>
                  <td>{r.who}</td>
                  <td>{r.profession || '—'}</td>
                  <td>{r.organisation || '—'}</td>
                  <td>{frDate(r.when, true)}</td>
                  <td>{r.what}{r.refused ? ' (refusé)' : ''}</td>
                  <td>{r.emergency ? 'Oui' : 'Non'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <nav class="pager" aria-label="Pages de l’historique">
        <button type="button" disabled={!stack.length} onClick={() => { const s = [...stack]; const prev = s.pop() || null; setStack(s); setPageUrl(prev); }}>Page précédente</button>
        <button type="button" disabled={!next} onClick={() => { setStack([...stack, url]); setPageUrl(next); }}>Page suivante</button>
      </nav>
    </section>
  );
}
