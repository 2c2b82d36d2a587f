// Applications: the catalogue of apps referenced by the operators (GET /apps), the apps the
// patient authorised (their Consents naming an app's client_id, written when they approved
// the app on carnet's /oauth/authorize page), and revoking one (DELETE Consent/[id]: the
// app's next request and its refresh tokens are refused). An app's name and description
// come from its publisher: rendered as text.
import { useState } from 'preact/hooks';
import { entries, get, getRoot, request } from './api';
import type { Ctx } from './main';
import { Busy, ErrorBox, Notice, PageTitle, frDate, useLoad } from './ui';

const CLIENT_ID_SYSTEM = 'urn:ietf:params:oauth:client-id';
const SCOPES_EXTENSION = 'smart-scopes';

const VERBS: Record<string, string> = { c: 'créer', r: 'lire', u: 'modifier', d: 'supprimer', s: 'rechercher' };
const TYPES: Record<string, string> = {
  '*': 'tout votre dossier',
  Observation: 'vos mesures et résultats',
  DocumentReference: 'vos documents',
  Condition: 'vos problèmes de santé',
  AllergyIntolerance: 'vos allergies',
  MedicationStatement: 'vos traitements',
  MedicationRequest: 'vos prescriptions',
  Immunization: 'vos vaccinations',
  Patient: 'votre identité',
  Appointment: 'vos rendez-vous',
};

// One scope in words ("patient/Observation.rs" -> "lire, rechercher : vos mesures et résultats").
export function scopeWords(scope: string): string {
  if (scope === 'launch/patient') return 'ouvrir votre dossier';
  if (scope === 'offline_access') return 'rester connectée sans vous redemander (jusqu’à votre révocation)';
  if (scope === 'online_access') return 'rester connectée pendant votre session';
  if (scope === 'openid' || scope === 'fhirUser') return 'connaître votre identité';
  const m = /^patient\/([A-Za-z*]+)\.([cruds]+|read|write|\*)(\?.*)?$/.exec(scope);
  if (!m) return scope;
  const letters = m[2] === 'read' ? 'rs' : m[2] === 'write' ? 'cud' : m[2] === '*' ? 'cruds' : m[2];
  const verbs = letters.split('').map((l) => VERBS[l]).filter(Boolean).join(', ');
  const what = TYPES[m[1]] || m[1];
  return `${verbs} : ${what}${m[3] ? ' (en partie)' : ''}`;
}

function appOf(consent: any): { clientId: string; name: string } | null {
  for (const a of consent?.provision?.actor || []) {
    const id = a.reference?.identifier;
    if (id?.system === CLIENT_ID_SYSTEM && id.value) return { clientId: id.value, name: a.reference.display || id.value };
  }
  return null;
}
function grantedScopes(consent: any): string[] {
  const e = (consent?.extension || []).find((x: any) => String(x.url || '').endsWith(SCOPES_EXTENSION));
  return String(e?.valueString || '').split(' ').filter(Boolean);
}

export function Apps({ ctx }: { ctx: Ctx }) {
  const pid = ctx.patient.id;
  const [catalogue, catError, catLoading] = useLoad(() => getRoot('apps'), []);
  const [consents, conError, conLoading, reload] = useLoad(
    () => get(`Consent?patient=${encodeURIComponent(pid)}&_count=100`),
    [pid],
  );
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [notice, setNotice] = useState('');
  const apps: any[] = catalogue?.apps || [];
  const granted = entries(consents)
    .filter((c: any) => c.resourceType === 'Consent' && c.status === 'active' && appOf(c))
    .map((c: any) => ({ consent: c, app: appOf(c)! }));

  async function revoke(consentId: string, name: string) {
    if (!window.confirm(`Retirer à « ${name} » l’accès à votre dossier ?`)) return;
    setBusy(true);
    setError(null);
    setNotice('');
    try {
      await request('DELETE', `Consent/${encodeURIComponent(consentId)}`);
      setNotice(`L’application « ${name} » n’a plus accès à votre dossier.`);
      reload();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }

  return (
    <section aria-labelledby="titre-page">
      <PageTitle>Applications</PageTitle>
      <section class="card" aria-labelledby="h-autorisees">
        <h2 id="h-autorisees">Applications que vous avez autorisées</h2>
        <p>
          Une application n’accède à votre dossier que si vous l’avez autorisée, et seulement à ce que vous lui avez accordé.
          Vous pouvez lui retirer cet accès à tout moment.
        </p>
        {conLoading && <Busy label="Chargement de vos autorisations…" />}
        <ErrorBox error={conError} />
        {!conLoading && !conError && !granted.length && <p>Vous n’avez autorisé aucune application.</p>}
        {granted.length > 0 && (
          <ul class="docs">
            {granted.map(({ consent, app }) => (
              <li key={consent.id} class="doc">
                <strong>{apps.find((a) => a.client_id === app.clientId)?.name || app.name}</strong>
                <span class="meta">Autorisée le {frDate(consent.dateTime, true)}</span>
                <ul class="plain">
                  {grantedScopes(consent).map((s) => (
                    <li key={s}>{scopeWords(s)}</li>
                  ))}
                </ul>
                <button type="button" class="secondary" disabled={busy} onClick={() => revoke(consent.id, app.name)}
                  aria-label={`Retirer l’accès de ${app.name}`}>
                  Retirer l’accès
                </button>
              </li>
            ))}
          </ul>
        )}
        {busy && <Busy label="Retrait de l’accès…" />}
        {notice && <Notice>{notice}</Notice>}
        <ErrorBox error={error} context={{ 404: 'Cette autorisation n’existe plus : l’accès est déjà retiré.' }} />
      </section>
      <section class="card" aria-labelledby="h-catalogue">
        <h2 id="h-catalogue">Catalogue des applications référencées</h2>
        <p>
          Ces applications sont référencées par le service. Pour en utiliser une, ouvrez-la : elle vous demandera votre
          autorisation sur une page de Mon espace santé, où vous choisissez ce qu’elle peut voir.
        </p>
        {catLoading && <Busy label="Chargement du catalogue…" />}
        <ErrorBox error={catError} />
        {!catLoading && !catError && !apps.length && <p>Aucune application n’est référencée pour l’instant.</p>}
        {apps.length > 0 && (
          <ul class="docs">
            {apps.map((a) => (
              <li key={a.client_id} class="doc">
                <h3 class="app-name">{a.name}</h3>
                <span class="meta">
                  {a.publisher}
                  {a.category && ` — ${a.category}`}
                </span>
                {a.description && <p class="message-text">{a.description}</p>}
                <details>
                  <summary>Ce qu’elle peut demander</summary>
                  <ul class="plain">
                    {String(a.scope || '').split(' ').filter(Boolean).map((s: string) => (
                      <li key={s}>{scopeWords(s)}</li>
                    ))}
                  </ul>
                </details>
              </li>
            ))}
          </ul>
        )}
      </section>
    </section>
  );
}
