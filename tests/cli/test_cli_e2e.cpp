#include <catch2/catch.hpp>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <thread>

#include "cli/scrub.h"
#include "cli_harness.h"
#include "core/files.h"
#include "store/identity_file.h"

using namespace arcade::testing;
namespace fs = std::filesystem;

namespace {

std::string prop(const rapidjson::Value& e, const char* key) {
    auto& p = e["properties"];
    return p.HasMember(key) && p[key].IsString() ? p[key].GetString() : "";
}

}  // namespace

TEST_CASE("arcade --version prints the version and is recorded as a usage event", "[cli]") {
    Arcade a;
    const std::string flag = GENERATE(as<std::string>{}, "--version", "-v");  // -v: the original's short form
    INFO(flag);
    auto r = a.run({flag});
    CHECK(r.exit_code == 0);
    CHECK(r.out == "arcade 0.1.0\n");
    auto s = a.status();
    auto ev = a.events(s);
    REQUIRE(ev.size() == 1);
    const auto& e = *ev[0];
    CHECK(std::string(e["event"].GetString()) == "CLI execution succeeded");
    CHECK(prop(e, "command_name") == "version");
    CHECK(prop(e, "runtime_language") == "cpp");
    CHECK(prop(e, "os_type") == "Linux");
    CHECK(prop(e, "$lib") == "arcade-cli");
    CHECK(e["properties"]["$geoip_disable"].GetBool());
    CHECK(e["properties"]["duration_ms"].IsInt64());
    CHECK(e["properties"]["device_end_timestamp"].GetDouble() >= e["properties"]["device_start_timestamp"].GetDouble());
    CHECK_FALSE(e["properties"].HasMember("error_message"));
    CHECK(std::string(e["distinct_id"].GetString()) == s["identity"]["anon_id"].GetString());
    CHECK(fs::status(a.config_dir()).permissions() == fs::perms::owner_all);
}

TEST_CASE("a failing command keeps its own exit status and records a scrubbed error", "[cli]") {
    Arcade a;
    auto r = a.run({"no-such-command", "--token=arc_supersecret1234567"});
    CHECK(r.exit_code == 2);
    CHECK(r.out.empty());
    CHECK_FALSE(r.err.empty());
    auto status_1 = a.status();
    auto ev = a.events(status_1);
    REQUIRE(ev.size() == 1);
    CHECK(std::string((*ev[0])["event"].GetString()) == "CLI execution failed");
    auto msg = prop(*ev[0], "error_message");
    CHECK_FALSE(msg.empty());
    CHECK(msg.find("arc_supersecret1234567") == std::string::npos);
}

TEST_CASE("opt-outs write nothing at all", "[cli]") {
    Arcade a;
    auto [var, value] = GENERATE(table<std::string, std::string>({{"ARCADE_USAGE_TRACKING", "0"},
                                                                  {"ARCADE_USAGE_TRACKING", " False "},
                                                                  {"ARCADE_USAGE_TRACKING", "off"},
                                                                  {"DO_NOT_TRACK", "1"},
                                                                  {"DO_NOT_TRACK", "true"},
                                                                  {"ARCADE_USAGE_POSTHOG_KEY", ""}}));
    a.env[var] = value;
    auto r = a.run({"--version"});
    CHECK(r.exit_code == 0);
    CHECK(r.out == "arcade 0.1.0\n");
    CHECK(r.err.empty());
    CHECK_FALSE(fs::exists(a.config_dir()));
    auto d = a.status(false);
    CHECK_FALSE(d["tracking"]["enabled"].GetBool());
    CHECK_FALSE(std::string(d["tracking"]["reason"].GetString()).empty());
    CHECK_FALSE(fs::exists(a.config_dir()));
}

