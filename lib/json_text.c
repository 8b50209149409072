/*
 * The I-JSON rules json-c does not keep (json_text.h).
 *
 * Duplicate keys, found without a parser of our own: json-c has validated
 * the text; a light scan counts the keys each object of the text has (in
 * the order the objects open), a walk counts the members of each object of
 * the tree in the same order.  Without duplicates the two lists are equal.
 * With one, the first object (in that order) holding a key twice has fewer
 * members than keys; every object before it is in both lists, in the same
 * place (json-c only drops values of repeated keys, which come after that
 * object).  That object's keys are then decoded by json-c and compared.
 */
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "json_text.h"

#define DEPTH_MAX 64

struct counts {
	size_t *n, *start;   /* per object, in the order objects open: keys, offset of its '{' */
	size_t len, cap;
	size_t *members;     /* the tree's member counts, same order */
	size_t mlen;
};

static int
grow(struct counts *c)
{
	size_t cap = c->cap ? c->cap * 2 : 16;
	size_t *n = realloc(c->n, cap * sizeof(*n)), *start;

	if (n == NULL)
		return -1;
	c->n = n;
	if ((start = realloc(c->start, cap * sizeof(*start))) == NULL)
		return -1;
	c->start = start;
	c->cap = cap;
	return 0;
}

/* Skips the string literal starting at s[i] == '"'; returns the index after its closing quote. */
static size_t
skip_string(const char *s, size_t len, size_t i)
{
	for (i++; i < len && s[i] != '"'; i++)
		if (s[i] == '\\')
			i++;
	return i + 1;
}

/* Counts the keys of every object of the text; 0, or -1 (memory, or deeper than DEPTH_MAX). */
static int
scan(const char *s, size_t len, struct counts *c)
{
	size_t obj[DEPTH_MAX];   /* the object index of each open container, or (size_t)-1 for an array */
	int key_next[DEPTH_MAX];
	int depth = 0;

	for (size_t i = 0; i < len;) {
		char ch = s[i];

		if (ch == '{' || ch == '[') {
			if (depth == DEPTH_MAX || (ch == '{' && c->len == c->cap && grow(c) != 0))
				return -1;
			obj[depth] = ch == '{' ? c->len : (size_t)-1;
			key_next[depth] = ch == '{';
			if (ch == '{') {
				c->n[c->len] = 0;
				c->start[c->len++] = i;
			}
			depth++;
		} else if ((ch == '}' || ch == ']') && depth > 0)
			depth--;
		else if (ch == ',' && depth > 0)
			key_next[depth - 1] = obj[depth - 1] != (size_t)-1;
		else if (ch == '"') {
			if (depth > 0 && key_next[depth - 1]) {
				c->n[obj[depth - 1]]++;
				key_next[depth - 1] = 0;
			}
			i = skip_string(s, len, i);
			continue;
		}
		i++;
	}
	return 0;
}

/* The member count of every object of the tree, in the order the text opens them. */
static void
walk(struct json_object *o, struct counts *c)
{
	if (json_object_is_type(o, json_type_object)) {
		if (c->mlen == c->len)
			return; /* more objects in the tree than in the text: cannot be */
		c->members[c->mlen++] = (size_t)json_object_object_length(o);
		json_object_object_foreach(o, k, v) {
			(void)k;
			walk(v, c);
		}
	} else if (json_object_is_type(o, json_type_array)) {
		size_t n = json_object_array_length(o);

		for (size_t i = 0; i < n; i++)
			walk(json_object_array_get_idx(o, i), c);
	}
}

/* The string literal s[0..len) decoded by json-c (escapes included, nothing past it); NULL for memory. */
static struct json_object *
decode_string(const char *s, size_t len)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *o = tok ? json_tokener_parse_ex(tok, s, (int)len) : NULL;

	json_tokener_free(tok);
	return o;
}

/* The keys of the object whose '{' is s[at], decoded; finds one given twice. */
static int
find_repeated(const char *s, size_t len, size_t at, char *key, size_t keylen)
{
	struct json_object *keys = json_object_new_array();
	int depth = 0, key_next = 1, found = 0;

	if (keys == NULL)
		return -1;
	for (size_t i = at + 1; i < len && depth >= 0 && !found;) {
		char ch = s[i];

		if (ch == '{' || ch == '[')
			depth++;
		else if (ch == '}' || ch == ']')
			depth--;
		else if (ch == ',' && depth == 0)
			key_next = 1;
		else if (ch == '"') {
			size_t end = skip_string(s, len, i);

			if (depth == 0 && key_next) {
				struct json_object *k = decode_string(s + i, end - i);

				if (k == NULL) {
					json_object_put(keys);
					return -1;
				}
				for (size_t j = 0; j < json_object_array_length(keys) && !found; j++)
					if (strcmp(json_object_get_string(json_object_array_get_idx(keys, j)),
					    json_object_get_string(k)) == 0)
						found = 1;
				if (found && keylen > 0) {
					strncpy(key, json_object_get_string(k), keylen - 1);
					key[keylen - 1] = '\0';
				}
				json_object_array_add(keys, k);
				key_next = 0;
			}
			i = end;
			continue;
		}
		i++;
	}
	json_object_put(keys);
	return found;
}

