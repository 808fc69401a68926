// Tests of the subprocess layer against ordinary programs (cat echoes frames back byte for byte, sh
// exits, crashes, hangs and writes to stderr on demand), so every outcome the worker host relies on
// (message, timeout, EOF, protocol error, exit code, signal, SIGKILL after the grace period, stderr
// tail) is exercised without plugin code.
#include "core/util/subprocess.h"

#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <thread>

#include <doctest/doctest.h>

namespace cmeter::subprocess {
namespace {

std::unique_ptr<Child> spawn_sh(const std::string& script, size_t tail_bytes = 16 * 1024) {
  SpawnOptions o;
  o.executable = "/bin/sh";
  o.args = {"-c", script};
  o.stderr_tail_bytes = tail_bytes;
  auto c = Child::spawn(o);
  REQUIRE_MESSAGE(c.ok(), (c.ok() ? "" : c.error().message));
  return std::move(c).value();
}

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

}  // namespace

TEST_CASE("subprocess: frames round-trip through an echoing child, in order, large and small") {
  SpawnOptions o;
  o.executable = "/bin/cat";
  auto spawned = Child::spawn(o);
  REQUIRE(spawned.ok());
  auto& child = *spawned.value();
  std::string big(3 << 20, 'x');  // bigger than any socket buffer: needs the reader draining while writing
  big[12345] = 'y';
  nlohmann::json small = {{"type", "hello"}, {"n", 1}, {"text", "grüße"}};
  REQUIRE(child.send(small).ok());
  auto r1 = child.receive(5);
  REQUIRE(r1.ok());
  REQUIRE(r1->outcome == ReceiveOutcome::kMessage);
  CHECK(r1->message == small);
  // Nothing more was sent: a short wait times out.
  auto t = child.receive(0.05);
  REQUIRE(t.ok());
  CHECK(t->outcome == ReceiveOutcome::kTimeout);

  for (int i = 0; i < 3; ++i) REQUIRE(child.send({{"i", i}}).ok());
  for (int i = 0; i < 3; ++i) {
    auto r = child.receive(5);
    REQUIRE(r.ok());
    REQUIRE(r->outcome == ReceiveOutcome::kMessage);
    CHECK(r->message["i"] == i);
  }
  // A big message: cat echoes while we are still writing, so write and read must interleave; use a
  // thread for the writer as a worker and parent would run in two processes.
  Status sent;
  std::thread writer([&] { sent = child.send({{"big", big}}); });
  auto rb = child.receive(20);
  writer.join();
  REQUIRE(sent.ok());
  REQUIRE(rb.ok());
  REQUIRE(rb->outcome == ReceiveOutcome::kMessage);
  CHECK(rb->message["big"].get<std::string>() == big);

  child.close_channel();  // cat sees EOF and exits 0
  auto st = child.wait_for(5);
  REQUIRE(st.has_value());
  CHECK(st->ok());
  CHECK(st->describe() == "exit code 0");
}

TEST_CASE("subprocess: exit code, EOF and stderr tail of a child that exits") {
  auto child = spawn_sh("echo 'first line' >&2; echo 'last words' >&2; exit 3");
  auto r = child->receive(5);
  REQUIRE(r.ok());
  CHECK(r->outcome == ReceiveOutcome::kClosed);
  auto st = child->wait_for(5);
  REQUIRE(st);
  CHECK(st->exited);
  CHECK(st->exit_code == 3);
  CHECK_FALSE(st->ok());
  CHECK(child->stderr_tail() == "first line\nlast words\n");
}

TEST_CASE("subprocess: the stderr tail keeps only the last bytes") {
  auto child = spawn_sh("i=0; while [ $i -lt 200 ]; do echo line$i >&2; i=$((i+1)); done; exit 0", 32);
  auto st = child->wait_for(10);
  REQUIRE(st);
  std::string tail = child->stderr_tail();
  CHECK(tail.size() == 32);
  CHECK(tail.ends_with("line199\n"));
}

TEST_CASE("subprocess: a crash is reported with its signal") {
  auto child = spawn_sh("echo 'about to crash' >&2; kill -SEGV $$");
  auto r = child->receive(5);
  REQUIRE(r.ok());
  CHECK(r->outcome == ReceiveOutcome::kClosed);
  auto st = child->wait_for(5);
  REQUIRE(st);
  CHECK_FALSE(st->exited);
  CHECK(st->signal == SIGSEGV);
  CHECK_FALSE(st->killed_by_us);
  CHECK(st->describe().find("SIGSEGV") != std::string::npos);
  CHECK(child->stderr_tail().find("about to crash") != std::string::npos);
}

TEST_CASE("subprocess: terminate sends SIGTERM, and SIGKILL after the grace period to a child ignoring it") {
  SUBCASE("obeys SIGTERM") {
    auto child = spawn_sh("sleep 30");
    auto t0 = std::chrono::steady_clock::now();
    auto r = child->receive(0.1);
    REQUIRE(r.ok());
    CHECK(r->outcome == ReceiveOutcome::kTimeout);
    ExitStatus st = child->terminate(5);
    CHECK(seconds_since(t0) < 4);
    CHECK(st.signal == SIGTERM);
    CHECK(st.killed_by_us);
  }
  SUBCASE("ignores SIGTERM") {
    auto child = spawn_sh("trap '' TERM; echo ready >&2; while :; do :; done");
    // Wait until the trap is installed (it says so on stderr).
    for (int i = 0; i < 500 && child->stderr_tail().find("ready") == std::string::npos; ++i)
      (void)child->receive(0.01);
    auto t0 = std::chrono::steady_clock::now();
    ExitStatus st = child->terminate(0.3);
    double took = seconds_since(t0);
    CHECK(took >= 0.25);
    CHECK(took < 5);
    CHECK(st.signal == SIGKILL);
    CHECK(st.describe() == "signal 9 (SIGKILL), sent by cmeter");
  }
}

TEST_CASE("subprocess: stray bytes on the channel are a protocol error, not a crash") {
  auto child = spawn_sh("echo 'hello, I am not a frame'; sleep 5");
  auto r = child->receive(5);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message.find("protocol error") != std::string::npos);
  CHECK(r.error().message.find("hello, I am ") != std::string::npos);
  child->terminate(1);
}

