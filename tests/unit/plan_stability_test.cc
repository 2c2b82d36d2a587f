// Plan stability (issue 20): the statements of the main FHIR search
// (DocumentReference?patient=&type=&date=ge) and of ITI-18 FindDocuments, rendered by the
// code that runs them (fhir::RenderSearch, storage::RegistryQueryPlan::RenderObjects), are
// EXPLAINed over a store seeded by the bench's bulk loader and analysed: no sequential scan
// of a large table, and the index that makes them cheap is used. Both the custom plan (what
// PostgreSQL picks knowing the values) and the generic plan (what a statement prepared per
// connection, storage::Connection::RunShaped, may reuse for any values) are checked, so that
// a plan regression fails here rather than in a million-document bench. The access history
// of one document (AuditEvent?patient=&entity=, storage::RenderAccessHistory) is checked the
// same way over a record of 30,000 events: it reads the document's events by the
// audit_event_entity index, never the record's events.
#include <gtest/gtest.h>

#include <chrono>
#include <set>
#include <string>
#include <vector>

#include "base/json.h"
#include "base/strings.h"
#include "bench/dossier.h"
#include "bench/fast_load.h"
#include "fhir/search.h"
#include "storage/audit_store.h"
#include "storage/connection.h"
#include "storage/registry_query.h"
#include "storage/transaction.h"
#include "tests/unit/test_db.h"

namespace carnet {
namespace {

using carnet::testing::ScratchDatabase;

// The tables that grow with the store: a sequential scan of any of them is a regression.
const std::set<std::string> kLargeTables = {
    "resource",         "idx_string",         "idx_token",   "idx_reference",
    "idx_date",         "idx_quantity",       "idx_uri",     "idx_text",
    "registry_object",  "registry_code",      "association", "audit_event",
    "resource_history", "patient_identifier", "patient",     "audit_event_entity"};

struct PlanFacts {
  std::vector<std::string> seq_scanned;  // large tables read whole
  std::set<std::string> indexes;         // every index the plan uses
};

void Walk(const JsonValue& node, PlanFacts& facts) {
  std::string type = node.GetString("Node Type");
  std::string relation = node.GetString("Relation Name");
  if (type == "Seq Scan" && kLargeTables.count(relation)) facts.seq_scanned.push_back(relation);
  std::string index = node.GetString("Index Name");
  if (!index.empty()) facts.indexes.insert(index);
  if (const JsonValue* plans = node.Find("Plans"))
    for (const JsonValue& child : plans->items()) Walk(child, facts);
}

std::string Quote(const std::string& v) {
  std::string out = "'";
  for (char c : v) out += c == '\'' ? std::string("''") : std::string(1, c);
  return out + "'";
}

// The plan of `sql` with `params`: custom (the values known at planning) or generic (planned
// for any values, as a prepared statement may be after five runs).
PlanFacts Explain(storage::Connection& conn, const std::string& sql,
                  const storage::SqlParams& params, bool all_text, bool generic,
                  std::string* text) {
  PlanFacts facts;
  std::string json;
  if (!generic) {
    auto r = all_text ? conn.RunDynamicText("EXPLAIN (FORMAT JSON) " + sql, params)
                      : conn.RunDynamic("EXPLAIN (FORMAT JSON) " + sql, params);
    EXPECT_TRUE(r.ok()) << r.status().ToString() << "\n" << sql;
    if (!r.ok()) return facts;
    json = r->GetString(0, 0);
  } else {
    std::string types, values;
    for (size_t i = 0; i < params.size(); ++i) {
      types += std::string(i ? "," : "") + "text";
      values += std::string(i ? "," : "") +
                (params[i].value ? Quote(*params[i].value) : std::string("NULL"));
    }
    std::string prepare = "PREPARE plan_probe";
    if (all_text && !params.empty()) prepare += "(" + types + ")";
    EXPECT_TRUE(conn.Exec("SET plan_cache_mode = force_generic_plan").ok());
    auto p = conn.Exec(prepare + " AS " + sql);
    EXPECT_TRUE(p.ok()) << p.status().ToString() << "\n" << sql;
    auto r = conn.Exec("EXPLAIN (FORMAT JSON) EXECUTE plan_probe" +
                       (params.empty() ? std::string() : "(" + values + ")"));
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    (void)conn.Exec("DEALLOCATE plan_probe");
    (void)conn.Exec("RESET plan_cache_mode");
    if (!r.ok()) return facts;
    json = r->GetString(0, 0);
  }
  *text = json;
  auto parsed = ParseJson(json);
  EXPECT_TRUE(parsed.ok());
  if (!parsed.ok() || parsed->items().empty()) return facts;
  const JsonValue* plan = parsed->items()[0].Find("Plan");
  if (plan) Walk(*plan, facts);
  return facts;
}

class PlanStabilityTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    db_ = new ScratchDatabase();
    bench::DossierOptions o;
    o.patients = 120;
    o.documents = 3000;
    o.seed = 20;
    generator_ = new bench::DossierGenerator(o);
    bench::FastLoadOptions fo;
    fo.progress = false;
    auto loaded = bench::FastLoad(db_->conninfo(), *generator_, 0, o.patients, fo);
    ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
    auto conn = storage::Connection::Open(db_->conninfo());
    ASSERT_TRUE(conn.ok());
    // The records of a national store: the generated dossiers are 120, and a table of two
    // pages is rightly read whole; 50,000 more patients (with an identifier each) make the
    // patient lookups what they are in service.
    auto filler = (*conn)->Exec(
        "INSERT INTO patient (resource_id, ins, ins_system) SELECT 'filler-' || g, 'F' || g, "
        "'1.2.3.4.5' FROM generate_series(1, 50000) g; "
        "INSERT INTO patient_identifier (patient_key, system, value) SELECT patient_key, "
        "'urn:oid:1.2.3.4.5', ins FROM patient WHERE ins_system = '1.2.3.4.5'");
    ASSERT_TRUE(filler.ok()) << filler.status().ToString();
    ASSERT_TRUE((*conn)->Exec("ANALYZE").ok());
  }
  static void TearDownTestSuite() {
    delete generator_;
    delete db_;
  }

