// Messages: the record's secure messages (Communication), grouped in threads by partOf /
// inResponseTo, loaded 50 at a time, newest first; reading one records it as read
// ($mark-read), the patient answers the professional who wrote or starts a conversation with
// one they may write to, sends PDF / JPEG / PNG attachments, opens an attachment and files it
// into the record ($file-attachment).
// A message's text and names come from others: they are rendered as text, never as HTML.
import { useEffect, useState } from 'preact/hooks';
import { entries, get, nextLink, post } from './api';
import type { Ctx } from './main';
import { loadSettings } from './settings';
import { Busy, ErrorBox, Notice, PageTitle, frDate, useLoad } from './ui';

const MSSANTE = 'mssante-address';

function refId(ref: any): string {
  const r: string = ref?.reference || '';
  return r.startsWith('Communication/') ? r.substring('Communication/'.length) : '';
}

// The patient's side of a message: the patient, or a guardian, who writes as their own
// RelatedPerson in the child's record (carnet makes it the sender; a professional never is one).
function ours(ref: any, pid: string): boolean {
  const r = String(ref?.reference || '');
  return r === `Patient/${pid}` || r.startsWith('RelatedPerson/');
}
export function partyName(ref: any, pid: string): string {
  if (!ref) return 'Expéditeur inconnu';
  if (ref.reference === `Patient/${pid}`) return 'Vous';
  if (String(ref.reference || '').startsWith('RelatedPerson/')) return ref.display || 'Représentant légal';
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
  return (m?.recipient || []).some((r: any) => ours(r, pid));
}
// Receipt is per recipient (carnet's $mark-read): the patient's own reading time is the
// message-read extension on their recipient reference; `received` only once all have read it.
const READ_EXT = 'https://carnet.example.org/fhir/StructureDefinition/message-read';
function readByPatient(m: any, pid: string): string {
  const me =
    (m?.recipient || []).find((r: any) => r.reference === `Patient/${pid}`) || (m?.recipient || []).find((r: any) => ours(r, pid));
  const ext = (me?.extension || []).find((e: any) => e.url === READ_EXT);
  return ext?.valueDateTime || m?.received || '';
}
export function unread(m: any, pid: string): boolean {
  return toPatient(m, pid) && !readByPatient(m, pid) && !ours(m.sender, pid);
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

export const PAGE = 50;

export interface MessagePage {
  list: any[];
  next: string | null;
}

// One page of the record's messages, newest first (the first page, or the server's next link).
export async function loadMessagePage(pid: string, next?: string | null): Promise<MessagePage> {
  const b = await get(next || `Communication?patient=${encodeURIComponent(pid)}&_sort=-sent&_count=${PAGE}`);
  return { list: entries(b).filter((r: any) => r.resourceType === 'Communication'), next: nextLink(b) };
}

// The newest messages (the home page's unread conversations).
export async function loadMessages(pid: string): Promise<any[]> {
  return (await loadMessagePage(pid)).list;
}

// The messages of the conversation holding message `id`: pages are read, newest first, until
// that message and every message its conversation answers are loaded (or none is left).
async function loadThreadMessages(pid: string, id: string): Promise<any[]> {
  let all: any[] = [];
  let next: string | null = null;
  for (let i = 0; i < 100; i++) {
    const page: MessagePage = await loadMessagePage(pid, next);
    all = all.concat(page.list);
    next = page.next;
    if (!next) break;
    const t = threads(all).find((x) => x.messages.some((m) => m.id === id));
    if (!t) continue;
    const have = new Set(all.map((m) => m.id));
    const missing = t.messages.some((m) => [...(m.partOf || []), ...(m.inResponseTo || [])].map(refId).some((r) => r && !have.has(r)));
    if (!missing) break;
  }
  return all;
}

// Attachments the patient sends: PDF, JPEG or PNG, 10 Mo at most in all (the limit of a
// secure mail).
export const ATTACHMENT_TYPES = ['application/pdf', 'image/jpeg', 'image/png'];
export const ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024;

function base64Of(file: File): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => {
      const url = String(reader.result || '');
      resolve(url.substring(url.indexOf(',') + 1));
    };
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(file);
  });
}

// The problem with the chosen files, in words ('' when they may be sent).
export function attachmentProblem(files: File[]): string {
  const bad = files.find((f) => !ATTACHMENT_TYPES.includes(f.type));
  if (bad) return `« ${bad.name} » n’est pas accepté : joignez un PDF, une image JPEG ou PNG.`;
  const total = files.reduce((n, f) => n + f.size, 0);
  if (total > ATTACHMENT_MAX_BYTES) return 'Les pièces jointes dépassent 10 Mo en tout : retirez-en ou réduisez-les.';
  return '';
}

