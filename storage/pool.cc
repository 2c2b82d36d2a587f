#include "storage/pool.h"

#include "base/metrics.h"
#include "storage/audit_group_commit.h"

namespace carnet::storage {
namespace {

// The pool's metrics (GET /metrics), summed over every pool of the process.
GaugeSeries& InUse() {
  static auto& g = Metrics()
                       .Gauge("carnet_db_pool_connections_in_use",
                              "database connections leased to a request or worker right now")
                       .Get();
  return g;
}
GaugeSeries& Open() {
  static auto& g =
      Metrics()
          .Gauge("carnet_db_pool_connections_open", "database connections open (idle + in use)")
          .Get();
  return g;
}
GaugeSeries& Size() {
  static auto& g =
      Metrics().Gauge("carnet_db_pool_size", "most database connections the pool opens").Get();
  return g;
}
CounterSeries& Waits() {
  static auto& c = Metrics()
                       .Counter("carnet_db_pool_waits_total",
                                "acquisitions that found every connection busy and had to wait")
                       .Get();
  return c;
}
CounterSeries& Timeouts() {
  static auto& c =
      Metrics()
          .Counter("carnet_db_pool_acquire_timeouts_total",
                   "acquisitions that found no free connection within db_acquire_timeout_ms (503)")
          .Get();
  return c;
}
HistogramSeries& WaitSeconds() {
  static auto& h = Metrics()
                       .Histogram("carnet_db_pool_wait_seconds",
                                  "time spent waiting for a free database connection (waits only)",
                                  {}, LatencyBuckets())
                       .Get();
  return h;
}

}  // namespace

Pool::Lease::Lease(Lease&& other) noexcept : pool_(other.pool_), conn_(std::move(other.conn_)) {
  other.pool_ = nullptr;
}

Pool::Lease& Pool::Lease::operator=(Lease&& other) noexcept {
  if (this != &other) {
    if (pool_ && conn_) pool_->Release(std::move(conn_));
    pool_ = other.pool_;
    conn_ = std::move(other.conn_);
    other.pool_ = nullptr;
  }
  return *this;
}

Pool::Lease::~Lease() {
  if (pool_ && conn_) pool_->Release(std::move(conn_));
}

Pool::Pool(PoolOptions options)
    : options_(std::move(options)), audit_group_(std::make_unique<AuditGroupCommit>(*this)) {
  Size().Add(options_.size);
  // Every series exists from the start (0), so that a scrape shows what has not happened yet.
  InUse();
  Open();
  Waits();
  Timeouts();
  WaitSeconds();
}

Pool::~Pool() {
  Size().Add(-options_.size);
  std::lock_guard<std::mutex> lock(mu_);
  Open().Add(-open_);
}

int Pool::open_count() const {
  std::lock_guard<std::mutex> lock(mu_);
  return open_;
}

Result<Pool::Lease> Pool::Acquire() {
  std::unique_lock<std::mutex> lock(mu_);
  auto start = std::chrono::steady_clock::now();
  auto deadline = start + options_.acquire_timeout;
  bool waited = false;
  auto leased = [&](std::unique_ptr<Connection> conn) {
    InUse().Add(1);
    if (waited)
      WaitSeconds().Observe(
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    return Lease(this, std::move(conn));
  };
  for (;;) {
    while (!idle_.empty()) {
      std::unique_ptr<Connection> conn = std::move(idle_.back());
      idle_.pop_back();
      if (!conn->broken()) return leased(std::move(conn));
      --open_;  // drop a connection that died while idle
      Open().Add(-1);
    }
    if (open_ < options_.size) {
      ++open_;
      Open().Add(1);
      lock.unlock();
      // Connect outside the lock: it may take a while and other threads may release.
      auto conn = Connection::Open(options_.conninfo);
      if (conn.ok() && options_.statement_timeout.count() > 0) {
        // Session level, outside any transaction: it outlives every ROLLBACK.
        auto set = (*conn)->Exec("SET statement_timeout = " +
                                 std::to_string(options_.statement_timeout.count()));
        if (!set.ok()) conn = set.status();
      }
      if (!conn.ok()) {
        lock.lock();
        --open_;
        Open().Add(-1);
        cv_.notify_one();
        return conn.status();
      }
      return leased(std::move(conn).value());
    }
    if (!waited) {
      waited = true;
      Waits().Inc();
    }
    if (cv_.wait_until(lock, deadline) == std::cv_status::timeout && idle_.empty() &&
        open_ >= options_.size) {
      Timeouts().Inc();
      return Unavailable("no database connection free within the acquire timeout");
    }
  }
}

void Pool::Release(std::unique_ptr<Connection> conn) {
  // A connection left inside a transaction (a caller bailed out early) is rolled back so
  // that the next user starts clean; one that cannot be cleaned is dropped.
  conn->DiscardPendingBegin();
  if (!conn->broken() && conn->transaction_status() != PQTRANS_IDLE) {
    (void)conn->Exec("ROLLBACK");
    if (conn->transaction_status() != PQTRANS_IDLE) conn.reset();
  }
  InUse().Add(-1);
  std::lock_guard<std::mutex> lock(mu_);
  if (conn && !conn->broken()) {
    idle_.push_back(std::move(conn));
  } else {
    --open_;
    Open().Add(-1);
  }
  cv_.notify_one();
}

}  // namespace carnet::storage
