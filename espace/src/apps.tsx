// Applications: the catalogue of apps referenced by the operators (GET /apps), the apps the
// patient authorised (their Consents naming an app's client_id, written when they approved
// the app), and revoking one (DELETE Consent/[id]: the app's next request and its refresh
// tokens are refused). Approving an app (#/autoriser?...): carnet's /oauth/authorize sends the
// browser here with the app's request; the page reads it back (the app, the scopes it may get,
// checked by the gateway), the patient ticks what they grant, and the approval is posted with
// the session's token; the gateway checks everything again and answers where to go (the app's
// redirect URI with the code). An app's name and description come from its publisher:
// rendered as text.
import { useState } from 'preact/hooks';
import { ApiError, entries, get, getRoot, request, sessionToken } from './api';
import type { Ctx } from './main';
import { Busy, ErrorBox, Notice, PageTitle, frDate, patientName, useLoad } from './ui';

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

// The parameters of the app's request the approval carries back (the gateway checks them again).
const REQUEST_PARAMS = ['response_type', 'client_id', 'redirect_uri', 'state', 'code_challenge', 'code_challenge_method', 'aud'];

interface AuthorizationAsk {
  client_id: string;
  name: string;
  publisher: string;
  description: string;
  redirect_uri: string;
  scopes: { scope: string; description: string }[];
}

async function oauth(method: string, query: string, body?: URLSearchParams): Promise<any> {
  const h: Record<string, string> = { Accept: 'application/json' };
  const t = sessionToken();
  if (body && t) h.Authorization = 'Bearer ' + t;
  if (body) h['Content-Type'] = 'application/x-www-form-urlencoded';
  let res: Response;
  try {
    res = await fetch('/oauth/authorize' + (query ? '?' + query : ''), { method, headers: h, body, credentials: 'omit', cache: 'no-store' });
  } catch {
    throw new ApiError(0, [], '');
  }
  let json: any = {};
  try {
    json = await res.json();
  } catch {
    /* empty */
  }
  if (!res.ok && !json.redirect) throw new ApiError(res.status, [{ code: json.error || 'invalid', diagnostics: json.error || '' }], res.headers.get('X-Request-Id') || '');
  return { status: res.status, ...json };
}

const REFUSED: Record<number, string> = {
  400: 'La demande de cette application n’est pas valable : retournez dans l’application et recommencez.',
  401: 'Votre connexion n’a pas pu être vérifiée : reconnectez-vous puis recommencez depuis l’application.',
  403: 'Votre autorisation n’a pas pu être enregistrée.',
  404: 'Aucun dossier n’est ouvert à votre nom.',
};

export function Authorize({ ctx, query }: { ctx: Ctx; query: string }) {
  const params = new URLSearchParams(query);
  const [ask, error, loading] = useLoad<any>(() => oauth('GET', params.toString()), [query]);
  const [chosen, setChosen] = useState<Record<string, boolean>>({});
  const [busy, setBusy] = useState(false);
  const [sendError, setSendError] = useState<unknown>(null);
  const [leaving, setLeaving] = useState('');
  const a: AuthorizationAsk | null = ask && !ask.redirect ? ask : null;
  const isChosen = (s: string) => chosen[s] !== false;

  async function decide(decision: 'approve' | 'deny') {
    if (!a) return;
    setBusy(true);
    setSendError(null);
    try {
      const form = new URLSearchParams();
      for (const k of REQUEST_PARAMS) if (params.has(k)) form.set(k, params.get(k)!);
      for (const s of a.scopes) if (isChosen(s.scope)) form.append('scope', s.scope);
      form.set('decision', decision);
      const answer = await oauth('POST', '', form);
      if (!answer.redirect) throw new ApiError(answer.status || 500, [], '');
      setLeaving(decision === 'approve' ? `Autorisation enregistrée : retour vers « ${a.name} »…` : `Refus enregistré : retour vers « ${a.name} »…`);
      window.location.assign(answer.redirect);
    } catch (e) {
      setSendError(e);
      setBusy(false);
    }
  }

  const patientOnly = ctx.actor !== 'patient';
  const nothing = a ? !a.scopes.some((s) => s.scope.startsWith('patient/') && isChosen(s.scope)) : false;
  return (
    <section aria-labelledby="titre-page">
      <PageTitle>Autoriser une application</PageTitle>
      {loading && <Busy label="Lecture de la demande de l’application…" />}
      <ErrorBox error={error} context={REFUSED} />
      {ask?.redirect && (
        <div class="error" role="alert">
          <p>{REFUSED[400]}</p>
          <p><a href={ask.redirect}>Retourner à l’application</a></p>
        </div>
      )}
      {a && (
        <form class="card" onSubmit={(e) => { e.preventDefault(); decide('approve'); }}>
          <p>
            L’application <strong>{a.name}</strong> ({a.publisher}) demande l’accès au dossier de{' '}
            <strong>{patientName(ctx.patient)}</strong>.
          </p>
          {a.description && <p class="message-text">{a.description}</p>}
          <fieldset>
            <legend>Cochez ce que vous lui autorisez</legend>
            {a.scopes.map((s) => (
              <label class="choice" key={s.scope}>
                <input type="checkbox" checked={isChosen(s.scope)} onChange={(e) => setChosen({ ...chosen, [s.scope]: (e.target as HTMLInputElement).checked })} />{' '}
                {scopeWords(s.scope)} <span class="meta">({s.scope})</span>
              </label>
            ))}
          </fieldset>
          <p>Vous pourrez retirer cette autorisation à tout moment, depuis la page Applications.</p>
          {patientOnly && <p class="notice guardian">Seul le patient lui-même autorise une application sur son dossier.</p>}
          {nothing && <p class="meta">Cochez au moins un accès à votre dossier pour autoriser l’application.</p>}
          <div class="actions">
            <button type="submit" disabled={busy || patientOnly || nothing}>Autoriser</button>
            <button type="button" class="secondary" disabled={busy} onClick={() => decide('deny')}>Refuser</button>
          </div>
        </form>
      )}
      {busy && <Busy label={leaving || 'Enregistrement de votre choix…'} />}
      <ErrorBox error={sendError} context={REFUSED} />
    </section>
  );
}
