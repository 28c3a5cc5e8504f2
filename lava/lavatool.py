#!/usr/bin/python3
"""fib-stat's LAVA jobs: write them, render the qemu device for one, read results.

  lavatool.py jobs OUTDIR ROOT BUILD FLAVOR...   one job per (flavor, lock mode, scenario)
  lavatool.py device JOB DEVICE                 the device dictionary for JOB, as the
                                                server renders qemu.jinja2 from its context
  lavatool.py results LOG                       lava-run's log -> "CASE RESULT" lines
  lavatool.py guest-log JOB LOG OUT             the vm-run-style log of JOB's case (for
                                                repro-verdict); prints its repro-verdict spec
                                                MODE:SCENARIO:TOPOLOGY:ORDER:STATUS:OUT

Runs with Debian's /usr/bin/python3 (python3-yaml, a dependency of lava-dispatcher).
"""
import os
import re
import sys

import yaml



def scenarios(root):
    """scripts/repro's SCENARIOS table ("name|topology|order|addr1|addr2" lines): one source."""
    text = open(os.path.join(root, "scripts", "repro")).read()
    table = re.search(r"^SCENARIOS=\((.*?)^\)", text, re.S | re.M)
    if not table:
        sys.exit("lavatool: no SCENARIOS=( ... ) table in scripts/repro")
    rows = [tuple(m.split("|")) for m in re.findall(r'^\s*"([^"]+)"\s*$', table.group(1), re.M)]
    if not rows or any(len(r) != 5 for r in rows):
        sys.exit("lavatool: scripts/repro's SCENARIOS rows are not name|topology|order|addr1|addr2")
    return rows


MODES = ["spin", "bh", "percpu"]
PROMPT = "fib-stat-lava# "
# hub 1: a device type's legacy -net options (its user network) are on hub 0.
VMXNET3 = [
    "-netdev hubport,id=n1,hubid=1 -device vmxnet3,netdev=n1,mac=52:54:00:f5:00:01",
    "-netdev hubport,id=n2,hubid=1 -device vmxnet3,netdev=n2,mac=52:54:00:f5:00:02",
]


def kernel_dir(build, flavor):
    return os.path.join(build, "kernel" if flavor == "default" else "kernel-" + flavor)


def job(root, build, flavor, mode, scen):
    name, topo, order, a1, a2 = scen
    lava = os.path.join(build, "lava")
    testdef = yaml.safe_load(open(os.path.join(root, "lava", "fib-stat.yaml")))
    # An inline definition takes no "parameters" (LAVA's schema): this job's values are its params.
    testdef["params"] = {"MODE": mode, "SCENARIO": name, "ORDER": order, "ADDR1": a1, "ADDR2": a2}
    # vm-run's kernel command line (noapictimer, no_timer_check: see scripts/vm-run).
    append = ("console=ttyS0 panic=-1 loglevel=5 noapictimer no_timer_check "
              "fibstat.topology=%s" % topo)
    extra = ["-smp 2,sockets=2", "-accel tcg"] + (VMXNET3 if topo == "vmxnet3" else [])
    return {
        "device_type": "qemu",
        "job_name": "fib-stat %s %s %s" % (flavor, mode, name),
        "timeouts": {"job": {"minutes": 20}, "action": {"minutes": 10},
                     "connection": {"minutes": 5}},
        "priority": "medium",
        "visibility": "public",
        "context": {
            "arch": "x86_64",
            "machine": "pc",
            "cpu": "qemu64",
            "memory": 1024,
            "no_kvm": True,
            # (The device type adds its own virtio NIC on a user network, hub 0: the guest
            # leaves it down; the scenario's NICs are on hub 1.)
            "extra_options": extra,
        },
        "metadata": {"flavor": flavor, "lock": mode, "scenario": name, "topology": topo},
        "actions": [
            {"deploy": {
                "to": "tmpfs",
                "timeout": {"minutes": 5},
                "images": {
                    "kernel": {
                        "image_arg": '-kernel {kernel} -append "%s"' % append,
                        "url": "file://" + os.path.realpath(
                            os.path.join(kernel_dir(build, flavor), "arch/x86/boot/bzImage")),
                    },
                    # LAVA unpacks the ramdisk, adds its test overlay and the
                    # modules archive, and packs it again (AppendOverlays).
                    "ramdisk": {
                        "image_arg": "-initrd {ramdisk}",
                        "url": "file://" + os.path.join(lava, "rootfs.cpio.gz"),
                        "compression": "gz",
                        "format": "cpio.newc",
                        "overlays": {
                            "lava": True,
                            "modules": {
                                "url": "file://" + os.path.join(lava, flavor, "modules-%s.tar.xz" % mode),
                                "compression": "xz",
                                "format": "tar",
                                "path": "/",
                            },
                        },
                    },
                },
            }},
            {"boot": {
                "method": "qemu",
                "media": "tmpfs",
                "timeout": {"minutes": 5},
                "prompts": [PROMPT],
                # A fresh boot again if QEMU dies before the prompt (seen once here, on a
                # loaded host: "Connection closed" during early boot): the test has not run yet.
                "failure_retry": 2,
                # vm-run's loglevel=5 hides the "Linux version" banner LAVA waits for by
                # default; lockdep's banner is on the console at that level.
                "parameters": {"kernel-start-message": "Lock dependency validator"},
            }},
            {"test": {
                "timeout": {"minutes": 10},
                "definitions": [{
                    "from": "inline",
                    "repository": testdef,
                    "path": "inline/fib-stat.yaml",
                    "name": "fib-stat-%s-%s" % (mode, name),
                }],
            }},
        ],
    }


