// carnet-bench: the data generator, the load client and the PostgreSQL floor of bench/run.
//
//   carnet-bench load --db CONN --patients N --documents M [--seed S] [--exact]
//                     [--content-fraction F] [--elided-bytes B] [--chunk P] [--validate-all]
//                     [--from P --to P] [--no-analyze]
//       generates realistic dossiers (bench/dossier.h: INS test identifiers, documents in the
//       French mix with their XDS metadata, lab results, vital signs, allergies, treatments,
//       vaccinations, access histories) and loads them. By default through the bulk path
//       (bench/fast_load.h): the rows carnet's write path would write, computed in process
//       with its own functions and sent with COPY, P dossiers per transaction (250), a
//       progress line per chunk on stderr. --exact writes through carnet's write path itself
//       (bench/slow_load.h: fhir::Interactions, one transaction per dossier, accesses through
//       the FHIR API in process), some 40 to 100 documents per second. Either way the last
//       line on stdout is JSON: counts, seconds, documents/s, resources/s, rows/s.
//       Sizes: attachment.size of every document follows the 20 kB - 2 MB spread and its hash
//       is the SHA-1 of all its (generated) bytes, but only a fraction F of the documents
//       (0.01 by default) keep all their bytes in their Binary; the others keep their first B
//       bytes (1024): a million whole documents would take some 350 GB.
//       --from/--to load a range of the dossiers (the same seed and sizes give the same ones).
//       Then VACUUM (ANALYZE), timed apart (analyze_seconds), unless --no-analyze: the
//       scenarios start at once, before autovacuum would have gathered statistics.
//   carnet-bench compare --db CONN_A --db2 CONN_B --patients N --documents M [--seed S] ...
//       the same dossiers loaded into two databases (e.g. one --exact, one bulk): every table
//       compared row by row (the load's timestamps and random audit event ids aside), the
//       audit chains verified, and the same FHIR searches and ITI-18 queries asked of both.
//       Exit status 0 when they agree.
//   carnet-bench http  --base URL --token T --scenario S --seconds D --connections C
//       drives a running gateway on loopback (one keep-alive libcurl handle per connection)
//       and prints one JSON line: requests, errors (HTTP >= 400, or an XDS.b answer without
//       ResponseStatusType:Success), throughput, p50/p99/max latency (ms). The other actors'
//       tokens: --token-professional, --token-patient (of record 0), --token-guardian (of
//       record --child), --token-app (record 0's measurement app).
//   carnet-bench ins P
//       prints the INS of generated patient P (the patient actor's token names it).
//   carnet-bench child --patients N --documents M
//       prints the number and INS of the record a guardian reads in the patient scenario: the
//       first minor (IsMinor) after record 0 that holds documents; exit status 1 when there is
//       none (bench/run then takes the last record, an adult's, and says so).
//   carnet-bench floor --db CONN --scenario S --seconds D --connections C [--primary-key]
//       does the same work straight against PostgreSQL through libpq (the SQL a request
//       needs, with the same durability), and prints the same JSON line. With --primary-key
//       (scenario read), the bare lookup by primary key instead (side "pk_floor":
//       DocumentFloors::PrimaryKeyRead, no transaction, no audit event).
// Scenarios: read search create transaction iti41 iti18 iti43 mixed (issue 8; the floors, each
// with the audit event its request commits, are in bench/scenarios.h), patient (issue 20: the
// patient's side, PatientPartOf below), and devices (issue 17: a glucometer's week pushed a
// day per transaction, then searched by date range; reported as two lines, devices-push and
// devices-search; no floor).
#include <curl/curl.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "base/json.h"
#include "base/strings.h"
#include "bench/dossier.h"
#include "bench/fast_load.h"
#include "bench/load_compare.h"
#include "bench/scenarios.h"
#include "bench/slow_load.h"
#include "fhir/interactions.h"
#include "profiles/access.h"
#include "storage/connection.h"
#include "storage/transaction.h"

