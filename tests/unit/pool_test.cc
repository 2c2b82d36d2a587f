#include "storage/pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "storage/transaction.h"
#include "tests/unit/test_db.h"

namespace carnet::storage {
namespace {

using carnet::testing::ScratchDatabase;

PoolOptions Options(const std::string& conninfo, int size, int timeout_ms = 2000) {
  PoolOptions o;
  o.conninfo = conninfo;
  o.size = size;
  o.acquire_timeout = std::chrono::milliseconds(timeout_ms);
  return o;
}

const Statement kBackendPid{"test_backend_pid", "SELECT pg_backend_pid()"};

TEST(PoolTest, ReusesConnections) {
  ScratchDatabase db;
  Pool pool(Options(db.conninfo(), 2));
  std::string pid1, pid2;
  {
    auto lease = pool.Acquire();
    ASSERT_TRUE(lease.ok()) << lease.status().ToString();
    auto r = (*lease)->Run(kBackendPid);
    ASSERT_TRUE(r.ok());
    pid1 = r->GetString(0, 0);
  }
  {
    auto lease = pool.Acquire();
    ASSERT_TRUE(lease.ok());
    auto r = (*lease)->Run(kBackendPid);  // prepared already on this connection
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    pid2 = r->GetString(0, 0);
  }
  EXPECT_EQ(pid1, pid2);
  EXPECT_EQ(pool.open_count(), 1);
}

// statement_timeout is set on every pooled connection: a longer statement is cancelled by
// PostgreSQL (kTimeout, not retried), and the same connection serves the next transaction.
TEST(PoolTest, StatementTimeoutCancelsAndTheConnectionServesOn) {
  ScratchDatabase db;
  PoolOptions options = Options(db.conninfo(), 1);
  options.statement_timeout = std::chrono::milliseconds(100);
  Pool pool(options);
  auto start = std::chrono::steady_clock::now();
  Status slow = RunInTransaction(pool, [](Transaction& tx) {
    auto r = tx.Exec("SELECT pg_sleep(5)");
    return r.ok() ? Status::Ok() : r.status();
  });
  EXPECT_EQ(slow.code(), ErrorCode::kTimeout) << slow.ToString();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
  Status fast = RunInTransaction(pool, [](Transaction& tx) {
    auto r = tx.Exec("SELECT current_setting('statement_timeout')");
    if (!r.ok()) return r.status();
    EXPECT_EQ(r->GetString(0, 0), "100ms");
    return Status::Ok();
  });
  EXPECT_TRUE(fast.ok()) << fast.ToString();
  EXPECT_EQ(pool.open_count(), 1);
}

TEST(PoolTest, BoundedSizeTimesOut) {
  ScratchDatabase db;
  Pool pool(Options(db.conninfo(), 1, 200));
  auto first = pool.Acquire();
  ASSERT_TRUE(first.ok());
  auto start = std::chrono::steady_clock::now();
  auto second = pool.Acquire();
  EXPECT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), ErrorCode::kUnavailable);
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(150));
  // Released, the connection serves a waiting thread at once.
  std::thread t([&] { auto drop = std::move(first); });
  t.join();
  EXPECT_TRUE(pool.Acquire().ok());
}

TEST(PoolTest, WaiterGetsReleasedConnection) {
  ScratchDatabase db;
  Pool pool(Options(db.conninfo(), 1, 5000));
  auto held = pool.Acquire();
  ASSERT_TRUE(held.ok());
  std::atomic<bool> got{false};
  std::thread waiter([&] { got = pool.Acquire().ok(); });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_FALSE(got);
  { auto drop = std::move(held.value()); }
  waiter.join();
  EXPECT_TRUE(got);
}

TEST(PoolTest, UnreachableServerIsUnavailable) {
  Pool pool(Options("host=/nonexistent-carnet-socket dbname=x connect_timeout=1", 2));
  auto lease = pool.Acquire();
  ASSERT_FALSE(lease.ok());
  EXPECT_EQ(lease.status().code(), ErrorCode::kUnavailable);
  EXPECT_EQ(pool.open_count(), 0);
}

