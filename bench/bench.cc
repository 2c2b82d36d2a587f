// carnet-bench: the data generator, the load client and the PostgreSQL floor of bench/run.
//
//   carnet-bench load  --db CONN --patients N --documents M [--seed S]
//       generates realistic dossiers (INS test identifiers, documents in the French mix with
//       sizes from 20 kB to 2 MB, profile Observations) and writes them through carnet's own
//       write path (fhir::Interactions, batched transactions), so that indexes, registry rows
//       and audit are those a live deposit would leave; prints the time taken.
//   carnet-bench http  --base URL --token T --scenario S --seconds D --connections C
//       drives a running gateway on loopback (one keep-alive libcurl handle per connection)
//       and prints one JSON line: requests, errors (HTTP >= 400, or an XDS.b answer without
//       ResponseStatusType:Success), throughput, p50/p99/max latency (ms).
//   carnet-bench floor --db CONN --scenario S --seconds D --connections C
//       does the same work straight against PostgreSQL through libpq (the SQL a request
//       needs, with the same durability), and prints the same JSON line.
// Scenarios: read search create transaction iti41 iti18 iti43 mixed (issue 8; the document
// ones are in bench/scenarios.h).
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
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "base/json.h"
#include "base/strings.h"
#include "bench/scenarios.h"
#include "fhir/interactions.h"
#include "profiles/access.h"
#include "storage/connection.h"
#include "storage/migrations.h"
#include "storage/pool.h"
#include "storage/transaction.h"

