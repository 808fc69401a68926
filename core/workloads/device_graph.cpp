// The device executor of op graphs (device_graph.h).
#include "core/workloads/device_graph.h"

#include <algorithm>
#include <cstring>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/validate/half.h"

namespace cmeter::workloads {

std::vector<std::string> missing_graph_ops(const Device& device, const models::OpGraph& graph) {
  std::vector<std::string> missing;
  std::set<std::string> named;
  for (const models::GraphOp& op : graph.ops()) {
    if (named.count(op.name)) continue;
    auto q = device.query_op(op.name, op.params);
    if (!q) q = OpQuery{false, q.error().message};
    if (q->supported) continue;
    named.insert(op.name);
    missing.push_back(q->reason.empty() ? op.name : fmt::format("{} ({})", op.name, q->reason));
  }
  return missing;
}

Status DeviceGraph::create() {
  buffers_.clear();
  ops_.clear();
  for (const models::GraphBuffer& b : graph_.buffers()) {
    auto buf = device_.create_buffer(std::max<uint64_t>(b.bytes(), 4));
    if (!buf) return Error{buf.error().code, fmt::format("buffer '{}': {}", b.name, buf.error().message)};
    buffers_.push_back(std::move(buf).value());
  }
  // The first call of each op names it in an error.
  std::vector<std::string> first_role(graph_.ops().size());
  for (const std::string& list : graph_.list_names())
    for (const models::GraphCall& c : graph_.list(list))
      if (first_role[static_cast<size_t>(c.op)].empty()) first_role[static_cast<size_t>(c.op)] = c.role;
  for (size_t i = 0; i < graph_.ops().size(); ++i) {
    const models::GraphOp& o = graph_.ops()[i];
    auto op = device_.create_op(o.name, o.params);
    if (!op)
      return Error{op.error().code, fmt::format("{} ({}): {}", o.name, first_role[i], op.error().message)};
    ops_.push_back(std::move(op).value());
  }
  return {};
}

Status DeviceGraph::run(const std::string& list) {
  std::vector<Buffer*> bufs;
  for (const models::GraphCall& c : graph_.list(list)) {
    bufs.clear();
    for (int b : c.buffers) bufs.push_back(&buffers_[static_cast<size_t>(b)]);
    if (auto st = ops_[static_cast<size_t>(c.op)].enqueue(stream_, bufs); !st)
      return Error{st.error().code, fmt::format("{} ({}): {}", graph_.ops()[static_cast<size_t>(c.op)].name,
                                                c.role, st.error().message)};
  }
  return {};
}

Status DeviceGraph::write(int buffer, const void* host, uint64_t bytes) {
  return stream_.write(buffers_[static_cast<size_t>(buffer)], 0, host, bytes);
}

Status DeviceGraph::write_values(int buffer, const std::vector<float>& values) {
  const DType t = graph_.buffers()[static_cast<size_t>(buffer)].dtype;
  std::vector<uint8_t> bytes(values.size() * size_bytes(t));
  for (size_t i = 0; i < values.size(); ++i) {
    if (t == DType::kF32) {
      std::memcpy(bytes.data() + 4 * i, &values[i], 4);
    } else {
      const uint16_t bits = t == DType::kF16 ? f32_to_f16_bits(values[i]) : f32_to_bf16_bits(values[i]);
      std::memcpy(bytes.data() + 2 * i, &bits, 2);
    }
  }
  staged_.push_back(std::move(bytes));
  return write(buffer, staged_.back().data(), staged_.back().size());
}

Status DeviceGraph::write_ints(int buffer, const std::vector<int32_t>& values) {
  std::vector<uint8_t> bytes(values.size() * 4);
  std::memcpy(bytes.data(), values.data(), bytes.size());
  staged_.push_back(std::move(bytes));
  return write(buffer, staged_.back().data(), staged_.back().size());
}

Result<std::vector<float>> DeviceGraph::read_values(int buffer) {
  const models::GraphBuffer& gb = graph_.buffers()[static_cast<size_t>(buffer)];
  std::vector<uint8_t> bytes(gb.bytes());
  CMETER_TRY(stream_.read(buffers_[static_cast<size_t>(buffer)], 0, bytes.data(), bytes.size()));
  CMETER_TRY(synchronize());
  std::vector<float> out(static_cast<size_t>(gb.elements));
  for (size_t i = 0; i < out.size(); ++i) {
    if (gb.dtype == DType::kF32) {
      std::memcpy(&out[i], bytes.data() + 4 * i, 4);
    } else {
      uint16_t bits = 0;
      std::memcpy(&bits, bytes.data() + 2 * i, 2);
      out[i] = gb.dtype == DType::kF16 ? f16_bits_to_f32(bits) : bf16_bits_to_f32(bits);
    }
  }
  return out;
}

Status DeviceGraph::synchronize() {
  CMETER_TRY(stream_.synchronize());
  staged_.clear();
  return {};
}

std::map<std::string, std::string> DeviceGraph::op_paths() const {
  std::map<std::string, std::set<std::string>> impls;
  for (size_t i = 0; i < ops_.size(); ++i) {
    std::string impl = "(no impl attribute)";
    if (auto attrs = ops_[i].attributes()) impl = get_string(*attrs, "impl").value_or(impl);
    impls[graph_.ops()[i].name].insert(impl);
  }
  std::map<std::string, std::string> out;
  for (const auto& [name, set] : impls) out[name] = fmt::format("{}", fmt::join(set, " | "));
  return out;
}

}  // namespace cmeter::workloads
