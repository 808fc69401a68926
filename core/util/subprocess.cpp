// Spawning a child with a framed-JSON socket on its stdin/stdout and its stderr captured; deadlines
// with poll(2); SIGTERM-then-SIGKILL termination. Between fork and exec the child only makes
// async-signal-safe calls (the parent may have many threads).
#include "core/util/subprocess.h"

#include "core/util/executable_path.h"
#include "core/util/resident_memory.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <thread>

extern char** environ;

namespace cmeter::subprocess {
namespace {

constexpr char kMagic[4] = {'C', 'M', 'T', 'R'};
constexpr size_t kHeaderBytes = 12;

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Milliseconds left until `deadline_s` for poll(); -1 for no deadline.
int poll_timeout_ms(double deadline_s) {
  if (deadline_s < 0) return -1;
  double left = deadline_s - now_s();
  if (left <= 0) return 0;
  double ms = left * 1000.0 + 1.0;
  return ms > 2e9 ? 2000000000 : static_cast<int>(ms);
}

void put_u32(char* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<char>((v >> (8 * i)) & 0xff);
}
uint32_t get_u32(const char* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= static_cast<uint32_t>(static_cast<unsigned char>(p[i])) << (8 * i);
  return v;
}

// Bytes as text with anything unprintable as \xNN, for error messages.
std::string printable(const std::string& bytes) {
  std::string out;
  for (unsigned char c : bytes)
    out += (c >= 0x20 && c < 0x7f) ? std::string(1, static_cast<char>(c)) : fmt::format("\\x{:02x}", c);
  return out;
}

void close_fd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

}  // namespace

std::string signal_name(int sig) {
  switch (sig) {
    case SIGHUP:
      return "SIGHUP";
    case SIGINT:
      return "SIGINT";
    case SIGQUIT:
      return "SIGQUIT";
    case SIGILL:
      return "SIGILL";
    case SIGTRAP:
      return "SIGTRAP";
    case SIGABRT:
      return "SIGABRT";
    case SIGBUS:
      return "SIGBUS";
    case SIGFPE:
      return "SIGFPE";
    case SIGKILL:
      return "SIGKILL";
    case SIGSEGV:
      return "SIGSEGV";
    case SIGPIPE:
      return "SIGPIPE";
    case SIGALRM:
      return "SIGALRM";
    case SIGTERM:
      return "SIGTERM";
    case SIGXCPU:
      return "SIGXCPU";
    case SIGSYS:
      return "SIGSYS";
    default:
      return fmt::format("signal {}", sig);
  }
}

std::string ExitStatus::describe() const {
  if (exited) return fmt::format("exit code {}", exit_code);
  if (signal == 0) return "ended (status unknown)";
  std::string s = fmt::format("signal {} ({})", signal, signal_name(signal));
  if (core_dumped) s += ", core dumped";
  if (killed_by_us) s += ", sent by cmeter";
  return s;
}

ExitStatus exit_status_from_wait(int wait_status) {
  ExitStatus st;
  if (WIFEXITED(wait_status)) {
    st.exited = true;
    st.exit_code = WEXITSTATUS(wait_status);
  } else if (WIFSIGNALED(wait_status)) {
    st.signal = WTERMSIG(wait_status);
#ifdef WCOREDUMP
    st.core_dumped = WCOREDUMP(wait_status);
#endif
  }
  return st;
}

// ---- Channel ----

Channel::Channel(int read_fd, int write_fd) : read_fd_(read_fd), write_fd_(write_fd) {}

Channel::Channel(Channel&& o) noexcept
    : read_fd_(std::exchange(o.read_fd_, -1)),
      write_fd_(std::exchange(o.write_fd_, -1)),
      inbuf_(std::move(o.inbuf_)),
      eof_(o.eof_) {}

Channel& Channel::operator=(Channel&& o) noexcept {
  if (this != &o) {
    close();
    read_fd_ = std::exchange(o.read_fd_, -1);
    write_fd_ = std::exchange(o.write_fd_, -1);
    inbuf_ = std::move(o.inbuf_);
    eof_ = o.eof_;
  }
  return *this;
}

Channel::~Channel() {
  close();
}

void Channel::close() {
  if (write_fd_ == read_fd_) write_fd_ = -1;
  close_fd(read_fd_);
  close_fd(write_fd_);
}

Result<Channel> Channel::from_stdio() {
  int in = ::fcntl(0, F_DUPFD_CLOEXEC, 3);
  if (in < 0)
    return make_error(ErrorCode::kIo, "worker channel: dup(stdin) failed: {}", std::strerror(errno));
  int out = ::fcntl(1, F_DUPFD_CLOEXEC, 3);
  if (out < 0) {
    ::close(in);
    return make_error(ErrorCode::kIo, "worker channel: dup(stdout) failed: {}", std::strerror(errno));
  }
  int devnull = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (devnull >= 0) {
    ::dup2(devnull, 0);
    ::close(devnull);
  }
  ::dup2(2, 1);
  return Channel(in, out);
}

Status Channel::send(const nlohmann::json& message) {
  if (write_fd_ < 0) return make_error(ErrorCode::kIo, "channel is closed");
  std::string payload = message.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (payload.size() > kMaxMessageBytes)
    return make_error(ErrorCode::kInvalidArgument, "message of {} bytes exceeds the {} byte limit",
                      payload.size(), kMaxMessageBytes);
  std::string frame(kHeaderBytes, '\0');
  std::memcpy(frame.data(), kMagic, 4);
  put_u32(frame.data() + 4, kProtocolVersion);
  put_u32(frame.data() + 8, static_cast<uint32_t>(payload.size()));
  frame += payload;
  size_t done = 0;
  bool is_socket = true;
  while (done < frame.size()) {
    ssize_t n = is_socket ? ::send(write_fd_, frame.data() + done, frame.size() - done, MSG_NOSIGNAL)
                          : ::write(write_fd_, frame.data() + done, frame.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == ENOTSOCK && is_socket) {
        is_socket = false;  // a pipe: plain write (the caller owns SIGPIPE handling)
        continue;
      }
      return make_error(ErrorCode::kIo, "channel write failed: {}", std::strerror(errno));
    }
    done += static_cast<size_t>(n);
  }
  return {};
}

