// The search index as rows: the idx_* tables (migration 0002), one row per value a search
// parameter selects in a resource's current version. What the rows hold is decided above
// (dossier/search_index.h extracts them; fhir/ plans searches over them); this layer writes
// and reads them.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "storage/resource_store.h"
#include "storage/transaction.h"

namespace carnet::storage {

// The index rows of one resource, by table, as text (PostgreSQL casts them on insert, and
// builds idx_text's tsvector from the two texts). `group` (column grp, migration 0008) ties the
// rows of a composite's components that come from one repeating element; none on other rows.
struct IndexRows {
  struct String {  // idx_string
    std::string param, norm, exact;
    std::optional<int> group = std::nullopt;
  };
  struct Token {  // idx_token
    std::string param;
    std::optional<std::string> system, code, text_norm, type_system, type_code;
    std::optional<int> group = std::nullopt;
  };
  struct Reference {  // idx_reference
    std::string param;
    std::optional<std::string> target_type, target_id, target_url, id_system, id_value;
    std::optional<int> group = std::nullopt;
  };
  struct Date {  // idx_date: an inclusive range of instants
    std::string param, low, high;
    std::optional<int> group = std::nullopt;
  };
  struct Quantity {  // idx_quantity
    // value as written; low/high set for ranges (Range), else derived from the precision
    std::string param, value;
    std::optional<std::string> low, high, system, code;
    std::optional<int> group = std::nullopt;
  };
  struct Uri {  // idx_uri
    std::string param, uri;
    std::optional<int> group = std::nullopt;
  };
  std::vector<String> strings;
  std::vector<Token> tokens;
  std::vector<Reference> references;
  std::vector<Date> dates;
  std::vector<Quantity> quantities;
  // idx_text (migration 0006): the words of _text or _content, as written (for the French
  // configuration) and folded without accents (for the English one).
  struct Text {
    std::string param, text, folded;
  };
  std::vector<Uri> uris;
  std::vector<Text> texts;
};

// The SELECT list that turns the text columns c0..c5 of a quantity row (param, value as
// written, low, high, system, code) into idx_quantity's (param, value, low, high, system,
// code): PostgreSQL computes the implicit precision range of the value. Shared with bulk
// loaders (bench/), which COPY the text columns and insert through the same expressions.
extern const char* const kQuantitySelect;
// Likewise for a text row: c0, c1, c2 (param, text as written, folded) into idx_text's
// (param, tsv).
extern const char* const kTextSelect;

// Writes the rows of `stored` (its patient_key, type and id) in one prepared statement,
// replacing those of the resource's previous version (`first_version`: there is none,
// nothing to delete).
Status WriteIndexRows(Transaction& tx, const StoredResource& stored, const IndexRows& rows,
                      bool first_version = false);

// Current (not deleted) resources of `type` (every type when empty) after (after_type,
// after_id) in (type, id) order, at most `limit`, with patient_key, type, id and content:
// the batches of a reindexing.
Result<std::vector<StoredResource>> ResourcesToReindex(Transaction& tx, const std::string& type,
                                                       const std::string& after_type,
                                                       const std::string& after_id, int limit);

}  // namespace carnet::storage
