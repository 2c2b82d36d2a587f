#include "dossier/search_params.h"

#include "storage/search_param_store.h"

namespace carnet::dossier {

Result<long long> TransactionSearchParamStore::Generation() {
  return storage::SearchParamGeneration(tx_);
}

Result<std::vector<model::CustomSearchParam>> TransactionSearchParamStore::LoadAll() {
  auto rows = storage::LoadSearchParams(tx_);
  if (!rows.ok()) return rows.status();
  std::vector<model::CustomSearchParam> out;
  out.reserve(rows->size());
  for (storage::SearchParamRow& r : *rows)
    out.push_back({std::move(r.sp_id), std::move(r.base_type), std::move(r.code),
                   std::move(r.param_type), std::move(r.expression), std::move(r.targets),
                   std::move(r.url), std::move(r.components)});
  return out;
}

Status TransactionSearchParamStore::Remove(const std::string& sp_id) {
  return storage::DeleteSearchParams(tx_, sp_id);
}

Status TransactionSearchParamStore::Add(const model::CustomSearchParam& row) {
  return storage::InsertSearchParam(tx_, {row.sp_id, row.base_type, row.code, row.param_type,
                                          row.expression, row.targets, row.url, row.components});
}

Status TransactionSearchParamStore::BumpGeneration() {
  return storage::BumpSearchParamGeneration(tx_);
}

Result<std::shared_ptr<const model::SearchParamSet>> CurrentSearchParams(storage::Transaction& tx) {
  TransactionSearchParamStore store(tx);
  return model::SearchParamRegistry::Instance().Current(store);
}

}  // namespace carnet::dossier
