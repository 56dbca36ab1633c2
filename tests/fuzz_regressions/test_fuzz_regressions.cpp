// Feeds the inputs saved under fuzz/ to the same checks the libFuzzer targets
// run (fuzz/checks.h). A check throws InvariantBroken when the code breaks its
// contract; memory errors show up under the asan preset.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "checks.h"

namespace fs = std::filesystem;
using arcade::fuzz::kTargets;

namespace {

fs::path fuzz_dir() {
    const char* dir = std::getenv("ARCADE_FUZZ_DIR");
    REQUIRE(dir != nullptr);  // set by CTest (tests/fuzz_regressions/CMakeLists.txt)
    REQUIRE(fs::is_directory(dir));
    return dir;
}

std::string read_bytes(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream data;
    data << in.rdbuf();
    return data.str();
}

std::vector<fs::path> files_in(const fs::path& dir) {
    std::vector<fs::path> out;
    if (fs::is_directory(dir))
        for (const auto& entry : fs::directory_iterator(dir))
            if (entry.is_regular_file()) out.push_back(entry.path());
    std::sort(out.begin(), out.end());
    return out;
}

// Runs every file in <fuzz>/<kind>/<target>/ through that target's check;
// returns how many there were.
std::size_t replay(const std::string& kind) {
    std::size_t count = 0;
    for (const auto& target : kTargets) {
        for (const auto& file : files_in(fuzz_dir() / kind / std::string(target.name))) {
            INFO(file.string());
            const std::string input = read_bytes(file);
            CHECK_NOTHROW(target.check(input));
            ++count;
        }
    }
    return count;
}

}  // namespace

TEST_CASE("every saved fuzz finding is handled", "[fuzz]") {
    // A folder under regressions/ that names no target would be skipped
    // silently, and so would the findings in it.
    for (const auto& entry : fs::directory_iterator(fuzz_dir() / "regressions")) {
        INFO(entry.path().string());
        const auto name = entry.path().filename().string();
        CHECK(std::any_of(std::begin(kTargets), std::end(kTargets),
                          [&](const auto& target) { return target.name == name; }));
    }
    CHECK(replay("regressions") > 0);
}

TEST_CASE("every seed input passes its check", "[fuzz]") {
    for (const auto& target : kTargets) {
        INFO(target.name);
        CHECK_FALSE(files_in(fuzz_dir() / "corpus" / std::string(target.name)).empty());
    }
    CHECK(replay("corpus") > 0);
}