  static ScratchDatabase* db_;
  static bench::DossierGenerator* generator_;
};
ScratchDatabase* PlanStabilityTest::db_ = nullptr;
bench::DossierGenerator* PlanStabilityTest::generator_ = nullptr;

long long PatientKey(storage::Connection& conn, const std::string& id) {
  auto r = conn.RunDynamic("SELECT patient_key FROM patient WHERE resource_id = $1",
                           {storage::SqlParam::Text(id)});
  EXPECT_TRUE(r.ok() && r->rows() == 1) << id;
  return r.ok() && r->rows() == 1 ? r->GetInt(0, 0) : -1;
}

// The statement and its values, for a failure's message.
std::string Statement(const std::string& sql, const storage::SqlParams& params) {
  std::string out = sql + "\nvalues:";
  for (size_t i = 0; i < params.size(); ++i)
    out += " $" + std::to_string(i + 1) + "=" + params[i].value.value_or("NULL");
  return out;
}

std::string Seen(const PlanFacts& f) {
  std::string out;
  for (const auto& t : f.seq_scanned) out += " seq:" + t;
  for (const auto& i : f.indexes) out += " index:" + i;
  return out;
}

// The access filters a search runs under: a professional's (one record, no shared
// resources) and a deposit source's (its own resources, shared ones too, as the bench's
// loader searches).
std::vector<std::pair<std::string, storage::AccessFilter>> Scopes(long long key) {
  storage::AccessFilter professional;
  professional.patient_keys = {key};
  professional.include_shared = false;
  storage::AccessFilter source;
  source.patient_keys = {key};
  source.excluded_types = {"Binary"};
  source.sources = std::vector<std::string>{"bench-loader"};
  return {{"professional", professional}, {"deposit source", source}};
}