export async function attachmentPayloads(files: File[]): Promise<any[]> {
  const out = [];
  for (const f of files)
    out.push({ contentAttachment: { contentType: f.type, title: f.name, size: f.size, data: await base64Of(f) } });
  return out;
}

function AttachmentPicker({ id, files, onChange }: { id: string; files: File[]; onChange: (f: File[]) => void }) {
  return (
    <>
      <label for={id}>Pièces jointes (PDF, JPEG ou PNG, 10 Mo au plus en tout ; facultatif)</label>
      <input
        id={id}
        type="file"
        multiple
        accept=".pdf,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png"
        onChange={(e) => onChange(Array.from((e.target as HTMLInputElement).files || []))}
      />
      {files.length > 0 && (
        <ul class="plain" aria-label="Fichiers choisis">
          {files.map((f) => (
            <li key={f.name}>
              {f.name} ({sizeText(f.size)})
            </li>
          ))}
        </ul>
      )}
    </>
  );
}

function sizeText(n: number): string {
  if (n < 1024) return `${n} octets`;
  if (n < 1024 * 1024) return `${Math.ceil(n / 1024)} ko`;
  return `${(n / 1024 / 1024).toLocaleString('fr-FR', { maximumFractionDigits: 1 })} Mo`;
}

// Whom the patient may write to (the gateway's rule): the professionals of the care team
// (CareTeam participants named by their national id), the declared treating physician and
// those who wrote to them.
const RPPS_SYSTEM = 'urn:oid:1.2.250.1.71.4.2.1';
export interface Recipient {
  key: string; // system|value
  identifier: { system?: string; value: string };
  display: string;
  why: string;
}

export async function loadRecipients(pid: string, messages: any[]): Promise<Recipient[]> {
  const out = new Map<string, Recipient>();
  const add = (identifier: any, display: string, why: string) => {
    if (!identifier?.value) return;
    const key = `${identifier.system || ''}|${identifier.value}`;
    const had = out.get(key);
    if (had) {
      if (!had.why.includes(why)) had.why += `, ${why}`;
      return;
    }
    out.set(key, {
      key,
      identifier: identifier.system ? { system: identifier.system, value: identifier.value } : { value: identifier.value },
      display: display || `Professionnel de santé ${identifier.value}`,
      why,
    });
  };
  const teams = entries(await get(`CareTeam?patient=${encodeURIComponent(pid)}&_count=100`)).filter((r: any) => r.resourceType === 'CareTeam');
  for (const t of teams)
    for (const p of t.participant || []) add(p.member?.identifier, p.member?.display || '', t.name ? `équipe de soins « ${t.name} »` : 'équipe de soins');
  // The declared treating physician, read back from the record's settings (the patient's
  // side reads them; without them the list is the care team's and the correspondents').
  try {
    const settings = await loadSettings(pid);
    if (settings.treatingPhysician)
      add({ system: RPPS_SYSTEM, value: settings.treatingPhysician }, '', 'médecin traitant');
  } catch {
    // not readable here: the other recipients remain
  }
  for (const m of messages)
    if (m.sender && !ours(m.sender, pid)) add(m.sender.identifier, m.sender.display || '', 'vous a écrit');
  return Array.from(out.values()).sort((a, b) => a.display.localeCompare(b.display, 'fr'));
}

export function Messages({ ctx }: { ctx: Ctx }) {
  const pid = ctx.patient.id;
  const [first, error, loading] = useLoad(() => loadMessagePage(pid), [pid]);
  const [more, setMore] = useState<any[]>([]);
  const [next, setNext] = useState<string | null | undefined>(undefined);
  const [moreBusy, setMoreBusy] = useState(false);
  const [moreError, setMoreError] = useState<unknown>(null);
  const list = [...(first?.list || []), ...more];
  const following = next === undefined ? first?.next || null : next;
  const all = threads(list);
  async function loadMore() {
    if (!following) return;
    setMoreBusy(true);
    setMoreError(null);
    try {
      const page = await loadMessagePage(pid, following);
      setMore((m) => [...m, ...page.list]);
      setNext(page.next);
    } catch (e) {
      setMoreError(e);
    } finally {
      setMoreBusy(false);
    }
  }
  return (
    <section aria-labelledby="titre-page">
      <PageTitle>Messages</PageTitle>
      <p>
        Les messages sécurisés échangés avec les professionnels qui vous soignent. Vous pouvez écrire aux professionnels de
        votre équipe de soins et à ceux qui vous ont écrit, joindre des documents et classer une pièce jointe reçue dans vos
        documents.
      </p>
      <p>
        <a class="button" href="#/messages/nouveau">
          Écrire un nouveau message
        </a>
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
      {list.length > 0 && (
        <p class="meta" role="status">
          {list.length} {list.length > 1 ? 'messages affichés' : 'message affiché'}, les plus récents d’abord.
        </p>
      )}
      {following && (
        <button type="button" onClick={loadMore} disabled={moreBusy}>
          Afficher les messages plus anciens
        </button>
      )}
      {moreBusy && <Busy label="Chargement des messages plus anciens…" />}
      <ErrorBox error={moreError} />
    </section>
  );
}

