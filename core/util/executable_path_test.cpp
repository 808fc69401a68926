// Tests for the own-executable helpers: the path names this (unit test) binary, the directory holds it.
#include "core/util/executable_path.h"

#include <filesystem>

#include <doctest/doctest.h>

namespace cmeter {
namespace {

TEST_CASE("executable path: names this binary and its directory") {
  const std::filesystem::path exe = self_executable_path();
  CHECK(exe.is_absolute());
  CHECK(std::filesystem::is_regular_file(exe));
  CHECK(exe.parent_path().string() == self_executable_dir());
}

}  // namespace
}  // namespace cmeter