int
json_text_duplicate_key(const char *text, size_t len, struct json_object *root, char *key, size_t keylen)
{
	struct counts c = { 0 };
	int rc = 0;

	if (scan(text, len, &c) != 0 || (c.len > 0 && (c.members = malloc(c.len * sizeof(*c.members))) == NULL))
		rc = -1;
	else {
		walk(root, &c);
		for (size_t i = 0; i < c.len; i++)
			if (i >= c.mlen || c.members[i] != c.n[i]) {
				rc = find_repeated(text, len, c.start[i], key, keylen);
				break;
			}
	}
	free(c.n);
	free(c.start);
	free(c.members);
	return rc;
}

/* The value of the four hex digits at s[0..4) (json-c checked they are hex digits). */
static unsigned
hex4(const char *s)
{
	unsigned v = 0;

	for (int i = 0; i < 4; i++)
		v = v << 4 | (unsigned)(s[i] <= '9' ? s[i] - '0' : (s[i] | 0x20) - 'a' + 10);
	return v;
}

/* Whether the string literal s[at] == '"' ... holds a lone surrogate escape; *end is the index after it. */
static int
has_lone_surrogate(const char *s, size_t len, size_t at, size_t *end)
{
	int lone = 0;
	size_t i;

	for (i = at + 1; i < len && s[i] != '"'; i++) {
		unsigned v;

		if (s[i] != '\\')
			continue;
		if (i + 1 < len && s[i + 1] != 'u') {
			i++;
			continue;
		}
		if (i + 6 > len)
			break;
		v = hex4(s + i + 2);
		i += 5;
		if (v >= 0xdc00 && v <= 0xdfff)
			lone = 1;
		else if (v >= 0xd800 && v <= 0xdbff) {
			/* A high half must be followed at once by an escaped low half, which it then consumes. */
			if (i + 6 < len && s[i + 1] == '\\' && s[i + 2] == 'u' &&
			    (v = hex4(s + i + 3)) >= 0xdc00 && v <= 0xdfff)
				i += 6;
			else
				lone = 1;
		}
	}
	*end = i + 1;
	return lone;
}

/*
 * For the string at text[at] inside depth open containers: the innermost
 * member whose value holds it, its name decoded into key; "" when the
 * string is a member's name, or is in no member.  1, or -1 for memory.
 */
static int
name_member(const char *text, size_t len, const int *object, const size_t *name, int depth, size_t at,
    char *key, size_t keylen)
{
	struct json_object *k;
	size_t member = len;

	if (keylen > 0)
		key[0] = '\0';
	for (int d = depth - 1; d >= 0; d--) {
		if (!object[d])
			continue;
		if (name[d] != at)
			member = name[d];
		break;
	}
	if (member == len)
		return 1;
	if ((k = decode_string(text + member, skip_string(text, len, member) - member)) == NULL)
		return -1;
	if (keylen > 0) {
		strncpy(key, json_object_get_string(k), keylen - 1);
		key[keylen - 1] = '\0';
	}
	json_object_put(k);
	return 1;
}

int
json_text_lone_surrogate(const char *text, size_t len, char *key, size_t keylen)
{
	/* Per open container: whether it is an object, and where its current member's name starts (or len). */
	int object[DEPTH_MAX], key_next = 0;
	size_t name[DEPTH_MAX];
	int depth = 0;

	for (size_t i = 0; i < len;) {
		char ch = text[i];

		if (ch == '{' || ch == '[') {
			if (depth == DEPTH_MAX)
				return -1;
			object[depth] = ch == '{';
			name[depth] = len;
			depth++;
			key_next = ch == '{';
		} else if ((ch == '}' || ch == ']') && depth > 0) {
			depth--;
			key_next = 0;
		} else if (ch == ',' && depth > 0) {
			key_next = object[depth - 1];
		} else if (ch == '"') {
			size_t end;
			int lone = has_lone_surrogate(text, len, i, &end);

			if (key_next) {
				name[depth - 1] = i;
				key_next = 0;
			}
			if (lone)
				return name_member(text, len, object, name, depth, i, key, keylen);
			i = end;
			continue;
		}
		i++;
	}
	return 0;
}
