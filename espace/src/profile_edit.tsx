// The health profile's entries the patient keeps (README "The patient's web space", Profil):
// in each section the patient adds an entry (POST), corrects (PUT) and deletes (DELETE) their
// own only (profile-entry-source = patient); hides any entry from professionals ($meta-add of
// MASQUE_PS, $meta-delete to show it again), or a whole section ($profile-visibility).
//   history       Condition (what, since when)
//   treatments    MedicationStatement
//   allergies     AllergyIntolerance
//   family        FamilyMemberHistory (who, what)
//   vaccinations  Immunization (vaccine, date)
//   measurements  a vital-sign Observation: weight (kg), height (cm), blood pressure (the
//                 85354-9 panel, mm[Hg]), glycemia (g/L), with its date
//   wishes        Consent of scope adr (advance directives, organ donation), the text as its
//                 sourceAttachment
//   contacts      RelatedPerson (name, relationship, phone)
// Every entry names the patient as who recorded it (recorder, asserter, informationSource,
// performer), and the gateway's Provenance marks it declared by the patient.
import { useState } from 'preact/hooks';
import { ApiError, post, request } from './api';
import { ErrorBox, MASQUE_PS, VISIBILITY_SYSTEM, isMasked } from './ui';

export type Kind = 'allergy' | 'treatment' | 'measure' | 'condition' | 'family' | 'vaccination' | 'wish' | 'contact';

// The sections the patient adds to, by their List's id (profile-NAME, health_profile/data/sections.tsv).
export const SECTION_KIND: Record<string, Kind> = {
  'profile-history': 'condition',
  'profile-treatments': 'treatment',
  'profile-allergies': 'allergy',
  'profile-family': 'family',
  'profile-vaccinations': 'vaccination',
  'profile-measurements': 'measure',
  'profile-wishes': 'wish',
  'profile-contacts': 'contact',
};

type Values = Record<string, string>;
interface Field {
  name: string;
  label: string;
  type?: 'text' | 'date' | 'decimal' | 'select' | 'tel' | 'textarea';
  options?: [string, string][];
  optional?: boolean;
}

// The measurements the patient enters: LOINC code, unit, the words.
const MEASURES: Record<string, { loinc: string; unit: string; display: string; field: string; added: string; refused: string }> = {
  weight: { loinc: '29463-7', unit: 'kg', display: 'Poids', field: 'Poids (kg)', added: 'Votre poids est ajouté à votre profil.', refused: 'Ce poids n’est pas accepté' },
  height: { loinc: '8302-2', unit: 'cm', display: 'Taille', field: 'Taille (cm)', added: 'Votre taille est ajoutée à votre profil.', refused: 'Cette taille n’est pas acceptée' },
  pressure: { loinc: '85354-9', unit: 'mm[Hg]', display: 'Tension artérielle', field: 'Tension systolique (mm Hg)', added: 'Votre tension artérielle est ajoutée à votre profil.', refused: 'Cette tension n’est pas acceptée' },
  glucose: { loinc: '2339-0', unit: 'g/L', display: 'Glycémie', field: 'Glycémie (g/L)', added: 'Votre glycémie est ajoutée à votre profil.', refused: 'Cette glycémie n’est pas acceptée' },
};

const RELATIVES: [string, string][] = [
  ['MTH', 'Mère'],
  ['FTH', 'Père'],
  ['SIS', 'Sœur'],
  ['BRO', 'Frère'],
  ['DAU', 'Fille'],
  ['SON', 'Fils'],
  ['GRMTH', 'Grand-mère'],
  ['GRFTH', 'Grand-père'],
  ['AUNT', 'Tante'],
  ['UNCLE', 'Oncle'],
];

