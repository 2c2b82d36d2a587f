// Documents: the record's documents by category, newest first, with search and filters; one
// document opened (PDF and images as themselves, a CDA from its sanitised narrative), masked
// from professionals or shown again, and who accessed it; a document uploaded.
import { useEffect, useState } from 'preact/hooks';
import { entries, get, nextLink, post, request } from './api';
import type { Ctx } from './main';
import { frameDocument } from './cda';
import { accessRow } from './history';
import { Busy, ErrorBox, MASQUE_PS, Notice, PageTitle, VISIBILITY_SYSTEM, frDate, isMasked, useLoad } from './ui';

// The DMP's document classes (classCode), in French.
const CLASSES: Record<string, string> = {
  '10': 'Comptes rendus',
  '11': 'Synthèses',
  '31': 'Imagerie médicale',
  '42': 'Prescriptions',
  '60': 'Vaccinations',
};

export function docTitle(d: any): string {
  return (
    d.description ||
    d.content?.[0]?.attachment?.title ||
    d.type?.text ||
    d.type?.coding?.[0]?.display ||
    'Document sans titre'
  );
}
export function docDate(d: any): string {
  return d.content?.[0]?.attachment?.creation || d.date || d.meta?.lastUpdated || '';
}
export function docCategory(d: any): string {
  const c = (d.category || [])[0]?.coding?.[0];
  if (c && CLASSES[c.code]) return CLASSES[c.code];
  if (c?.display) return c.display;
  return 'Autres documents';
}
function docType(d: any): string {
  return d.type?.coding?.[0]?.display || d.type?.text || '';
}
function docAuthor(d: any): string {
  const a = (d.author || [])[0];
  return a?.display || '';
}

export function DocumentList({ ctx }: { ctx: Ctx }) {
  const pid = ctx.patient.id;
  const [text, setText] = useState('');
  const [query, setQuery] = useState('');
  const [category, setCategory] = useState('');
  const [pages, setPages] = useState<any[]>([]);
  const [more, setMore] = useState<string | null>(null);
  const [bundle, error, loading] = useLoad(
    () =>
      get(
        `DocumentReference?patient=${encodeURIComponent(pid)}&_sort=-date&_count=50` +
          (query ? `&_content=${encodeURIComponent(query)}` : ''),
      ),
    [pid, query],
  );
  useEffect(() => {
    setPages(bundle ? [bundle] : []);
    setMore(bundle ? nextLink(bundle) : null);
  }, [bundle]);
  const docs = pages.flatMap((b) => entries(b)).filter((d: any) => d.resourceType === 'DocumentReference' && d.status !== 'entered-in-error');
  docs.sort((a: any, b: any) => (docDate(b) > docDate(a) ? 1 : -1));
  const categories = Array.from(new Set(docs.map(docCategory))).sort();
  const shown = docs.filter((d: any) => !category || docCategory(d) === category);
  const groups = Array.from(new Set(shown.map(docCategory)));
  async function loadMore() {
    if (!more) return;
    const b = await get(more);
    setPages((p) => [...p, b]);
    setMore(nextLink(b));
  }
  return (
    <section aria-labelledby="titre-page">
      <PageTitle>Mes documents</PageTitle>
      <p><a class="button" href="#/documents/envoyer">Ajouter un document</a></p>
      <form class="filters" role="search" onSubmit={(e) => { e.preventDefault(); setQuery(text.trim()); }}>
        <div>
          <label for="recherche">Rechercher dans les documents</label>
          <input id="recherche" type="search" value={text} onInput={(e) => setText((e.target as HTMLInputElement).value)} />
        </div>
        <div>
          <label for="categorie">Catégorie</label>
          <select id="categorie" value={category} onChange={(e) => setCategory((e.target as HTMLSelectElement).value)}>
            <option value="">Toutes</option>
            {categories.map((c) => <option key={c} value={c}>{c}</option>)}
          </select>
        </div>
        <button type="submit">Rechercher</button>
      </form>
      {loading && <Busy label="Chargement des documents…" />}
      <ErrorBox error={error} />
      {!loading && !error && !shown.length && <p>{query ? `Aucun document ne contient « ${query} ».` : 'Aucun document dans ce dossier.'}</p>}
      {groups.map((g) => (
        <section key={g} aria-labelledby={'cat-' + g}>
          <h2 id={'cat-' + g}>{g}</h2>
          <ul class="docs">
            {shown.filter((d: any) => docCategory(d) === g).map((d: any) => (
              <li key={d.id} class="doc">
                <a href={`#/documents/${encodeURIComponent(d.id)}`}>{docTitle(d)}</a>
                <span class="meta">
                  {frDate(docDate(d))}
                  {docType(d) && ` · ${docType(d)}`}
                  {docAuthor(d) && ` · ${docAuthor(d)}`}
                </span>
                {isMasked(d) && <span class="tag">Masqué aux professionnels</span>}
              </li>
            ))}
          </ul>
        </section>
      ))}
      {more && <button type="button" onClick={loadMore}>Afficher plus de documents</button>}
    </section>
  );
}

