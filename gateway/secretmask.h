/*
 * secretmask.h — which keystrokes of a recording are secrets.
 *
 * Fed with a recording's output as it is recorded, it keeps a small
 * model of the user's screen (docs/recordings.md, "Passwords"): enough of
 * each row to know the text to the left of the cursor, the line a
 * program's prompt ends.  Fed with a read of the user's input, it says
 * how to record it, part by part: as it is, as one '*' per character
 * (the keys typed after a password prompt, up to and including the next
 * Enter), or not at all.  Nothing here changes what reaches the session.
 *
 * Pure: no I/O, no clock; bounded memory (SECRETMASK_COLS columns of at
 * most SECRETMASK_ROWS rows, allocated as they are written).
 */
#ifndef MUXGATE_SECRETMASK_H
#define MUXGATE_SECRETMASK_H

#include <stdbool.h>
#include <stddef.h>

/* gateway.recording.mask_input. */
enum secretmask_mode {
	SECRETMASK_NONE,	/* every keystroke as it is (zero: the default here) */
	SECRETMASK_PROMPTS,	/* the answers to password prompts as '*' */
	SECRETMASK_ALL,		/* no keystroke at all */
};

/* What to record of a part of the input. */
enum secretmask_kind {
	SECRETMASK_KEEP,	/* an "i" event of the bytes */
	SECRETMASK_MASK,	/* an "m" event of STARS '*' (none when 0) */
	SECRETMASK_DROP,	/* nothing */
};

/* The columns of a row and the rows of the screen the model keeps. */
#define SECRETMASK_COLS	256
#define SECRETMASK_ROWS	256

struct secretmask;

/*
 * A model of a COLS x ROWS screen.  PROMPTS are NPROMPTS POSIX extended
 * regular expressions (regcomp REG_EXTENDED), matched against the text
 * left of the cursor, escape sequences removed; only used with
 * SECRETMASK_PROMPTS.  NULL with ERR set when one does not compile.
 */
struct secretmask *secretmask_new(enum secretmask_mode,
		    const char *const *prompts, size_t nprompts, unsigned cols,
		    unsigned rows, char *err, size_t errlen);
void		 secretmask_free(struct secretmask *);
/* The terminal was resized. */
void		 secretmask_resize(struct secretmask *, unsigned cols,
		    unsigned rows);
/* LEN bytes the user's terminal received, in order. */
void		 secretmask_output(struct secretmask *, const void *, size_t);
/*
 * The first part of LEN > 0 bytes of the user's input: its length (1 to
 * LEN) is returned, how to record it in *KIND, and for SECRETMASK_MASK
 * the number of characters in it in *STARS.  The caller records that
 * part and calls again with the rest: an Enter ends a masked part, and
 * what follows it is judged on its own.
 */
size_t		 secretmask_input(struct secretmask *, const void *, size_t len,
		    enum secretmask_kind *kind, size_t *stars);
/* Are keystrokes being masked now (until the next Enter)? */
bool		 secretmask_masking(const struct secretmask *);
/*
 * The text left of the cursor as the prompts are matched against it,
 * NUL-terminated, into BUF (at most SECRETMASK_LINE bytes are written);
 * false when the cursor is where the model keeps nothing.  For tests.
 */
#define SECRETMASK_LINE	(SECRETMASK_COLS * 4 + 1)
bool		 secretmask_line(const struct secretmask *, char *buf,
		    size_t len);

#endif