namespace carnet::bench {
namespace {

using Clock = std::chrono::steady_clock;

std::string Arg(int argc, char** argv, const std::string& name, const std::string& fallback = "") {
  for (int i = 2; i + 1 < argc; ++i)
    if (argv[i] == name) return argv[i + 1];
  return fallback;
}

DossierOptions GeneratorOptions(int argc, char** argv) {
  DossierOptions o;
  o.patients = std::stoi(Arg(argc, argv, "--patients", "100"));
  o.documents = std::stoll(Arg(argc, argv, "--documents", "1000"));
  o.seed = std::stoull(Arg(argc, argv, "--seed", "42"));
  o.content_fraction = std::stod(Arg(argc, argv, "--content-fraction", "0.01"));
  o.elided_bytes = std::stoi(Arg(argc, argv, "--elided-bytes", "1024"));
  return o;
}

bool Flag(int argc, char** argv, const std::string& name) {
  for (int i = 2; i < argc; ++i)
    if (argv[i] == name) return true;
  return false;
}

int Load(int argc, char** argv) {
  std::string db = Arg(argc, argv, "--db");
  DossierGenerator generator(GeneratorOptions(argc, argv));
  int from = std::stoi(Arg(argc, argv, "--from", "0"));
  int to = std::stoi(Arg(argc, argv, "--to", std::to_string(generator.options().patients)));
  bool exact = Flag(argc, argv, "--exact");
  Result<LoadReport> r = LoadReport{};
  if (exact) {
    r = SlowLoad(db, generator, from, to, true);
  } else {
    FastLoadOptions fo;
    fo.chunk_patients = std::stoi(Arg(argc, argv, "--chunk", "250"));
    fo.validate_all = Flag(argc, argv, "--validate-all");
    r = FastLoad(db, generator, from, to, fo);
  }
  if (!r.ok()) {
    std::cerr << r.status().ToString() << "\n";
    return 1;
  }
  if (!Flag(argc, argv, "--no-analyze")) {
    auto t0 = Clock::now();
    auto conn = storage::Connection::Open(db);
    Status st = conn.status();
    if (conn.ok()) {
      auto vacuum = (*conn)->Exec("VACUUM (ANALYZE)");
      if (!vacuum.ok()) st = vacuum.status();
    }
    if (!st.ok()) {
      std::cerr << "VACUUM (ANALYZE): " << st.ToString() << "\n";
      return 1;
    }
    r->analyze_seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  }
  std::printf("%s\n", ReportJson(exact ? "exact" : "fast", *r).c_str());
  return 0;
}

int Compare(int argc, char** argv) {
  std::string a = Arg(argc, argv, "--db"), b = Arg(argc, argv, "--db2");
  DossierGenerator generator(GeneratorOptions(argc, argv));
  int failures = 0;
  auto tables = CompareTables(a, b);
  if (!tables.ok()) {
    std::cerr << tables.status().ToString() << "\n";
    return 1;
  }
  for (const auto& t : *tables) {
    std::printf("%-20s %10lld %10lld %s\n", t.table.c_str(), t.rows_a, t.rows_b,
                t.same ? "same" : "DIFFERENT");
    if (!t.same) {
      ++failures;
      std::printf("%s\n", t.difference.c_str());
    }
  }
  for (const std::string& conn : {a, b})
    if (Status st = VerifyAudit(conn); !st.ok()) {
      ++failures;
      std::printf("audit chains of %s: %s\n", conn.c_str(), st.ToString().c_str());
    }
  auto queries = CompareQueries(a, b, generator);
  if (!queries.ok()) {
    std::cerr << queries.status().ToString() << "\n";
    return 1;
  }
  for (const auto& q : *queries) {
    std::printf("%5zu %5zu %s %s\n", q.ids_a.size(), q.ids_b.size(),
                q.same() ? "same     " : "DIFFERENT", q.query.c_str());
    if (!q.same()) ++failures;
  }
  std::printf("%s\n", failures ? "the databases differ" : "the databases hold the same dossiers");
  return failures ? 1 : 0;
}

// What http and floor can drive (bench/run's scenario names).
const char* const kScenarios[] = {"read",  "search", "create", "transaction", "iti41",
                                  "iti18", "iti43",  "mixed",  "patient",     "devices"};

bool KnownScenario(const std::string& s) {
  return std::find(std::begin(kScenarios), std::end(kScenarios), s) != std::end(kScenarios);
}

int UnknownScenario(const std::string& s) {
  std::cerr << "carnet-bench: unknown scenario '" << s << "'\n";
  return 2;
}

struct Stats {
  std::vector<double> latencies_ms;
  long errors = 0;
};

void Print(const std::string& scenario, const std::string& side, double seconds,
           std::vector<Stats>& per_thread) {
  std::vector<double> all;
  long errors = 0;
  for (auto& s : per_thread) {
    all.insert(all.end(), s.latencies_ms.begin(), s.latencies_ms.end());
    errors += s.errors;
  }
  std::sort(all.begin(), all.end());
  auto pct = [&](double p) {
    return all.empty() ? 0.0 : all[std::min(all.size() - 1, static_cast<size_t>(p * all.size()))];
  };
  std::printf(
      "{\"scenario\":\"%s\",\"side\":\"%s\",\"requests\":%zu,\"errors\":%ld,\"throughput\":%.1f,"
      "\"p50_ms\":%.3f,"
      "\"p99_ms\":%.3f,\"max_ms\":%.3f}\n",
      scenario.c_str(), side.c_str(), all.size(), errors, all.size() / seconds, pct(0.5), pct(0.99),
      all.empty() ? 0.0 : all.back());
}

// Keeps the head of an answer, where a SOAP answer says whether it succeeded (and where an
// MTOM answer's first part is); the rest, documents included, is dropped.
constexpr size_t kAnswerHead = 16 * 1024;
size_t KeepHead(char* data, size_t size, size_t n, void* out) {
  auto* head = static_cast<std::string*>(out);
  if (head->size() < kAnswerHead)
    head->append(data, std::min(size * n, kAnswerHead - head->size()));
  return size * n;
}

// The patient scenario (issue 20): the records it touches, the patient's own (bench record 0,
// which bench/run's patient and app tokens name) and the child's a guardian reads (--child),
// with the numbers of their documents (documents are numbered across patients: [first, end)).
struct PatientMix {
  int self = 0, child = 0;
  long long self_first = 0, self_end = 0, child_first = 0, child_end = 0;
};

PatientMix MakePatientMix(int argc, char** argv) {
  DossierGenerator g(GeneratorOptions(argc, argv));
  PatientMix m;
  m.child = std::clamp(std::stoi(Arg(argc, argv, "--child", "0")), 0,
                       std::max(0, g.options().patients - 1));
  m.self_first = g.FirstDocument(m.self);
  m.self_end = g.FirstDocument(m.self + 1);
  m.child_first = g.FirstDocument(m.child);
  m.child_end = g.FirstDocument(m.child + 1);
  return m;
}

// Its parts, request n of a connection (every tenth of them in turn): 20% the app pushes a
// vital sign (a weight) to the patient's record; 30% the patient reads one of their documents
// by id, 20% lists their documents (DocumentReference?patient=), 10% reads their access history
// (AuditEvent?patient=); 10% the guardian lists the child's documents, 10% reads one by id.
// Writes 20%, reads 80% (the mixed scenario's split).
enum class PatientPart { kAppPush, kOwnRead, kOwnList, kHistory, kChildList, kChildRead };

PatientPart PatientPartOf(long n, int thread) {
  int roll = static_cast<int>((n * 7 + thread) % 10);
  return roll < 2   ? PatientPart::kAppPush
         : roll < 5 ? PatientPart::kOwnRead
         : roll < 7 ? PatientPart::kOwnList
         : roll < 8 ? PatientPart::kHistory
         : roll < 9 ? PatientPart::kChildList
                    : PatientPart::kChildRead;
}

// A document of [first, end), or -1 when the record holds none (the read becomes the list).
long long PickDocument(std::mt19937& rng, long long first, long long end) {
  if (end <= first) return -1;
  return std::uniform_int_distribution<long long>(first, end - 1)(rng);
}

Request PatientRequest(const PatientMix& m, std::mt19937& rng, int thread, long n) {
  PatientPart part = PatientPartOf(n, thread);
  bool child = part == PatientPart::kChildList || part == PatientPart::kChildRead;
  int record = child ? m.child : m.self;
  Request r;
  if (part == PatientPart::kAppPush) {
    r = VitalSignRequest(m.self);
    r.actor = 4;
    return r;
  }
  long long document = -1;
  if (part == PatientPart::kOwnRead) document = PickDocument(rng, m.self_first, m.self_end);
  if (part == PatientPart::kChildRead) document = PickDocument(rng, m.child_first, m.child_end);
  if (part == PatientPart::kHistory) {
    // Never empty: the load wrote the record's history, and each run adds to it.
    r = {"GET", "/fhir/AuditEvent?patient=" + PatientId(record), "", "", "\"fullUrl\""};
  } else if (document >= 0) {
    r = {"GET", "/fhir/DocumentReference/" + DocumentId(document), "", "", ""};
  } else {
    bool any = child ? m.child_end > m.child_first : m.self_end > m.self_first;
    r = {"GET", "/fhir/DocumentReference?patient=" + PatientId(record), "", "",
         any ? "\"fullUrl\"" : ""};
  }
  r.actor = child ? 3 : 2;
  return r;
}

Request HttpRequestFor(const std::string& scenario, std::mt19937& rng, int patients, int documents,
                       int thread, long n) {
  std::uniform_int_distribution<int> p(0, std::max(0, patients - 1)),
      d(0, std::max(0, documents - 1));
  if (scenario == "read")
    return {"GET", "/fhir/DocumentReference/bench-d" + std::to_string(d(rng)), "", "", ""};
  if (scenario == "search")
    return {"GET",
            "/fhir/DocumentReference?patient=" + PatientId(p(rng)) +
                "&type=http://loinc.org%7C11502-2&date=ge2025-01-01",
            "", "", ""};
  if (scenario == "create")
    return {
        "POST", "/fhir/Observation",
        R"({"resourceType":"Observation","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"29463-7"}]},"subject":{"reference":"Patient/)" +
            PatientId(p(rng)) +
            R"("},"valueQuantity":{"value":70,"unit":"kg","system":"http://unitsofmeasure.org","code":"kg"}})",
        "application/fhir+json", ""};
  if (scenario == "iti18") {
    std::string cx = Ins(p(rng)) + "^^^&amp;1.2.250.1.213.1.4.10&amp;ISO";
    return {
        "POST", "/xds/registry",
        R"(<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://www.w3.org/2005/08/addressing"><s:Header><a:Action>urn:ihe:iti:2007:RegistryStoredQuery</a:Action><a:MessageID>urn:uuid:)" +
            NewUuid() +
            R"(</a:MessageID></s:Header><s:Body><query:AdhocQueryRequest xmlns:query="urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0" xmlns:rim="urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0"><query:ResponseOption returnComposedObjects="true" returnType="LeafClass"/><rim:AdhocQuery id="urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d"><rim:Slot name="$XDSDocumentEntryPatientId"><rim:ValueList><rim:Value>')" +
            cx +
            R"('</rim:Value></rim:ValueList></rim:Slot><rim:Slot name="$XDSDocumentEntryStatus"><rim:ValueList><rim:Value>('urn:oasis:names:tc:ebxml-regrep:StatusType:Approved')</rim:Value></rim:ValueList></rim:Slot></rim:AdhocQuery></query:AdhocQueryRequest></s:Body></s:Envelope>)",
        "application/soap+xml", "ResponseStatusType:Success"};
  }
  if (scenario == "transaction") return TransactionRequest(p(rng));
  if (scenario == "devices") return DevicesRequest(patients, thread, n);
  if (scenario == "iti41") return ProvideAndRegisterRequest(p(rng));
  if (scenario == "iti43") return RetrieveRequest(d(rng));
  if (scenario == "mixed") {
    // 80% reads, 20% writes, by three kinds of actor: the lab system writes and reads by id,
    // a doctor (asserting consent) searches a patient's lab reports (what the matrix lets a
    // doctor see: a read by id of any generated type could be refused, as it should be), the
    // patient searches their own record.
    int roll = static_cast<int>((n * 7 + thread) % 10);
    Request r;
    if (roll < 2) {
      r = HttpRequestFor("create", rng, patients, documents, thread, n);
    } else if (roll < 5) {
      r = HttpRequestFor("search", rng, patients, documents, thread, n);
      r.actor = 1;
    } else if (roll < 9) {
      r = HttpRequestFor("read", rng, patients, documents, thread, n);
    } else {
      // Their whole list (the record of generated patient 0 holds documents: an empty answer
      // would mean the token named another record, and counts as an error).
      r = {"GET", "/fhir/DocumentReference?patient=" + PatientId(0), "", "", "\"fullUrl\""};
      r.actor = 2;
    }
    return r;
  }
  return {"", "", "", "", ""};
}

