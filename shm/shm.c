/*
 * shm.c: the master's registry of named shared-memory zones.
 *
 * The master maps every zone MAP_SHARED|MAP_ANONYMOUS before it forks the
 * workers, so all processes see a zone at the same address and a pointer
 * into a zone is valid in each of them (nginx ngx_shmem.c).  The registry
 * itself is private memory: workers inherit a copy at fork and only read
 * it.
 *
 * A configuration declares its zones in a round: shm_zone_begin(), then
 * shm_zone_add() for each zone, then shm_zone_reconcile() once the whole
 * configuration has loaded.  Until reconcile the previous generation's
 * zones stay mapped and untouched, because old workers still serve from
 * them and the load may yet fail.  A failed load simply never calls
 * reconcile; the zones it created are dropped by the next
 * shm_zone_begin(), and the zones it meant to keep or replace are left as
 * they were.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/mman.h>

#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib.h"
#include "shm.h"

/*
 * The data area starts on a cache line after the header, so the first
 * object in it (such as the stats slots) does not share a line with the
 * lock.  SHM_CACHELINE also satisfies the promised 64-byte alignment.
 */
#define SHM_DATA_OFFSET							\
	((sizeof(struct shm_hdr) + SHM_CACHELINE - 1) &			\
	    ~((size_t)SHM_CACHELINE - 1))

/* Longest zone name plus its NUL, as stored in the header. */
#define SHM_NAMESIZE	sizeof(((struct shm_hdr *)NULL)->h_name)

_Static_assert(SHM_CACHELINE >= 64 &&
    (SHM_CACHELINE & (SHM_CACHELINE - 1)) == 0,
    "SHM_CACHELINE must be a power of two of at least 64");

/* Where a zone stands in the declaration round, kept in z_mark. */
enum shm_mark {
	SHM_MARK_LIVE = 0,	/* committed, not declared this round */
	SHM_MARK_KEPT,		/* committed and declared again this round */
	SHM_MARK_NEW		/* created this round, not yet committed */
};

static size_t		 shm_pagesize(void);
static int		 shm_zone_intact(const struct shm_zone *);
static struct shm_zone	*shm_zone_map(const char *, size_t, uint32_t,
			    char **);
static void		 shm_zone_free(struct shm_zone *);
static void		 shm_zone_remove(size_t);

static struct shm_zone	**shm_zones;	/* the registry, private memory */
static size_t		  shm_nzones;

static size_t
shm_pagesize(void)
{
	static size_t	 pagesize;
	long		 pg;

	if (pagesize == 0) {
		if ((pg = sysconf(_SC_PAGESIZE)) == -1 || pg <= 0)
			pg = 4096;
		pagesize = (size_t)pg;
	}
	return (pagesize);
}

/*
 * A zone is reused only if its header still says what the registry says.
 * A worker scribbling over the header must not have its damage inherited
 * by the next generation.
 */
static int
shm_zone_intact(const struct shm_zone *z)
{
	const struct shm_hdr	*h = z->z_hdr;

	if (h->h_magic != SHM_MAGIC || h->h_layout != z->z_layout ||
	    h->h_size != z->z_size)
		return (0);
	if (strncmp(h->h_name, z->z_name, sizeof(h->h_name)) != 0)
		return (0);
	return (1);
}

static struct shm_zone *
shm_zone_map(const char *name, size_t size, uint32_t layout, char **cause)
{
	struct shm_zone	*z;
	struct shm_hdr	*h;
	void		*p;

	p = mmap(NULL, size, PROT_READ|PROT_WRITE, MAP_SHARED|MAP_ANONYMOUS,
	    -1, 0);
	if (p == MAP_FAILED) {
		if (cause != NULL)
			xasprintf(cause, "zone %s: mmap %zu bytes: %s", name,
			    size, strerror(errno));
		return (NULL);
	}

	/*
	 * An anonymous mapping arrives zero-filled, which is also the
	 * empty state of the slab (h_used and h_free both 0) and an
	 * unowned lock; the stores below only make that explicit.
	 */
	h = p;
	h->h_magic = SHM_MAGIC;
	h->h_layout = layout;
	h->h_size = size;
	atomic_store_explicit(&h->h_lock.lk_pid, 0, memory_order_relaxed);
	atomic_store_explicit(&h->h_lock.lk_broken, 0, memory_order_relaxed);
	h->h_root = 0;
	h->h_used = 0;
	h->h_free = 0;
	memset(h->h_name, 0, sizeof(h->h_name));
	memcpy(h->h_name, name, strlen(name));

	z = xcalloc(1, sizeof(*z));
	z->z_name = xstrdup(name);
	z->z_size = size;
	z->z_layout = layout;
	z->z_hdr = h;
	z->z_mark = SHM_MARK_NEW;
	z->z_reused = 0;
	return (z);
}

/*
 * Unmapping here only drops this process's view; a worker that inherited
 * the zone keeps its own mapping until it exits.
 */
static void
shm_zone_free(struct shm_zone *z)
{
	if (z == NULL)
		return;
	if (z->z_hdr != NULL)
		(void)munmap(z->z_hdr, z->z_size);
	free(z->z_name);
	free(z);
}

/* Remove entry i from the registry, keeping declaration order. */
static void
shm_zone_remove(size_t i)
{
	memmove(&shm_zones[i], &shm_zones[i + 1],
	    (shm_nzones - i - 1) * sizeof(*shm_zones));
	shm_nzones--;
}

