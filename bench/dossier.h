// The data generator of carnet-bench (issue 8): realistic dossiers, deterministic from a seed,
// one patient at a time, so that the exact write path (bench/slow_load.h) and the bulk path
// (bench/fast_load.h) load the same input, and a test can load a few dozen patients both ways.
//
// A dossier is what a national health record holds after some years of care:
//   - the Patient (an INS test identifier, OID 1.2.250.1.213.1.4.10);
//   - documents in the French mix (40% lab reports, 25% prescriptions, 15% hospital letters,
//     5% imaging reports, 5% certificates, 5% summaries, 5% patient uploads), each a
//     DocumentReference (XDS metadata: class, type, format, facility, practice setting,
//     author, confidentiality, size and hash) and its content as a Binary;
//   - profile entries: the results of each lab report as Observations (derivedFrom it), a
//     few vital signs, allergies (AllergyIntolerance), treatments (MedicationStatement) and
//     vaccinations (Immunization);
//   - an access history: professionals (doctors, pharmacists, nurses, midwives,
//     physiotherapists, asserting the patient's consent) searching the record and reading
//     documents and their content, and the patient reading their own documents.
//
// Document sizes (attachment.size) follow, per kind, a spread skewed towards small documents
// between 20 kB and 2 MB (prescriptions and certificates small, imaging reports large;
// median about 50 kB, mean about 135 kB). The bytes of document n are a deterministic
// PDF-like stream (incompressible, as PDFs are), and attachment.hash is the SHA-1 of all of
// them. Storing them all would take some 135 GB for a million documents (the bytes, once each
// in document_content; the Binary's JSON names them by hash),
// more than a test machine's disk. So only a fraction of the documents (content_fraction,
// drawn per document from the seed) keep all their bytes in their Binary; the Binary of
// every other document holds the first elided_bytes bytes of its document. Their size and
// hash (in the DocumentReference and the XDS registry) still describe the whole document: a
// retrieve of such a document returns the prefix only, and its hash does not match it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/json.h"
#include "profiles/actor.h"

namespace carnet::bench {

struct DossierOptions {
  int patients = 100;
  long long documents = 1000;
  uint64_t seed = 42;
  double content_fraction = 0.01;  // documents whose Binary holds every byte
  int elided_bytes = 1024;         // bytes kept for the others (a prefix)
};

// One write, as a deposit source sends it: PUT [type]/[id] (create with the client's id).
struct Write {
  std::string type, id;
  JsonValue resource;
};

// One access of the history, as the gateway receives it (GET on /fhir).
struct Access {
  int actor = -1;     // index in AccessActors(); -1: the patient
  std::string path;   // "/fhir/DocumentReference/bench-d12"
  std::string query;  // raw query string, for searches
  std::string request_id, client_address;
};

struct Dossier {
  int patient = 0;
  std::string patient_id;  // "bench-p12"
  std::string ins;
  std::vector<Write> writes;     // the Patient first
  std::vector<Access> accesses;  // after the writes
  long long documents = 0;       // how many of the writes are documents
};

class DossierGenerator {
 public:
  explicit DossierGenerator(DossierOptions options);

  // The dossier of patient `p` (0 <= p < patients): the same for a given seed, whatever
  // else was generated before. Thread-safe.
  Dossier Generate(int p) const;

  const DossierOptions& options() const { return options_; }
  // Global index of patient p's first document (documents are numbered across patients,
  // "bench-d<n>", so that the http scenarios can pick any of them).
  long long FirstDocument(int p) const { return first_document_[p]; }

 private:
  DossierOptions options_;
  std::vector<long long> first_document_;  // patients + 1 entries
};

// Who loads: the deposit source the writes come from (a system actor, system/*.cruds).
const profiles::Actor& LoaderActor();
// The professionals of the access histories (consent asserted).
const std::vector<profiles::Actor>& AccessActors();
// The patient of dossier `d`, reading their own record.
profiles::Actor PatientActor(const Dossier& d);
// Request facts of the loader's writes.
inline constexpr const char* kLoaderRequestId = "bench-load";
inline constexpr const char* kLoaderAddress = "127.0.0.1";

std::string PatientId(int p);
std::string Ins(int p);
std::string DocumentId(long long n);
// Whether patient p is a minor (under 18 on 2026-01-01, the generator's "today"): birth dates
// run from 1920 to 2023, so some records of every store but the smallest are children's.
bool IsMinor(int p);

}  // namespace carnet::bench
