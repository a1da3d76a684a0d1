/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Full paths: what bpf/fullpath.bpf.h and src/fullpath.cc share. */
#ifndef SNOOPKIT_FULLPATH_ABI_H
#define SNOOPKIT_FULLPATH_ABI_H

#include "snoopkit_common.h"

#define SK_FULLPATH_DIR_SIZE 4096 /* the directory part, no NUL; at most 4095 bytes */
#define SK_FULLPATH_MAX_DEPTH 64 /* components walked before the walk stops short */

/* An event's dir_flags */
#define SK_FULLPATH_F_CUT (1u << 0) /* the walk stopped short of the root */
#define SK_FULLPATH_F_UNKNOWN (1u << 1) /* no directory: dfd not open, or a fault */

/* Byte offsets of the kernel members the walk reads, from the kernel's BTF. */
struct sk_fullpath_offsets {
	__u32 task_fs; /* task_struct.fs */
	__u32 task_files; /* task_struct.files */
	__u32 fs_pwd; /* fs_struct.pwd */
	__u32 fs_root; /* fs_struct.root */
	__u32 path_mnt; /* path.mnt */
	__u32 path_dentry; /* path.dentry */
	__u32 dentry_d_parent; /* dentry.d_parent */
	__u32 dentry_d_name; /* dentry.d_name */
	__u32 qstr_name; /* qstr.name */
	__u32 qstr_len; /* qstr.len (in an anonymous struct in an anonymous union) */
	__u32 vfsmount_mnt_root; /* vfsmount.mnt_root */
	__u32 mount_mnt; /* mount.mnt: a vfsmount's place in its struct mount */
	__u32 mount_mnt_parent; /* mount.mnt_parent */
	__u32 mount_mnt_mountpoint; /* mount.mnt_mountpoint */
	__u32 files_fdt; /* files_struct.fdt */
	__u32 fdt_max_fds; /* fdtable.max_fds */
	__u32 fdt_fd; /* fdtable.fd */
	__u32 file_f_path; /* file.f_path */
};

#endif /* SNOOPKIT_FULLPATH_ABI_H */