const WRITE_REFUSED = 'Vous ne pouvez écrire qu’aux professionnels de votre équipe de soins et à ceux qui vous ont écrit.';

export function NewMessage({ ctx }: { ctx: Ctx }) {
  const pid = ctx.patient.id;
  const [recipients, error, loading] = useLoad(async () => loadRecipients(pid, (await loadMessagePage(pid)).list), [pid]);
  const [to, setTo] = useState('');
  const [topic, setTopic] = useState('');
  const [text, setText] = useState('');
  const [files, setFiles] = useState<File[]>([]);
  const [problem, setProblem] = useState('');
  const [busy, setBusy] = useState(false);
  const [sendError, setSendError] = useState<unknown>(null);
  async function send(e: Event) {
    e.preventDefault();
    setProblem('');
    setSendError(null);
    const r = (recipients || []).find((x) => x.key === to);
    if (!r) return setProblem('Choisissez le professionnel à qui vous écrivez.');
    if (!topic.trim()) return setProblem('Donnez un objet à votre message.');
    if (!text.trim() && !files.length) return setProblem('Écrivez votre message ou joignez un document.');
    const bad = attachmentProblem(files);
    if (bad) return setProblem(bad);
    setBusy(true);
    try {
      const payload = [...(text.trim() ? [{ contentString: text.trim() }] : []), ...(await attachmentPayloads(files))];
      const created = await post('Communication', {
        resourceType: 'Communication',
        status: 'completed',
        subject: { reference: `Patient/${pid}` },
        sender: { reference: `Patient/${pid}` },
        recipient: [{ identifier: r.identifier, display: r.display }],
        topic: { text: topic.trim() },
        payload,
      });
      ctx.navigate(`/messages/${encodeURIComponent(created.id)}`);
    } catch (err) {
      setSendError(err);
    } finally {
      setBusy(false);
    }
  }
  return (
    <section aria-labelledby="titre-page">
      <p>
        <a href="#/messages">Retour aux messages</a>
      </p>
      <PageTitle>Nouveau message</PageTitle>
      <p>
        Vous pouvez écrire aux professionnels de votre équipe de soins, à votre médecin traitant et à ceux qui vous ont
        écrit. Le message est conservé dans votre dossier.
      </p>
      {loading && <Busy label="Chargement de vos destinataires…" />}
      <ErrorBox error={error} />
      {recipients && !recipients.length && (
        <p>
          Aucun professionnel ne peut encore recevoir vos messages : ajoutez un professionnel à votre équipe de soins, ou
          répondez à un professionnel qui vous a écrit.
        </p>
      )}
      {recipients && recipients.length > 0 && (
        <form class="card" onSubmit={send} noValidate>
          <label for="destinataire">Destinataire</label>
          <select id="destinataire" value={to} onChange={(e) => setTo((e.target as HTMLSelectElement).value)}>
            <option value="">Choisissez un professionnel</option>
            {recipients.map((r) => (
              <option key={r.key} value={r.key}>
                {r.display} — {r.why}
              </option>
            ))}
          </select>
          <label for="objet">Objet</label>
          <input id="objet" value={topic} maxLength={200} onInput={(e) => setTopic((e.target as HTMLInputElement).value)} />
          <label for="texte">Message</label>
          <textarea id="texte" rows={6} value={text} onInput={(e) => setText((e.target as HTMLTextAreaElement).value)} />
          <AttachmentPicker id="pj-nouveau" files={files} onChange={setFiles} />
          <button type="submit" disabled={busy}>
            Envoyer le message
          </button>
          {busy && <Busy label="Envoi du message…" />}
        </form>
      )}
      {problem && (
        <div class="error" role="alert">
          <p>{problem}</p>
        </div>
      )}
      <ErrorBox error={sendError} context={{ 403: WRITE_REFUSED, 413: 'Les pièces jointes sont trop volumineuses.' }} />
    </section>
  );
}

