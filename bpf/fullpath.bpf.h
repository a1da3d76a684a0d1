/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Full paths (-F): the directory a relative path is resolved against, as the
 * traced task sees it, the way /proc/PID/cwd shows it.
 *
 * The start is the task's cwd (current->fs->pwd) or, for a dfd other than
 * AT_FDCWD, the open file current->files->fdt->fd[dfd]->f_path. The walk goes
 * up the dentries (d_parent, d_name), crosses each mount point (struct mount:
 * mnt_parent, mnt_mountpoint) and stops at the task's root
 * (current->fs->root), so a chroot or a container sees its own root.
 *
 * No CO-RE: every member is read with bpf_probe_read_kernel at an offset user
 * space found in the kernel's BTF (src/fullpath.h) and wrote into rodata
 * before load. The walk is one bounded loop, so every verifier since 5.3
 * accepts it.
 */
#ifndef SNOOPKIT_FULLPATH_BPF_H
#define SNOOPKIT_FULLPATH_BPF_H

#include "snoopkit.bpf.h"
#include "fullpath_abi.h"

#define SK_FP_AT_FDCWD -100
#define SK_FP_NAME_MAX 255
/* One step is one path component or one mount point crossed. */
#define SK_FP_MAX_STEPS (SK_FULLPATH_MAX_DEPTH + 16)

/* Written by user space before load; all zero unless -F. */
const volatile bool sk_fp_enabled = false;
const volatile struct sk_fullpath_offsets sk_fp = {};

/* The walk's state lives in this per-CPU map value, not in registers: the
 * verifier does not track values in map memory, so every pass of the loop
 * looks alike to it and is verified once, not once per pass. `data` is where
 * the walk writes, right to left; its tail is slack for the verifier's
 * bounds on a name written at any position. */
struct sk_fp_walk {
	char *mnt, *dentry, *root_mnt, *root_dentry;
	__u32 pos, depth, done;
	char data[SK_FULLPATH_DIR_SIZE + SK_FP_NAME_MAX + 1];
};
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sk_fp_walk);
} sk_fp_scratch SEC(".maps");

static __always_inline char *sk_fp_ptr(const char *base, __u32 off)
{
	char *p = NULL;

	bpf_probe_read_kernel(&p, sizeof(p), base + off);
	return p;
}

/* The (mnt, dentry) pair of a struct path at base + off; false on a fault. */
static __always_inline bool sk_fp_path(const char *base, __u32 off, char **mnt, char **dentry)
{
	*mnt = sk_fp_ptr(base, off + sk_fp.path_mnt);
	*dentry = sk_fp_ptr(base, off + sk_fp.path_dentry);
	return *mnt && *dentry;
}

/* The directory (or, for dfd, the file) a path names relative to. */
static __always_inline bool sk_fp_start(const char *task, __s32 dfd, char **mnt, char **dentry)
{
	char *files, *fdt, *fds, *file;
	__u32 max_fds = 0;

	if (dfd == SK_FP_AT_FDCWD)
		return sk_fp_path(sk_fp_ptr(task, sk_fp.task_fs), sk_fp.fs_pwd, mnt, dentry);
	if (dfd < 0)
		return false;
	files = sk_fp_ptr(task, sk_fp.task_files);
	fdt = files ? sk_fp_ptr(files, sk_fp.files_fdt) : NULL;
	if (!fdt || bpf_probe_read_kernel(&max_fds, sizeof(max_fds), fdt + sk_fp.fdt_max_fds) ||
	    (__u32)dfd >= max_fds)
		return false;
	fds = sk_fp_ptr(fdt, sk_fp.fdt_fd);
	file = fds ? sk_fp_ptr(fds, (__u32)dfd * sizeof(void *)) : NULL;
	return file && sk_fp_path(file, sk_fp.file_f_path, mnt, dentry);
}

/* One step up: a component written before the others, or a mount point
 * crossed. Returns 1 when the walk is over (w->done says whether it reached
 * the root), 0 to go on. A global function: the verifier checks it once, on
 * its own, not once per pass of the caller's loop (Linux 5.6+; a pointer
 * argument to a struct, 5.12+). */