const WISHES: [string, string][] = [
  ['directives', 'Directives anticipées'],
  ['organ-donation', 'Don d’organes'],
  ['other', 'Autre volonté'],
];
// The law each kind of wish rests on (Code de la santé publique): the Consent's policy.
const WISH_POLICY: Record<string, string> = {
  directives: 'https://www.legifrance.gouv.fr/codes/article_lc/LEGIARTI000031972280',
  'organ-donation': 'https://www.legifrance.gouv.fr/codes/article_lc/LEGIARTI000031929098',
  other: 'https://www.legifrance.gouv.fr/codes/article_lc/LEGIARTI000031972280',
};
const WISH_SYSTEM = 'https://carnet.example.org/fhir/CodeSystem/patient-wish';

const FORM: Record<Kind, { add: string; added: string }> = {
  allergy: { add: 'Ajouter l’allergie', added: 'Votre allergie est ajoutée à votre profil.' },
  treatment: { add: 'Ajouter le traitement', added: 'Votre traitement est ajouté à votre profil.' },
  measure: { add: 'Ajouter la mesure', added: '' },
  condition: { add: 'Ajouter l’antécédent', added: 'Votre antécédent est ajouté à votre profil.' },
  family: { add: 'Ajouter l’antécédent familial', added: 'Votre antécédent familial est ajouté à votre profil.' },
  vaccination: { add: 'Ajouter la vaccination', added: 'Votre vaccination est ajoutée à votre profil.' },
  wish: { add: 'Ajouter la volonté', added: 'Votre volonté est ajoutée à votre profil.' },
  contact: { add: 'Ajouter la personne', added: 'La personne à prévenir est ajoutée à votre profil.' },
};

// The fields of an entry of `kind`; `editing`: the correction of an existing entry (a
// measurement keeps its type).
function fields(kind: Kind, v: Values, editing: boolean): Field[] {
  switch (kind) {
    case 'allergy':
      return [{ name: 'text', label: 'Allergie ou intolérance' }];
    case 'treatment':
      return [{ name: 'text', label: 'Traitement (médicament et dose)' }];
    case 'condition':
      return [
        { name: 'text', label: 'Maladie, hospitalisation ou opération' },
        { name: 'date', label: 'Depuis le (facultatif)', type: 'date', optional: true },
      ];
    case 'family':
      return [
        { name: 'text', label: 'Maladie d’un proche' },
        { name: 'relative', label: 'Lien de parenté', type: 'select', options: RELATIVES },
      ];
    case 'vaccination':
      return [
        { name: 'text', label: 'Vaccin' },
        { name: 'date', label: 'Date de la vaccination', type: 'date' },
      ];
    case 'wish':
      return [
        { name: 'text', label: 'Vos volontés', type: 'textarea' },
        { name: 'wish', label: 'Type de volonté', type: 'select', options: WISHES },
      ];
    case 'contact':
      return [
        { name: 'text', label: 'Nom de la personne à prévenir' },
        { name: 'relation', label: 'Lien (conjoint, parent, ami…)', optional: true },
        { name: 'phone', label: 'Téléphone', type: 'tel' },
      ];
    case 'measure': {
      const m = MEASURES[v.measure || 'weight'];
      const out: Field[] = editing
        ? []
        : [{ name: 'measure', label: 'Type de mesure', type: 'select', options: Object.entries(MEASURES).map(([k, x]) => [k, x.display]) }];
      out.push({ name: 'text', label: m.field, type: 'decimal' });
      if ((v.measure || 'weight') === 'pressure') out.push({ name: 'second', label: 'Tension diastolique (mm Hg)', type: 'decimal' });
      out.push({ name: 'date', label: 'Date de la mesure', type: 'date' });
      return out;
    }
  }
}

