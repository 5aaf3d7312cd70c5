// `ebpf-tool map`: inspect and edit any map in the kernel, with bpftool's verbs and
// selectors (id N | name NAME | pinned PATH), bpftool's byte syntax for keys and values,
// typed keys and values where the map has BTF, and bpftool's JSON schema with -j.
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <deque>
#include <exception>
#include <iostream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "commands.hpp"
#include "ebpf/btf.hpp"
#include "ebpf/error.hpp"
#include "ebpf/fd_array.hpp"
#include "ebpf/map.hpp"
#include "ebpf/pin.hpp"
#include "ebpf/storage.hpp"
#include "ebpf/system.hpp"
#include "map_data.hpp"
#include "map_format.hpp"

namespace ebpf_tool {

namespace {

// The words after `map`, consumed left to right as bpftool does.
class Words {
public:
    explicit Words(std::vector<std::string> words) : words_(std::move(words)) {}
    bool done() const { return i_ >= words_.size(); }
    const std::string& peek() const {
        static const std::string none;
        return done() ? none : words_[i_];
    }
    std::string next(const char* what) {
        if (done()) throw UsageError(std::string("map: missing ") + what);
        return words_[i_++];
    }
    bool accept(std::string_view word) {
        if (!done() && words_[i_] == word) {
            ++i_;
            return true;
        }
        return false;
    }
    void expect(std::string_view word) {
        if (!accept(word))
            throw UsageError(
                fmt::format("map: expected '{}'{}", word, done() ? "" : fmt::format(", not '{}'", peek())));
    }
    void finish() {
        if (!done()) throw UsageError(fmt::format("map: unexpected '{}'", peek()));
    }

private:
    std::vector<std::string> words_;
    std::size_t i_ = 0;
};

// The kernel opens maps by id, and walks ids, only for CAP_SYS_ADMIN: checked once the
// selector is parsed (so its usage errors come first), before the kernel is asked.
void require_id_walks() {
    ebpf::system::require({.bpf = true, .sys_admin = true});
}

// MAP := id N | name NAME | pinned PATH
ebpf::Map open_selected(Words& w) {
    std::string how = w.next("map selector (id N, name NAME or pinned PATH)");
    if (how == "id") {
        auto id = static_cast<std::uint32_t>(parse_number(w.next("map id"), "map id", UINT32_MAX));
        require_id_walks();
        return ebpf::Map::open_by_id(id);
    }
    if (how == "name") {
        std::string name = w.next("map name");
        require_id_walks();
        return ebpf::Map::open_by_name(name);
    }
    if (how == "pinned") {
        std::string path = w.next("pin path");
        ebpf::system::require({.bpf = true});
        return ebpf::Map::open_pinned(path);
    }
    throw UsageError(fmt::format("map: expected id, name or pinned, not '{}'", how));
}

bool is_keyword(const std::string& word) {
    static const char* const keywords[] = {"value", "any", "exist", "noexist", "key"};
    return std::any_of(std::begin(keywords), std::end(keywords), [&](const char* k) { return word == k; });
}

// DATA for a key or value: the words up to the next keyword (map_data.hpp reads them).
std::vector<std::byte> parse_data(Words& w, const char* what, std::size_t size, const EntryFormatter& format,
                                  std::uint32_t btf_type_id) {
    std::vector<std::string> tokens;
    bool hex = w.accept("hex");
    while (!w.done() && !is_keyword(w.peek())) tokens.push_back(w.next(what));
    return parse_data_words(tokens, hex, what, size, format.btf(), btf_type_id);
}

void write_out(const std::string& text) {
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fflush(stdout);
}

nlohmann::ordered_json info_json(const ebpf::MapInfo& i) {
    nlohmann::ordered_json j{{"id", i.id},
                             {"type", i.type_name()},
                             {"name", i.name},
                             {"flags", i.flags},
                             {"bytes_key", i.key_size},
                             {"bytes_value", i.value_size},
                             {"max_entries", i.max_entries}};
    if (i.btf_id) j["btf_id"] = i.btf_id;
    if (i.map_extra) j["map_extra"] = i.map_extra;
    return j;
}

void print_list(const std::vector<ebpf::MapInfo>& maps, const GlobalOptions& global) {
    if (global.json) {
        nlohmann::ordered_json list = nlohmann::ordered_json::array();
        for (const auto& i : maps) list.push_back(info_json(i));
        print_json(std::cout, list, global);
        return;
    }
    std::string out = fmt::format("{:>6}  {:<22} {:<16} {:>5} {:>7} {:>11}  {:<8} {}\n", "ID", "TYPE", "NAME", "KEY",
                                  "VALUE", "MAX_ENTRIES", "FLAGS", "BTF");
    for (const auto& i : maps)
        out += fmt::format("{:>6}  {:<22} {:<16} {:>5} {:>7} {:>11}  {:<8} {}\n", i.id, i.type_name(), i.name,
                           i.key_size, i.value_size, i.max_entries, fmt::format("{:#x}", i.flags),
                           i.btf_id ? std::to_string(i.btf_id) : "-");
    write_out(out);
}

void verb_list(Words& w, const GlobalOptions& global) {
    std::vector<ebpf::MapInfo> maps;
    if (w.done()) {
        require_id_walks();
        maps = ebpf::Map::list();
    } else if (w.peek() == "name") {
        w.next("name");
        std::string name = w.next("map name").substr(0, BPF_OBJ_NAME_LEN - 1);
        require_id_walks();
        for (auto& i : ebpf::Map::list())
            if (i.name == name) maps.push_back(i);
        if (maps.empty()) throw ebpf::Error::make(ebpf::errc::not_found, "map name '" + name + "': no such map");
    } else {
        maps.push_back(open_selected(w).info());
    }
    w.finish();
    print_list(maps, global);
}

// Batches of entries handed from a walking thread to the formatting one: a fixed set of
// buffers going round (filled → formatted → free again), so memory stays bounded.
class BatchPipe {
public:
    struct Batch {
        std::vector<std::byte> keys, values;
        std::size_t n = 0;
    };
    struct Cancelled {};