TEST_CASE("usage disable drops pending events and persists, enable turns tracking back on", "[cli]") {
    Arcade a;
    a.run({"--version"});
    auto off = a.run({"usage", "disable"});
    CHECK(off.exit_code == 0);
    a.run({"--version"});
    auto s = a.status();
    CHECK_FALSE(s["tracking"]["enabled"].GetBool());
    CHECK(std::string(s["tracking"]["reason"].GetString()).find("usage disable") != std::string::npos);
    CHECK(s["queue"]["pending"].GetInt() == 0);
    CHECK(a.events(s).empty());
    CHECK(a.run({"usage", "enable"}).exit_code == 0);
    a.run({"--version"});
    auto status_2 = a.status();
    auto ev = a.events(status_2);
    REQUIRE(ev.size() == 2);
    CHECK(prop(*ev[0], "command_name") == "usage.enable");
    CHECK(prop(*ev[1], "command_name") == "version");
}

TEST_CASE("debug mode prints the event as it would be sent and records nothing", "[cli]") {
    Arcade a;
    a.env["ARCADE_USAGE_DEBUG"] = "1";
    auto r = a.run({"--version"});
    CHECK(r.exit_code == 0);
    CHECK(r.out == "arcade 0.1.0\n");
    rapidjson::Document d;
    d.Parse(r.err.c_str());
    REQUIRE_FALSE(d.HasParseError());
    CHECK(std::string(d["event"].GetString()) == "CLI execution succeeded");
    CHECK(d["uuid"].IsString());
    CHECK(d["timestamp"].IsString());
    CHECK(std::string(d["properties"]["command_name"].GetString()) == "version");
    CHECK(d["properties"]["$process_person_profile"].IsFalse());
    CHECK_FALSE(fs::exists(a.config_dir() / "usage.db"));
    CHECK_FALSE(fs::exists(a.config_dir() / "usage.json"));
}

TEST_CASE("the first-run privacy notice appears once per config dir", "[cli]") {
    Arcade a;
    auto first = a.run({"--version"});
    CHECK(first.err.find("ARCADE_USAGE_TRACKING=0") != std::string::npos);
    CHECK(first.err.find("DO_NOT_TRACK=1") != std::string::npos);
    CHECK(first.err.find("arcade usage disable") != std::string::npos);
    // On a machine that also has the Python CLI, only ARCADE_USAGE_TRACKING=0 stops both: say so.
    CHECK(first.err.find("ARCADE_USAGE_TRACKING=0: it is the only setting that also stops the Python Arcade CLI") !=
          std::string::npos);
    CHECK(first.err.find("stop this CLI only") != std::string::npos);
    auto second = a.run({"--version"});
    CHECK(second.err.empty());
}

TEST_CASE("usage status --json has the stable shape", "[cli]") {
    Arcade a;
    a.run({"--version"});
    auto s = a.status();
    CHECK(s["tracking"]["enabled"].IsBool());
    CHECK(s["tracking"]["reason"].IsString());
    CHECK(s["identity"]["anon_id"].IsString());
    CHECK(s["identity"]["linked_principal_id"].IsNull());
    CHECK(s["identity"]["distinct_id"].IsString());
    for (auto key : {"pending", "dead", "dropped", "sent"}) CHECK(s["queue"][key].IsInt64());
    CHECK(s["queue"]["oldest_pending_at"].IsString());
    CHECK(s["shipper"]["running"].IsBool());
    for (auto key : {"last_attempt_at", "last_success_at", "last_error", "next_attempt_at"})
        CHECK((s["shipper"][key].IsString() || s["shipper"][key].IsNull()));
    CHECK(std::string(s["journal"]["path"].GetString()) == (a.config_dir() / "usage.db").string());
    CHECK(s["journal"]["bytes"].GetInt64() > 0);
    auto text = a.run({"usage", "status"});
    CHECK(text.exit_code == 0);
    CHECK(text.out.find("\x1b[") == std::string::npos);  // no colour when not a TTY
    CHECK(text.out.find("pending") != std::string::npos);
}