function today(): string {
  const d = new Date();
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

function defaults(kind: Kind): Values {
  return { text: '', date: kind === 'condition' ? '' : today(), measure: 'weight', relative: 'MTH', wish: 'directives', second: '', relation: '', phone: '' };
}

function num(s: string): number {
  return Number(String(s).replace(',', '.').trim());
}

function b64(text: string): string {
  const bytes = new TextEncoder().encode(text);
  let bin = '';
  bytes.forEach((b) => (bin += String.fromCharCode(b)));
  return btoa(bin);
}
function unb64(data: string): string {
  try {
    return new TextDecoder().decode(Uint8Array.from(atob(data), (c) => c.charCodeAt(0)));
  } catch {
    return '';
  }
}

// The values an existing entry shows in its correction form.
export function valuesOf(kind: Kind, r: any): Values {
  const v = defaults(kind);
  const day = (s?: string) => (s || '').substring(0, 10);
  switch (kind) {
    case 'allergy':
      return { ...v, text: r.code?.text || r.code?.coding?.[0]?.display || '' };
    case 'treatment':
      return { ...v, text: r.medicationCodeableConcept?.text || '' };
    case 'condition':
      return { ...v, text: r.code?.text || '', date: day(r.onsetDateTime) };
    case 'family':
      return { ...v, text: r.condition?.[0]?.code?.text || '', relative: r.relationship?.coding?.[0]?.code || 'MTH' };
    case 'vaccination':
      return { ...v, text: r.vaccineCode?.text || '', date: day(r.occurrenceDateTime) };
    case 'wish':
      return { ...v, text: unb64(r.sourceAttachment?.data || '') || r.sourceAttachment?.title || '', wish: r.category?.[0]?.coding?.find((c: any) => c.system === WISH_SYSTEM)?.code || 'other' };
    case 'contact':
      return { ...v, text: r.name?.[0]?.text || '', relation: r.relationship?.[0]?.text || '', phone: r.telecom?.[0]?.value || '' };
    case 'measure': {
      const code = r.code?.coding?.[0]?.code;
      const measure = Object.entries(MEASURES).find(([, m]) => m.loinc === code)?.[0] || 'weight';
      if (measure === 'pressure') {
        const c = (loinc: string) => (r.component || []).find((x: any) => x.code?.coding?.[0]?.code === loinc)?.valueQuantity?.value;
        return { ...v, measure, text: String(c('8480-6') ?? ''), second: String(c('8462-4') ?? ''), date: day(r.effectiveDateTime) };
      }
      return { ...v, measure, text: String(r.valueQuantity?.value ?? '').replace('.', ','), date: day(r.effectiveDateTime) };
    }
  }
}

// What is missing or wrong in the values, in words ('' when none).
function problem(kind: Kind, v: Values): string {
  if (!v.text.trim()) return 'Renseignez ce champ : ' + fields(kind, v, false).find((f) => f.name === 'text')!.label + '.';
  if (kind === 'measure') {
    if (!isFinite(num(v.text)) || (v.measure === 'pressure' && !isFinite(num(v.second))))
      return 'Indiquez la mesure en chiffres, par exemple 64,5.';
    if (v.measure === 'pressure' && !v.second.trim()) return 'Indiquez aussi la tension diastolique.';
    if (!v.date) return 'Indiquez la date de la mesure.';
  }
  if (kind === 'vaccination' && !v.date) return 'Indiquez la date de la vaccination.';
  if (kind === 'contact' && !v.phone.trim()) return 'Indiquez le téléphone de la personne à prévenir.';
  return '';
}

// The resource the patient writes, its recorder / asserter / source being the patient.
export function build(kind: Kind, pid: string, v: Values, base?: any): any {
  const me = { reference: `Patient/${pid}` };
  const text = v.text.trim();
  const b = { ...(base || {}) };
  switch (kind) {
    case 'allergy':
      return {
        ...b,
        resourceType: 'AllergyIntolerance',
        clinicalStatus: b.clinicalStatus || {
          coding: [{ system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical', code: 'active' }],
        },
        code: { text },
        patient: me,
        recorder: me,
        asserter: me,
      };
    case 'treatment':
      return { ...b, resourceType: 'MedicationStatement', status: b.status || 'active', medicationCodeableConcept: { text }, subject: me, informationSource: me };
    case 'condition': {
      const r: any = { ...b, resourceType: 'Condition', code: { text }, subject: me, recorder: me, asserter: me };
      if (v.date) r.onsetDateTime = v.date;
      else delete r.onsetDateTime;
      return r;
    }
    case 'family': {
      const rel = RELATIVES.find(([c]) => c === v.relative) || RELATIVES[0];
      return {
        ...b,
        resourceType: 'FamilyMemberHistory',
        status: 'completed',
        patient: me,
        relationship: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-RoleCode', code: rel[0] }], text: rel[1] },
        condition: [{ code: { text } }],
      };
    }
    case 'vaccination':
      return {
        ...b,
        resourceType: 'Immunization',
        status: 'completed',
        vaccineCode: { text },
        patient: me,
        occurrenceDateTime: v.date,
        primarySource: false,
        reportOrigin: { text: 'Déclaré par le patient' },
      };
    case 'wish': {
      const w = WISHES.find(([c]) => c === v.wish) || WISHES[0];
      return {
        ...b,
        resourceType: 'Consent',
        status: 'active',
        scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'adr' }], text: 'Directives anticipées' },
        category: [{ coding: [{ system: 'http://loinc.org', code: '42348-3' }, { system: WISH_SYSTEM, code: w[0] }], text: w[1] }],
        patient: me,
        performer: [me],
        dateTime: b.dateTime || new Date().toISOString(),
        policy: [{ uri: WISH_POLICY[w[0]] }],
        sourceAttachment: { contentType: 'text/plain; charset=utf-8', title: text.length > 80 ? text.substring(0, 79) + '…' : text, data: b64(text) },
      };
    }
    case 'contact': {
      const r: any = { ...b, resourceType: 'RelatedPerson', active: true, patient: me, name: [{ text }], telecom: [{ system: 'phone', value: v.phone.trim() }] };
      if (v.relation.trim()) r.relationship = [{ text: v.relation.trim() }];
      else delete r.relationship;
      return r;
    }
    case 'measure': {
      const m = MEASURES[v.measure || 'weight'];
      const r: any = {
        ...b,
        resourceType: 'Observation',
        status: 'final',
        category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] }],
        code: { coding: [{ system: 'http://loinc.org', code: m.loinc, display: m.display }], text: m.display },
        subject: me,
        performer: [me],
        effectiveDateTime: v.date || today(),
      };
      const q = (value: string) => ({ value: num(value), unit: m.unit === 'mm[Hg]' ? 'mm Hg' : m.unit, system: 'http://unitsofmeasure.org', code: m.unit });
      if (v.measure === 'pressure') {
        delete r.valueQuantity;
        r.component = [
          { code: { coding: [{ system: 'http://loinc.org', code: '8480-6', display: 'Systolique' }] }, valueQuantity: q(v.text) },
          { code: { coding: [{ system: 'http://loinc.org', code: '8462-4', display: 'Diastolique' }] }, valueQuantity: q(v.second) },
        ];
      } else r.valueQuantity = q(v.text);
      return r;
    }
  }
}