function Content({ doc }: { doc: any }) {
  const att = doc.content?.[0]?.attachment || {};
  const [state, setState] = useState<{ kind: string; url?: string; srcdoc?: string } | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    let url = '';
    let live = true;
    (async () => {
      try {
        let blob: Blob;
        if (att.data) {
          const bytes = Uint8Array.from(atob(att.data), (c) => c.charCodeAt(0));
          blob = new Blob([bytes], { type: att.contentType || 'application/octet-stream' });
        } else if (att.url) {
          // Any type: the content as stored (text/xml would ask for the Binary resource in FHIR XML).
          const res = await request('GET', att.url, undefined, { Accept: '*/*' });
          blob = await res.blob();
        } else {
          setState({ kind: 'none' });
          return;
        }
        const type = (att.contentType || blob.type || '').toLowerCase();
        if (!live) return;
        if (type.includes('xml') || type.includes('cda')) {
          setState({ kind: 'cda', srcdoc: frameDocument(await blob.text()) });
        } else {
          url = URL.createObjectURL(new Blob([blob], { type }));
          setState({ kind: type === 'application/pdf' ? 'pdf' : type.startsWith('image/') ? 'image' : 'file', url });
        }
      } catch (e) {
        if (live) setError(e);
      }
    })();
    return () => {
      live = false;
      if (url) URL.revokeObjectURL(url);
    };
  }, [doc.id]);
  if (error) return <ErrorBox error={error} />;
  if (!state) return <Busy label="Ouverture du document…" />;
  const title = docTitle(doc);
  const name = title.replace(/[^\p{L}\p{N} _-]+/gu, '') || 'document';
  switch (state.kind) {
    case 'cda':
      return (
        <iframe class="viewer" title={`Contenu du document : ${title}`} sandbox="" referrerpolicy="no-referrer" srcdoc={state.srcdoc} />
      );
    case 'pdf':
      return (
        <>
          <iframe class="viewer" title={`Document PDF : ${title}`} src={state.url} />
          <p><a href={state.url} download={name + '.pdf'}>Télécharger le PDF</a></p>
        </>
      );
    case 'image':
      return <img class="viewer-image" src={state.url} alt={title} />;
    case 'file':
      return <p><a href={state.url} download={name}>Télécharger le document</a></p>;
    default:
      return <p>Ce document n’a pas de contenu consultable.</p>;
  }
}

