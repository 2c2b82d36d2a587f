// FHIR search against the live gateway: the data-driven suite (tests/data/search/*.txt),
// paging while resources are being written, and the query plans on a generated data set.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "base/json.h"
#include "base/strings.h"
#include "fhir/search_plan.h"
#include "fhir/search_query.h"
#include "model/search_params.h"
#include "storage/connection.h"
#include "storage/migrations.h"
#include "tests/integration/harness.h"

namespace carnet::testing {
namespace {

const char* kJson = "Content-Type: application/fhir+json";
// Search parameters are the operator's (shared definitions, not record content).
std::string OperatorAuth() {
  return "Authorization: Bearer " + Token({"--actor", "operator", "--id", "ops-1"});
}
const char* kTagSystem = "urn:carnet:search-test";

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : " ") + s;
  return out;
}

class SearchTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    gateway_ = new GatewayProcess();
    ASSERT_TRUE(gateway_->WaitHealthy()) << gateway_->Log();
  }
  static void TearDownTestSuite() {
    delete gateway_;
    gateway_ = nullptr;
  }
  std::string Url(const std::string& path) { return gateway_->base_url() + "/fhir/" + path; }

  JsonValue GetJson(const std::string& url, std::vector<std::string> headers = {},
                    long* status = nullptr) {
    auto r = client_.Request("GET", url, headers);
    if (status) *status = r.status;
    auto j = ParseJson(r.body);
    EXPECT_TRUE(j.ok()) << url << ": " << r.body.substr(0, 300);
    return j.ok() ? std::move(j).value() : JsonValue();
  }

  // ids of the entries of `bundle` with search.mode `mode`.
  static std::vector<std::string> Ids(const JsonValue& bundle, const std::string& mode) {
    std::vector<std::string> out;
    if (const JsonValue* entries = bundle.Find("entry"))
      for (const auto& e : entries->items()) {
        const JsonValue* s = e.Find("search");
        if (s && s->GetString("mode") == mode && e.Find("resource"))
          out.push_back(e.Find("resource")->GetString("id"));
      }
    return out;
  }
  static std::string LinkUrl(const JsonValue& bundle, const std::string& relation) {
    if (const JsonValue* links = bundle.Find("link"))
      for (const auto& l : links->items())
        if (l.GetString("relation") == relation) return l.GetString("url");
    return "";
  }

  // PUTs `resource` tagged with `tag`; true on success.
  bool PutTagged(JsonValue resource, const std::string& tag, std::string* error) {
    JsonValue* meta = resource.Find("meta");
    if (!meta) meta = &resource.Set("meta", JsonValue::Object());
    JsonValue* tags = meta->Find("tag");
    if (!tags) tags = &meta->Set("tag", JsonValue::Array());
    JsonValue t = JsonValue::Object();
    t.Set("system", JsonValue::String(kTagSystem));
    t.Set("code", JsonValue::String(tag));
    tags->Append(std::move(t));
    std::string path = resource.GetString("resourceType") + "/" + resource.GetString("id");
    auto r = client_.Request("PUT", Url(path), {kJson}, WriteJson(resource));
    if (r.status == 409 && resource.Remove("identifier")) {
      // Another test's record already holds an example's national identifier: the
      // identifier searches of the data files use their own identifiers.
      r = client_.Request("PUT", Url(path), {kJson}, WriteJson(resource));
    }
    if (r.status != 200 && r.status != 201) {
      *error = path + " -> " + std::to_string(r.status) + " " + r.body.substr(0, 400);
      return false;
    }
    return true;
  }

  void RunDataFile(const std::filesystem::path& file) {
    std::string tag = file.stem().string();
    std::ifstream in(file);
    std::string line, url;
    int n = 0;
    JsonValue last;
    const std::string examples = CARNET_SOURCE_DIR "/../shared/testdata/fhir/r4-examples/";
    while (std::getline(in, line)) {
      ++n;
      std::string where = file.filename().string() + ":" + std::to_string(n);
      if (line.empty() || line[0] == '#') continue;
      size_t sp = line.find(' ');
      std::string cmd = line.substr(0, sp);
      std::string arg = sp == std::string::npos ? "" : line.substr(sp + 1);
      std::string error;
      if (cmd == "load") {
        std::string path = examples + arg;
        if (!std::filesystem::exists(path)) path = "/work/shared/testdata/fhir/r4-examples/" + arg;
        auto j = ParseJson(ReadFile(path));
        ASSERT_TRUE(j.ok()) << where << ": " << path;
        EXPECT_TRUE(PutTagged(std::move(j).value(), tag, &error)) << where << ": " << error;
      } else if (cmd == "put") {
        size_t brace = arg.find('{');
        auto j = ParseJson(arg.substr(brace));
        ASSERT_TRUE(j.ok()) << where;
        EXPECT_TRUE(PutTagged(std::move(j).value(), tag, &error)) << where << ": " << error;
      } else if (cmd == "search") {
        url = arg;
        std::string full = Url(url) + (url.find('?') == std::string::npos ? "?" : "&") +
                           "_tag=" + kTagSystem + "%7C" + tag;
        long status = 0;
        last = GetJson(full, {}, &status);
        EXPECT_EQ(status, 200) << where << ": " << url << "\n" << WriteJson(last).substr(0, 400);
      } else if (cmd == "expect") {
        EXPECT_EQ(Join(Ids(last, "match")), arg) << where << ": " << url;
      } else if (cmd == "expect-set") {
        auto got = Ids(last, "match");
        std::sort(got.begin(), got.end());
        std::istringstream ss(arg);
        std::vector<std::string> want;
        for (std::string w; ss >> w;) want.push_back(w);
        std::sort(want.begin(), want.end());
        EXPECT_EQ(Join(got), Join(want)) << where << ": " << url;
      } else if (cmd == "include") {
        auto got = Ids(last, "include");
        std::sort(got.begin(), got.end());
        std::istringstream ss(arg);
        std::vector<std::string> want;
        for (std::string w; ss >> w;) want.push_back(w);
        std::sort(want.begin(), want.end());
        EXPECT_EQ(Join(got), Join(want)) << where << ": " << url;
      } else {
        ADD_FAILURE() << where << ": unknown command " << cmd;
      }
    }
  }

  // A new patient and `n` Observations of it, written by transaction Bundles; their ids.
  std::vector<std::string> CreateObservations(const std::string& patient, int n, int first) {
    std::vector<std::string> ids;
    for (int start = 0; start < n; start += 250) {
      JsonValue bundle = JsonValue::Object();
      bundle.Set("resourceType", JsonValue::String("Bundle"));
      bundle.Set("type", JsonValue::String("transaction"));
      JsonValue entries = JsonValue::Array();
      for (int i = start; i < std::min(n, start + 250); ++i) {
        int k = first + i;
        std::string id = patient + "-o" + std::to_string(k);
        ids.push_back(id);
        char date[32];
        std::snprintf(date, sizeof date, "2024-%02d-%02d", 1 + k % 12, 1 + k % 28);
        auto obs = ParseJson(
            R"({"resourceType":"Observation","id":")" + id +
            // Bilirubin: a code without plausibility bounds (model/data/vital_signs.tsv), so
            // that the values can be any spread the paging needs.
            R"(","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"1975-2"}]},)"
            R"("subject":{"reference":"Patient/)" +
            patient + R"("},"effectiveDateTime":")" + date + R"(","valueQuantity":{"value":)" +
            std::to_string(k % 97) + R"(,"code":"umol/L","system":"http://unitsofmeasure.org"}})");
        JsonValue entry = JsonValue::Object();
        entry.Set("resource", std::move(obs).value());
        JsonValue req = JsonValue::Object();
        req.Set("method", JsonValue::String("PUT"));
        req.Set("url", JsonValue::String("Observation/" + id));
        entry.Set("request", std::move(req));
        entries.Append(std::move(entry));
      }
      bundle.Set("entry", std::move(entries));
      HttpClient c;
      auto r = c.Request("POST", Url(""), {kJson}, WriteJson(bundle), 120000);
      EXPECT_EQ(r.status, 200) << r.body.substr(0, 400);
    }
    return ids;
  }

  static GatewayProcess* gateway_;
  HttpClient client_;
};
GatewayProcess* SearchTest::gateway_ = nullptr;