// A refusal of the entry (422) told in French: for a measurement out of what a body can
// measure, the bounds the gateway gave ("expected between 0.2 and 700 kg").
export function refusal(kind: Kind, e: unknown, measure = 'weight'): Record<number, string> {
  if (!(e instanceof ApiError) || e.status !== 422) return {};
  const m = /between ([\d.]+) and ([\d.]+) ?([^)\s]*)/.exec(e.message);
  const fr = (s: string) => s.replace('.', ',');
  if (kind === 'measure') {
    const x = MEASURES[measure] || MEASURES.weight;
    const unit = (m?.[3] || x.unit).replace('mm[Hg]', 'mm Hg');
    return {
      422: m
        ? `${x.refused} : une mesure possible est comprise entre ${fr(m[1])} et ${fr(m[2])} ${unit}.`
        : /systolic pressure is above/.test(e.message)
          ? `${x.refused} : la tension systolique doit être supérieure à la diastolique.`
          : `${x.refused} : vérifiez la valeur saisie.`,
    };
  }
  return { 422: 'Cette entrée n’est pas acceptée : vérifiez ce que vous avez saisi.' };
}

// The fields of a form; the first one's label may be replaced (a correction names the entry).
function Fields({ kind, prefix, v, set, editing, firstLabel }: {
  kind: Kind; prefix: string; v: Values; set: (v: Values) => void; editing: boolean; firstLabel?: string;
}) {
  return (
    <>
      {fields(kind, v, editing).map((f) => {
        const id = `${prefix}-${f.name}`;
        const label = f.name === 'text' && firstLabel ? firstLabel : f.label;
        const on = (e: Event) => set({ ...v, [f.name]: (e.target as HTMLInputElement).value });
        return (
          <div key={f.name}>
            <label for={id}>{label}</label>
            {f.type === 'select' ? (
              <select id={id} value={v[f.name]} onChange={on}>
                {f.options!.map(([c, l]) => (
                  <option key={c} value={c}>{l}</option>
                ))}
              </select>
            ) : f.type === 'textarea' ? (
              <textarea id={id} rows={3} required value={v[f.name]} onInput={on} />
            ) : (
              <input
                id={id}
                type={f.type === 'date' ? 'date' : f.type === 'tel' ? 'tel' : 'text'}
                inputMode={f.type === 'decimal' ? 'decimal' : undefined}
                autoComplete={f.type === 'tel' ? 'off' : undefined}
                required={!f.optional}
                value={v[f.name]}
                onInput={on}
              />
            )}
          </div>
        );
      })}
    </>
  );
}