int Http(int argc, char** argv) {
  std::string base = Arg(argc, argv, "--base"), token = Arg(argc, argv, "--token"),
              scenario = Arg(argc, argv, "--scenario");
  // The mixed and patient workloads' other actors (the system token for all when absent).
  const std::string tokens[5] = {token, Arg(argc, argv, "--token-professional", token),
                                 Arg(argc, argv, "--token-patient", token),
                                 Arg(argc, argv, "--token-guardian", token),
                                 Arg(argc, argv, "--token-app", token)};
  double seconds = std::stod(Arg(argc, argv, "--seconds", "10"));
  int connections = std::stoi(Arg(argc, argv, "--connections", "8"));
  int patients = std::stoi(Arg(argc, argv, "--patients", "100"));
  int documents = std::stoi(Arg(argc, argv, "--documents", "1000"));
  if (!KnownScenario(scenario)) return UnknownScenario(scenario);
  const PatientMix mix = MakePatientMix(argc, argv);
  curl_global_init(CURL_GLOBAL_DEFAULT);
  // Per connection, per label (the scenario's, or the request's own: Request::label).
  std::vector<std::map<std::string, Stats>> stats(connections);
  auto deadline = Clock::now() + std::chrono::duration<double>(seconds);
  std::vector<std::thread> threads;
  for (int t = 0; t < connections; ++t)
    threads.emplace_back([&, t] {
      CURL* c = curl_easy_init();
      std::mt19937 rng(1000 + t);
      for (long n = 0; Clock::now() < deadline; ++n) {
        Request rq = scenario == "patient"
                         ? PatientRequest(mix, rng, t, n)
                         : HttpRequestFor(scenario, rng, patients, documents, t, n);
        std::string url = base + rq.path;
        curl_easy_setopt(c, CURLOPT_URL, url.c_str());
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, rq.method.c_str());
        std::string head;
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, KeepHead);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &head);
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        if (rq.method == "POST") {
          curl_easy_setopt(c, CURLOPT_POSTFIELDS, rq.body.data());
          curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(rq.body.size()));
        } else {
          curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
        }
        struct curl_slist* h = nullptr;
        std::string auth = "Authorization: Bearer " + tokens[rq.actor];
        h = curl_slist_append(h, auth.c_str());
        h = curl_slist_append(h, "Expect:");
        std::string ct = "Content-Type: " + rq.content_type;
        if (!rq.content_type.empty()) h = curl_slist_append(h, ct.c_str());
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
        auto t0 = Clock::now();
        CURLcode rc = curl_easy_perform(c);
        double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
        long status = 0;
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
        curl_slist_free_all(h);
        bool failed = rc != CURLE_OK || status >= 400 ||
                      (!rq.expect.empty() && head.find(rq.expect) == std::string::npos);
        Stats& mine = stats[t][rq.label.empty() ? scenario : rq.label];
        if (failed) ++mine.errors;
        mine.latencies_ms.push_back(ms);
      }
      curl_easy_cleanup(c);
    });
  for (auto& th : threads) th.join();
  std::map<std::string, std::vector<Stats>> by_label;
  for (auto& per_connection : stats)
    for (auto& [label, s] : per_connection) by_label[label].push_back(std::move(s));
  if (by_label.empty()) by_label[scenario];
  for (auto& [label, s] : by_label) Print(label, "gateway", seconds, s);
  return 0;
}