TEST_F(SearchTest, DataDrivenFiles) {
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(CARNET_SOURCE_DIR "/tests/data/search"))
    if (e.path().extension() == ".txt") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  ASSERT_FALSE(files.empty());
  for (const auto& f : files) {
    SCOPED_TRACE(f.filename().string());
    RunDataFile(f);
  }
}

TEST_F(SearchTest, LenientAndStrictHandling) {
  auto lenient = GetJson(Url("Patient?_id=nothing-here&bogus=1"));
  EXPECT_EQ(lenient.GetString("resourceType"), "Bundle");
  EXPECT_EQ(LinkUrl(lenient, "self").find("bogus"), std::string::npos);
  bool outcome = false;
  if (const JsonValue* entries = lenient.Find("entry"))
    for (const auto& e : entries->items())
      outcome = outcome || (e.Find("search") && e.Find("search")->GetString("mode") == "outcome" &&
                            WriteJson(e).find("bogus") != std::string::npos);
  EXPECT_TRUE(outcome) << WriteJson(lenient);
  long status = 0;
  auto strict = GetJson(Url("Patient?bogus=1"), {"Prefer: handling=strict"}, &status);
  EXPECT_EQ(status, 400);
  EXPECT_NE(WriteJson(strict).find("bogus"), std::string::npos);
  GetJson(Url("Patient?birthdate=notadate"), {"Prefer: handling=strict"}, &status);
  EXPECT_EQ(status, 400);
  GetJson(Url("Patient?_cursor=garbage"), {}, &status);
  EXPECT_EQ(status, 400);
}

