#ifndef MENZZO_DUPKEY_H
#define MENZZO_DUPKEY_H

/*
 * json-c keeps the last value of a key given twice in one object; this API
 * refuses such a text instead (RFC 8259: names SHOULD be unique).  Given a
 * text json-c parsed and the tree it made of it, finds a key that appears
 * twice in one object of the text, comparing keys as decoded.
 */

#include <stddef.h>

struct json_object;

/*
 * 1 with the (first) key given twice copied into key[0..keylen) (cut to
 * fit, NUL-terminated), 0 when every object's keys are unique, -1 when
 * memory runs out.  text must be what root was parsed from.
 */
int json_text_duplicate_key(const char *text, size_t len, struct json_object *root, char *key, size_t keylen);

#endif
