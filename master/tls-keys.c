/*
 * tls-keys.c: TLS session ticket keys in shared memory.
 *
 * A ticket is encrypted by whichever worker completed the handshake and
 * may come back to any other, so the keys cannot be per process (nor
 * per generation: a reload would forget every session).  The master
 * makes them with RAND_bytes() in a zone declared with a fixed size and
 * layout in every round, so the zone and its keys survive reloads, and
 * rotates them on a timer.  Workers copy a key under the zone lock and
 * hand it to OpenSSL's EVP cipher and MAC contexts: no crypto is done
 * here, only key selection.
 */
#include "config.h"

#include <sys/types.h>

#include <stdint.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>

#include "lib.h"
#include "master.h"
#include "shm.h"

#define TLS_KEYS_ZONE	"tls-keys"
#define TLS_KEYS_LAYOUT	1	/* bump when struct tls_keys changes */
#define TLS_KEYS_SIZE	4096	/* bytes: header and keys */

/*
 * Session ticket keys in the "tls-keys" zone, under its lock: the master
 * writes them (start, rotation), workers read them in the handshake.
 * [0] encrypts new tickets, [0] and [1] decrypt.  A zeroed key name is a
 * key not made yet and never matches.
 */
struct tls_ticket_key {
	uint8_t			 tk_name[16];
	uint8_t			 tk_aes[32];	/* AES-256-CBC */
	uint8_t			 tk_hmac[32];	/* HMAC-SHA256 */
};
struct tls_keys {
	struct tls_ticket_key	 tk_key[2];
	uint64_t		 tk_rotations;
};

static int	tls_keys_make(struct tls_ticket_key *);

static int
tls_keys_make(struct tls_ticket_key *k)
{
	if (RAND_bytes(k->tk_name, sizeof(k->tk_name)) != 1 ||
	    RAND_bytes(k->tk_aes, sizeof(k->tk_aes)) != 1 ||
	    RAND_bytes(k->tk_hmac, sizeof(k->tk_hmac)) != 1)
		return (-1);
	return (0);
}

/*
 * Declare the zone for the configuration being loaded (master, before
 * fork, every round) and make the first key if the zone is new.  0, or
 * -1 with *cause.
 */
int
tls_keys_init(char **cause)
{
	struct shm_zone		*z;
	struct tls_keys		*tk;
	struct tls_ticket_key	 k;
	static const uint8_t	 zero[16];

	z = shm_zone_add(TLS_KEYS_ZONE, TLS_KEYS_SIZE, TLS_KEYS_LAYOUT,
	    cause);
	if (z == NULL)
		return (-1);
	if (shm_zone_datasize(z) < sizeof(*tk)) {
		xasprintf(cause, "zone %s: data area too small",
		    TLS_KEYS_ZONE);
		return (-1);
	}
	tk = shm_zone_root(z);
	if (memcmp(tk->tk_key[0].tk_name, zero, sizeof(zero)) != 0)
		return (0);
	/* A new zone: nobody can read it before the fork. */
	if (tls_keys_make(&k) == -1) {
		xasprintf(cause, "zone %s: RAND_bytes failed", TLS_KEYS_ZONE);
		return (-1);
	}
	tk->tk_key[0] = k;
	explicit_bzero(&k, sizeof(k));
	return (0);
}

/*
 * A new current key; the old one still decrypts for one more period.
 * Master only.  The key is made before the lock is taken: RAND_bytes()
 * may make a system call, which has no place under a zone lock.
 */
int
tls_keys_rotate(void)
{
	struct shm_zone		*z;
	struct tls_keys		*tk;
	struct tls_ticket_key	 k;

	if ((z = shm_zone_find(TLS_KEYS_ZONE)) == NULL)
		return (-1);
	if (tls_keys_make(&k) == -1)
		return (-1);
	tk = shm_zone_root(z);
	shm_lock(&z->z_hdr->h_lock);
	tk->tk_key[1] = tk->tk_key[0];
	tk->tk_key[0] = k;
	tk->tk_rotations++;
	shm_unlock(&z->z_hdr->h_lock);
	explicit_bzero(&k, sizeof(k));
	return (0);
}

/*
 * OpenSSL asks for a key to encrypt a new ticket (enc = 1) or to decrypt
 * one named key_name (enc = 0).  Returns 1 (key set), 2 (decrypted with
 * the previous key: issue a new ticket), 0 (unknown key: full
 * handshake) or -1 (error).  Worker, in a handshake.
 */
int
tls_keys_ticket_cb(SSL *ssl, unsigned char *key_name, unsigned char *iv,
    EVP_CIPHER_CTX *ctx, EVP_MAC_CTX *hctx, int enc)
{
	struct shm_zone		*z;
	struct tls_keys		*tk;
	struct tls_ticket_key	 k;
	OSSL_PARAM		 params[3];
	int			 i, found = -1, rv = -1;

	if ((z = shm_zone_find(TLS_KEYS_ZONE)) == NULL)
		return (enc ? -1 : 0);
	tk = shm_zone_root(z);
	shm_lock(&z->z_hdr->h_lock);
	if (enc) {
		k = tk->tk_key[0];
		found = 0;
	} else {
		for (i = 0; i < 2; i++) {
			if (memcmp(key_name, tk->tk_key[i].tk_name,
			    sizeof(k.tk_name)) == 0) {
				k = tk->tk_key[i];
				found = i;
				break;
			}
		}
	}
	shm_unlock(&z->z_hdr->h_lock);
	if (found == -1)
		return (0);

	params[0] = OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY,
	    k.tk_hmac, sizeof(k.tk_hmac));
	params[1] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
	    (char *)"SHA256", 0);
	params[2] = OSSL_PARAM_construct_end();
	if (enc) {
		memcpy(key_name, k.tk_name, sizeof(k.tk_name));
		if (RAND_bytes(iv, EVP_CIPHER_get_iv_length(
		    EVP_aes_256_cbc())) != 1)
			goto out;
		if (EVP_EncryptInit_ex(ctx, EVP_aes_256_cbc(), NULL, k.tk_aes,
		    iv) != 1)
			goto out;
	} else if (EVP_DecryptInit_ex(ctx, EVP_aes_256_cbc(), NULL, k.tk_aes,
	    iv) != 1)
		goto out;
	if (EVP_MAC_CTX_set_params(hctx, params) != 1)
		goto out;
	rv = found == 0 ? 1 : 2;
out:
	explicit_bzero(&k, sizeof(k));
	return (rv);
}
