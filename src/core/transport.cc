#include "core/transport.h"

#include <bpf/libbpf.h>
#include <linux/perf_event.h>
#include <spdlog/spdlog.h>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "core/error.h"

namespace snoopkit {
namespace {

class RingBuffer : public Transport {
 public:
  RingBuffer(bpf_map* map, EventHandler handler) : handler_(std::move(handler)) {
    rb_ = ring_buffer__new(bpf_map__fd(map), &RingBuffer::on_sample, this, nullptr);
    if (!rb_) throw Error("create ring buffer reader", errno);
  }
  ~RingBuffer() override { ring_buffer__free(rb_); }
  int epoll_fd() const override { return ring_buffer__epoll_fd(rb_); }
  int consume() override {
    consumed_ = 0;
    int err = ring_buffer__consume(rb_);
    return err == -kYield ? consumed_ : err;
  }
  const char* name() const override { return "ring buffer"; }

 private:
  // Returned to libbpf to end a consume early; libbpf has already moved the
  // consumer position past the event, so nothing is read twice.
  static constexpr int kYield = ECANCELED;

  static int on_sample(void* ctx, void* data, std::size_t size) noexcept {
    auto* self = static_cast<RingBuffer*>(ctx);
    self->consumed_++;
    return self->handler_(data, size) ? 0 : -kYield;
  }
  EventHandler handler_;
  int consumed_ = 0;
  ring_buffer* rb_ = nullptr;
};

class PerfBuffer : public Transport {
 public:
  PerfBuffer(bpf_map* map, std::size_t pages, std::size_t wakeup_bytes, EventHandler handler)
      : handler_(std::move(handler)) {
    perf_event_attr attr{};
    attr.type = PERF_TYPE_SOFTWARE;
    attr.config = PERF_COUNT_SW_BPF_OUTPUT;
    attr.sample_type = PERF_SAMPLE_RAW;
    attr.sample_period = 1;
    // Wake the reader by watermark (bytes pending), not for every sample.
    attr.watermark = 1;
    attr.wakeup_watermark = static_cast<__u32>(wakeup_bytes);
    // libbpf keeps the map fd to take the per-CPU fds out of the map when
    // freed: hand it a duplicate of our own, so that freeing stays correct
    // even after the skeleton (and its fd) has gone.
    map_fd_ = fcntl(bpf_map__fd(map), F_DUPFD_CLOEXEC, 0);
    if (map_fd_ < 0) throw Error("create perf buffer reader", errno);
    pb_ = perf_buffer__new_raw(map_fd_, pages, &attr, &PerfBuffer::on_event, this, nullptr);
    if (!pb_) {
      int err = errno;
      close(map_fd_);
      throw Error("create perf buffer reader", err);
    }
  }
  ~PerfBuffer() override {
    perf_buffer__free(pb_);
    close(map_fd_);
  }
  int epoll_fd() const override { return perf_buffer__epoll_fd(pb_); }
  int consume() override {
    int before = consumed_;
    int err = perf_buffer__consume(pb_);
    return err < 0 ? err : consumed_ - before;
  }
  std::uint64_t reported_lost() const override { return lost_; }
  const char* name() const override { return "perf buffer"; }

 private:
  struct Sample {
    perf_event_header header;
    std::uint32_t size;
    char data[];
  };
  struct Lost {
    perf_event_header header;
    std::uint64_t id;
    std::uint64_t lost;
  };

  static bpf_perf_event_ret on_event(void* ctx, int /*cpu*/, perf_event_header* h) noexcept {
    auto* self = static_cast<PerfBuffer*>(ctx);
    if (h->type == PERF_RECORD_SAMPLE) {
      auto* s = reinterpret_cast<Sample*>(h);
      self->consumed_++;
      // A sample's data starts 4 bytes past an 8-byte boundary, and the
      // tools read their events as structs with 64-bit fields: hand them
      // an aligned copy. One pass over a CPU buffer is bounded by its
      // size, so there is no need to yield.
      self->aligned_.resize((s->size + 7) / 8);
      std::memcpy(self->aligned_.data(), s->data, s->size);
      self->handler_(self->aligned_.data(), s->size);
    } else if (h->type == PERF_RECORD_LOST) {
      self->lost_ += reinterpret_cast<Lost*>(h)->lost;
    }
    return LIBBPF_PERF_EVENT_CONT;
  }

  EventHandler handler_;
  perf_buffer* pb_ = nullptr;
  int map_fd_ = -1;
  int consumed_ = 0;
  std::uint64_t lost_ = 0;
  std::vector<std::uint64_t> aligned_;  // reused: no allocation per event
};

}  // namespace

std::unique_ptr<Transport> make_ring_buffer(bpf_map* map, EventHandler handler) {
  return std::make_unique<RingBuffer>(map, std::move(handler));
}

std::unique_ptr<Transport> make_perf_buffer(bpf_map* map, std::size_t pages_per_cpu,
                                            std::size_t wakeup_bytes, EventHandler handler) {
  return std::make_unique<PerfBuffer>(map, pages_per_cpu, wakeup_bytes, std::move(handler));
}

}  // namespace snoopkit