def cmd_jobs(outdir, root, build, *flavors):
    os.makedirs(outdir, exist_ok=True)
    for flavor in flavors:
        for mode in MODES:
            for scen in scenarios(root):
                path = os.path.join(outdir, "%s-%s-%s.yaml" % (flavor, mode, scen[0]))
                with open(path, "w") as f:
                    f.write("# fib-stat LAVA job, written by 'make lava-jobs' (scripts/lava jobs)\n")
                    yaml.safe_dump(job(root, build, flavor, mode, scen), f, sort_keys=False,
                                   default_flow_style=False, width=200)
                print(path)


def cmd_device(jobfile, out):
    """qemu.jinja2 + base.jinja2 as the server renders them for this job's context."""
    ctx = yaml.safe_load(open(jobfile))["context"]
    options = ["-cpu %s" % ctx.get("cpu", "qemu64"), "-machine %s" % ctx.get("machine", "q35")]
    if not ctx.get("no_kvm"):
        options += ["-cpu host", "-enable-kvm"]
    options += [
        "-nographic",
        "-net nic,%s,macaddr=52:54:00:12:34:58 -net %s" % (ctx.get("model", "model=virtio"),
                                                            ctx.get("netdevice", "user")),
        "-m %s" % ctx.get("memory", 1024),
        "-monitor none",
    ]
    qemu = {"parameters": {
        "command": "qemu-system-x86_64",
        "boot_options": {"root": "/dev/ram0", "console": "ttyS0,115200"},
        "options": options,
        "extra": ctx.get("extra_options", []),
    }}
    device = {
        "constants": {
            "posix": {"lava_test_sh_cmd": "/bin/sh", "lava_test_results_dir": "/lava-%s",
                      "lava_test_shell_file": "~/.bashrc"},
            "shutdown-message": "The system is going down for reboot NOW",
            "kernel-start-message": "Linux version [0-9]",
            "default-shell-prompt": "lava-test: # ",
            "spawn_maxread": "4092",
            "failure_retry": 1,
            "boot_retry": 1,
        },
        "parameters": {"pass": None},
        "device_type": "qemu",
        "available_architectures": ["amd64", "x86_64"],
        "actions": {
            "deploy": {"connections": {"serial": None}, "methods": {
                "image": {"parameters": {"guest": {"size": 512, "interface": "ide",
                                                   "driveid": "lavatest"}}}}},
            "boot": {"connections": {"serial": None}, "methods": {"qemu": qemu}},
        },
        "timeouts": {
            "actions": {"lava-test-shell": {"minutes": 3}, "boot-qemu-image": {"minutes": 2},
                        "boot-image-retry": {"minutes": 2}, "auto-login-action": {"minutes": 2},
                        "http-download": {"minutes": 5}, "download-retry": {"minutes": 5}},
            "connections": {"auto-login-action": {"minutes": 2},
                            "lava-test-shell": {"seconds": 10}},
        },
    }
    with open(out, "w") as f:
        yaml.safe_dump(device, f, sort_keys=False)


