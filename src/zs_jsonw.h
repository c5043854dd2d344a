/* zs_jsonw.h - writing JSON text fast: a serializer that gives exactly what
 * json_dumps(v, JSON_COMPACT | JSON_REAL_PRECISION(15)) gives, but copies the text of "frozen"
 * values instead of walking them again.
 *
 * Answers share many values that do not change within a snapshot: the policy summaries and the
 * consequence objects (zs_api.c keeps one object per distinct input). Their text is made once
 * per snapshot (zs_frozen_add) and spliced into every answer that holds them. A frozen value
 * must not be modified while it is frozen: the table holds a reference to it, so its address
 * cannot be reused by another value either.
 *
 * Ownership: zs_frozen owns its texts and one reference per frozen value; zs_json_dump returns
 * a malloc'ed, NUL-terminated text the caller frees. One zs_frozen per thread (no locking). */
#ifndef ZS_JSONW_H
#define ZS_JSONW_H
#include <stddef.h>
#include <jansson.h>

typedef struct zs_frozen zs_frozen;

zs_frozen *zs_frozen_new(size_t max_entries);
void zs_frozen_free(zs_frozen *f);
/* Forget every frozen value (a new snapshot). */
void zs_frozen_clear(zs_frozen *f);
/* Freeze v (object or array): 0, or -1 when the table is full or out of memory (v is then
 * simply written out in full). f may be NULL. */
int zs_frozen_add(zs_frozen *f, json_t *v);

/* Serialize v (f may be NULL). NULL on out-of-memory or a value jansson would refuse (invalid
 * UTF-8 cannot occur: jansson checks strings on the way in). *len gets the length. */
char *zs_json_dump(const json_t *v, const zs_frozen *f, size_t *len);

#endif
