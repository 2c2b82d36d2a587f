// Settings: notification preferences per kind (e-mail), opposition to emergency access, and
// closing the record (its consequences stated, a confirmation step; reopening a closed one).
// The current state is read on load from Patient/[id]/$record-settings.
import { useEffect, useState } from 'preact/hooks';
import { get, parameters, post } from './api';
import type { Ctx } from './main';
import { Busy, ErrorBox, Notice, PageTitle, patientName, useLoad } from './ui';

const EVENTS: [string, string][] = [
  ['document', 'un nouveau document dans mon dossier'],
  ['access', 'la première consultation par un professionnel'],
  ['emergency', 'un accès en urgence'],
  ['reminder', 'un rappel de vaccination ou de dépistage'],
  ['messages', 'un nouveau message sécurisé'],
];

// The record's settings as the gateway answers them (a Parameters resource).
export interface RecordSettings {
  status: string;
  treatingPhysician: string;
  blocked: { kind: string; actor: string }[];
  emergencyOpposed: boolean;
  notifications: { channel: string; event: string; enabled: boolean; address: string }[];
}

function partValue(p: any): any {
  for (const [k, v] of Object.entries(p || {})) if (k.startsWith('value')) return v;
  return undefined;
}

export function readSettings(params: any): RecordSettings {
  const out: RecordSettings = { status: 'active', treatingPhysician: '', blocked: [], emergencyOpposed: false, notifications: [] };
  for (const p of params?.parameter || []) {
    const parts: Record<string, any> = {};
    for (const x of p.part || []) parts[x.name] = partValue(x);
    if (p.name === 'status') out.status = p.valueCode || 'active';
    else if (p.name === 'treatingPhysician') out.treatingPhysician = p.valueIdentifier?.value || '';
    else if (p.name === 'blocked') out.blocked.push({ kind: parts.kind || '', actor: parts.actor || '' });
    else if (p.name === 'emergencyAccessOpposed') out.emergencyOpposed = !!p.valueBoolean;
    else if (p.name === 'notification')
      out.notifications.push({ channel: parts.channel || '', event: parts.event || '', enabled: !!parts.enabled, address: parts.address || '' });
  }
  return out;
}

export function loadSettings(pid: string): Promise<RecordSettings> {
  return get(`Patient/${encodeURIComponent(pid)}/$record-settings`).then(readSettings);
}

