# shellcheck shell=bash
# make image-test: the importable VM (scripts/mkimage) without VMware. QEMU boots
# build/image/fib-stat.vmdk itself, through GRUB, presented as VMware presents a
# VM: SeaBIOS, the disk on a pvscsi controller, vmxnet3 NICs (VMware MACs) on one
# hub, a VMware SVGA adapter; the verdict is read from the serial port and from
# the screen (VGA text memory). The descriptor and both VMDKs are checked too.
# The image is built once (scripts/mkimage caches it by its inputs).

IMAGE_DIR=$ROOT/build/image
IMAGE_MAX_BYTES=$((64 * 1024 * 1024))
# One guest sequence must finish within this (TCG, a shared 2-core machine).
IMAGE_BOOT_TIMEOUT=${IMAGE_BOOT_TIMEOUT:-300}

# image_build: the image, built if an input changed.
image_build() {
	"$ROOT/scripts/mkimage" >"$TEST_TMP/mkimage.log" 2>&1 || { cat "$TEST_TMP/mkimage.log"; _fail "scripts/mkimage failed"; }
}

# image_send DIR TEXT: type TEXT on the guest's serial port.
image_send() { printf '%b' "$2" >"$1/serial.in"; }

# image_boot NAME NICS MENU_KEY: boot a copy-on-write overlay of fib-stat.vmdk
# (the image itself stays as built: GRUB writes its environment block) with
# NICS vmxnet3 NICs (IMAGE_NIC_MODEL: another QEMU NIC model), type MENU_KEY at
# the first GRUB menu (Enter: the default entry) and Enter at each "Enter on ttyS0"
# prompt, until the guest prints "fib-stat image: finished". Leaves in
# $TEST_TMP/NAME/: console.log (the serial port, CRs removed) and screen.txt
# (the VGA text screen at the end). Fails if the guest never finishes.
image_boot() {
	local name=$1 nics=$2 key=$3 model=${IMAGE_NIC_MODEL:-vmxnet3} d=$TEST_TMP/$1 i qpid menus=0 prompts=0 n fd finished=0
	local deadline=$((SECONDS + IMAGE_BOOT_TIMEOUT))
	rm -rf "$d"
	mkdir -p "$d"
	qemu-img create -q -f qcow2 -F vmdk -b "$IMAGE_DIR/fib-stat.vmdk" "$d/overlay.qcow2"
	mkfifo "$d/serial.in" "$d/serial.out" "$d/monitor.in" "$d/monitor.out"
	local net=()
	for i in $(seq 1 "$nics"); do
		net+=(-netdev "hubport,id=n$i,hubid=0" -device "$model,netdev=n$i,mac=00:50:56:f5:00:0$i,romfile=")
	done
	qemu-system-x86_64 -nodefaults -no-user-config -display none -machine pc -accel "${FIB_STAT_ACCEL:-tcg}" \
		-m 1024 -smp 2,sockets=2 -vga vmware \
		-device pvscsi,id=pvscsi0 \
		-drive "file=$d/overlay.qcow2,format=qcow2,if=none,id=disk0" \
		-device scsi-hd,drive=disk0,bus=pvscsi0.0,bootindex=0 \
		"${net[@]}" \
		-chardev "pipe,id=ser0,path=$d/serial" -serial chardev:ser0 \
		-chardev "pipe,id=mon0,path=$d/monitor" -mon chardev=mon0,mode=readline \
		</dev/null >"$d/qemu.log" 2>&1 &
	qpid=$!
	cat "$d/serial.out" >"$d/console.raw" &
	cat "$d/monitor.out" >"$d/monitor.log" &
	while [ "$SECONDS" -lt "$deadline" ] && kill -0 "$qpid" 2>/dev/null; do
		n=$(grep -c 'fib-stat boot menu:' "$d/console.raw" || true)
		if [ "$n" -gt "$menus" ]; then
			[ "$menus" = 0 ] && image_send "$d" "$key"
			menus=$n
		fi
		n=$(grep -c 'or now: Enter on ttyS0' "$d/console.raw" || true)
		if [ "$n" -gt "$prompts" ]; then
			image_send "$d" '\r'
			prompts=$n
		fi
		if grep -q 'fib-stat image: finished' "$d/console.raw"; then
			finished=1
			break
		fi
		grep -q 'Kernel panic - not syncing' "$d/console.raw" && break
		sleep 0.25
	done
	if kill -0 "$qpid" 2>/dev/null; then
		image_screen "$d"
		echo quit >"$d/monitor.in"
		for ((i = 0; i < 40; i++)); do kill -0 "$qpid" 2>/dev/null || break; sleep 0.25; done
		kill "$qpid" 2>/dev/null || true
	fi
	wait "$qpid" || true
	# A reader still waiting for QEMU to open its FIFO (QEMU did not start)
	# gets a writer and then end of file.
	for n in serial.out monitor.out; do exec {fd}<>"$d/$n"; exec {fd}>&-; done
	wait
	tr -d '\r' <"$d/console.raw" >"$d/console.log"
	echo "== $name: serial console (last 60 lines of $d/console.log)"
	tail -n 60 "$d/console.log"
	if [ "$finished" != 1 ]; then
		if grep -q 'Kernel panic - not syncing' "$d/console.raw"; then
			n="(the guest kernel panicked: $(grep -a -m1 -o 'Kernel panic - not syncing.*' "$d/console.log"))"
		elif [ "$SECONDS" -ge "$deadline" ]; then
			n="within ${IMAGE_BOOT_TIMEOUT}s (IMAGE_BOOT_TIMEOUT)"
		else
			n="before QEMU exited"
		fi
		_fail "$name: the guest did not print 'fib-stat image: finished' $n; QEMU said: $(tail -n 3 "$d/qemu.log" | tr '\n' ' ')"
	fi
}

