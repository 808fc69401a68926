// plugins/vulkan/infer_ops_test.cpp - the ABI 1.1 inference ops of the Vulkan plugin (and gemm.v1 in
// f16/bf16 with offsets, as the decoder uses it), through the C ABI, on the Vulkan device present
// (lavapipe on CI), against the FP64 references of the core.
//
// Why this file exists: the cases every plugin shares are in plugins/testing/infer_ops_cases.hpp; this
// file runs them on the Vulkan plugin and adds its own: row kernels at a GPU's work-group size, rope's
// fixed-point angle reduction at large positions, gemm.v1 as the decoder calls it on both kernels, and
// the error and unsupported answers.
#include "plugins/testing/infer_ops_cases.hpp"

// The plugin under test (vulkan_plugin_test.cpp loads it).
const cmeter::client::Plugin& vulkan_test_plugin();
const cmeter::client::Plugin& infer_ops_test_plugin() {
  return vulkan_test_plugin();
}

TEST_CASE("row kernels with a GPU's work-group size (hint.vulkan.row_local) are right too") {
  const char* dtype = "bf16";
  const int64_t rows = 3, cols = 1100;
  const auto x = stored(dtype, random_values(static_cast<size_t>(rows * cols), -5, 5, 13));
  std::vector<double> want(x.size());
  ref::softmax(x.data(), want.data(), rows, cols, 1.0, nullptr);
  std::vector<int32_t> want_idx(static_cast<size_t>(rows));
  ref::argmax(x.data(), want_idx.data(), rows, cols);
  std::vector<double> want_norm(x.size()), w(static_cast<size_t>(cols), 1.0);
  ref::rmsnorm(x.data(), w.data(), want_norm.data(), rows, cols, 1e-5);
  Session s;
  CMTR_Buffer* bx = s.upload(encode(dtype, x));
  CMTR_Buffer* bw = s.upload(encode(dtype, w));
  CMTR_Buffer* by = s.upload(std::vector<uint8_t>(x.size() * esize(dtype)));
  CMTR_Buffer* out = s.upload(std::vector<int32_t>(static_cast<size_t>(rows)));
  Params pa;
  pa.i("rows", rows).i("cols", cols).s("dtype", dtype).i("hint.vulkan.row_local", 128);
  Op am("argmax.v1", pa);
  run(am, s, {bx, out});
  CHECK(s.download<int32_t>(out, static_cast<size_t>(rows)) == want_idx);
  Params pn;
  pn.i("rows", rows).i("dim", cols).s("dtype", dtype).i("hint.vulkan.row_local", 256);
  Op nm("rmsnorm.v1", pn);
  run(nm, s, {bx, bw, by});
  check_close(decode(dtype, s.download_bytes(by, x.size() * esize(dtype))), stored(dtype, want_norm), dtype);
  Params ps;
  ps.i("rows", rows).i("cols", cols).s("dtype", dtype).i("hint.vulkan.row_local", 64);
  Op sm("softmax.v1", ps);
  run(sm, s, {bx, bx});
  check_close(decode(dtype, s.download_bytes(bx, x.size() * esize(dtype))), stored(dtype, want), dtype);
  Params bad;
  bad.i("rows", 1).i("cols", 8).s("dtype", dtype).i("hint.vulkan.row_local", 48);
  CMTR_Op* op = nullptr;
  CHECK(P().create(dev(), "softmax.v1", bad, &op).code == CMTR_ERROR_INVALID_ARGUMENT);
}

TEST_CASE("rope.v1: positions up to 2^31 - 1 keep f32 accuracy (the angle is reduced exactly)") {
  const int64_t rows = 5, heads = 1, head_dim = 64;
  const std::vector<int32_t> pos = {2147483647, 1000000007, 65537, 3, 123456789};
  for (const char* dtype : {"f32"}) {
    const auto x = stored(dtype, random_values(static_cast<size_t>(rows * heads * head_dim), -1, 1, 17));
    std::vector<double> want = x;
    ref::rope(want.data(), pos.data(), rows, heads, head_dim, false, 10000.0);
    Params p;
    p.i("rows", rows).i("heads", heads).i("head_dim", head_dim).s("dtype", dtype);
    Op op("rope.v1", p);
    Session s;
    CMTR_Buffer* bx = s.upload(encode(dtype, x));
    run(op, s, {bx, s.upload(pos)});
    check_close(decode(dtype, s.download_bytes(bx, x.size() * esize(dtype))), want, dtype);
  }
}