export function DocumentView({ ctx, id }: { ctx: Ctx; id: string }) {
  const [doc, error, loading, reload] = useLoad(() => get(`DocumentReference/${encodeURIComponent(id)}`), [id]);
  // Who accessed it: the access history's events naming this document or its content
  // (AuditEvent?entity=), newest first, a page at a time.
  const [accesses, setAccesses] = useState<any[]>([]);
  const [accMore, setAccMore] = useState<string | null>(null);
  const [accError, setAccError] = useState<unknown>(null);
  const [accLoading, setAccLoading] = useState(false);
  async function loadAccesses(url: string, append: boolean) {
    setAccLoading(true);
    setAccError(null);
    try {
      const b = await get(url);
      setAccesses((prev) => (append ? prev : []).concat(entries(b)));
      setAccMore(nextLink(b));
    } catch (e) {
      setAccError(e);
    } finally {
      setAccLoading(false);
    }
  }
  const [actionError, setActionError] = useState<unknown>(null);
  const [notice, setNotice] = useState('');
  const [busy, setBusy] = useState(false);
  async function setMasked(mask: boolean) {
    setBusy(true);
    setActionError(null);
    setNotice('');
    try {
      await post(`DocumentReference/${encodeURIComponent(id)}/${mask ? '$meta-add' : '$meta-delete'}`, {
        resourceType: 'Parameters',
        parameter: [{ name: 'meta', valueMeta: { security: [{ system: VISIBILITY_SYSTEM, code: MASQUE_PS }] } }],
      });
      setNotice(mask ? 'Le document est maintenant masqué aux professionnels de santé.' : 'Le document est de nouveau visible par les professionnels qui vous suivent.');
      reload();
    } catch (e) {
      setActionError(e);
    } finally {
      setBusy(false);
    }
  }
  const masked = isMasked(doc);
  const content: string = doc?.content?.[0]?.attachment?.url || '';
  const binary = /^Binary\/[A-Za-z0-9.-]+$/.test(content) ? content : '';
  useEffect(() => {
    if (!doc) return;
    const entity = [`DocumentReference/${id}`, binary].filter(Boolean).join(',');
    loadAccesses(`AuditEvent?patient=${encodeURIComponent(ctx.patient.id)}&entity=${encodeURIComponent(entity)}&_count=20`, false);
  }, [id, doc ? 1 : 0, binary]);
  if (loading && !doc) return <Busy label="Chargement du document…" />;
  if (error) return (<section><PageTitle>Document</PageTitle><ErrorBox error={error} /><p><a href="#/documents">Retour aux documents</a></p></section>);
  const rows = accesses
    .filter((a: any) => a.resourceType === 'AuditEvent')
    .map(accessRow)
    .filter((r) => r.kind !== 'patient' && r.kind !== 'guardian');
  return (
    <section aria-labelledby="titre-page">
      <p><a href="#/documents">← Retour aux documents</a></p>
      <PageTitle>{docTitle(doc)}</PageTitle>
      <dl class="facts">
        <dt>Date</dt><dd>{frDate(docDate(doc))}</dd>
        <dt>Catégorie</dt><dd>{docCategory(doc)}</dd>
        {docType(doc) && (<><dt>Type</dt><dd>{docType(doc)}</dd></>)}
        {docAuthor(doc) && (<><dt>Auteur</dt><dd>{docAuthor(doc)}</dd></>)}
        <dt>Visibilité</dt>
        <dd id="visibilite">{masked ? 'Masqué aux professionnels de santé (vous et son auteur le voyez)' : 'Visible par les professionnels autorisés'}</dd>
      </dl>
      <div class="actions">
        {masked ? (
          <button type="button" disabled={busy} onClick={() => setMasked(false)}>Rendre visible aux professionnels</button>
        ) : (
          <button type="button" disabled={busy} onClick={() => setMasked(true)}>Masquer aux professionnels</button>
        )}
      </div>
      {busy && <Busy label="Enregistrement…" />}
      {notice && <Notice>{notice}</Notice>}
      <ErrorBox error={actionError} context={{ 403: 'Vous ne pouvez pas changer la visibilité de ce document.' }} />
      <h2>Contenu</h2>
      <Content doc={doc} />
      <h2>Qui a consulté ou ajouté ce document</h2>
      {accLoading && <Busy label="Recherche des accès…" />}
      <ErrorBox error={accError} />
      {rows.length > 0 && (
        <ul class="plain" id="acces-document">
          {rows.map((r, i) => (
            <li key={i}>{r.who}{r.profession ? ` (${r.profession})` : ''} — {r.what}, {frDate(r.when, true)}{r.emergency && <strong> — en urgence</strong>}</li>
          ))}
        </ul>
      )}
      {!accLoading && !accError && !rows.length && !accMore && <p>Personne d’autre que vous n’a consulté ce document.</p>}
      {accMore && (
        <button type="button" class="secondary" disabled={accLoading} onClick={() => loadAccesses(accMore, true)}>Afficher les accès plus anciens</button>
      )}
    </section>
  );
}