# image_screen DIR: the VGA text screen (what tty0 shows) as DIR/screen.txt, read
# through the QEMU monitor: the CRT controller's start address (registers 0x0c,
# 0x0d: vgacon scrolls by moving it), then 80x25 character cells from there.
image_screen() {
	local d=$1 i hi lo start
	printf '%s\n' 'o /b 0x3d4 0x0c' 'i /b 0x3d5' 'o /b 0x3d4 0x0d' 'i /b 0x3d5' >"$d/monitor.in"
	# "portb[0x03d5] = 0x37"
	for ((i = 0; i < 40; i++)); do
		[ "$(grep -c 'portb\[0x03d5\] = ' "$d/monitor.log")" -ge 2 ] && break
		sleep 0.25
	done
	hi=$(sed -n 's/.*portb\[0x03d5\] = \(0x[0-9a-f]*\).*/\1/p' "$d/monitor.log" | sed -n 1p)
	lo=$(sed -n 's/.*portb\[0x03d5\] = \(0x[0-9a-f]*\).*/\1/p' "$d/monitor.log" | sed -n 2p)
	if [ -z "$hi" ] || [ -z "$lo" ]; then
		echo "image_screen: no CRT start address from the QEMU monitor"
		return 0
	fi
	start=$(((hi << 8 | lo) * 2 + 0xb8000))
	echo "xp /2000hx $start" >"$d/monitor.in"
	# 2000 cells, 8 a line: "00000000000b8000: 0x0746 0x0769 ..."
	for ((i = 0; i < 40; i++)); do
		[ "$(grep -cE '^[0-9a-f]+: 0x' "$d/monitor.log")" -ge 250 ] && break
		sleep 0.25
	done
	# The low byte of each cell is its character.
	{ grep -E '^[0-9a-f]+: 0x' "$d/monitor.log" || true; } | tail -n 250 | tr ' ' '\n' | grep '^0x' |
		awk 'function hex(s) { return index("0123456789abcdef", substr(s, 1, 1)) * 16 + index("0123456789abcdef", substr(s, 2, 1)) - 17 }
			{ c = hex(substr($1, 5, 2)); printf "%c", (c >= 32 && c < 127) ? c : 32; if (++n % 80 == 0) printf "\n" }' |
		sed 's/ *$//' >"$d/screen.txt"
	echo "== the screen (tty0) at the end:"
	cat "$d/screen.txt"
}

# json_runs FILE: the report.json blocks the guest printed, one after the other.
json_runs() { sed -n '/^----- fib-stat report.json/,/^----- end of report.json -----$/p' "$1"; }

