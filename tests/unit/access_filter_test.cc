// The policy's search filter (storage::AccessFilter) applied by the search engine on a real
// database: excluded labels, the author's exemption, document types, resource types and sources.
#include "storage/access_filter.h"

#include <gtest/gtest.h>

#include <set>

#include "fhir/interactions.h"
#include "fhir/search.h"
#include "storage/migrations.h"
#include "tests/unit/test_db.h"

namespace carnet::fhir {
namespace {

using carnet::testing::ScratchDatabase;

class AccessFilterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto conn = storage::Connection::Open(db_.conninfo());
    ASSERT_TRUE(conn.ok());
    ASSERT_TRUE(storage::ApplyMigrations(**conn, storage::BuiltinMigrations()).ok());
    storage::PoolOptions o;
    o.conninfo = db_.conninfo();
    o.size = 2;
    pool_ = std::make_unique<storage::Pool>(o);
    Put("Patient", "p1", R"({"resourceType":"Patient","id":"p1"})");
    Put("Practitioner", "pr1",
        R"({"resourceType":"Practitioner","id":"pr1","identifier":[{"system":"urn:oid:1.2.250.1.71.4.2.1","value":"810000000001"}]})");
    Put("DocumentReference", "d1", Doc("d1", "11502-2", "", "", "urn:src:lab"));
    Put("DocumentReference", "d2", Doc("d2", "11490-0", "MASQUE_PS", "Practitioner/pr1", ""));
    Put("DocumentReference", "d3", Doc("d3", "57833-6", "MASQUE_PS", "", ""));
  }

  static std::string Doc(const std::string& id, const std::string& type, const std::string& label,
                         const std::string& author, const std::string& source) {
    std::string json = R"({"resourceType":"DocumentReference","id":")" + id + R"(",)";
    if (!source.empty()) json += R"("meta":{"source":")" + source + R"("},)";
    json += R"("status":"current","type":{"coding":[{"system":"http://loinc.org","code":")" + type +
            R"("}]},)";
    if (!label.empty())
      json += R"("securityLabel":[{"coding":[{"system":"urn:oid:1.2.250.1.213.1.1.4.13","code":")" +
              label + R"("}]}],)";
    if (!author.empty()) json += R"("author":[{"reference":")" + author + R"("}],)";
    json +=
        R"("subject":{"reference":"Patient/p1"},"content":[{"attachment":{"contentType":"text/plain"}}]})";
    return json;
  }

  // Written by a deposit source (which is also the identity feed): meta.source is the
  // writer's client id, set by carnet (a client cannot choose it).
  void Put(const std::string& type, const std::string& id, const std::string& json) {
    Interactions interactions(*pool_);
    auto parsed = ParseJson(json);
    ASSERT_TRUE(parsed.ok());
    auto access = profiles::AccessControl::Load(profiles::AccessSettings{});
    ASSERT_TRUE(access.ok()) << access.status().ToString();
    profiles::Actor writer;
    writer.kind = profiles::ActorKind::kSystem;
    const JsonValue* meta = parsed->Find("meta");
    writer.client_id =
        meta && !meta->GetString("source").empty() ? meta->GetString("source") : "urn:src:test";
    writer.scopes = profiles::ParseSmartScopes("system/*.cruds");
    profiles::AccessSession session(**access, writer, {});
    Status st = storage::RunInTransaction(*pool_, [&](storage::Transaction& tx) {
      auto r = interactions.Update(tx, session, type, id, *parsed, Preconditions{});
      return r.ok() ? Status::Ok() : r.status();
    });
    ASSERT_TRUE(st.ok()) << st.ToString();
  }

  std::set<std::string> Find(const storage::AccessFilter& scope) {
    SearchRequest req;
    req.type = "DocumentReference";
    req.scope = scope;
    req.base_url = "http://test/fhir";
    auto bundle = RunSearch(*pool_, req);
    EXPECT_TRUE(bundle.ok()) << bundle.status().ToString();
    std::set<std::string> ids;
    if (!bundle.ok()) return ids;
    if (const JsonValue* entries = bundle->Find("entry"))
      for (const auto& e : entries->items())
        if (e.Find("search") && e.Find("search")->GetString("mode") == "match")
          ids.insert(e.Find("resource")->GetString("id"));
    return ids;
  }

  ScratchDatabase db_;
  std::unique_ptr<storage::Pool> pool_;
};

