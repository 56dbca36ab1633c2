#pragma once
// Opening the user's browser at a URL, as Python's webbrowser module does.

#include <string>

#include "core/runtime.h"

namespace arcade::cli {

// Opens `url` like Python's webbrowser module: each `:`-separated entry of
// $BROWSER is a command (`%s` stands for the URL, else it is appended), the
// first one found on $PATH is started detached (never our zombie); without
// one, xdg-open. Failing to open is not an error for callers that printed the
// URL. Returns whether something was started; never throws.
bool open_browser(const Runtime& runtime, const std::string& url);

}  // namespace arcade::cli
