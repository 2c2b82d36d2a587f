// The health profile's entries the patient keeps (README "The patient's own services"): an
// allergy (AllergyIntolerance), a current treatment (MedicationStatement) or a weight (a vital
// sign Observation in UCUM kg) added with POST, corrected with PUT and removed with DELETE —
// only the patient's own entries (profile-entry-source = patient); any entry hidden from
// professionals with $meta-add of MASQUE_PS and shown again with $meta-delete.
import { useState } from 'preact/hooks';
import { ApiError, post, request } from './api';
import { ErrorBox, MASQUE_PS, VISIBILITY_SYSTEM, isMasked } from './ui';

// The sections the patient adds to, by their LOINC section code (health_profile/data/sections.tsv).
export type Kind = 'allergy' | 'treatment' | 'weight';
export const SECTION_KIND: Record<string, Kind> = { '48765-2': 'allergy', '10160-0': 'treatment', '8716-3': 'weight' };

const FORM: Record<Kind, { field: string; add: string; added: string }> = {
  allergy: { field: 'Allergie ou intolérance', add: 'Ajouter l’allergie', added: 'Votre allergie est ajoutée à votre profil.' },
  treatment: { field: 'Traitement (médicament et dose)', add: 'Ajouter le traitement', added: 'Votre traitement est ajouté à votre profil.' },
  weight: { field: 'Poids (kg)', add: 'Ajouter la mesure', added: 'Votre poids est ajouté à votre profil.' },
};

function today(): string {
  const d = new Date();
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

// The resource the patient writes, its recorder / asserter / source being the patient.
export function build(kind: Kind, pid: string, text: string, date: string, base?: any): any {
  const me = { reference: `Patient/${pid}` };
  if (kind === 'allergy')
    return {
      ...(base || {}),
      resourceType: 'AllergyIntolerance',
      clinicalStatus: base?.clinicalStatus || {
        coding: [{ system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical', code: 'active' }],
      },
      code: { text },
      patient: me,
      recorder: me,
      asserter: me,
    };
  if (kind === 'treatment')
    return {
      ...(base || {}),
      resourceType: 'MedicationStatement',
      status: base?.status || 'active',
      medicationCodeableConcept: { text },
      subject: me,
      informationSource: me,
    };
  return {
    ...(base || {}),
    resourceType: 'Observation',
    status: 'final',
    category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] }],
    code: { coding: [{ system: 'http://loinc.org', code: '29463-7', display: 'Poids' }], text: 'Poids' },
    subject: me,
    performer: [me],
    effectiveDateTime: date || today(),
    valueQuantity: { value: Number(text.replace(',', '.')), unit: 'kg', system: 'http://unitsofmeasure.org', code: 'kg' },
  };
}

// A refusal of the entry (422) told in French: for a measurement out of what a body can
// measure, the bounds the gateway gave ("expected between 0.2 and 700 kg").
export function refusal(kind: Kind, e: unknown): Record<number, string> {
  if (!(e instanceof ApiError) || e.status !== 422) return {};
  const m = /between ([\d.]+) and ([\d.]+) ?([^)\s]*)/.exec(e.message);
  const fr = (s: string) => s.replace('.', ',');
  if (kind === 'weight')
    return {
      422: m
        ? `Ce poids n’est pas accepté : une mesure possible est comprise entre ${fr(m[1])} et ${fr(m[2])} ${m[3] || 'kg'}.`
        : 'Ce poids n’est pas accepté : indiquez un nombre de kilogrammes possible.',
    };
  return { 422: 'Cette entrée n’est pas acceptée : vérifiez ce que vous avez saisi.' };
}

export function AddEntry({ kind, pid, done }: { kind: Kind; pid: string; done: (msg: string) => void }) {
  const f = FORM[kind];
  const [text, setText] = useState('');
  const [date, setDate] = useState(today());
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const id = `ajout-${kind}`;
  async function submit(ev: Event) {
    ev.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const entry = build(kind, pid, text.trim(), date);
      await post(entry.resourceType, entry);
      setText('');
      done(f.added);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }
  return (
    <form onSubmit={submit} aria-label={f.add}>
      <label for={id}>{f.field}</label>
      {kind === 'weight' ? (
        <input id={id} type="text" inputMode="decimal" required value={text} onInput={(e) => setText((e.target as HTMLInputElement).value)} />
      ) : (
        <input id={id} type="text" required value={text} onInput={(e) => setText((e.target as HTMLInputElement).value)} />
      )}
      {kind === 'weight' && (
        <>
          <label for={`${id}-date`}>Date de la mesure</label>
          <input id={`${id}-date`} type="date" required value={date} onInput={(e) => setDate((e.target as HTMLInputElement).value)} />
        </>
      )}
      <ErrorBox error={error} context={refusal(kind, error)} />
      <button type="submit" disabled={busy}>{f.add}</button>
    </form>
  );
}

// The buttons of one entry: correct and delete the patient's own; hide / show any.
export function EntryActions({ kind, pid, r, own, name, done }: {
  kind: Kind | undefined; pid: string; r: any; own: boolean; name: string; done: (msg: string) => void;
}) {
  const [editing, setEditing] = useState(false);
  const [text, setText] = useState('');
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
    const base = { ...r };
    delete base.meta; // the server keeps the version and the labels
    act(() => request('PUT', path, build(kind, pid, text.trim(), r.effectiveDateTime || '', base)), `« ${text.trim()} » est enregistré.`);
  };
  const editable = own && !!kind;
  const current = kind === 'weight' ? String(r.valueQuantity?.value ?? '') : name;
  const fid = `corriger-${r.resourceType}-${r.id}`;
  return (
    <div class="entry-actions">
      {masked && <span class="tag">masqué aux professionnels</span>}
      {editing ? (
        <form onSubmit={save} aria-label={`Corriger ${name}`}>
          <label for={fid}>Correction de « {name} »</label>
          <input id={fid} type="text" required value={text} onInput={(e) => setText((e.target as HTMLInputElement).value)} />
          <div class="actions">
            <button type="submit" class="small" disabled={busy}>Enregistrer</button>
            <button type="button" class="small secondary" onClick={() => setEditing(false)}>Annuler</button>
          </div>
        </form>
      ) : (
        <div class="actions">
          {editable && (
            <button type="button" class="small secondary" onClick={() => { setText(current); setEditing(true); setError(null); }}>
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
      <ErrorBox error={error} context={kind ? refusal(kind, error) : {}} />
    </div>
  );
}