// A connection whose server session dies (as when PostgreSQL restarts) is detected on use,
// not returned to the pool, and replaced by a fresh one.
TEST(PoolTest, BrokenConnectionIsReplaced) {
  ScratchDatabase db;
  Pool pool(Options(db.conninfo(), 2));
  std::string victim;
  {
    auto lease = pool.Acquire();
    ASSERT_TRUE(lease.ok());
    victim = (*lease)->Run(kBackendPid)->GetString(0, 0);
  }
  {
    auto killer = Connection::Open(db.conninfo());
    ASSERT_TRUE(killer.ok());
    auto r = (*killer)->RunDynamic("SELECT pg_terminate_backend($1::int)",
                                   {SqlParam::Text(victim)});
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  {
    auto lease = pool.Acquire();
    ASSERT_TRUE(lease.ok());
    auto r = (*lease)->Run(kBackendPid);
    EXPECT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), ErrorCode::kUnavailable);
    EXPECT_TRUE((*lease)->broken());
  }
  EXPECT_EQ(pool.open_count(), 0);
  auto lease = pool.Acquire();
  ASSERT_TRUE(lease.ok());
  auto r = (*lease)->Run(kBackendPid);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_NE(r->GetString(0, 0), victim);
}

// RunInTransaction survives a dead idle connection: BEGIN fails, a fresh connection is used.
TEST(TransactionTest, RetriesWhenIdleConnectionDied) {
  ScratchDatabase db;
  Pool pool(Options(db.conninfo(), 1));
  std::string victim;
  ASSERT_TRUE(RunInTransaction(pool, [&](Transaction& tx) {
                victim = tx.Run(kBackendPid)->GetString(0, 0);
                return Status::Ok();
              }).ok());
  auto killer = Connection::Open(db.conninfo());
  ASSERT_TRUE(killer.ok());
  ASSERT_TRUE((*killer)->RunDynamic("SELECT pg_terminate_backend($1::int)",
                                    {SqlParam::Text(victim)}).ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  std::string now;
  Status st = RunInTransaction(pool, [&](Transaction& tx) {
    auto r = tx.Run(kBackendPid);
    if (!r.ok()) return r.status();
    now = r->GetString(0, 0);
    return Status::Ok();
  });
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_NE(now, victim);
}

TEST(TransactionTest, CommitsOrRollsBack) {
  ScratchDatabase db;
  Pool pool(Options(db.conninfo(), 2));
  ASSERT_TRUE(RunInTransaction(pool, [](Transaction& tx) {
                return tx.Exec("CREATE TABLE t (v int)").status();
              }).ok());
  Status failed = RunInTransaction(pool, [](Transaction& tx) {
    CARNET_RETURN_IF_ERROR(tx.Exec("INSERT INTO t VALUES (1)").status());
    return Invalid("the second entry is bad");
  });
  EXPECT_EQ(failed.code(), ErrorCode::kInvalid);
  ASSERT_TRUE(RunInTransaction(pool, [](Transaction& tx) {
                return tx.Exec("INSERT INTO t VALUES (2)").status();
              }).ok());
  auto lease = pool.Acquire();
  auto r = (*lease)->Exec("SELECT coalesce(sum(v), 0) FROM t");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->GetInt(0, 0), 2);  // the failed transaction left nothing
}

