#include "bus/bus.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "spdlog/spdlog.h"

namespace kizuna::bus {
namespace {

// Fills `address` for a unix socket path; false when the path is too long.
bool UnixAddress(const std::string& path, sockaddr_un* address) {
  std::memset(address, 0, sizeof *address);
  address->sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof address->sun_path) return false;
  std::memcpy(address->sun_path, path.data(), path.size());
  return true;
}

size_t SizeOf(const store::Change& change) {
  return sizeof(store::Change) + change.object.json.size() + change.object.id.size() +
         change.object.origin.size() + change.collection_id.size();
}

}  // namespace

std::string WakeSocketPath(const std::string& dir) { return dir + "/bus.sock"; }

void NotifyNode(const std::string& dir) {
  sockaddr_un address;
  if (!UnixAddress(WakeSocketPath(dir), &address)) return;
  int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return;
  const char byte = 1;
  // No node listening (ENOENT, ECONNREFUSED) or its queue full (EAGAIN): the
  // node's periodic store read finds the change anyway.
  (void)::sendto(fd, &byte, 1, 0, reinterpret_cast<const sockaddr*>(&address), sizeof address);
  ::close(fd);
}

// ---------------------------------------------------------------------------

Subscription::Subscription(ChangeBus& bus, SubscriptionOptions options)
    : bus_(bus), options_(std::move(options)), cursor_(options_.after_seq) {}

Subscription::~Subscription() { bus_.Unsubscribe(this); }

Result<std::vector<store::Change>> Subscription::Next(std::chrono::milliseconds timeout) {
  return bus_.Read(*this, timeout);
}

// ---------------------------------------------------------------------------

ChangeBus::ChangeBus(store::Store& store, BusOptions options)
    : store_(store), options_(std::move(options)) {}

ChangeBus::~ChangeBus() { Stop(); }

Status ChangeBus::Start() {
  KIZUNA_ASSIGN_OR_RETURN(int64_t last, store_.LastChangeSeq());
  {
    std::lock_guard lock(mutex_);
    head_ = window_base_ = last;
    stopping_ = false;
  }
  event_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (event_fd_ < 0) return IoError(std::string("eventfd: ") + std::strerror(errno));
  if (!options_.wake_socket.empty()) {
    sockaddr_un address;
    if (!UnixAddress(options_.wake_socket, &address)) {
      spdlog::warn(
          "bus: {} is too long for a socket path; other processes' writes are seen "
          "within {} ms",
          options_.wake_socket, options_.store_poll.count());
    } else {
      socket_fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      ::unlink(options_.wake_socket.c_str());  // left by a node that was killed
      if (socket_fd_ < 0 ||
          ::bind(socket_fd_, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
        spdlog::warn("bus: cannot listen on {}: {}", options_.wake_socket, std::strerror(errno));
        if (socket_fd_ >= 0) ::close(socket_fd_);
        socket_fd_ = -1;
      }
    }
  }
  follower_ = std::thread([this] { Follow(); });
  return Status::Ok();
}

void ChangeBus::Stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ && !follower_.joinable()) return;
    stopping_ = true;
  }
  published_.notify_all();
  Notify();
  if (follower_.joinable()) follower_.join();
  if (event_fd_ >= 0) ::close(event_fd_);
  event_fd_ = -1;
  if (socket_fd_ >= 0) {
    ::close(socket_fd_);
    ::unlink(options_.wake_socket.c_str());
  }
  socket_fd_ = -1;
}

void ChangeBus::Notify() {
  if (event_fd_ < 0) return;
  const uint64_t one = 1;
  (void)!::write(event_fd_, &one, sizeof one);
}

bool ChangeBus::stopping() const {
  std::lock_guard lock(mutex_);
  return stopping_;
}

int64_t ChangeBus::head() const {
  std::lock_guard lock(mutex_);
  return head_;
}

std::unique_ptr<Subscription> ChangeBus::Subscribe(SubscriptionOptions options) {
  std::unique_ptr<Subscription> subscription(new Subscription(*this, std::move(options)));
  std::lock_guard lock(mutex_);
  subscriptions_.insert(subscription.get());
  return subscription;
}

void ChangeBus::Unsubscribe(Subscription* subscription) {
  std::lock_guard lock(mutex_);
  subscriptions_.erase(subscription);
}

