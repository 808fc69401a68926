// How the runner executes a case, as a seam: the runner plans, journals and reports; an executor
// knows the plugins and devices and runs one case on one device. Two exist: WorkerExecutor (the
// default: a worker process per plugin with a watchdog per case, core/isolation/worker_host.h) and
// InProcessExecutor (`cmeter run --in-process`, for debugging a plugin under gdb: a crash or hang
// there ends or stalls the run).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/isolation/worker_host.h"
#include "core/model/case_result.h"
#include "core/plugin/plugin_host.h"
#include "core/profile/profile.h"
#include "core/report/summary.h"
#include "core/topology/topology.h"

namespace cmeter::run {

// The watchdog's deadline for one case: profile::case_timeout_s (core/profile/profile.h).
using profile::case_timeout_s;
using profile::kTimeoutBaseS;
using profile::kTimeoutBudgetFactor;
using profile::kTimeoutMinS;

class CaseExecutor {
 public:
  virtual ~CaseExecutor() = default;
  virtual const std::vector<PluginRow>& plugins() const = 0;
  virtual const std::vector<DeviceFacts>& devices() const = 0;
  // Runs one case; never throws: every failure is the result's status and reason. `bind` is where the
  // device's host thread should run (null: leave it).
  virtual CaseResult run_case(const DeviceFacts& device, const profile::Case& spec, uint64_t seed,
                              const std::optional<topology::Locality>& bind) = 0;
  // For the report's run.settings.execution.
  virtual std::string execution() const = 0;
  // Notes gathered while running (restarts, binding problems); cleared.
  virtual std::vector<std::string> take_warnings() { return {}; }
  // Whether run_case may be called from several threads at once for devices of different plugins.
  virtual bool runs_plugins_concurrently() const { return false; }
  // Whether it may also be called at once for several devices of one plugin.
  virtual bool runs_devices_concurrently() const { return false; }
  // Before a run that calls it at once for several devices of one plugin: whatever lets them start
  // together (the worker executor starts a worker per device now). Problems go to take_warnings().
  virtual void prepare_devices_at_once() {}
};

class InProcessExecutor : public CaseExecutor {
 public:
  InProcessExecutor(PluginHost& host, const topology::Topology* topology);
  const std::vector<PluginRow>& plugins() const override { return host_.plugins(); }
  const std::vector<DeviceFacts>& devices() const override { return devices_; }
  CaseResult run_case(const DeviceFacts& device, const profile::Case& spec, uint64_t seed,
                      const std::optional<topology::Locality>& bind) override;
  std::string execution() const override { return "in-process, devices one after another"; }
  std::vector<std::string> take_warnings() override { return std::exchange(warnings_, {}); }

 private:
  PluginHost& host_;
  const topology::Topology* topology_;
  std::vector<DeviceFacts> devices_;
  std::vector<std::string> warnings_;
};

class WorkerExecutor : public CaseExecutor {
 public:
  explicit WorkerExecutor(WorkerHost& host) : host_(host) {}
  const std::vector<PluginRow>& plugins() const override { return host_.plugins(); }
  const std::vector<DeviceFacts>& devices() const override { return host_.devices(); }
  CaseResult run_case(const DeviceFacts& device, const profile::Case& spec, uint64_t seed,
                      const std::optional<topology::Locality>& bind) override;
  std::string execution() const override {
    return "worker process per plugin, watchdog per case, devices one after another";
  }
  std::vector<std::string> take_warnings() override { return host_.take_warnings(); }
  bool runs_plugins_concurrently() const override { return true; }
  // A plugin's devices at once run in workers of their own (core/isolation/worker_host.h).
  bool runs_devices_concurrently() const override { return true; }
  void prepare_devices_at_once() override { host_.start_device_workers(); }

 private:
  WorkerHost& host_;
};

}  // namespace cmeter::run