def log_entries(path):
    """lava-run's log: one {"dt": ..., "lvl": ..., "msg": ...} object a line (JSON,
    or YAML list items "- {...}" as the server stores them)."""
    for line in open(path, errors="replace"):
        line = line[2:] if line.startswith("- {") else line
        if not line.startswith("{"):
            continue
        try:
            e = yaml.safe_load(line)
        except Exception:
            continue
        if isinstance(e, dict):
            yield e


def cmd_results(path):
    for e in log_entries(path):
        m = e.get("msg")
        if e.get("lvl") == "results" and isinstance(m, dict) and m.get("definition") != "lava":
            print("%s %s" % (m.get("case"), m.get("result")))
    for e in log_entries(path):
        m = e.get("msg")
        if e.get("lvl") == "results" and isinstance(m, dict) and m.get("definition") == "lava" \
                and m.get("case") == "job":
            print("lava-job %s%s" % (m.get("result"), (" " + str(m.get("error_msg"))) if m.get("error_msg") else ""))


def cmd_guest_log(jobfile, path, out):
    """The target's console lines between lava-case.sh's markers, as vm-run --log writes them."""
    params = yaml.safe_load(open(jobfile))["actions"][2]["test"]["definitions"][0]["repository"]["params"]
    meta = yaml.safe_load(open(jobfile))["metadata"]
    case = "%s-%s" % (params["MODE"], params["SCENARIO"])
    lines = [str(e.get("msg")) for e in log_entries(path) if e.get("lvl") == "target"]
    # LAVA stores the target's quotes escaped (\\"): the guest printed plain ones.
    lines = [l.rstrip("\r").replace('\\"', '"') for l in lines]

    def between(begin, end):
        try:
            i = lines.index(begin)
            j = lines.index(end, i + 1)
        except ValueError:
            return None
        return lines[i + 1:j]

    output = between("=== fib-stat-lava output begin " + case, "=== fib-stat-lava output end " + case)
    klog = between("=== fib-stat-lava kernel log begin " + case, "=== fib-stat-lava kernel log end " + case)
    dl = [l.split()[-1] for l in lines if l.startswith("=== fib-stat-lava debug_locks ")]
    st = [l.split()[-1] for l in lines if l.startswith("=== fib-stat-lava script status ")]
    if output is None or klog is None:
        # No guest output: an empty log, status 255, which make repro's judge fails.
        open(out, "w").close()
        print(":".join([params["MODE"], params["SCENARIO"], meta["topology"], params["ORDER"], "255", out]))
        sys.exit("guest-log: no output or kernel log of %s in %s" % (case, path))
    with open(out, "w") as f:
        f.write("\n".join(output + ["----- guest kernel log -----"] + klog
                          + ["----- end of guest kernel log -----"]) + "\n")
        if dl:
            f.write("guest debug_locks: %s\n" % dl[-1])
    print(":".join([params["MODE"], params["SCENARIO"], meta["topology"], params["ORDER"],
                    st[-1] if st else "255", out]))


def main(argv):
    cmds = {"jobs": cmd_jobs, "device": cmd_device, "results": cmd_results, "guest-log": cmd_guest_log}
    if len(argv) < 2 or argv[1] not in cmds:
        sys.exit(__doc__)
    cmds[argv[1]](*argv[2:])


if __name__ == "__main__":
    main(sys.argv)