TEST_CASE("usage purge asks, refuses without a terminal, and leaves no trace", "[cli]") {
    Arcade a;
    // Letters only: a long mix of letters and digits would be redacted as a token.
    const std::string marker = "MARKERpurgemeXYZ";
    // An unknown command is named in the recorded error ("No such command '…'.").
    for (int i = 0; i < 5; ++i) a.run({marker});
    auto refused = a.run({"usage", "purge"});
    CHECK(refused.exit_code == 1);
    CHECK(refused.err.find("--yes") != std::string::npos);
    CHECK(a.wait_shipper_idle());
    auto contains = [&] {
        for (auto& f : fs::directory_iterator(a.config_dir()))
            if (slurp(f.path()).find(marker) != std::string::npos) return true;
        return false;
    };
    REQUIRE(contains());
    auto old_anon = std::string(a.status()["identity"]["anon_id"].GetString());
    bool all = GENERATE(false, true);
    auto r = a.run({"usage", "purge", "--yes"} );
    if (all) r = a.run({"usage", "purge", "--yes", "--all"});
    CHECK(r.exit_code == 0);
    CHECK_FALSE(contains());
    auto s = a.status();
    CHECK(s["queue"]["pending"].GetInt() <= 1);  // only the status call itself
    CHECK((std::string(s["identity"]["anon_id"].GetString()) != old_anon) == all);
}

TEST_CASE("telemetry trouble never changes a command's status or output", "[cli]") {
    Arcade a;
    auto expect_ok = [&](const ProcessResult& r) {
        CHECK(r.exit_code == 0);
        CHECK(r.out == "arcade 0.1.0\n");
        CHECK(r.err.find("arcade usage:") == std::string::npos);  // no telemetry complaint
    };
    a.run({"--version"});  // make the config dir and show the notice
    CHECK(a.wait_shipper_idle());

    SECTION("corrupt usage.json is rebuilt") {
        std::string content = GENERATE(std::string("garbage"), std::string("[]"), std::string("{\"anon_id\": \"a\"}"),
                                       std::string(10 * 1024 * 1024, '{'));
        { std::ofstream(a.config_dir() / "usage.json") << content; }
        expect_ok(a.run({"--version"}));
        CHECK(arcade::store::read_identity_file(a.config_dir() / "usage.json").has_value());
    }
    SECTION("garbage usage.db is left alone and tracking reports why it is off") {
        for (auto suffix : {"-wal", "-shm"}) fs::remove(a.config_dir() / (std::string("usage.db") + suffix));
        std::string garbage(100000, 'g');
        { std::ofstream(a.config_dir() / "usage.db") << garbage; }
        expect_ok(a.run({"--version"}));
        CHECK(slurp(a.config_dir() / "usage.db") == garbage);
        auto d = a.status(false);
        CHECK_FALSE(d["tracking"]["enabled"].GetBool());
        auto purge = a.run({"usage", "purge", "--yes"});
        CHECK(purge.exit_code == 0);
        expect_ok(a.run({"--version"}));
        CHECK(a.status()["tracking"]["enabled"].GetBool());
    }
    SECTION("usage.json as a symlink: its target is never written") {
        auto target = a.path() / "target.txt";
        { std::ofstream(target) << "keep me"; }
        fs::remove(a.config_dir() / "usage.json");
        fs::create_symlink(target, a.config_dir() / "usage.json");
        expect_ok(a.run({"--version"}));
        CHECK(slurp(target) == "keep me");
    }
    SECTION("usage.db as a symlink is not opened through") {
        auto target = a.path() / "elsewhere.db";
        { std::ofstream(target) << "not yours"; }
        for (auto f : {"usage.db", "usage.db-wal", "usage.db-shm"}) fs::remove(a.config_dir() / f);
        fs::create_symlink(target, a.config_dir() / "usage.db");
        expect_ok(a.run({"--version"}));
        CHECK(slurp(target) == "not yours");
    }
    SECTION("the config dir path is a file") {
        fs::remove_all(a.config_dir());
        { std::ofstream(a.config_dir()) << "i am a file"; }
        expect_ok(a.run({"--version"}));
        CHECK(slurp(a.config_dir()) == "i am a file");
        auto st = a.run({"usage", "status", "--json"});
        CHECK(st.exit_code == 0);
    }
    SECTION("a read-only config dir") {
        if (::geteuid() == 0) {
            // root ignores permission bits: make it truly read-only with a ro mount.
            if (::mount("tmpfs", a.config_dir().c_str(), "tmpfs", MS_RDONLY, "size=1m") != 0) {
                WARN("cannot mount a read-only tmpfs here; skipped");
                return;
            }
        } else {
            fs::permissions(a.config_dir(), fs::perms::owner_read | fs::perms::owner_exec);
        }
        expect_ok(a.run({"--version"}));
        auto st = a.run({"usage", "status"});
        CHECK(st.exit_code == 0);
        if (::geteuid() == 0) ::umount(a.config_dir().c_str());
    }
    SECTION("HOME unset") {
        a.env.erase("HOME");
        expect_ok(a.run({"--version"}));
    }
    SECTION("1 MB of arguments and invalid UTF-8") {
        // Linux caps one argv string at 128 KiB (MAX_ARG_STRLEN), so 1 MB
        // arrives as eight maximal arguments.
        std::vector<std::string> args = {"no-such-command"};
        bool huge = GENERATE(true, false);
        if (huge) args.insert(args.end(), 8, std::string(128 * 1024 - 1, 'x'));
        else args.push_back("\xff\xfe\xc3(");
        auto r = a.run(args);
        CHECK(r.exit_code == 2);
        CHECK_FALSE(r.err.empty());
        auto status_3 = a.status();
        auto ev = a.events(status_3);
        REQUIRE_FALSE(ev.empty());
        auto msg = prop(*ev.back(), "error_message");
        CHECK_FALSE(msg.empty());
        CHECK(msg.size() <= 4 * arcade::cli::kMaxErrorMessageChars);
        CHECK(arcade::cli::valid_utf8(msg) == msg);
    }
}

