#include "storage/pool.h"

namespace carnet::storage {

Pool::Lease::Lease(Lease&& other) noexcept
    : pool_(other.pool_), conn_(std::move(other.conn_)) {
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

Pool::Pool(PoolOptions options) : options_(std::move(options)) {}

Pool::~Pool() = default;

int Pool::open_count() const {
  std::lock_guard<std::mutex> lock(mu_);
  return open_;
}

Result<Pool::Lease> Pool::Acquire() {
  std::unique_lock<std::mutex> lock(mu_);
  auto deadline = std::chrono::steady_clock::now() + options_.acquire_timeout;
  for (;;) {
    while (!idle_.empty()) {
      std::unique_ptr<Connection> conn = std::move(idle_.back());
      idle_.pop_back();
      if (!conn->broken()) return Lease(this, std::move(conn));
      --open_;  // drop a connection that died while idle
    }
    if (open_ < options_.size) {
      ++open_;
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
        cv_.notify_one();
        return conn.status();
      }
      return Lease(this, std::move(conn).value());
    }
    if (cv_.wait_until(lock, deadline) == std::cv_status::timeout && idle_.empty() &&
        open_ >= options_.size) {
      return Unavailable("no database connection free within the acquire timeout");
    }
  }
}

void Pool::Release(std::unique_ptr<Connection> conn) {
  // A connection left inside a transaction (a caller bailed out early) is rolled back so
  // that the next user starts clean; one that cannot be cleaned is dropped.
  if (!conn->broken() && conn->transaction_status() != PQTRANS_IDLE) {
    (void)conn->Exec("ROLLBACK");
    if (conn->transaction_status() != PQTRANS_IDLE) conn.reset();
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (conn && !conn->broken()) {
    idle_.push_back(std::move(conn));
  } else {
    --open_;
  }
  cv_.notify_one();
}

}  // namespace carnet::storage
