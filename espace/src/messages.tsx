// Messages: the record's secure messages (Communication), grouped in threads by partOf /
// inResponseTo; reading one records it as read ($mark-read), the patient answers the
// professional who wrote, and files an attachment into the record ($file-attachment).
// A message's text and names come from others: they are rendered as text, never as HTML.
import { useEffect, useState } from 'preact/hooks';
import { entries, get, post } from './api';
import type { Ctx } from './main';
import { Busy, ErrorBox, Notice, PageTitle, frDate, useLoad } from './ui';

const MSSANTE = 'mssante-address';

function refId(ref: any): string {
  const r: string = ref?.reference || '';
  return r.startsWith('Communication/') ? r.substring('Communication/'.length) : '';
}

export function partyName(ref: any, pid: string): string {
  if (!ref) return 'Expéditeur inconnu';
  if (ref.reference === `Patient/${pid}`) return 'Vous';
  const address = (ref.extension || []).find((e: any) => String(e.url || '').endsWith(MSSANTE))?.valueContactPoint?.value;
  const name = ref.display || (ref.identifier?.value ? `Professionnel de santé ${ref.identifier.value}` : ref.reference || 'Expéditeur inconnu');
  return address ? `${name} (${address})` : name;
}

export function subject(m: any): string {
  return m?.topic?.text || m?.topic?.coding?.[0]?.display || m?.note?.[0]?.text || 'Sans objet';
}
function when(m: any): string {
  return m?.sent || m?.meta?.lastUpdated || '';
}
function texts(m: any): string[] {
  return (m?.payload || []).filter((p: any) => typeof p.contentString === 'string').map((p: any) => p.contentString);
}
function attachments(m: any): any[] {
  return (m?.payload || []).filter((p: any) => p.contentAttachment).map((p: any) => p.contentAttachment);
}
function toPatient(m: any, pid: string): boolean {
  return (m?.recipient || []).some((r: any) => r.reference === `Patient/${pid}`);
}
export function unread(m: any, pid: string): boolean {
  return toPatient(m, pid) && !m.received && m.sender?.reference !== `Patient/${pid}`;
}

export interface Thread {
  id: string; // the first message's id
  messages: any[]; // oldest first
}

// Threads: a message joins the thread of the message it answers or is part of (when that
// message is in the list); the newest thread first.
export function threads(list: any[]): Thread[] {
  const byId = new Map(list.map((m) => [m.id, m]));
  const root = (m: any): string => {
    const seen = new Set<string>();
    let cur = m;
    for (;;) {
      seen.add(cur.id);
      const up = [...(cur.partOf || []), ...(cur.inResponseTo || [])].map(refId).find((id) => byId.has(id) && !seen.has(id));
      if (!up) return cur.id;
      cur = byId.get(up);
    }
  };
  const groups = new Map<string, any[]>();
  for (const m of list) {
    const r = root(m);
    groups.set(r, [...(groups.get(r) || []), m]);
  }
  const out = Array.from(groups.entries()).map(([id, ms]) => ({
    id,
    messages: ms.sort((a, b) => when(a).localeCompare(when(b))),
  }));
  return out.sort((a, b) => when(b.messages[b.messages.length - 1]).localeCompare(when(a.messages[a.messages.length - 1])));
}

export async function loadMessages(pid: string): Promise<any[]> {
  const b = await get(`Communication?patient=${encodeURIComponent(pid)}&_count=200`);
  return entries(b).filter((r: any) => r.resourceType === 'Communication');
}

export function Messages({ ctx }: { ctx: Ctx }) {
  const pid = ctx.patient.id;
  const [list, error, loading] = useLoad(() => loadMessages(pid), [pid]);
  const all = threads(list || []);
  return (
    <section aria-labelledby="titre-page">
      <PageTitle>Messages</PageTitle>
      <p>
        Les messages sécurisés échangés avec les professionnels qui vous soignent. Vous pouvez répondre à un professionnel qui
        vous a écrit et classer une pièce jointe dans vos documents.
      </p>
      {loading && <Busy label="Chargement de vos messages…" />}
      <ErrorBox error={error} />
      {!loading && !error && !all.length && <p>Vous n’avez aucun message.</p>}
      {all.length > 0 && (
        <ul class="docs">
          {all.map((t) => {
            const last = t.messages[t.messages.length - 1];
            const news = t.messages.filter((m) => unread(m, pid)).length;
            return (
              <li key={t.id} class="doc">
                <a href={`#/messages/${encodeURIComponent(t.id)}`}>{subject(t.messages[0])}</a>
                <span class="meta">
                  {partyName(last.sender, pid)} — {frDate(when(last), true)} — {t.messages.length}{' '}
                  {t.messages.length > 1 ? 'messages' : 'message'}
                </span>
                {news > 0 && <span class="tag">{news > 1 ? `${news} non lus` : 'Non lu'}</span>}
              </li>
            );
          })}
        </ul>
      )}
    </section>
  );
}

