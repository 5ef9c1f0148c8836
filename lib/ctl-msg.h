/*
 * ctl-msg.h: framing for the control socket (mgwctl <-> master) and for
 * the master <-> worker channel.  A message is a fixed header followed by
 * hdr.len bytes of payload (text, not NUL-terminated on the wire).
 */
#ifndef MGW_CTL_MSG_H
#define MGW_CTL_MSG_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#define CTL_PROTOCOL_VERSION	2	/* 2: plugins' verbs */
#define CTL_MSG_MAX		(1024 * 1024)	/* payload bytes */

enum ctl_type {
	CTL_HELLO = 100,	/* payload: protocol version, decimal */
	CTL_RELOAD,
	CTL_STOP,		/* payload: "graceful" or "fast" */
	CTL_STATUS,
	CTL_STATS,
	CTL_LOG_VERBOSE,
	CTL_LOG_BRIEF,
	/*
	 * A plugin's control verb (mgw/plugin.h struct mgw_ctl_verb).
	 * Payload: the verb and its words, each ended by a NUL.
	 */
	CTL_VERB,
	/* The plugins' verbs: CTL_OK with "name<TAB>usage" lines. */
	CTL_VERBS,

	CTL_OK = 200,		/* payload: text for the user */
	CTL_FAIL,		/* payload: the cause */

	CTL_W_READY = 300,	/* worker -> master: accepting now */
	CTL_W_VERBOSE,		/* master -> worker: payload "0".."2" */
	CTL_W_DRAIN		/* master -> worker: stop accepting, drain */
};

struct ctl_hdr {
	uint32_t	type;
	uint32_t	len;		/* payload bytes */
	uint32_t	peerid;
	uint32_t	pid;
};

/*
 * Blocking helpers for mgwctl and tests: write/read one whole message.
 * ctl_msg_read() mallocs *payload (NUL-terminated for convenience).
 * Both return 0 or -1 with errno set (EPROTO on a malformed header).
 */
int	ctl_msg_write(int, uint32_t, const void *, size_t);
int	ctl_msg_read(int, struct ctl_hdr *, char **);
/*
 * For event loops: given buffered bytes, is a whole message there?
 * Returns its total size (header + payload), 0 if incomplete, -1 if the
 * header is malformed (len over CTL_MSG_MAX).
 */
ssize_t	ctl_msg_complete(const void *, size_t);
const char *ctl_type_name(uint32_t);

#endif /* MGW_CTL_MSG_H */
