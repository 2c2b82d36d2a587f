// Access to the test PostgreSQL that ./carnet test starts (CARNET_TEST_DB).
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <memory>
#include <string>

#include "base/strings.h"
#include "storage/connection.h"

namespace carnet::testing {

// The connection string of the shared test database. Fails the test (rather than skipping
// it) when run outside ./carnet test, so a missing database can never look like a pass.
inline std::string TestDbConninfo() {
  const char* db = std::getenv("CARNET_TEST_DB");
  if (!db) {
    ADD_FAILURE() << "CARNET_TEST_DB is not set: run the tests through ./carnet test";
    return "host=/nonexistent dbname=none";
  }
  return db;
}

// Replaces the dbname of the test conninfo.
inline std::string WithDbName(const std::string& conninfo, const std::string& name) {
  std::string out = conninfo;
  auto pos = out.find("dbname=");
  if (pos == std::string::npos) return out + " dbname=" + name;
  auto end = out.find(' ', pos);
  out.replace(pos, end == std::string::npos ? std::string::npos : end - pos, "dbname=" + name);
  return out;
}

// A database created for one test and dropped after it.
class ScratchDatabase {
 public:
  ScratchDatabase() : name_("carnet_t_" + RandomHex(6)) {
    auto admin = storage::Connection::Open(WithDbName(TestDbConninfo(), "postgres"));
    if (!admin.ok()) {
      ADD_FAILURE() << admin.status().ToString();
      return;
    }
    auto r = (*admin)->Exec("CREATE DATABASE " + name_);
    if (!r.ok()) ADD_FAILURE() << r.status().ToString();
  }
  ~ScratchDatabase() {
    auto admin = storage::Connection::Open(WithDbName(TestDbConninfo(), "postgres"));
    if (admin.ok()) (void)(*admin)->Exec("DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
  }
  std::string conninfo() const { return WithDbName(TestDbConninfo(), name_); }

 private:
  std::string name_;
};

}  // namespace carnet::testing
