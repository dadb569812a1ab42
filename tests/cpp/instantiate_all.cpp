// Instantiates every template of msstore.hpp so that the whole header is compiled under the
// Unreal-style flags (-fno-exceptions -fno-rtti -Wall -Wextra -Werror -pedantic) even where the
// tests do not reach. Linked and run by scripts/test-cpp.sh: with no emulator it only checks
// that the library answers (version, decode error, a refused start) and that nothing leaks.
#include "msstore.hpp"

#include <cstdio>

template class msstore::Result<msstore::Token>;
template class msstore::Result<msstore::Key>;
template class msstore::Result<msstore::KeyInfo>;
template class msstore::Result<msstore::Entitlements>;
template class msstore::Result<msstore::Entitlement>;
template class msstore::Result<msstore::ConsumeResult>;
template class msstore::Result<msstore::ConsumeInfo>;
template class msstore::Result<msstore::Order>;
template class msstore::Result<msstore::OrderInfo>;
template class msstore::Result<msstore::Subscriptions>;
template class msstore::Result<msstore::Subscription>;
template class msstore::Result<msstore::Client>;
template class msstore::Operation<msstore::Token>;
template class msstore::Operation<msstore::Key>;
template class msstore::Operation<msstore::Entitlements>;
template class msstore::Operation<msstore::ConsumeResult>;
template class msstore::Operation<msstore::Order>;
template class msstore::Operation<msstore::Subscriptions>;
template class msstore::Result<msstore::ClawbackOrders>;
template class msstore::Result<msstore::ClawbackOrderLine>;
template class msstore::Result<msstore::ClawbackMessages>;
template class msstore::Result<msstore::ClawbackMessage>;
template class msstore::Result<msstore::ClawbackMatch>;
template class msstore::Result<msstore::ClawbackApplied>;
template class msstore::Result<msstore::Ledger>;
template class msstore::Result<msstore::LedgerItems>;
template class msstore::Result<msstore::LedgerEntry>;
template class msstore::Result<msstore::Revocation>;
template class msstore::Result<msstore::ClawbackIngestSummary>;
template class msstore::Operation<msstore::ClawbackOrders>;
template class msstore::Operation<msstore::ClawbackMessages>;
template class msstore::Operation<msstore::LedgerItems>;
template class msstore::Operation<void>;
template class msstore::Result<msstore::Credential>;
template class msstore::Result<msstore::DoctorReport>;
template class msstore::Result<msstore::DoctorCheck>;
template class msstore::detail::Owner<msstore_error, msstore_error_free>;
template class msstore::detail::Owner<msstore_credential, msstore_credential_free>;
template class msstore::detail::Owner<msstore_doctor_report, msstore_doctor_report_free>;
template class msstore::detail::Owner<msstore_ledger, msstore_ledger_free>;
template class msstore::detail::Owner<msstore_ledger_items, msstore_ledger_items_free>;

int main() {
  int failed = 0;
  if (msstore::version() != MSSTORE_VERSION_STRING) failed++;
  if (msstore::Key::decode("nope").code() != msstore::Code::InvalidKey) failed++;
  msstore::ClientOptions o;
  o.tenant_id = "t";
  o.client_id = "c";
  o.client_secret = "s";
  o.emulator_base_url = "http://127.0.0.1:9";
  msstore::Result<msstore::Client> c = msstore::Client::create(o);
  if (!c.ok()) failed++;
  msstore::QueryRequest q;
  q.api_version = 7;
  if (c->query_entitlements(q, [](msstore::Result<msstore::Entitlements>) {}).status() != msstore::Code::InvalidArgument) failed++;
  msstore::ConsumeV6Request v6 = msstore::ConsumeV6Request::by_transaction("k", "p", "t");
  v6.tracking_id = "a tracking id belongs to form A";
  if (c->consume_v6(v6, [](msstore::Result<msstore::ConsumeResult>) {}).status() != msstore::Code::InvalidArgument) failed++;
  if (c->peek_clawback(0, [](msstore::Result<msstore::ClawbackMessages>) {}).status() != msstore::Code::InvalidArgument) failed++;
  if (c->delete_clawback("m", "\xff", [](msstore::Result<void>) {}).status() != msstore::Code::InvalidUtf8) failed++;
  msstore::LedgerOptions lo;
  lo.sqlite_path = "/";  // a directory: the ledger cannot open it
  msstore::Result<msstore::Ledger> l = msstore::Ledger::open(lo);
  if (l.code() != msstore::Code::Storage) failed++;
  msstore::LedgerConsumeRequest lr;
  if (l->consume(c.value(), lr, [](msstore::Result<msstore::LedgerItems>) {}).status() != msstore::Code::NullPointer) failed++;
  // A provider credential: refused inputs, and one that lives and is released with the client.
  if (msstore::Credential::provider(msstore::TokenProvider()).code() != msstore::Code::InvalidArgument) failed++;
  msstore::Result<msstore::Credential> p = msstore::Credential::provider(
      [](msstore::Audience) { return msstore::ProviderResult::failure("offline"); });
  if (!p.ok()) failed++;
  o.client_secret.clear();
  o.credential = &p.value();
  msstore::Result<msstore::Client> pc = msstore::Client::create(o);
  if (!pc.ok() || pc->credential_expires_at().has_value()) failed++;
  if (pc->get_token(msstore::Audience::Service, msstore::CallOptions::blocking()).take().code() != msstore::Code::EntraAuth) failed++;
  pc->reset();
  p->reset();
  c->reset();
  if (msstore::live_objects() != 0) failed++;
  std::printf("%s\n", failed == 0 ? "instantiate_all: ok" : "instantiate_all: FAILED");
  return failed;
}