namespace carnet::bench {
namespace {

using Clock = std::chrono::steady_clock;

std::string Arg(int argc, char** argv, const std::string& name, const std::string& fallback = "") {
  for (int i = 2; i + 1 < argc; ++i)
    if (argv[i] == name) return argv[i + 1];
  return fallback;
}

// The document mix of the French DMP (issue 8): type code, share in percent, size range.
struct DocKind {
  const char* code;
  const char* display;
  int share;
};
const DocKind kMix[] = {{"11502-2", "Laboratory report", 40}, {"57833-6", "Prescription", 25},
                        {"11490-0", "Discharge letter", 15},  {"18748-4", "Imaging report", 5},
                        {"CERT_DECL", "Certificate", 5},      {"34133-9", "Summary", 5},
                        {"DOC_PATIENT", "Patient upload", 5}};

const char* kObservationCodes[][3] = {{"29463-7", "Body weight", "kg"},
                                      {"8480-6", "Systolic blood pressure", "mm[Hg]"},
                                      {"15074-8", "Glucose", "mmol/L"}};

int Load(int argc, char** argv) {
  std::string db = Arg(argc, argv, "--db");
  int patients = std::stoi(Arg(argc, argv, "--patients", "100"));
  int documents = std::stoi(Arg(argc, argv, "--documents", "1000"));
  std::mt19937 rng(std::stoul(Arg(argc, argv, "--seed", "42")));
  auto conn = storage::Connection::Open(db);
  if (!conn.ok()) {
    std::cerr << conn.status().ToString() << "\n";
    return 1;
  }
  if (auto st = storage::ApplyMigrations(**conn, storage::BuiltinMigrations()); !st.ok()) {
    std::cerr << st.ToString() << "\n";
    return 1;
  }
  storage::PoolOptions po;
  po.conninfo = db;
  po.size = 2;
  storage::Pool pool(po);
  auto access = profiles::AccessControl::Load(profiles::AccessSettings{});
  if (!access.ok()) return 1;
  profiles::Actor loader;
  loader.kind = profiles::ActorKind::kSystem;
  loader.client_id = "bench-loader";
  loader.scopes = profiles::ParseSmartScopes("system/*.cruds");
  profiles::AccessSession session(**access, loader, {"bench", "127.0.0.1"});
  fhir::Interactions interactions(pool);
  auto t0 = Clock::now();
  auto in_batches = [&](int count, int batch,
                        const std::function<Status(storage::Transaction&, int)>& one) -> Status {
    for (int start = 0; start < count; start += batch) {
      Status st = storage::RunInTransaction(pool, [&](storage::Transaction& tx) -> Status {
        for (int i = start; i < std::min(count, start + batch); ++i)
          CARNET_RETURN_IF_ERROR(one(tx, i));
        return Status::Ok();
      });
      if (!st.ok()) return st;
      if ((start / batch) % 20 == 0)
        std::fprintf(stderr, "\r  %d / %d", std::min(count, start + batch), count);
    }
    std::fprintf(stderr, "\r  %d / %d\n", count, count);
    return Status::Ok();
  };
  std::fprintf(stderr, "patients\n");
  Status st = in_batches(patients, 100, [&](storage::Transaction& tx, int i) -> Status {
    JsonValue p = *ParseJson(
        R"({"resourceType":"Patient","identifier":[{"system":"urn:oid:1.2.250.1.213.1.4.10","value":")" +
        Ins(i) + R"("}],"name":[{"family":"BENCH","given":["P)" + std::to_string(i) +
        R"("]}],"birthDate":"1970-01-01"})");
    p.Set("id", JsonValue::String(PatientId(i)));
    auto r = interactions.Update(tx, session, "Patient", PatientId(i), p, fhir::Preconditions{});
    return r.ok() ? Status::Ok() : r.status();
  });
  if (!st.ok()) {
    std::cerr << st.ToString() << "\n";
    return 1;
  }
  std::fprintf(stderr, "documents\n");
  std::uniform_int_distribution<int> pick(0, 99), patient(0, patients - 1);
  std::string filler(2 << 20, 'x');
  for (size_t i = 0; i < filler.size(); ++i) filler[i] = static_cast<char>('a' + (i * 7919) % 26);
  st = in_batches(documents, 50, [&](storage::Transaction& tx, int i) -> Status {
    int roll = pick(rng), acc = 0;
    const DocKind* kind = &kMix[0];
    for (const auto& k : kMix) {
      acc += k.share;
      if (roll < acc) {
        kind = &k;
        break;
      }
    }
    // 20 kB to 2 MB, most documents small (a log-uniform spread).
    double u = std::uniform_real_distribution<double>(0, 1)(rng);
    size_t size = static_cast<size_t>(20000 * std::pow(100.0, u * u));
    int p = patient(rng);
    std::string id = "bench-d" + std::to_string(i);
    std::string content = filler.substr(0, std::min(size, filler.size()));
    std::string month = std::to_string(1 + i % 12);
    if (month.size() == 1) month = "0" + month;
    JsonValue dr = *ParseJson(R"({"resourceType":"DocumentReference","status":"current",
      "masterIdentifier":{"system":"urn:ietf:rfc:3986","value":"urn:oid:)" +
                              DocumentUniqueId(i) + R"("},
      "type":{"coding":[{"system":"http://loinc.org","code":")" +
                              kind->code + R"(","display":")" + kind->display + R"("}]},
      "subject":{"reference":"Patient/)" +
                              PatientId(p) + R"("},"date":"2025-)" + month + R"(-15T10:00:00Z",
      "content":[{"attachment":{"contentType":"text/plain","url":"Binary/)" +
                              id + R"(-bin","size":)" + std::to_string(content.size()) +
                              R"(,"creation":"2025-)" + month + R"(-15T09:00:00Z"}}]})");
    dr.Set("id", JsonValue::String(id));
    auto r = interactions.Update(tx, session, "DocumentReference", id, dr, fhir::Preconditions{});
    if (!r.ok()) return r.status();
    JsonValue bin = JsonValue::Object();
    bin.Set("resourceType", JsonValue::String("Binary"));
    bin.Set("id", JsonValue::String(id + "-bin"));
    bin.Set("contentType", JsonValue::String("text/plain"));
    JsonValue ctx = JsonValue::Object();
    ctx.Set("reference", JsonValue::String("DocumentReference/" + id));
    bin.Set("securityContext", std::move(ctx));
    bin.Set("data", JsonValue::String(Base64Encode(content)));
    auto b = interactions.Update(tx, session, "Binary", id + "-bin", bin, fhir::Preconditions{});
    if (!b.ok()) return b.status();
    // A profile entry for one document in two.
    if (i % 2 == 0) {
      const auto& oc = kObservationCodes[i % 3];
      JsonValue o = *ParseJson(
          R"({"resourceType":"Observation","status":"final","code":{"coding":[{"system":"http://loinc.org","code":")" +
          std::string(oc[0]) + R"(","display":")" + oc[1] +
          R"("}]},"subject":{"reference":"Patient/)" + PatientId(p) +
          R"("},"effectiveDateTime":"2025-)" + month + R"(-15","valueQuantity":{"value":)" +
          std::to_string(50 + i % 50) + R"(,"unit":")" + oc[2] +
          R"(","system":"http://unitsofmeasure.org","code":")" + oc[2] + R"("}})");
      auto ob = interactions.Create(tx, session, "Observation", o);
      if (!ob.ok()) return ob.status();
    }
    return Status::Ok();
  });
  if (!st.ok()) {
    std::cerr << st.ToString() << "\n";
    return 1;
  }
  double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  std::printf("{\"patients\":%d,\"documents\":%d,\"seconds\":%.1f,\"documents_per_s\":%.0f}\n",
              patients, documents, seconds, documents / seconds);
  return 0;
}

