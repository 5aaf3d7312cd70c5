// Queue (FIFO), stack (LIFO) and bloom filter: the keyless maps.
#include "ebpf/queue_stack.hpp"
#include "kernel.hpp"

namespace {

TEST(Queue, IsFirstInFirstOut) {
    REQUIRE_KERNEL();
    auto q = ebpf::Queue<std::uint32_t>::create("t_queue", 4);
    EXPECT_FALSE(q.pop().has_value());
    EXPECT_FALSE(q.peek().has_value());
    for (std::uint32_t v : {1, 2, 3}) q.push(v);
    EXPECT_EQ(q.peek(), 1u);
    EXPECT_EQ(q.pop(), 1u);
    EXPECT_EQ(q.pop(), 2u);
    EXPECT_EQ(q.pop(), 3u);
    EXPECT_FALSE(q.pop().has_value());
}

TEST(Queue, FullQueueFailsOrOverwritesTheOldest) {
    REQUIRE_KERNEL();
    auto q = ebpf::Queue<std::uint64_t>::create("t_queue_full", 2);
    q.push(1);
    q.push(2);
    try {
        q.push(3);
        FAIL() << "pushed into a full queue";
    } catch (const ebpf::Error& e) {
        EXPECT_EQ(e.code(), ebpf::errc::map_full) << e.what();
        EXPECT_STREQ(e.what(), "map 't_queue_full' is full (2 of 2 entries; E2BIG)");
    }
    q.push(3, ebpf::UpdateFlags::exist);  // drops 1
    EXPECT_EQ(q.pop(), 2u);
    EXPECT_EQ(q.pop(), 3u);
}

TEST(Stack, IsLastInFirstOut) {
    REQUIRE_KERNEL();
    auto s = ebpf::Stack<std::uint32_t>::create("t_stack", 4);
    for (std::uint32_t v : {1, 2, 3}) s.push(v);
    EXPECT_EQ(s.peek(), 3u);
    EXPECT_EQ(s.pop(), 3u);
    EXPECT_EQ(s.pop(), 2u);
    EXPECT_EQ(s.pop(), 1u);
    EXPECT_FALSE(s.pop().has_value());
}

TEST(BloomFilter, HasNoFalseNegatives) {
    REQUIRE_KERNEL();
    auto b = ebpf::BloomFilter<std::uint64_t>::create("t_bloom", 1000, 3);
    EXPECT_EQ(b.info().map_extra, 3u);
    for (std::uint64_t v = 0; v < 1000; ++v) b.insert(v * 7919);
    for (std::uint64_t v = 0; v < 1000; ++v) ASSERT_TRUE(b.contains(v * 7919)) << v;
    // Values never inserted are mostly reported absent (false positives are allowed,
    // but a filter that says yes to everything is broken).
    int positives = 0;
    for (std::uint64_t v = 0; v < 1000; ++v) positives += b.contains(v * 7919 + 1);
    EXPECT_LT(positives, 500);
}

TEST(KeylessMaps, WrongTypeIsNamed) {
    REQUIRE_KERNEL();
    auto q = ebpf::Queue<std::uint32_t>::create("t_q_type", 2);
    try {
        ebpf::Stack<std::uint32_t> s(ebpf::Map::open_by_id(q.info().id));
        FAIL();
    } catch (const ebpf::Error& e) {
        EXPECT_EQ(e.code(), ebpf::errc::wrong_type);
        EXPECT_STREQ(e.what(), "Stack needs a stack map, 't_q_type' is a queue");
    }
}

}  // namespace