export function Settings({ ctx }: { ctx: Ctx }) {
  const pid = ctx.patient.id;
  const guardian = ctx.actor === 'guardian';
  const whose = guardian ? `le dossier de ${patientName(ctx.patient)}` : 'votre dossier';
  const [current, loadError, loading, reload] = useLoad(() => loadSettings(pid), [pid]);
  const [address, setAddress] = useState('');
  const [chosen, setChosen] = useState<Record<string, boolean>>({});
  const [hook, setHook] = useState('');
  const [hookChosen, setHookChosen] = useState<Record<string, boolean>>({});
  const [opposed, setOpposed] = useState<string>('');
  const [error, setError] = useState<unknown>(null);
  const [notice, setNotice] = useState('');
  const [busy, setBusy] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const [understood, setUnderstood] = useState(false);
  const [errorContext, setErrorContext] = useState<Record<number, string>>({});
  // The form starts from what is stored.
  useEffect(() => {
    if (!current) return;
    const mail = current.notifications.filter((n) => n.channel === 'email');
    setAddress(mail.find((n) => n.address)?.address || '');
    const on: Record<string, boolean> = {};
    for (const n of mail) on[n.event] = n.enabled;
    setChosen(on);
    const hooks = current.notifications.filter((n) => n.channel === 'webhook');
    setHook(hooks.find((n) => n.address)?.address || '');
    const hooked: Record<string, boolean> = {};
    for (const n of hooks) hooked[n.event] = n.enabled;
    setHookChosen(hooked);
    setOpposed(current.emergencyOpposed ? 'oui' : 'non');
  }, [current]);
  const closed = current?.status === 'closed';
  // The form waits for the stored state (what one types is not overwritten by it).
  const waiting = !current && !loadError;

  async function run(work: () => Promise<void>, done: string, context: Record<number, string> = {}) {
    setBusy(true);
    setError(null);
    setNotice('');
    setErrorContext(context);
    try {
      await work();
      setNotice(done);
      reload();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }
  const addressRefused = { 400: 'Vérifiez l’adresse électronique saisie.', 422: 'Vérifiez l’adresse électronique saisie.' };
  const saveNotifications = (e: Event) => {
    e.preventDefault();
    run(async () => {
      for (const [event] of EVENTS)
        await post(`Patient/${encodeURIComponent(pid)}/$notification-preferences`,
          parameters({ channel: 'email', event, enabled: !!chosen[event], address: address.trim() }));
    }, 'Vos préférences de notification sont enregistrées.', addressRefused);
  };
  // The webhook channel: an app of the patient's (a phone's notification service) is told the
  // kind of event, never the record's content; the gateway refuses addresses inside its own
  // network unless the operator lists them.
  const hookRefused = {
    400: 'Vérifiez l’adresse du service de notification : une adresse web complète (https://…).',
    422: 'Vérifiez l’adresse du service de notification : une adresse web publique (https://…).',
  };
  const saveWebhook = (e: Event) => {
    e.preventDefault();
    run(async () => {
      for (const [event] of EVENTS)
        await post(`Patient/${encodeURIComponent(pid)}/$notification-preferences`,
          parameters({ channel: 'webhook', event, enabled: !!hookChosen[event], address: hook.trim() }));
    }, 'Les notifications de votre application sont enregistrées.', hookRefused);
  };
  const saveEmergency = (e: Event) => {
    e.preventDefault();
    run(() => post(`Patient/${encodeURIComponent(pid)}/$emergency-access`, parameters({ opposed: opposed === 'oui' })).then(() => {}),
      opposed === 'oui' ? 'Votre opposition à l’accès en urgence est enregistrée.' : 'L’accès en urgence à votre dossier est autorisé.');
  };
  const closeRecord = (e: Event) => {
    e.preventDefault();
    run(() => post(`Patient/${encodeURIComponent(pid)}/$close`, parameters({ confirm: true })).then(() => {
      setConfirming(false);
      setUnderstood(false);
    }), guardian ? `Le dossier de ${patientName(ctx.patient)} est fermé.` : 'Votre dossier est fermé.',
    { 422: 'La fermeture n’a pas été confirmée : cochez la case de confirmation puis réessayez.' });
  };
  const reopen = () =>
    run(() => post(`Patient/${encodeURIComponent(pid)}/$reactivate`).then(() => {}),
      guardian ? `Le dossier de ${patientName(ctx.patient)} est rouvert.` : 'Votre dossier est rouvert : vos professionnels peuvent de nouveau le consulter.');

  return (
    <section aria-labelledby="titre-page">
      <PageTitle>Réglages</PageTitle>
      {loading && <Busy label="Chargement de vos réglages…" />}
      <ErrorBox error={loadError} />
      {closed && (
        <p class="notice" id="etat-dossier">Ce dossier est fermé : c’est une archive en lecture seule. Aucun professionnel ne peut le consulter ni l’alimenter.</p>
      )}
      <form class="card" onSubmit={saveNotifications} noValidate>
        <h2>Notifications par courriel</h2>
        <label for="courriel">Adresse électronique</label>
        <input id="courriel" type="email" autoComplete="email" disabled={waiting} value={address} onInput={(e) => setAddress((e.target as HTMLInputElement).value)} />
        <fieldset>
          <legend>Me prévenir en cas de</legend>
          {EVENTS.map(([k, text]) => (
            <label class="choice" key={k}>
              <input type="checkbox" disabled={waiting} checked={!!chosen[k]} onChange={(e) => setChosen({ ...chosen, [k]: (e.target as HTMLInputElement).checked })} /> {text}
            </label>
          ))}
        </fieldset>
        <button type="submit" disabled={busy || closed}>Enregistrer mes notifications</button>
      </form>
      <form class="card" onSubmit={saveWebhook} noValidate>
        <h2>Notifications vers une application</h2>
        <p>
          Une application de votre téléphone peut être prévenue par son service de notification : seule la nature de
          l’évènement lui est envoyée, jamais le contenu de votre dossier.
        </p>
        <label for="webhook">Adresse du service de notification (https)</label>
        <input id="webhook" type="url" inputMode="url" disabled={waiting} value={hook} onInput={(e) => setHook((e.target as HTMLInputElement).value)} />
        <fieldset>
          <legend>Prévenir l’application en cas de</legend>
          {EVENTS.map(([k, text]) => (
            <label class="choice" key={`webhook-${k}`}>
              <input type="checkbox" disabled={waiting} checked={!!hookChosen[k]} onChange={(e) => setHookChosen({ ...hookChosen, [k]: (e.target as HTMLInputElement).checked })} /> application : {text}
            </label>
          ))}
        </fieldset>
        <button type="submit" disabled={busy || closed}>Enregistrer les notifications de l’application</button>
      </form>
      <form class="card" onSubmit={saveEmergency}>
        <h2>Accès en urgence</h2>
        <p>En cas d’urgence, un professionnel peut consulter votre dossier sans votre accord, pour une durée limitée ; chaque accès vous est signalé. Vous pouvez vous y opposer.</p>
        {current && (
          <p id="etat-urgence">
            Actuellement : {current.emergencyOpposed ? 'vous vous opposez à l’accès en urgence.' : 'l’accès en urgence est autorisé.'}
          </p>
        )}
        <fieldset>
          <legend>Accès en urgence à mon dossier</legend>
          <label class="choice"><input type="radio" name="urgence" disabled={waiting} checked={opposed === 'non'} onChange={() => setOpposed('non')} /> je l’autorise</label>
          <label class="choice"><input type="radio" name="urgence" disabled={waiting} checked={opposed === 'oui'} onChange={() => setOpposed('oui')} /> je m’y oppose</label>
        </fieldset>
        <button type="submit" disabled={busy || !opposed || closed}>Enregistrer mon choix</button>
      </form>
      <section class="card" aria-labelledby="h-fermeture">
        <h2 id="h-fermeture">{closed ? 'Rouvrir mon dossier' : 'Fermer mon dossier'}</h2>
        {closed ? (
          <>
            <p>
              Ce dossier est fermé. Il est conservé dix ans après sa fermeture, puis supprimé. Tant qu’il n’est pas
              supprimé, vous pouvez le rouvrir : vos professionnels retrouveront l’accès qu’ils avaient, et vos réglages
              (blocages, médecin traitant, notifications) sont conservés.
            </p>
            <button type="button" disabled={busy} onClick={reopen}>Rouvrir mon dossier</button>
          </>
        ) : (
          <>
            <p>Fermer {whose} a les conséquences suivantes :</p>
            <ul id="consequences-fermeture">
              <li>aucun professionnel de santé ne pourra plus le consulter ni y ajouter de document, même en cas d’urgence ;</li>
              <li>les documents que vos professionnels ou établissements voudront y déposer seront refusés ;</li>
              <li>vous pourrez toujours le consulter, en lecture seule, sans pouvoir le modifier ;</li>
              <li>il est conservé dix ans après sa fermeture, puis supprimé définitivement ; l’historique des accès est gardé ;</li>
              <li>vous pourrez le rouvrir à tout moment pendant ces dix ans.</li>
            </ul>
            {!confirming ? (
              <button type="button" class="secondary" disabled={busy || !current} onClick={() => setConfirming(true)}>Fermer mon dossier…</button>
            ) : (
              <form onSubmit={closeRecord}>
                <label class="choice">
                  <input type="checkbox" checked={understood} onChange={(e) => setUnderstood((e.target as HTMLInputElement).checked)} />{' '}
                  J’ai compris les conséquences et je veux fermer {whose}.
                </label>
                <div class="actions">
                  <button type="submit" disabled={busy || !understood}>Confirmer la fermeture</button>
                  <button type="button" class="secondary" disabled={busy} onClick={() => { setConfirming(false); setUnderstood(false); }}>Annuler</button>
                </div>
              </form>
            )}
          </>
        )}
      </section>
      {busy && <Busy label="Enregistrement…" />}
      {notice && <Notice>{notice}</Notice>}
      <ErrorBox error={error} context={errorContext} />
    </section>
  );
}
