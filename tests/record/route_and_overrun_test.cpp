// Live: the rtnetlink source inside a network namespace of our own, and an
// induced overrun (the recorder stopped while a fork storm runs).
#include <arpa/inet.h>
#include <net/if.h>
#include <sys/socket.h>

#include <cstdio>
#include <cstring>
#include <thread>

#include "live_fixture.h"

namespace proctape::test {
namespace {

class Netns {
 public:
  Netns() : name_("proctape-test-" + std::to_string(::getpid())) {
    added_ = shell("ip netns add " + name_ + " 2>/dev/null") == 0;
  }
  ~Netns() {
    if (added_) shell("ip netns delete " + name_ + " 2>/dev/null");
  }
  bool added() const { return added_; }
  const std::string& name() const { return name_; }

 private:
  std::string name_;
  bool added_ = false;
};

TEST_F(LiveRecorder, RouteSourceSeesADummyLinkComeAndGo) {
  ASSERT_EQ(shell("command -v ip >/dev/null"), 0)
      << "this test needs the `ip` command (iproute2): scripts/setup installs it";
  Netns netns;
  ASSERT_TRUE(netns.added()) << "ip netns add failed (are we root?)";
  std::string trace = dir_.file("route.pt");
  Child inside({"ip", "netns", "exec", netns.name(), kRecorder, "--source", "route", "-o", trace});
  ASSERT_TRUE(inside.waitFor("recording to", 10000)) << inside.output();
  std::string ip = "ip -n " + netns.name() + " ";
  // A dummy link; kernels built without CONFIG_DUMMY get a bridge, another link with no hardware behind it.
  if (shell(ip + "link add ptdummy0 type dummy 2>/dev/null") != 0) {
    std::printf("note: this kernel has no dummy links (CONFIG_DUMMY); using a bridge instead\n");
    ASSERT_EQ(shell(ip + "link add ptdummy0 type bridge"), 0);
  }
  ASSERT_EQ(shell(ip + "link set ptdummy0 up"), 0);
  ASSERT_EQ(shell(ip + "addr add 10.77.0.1/24 dev ptdummy0"), 0);
  ASSERT_EQ(shell(ip + "link del ptdummy0"), 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  inside.signal(SIGINT);
  ASSERT_EQ(inside.wait(10000), 0) << inside.output();

  TraceContents contents = readTrace(trace);
  EXPECT_TRUE(contents.damage.empty());
  ASSERT_TRUE(contents.meta);
  ASSERT_EQ(contents.meta->sources.size(), 1u);
  EXPECT_EQ(contents.meta->sources[0].netlinkFamily, netlink::kFamilyRoute);
  bool dumpedLo = false, added = false, up = false, deleted = false, addressed = false;
  int32_t index = 0;
  for (const auto& link : contents.links) {
    if (link.name == "lo") dumpedLo = true;
    if (link.name != "ptdummy0") continue;
    index = link.ifindex;
    if (link.messageType == netlink::kRtmNewLink) added = true;
    if (link.messageType == netlink::kRtmNewLink && (link.flags & IFF_UP)) up = true;
    if (link.messageType == netlink::kRtmDelLink) deleted = true;
  }
  for (const auto& address : contents.addresses) {
    in_addr expected{};
    ::inet_pton(AF_INET, "10.77.0.1", &expected);
    const auto& bytes = address.local.empty() ? address.address : address.local;
    if (address.messageType == netlink::kRtmNewAddr && address.family == AF_INET && int32_t(address.ifindex) == index &&
        bytes.size() == 4 && std::memcmp(bytes.data(), &expected, 4) == 0) {
      addressed = true;
    }
  }
  EXPECT_TRUE(dumpedLo) << "the start dump should list lo";
  EXPECT_TRUE(added) << "no RTM_NEWLINK for ptdummy0";
  EXPECT_TRUE(up) << "no RTM_NEWLINK with IFF_UP for ptdummy0";
  EXPECT_TRUE(addressed) << "no RTM_NEWADDR 10.77.0.1 on ptdummy0";
  EXPECT_TRUE(deleted) << "no RTM_DELLINK for ptdummy0";
}

TEST_F(LiveRecorder, InducedOverrunBecomesAGapAndIsReported) {
  std::string trace = dir_.file("overrun.pt");
  // A small buffer (the kernel doubles it) so that a stopped recorder overflows quickly.
  auto recorder = startRecorder({"--rcvbuf", "64K", "--no-enrich", "-o", trace});
  recorder->signal(SIGSTOP);
  forkStorm(3000);
  recorder->signal(SIGCONT);
  runTrue(5);  // events after the loss, so that the sequence numbers show it
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  recorder->signal(SIGINT);
  ASSERT_EQ(recorder->wait(10000), 0) << recorder->output();

  TraceContents contents = readTrace(trace);
  EXPECT_TRUE(contents.damage.empty());
  ASSERT_FALSE(contents.gaps.empty()) << "the overrun left no gap record\n" << recorder->output();
  uint64_t counted = 0;
  for (const auto& gap : contents.gaps) {
    EXPECT_EQ(gap.reason, format::GapReason::kernelOverrun) << gap.detail;
    EXPECT_TRUE(!gap.lostCount || *gap.lostCount > 0);
    counted += gap.lostCount.value_or(0);
  }
  long long lost = summaryValue(recorder->output(), "lost");
  long long unknown = summaryValue(recorder->output(), "lost_unknown");
  EXPECT_TRUE(lost > 0 || unknown > 0) << recorder->output();
  EXPECT_EQ(lost, (long long)counted);
  EXPECT_NE(recorder->output().find("events were lost"), std::string::npos) << recorder->output();
  // The storm made 3000 forks and 3000 exits: what was kept plus what was counted lost covers them.
  uint64_t kept = 0;
  bool exitsNameParents = false;
  for (const auto& event : contents.events) {
    if (event.type == netlink::ProcEventType::fork && event.parentTgid == ::getpid()) ++kept;
    if (event.type == netlink::ProcEventType::exit && event.hasParent && event.parentTgid == ::getpid()) ++kept;
    exitsNameParents = exitsNameParents || (event.type == netlink::ProcEventType::exit && event.hasParent);
  }
  EXPECT_EQ(unknown, 0) << "this kernel has SO_MEMINFO: every overrun has a count";
  if (exitsNameParents) {
    EXPECT_GE(kept + counted, 6000u) << "kept " << kept << ", counted lost " << counted;
  }
}

}  // namespace
}  // namespace proctape::test
