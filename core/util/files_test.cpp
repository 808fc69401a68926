// Tests for whole-file reading and atomic writing.
#include "core/util/files.h"

#include <unistd.h>

#include <filesystem>

#include <doctest/doctest.h>

namespace cmeter {
namespace {

std::string scratch_dir() {
  auto dir = std::filesystem::temp_directory_path() / ("cmeter-files-test-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  return dir.string();
}

TEST_CASE("files: write atomically, read back, replace") {
  const std::string dir = scratch_dir();
  const std::string path = dir + "/a.txt";
  REQUIRE(write_file_atomically(path, "first\n"));
  CHECK(read_file(path).value() == "first\n");
  REQUIRE(write_file_atomically(path, std::string("second\0bytes", 12)));
  CHECK(read_file(path).value() == std::string("second\0bytes", 12));
  CHECK_FALSE(std::filesystem::exists(path + ".tmp"));
  std::filesystem::remove_all(dir);
}

TEST_CASE("files: failures say why, with the code the caller needs") {
  const std::string dir = scratch_dir();
  auto missing = read_file(dir + "/none");
  REQUIRE_FALSE(missing);
  CHECK(missing.error().code == ErrorCode::kNotFound);
  CHECK(missing.error().message == "No such file or directory");
  auto directory = read_file(dir);
  REQUIRE_FALSE(directory);
  CHECK(directory.error().code == ErrorCode::kNotFound);
  auto unwritable = write_file_atomically(dir + "/no/such/dir/x", "x");
  REQUIRE_FALSE(unwritable);
  CHECK(unwritable.error().code == ErrorCode::kIo);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace cmeter
