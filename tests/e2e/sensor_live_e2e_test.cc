// `kizuna sensor run` capturing live (libpcap) on the loopback interface: SYNs
// sent to a darknet prefix inside 127/8 reach the node as intervals, and a
// SIGTERM sends what is still open before the sensor exits. Capturing needs
// CAP_NET_RAW: without it the test is skipped, saying so.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <set>

#include "tests/e2e/harness.h"
#include "tests/support/child_process.h"
#include "tests/support/eventually.h"

namespace kizuna::e2e {
namespace {

namespace json = boost::json;
using test_support::Eventually;

// A `kizuna …` child left running, its stderr in a file.
class Background {
 public:
  Background(const std::vector<std::string>& args, const std::string& err_path) {
    std::vector<std::string> argv = {KizunaBinary()};
    argv.insert(argv.end(), args.begin(), args.end());
    test_support::ChildStdio stdio;
    stdio.err = err_path;
    std::string why;
    pid_ = test_support::SpawnBoundChild(argv, stdio, &why);
    if (pid_ < 0) ADD_FAILURE() << why;
  }
  ~Background() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  // SIGTERM, then the exit code (-1 if it does not end within 20 s).
  int Terminate() {
    kill(pid_, SIGTERM);
    int status = 0;
    const bool ended = Eventually([&] { return waitpid(pid_, &status, WNOHANG) == pid_; });
    if (!ended) return -1;
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

 private:
  pid_t pid_ = -1;
};

// A TCP SYN to 127.77.0.9:port (the kernel answers RST; the SYN is seen on lo).
void Knock(uint16_t port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(port);
  inet_pton(AF_INET, "127.77.0.9", &to.sin_addr);
  connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to);
  close(fd);
}

TEST(SensorLive, SynsOnLoopbackReachTheNodeAndAStopSendsWhatIsOpen) {
  NodeProcess node;
  ASSERT_TRUE(node.Start());
  CommandResult added = RunKizuna({"telescope", "sensor", "add", node.dir(), "lo-1", "--json"});
  ASSERT_EQ(added.exit_code, 0) << added.err;
  const std::string token(json::parse(added.out).at("token").as_string());
  TempDir dir;
  WriteFile(dir.path() + "/sensor.toml", "node = \"" + node.base_url() + "\"\ntoken = \"" + token +
                                             "\"\ninterface = \"lo\"\ndarknet = "
                                             "[\"127.77.0.0/16\"]\n");
  const std::string log = dir.path() + "/sensor.log";
  Background sensor({"sensor", "run", dir.path() + "/sensor.toml"}, log);
  bool capturing = Eventually([&] {
    const std::string text = ReadFile(log);
    return text.find("capturing on lo") != std::string::npos ||
           text.find("kizuna:") != std::string::npos;
  });
  ASSERT_TRUE(capturing) << ReadFile(log);
  if (ReadFile(log).find("capturing on lo") == std::string::npos) {
    GTEST_SKIP() << "cannot capture on lo here (needs CAP_NET_RAW): " << ReadFile(log);
  }
  std::set<int> ports;
  for (uint16_t port = 20001; port <= 20040; ++port) {
    Knock(port);
    ports.insert(port);
  }
  // No waiting: a stop still reads what the kernel captured before it, and
  // sends every interval still open.
  ASSERT_EQ(sensor.Terminate(), 0) << ReadFile(log);

  CommandResult top = RunKizuna({"telescope", "top", node.dir(), "--json", "--top", "1000"});
  ASSERT_EQ(top.exit_code, 0) << top.err;
  const json::object result = json::parse(top.out).as_object();
  std::set<int> seen;
  for (const json::value& p : result.at("ports").as_array()) {
    if (p.at("proto") == "tcp") seen.insert(p.at("port").to_number<int>());
  }
  for (int port : ports) EXPECT_TRUE(seen.count(port)) << port << " " << top.out;
  EXPECT_GE(result.at("packets").to_number<uint64_t>(), ports.size());
  EXPECT_EQ(seen.size(), ports.size()) << "only the darknet's traffic counts";
}

}  // namespace
}  // namespace kizuna::e2e
