// Test support: a network namespace joined to this one by a veth pair, so that tests can
// send real packets between two hosts made for the test. Names and addresses are this
// process's own (other test runs share the machine): the namespace and both interfaces
// are named after the pid, and the pair gets a /30 of 10.200.0.0/16 that no interface
// here uses yet (host_address() here, peer_address() in the namespace). Packets are only
// ever sent to these addresses. Everything is removed on destruction.
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
    const std::string& peer_interface() const { return peer_; }
    const std::string& namespace_name() const { return ns_; }
    const std::string& host_address() const { return host_address_; }
    const std::string& peer_address() const { return peer_address_; }

    // Sends `n` UDP datagrams from the namespace to host_address():`port`; true if all left.
    bool send_udp_from_peer(int n, int port) const;

private:
    std::string ns_, host_, peer_;
    std::string host_address_, peer_address_;
};

}  // namespace test
