# make bench, rows 2 and 3, in one guest boot (bh module loaded, 2 CPUs):
#   GET vs RTM_GETLINK (ifindex 1) vs CTRL_CMD_GETFAMILY, one socket each,
#   tight request -> reply loop, repetitions interleaved (A B C, C B A, ...);
#   RECORD rate: 1 writer (CPU 0) vs 2 writers (CPUs 0 and 1) in one netns vs
#   2 writers in two netns (two locks), interleaved the same way.
#   netlink-rates.sh MS ROUNDS     (run by scripts/bench through vm-run)
# From tmpfs: executed from the 9p share, every page fault is a 9p read.
cp build/bin/fibstat-stress /tmp/fibstat-stress || { echo "netlink-rates: cannot copy build/bin/fibstat-stress"; exit 1; }
STRESS=/tmp/fibstat-stress
ms=$1 rounds=$2
[ "$(nproc)" = 2 ] || { echo "netlink-rates: the guest has $(nproc) CPUs, 2 needed"; exit 1; }
/usr/sbin/ip netns add ra && /usr/sbin/ip netns add rb || exit 1
$STRESS nlrate --ms "$ms" --rounds "$rounds" || exit 1
$STRESS recrate --netns ra --netns2 rb --ms "$ms" --rounds "$rounds" || exit 1