std::optional<Result<Received>> Channel::take_frame() {
  if (inbuf_.size() < kHeaderBytes) return std::nullopt;
  if (std::memcmp(inbuf_.data(), kMagic, 4) != 0)
    return Result<Received>(make_error(ErrorCode::kInvalidArgument,
                                       "protocol error: frame does not start with CMTR (stray output on "
                                       "the channel?), first bytes: {}",
                                       printable(inbuf_.substr(0, 12))));
  uint32_t version = get_u32(inbuf_.data() + 4);
  if (version != kProtocolVersion)
    return Result<Received>(make_error(ErrorCode::kInvalidArgument,
                                       "protocol error: peer speaks frame protocol version {}, this side {}",
                                       version, kProtocolVersion));
  uint32_t length = get_u32(inbuf_.data() + 8);
  if (length > kMaxMessageBytes)
    return Result<Received>(make_error(ErrorCode::kInvalidArgument,
                                       "protocol error: frame of {} bytes exceeds the {} byte limit", length,
                                       kMaxMessageBytes));
  if (inbuf_.size() < kHeaderBytes + length) return std::nullopt;
  Received r;
  r.outcome = ReceiveOutcome::kMessage;
  r.message = nlohmann::json::parse(inbuf_.begin() + kHeaderBytes, inbuf_.begin() + kHeaderBytes + length,
                                    nullptr, false);
  inbuf_.erase(0, kHeaderBytes + length);
  if (r.message.is_discarded())
    return Result<Received>(make_error(ErrorCode::kInvalidArgument, "protocol error: payload is not JSON"));
  return Result<Received>(std::move(r));
}

