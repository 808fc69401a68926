// MPI session: start-up, node names, per-case barrier, gather of node reports, collective workload.
// Every wait is a non-blocking MPI call polled until a deadline (wait_until), so a dead or hung rank
// never blocks the living ones for longer than the deadline.
#include "core/cluster/mpi_session.h"
#include "core/cluster/launcher.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <set>
#include <thread>

#include <fmt/format.h>

#if CMETER_HAVE_MPI
#define OMPI_SKIP_MPICXX 1  // the C API only: Open MPI's deprecated C++ bindings do not build with -Werror
#define MPICH_SKIP_MPICXX 1
#include <mpi.h>
#endif

namespace cmeter::cluster {

bool mpi_built() {
  return CMETER_HAVE_MPI != 0;
}

namespace {

#if CMETER_HAVE_MPI
std::string this_node_name() {
  if (const char* n = std::getenv("CMETER_NODE_NAME"); n != nullptr && *n != '\0') return n;
  char host[256] = {0};
  gethostname(host, sizeof host - 1);
  return host;
}

std::string this_host_name() {
  char host[256] = {0};
  gethostname(host, sizeof host - 1);
  return host;
}

constexpr int kNameBytes = 256;
constexpr int kReportTag = 71;

// Polls a request until it completes or the deadline passes; false on timeout or error (the request
// is then left to the MPI library: freeing an unfinished collective is not allowed).
bool wait_until(MPI_Request& request, std::chrono::steady_clock::time_point deadline) {
  for (;;) {
    int done = 0;
    if (MPI_Test(&request, &done, MPI_STATUS_IGNORE) != MPI_SUCCESS) return false;
    if (done) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
}

std::chrono::steady_clock::time_point after(double s) {
  return std::chrono::steady_clock::now() +
         std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double>(s));
}

int64_t param_int(const profile::Case& spec, const std::string& key, int64_t fallback) {
  auto it = spec.params.find(key);
  if (it == spec.params.end()) return fallback;
  if (const auto* v = std::get_if<int64_t>(&it->second)) return *v;
  if (const auto* d = std::get_if<double>(&it->second)) return static_cast<int64_t>(*d);
  return fallback;
}
std::string param_string(const profile::Case& spec, const std::string& key, const std::string& fallback) {
  auto it = spec.params.find(key);
  if (it == spec.params.end()) return fallback;
  if (const auto* v = std::get_if<std::string>(&it->second)) return *v;
  return fallback;
}
#endif

}  // namespace

Result<std::unique_ptr<MpiSession>> MpiSession::start() {
#if CMETER_HAVE_MPI
  int initialised = 0;
  MPI_Initialized(&initialised);
  if (!initialised) {
    int provided = 0;
    if (MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS)
      return make_error(ErrorCode::kUnavailable,
                        "MPI_Init failed (is this process started by mpirun or srun?)");
  }
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  std::unique_ptr<MpiSession> s(new MpiSession());
  MPI_Comm_rank(MPI_COMM_WORLD, &s->rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &s->size_);
  auto gather_names = [&](const std::string& mine) {
    std::vector<char> out(static_cast<size_t>(kNameBytes) * static_cast<size_t>(s->size_), '\0');
    std::vector<char> in(kNameBytes, '\0');
    std::memcpy(in.data(), mine.data(), std::min<size_t>(mine.size(), kNameBytes - 1));
    MPI_Allgather(in.data(), kNameBytes, MPI_CHAR, out.data(), kNameBytes, MPI_CHAR, MPI_COMM_WORLD);
    std::vector<std::string> names;
    for (int r = 0; r < s->size_; ++r) names.emplace_back(out.data() + static_cast<size_t>(r) * kNameBytes);
    return names;
  };
  s->nodes_ = gather_names(this_node_name());
  s->hosts_ = gather_names(this_host_name());
  return s;
#else
  return make_error(ErrorCode::kUnavailable,
                    "this cmeter was built without MPI (Open MPI's development files, Debian package "
                    "libopenmpi-dev, were not found when it was configured): --mpi is not available; "
                    "install them (scripts/setup.sh) and rebuild, or run each node on its own and merge "
                    "the reports with `cmeter report merge`");
#endif
}

MpiSession::~MpiSession() {
#if CMETER_HAVE_MPI
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized && !abandoned_) MPI_Finalize();
#endif
}

nlohmann::json MpiSession::launch_facts() const {
  nlohmann::json facts = {{"ranks", size_}};
#if CMETER_HAVE_MPI
  char version[MPI_MAX_LIBRARY_VERSION_STRING] = {0};
  int len = 0;
  MPI_Get_library_version(version, &len);
  std::string text(version);  // up to the first NUL (the length Open MPI reports counts one)
  (void)len;
  facts["library"] = text.substr(0, text.find_first_of(",\n"));
  facts["library_version_text"] = text.substr(0, text.find('\n'));
  int major = 0, minor = 0;
  MPI_Get_version(&major, &minor);
  facts["mpi_standard"] = fmt::format("{}.{}", major, minor);
#endif
  facts["ranks_nodes"] = nodes_;
  facts["ranks_hosts"] = hosts_;
  facts["nodes"] = std::set<std::string>(nodes_.begin(), nodes_.end()).size();
  facts["hosts"] = std::set<std::string>(hosts_.begin(), hosts_.end());
  facts["node_name_source"] = std::getenv("CMETER_NODE_NAME") ? "CMETER_NODE_NAME" : "host name";
  facts["launcher"] = launcher_facts([](const char* name) -> const char* { return std::getenv(name); });
  return facts;
}