const MAX_BYTES = 20 * 1024 * 1024;
const TYPES: [string, string][] = [
  ['11490-0', 'Compte rendu de sortie d’hospitalisation'],
  ['11502-2', 'Compte rendu d’examens biologiques'],
  ['18748-4', 'Compte rendu d’imagerie médicale'],
  ['57833-6', 'Ordonnance'],
  ['11369-6', 'Historique des vaccinations'],
];
const ACCEPTED = ['application/pdf', 'image/jpeg', 'image/png'];

function insOf(patient: any): string {
  const ids = patient.identifier || [];
  const ins = ids.find((i: any) => /1\.2\.250\.1\.213\.1\.4\.(8|9|10|11)/.test(i.system || '')) || ids[0];
  return ins ? `${ins.system}|${ins.value}` : '';
}

export function Upload({ ctx }: { ctx: Ctx }) {
  const [file, setFile] = useState<File | null>(null);
  const [type, setType] = useState(TYPES[0][0]);
  const [title, setTitle] = useState('');
  const [date, setDate] = useState(new Date().toISOString().substring(0, 10));
  const [problem, setProblem] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  async function submit(e: Event) {
    e.preventDefault();
    setProblem('');
    setError(null);
    if (!file) return setProblem('Choisissez un fichier.');
    if (!ACCEPTED.includes(file.type)) return setProblem('Ce type de fichier n’est pas accepté : envoyez un PDF, une image JPEG ou PNG.');
    if (file.size > MAX_BYTES) return setProblem('Le fichier dépasse 20 Mo : réduisez-le ou scannez-le en plus basse résolution.');
    if (!title.trim()) return setProblem('Donnez un titre au document.');
    setBusy(true);
    try {
      const q = new URLSearchParams({ patient: insOf(ctx.patient), type, title: title.trim(), date });
      const res = await request('POST', `DocumentReference/$deposit?${q.toString()}`, file, { 'Content-Type': file.type });
      const created = await res.json();
      ctx.navigate(`/documents/${encodeURIComponent(created.id)}`);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }
  return (
    <section aria-labelledby="titre-page">
      <p><a href="#/documents">← Retour aux documents</a></p>
      <PageTitle>Ajouter un document</PageTitle>
      <p>Formats acceptés : PDF, JPEG ou PNG, <strong>20 Mo au plus</strong>. Le document est ajouté à votre dossier ; les professionnels autorisés peuvent le consulter, sauf si vous le masquez.</p>
      <form class="card" onSubmit={submit} noValidate>
        <label for="fichier">Fichier (PDF, JPEG ou PNG, 20 Mo au plus)</label>
        <input id="fichier" type="file" accept=".pdf,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png"
          onChange={(e) => setFile((e.target as HTMLInputElement).files?.[0] || null)} />
        <label for="type">Type de document</label>
        <select id="type" value={type} onChange={(e) => setType((e.target as HTMLSelectElement).value)}>
          {TYPES.map(([code, label]) => <option key={code} value={code}>{label}</option>)}
        </select>
        <label for="titre">Titre</label>
        <input id="titre" value={title} maxLength={200} onInput={(e) => setTitle((e.target as HTMLInputElement).value)} />
        <label for="date">Date du document</label>
        <input id="date" type="date" value={date} onInput={(e) => setDate((e.target as HTMLInputElement).value)} />
        <button type="submit" disabled={busy}>Envoyer le document</button>
        {busy && <Busy label="Envoi du document…" />}
      </form>
      {problem && <div class="error" role="alert"><p>{problem}</p></div>}
      <ErrorBox error={error} context={{ 413: 'Le fichier dépasse la taille acceptée par le serveur.' }} />
    </section>
  );
}
