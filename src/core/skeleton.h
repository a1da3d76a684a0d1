#pragma once
// RAII owner for any bpftool-generated skeleton, through the C++ members
// bpftool emits (Skel::open, Skel::load, Skel::attach, Skel::destroy).

#include <bpf/libbpf.h>

#include <cerrno>
#include <string>
#include <utility>

#include "core/error.h"

namespace snoopkit {

template <class Skel>
class Skeleton {
 public:
  /// Opens the embedded BPF object (nothing is loaded into the kernel yet).
  static Skeleton open(const bpf_object_open_opts* opts) {
    Skel* s = Skel::open(opts);
    if (!s) throw Error("open BPF object", errno);
    return Skeleton(s);
  }

  // Skel::destroy detaches every link in skel->links, then closes programs
  // and maps, so one call covers every exit path, including a failure
  // half-way through attach.
  ~Skeleton() {
    if (skel_) Skel::destroy(skel_);
  }
  Skeleton(Skeleton&& o) noexcept : skel_(std::exchange(o.skel_, nullptr)) {}
  Skeleton& operator=(Skeleton&&) = delete;
  Skeleton(const Skeleton&) = delete;
  Skeleton& operator=(const Skeleton&) = delete;

  Skel* operator->() const { return skel_; }
  Skel* get() const { return skel_; }
  bpf_object* obj() const { return skel_->obj; }

  /// Loads every program whose autoload is on (the verifier runs here).
  void load() {
    int err = Skel::load(skel_);
    if (err) throw Error("load BPF programs", -err, load_hint(-err));
  }

  /// Attaches every loaded program by its section name; links land in skel->links.
  void attach() {
    int err = Skel::attach(skel_);
    if (err) throw Error("attach BPF programs", -err, attach_hint(-err));
  }

 private:
  explicit Skeleton(Skel* s) : skel_(s) {}
  static std::string load_hint(int err) {
    // EACCES from BPF_PROG_LOAD is the verifier saying no; EPERM is privileges.
    if (err == EPERM) return kPrivilegeHint;
    return "the kernel rejected a program: run with -v to see the verifier's log";
  }
  static std::string attach_hint(int err) {
    if (err == EPERM || err == EACCES) return kPrivilegeHint;
    return "run with -v to see which program failed";
  }
  Skel* skel_;
};

}  // namespace snoopkit