// The floor: what each request needs from PostgreSQL, done directly (prepared statements,
// one connection per client, the same commit durability).
int Floor(int argc, char** argv) {
  std::string db = Arg(argc, argv, "--db"), scenario = Arg(argc, argv, "--scenario");
  double seconds = std::stod(Arg(argc, argv, "--seconds", "10"));
  int connections = std::stoi(Arg(argc, argv, "--connections", "8"));
  int patients = std::stoi(Arg(argc, argv, "--patients", "100"));
  int documents = std::stoi(Arg(argc, argv, "--documents", "1000"));
  if (!KnownScenario(scenario)) return UnknownScenario(scenario);
  // devices has no floor of its own yet: its work (ifNoneExist lookups, the date index) is
  // not reproduced in SQL here; bench/run reports the gateway's side alone.
  if (scenario == "devices") return 0;
  const bool primary_key = Flag(argc, argv, "--primary-key");
  if (primary_key && scenario != "read") {
    std::cerr << "carnet-bench: --primary-key is the read scenario's floor\n";
    return 2;
  }
  const PatientMix mix = MakePatientMix(argc, argv);
  const DocumentFloors floors;
  std::vector<Stats> stats(connections);
  auto deadline = Clock::now() + std::chrono::duration<double>(seconds);
  std::vector<std::thread> threads;
  for (int t = 0; t < connections; ++t)
    threads.emplace_back([&, t] {
      auto conn = storage::Connection::Open(db);
      if (!conn.ok()) {
        ++stats[t].errors;
        return;
      }
      std::mt19937 rng(2000 + t);
      std::uniform_int_distribution<int> p(0, std::max(0, patients - 1)),
          d(0, std::max(0, documents - 1));
      for (long n = 0; Clock::now() < deadline; ++n) {
        std::string s = scenario;
        if (s == "mixed") {  // the same mix of work as the gateway's (HttpRequestFor)
          int roll = static_cast<int>((n * 7 + t) % 10);
          s = roll < 2 ? "create" : roll < 5 || roll == 9 ? "search" : "read";
        }
        auto t0 = Clock::now();
        Status st;
        if (primary_key) {
          st = floors.PrimaryKeyRead(**conn, d(rng));
        } else if (s == "patient") {  // the same parts as PatientRequest's, the same records
          PatientPart part = PatientPartOf(n, t);
          bool child = part == PatientPart::kChildList || part == PatientPart::kChildRead;
          int record = child ? mix.child : mix.self;
          long long document =
              part == PatientPart::kOwnRead     ? PickDocument(rng, mix.self_first, mix.self_end)
              : part == PatientPart::kChildRead ? PickDocument(rng, mix.child_first, mix.child_end)
                                                : -1;
          if (part == PatientPart::kAppPush)
            st = floors.Create(**conn, mix.self);
          else if (part == PatientPart::kHistory)
            st = floors.AccessHistory(**conn, record);
          else if (document >= 0)
            st = floors.Read(**conn, static_cast<int>(document));
          else
            st = floors.PatientDocuments(**conn, record);
        } else if (s == "read") {
          st = floors.Read(**conn, d(rng));
        } else if (s == "search") {
          st = floors.Search(**conn, p(rng));
        } else if (s == "create") {
          st = floors.Create(**conn, p(rng));
        } else if (s == "iti18") {
          st = floors.FindDocuments(**conn, p(rng));
        } else if (s == "transaction") {
          st = floors.Transaction(**conn, p(rng));
        } else if (s == "iti41") {
          st = floors.ProvideAndRegister(**conn, p(rng));
        } else if (s == "iti43") {
          st = floors.Retrieve(**conn, d(rng));
        }
        double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
        if (!st.ok()) ++stats[t].errors;
        stats[t].latencies_ms.push_back(ms);
      }
    });
  for (auto& th : threads) th.join();
  Print(scenario, primary_key ? "pk_floor" : "floor", seconds, stats);
  return 0;
}

