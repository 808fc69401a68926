// plugins/opencl/infer_ops_test.cpp - the ABI 1.1 inference ops of the OpenCL plugin, through the C
// ABI, on the OpenCL device present (PoCL on CI), against the FP64 references of the core.
//
// Why this file exists: the cases every plugin shares are in plugins/testing/infer_ops_cases.hpp; this
// file runs them on the OpenCL plugin and adds its own: the GPU configuration forced by hints (256-item
// row groups, 4-wide vectors), the error and unsupported answers, and the fused attention.v1. Shapes
// stay small: the programs compile at op_create (PoCL is slow).
#include "plugins/testing/infer_ops_cases.hpp"

// The plugin under test (opencl_plugin_test.cpp loads it).
const cmeter::client::Plugin& opencl_test_plugin();
const cmeter::client::Plugin& infer_ops_test_plugin() {
  return opencl_test_plugin();
}

TEST_CASE("the GPU configuration (256-item row groups, 4-wide vectors) is right too") {
  // Forced by hints so PoCL checks the shapes GPUs get.
  const char* dtype = "bf16";
  const int64_t rows = 3, cols = 1100;
  const auto x = stored(dtype, random_values(static_cast<size_t>(rows * cols), -5, 5, 13));
  std::vector<double> want(x.size());
  ref::softmax(x.data(), want.data(), rows, cols, 1.0, nullptr);
  std::vector<int32_t> want_idx(static_cast<size_t>(rows));
  ref::argmax(x.data(), want_idx.data(), rows, cols);
  Session s;
  CMTR_Buffer* bx = s.upload(encode(dtype, x));
  CMTR_Buffer* out = s.upload(std::vector<int32_t>(static_cast<size_t>(rows)));
  Params pa;
  pa.i("rows", rows).i("cols", cols).s("dtype", dtype);
  pa.i("hint.opencl.row_local", 256).i("hint.opencl.vector_width", 4);
  Op am("argmax.v1", pa);
  run(am, s, {bx, out});
  CHECK(s.download<int32_t>(out, static_cast<size_t>(rows)) == want_idx);
  Params ps;
  ps.i("rows", rows).i("cols", cols).s("dtype", dtype);
  ps.i("hint.opencl.row_local", 256).i("hint.opencl.vector_width", 4);
  Op sm("softmax.v1", ps);
  run(sm, s, {bx, bx});
  check_close(decode(dtype, s.download_bytes(bx, x.size() * esize(dtype))), stored(dtype, want), dtype);
  Params bad;
  bad.i("rows", 1).i("cols", 8).s("dtype", dtype).i("hint.opencl.row_local", 48);
  CMTR_Op* op = nullptr;
  CHECK(P().create(dev(), "softmax.v1", bad, &op).code == CMTR_ERROR_INVALID_ARGUMENT);
}

TEST_CASE("inference ops: small buffers are INVALID_ARGUMENT, other dtypes and attention unsupported") {
  Params p;
  p.i("rows", 4).i("dim", 16).s("dtype", "f16");
  Op op("rmsnorm.v1", p);
  Session s;
  CMTR_Buffer* x = s.upload(std::vector<uint16_t>(64));
  CMTR_Buffer* w = s.upload(std::vector<uint16_t>(16));
  CMTR_Buffer* small = s.upload(std::vector<uint16_t>(63));
  CHECK(P().enqueue(op.op, s.stream, {x, w, small}).code == CMTR_ERROR_INVALID_ARGUMENT);
  CHECK(P().enqueue(op.op, s.stream, {x, small}).code == CMTR_ERROR_INVALID_ARGUMENT);
  CHECK(P().enqueue(op.op, s.stream, {x, w, x}).ok());
  CHECK(P().sync(s.stream).ok());
  bool supported = true;
  std::string reason;
  Params f64;
  f64.i("rows", 4).i("dim", 16).s("dtype", "f64");
  REQUIRE(P().query(dev(), "rmsnorm.v1", f64, &supported, &reason).ok());
  CHECK_FALSE(supported);
  CHECK(reason.find("f64") != std::string::npos);
  Params bad;
  bad.i("rows", 0).i("dim", 16).s("dtype", "f16");
  CHECK(P().query(dev(), "rmsnorm.v1", bad, &supported, &reason).code == CMTR_ERROR_INVALID_ARGUMENT);
  Params att;
  att.i("rows", 1).i("heads", 2).i("kv_heads", 1).i("head_dim", 300).i("slots", 1).i("capacity", 4);
  att.s("dtype", "f16");
  REQUIRE(P().query(dev(), "attention.v1", att, &supported, &reason).ok());
  CHECK_FALSE(supported);  // head_dim above 256
}

TEST_CASE("attention.v1: grouped heads, prefill and decode rows, rows out of range, every dtype") {
  const int64_t heads = 4, kv_heads = 2, head_dim = 10, slots = 2, capacity = 40;
  // Row 0..2: a prefill of slot 1 (positions 0..2); row 3: a decode at position 37 of slot 0; rows 4
  // and 5: slot and position out of range (zeros).
  const std::vector<int32_t> slot = {1, 1, 1, 0, 2, 0}, pos = {0, 1, 2, 37, 3, 40};
  const int64_t rows = static_cast<int64_t>(slot.size());
  for (const char* dtype : kDtypes)
    for (int64_t row_local : {int64_t{0}, int64_t{64}}) {  // 0: the device's default; 64: GPUs' (f16 only)
      if (row_local > 0 && std::string(dtype) != "f16") continue;
      CAPTURE(dtype);
      CAPTURE(row_local);
      const size_t cache_n = static_cast<size_t>(slots * kv_heads * capacity * head_dim);
      const auto q = stored(dtype, random_values(static_cast<size_t>(rows * heads * head_dim), -2, 2, 14));
      const auto k = stored(dtype, random_values(cache_n, -2, 2, 15));
      const auto v = stored(dtype, random_values(cache_n, -1, 1, 16));
      const double scale = 1 / std::sqrt(static_cast<double>(head_dim));
      std::vector<double> want(q.size());
      ref::attention(q.data(), k.data(), v.data(), slot.data(), pos.data(), want.data(), rows, heads,
                     kv_heads, head_dim, slots, capacity, scale);
      Params p;
      p.i("rows", rows).i("heads", heads).i("kv_heads", kv_heads).i("head_dim", head_dim).i("slots", slots);
      p.i("capacity", capacity).s("dtype", dtype);
      if (row_local > 0) p.i("hint.opencl.row_local", row_local);
      Op op("attention.v1", p);
      Session s;
      CMTR_Buffer* bo = s.upload(encode(dtype, std::vector<double>(q.size(), 7.0)));
      run(op, s,
          {s.upload(encode(dtype, q)), s.upload(encode(dtype, k)), s.upload(encode(dtype, v)), s.upload(slot),
           s.upload(pos), bo});
      const auto got = decode(dtype, s.download_bytes(bo, q.size() * esize(dtype)));
      check_close(got, stored(dtype, want), dtype);
      for (size_t i = static_cast<size_t>(4 * heads * head_dim); i < got.size(); ++i) REQUIRE(got[i] == 0);
    }
}
