// The device's executor of an op graph (core/models/op_graph.h): one device buffer per graph buffer,
// one op per distinct op instance, and each call list enqueued in order on one stream. The lm training
// form runs its whole step through it; the host replays the same graph (models/host_graph.h).
// Host data written with write() must stay alive until the next synchronising call: values the
// executor converts itself (write_values) are kept until then.
#pragma once

#include <deque>
#include <map>
#include <string>
#include <vector>

#include "core/models/op_graph.h"
#include "core/plugin/device.h"
#include "core/util/result.h"

namespace cmeter::workloads {

// The graph's ops the device does not support (op_query), each "name" or "name (reason)" once.
std::vector<std::string> missing_graph_ops(const Device& device, const models::OpGraph& graph);

class DeviceGraph {
 public:
  DeviceGraph(const Device& device, Stream& stream, const models::OpGraph& graph)
      : device_(device), stream_(stream), graph_(graph) {}
  // Creates every buffer and op (an error names the op and the call that first uses it).
  Status create();
  Status run(const std::string& list);
  // Enqueues a write of `bytes` from `host` (which must stay alive until the next synchronise).
  Status write(int buffer, const void* host, uint64_t bytes);
  // Converts `values` to the buffer's dtype and enqueues the write (kept alive by the executor).
  Status write_values(int buffer, const std::vector<float>& values);
  Status write_ints(int buffer, const std::vector<int32_t>& values);
  // Reads the whole buffer as floats (synchronises).
  Result<std::vector<float>> read_values(int buffer);
  Status synchronize();
  // op name: the implementations it ran ("impl" attributes), joined.
  std::map<std::string, std::string> op_paths() const;

 private:
  const Device& device_;
  Stream& stream_;
  const models::OpGraph& graph_;
  std::vector<Buffer> buffers_;
  std::vector<Op> ops_;
  std::deque<std::vector<uint8_t>> staged_;  // writes enqueued since the last synchronise
};

}  // namespace cmeter::workloads