/*
 * Start declaring the zones of a new configuration.  Master only.  Zones
 * created by an earlier round that never reached reconcile (its load
 * failed) are unmapped now; committed zones lose their marks and
 * z_reused.  The first round after start-up may skip this call.
 */
void
shm_zone_begin(void)
{
	struct shm_zone	*z;
	size_t		 i;

	for (i = 0; i < shm_nzones; ) {
		z = shm_zones[i];
		if (z->z_mark == SHM_MARK_NEW) {
			shm_zone_remove(i);
			shm_zone_free(z);
			continue;
		}
		z->z_mark = SHM_MARK_LIVE;
		z->z_reused = 0;
		i++;
	}
}

/*
 * Declare zone name of size bytes (header included, rounded up to the
 * page size) holding data of the caller's layout version.  Master only,
 * before fork.  A committed zone with the same name, rounded size and
 * layout and an intact header is kept with its contents (z_reused = 1).
 * Otherwise a fresh zero-filled zone is mapped; a committed zone of the
 * same name is left alone until shm_zone_reconcile() replaces it.
 * Declaring a name twice in one round returns the same zone, or fails if
 * size or layout differ.  Returns the zone, or NULL with *cause.
 */
struct shm_zone *
shm_zone_add(const char *name, size_t size, uint32_t layout, char **cause)
{
	struct shm_zone	*z, *live = NULL;
	size_t		 i, pg;

	if (name == NULL || *name == '\0' || strlen(name) >= SHM_NAMESIZE) {
		if (cause != NULL)
			xasprintf(cause, "zone name \"%s\" empty or longer "
			    "than %zu characters", name == NULL ? "" : name,
			    SHM_NAMESIZE - 1);
		return (NULL);
	}
	pg = shm_pagesize();
	if (size <= SHM_DATA_OFFSET) {
		if (cause != NULL)
			xasprintf(cause, "zone %s: size %zu too small, the "
			    "header alone takes %zu bytes", name, size,
			    (size_t)SHM_DATA_OFFSET);
		return (NULL);
	}
	if (size > SIZE_MAX - (pg - 1)) {
		if (cause != NULL)
			xasprintf(cause, "zone %s: size %zu too large", name,
			    size);
		return (NULL);
	}
	size = (size + pg - 1) / pg * pg;

	for (i = 0; i < shm_nzones; i++) {
		z = shm_zones[i];
		if (strcmp(z->z_name, name) != 0)
			continue;
		if (z->z_mark == SHM_MARK_LIVE) {
			live = z;
			continue;
		}
		/* Declared already in this round. */
		if (z->z_size == size && z->z_layout == layout)
			return (z);
		if (cause != NULL)
			xasprintf(cause, "zone %s: declared twice with "
			    "different size or layout", name);
		return (NULL);
	}

	if (live != NULL && live->z_size == size &&
	    live->z_layout == layout && shm_zone_intact(live)) {
		live->z_mark = SHM_MARK_KEPT;
		live->z_reused = 1;
		return (live);
	}

	if ((z = shm_zone_map(name, size, layout, cause)) == NULL)
		return (NULL);
	shm_zones = xreallocarray(shm_zones, shm_nzones + 1,
	    sizeof(*shm_zones));
	shm_zones[shm_nzones++] = z;
	return (z);
}

/*
 * Look a zone up by name.  Any process.  During a declaration round the
 * zone declared in that round wins over the committed one it may replace.
 * Returns NULL if there is none.
 */
struct shm_zone *
shm_zone_find(const char *name)
{
	struct shm_zone	*z, *live = NULL;
	size_t		 i;

	for (i = 0; i < shm_nzones; i++) {
		z = shm_zones[i];
		if (strcmp(z->z_name, name) != 0)
			continue;
		if (z->z_mark != SHM_MARK_LIVE)
			return (z);
		live = z;
	}
	return (live);
}

/*
 * Commit the round: unmap every committed zone the round did not declare
 * (which includes zones replaced by a new size or layout), and make the
 * declared ones the live generation.  Master only, after the whole
 * configuration loaded and before the new workers are forked.
 */
void
shm_zone_reconcile(void)
{
	struct shm_zone	*z;
	size_t		 i;

	for (i = 0; i < shm_nzones; ) {
		z = shm_zones[i];
		if (z->z_mark == SHM_MARK_LIVE) {
			shm_zone_remove(i);
			shm_zone_free(z);
			continue;
		}
		z->z_mark = SHM_MARK_LIVE;
		i++;
	}
}

/*
 * The zone's data area, just after the header and aligned to
 * SHM_CACHELINE (at least 64).  Any process.
 */
void *
shm_zone_root(struct shm_zone *z)
{
	return ((char *)z->z_hdr + SHM_DATA_OFFSET);
}

/* Bytes in the data area returned by shm_zone_root().  Any process. */
size_t
shm_zone_datasize(struct shm_zone *z)
{
	return (z->z_size - SHM_DATA_OFFSET);
}

/*
 * Registry walk: the i-th zone, of whatever generation or round state,
 * or NULL past the end.  Any process; shm_lock_break_all() uses it.
 */
struct shm_zone *
shm_zone_at(size_t i)
{
	if (i >= shm_nzones)
		return (NULL);
	return (shm_zones[i]);
}

/*
 * Unmap every zone and empty the registry.  Master at exit, and tests.
 * Pointers into zones are invalid afterwards in this process.
 */
void
shm_zone_freeall(void)
{
	size_t	 i;

	for (i = 0; i < shm_nzones; i++)
		shm_zone_free(shm_zones[i]);
	free(shm_zones);
	shm_zones = NULL;
	shm_nzones = 0;
}
