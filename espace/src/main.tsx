// Mon espace santé: the patient's web space. Hash routes (#/accueil...), one record at a
// time (a guardian switches between the records they may see).
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import './style.css';
import { actorKind, entries, get, signOut, signedIn } from './api';
import { ErrorBox, Busy, patientName } from './ui';
import { Login, Home } from './pages';
import { DocumentList, DocumentView, Upload } from './documents';
import { Professionals } from './professionals';
import { History } from './history';
import { Agenda, Profile, Settings } from './more';
import { MessageThread, Messages, NewMessage } from './messages';
import { Apps, Authorize } from './apps';

export interface Ctx {
  patient: any; // the Patient resource of the record shown
  records: any[]; // every record this identity may see
  actor: string;
  navigate: (hash: string) => void;
}

function currentRoute(): string {
  return window.location.hash.replace(/^#/, '') || '/accueil';
}

const NAV: [string, string][] = [
  ['/accueil', 'Accueil'],
  ['/documents', 'Documents'],
  ['/professionnels', 'Professionnels'],
  ['/messages', 'Messages'],
  ['/historique', 'Historique des accès'],
  ['/profil', 'Profil'],
  ['/agenda', 'Agenda'],
  ['/applications', 'Applications'],
  ['/reglages', 'Réglages'],
];

function App() {
  const [route, setRoute] = useState(currentRoute());
  const [authed, setAuthed] = useState(signedIn());
  const [records, setRecords] = useState<any[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [current, setCurrent] = useState<string>(sessionStorage.getItem('espace.patient') || '');

  useEffect(() => {
    const on = () => setRoute(currentRoute());
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);

  useEffect(() => {
    if (!authed) return;
    setRecords(null);
    setError(null);
    get('Patient?_count=50')
      .then((b) => {
        const list = entries(b).filter((r: any) => r.resourceType === 'Patient');
        setRecords(list);
        if (!list.find((p: any) => p.id === current) && list.length) choose(list[0].id);
      })
      .catch(setError);
  }, [authed]);

  function choose(id: string) {
    setCurrent(id);
    sessionStorage.setItem('espace.patient', id);
  }
  const navigate = (hash: string) => {
    window.location.hash = hash;
  };

  if (!authed)
    return (
      <Shell>
        <Login
          onDone={() => {
            setAuthed(true);
            // An app's authorisation request waits for the login.
            if (!currentRoute().startsWith('/autoriser')) navigate('/accueil');
          }}
        />
      </Shell>
    );
  if (error)
    return (
      <Shell>
        <h1>Mon espace santé</h1>
        <ErrorBox error={error} />
        <button type="button" onClick={() => { signOut(); setAuthed(false); }}>Se reconnecter</button>
      </Shell>
    );
  if (!records) return <Shell><Busy label="Ouverture de votre espace…" /></Shell>;
  if (!records.length)
    return (
      <Shell>
        <h1>Mon espace santé</h1>
        <p>Aucun dossier n’est ouvert à votre nom pour l’instant.</p>
        <button type="button" onClick={() => { signOut(); setAuthed(false); }}>Se déconnecter</button>
      </Shell>
    );
  const patient = records.find((p) => p.id === current) || records[0];
  const ctx: Ctx = { patient, records, actor: actorKind(), navigate };
  let page;
  const [routePath, routeQuery = ''] = route.split('?');
  const [, section, id] = routePath.split('/');
  if (section === 'documents' && id === 'envoyer') page = <Upload ctx={ctx} />;
  else if (section === 'documents' && id) page = <DocumentView ctx={ctx} id={decodeURIComponent(id)} />;
  else if (section === 'documents') page = <DocumentList ctx={ctx} />;
  else if (section === 'professionnels') page = <Professionals ctx={ctx} />;
  else if (section === 'messages' && id === 'nouveau') page = <NewMessage ctx={ctx} />;
  else if (section === 'messages' && id) page = <MessageThread ctx={ctx} id={decodeURIComponent(id)} />;
  else if (section === 'messages') page = <Messages ctx={ctx} />;
  else if (section === 'historique') page = <History ctx={ctx} />;
  else if (section === 'profil') page = <Profile ctx={ctx} />;
  else if (section === 'agenda') page = <Agenda ctx={ctx} />;
  else if (section === 'autoriser') page = <Authorize ctx={ctx} query={routeQuery} />;
  else if (section === 'applications') page = <Apps ctx={ctx} />;
  else if (section === 'reglages') page = <Settings ctx={ctx} />;
  else page = <Home ctx={ctx} />;
  return (
    <Shell
      header={
        <>
          <nav aria-label="Menu principal">
            <ul class="nav">
              {NAV.map(([h, label]) => (
                <li key={h}>
                  <a href={'#' + h} aria-current={route.startsWith(h) ? 'page' : undefined}>
                    {label}
                  </a>
                </li>
              ))}
            </ul>
          </nav>
          <div class="who">
            {records.length > 1 ? (
              <label>
                Espace de{' '}
                <select
                  value={patient.id}
                  onChange={(e) => {
                    choose((e.target as HTMLSelectElement).value);
                    navigate('/accueil');
                  }}
                >
                  {records.map((p) => (
                    <option key={p.id} value={p.id}>
                      {patientName(p)}
                    </option>
                  ))}
                </select>
              </label>
            ) : (
              <span>Espace de {patientName(patient)}</span>
            )}
            <button type="button" class="link" onClick={() => { signOut(); setAuthed(false); navigate('/connexion'); }}>
              Se déconnecter
            </button>
          </div>
        </>
      }
    >
      {ctx.actor === 'guardian' && (
        <p class="notice guardian">
          Vous consultez l’espace de {patientName(patient)} en tant que représentant légal. Les documents que
          l’auteur a réservés au patient ne vous sont pas montrés.
        </p>
      )}
      {/* The key makes a new page (and a fresh load) for each record. */}
      <div key={patient.id + route}>{page}</div>
    </Shell>
  );
}

function Shell({ header, children }: { header?: any; children: any }) {
  return (
    <>
      <a
        class="skip"
        href="#contenu"
        onClick={(e) => {
          // The hash is the page's route: move the focus without changing it.
          e.preventDefault();
          document.getElementById('contenu')?.focus();
        }}
      >
        Aller au contenu
      </a>
      <header class="top">
        <p class="brand">Mon espace santé</p>
        {header}
      </header>
      <main id="contenu" tabIndex={-1}>{children}</main>
      <footer class="foot">
        <p>Vos données de santé sont hébergées en France. Aucun contenu n’est chargé depuis un autre site.</p>
      </footer>
    </>
  );
}

const root = document.getElementById('app')!;
root.textContent = ''; // the "loading" line of index.html
render(<App />, root);
