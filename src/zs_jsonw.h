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
/* How many values are frozen. */
size_t zs_frozen_count(const zs_frozen *f);
/* Forget every frozen value (a new snapshot). */
void zs_frozen_clear(zs_frozen *f);
/* Forget one frozen value (its text and the table's reference). 0 ok, -1 when not frozen. */
int zs_frozen_remove(zs_frozen *f, json_t *v);
/* Freeze v (object or array): 0, or -1 when the table is full or out of memory (v is then
 * simply written out in full). f may be NULL. */
int zs_frozen_add(zs_frozen *f, json_t *v);

/* Freeze v with a text made elsewhere (the direct writer, below): from now on v is written as
 * text (len bytes, JSON the caller vouches for). Takes ownership of text (also on failure:
 * -1, text freed). v must be an object or array (an empty array serves as a placeholder). */
int zs_frozen_add_text(zs_frozen *f, json_t *v, char *text, size_t len);
/* The same with a text the caller keeps (it must stay unchanged until zs_frozen_clear). */
int zs_frozen_add_ref(zs_frozen *f, json_t *v, const char *text, size_t len);

/* Serialize v (f may be NULL). NULL on out-of-memory or a value jansson would refuse (invalid
 * UTF-8 cannot occur: jansson checks strings on the way in). *len gets the length. */
char *zs_json_dump(const json_t *v, const zs_frozen *f, size_t *len);
/* The same with a second table (g may be NULL): values frozen in either are spliced. */
char *zs_json_dump2(const json_t *v, const zs_frozen *f, const zs_frozen *g, size_t *len);
/* zs_json_dump2 into a zs_big block (zs_big.h): the caller frees it with zs_big_free. */
char *zs_json_dump_big(const json_t *v, const zs_frozen *f, const zs_frozen *g, size_t *len);

/* ---- the direct writer ------------------------------------------------------------------
 * Writing JSON text piece by piece, with the same bytes the serializer above gives for the
 * same values, for answers built without a jansson tree (zs_status.c). The buffer is the
 * caller's: zs_jb_take hands over the text (malloc'ed, NUL-terminated); zs_jb_free drops it.
 * Out of memory sticks: every later write is ignored and zs_jb_take returns NULL. */
typedef struct {
	char *p;
	size_t len, cap;
	int oom;
	size_t first_cap;    /* first allocation (0: 64 KiB) */
	int fixed;           /* never reallocated: a write beyond cap sets oom instead */
	int big;             /* p is a zs_big block (zs_big.h), freed with zs_big_free */
} zs_jbuf;

void zs_jb_raw(zs_jbuf *b, const char *s, size_t n);
#define zs_jb_lit(b, lit) zs_jb_raw((b), "" lit, sizeof(lit) - 1)
void zs_jb_char(zs_jbuf *b, char c);
/* a JSON string: quoted and escaped as jansson does */
void zs_jb_str(zs_jbuf *b, const char *s);
void zs_jb_bool(zs_jbuf *b, int v);
/* any value, frozen values of f spliced (f may be NULL) */
void zs_jb_value(zs_jbuf *b, const json_t *v, const zs_frozen *f);
char *zs_jb_take(zs_jbuf *b, size_t *len);
void zs_jb_free(zs_jbuf *b);

#endif
