#include "core/sink.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "core/error.h"

namespace snoopkit {
namespace {

// Owns both ends of a pipe so a failing assertion cannot leak them.
struct Pipe {
  int fd[2] = {-1, -1};
  Pipe() { EXPECT_EQ(::pipe(fd), 0); }
  ~Pipe() {
    close_read();
    close_write();
  }
  int r() const { return fd[0]; }
  int w() const { return fd[1]; }
  void close_read() {
    if (fd[0] >= 0) ::close(fd[0]);
    fd[0] = -1;
  }
  void close_write() {
    if (fd[1] >= 0) ::close(fd[1]);
    fd[1] = -1;
  }
};

std::string read_all(int fd) {
  std::string out;
  char buf[65536];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR)) {
    if (n > 0) out.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}

std::string pattern(std::size_t n) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (i * 7 + i / 4096) % 26);
  return s;
}

class SinkTest : public testing::Test {
 protected:
  // The runtime ignores SIGPIPE so that a vanished reader is an EPIPE.
  void SetUp() override { old_ = ::signal(SIGPIPE, SIG_IGN); }
  void TearDown() override { ::signal(SIGPIPE, old_); }

 private:
  sighandler_t old_ = SIG_DFL;
};

TEST_F(SinkTest, EmptyFlushWritesNothing) {
  Sink sink(-1);  // an invalid fd proves write(2) is not called
  EXPECT_EQ(sink.flush(), Sink::Status::kOk);
}

TEST_F(SinkTest, FlushWritesBufferToPipeAndClearsIt) {
  Pipe p;
  Sink sink(p.w());
  sink.buffer() = "line one\nline two\n";
  EXPECT_EQ(sink.flush(), Sink::Status::kOk);
  EXPECT_TRUE(sink.buffer().empty());
  sink.buffer() += "three\n";
  EXPECT_EQ(sink.flush(), Sink::Status::kOk);
  p.close_write();
  EXPECT_EQ(read_all(p.r()), "line one\nline two\nthree\n");
}

TEST_F(SinkTest, MaybeFlushWaitsForABatch) {
  Pipe p;
  Sink sink(p.w());
  sink.buffer() = "small";
  EXPECT_EQ(sink.maybe_flush(), Sink::Status::kOk);
  EXPECT_EQ(sink.buffer(), "small");
  sink.buffer() += std::string(64 * 1024, 'x');
  std::thread reader([&] { EXPECT_EQ(read_all(p.r()).size(), 5u + 64 * 1024); });
  EXPECT_EQ(sink.maybe_flush(), Sink::Status::kOk);
  EXPECT_TRUE(sink.buffer().empty());
  p.close_write();
  reader.join();
}

TEST_F(SinkTest, LargeBufferSurvivesShortWrites) {
  // Far more than a pipe holds: write(2) returns short counts while the
  // reader drains.
  const std::string data = pattern(4 << 20);
  Pipe p;
  std::string got;
  std::thread reader([&] { got = read_all(p.r()); });
  Sink sink(p.w());
  sink.buffer() = data;
  EXPECT_EQ(sink.flush(), Sink::Status::kOk);
  p.close_write();
  reader.join();
  EXPECT_EQ(got, data);
}

TEST_F(SinkTest, NonBlockingFdWaitsOnEagain) {
  const std::string data = pattern(1 << 20);
  Pipe p;
  ASSERT_EQ(::fcntl(p.w(), F_SETFL, O_NONBLOCK), 0);
  std::string got;
  std::thread reader([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // let the pipe fill up
    got = read_all(p.r());
  });
  Sink sink(p.w());
  sink.buffer() = data;
  EXPECT_EQ(sink.flush(), Sink::Status::kOk);
  p.close_write();
  reader.join();
  EXPECT_EQ(got, data);
}

std::atomic<int> g_signals{0};
void count_signal(int) {
  g_signals.fetch_add(1);
}

