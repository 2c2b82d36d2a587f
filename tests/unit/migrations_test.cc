#include "storage/migrations.h"

#include <gtest/gtest.h>

#include "tests/unit/test_db.h"

namespace carnet::storage {
namespace {

using carnet::testing::ScratchDatabase;

std::unique_ptr<Connection> Open(const ScratchDatabase& db) {
  auto c = Connection::Open(db.conninfo());
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  return c.ok() ? std::move(c).value() : nullptr;
}

bool TableExists(Connection& c, const std::string& name) {
  auto r = c.RunDynamic("SELECT to_regclass($1) IS NOT NULL", {SqlParam::Text(name)});
  return r.ok() && r->GetBool(0, 0);
}

TEST(MigrationsTest, BuiltinsAreNumberedFromOneWithoutGaps) {
  const auto& m = BuiltinMigrations();
  ASSERT_FALSE(m.empty());
  for (size_t i = 0; i < m.size(); ++i) {
    EXPECT_EQ(m[i].version, static_cast<int>(i + 1));
    EXPECT_FALSE(m[i].sql.empty());
  }
}

TEST(MigrationsTest, FreshDatabaseGetsTheWholeDossierSchema) {
  ScratchDatabase db;
  auto c = Open(db);
  ASSERT_TRUE(c);
  EXPECT_EQ(*CurrentSchemaVersion(*c), 0);
  Status st = ApplyMigrations(*c, BuiltinMigrations());
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(*CurrentSchemaVersion(*c), LatestVersion(BuiltinMigrations()));
  for (const char* t :
       {"patient", "patient_identifier", "resource", "resource_history", "idx_string", "idx_token",
        "idx_reference", "idx_date", "idx_quantity", "idx_uri", "idx_text", "document_content",
        "registry_object", "association", "audit_event", "outbox"})
    EXPECT_TRUE(TableExists(*c, t)) << t;
  // Applying again is a no-op.
  ASSERT_TRUE(ApplyMigrations(*c, BuiltinMigrations()).ok());
  EXPECT_EQ(c->Exec("SELECT count(*) FROM schema_version")->GetInt(0, 0),
            static_cast<long long>(BuiltinMigrations().size()));
}

// Every table that holds patient data carries the patient key, so that the dossier can be
// partitioned by patient later.
TEST(MigrationsTest, PatientTablesCarryThePatientKey) {
  ScratchDatabase db;
  auto c = Open(db);
  ASSERT_TRUE(c);
  ASSERT_TRUE(ApplyMigrations(*c, BuiltinMigrations()).ok());
  auto r = c->Exec(
      "SELECT table_name FROM information_schema.tables t WHERE table_schema = 'public' "
      // Tables that hold no patient data: the schema version and the search-parameter
      // definitions (shared configuration), the operator's app catalogue, the client
      // assertion ids an app used (migration 0014).
      "AND table_name NOT IN ('schema_version', 'search_param', 'search_param_generation', "
      "'app_catalogue', 'oauth_client_assertion') "
      "AND NOT EXISTS (SELECT 1 FROM "
      "information_schema.columns c WHERE c.table_name = t.table_name AND "
      "c.column_name = 'patient_key')");
  ASSERT_TRUE(r.ok());
  for (int i = 0; i < r->rows(); ++i) ADD_FAILURE() << "no patient_key in " << r->GetString(i, 0);
}

TEST(MigrationsTest, AuditEventsAreAppendOnly) {
  ScratchDatabase db;
  auto c = Open(db);
  ASSERT_TRUE(c);
  ASSERT_TRUE(ApplyMigrations(*c, BuiltinMigrations()).ok());
  ASSERT_TRUE(c->Exec("INSERT INTO audit_event (action, outcome, content, hash) "
                      "VALUES ('R', '0', '{}', '\\x00')")
                  .ok());
  EXPECT_FALSE(c->Exec("UPDATE audit_event SET action = 'D'").ok());
  EXPECT_FALSE(c->Exec("DELETE FROM audit_event").ok());
  EXPECT_FALSE(c->Exec("TRUNCATE audit_event").ok());
  EXPECT_EQ(c->Exec("SELECT count(*) FROM audit_event")->GetInt(0, 0), 1);
  // The objects the events name (migration 0017) too.
  ASSERT_TRUE(c->Exec("INSERT INTO audit_event_entity (patient_key, reference, seq) "
                      "VALUES (1, 'DocumentReference/d1', 1)")
                  .ok());
  EXPECT_FALSE(c->Exec("UPDATE audit_event_entity SET reference = 'DocumentReference/d2'").ok());
  EXPECT_FALSE(c->Exec("DELETE FROM audit_event_entity").ok());
  EXPECT_FALSE(c->Exec("TRUNCATE audit_event_entity").ok());
}

TEST(MigrationsTest, FailingMigrationLeavesNothing) {
  ScratchDatabase db;
  auto c = Open(db);
  ASSERT_TRUE(c);
  std::vector<Migration> ms = {{1, "good", "CREATE TABLE first_table (id int)"},
                               {2, "bad", "CREATE TABLE second_table (id int); SELECT 1/0"}};
  Status st = ApplyMigrations(*c, ms);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("migration 2 (bad)"), std::string::npos) << st.ToString();
  EXPECT_FALSE(TableExists(*c, "first_table"));
  EXPECT_FALSE(TableExists(*c, "second_table"));
  EXPECT_EQ(*CurrentSchemaVersion(*c), 0);
}

TEST(MigrationsTest, AppliesOnlyNewerOnesInOrder) {
  ScratchDatabase db;
  auto c = Open(db);
  ASSERT_TRUE(c);
  std::vector<Migration> v1 = {{1, "a", "CREATE TABLE a (id int)"}};
  ASSERT_TRUE(ApplyMigrations(*c, v1).ok());
  std::vector<Migration> v3 = {{3, "c", "ALTER TABLE b ADD COLUMN x int"},
                               {1, "a", "CREATE TABLE a (id int)"},
                               {2, "b", "CREATE TABLE b (id int)"}};
  Status st = ApplyMigrations(*c, v3);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(*CurrentSchemaVersion(*c), 3);
}

TEST(MigrationsTest, RefusesADatabaseNewerThanTheCode) {
  ScratchDatabase db;
  auto c = Open(db);
  ASSERT_TRUE(c);
  std::vector<Migration> v2 = {{1, "a", "CREATE TABLE a (id int)"},
                               {2, "b", "CREATE TABLE b (id int)"}};
  ASSERT_TRUE(ApplyMigrations(*c, v2).ok());
  std::vector<Migration> v1 = {{1, "a", "CREATE TABLE a (id int)"}};
  Status st = ApplyMigrations(*c, v1);
  EXPECT_EQ(st.code(), ErrorCode::kConflict);
  EXPECT_NE(st.message().find("newer"), std::string::npos);
  EXPECT_EQ(*CurrentSchemaVersion(*c), 2);
}

}  // namespace
}  // namespace carnet::storage
