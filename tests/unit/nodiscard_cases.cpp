// Compiled once per CASE by nodiscard_test.sh: every case but 0 drops a result that must
// be kept, and must fail to compile under -Werror=unused-result. Case 0 keeps them all (it
// proves the other cases fail for the dropped result, not for something else).
#include <ebpf/hash_map.hpp>
#include <ebpf/object.hpp>

void use(ebpf::Object& object, ebpf::Program program, ebpf::Map& map, ::bpf_program* raw) {
    const ebpf::Map::ChunkVisitor visit = [](const std::byte*, const std::byte*, std::size_t) {};
#if CASE == 0
    auto links = object.attach_all();
    auto link = program.attach();
    auto raw_link = ebpf::Link::attach(raw);
    auto opened = ebpf::Object::open_file("x.bpf.o");
    auto walked = map.walk(visit);
    auto drained = map.drain(visit);
    auto pinned = ebpf::Map::open_pinned("/sys/fs/bpf/x");
    auto made = ebpf::Map::create(ebpf::MapSpec::make(BPF_MAP_TYPE_HASH, "x", 4, 4, 1));
    auto by_id = ebpf::Map::open_by_id(1);
    auto typed = ebpf::HashMap<int, int>::create("x", 1);
    auto typed_pin = ebpf::HashMap<int, int>::open_pinned("/sys/fs/bpf/x");
    auto typed_id = ebpf::HashMap<int, int>::open_by_id(1);
#elif CASE == 1
    object.attach_all();  // every program detached at once: 0 programs run
#elif CASE == 2
    program.attach();
#elif CASE == 3
    ebpf::Link::attach(raw);
#elif CASE == 4
    ebpf::Object::open_file("x.bpf.o");
#elif CASE == 5
    map.walk(visit);  // a walk cut short would pass for the whole map
#elif CASE == 6
    map.drain(visit);
#elif CASE == 7
    ebpf::Map::open_pinned("/sys/fs/bpf/x");
#elif CASE == 8
    ebpf::Map::create(ebpf::MapSpec::make(BPF_MAP_TYPE_HASH, "x", 4, 4, 1));
#elif CASE == 9
    ebpf::Map::open_by_id(1);
#elif CASE == 10
    ebpf::HashMap<int, int>::create("x", 1);  // the map is made and closed at once
#elif CASE == 11
    ebpf::HashMap<int, int>::open_pinned("/sys/fs/bpf/x");
#elif CASE == 12
    ebpf::HashMap<int, int>::open_by_id(1);
#endif
}
