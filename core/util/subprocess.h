// Subprocess: run a child process (by default this very executable, re-executed with other arguments)
// and talk to it in framed JSON messages. It exists because plugin code must not run in the process
// that holds the results: the worker host (core/isolation/worker_host.h) and `cmeter plugin check`
// (core/conformance/plugin_checker.h) run plugins in a child and supervise it with watch_for_message
// (below): answers within a deadline, resident memory within a limit, the child killed (SIGTERM, then
// SIGKILL) when it hangs or grows, reporting how it ended (exit code or signal) and the tail of what it
// wrote to stderr.
//
// Wire format (both directions, one bidirectional Unix stream socket, the child's stdin and stdout):
// each message is a 12-byte header, "CMTR", the protocol version (uint32, little endian) and the
// payload length (uint32, little endian), followed by that many bytes of UTF-8 JSON. A frame with
// another magic, another version or more than kMaxMessageBytes is a protocol error, never a crash.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/util/result.h"

namespace cmeter::subprocess {

// Version of the frame format (the header above). Message contents carry their own versions.
inline constexpr uint32_t kProtocolVersion = 1;
inline constexpr uint32_t kMaxMessageBytes = 64u << 20;
inline constexpr double kDefaultGraceS = 2.0;  // SIGTERM to SIGKILL

// How a child ended.
struct ExitStatus {
  bool exited = false;  // returned from main / called exit: exit_code is valid
  int exit_code = 0;
  int signal = 0;  // killed by this signal (0 when exited)
  bool core_dumped = false;
  bool killed_by_us = false;  // terminate() had to send SIGTERM or SIGKILL
  // "exit code 3", "signal 11 (SIGSEGV)", "signal 9 (SIGKILL), sent by cmeter".
  std::string describe() const;
  bool ok() const { return exited && exit_code == 0; }
};
ExitStatus exit_status_from_wait(int wait_status);
// "SIGSEGV" for 11; "signal 77" for unknown numbers.
std::string signal_name(int signal);

enum class ReceiveOutcome {
  kMessage,  // `message` holds the JSON object or value received
  kTimeout,  // nothing complete arrived before the deadline (a partial frame is kept for next time)
  kClosed,   // the peer closed its end (exited or crashed); no more messages will come
};
struct Received {
  ReceiveOutcome outcome = ReceiveOutcome::kClosed;
  nlohmann::json message;
};

// A framed-JSON channel over file descriptors it owns (a socket, or a pipe pair). Writes never raise
// SIGPIPE (a dead peer is an Error). Not thread-safe: one reader and one writer at a time.
class Channel {
 public:
  Channel() = default;
  // Takes ownership of both; they may be the same descriptor (a socket).
  Channel(int read_fd, int write_fd);
  Channel(Channel&& other) noexcept;
  Channel& operator=(Channel&& other) noexcept;
  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;
  ~Channel();

  // For the child side: takes the channel from stdin/stdout (as Child::spawn set them up), then points
  // fd 0 at /dev/null and fd 1 at stderr, so stray prints (from plugin code) cannot corrupt the stream.
  static Result<Channel> from_stdio();

  bool is_open() const { return read_fd_ >= 0 || write_fd_ >= 0; }
  Status send(const nlohmann::json& message);
  // Waits at most `timeout_s` (< 0: no limit) for one whole message. Errors are protocol errors (bad
  // magic, version or length, payload not JSON) and I/O errors; timeouts and EOF are outcomes.
  Result<Received> receive(double timeout_s);
  void close();