TEST_F(SinkTest, RetriesWriteInterruptedBySignal) {
  // No SA_RESTART: a signal arriving while write(2) blocks on a full pipe
  // makes it fail with EINTR (or return a short count), and flush retries.
  struct sigaction sa = {}, old = {};
  sa.sa_handler = count_signal;
  sigemptyset(&sa.sa_mask);
  ASSERT_EQ(::sigaction(SIGUSR1, &sa, &old), 0);
  g_signals = 0;

  const std::string data = pattern(1 << 20);
  Pipe p;
  const pthread_t writer = ::pthread_self();
  std::string got;
  std::thread reader([&] {
    for (int i = 0; i < 3; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(30));
      ::pthread_kill(writer, SIGUSR1);
    }
    got = read_all(p.r());
  });
  Sink sink(p.w());
  sink.buffer() = data;
  EXPECT_EQ(sink.flush(), Sink::Status::kOk);
  p.close_write();
  reader.join();
  ::sigaction(SIGUSR1, &old, nullptr);
  EXPECT_EQ(g_signals.load(), 3);
  EXPECT_EQ(got, data);
}

TEST_F(SinkTest, ClosedReaderIsKClosed) {
  Pipe p;
  p.close_read();
  Sink sink(p.w());
  sink.buffer() = "nobody listens\n";
  EXPECT_EQ(sink.flush(), Sink::Status::kClosed);
  EXPECT_TRUE(sink.buffer().empty());  // undeliverable data is dropped
}

TEST_F(SinkTest, ReaderVanishingMidFlushIsKClosed) {
  Pipe p;
  std::thread reader([&] {
    char buf[4096];
    EXPECT_GT(::read(p.r(), buf, sizeof buf), 0);
    p.close_read();
  });
  Sink sink(p.w());
  sink.buffer() = pattern(1 << 20);
  EXPECT_EQ(sink.flush(), Sink::Status::kClosed);
  reader.join();
  EXPECT_TRUE(sink.buffer().empty());
}

TEST_F(SinkTest, FullDiskIsKErrorWithEnospc) {
  const int fd = ::open("/dev/full", O_WRONLY | O_CLOEXEC);
  if (fd < 0) GTEST_SKIP() << "/dev/full is not available here";
  Sink sink(fd);
  sink.buffer() = "data\n";
  EXPECT_EQ(sink.flush(), Sink::Status::kError);
  EXPECT_EQ(sink.error(), ENOSPC);
  EXPECT_TRUE(sink.buffer().empty());
  ::close(fd);
}

TEST_F(SinkTest, BadFdIsKErrorWithEbadf) {
  Sink sink(-1);
  sink.buffer() = "x";
  EXPECT_EQ(sink.flush(), Sink::Status::kError);
  EXPECT_EQ(sink.error(), EBADF);
}

}  // namespace
// A stalled reader must not hold the tool past a stop signal: with a wake
// fd readable, flush returns kInterrupted and keeps what it could not write.
TEST_F(SinkTest, StalledReaderIsInterruptedByWakeFd) {
  Pipe p;
  int wake = eventfd(0, EFD_CLOEXEC);
  ASSERT_GE(wake, 0);
  int flags_before = fcntl(p.w(), F_GETFL);
  {
    Sink sink(p.w());
    sink.make_interruptible(wake);
    // The pipe's shared open file description is never made non-blocking:
    // the shell and other writers hold it too.
    EXPECT_EQ(fcntl(p.w(), F_GETFL), flags_before);
    const std::string data = pattern(1 << 20);  // far more than a pipe holds
    sink.buffer() = data;
    std::thread waker([&] {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      std::uint64_t one = 1;
      ASSERT_EQ(::write(wake, &one, sizeof one), 8);
    });
    EXPECT_EQ(sink.flush(), Sink::Status::kInterrupted);
    waker.join();
    // What the pipe took plus what is still buffered is exactly the input.
    std::string taken;
    char buf[65536];
    ssize_t n;
    fcntl(p.r(), F_SETFL, O_NONBLOCK);
    while ((n = ::read(p.r(), buf, sizeof buf)) > 0) taken.append(buf, static_cast<std::size_t>(n));
    EXPECT_GT(taken.size(), 0u);
    EXPECT_EQ(taken + sink.buffer(), data);
  }
  // The pipe's flags are as they were before the sink touched them.
  EXPECT_EQ(fcntl(p.w(), F_GETFL), flags_before);
  ::close(wake);
}

