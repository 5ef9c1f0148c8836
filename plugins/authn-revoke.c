/*
 * authn-revoke.c: the revocation list, in the "revoked" zone.
 *
 * An entry names a token either by its jti claim or by the SHA-256 of
 * the credential exactly as the client sends it (the JWT compact form,
 * the opaque token, the API key): the hash lets an operator revoke a
 * token that has no jti, or an API key, with the hash the consumers'
 * api_keys already hold.  A jti is stored as text (the file and mgwctl
 * revocations show it) and looked up by its SHA-256, so both kinds share
 * one open-addressing table keyed by a digest.
 *
 * Only the master writes the table (mgwctl revoke, config load); the
 * workers read it in the access phase.  Writes take the zone lock; the
 * master reads its own table without it, since nobody else writes.  The
 * table is at most two thirds full, probed linearly, and deletion shifts
 * the rest of the cluster back (Knuth's Algorithm R), so there are no
 * tombstones and a probe always ends at an empty slot.  rr_live lets a
 * worker skip the lock and the hashing altogether while the list is
 * empty, which is the usual case.
 *
 * The list is persisted to security.revocation_file after every change,
 * written to a temporary file in the same directory, synced and renamed
 * over the old one, so a crash leaves either the old list or the new.
 * A zone kept across a reload keeps its entries; a new zone (first load,
 * other revocation_max) copies the live entries of the old zone and reads
 * the file.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "lib.h"
#include "authn-conf.h"
#include "shm.h"
#include "authn.h"

#define REVOKE_ZONE	"revoked"
#define REVOKE_VERSION	1	/* bump when the structs below change */
#define REVOKE_JTI_MAX	255	/* bytes of a jti */
#define REVOKE_LINE_MAX	1024	/* bytes of a line of the file */
#define REVOKE_HASH_PFX	"sha256:"
#define REVOKE_JTI_PFX	"jti:"
#define REVOKE_MAX	0xffffffU	/* revocation_max the layout holds */
#define REVOKE_ALIGN(x)	(((x) + 63) & ~(size_t)63)

enum revoke_kind {
	REVOKE_EMPTY = 0,	/* a free slot */
	REVOKE_HASH,		/* re_digest is the token's SHA-256 */
	REVOKE_JTI		/* re_digest is the SHA-256 of re_jti */
};

struct revoke_entry {
	uint32_t		 re_kind;	/* enum revoke_kind */
	uint32_t		 re_pad;
	int64_t			 re_until;	/* Unix s; 0 for ever */
	uint8_t			 re_digest[32];
	char			 re_jti[REVOKE_JTI_MAX + 1];	/* REVOKE_JTI */
};

struct revoke_root {
	uint32_t		 rr_max;	/* revocation_max */
	uint32_t		 rr_cap;	/* slots, a power of two */
	_Atomic uint32_t	 rr_live;	/* slots in use */
	uint32_t		 rr_pad;
};

static struct revoke_root *revoke_root(struct shm_zone *);
static struct revoke_entry *revoke_slots(struct revoke_root *);
static uint32_t	 revoke_home(const struct revoke_root *, uint32_t,
		    const uint8_t *);
static struct revoke_entry *revoke_find(struct revoke_root *, uint32_t,
		    const uint8_t *);
static void	 revoke_delete_locked(struct revoke_root *, uint32_t);
static int	 revoke_sweep(struct shm_zone *, int64_t);
static int	 revoke_insert(struct shm_zone *, const struct revoke_entry *,
		    int64_t);
static int	 revoke_parse(const char *, int, struct revoke_entry *,
		    char **);
static int	 revoke_sha256(const void *, size_t, uint8_t *);
static int	 revoke_copy(struct shm_zone *, struct shm_zone *, int64_t);
static int	 revoke_load(struct shm_zone *, const char *, int64_t,
		    char **);
static int	 revoke_save(struct shm_zone *, const char *, int64_t,
		    char **);
static void	 revoke_format(FILE *, const struct revoke_entry *);
static uint32_t	 revoke_capacity(uint32_t);

static struct revoke_root *
revoke_root(struct shm_zone *z)
{
	return (shm_zone_root(z));
}

static struct revoke_entry *
revoke_slots(struct revoke_root *root)
{
	return ((struct revoke_entry *)((char *)root +
	    REVOKE_ALIGN(sizeof(*root))));
}