TEST_F(SearchTest, PostSearchSystemAndCompartment) {
  std::string pid = "srch-" + RandomHex(4);
  auto r = client_.Request("PUT", Url("Patient/" + pid), {kJson},
                           R"({"resourceType":"Patient","id":")" + pid +
                               R"(","name":[{"family":"Zyxw)" + pid + R"("}]})");
  ASSERT_EQ(r.status, 201) << r.body;
  CreateObservations(pid, 3, 0);
  auto post =
      client_.Request("POST", Url("Patient/_search"),
                      {"Content-Type: application/x-www-form-urlencoded"}, "family=zyxw" + pid);
  auto pj = ParseJson(post.body);
  ASSERT_TRUE(pj.ok());
  EXPECT_EQ(Join(Ids(*pj, "match")), pid);
  auto compartment = GetJson(Url("Patient/" + pid + "/Observation?_sort=_id"));
  EXPECT_EQ(Ids(compartment, "match").size(), 3u);
  auto system = GetJson(Url("?_type=Patient,Observation&_id=" + pid + "," + pid + "-o1"));
  EXPECT_EQ(Ids(system, "match").size(), 2u);
  auto count = GetJson(Url("Observation?subject=Patient/" + pid + "&_summary=count"));
  EXPECT_EQ(count.Find("total") ? count.Find("total")->text() : "", "3");
  EXPECT_EQ(count.Find("entry"), nullptr);
  auto elements = GetJson(
      Url("Observation?subject=Patient/" + pid + "&_elements=status&_total=accurate&_count=1"));
  EXPECT_EQ(elements.Find("total") ? elements.Find("total")->text() : "", "3");
  auto ids = Ids(elements, "match");
  ASSERT_EQ(ids.size(), 1u);
  const JsonValue& res = *elements.Find("entry")->items()[0].Find("resource");
  EXPECT_EQ(res.Find("valueQuantity"), nullptr);
  EXPECT_NE(res.Find("status"), nullptr);
}

TEST_F(SearchTest, CustomSearchParameterAndMetadata) {
  std::string code = "ethnic" + RandomHex(3);
  auto sp = client_.Request(
      "PUT", Url("SearchParameter/" + code), {kJson, OperatorAuth()},
      R"({"resourceType":"SearchParameter","id":")" + code + R"(","url":"http://example.org/sp/)" +
          code + R"(","name":"x","status":"active","description":"x","code":")" + code +
          R"(","base":["Patient"],"type":"string","expression":"Patient.extension('http://example.org/ethnic').value"})");
  ASSERT_EQ(sp.status, 201) << sp.body;
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  std::string pid = "srch-" + RandomHex(4);
  auto r = client_.Request(
      "PUT", Url("Patient/" + pid), {kJson},
      R"({"resourceType":"Patient","id":")" + pid +
          R"(","extension":[{"url":"http://example.org/ethnic","valueString":"Breton"}]})");
  ASSERT_EQ(r.status, 201) << r.body;
  auto found = GetJson(Url("Patient?" + code + "=bret"));
  EXPECT_EQ(Join(Ids(found, "match")), pid);
}

