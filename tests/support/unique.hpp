// Test support: names and numbers for everything a test makes that other processes can
// see. Eight engineers and CI run kernel tests on one machine at the same time, so a
// fixed UID, namespace, interface, address or pin path would let two runs count each
// other's events or delete each other's objects. Each is derived from this process's pid,
// which no other live process has.
#pragma once

#include <unistd.h>

#include <string>
#include <string_view>

namespace test {

// How many test UIDs one process may use: slots [0, kUidSlots).
inline constexpr unsigned kUidSlots = 64;

// A UID that only this process uses, for exec_as() and --uid filters: slot `slot` of a
// block chosen by pid. Above every real account (system and the usual subuid ranges
// start lower) and below 2^31 even with the largest pid_max (2^22), so it prints and
// parses as a plain positive number everywhere.
inline unsigned test_uid(unsigned slot) {
    return 1'000'000'000u + static_cast<unsigned>(::getpid()) * kUidSlots + slot % kUidSlots;
}

// `prefix` followed by this process's pid: for netns names, interface names (keep
// prefix + 7 digits within 15 characters), pin directories and cgroups.
inline std::string unique_name(std::string_view prefix) {
    return std::string(prefix) + std::to_string(::getpid());
}

}  // namespace test