TEST_F(PlanStabilityTest, DocumentSearchByPatientTypeDateUsesIndexes) {
  auto conn = storage::Connection::Open(db_->conninfo());
  ASSERT_TRUE(conn.ok());
  // Two records of different sizes: a plan good for one and bad for the other is what a
  // generic plan risks.
  for (int p : {3, 0}) {
    bench::Dossier d = generator_->Generate(p);
    long long key = PatientKey(**conn, d.patient_id);
    for (const auto& [who, scope] : Scopes(key)) {
      fhir::SearchRequest s;
      s.type = "DocumentReference";
      s.params = {{"patient", "Patient/" + d.patient_id},
                  {"type", "http://loinc.org|11502-2"},
                  {"date", "ge2025-01-01"}};
      s.scope = scope;
      storage::Transaction tx(**conn);
      auto rq = fhir::RenderSearch(tx, s);
      ASSERT_TRUE(rq.ok()) << rq.status().ToString();
      for (bool generic : {false, true}) {
        std::string json;
        PlanFacts f = Explain(**conn, rq->sql, rq->params, false, generic, &json);
        SCOPED_TRACE(who + (generic ? ", generic plan, patient " : ", custom plan, patient ") +
                     std::to_string(p) + ":" + Seen(f) + "\n" + json + "\n" +
                     Statement(rq->sql, rq->params));
        EXPECT_TRUE(f.seq_scanned.empty());
        // What runs is the custom plan (fhir/search.cc forces it: the generic one drives a
        // deposit source's search from all its resources): the record's resources
        // (resource_patient*) or the patient's reference rows drive it.
        if (!generic) {
          bool driven =
              f.indexes.count("idx_reference_lookup") || f.indexes.count("idx_reference_target") ||
              f.indexes.count("resource_patient") || f.indexes.count("resource_patient_type_id");
          EXPECT_TRUE(driven);
        }
      }
    }
  }
}

// One shape, one prepared statement per connection: the same search for another patient is
// the same SQL text with other values, run by name; the cache is bounded.
TEST_F(PlanStabilityTest, OneShapeIsOnePreparedStatement) {
  auto conn = storage::Connection::Open(db_->conninfo());
  ASSERT_TRUE(conn.ok());
  std::string first_sql;
  for (int p : {3, 0, 7}) {
    bench::Dossier d = generator_->Generate(p);
    fhir::SearchRequest s;
    s.type = "DocumentReference";
    s.params = {{"patient", "Patient/" + d.patient_id},
                {"type", "http://loinc.org|11502-2"},
                {"date", "ge2025-01-01"}};
    s.scope = Scopes(PatientKey(**conn, d.patient_id))[0].second;
    storage::Transaction tx(**conn);
    auto rq = fhir::RenderSearch(tx, s);
    ASSERT_TRUE(rq.ok());
    if (first_sql.empty()) first_sql = rq->sql;
    EXPECT_EQ(rq->sql, first_sql);
    auto r = (*conn)->RunShaped(rq->sql, rq->params);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    // Each page holds that patient's documents only.
    for (int i = 0; i < r->rows(); ++i) EXPECT_EQ(r->GetString(i, 0), "DocumentReference");
  }
  EXPECT_EQ((*conn)->shaped_prepares(), 1);
  EXPECT_EQ((*conn)->shaped_runs(), 3);
  auto named =
      (*conn)->Exec("SELECT count(*) FROM pg_prepared_statements WHERE name LIKE 'shape_%'");
  ASSERT_TRUE(named.ok());
  EXPECT_EQ(named->GetInt(0, 0), 1);

  // More shapes than the cache holds: the least recently used are deallocated.
  const int extra = static_cast<int>(storage::Connection::kShapeCacheSize) + 5;
  for (int k = 0; k < extra; ++k) {
    auto r =
        (*conn)->RunShaped("SELECT $1::int + " + std::to_string(k), {storage::SqlParam::Text("1")});
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->GetInt(0, 0), 1 + k);
  }
  named = (*conn)->Exec("SELECT count(*) FROM pg_prepared_statements WHERE name LIKE 'shape_%'");
  ASSERT_TRUE(named.ok());
  EXPECT_EQ(named->GetInt(0, 0), static_cast<long long>(storage::Connection::kShapeCacheSize));
  EXPECT_EQ((*conn)->shaped_prepares(), 1 + extra);

  // One text given more values than it uses (as the registry's builders do, text-typed): a
  // statement of its own per count, never one prepared for fewer values than it is bound with.
  const std::string text = "SELECT $1::text || $2::text";
  for (int n : {2, 4, 2}) {
    storage::SqlParams values;
    for (int i = 0; i < n; ++i) values.push_back(storage::SqlParam::Text(std::to_string(i)));
    auto r = (*conn)->RunShaped(text, values, true);
    ASSERT_TRUE(r.ok()) << n << " values: " << r.status().ToString();
    EXPECT_EQ(r->GetString(0, 0), "01");
  }
  // And a text run inside a transaction whose BEGIN goes with it: inside it, as any statement.
  (*conn)->BeginWithNextStatement({"BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"});
  auto inside = (*conn)->RunShaped("SELECT current_setting('transaction_isolation')", {}, true);
  ASSERT_TRUE(inside.ok()) << inside.status().ToString();
  EXPECT_EQ(inside->GetString(0, 0), "repeatable read");
  ASSERT_TRUE((*conn)->Exec("COMMIT").ok());
}

