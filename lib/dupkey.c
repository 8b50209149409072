/*
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

#include "dupkey.h"

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
				/* json-c decodes exactly the literal (escapes included), nothing past it. */
				struct json_tokener *tok = json_tokener_new();
				struct json_object *k = tok ? json_tokener_parse_ex(tok, s + i, (int)(end - i)) : NULL;

				json_tokener_free(tok);
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
