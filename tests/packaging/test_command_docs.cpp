// The bash completion (packaging/arcade.bash-completion) and the man page
// (packaging/arcade.1) are written by hand; these tests hold them to the
// command tree `arcade` really parses (cli::build_command_tree). Every
// command, alias and visible option must be offered by the completion and
// documented in the man page, and the completion must offer nothing else.
// Hidden options (CLI11 group "", the Python CLI's compatibility flags) are
// left out of both on purpose.

#include <catch2/catch.hpp>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <iterator>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "cli/app.h"
#include "support/process.h"

namespace {

using arcade::testing::env_path;
using arcade::testing::slurp;

std::string join(const std::vector<std::string>& words, const std::string& sep = " ") {
    std::string out;
    for (const auto& w : words) {
        if (!out.empty()) out += sep;
        out += w;
    }
    return out;
}

std::string join(const std::set<std::string>& words) {
    return join(std::vector<std::string>(words.begin(), words.end()));
}

// One command of the tree (the root has an empty path) and what may follow it.
struct Command {
    const CLI::App* app = nullptr;
    std::vector<std::string> path;                    // canonical names from the root: {"worker", "rm"}
    std::vector<std::vector<std::string>> spellings;  // the path with every combination of aliases
    std::vector<std::string> aliases;                 // this command's own aliases
    std::vector<std::string> subcommands;             // names and aliases of its subcommands
    std::vector<std::string> options;                 // every name of every visible option, help included
    std::vector<std::string> help_options;            // the names of its help flag
    std::vector<std::string> valued_options;          // the names of the options that take a value
    std::vector<std::string> positionals;             // positional arguments (worker_id)
};

std::vector<std::string> names_of(const CLI::Option& opt) {
    std::vector<std::string> names;
    for (const auto& s : opt.get_snames()) names.push_back("-" + s);
    for (const auto& l : opt.get_lnames()) names.push_back("--" + l);
    return names;
}

std::vector<const CLI::App*> subcommands_of(const CLI::App& app) {
    return app.get_subcommands([](const CLI::App*) { return true; });
}

void collect(const CLI::App& app, const std::vector<std::string>& path,
             const std::vector<std::vector<std::string>>& spellings, std::vector<Command>& out) {
    Command cmd;
    cmd.app = &app;
    cmd.path = path;
    cmd.spellings = spellings;
    cmd.aliases = app.get_aliases();
    for (const CLI::App* sub : subcommands_of(app)) {
        cmd.subcommands.push_back(sub->get_name());
        for (const auto& alias : sub->get_aliases()) cmd.subcommands.push_back(alias);
    }
    for (const CLI::Option* opt : app.get_options()) {
        if (opt->get_group().empty()) continue;
        if (!opt->nonpositional()) {
            cmd.positionals.push_back(opt->get_name());
            continue;
        }
        auto names = names_of(*opt);
        cmd.options.insert(cmd.options.end(), names.begin(), names.end());
        if (opt == app.get_help_ptr()) cmd.help_options = names;
        if (opt->get_items_expected_min() > 0) {
            cmd.valued_options.insert(cmd.valued_options.end(), names.begin(), names.end());
        }
    }
    out.push_back(cmd);

    for (const CLI::App* sub : subcommands_of(app)) {
        std::vector<std::string> sub_names{sub->get_name()};
        sub_names.insert(sub_names.end(), sub->get_aliases().begin(), sub->get_aliases().end());
        std::vector<std::vector<std::string>> sub_spellings;
        for (const auto& spelling : spellings) {
            for (const auto& name : sub_names) {
                auto longer = spelling;
                longer.push_back(name);
                sub_spellings.push_back(longer);
            }
        }
        auto sub_path = path;
        sub_path.push_back(sub->get_name());
        collect(*sub, sub_path, sub_spellings, out);
    }
}

// The real tree, built as run_app builds it; commands[0] is the root.
struct CommandTree {
    std::unique_ptr<CLI::App> root = std::make_unique<CLI::App>("Arcade command-line tool", "arcade");
    arcade::cli::CommandTable table;
    std::vector<Command> commands;

