/*
 * lineedit.h — the menu's line editor: editing keys, history and
 * completion, and nothing else.
 *
 * Every key maps to one of a fixed set of edits; there is no command
 * prompt, no key binding at run time, no startup file, no editor to run
 * and no history file.  Bytes that are not a key below are dropped, so a
 * hostile paste can only ever become text on the line.
 *
 * Keys: printable text (valid UTF-8), Left/Right, Home/End, ^A ^E ^B ^F,
 * Backspace ^H, Delete, ^D (delete, or end of input on an empty line),
 * ^K ^U ^W, M-b M-f M-d M-Backspace, Ctrl-Left/Right, Up/Down ^P ^N
 * (history), Tab (completion), ^L (redraw), ^C (abandon the line),
 * Enter.  ^\ ^Z ^S ^Q ^V and every other control key do nothing: the
 * terminal's signal keys are off while a line is read.
 */
#ifndef MUXGATE_LINEEDIT_H
#define MUXGATE_LINEEDIT_H

#include <stdbool.h>
#include <stddef.h>

#include "gateway/str.h"

#define LE_MAX_LINE	4096	/* bytes; a longer line cannot be typed */
#define LE_HISTORY	500	/* lines kept, in memory only */

struct le;

enum le_result {
	LE_LINE,	/* *line set (caller frees) */
	LE_EOF,		/* ^D on an empty line, or end of input */
	LE_INTR,	/* ^C: the line was abandoned */
	LE_IDLE,	/* no key for the idle time */
	LE_STOP,	/* the stop callback said so (hangup, termination) */
	LE_ERROR,	/* the terminal failed; errno set */
};

/*
 * Completion: the words that may replace LINE[WSTART..CURSOR), appended
 * to OUT.
 */
typedef void (*le_complete_cb)(void *arg, const char *line, size_t wstart,
    size_t cursor, struct argv *out);

/* An editor on the terminal IN (keys) and OUT (display). */
struct le	*le_new(int in, int out);
void		 le_free(struct le *);
void		 le_set_complete(struct le *, le_complete_cb, void *arg);
/* Polled after each interrupted wait: true ends le_read with LE_STOP. */
void		 le_set_stop(struct le *, bool (*stop)(void));
void		 le_history_add(struct le *, const char *);
/*
 * Read one line after PROMPT (trusted text).  IDLE_MS is the time allowed
 * with no key pressed, 0 for none.  The terminal is in the editor's mode
 * only inside this call, and exactly as it was before on return.
 */
enum le_result	 le_read(struct le *, const char *prompt, unsigned idle_ms,
		    char **line);

/* ---- the pure part, for tests ---- */

enum le_action {
	LE_A_NONE,	/* edited (or ignored); redraw */
	LE_A_ACCEPT,	/* Enter */
	LE_A_EOF,	/* ^D on an empty line */
	LE_A_INTR,	/* ^C */
	LE_A_COMPLETE,	/* Tab */
	LE_A_CLEAR,	/* ^L */
	LE_A_PENDING,	/* inside a key sequence */
};

/* Feed one input byte; returns what the caller must do. */
enum le_action	 le_feed(struct le *, unsigned char);
/* Reset the key decoder (an incomplete sequence timed out). */
void		 le_feed_reset(struct le *);
/* The line being edited (NUL-terminated) and the cursor's byte offset. */
const char	*le_buffer(const struct le *, size_t *cursor);
/* Replace LINE[WSTART..cursor) by WORD, if it fits. */
bool		 le_replace_word(struct le *, size_t wstart, const char *word);
void		 le_clear_line(struct le *);

#endif