TEST_CASE("16 processes appending at once lose nothing and never leave usage.json unparsable", "[cli]") {
    Arcade a;
    a.run({"--version"});
    constexpr int kProcs = 16, kRuns = 10;
    std::atomic<bool> done{false};
    std::atomic<int> reads{0}, bad_reads{0};
    std::thread reader([&] {
        while (!done) {
            auto r = arcade::read_file_nofollow(a.config_dir() / "usage.json", 1 << 16);
            if (r.status == arcade::ReadStatus::ok) {
                ++reads;
                if (!arcade::store::parse_identity_json(r.data)) ++bad_reads;
            }
        }
    });
    for (int status : a.run_concurrently(kProcs, kRuns, {"--version"})) CHECK(status == 0);
    done = true;
    reader.join();
    auto s = a.status();
    CHECK(a.events(s).size() == 1 + kProcs * kRuns);
    CHECK(reads > 0);
    CHECK(bad_reads == 0);
}

TEST_CASE("usage status uses colour only on a terminal, and never with NO_COLOR", "[cli]") {
    Arcade a;
    a.run({"--version"});
    ProcessSpec spec;
    spec.argv = {ArcadeHome::arcade_binary(), "usage", "status"};
    spec.env = a.env;
    spec.env["TERM"] = "xterm";
    auto tty = run_in_terminal(spec);
    CHECK(tty.exit_code == 0);
    CHECK(tty.out.find("\x1b[") != std::string::npos);
    spec.env["NO_COLOR"] = "1";
    auto no_color = run_in_terminal(spec);
    CHECK(no_color.exit_code == 0);
    CHECK(no_color.out.find("Usage tracking") != std::string::npos);
    CHECK(no_color.out.find("\x1b[") == std::string::npos);
}

