// posthog-sink: serves a PostHog-compatible capture endpoint on 127.0.0.1
// for integration tests, benchmarks and manual runs, until SIGINT/SIGTERM.
// Behaviour and scripted faults are those of arcade::testing::PostHogSink.

#include "support/posthog_sink.h"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <charconv>
#include <system_error>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <stdexcept>
#include <string>
#include <string_view>

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

// Reads "--name value" and "--name=value"; throws std::invalid_argument.
Options parse_args(int argc, char **argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      options.help = true;
      continue;
    }
    std::string name(arg);
    std::string value;
    if (const auto eq = arg.find('='); eq != std::string_view::npos) {
      name = arg.substr(0, eq);
      value = arg.substr(eq + 1);
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      throw std::invalid_argument("missing value for " + name);
    }
    if (name == "--port") {
      const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), options.port);
      if (ec != std::errc{} || end != value.data() + value.size() || options.port < 0 ||
          options.port > 65535) {
        throw std::invalid_argument("bad port '" + value + "'");
      }
    } else if (name == "--script") {
      options.script = value;
    } else if (name == "--out") {
      options.out_path = value;
    } else if (name == "--port-file") {
      options.port_file = value;
    } else if (name == "--api-key") {
      options.api_key = value;
    } else {
      throw std::invalid_argument("unknown option " + name);
    }
  }
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
  // Blocked before the sink starts so that its threads inherit the mask and
  // only sigwait() below ever sees these signals.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

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

  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  sink.stop();
  std::cout << "requests " << sink.requests().size() << ", accepted events "
            << sink.accepted_count() << std::endl;
  return 0;
}

}  // namespace

int main(int argc, char **argv) {
  try {
    const Options options = parse_args(argc, argv);
    if (options.help) {
      std::cout << kUsage;
      return 0;
    }
    return run(options);
  } catch (const std::invalid_argument &e) {
    std::cerr << "posthog-sink: " << e.what() << '\n' << kUsage;
    return 2;
  } catch (const std::exception &e) {
    std::cerr << "posthog-sink: " << e.what() << '\n';
    return 1;
  }
}