TEST_F(AccessFilterTest, PolicyFiltersApplyInSql) {
  using Ids = std::set<std::string>;
  EXPECT_EQ(Find(storage::AccessFilter::Everything()), (Ids{"d1", "d2", "d3"}));
  storage::AccessFilter masked = storage::AccessFilter::Everything();
  masked.excluded_security = {"MASQUE_PS"};
  EXPECT_EQ(Find(masked), (Ids{"d1"}));
  // The author still sees their masked document.
  masked.author_exempt_ids = {"810000000001"};
  EXPECT_EQ(Find(masked), (Ids{"d1", "d2"}));
  storage::AccessFilter types = storage::AccessFilter::Everything();
  types.document_types = std::vector<std::string>{"11502-2"};
  EXPECT_EQ(Find(types), (Ids{"d1"}));
  storage::AccessFilter sources = storage::AccessFilter::Everything();
  sources.sources = std::vector<std::string>{"urn:src:lab"};
  EXPECT_EQ(Find(sources), (Ids{"d1"}));
  storage::AccessFilter other_types = storage::AccessFilter::Everything();
  other_types.resource_types = std::vector<std::string>{"Observation"};
  EXPECT_EQ(Find(other_types), Ids{});
  storage::AccessFilter other_record;
  other_record.patient_keys = {999999};
  EXPECT_EQ(Find(other_record), Ids{});
}

// Query-restricted SMART scopes (issue 17): the rows of the restricted type pass only when an
// alternative's token conditions hold on the search index; other types are untouched unless
// the restriction is on "*"; no alternative lets nothing of the type through.
TEST_F(AccessFilterTest, ScopeRestrictionsApplyInSql) {
  using Ids = std::set<std::string>;
  using F = storage::AccessFilter;
  F loinc = F::Everything();
  loinc.restrictions = {
      {"DocumentReference", {{"", {{"type", false, "http://loinc.org", "11502-2"}}}}}};
  EXPECT_EQ(Find(loinc), (Ids{"d1"}));
  F other_system = F::Everything();
  other_system.restrictions = {
      {"DocumentReference", {{"", {{"type", false, "http://snomed.info/sct", "11502-2"}}}}}};
  EXPECT_EQ(Find(other_system), Ids{});
  F two = F::Everything();
  two.restrictions = {
      {"DocumentReference",
       {{"", {{"type", true, "", "11502-2"}}}, {"", {{"type", true, "", "57833-6"}}}}}};
  EXPECT_EQ(Find(two), (Ids{"d1", "d3"}));
  F both = two;  // restrictions AND: the token's and the patient's
  both.restrictions.push_back({"DocumentReference", {{"", {{"type", true, "", "57833-6"}}}}});
  EXPECT_EQ(Find(both), (Ids{"d3"}));
  F elsewhere = F::Everything();
  elsewhere.restrictions = {{"Observation", {}}};
  EXPECT_EQ(Find(elsewhere), (Ids{"d1", "d2", "d3"}));
  F none = F::Everything();
  none.restrictions = {{"DocumentReference", {}}};
  EXPECT_EQ(Find(none), Ids{});
  F star = F::Everything();
  star.restrictions = {{"*", {{"Observation", {}}}}};
  EXPECT_EQ(Find(star), Ids{});
  star.restrictions = {{"*", {{"DocumentReference", {{"type", true, "", "11490-0"}}}}}};
  EXPECT_EQ(Find(star), (Ids{"d2"}));
}

}  // namespace
}  // namespace carnet::fhir
