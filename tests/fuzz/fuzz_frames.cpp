// libFuzzer target: the worker channel's framing (core/util/subprocess.h) reading whatever a crashed
// or hostile worker might have written: every frame is a message, a protocol error or EOF; never a
// crash, an unbounded allocation or a hang.
#include <sys/socket.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>

#include "core/util/subprocess.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 60000) return 0;  // stays within one socket buffer, so writing never blocks
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) return 0;
  int sndbuf = 1 << 20;
  ::setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
  size_t done = 0;
  while (done < size) {
    ssize_t n = ::write(sv[1], data + done, size - done);
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  ::close(sv[1]);
  cmeter::subprocess::Channel channel(sv[0], sv[0]);
  for (int i = 0; i < 10000; ++i) {
    auto got = channel.receive(0);
    if (!got.ok() || got->outcome != cmeter::subprocess::ReceiveOutcome::kMessage) break;
  }
  return 0;
}
