// Bulk writes to PostgreSQL (carnet-bench's fast load): rows in COPY's text format, sent with
// COPY ... FROM STDIN (PQputCopyData), on a connection of their own.
#pragma once

#include <libpq-fe.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace carnet::storage {

// Rows of one table in COPY text format: fields separated by tabs, rows by newlines,
// backslash escapes, \N for NULL.
class CopyRows {
 public:
  CopyRows& Text(std::string_view v);
  CopyRows& Opt(const std::optional<std::string>& v) { return v ? Text(*v) : Null(); }
  CopyRows& Null();
  CopyRows& Int(long long v);
  void EndRow();

  const std::string& data() const { return data_; }
  long long rows() const { return rows_; }
  void Clear();

 private:
  void Separate();
  std::string data_;
  long long rows_ = 0;
  bool row_open_ = false;
};

class BulkConnection {
 public:
  static Result<std::unique_ptr<BulkConnection>> Open(const std::string& conninfo);
  ~BulkConnection();
  BulkConnection(const BulkConnection&) = delete;
  BulkConnection& operator=(const BulkConnection&) = delete;

  // A statement; text parameters ($1...), NULL for nullopt. The first column of every row.
  Result<std::vector<std::string>> Exec(const std::string& sql,
                                        const std::vector<std::optional<std::string>>& params = {});
  // COPY `target` ("table (col, ...)") FROM STDIN with the rows given.
  Status Copy(const std::string& target, const CopyRows& rows);

 private:
  explicit BulkConnection(PGconn* conn) : conn_(conn) {}
  PGconn* conn_;
};

}  // namespace carnet::storage
