#pragma once
// Runs the real `arcade` binary (path from ARCADE_BIN, set by CTest) in a
// throwaway ARCADE_WORK_DIR and reads what it recorded.

#include <rapidjson/document.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "store/ship_lock.h"
#include "support/process.h"

namespace arcade::testing {

struct Arcade {
    TempDir tmp;
    std::map<std::string, std::string> env;
    std::filesystem::path dir() const { return tmp.path() / ".arcade"; }

    explicit Arcade(const std::string& posthog_url = "") : env(arcade_env(tmp.path(), posthog_url)) {}

    static std::string binary() {
        std::string bin = env_path("ARCADE_BIN");
        REQUIRE_FALSE(bin.empty());
        return bin;
    }

    ProcessResult run(std::vector<std::string> args, std::optional<std::string> stdin_data = std::nullopt) const {
        ProcessSpec spec;
        spec.argv = {binary()};
        spec.argv.insert(spec.argv.end(), args.begin(), args.end());
        spec.env = env;
        spec.stdin_data = std::move(stdin_data);
        return run_process(spec);
    }

    // Waits (at most 12 s) until the shippers this work dir's CLI runs
    // started are gone, so a test can change the config dir without racing
    // one (including one that has not taken ship.lock yet).
    void wait_idle() const { CHECK(wait_detached_gone(tmp.path())); }

    // `usage status --json --events`, parsed.
    rapidjson::Document status() const {
        auto r = run({"usage", "status", "--json", "--events"});
        REQUIRE(r.exit_code == 0);
        rapidjson::Document d;
        d.Parse(r.out.c_str());
        REQUIRE_FALSE(d.HasParseError());
        return d;
    }

    // Events recorded so far, excluding the `usage status` calls used to look.
    // The pointers point into `status`, which must outlive them.
    std::vector<const rapidjson::Value*> events(rapidjson::Document&&) const = delete;
    std::vector<const rapidjson::Value*> events(const rapidjson::Document& status) const {
        std::vector<const rapidjson::Value*> out;
        for (auto& e : status["events"].GetArray()) {
            if (e["kind"] == "event" && e["properties"].IsObject() &&
                std::string(e["properties"]["command_name"].GetString()) == "usage.status")
                continue;
            out.push_back(&e);
        }
        return out;
    }
};

}  // namespace arcade::testing
