// Building dynamic SQL from fixed fragments: every value goes through Param()/Array() and
// travels as a $n parameter, never inside the SQL text.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "storage/connection.h"

namespace carnet::storage {

class SqlBuilder {
 public:
  // Adds a text parameter; returns its placeholder ("$3").
  std::string Param(std::string value);
  std::string Null();
  // Adds a text[] parameter (array literal); returns "$n::text[]".
  std::string TextArray(const std::vector<std::string>& values);
  // Same, with NULL elements for nullopt.
  std::string TextArrayN(const std::vector<std::optional<std::string>>& values);

  const SqlParams& params() const { return params_; }
  SqlParams& params() { return params_; }

 private:
  SqlParams params_;
};

// The PostgreSQL array literal of `values` ({"a","b",NULL}).
std::string PgArrayLiteral(const std::vector<std::optional<std::string>>& values);

// `s` with the LIKE wildcards (% _) and the escape character (\) escaped, so that it can be
// used as a literal prefix or infix in `LIKE $n`.
std::string EscapeLike(std::string_view s);

}  // namespace carnet::storage
