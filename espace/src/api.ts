// The gateway's FHIR API as the page uses it. The token lives in memory and in this tab's
// sessionStorage only: never in a URL, never in localStorage, never logged.

const TOKEN_KEY = 'espace.token';
const ACTOR_KEY = 'espace.actor';

let token: string | null = sessionStorage.getItem(TOKEN_KEY);
let actor: string | null = sessionStorage.getItem(ACTOR_KEY);

export function signedIn(): boolean {
  return !!token;
}
export function actorKind(): string {
  return actor || '';
}
export function setSession(t: string, kind: string): void {
  token = t;
  actor = kind;
  sessionStorage.setItem(TOKEN_KEY, t);
  sessionStorage.setItem(ACTOR_KEY, kind);
}
export function signOut(): void {
  token = null;
  actor = null;
  sessionStorage.removeItem(TOKEN_KEY);
  sessionStorage.removeItem(ACTOR_KEY);
  sessionStorage.removeItem('espace.patient');
}

export interface Issue {
  severity?: string;
  code?: string;
  diagnostics?: string;
  details?: { text?: string };
}

export class ApiError extends Error {
  status: number;
  issues: Issue[];
  requestId: string;
  constructor(status: number, issues: Issue[], requestId: string) {
    super(issues.map((i) => i.diagnostics || i.details?.text || i.code || '').join(' ; ') || `HTTP ${status}`);
    this.status = status;
    this.issues = issues;
    this.requestId = requestId;
  }
}

// A path under /fhir/ ("DocumentReference?patient=..."), or an absolute link the server
// gave (a paging link): only its part from /fhir/ on is used, always on this origin.
function fhirUrl(path: string): string {
  const at = path.indexOf('/fhir/');
  if (/^https?:/.test(path) && at >= 0) return path.substring(at);
  return '/fhir/' + path.replace(/^\/+/, '');
}

async function failure(res: Response): Promise<ApiError> {
  let issues: Issue[] = [];
  try {
    const body = await res.json();
    if (body && body.resourceType === 'OperationOutcome' && Array.isArray(body.issue)) issues = body.issue;
  } catch {
    /* not an OperationOutcome */
  }
  return new ApiError(res.status, issues, res.headers.get('X-Request-Id') || '');
}

export async function request(
  method: string,
  path: string,
  body?: BodyInit | object,
  headers: Record<string, string> = {},
): Promise<Response> {
  const h: Record<string, string> = { Accept: 'application/fhir+json', ...headers };
  if (token) h.Authorization = 'Bearer ' + token;
  let payload: BodyInit | undefined;
  if (body !== undefined && (typeof body === 'string' || body instanceof Blob || body instanceof ArrayBuffer)) {
    payload = body as BodyInit;
  } else if (body !== undefined) {
    payload = JSON.stringify(body);
    h['Content-Type'] = h['Content-Type'] || 'application/fhir+json';
  }
  let res: Response;
  try {
    res = await fetch(fhirUrl(path), { method, headers: h, body: payload, credentials: 'omit', cache: 'no-store' });
  } catch {
    throw new ApiError(0, [], '');
  }
  if (!res.ok) throw await failure(res);
  return res;
}

export async function get<T = any>(path: string): Promise<T> {
  return (await request('GET', path)).json();
}
export async function post<T = any>(path: string, body?: object): Promise<T> {
  const res = await request('POST', path, body);
  const text = await res.text();
  return text ? JSON.parse(text) : ({} as T);
}

export function parameters(params: Record<string, string | boolean>): object {
  return {
    resourceType: 'Parameters',
    parameter: Object.entries(params).map(([name, v]) =>
      typeof v === 'boolean' ? { name, valueBoolean: v } : { name, valueString: v },
    ),
  };
}

export function entries<T = any>(bundle: any): T[] {
  return (bundle?.entry || []).filter((e: any) => !e.search || e.search.mode !== 'outcome').map((e: any) => e.resource);
}
export function nextLink(bundle: any): string | null {
  const l = (bundle?.link || []).find((x: any) => x.relation === 'next');
  return l ? l.url : null;
}
export function prevLink(bundle: any): string | null {
  const l = (bundle?.link || []).find((x: any) => x.relation === 'previous' || x.relation === 'prev');
  return l ? l.url : null;
}

// Development login (POST /espace/dev-login, served only by a development gateway).
export async function devLogin(body: object): Promise<{ token: string; actor: string }> {
  let res: Response;
  try {
    res = await fetch('/espace/dev-login', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
      credentials: 'omit',
      cache: 'no-store',
    });
  } catch {
    throw new ApiError(0, [], '');
  }
  if (res.status === 404) throw new ApiError(404, [{ code: 'dev-login-absent' }], '');
  if (!res.ok) {
    let msg = '';
    try {
      msg = (await res.json()).error || '';
    } catch {
      /* empty */
    }
    throw new ApiError(res.status, [{ code: 'invalid', diagnostics: msg }], '');
  }
  return res.json();
}

// A JSON answer of the gateway outside /fhir/ (the app catalogue, GET /apps).
export async function getRoot<T = any>(path: string): Promise<T> {
  const h: Record<string, string> = { Accept: 'application/json' };
  if (token) h.Authorization = 'Bearer ' + token;
  let res: Response;
  try {
    res = await fetch('/' + path.replace(/^\/+/, ''), { headers: h, credentials: 'omit', cache: 'no-store' });
  } catch {
    throw new ApiError(0, [], '');
  }
  if (!res.ok) throw await failure(res);
  return res.json();
}

// The session's token, for a request the page makes outside the FHIR API (the approval of an
// app at /oauth/authorize). Never logged, never put in a URL.
export function sessionToken(): string | null {
  return token;
}
