// SPDX-License-Identifier: GPL-2.0
/*
 * oracle: one deliberate bug per load, to prove that the kernel's bug
 * detectors (the "oracles") fire, and that fib-stat's tests see them.
 *
 *   insmod oracle.ko bug=kasan|ubsan|kmemleak|odebug|debug_net|cfi
 *
 * The init function commits the bug and the module stays loaded (refusing the
 * load would make busybox insmod retry with init_module(), a second bug). Its
 * symbols stay resolvable in the reports. tests/oracles.test.sh and
 * tests/kcfi.test.sh assert the exact reports.
 */
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/timer.h>
#include <net/net_debug.h>

static char *bug = "none";
module_param(bug, charp, 0444);
MODULE_PARM_DESC(bug, "the bug to commit: kasan, ubsan, kmemleak, odebug, debug_net or cfi");

/* Kept out of registers and constant folding: the compiler must not see the bug. */
static int oracle_index = 4;
static int *volatile oracle_sink;

/* KASAN: read a kmalloc'ed object after kfree(). */
static noinline void oracle_kasan(void)
{
	int *p = kmalloc(32, GFP_KERNEL);

	if (!p)
		return;
	kfree(p);
	oracle_sink = p;
	pr_info("oracle: read after free: %d\n", READ_ONCE(*oracle_sink));
}

/* UBSAN: index one past the end of an array that is not the end of its object. */
struct oracle_pair {
	int a[4];
	int b;
};

static noinline void oracle_ubsan(void)
{
	struct oracle_pair pair = { .b = 1 };
	int i = READ_ONCE(oracle_index);
	int v = pair.a[i]; /* a plain read: address-of forms are not checked */

	pr_info("oracle: out of bounds: %d\n", v);
}

/*
 * kmemleak scans whole task stacks, dead slots included, and exited tasks'
 * stacks stay cached: overwrite the slots kmalloc() left the pointer in.
 */
static noinline void oracle_scrub_stack(int depth)
{
	char buf[512];

	memzero_explicit(buf, sizeof(buf));
	if (depth > 0)
		oracle_scrub_stack(depth - 1);
	barrier_data(buf);
}

/* kmemleak: an allocation whose only pointer is dropped. */
static noinline void oracle_kmemleak(void)
{
	bool leaked = kmalloc(4321, GFP_KERNEL); /* from kmalloc-8k: size 8192 */

	oracle_scrub_stack(8);
	pr_info("oracle: leaked %s\n", leaked ? "4321 bytes" : "nothing (no memory)");
}

/* DEBUG_OBJECTS: free memory that holds a pending timer. */
struct oracle_timer {
	struct timer_list timer;
};

static void oracle_timer_fn(struct timer_list *t)
{
}

static noinline void oracle_odebug(void)
{
	struct oracle_timer *o = kmalloc(sizeof(*o), GFP_KERNEL);

	if (!o)
		return;
	timer_setup(&o->timer, oracle_timer_fn, 0);
	mod_timer(&o->timer, jiffies + 60 * HZ);
	kfree(o); /* ODEBUG: free active ... object type: timer_list (and fixed up) */
}

/* DEBUG_NET: DEBUG_NET_WARN_ON_ONCE() compiles to nothing without CONFIG_DEBUG_NET. */
static noinline void oracle_debug_net(void)
{
	DEBUG_NET_WARN_ON_ONCE(READ_ONCE(oracle_index) == 4);
}

/* kCFI: an indirect call through a pointer of another type. */
static noinline int oracle_cfi_target(long x)
{
	return x + 1;
}

static int (*volatile oracle_cfi_ptr)(void *) = (void *)oracle_cfi_target;

static noinline void oracle_cfi(void)
{
	pr_info("oracle: mistyped call returned %d\n", oracle_cfi_ptr(NULL));
}

static int __init oracle_init(void)
{
	static const struct {
		const char *name;
		void (*fn)(void);
	} bugs[] = {
		{ "kasan", oracle_kasan },	   { "ubsan", oracle_ubsan },
		{ "kmemleak", oracle_kmemleak }, { "odebug", oracle_odebug },
		{ "debug_net", oracle_debug_net }, { "cfi", oracle_cfi },
	};
	int i;

	for (i = 0; i < ARRAY_SIZE(bugs); i++) {
		if (!strcmp(bug, bugs[i].name)) {
			pr_info("oracle: committing bug %s\n", bug);
			bugs[i].fn();
			pr_info("oracle: done with bug %s\n", bug);
			return 0;
		}
	}
	pr_err("oracle: unknown bug '%s'\n", bug);
	return -EINVAL;
}
module_init(oracle_init);

MODULE_DESCRIPTION("Deliberate bugs that the debug kernel's detectors must report");
MODULE_LICENSE("GPL");
