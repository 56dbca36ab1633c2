#pragma once
// Linking this machine's anonymous id to an Arcade principal (SPEC §4): the
// Cloud lookup of the principal behind an API key, and the `$create_alias`
// properties (alias = the anonymous id, distinct_id = the principal).

#include <chrono>
#include <optional>
#include <string>

#include "core/credentials.h"
#include "http/transport.h"

namespace arcade::shipper {

struct PrincipalLookup {
    enum class Outcome { found, unauthorized, unavailable } outcome = Outcome::unavailable;
    std::string principal_id;  // when found
    std::string detail;        // why not, for status/debug (never contains the key)
};

// The principal behind a login (SPEC §4). A first-generation key: GET
// {cloud}/api/v1/auth/validate with `Authorization: Bearer <key>`, principal
// at data.principal_id. An OAuth login: GET {coordinator}/api/v1/auth/whoami
// with `Authorization: Bearer <access token>` (the coordinator_url of the
// file, else `cloud_url`), principal at data.account_id, else
// data.principal_id. 401/403 → unauthorized; anything else that yields no
// principal → unavailable. Never throws.
PrincipalLookup lookup_principal(http::Transport& transport, const std::string& cloud_url, const Credentials& creds,
                                 std::chrono::milliseconds timeout = std::chrono::milliseconds(2000));

// The properties of the `$create_alias` row: {"alias", "distinct_id", "$lib",
// "$lib_version", "$geoip_disable": true} and never $process_person_profile.
std::string alias_properties(const std::string& anon_id, const std::string& principal_id);

}  // namespace arcade::shipper