    CommandTree() {
        arcade::cli::build_command_tree(*root, table);
        collect(*root, {}, {{}}, commands);
    }
};

std::filesystem::path packaging_file(const char* name) {
    std::string dir = env_path("ARCADE_PACKAGING_DIR");
    REQUIRE_FALSE(dir.empty());  // set by CTest
    auto path = std::filesystem::path(dir) / name;
    REQUIRE(std::filesystem::exists(path));
    return path;
}

// What the bash completion offers after `arcade <words> ` (the cursor on a
// new, empty word).
std::set<std::string> completions(const std::filesystem::path& file, const std::vector<std::string>& words) {
    arcade::testing::ProcessSpec spec;
    spec.argv = {"/bin/bash", "-c",
                 "source \"$1\"; shift; COMP_WORDS=(arcade \"$@\" ''); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); "
                 "_arcade; printf '%s\\n' \"${COMPREPLY[@]}\"",
                 "bash", file.string()};
    spec.argv.insert(spec.argv.end(), words.begin(), words.end());
    spec.env = {{"PATH", "/usr/bin:/bin"}};
    auto result = arcade::testing::run_process(spec);
    INFO("bash completion of `arcade " << join(words) << " `: " << result.err);
    REQUIRE(result.exit_code == 0);
    std::set<std::string> offered;
    std::istringstream lines(result.out);
    for (std::string line; std::getline(lines, line);) {
        if (!line.empty()) offered.insert(line);
    }
    return offered;
}

// One `.SH` or `.SS` section of the man page, roff escapes and font changes
// removed from its title and text (the text starts with the title).
struct ManSection {
    std::string title;
    std::string text;
    bool subsection = false;
};

std::string plain(std::string roff) {
    const std::pair<const char*, const char*> escapes[] = {
        {"\\-", "-"},  {"\\&", ""},  {"\\(dq", "\""}, {"\\(en", "-"},
        {"\\fB", ""}, {"\\fI", ""}, {"\\fR", ""},   {"\\fP", ""}};
    for (const auto& [from, to] : escapes) {
        for (auto at = roff.find(from); at != std::string::npos; at = roff.find(from, at)) {
            roff.replace(at, std::string(from).size(), to);
            at += std::string(to).size();
        }
    }
    return roff;
}

std::vector<ManSection> man_sections(const std::string& page) {
    std::vector<ManSection> sections;
    std::istringstream lines(page);
    for (std::string line; std::getline(lines, line);) {
        bool sh = line.rfind(".SH ", 0) == 0;
        bool ss = line.rfind(".SS ", 0) == 0;
        if (sh || ss) {
            std::string title = plain(line.substr(4));
            title.erase(std::remove(title.begin(), title.end(), '"'), title.end());
            sections.push_back({title, title + "\n", ss});
        } else if (!sections.empty()) {
            sections.back().text += plain(line) + "\n";
        }
    }
    return sections;
}

// Whether `word` (an option such as `-y` or `--json`, or a name) stands in
// `text` on its own, not as part of a longer option or word.
bool mentions(const std::string& text, const std::string& word) {
    auto part_of_word = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_'; };
    for (auto at = text.find(word); at != std::string::npos; at = text.find(word, at + 1)) {
        bool starts = at == 0 || !part_of_word(text[at - 1]);
        bool ends = at + word.size() == text.size() || !part_of_word(text[at + word.size()]);
        if (starts && ends) return true;
    }
    return false;
}

// The command a heading such as `arcade worker rm [-d|--deregister] worker_id`
// documents: its words after `arcade`, followed down the tree while they name
// a subcommand (or an alias). The root when the first word names none;
// nullptr when the heading does not start with `arcade`.
const CLI::App* documented_command(const CLI::App& root, const std::string& heading) {
    std::istringstream words(heading);
    std::string word;
    if (!(words >> word) || word != "arcade") return nullptr;
    const CLI::App* cur = &root;
    while (words >> word) {
        const CLI::App* next = nullptr;
        for (const CLI::App* sub : subcommands_of(*cur)) {
            const auto& aliases = sub->get_aliases();
            if (sub->get_name() == word || std::find(aliases.begin(), aliases.end(), word) != aliases.end()) next = sub;
        }
        if (next == nullptr) break;
        cur = next;
    }
    return cur;
}

}  // namespace

