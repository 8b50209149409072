#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "buf.h"
#include "sales.h"
#include "supplier.h"

struct json_object *
timestamp_json(int64_t t)
{
	char s[TIMESTAMP_LEN + 1];

	if (t == 0)
		return NULL;
	format_timestamp(t, s);
	return json_object_new_string(s);
}

static struct json_object *
price_json(int64_t cents)
{
	char s[24];

	format_price(cents, s);
	return json_object_new_double_s((double)cents / 100.0, s);
}

static struct json_object *
string_or_null(const char *s)
{
	return s[0] ? json_object_new_string(s) : NULL;
}

/* Adds a member under a constant, new key: json-c then neither copies nor looks up the key. */
static void
add(struct json_object *o, const char *key, struct json_object *val)
{
	json_object_object_add_ex(o, key, val, JSON_C_OBJECT_ADD_KEY_IS_NEW | JSON_C_OBJECT_ADD_CONSTANT_KEY);
}

static void
put_part(struct buf *out, const char *s, size_t n)
{
	unsigned char len[2] = { (unsigned char)(n >> 8), (unsigned char)(n & 0xff) };

	buf_add(out, len, 2);
	buf_add(out, s, n);
}

int
sale_item_value(const struct sale_product *sp, struct buf *out)
{
	struct json_object *head = json_object_new_object(), *tail = json_object_new_object();
	char id[MENZZO_ORDER_ID_MAX + 1], date[DATE_LEN + 1];
	struct json_object *label = json_object_new_string(sp->label);
	const char *h, *tl, *l;
	size_t hn, tn, ln;
	int rc = -1;

	/* The members before link_to_label, and those after it, in the seed's order. */
	format_menzzo_order_id(sp->increment_id, sp->sale_product_id, id);
	format_date(sp->order_date, date);
	add(head, "menzzo_order_id", json_object_new_string(id));
	add(head, "sku", json_object_new_string(sp->sku));
	add(head, "quantity", json_object_new_int64(sp->quantity));
	add(head, "price", price_json(sp->price_cents));
	add(tail, "order_date", json_object_new_string(date));
	add(tail, "carrier", json_object_new_string(sp->carrier));
	add(tail, "status", json_object_new_string(status_name(sp->status)));
	add(tail, "acknowledged_at", timestamp_json(sp->acknowledged_at));
	add(tail, "prepared_at", timestamp_json(sp->prepared_at));
	h = json_object_to_json_string_length(head, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &hn);
	tl = json_object_to_json_string_length(tail, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &tn);
	l = json_object_to_json_string_length(label, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &ln);
	/* "{...}" each: keep the head without its '}', the tail without its '{', the label without its quotes. */
	if (hn >= 2 && tn >= 2 && ln >= 2 && hn < 65536 && tn < 65536) {
		out->len = 0;
		put_part(out, l + 1, ln - 2);
		put_part(out, h, hn - 1);
		put_part(out, tl + 1, tn - 1);
		rc = out->p != NULL ? 0 : -1;
	}
	json_object_put(head);
	json_object_put(tail);
	json_object_put(label);
	return rc;
}

/* Reads one length-prefixed part of an item value. */
static int
get_part(const unsigned char **p, const unsigned char *end, const char **s, size_t *n)
{
	if (end - *p < 2)
		return -1;
	*n = (size_t)(*p)[0] << 8 | (*p)[1];
	*p += 2;
	if ((size_t)(end - *p) < *n)
		return -1;
	*s = (const char *)*p;
	*p += *n;
	return 0;
}

void
sale_link_prefix(const struct config *cfg, struct buf *out)
{
	char prefix[512];
	struct json_object *s;
	const char *js;
	size_t n;

	snprintf(prefix, sizeof(prefix), "%.*s/api/files/", (int)cfg->base_url_len, cfg->base_url);
	s = json_object_new_string(prefix);
	js = json_object_to_json_string_length(s, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &n);
	buf_add(out, js, n - 1); /* without the closing quote */
	json_object_put(s);
}