export function MessageThread({ ctx, id }: { ctx: Ctx; id: string }) {
  const pid = ctx.patient.id;
  const [list, error, loading, reload] = useLoad(() => loadMessages(pid), [pid]);
  const [text, setText] = useState('');
  const [busy, setBusy] = useState(false);
  const [actionError, setActionError] = useState<unknown>(null);
  const [context, setContext] = useState<Record<number, string>>({});
  const [notice, setNotice] = useState('');
  const [filed, setFiled] = useState('');
  const thread = threads(list || []).find((t) => t.id === id || t.messages.some((m) => m.id === id));

  // Opening the thread records the messages addressed to the patient as read.
  useEffect(() => {
    if (!thread) return;
    const toMark = thread.messages.filter((m) => unread(m, pid));
    if (!toMark.length) return;
    Promise.all(toMark.map((m) => post(`Communication/${encodeURIComponent(m.id)}/$mark-read`)))
      .then(() => reload())
      .catch(setActionError);
  }, [thread?.messages.length, list]);

  if (loading && !list) return <Busy label="Chargement du message…" />;
  if (error) return <ErrorBox error={error} />;
  if (!thread)
    return (
      <section aria-labelledby="titre-page">
        <PageTitle>Message introuvable</PageTitle>
        <p>Ce message n’existe pas ou ne vous est pas destiné.</p>
        <a href="#/messages">Retour aux messages</a>
      </section>
    );
  const last = thread.messages[thread.messages.length - 1];
  // The answer goes to the professional who wrote last in the thread.
  const writer = [...thread.messages].reverse().find((m) => m.sender && m.sender.reference !== `Patient/${pid}`)?.sender;

  async function reply(e: Event) {
    e.preventDefault();
    if (!writer || !text.trim()) return;
    setBusy(true);
    setActionError(null);
    setNotice('');
    setFiled('');
    setContext({ 403: 'Vous ne pouvez écrire qu’aux professionnels de votre équipe de soins et à ceux qui vous ont écrit.' });
    const to: any = {};
    if (writer.reference) to.reference = writer.reference;
    if (writer.identifier) to.identifier = writer.identifier;
    if (writer.display) to.display = writer.display;
    try {
      await post('Communication', {
        resourceType: 'Communication',
        status: 'completed',
        subject: { reference: `Patient/${pid}` },
        sender: { reference: `Patient/${pid}` },
        recipient: [to],
        inResponseTo: [{ reference: `Communication/${last.id}` }],
        topic: thread!.messages[0].topic || { text: subject(thread!.messages[0]) },
        payload: [{ contentString: text.trim() }],
      });
      setText('');
      setNotice('Votre réponse est envoyée.');
      reload();
    } catch (err) {
      setActionError(err);
    } finally {
      setBusy(false);
    }
  }

  async function file(m: any, index: number, title: string) {
    setBusy(true);
    setActionError(null);
    setNotice('');
    setFiled('');
    setContext({ 422: 'Cette pièce jointe ne peut pas être classée : elle n’est pas jointe au message lui-même.' });
    try {
      const doc = await post(`Communication/${encodeURIComponent(m.id)}/$file-attachment`, {
        resourceType: 'Parameters',
        parameter: [{ name: 'attachment', valueInteger: index }],
      });
      setNotice(`La pièce jointe « ${title} » est classée dans vos documents.`);
      setFiled(doc?.id || '');
    } catch (err) {
      setActionError(err);
    } finally {
      setBusy(false);
    }
  }

  return (
    <section aria-labelledby="titre-page">
      <p>
        <a href="#/messages">Retour aux messages</a>
      </p>
      <PageTitle>{subject(thread.messages[0])}</PageTitle>
      <ol class="thread">
        {thread.messages.map((m) => (
          <li key={m.id} class="card message">
            <p class="meta">
              <strong>De :</strong> {partyName(m.sender, pid)}
              <br />
              <strong>À :</strong> {(m.recipient || []).map((r: any) => partyName(r, pid)).join(', ')}
              <br />
              <strong>Envoyé le :</strong> {frDate(when(m), true)}
              {m.received && toPatient(m, pid) && ` — lu le ${frDate(m.received, true)}`}
            </p>
            {texts(m).map((t, i) => (
              <p key={i} class="message-text">
                {t}
              </p>
            ))}
            {attachments(m).length > 0 && (
              <ul class="plain">
                {attachments(m).map((a, i) => {
                  const title = a.title || `Pièce jointe ${i + 1}`;
                  return (
                    <li key={i}>
                      {title} {a.contentType && <span class="meta">({a.contentType})</span>}{' '}
                      {a.data && toPatient(m, pid) && (
                        <button type="button" class="small" disabled={busy} onClick={() => file(m, i, title)} aria-label={`Classer « ${title} » dans mes documents`}>
                          Classer dans mes documents
                        </button>
                      )}
                    </li>
                  );
                })}
              </ul>
            )}
          </li>
        ))}
      </ol>
      {writer ? (
        <form class="card" onSubmit={reply}>
          <h2>Répondre</h2>
          <label for="reponse">Votre réponse à {partyName(writer, pid)}</label>
          <textarea id="reponse" rows={5} value={text} onInput={(e) => setText((e.target as HTMLTextAreaElement).value)} />
          <button type="submit" disabled={busy || !text.trim()}>
            Envoyer la réponse
          </button>
        </form>
      ) : (
        <p>Aucun professionnel n’a encore répondu dans cette conversation.</p>
      )}
      {busy && <Busy label="Envoi…" />}
      {notice && <Notice>{notice}</Notice>}
      {filed && (
        <p>
          <a href={`#/documents/${encodeURIComponent(filed)}`}>Ouvrir le document classé</a>
        </p>
      )}
      <ErrorBox error={actionError} context={context} />
    </section>
  );
}
