/*
 * fuzz_secretmask.c — the masking of keystrokes fed with any output,
 * input and resizes, in any order, as a session can send them.  Every
 * read of input is split into parts that cover it exactly, a masked
 * part has no more '*' than bytes, "all" and "none" never split, the
 * text left of the cursor is printable, and whatever came before, a
 * fresh "Password: " on a row of its own is a prompt whose answer is
 * masked.
 *
 * The bytes: two for the screen's size, then operations, each a byte
 * OP and what it needs: OP % 4 of 0 or 1 is OP / 4 bytes of output, 2
 * is OP / 4 bytes of input, 3 a resize to the next two bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/secretmask.h"
#include "policy/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
input(struct secretmask *m, enum secretmask_mode mode, const uint8_t *p,
    size_t len)
{
	enum secretmask_kind	 kind;
	size_t			 n, stars;

	while (len > 0) {
		n = secretmask_input(m, p, len, &kind, &stars);
		if (n < 1 || n > len)
			abort();
		switch (kind) {
		case SECRETMASK_KEEP:
			if (mode == SECRETMASK_ALL || stars != 0)
				abort();
			break;
		case SECRETMASK_MASK:
			if (mode != SECRETMASK_PROMPTS || stars > n)
				abort();
			/* A masked part ends at its Enter, or at the end. */
			if (n < len && p[n - 1] != '\r' && p[n - 1] != '\n')
				abort();
			break;
		case SECRETMASK_DROP:
			if (mode != SECRETMASK_ALL || n != len)
				abort();
			break;
		default:
			abort();
		}
		if (mode != SECRETMASK_PROMPTS && n != len)
			abort();
		p += n;
		len -= n;
	}
}

static void
check_line(const struct secretmask *m)
{
	char	line[SECRETMASK_LINE];
	size_t	i;

	if (!secretmask_line(m, line, sizeof(line)))
		return;
	for (i = 0; line[i] != '\0'; i++)
		if ((unsigned char)line[i] < 0x20 || line[i] == 0x7f)
			abort();
	if (i >= sizeof(line))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char	 prompt[] = "\x18\r\nPassword: ";
	struct secretmask	*m;
	enum secretmask_mode	 mode;
	enum secretmask_kind	 kind;
	unsigned		 cols, rows;
	size_t			 i = 2, n, stars;
	uint8_t			 op;

	if (size < 2)
		return 0;
	cols = 1 + data[0] % 200;
	rows = 1 + data[1] % 100;
	switch (data[0] >> 6) {
	case 2: mode = SECRETMASK_ALL; break;
	case 3: mode = SECRETMASK_NONE; break;
	default: mode = SECRETMASK_PROMPTS;
	}
	if ((m = secretmask_new(mode, policy_default_secret_prompts,
	    policy_ndefault_secret_prompts, cols, rows, NULL, 0)) == NULL)
		abort();
	while (i < size) {
		op = data[i++];
		n = op / 4;
		if (n > size - i)
			n = size - i;
		switch (op % 4) {
		case 0:
		case 1:
			secretmask_output(m, data + i, n);
			i += n;
			break;
		case 2:
			input(m, mode, data + i, n);
			i += n;
			break;
		case 3:
			if (size - i < 2)
				break;
			/* Up to 300 by 300: beyond what the model keeps. */
			cols = 1 + (unsigned)(data[i] * 300 / 256);
			rows = 1 + (unsigned)(data[i + 1] * 300 / 256);
			secretmask_resize(m, cols, rows);
			i += 2;
			break;
		}
		check_line(m);
	}
	/* Whatever came before: a prompt on a row of its own is one. */
	secretmask_output(m, prompt, sizeof(prompt) - 1);
	check_line(m);
	if (mode == SECRETMASK_PROMPTS && cols >= 12 &&
	    rows <= SECRETMASK_ROWS) {
		n = secretmask_input(m, "abc\r", 4, &kind, &stars);
		if (n != 4 || kind != SECRETMASK_MASK || stars != 4 ||
		    secretmask_masking(m))
			abort();
	}
	secretmask_free(m);
	return 0;
}