TEST_F(PlanStabilityTest, FindDocumentsUsesRegistryIndex) {
  auto conn = storage::Connection::Open(db_->conninfo());
  ASSERT_TRUE(conn.ok());
  for (int p : {3, 0}) {
    bench::Dossier d = generator_->Generate(p);
    long long key = PatientKey(**conn, d.patient_id);
    storage::RegistryQuery q;
    q.shape = storage::RegistryQueryShape::kPatientDocuments;
    q.patient_system = "urn:oid:1.2.250.1.213.1.4.10";
    q.patient_value = d.ins;
    q.documents.statuses = {"Approved"};
    q.limit = 1001;
    storage::RegistryQueryPlan plan(q);
    storage::AccessFilter filter;
    filter.patient_keys = {key};
    auto rq = plan.RenderObjects(storage::RegistryObjectType::kDocumentEntry, {{key, filter}});
    // The statement finds the patient's entries (it is not vacuous on this store).
    auto rows = (*conn)->RunDynamicText(rq.sql, rq.params);
    ASSERT_TRUE(rows.ok()) << rows.status().ToString() << "\n" << rq.sql;
    EXPECT_GT(rows->rows(), 0) << rq.sql;
    for (bool generic : {false, true}) {
      std::string json;
      PlanFacts f = Explain(**conn, rq.sql, rq.params, true, generic, &json);
      SCOPED_TRACE((generic ? "generic plan, patient " : "custom plan, patient ") +
                   std::to_string(p) + ":" + Seen(f) + "\n" + json + "\n" +
                   Statement(rq.sql, rq.params));
      EXPECT_TRUE(f.seq_scanned.empty());
      EXPECT_TRUE(f.indexes.count("registry_object_find"));
    }
  }
}

// Rows read by the scans of `node` (per loop times loops), all nodes below it included.
double RowsScanned(const JsonValue& node) {
  double n = 0;
  std::string type = node.GetString("Node Type");
  if (type.find("Scan") != std::string::npos && type != "Function Scan") {
    const JsonValue* rows = node.Find("Actual Rows");
    const JsonValue* loops = node.Find("Actual Loops");
    const JsonValue* removed = node.Find("Rows Removed by Filter");
    auto number = [](const JsonValue* v) { return v ? std::stod(v->text()) : 0.0; };
    n += (number(rows) + number(removed)) * (loops ? number(loops) : 1.0);
  }
  if (const JsonValue* plans = node.Find("Plans"))
    for (const JsonValue& child : plans->items()) n += RowsScanned(child);
  return n;
}