 private:
  friend class Child;
  // receive(), also calling `on_side_readable` whenever `side_fd` is readable while waiting.
  Result<Received> receive_draining(double timeout_s, int side_fd, const std::function<void()>& on_side);
  std::optional<Result<Received>> take_frame();  // a whole frame from inbuf_, if there is one
  int read_fd_ = -1;
  int write_fd_ = -1;
  std::string inbuf_;
  bool eof_ = false;
};

// What a child writes before a stderr line meant for the user while it works (a long case's progress),
// as opposed to its diagnostics, which the parent keeps and shows only when asked.
inline constexpr const char* kProgressLineMarker = "[progress] ";

struct SpawnOptions {
  std::string executable;                // empty: this executable (/proc/self/exe)
  std::vector<std::string> args;         // argv[1..]; argv[0] is the executable's path
  std::vector<std::string> env;          // "KEY=VALUE", added to (replacing in) the inherited environment
  size_t stderr_tail_bytes = 16 * 1024;  // how much of the child's stderr to keep (the last bytes)
  bool forward_stderr = false;           // also copy the child's stderr lines to ours, each line prefixed
  std::string forward_prefix;            // e.g. "[worker cpu] "
  // Lines that start with this are copied to ours (prefixed, the marker dropped) even without
  // forward_stderr: a worker's progress lines (kProgressLineMarker). Empty: none.
  std::string forward_marker;
  // PR_SET_PDEATHSIG(SIGKILL): the child is killed when the *thread* that spawned it ends (Linux ties
  // it to the thread), so spawn from a long-lived thread or turn this off.
  bool kill_with_parent = true;
};

// A running child: its stdin/stdout are one end of a socket pair (the Channel), its stderr a pipe we
// drain into a bounded tail, and it leads its own process group (signals go to the group, so helper
// processes a plugin started go with it). The destructor terminates and reaps a child still running.
class Child {
 public:
  static Result<std::unique_ptr<Child>> spawn(const SpawnOptions& options);
  ~Child();
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  pid_t pid() const { return pid_; }
  Status send(const nlohmann::json& message) { return channel_.send(message); }
  // As Channel::receive, draining the child's stderr while waiting.
  Result<Received> receive(double timeout_s);
  // Closes our end of the channel: the child reads EOF.
  void close_channel() { channel_.close(); }

  // Non-blocking: how it ended, once it has (reaps it).
  std::optional<ExitStatus> poll_exit();
  // Waits up to `timeout_s` (< 0: no limit) for it to end on its own.
  std::optional<ExitStatus> wait_for(double timeout_s);
  // Ends it: SIGTERM to its group, up to `grace_s` to exit, then SIGKILL; reaps it. Returns how it
  // ended (also when it had already ended by itself).
  ExitStatus terminate(double grace_s = kDefaultGraceS);
  std::optional<ExitStatus> exit_status() const { return status_; }

  // Everything it wrote to stderr (the last stderr_tail_bytes), after draining what is readable now.
  std::string stderr_tail();
  // Forgets the stderr kept so far (e.g. before the next request, to attribute what follows to it).
  void clear_stderr_tail() {
    drain_stderr(false);
    stderr_tail_.clear();
  }

 private:
  Child() = default;
  void drain_stderr(bool until_eof_or_deadline, double deadline_s = 0);
  void record_exit(int wait_status);
  pid_t pid_ = -1;
  Channel channel_;
  int stderr_fd_ = -1;
  std::string stderr_tail_;
  std::string forward_partial_line_;
  SpawnOptions options_;
  std::optional<ExitStatus> status_;
  bool signalled_ = false;
};

// ---- Supervision: the one watch over a child doing a job (the run's workers, `plugin check`) ----

struct WatchLimits {
  double poll_s = 0.25;                 // how often the child's resident memory is looked at while waiting
  uint64_t memory_limit_bytes = 0;      // 0: no limit
  double grace_s = kDefaultGraceS;      // SIGTERM to SIGKILL when it has to be stopped
  double exit_wait_s = kDefaultGraceS;  // after it closed the channel: how long to wait for its exit
};

enum class WatchOutcome {
  kMessage,        // `message` arrived; the child is still running
  kTimeout,        // nothing before the deadline: the child was stopped
  kOverMemory,     // its resident memory passed the limit (`rss_bytes`): the child was stopped
  kClosed,         // it closed the channel (exited or crashed): reaped, or stopped after exit_wait_s
  kProtocolError,  // it broke the framing (`error`): the child was stopped
};

struct Watched {
  WatchOutcome outcome = WatchOutcome::kClosed;
  nlohmann::json message;   // kMessage
  ExitStatus ended;         // all but kMessage: how the child ended
  uint64_t rss_bytes = 0;   // kOverMemory: the resident size that passed the limit
  std::string error;        // kProtocolError
  std::string stderr_tail;  // all but kMessage: the child's last stderr (Child::stderr_tail)
};

// Waits for the child's next message until `deadline`, sampling its resident memory every poll_s
// against the limit. Every outcome but kMessage leaves the child ended (stopped by us or reaped), with
// how it ended and what it last wrote to stderr; the caller words the reason and restarts it if it will.
Watched watch_for_message(Child& child, std::chrono::steady_clock::time_point deadline,
                          const WatchLimits& limits);

}  // namespace cmeter::subprocess
