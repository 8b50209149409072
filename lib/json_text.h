#ifndef MENZZO_JSON_TEXT_H
#define MENZZO_JSON_TEXT_H

/*
 * What json-c accepts and this API refuses, as RFC 7493 (I-JSON) does: a
 * key given twice in one object (json-c keeps the last value; RFC 8259:
 * names SHOULD be unique), and a lone UTF-16 surrogate escape such as
 * "\ud800" (json-c stores U+FFFD in its place; no Unicode character is
 * meant).  Both read a text json-c has already parsed without error.
 */

#include <stddef.h>

struct json_object;

/*
 * 1 with the (first) key given twice copied into key[0..keylen) (cut to
 * fit, NUL-terminated), 0 when every object's keys are unique, -1 when
 * memory runs out.  text must be what root was parsed from, keys compared
 * as decoded.
 */
int json_text_duplicate_key(const char *text, size_t len, struct json_object *root, char *key, size_t keylen);

/*
 * 1 when a string of the text holds a \uD800-\uDBFF escape not followed by
 * a \uDC00-\uDFFF one, or a \uDC00-\uDFFF escape not preceded by the first
 * kind; key[0..keylen) is then the decoded name of the member whose value
 * holds that string (the innermost one; cut to fit), or "" when the string
 * is a member's name or no member's value.  0 when there is none, -1 when
 * memory runs out.
 */
int json_text_lone_surrogate(const char *text, size_t len, char *key, size_t keylen);

#endif