// What http and floor can drive (bench/run's scenario names).
const char* const kScenarios[] = {"read",  "search", "create", "transaction",
                                  "iti41", "iti18",  "iti43",  "mixed"};

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
      r = {"GET", "/fhir/DocumentReference?patient=" + PatientId(0) + "&date=ge2025-01-01", "", "",
           ""};
      r.actor = 2;
    }
    return r;
  }
  return {"", "", "", "", ""};
}

int Http(int argc, char** argv) {
  std::string base = Arg(argc, argv, "--base"), token = Arg(argc, argv, "--token"),
              scenario = Arg(argc, argv, "--scenario");
  // The mixed workload's other actors (mixed uses the system token for all when absent).
  const std::string tokens[3] = {token, Arg(argc, argv, "--token-professional", token),
                                 Arg(argc, argv, "--token-patient", token)};
  double seconds = std::stod(Arg(argc, argv, "--seconds", "10"));
  int connections = std::stoi(Arg(argc, argv, "--connections", "8"));
  int patients = std::stoi(Arg(argc, argv, "--patients", "100"));
  int documents = std::stoi(Arg(argc, argv, "--documents", "1000"));
  if (!KnownScenario(scenario)) return UnknownScenario(scenario);
  curl_global_init(CURL_GLOBAL_DEFAULT);
  std::vector<Stats> stats(connections);
  auto deadline = Clock::now() + std::chrono::duration<double>(seconds);
  std::vector<std::thread> threads;
  for (int t = 0; t < connections; ++t)
    threads.emplace_back([&, t] {
      CURL* c = curl_easy_init();
      std::mt19937 rng(1000 + t);
      for (long n = 0; Clock::now() < deadline; ++n) {
        Request rq = HttpRequestFor(scenario, rng, patients, documents, t, n);
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
        if (failed) ++stats[t].errors;
        stats[t].latencies_ms.push_back(ms);
      }
      curl_easy_cleanup(c);
    });
  for (auto& th : threads) th.join();
  Print(scenario, "gateway", seconds, stats);
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
      static const storage::Statement kRead{
          "floor_read",
          "SELECT content FROM resource WHERE res_type = 'DocumentReference' AND res_id = $1"};
      static const storage::Statement kSearch{
          "floor_search",
          "SELECT r.content FROM resource r JOIN idx_reference s ON s.res_type = r.res_type AND "
          "s.res_id = r.res_id "
          "AND s.param = 'patient' AND s.target_type = 'Patient' AND s.target_id = $1 "
          "JOIN idx_token t ON t.res_type = r.res_type AND t.res_id = r.res_id AND t.param = "
          "'type' "
          "AND t.system = 'http://loinc.org' AND t.code = '11502-2' "
          "WHERE r.res_type = 'DocumentReference' AND NOT r.deleted ORDER BY r.res_id LIMIT 21"};
      static const storage::Statement kRegistry{
          "floor_registry",
          "SELECT r.content FROM registry_object o JOIN resource r ON r.res_type = o.res_type AND "
          "r.res_id = o.res_id "
          "WHERE o.object_type = 'DocumentEntry' AND o.patient_key = (SELECT patient_key FROM "
          "patient WHERE ins = $1) "
          "AND o.availability_status = 'Approved' ORDER BY o.creation_time LIMIT 1001"};
      for (long n = 0; Clock::now() < deadline; ++n) {
        std::string s = scenario;
        if (s == "mixed") {  // the same mix of work as the gateway's (HttpRequestFor)
          int roll = static_cast<int>((n * 7 + t) % 10);
          s = roll < 2 ? "create" : roll < 5 || roll == 9 ? "search" : "read";
        }
        auto t0 = Clock::now();
        Status st;
        if (s == "read") {
          auto r =
              (*conn)->Run(kRead, {storage::SqlParam::Text("bench-d" + std::to_string(d(rng)))});
          st = r.ok() ? Status::Ok() : r.status();
        } else if (s == "search") {
          auto r = (*conn)->Run(kSearch, {storage::SqlParam::Text(PatientId(p(rng)))});
          st = r.ok() ? Status::Ok() : r.status();
        } else if (s == "create") {
          st = floors.Create(**conn, p(rng));
        } else if (s == "iti18") {
          auto r = (*conn)->Run(kRegistry, {storage::SqlParam::Text(Ins(p(rng)))});
          st = r.ok() ? Status::Ok() : r.status();
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
  Print(scenario, "floor", seconds, stats);
  return 0;
}

}  // namespace
}  // namespace carnet::bench

int main(int argc, char** argv) {
  std::string cmd = argc > 1 ? argv[1] : "";
  if (cmd == "load") return carnet::bench::Load(argc, argv);
  if (cmd == "http") return carnet::bench::Http(argc, argv);
  if (cmd == "floor") return carnet::bench::Floor(argc, argv);
  std::cerr << "usage: carnet-bench load|http|floor ... (see bench/bench.cc)\n";
  return 2;
}