// A socket's reader can stall too: send() with MSG_DONTWAIT, the socket's
// flags untouched.
TEST_F(SinkTest, StalledSocketReaderIsInterruptedByWakeFd) {
  int sv[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  int wake = eventfd(1, EFD_CLOEXEC);  // already readable: a stop signal came
  ASSERT_GE(wake, 0);
  const int flags_before = fcntl(sv[0], F_GETFL);
  {
    Sink sink(sv[0]);
    sink.make_interruptible(wake);
    sink.buffer() = pattern(8 << 20);  // more than any socket buffer
    EXPECT_EQ(sink.flush(), Sink::Status::kInterrupted);
    EXPECT_FALSE(sink.buffer().empty());
    EXPECT_EQ(fcntl(sv[0], F_GETFL), flags_before);
  }
  ::close(sv[0]);
  ::close(sv[1]);
  ::close(wake);
}

// A FIFO whose reader is gone cannot be opened again; the sink still
// reports the vanished reader.
TEST_F(SinkTest, FifoWithoutReaderIsClosed) {
  char dir[] = "/tmp/snoopkit-sink-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const std::string path = std::string(dir) + "/fifo";
  ASSERT_EQ(mkfifo(path.c_str(), 0600), 0);
  int r = ::open(path.c_str(), O_RDONLY | O_NONBLOCK);
  int w = ::open(path.c_str(), O_WRONLY);
  ASSERT_GE(r, 0);
  ASSERT_GE(w, 0);
  ::close(r);
  {
    Sink sink(w);
    sink.make_interruptible(-1);
    sink.buffer() = "x\n";
    EXPECT_EQ(sink.flush(), Sink::Status::kClosed);
  }
  ::close(w);
  ::unlink(path.c_str());
  ::rmdir(dir);
}

TEST_F(SinkTest, WriteStdoutReportsAFullDevice) {
  int full = ::open("/dev/full", O_WRONLY | O_CLOEXEC);
  if (full < 0) GTEST_SKIP() << "no /dev/full";
  const int saved = dup(STDOUT_FILENO);
  ASSERT_GE(saved, 0);
  ASSERT_EQ(dup2(full, STDOUT_FILENO), STDOUT_FILENO);
  bool threw = false;
  try {
    write_stdout("a list\n");
  } catch (const Error& e) {
    threw = e.err() == ENOSPC;
  }
  dup2(saved, STDOUT_FILENO);
  ::close(saved);
  ::close(full);
  EXPECT_TRUE(threw);
}

TEST_F(SinkTest, StalledReaderWaitIsBounded) {
  Pipe p;
  Sink sink(p.w());
  sink.make_interruptible(-1);
  sink.set_wait_limit_ms(50);
  sink.buffer() = pattern(1 << 20);
  EXPECT_EQ(sink.flush(), Sink::Status::kInterrupted);
  EXPECT_FALSE(sink.buffer().empty());
}

TEST_F(SinkTest, RegularFileStaysBlocking) {
  char path[] = "/tmp/snoopkit-sink-XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  ::unlink(path);
  {
    Sink sink(fd);
    sink.make_interruptible(-1);
    EXPECT_EQ(fcntl(fd, F_GETFL) & O_NONBLOCK, 0);
  }
  ::close(fd);
}

}  // namespace snoopkit
