// Test support: a BPF object loaded with every map pinned in a directory of this test's
// own (under /sys/fs/bpf, named by pid), unpinned with the directory when it goes.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <optional>
#include <string>
#include <system_error>

#include "ebpf/object.hpp"
#include "ebpf/pin.hpp"
#include "kernel.hpp"
#include "process.hpp"
#include "unique.hpp"

namespace test {

// Removes a pin directory this test made, with everything in it (never another's).
inline void remove_own_pin_dir(const std::string& dir) {
    if (dir.empty()) return;
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
}

class PinnedObject {
public:
    PinnedObject(const std::string& object_path, const std::string& dir_prefix)
        : dir_(ebpf::pins::make_trusted_dir("/sys/fs/bpf/" + unique_name(dir_prefix))),
          object_(ebpf::Object::open_file(object_path)) {
        try {
            object_.load();
            object_.pin_maps(dir_);
        } catch (...) {
            remove_own_pin_dir(dir_);
            throw;
        }
    }
    ~PinnedObject() { remove_own_pin_dir(dir_); }
    PinnedObject(const PinnedObject&) = delete;
    PinnedObject& operator=(const PinnedObject&) = delete;

    const std::string& dir() const { return dir_; }
    std::string pin(const std::string& map_name) const { return dir_ + "/" + map_name; }
    ebpf::Object& object() { return object_; }

private:
    std::string dir_;
    ebpf::Object object_;
};

// A fixture around PinnedObject: each test gets `object_file` loaded with its maps pinned
// in dir_, all gone at TearDown.
class PinnedObjectTest : public ::testing::Test {
protected:
    PinnedObjectTest(std::string object_path, std::string dir_prefix)
        : object_path_(std::move(object_path)), dir_prefix_(std::move(dir_prefix)) {}
    void SetUp() override {
        REQUIRE_KERNEL();
        pinned_.emplace(object_path_, dir_prefix_);
        dir_ = pinned_->dir();
        object_ = &pinned_->object();
    }
    void TearDown() override { pinned_.reset(); }
    std::string pin(const std::string& map_name) const { return pinned_->pin(map_name); }

    std::string dir_;
    ebpf::Object* object_ = nullptr;

private:
    std::string object_path_, dir_prefix_;
    std::optional<PinnedObject> pinned_;
};

// A fixture whose maps `ebpf-tool run OBJECT --pin DIR` pinned, as a user pins them (the
// tool loads the object, pins, runs one interval and exits), removed at TearDown.
class RunPinnedTest : public ::testing::Test {
protected:
    RunPinnedTest(std::string object_path, std::string dir_prefix)
        : object_path_(std::move(object_path)), dir_prefix_(std::move(dir_prefix)) {}
    void SetUp() override {
        REQUIRE_KERNEL();
        dir_ = unique_name("/sys/fs/bpf/" + dir_prefix_);
        auto r = run({tool_path(), "run", object_path_, "--pin", dir_, "--count", "1", "--interval", "0.05"},
                     std::chrono::seconds(30));
        ASSERT_EQ(r.exit_code, 0) << r.err;
    }
    void TearDown() override { remove_own_pin_dir(dir_); }
    std::string pin(const std::string& map_name) const { return dir_ + "/" + map_name; }

    std::string dir_;

private:
    std::string object_path_, dir_prefix_;
};

}  // namespace test
