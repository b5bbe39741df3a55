#include "ledger.hpp"

#include <algorithm>

#include "reelhub/core/error.hpp"
#include "repo.hpp"

namespace reelhub::payments::ledger {

std::int64_t account_id(pqxx::work& tx, const AccountRef& ref) {
  if (auto id = repo::find_account(tx, ref)) return *id;
  if (auto id = repo::insert_account(tx, ref)) return *id;
  // A concurrent transaction inserted it between the two statements; the insert waited for its
  // commit, so this statement's snapshot sees it.
  return repo::find_account(tx, ref).value();
}

void post(pqxx::work& tx, const std::string& transaction_id, const std::vector<Transfer>& transfers) {
  struct Posting {
    const Transfer* transfer;
    std::int64_t debit, credit;
  };
  std::vector<Posting> postings;
  std::vector<std::int64_t> touched;
  for (const Transfer& t : transfers) {
    if (t.amount == 0) continue;
    postings.push_back({&t, account_id(tx, t.debit), account_id(tx, t.credit)});
    touched.push_back(postings.back().debit);
    touched.push_back(postings.back().credit);
  }
  std::sort(touched.begin(), touched.end());
  touched.erase(std::unique(touched.begin(), touched.end()), touched.end());
  repo::lock_accounts(tx, touched);
  for (const Posting& p : postings) {
    if (!repo::post_transfer(tx, transaction_id, p.transfer->kind, p.debit, p.credit, p.transfer->amount)) {
      throw ApiError(ErrorCode::payment_required, "Insufficient funds").with_reason("insufficient_funds");
    }
  }
}

void count(metrics::Registry& metrics, const std::vector<Transfer>& transfers) {
  for (const Transfer& t : transfers) {
    if (t.amount == 0) continue;
    const metrics::Labels labels{{"kind", t.kind}, {"currency", t.debit.currency}};
    metrics.inc("reelhub_payments_transfers_total", labels);
    metrics.inc("reelhub_payments_transfer_amount_minor_total", labels, static_cast<double>(t.amount));
  }
}

}  // namespace reelhub::payments::ledger
