// The development login and the home page (what is new since the last visit).
import { useState } from 'preact/hooks';
import { devLogin, entries, get, setSession } from './api';
import type { Ctx } from './main';
import { Busy, ErrorBox, PageTitle, frDate, useLoad } from './ui';
import { REMINDER_STATUS, remindersOf } from './more';
import { accessRow } from './history';
import { docTitle, docDate } from './documents';
import { loadMessages, partyName, subject, threads, unread } from './messages';

export function Login({ onDone }: { onDone: () => void }) {
  const [kind, setKind] = useState('patient');
  const [ins, setIns] = useState('');
  const [children, setChildren] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  async function submit(e: Event) {
    e.preventDefault();
    setError(null);
    setBusy(true);
    try {
      const body =
        kind === 'patient'
          ? { actor: 'patient', ins: ins.trim() }
          : { actor: 'guardian', ins: ins.trim(), guardian_of: children.split(/[\s,;]+/).filter(Boolean) };
      const r = await devLogin(body);
      setSession(r.token, r.actor);
      onDone();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }
  return (
    <section aria-labelledby="titre-page">
      <PageTitle>Connexion à Mon espace santé</PageTitle>
      <p>
        Serveur de développement : choisissez l’identité avec laquelle entrer. En service réel, vous vous
        connectez avec votre identité numérique nationale et ce choix n’existe pas.
      </p>
      <form onSubmit={submit} class="card">
        <fieldset>
          <legend>Vous êtes</legend>
          <label class="choice">
            <input type="radio" name="kind" value="patient" checked={kind === 'patient'} onChange={() => setKind('patient')} />
            le patient
          </label>
          <label class="choice">
            <input type="radio" name="kind" value="guardian" checked={kind === 'guardian'} onChange={() => setKind('guardian')} />
            un représentant légal (parent, tuteur)
          </label>
        </fieldset>
        <label for="ins">
          {kind === 'patient' ? 'Votre INS (matricule de santé, 13 à 15 chiffres)' : 'Votre INS (facultatif)'}
        </label>
        <input id="ins" name="ins" inputMode="numeric" autoComplete="off" value={ins} required={kind === 'patient'}
          onInput={(e) => setIns((e.target as HTMLInputElement).value)} />
        {kind === 'guardian' && (
          <>
            <label for="enfants">INS de vos enfants (séparés par des virgules)</label>
            <input id="enfants" name="enfants" inputMode="numeric" autoComplete="off" value={children} required
              onInput={(e) => setChildren((e.target as HTMLInputElement).value)} />
          </>
        )}
        <button type="submit" disabled={busy}>Se connecter</button>
        {busy && <Busy label="Connexion en cours…" />}
      </form>
      <ErrorBox error={error} context={{ 400: 'Vérifiez l’identité saisie : un INS compte 13 à 15 chiffres.' }} />
    </section>
  );
}

// The previous visit's time (kept per record in this browser: a date, nothing else), read
// once per session, then moved to now.
function lastVisit(pid: string): string | null {
  const key = 'espace.visite.' + pid;
  const seen = sessionStorage.getItem(key);
  if (seen !== null) return seen || null;
  const previous = localStorage.getItem('espace.derniere-visite.' + pid) || '';
  sessionStorage.setItem(key, previous);
  localStorage.setItem('espace.derniere-visite.' + pid, new Date().toISOString());
  return previous || null;
}

export function Home({ ctx }: { ctx: Ctx }) {
  const pid = ctx.patient.id;
  const since = lastVisit(pid);
  const sinceParam = since || new Date(Date.now() - 30 * 86400e3).toISOString();
  const [docs, docsError, docsLoading] = useLoad(
    () => get(`DocumentReference?patient=${encodeURIComponent(pid)}&_sort=-date&_count=5`),
    [pid],
  );
  const [accesses, accError, accLoading] = useLoad(
    () => get(`AuditEvent?patient=${encodeURIComponent(pid)}&date=gt${encodeURIComponent(sinceParam.substring(0, 19) + "Z")}&_count=5`),
    [pid],
  );
  const newDocs = entries(docs).filter(
    (d: any) => d.resourceType === 'DocumentReference' && (!since || (d.meta?.lastUpdated || docDate(d)) > since),
  );
  const [messages, msgError, msgLoading] = useLoad(() => loadMessages(pid), [pid]);
  const unreadThreads = threads(messages || []).filter((t) => t.messages.some((m) => unread(m, pid)));
  const rows = entries(accesses).filter((a: any) => a.resourceType === 'AuditEvent').map(accessRow);
  // The reminders due now (vaccinations, screenings), from the agenda.
  const [agenda, agendaError, agendaLoading] = useLoad(() => get(`Patient/${encodeURIComponent(pid)}/$agenda`), [pid]);
  const dueReminders = remindersOf(entries(agenda)).filter((r) => r.status === 'due' || r.status === 'overdue');
  return (
    <section aria-labelledby="titre-page">
      <PageTitle>Bonjour</PageTitle>
      <p>{since ? `Ce qui est nouveau depuis votre dernière visite, le ${frDate(since, true)}.` : 'Bienvenue dans votre espace santé. Voici ce qui s’est passé ces 30 derniers jours.'}</p>
      <div class="grid">
        <section class="card" aria-labelledby="h-docs">
          <h2 id="h-docs">Nouveaux documents</h2>
          {docsLoading && <Busy label="Recherche des documents…" />}
          <ErrorBox error={docsError} />
          {!docsLoading && !docsError && (newDocs.length ? (
            <ul class="plain">
              {newDocs.map((d: any) => (
                <li key={d.id}>
                  <a href={`#/documents/${encodeURIComponent(d.id)}`}>{docTitle(d)}</a> — {frDate(docDate(d))}
                </li>
              ))}
            </ul>
          ) : <p>Aucun nouveau document.</p>)}
          <p><a href="#/documents">Tous vos documents</a></p>
        </section>
        <section class="card" aria-labelledby="h-messages">
          <h2 id="h-messages">Messages non lus</h2>
          {msgLoading && <Busy label="Recherche des messages…" />}
          <ErrorBox error={msgError} />
          {!msgLoading && !msgError && (unreadThreads.length ? (
            <ul class="plain">
              {unreadThreads.map((t) => (
                <li key={t.id}>
                  <a href={`#/messages/${encodeURIComponent(t.id)}`}>{subject(t.messages[0])}</a> —{' '}
                  {partyName(t.messages[t.messages.length - 1].sender, pid)}
                </li>
              ))}
            </ul>
          ) : <p>Aucun message non lu.</p>)}
          <p><a href="#/messages">Tous vos messages</a></p>
        </section>
        <section class="card" aria-labelledby="h-rappels">
          <h2 id="h-rappels">Rappels à faire</h2>
          {agendaLoading && <Busy label="Recherche des rappels…" />}
          <ErrorBox error={agendaError} />
          {!agendaLoading && !agendaError && (dueReminders.length ? (
            <ul class="plain">
              {dueReminders.map((r, i) => (
                <li key={i}>
                  {r.what} — {REMINDER_STATUS[r.status] || r.status}
                  {r.date && `, à partir du ${frDate(r.date)}`}
                </li>
              ))}
            </ul>
          ) : <p>Aucun rappel à faire.</p>)}
          <p><a href="#/agenda">Votre agenda</a></p>
        </section>
        <section class="card" aria-labelledby="h-acces">
          <h2 id="h-acces">Accès à votre dossier</h2>
          {accLoading && <Busy label="Recherche des accès…" />}
          <ErrorBox error={accError} />
          {!accLoading && !accError && (rows.length ? (
            <ul class="plain">
              {rows.map((r, i) => (
                <li key={i}>
                  {r.who}{r.profession ? ` (${r.profession})` : ''} — {r.what}, {frDate(r.when, true)}
                  {r.emergency && <strong> — accès en urgence</strong>}
                </li>
              ))}
            </ul>
          ) : <p>Personne n’a consulté votre dossier.</p>)}
          <p><a href="#/historique">Tout l’historique des accès</a></p>
        </section>
      </div>
    </section>
  );
}