Result<Received> Channel::receive(double timeout_s) {
  return receive_draining(timeout_s, -1, {});
}

Result<Received> Channel::receive_draining(double timeout_s, int side_fd,
                                           const std::function<void()>& on_side) {
  const double deadline = timeout_s < 0 ? -1.0 : now_s() + timeout_s;
  for (;;) {
    if (auto frame = take_frame()) return std::move(*frame);
    if (eof_ || read_fd_ < 0) {
      if (!inbuf_.empty() && eof_) {
        size_t partial = inbuf_.size();
        inbuf_.clear();
        return make_error(ErrorCode::kIo, "peer closed the channel in the middle of a message ({} bytes)",
                          partial);
      }
      return Received{ReceiveOutcome::kClosed, nullptr};
    }
    pollfd fds[2] = {{read_fd_, POLLIN, 0}, {side_fd, POLLIN, 0}};
    nfds_t nfds = side_fd >= 0 ? 2 : 1;
    int rc = ::poll(fds, nfds, poll_timeout_ms(deadline));
    if (rc < 0) {
      if (errno == EINTR) continue;
      return make_error(ErrorCode::kIo, "poll failed: {}", std::strerror(errno));
    }
    if (nfds == 2 && (fds[1].revents & (POLLIN | POLLHUP | POLLERR)) && on_side) on_side();
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      char buf[65536];
      ssize_t n = ::read(read_fd_, buf, sizeof buf);
      if (n < 0) {
        if (errno == EINTR || errno == EAGAIN) continue;
        if (errno == ECONNRESET) {
          eof_ = true;
          continue;
        }
        return make_error(ErrorCode::kIo, "channel read failed: {}", std::strerror(errno));
      }
      if (n == 0)
        eof_ = true;
      else
        inbuf_.append(buf, static_cast<size_t>(n));
      continue;
    }
    if (rc == 0 || (deadline >= 0 && now_s() >= deadline)) {
      if (auto frame = take_frame()) return std::move(*frame);
      return Received{ReceiveOutcome::kTimeout, nullptr};
    }
  }
}

// ---- Child ----

