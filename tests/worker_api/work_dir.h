#pragma once
// A throwaway ARCADE_WORK_DIR for one test: created under $TMPDIR (or /tmp),
// removed with everything in it on destruction.

#include <filesystem>
#include <string>

#include "support/fake_arcade.h"

namespace arcade::testing {

class TempWorkDir {
public:
    TempWorkDir();
    ~TempWorkDir();
    TempWorkDir(const TempWorkDir&) = delete;
    TempWorkDir& operator=(const TempWorkDir&) = delete;

    // The value for ARCADE_WORK_DIR.
    const std::filesystem::path& path() const { return path_; }
    // `$ARCADE_WORK_DIR/.arcade`, created 0700.
    std::filesystem::path config_dir() const { return path_ / ".arcade"; }
    // Writes credentials.yaml (0600) in the format `arcade login` writes.
    void write_credentials(const std::string& api_key = kTestApiKey, const std::string& email = "a@b.c") const;

private:
    std::filesystem::path path_;
};

}  // namespace arcade::testing
