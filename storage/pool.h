// A fixed-size pool of PostgreSQL connections shared by the gateway's worker threads.
//
// Connections are opened lazily up to `size`. A connection found broken (server restarted,
// socket closed) is closed when its lease ends and a fresh one is opened on the next
// Acquire, so the gateway recovers by itself when PostgreSQL comes back.
// Thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "base/status.h"
#include "storage/connection.h"

namespace carnet::storage {

struct PoolOptions {
  std::string conninfo;
  int size = 8;
  // How long Acquire waits for a free connection before answering Unavailable.
  std::chrono::milliseconds acquire_timeout{5000};
  // PostgreSQL's statement_timeout on every connection of the pool (0: none): a statement
  // running longer is cancelled by the server and its transaction fails with kTimeout, so
  // that no request holds a connection and a backend for minutes.
  std::chrono::milliseconds statement_timeout{0};
};

class AuditGroupCommit;

class Pool {
 public:
  // A borrowed connection, returned to the pool when destroyed.
  class Lease {
   public:
    Lease() = default;
    Lease(Lease&& other) noexcept;
    Lease& operator=(Lease&& other) noexcept;
    ~Lease();
    Connection* operator->() const { return conn_.get(); }
    Connection& operator*() const { return *conn_; }
    Connection* get() const { return conn_.get(); }

   private:
    friend class Pool;
    Lease(Pool* pool, std::unique_ptr<Connection> conn) : pool_(pool), conn_(std::move(conn)) {}
    Pool* pool_ = nullptr;
    std::unique_ptr<Connection> conn_;
  };

  explicit Pool(PoolOptions options);
  ~Pool();

  // A connection, reused or newly opened. Unavailable if the server cannot be reached or
  // every connection stays busy past acquire_timeout.
  Result<Lease> Acquire();

  const PoolOptions& options() const { return options_; }
  // Connections currently open (idle + leased); for tests and metrics.
  int open_count() const;

  // The group commit of the audit events of this pool's reads (storage/audit_group_commit.h):
  // one per pool, so one per gateway.
  AuditGroupCommit& audit_group() { return *audit_group_; }

 private:
  void Release(std::unique_ptr<Connection> conn);

  const PoolOptions options_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<Connection>> idle_;  // guarded by mu_
  int open_ = 0;                                   // guarded by mu_
  std::unique_ptr<AuditGroupCommit> audit_group_;
};

}  // namespace carnet::storage
