# Every third-party package arcade builds against, found once, here. Targets
# and folders link the imported targets named below; nothing else calls
# find_package or pkg_check_modules.
#
#   SQLiteCpp, SQLite::SQLite3   src/store (and bench's sqlite-floor)
#   CURL::libcurl                src/http (its headers only: libcurl is dlopened)
#   RAPIDJSON_INCLUDE_DIRS       header-only; its package config defines no target
#   CLI11::CLI11, fmt::fmt       src/cli, src/worker_api
#   ZLIB::ZLIB, yaml-cpp         src/shipper, src/core
#   arcade::httplib              loopback servers in tests/ and tools/
#   Catch2::Catch2               tests (only with BUILD_TESTING)

find_package(SQLiteCpp REQUIRED)
find_package(SQLite3 REQUIRED)
find_package(CURL REQUIRED)
find_package(RapidJSON REQUIRED)
find_package(CLI11 REQUIRED)
find_package(fmt REQUIRED)
find_package(ZLIB REQUIRED)
find_package(yaml-cpp REQUIRED)
find_package(Threads REQUIRED)

if(BUILD_TESTING)
  find_package(Catch2 2 REQUIRED)

  # Debian ships cpp-httplib compiled (libcpp-httplib.so), and its pkg-config
  # Cflags carry the feature macros the library was built with (OpenSSL, zlib,
  # brotli): every file including httplib.h must see the same ones, or class
  # layouts differ between the library and its callers. Hence pkg-config, not
  # the header alone, and one target that every includer links.
  find_package(PkgConfig REQUIRED)
  pkg_check_modules(CPP_HTTPLIB REQUIRED IMPORTED_TARGET cpp-httplib)
  add_library(arcade::httplib ALIAS PkgConfig::CPP_HTTPLIB)
endif()