TEST_F(PlanStabilityTest, AccessHistoryOfADocumentUsesTheEntityIndex) {
  auto conn = storage::Connection::Open(db_->conninfo());
  ASSERT_TRUE(conn.ok());
  bench::Dossier d = generator_->Generate(5);
  long long key = PatientKey(**conn, d.patient_id);
  // 30,000 reads in the record through the write path (the group commit's batches): one in
  // 500 of DocumentReference/watched (one of its versions, every other time), the others of
  // 3,000 other documents.
  const int kEvents = 30000;
  auto start = std::chrono::system_clock::now() - std::chrono::hours(24 * 365);
  for (int first = 0; first < kEvents; first += 1000) {
    std::vector<storage::AuditRecord> batch;
    for (int i = first; i < first + 1000; ++i) {
      storage::AuditRecord r;
      r.patient_key = key;
      r.event_id = NewUuid();
      r.recorded = start + std::chrono::minutes(i);
      r.action = 'R';
      r.outcome = "0";
      r.actor_kind = "professional";
      r.actor_id = "81000000000" + std::to_string(i % 7);
      std::string object =
          i % 500 == 0 ? "DocumentReference/watched" + std::string(i % 1000 ? "" : "/_history/2")
                       : "DocumentReference/other-" + std::to_string(i % 3000);
      r.content = R"({"resourceType":"AuditEvent","id":")" + r.event_id +
                  R"(","entity":[{"what":{"reference":"Patient/)" + d.patient_id +
                  R"("}},{"what":{"reference":")" + object +
                  R"("}},{"what":{"identifier":{"value":"req"}}}]})";
      batch.push_back(std::move(r));
    }
    ASSERT_TRUE((*conn)->Exec("BEGIN").ok());
    storage::Transaction tx(**conn);
    Status st = storage::AppendAuditBatch(tx, batch);
    ASSERT_TRUE(st.ok()) << st.ToString();
    ASSERT_TRUE((*conn)->Exec("COMMIT").ok());
  }
  ASSERT_TRUE((*conn)->Exec("ANALYZE audit_event, audit_event_entity").ok());

  struct Case {
    std::string name;
    storage::AuditEventQuery q;
    size_t found;  // events on the first page
  };
  storage::AuditEventQuery base;
  base.patient_keys = {key};
  base.limit = 21;  // a page of 20 and the look-ahead
  std::vector<Case> cases;
  cases.push_back({"the document", base, 21});
  cases.back().q.entities = {"DocumentReference/watched"};
  cases.push_back({"the document and its Binary", cases.back().q, 21});
  cases.back().q.entities.push_back("Binary/watched");
  cases.push_back({"a later page", cases.front().q, 21});
  cases.back().q.before_seq = "";  // set below, from the first page
  cases.push_back({"a document never read", base, 0});
  cases.back().q.entities = {"DocumentReference/never"};
  cases.push_back({"one professional, one year", cases.front().q, 9});
  cases.back().q.actor_id = "810000000000";
  cases.back().q.from = FormatUtc(start - std::chrono::hours(1));
  cases.back().q.to = FormatUtc(start + std::chrono::hours(24 * 365));
  for (Case& c : cases) {
    if (c.name == "a later page") {
      storage::Transaction tx(**conn);
      auto first_page = storage::ReadAuditEvents(tx, cases.front().q);
      ASSERT_TRUE(first_page.ok() && first_page->size() == 21);
      c.q.before_seq = std::to_string((*first_page)[19].seq);
    }
    storage::AccessHistoryStatement st = storage::RenderAccessHistory(c.q);
    {
      // The statement answers as expected (it is not vacuous on this store).
      storage::Transaction tx(**conn);
      auto page = storage::ReadAuditEvents(tx, c.q);
      ASSERT_TRUE(page.ok()) << page.status().ToString();
      EXPECT_EQ(page->size(), c.found) << c.name;
      for (size_t i = 1; i < page->size(); ++i) EXPECT_LT((*page)[i].seq, (*page)[i - 1].seq);
    }
    for (bool generic : {false, true}) {
      std::string json;
      PlanFacts f = Explain(**conn, st.statement.sql, st.params, true, generic, &json);
      SCOPED_TRACE(c.name + (generic ? ", generic plan:" : ", custom plan:") + Seen(f) + "\n" +
                   json + "\n" + Statement(st.statement.sql, st.params));
      EXPECT_TRUE(f.seq_scanned.empty());
      EXPECT_TRUE(f.indexes.count("audit_event_entity_pkey"));
      // The record's events are not scanned (audit_event_patient, audit_event_chain): an
      // event is read by its seq only.
      for (const auto& index : f.indexes)
        EXPECT_TRUE(index == "audit_event_entity_pkey" || index == "audit_event_pkey") << index;
    }
    // What the custom plan reads: about a page per object, not the record's 30,000 events.
    auto r = (*conn)->RunDynamicText(
        "EXPLAIN (ANALYZE, FORMAT JSON) " + std::string(st.statement.sql), st.params);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    auto parsed = ParseJson(r->GetString(0, 0));
    ASSERT_TRUE(parsed.ok() && !parsed->items().empty());
    const JsonValue* plan = parsed->items()[0].Find("Plan");
    ASSERT_NE(plan, nullptr);
    double read = RowsScanned(*plan);
    EXPECT_LE(read, 400) << c.name << ": " << r->GetString(0, 0);
  }
}

}  // namespace
}  // namespace carnet