// The record a guardian reads in the patient scenario: the first minor after record 0 with
// documents (its number and INS on one line).
int Child(int argc, char** argv) {
  DossierGenerator g(GeneratorOptions(argc, argv));
  for (int p = 1; p < g.options().patients; ++p)
    if (IsMinor(p) && g.FirstDocument(p + 1) > g.FirstDocument(p)) {
      std::printf("%d %s\n", p, Ins(p).c_str());
      return 0;
    }
  return 1;
}

}  // namespace
}  // namespace carnet::bench

int main(int argc, char** argv) {
  std::string cmd = argc > 1 ? argv[1] : "";
  if (cmd == "load") return carnet::bench::Load(argc, argv);
  if (cmd == "compare") return carnet::bench::Compare(argc, argv);
  if (cmd == "http") return carnet::bench::Http(argc, argv);
  if (cmd == "floor") return carnet::bench::Floor(argc, argv);
  if (cmd == "child") return carnet::bench::Child(argc, argv);
  if (cmd == "ins" && argc == 3) {
    std::printf("%s\n", carnet::bench::Ins(std::stoi(argv[2])).c_str());
    return 0;
  }
  std::cerr << "usage: carnet-bench load|compare|http|floor|ins|child ... (see bench/bench.cc)\n";
  return 2;
}