// Two serializable transactions that read-then-write the same row: one of them gets a
// serialization failure, and RunInTransaction replays it so that both increments land.
TEST(TransactionTest, RetriesSerializationFailure) {
  ScratchDatabase db;
  Pool pool(Options(db.conninfo(), 4));
  ASSERT_TRUE(RunInTransaction(pool, [](Transaction& tx) {
                CARNET_RETURN_IF_ERROR(tx.Exec("CREATE TABLE counter (n int)").status());
                return tx.Exec("INSERT INTO counter VALUES (0)").status();
              }).ok());
  TxOptions opts;
  opts.isolation = Isolation::kSerializable;
  opts.max_attempts = 20;
  std::atomic<int> runs{0};
  std::atomic<int> in_body{0};
  auto increment = [&] {
    return RunInTransaction(pool, opts, [&](Transaction& tx) {
      ++runs;
      auto r = tx.Exec("SELECT n FROM counter");
      if (!r.ok()) return r.status();
      long long n = r->GetInt(0, 0);
      // Make both transactions read before either writes.
      ++in_body;
      for (int i = 0; i < 50 && in_body < 2; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      return tx.RunDynamic("UPDATE counter SET n = $1::int", {SqlParam::Text(std::to_string(n + 1))})
          .status();
    });
  };
  Status a, b;
  std::thread ta([&] { a = increment(); });
  std::thread tb([&] { b = increment(); });
  ta.join();
  tb.join();
  EXPECT_TRUE(a.ok()) << a.ToString();
  EXPECT_TRUE(b.ok()) << b.ToString();
  EXPECT_GT(runs.load(), 2);  // one of them ran again
  auto lease = pool.Acquire();
  EXPECT_EQ((*lease)->Exec("SELECT n FROM counter")->GetInt(0, 0), 2);
}

TEST(TransactionTest, RetriesDeadlock) {
  ScratchDatabase db;
  Pool pool(Options(db.conninfo(), 4));
  ASSERT_TRUE(RunInTransaction(pool, [](Transaction& tx) {
                CARNET_RETURN_IF_ERROR(tx.Exec("CREATE TABLE r (id int primary key, n int)").status());
                return tx.Exec("INSERT INTO r VALUES (1, 0), (2, 0)").status();
              }).ok());
  std::atomic<int> runs{0};
  std::atomic<int> locked{0};
  auto cross = [&](int first, int second) {
    return RunInTransaction(pool, [&, first, second](Transaction& tx) {
      ++runs;
      auto r = tx.RunDynamic("UPDATE r SET n = n + 1 WHERE id = $1::int",
                             {SqlParam::Text(std::to_string(first))});
      if (!r.ok()) return r.status();
      ++locked;
      for (int i = 0; i < 100 && locked < 2; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      return tx.RunDynamic("UPDATE r SET n = n + 1 WHERE id = $1::int",
                           {SqlParam::Text(std::to_string(second))})
          .status();
    });
  };
  Status a, b;
  std::thread ta([&] { a = cross(1, 2); });
  std::thread tb([&] { b = cross(2, 1); });
  ta.join();
  tb.join();
  EXPECT_TRUE(a.ok()) << a.ToString();
  EXPECT_TRUE(b.ok()) << b.ToString();
  EXPECT_GT(runs.load(), 2);
  auto lease = pool.Acquire();
  EXPECT_EQ((*lease)->Exec("SELECT sum(n) FROM r")->GetInt(0, 0), 4);
}

TEST(ConnectionTest, UniqueViolationIsDuplicate) {
  ScratchDatabase db;
  auto conn = Connection::Open(db.conninfo());
  ASSERT_TRUE(conn.ok());
  ASSERT_TRUE((*conn)->Exec("CREATE TABLE u (k text primary key)").ok());
  const Statement ins{"test_ins_u", "INSERT INTO u VALUES ($1)"};
  ASSERT_TRUE((*conn)->Run(ins, {SqlParam::Text("a")}).ok());
  auto dup = (*conn)->Run(ins, {SqlParam::Text("a")});
  EXPECT_EQ(dup.status().code(), ErrorCode::kDuplicate);
  EXPECT_EQ((*conn)->last_sqlstate(), "23505");
  // Values travel as parameters: quotes are data, never SQL.
  ASSERT_TRUE((*conn)->Run(ins, {SqlParam::Text("x'); DROP TABLE u; --")}).ok());
  EXPECT_EQ((*conn)->Exec("SELECT count(*) FROM u")->GetInt(0, 0), 2);
}

TEST(ConnectionTest, BinaryParametersRoundTrip) {
  ScratchDatabase db;
  auto conn = Connection::Open(db.conninfo());
  ASSERT_TRUE(conn.ok());
  std::string bytes("a\0b\xff", 4);
  auto r = (*conn)->RunDynamic("SELECT length($1::bytea), encode($1::bytea, 'hex')",
                               {SqlParam::Bytes(bytes)});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->GetInt(0, 0), 4);
  EXPECT_EQ(r->GetString(0, 1), "610062ff");
}

}  // namespace
}  // namespace carnet::storage

namespace carnet::storage {
namespace {

// text[] values as PostgreSQL writes them, read back: the round trip with TextArrayLiteral,
// quoting, escapes and NULLs, and a real database's own output.
TEST(TextArrayTest, ParsesWhatPostgresWrites) {
  EXPECT_EQ(ParseTextArray("{}"), std::vector<std::string>{});
  EXPECT_EQ(ParseTextArray("{a,b}"), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(ParseTextArray(R"({"a b","c,d","e\"f","g\\h",NULL,"NULL"})"),
            (std::vector<std::string>{"a b", "c,d", "e\"f", "g\\h", "NULL"}));
  std::vector<std::string> items = {"810000000001", "org blocked", "x,y", "q\"uote", "back\\slash", ""};
  auto conn = Connection::Open(std::getenv("CARNET_TEST_DB") ? std::getenv("CARNET_TEST_DB") : "");
  if (!conn.ok()) GTEST_SKIP() << "no test database";
  auto r = (*conn)->RunDynamic("SELECT $1::text[]::text", {SqlParam::Text(TextArrayLiteral(items))});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(ParseTextArray(r->GetString(0, 0)), items);
}

}  // namespace
}  // namespace carnet::storage
