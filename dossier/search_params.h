// The search-parameter registry (model/search_params.h) over the database: the custom
// parameters are read and written through the caller's transaction, in storage's
// search_param rows (storage/search_param_store.h).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "model/search_params.h"
#include "storage/transaction.h"

namespace carnet::dossier {

// The registry's CustomSearchParamStore on one transaction; lives no longer than `tx`.
class TransactionSearchParamStore final : public model::CustomSearchParamStore {
 public:
  explicit TransactionSearchParamStore(storage::Transaction& tx) : tx_(tx) {}

  Result<long long> Generation() override;
  Result<std::vector<model::CustomSearchParam>> LoadAll() override;
  Status Remove(const std::string& sp_id) override;
  Status Add(const model::CustomSearchParam& row) override;
  Status BumpGeneration() override;

 private:
  storage::Transaction& tx_;
};

// The parameters in force (official and custom), checked against the database through `tx`
// (SearchParamRegistry::Current).
Result<std::shared_ptr<const model::SearchParamSet>> CurrentSearchParams(storage::Transaction& tx);

}  // namespace carnet::dossier
