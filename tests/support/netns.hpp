// Test support: a network namespace joined to this one by a veth pair, so that tests can
// send real packets between two hosts made for the test (10.199.0.1 here, 10.199.0.2
// in the namespace). Everything is removed on destruction.
#pragma once

#include <string>

namespace test {

class VethPair {
public:
    VethPair();  // throws std::runtime_error when ip(8) fails
    ~VethPair();
    VethPair(const VethPair&) = delete;
    VethPair& operator=(const VethPair&) = delete;

    const std::string& host_interface() const { return host_; }
    static constexpr const char* host_address = "10.199.0.1";
    static constexpr const char* peer_address = "10.199.0.2";

    // Sends `n` UDP datagrams from the namespace to host_address:`port`; true if all left.
    bool send_udp_from_peer(int n, int port) const;

private:
    std::string ns_, host_, peer_;
};

}  // namespace test