/* Slots for max entries: at most two thirds full, a power of two. */
static uint32_t
revoke_capacity(uint32_t max)
{
	uint64_t	 want = (uint64_t)max * 3 / 2 + 1, cap = 16;

	while (cap < want)
		cap <<= 1;
	return ((uint32_t)cap);
}

/* A digest is already uniform: its first bytes and the kind pick a slot. */
static uint32_t
revoke_home(const struct revoke_root *root, uint32_t kind,
    const uint8_t *digest)
{
	uint64_t	 h;

	memcpy(&h, digest, sizeof(h));
	h ^= (uint64_t)kind * UINT64_C(0x9e3779b97f4a7c15);
	return ((uint32_t)(h & (root->rr_cap - 1)));
}

/* The slot holding (kind, digest), or NULL.  Lock held, or the master. */
static struct revoke_entry *
revoke_find(struct revoke_root *root, uint32_t kind, const uint8_t *digest)
{
	struct revoke_entry	*slots = revoke_slots(root), *e;
	uint32_t		 i, n;

	i = revoke_home(root, kind, digest);
	for (n = 0; n < root->rr_cap; n++) {
		e = &slots[i];
		if (e->re_kind == REVOKE_EMPTY)
			return (NULL);
		if (e->re_kind == kind &&
		    memcmp(e->re_digest, digest, sizeof(e->re_digest)) == 0)
			return (e);
		i = (i + 1) & (root->rr_cap - 1);
	}
	return (NULL);
}

/*
 * Empty slot i and move back the entries after it whose probe would
 * otherwise cross the hole.  Caller holds the zone lock.
 */
static void
revoke_delete_locked(struct revoke_root *root, uint32_t i)
{
	struct revoke_entry	*slots = revoke_slots(root);
	uint32_t		 j, k, mask = root->rr_cap - 1;

	j = i;
	for (;;) {
		j = (j + 1) & mask;
		if (slots[j].re_kind == REVOKE_EMPTY)
			break;
		k = revoke_home(root, slots[j].re_kind, slots[j].re_digest);
		/* Stays if its home lies cyclically in (i, j]. */
		if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
			continue;
		slots[i] = slots[j];
		i = j;
	}
	memset(&slots[i], 0, sizeof(slots[i]));
	atomic_fetch_sub_explicit(&root->rr_live, 1, memory_order_relaxed);
}

/*
 * Drop the entries that expired by now (Unix s).  Master only: it reads
 * without the lock and locks for each deletion.  Returns how many went.
 */
static int
revoke_sweep(struct shm_zone *z, int64_t now)
{
	struct revoke_root	*root = revoke_root(z);
	struct revoke_entry	*slots = revoke_slots(root);
	uint32_t		 i;
	int			 n = 0;

	for (i = 0; i < root->rr_cap; ) {
		if (slots[i].re_kind != REVOKE_EMPTY &&
		    slots[i].re_until != 0 && slots[i].re_until <= now) {
			shm_lock(&z->z_hdr->h_lock);
			revoke_delete_locked(root, i);
			shm_unlock(&z->z_hdr->h_lock);
			n++;
			continue;	/* slot i may hold a moved entry */
		}
		i++;
	}
	return (n);
}

/*
 * Add *ne or replace the until of its entry.  Master only.  0, or -1
 * when the table holds rr_max live entries even after dropping the
 * expired ones.
 */
static int
revoke_insert(struct shm_zone *z, const struct revoke_entry *ne, int64_t now)
{
	struct revoke_root	*root = revoke_root(z);
	struct revoke_entry	*slots = revoke_slots(root), *e;
	uint32_t		 i;

	if ((e = revoke_find(root, ne->re_kind, ne->re_digest)) != NULL) {
		shm_lock(&z->z_hdr->h_lock);
		e->re_until = ne->re_until;
		shm_unlock(&z->z_hdr->h_lock);
		return (0);
	}
	if (atomic_load_explicit(&root->rr_live, memory_order_relaxed) >=
	    root->rr_max && revoke_sweep(z, now) == 0)
		return (-1);
	i = revoke_home(root, ne->re_kind, ne->re_digest);
	while (slots[i].re_kind != REVOKE_EMPTY)
		i = (i + 1) & (root->rr_cap - 1);
	shm_lock(&z->z_hdr->h_lock);
	slots[i] = *ne;
	atomic_fetch_add_explicit(&root->rr_live, 1, memory_order_relaxed);
	shm_unlock(&z->z_hdr->h_lock);
	return (0);
}