TEST_CASE("usage purge asks for confirmation at a terminal", "[cli]") {
    Arcade a;
    a.run({"--version"});
    CHECK(a.wait_shipper_idle());
    ProcessSpec spec;
    spec.argv = {ArcadeHome::arcade_binary(), "usage", "purge"};
    spec.env = a.env;
    SECTION("no keeps everything") {
        auto r = run_in_terminal(spec, "n\n");
        CHECK(r.exit_code == 0);
        CHECK(r.out.find("[y/N]") != std::string::npos);
        CHECK(r.out.find("Nothing deleted") != std::string::npos);
        CHECK(a.status()["queue"]["pending"].GetInt() >= 1);
    }
    SECTION("yes purges") {
        auto r = run_in_terminal(spec, "y\n");
        CHECK(r.exit_code == 0);
        CHECK(r.out.find("Purged") != std::string::npos);
        auto status_4 = a.status();
        CHECK(a.events(status_4).empty());
    }
}

TEST_CASE("a FIFO where the journal or ship.lock belongs hangs nothing (issue 13, findings 2 and 3)", "[cli]") {
    Arcade a;
    REQUIRE(a.run({"--version"}).exit_code == 0);
    CHECK(a.wait_shipper_idle().idle);
    const std::string file = GENERATE(as<std::string>{}, "usage.db", "ship.lock");
    INFO("a FIFO at " << file);
    const auto path = a.config_dir() / file;
    std::filesystem::remove(path);
    REQUIRE(::mkfifo(path.c_str(), 0600) == 0);
    constexpr auto kBound = std::chrono::seconds(5);  // the commands take milliseconds; a hang takes for ever

    auto version = a.run({"--version"}, std::nullopt, kBound);
    CHECK_FALSE(version.timed_out);
    CHECK(version.exit_code == 0);
    CHECK(version.out.rfind("arcade ", 0) == 0);
    CHECK(a.wait_shipper_idle(kBound).idle);

    auto status = a.run({"usage", "status"}, std::nullopt, kBound);
    CHECK_FALSE(status.timed_out);
    CHECK(status.exit_code == 0);
    if (file == "usage.db") CHECK(status.out.find("not a regular file") != std::string::npos);

    auto off = a.env;
    off["ARCADE_USAGE_TRACKING"] = "0";
    ProcessSpec spec = a.arcade_spec({"usage", "status"});
    spec.env = off;
    spec.timeout = kBound;
    auto untracked = run_process(spec);
    CHECK_FALSE(untracked.timed_out);
    CHECK(untracked.exit_code == 0);
}

TEST_CASE("the config dir: HOME is never created, an open one is tightened, someone else's link is not followed "
          "(issue 13, findings 12 and 13)",
          "[cli]") {
    Arcade a;
    SECTION("a missing HOME stays missing") {
        auto env = a.env;
        env.erase("ARCADE_WORK_DIR");
        const auto home = a.path() / "no" / "such" / "home";
        env["HOME"] = home.string();
        ProcessSpec spec = a.arcade_spec({"--version"});
        spec.env = env;
        auto r = run_process(spec);
        CHECK(r.exit_code == 0);
        CHECK_FALSE(std::filesystem::exists(a.path() / "no"));
    }
    SECTION("a config dir of the user's own that anyone may write is made private") {
        std::filesystem::create_directories(a.config_dir());
        REQUIRE(::chmod(a.config_dir().c_str(), 0777) == 0);
        REQUIRE(a.run({"--version"}).exit_code == 0);
        struct stat st {};
        REQUIRE(::stat(a.config_dir().c_str(), &st) == 0);
        CHECK((st.st_mode & 0777) == 0700);
    }
    SECTION("a .arcade symlink that belongs to someone else is never written through") {
        if (::getuid() != 0) {
            WARN("needs root to give the link to another user; skipped");
            return;
        }
        const auto target = a.path() / "elsewhere";
        std::filesystem::create_directory(target);
        std::filesystem::create_directory_symlink(target, a.config_dir());
        REQUIRE(::lchown(a.config_dir().c_str(), 65534, 65534) == 0);
        auto r = a.run({"--version"});
        CHECK(r.exit_code == 0);
        CHECK(std::filesystem::is_empty(target));
    }
}