test_image_files() {
	image_build
	local vmdk=$IMAGE_DIR/fib-stat.vmdk ova=$IMAGE_DIR/fib-stat.ova x=$TEST_TMP/ova
	check_le "fib-stat.vmdk bytes" $((IMAGE_MAX_BYTES - 1)) "$(stat -c %s "$vmdk")"
	check_le "fib-stat.ova bytes" $((IMAGE_MAX_BYTES - 1)) "$(stat -c %s "$ova")"
	echo "sizes: fib-stat.vmdk $(stat -c %s "$vmdk") bytes, fib-stat.ova $(stat -c %s "$ova") bytes"

	# VMDK: the subformat VMware Workstation and vmkfstools take, and intact.
	qemu-img info --output=json "$vmdk" >"$TEST_TMP/vmdk.json"
	check_grep "vmdk format" '^ *"format": "vmdk",$' "$TEST_TMP/vmdk.json"
	check_grep "vmdk subformat" '^ *"create-type": "monolithicSparse",$' "$TEST_TMP/vmdk.json"
	check_eq "qemu-img check fib-stat.vmdk" "No errors were found on the image." "$(qemu-img check "$vmdk" 2>&1 | head -n 1)"
	local capacity
	capacity=$(sed -n 's/^    "virtual-size": \([0-9]*\),$/\1/p' "$TEST_TMP/vmdk.json")

	# OVA: ustar, descriptor first, then manifest, then the disk.
	rm -rf "$x" && mkdir -p "$x"
	check_eq "OVA members in order" "fib-stat.ovf fib-stat.mf fib-stat-disk1.vmdk" "$(tar -tf "$ova" | tr '\n' ' ' | sed 's/ $//')"
	check_grep "OVA is a POSIX ustar archive" 'POSIX tar archive' <(file "$ova")
	tar -C "$x" -xf "$ova"
	(cd "$x" && sed -n 's/^SHA256(\(.*\))= \(.*\)$/\2  \1/p' fib-stat.mf | sha256sum --check --strict) ||
		_fail "manifest fib-stat.mf does not match the files"
	check_eq "manifest entries" 2 "$(grep -c '^SHA256(' "$x/fib-stat.mf")"

	# The OVA's disk: streamOptimized, intact, the same content as fib-stat.vmdk.
	qemu-img info --output=json "$x/fib-stat-disk1.vmdk" >"$TEST_TMP/ova-disk.json"
	check_grep "OVA disk subformat" '^ *"create-type": "streamOptimized",$' "$TEST_TMP/ova-disk.json"
	check_eq "qemu-img check OVA disk" "No errors were found on the image." "$(qemu-img check "$x/fib-stat-disk1.vmdk" 2>&1 | head -n 1)"
	check_eq "OVA disk content" "Images are identical." "$(qemu-img compare "$vmdk" "$x/fib-stat-disk1.vmdk" 2>&1)"

	# The descriptor: well-formed, and what it declares (XPath on local names:
	# the OVF, RASD and VMware namespaces need no declaring).
	local ovf=$x/fib-stat.ovf
	xmllint --noout "$ovf" || _fail "fib-stat.ovf is not well-formed XML"
	q() { xmllint --xpath "$1" "$ovf" 2>/dev/null; }
	# attr ELEMENT ATTRIBUTE: the attribute of the first such element
	attr() { q "string(//*[local-name()='$1']/@*[local-name()='$2'])"; }
	# items RESOURCE_TYPE [FIELD VALUE]: how many hardware items of that type (with FIELD = VALUE)
	items() {
		if [ $# = 1 ]; then
			q "count(//*[local-name()='Item'][*[local-name()='ResourceType']=$1])"
		else
			q "count(//*[local-name()='Item'][*[local-name()='ResourceType']=$1][*[local-name()='$2']='$3'])"
		fi
	}
	# field RESOURCE_TYPE FIELD: FIELD of the first item of that type
	field() { q "string(//*[local-name()='Item'][*[local-name()='ResourceType']=$1]/*[local-name()='$2'])"; }
	check_eq "File href" fib-stat-disk1.vmdk "$(attr File href)"
	check_eq "File size = the disk in the OVA" "$(stat -c %s "$x/fib-stat-disk1.vmdk")" "$(attr File size)"
	check_eq "File id" file1 "$(attr File id)"
	check_eq "Disk fileRef" file1 "$(attr Disk fileRef)"
	check_eq "Disk capacity = virtual size" "$capacity" "$(attr Disk capacity)"
	check_eq "Disk capacity unit" byte "$(attr Disk capacityAllocationUnits)"
	check_eq "Disk format" http://www.vmware.com/interfaces/specifications/vmdk.html#streamOptimized "$(attr Disk format)"
	check_eq "disk items" 1 "$(items 17)"
	check_eq "Disk id" vmdisk1 "$(attr Disk diskId)"
	check_eq "disk item on the disk" ovf:/disk/vmdisk1 "$(field 17 HostResource)"
	check_eq "CPU items" 1 "$(items 3)"
	check_eq "vCPUs" 2 "$(field 3 VirtualQuantity)"
	check_eq "memory items" 1 "$(items 4)"
	check_eq "memory unit" "byte * 2^20" "$(field 4 AllocationUnits)"
	check_eq "memory MiB" 1024 "$(field 4 VirtualQuantity)"
	check_eq "SCSI controllers" 1 "$(items 6 ResourceSubType VirtualSCSI)"
	check_eq "SCSI controller id" 3 "$(field 6 InstanceID)"
	check_eq "disk on the SCSI controller" 3 "$(field 17 Parent)"
	check_eq "NICs" 2 "$(items 10)"
	check_eq "vmxnet3 NICs" 2 "$(items 10 ResourceSubType VmxNet3)"
	check_eq "NICs on one network" 2 "$(items 10 Connection "VM Network")"
	check_eq "networks" 1 "$(q "count(//*[local-name()='Network'])")"
	check_eq "network name" "VM Network" "$(attr Network name)"
	check_eq "serial ports" 1 "$(items 21)"
	check_eq "firmware" bios "$(q "string(//*[local-name()='Config'][@*[local-name()='key']='firmware']/@*[local-name()='value'])")"
}

# The default menu entry (Enter at the menu): "both", spin then bh after a
# reboot, on two vmxnet3 NICs on one hub.
test_image_both_vmxnet3() {
	image_build
	image_boot both 2 '\r'
	local c=$TEST_TMP/both/console.log j=$TEST_TMP/both/runs.json
	check_eq "GRUB menus (two boots)" 2 "$(grep -c 'fib-stat boot menu:' "$c")"
	check_eq "GRUB: the both entry, then the second half from its environment block" \
		"fib-stat: both, boot 1 of 2: spin|fib-stat: both, boot 2 of 2: bh" \
		"$(grep -o 'fib-stat: [a-z]*, boot [0-9] of [0-9]: [a-z]*' "$c" | tr '\n' '|' | sed 's/|$//')"
	check_eq "kernels booted" 2 "$(grep -c '^fib-stat image: boot [0-9] of [0-9]: lock mode ' "$c")"
	check_grep "boot 1: spin" '^fib-stat image: boot 1 of 2: lock mode spin \(' "$c"
	check_grep "boot 2: bh" '^fib-stat image: boot 2 of 2: lock mode bh \(' "$c"
	check_eq "vmxnet3 topology, both boots" 2 "$(grep -c '^fib-stat image: vmxnet3 NICs eth0 -> ns1 192\.0\.2\.1, eth1 -> ns2 192\.0\.2\.2$' "$c")"
	check_no_grep "no veth fallback" 'falling back to a veth pair' "$c"
	# The seed's report on the console as the kernel printed it during the runs
	# (from the scenario's start to its verdict): once, in the spin run.
	sed -n '/^fib-stat image: make repro scenario:/,/^fib-stat repro verdict/p' "$c" >"$c.runs"
	check_eq "lockdep reports printed during the runs" 1 "$(grep -cE '^\[ *[0-9]+\.[0-9]+\] WARNING: inconsistent lock state$' "$c.runs")"
	check_eq "the transition, printed by the kernel" 1 "$(grep -cE '^\[ *[0-9]+\.[0-9]+\] inconsistent \{SOFTIRQ-ON-W\} -> \{IN-SOFTIRQ-W\} usage\.$' "$c.runs")"

	json_runs "$c" >"$j"
	check_eq "verdicts" 2 "$(grep -c '^----- fib-stat report.json' "$j")"
	check_eq "verdicts passed" 2 "$(grep -c '^  "passed": true,' "$j")"
	check_eq "spin run judged" 1 "$(grep -c '"mode": "spin",' "$j")"
	check_eq "bh run judged" 1 "$(grep -c '"mode": "bh",' "$j")"
	check_eq "runs on vmxnet3" 2 "$(grep -c '"topology": "vmxnet3",' "$j")"
	check_eq "the seed's transition" 1 "$(grep -c '"transition": "{SOFTIRQ-ON-W} -> {IN-SOFTIRQ-W}",' "$j")"
	check_eq "lock class" 1 "$(grep -c '"lock_class": "fib_stat.lock",' "$j")"
	check_eq "process side" 1 "$(grep -c '"process_side_caller": "fib_stat_rcv_proc",' "$j")"
	check_eq "softirq side" 1 "$(grep -c '"irq_side_caller": "net_event_callback",' "$j")"
	check_eq "vmxnet3 NAPI poll below arp_rcv" 1 "$(grep -c '"name": "softirq side: under the vmxnet3 NAPI poll",' "$j")"
	check_eq "bh run without a report" 1 "$(grep -c '"lockdep_report": false,' "$j")"
	check_eq "debug_locks: 0 after spin, 1 after bh" "0 1" "$(sed -n 's/^      "debug_locks": \([0-9]\),$/\1/p' "$j" | tr '\n' ' ' | sed 's/ $//')"
	check_eq "failed checks" 0 "$(grep -c '"ok": false' "$j")"

	# The human verdict on the serial port and the last one on the screen.
	check_grep "spin summary" '^fib-stat image: spin PASS: spin_lock reproduces the seed.s lockdep report$' "$c"
	check_grep "bh summary" '^fib-stat image: bh PASS: spin_lock_bh runs the workload clean, debug_locks 1$' "$c"
	check_grep "reboot between" '^fib-stat image: rebooting$' "$c"
	local s=$TEST_TMP/both/screen.txt
	check_grep "screen: verdict" '^fib-stat repro verdict: PASS' "$s"
	check_grep "screen: bh run" '^PASS bh +netlink-then-arp +no kernel report' "$s"
	check_grep "screen: debug_locks" '^ +debug_locks +1 +lockdep usage \+\.-\. ' "$s"
	check_grep "screen: bh summary" '^fib-stat image: bh PASS: spin_lock_bh runs the workload clean, debug_locks 1$' "$s"
	check_grep "screen: finished" '^fib-stat image: finished; the VM can be powered off$' "$s"
}

# Menu entry 2 (spin) typed on the serial port, one NIC: the veth fallback.
test_image_spin_one_nic_veth() {
	image_build
	image_boot spin-veth 1 2
	local c=$TEST_TMP/spin-veth/console.log j=$TEST_TMP/spin-veth/runs.json
	check_eq "GRUB menus (one boot)" 1 "$(grep -c 'fib-stat boot menu:' "$c")"
	check_eq "GRUB: the spin entry" "fib-stat: spin" "$(grep -o 'fib-stat: [a-z]*$' "$c")"
	check_eq "kernels booted" 1 "$(grep -c '^fib-stat image: boot [0-9] of [0-9]: lock mode ' "$c")"
	check_grep "boot: spin only" '^fib-stat image: boot 1 of 1: lock mode spin \(' "$c"
	check_grep "counts the NICs" '^fib-stat image: 1 NIC\(s\), 1 vmxnet3; the scenario needs two on one network:$' "$c"
	check_grep "says it falls back" '^fib-stat image: falling back to a veth pair \(ARP through veth, not a NIC\)$' "$c"
	json_runs "$c" >"$j"
	check_eq "verdicts" 1 "$(grep -c '^----- fib-stat report.json' "$j")"
	check_grep "verdict" '^  "passed": true,' "$j"
	check_grep "veth scenario" '"scenario": "netlink-then-arp-veth",' "$j"
	check_grep "veth topology" '"topology": "veth",' "$j"
	check_grep "the seed's transition" '"transition": "\{SOFTIRQ-ON-W\} -> \{IN-SOFTIRQ-W\}",' "$j"
	check_grep "lock class" '"lock_class": "fib_stat.lock",' "$j"
	check_grep "process side" '"process_side_caller": "fib_stat_rcv_proc",' "$j"
	check_grep "softirq side" '"irq_side_caller": "net_event_callback",' "$j"
	check_eq "failed checks" 0 "$(grep -c '"ok": false' "$j")"
	check_no_grep "no reboot" '^fib-stat image: rebooting' "$c"
	local s=$TEST_TMP/spin-veth/screen.txt
	check_grep "screen: spin run" '^PASS spin +netlink-then-arp-veth +inconsistent lock state' "$s"
	check_grep "screen: transition" '^ +transition +\{SOFTIRQ-ON-W\} -> \{IN-SOFTIRQ-W\}$' "$s"
	check_grep "screen: lock class" '^ +lock class +fib_stat\.lock$' "$s"
	check_grep "screen: process side" '^ +process side +fib_stat_rcv_proc$' "$s"
	check_grep "screen: softirq side" '^ +softirq side +net_event_callback$' "$s"
	check_grep "screen: spin summary" '^fib-stat image: spin PASS: spin_lock reproduces the seed.s lockdep report$' "$s"
}