int
sale_item_compose(const void *value, size_t len, const struct buf *link_prefix, struct buf *out)
{
	const unsigned char *p = value, *end = p + len;
	const char *label, *head, *tail;
	size_t ln, hn, tn;

	if (get_part(&p, end, &label, &ln) || get_part(&p, end, &head, &hn) ||
	    get_part(&p, end, &tail, &tn) || p != end)
		return -1;
	buf_add(out, head, hn);
	buf_adds(out, ",\"link_to_label\":");
	if (ln > 0) {
		/* Both parts were JSON-encoded by json-c: the prefix once, the label when stored. */
		buf_add(out, link_prefix->p, link_prefix->len);
		buf_add(out, label, ln);
		buf_add(out, "\",", 2);
	} else
		buf_adds(out, "null,");
	buf_add(out, tail, tn);
	return 0;
}

struct json_object *
sale_full_json(const struct sale_product *sp)
{
	struct json_object *o = json_object_new_object();
	char id[MENZZO_ORDER_ID_MAX + 1], date[DATE_LEN + 1], inc[24];
	const struct supplier *sup = supplier_by_id(sp->supplier);

	format_menzzo_order_id(sp->increment_id, sp->sale_product_id, id);
	format_date(sp->order_date, date);
	snprintf(inc, sizeof(inc), "%llu", (unsigned long long)sp->increment_id);
	json_object_object_add(o, "menzzo_order_id", json_object_new_string(id));
	json_object_object_add(o, "increment_id", json_object_new_string(inc));
	json_object_object_add(o, "sale_product_id", json_object_new_uint64(sp->sale_product_id));
	json_object_object_add(o, "supplier", json_object_new_string(sup ? sup->slug : "?"));
	json_object_object_add(o, "sku", json_object_new_string(sp->sku));
	json_object_object_add(o, "quantity", json_object_new_int64(sp->quantity));
	json_object_object_add(o, "price", price_json(sp->price_cents));
	json_object_object_add(o, "order_date", json_object_new_string(date));
	json_object_object_add(o, "carrier", json_object_new_string(sp->carrier));
	json_object_object_add(o, "label", string_or_null(sp->label));
	json_object_object_add(o, "status", json_object_new_string(status_name(sp->status)));
	json_object_object_add(o, "acknowledged_at", timestamp_json(sp->acknowledged_at));
	json_object_object_add(o, "prepared_at", timestamp_json(sp->prepared_at));
	json_object_object_add(o, "tracking_number", string_or_null(sp->tracking_number));
	json_object_object_add(o, "ship_carrier", string_or_null(sp->ship_carrier));
	json_object_object_add(o, "created_at", timestamp_json(sp->created_at));
	json_object_object_add(o, "updated_at", timestamp_json(sp->updated_at));
	return o;
}

static const char *const log_action_names[LOG__MAX] = {
	"imported", "updated", "acknowledged", "shipped", "cancelled",
};

struct json_object *
log_entry_json(const struct log_entry *e)
{
	struct json_object *o = json_object_new_object(), *b = sale_full_json(&e->after), *a;

	json_object_object_add(o, "seq", json_object_new_uint64(e->seq));
	json_object_object_add(o, "at", timestamp_json(e->at));
	json_object_object_add(o, "user", json_object_new_string(e->user));
	json_object_object_add(o, "action", json_object_new_string(log_action_names[e->action]));
	if (e->request_id[0])
		json_object_object_add(o, "request_id", json_object_new_string(e->request_id));
	json_object_object_del(b, "created_at");
	json_object_object_del(b, "updated_at");
	if (!e->has_before) {
		/* A new record: all of it is what changed. */
		json_object_object_add(o, "after", b);
		return o;
	}
	a = sale_full_json(&e->before);
	{
		struct json_object *before = json_object_new_object(), *after = json_object_new_object();
		json_object_object_foreach(b, key, val) {
			struct json_object *prev = NULL;
			json_object_object_get_ex(a, key, &prev);
			if (json_object_equal(prev, val))
				continue;
			json_object_object_add(before, key, json_object_get(prev));
			json_object_object_add(after, key, json_object_get(val));
		}
		json_object_object_add(o, "before", before);
		json_object_object_add(o, "after", after);
	}
	json_object_put(a);
	json_object_put(b);
	return o;
}

/* Writes one sale-log entry in t. */
static int
write_log(struct store_txn *t, enum log_action action, const struct sale_product *old,
    const struct sale_product *sp, const char *user, const char *request_id, int64_t now)
{
	struct log_entry e;
	int rc;

	memset(&e, 0, sizeof(e));
	if ((rc = store_counter_next(t, "log_seq", &e.seq)) != STORE_OK)
		return rc;
	e.at = now;
	e.action = action;
	snprintf(e.user, sizeof(e.user), "%s", user);
	snprintf(e.request_id, sizeof(e.request_id), "%s", request_id ? request_id : "");
	if (old != NULL) {
		e.has_before = 1;
		e.before = *old;
	}
	e.after = *sp;
	return store_log_put(t, &e);
}