bool ChangeBus::WaitForWake(std::chrono::milliseconds timeout) {
  pollfd fds[2] = {{event_fd_, POLLIN, 0}, {socket_fd_, POLLIN, 0}};
  const int count = socket_fd_ >= 0 ? 2 : 1;
  int ready = ::poll(fds, count, static_cast<int>(timeout.count()));
  if (ready <= 0) return false;
  if (fds[0].revents & POLLIN) {
    uint64_t value;
    (void)!::read(event_fd_, &value, sizeof value);
  }
  if (count == 2 && (fds[1].revents & POLLIN)) {
    char buffer[64];
    while (::recv(socket_fd_, buffer, sizeof buffer, 0) > 0) {
    }
  }
  return true;
}

void ChangeBus::Follow() {
  while (true) {
    {
      std::lock_guard lock(mutex_);
      if (stopping_) return;
    }
    if (!CatchUp()) {
      // The store failed (busy, disk): try again at the next poll.
    }
    WaitForWake(options_.store_poll);
  }
}

bool ChangeBus::CatchUp() {
  while (true) {
    store::ChangeQuery query;
    {
      std::lock_guard lock(mutex_);
      if (stopping_) return true;
      query.after_seq = head_;
    }
    query.limit = options_.read_batch;
    query.include_origin = true;
    auto changes = store_.ListChanges(query);
    store_reads_.fetch_add(1);
    if (!changes.ok()) {
      spdlog::warn("bus: reading the change feed failed: {}", changes.status().ToString());
      return false;
    }
    const bool full = changes->size() == options_.read_batch;
    if (!changes->empty()) Publish(std::move(changes).value());
    if (!full) return true;
  }
}

void ChangeBus::Publish(std::vector<store::Change> changes) {
  std::lock_guard lock(mutex_);
  for (store::Change& change : changes) {
    if (change.seq <= head_) continue;
    head_ = change.seq;
    Windowed& entry = window_.emplace_back();
    entry.bytes = SizeOf(change);
    entry.change = std::move(change);
    window_bytes_ += entry.bytes;
  }
  while (!window_.empty() &&
         (window_.size() > options_.window_changes || window_bytes_ > options_.window_bytes)) {
    window_base_ = window_.front().change.seq;
    window_bytes_ -= window_.front().bytes;
    window_.pop_front();
  }
  published_.notify_all();
  for (Subscription* subscription : subscriptions_) {
    if (subscription->options_.on_ready && subscription->cursor() < head_) {
      subscription->options_.on_ready();
    }
  }
}

Result<std::vector<store::Change>> ChangeBus::Read(Subscription& subscription,
                                                   std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  const size_t limit = std::max<size_t>(1, subscription.options_.batch_limit);
  std::unique_lock lock(mutex_);
  while (true) {
    const int64_t cursor = subscription.cursor();
    if (stopping_) return std::vector<store::Change>();
    if (cursor >= head_) {
      if (published_.wait_until(lock, deadline) == std::cv_status::timeout &&
          subscription.cursor() >= head_) {
        return std::vector<store::Change>();
      }
      continue;
    }
    if (cursor >= window_base_) {
      // In the window: served from memory.
      auto first = std::upper_bound(
          window_.begin(), window_.end(), cursor,
          [](int64_t seq, const Windowed& entry) { return seq < entry.change.seq; });
      std::vector<store::Change> out;
      for (auto it = first; it != window_.end() && out.size() < limit; ++it) {
        out.push_back(it->change);
      }
      if (!out.empty()) subscription.cursor_.store(out.back().seq);
      return out;
    }
    // Behind the window: from the store, at its own cursor, without holding
    // up the others.
    lock.unlock();
    store::ChangeQuery query;
    query.after_seq = cursor;
    query.limit = limit;
    query.include_origin = true;
    auto changes = store_.ListChanges(query);
    subscription.store_reads_.fetch_add(1);
    if (!changes.ok()) return changes.status();
    if (!changes->empty()) {
      subscription.cursor_.store(changes->back().seq);
      return std::move(changes).value();
    }
    // The store lists nothing after the cursor up to the window (what was
    // there has been deleted since): continue from the window.
    lock.lock();
    if (subscription.cursor() == cursor) subscription.cursor_.store(window_base_);
  }
}

}  // namespace kizuna::bus