__noinline int sk_fp_step(struct sk_fp_walk *w)
{
	char *mnt, *dentry, *parent, *mnt_root, *up, *name;
	__u32 pos, len = 0;

	if (!w)
		return 1;
	mnt = w->mnt;
	dentry = w->dentry;
	pos = w->pos;

	if (dentry == w->root_dentry && mnt == w->root_mnt) {
		w->done = 1;
		return 1;
	}
	mnt_root = sk_fp_ptr(mnt, sk_fp.vfsmount_mnt_root);
	parent = sk_fp_ptr(dentry, sk_fp.dentry_d_parent);
	if (!parent)
		return 1;
	if (dentry == mnt_root || dentry == parent) {
		/* The top of a mount: go on from where it is mounted. A root that
		 * is no mount's root, or the namespace's top, ends it. */
		if (dentry != mnt_root)
			return 1;
		up = sk_fp_ptr(mnt - sk_fp.mount_mnt, sk_fp.mount_mnt_parent);
		if (!up || up == mnt - sk_fp.mount_mnt) {
			w->done = 1;
			return 1;
		}
		w->dentry = sk_fp_ptr(mnt - sk_fp.mount_mnt, sk_fp.mount_mnt_mountpoint);
		w->mnt = up + sk_fp.mount_mnt;
		return !w->dentry;
	}
	if (w->depth >= SK_FULLPATH_MAX_DEPTH)
		return 1;
	bpf_probe_read_kernel(&len, sizeof(len), dentry + sk_fp.dentry_d_name + sk_fp.qstr_len);
	name = sk_fp_ptr(dentry, sk_fp.dentry_d_name + sk_fp.qstr_name);
	if (!name || len > SK_FP_NAME_MAX || pos >= SK_FULLPATH_DIR_SIZE || pos < len + 1)
		return 1;
	pos -= len;
	bpf_probe_read_kernel(&w->data[pos & (SK_FULLPATH_DIR_SIZE - 1)], len & SK_FP_NAME_MAX, name);
	pos--;
	w->data[pos & (SK_FULLPATH_DIR_SIZE - 1)] = '/';
	w->pos = pos;
	w->depth++;
	w->dentry = parent;
	return 0;
}

/*
 * Writes into dst (SK_FULLPATH_DIR_SIZE bytes, no NUL) the absolute path of
 * the directory a relative path is resolved against for a call with dfd.
 * Returns its length (at least 1, "/"), or 0 and SK_FULLPATH_F_UNKNOWN in
 * *flags when there is no such directory (dfd not open, a fault). Sets
 * SK_FULLPATH_F_CUT when the walk stopped short (deeper than
 * SK_FULLPATH_MAX_DEPTH, longer than the buffer): dst then holds the
 * innermost components found.
 */
static __always_inline __u32 sk_fullpath_dir(char *dst, __s32 dfd, __u32 *flags)
{
	char *task = (char *)bpf_get_current_task();
	char *fs = sk_fp_ptr(task, sk_fp.task_fs);
	struct sk_fp_walk *w;
	__u32 zero = 0, pos, n;

	*flags = 0;
	w = bpf_map_lookup_elem(&sk_fp_scratch, &zero);
	if (!w || !fs || !sk_fp_path(fs, sk_fp.fs_root, &w->root_mnt, &w->root_dentry) ||
	    !sk_fp_start(task, dfd, &w->mnt, &w->dentry)) {
		*flags = SK_FULLPATH_F_UNKNOWN;
		return 0;
	}
	w->pos = SK_FULLPATH_DIR_SIZE - 1;
	w->depth = 0;
	w->done = 0;

	/* Leaf to root, each name written before the last one (as d_path does). */
	for (int i = 0; i < SK_FP_MAX_STEPS; i++)
		if (sk_fp_step(w))
			break;
	/* Too deep, too long, a fault: short of the root. */
	if (!w->done)
		*flags = SK_FULLPATH_F_CUT;
	pos = w->pos;
	if (pos == 0 || pos >= SK_FULLPATH_DIR_SIZE)
		return 0;
	if (pos == SK_FULLPATH_DIR_SIZE - 1) {
		/* The root itself. */
		pos--;
		w->data[pos & (SK_FULLPATH_DIR_SIZE - 1)] = '/';
	}
	n = (SK_FULLPATH_DIR_SIZE - 1 - pos) & (SK_FULLPATH_DIR_SIZE - 1);
	bpf_probe_read_kernel(dst, n, &w->data[pos & (SK_FULLPATH_DIR_SIZE - 1)]);
	return n;
}

#endif /* SNOOPKIT_FULLPATH_BPF_H */
