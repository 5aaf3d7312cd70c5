// Test support for the packet commands: two hosts made for one test — this namespace and
// a new network namespace — joined by a veth pair, with an IPv4 /30 and an IPv6 /126 of
// their own. Names and subnets come from getpid() and a per-process counter, so tests
// running at the same time never share an interface, a namespace or an address.
//
// The link is quiet by construction, so that counts are exact: ARP off with permanent
// neighbour entries (no ARP, no neighbour solicitations), no IPv6 link-local address and
// addresses without DAD (no router solicitations, no DAD, no MLD reports). The only
// packets on it are the ones a test sends.
//
// Traffic always goes from the namespace (the peer) to this side (the host), where the
// programs under test are attached, and each helper returns only once the host has the
// packets (received, or answered), so the XDP/tc programs have counted them.
#pragma once

#include <cstdint>
#include <string>

namespace test {

class NetLab {
public:
    NetLab();  // throws std::runtime_error when ip(8) fails
    ~NetLab();
    NetLab(const NetLab&) = delete;
    NetLab& operator=(const NetLab&) = delete;

    const std::string& host_interface() const { return host_; }
    int host_ifindex() const;
    // family 4 or 6.
    const std::string& host_address(int family) const { return family == 4 ? host4_ : host6_; }
    const std::string& peer_address(int family) const { return family == 4 ? peer4_ : peer6_; }

    // Sends `n` UDP datagrams of `payload` bytes from one peer socket (one flow) to a host
    // socket; true when the host received all of them. *peer_port gets the source port.
    bool udp_flow(int family, int n, int payload, std::uint16_t* peer_port = nullptr) const;
    // `flows` datagrams, each from a new peer socket (so a new source port): that many flows.
    bool udp_flows(int family, int flows) const;
    // `m` ICMP (ICMPv6) echo requests from the peer, each answered by the host before the
    // next; true when all were answered.
    bool ping(int family, int m) const;
    // A TCP connection from the peer to a host listener: connect, send `bytes`, close;
    // the host reads to EOF and closes. true when all of it happened.
    bool tcp_connection(int family, int bytes, std::uint16_t* peer_port = nullptr) const;

    // Frame lengths (Ethernet + IP + L4 header + payload) of what the helpers send.
    static int udp_frame_length(int family, int payload) { return 14 + (family == 4 ? 20 : 40) + 8 + payload; }
    static int echo_frame_length(int family) { return 14 + (family == 4 ? 20 : 40) + 8; }

    // Whether any XDP or tcx program is attached to the host interface right now.
    bool anything_attached() const;

private:
    // Runs `body` in a child that entered the peer namespace; its exit status 0 is success.
    template <class F>
    bool in_peer(F body) const;

    std::string ns_, host_, peer_;
    std::string host4_, peer4_, host6_, peer6_;
};

}  // namespace test
