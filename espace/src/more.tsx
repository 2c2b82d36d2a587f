// Profile (Patient/[id]/$profile) with the summary's PDF ($summary), the agenda ($agenda,
// reminders, the iCalendar link $agenda-link); the settings are settings.tsx's.
import { useState } from 'preact/hooks';
import { entries, get, parameters, post, request } from './api';
import type { Ctx } from './main';
import { Busy, ErrorBox, Notice, PageTitle, frDate, patientName, useLoad } from './ui';
import { AddEntry, EntryActions, SECTION_KIND, SectionVisibility } from './profile_edit';

function label(r: any): string {
  if (r?.resourceType === 'FamilyMemberHistory') {
    const who = r.relationship?.text || r.relationship?.coding?.[0]?.display || 'Un proche';
    const what = (r.condition || []).map((c: any) => c.code?.text || c.code?.coding?.[0]?.display).filter(Boolean).join(', ');
    return what ? `${who} : ${what}` : who;
  }
  if (r?.resourceType === 'Consent') {
    const kind = r.category?.[0]?.text || 'Volonté';
    return r.sourceAttachment?.title ? `${kind} : ${r.sourceAttachment.title}` : kind;
  }
  const cc = r?.code || r?.vaccineCode || r?.medicationCodeableConcept || r?.relationship;
  return (
    cc?.text || cc?.coding?.[0]?.display || cc?.coding?.[0]?.code || r?.description || r?.title ||
    (typeof r?.name === 'string' ? r.name : r?.name ? patientName(r) : '') || r?.resourceType || 'Entrée'
  );
}
function when(r: any): string {
  return r?.effectiveDateTime || r?.onsetDateTime || r?.occurrenceDateTime || r?.recordedDate || r?.date || r?.performedDateTime || '';
}
function value(r: any): string {
  const q = r?.valueQuantity;
  if (q) return `${typeof q.value === 'number' ? q.value.toLocaleString('fr-FR') : q.value} ${q.unit || q.code || ''}`.trim();
  if (r?.component?.length)
    return r.component.map((c: any) => c.valueQuantity ? `${c.valueQuantity.value}` : '').filter(Boolean).join('/') +
      ' ' + (r.component[0]?.valueQuantity?.unit || '');
  if (r?.resourceType === 'RelatedPerson')
    return [r.relationship?.[0]?.text, r.telecom?.[0]?.value].filter(Boolean).join(', ');
  return r?.valueString || '';
}