// An attachment opened in the page: a PDF in the browser's viewer, an image, a text as text;
// anything else is offered for download only.
function AttachmentView({ att, title }: { att: any; title: string }) {
  const [url, setUrl] = useState('');
  const [text, setText] = useState<string | null>(null);
  const type = String(att.contentType || '').toLowerCase();
  useEffect(() => {
    if (!att.data) return;
    const bytes = Uint8Array.from(atob(att.data), (c) => c.charCodeAt(0));
    if (type.startsWith('text/')) {
      setText(new TextDecoder().decode(bytes));
      return;
    }
    const u = URL.createObjectURL(new Blob([bytes], { type: type || 'application/octet-stream' }));
    setUrl(u);
    return () => URL.revokeObjectURL(u);
  }, [att.data]);
  if (!att.data) return <p>Cette pièce jointe n’est pas contenue dans le message : elle ne peut pas être ouverte ici.</p>;
  const name = title.replace(/[^\p{L}\p{N} ._-]+/gu, '') || 'piece-jointe';
  if (text !== null)
    return (
      <pre class="attachment-text" aria-label={`Contenu de « ${title} »`}>
        {text}
      </pre>
    );
  if (!url) return <Busy label="Ouverture de la pièce jointe…" />;
  if (type === 'application/pdf')
    return (
      <>
        <iframe class="viewer" title={`Pièce jointe PDF : ${title}`} src={url} />
        <p>
          <a href={url} download={name}>
            Télécharger « {title} »
          </a>
        </p>
      </>
    );
  if (type === 'image/jpeg' || type === 'image/png') return <img class="viewer-image" src={url} alt={`Pièce jointe : ${title}`} />;
  return (
    <p>
      <a href={url} download={name}>
        Télécharger « {title} »
      </a>
    </p>
  );
}

export function MessageThread({ ctx, id }: { ctx: Ctx; id: string }) {
  const pid = ctx.patient.id;
  const [list, error, loading, reload] = useLoad(() => loadThreadMessages(pid, id), [pid, id]);
  const [text, setText] = useState('');
  const [files, setFiles] = useState<File[]>([]);
  const [problem, setProblem] = useState('');
  const [opened, setOpened] = useState<string>('');
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
  const writer = [...thread.messages].reverse().find((m) => m.sender && !ours(m.sender, pid))?.sender;

  async function reply(e: Event) {
    e.preventDefault();
    const form = e.currentTarget as HTMLFormElement;
    setProblem('');
    if (!writer || (!text.trim() && !files.length)) return;
    const bad = attachmentProblem(files);
    if (bad) return setProblem(bad);
    setBusy(true);
    setActionError(null);
    setNotice('');
    setFiled('');
    setContext({ 403: WRITE_REFUSED, 413: 'Les pièces jointes sont trop volumineuses.' });
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
        payload: [...(text.trim() ? [{ contentString: text.trim() }] : []), ...(await attachmentPayloads(files))],
      });
      setText('');
      setFiles([]);
      form.reset();
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
              {toPatient(m, pid) && readByPatient(m, pid) && ` — lu le ${frDate(readByPatient(m, pid), true)}`}
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
                  const key = `${m.id}/${i}`;
                  return (
                    <li key={i}>
                      {title} {a.contentType && <span class="meta">({a.contentType})</span>}{' '}
                      {a.data && (
                        <button
                          type="button"
                          class="small secondary"
                          aria-expanded={opened === key}
                          onClick={() => setOpened(opened === key ? '' : key)}
                          aria-label={`${opened === key ? 'Fermer' : 'Ouvrir'} « ${title} »`}
                        >
                          {opened === key ? 'Fermer' : 'Ouvrir'}
                        </button>
                      )}{' '}
                      {a.data && toPatient(m, pid) && (
                        <button type="button" class="small" disabled={busy} onClick={() => file(m, i, title)} aria-label={`Classer « ${title} » dans mes documents`}>
                          Classer dans mes documents
                        </button>
                      )}
                      {opened === key && <AttachmentView att={a} title={title} />}
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
          <AttachmentPicker id="pj-reponse" files={files} onChange={setFiles} />
          <button type="submit" disabled={busy || (!text.trim() && !files.length)}>
            Envoyer la réponse
          </button>
        </form>
      ) : (
        <p>Aucun professionnel n’a encore répondu dans cette conversation.</p>
      )}
      {busy && <Busy label="Envoi…" />}
      {problem && (
        <div class="error" role="alert">
          <p>{problem}</p>
        </div>
      )}
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