/* SHA-256 of p into out (32 bytes).  0, or -1 if OpenSSL failed. */
static int
revoke_sha256(const void *p, size_t len, uint8_t *out)
{
	unsigned int	 n = 32;

	if (EVP_Digest(p, len, out, &n, EVP_sha256(), NULL) != 1 || n != 32)
		return (-1);
	return (0);
}

/*
 * Parse what into *e: "sha256:" and 64 hex digits (either case) is a
 * token hash; with file set, "jti:" and the jti is a jti; without it
 * anything else is a jti.  A jti is 1 to 255 printable ASCII characters
 * without spaces.  0, or -1 with *cause.
 */
static int
revoke_parse(const char *what, int file, struct revoke_entry *e,
    char **cause)
{
	const char	*p;
	size_t		 len, i;
	int		 hi, lo;

	memset(e, 0, sizeof(*e));
	if (strncasecmp(what, REVOKE_HASH_PFX, strlen(REVOKE_HASH_PFX)) == 0) {
		p = what + strlen(REVOKE_HASH_PFX);
		if (strlen(p) != 64 || strspn(p, "0123456789abcdefABCDEF") !=
		    64) {
			xasprintf(cause, "bad token hash \"%.80s\": want "
			    "sha256: and 64 hex digits", what);
			return (-1);
		}
		for (i = 0; i < 32; i++) {
			hi = isdigit((unsigned char)p[2 * i]) ? p[2 * i] - '0' :
			    tolower((unsigned char)p[2 * i]) - 'a' + 10;
			lo = isdigit((unsigned char)p[2 * i + 1]) ?
			    p[2 * i + 1] - '0' :
			    tolower((unsigned char)p[2 * i + 1]) - 'a' + 10;
			e->re_digest[i] = (uint8_t)(hi << 4 | lo);
		}
		e->re_kind = REVOKE_HASH;
		return (0);
	}
	if (file) {
		if (strncmp(what, REVOKE_JTI_PFX,
		    strlen(REVOKE_JTI_PFX)) != 0) {
			xasprintf(cause, "want sha256:HASH or jti:JTI");
			return (-1);
		}
		what += strlen(REVOKE_JTI_PFX);
	}
	len = strlen(what);
	if (len == 0 || len > REVOKE_JTI_MAX) {
		xasprintf(cause, "a jti has 1 to %d characters",
		    REVOKE_JTI_MAX);
		return (-1);
	}
	for (i = 0; i < len; i++) {
		if ((unsigned char)what[i] <= 0x20 ||
		    (unsigned char)what[i] >= 0x7f) {
			xasprintf(cause, "a jti is printable ASCII without "
			    "spaces");
			return (-1);
		}
	}
	memcpy(e->re_jti, what, len);
	if (revoke_sha256(what, len, e->re_digest) == -1) {
		xasprintf(cause, "SHA-256 failed");
		return (-1);
	}
	e->re_kind = REVOKE_JTI;
	return (0);
}

/* Copy the live entries of zone from into zone to.  -1 if to is full. */
static int
revoke_copy(struct shm_zone *to, struct shm_zone *from, int64_t now)
{
	struct revoke_root	*root = revoke_root(from);
	struct revoke_entry	*slots = revoke_slots(root);
	uint32_t		 i;

	if (root->rr_cap == 0)
		return (0);
	for (i = 0; i < root->rr_cap; i++) {
		if (slots[i].re_kind == REVOKE_EMPTY ||
		    (slots[i].re_until != 0 && slots[i].re_until <= now))
			continue;
		if (revoke_insert(to, &slots[i], now) == -1)
			return (-1);
	}
	return (0);
}

/*
 * Read path into zone z.  An absent file is an empty list.  Every bad
 * line is reported as "path:line: why", one per line of *cause; then -1.
 */