// A custom SearchParameter applies to resources written afterwards; `carnet reindex` covers
// the older ones.
TEST_F(SearchTest, ReindexCoversOlderResources) {
  std::string pid = "old-" + RandomHex(4);
  std::string value = "Corse" + RandomHex(3);
  auto r =
      client_.Request("PUT", Url("Patient/" + pid), {kJson},
                      R"({"resourceType":"Patient","id":")" + pid +
                          R"(","extension":[{"url":"http://example.org/region","valueString":")" +
                          value + R"("}]})");
  ASSERT_EQ(r.status, 201) << r.body;
  std::string code = "region" + RandomHex(3);
  auto sp = client_.Request(
      "PUT", Url("SearchParameter/" + code), {kJson, OperatorAuth()},
      R"({"resourceType":"SearchParameter","id":")" + code + R"(","url":"http://example.org/sp/)" +
          code + R"(","name":"x","status":"active","description":"x","code":")" + code +
          R"(","base":["Patient"],"type":"string","expression":"Patient.extension('http://example.org/region').value"})");
  ASSERT_EQ(sp.status, 201) << sp.body;
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  EXPECT_EQ(Join(Ids(GetJson(Url("Patient?" + code + "=" + value)), "match")), "");
  std::string cmd = std::string(CARNET_GATEWAY_BINARY) + " reindex --type Patient --db '" +
                    TestDbConninfo() + "' > /dev/null 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  EXPECT_EQ(Join(Ids(GetJson(Url("Patient?" + code + "=" + value)), "match")), pid);
}

TEST_F(SearchTest, MetadataListsSearchParams) {
  auto cs = GetJson(Url("metadata"));
  std::string text = WriteJson(cs);
  EXPECT_NE(text.find("\"name\":\"patient\""), std::string::npos);
  EXPECT_NE(text.find("\"name\":\"_lastUpdated\""), std::string::npos);
}

// Walks every page of a 2,500-resource result while other resources of the same patient
// are being written: each original resource comes exactly once.
TEST_F(SearchTest, PagingWhileInserting) {
  auto t0 = std::chrono::steady_clock::now();
  std::string pid = "page-" + RandomHex(4);
  auto r = client_.Request("PUT", Url("Patient/" + pid), {kJson},
                           R"({"resourceType":"Patient","id":")" + pid + R"("})");
  ASSERT_EQ(r.status, 201) << r.body;
  std::vector<std::string> original = CreateObservations(pid, 2500, 0);
  std::cerr << "[paging] 2500 Observations written in "
            << std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::steady_clock::now() - t0)
                   .count()
            << " ms\n";
  std::atomic<bool> stop{false};
  std::atomic<int> inserted{0};
  std::thread writer([&] {
    int k = 100000;
    // Steady writes during the walks (bounded, so the walks end in time).
    while (!stop && inserted < 600) {
      CreateObservations(pid, 20, k);
      k += 20;
      inserted += 20;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  });
  for (const char* sort : {"", "&_sort=-date", "&_sort=value-quantity,-date"}) {
    auto walk0 = std::chrono::steady_clock::now();
    std::string next = Url("Observation?subject=Patient/" + pid + "&_count=97" + sort);
    std::set<std::string> seen;
    int pages = 0;
    while (!next.empty() && pages < 200) {
      auto page = GetJson(next);
      for (const auto& id : Ids(page, "match")) {
        EXPECT_TRUE(seen.insert(id).second) << "duplicate " << id << " (sort " << sort << ")";
      }
      next = LinkUrl(page, "next");
      ++pages;
    }
    for (const auto& id : original) EXPECT_EQ(seen.count(id), 1u) << "missing " << id << sort;
    std::cerr << "[paging] sort '" << sort << "': " << pages << " pages, " << seen.size()
              << " resources seen in "
              << std::chrono::duration_cast<std::chrono::milliseconds>(
                     std::chrono::steady_clock::now() - walk0)
                     .count()
              << " ms\n";
  }
  stop = true;
  writer.join();
  std::cerr << "[paging] " << inserted << " resources inserted during the walks, "
            << std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::steady_clock::now() - t0)
                   .count()
            << " ms\n";
}