std::string MpiSession::broadcast(const std::string& from_root) {
#if CMETER_HAVE_MPI
  long long n = rank_ == 0 ? static_cast<long long>(from_root.size()) : 0;
  MPI_Bcast(&n, 1, MPI_LONG_LONG, 0, MPI_COMM_WORLD);
  std::string out = rank_ == 0 ? from_root : std::string(static_cast<size_t>(n), '\0');
  if (n > 0) MPI_Bcast(out.data(), static_cast<int>(n), MPI_CHAR, 0, MPI_COMM_WORLD);
  return out;
#else
  return from_root;
#endif
}

Status MpiSession::barrier(double timeout_s) {
#if CMETER_HAVE_MPI
  MPI_Request request;
  if (MPI_Ibarrier(MPI_COMM_WORLD, &request) != MPI_SUCCESS)
    return make_error(ErrorCode::kUnavailable, "MPI_Ibarrier failed");
  if (!wait_until(request, after(timeout_s)))
    return make_error(ErrorCode::kUnavailable,
                      "not every rank reached the barrier within {:g} s (a rank died or hangs)", timeout_s);
#else
  (void)timeout_s;
#endif
  return {};
}

std::vector<std::optional<std::string>> MpiSession::gather_to_root(const std::string& mine,
                                                                   double timeout_s) {
  std::vector<std::optional<std::string>> out;
#if CMETER_HAVE_MPI
  const auto deadline = after(timeout_s);
  if (rank_ != 0) {
    MPI_Request request;
    if (MPI_Isend(mine.data(), static_cast<int>(mine.size()), MPI_CHAR, 0, kReportTag, MPI_COMM_WORLD,
                  &request) == MPI_SUCCESS)
      wait_until(request, deadline);
    return out;
  }
  out.resize(static_cast<size_t>(size_));
  out[0] = mine;
  int pending = size_ - 1;
  while (pending > 0 && std::chrono::steady_clock::now() < deadline) {
    int flag = 0;
    MPI_Status status;
    if (MPI_Iprobe(MPI_ANY_SOURCE, kReportTag, MPI_COMM_WORLD, &flag, &status) != MPI_SUCCESS) break;
    if (!flag) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
      continue;
    }
    int count = 0;
    MPI_Get_count(&status, MPI_CHAR, &count);
    std::string text(static_cast<size_t>(count), '\0');
    MPI_Recv(text.data(), count, MPI_CHAR, status.MPI_SOURCE, kReportTag, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    if (status.MPI_SOURCE > 0 && status.MPI_SOURCE < size_ && !out[static_cast<size_t>(status.MPI_SOURCE)]) {
      out[static_cast<size_t>(status.MPI_SOURCE)] = std::move(text);
      delivered_.insert(status.MPI_SOURCE);
      --pending;
    }
  }
#else
  (void)timeout_s;
  out.push_back(mine);
#endif
  return out;
}

bool MpiSession::agree_complete(bool complete_on_root, double timeout_s) {
#if CMETER_HAVE_MPI
  constexpr int kVerdictTag = 72;
  const auto deadline = after(timeout_s);
  if (rank_ == 0) {
    int verdict = complete_on_root ? 1 : 0;
    // Only to the ranks whose report arrived: a dead one would hold the send until the deadline (a
    // living rank that missed the gather hears nothing and abandons on its own deadline).
    std::vector<MPI_Request> requests;
    for (int r = 1; r < size_; ++r) {
      if (!delivered_.count(r)) continue;
      requests.emplace_back();
      MPI_Isend(&verdict, 1, MPI_INT, r, kVerdictTag, MPI_COMM_WORLD, &requests.back());
    }
    bool all = true;
    for (auto& request : requests) all = wait_until(request, deadline) && all;
    return complete_on_root && all;
  }
  int verdict = 0;
  MPI_Request request;
  if (MPI_Irecv(&verdict, 1, MPI_INT, 0, kVerdictTag, MPI_COMM_WORLD, &request) != MPI_SUCCESS) return false;
  return wait_until(request, deadline) && verdict == 1;
#else
  (void)timeout_s;
  (void)delivered_;
  return complete_on_root;
#endif
}