static int
revoke_load(struct shm_zone *z, const char *path, int64_t now, char **cause)
{
	struct revoke_entry	 e;
	FILE			*f;
	char			 buf[REVOKE_LINE_MAX + 2], *p, *what, *until;
	char			*end, *why, *all = NULL, *t, *save;
	size_t			 line = 0, len;
	long long		 u;
	int			 bad;

	if ((f = fopen(path, "r")) == NULL) {
		if (errno == ENOENT)
			return (0);
		xasprintf(cause, "%s: %s", path, strerror(errno));
		return (-1);
	}
	while (fgets(buf, sizeof(buf), f) != NULL) {
		line++;
		why = NULL;
		len = strlen(buf);
		if (len > 0 && buf[len - 1] == '\n')
			buf[--len] = '\0';
		else if (!feof(f)) {
			/* Skip the rest of an overlong line. */
			while ((bad = fgetc(f)) != EOF && bad != '\n')
				;
			xasprintf(&why, "line longer than %d bytes",
			    REVOKE_LINE_MAX);
			goto next;
		}
		if (len > 0 && buf[len - 1] == '\r')
			buf[--len] = '\0';
		p = buf + strspn(buf, " \t");
		if (*p == '\0' || *p == '#')
			continue;
		what = strtok_r(p, " \t", &save);
		until = strtok_r(NULL, " \t", &save);
		if (until == NULL) {
			xasprintf(&why, "want \"WHAT UNTIL\" (UNTIL in Unix "
			    "seconds, 0 for ever)");
			goto next;
		}
		if (strtok_r(NULL, " \t", &save) != NULL) {
			xasprintf(&why, "extra words after the time");
			goto next;
		}
		errno = 0;
		u = strtoll(until, &end, 10);
		if (*until == '\0' || !isdigit((unsigned char)*until) ||
		    *end != '\0' || errno != 0 || u < 0) {
			xasprintf(&why, "bad time \"%.40s\": want Unix "
			    "seconds, 0 for ever", until);
			goto next;
		}
		if (revoke_parse(what, 1, &e, &why) == -1)
			goto next;
		e.re_until = (int64_t)u;
		if (e.re_until != 0 && e.re_until <= now)
			continue;	/* ran out while we were down */
		if (revoke_insert(z, &e, now) == -1)
			xasprintf(&why, "revocation list full "
			    "(revocation_max %u)", revoke_root(z)->rr_max);
next:
		if (why == NULL)
			continue;
		xasprintf(&t, "%s%s%s:%zu: %s", all == NULL ? "" : all,
		    all == NULL ? "" : "\n", path, line, why);
		free(all);
		free(why);
		all = t;
	}
	if (ferror(f) && all == NULL)
		xasprintf(&all, "%s: %s", path, strerror(errno));
	fclose(f);
	if (all != NULL) {
		*cause = all;
		return (-1);
	}
	return (0);
}

static void
revoke_format(FILE *f, const struct revoke_entry *e)
{
	size_t	 i;

	if (e->re_kind == REVOKE_HASH) {
		fputs(REVOKE_HASH_PFX, f);
		for (i = 0; i < sizeof(e->re_digest); i++)
			fprintf(f, "%02x", e->re_digest[i]);
	} else
		fprintf(f, "%s%s", REVOKE_JTI_PFX, e->re_jti);
	fprintf(f, " %lld\n", (long long)e->re_until);
}

/*
 * Write the live entries of z to path: a temporary file in the same
 * directory, fsync'd, renamed over path.  Master only.  0, or -1 with
 * *cause.
 */
static int
revoke_save(struct shm_zone *z, const char *path, int64_t now, char **cause)
{
	struct revoke_root	*root = revoke_root(z);
	struct revoke_entry	*slots = revoke_slots(root);
	FILE			*f = NULL;
	char			*tmp, *dir;
	const char		*slash;
	uint32_t		 i;
	int			 fd, dfd;

	xasprintf(&tmp, "%s.XXXXXX", path);
	/*
	 * The default file lives in $localstatedir/lib/mgw, which a fresh
	 * install may not have yet: the master (root) makes the last
	 * directory of the path, as mgwd does for analytics.
	 */
	if ((fd = mkstemp(tmp)) == -1 && errno == ENOENT &&
	    (slash = strrchr(path, '/')) != NULL && slash != path) {
		dir = xstrndup(path, slash - path);
		if (mkdir(dir, 0750) == 0 || errno == EEXIST) {
			free(tmp);
			xasprintf(&tmp, "%s.XXXXXX", path);
			fd = mkstemp(tmp);
		}
		free(dir);
	}
	if (fd == -1) {
		xasprintf(cause, "%s: %s", tmp, strerror(errno));
		free(tmp);
		return (-1);
	}
	if ((f = fdopen(fd, "w")) == NULL) {
		xasprintf(cause, "%s: %s", tmp, strerror(errno));
		close(fd);
		goto fail;
	}
	fputs("# mgw revocation list, written by mgwd: "
	    "sha256:HASH|jti:JTI UNTIL (Unix seconds, 0 for ever)\n", f);
	for (i = 0; i < root->rr_cap; i++) {
		if (slots[i].re_kind == REVOKE_EMPTY ||
		    (slots[i].re_until != 0 && slots[i].re_until <= now))
			continue;
		revoke_format(f, &slots[i]);
	}
	if (fflush(f) == EOF || ferror(f) || fsync(fileno(f)) == -1) {
		xasprintf(cause, "%s: %s", tmp, strerror(errno));
		fclose(f);
		goto fail;
	}
	if (fclose(f) == EOF) {
		xasprintf(cause, "%s: %s", tmp, strerror(errno));
		goto fail;
	}
	if (rename(tmp, path) == -1) {
		xasprintf(cause, "rename to %s: %s", path, strerror(errno));
		goto fail;
	}
	/* Make the rename itself durable. */
	if ((slash = strrchr(path, '/')) == NULL)
		dir = xstrdup(".");
	else if (slash == path)
		dir = xstrdup("/");
	else
		xasprintf(&dir, "%.*s", (int)(slash - path), path);
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) != -1) {
		(void)fsync(dfd);
		close(dfd);
	}
	free(dir);
	free(tmp);
	return (0);