TEST_CASE("gemm.v1 f16, bf16 (16-bit and f32 outputs) and f32, both kernels, as the decoder calls it") {
  // The decoder's projection y = W x (+ residual): trans_a, offsets, beta 1; and a batched one.
  struct Case {
    int64_t m, n, k;
    bool trans_a;
    int64_t batch, off_a, off_b, off_c;
    double beta;
  };
  // The last three take the blocked kernel's 64-bit-load form (k, offsets and strides in whole words).
  const Case cases[] = {{37, 4, 70, true, 1, 3, 5, 7, 1.0},     {24, 2, 33, false, 3, 0, 0, 0, 0.0},
                        {300, 1, 17, true, 1, 0, 17, 300, 0.0}, {64, 4, 128, true, 1, 8, 16, 3, 1.0},
                        {41, 3, 64, true, 2, 0, 0, 0, 0.0},     {19, 6, 12, true, 3, 4, 8, 1, 0.5}};
  for (const char* dtype : {"f16", "bf16", "f32"})
    for (const char* out : {"same", "f32"})
      for (const char* kernel : {"blocked", "tiled"})
        for (const Case& c : cases) {
          if (std::string(dtype) == "f32" && std::string(out) == "f32") continue;  // as "same"
          const std::string dc = std::string(out) == "same" ? dtype : out;
          CAPTURE(dtype);
          CAPTURE(dc);
          CAPTURE(kernel);
          CAPTURE(c.m);
          const int64_t rows_a = c.trans_a ? c.k : c.m, cols_a = c.trans_a ? c.m : c.k;
          const size_t na = static_cast<size_t>(c.off_a + rows_a * cols_a * c.batch);
          const size_t nb = static_cast<size_t>(c.off_b + c.k * c.n * c.batch);
          const size_t nc = static_cast<size_t>(c.off_c + c.m * c.n * c.batch);
          const auto a = stored(dtype, random_values(na, -1, 1, 18));
          const auto b = stored(dtype, random_values(nb, -1, 1, 19));
          const auto c0 = stored(dc, random_values(nc, -1, 1, 20));
          std::vector<double> want = c0;
          for (int64_t z = 0; z < c.batch; ++z)
            for (int64_t j = 0; j < c.n; ++j)
              for (int64_t i = 0; i < c.m; ++i) {
                double acc = 0;
                for (int64_t q = 0; q < c.k; ++q)
                  acc += a[static_cast<size_t>(c.off_a + z * rows_a * cols_a +
                                               (c.trans_a ? i * c.k + q : q * c.m + i))] *
                         b[static_cast<size_t>(c.off_b + z * c.k * c.n + j * c.k + q)];
                const size_t at = static_cast<size_t>(c.off_c + z * c.m * c.n + j * c.m + i);
                want[at] = acc + c.beta * c0[at];
              }
          Params p;
          p.i("m", c.m).i("n", c.n).i("k", c.k).s("dtype_a", dtype).s("dtype_b", dtype).s("dtype_c", dc);
          p.b("trans_a", c.trans_a).d("beta", c.beta).i("batch", c.batch).s("hint.vulkan.gemm", kernel);
          if (c.off_a) p.i("offset_a", c.off_a);
          if (c.off_b) p.i("offset_b", c.off_b);
          if (c.off_c) p.i("offset_c", c.off_c);
          bool supported = false;
          std::string reason;
          REQUIRE(P().query(dev(), "gemm.v1", p, &supported, &reason).ok());
          if (!supported) {  // the tiled kernel's f16 needs shaderFloat16
            CHECK(std::string(kernel) == "tiled");
            CHECK(std::string(dtype) == "f16");
            continue;
          }
          Op op("gemm.v1", p);
          const bool words = c.trans_a && c.k % 4 == 0 && c.off_a % 4 == 0 && c.off_b % 4 == 0;
          if (std::string(kernel) == "blocked" && words)  // needs shaderInt64, which lavapipe has
            CHECK(P().op_attribute(op.op, "impl").find("64 bits at a time") != std::string::npos);
          Session s;
          CMTR_Buffer* bc = s.upload(encode(dc, c0));
          run(op, s, {s.upload(encode(dtype, a)), s.upload(encode(dtype, b)), bc});
          const auto got = decode(dc, s.download_bytes(bc, nc * esize(dc)));
          // Outside offset_c + the matrices nothing changes; inside, one rounding of an f32 sum.
          for (int64_t i = 0; i < c.off_c; ++i)
            REQUIRE(got[static_cast<size_t>(i)] == c0[static_cast<size_t>(i)]);
          check_close(got, stored(dc, want), dc);
        }
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
  Params cast_i8;
  cast_i8.s("kind", "cast").i("n", 4).s("dtype", "f32").s("dtype_out", "i8");
  REQUIRE(P().query(dev(), "eltwise.v1", cast_i8, &supported, &reason).ok());
  CHECK_FALSE(supported);
  Params bad;
  bad.i("rows", 0).i("dim", 16).s("dtype", "f16");
  CHECK(P().query(dev(), "rmsnorm.v1", bad, &supported, &reason).code == CMTR_ERROR_INVALID_ARGUMENT);
  Params unknown;
  unknown.i("rows", 1).i("dim", 16).s("dtype", "f16").i("colour", 3);
  CHECK(P().query(dev(), "rmsnorm.v1", unknown, &supported, &reason).code == CMTR_ERROR_INVALID_ARGUMENT);
  Params att;
  att.i("rows", 1).i("heads", 2).i("kv_heads", 1).i("head_dim", 16).i("slots", 1).i("capacity", 4);
  att.s("dtype", "f16");
  REQUIRE(P().query(dev(), "attention.v1", att, &supported, &reason).ok());
  CHECK_FALSE(supported);
  CHECK(reason.find("attention.v1") != std::string::npos);
  CMTR_Op* none = nullptr;
  CHECK(P().create(dev(), "attention.v1", att, &none).code == CMTR_ERROR_UNIMPLEMENTED);
  att.i("kv_heads", 3);  // heads not a multiple of kv_heads: malformed
  CHECK(P().query(dev(), "attention.v1", att, &supported, &reason).code == CMTR_ERROR_INVALID_ARGUMENT);
}