export function Profile({ ctx }: { ctx: Ctx }) {
  const pid = ctx.patient.id;
  const [bundle, error, loading, reload] = useLoad(() => get(`Patient/${encodeURIComponent(pid)}/$profile`), [pid]);
  const [changed, setChanged] = useState('');
  const done = (msg: string) => {
    setChanged(msg);
    reload();
  };
  const [pdfError, setPdfError] = useState<unknown>(null);
  const [pdfBusy, setPdfBusy] = useState(false);
  const all = entries(bundle);
  const byRef = new Map(all.map((r: any) => [`${r.resourceType}/${r.id}`, r]));
  const lists = all.filter((r: any) => r.resourceType === 'List');
  async function download() {
    setPdfBusy(true);
    setPdfError(null);
    try {
      const res = await request('GET', `Patient/${encodeURIComponent(pid)}/$summary`, undefined, { Accept: 'application/pdf' });
      const url = URL.createObjectURL(await res.blob());
      const a = document.createElement('a');
      a.href = url;
      a.download = `synthese-medicale-${pid}.pdf`;
      document.body.appendChild(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
    } catch (e) {
      setPdfError(e);
    } finally {
      setPdfBusy(false);
    }
  }
  return (
    <section aria-labelledby="titre-page">
      <PageTitle>Profil médical</PageTitle>
      <p>Votre profil rassemble ce que vous avez déclaré et ce que vos professionnels et vos documents y ont apporté.
        Vous corrigez ou supprimez ce que vous avez déclaré ; vous pouvez masquer toute entrée aux professionnels.</p>
      <button type="button" onClick={download} disabled={pdfBusy}>Télécharger la synthèse médicale (PDF)</button>
      {pdfBusy && <Busy label="Préparation de la synthèse…" />}
      <ErrorBox error={pdfError} />
      {loading && <Busy label="Chargement du profil…" />}
      <ErrorBox error={error} />
      {changed && <Notice>{changed}</Notice>}
      {lists.map((l: any) => {
        const items = (l.entry || []).map((e: any) => ({ r: byRef.get(e.item?.reference), e }));
        const kind = SECTION_KIND[l.id || ''];
        // The care team is the record's own list, not a statement to hide from professionals.
        const actions = l.code?.coding?.[0]?.code !== '85847-2';
        return (
          <section class="card" key={l.id || l.title} aria-label={l.title}>
            <h2>{l.title || l.code?.text}</h2>
            {actions && <SectionVisibility pid={pid} list={l} done={done} />}
            {items.length ? (
              <ul class="plain">
                {items.map(({ r, e }: any, i: number) => {
                  const source = (e.extension || []).find((x: any) => /profile-entry-source$/.test(x.url))?.valueCode;
                  return (
                    <li key={i}>
                      {label(r)}{value(r) && ` : ${value(r)}`}{when(r) && ` — ${frDate(when(r))}`}
                      {source === 'patient' && <span class="meta"> (déclaré par vous)</span>}
                      {source === 'document' && <span class="meta"> (issu d’un document)</span>}
                      {source === 'professional' && <span class="meta"> (saisi par un professionnel)</span>}
                      {actions && <EntryActions kind={kind} pid={pid} r={r} own={source === 'patient'} name={label(r)} done={done} />}
                    </li>
                  );
                })}
              </ul>
            ) : <p class="meta">Rien n’est renseigné.</p>}
            {kind && <AddEntry kind={kind} pid={pid} done={done} />}
          </section>
        );
      })}
    </section>
  );
}

export const REMINDER_STATUS: Record<string, string> = { due: 'à faire', overdue: 'en retard', upcoming: 'bientôt', complete: 'fait' };
const STATUS = REMINDER_STATUS;

// The vaccination and screening reminders of an $agenda answer (its resources), not done yet.
export interface Reminder {
  what: string;
  status: string;
  date: string;
}
export function remindersOf(all: any[]): Reminder[] {
  const reminders: Reminder[] = [];
  for (const r of all) {
    if (r.resourceType === 'ImmunizationRecommendation')
      for (const rec of r.recommendation || []) {
        const status = rec.forecastStatus?.coding?.[0]?.code || '';
        if (status === 'complete') continue;
        const due = (rec.dateCriterion || []).find((d: any) => d.code?.coding?.[0]?.code === '30980-7') || rec.dateCriterion?.[0];
        // The French label (prevention/data/vaccination_calendar.tsv), with its source.
        reminders.push({ what: 'Vaccination : ' + (rec.description || rec.series || label({ vaccineCode: rec.vaccineCode?.[0] })), status, date: due?.value || '' });
      }
    if (r.resourceType === 'ServiceRequest' && r.status !== 'completed') {
      const ext = (r.extension || []).find((x: any) => /reminder-status$/.test(x.url));
      const status = ext?.valueCode || ext?.valueCoding?.code || (r.status === 'draft' ? 'upcoming' : 'due');
      // The French label says what it is ("Dépistage du cancer…", "Bilan de prévention…").
      reminders.push({ what: label(r), status, date: r.occurrencePeriod?.start || '' });
    }
  }
  return reminders;
}

export function Agenda({ ctx }: { ctx: Ctx }) {
  const pid = ctx.patient.id;
  const [bundle, error, loading] = useLoad(() => get(`Patient/${encodeURIComponent(pid)}/$agenda`), [pid]);
  const [link, setLink] = useState('');
  const [linkError, setLinkError] = useState<unknown>(null);
  const all = entries(bundle);
  const appointments = all.filter((r: any) => r.resourceType === 'Appointment');
  const reminders = remindersOf(all);
  async function makeLink() {
    setLinkError(null);
    try {
      const p = await post(`Patient/${encodeURIComponent(pid)}/$agenda-link`);
      setLink((p.parameter || []).find((x: any) => x.name === 'url')?.valueUrl || '');
    } catch (e) {
      setLinkError(e);
    }
  }
  return (
    <section aria-labelledby="titre-page">
      <PageTitle>Agenda</PageTitle>
      {loading && <Busy label="Chargement de l’agenda…" />}
      <ErrorBox error={error} />
      <section class="card" aria-labelledby="h-rappels">
        <h2 id="h-rappels">Rappels de vaccination et de dépistage</h2>
        {reminders.length ? (
          <ul class="plain">{reminders.map((r, i) => <li key={i}>{r.what} — {STATUS[r.status] || r.status}{r.date && `, à partir du ${frDate(r.date)}`}</li>)}</ul>
        ) : !loading && <p>Aucun rappel pour l’instant.</p>}
      </section>
      <section class="card" aria-labelledby="h-rdv">
        <h2 id="h-rdv">Rendez-vous</h2>
        {appointments.length ? (
          <ul class="plain">{appointments.map((a: any) => <li key={a.id}>{frDate(a.start, true)} — {a.description || a.serviceType?.[0]?.text || 'Rendez-vous'}{a.status === 'cancelled' && ' (annulé)'}</li>)}</ul>
        ) : !loading && <p>Aucun rendez-vous enregistré.</p>}
      </section>
      <section class="card" aria-labelledby="h-lien">
        <h2 id="h-lien">Abonner le calendrier de votre téléphone</h2>
        <p>Ce lien personnel affiche vos rendez-vous et rappels dans votre calendrier. Ne le partagez pas ; en demander un nouveau désactive l’ancien.</p>
        <button type="button" onClick={makeLink}>Obtenir le lien d’abonnement</button>
        {link && (<><label for="lien-ics">Lien iCalendar</label><input id="lien-ics" readOnly value={link} /></>)}
        <ErrorBox error={linkError} />
      </section>
    </section>
  );
}

// The settings live in settings.tsx (read back from $record-settings, closing the record).
export { Settings } from './settings';
