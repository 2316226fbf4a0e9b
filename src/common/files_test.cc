#include "common/files.h"

#include <gtest/gtest.h>

#include <fstream>
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

}  // namespace
}  // namespace kizuna
