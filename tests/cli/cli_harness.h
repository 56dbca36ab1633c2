#pragma once
// `arcade` in a throwaway home (support/arcade_home.h), plus reading back
// what it recorded through `arcade usage status`.

#include <rapidjson/document.h>

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "support/arcade_home.h"

namespace arcade::testing {

struct Arcade : ArcadeHome {
    using ArcadeHome::ArcadeHome;

    // `usage status --json [--events]`, parsed.
    rapidjson::Document status(bool with_events = true) const {
        std::vector<std::string> args = {"usage", "status", "--json"};
        if (with_events) args.push_back("--events");
        auto r = run(args);
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
