// msstore quickstart in C++: what a game server does, the way a game thread does it.
//
//   cargo run -p msstore-emulator -- --port 0 --seed demo   # prints a JSON seed line
//   MSSTORE_EMU_SEED='<that line>' ./quickstart
//
// 1. a client (QUEUED completion: callbacks run inside client.poll() on the game thread);
// 2. "what does this player own?" with a callback, delivered by polling once per frame;
// 3. consume one unit of a consumable the player used up, as a blocking call (a service thread);
// 4. release everything; the library reports no live objects.
// Builds with -fno-exceptions -fno-rtti. scripts/test-cpp.sh builds it with CMake
// (find_package(msstore)) and runs it against a fresh emulator.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include "msstore.hpp"

namespace {
// The string value of "name" in the emulator's flat seed line (no escapes in its values).
std::string seed_field(const std::string &json, const std::string &name) {
  const std::string pat = "\"" + name + "\":\"";
  const std::size_t at = json.find(pat);
  if (at == std::string::npos) return std::string();
  const std::size_t from = at + pat.size();
  const std::size_t to = json.find('"', from);
  return to == std::string::npos ? std::string() : json.substr(from, to - from);
}

void on_log(msstore::LogLevel level, std::string_view target, std::string_view message) {
  if (level <= msstore::LogLevel::Warn)
    std::fprintf(stderr, "[msstore %.*s] %.*s\n", static_cast<int>(target.size()), target.data(),
                 static_cast<int>(message.size()), message.data());
}
}  // namespace

int main() {
  const char *seed_env = std::getenv("MSSTORE_EMU_SEED");
  if (!seed_env) {
    std::fprintf(stderr, "set MSSTORE_EMU_SEED to the emulator's seed line\n");
    return 2;
  }
  const std::string seed = seed_env;
  const std::string key = seed_field(seed, "collections_key");  // from the game client
  const std::string durable = seed_field(seed, "durable_product_id");
  const std::string consumable = seed_field(seed, "consumable_product_id");
  int passed = 0, failed = 0;
  std::printf("msstore %.*s\n", static_cast<int>(msstore::version().size()), msstore::version().data());
  msstore::set_log_handler(on_log, msstore::LogLevel::Info);

  {
    // 1. a client
    msstore::ClientOptions options;
    options.tenant_id = seed_field(seed, "tenant_id");
    options.client_id = seed_field(seed, "client_id");
    options.client_secret = seed_field(seed, "client_secret");
    options.emulator_base_url = seed_field(seed, "base_url");
    msstore::Result<msstore::Client> created = msstore::Client::create(options);
    if (!created) {
      std::fprintf(stderr, "cannot create the client: %s\n", created.error().message.c_str());
      return 1;
    }
    msstore::Client client = std::move(created).value();

    // 2. what does this player own?
    msstore::QueryRequest query;
    query.collections_key = key;
    query.product_ids = {durable, consumable};
    bool done = false;
    int64_t balance = -1;
    client.query_entitlements(query, [&](msstore::Result<msstore::Entitlements> owned) {
      done = true;  // runs on this thread, inside poll(): no locking needed
      if (!owned) {
        std::fprintf(stderr, "query failed: %s (%s)\n", owned.error().name(), owned.error().message.c_str());
        return;
      }
      for (const msstore::Entitlement &e : owned->items()) {
        std::printf("  %s  %-12s  %-8s  quantity %lld\n", e.product_id.c_str(), e.product_kind_name.c_str(),
                    e.status_name.c_str(), static_cast<long long>(e.quantity));
        if (e.product_id == consumable) balance = e.quantity;
      }
      owned->items().size() == 2 ? passed++ : failed++;
    });

    // the game loop: poll once per frame
    int frames = 0;
    for (; !done && frames < 1000; ++frames) {
      client.poll();
      std::this_thread::sleep_for(std::chrono::milliseconds(16));
    }
    std::printf("completed after %d frames\n", frames);
    done ? passed++ : failed++;

    // 3. the player used one unit of the consumable: report it (blocking, e.g. a service thread)
    msstore::ConsumeRequest use;
    use.collections_key = key;
    use.product_id = consumable;
    use.quantity = 1;
    msstore::Result<msstore::ConsumeResult> consumed = client.consume(use, msstore::CallOptions::blocking()).take();
    if (consumed) {
      const msstore::ConsumeInfo info = consumed->info().value();
      std::printf("consumed 1 of %s: balance %lld -> %lld\n", info.product_id.c_str(),
                  static_cast<long long>(balance), static_cast<long long>(info.new_quantity));
      info.new_quantity == balance - 1 ? passed++ : failed++;
    } else if (consumed.code() == msstore::Code::ConsumeOutcomeUnknown) {
      std::fprintf(stderr, "unknown outcome: resend with tracking id %s\n", consumed.error().tracking_id.c_str());
      failed++;
    } else {
      std::fprintf(stderr, "consume failed: %s\n", consumed.error().message.c_str());
      failed++;
    }
  }  // 4. the client, its operations and results are released here

  msstore::set_log_handler(nullptr);
  msstore::live_objects() == 0 ? passed++ : failed++;
  std::printf("%d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