// The plan of DocumentReference?patient=X&type=Y&date=ge2024 on 200,000 generated
// documents (written straight into resource + idx tables of a scratch database) uses the
// index tables' indexes, and a 100-value token OR-list is one = ANY().
TEST(SearchPlanTest, ExplainUsesIndexesOnGeneratedData) {
  auto t0 = std::chrono::steady_clock::now();
  auto admin = storage::Connection::Open(TestDbConninfo());
  ASSERT_TRUE(admin.ok()) << admin.status().ToString();
  ASSERT_TRUE((*admin)->Exec("DROP DATABASE IF EXISTS carnet_search_explain").ok());
  ASSERT_TRUE((*admin)->Exec("CREATE DATABASE carnet_search_explain").ok());
  auto conn = storage::Connection::Open(TestDbConninfo() + " dbname=carnet_search_explain");
  ASSERT_TRUE(conn.ok()) << conn.status().ToString();
  storage::Connection& c = **conn;
  ASSERT_TRUE(storage::ApplyMigrations(c, storage::BuiltinMigrations()).ok());
  const int kDocs = 200000;
  std::string n = std::to_string(kDocs);
  auto exec = [&](const std::string& sql) {
    auto r = c.Exec(sql);
    EXPECT_TRUE(r.ok()) << r.status().ToString() << "\n" << sql;
  };
  exec(
      "INSERT INTO resource (patient_key, res_type, res_id, version_id, last_updated, content) "
      "SELECT g % 20000, 'DocumentReference', 'd' || g, 1, now(), '{}' FROM generate_series(1, " +
      n + ") g");
  exec(
      "INSERT INTO idx_reference (patient_key, res_type, res_id, param, target_type, target_id) "
      "SELECT g % 20000, 'DocumentReference', 'd' || g, p, 'Patient', 'p' || (g % 20000) "
      "FROM generate_series(1, " +
      n + ") g, (VALUES ('patient'), ('subject')) v(p)");
  exec(
      "INSERT INTO idx_token (patient_key, res_type, res_id, param, system, code) "
      "SELECT g % 20000, 'DocumentReference', 'd' || g, 'type', 'http://loinc.org', 'c' || (g % "
      "50) "
      "FROM generate_series(1, " +
      n + ") g");
  exec(
      "INSERT INTO idx_token (patient_key, res_type, res_id, param, system, code) "
      "SELECT g % 20000, 'DocumentReference', 'd' || g, 'status', NULL, 'current' "
      "FROM generate_series(1, " +
      n + ") g");
  exec(
      "INSERT INTO idx_date (patient_key, res_type, res_id, param, low, high) "
      "SELECT g % 20000, 'DocumentReference', 'd' || g, 'date', "
      "timestamptz '2015-01-01' + (g % 3650) * interval '1 day', "
      "timestamptz '2015-01-01' + (g % 3650) * interval '1 day' + interval '1 second' "
      "FROM generate_series(1, " +
      n + ") g");
  exec("ANALYZE");

  auto params = model::SearchParamRegistry::Instance().Official();
  fhir::ParseOptions options;
  options.types = {"DocumentReference"};
  options.strict = true;
  auto explain = [&](const std::vector<std::pair<std::string, std::string>>& q,
                     std::string* sql_out) {
    auto parsed = fhir::ParseSearch(*params, q, options);
    EXPECT_TRUE(parsed.ok()) << parsed.status().ToString();
    storage::AccessFilter scope = storage::AccessFilter::Everything();
    fhir::PlanInput in;
    in.search = &*parsed;
    in.scope = &scope;
    in.limit = 21;
    storage::RenderedQuery planned = storage::RenderIndexQuery(fhir::PlanSearch(in));
    if (sql_out) *sql_out = planned.sql;
    auto r = c.RunDynamic("EXPLAIN (ANALYZE, COSTS OFF) " + planned.sql, planned.params);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    std::string plan;
    for (int i = 0; r.ok() && i < r->rows(); ++i) plan += r->GetString(i, 0) + "\n";
    return plan;
  };
  std::string plan =
      explain({{"patient", "p42"}, {"type", "http://loinc.org|c42"}, {"date", "ge2024"}}, nullptr);
  EXPECT_EQ(plan.find("Seq Scan"), std::string::npos) << plan;
  EXPECT_NE(plan.find("idx_reference_lookup"), std::string::npos) << plan;
  std::cerr << "[explain] patient+type+date:\n" << plan;

  std::string codes;
  for (int i = 0; i < 100; ++i)
    codes += (i ? "," : "") + std::string("http://loinc.org|c") + std::to_string(i);
  std::string sql;
  std::string or_plan = explain({{"patient", "p7"}, {"type", codes}}, &sql);
  EXPECT_EQ(or_plan.find("Seq Scan"), std::string::npos) << or_plan;
  EXPECT_EQ(sql.find(" OR "), std::string::npos) << sql;  // one = ANY(), not 100 ORs
  std::cerr << "[explain] patient + 100 type codes:\n" << or_plan;

  conn->reset();
  (*admin)->Exec("DROP DATABASE IF EXISTS carnet_search_explain");
  auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0)
          .count();
  EXPECT_LT(ms, 60000);
  std::cerr << "[explain] total " << ms << " ms\n";
}

}  // namespace
}  // namespace carnet::testing
