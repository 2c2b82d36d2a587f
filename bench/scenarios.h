// The bench data set's names, the scenarios of issue 8 that write or move documents
// (transaction, iti41, iti43): what each sends to the gateway; and the floor of every
// scenario (reads, searches and queries included, with their audit events): the same work
// done straight on PostgreSQL through the gateway's own storage calls (the same SQL, one
// libpq transaction committed with the same durability), without HTTP, parsing, validation,
// mapping or policy.
#pragma once

#include <memory>
#include <string>

#include "base/status.h"
#include "bench/dossier.h"
#include "storage/connection.h"

namespace carnet::bench {

// Names of the data carnet-bench load writes (PatientId, Ins: bench/dossier.h): the CX form of
// patient i's national identity (INS, test OID), the uniqueId of document i.
std::string PatientCx(int i);
std::string DocumentUniqueId(int i);

// One request of a scenario against the gateway. `expect`, when set, is what the answer must
// contain to count as a success: XDS.b answers a refused request with HTTP 200.
struct Request {
  std::string method, path, body, content_type, expect;
  // Who sends it (the mixed and patient workloads' actors): 0 the deposit system, 1 a doctor
  // asserting the patient's consent, 2 the patient of bench record 0, 3 a guardian of a
  // child's record (bench/run picks it: IsMinor), 4 the patient's measurement app.
  int actor = 0;
  // The line its latency is reported under, when not the scenario's own (devices reports its
  // pushes and its searches apart: devices-push, devices-search).
  std::string label = {};
};

inline constexpr int kTransactionEntries = 10;

// POST /fhir/Observation: one vital sign (a weight, category vital-signs, UCUM) of patient, as
// a measurement app pushes it; what DocumentFloors::Create writes.
Request VitalSignRequest(int patient);
// POST /fhir: a transaction Bundle of kTransactionEntries vital-sign Observations of patient.
Request TransactionRequest(int patient);
// The devices scenario (issue 17): a glucometer's app pushes a week of readings every 5
// minutes (7 x 288 = 2016 Observations with their Device) as one transaction per day, each
// entry idempotent (ifNoneExist by identifier, as a retrying app sends it), then reads each
// day back by date range (Observation?patient=&code=&date=ge&date=lt). Request n of a
// connection: an even n pushes day (n % 14) / 2 of week n / 14, the odd one after it searches
// that day (so that a short run measures both); each connection's week is its own (its own
// patient and identifiers, dated week by week).
inline constexpr int kDeviceReadingsPerDay = 24 * 12;
inline constexpr int kDeviceDaysPerWeek = 7;
Request DevicesRequest(int patients, int connection, long n);
// POST /xds/repository: ITI-41 of one 105 kB lab report in CDA R2 (level 3, the CI-SIS
// microbiology example of ../shared/testdata, inline base64) for patient, with fresh uniqueIds
// in its metadata and its header.
Request ProvideAndRegisterRequest(int patient);
// POST /xds/repository: ITI-43 of document `document` of the data set.
Request RetrieveRequest(int document);

// The floors of the three scenarios. The rows a write leaves (resource and history, search
// index, registry, audit event) are computed once from templates: the extraction is gateway
// CPU, not database work. Const after construction: one instance serves every thread.
class DocumentFloors {
 public:
  DocumentFloors();
  ~DocumentFloors();
  // The Observations of TransactionRequest, in one transaction.
  Status Transaction(storage::Connection& conn, int patient) const;
  // One such Observation in its own transaction: the create scenario's floor (resource and
  // history, search index, audit event), as the gateway writes a POST /fhir/Observation.
  Status Create(storage::Connection& conn, int patient) const;
  // The DocumentReference, its Binary and the SubmissionSet List of ProvideAndRegisterRequest
  // (with their registry rows), the resources extracted from the CDA and their Provenance, and
  // the audit events, in one transaction.
  Status ProvideAndRegister(storage::Connection& conn, int patient) const;
  // The SELECTs of RetrieveRequest (document and content, then the document for the policy)
  // and its audit event, in one transaction.
  Status Retrieve(storage::Connection& conn, int document) const;
  // The read scenario: DocumentReference `document` by id and its audit event (a read's
  // event is committed before the answer: one transaction, the same commit).
  Status Read(storage::Connection& conn, int document) const;
  // The search scenario: the patient's lab reports (their references and type tokens
  // joined) and the search's audit event.
  Status Search(storage::Connection& conn, int patient) const;
  // ITI-18 FindDocuments: the patient's approved DocumentEntries and the query's audit event.
  Status FindDocuments(storage::Connection& conn, int patient) const;
  // The patient scenario's list of a record's documents (DocumentReference?patient=, a page
  // of 20) and the search's audit event.
  Status PatientDocuments(storage::Connection& conn, int patient) const;
  // The patient scenario's access history (AuditEvent?patient=, a page of 20, newest first:
  // storage::ReadAuditEvents, the gateway's own call) and the search's audit event.
  Status AccessHistory(storage::Connection& conn, int patient) const;
  // The bare primary-key lookup of issue 20: `SELECT content FROM resource WHERE res_type =
  // 'DocumentReference' AND res_id = $1`, prepared, in autocommit (no BEGIN, no audit event):
  // what a read cannot go below.
  Status PrimaryKeyRead(storage::Connection& conn, int document) const;

 private:
  struct Templates;
  std::unique_ptr<const Templates> templates_;
};

}  // namespace carnet::bench