fail:
	(void)unlink(tmp);
	free(tmp);
	return (-1);
}

/*
 * Declare the zone for sec->s_revocation_max entries.  Master only, at
 * every config load, before fork.  A kept zone keeps its entries; a new
 * one gets the live entries of the zone it replaces and those of
 * sec->s_revocation_file.  A file that cannot be read or parsed refuses
 * the config with "file:line: why" for every bad line.  0, or -1 with
 * *cause.
 */
int
revoke_init(const struct conf_security *sec, char **cause)
{
	struct shm_zone		*z, *old;
	struct revoke_root	*root;
	size_t			 size;
	uint32_t		 cap, max = sec->s_revocation_max;
	int64_t			 now = (int64_t)time(NULL);

	if (max == 0 || max > REVOKE_MAX) {
		xasprintf(cause, "revocation_max %u out of range", max);
		return (-1);
	}
	cap = revoke_capacity(max);
	/* The header is at most a page; slack for it and the root. */
	size = 4096 + REVOKE_ALIGN(sizeof(*root)) +
	    (size_t)cap * sizeof(struct revoke_entry);
	/* Before the add: the previous generation's zone, if any. */
	old = shm_zone_find(REVOKE_ZONE);
	/* The layout number carries max: another max, another zone. */
	z = shm_zone_add(REVOKE_ZONE, size,
	    ((uint32_t)REVOKE_VERSION << 24) | max, cause);
	if (z == NULL)
		return (-1);
	root = revoke_root(z);
	if (z->z_reused && root->rr_max == max && root->rr_cap == cap)
		goto done;
	if (root->rr_cap == 0) {
		/* Fresh, zero-filled and not mapped by any worker yet. */
		root->rr_max = max;
		root->rr_cap = cap;
		if (old != NULL && old != z &&
		    revoke_copy(z, old, now) == -1) {
			xasprintf(cause, "revocation list full (revocation_max "
			    "%u): the running list has more live entries",
			    max);
			return (-1);
		}
		if (sec->s_revocation_file != NULL &&
		    revoke_load(z, sec->s_revocation_file, now, cause) == -1)
			return (-1);
	}
done:
	return (0);
}

/*
 * Revoke what ("sha256:" and 64 hex digits: a token hash; anything else:
 * a jti) until until (Unix s; 0 for ever), or change the until of an
 * existing entry.  Master only.  Expired entries are dropped when the
 * list is full.  The list is then written to file (the running
 * configuration's revocation_file; NULL: memory only); if that fails
 * the revocation still holds and *cause starts "revoked, but not
 * persisted".  0, or -1 with *cause.
 */
int
revoke_add(const char *what, int64_t until, const char *file,
    char **cause)
{
	struct revoke_entry	 e;
	struct shm_zone		*z, *zi;
	int64_t			 now = (int64_t)time(NULL);
	size_t			 i;
	char			*why = NULL;

	if (revoke_parse(what, 0, &e, cause) == -1)
		return (-1);
	if (until < 0 || (until != 0 && until <= now)) {
		xasprintf(cause, "until %lld is in the past",
		    (long long)until);
		return (-1);
	}
	e.re_until = until;
	if ((z = shm_zone_find(REVOKE_ZONE)) == NULL) {
		xasprintf(cause, "no revocation list: no route uses "
		    "authentication");
		return (-1);
	}
	if (revoke_insert(z, &e, now) == -1) {
		xasprintf(cause, "revocation list full (revocation_max %u)",
		    revoke_root(z)->rr_max);
		return (-1);
	}
	/*
	 * After a refused reload the registry may also hold the zone that
	 * load declared, until the next load; keep it in step too.
	 */
	for (i = 0; (zi = shm_zone_at(i)) != NULL; i++)
		if (zi != z && strcmp(zi->z_name, REVOKE_ZONE) == 0 &&
		    revoke_root(zi)->rr_cap != 0)
			(void)revoke_insert(zi, &e, now);
	if (file != NULL && revoke_save(z, file, now, &why) == -1) {
		xasprintf(cause, "revoked, but not persisted: %s", why);
		free(why);
		return (-1);
	}
	return (0);
}