TEST_CASE("subprocess: frames with a foreign version or an absurd length are rejected") {
  int sv[2];
  REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
  Channel reader(sv[0], sv[0]);
  SUBCASE("version") {
    const char frame[] = {'C', 'M', 'T', 'R', 9, 0, 0, 0, 2, 0, 0, 0, '{', '}'};
    REQUIRE(::write(sv[1], frame, sizeof frame) == static_cast<ssize_t>(sizeof frame));
    auto r = reader.receive(1);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message.find("version 9") != std::string::npos);
  }
  SUBCASE("length") {
    const char frame[] = {'C', 'M', 'T', 'R', 1, 0, 0, 0, '\xff', '\xff', '\xff', '\x7f'};
    REQUIRE(::write(sv[1], frame, sizeof frame) == static_cast<ssize_t>(sizeof frame));
    auto r = reader.receive(1);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message.find("exceeds") != std::string::npos);
  }
  SUBCASE("not JSON") {
    const char frame[] = {'C', 'M', 'T', 'R', 1, 0, 0, 0, 3, 0, 0, 0, '{', '{', '{'};
    REQUIRE(::write(sv[1], frame, sizeof frame) == static_cast<ssize_t>(sizeof frame));
    auto r = reader.receive(1);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message.find("not JSON") != std::string::npos);
  }
  SUBCASE("torn frame then EOF") {
    const char frame[] = {'C', 'M', 'T', 'R', 1, 0, 0, 0, 10, 0, 0, 0, '{'};
    REQUIRE(::write(sv[1], frame, sizeof frame) == static_cast<ssize_t>(sizeof frame));
    auto r = reader.receive(0.05);
    REQUIRE(r.ok());
    CHECK(r->outcome == ReceiveOutcome::kTimeout);  // partial frame kept
    ::close(sv[1]);
    sv[1] = -1;
    auto r2 = reader.receive(1);
    REQUIRE_FALSE(r2.ok());
    CHECK(r2.error().message.find("middle of a message") != std::string::npos);
  }
  if (sv[1] >= 0) ::close(sv[1]);
}

TEST_CASE("subprocess: sending to a child that died is an error, not SIGPIPE") {
  auto child = spawn_sh("exit 0");
  REQUIRE(child->wait_for(5));
  Status st;
  for (int i = 0; i < 5 && st.ok(); ++i) st = child->send({{"x", std::string(100000, 'a')}});
  CHECK_FALSE(st.ok());
}

TEST_CASE("subprocess: a program that cannot be run is an Error naming it") {
  SpawnOptions o;
  o.executable = "/nonexistent/cmeter-worker";
  auto c = Child::spawn(o);
  REQUIRE_FALSE(c.ok());
  CHECK(c.error().message.find("/nonexistent/cmeter-worker") != std::string::npos);
}

TEST_CASE("subprocess: environment entries are passed and replace inherited ones") {
  ::setenv("CMETER_SUBPROCESS_TEST_A", "old", 1);
  SpawnOptions o;
  o.executable = "/bin/sh";
  o.args = {"-c", "echo \"$CMETER_SUBPROCESS_TEST_A/$CMETER_SUBPROCESS_TEST_B\" >&2"};
  o.env = {"CMETER_SUBPROCESS_TEST_A=new", "CMETER_SUBPROCESS_TEST_B=b"};
  auto c = Child::spawn(o);
  REQUIRE(c.ok());
  REQUIRE(c.value()->wait_for(5));
  CHECK(c.value()->stderr_tail() == "new/b\n");
  ::unsetenv("CMETER_SUBPROCESS_TEST_A");
}

}  // namespace cmeter::subprocess
