// auth_bench: what one authentication costs the node, db_bench style, with
// a real SQLite store in a temporary directory (the key's row and its user
// are read each time, as in `kizuna serve`).
//
// Cases, in order (microseconds per call, the median of --repeat runs of
// --rounds calls; the Argon2id cases run --rounds / 50 calls):
//   wrong-secret-argon2  a key stored the old way (Argon2id) presented with a
//                        wrong secret: the cost before this change, paid by
//                        the node for every guess.
//   wrong-secret-hmac    the same key after its upgrade (HMAC-SHA-256):
//                        the cost of a guess now.
//   unknown-key-id       a key id no one was issued (the same HMAC work).
//   right-key-hmac       the right key (HMAC).
//   address-limited      a wrong secret from an address over its failure
//                        limit: 429 (after the HMAC check: a right key from
//                        that address is still accepted).
//   16-threads-argon2 / 16-threads-hmac   16 threads of wrong secrets at
//                        once: total calls per second (what such a flood
//                        takes from the node's cores).
// Outcomes are checked (a wrong answer exits 1), times are not.
//
//   auth_bench [--rounds 20000] [--repeat 5]
#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "auth/auth.h"
#include "common/encoding.h"
#include "store/sqlite/sqlite_store.h"

namespace {

namespace auth = kizuna::auth;
using Clock = std::chrono::steady_clock;

void Die(const std::string& message) {
  std::fprintf(stderr, "auth_bench: %s\n", message.c_str());
  std::exit(1);
}

// Median over `repeat` runs of microseconds per call of `call`, run `rounds` times.
double MedianMicros(int repeat, int rounds, const std::function<void()>& call) {
  std::vector<double> us;
  for (int r = 0; r < repeat; ++r) {
    const auto start = Clock::now();
    for (int i = 0; i < rounds; ++i) call();
    us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - start).count() / rounds);
  }
  std::sort(us.begin(), us.end());
  return us[us.size() / 2];
}

// Calls per second of `call` from `threads` threads for about a second.
double Throughput(int threads, const std::function<void()>& call) {
  std::atomic<bool> stop{false};
  std::atomic<int64_t> calls{0};
  std::vector<std::thread> workers;
  const auto start = Clock::now();
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&] {
      while (!stop.load()) {
        call();
        ++calls;
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::seconds(1));
  stop = true;
  for (auto& worker : workers) worker.join();
  return calls.load() / std::chrono::duration<double>(Clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
  int rounds = 20000, repeat = 5;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--rounds") == 0) rounds = std::max(50, std::atoi(argv[i + 1]));
    if (std::strcmp(argv[i], "--repeat") == 0) repeat = std::max(1, std::atoi(argv[i + 1]));
  }
  char tmpl[] = "/tmp/kizuna-auth-bench-XXXXXX";
  const std::string dir = mkdtemp(tmpl);
  int status = 0;
  {
    auto opened = kizuna::store::OpenSqliteStore(dir + "/kizuna.db");
    if (!opened.ok()) Die(opened.status().ToString());
    std::unique_ptr<kizuna::store::Store> store = std::move(opened).value();
    auto org = store->EnsureOrganization("CERT-Bench");
    auto user = store->CreateUser("bench", org->id, kizuna::store::Role::kMember);
    if (!user.ok()) Die(user.status().ToString());

    // A legacy key, as issued before: Argon2id.
    const std::string key_id = "00000000000000b1";
    const std::string secret = kizuna::Base64UrlEncode(kizuna::RandomBytes(32));
    kizuna::store::ApiKey legacy;
    legacy.key_id = key_id;
    legacy.user_id = user->id;
    legacy.secret_hash = *auth::HashSecret(secret);
    if (!store->AddApiKey(legacy).ok()) Die("could not add the legacy key");
    const std::string right = "Bearer kz_" + key_id + "_" + secret;
    const std::string wrong = "Bearer kz_" + key_id + "_" + std::string(43, 'W');
    const std::string unknown = "Bearer kz_00000000000000ff_" + std::string(43, 'W');

    auth::FailureLimits unlimited;
    unlimited.per_address = unlimited.per_key_id = 1 << 30;
    auth::Authenticator authenticator(*store, unlimited);
    const auto expect_failure = [&](const std::string& header) {
      if (authenticator.Authenticate(header).ok()) Die("a wrong key authenticated");
    };

    std::printf("%-22s %14s\n", "case", "us/call");
    const int slow_rounds = std::max(1, rounds / 50);
    const double argon2 = MedianMicros(repeat, slow_rounds, [&] { expect_failure(wrong); });
    std::printf("%-22s %14.1f\n", "wrong-secret-argon2", argon2);
    const double argon2_flood = Throughput(16, [&] { expect_failure(wrong); });

    if (!authenticator.Authenticate(right).ok()) Die("the right legacy key failed");
    if (authenticator.stats().upgrades != 1) Die("the legacy key was not upgraded");
    const double hmac = MedianMicros(repeat, rounds, [&] { expect_failure(wrong); });
    std::printf("%-22s %14.1f\n", "wrong-secret-hmac", hmac);
    std::printf("%-22s %14.1f\n", "unknown-key-id",
                MedianMicros(repeat, rounds, [&] { expect_failure(unknown); }));
    std::printf("%-22s %14.1f\n", "right-key-hmac", MedianMicros(repeat, rounds, [&] {
                  if (!authenticator.Authenticate(right).ok()) Die("the right key failed");
                }));

    auth::FailureLimits tight;
    tight.per_address = 1;
    auth::Authenticator limited(*store, tight);
    (void)limited.AuthenticateRequest(wrong, "192.0.2.1");
    if (!limited.AuthenticateRequest(right, "192.0.2.1").user.ok()) {
      Die("the right key was refused from a limited address");
    }
    std::printf("%-22s %14.1f\n", "address-limited", MedianMicros(repeat, rounds, [&] {
                  if (!limited.AuthenticateRequest(wrong, "192.0.2.1").limited) Die("not limited");
                }));

    const double hmac_flood = Throughput(16, [&] { expect_failure(wrong); });
    std::printf("\n%-22s %14s\n", "case", "calls/s");
    std::printf("%-22s %14.0f\n", "16-threads-argon2", argon2_flood);
    std::printf("%-22s %14.0f\n", "16-threads-hmac", hmac_flood);
    std::printf("\nwrong secret: HMAC is %.0fx cheaper than Argon2id (%.1f us vs %.1f us)\n",
                argon2 / hmac, hmac, argon2);
    if (authenticator.stats().argon2_verifications < 1) status = 1;
  }
  std::filesystem::remove_all(dir);
  return status;
}
