// Queries over the search index: a description of what to find in `resource` and the idx_*
// tables (which table, which parameter, which column comparisons, the order, the keyset
// position, the access filter), rendered here as one SQL statement and run. The FHIR search
// planner (fhir/search_plan.h) builds the description from a parsed search; this layer
// knows tables, columns and rows, not FHIR. Values always travel as parameters, and the
// access filter is ANDed into every statement over `resource` (the page, the count, chains,
// _has, includes) as storage/access_filter.h writes it.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"
#include "storage/access_filter.h"
#include "storage/connection.h"
#include "storage/transaction.h"

namespace carnet::storage {

// The idx_* tables (migrations 0001, 0002; idx_text: 0006).
enum class IndexTable { kString, kToken, kReference, kDate, kQuantity, kUri, kText };

// One comparison on a column of an index row (or, in a LastUpdated condition, of the
// resource row). Column names are those of the table.
struct ColumnTest {
  enum class Op {
    kEquals,      // column = value
    kAnyOf,       // column = ANY(values)
    kStartsWith,  // column starts with value (LIKE, value escaped)
    kContains,    // column contains value
    kIsNull,      // column IS NULL
    // (column, column2) is one of the pairs (values[i], values2[i]); written with
    // column2 = ANY(values2) first, so that the B-tree on that column can drive the lookup.
    kPairIn,
    // The row's range [column, column2] compared with the range [value, value2] by
    // `prefix` (eq ne gt lt ge le sa eb ap; ap widens by 10% of the distance from now).
    kDateRange,
    // The decimal in `column` compared with `value` by `prefix`; eq and ne compare with the
    // value's implicit precision (1.5 stands for [1.45, 1.55)), ap within 10%.
    kNumber,
    // The tsvector in `column` matches the web-search syntax query (words, "phrases", or,
    // -word) `value` in the French configuration or `value2` (the same query folded without
    // accents) in the English one, as idx_text is built (migration 0006).
    kTextMatch,
  };
  Op op = Op::kEquals;
  std::string column, column2;
  std::string value, value2;
  std::vector<std::string> values, values2;
  std::string prefix;
};

// Tests that must all hold of one row.
using RowMatch = std::vector<ColumnTest>;

// A condition on a resource row.
struct ResourceCondition {
  enum class Kind {
    kTrue,
    kFalse,
    kIdIn,         // res_id = ANY(values)
    kLastUpdated,  // any of `any` holds of the resource row (columns: last_updated)
    // A row of `table` for `param` exists for which any of `any` holds (`any` empty: none
    // does); with `presence_only`, any row of the parameter.
    kIndex,
    // A reference row `param` points to a current resource of `types` that the access
    // filter lets through and for which `inner` holds (a chained parameter).
    kChain,
    // A current resource of `types[0]` that the access filter lets through, for which
    // `inner` holds, refers to this one through its reference parameter `param` (_has).
    kHas,
    // Rows of every one of `components` (a table and parameter each) sharing one group number
    // (column grp, migration 0008), for which one of `alternatives` holds (`presence_only`:
    // any such group): a composite parameter, its components tied to one repeating element.
    kComposite,
    // Two idx_quantity rows of one group, `components` latitude and longitude in degrees, within
    // the great-circle distance of one of `near` (Location's near).
    kNear,
  };
  Kind kind = Kind::kTrue;
  bool negate = false;  // kIdIn, kIndex: NOT
  IndexTable table = IndexTable::kString;
  std::string param;
  bool presence_only = false;
  std::vector<RowMatch> any;
  std::vector<std::string> values;  // kIdIn: ids
  std::vector<std::string> types;   // kChain: target types; kHas: the referring type
  std::shared_ptr<const ResourceCondition> inner;
  // kComposite, kNear: the rows tied by their group, in order.
  struct Component {
    IndexTable table = IndexTable::kString;
    std::string param;
  };
  std::vector<Component> components;
  // kComposite: per alternative (a comma-separated value), per component, the row tests of
  // which one must hold of that component's row.
  std::vector<std::vector<std::vector<RowMatch>>> alternatives;
  // kNear: a point (decimal degrees) and a distance in kilometres, as decimal text.
  struct NearPoint {
    std::string latitude, longitude, distance_km;
  };
  std::vector<NearPoint> near;
};

// One sort key: by id, by lastUpdated, or by a parameter's smallest (ascending) or largest
// (descending) value in its index table.
struct IndexSortKey {
  enum class Kind { kId, kLastUpdated, kIndex };
  Kind kind = Kind::kId;
  IndexTable table = IndexTable::kString;
  std::string param;
  bool descending = false;
};

// A keyset position: the sort key values (text as PostgreSQL prints them, nullopt when the
// resource has no value) and the tie-break of the row.
struct KeysetPosition {
  std::vector<std::optional<std::string>> keys;
  std::string res_type, res_id;
  bool before = false;  // true: the page before this position (a `previous` link)
};

// The current resources of `types` meeting every condition, in `sort` order (missing values
// last, then type and id), paged by keyset.
struct IndexQuery {
  std::vector<std::string> types;
  std::string compartment_patient;  // the record of Patient/[id], and that Patient
  std::vector<ResourceCondition> conditions;
  const AccessFilter* access = nullptr;
  std::vector<IndexSortKey> sort;
  std::optional<KeysetPosition> position;
  bool with_total = false;
  bool with_rows = true;  // false: count only
  int limit = 20;         // rows to fetch
};

// Includes of one level: the resources referenced by (or, `reverse`, referring to) `from`
// through reference rows.
struct IncludeBranch {
  bool reverse = false;
  std::string source_type;  // the referring type; "*": any
  std::string param;        // its reference parameter; "*": any
  std::string target_type;  // empty: any
};
struct IncludeQuery {
  std::vector<IncludeBranch> branches;
  std::vector<std::pair<std::string, std::string>> from;  // (type, id)
  const AccessFilter* access = nullptr;
};

// A statement as rendered, for tests and EXPLAIN. Columns of an IndexQuery: res_type,
// res_id, content, k0..kn (text), total (when asked; NULL-filled row when the page is
// empty); of an IncludeQuery: res_type, res_id, content.
struct RenderedQuery {
  std::string sql;
  SqlParams params;
  int key_count = 0;
};
RenderedQuery RenderIndexQuery(const IndexQuery& q);
RenderedQuery RenderIncludeQuery(const IncludeQuery& q);

struct IndexRow {
  std::string res_type, res_id, content;
  std::vector<std::optional<std::string>> keys;  // the sort key values, as text
};
struct IndexPage {
  std::vector<IndexRow> rows;
  std::optional<long long> total;  // when asked
};

// Runs the statements in `tx`. A value PostgreSQL refuses (SQLSTATE class 22) fails with
// the statement's status; tx.connection().last_sqlstate() tells which.
Result<IndexPage> RunIndexQuery(Transaction& tx, const IndexQuery& q);
Result<std::vector<IndexRow>> RunIncludeQuery(Transaction& tx, const IncludeQuery& q);
// Ids of the current resources of `type` meeting every condition, by id, at most `limit`.
Result<std::vector<std::string>> FindMatchingIds(Transaction& tx, const std::string& type,
                                                 const std::vector<ResourceCondition>& conditions,
                                                 const AccessFilter& access, int limit);
// The same statement, rendered (tests).
RenderedQuery RenderMatchingIds(const std::string& type,
                                const std::vector<ResourceCondition>& conditions,
                                const AccessFilter& access, int limit);

}  // namespace carnet::storage