Result<std::unique_ptr<Child>> Child::spawn(const SpawnOptions& options) {
  const std::string exe = options.executable.empty() ? self_executable_path() : options.executable;
  // Everything the child needs is built before fork (no allocation after it).
  std::vector<std::string> argv_s;
  argv_s.push_back(exe);
  for (const auto& a : options.args) argv_s.push_back(a);
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);

  std::vector<std::string> env_s;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string entry = *e;
    std::string key = entry.substr(0, entry.find('='));
    bool replaced = false;
    for (const auto& o : options.env)
      if (o.substr(0, o.find('=')) == key) replaced = true;
    if (!replaced) env_s.push_back(entry);
  }
  for (const auto& o : options.env) env_s.push_back(o);
  std::vector<char*> envp;
  for (auto& e : env_s) envp.push_back(e.data());
  envp.push_back(nullptr);

  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
    return make_error(ErrorCode::kIo, "socketpair failed: {}", std::strerror(errno));
  int err_pipe[2];
  if (::pipe2(err_pipe, O_CLOEXEC) != 0) {
    ::close(sv[0]);
    ::close(sv[1]);
    return make_error(ErrorCode::kIo, "pipe failed: {}", std::strerror(errno));
  }
  int exec_pipe[2];  // closed by a successful exec; carries errno when exec fails
  if (::pipe2(exec_pipe, O_CLOEXEC) != 0) {
    for (int fd : {sv[0], sv[1], err_pipe[0], err_pipe[1]}) ::close(fd);
    return make_error(ErrorCode::kIo, "pipe failed: {}", std::strerror(errno));
  }
  const pid_t parent = ::getpid();
  const bool die_with_parent = options.kill_with_parent;

  pid_t pid = ::fork();
  if (pid < 0) {
    for (int fd : {sv[0], sv[1], err_pipe[0], err_pipe[1], exec_pipe[0], exec_pipe[1]}) ::close(fd);
    return make_error(ErrorCode::kIo, "fork failed: {}", std::strerror(errno));
  }
  if (pid == 0) {
    // Child: async-signal-safe calls only.
    if (die_with_parent) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(127);
    }
    ::setpgid(0, 0);
    int chan = ::fcntl(sv[1], F_DUPFD, 3);
    int err = ::fcntl(err_pipe[1], F_DUPFD, 3);
    if (chan < 0 || err < 0 || ::dup2(chan, 0) < 0 || ::dup2(chan, 1) < 0 || ::dup2(err, 2) < 0) {
      int e = errno;
      ssize_t ignored = ::write(exec_pipe[1], &e, sizeof e);
      (void)ignored;
      ::_exit(127);
    }
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::signal(SIGPIPE, SIG_DFL);
    // Close every other descriptor except the exec-status pipe (close-on-exec itself).
    for (int fd = 3; fd < 4096; ++fd)
      if (fd != exec_pipe[1]) ::close(fd);
    ::execve(argv[0], argv.data(), envp.data());
    int e = errno;
    ssize_t ignored = ::write(exec_pipe[1], &e, sizeof e);
    (void)ignored;
    ::_exit(127);
  }
  // Parent.
  ::setpgid(pid, pid);  // also here, so the group exists before we might signal it
  ::close(sv[1]);
  ::close(err_pipe[1]);
  ::close(exec_pipe[1]);
  int exec_errno = 0;
  ssize_t n;
  do {
    n = ::read(exec_pipe[0], &exec_errno, sizeof exec_errno);
  } while (n < 0 && errno == EINTR);
  ::close(exec_pipe[0]);
  if (n > 0) {
    int status = 0;
    ::waitpid(pid, &status, 0);
    ::close(sv[0]);
    ::close(err_pipe[0]);
    return make_error(ErrorCode::kIo, "cannot run {}: {}", exe, std::strerror(exec_errno));
  }
  ::fcntl(err_pipe[0], F_SETFL, ::fcntl(err_pipe[0], F_GETFL) | O_NONBLOCK);
  auto child = std::unique_ptr<Child>(new Child());
  child->pid_ = pid;
  child->channel_ = Channel(sv[0], sv[0]);
  child->stderr_fd_ = err_pipe[0];
  child->options_ = options;
  return child;
}

Child::~Child() {
  if (!status_ && pid_ > 0) terminate(1.0);
  close_fd(stderr_fd_);
}

void Child::drain_stderr(bool until_eof_or_deadline, double deadline_s) {
  while (stderr_fd_ >= 0) {
    char buf[8192];
    ssize_t n = ::read(stderr_fd_, buf, sizeof buf);
    if (n > 0) {
      stderr_tail_.append(buf, static_cast<size_t>(n));
      if (stderr_tail_.size() > options_.stderr_tail_bytes)
        stderr_tail_.erase(0, stderr_tail_.size() - options_.stderr_tail_bytes);
      if (options_.forward_stderr || !options_.forward_marker.empty()) {
        forward_partial_line_.append(buf, static_cast<size_t>(n));
        size_t nl;
        std::string out;
        const std::string& marker = options_.forward_marker;
        while ((nl = forward_partial_line_.find('\n')) != std::string::npos) {
          std::string line = forward_partial_line_.substr(0, nl + 1);
          forward_partial_line_.erase(0, nl + 1);
          const bool marked = !marker.empty() && line.compare(0, marker.size(), marker) == 0;
          if (marked) line.erase(0, marker.size());
          if (marked || options_.forward_stderr) out += options_.forward_prefix + line;
        }
        // Without forward_stderr an unended line is kept only while it may still turn out marked.
        if (!options_.forward_stderr && forward_partial_line_.size() > 64 * 1024)
          forward_partial_line_.clear();
        if (!out.empty()) {
          ssize_t ignored = ::write(2, out.data(), out.size());
          (void)ignored;
        }
      }
      continue;
    }
    if (n == 0) {  // EOF: every writer is gone
      close_fd(stderr_fd_);
      return;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN) {
      close_fd(stderr_fd_);
      return;
    }
    if (!until_eof_or_deadline) return;
    pollfd p{stderr_fd_, POLLIN, 0};
    int ms = poll_timeout_ms(deadline_s);
    if (ms == 0 || ::poll(&p, 1, ms) == 0) return;
  }
}

