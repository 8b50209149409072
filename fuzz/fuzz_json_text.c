/*
 * The I-JSON checks (json_text.h) on any text json-c takes:
 *   - a key reported given twice, or holding a lone surrogate, is a key of
 *     the tree;
 *   - the tree written out again (json-c keeps one value per key, and writes
 *     what a lone surrogate became as UTF-8) has no key given twice and no
 *     lone surrogate, whatever escapes its keys need;
 *   - that text with its root's first key given once more has one, named;
 *     with that key's value a lone surrogate, the surrogate is found in it.
 */
#include <json-c/json.h>

#include "json_text.h"

#include "fuzz.h"

/* 1 when some object of the tree has the member key. */
static int
tree_has_key(struct json_object *o, const char *key)
{
	if (json_object_is_type(o, json_type_object)) {
		if (json_object_object_get_ex(o, key, NULL))
			return 1;
		json_object_object_foreach(o, k, v) {
			(void)k;
			if (tree_has_key(v, key))
				return 1;
		}
	} else if (json_object_is_type(o, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(o); i++)
			if (tree_has_key(json_object_array_get_idx(o, i), key))
				return 1;
	}
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json_tokener *tok = json_tokener_new_ex(16);
	struct json_object *o;
	char key[256];
	const char *out;
	size_t outlen;
	int rc, dup;

	if (tok == NULL)
		return 0;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	o = json_tokener_parse_ex(tok, (const char *)data, (int)size);
	if (o == NULL || json_tokener_get_error(tok) != json_tokener_success) {
		json_object_put(o);
		json_tokener_free(tok);
		return 0;
	}
	dup = json_text_duplicate_key((const char *)data, json_tokener_get_parse_end(tok), o, key, sizeof(key));
	CHECK(dup == 0 || dup == 1);
	if (dup == 1 && strlen(key) < sizeof(key) - 1)
		CHECK(tree_has_key(o, key));

	/* (Checked after the duplicates, as the API does: a value json-c dropped holds keys the tree lacks.) */
	rc = json_text_lone_surrogate((const char *)data, json_tokener_get_parse_end(tok), key, sizeof(key));
	CHECK(rc == 0 || rc == 1);
	if (dup == 0 && rc == 1 && key[0] != '\0' && strlen(key) < sizeof(key) - 1)
		CHECK(tree_has_key(o, key));

	out = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN, &outlen);
	CHECK(json_text_duplicate_key(out, outlen, o, key, sizeof(key)) == 0);
	CHECK(json_text_lone_surrogate(out, outlen, key, sizeof(key)) == 0);
	if (json_object_is_type(o, json_type_object) && json_object_object_length(o) > 0) {
		struct json_object_iterator it = json_object_iter_begin(o);
		struct json_object *first = json_object_new_string(json_object_iter_peek_name(&it));
		const char *k = json_object_to_json_string_length(first, JSON_C_TO_STRING_PLAIN, &outlen);
		size_t klen = outlen, n = klen + 6 + strlen(out);
		char *twice = malloc(n + 1);
		struct json_object *o2;

		CHECK(twice != NULL);
		/* {"k":null,<the members>} */
		snprintf(twice, n + 1, "{%s:null,%s", k, out + 1);
		o2 = json_tokener_parse(twice);
		CHECK(o2 != NULL);
		CHECK(json_text_duplicate_key(twice, strlen(twice), o2, key, sizeof(key)) == 1);
		CHECK(strlen(json_object_iter_peek_name(&it)) >= sizeof(key) - 1 ||
		    strcmp(key, json_object_iter_peek_name(&it)) == 0);
		json_object_put(o2);
		/* {"k":"\udc00",<the members>} */
		n += 8;
		CHECK((twice = realloc(twice, n + 1)) != NULL);
		snprintf(twice, n + 1, "{%s:\"\\udc00\",%s", k, out + 1);
		CHECK(json_text_lone_surrogate(twice, strlen(twice), key, sizeof(key)) == 1);
		CHECK(strlen(json_object_iter_peek_name(&it)) >= sizeof(key) - 1 ||
		    strcmp(key, json_object_iter_peek_name(&it)) == 0);
		json_object_put(first);
		free(twice);
	}
	json_object_put(o);
	json_tokener_free(tok);
	return 0;
}