export function AddEntry({ kind, pid, done }: { kind: Kind; pid: string; done: (msg: string) => void }) {
  const f = FORM[kind];
  const [v, setV] = useState<Values>(defaults(kind));
  const [error, setError] = useState<unknown>(null);
  const [missing, setMissing] = useState('');
  const [busy, setBusy] = useState(false);
  async function submit(ev: Event) {
    ev.preventDefault();
    setError(null);
    const p = problem(kind, v);
    setMissing(p);
    if (p) return;
    setBusy(true);
    try {
      const entry = build(kind, pid, v);
      await post(entry.resourceType, entry);
      setV({ ...defaults(kind), measure: v.measure });
      done(kind === 'measure' ? MEASURES[v.measure].added : f.added);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }
  return (
    <form onSubmit={submit} aria-label={f.add} noValidate>
      <Fields kind={kind} prefix={`ajout-${kind}`} v={v} set={setV} editing={false} />
      {missing && <div class="error" role="alert"><p>{missing}</p></div>}
      <ErrorBox error={error} context={refusal(kind, error, v.measure)} />
      <button type="submit" disabled={busy}>{f.add}</button>
    </form>
  );
}

// The buttons of one entry: correct and delete the patient's own; hide / show any.
export function EntryActions({ kind, pid, r, own, name, done }: {
  kind: Kind | undefined; pid: string; r: any; own: boolean; name: string; done: (msg: string) => void;
}) {
  const [editing, setEditing] = useState(false);
  const [v, setV] = useState<Values>({});
  const [missing, setMissing] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  if (!r?.id) return null;
  const path = `${r.resourceType}/${encodeURIComponent(r.id)}`;
  const masked = isMasked(r);
  async function act(run: () => Promise<unknown>, msg: string) {
    setBusy(true);
    setError(null);
    try {
      await run();
      setEditing(false);
      done(msg);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }
  const mask = (on: boolean) =>
    act(
      () => post(`${path}/${on ? '$meta-add' : '$meta-delete'}`, {
        resourceType: 'Parameters',
        parameter: [{ name: 'meta', valueMeta: { security: [{ system: VISIBILITY_SYSTEM, code: MASQUE_PS }] } }],
      }),
      on ? `« ${name} » est maintenant masqué aux professionnels de santé.` : `« ${name} » est de nouveau visible par les professionnels qui vous suivent.`,
    );
  const remove = () => {
    if (!window.confirm(`Supprimer « ${name} » de votre profil ?`)) return;
    act(() => request('DELETE', path), `« ${name} » est supprimé de votre profil.`);
  };
  const save = (ev: Event) => {
    ev.preventDefault();
    if (!kind) return;
    const p = problem(kind, v);
    setMissing(p);
    if (p) return;
    const base = { ...r };
    delete base.meta; // the server keeps the version and the labels
    act(() => request('PUT', path, build(kind, pid, v, base)), `« ${kind === 'measure' ? name : v.text.trim()} » est enregistré.`);
  };
  const editable = own && !!kind;
  const fid = `corriger-${r.resourceType}-${r.id}`;
  return (
    <div class="entry-actions">
      {masked && <span class="tag">masqué aux professionnels</span>}
      {editing && kind ? (
        <form onSubmit={save} aria-label={`Corriger ${name}`} noValidate>
          <Fields kind={kind} prefix={fid} v={v} set={setV} editing={true} firstLabel={`Correction de « ${name} »`} />
          {missing && <div class="error" role="alert"><p>{missing}</p></div>}
          <div class="actions">
            <button type="submit" class="small" disabled={busy}>Enregistrer</button>
            <button type="button" class="small secondary" onClick={() => setEditing(false)}>Annuler</button>
          </div>
        </form>
      ) : (
        <div class="actions">
          {editable && (
            <button type="button" class="small secondary" onClick={() => { setV(valuesOf(kind!, r)); setEditing(true); setError(null); setMissing(''); }}>
              Corriger<span class="visually-hidden"> {name}</span>
            </button>
          )}
          {editable && (
            <button type="button" class="small secondary" disabled={busy} onClick={remove}>
              Supprimer<span class="visually-hidden"> {name}</span>
            </button>
          )}
          <button type="button" class="small secondary" disabled={busy} onClick={() => mask(!masked)}>
            {masked ? 'Montrer aux professionnels' : 'Masquer aux professionnels'}<span class="visually-hidden"> {name}</span>
          </button>
        </div>
      )}
      <ErrorBox error={error} context={kind ? refusal(kind, error, kind === 'measure' ? valuesOf('measure', r).measure : undefined) : {}} />
    </div>
  );
}

export const HIDDEN_SECTION_EXTENSION = 'https://carnet.example.org/fhir/StructureDefinition/profile-section-hidden';

// Hides a whole section from professionals, or shows it again ($profile-visibility): the
// entries there now and those written into it later.
export function SectionVisibility({ pid, list, done }: { pid: string; list: any; done: (msg: string) => void }) {
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const section = String(list.id || '').replace(/^profile-/, '');
  const hidden = (list.extension || []).some((x: any) => x.url === HIDDEN_SECTION_EXTENSION && x.valueBoolean === true);
  const title = list.title || section;
  async function change() {
    const hide = !hidden;
    if (hide && !window.confirm(`Masquer toute la section « ${title} » aux professionnels de santé, y compris ce qui y sera ajouté plus tard ?`)) return;
    setBusy(true);
    setError(null);
    try {
      await post(`Patient/${encodeURIComponent(pid)}/$profile-visibility`, {
        resourceType: 'Parameters',
        parameter: [
          { name: 'section', valueCode: section },
          { name: 'visible', valueBoolean: !hide },
        ],
      });
      done(hide
        ? `La section « ${title} » est maintenant masquée aux professionnels de santé, y compris ce qui y sera ajouté.`
        : `La section « ${title} » est de nouveau visible par les professionnels qui vous suivent.`);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }
  return (
    <div class="section-visibility">
      {hidden && <p class="tag">Section masquée aux professionnels</p>}
      <button type="button" class="small secondary" disabled={busy} onClick={change}>
        {hidden ? 'Montrer la section aux professionnels' : 'Masquer la section aux professionnels'}
        <span class="visually-hidden"> : {title}</span>
      </button>
      <ErrorBox error={error} />
    </div>
  );
}