TEST_CASE("the bash completion offers every command, alias and option, and nothing else", "[packaging]") {
    CommandTree tree;
    auto file = packaging_file("arcade.bash-completion");
    std::vector<std::string> problems;
    for (const Command& cmd : tree.commands) {
        std::set<std::string> expected(cmd.subcommands.begin(), cmd.subcommands.end());
        expected.insert(cmd.options.begin(), cmd.options.end());
        for (const auto& spelling : cmd.spellings) {
            std::string typed = spelling.empty() ? "arcade" : "arcade " + join(spelling);
            auto offered = completions(file, spelling);
            std::set<std::string> missing, extra;
            std::set_difference(expected.begin(), expected.end(), offered.begin(), offered.end(),
                                std::inserter(missing, missing.end()));
            std::set_difference(offered.begin(), offered.end(), expected.begin(), expected.end(),
                                std::inserter(extra, extra.end()));
            if (!missing.empty()) problems.push_back("after `" + typed + "` it does not offer " + join(missing));
            if (!extra.empty()) {
                problems.push_back("after `" + typed + "` it offers " + join(extra) + ", which arcade lacks");
            }
            // An option's value must not be taken for a command word.
            for (const auto& option : cmd.valued_options) {
                auto after_value = spelling;
                after_value.insert(after_value.end(), {option, "1"});
                if (completions(file, after_value) != expected) {
                    problems.push_back("after `" + typed + " " + option + " 1` it does not offer what follows `" +
                                       typed + "`: is " + option + " in the list of options that take a value?");
                }
            }
        }
    }
    INFO(join(problems, "\n"));
    CHECK(problems.empty());
}

TEST_CASE("the man page documents every command, alias and option", "[packaging]") {
    CommandTree tree;
    auto sections = man_sections(slurp(packaging_file("arcade.1")));
    std::vector<std::string> problems;
    for (const Command& cmd : tree.commands) {
        std::string name = cmd.path.empty() ? "arcade" : "arcade " + join(cmd.path);
        // The root's options are under OPTIONS; each command has a subsection
        // headed by its synopsis.
        auto section = std::find_if(sections.begin(), sections.end(), [&](const ManSection& s) {
            return cmd.path.empty() ? !s.subsection && s.title == "OPTIONS"
                                    : s.subsection && documented_command(*tree.root, s.title) == cmd.app;
        });
        if (section == sections.end()) {
            problems.push_back(cmd.path.empty() ? "no OPTIONS section" : "no subsection `.SS \"" + name + " ...\"`");
            continue;
        }
        for (const auto& option : cmd.options) {
            // Help is described once, under OPTIONS, for every command.
            bool help = std::find(cmd.help_options.begin(), cmd.help_options.end(), option) != cmd.help_options.end();
            if (help && !cmd.path.empty()) continue;
            if (!mentions(section->text, option)) problems.push_back("`" + name + "` does not describe " + option);
        }
        for (const auto& positional : cmd.positionals) {
            if (!mentions(section->text, positional)) problems.push_back("`" + name + "` does not name " + positional);
        }
        for (const auto& alias : cmd.aliases) {
            auto alias_path = cmd.path;
            alias_path.back() = alias;
            std::string alias_name = "arcade " + join(alias_path);
            if (!mentions(section->text, alias_name)) {
                problems.push_back("`" + name + "` does not say that `" + alias_name + "` is the same command");
            }
        }
    }
    // A heading that names a command arcade lacks resolves to the root, or to
    // its parent, which then has two subsections.
    std::map<const CLI::App*, std::string> headings;
    for (const ManSection& s : sections) {
        const CLI::App* documented = s.subsection ? documented_command(*tree.root, s.title) : nullptr;
        if (documented == nullptr) continue;
        if (documented == tree.root.get()) {
            problems.push_back("subsection `" + s.title + "` documents a command arcade lacks");
        } else if (auto [it, first] = headings.emplace(documented, s.title); !first) {
            problems.push_back("subsections `" + it->second + "` and `" + s.title +
                               "` document the same command: does one name a command arcade lacks?");
        }
    }
    INFO(join(problems, "\n"));
    CHECK(problems.empty());
}
