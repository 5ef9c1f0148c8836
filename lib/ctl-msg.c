/*
 * ctl-msg.c: framing of control messages, a fixed header and a text
 * payload (modelled on imsg, written afresh).  The header travels in host
 * byte order because both ends live on the same host and talk over a local
 * socket or a socketpair.  This file is linked into mgwctl, so it uses
 * neither libevent nor the dying allocators.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl-msg.h"

static ssize_t	ctl_msg_writev(int, struct iovec *, int);
static int	ctl_msg_readn(int, void *, size_t);

/*
 * Write iov once, preferring sendmsg() with MSG_NOSIGNAL so that a peer
 * that went away gives EPIPE instead of killing mgwctl with SIGPIPE.  A
 * pipe or a file is not a socket, so fall back to writev() for those.
 */
static ssize_t
ctl_msg_writev(int fd, struct iovec *iov, int iovcnt)
{
	struct msghdr	 msg;
	ssize_t		 n;

	memset(&msg, 0, sizeof(msg));
	msg.msg_iov = iov;
	msg.msg_iovlen = iovcnt;
	n = sendmsg(fd, &msg, MSG_NOSIGNAL);
	if (n == -1 && errno == ENOTSOCK)
		n = writev(fd, iov, iovcnt);
	return (n);
}

/*
 * Send one message of type with len bytes of payload on a blocking fd.
 * Short writes and EINTR are retried until the whole message is out.
 * Returns 0, or -1 with errno set (EMSGSIZE if len exceeds CTL_MSG_MAX).
 * Any process may call it.
 */
int
ctl_msg_write(int fd, uint32_t type, const void *payload, size_t len)
{
	struct ctl_hdr	 hdr;
	struct iovec	 iov[2];
	int		 iovcnt;
	ssize_t		 n;
	size_t		 done;

	if (len > CTL_MSG_MAX || (len > 0 && payload == NULL)) {
		errno = len > CTL_MSG_MAX ? EMSGSIZE : EINVAL;
		return (-1);
	}
	memset(&hdr, 0, sizeof(hdr));
	hdr.type = type;
	hdr.len = (uint32_t)len;
	hdr.peerid = 0;
	hdr.pid = (uint32_t)getpid();

	iov[0].iov_base = &hdr;
	iov[0].iov_len = sizeof(hdr);
	iov[1].iov_base = (void *)(uintptr_t)payload;
	iov[1].iov_len = len;
	iovcnt = len > 0 ? 2 : 1;

	while (iovcnt > 0) {
		n = ctl_msg_writev(fd, iov, iovcnt);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return (-1);
		}
		/* Skip what went out; the rest of a partial iov stays. */
		done = (size_t)n;
		while (iovcnt > 0 && done >= iov[0].iov_len) {
			done -= iov[0].iov_len;
			iov[0] = iov[1];
			iovcnt--;
		}
		if (iovcnt > 0) {
			iov[0].iov_base = (char *)iov[0].iov_base + done;
			iov[0].iov_len -= done;
		}
	}
	return (0);
}

/*
 * Read exactly len bytes.  End of file in the middle, or before anything
 * arrived, is ECONNRESET: the caller was promised a whole message.
 */
static int
ctl_msg_readn(int fd, void *buf, size_t len)
{
	char	*p = buf;
	ssize_t	 n;

	while (len > 0) {
		n = read(fd, p, len);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return (-1);
		}
		if (n == 0) {
			errno = ECONNRESET;
			return (-1);
		}
		p += n;
		len -= (size_t)n;
	}
	return (0);
}

/*
 * Read one whole message from a blocking fd into *hdr and a malloc'd,
 * NUL-terminated *payload (empty string for no payload) that the caller
 * frees.  Returns 0, or -1 with errno set: EPROTO if the header announces
 * more than CTL_MSG_MAX bytes, ECONNRESET if the peer closed before the
 * message was complete, ENOMEM, or whatever read() said (EAGAIN when an
 * SO_RCVTIMEO expired).  *payload is NULL on failure.
 */
int
ctl_msg_read(int fd, struct ctl_hdr *hdr, char **payload)
{
	char	*buf;

	*payload = NULL;
	if (ctl_msg_readn(fd, hdr, sizeof(*hdr)) == -1)
		return (-1);
	if (hdr->len > CTL_MSG_MAX) {
		errno = EPROTO;
		return (-1);
	}
	if ((buf = malloc((size_t)hdr->len + 1)) == NULL) {
		errno = ENOMEM;
		return (-1);
	}
	if (ctl_msg_readn(fd, buf, hdr->len) == -1) {
		free(buf);
		return (-1);
	}
	buf[hdr->len] = '\0';
	*payload = buf;
	return (0);
}

/*
 * Look at len buffered bytes starting at buf (an event loop's input
 * buffer) and say whether a whole message is there: its total size in
 * bytes, 0 if more must arrive, -1 if the header is malformed.
 */
ssize_t
ctl_msg_complete(const void *buf, size_t len)
{
	struct ctl_hdr	 hdr;
	size_t		 total;

	if (len < sizeof(hdr))
		return (0);
	/* The buffer need not be aligned for struct ctl_hdr. */
	memcpy(&hdr, buf, sizeof(hdr));
	if (hdr.len > CTL_MSG_MAX)
		return (-1);
	total = sizeof(hdr) + hdr.len;
	if (len < total)
		return (0);
	return ((ssize_t)total);
}

/* A name for type, for log lines; never NULL. */
const char *
ctl_type_name(uint32_t type)
{
	switch (type) {
	case CTL_HELLO:
		return ("hello");
	case CTL_RELOAD:
		return ("reload");
	case CTL_STOP:
		return ("stop");
	case CTL_STATUS:
		return ("status");
	case CTL_STATS:
		return ("stats");
	case CTL_LOG_VERBOSE:
		return ("log-verbose");
	case CTL_LOG_BRIEF:
		return ("log-brief");
	case CTL_VERB:
		return ("verb");
	case CTL_VERBS:
		return ("verbs");
	case CTL_OK:
		return ("ok");
	case CTL_FAIL:
		return ("fail");
	case CTL_W_READY:
		return ("worker-ready");
	case CTL_W_VERBOSE:
		return ("worker-verbose");
	case CTL_W_DRAIN:
		return ("worker-drain");
	}
	return ("unknown");
}