/* Writes one outbox event in t. */
static int
write_event(struct store_txn *t, const char *type, const struct sale_product *sp, int64_t now)
{
	struct json_object *e = json_object_new_object();
	char id[MENZZO_ORDER_ID_MAX + 1];
	const struct supplier *sup = supplier_by_id(sp->supplier);
	uint64_t seq;
	size_t len;
	const char *s;
	int rc;

	if ((rc = store_counter_next(t, "event_seq", &seq)) != STORE_OK) {
		json_object_put(e);
		return rc;
	}
	format_menzzo_order_id(sp->increment_id, sp->sale_product_id, id);
	json_object_object_add(e, "seq", json_object_new_uint64(seq));
	json_object_object_add(e, "type", json_object_new_string(type));
	json_object_object_add(e, "menzzo_order_id", json_object_new_string(id));
	json_object_object_add(e, "supplier", json_object_new_string(sup ? sup->slug : "?"));
	json_object_object_add(e, "at", timestamp_json(now));
	if (sp->status == STATUS_SHIPPED) {
		json_object_object_add(e, "tracking_number", string_or_null(sp->tracking_number));
		json_object_object_add(e, "carrier", string_or_null(sp->ship_carrier));
	}
	s = json_object_to_json_string_length(e, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	rc = store_event_put(t, seq, s, len);
	json_object_put(e);
	return rc;
}

/* Writes a sale product with its rendered listing item. */
static int
put_sale(struct store_txn *t, const struct sale_product *old, const struct sale_product *sp)
{
	struct buf item = { 0 };
	int rc;

	if (sale_item_value(sp, &item) != 0) {
		buf_free(&item);
		return store_fail_txn(t, STORE_NOMEM);
	}
	rc = store_sale_put(t, old, sp, item.p, item.len);
	buf_free(&item);
	return rc;
}

/* Decides the change; returns the result and fills *next when it is ACTION_CHANGED. */
static enum action_result
decide(const struct action *a, const struct sale_product *cur, struct sale_product *next)
{
	if (cur->increment_id != a->increment_id ||
	    (a->supplier >= 0 && cur->supplier != (unsigned)a->supplier))
		return ACTION_NOT_FOUND;
	*next = *cur;
	switch (a->what) {
	case ACTION_ACKNOWLEDGE:
		if (cur->status == STATUS_CANCELLED)
			return ACTION_CANCELLED;
		if (cur->status != STATUS_PENDING)
			return ACTION_UNCHANGED;
		next->status = STATUS_ACKNOWLEDGED;
		next->acknowledged_at = a->now;
		break;
	case ACTION_SHIP:
		if (cur->status == STATUS_CANCELLED)
			return ACTION_CANCELLED;
		if (cur->status == STATUS_SHIPPED)
			return ACTION_UNCHANGED;
		next->status = STATUS_SHIPPED;
		next->prepared_at = a->now;
		if (next->acknowledged_at == 0)
			next->acknowledged_at = a->now;
		if (a->tracking_number)
			snprintf(next->tracking_number, sizeof(next->tracking_number), "%s", a->tracking_number);
		if (a->carrier)
			snprintf(next->ship_carrier, sizeof(next->ship_carrier), "%s", a->carrier);
		break;
	case ACTION_CANCEL:
		if (cur->status == STATUS_CANCELLED)
			return ACTION_UNCHANGED;
		next->status = STATUS_CANCELLED;
		break;
	}
	next->updated_at = a->now;
	return ACTION_CHANGED;
}

static enum action_result
lookup(struct store *s, struct store_txn **tp, int write, const struct action *a,
    struct sale_product *cur, struct sale_product *next, int *err)
{
	int rc;
	enum action_result res;

	if ((rc = store_begin(s, write, tp)) != STORE_OK) {
		*err = rc;
		return ACTION_FAILED;
	}
	rc = store_sale_get(*tp, a->sale_product_id, cur);
	if (rc == STORE_NOTFOUND)
		res = ACTION_NOT_FOUND;
	else if (rc != STORE_OK) {
		*err = rc;
		res = ACTION_FAILED;
	} else
		res = decide(a, cur, next);
	return res;
}

enum action_result
sale_apply(struct store *s, const struct action *a, struct sale_product *out, int *err)
{
	struct store_txn *t;
	struct sale_product cur, next;
	enum action_result res;
	int rc;

	/* A repeat or a refusal needs no write lock: decide on a snapshot first. */
	res = lookup(s, &t, 0, a, &cur, &next, err);
	if (res == ACTION_FAILED)
		return res;
	store_abort(t);
	if (res != ACTION_CHANGED) {
		*out = cur;
		return res;
	}
	/* Decide again under the write lock: a concurrent request may have won. */
	res = lookup(s, &t, 1, a, &cur, &next, err);
	if (res == ACTION_FAILED)
		return res;
	if (res != ACTION_CHANGED) {
		store_abort(t);
		*out = cur;
		return res;
	}
	put_sale(t, &cur, &next);
	write_log(t, a->what == ACTION_ACKNOWLEDGE ? LOG_ACKNOWLEDGED : a->what == ACTION_SHIP ?
	    LOG_SHIPPED : LOG_CANCELLED, &cur, &next, a->user, a->request_id, a->now);
	write_event(t, a->what == ACTION_ACKNOWLEDGE ? "sale.acknowledged" :
	    a->what == ACTION_SHIP ? "sale.shipped" : "sale.cancelled", &next, a->now);
	store_generation_bump(t, next.supplier);
	if ((rc = store_commit(t)) != STORE_OK) {
		*err = rc;
		return ACTION_FAILED;
	}
	*out = next;
	return ACTION_CHANGED;
}

/* Import. */

static const char *const import_fields[] = {
	"increment_id", "sale_product_id", "supplier", "sku", "quantity", "price",
	"order_date", "carrier", "label", "status", "acknowledged_at", "prepared_at",
};
enum { F_INC, F_SP, F_SUPPLIER, F_SKU, F_QTY, F_PRICE, F_DATE, F_CARRIER, F_LABEL,
	F_STATUS, F_ACK, F_PREP, F__MAX };

static int
field_index(const char *key)
{
	for (int i = 0; i < F__MAX; i++)
		if (strcmp(import_fields[i], key) == 0)
			return i;
	return -1;
}

/* A string member's text, or an integer member's decimal text (for ids). */
static int
id_text(struct json_object *v, char *buf, size_t buflen, const char **s, size_t *len)
{
	if (json_object_is_type(v, json_type_string)) {
		*s = json_object_get_string(v);
		*len = (size_t)json_object_get_string_len(v);
		return 0;
	}
	if (json_object_is_type(v, json_type_int)) {
		snprintf(buf, buflen, "%s", json_object_get_string(v));
		*s = buf;
		*len = strlen(buf);
		return 0;
	}
	return -1;
}

static int
string_member(struct json_object *v, const char **s, size_t *len)
{
	if (!json_object_is_type(v, json_type_string))
		return -1;
	*s = json_object_get_string(v);
	*len = (size_t)json_object_get_string_len(v);
	return 0;
}

#define BAD(...) do { snprintf(err, errlen, __VA_ARGS__); goto out; } while (0)

int
import_parse_line(const char *line, size_t len, int64_t now, struct import_line *out,
    char *err, size_t errlen)
{
	struct json_tokener *tok = NULL;
	struct json_object *obj = NULL, *f[F__MAX] = { 0 };
	struct sale_product *sp = &out->sp;
	char num[32];
	const char *s;
	size_t n;
	uint64_t u;
	int ret = -1;

	memset(out, 0, sizeof(*out));
	if (memchr(line, '\0', len) != NULL) {
		snprintf(err, errlen, "NUL byte in line");
		return -1;
	}
	if ((tok = json_tokener_new_ex(4)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	obj = json_tokener_parse_ex(tok, line, (int)len);
	if (obj == NULL || json_tokener_get_error(tok) != json_tokener_success)
		BAD("not valid JSON");
	if (!only_blanks(line, json_tokener_get_parse_end(tok), len))
		BAD("text after the JSON object");
	if (!json_object_is_type(obj, json_type_object))
		BAD("not a JSON object");
	json_object_object_foreach(obj, key, val) {
		int i = field_index(key);
		if (i < 0 && valid_text(key, strlen(key), 40) == 0)
			BAD("unknown field \"%s\"", key);
		if (i < 0)
			BAD("unknown field");
		f[i] = val;
	}
	for (int i = 0; i <= F_CARRIER; i++)
		if (f[i] == NULL)
			BAD("%s is required", import_fields[i]);

	if (id_text(f[F_INC], num, sizeof(num), &s, &n) || parse_uint(s, n, 1, UINT64_MAX, &sp->increment_id))
		BAD("increment_id must be a positive decimal integer");
	if (id_text(f[F_SP], num, sizeof(num), &s, &n) || parse_uint(s, n, 1, UINT64_MAX, &sp->sale_product_id))
		BAD("sale_product_id must be a positive decimal integer");
	{
		const struct supplier *sup;
		if (string_member(f[F_SUPPLIER], &s, &n) || (sup = supplier_by_slug(s, n)) == NULL)
			BAD("supplier must be one of the supplier slugs");
		sp->supplier = supplier_id(sup);
	}
	if (string_member(f[F_SKU], &s, &n) || valid_text(s, n, SKU_MAX))
		BAD("sku must be 1-%d printable ASCII characters", SKU_MAX);
	memcpy(sp->sku, s, n);
	if (!json_object_is_type(f[F_QTY], json_type_int) ||
	    parse_uint(json_object_get_string(f[F_QTY]), strlen(json_object_get_string(f[F_QTY])), 1, QUANTITY_MAX, &u))
		BAD("quantity must be an integer from 1 to %d", QUANTITY_MAX);
	sp->quantity = (uint32_t)u;
	if (json_object_is_type(f[F_PRICE], json_type_string) || json_object_is_type(f[F_PRICE], json_type_int) ||
	    json_object_is_type(f[F_PRICE], json_type_double)) {
		/* A number keeps its source text in json-c: "250.00" stays exact. */
		s = json_object_get_string(f[F_PRICE]);
		if (parse_price(s, strlen(s), &sp->price_cents))
			BAD("price must be a decimal amount with at most two decimals");
	} else
		BAD("price must be a string or a number");
	if (string_member(f[F_DATE], &s, &n) || parse_date(s, n, &sp->order_date))
		BAD("order_date must be a real date YYYY-MM-DD");
	if (string_member(f[F_CARRIER], &s, &n) || valid_text(s, n, CARRIER_MAX))
		BAD("carrier must be 1-%d printable ASCII characters", CARRIER_MAX);
	memcpy(sp->carrier, s, n);
	if (f[F_LABEL] != NULL) {
		if (string_member(f[F_LABEL], &s, &n) || valid_label_path(s, n))
			BAD("label must be a relative path of [A-Za-z0-9._-] segments");
		memcpy(sp->label, s, n);
		out->has_label = 1;
	}
	sp->status = STATUS_PENDING;
	if (f[F_STATUS] != NULL) {
		if (string_member(f[F_STATUS], &s, &n) || parse_status(s, n, &sp->status))
			BAD("status must be pending, acknowledged, shipped or cancelled");
		out->has_status = 1;
	}
	if (f[F_ACK] != NULL && (string_member(f[F_ACK], &s, &n) ||
	    parse_timestamp(s, n, 0, &sp->acknowledged_at)))
		BAD("acknowledged_at must be YYYY-MM-DDThh:mm:ssZ");
	if (f[F_PREP] != NULL && (string_member(f[F_PREP], &s, &n) ||
	    parse_timestamp(s, n, 0, &sp->prepared_at)))
		BAD("prepared_at must be YYYY-MM-DDThh:mm:ssZ");
	switch (sp->status) {
	case STATUS_PENDING:
		if (sp->acknowledged_at || sp->prepared_at)
			BAD("a pending sale product has no acknowledged_at or prepared_at");
		break;
	case STATUS_ACKNOWLEDGED:
		if (sp->prepared_at)
			BAD("an acknowledged sale product has no prepared_at");
		if (!sp->acknowledged_at)
			sp->acknowledged_at = now;
		break;
	case STATUS_SHIPPED:
		if (!sp->prepared_at)
			sp->prepared_at = now;
		if (!sp->acknowledged_at)
			sp->acknowledged_at = sp->prepared_at;
		if (sp->acknowledged_at > sp->prepared_at)
			BAD("acknowledged_at is after prepared_at");
		break;
	default:
		break;
	}
	ret = 0;
out:
	json_object_put(obj);
	json_tokener_free(tok);
	return ret;
}

static int
sale_equal(const struct sale_product *a, const struct sale_product *b)
{
	return a->increment_id == b->increment_id && a->sale_product_id == b->sale_product_id &&
	    a->supplier == b->supplier && a->status == b->status && a->quantity == b->quantity &&
	    a->price_cents == b->price_cents && a->order_date == b->order_date &&
	    a->acknowledged_at == b->acknowledged_at && a->prepared_at == b->prepared_at &&
	    strcmp(a->sku, b->sku) == 0 && strcmp(a->carrier, b->carrier) == 0 &&
	    strcmp(a->label, b->label) == 0 && strcmp(a->tracking_number, b->tracking_number) == 0 &&
	    strcmp(a->ship_carrier, b->ship_carrier) == 0;
}

/* Whether two records render to the same get-sales item. */
static int
item_fields_equal(const struct sale_product *a, const struct sale_product *b)
{
	return a->increment_id == b->increment_id && a->sale_product_id == b->sale_product_id &&
	    a->status == b->status && a->quantity == b->quantity && a->price_cents == b->price_cents &&
	    a->order_date == b->order_date && a->acknowledged_at == b->acknowledged_at &&
	    a->prepared_at == b->prepared_at && strcmp(a->sku, b->sku) == 0 &&
	    strcmp(a->carrier, b->carrier) == 0 && strcmp(a->label, b->label) == 0;
}

static int
rank(enum sale_status s)
{
	return s == STATUS_PENDING ? 0 : s == STATUS_ACKNOWLEDGED ? 1 : 2;
}

int
import_apply(struct store_txn *t, const struct import_line *l, int64_t now, const char *user,
    char *err, size_t errlen, int *store_err)
{
	struct sale_product cur, next = l->sp;
	enum log_action action;
	int rc = store_sale_get(t, l->sp.sale_product_id, &cur), exists = rc == STORE_OK;

	if (rc != STORE_OK && rc != STORE_NOTFOUND) {
		*store_err = rc;
		return -2;
	}
	if (!exists) {
		next.created_at = next.updated_at = now;
		action = next.status == STATUS_CANCELLED ? LOG_CANCELLED : LOG_IMPORTED;
	} else {
		if (cur.increment_id != next.increment_id) {
			snprintf(err, errlen, "sale_product_id %llu belongs to increment_id %llu",
			    (unsigned long long)cur.sale_product_id, (unsigned long long)cur.increment_id);
			return -1;
		}
		if (cur.supplier != next.supplier) {
			snprintf(err, errlen, "sale_product_id %llu belongs to supplier %s",
			    (unsigned long long)cur.sale_product_id, supplier_by_id(cur.supplier)->slug);
			return -1;
		}
		if (!l->has_label)
			memcpy(next.label, cur.label, sizeof(next.label));
		memcpy(next.tracking_number, cur.tracking_number, sizeof(next.tracking_number));
		memcpy(next.ship_carrier, cur.ship_carrier, sizeof(next.ship_carrier));
		next.created_at = cur.created_at;
		next.updated_at = cur.updated_at;
		/* Never back: a cancellation is final and always applied; otherwise the further status wins. */
		if (cur.status == STATUS_CANCELLED ||
		    (next.status != STATUS_CANCELLED && rank(cur.status) >= rank(next.status))) {
			next.status = cur.status;
			next.acknowledged_at = cur.acknowledged_at;
			next.prepared_at = cur.prepared_at;
		} else {
			if (cur.acknowledged_at)
				next.acknowledged_at = cur.acknowledged_at;
			if (cur.prepared_at)
				next.prepared_at = cur.prepared_at;
		}
		if (sale_equal(&cur, &next))
			return 0;
		next.updated_at = now;
		action = next.status == STATUS_CANCELLED && cur.status != STATUS_CANCELLED ?
		    LOG_CANCELLED : LOG_UPDATED;
	}
	/* The line's item, rendered ahead by the caller, serves when the merge kept what it shows. */
	if (l->item.len > 0 && item_fields_equal(&next, &l->sp))
		store_sale_put(t, exists ? &cur : NULL, &next, l->item.p, l->item.len);
	else
		put_sale(t, exists ? &cur : NULL, &next);
	write_log(t, action, exists ? &cur : NULL, &next, user, NULL, now);
	if (action == LOG_CANCELLED)
		write_event(t, "sale.cancelled", &next, now);
	return 1;
}