/*
 * Is the token whose SHA-256 is hash (NULL: unknown) or whose jti is jti
 * (NULL or "": none) revoked at now (Unix s)?  1 or 0 (1 also when the
 * jti cannot be hashed, failing closed).  Worker; one
 * atomic load while the list is empty, else the zone lock for two
 * probes.
 */
int
revoke_check(const uint8_t *hash, const char *jti, int64_t now)
{
	struct shm_zone		*z;
	struct revoke_root	*root;
	struct revoke_entry	*e;
	uint8_t			 jd[32];
	int			 found = 0, havejti;

	if ((z = shm_zone_find(REVOKE_ZONE)) == NULL)
		return (0);
	root = revoke_root(z);
	if (atomic_load_explicit(&root->rr_live, memory_order_relaxed) == 0 ||
	    root->rr_cap == 0)
		return (0);
	havejti = jti != NULL && *jti != '\0' &&
	    strlen(jti) <= REVOKE_JTI_MAX;
	/* Cannot tell: refuse rather than let a revoked token through. */
	if (havejti && revoke_sha256(jti, strlen(jti), jd) == -1)
		return (1);
	shm_lock(&z->z_hdr->h_lock);
	if (hash != NULL &&
	    (e = revoke_find(root, REVOKE_HASH, hash)) != NULL &&
	    (e->re_until == 0 || e->re_until > now))
		found = 1;
	if (!found && havejti &&
	    (e = revoke_find(root, REVOKE_JTI, jd)) != NULL &&
	    (e->re_until == 0 || e->re_until > now))
		found = 1;
	shm_unlock(&z->z_hdr->h_lock);
	return (found);
}

/*
 * The live entries as "sha256:HEX UNTIL" and "jti:JTI UNTIL" lines (the
 * file's format), malloc'd; "" when there are none.  Master only.
 */
char *
revoke_list(void)
{
	struct shm_zone		*z;
	struct revoke_root	*root;
	struct revoke_entry	*slots;
	FILE			*f;
	char			*buf = NULL;
	size_t			 size = 0;
	uint32_t		 i;
	int64_t			 now = (int64_t)time(NULL);

	if ((f = open_memstream(&buf, &size)) == NULL)
		fatal("%s: open_memstream", __func__);
	if ((z = shm_zone_find(REVOKE_ZONE)) != NULL) {
		root = revoke_root(z);
		slots = revoke_slots(root);
		for (i = 0; i < root->rr_cap; i++) {
			if (slots[i].re_kind == REVOKE_EMPTY ||
			    (slots[i].re_until != 0 &&
			    slots[i].re_until <= now))
				continue;
			revoke_format(f, &slots[i]);
		}
	}
	if (fclose(f) != 0)
		fatal("%s: fclose", __func__);
	return (buf);
}

/*
 * Entries revoked now, for the mgw_revoked_tokens gauge.  Any process,
 * no lock: a count taken while the master changes the list may be off by
 * the change.  O(revocation_max) unless the list is empty.
 */
uint64_t
revoke_count(void)
{
	struct shm_zone		*z;
	struct revoke_root	*root;
	struct revoke_entry	*slots;
	uint64_t		 n = 0;
	uint32_t		 i, kind;
	int64_t			 until, now = (int64_t)time(NULL);

	if ((z = shm_zone_find(REVOKE_ZONE)) == NULL)
		return (0);
	root = revoke_root(z);
	if (atomic_load_explicit(&root->rr_live, memory_order_relaxed) == 0)
		return (0);
	slots = revoke_slots(root);
	for (i = 0; i < root->rr_cap; i++) {
		kind = __atomic_load_n(&slots[i].re_kind, __ATOMIC_RELAXED);
		until = __atomic_load_n(&slots[i].re_until, __ATOMIC_RELAXED);
		if (kind != REVOKE_EMPTY && (until == 0 || until > now))
			n++;
	}
	return (n);
}