    explicit BatchPipe(std::size_t slots) : free_(slots) {}

    // Walking side: copies a chunk in, waiting for a free buffer; throws Cancelled when
    // the formatting side has stopped.
    void put(const std::byte* keys, std::size_t key_bytes, const std::byte* values, std::size_t value_bytes,
             std::size_t n) {
        std::unique_lock lock(mutex_);
        changed_.wait(lock, [&] { return cancelled_ || !free_.empty(); });
        if (cancelled_) throw Cancelled{};
        Batch batch = std::move(free_.back());
        free_.pop_back();
        lock.unlock();
        batch.keys.assign(keys, keys + key_bytes);
        batch.values.assign(values, values + value_bytes);
        batch.n = n;
        lock.lock();
        full_.push_back(std::move(batch));
        changed_.notify_all();
    }
    void finish(std::exception_ptr error) {
        std::lock_guard lock(mutex_);
        done_ = true;
        error_ = error;
        changed_.notify_all();
    }

    // Formatting side: the next batch, or false at the end (rethrowing the walk's error).
    bool take(Batch& batch) {
        std::unique_lock lock(mutex_);
        if (batch.keys.capacity()) free_.push_back(std::move(batch));
        changed_.notify_all();
        changed_.wait(lock, [&] { return done_ || !full_.empty(); });
        if (full_.empty()) {
            if (error_) std::rethrow_exception(error_);
            return false;
        }
        batch = std::move(full_.front());
        full_.pop_front();
        return true;
    }
    void cancel() {
        std::lock_guard lock(mutex_);
        cancelled_ = true;
        changed_.notify_all();
    }

private:
    std::mutex mutex_;
    std::condition_variable changed_;
    std::vector<Batch> free_;
    std::deque<Batch> full_;
    bool done_ = false, cancelled_ = false;
    std::exception_ptr error_;
};

// map.walk(visit), with the kernel's copying (most of a big dump: bench/map_dump) on a
// thread of its own while `visit` formats the previous batch on this one. A map that fits
// in one batch is walked directly: there is nothing to overlap, and a thread costs more
// than such a dump.
ebpf::WalkResult walk_overlapped(const ebpf::Map& map, const ebpf::Map::ChunkVisitor& visit) {
    constexpr std::size_t kBatch = 4096;
    if (map.info().max_entries <= kBatch || std::thread::hardware_concurrency() < 2) return map.walk(visit, kBatch);
    const std::size_t key_size = map.info().key_size, value_size = map.value_buffer_size();
    BatchPipe pipe(4);
    ebpf::WalkResult result;
    std::thread walker([&] {
        try {
            result = map.walk([&](const std::byte* keys, const std::byte* values,
                                  std::size_t n) { pipe.put(keys, n * key_size, values, n * value_size, n); },
                              kBatch);
            pipe.finish(nullptr);
        } catch (const BatchPipe::Cancelled&) {
            pipe.finish(nullptr);
        } catch (...) {
            pipe.finish(std::current_exception());
        }
    });
    try {
        BatchPipe::Batch batch;
        while (pipe.take(batch)) visit(batch.keys.data(), batch.values.data(), batch.n);
    } catch (...) {
        pipe.cancel();
        walker.join();
        throw;
    }
    walker.join();
    return result;
}

void verb_dump(Words& w, const GlobalOptions& global) {
    ebpf::Map map = open_selected(w);
    w.finish();
    const auto& info = map.info();
    if (info.key_size == 0)
        throw UsageError(fmt::format("map: dump: {} maps have no keys to walk (use peek, or pop)", info.type_name()));
    EntryFormatter format(info);
    std::string out;
    out.reserve(1 << 20);
    std::size_t key_width = 0;
    bool first = true;
    // With -p, entries are formatted into `entry`, then indented into `out`; without, they
    // are appended to `out` directly (the fast path of a million-entry dump).
    JsonWriter json(out, global.pretty);
    std::string entry;
    if (global.json) json.write("[");
    auto flush = [&] {
        if (out.size() >= (1 << 20)) {
            write_out(out);
            out.clear();
        }
    };
    auto result = walk_overlapped(map, [&](const std::byte* keys, const std::byte* values, std::size_t n) {
        const std::size_t vs = map.value_buffer_size();
        for (std::size_t i = 0; i < n; ++i) {
            std::span key(keys + i * info.key_size, info.key_size);
            std::span value(values + i * vs, vs);
            if (global.json && !global.pretty) {
                if (!first) out += ',';
                format.append_json(out, key, value);
            } else if (global.json) {
                entry.assign(first ? "" : ",");
                format.append_json(entry, key, value);
                json.write(entry);
            } else {
                if (first) {
                    // The key column is as wide as the widest key of the first batch.
                    for (std::size_t k = 0; k < n; ++k)
                        key_width =
                            std::max(key_width, format.key_text({keys + k * info.key_size, info.key_size}).size());
                }
                format.append_text(out, key, value, key_width);
            }
            first = false;
        }
        flush();
    });
    if (global.json) {
        json.write("]");
        out += '\n';
    } else {
        out += fmt::format("Found {} element{}{}\n", result.entries, result.entries == 1 ? "" : "s",
                           result.complete ? "" : " (the walk stopped at its bound: entries were changing under it)");
    }
    write_out(out);
    if (global.json && !result.complete)
        std::cerr << "ebpf-tool: map dump: the walk stopped at its bound (entries were changing under it)\n";
}

void print_entry(const EntryFormatter& format, std::span<const std::byte> key, std::span<const std::byte> value,
                 const GlobalOptions& global) {
    std::string out;
    if (global.json) {
        std::string entry;
        format.append_json(entry, key, value);
        JsonWriter(out, global.pretty).write(entry);
        out += '\n';
    } else {
        format.append_text(out, key, value, 0);
    }
    write_out(out);
}

void verb_lookup(Words& w, const GlobalOptions& global) {
    ebpf::Map map = open_selected(w);
    EntryFormatter format(map.info());
    w.expect("key");
    auto key = parse_data(w, "key", map.info().key_size, format, map.info().btf_key_type_id);
    w.finish();
    std::vector<std::byte> value(map.value_buffer_size());
    if (!map.lookup(key.data(), value.data()))
        throw ebpf::Error::make(ebpf::errc::key_not_found, map.describe() + ": lookup: key not found");
    print_entry(format, key, value, global);
}

// For maps whose values are references: VALUE := id N | pinned PATH (a program for prog
// arrays, a map for map-of-maps), stored as the fd the kernel expects.
std::optional<ebpf::Fd> reference_value(Words& w, const ebpf::MapInfo& info) {
    bool programs = info.type == BPF_MAP_TYPE_PROG_ARRAY;
    bool maps = info.type == BPF_MAP_TYPE_ARRAY_OF_MAPS || info.type == BPF_MAP_TYPE_HASH_OF_MAPS;
    if (!programs && !maps) return std::nullopt;
    std::string how =
        w.next(programs ? "value (id N or pinned PATH of a program)" : "value (id N or pinned PATH of a map)");
    int fd = -1;
    if (how == "id") {
        auto id = static_cast<std::uint32_t>(parse_number(w.next("id"), "id", UINT32_MAX));
        require_id_walks();
        fd = programs ? bpf_prog_get_fd_by_id(id) : bpf_map_get_fd_by_id(id);
        if (fd < 0) throw ebpf::Error::sys(fd, fmt::format("{} id {}", programs ? "program" : "map", id));
    } else if (how == "pinned") {
        std::string path = w.next("pin path");
        fd = bpf_obj_get(path.c_str());
        if (fd < 0) throw ebpf::Error::sys(fd, "pinned object '" + path + "'");
        ebpf::Fd owned(fd);
        auto want = programs ? ebpf::ObjectKind::program : ebpf::ObjectKind::map;
        if (auto kind = ebpf::object_kind(owned.get()); kind != want)
            throw ebpf::Error::make(ebpf::errc::wrong_type, "'" + path + "' is " +
                                                                std::string(ebpf::object_kind_text(kind)) + ", not " +
                                                                std::string(ebpf::object_kind_text(want)));
        return owned;
    } else {
        throw UsageError(fmt::format("map: value of a {} map: expected id or pinned, not '{}'", info.type_name(), how));
    }
    return ebpf::Fd(fd);
}

void verb_update(Words& w) {
    ebpf::Map map = open_selected(w);
    const auto& info = map.info();
    EntryFormatter format(info);
    w.expect("key");
    auto key = parse_data(w, "key", info.key_size, format, info.btf_key_type_id);
    w.expect("value");
    std::vector<std::byte> value;
    std::optional<ebpf::Fd> reference = reference_value(w, info);
    if (!reference) {
        auto one = parse_data(w, "value", info.value_size, format, info.btf_value_type_id);
        if (ebpf::is_percpu(info.type)) {
            // One value for every CPU, as bpftool does.
            const std::size_t stride = map.value_stride();
            value.assign(map.value_buffer_size(), std::byte{0});
            for (std::size_t off = 0; off < value.size(); off += stride)
                std::memcpy(value.data() + off, one.data(), one.size());
        } else {
            value = std::move(one);
        }
    }
    auto flags = ebpf::UpdateFlags::any;
    if (w.accept("exist"))
        flags = ebpf::UpdateFlags::exist;
    else if (w.accept("noexist"))
        flags = ebpf::UpdateFlags::no_exist;
    else
        w.accept("any");
    w.finish();
    if (reference)
        ebpf::update_fd(map, key.data(), reference->get(), flags);
    else
        map.update(key.data(), value.data(), flags);
}

void verb_delete(Words& w) {
    ebpf::Map map = open_selected(w);
    EntryFormatter format(map.info());
    w.expect("key");
    auto key = parse_data(w, "key", map.info().key_size, format, map.info().btf_key_type_id);
    w.finish();
    if (!map.erase(key.data()))
        throw ebpf::Error::make(ebpf::errc::key_not_found, map.describe() + ": delete: key not found");
}

void verb_getnext(Words& w, const GlobalOptions& global) {
    ebpf::Map map = open_selected(w);
    const auto& info = map.info();
    EntryFormatter format(info);
    std::optional<std::vector<std::byte>> key;
    if (w.accept("key")) key = parse_data(w, "key", info.key_size, format, info.btf_key_type_id);
    w.finish();
    std::vector<std::byte> next(info.key_size);
    if (!map.next_key(key ? key->data() : nullptr, next.data()))
        throw ebpf::Error::make(ebpf::errc::key_not_found,
                                map.describe() + ": getnext: " + (key ? "no key after this one" : "the map is empty"));
    std::string out;
    if (global.json) {
        out += '{';
        if (key) {
            out += "\"key\":";
            append_hex_json(out, *key);
            out += ',';
        }
        out += "\"next_key\":";
        append_hex_json(out, next);
        out += "}\n";
    } else {
        if (key) out += "key: " + format.key_text(*key) + "\n";
        out += "next key: " + format.key_text(next) + "\n";
    }
    write_out(out);
}

void verb_pin(Words& w) {
    ebpf::Map map = open_selected(w);
    std::string path = w.next("pin path");
    w.finish();
    map.pin(path);  // checks that the path is on bpffs, in a directory others cannot replace
}

void verb_unpin(Words& w) {
    std::string path = w.next("pin path");
    w.finish();
    ebpf::system::require({.bpf = true});
    ebpf::Map::unpin(path);
}

void verb_freeze(Words& w) {
    ebpf::Map map = open_selected(w);
    w.finish();
    map.freeze();
}

// create PATH type TYPE key N value N entries N name NAME [flags F] [inner_map MAP] [map_extra N]
void verb_create(Words& w, const GlobalOptions& global) {
    std::string path = w.next("pin path");
    ebpf::MapSpec spec;
    std::optional<ebpf::Map> inner;
    bool have_type = false, have_key = false, have_value = false, have_entries = false, have_name = false;
    while (!w.done()) {
        std::string word = w.next("create argument");
        if (word == "type") {
            std::string t = w.next("map type");
            auto type = ebpf::map_type_from_name(t);
            if (!type) throw UsageError(fmt::format("map: create: unknown map type '{}'", t));
            spec.type = *type;
            have_type = true;
        } else if (word == "key") {
            spec.key_size = static_cast<std::uint32_t>(parse_number(w.next("key size"), "key size", UINT32_MAX));
            have_key = true;
        } else if (word == "value") {
            spec.value_size = static_cast<std::uint32_t>(parse_number(w.next("value size"), "value size", UINT32_MAX));
            have_value = true;
        } else if (word == "entries") {
            spec.max_entries = static_cast<std::uint32_t>(parse_number(w.next("entries"), "entries", UINT32_MAX));
            have_entries = true;
        } else if (word == "name") {
            spec.name = w.next("map name");
            have_name = true;
        } else if (word == "flags") {
            spec.flags = static_cast<std::uint32_t>(parse_number(w.next("flags"), "flags", UINT32_MAX));
        } else if (word == "map_extra") {
            spec.map_extra = parse_number(w.next("map_extra"), "map_extra");
        } else if (word == "inner_map") {
            inner.emplace(open_selected(w));
            spec.inner_map_fd = inner->fd();
        } else {
            throw UsageError(fmt::format("map: create: unexpected '{}'", word));
        }
    }
    if (!have_type || !have_key || !have_value || !have_entries || !have_name)
        throw UsageError("map: create needs: PATH type TYPE key N value N entries N name NAME");
    if ((spec.type == BPF_MAP_TYPE_ARRAY_OF_MAPS || spec.type == BPF_MAP_TYPE_HASH_OF_MAPS) && !inner)
        throw UsageError("map: create: a map of maps needs inner_map MAP (a map shaped like its inner maps)");
    ebpf::system::require({.bpf = true});
    // Before the map exists: on bpffs, in a trusted directory, and free.
    path = ebpf::pins::new_pin_path(path);
    if (ebpf::pins::pin_present(path))
        throw ebpf::Error::make(ebpf::errc::bad_value, "pin path '" + path + "' exists already", EEXIST);

    std::optional<ebpf::Map> map;
    switch (spec.type) {
        case BPF_MAP_TYPE_SK_STORAGE:
        case BPF_MAP_TYPE_TASK_STORAGE:
        case BPF_MAP_TYPE_INODE_STORAGE:
            // The kernel needs BTF for these; bpftool cannot create them, we generate it.
            if (spec.key_size != 4) throw UsageError("map: create: local storage keys are 4 bytes (an fd)");
            map.emplace(ebpf::create_local_storage(spec.type, spec.name, spec.value_size, spec.flags));
            break;
        default:
            map.emplace(ebpf::Map::create(spec));
    }
    map->pin(path);
    if (global.json) print_json(std::cout, info_json(map->info()), global);
}

// Queues, stacks, bloom filters: keyless values.
void verb_push(Words& w) {
    ebpf::Map map = open_selected(w);
    EntryFormatter format(map.info());
    w.expect("value");
    auto value = parse_data(w, "value", map.info().value_size, format, map.info().btf_value_type_id);
    w.finish();
    map.push(value.data());
}

void verb_pop_or_peek(Words& w, bool pop, const GlobalOptions& global) {
    ebpf::Map map = open_selected(w);
    w.finish();
    EntryFormatter format(map.info());
    std::vector<std::byte> value(map.value_buffer_size());
    bool got = pop ? map.pop(value.data()) : map.peek(value.data());
    if (!got)
        throw ebpf::Error::make(ebpf::errc::key_not_found,
                                map.describe() + (pop ? ": pop" : ": peek") + ": the map is empty");
    print_entry(format, {}, value, global);
}

// The verbs, bpftool's `cmds[]`: every name a verb answers to, its synopsis for --help,
// and what runs it. Adding a verb is one row.
struct Verb {
    std::array<std::string_view, 3> names;  // unused names are empty
    std::string_view synopsis;              // after "map "
    void (*run)(Words& w, const GlobalOptions& global);
};

constexpr Verb kVerbs[] = {
    {{"list", "show"}, "{ list | show } [MAP]", verb_list},
    {{"dump"}, "dump MAP", verb_dump},
    {{"lookup"}, "lookup MAP key DATA", verb_lookup},
    {{"update"},
     "update MAP key DATA value VALUE [any|exist|noexist]",
     [](Words& w, const GlobalOptions&) { verb_update(w); }},
    {{"delete"}, "delete MAP key DATA", [](Words& w, const GlobalOptions&) { verb_delete(w); }},
    {{"getnext"}, "getnext MAP [key DATA]", verb_getnext},
    {{"pin"}, "pin MAP PATH", [](Words& w, const GlobalOptions&) { verb_pin(w); }},
    {{"unpin"}, "unpin PATH", [](Words& w, const GlobalOptions&) { verb_unpin(w); }},
    {{"create"},
     "create PATH type TYPE key N value N entries N name NAME [flags F] [inner_map MAP] [map_extra N]",
     verb_create},
    {{"freeze"}, "freeze MAP", [](Words& w, const GlobalOptions&) { verb_freeze(w); }},
    {{"peek"}, "peek MAP", [](Words& w, const GlobalOptions& g) { verb_pop_or_peek(w, false, g); }},
    {{"push", "enqueue"}, "{ push | enqueue } MAP value VALUE", [](Words& w, const GlobalOptions&) { verb_push(w); }},
    {{"pop", "dequeue"},
     "{ pop | dequeue } MAP",
     [](Words& w, const GlobalOptions& g) { verb_pop_or_peek(w, true, g); }},
};

// "list, show, dump, …": every name, for messages.
std::string verb_names() {
    std::string out;
    for (const Verb& v : kVerbs)
        for (std::string_view name : v.names)
            if (!name.empty()) out += fmt::format("{}{}", out.empty() ? "" : ", ", name);
    return out;
}

// The --help footer: every verb's synopsis, then the words they share.
std::string verbs_help() {
    std::string out;
    for (const Verb& v : kVerbs) out += fmt::format("  map {}\n", v.synopsis);
    return out +
           "  MAP  := id N | name NAME | pinned PATH\n"
           "  DATA := [hex] BYTES | TYPED (one word, for maps with BTF: 1000, TCP_ESTABLISHED, '{\"port\": 443}')";
}

void run_map(const std::vector<std::string>& args, const GlobalOptions& global) {
    Words w(args);
    const std::string what = "verb (" + verb_names() + ")";
    const std::string verb = w.next(what.c_str());
    const auto found = std::find_if(std::begin(kVerbs), std::end(kVerbs), [&](const Verb& v) {
        return std::find(v.names.begin(), v.names.end(), verb) != v.names.end();
    });
    // Before privileges: a misspelt verb is a usage error, whoever runs it.
    if (verb.empty() || found == std::end(kVerbs))
        throw UsageError(fmt::format("map: unknown verb '{}' (verbs: {})", verb, verb_names()));
    ebpf::system::set_libbpf_logging(global.verbose);
    // Every verb needs CAP_BPF, checked after its words are parsed (usage errors first):
    // with the selector (where id walks add CAP_SYS_ADMIN, named in the same line), or
    // before create and unpin touch bpffs.
    found->run(w, global);
}

}  // namespace

void add_map_command(CLI::App& app, const GlobalOptions& global) {
    auto* cmd = app.add_subcommand("map", "Inspect and edit any BPF map (bpftool's verbs, typed with BTF)");
    cmd->prefix_command();  // everything after `map` is ours to parse, as bpftool does
    cmd->footer(verbs_help());
    cmd->callback([cmd, &global] { run_map(cmd->remaining(), global); });
}

}  // namespace ebpf_tool
