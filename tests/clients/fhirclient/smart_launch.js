// A standalone SMART App Launch against carnet, done by SMART's own JavaScript client
// (npm fhirclient, Node mode), with PKCE required. The script is the app (a small HTTP
// server with /launch and /callback, as a real Node app would have) and plays the patient's
// browser: it follows the redirects, and on carnet's authorize page approves with the
// patient's national login token.
//
//   node smart_launch.js FHIR_BASE CLIENT_ID REDIRECT_PORT PATIENT_TOKEN
//
// Prints one line per check and, last, "fhirclient: N passed, M failed"; then the access
// token on a line "ACCESS_TOKEN <jwt>" and the refresh token "REFRESH_TOKEN <t>" for the
// test to continue with.
"use strict";
const http = require("http");
const smart = require("fhirclient");

const [fhirBase, clientId, portText, patientToken] = process.argv.slice(2);
const port = Number(portText);
const redirectUri = `http://127.0.0.1:${port}/callback`;

// One app user: the client's state kept in memory (what express-session would hold).
const memory = new Map();
const storage = {
  async get(key) { return memory.get(key); },
  async set(key, value) { memory.set(key, value); return value; },
  async unset(key) { return memory.delete(key); },
};

let passed = 0, failed = 0;
function check(ok, what) {
  if (ok) { passed++; console.log("ok   " + what); }
  else { failed++; console.log("FAIL " + what); }
}

let finish;
const done = new Promise((resolve) => { finish = resolve; });

const server = http.createServer(async (req, res) => {
  try {
    if (req.url.startsWith("/launch")) {
      await smart(req, res, storage).authorize({
        iss: fhirBase,
        clientId,
        redirectUri,
        scope: "launch/patient patient/Observation.rs patient/Patient.r offline_access",
        pkceMode: "required",
      });
      return;
    }
    if (req.url.startsWith("/callback")) {
      const client = await smart(req, res, storage).ready();
      const observations = await client.request("Observation?patient=" + client.patient.id,
                                                { flat: true });
      res.writeHead(200, { "content-type": "application/json" });
      res.end("{}");
      finish({ client, observations });
      return;
    }
    res.writeHead(404); res.end();
  } catch (e) {
    res.writeHead(500); res.end(String(e));
    finish({ error: e });
  }
});

async function browser() {
  // The patient opens the app.
  let r = await fetch(`http://127.0.0.1:${port}/launch`, { redirect: "manual" });
  check(r.status === 302, "the app redirects to carnet's authorize endpoint (" + r.status + ")");
  const authorize = new URL(r.headers.get("location"));
  check(authorize.searchParams.get("code_challenge_method") === "S256",
        "fhirclient sends a PKCE S256 challenge");
  // carnet's page, seen by the patient.
  r = await fetch(authorize, { headers: { authorization: "Bearer " + patientToken } });
  const page = await r.text();
  check(r.status === 200 && page.includes("Autoriser"), "carnet shows its authorize page");
  check((r.headers.get("content-security-policy") || "").includes("default-src 'none'"),
        "the page carries a strict Content-Security-Policy");
  // The patient approves everything but Patient.r (a subset).
  const form = new URLSearchParams();
  for (const m of page.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g))
    form.append(m[1], m[2].replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, "<")
                       .replace(/&gt;/g, ">").replace(/&amp;/g, "&"));
  for (const s of ["launch/patient", "patient/Observation.rs", "offline_access"])
    form.append("scope", s);
  form.append("decision", "approve");
  r = await fetch(new URL("/oauth/authorize", authorize), {
    method: "POST", redirect: "manual",
    headers: { authorization: "Bearer " + patientToken,
               "content-type": "application/x-www-form-urlencoded" },
    body: form.toString(),
  });
  check(r.status === 302, "the approval redirects back to the app (" + r.status + ")");
  const back = new URL(r.headers.get("location"));
  check(back.origin + back.pathname === redirectUri && back.searchParams.get("code"),
        "with a code, to the registered redirect URI");
  check(back.searchParams.get("state") === authorize.searchParams.get("state"),
        "and the state the app sent");
  // The app finishes: code exchange (with the PKCE verifier), then the FHIR read.
  await fetch(back, { redirect: "manual" });
}

server.listen(port, "127.0.0.1", async () => {
  try {
    await browser();
  } catch (e) {
    check(false, "the browser side: " + e);
    finish({ error: e });
  }
  const { client, observations, error } = await done;
  if (error) check(false, "fhirclient: " + (error.stack || error));
  if (client) {
    const state = client.state;
    check(!!state.tokenResponse.access_token, "fhirclient holds an access token");
    check(!!state.tokenResponse.patient && client.patient.id === state.tokenResponse.patient,
          "the token response names the patient (" + client.patient.id + ")");
    check(String(state.tokenResponse.scope).includes("patient/Observation.rs") &&
          !String(state.tokenResponse.scope).includes("patient/Patient.r"),
          "the granted scope is the subset the patient approved (" + state.tokenResponse.scope + ")");
    check(Array.isArray(observations) && observations.length > 0 &&
          observations.every((o) => o.resourceType === "Observation"),
          "fhirclient reads the patient's Observations (" + (observations || []).length + ")");
    console.log("ACCESS_TOKEN " + state.tokenResponse.access_token);
    console.log("REFRESH_TOKEN " + (state.tokenResponse.refresh_token || ""));
  }
  console.log(`fhirclient: ${passed} passed, ${failed} failed`);
  server.close();
  process.exit(failed ? 1 : 0);
});
