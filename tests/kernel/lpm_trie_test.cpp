// LPM tries: the longest matching prefix wins.
#include "ebpf/lpm_trie.hpp"
#include "kernel.hpp"

namespace {

using Routes = ebpf::LpmTrie<ebpf::Ipv4, std::uint32_t>;

TEST(LpmTrie, LongestPrefixMatches) {
    REQUIRE_KERNEL();
    auto t = Routes::create("t_lpm", 16);
    t.insert(8, {10, 0, 0, 0}, 1);
    t.insert(16, {10, 1, 0, 0}, 2);
    t.insert(24, {10, 1, 2, 0}, 3);
    t.insert(0, {0, 0, 0, 0}, 99);  // default route
    EXPECT_EQ(t.longest_match({10, 1, 2, 3}), 3u);
    EXPECT_EQ(t.longest_match({10, 1, 9, 9}), 2u);
    EXPECT_EQ(t.longest_match({10, 9, 9, 9}), 1u);
    EXPECT_EQ(t.longest_match({11, 0, 0, 1}), 99u);
    EXPECT_TRUE(t.erase({0, {0, 0, 0, 0}}));
    EXPECT_FALSE(t.longest_match({11, 0, 0, 1}).has_value());
    EXPECT_EQ(t.lookup({16, {10, 1, 0, 0}}), 2u);
    EXPECT_THROW(t.insert(33, {1, 2, 3, 4}, 5), ebpf::Error);
}

TEST(LpmTrie, WalksEveryPrefix) {
    REQUIRE_KERNEL();
    auto t = Routes::create("t_lpm_walk", 64);
    for (std::uint8_t i = 0; i < 20; ++i) t.insert(24, {192, 168, i, 0}, i);
    auto entries = t.entries();
    EXPECT_TRUE(entries.complete());
    ASSERT_EQ(entries.size(), 20u);
    for (const auto& [key, value] : entries) {
        EXPECT_EQ(key.prefixlen, 24u);
        EXPECT_EQ(key.data[2], value);
    }
}

}  // namespace
