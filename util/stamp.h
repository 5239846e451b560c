/*
 * stamp.h — is a file still the one that was read?  Its device, inode,
 * size, mtime and ctime: a change of any of these means read it again.
 */
#ifndef MUXGATE_STAMP_H
#define MUXGATE_STAMP_H

#include <stdbool.h>
#include <sys/stat.h>

static inline bool
stamp_same(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino &&
	    a->st_size == b->st_size &&
	    a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	    a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
	    a->st_ctim.tv_sec == b->st_ctim.tv_sec &&
	    a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

#endif
