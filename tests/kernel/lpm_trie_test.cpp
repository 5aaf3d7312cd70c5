// LPM tries: the longest matching prefix wins.
#include "ebpf/lpm_trie.hpp"
#include "kernel.hpp"

namespace {

using Routes = ebpf::LpmTrie<ebpf::Ipv4, std::uint32_t>;

TEST(LpmTrie, LongestPrefixMatches) {
    REQUIRE_KERNEL();
    auto t = Routes::create("t_lpm", 16);
    t.update({8, {10, 0, 0, 0}}, 1);
    t.update({16, {10, 1, 0, 0}}, 2);
    t.update({24, {10, 1, 2, 0}}, 3);
    t.update({0, {0, 0, 0, 0}}, 99);  // default route
    EXPECT_EQ(t.longest_match({10, 1, 2, 3}), 3u);
    EXPECT_EQ(t.longest_match({10, 1, 9, 9}), 2u);
    EXPECT_EQ(t.longest_match({10, 9, 9, 9}), 1u);
    EXPECT_EQ(t.longest_match({11, 0, 0, 1}), 99u);
    EXPECT_TRUE(t.erase({0, {0, 0, 0, 0}}));
    EXPECT_FALSE(t.longest_match({11, 0, 0, 1}).has_value());
    EXPECT_EQ(t.lookup({16, {10, 1, 0, 0}}), 2u);
    EXPECT_EQ(t.get({16, {10, 1, 0, 0}}), 2u);
    EXPECT_TRUE(t.contains({24, {10, 1, 3, 0}}));   // the kernel's lookup matches the /16: never exact
    EXPECT_FALSE(t.contains({24, {11, 0, 0, 1}}));  // nothing covers it since the default route went
    EXPECT_THROW((void)t.get({24, {11, 0, 0, 1}}), ebpf::Error);
    try {
        t.update({33, {1, 2, 3, 4}}, 5);
        FAIL() << "a 33-bit prefix of an IPv4 address";
    } catch (const ebpf::Error& e) {
        EXPECT_EQ(e.code(), ebpf::errc::out_of_range);
        EXPECT_STREQ(e.what(), "map 't_lpm': prefix length 33 is longer than 32 bits");
    }
}

TEST(LpmTrie, WalksEveryPrefix) {
    REQUIRE_KERNEL();
    auto t = Routes::create("t_lpm_walk", 64);
    for (std::uint8_t i = 0; i < 20; ++i) t.update({24, {192, 168, i, 0}}, i);
    auto entries = t.entries();
    EXPECT_TRUE(entries.complete());
    ASSERT_EQ(entries.size(), 20u);
    for (const auto& [key, value] : entries) {
        EXPECT_EQ(key.prefixlen, 24u);
        EXPECT_EQ(key.data[2], value);
    }
}

}  // namespace
