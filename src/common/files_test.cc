#include "common/files.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>

#include "tests/support/temp_dir.h"

namespace kizuna {
namespace {

std::string Read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream all;
  all << in.rdbuf();
  return all.str();
}

TEST(Files, MoveDurablyReplacesTheFileWithTheTemporaryOne) {
  test_support::TempDir dir;
  const std::string path = dir.path() + "/report";
  std::ofstream(path) << "old";
  std::ofstream(path + ".tmp") << "new";
  ASSERT_TRUE(MoveDurably(path + ".tmp", path).ok());
  EXPECT_EQ(Read(path), "new");
  EXPECT_FALSE(std::ifstream(path + ".tmp").good());
}

TEST(Files, WhatCannotBeSyncedOrMovedIsAnErrorNamingIt) {
  test_support::TempDir dir;
  Status missing = MoveDurably(dir.path() + "/nothing.tmp", dir.path() + "/report");
  EXPECT_EQ(missing.code(), Code::kIoError);
  EXPECT_NE(missing.message().find("nothing.tmp"), std::string::npos) << missing.message();
  std::ofstream(dir.path() + "/a.tmp") << "x";
  Status no_dir = MoveDurably(dir.path() + "/a.tmp", dir.path() + "/gone/report");
  EXPECT_EQ(no_dir.code(), Code::kIoError);
  EXPECT_FALSE(SyncDirectory(dir.path() + "/gone").ok());
  EXPECT_TRUE(SyncDirectory(dir.path()).ok());
  EXPECT_TRUE(SyncFile(dir.path() + "/a.tmp").ok());
}

TEST(Files, ReplaceFileDurablyLeavesTheNewBytesWithTheirModeAndNothingElse) {
  test_support::TempDir dir;
  const std::string path = dir.path() + "/kizuna.toml";
  std::ofstream(path) << "old";
  ASSERT_TRUE(ReplaceFileDurably(path, "new text", 0600).ok());
  EXPECT_EQ(Read(path), "new text");
  EXPECT_EQ(std::filesystem::status(path).permissions() & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir.path()),
                          std::filesystem::directory_iterator()),
            1);
  // Into a directory that is not there: an error naming it, nothing written.
  Status failed = ReplaceFileDurably(dir.path() + "/gone/file", "x", 0644);
  EXPECT_EQ(failed.code(), Code::kIoError);
  EXPECT_NE(failed.message().find("gone"), std::string::npos) << failed.message();
  // Over a directory: the rename fails, the temporary file is removed.
  std::filesystem::create_directory(dir.path() + "/sub");
  std::ofstream(dir.path() + "/sub/x") << "x";
  EXPECT_FALSE(ReplaceFileDurably(dir.path() + "/sub", "x", 0644).ok());
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir.path()),
                          std::filesystem::directory_iterator()),
            2);
}

}  // namespace
}  // namespace kizuna
