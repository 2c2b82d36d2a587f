#include "storage/bulk_copy.h"

#include <algorithm>

namespace carnet::storage {

void CopyRows::Separate() {
  if (row_open_) data_.push_back('\t');
  row_open_ = true;
}

CopyRows& CopyRows::Text(std::string_view v) {
  Separate();
  for (char c : v) {
    switch (c) {
      case '\\':
        data_ += "\\\\";
        break;
      case '\n':
        data_ += "\\n";
        break;
      case '\r':
        data_ += "\\r";
        break;
      case '\t':
        data_ += "\\t";
        break;
      default:
        data_.push_back(c);
    }
  }
  return *this;
}

CopyRows& CopyRows::Null() {
  Separate();
  data_ += "\\N";
  return *this;
}

CopyRows& CopyRows::Int(long long v) {
  Separate();
  data_ += std::to_string(v);
  return *this;
}

void CopyRows::EndRow() {
  data_.push_back('\n');
  row_open_ = false;
  ++rows_;
}

void CopyRows::Clear() {
  data_.clear();
  rows_ = 0;
  row_open_ = false;
}

Result<std::unique_ptr<BulkConnection>> BulkConnection::Open(const std::string& conninfo) {
  PGconn* c = PQconnectdb(conninfo.c_str());
  if (PQstatus(c) != CONNECTION_OK) {
    std::string why = PQerrorMessage(c);
    PQfinish(c);
    return Status(ErrorCode::kUnavailable, "cannot connect for the bulk load: " + why);
  }
  return std::unique_ptr<BulkConnection>(new BulkConnection(c));
}

BulkConnection::~BulkConnection() { PQfinish(conn_); }

Result<std::vector<std::string>> BulkConnection::Exec(
    const std::string& sql, const std::vector<std::optional<std::string>>& params) {
  std::vector<const char*> values;
  for (const auto& p : params) values.push_back(p ? p->c_str() : nullptr);
  PGresult* r = PQexecParams(conn_, sql.c_str(), static_cast<int>(values.size()), nullptr,
                             values.data(), nullptr, nullptr, 0);
  ExecStatusType st = PQresultStatus(r);
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
    std::string why = PQresultErrorMessage(r);
    PQclear(r);
    return Internal("bulk load: " + why + " in: " + sql.substr(0, 200));
  }
  std::vector<std::string> out;
  if (st == PGRES_TUPLES_OK && PQnfields(r) > 0)
    for (int i = 0; i < PQntuples(r); ++i)
      out.emplace_back(PQgetvalue(r, i, 0), PQgetlength(r, i, 0));
  PQclear(r);
  return out;
}

Status BulkConnection::Copy(const std::string& target, const CopyRows& rows) {
  if (rows.rows() == 0) return Status::Ok();
  PGresult* r = PQexec(conn_, ("COPY " + target + " FROM STDIN").c_str());
  if (PQresultStatus(r) != PGRES_COPY_IN) {
    std::string why = PQresultErrorMessage(r);
    PQclear(r);
    return Internal("bulk load: COPY " + target + ": " + why);
  }
  PQclear(r);
  // Pieces of 1 MiB: libpq buffers what it is given, whole.
  const std::string& data = rows.data();
  constexpr size_t kPiece = 1 << 20;
  for (size_t off = 0; off < data.size(); off += kPiece) {
    size_t n = std::min(kPiece, data.size() - off);
    if (PQputCopyData(conn_, data.data() + off, static_cast<int>(n)) != 1)
      return Internal("bulk load: COPY " + target + ": " + PQerrorMessage(conn_));
  }
  if (PQputCopyEnd(conn_, nullptr) != 1)
    return Internal("bulk load: COPY " + target + ": " + PQerrorMessage(conn_));
  Status out = Status::Ok();
  while ((r = PQgetResult(conn_)) != nullptr) {
    if (PQresultStatus(r) != PGRES_COMMAND_OK && out.ok())
      out = Internal("bulk load: COPY " + target + ": " + PQresultErrorMessage(r));
    PQclear(r);
  }
  return out;
}

}  // namespace carnet::storage
