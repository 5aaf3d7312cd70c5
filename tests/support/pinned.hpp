// Test support: a BPF object loaded with every map pinned in a directory of this test's
// own (under /sys/fs/bpf, named by pid), unpinned with the directory when it goes.
#pragma once

#include <filesystem>
#include <string>
#include <system_error>

#include "ebpf/object.hpp"
#include "ebpf/pin.hpp"
#include "unique.hpp"

namespace test {

class PinnedObject {
public:
    PinnedObject(const std::string& object_path, const std::string& dir_prefix)
        : dir_(ebpf::pins::make_trusted_dir("/sys/fs/bpf/" + unique_name(dir_prefix))),
          object_(ebpf::Object::open_file(object_path)) {
        try {
            object_.load();
            object_.pin_maps(dir_);
        } catch (...) {
            remove_dir();
            throw;
        }
    }
    ~PinnedObject() { remove_dir(); }
    PinnedObject(const PinnedObject&) = delete;
    PinnedObject& operator=(const PinnedObject&) = delete;

    const std::string& dir() const { return dir_; }
    std::string pin(const std::string& map_name) const { return dir_ + "/" + map_name; }
    ebpf::Object& object() { return object_; }

private:
    void remove_dir() {
        // Only this test's own directory: every pin in it was made here.
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
    }

    std::string dir_;
    ebpf::Object object_;
};

}  // namespace test