Result<Received> Child::receive(double timeout_s) {
  return channel_.receive_draining(timeout_s, stderr_fd_, [this] { drain_stderr(false); });
}

void Child::record_exit(int wait_status) {
  ExitStatus st = exit_status_from_wait(wait_status);
  st.killed_by_us = signalled_ && !st.exited;
  status_ = st;
  // Whatever it wrote before dying; helpers still holding the pipe get a short deadline only.
  drain_stderr(true, now_s() + 0.2);
}

std::optional<ExitStatus> Child::poll_exit() {
  if (status_) return status_;
  int st = 0;
  pid_t r;
  do {
    r = ::waitpid(pid_, &st, WNOHANG);
  } while (r < 0 && errno == EINTR);
  if (r == pid_) {
    record_exit(st);
    return status_;
  }
  if (r < 0) {  // not our child any more (reaped elsewhere): treat as gone
    status_ = ExitStatus{};
    return status_;
  }
  return std::nullopt;
}

std::optional<ExitStatus> Child::wait_for(double timeout_s) {
  const double deadline = timeout_s < 0 ? -1.0 : now_s() + timeout_s;
  for (;;) {
    drain_stderr(false);
    if (auto st = poll_exit()) return st;
    if (deadline >= 0 && now_s() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

ExitStatus Child::terminate(double grace_s) {
  if (auto st = poll_exit()) return *st;
  signalled_ = true;
  ::kill(-pid_, SIGTERM);
  ::kill(pid_, SIGTERM);
  if (auto st = wait_for(grace_s)) {
    ::kill(-pid_, SIGKILL);  // helpers left in its group
    return *st;
  }
  ::kill(-pid_, SIGKILL);
  ::kill(pid_, SIGKILL);
  auto st = wait_for(-1);
  return *st;
}

std::string Child::stderr_tail() {
  drain_stderr(false);
  return stderr_tail_;
}

// ---- Supervision ----

Watched watch_for_message(Child& child, std::chrono::steady_clock::time_point deadline,
                          const WatchLimits& limits) {
  Watched w;
  auto stop = [&](WatchOutcome outcome) {
    w.outcome = outcome;
    w.ended = child.terminate(limits.grace_s);
    w.stderr_tail = child.stderr_tail();
    return w;
  };
  for (;;) {
    const double left = std::chrono::duration<double>(deadline - std::chrono::steady_clock::now()).count();
    if (left <= 0) return stop(WatchOutcome::kTimeout);
    auto got = child.receive(std::min(left, limits.poll_s));
    if (!got) {
      w.error = got.error().message;
      return stop(WatchOutcome::kProtocolError);
    }
    if (got->outcome == ReceiveOutcome::kTimeout) {
      if (limits.memory_limit_bytes > 0) {
        const uint64_t rss = process_rss_bytes(static_cast<int>(child.pid()));
        if (rss > limits.memory_limit_bytes) {
          w.rss_bytes = rss;
          return stop(WatchOutcome::kOverMemory);
        }
      }
      continue;
    }
    if (got->outcome == ReceiveOutcome::kClosed) {
      auto waited = child.wait_for(limits.exit_wait_s);
      w.outcome = WatchOutcome::kClosed;
      w.ended = waited ? *waited : child.terminate(limits.grace_s);
      w.stderr_tail = child.stderr_tail();
      return w;
    }
    w.outcome = WatchOutcome::kMessage;
    w.message = std::move(got->message);
    return w;
  }
}

}  // namespace cmeter::subprocess