nlohmann::json MpiSession::run_collective(const profile::Case& spec, double timeout_s) {
  nlohmann::json row = {{"case_id", spec.id}, {"ranks", size_}};
#if CMETER_HAVE_MPI
  const std::string op = param_string(spec, "op", "allreduce");
  const int64_t bytes = param_int(spec, "bytes", 1 << 20);
  row["op"] = op == "alltoall" ? "alltoall" : "allreduce";
  row["bytes"] = std::max<int64_t>(bytes, 1);
  row["iters"] = 0;
  row["time_s"] = nullptr;
  row["algbw_bytes_per_s"] = nullptr;
  row["busbw_bytes_per_s"] = nullptr;
  row["validated"] = false;
  auto fail = [&](std::string why) {
    row["reason"] = std::move(why);
    return row;
  };
  if (op != "allreduce" && op != "alltoall") return fail(fmt::format("op '{}': allreduce or alltoall", op));
  // int32 elements: sums and block identities are exact, so validation is equality.
  const int64_t per_rank = bytes / 4 / (op == "alltoall" ? size_ : 1);
  if (per_rank < 1 || bytes % 4 != 0)
    return fail(fmt::format("bytes {} is not a positive multiple of 4 x {} ranks", bytes,
                            op == "alltoall" ? size_ : 1));
  const int count = static_cast<int>(per_rank);
  const size_t elements = static_cast<size_t>(count) * static_cast<size_t>(op == "alltoall" ? size_ : 1);
  std::vector<int32_t> send(elements), recv(elements, -1);
  for (size_t i = 0; i < elements; ++i) {
    if (op == "allreduce") {
      send[i] = (rank_ + 1) * static_cast<int32_t>(i % 7 + 1);
    } else {
      const size_t dst = i / static_cast<size_t>(count);
      send[i] = rank_ * 1000003 + static_cast<int32_t>(dst) * 7 +
                static_cast<int32_t>(i % static_cast<size_t>(count) % 1000);
    }
  }
  const auto deadline = after(timeout_s);
  auto once = [&]() {
    MPI_Request request;
    int rc = op == "allreduce" ? MPI_Iallreduce(send.data(), recv.data(), count, MPI_INT32_T, MPI_SUM,
                                                MPI_COMM_WORLD, &request)
                               : MPI_Ialltoall(send.data(), count, MPI_INT32_T, recv.data(), count,
                                               MPI_INT32_T, MPI_COMM_WORLD, &request);
    return rc == MPI_SUCCESS && wait_until(request, deadline);
  };
  auto agree_max = [&](double mine, double& all) {
    MPI_Request request;
    return MPI_Iallreduce(&mine, &all, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD, &request) == MPI_SUCCESS &&
           wait_until(request, deadline);
  };
  // Warm-up (2 calls), then as many calls as fill the case's min_s on the slowest rank (agreed, so
  // every rank makes the same number of calls), at least 5, at most 10000.
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 2; ++i)
    if (!once()) return fail(fmt::format("a rank did not take part within {:g} s", timeout_s));
  double warm = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / 2,
         warm_max = 0;
  if (!agree_max(warm, warm_max)) return fail("the ranks could not agree on an iteration count");
  const int iters = static_cast<int>(std::clamp(spec.stats.min_s / std::max(warm_max, 1e-9), 5.0, 10000.0));
  MPI_Request sync;
  if (MPI_Ibarrier(MPI_COMM_WORLD, &sync) != MPI_SUCCESS || !wait_until(sync, deadline))
    return fail("a rank did not reach the timing barrier");
  t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < iters; ++i)
    if (!once()) return fail(fmt::format("a rank did not take part within {:g} s", timeout_s));
  const double mine = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / iters;
  double per_call = 0;
  if (!agree_max(mine, per_call)) return fail("the ranks could not agree on the time");
  // Validation on every rank, agreed: the last call's output is exact.
  int wrong = 0;
  for (size_t i = 0; i < elements && wrong == 0; ++i) {
    int32_t want = 0;
    if (op == "allreduce") {
      want = static_cast<int32_t>(size_ * (size_ + 1) / 2) * static_cast<int32_t>(i % 7 + 1);
    } else {
      const int32_t src = static_cast<int32_t>(i / static_cast<size_t>(count));
      want = src * 1000003 + rank_ * 7 + static_cast<int32_t>(i % static_cast<size_t>(count) % 1000);
    }
    if (recv[i] != want) wrong = 1;
  }
  double wrong_any = 0;
  if (!agree_max(static_cast<double>(wrong), wrong_any))
    return fail("the ranks could not agree on validation");
  const double n = size_;
  const double algbw = static_cast<double>(bytes) / per_call;
  row["iters"] = iters;
  row["time_s"] = per_call;
  row["algbw_bytes_per_s"] = algbw;
  row["busbw_bytes_per_s"] = algbw * (op == "allreduce" ? 2 * (n - 1) / n : (n - 1) / n);
  row["validated"] = wrong_any == 0;
  if (wrong_any != 0) row["reason"] = "a rank received a wrong value (exact int32 check)";
#else
  (void)spec;
  (void)timeout_s;
  row["reason"] = "this build has no MPI";
#endif
  return row;
}

}  // namespace cmeter::cluster
