/* zs_provtext.h - providers' master data held with the rows in memory (zs_rows.h).
 *
 * Per agb, the text of the "provider" object of an answer ({"agb","name","kind","parent",
 * "locations"}), written once per snapshot by the same code and writer as an answer writes it
 * from the provider table (zs_provider_obj, zs_json_dump). A lookup then splices that text: it
 * neither reads the provider table nor parses the provider's locations, which was a tenth of a
 * cold national lookup (issue 16 item 4).
 *
 * A table is built once and not changed after; its texts are refcounted, and a table built from
 * an older one shares the texts of every provider not read again. Ownership: a build returns a
 * table the caller frees with zs_provtext_free; a text found stays valid until the table it was
 * found in is freed. Building is single-threaded; a built table is read by any number of
 * threads without locking. */
#ifndef ZS_PROVTEXT_H
#define ZS_PROVTEXT_H
#include <stddef.h>
#include <sqlite3.h>

/* An agb of this length or more is not held (its reader reads the table). */
#define ZS_PROVTEXT_AGB_MAX 16

typedef struct zs_provtext zs_provtext;

/* Every provider of db's snapshot, inside the caller's read transaction. NULL with err. */
zs_provtext *zs_provtext_full(sqlite3 *db, char *err, size_t errlen);
/* old, with the providers agbs[0..nagb) (sorted by strcmp, distinct) read again from db (a
 * provider no longer in the table leaves it). NULL with err. */
zs_provtext *zs_provtext_incr(sqlite3 *db, const zs_provtext *old,
                              char (*agbs)[ZS_PROVTEXT_AGB_MAX], size_t nagb, char *err,
                              size_t errlen);
void zs_provtext_free(zs_provtext *t);

/* 1 with *text and *len (not NUL-terminated for the caller's use; owned by t); 0 when the
 * snapshot has no record of agb; -1 when t cannot hold agb (too long): read the table. */
int zs_provtext_find(const zs_provtext *t, const char *agb, const char **text, size_t *len);

/* Providers held, and the bytes of the table and its texts. */
size_t zs_provtext_count(const zs_provtext *t);
size_t zs_provtext_bytes(const zs_provtext *t);

#endif
