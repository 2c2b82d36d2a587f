// Shared pieces: error and progress messages, dates in French, the record's names.
import { useEffect, useRef, useState } from 'preact/hooks';
import type { ComponentChildren } from 'preact';
import { explain } from './errors';

export function ErrorBox({ error, context }: { error: unknown; context?: Record<number, string> }) {
  if (!error) return null;
  const e = explain(error, context);
  return (
    <div class="error" role="alert">
      <p>{e.message}</p>
      {e.detail && (
        <details>
          <summary>Détail technique</summary>
          <p class="detail">{e.detail}</p>
        </details>
      )}
    </div>
  );
}

export function Busy({ label }: { label: string }) {
  return (
    <p class="busy" role="status" aria-live="polite">
      <span class="spinner" aria-hidden="true"></span> {label}
    </p>
  );
}

export function Notice({ children }: { children: ComponentChildren }) {
  return (
    <p class="notice" role="status" aria-live="polite">
      {children}
    </p>
  );
}

// The page's main heading, focused when the page opens (screen readers announce it).
export function PageTitle({ children }: { children: ComponentChildren }) {
  const ref = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    ref.current?.focus();
  }, []);
  return (
    <h1 tabIndex={-1} ref={ref} id="titre-page">
      {children}
    </h1>
  );
}

// Runs `load` when the dependencies change: [value, error, loading, reload].
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]): [T | null, unknown, boolean, () => void] {
  const [value, setValue] = useState<T | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(true);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    setLoading(true);
    setError(null);
    load()
      .then((v) => live && setValue(v))
      .catch((e) => live && setError(e))
      .finally(() => live && setLoading(false));
    return () => {
      live = false;
    };
  }, [...deps, tick]);
  return [value, error, loading, () => setTick((t) => t + 1)];
}

export function frDate(iso?: string, withTime = false): string {
  if (!iso) return 'date inconnue';
  const d = new Date(iso);
  if (isNaN(d.getTime())) return iso;
  return withTime
    ? d.toLocaleString('fr-FR', { dateStyle: 'long', timeStyle: 'short' })
    : d.toLocaleDateString('fr-FR', { dateStyle: 'long' } as Intl.DateTimeFormatOptions);
}

export function patientName(p: any): string {
  const n = (p?.name || [])[0];
  if (!n) return 'Patient';
  if (n.text) return n.text;
  const given = (n.given || []).join(' ');
  return [given, n.family].filter(Boolean).join(' ') || 'Patient';
}

export const MASQUE_PS = 'MASQUE_PS';
export const VISIBILITY_SYSTEM = 'urn:oid:1.2.250.1.213.1.1.4.13';

export function isMasked(r: any): boolean {
  return (r?.meta?.security || []).some((s: any) => s.code === MASQUE_PS);
}
