/*
 * head-check.h: the strict request head scan (head-check.c).
 */
#ifndef MGW_HEAD_CHECK_H
#define MGW_HEAD_CHECK_H

enum {
	HC_START = 0,	/* before the request line; zeroed conn is here */
	HC_START_CR,
	HC_RLINE,
	HC_RLINE_CR,
	HC_FIRST,	/* at the start of the first header line */
	HC_LINE,	/* at the start of a header line */
	HC_NAME,
	HC_VALUE,
	HC_VALUE_CR,
	HC_END_CR,
	HC_BODY,	/* head complete: bytes are not scanned */
	HC_BAD
};

struct head_check {
	int	 hc_state;
};

void		 head_check_init(struct head_check *);
const char	*head_check_scan(struct head_check *, const char *, size_t,
		    size_t *);

#endif
