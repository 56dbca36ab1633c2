// posthog-sink: serves a PostHog-compatible capture endpoint on 127.0.0.1
// for integration tests, benchmarks and manual runs, until SIGINT/SIGTERM.
// Behaviour and scripted faults are those of arcade::testing::PostHogSink.

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <stdexcept>
#include <string>

#include "common/loopback_tool.h"
#include "support/posthog_sink.h"

namespace {

constexpr const char *kUsage =
    "usage: posthog-sink [--port N] [--script STEPS] [--out FILE] [--port-file FILE]\n"
    "                    [--api-key KEY]\n"
    "  --port N         port on 127.0.0.1 (default 0: any free port)\n"
    "  --script STEPS   comma-separated answers for successive /batch/ requests:\n"
    "                   200 | 500 | 429:2 (with Retry-After: 2) | reset | hang | slow,\n"
    "                   each optionally prefixed by delay=<ms>: (e.g. delay=3000:200)\n"
    "  --out FILE       append each accepted event to FILE as one JSON line\n"
    "  --port-file F    write the port to F once listening (atomically)\n"
    "  --api-key KEY    answer 401 unless requests carry this api_key\n";

struct Options {
  int port = 0;
  std::string script;
  std::string out_path;
  std::string port_file;
  std::string api_key;
  bool help = false;
};

// Throws std::invalid_argument.
Options parse_args(int argc, char **argv) {
  Options options;
  auto given = arcade::tools::parse_long_options(
      argc, argv, {"--port", "--script", "--out", "--port-file", "--api-key"}, options.help);
  if (given.count("--port")) options.port = arcade::tools::parse_port(given["--port"]);
  options.script = given["--script"];
  options.out_path = given["--out"];
  options.port_file = given["--port-file"];
  options.api_key = given["--api-key"];
  return options;
}

// Readers poll for the file, so it must never be seen half-written.
void write_port_file(const std::filesystem::path &path, int port) {
  auto temp = path;
  temp += ".tmp." + std::to_string(getpid());
  {
    std::ofstream file(temp, std::ios::trunc);
    file << port << '\n';
    file.close();
    if (!file) {
      std::error_code ignored;
      std::filesystem::remove(temp, ignored);
      throw std::runtime_error("cannot write " + temp.string());
    }
  }
  std::filesystem::rename(temp, path);
}

int run(const Options &options) {
  arcade::tools::StopSignals stop_signals;  // before the sink's threads start

  // Declared before the sink so it outlives the server threads writing to it.
  std::ofstream out;
  arcade::testing::PostHogSink sink(options.api_key);
  sink.script(arcade::testing::parse_script(options.script));
  if (!options.out_path.empty()) {
    out.open(options.out_path, std::ios::app);
    if (!out) throw std::runtime_error("cannot open " + options.out_path);
    sink.on_accepted([&out](const arcade::testing::ReceivedRequest &request) {
      for (const auto &event : request.events) out << event << '\n';
      out.flush();
    });
  }

  const int port = sink.start(options.port);
  if (!options.port_file.empty()) write_port_file(options.port_file, port);
  std::cout << "listening on " << sink.url() << std::endl;

  stop_signals.wait();
  sink.stop();
  std::cout << "requests " << sink.requests().size() << ", accepted events "
            << sink.accepted_count() << std::endl;
  return 0;
}

}  // namespace

int main(int argc, char **argv) {
  return arcade::tools::main_guard("posthog-sink", kUsage, [&] {
    const Options options = parse_args(argc, argv);
    if (options.help) {
      std::cout << kUsage;
      return 0;
    }
    return run(options);
  });
}
