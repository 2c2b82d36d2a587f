// Professionals: the care team (CareTeam of the record), the treating physician, and the
// blocks (a professional or a facility that may not open the record at all); the declared
// treating physician and the current blocks are read from Patient/[id]/$record-settings.
import { useState } from 'preact/hooks';
import { entries, get, parameters, post } from './api';
import type { Ctx } from './main';
import { accessRow } from './history';
import { Busy, ErrorBox, Notice, PageTitle, useLoad } from './ui';
import { loadSettings } from './settings';

const TREATING_REFUSAL =
  'Vous ne pouvez pas bloquer votre médecin traitant : il doit pouvoir consulter votre dossier pour vous soigner. ' +
  'Si vous ne souhaitez plus qu’il y accède, déclarez d’abord un autre médecin traitant, puis bloquez-le.';

export function Professionals({ ctx }: { ctx: Ctx }) {
  const pid = ctx.patient.id;
  const [teams, teamError, teamLoading] = useLoad(() => get(`CareTeam?patient=${encodeURIComponent(pid)}&_count=50`), [pid]);
  const [seen] = useLoad(() => get(`AuditEvent?patient=${encodeURIComponent(pid)}&_count=100`), [pid]);
  const [current, currentError, currentLoading, reloadCurrent] = useLoad(() => loadSettings(pid), [pid]);
  const [kind, setKind] = useState('professional');
  const [who, setWho] = useState('');
  const [treating, setTreating] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [context, setContext] = useState<Record<number, string>>({});
  const [notice, setNotice] = useState('');
  const [busy, setBusy] = useState(false);

  async function act(op: string, params: Record<string, string>, done: string, ctxMessages: Record<number, string> = {}) {
    setBusy(true);
    setError(null);
    setNotice('');
    setContext(ctxMessages);
    try {
      await post(`Patient/${encodeURIComponent(pid)}/$${op}`, parameters(params));
      setNotice(done);
      reloadCurrent();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }
  const block = (k: string, id: string) =>
    act('block', { kind: k, actor: id }, k === 'professional' ? `Le professionnel ${id} ne peut plus accéder à votre dossier.` : `L’établissement ${id} ne peut plus accéder à votre dossier.`,
      { 409: TREATING_REFUSAL, 400: 'Indiquez un numéro RPPS (professionnel) ou FINESS (établissement) valide.' });
  const unblock = (k: string, id: string) =>
    act('unblock', { kind: k, actor: id }, k === 'professional' ? `Le professionnel ${id} peut de nouveau accéder à votre dossier.` : `L’établissement ${id} peut de nouveau accéder à votre dossier.`);

  const members: { name: string; role: string }[] = [];
  for (const t of entries(teams).filter((r: any) => r.resourceType === 'CareTeam'))
    for (const p of t.participant || [])
      members.push({ name: p.member?.display || p.member?.reference || 'Professionnel', role: p.role?.[0]?.text || p.role?.[0]?.coding?.[0]?.display || t.name || '' });
  const visitors = new Map<string, string>();
  for (const r of entries(seen).filter((e: any) => e.resourceType === 'AuditEvent').map(accessRow))
    if (r.kind === 'professional' && r.id && !visitors.has(r.id)) visitors.set(r.id, r.profession);

  return (
    <section aria-labelledby="titre-page">
      <PageTitle>Professionnels de santé</PageTitle>
      <section class="card" aria-labelledby="h-equipe">
        <h2 id="h-equipe">Votre équipe de soins</h2>
        <p>Les professionnels de votre équipe de soins et votre médecin traitant peuvent consulter votre dossier, selon ce que leur profession autorise.</p>
        {teamLoading && <Busy label="Chargement de l’équipe de soins…" />}
        <ErrorBox error={teamError} />
        {!teamLoading && !teamError && (members.length ? (
          <ul class="plain">{members.map((m, i) => <li key={i}>{m.name}{m.role && ` — ${m.role}`}</li>)}</ul>
        ) : <p>Aucune équipe de soins n’est enregistrée.</p>)}
      </section>
      <section class="card" aria-labelledby="h-traitant">
        <h2 id="h-traitant">Votre médecin traitant</h2>
        <p>Votre médecin traitant peut toujours accéder à votre dossier : il ne peut pas être bloqué.</p>
        {currentLoading && <Busy label="Chargement de vos choix…" />}
        <ErrorBox error={currentError} />
        {current && (
          <p id="traitant-actuel">
            {current.treatingPhysician
              ? `Médecin traitant déclaré : RPPS ${current.treatingPhysician}.`
              : 'Vous n’avez pas déclaré de médecin traitant.'}
          </p>
        )}
        <form onSubmit={(e) => { e.preventDefault(); act('treating-physician', { actor: treating.trim() }, `Le médecin ${treating.trim()} est déclaré comme votre médecin traitant.`); }}>
          <label for="traitant">Numéro RPPS de votre médecin traitant</label>
          <input id="traitant" inputMode="numeric" value={treating} onInput={(e) => setTreating((e.target as HTMLInputElement).value)} />
          <button type="submit" disabled={busy || !treating.trim()}>Déclarer comme médecin traitant</button>
        </form>
      </section>
      <section class="card" aria-labelledby="h-bloquer">
        <h2 id="h-bloquer">Bloquer un professionnel ou un établissement</h2>
        <p>Un professionnel ou un établissement bloqué ne peut plus consulter ni alimenter votre dossier, même en urgence.</p>
        {current && (current.blocked.length ? (
          <>
            <h3 id="h-bloques">Actuellement bloqués</h3>
            <ul class="plain" aria-labelledby="h-bloques" id="bloques">
              {current.blocked.map((b) => (
                <li key={b.kind + b.actor}>
                  {b.kind === 'organisation' ? `Établissement ${b.actor}` : `Professionnel ${b.actor}`}{' '}
                  <button type="button" class="small secondary" disabled={busy} onClick={() => unblock(b.kind, b.actor)}
                    aria-label={`Débloquer ${b.kind === 'organisation' ? 'l’établissement' : 'le professionnel'} ${b.actor}`}>Débloquer</button>
                </li>
              ))}
            </ul>
          </>
        ) : <p id="bloques-aucun">Vous n’avez bloqué personne.</p>)}
        <form onSubmit={(e) => e.preventDefault()}>
          <fieldset>
            <legend>Qui bloquer ou débloquer</legend>
            <label class="choice"><input type="radio" name="kind" checked={kind === 'professional'} onChange={() => setKind('professional')} /> un professionnel (numéro RPPS)</label>
            <label class="choice"><input type="radio" name="kind" checked={kind === 'organisation'} onChange={() => setKind('organisation')} /> un établissement (numéro FINESS)</label>
          </fieldset>
          <label for="bloque">Numéro</label>
          <input id="bloque" value={who} onInput={(e) => setWho((e.target as HTMLInputElement).value)} />
          <div class="actions">
            <button type="button" disabled={busy || !who.trim()} onClick={() => block(kind, who.trim())}>Bloquer</button>
            <button type="button" class="secondary" disabled={busy || !who.trim()} onClick={() => unblock(kind, who.trim())}>Débloquer</button>
          </div>
        </form>
        {visitors.size > 0 && (
          <>
            <h3>Professionnels ayant consulté votre dossier</h3>
            <ul class="plain">
              {Array.from(visitors.entries()).map(([id, prof]) => (
                <li key={id}>
                  {prof || 'Professionnel'} {id}{' '}
                  <button type="button" class="small" disabled={busy} onClick={() => block('professional', id)} aria-label={`Bloquer le professionnel ${id}`}>Bloquer</button>{' '}
                  <button type="button" class="small secondary" disabled={busy} onClick={() => unblock('professional', id)} aria-label={`Débloquer le professionnel ${id}`}>Débloquer</button>
                </li>
              ))}
            </ul>
          </>
        )}
      </section>
      {busy && <Busy label="Enregistrement…" />}
      {notice && <Notice>{notice}</Notice>}
      <ErrorBox error={error} context={context} />
    </section>
  );
}
