#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "sale_json.h"
#include "supplier.h"
#include "validate.h"

#define JSON_FLAGS (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)

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

/* A date (days since 1970-01-01) as YYYY-MM-DD, or NULL (JSON null) for 0. */
static struct json_object *
date_or_null(uint32_t days)
{
	char date[DATE_LEN + 1];

	if (days == 0)
		return NULL;
	format_date(days, date);
	return json_object_new_string(date);
}

static struct json_object *
order_id_json(const struct sale_product *sp)
{
	char id[MENZZO_ORDER_ID_MAX + 1];

	format_menzzo_order_id(sp->increment_id, sp->sale_product_id, id);
	return json_object_new_string(id);
}

/* Adds a member under a constant, new key: json-c then neither copies nor looks up the key. */
static void
add(struct json_object *o, const char *key, struct json_object *val)
{
	json_object_object_add_ex(o, key, val, JSON_C_OBJECT_ADD_KEY_IS_NEW | JSON_C_OBJECT_ADD_CONSTANT_KEY);
}

/* Appends a JSON text without its first skip and last drop bytes as one length-prefixed part. */
static int
put_part(struct buf *out, struct json_object *o, size_t skip, size_t drop)
{
	size_t n;
	const char *s = json_object_to_json_string_length(o, JSON_FLAGS, &n);
	unsigned char len[2];

	if (s == NULL || n < skip + drop || n - skip - drop > 0xffff)
		return -1;
	n -= skip + drop;
	len[0] = (unsigned char)(n >> 8);
	len[1] = (unsigned char)(n & 0xff);
	return buf_add(out, len, 2) || buf_add(out, s + skip, n) ? -1 : 0;
}

int
item_render(const struct sale_product *sp, struct buf *out)
{
	struct json_object *head = json_object_new_object(), *tail = json_object_new_object();
	struct json_object *label = json_object_new_string(sp->label);
	char date[DATE_LEN + 1];
	int rc;

	/* The members before link_to_label, and those after it, in the seed's order. */
	format_date(sp->order_date, date);
	add(head, "menzzo_order_id", order_id_json(sp));
	add(head, "sku", json_object_new_string(sp->sku));
	add(head, "quantity", json_object_new_int64(sp->quantity));
	add(head, "price", price_json(sp->price_cents));
	add(tail, "order_date", json_object_new_string(date));
	add(tail, "carrier", json_object_new_string(sp->carrier));
	add(tail, "status", json_object_new_string(status_name(sp->status)));
	add(tail, "acknowledged_at", timestamp_json(sp->acknowledged_at));
	add(tail, "prepared_at", timestamp_json(sp->prepared_at));
	add(tail, "refused_at", timestamp_json(sp->refused_at));
	add(tail, "estimated_ship_date", date_or_null(sp->estimated_ship_date));
	add(tail, "delivery_status", string_or_null(delivery_status_name(sp->delivery_status)));
	add(tail, "delivered_at", timestamp_json(sp->delivered_at));
	/* "{...}" each: the label without its quotes, the head without its '}', the tail without its '{'. */
	out->len = 0;
	rc = buf_add(out, "\x02", 1) || put_part(out, label, 1, 1) || put_part(out, head, 0, 1) ||
	    put_part(out, tail, 1, 0) ? -1 : 0;
	json_object_put(head);
	json_object_put(tail);
	json_object_put(label);
	return rc;
}

/* Reads one length-prefixed part of a stored item. */
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
item_link_prefix(const struct config *cfg, struct buf *out)
{
	char prefix[512];
	struct json_object *s;
	const char *js;
	size_t n;

	snprintf(prefix, sizeof(prefix), "%.*s/api/files/", (int)cfg->base_url_len, cfg->base_url);
	s = json_object_new_string(prefix);
	js = json_object_to_json_string_length(s, JSON_FLAGS, &n);
	buf_add(out, js, n - 1); /* without the closing quote */
	json_object_put(s);
}

/*
 * The members an item of an older format lacks, which it can only have had
 * null, before its closing brace: format 1 (schema 3, no format byte) lacks
 * refused_at and what format 2 (byte 1, schemas 4 and 5) lacks, the
 * estimated ship date and the delivery.
 */
static const char unrefused[] = ",\"refused_at\":null";
static const char undelivered[] = ",\"estimated_ship_date\":null,\"delivery_status\":null,\"delivered_at\":null";

int
item_compose(const void *value, size_t len, const struct buf *link_prefix, struct buf *out)
{
	static const char link[] = ",\"link_to_label\":";
	const unsigned char *p = value, *end = p + len;
	const char *label, *head, *tail;
	size_t ln, hn, tn, missing;
	/* Format 1 starts with the label's length, below 256: a 0 byte; format 2 with 1, format 3 with 2. */
	int format = len == 0 ? 0 : p[0] == 0 ? 1 : p[0] == 1 ? 2 : p[0] == 2 ? 3 : 0;
	char *w;

	if (format == 0)
		return -1;
	if (format > 1)
		p++;
	if (get_part(&p, end, &label, &ln) || get_part(&p, end, &head, &hn) ||
	    get_part(&p, end, &tail, &tn) || p != end || (format < 3 && (tn == 0 || tail[tn - 1] != '}')))
		return -1;
	missing = format == 1 ? sizeof(unrefused) - 1 + sizeof(undelivered) - 1 : format == 2 ? sizeof(undelivered) - 1 : 0;
	if (missing > 0)
		tn--; /* stored before these fields existed: they go before the brace */
	/* Both JSON parts were encoded by json-c: the link's prefix once, the label when the item was stored. */
	if ((w = buf_extend(out, hn + sizeof(link) - 1 + (ln ? link_prefix->len + ln + 2 : 5) + tn + missing +
	    (missing > 0))) == NULL)
		return -1;
	memcpy(w, head, hn);
	w += hn;
	memcpy(w, link, sizeof(link) - 1);
	w += sizeof(link) - 1;
	if (ln > 0) {
		if (link_prefix->len > 0) /* none when records are compared */
			memcpy(w, link_prefix->p, link_prefix->len);
		w += link_prefix->len;
		memcpy(w, label, ln);
		w += ln;
		memcpy(w, "\",", 2);
		w += 2;
	} else {
		memcpy(w, "null,", 5);
		w += 5;
	}
	memcpy(w, tail, tn);
	w += tn;
	if (format == 1) {
		memcpy(w, unrefused, sizeof(unrefused) - 1);
		w += sizeof(unrefused) - 1;
	}
	if (missing > 0) {
		memcpy(w, undelivered, sizeof(undelivered) - 1);
		w[sizeof(undelivered) - 1] = '}';
	}
	return 0;
}

int
item_equivalent(const void *a, size_t alen, const void *b, size_t blen)
{
	struct buf none = { 0 }, ja = { 0 }, jb = { 0 };
	int same;

	if (alen == blen && memcmp(a, b, alen) == 0)
		return 1;
	same = item_compose(a, alen, &none, &ja) == 0 && item_compose(b, blen, &none, &jb) == 0 &&
	    ja.len == jb.len && memcmp(ja.p, jb.p, ja.len) == 0;
	buf_free(&ja);
	buf_free(&jb);
	return same;
}

struct json_object *
sale_full_json(const struct sale_product *sp)
{
	struct json_object *o = json_object_new_object();
	char date[DATE_LEN + 1], inc[24];
	const struct supplier *sup = supplier_by_id(sp->supplier);

	format_date(sp->order_date, date);
	snprintf(inc, sizeof(inc), "%llu", (unsigned long long)sp->increment_id);
	add(o, "menzzo_order_id", order_id_json(sp));
	add(o, "increment_id", json_object_new_string(inc));
	add(o, "sale_product_id", json_object_new_uint64(sp->sale_product_id));
	add(o, "supplier", json_object_new_string(sup ? sup->slug : "?"));
	add(o, "sku", json_object_new_string(sp->sku));
	add(o, "quantity", json_object_new_int64(sp->quantity));
	add(o, "price", price_json(sp->price_cents));
	add(o, "order_date", json_object_new_string(date));
	add(o, "carrier", json_object_new_string(sp->carrier));
	add(o, "label", string_or_null(sp->label));
	add(o, "status", json_object_new_string(status_name(sp->status)));
	add(o, "acknowledged_at", timestamp_json(sp->acknowledged_at));
	add(o, "prepared_at", timestamp_json(sp->prepared_at));
	add(o, "tracking_number", string_or_null(sp->tracking_number));
	add(o, "ship_carrier", string_or_null(sp->ship_carrier));
	add(o, "created_at", timestamp_json(sp->created_at));
	add(o, "updated_at", timestamp_json(sp->updated_at));
	add(o, "refused_at", timestamp_json(sp->refused_at));
	add(o, "reason", string_or_null(refusal_reason_name(sp->reason)));
	add(o, "note", string_or_null(sp->note));
	add(o, "estimated_ship_date", date_or_null(sp->estimated_ship_date));
	add(o, "delivery_status", string_or_null(delivery_status_name(sp->delivery_status)));
	add(o, "delivered_at", timestamp_json(sp->delivered_at));
	return o;
}

/* The members of after that differ from before, as {"before": {...}, "after": {...}} members of o. */
static void
add_changes(struct json_object *o, struct json_object *before_all, struct json_object *after_all)
{
	struct json_object *before = json_object_new_object(), *after = json_object_new_object();

	json_object_object_foreach(after_all, key, val) {
		struct json_object *prev = NULL;

		json_object_object_get_ex(before_all, key, &prev);
		if (json_object_equal(prev, val))
			continue;
		json_object_object_add(before, key, json_object_get(prev));
		json_object_object_add(after, key, json_object_get(val));
	}
	add(o, "before", before);
	add(o, "after", after);
}

struct json_object *
log_entry_json(const struct log_entry *e)
{
	struct json_object *o = json_object_new_object(), *a = sale_full_json(&e->after), *b;

	add(o, "seq", json_object_new_uint64(e->seq));
	add(o, "at", timestamp_json(e->at));
	add(o, "user", json_object_new_string(e->user));
	add(o, "action", json_object_new_string(log_action_name(e->action)));
	if (e->request_id[0])
		add(o, "request_id", json_object_new_string(e->request_id));
	json_object_object_del(a, "created_at");
	json_object_object_del(a, "updated_at");
	if (!e->has_before) {
		/* A new record: all of it is what changed. */
		add(o, "after", a);
		return o;
	}
	b = sale_full_json(&e->before);
	add_changes(o, b, a);
	json_object_put(b);
	json_object_put(a);
	return o;
}

struct json_object *
packages_json(const struct sale_product *sp, const struct package_list *stored)
{
	struct json_object *a = json_object_new_array();
	struct package one = { "", "" };
	const struct package *p = stored != NULL ? stored->p : &one;
	unsigned n = stored != NULL ? stored->n : 0;

	/* Shipped without a list: its one tracking number, if it was given one, is its one parcel. */
	if (stored == NULL && sp->prepared_at != 0 && sp->tracking_number[0]) {
		snprintf(one.tracking_number, sizeof(one.tracking_number), "%s", sp->tracking_number);
		snprintf(one.carrier, sizeof(one.carrier), "%s", sp->ship_carrier[0] ? sp->ship_carrier : sp->carrier);
		n = 1;
	}
	for (unsigned i = 0; i < n; i++) {
		struct json_object *o = json_object_new_object();

		add(o, "tracking_number", json_object_new_string(p[i].tracking_number));
		add(o, "carrier", json_object_new_string(p[i].carrier));
		json_object_array_add(a, o);
	}
	return a;
}

int
event_sale_supplier(struct json_object *event)
{
	struct json_object *sup, *id;
	const struct supplier *s;

	if (!json_object_object_get_ex(event, "menzzo_order_id", &id) ||
	    !json_object_object_get_ex(event, "supplier", &sup) || !json_object_is_type(sup, json_type_string))
		return -1;
	s = supplier_by_slug(json_object_get_string(sup), (size_t)json_object_get_string_len(sup));
	return s != NULL ? (int)supplier_id(s) : -1;
}

struct json_object *
tracking_event_json(const struct tracking_event *e)
{
	struct json_object *o = json_object_new_object();

	add(o, "status", json_object_new_string(delivery_status_name(e->status)));
	add(o, "at", timestamp_json(e->at));
	add(o, "tracking_number", string_or_null(e->tracking_number));
	add(o, "location", string_or_null(e->location));
	return o;
}

static struct json_object *
tracking_events_json(const struct tracking_list *l)
{
	struct json_object *a = json_object_new_array_ext((int)l->n);

	for (unsigned i = 0; i < l->n; i++)
		json_object_array_add(a, tracking_event_json(&l->e[i]));
	return a;
}

/*
 * An event's data: the sale product's fields after the change (as show
 * gives them, without what the event says already and the bookkeeping
 * times), its parcels once shipped, the carrier events the change added,
 * and old_<field> for each field the change gave another value.
 */
static struct json_object *
event_data(const struct sale_product *old, const struct sale_product *sp, const struct package_list *packages,
    const struct tracking_list *added)
{
	static const char *const dropped[] = {
		"menzzo_order_id", "supplier", "created_at", "updated_at",
	};
	struct json_object *d = sale_full_json(sp), *before = old != NULL ? sale_full_json(old) : NULL;

	for (size_t i = 0; i < sizeof(dropped) / sizeof(dropped[0]); i++)
		json_object_object_del(d, dropped[i]);
	if (before != NULL) {
		struct json_object *olds = json_object_new_object();

		json_object_object_foreach(d, key, val) {
			struct json_object *prev = NULL;
			char name[64];

			json_object_object_get_ex(before, key, &prev);
			if (json_object_equal(prev, val))
				continue;
			snprintf(name, sizeof(name), "old_%s", key);
			json_object_object_add(olds, name, json_object_get(prev));
		}
		json_object_object_foreach(olds, okey, oval) {
			json_object_object_add(d, okey, json_object_get(oval));
		}
		json_object_put(olds);
		json_object_put(before);
	}
	if (sp->prepared_at != 0)
		add(d, "packages", packages_json(sp, packages));
	if (added != NULL)
		add(d, "tracking_events", tracking_events_json(added));
	return d;
}

int
event_render(uint64_t seq, const char *type, const struct sale_product *old, const struct sale_product *sp,
    const struct package_list *packages, const struct tracking_list *added, int64_t now, struct buf *out)
{
	struct json_object *e = json_object_new_object();
	const struct supplier *sup = supplier_by_id(sp->supplier);
	const char *s;
	size_t len;
	int rc;

	add(e, "seq", json_object_new_uint64(seq));
	add(e, "type", json_object_new_string(type));
	add(e, "menzzo_order_id", order_id_json(sp));
	add(e, "supplier", json_object_new_string(sup ? sup->slug : "?"));
	add(e, "at", timestamp_json(now));
	if (sp->status == STATUS_SHIPPED) {
		add(e, "tracking_number", string_or_null(sp->tracking_number));
		add(e, "carrier", string_or_null(sp->ship_carrier));
		add(e, "packages", packages_json(sp, packages));
	}
	if (sp->status == STATUS_REFUSED) {
		add(e, "reason", json_object_new_string(refusal_reason_name(sp->reason)));
		add(e, "note", string_or_null(sp->note));
	}
	/* The promise the back office passes on to the customer: with its change, the one it replaces. */
	if (sp->estimated_ship_date != 0 || (old != NULL && old->estimated_ship_date != 0))
		add(e, "estimated_ship_date", date_or_null(sp->estimated_ship_date));
	if (old != NULL && old->estimated_ship_date != sp->estimated_ship_date)
		add(e, "old_estimated_ship_date", date_or_null(old->estimated_ship_date));
	if (sp->delivery_status != DELIVERY_NONE) {
		add(e, "delivery_status", string_or_null(delivery_status_name(sp->delivery_status)));
		add(e, "delivered_at", timestamp_json(sp->delivered_at));
	}
	if (added != NULL)
		add(e, "tracking_events", tracking_events_json(added));
	add(e, "data", event_data(old, sp, packages, added));
	s = json_object_to_json_string_length(e, JSON_FLAGS, &len);
	out->len = 0;
	rc = s != NULL && buf_add(out, s, len) == 0 ? 0 : -1;
	json_object_put(e);
	return rc;
}

struct json_object *
action_json(const struct sale_product *sp, int changed)
{
	struct json_object *o = json_object_new_object();

	add(o, "success", json_object_new_boolean(1));
	add(o, "menzzo_order_id", order_id_json(sp));
	add(o, "status", json_object_new_string(status_name(sp->status)));
	add(o, "acknowledged_at", timestamp_json(sp->acknowledged_at));
	add(o, "prepared_at", timestamp_json(sp->prepared_at));
	add(o, "changed", json_object_new_boolean(changed));
	/* Each addition only where it says something: the seed's answer stays exactly the seed's. */
	if (sp->estimated_ship_date != 0)
		add(o, "estimated_ship_date", date_or_null(sp->estimated_ship_date));
	/* A refusal's, after the fields every answer had before refusals existed. */
	if (sp->status == STATUS_REFUSED) {
		add(o, "refused_at", timestamp_json(sp->refused_at));
		add(o, "reason", json_object_new_string(refusal_reason_name(sp->reason)));
		add(o, "note", string_or_null(sp->note));
	}
	/* A shipment's, once a carrier event was sent for it. */
	if (sp->status == STATUS_SHIPPED && sp->delivery_status != DELIVERY_NONE) {
		add(o, "delivery_status", json_object_new_string(delivery_status_name(sp->delivery_status)));
		add(o, "delivered_at", timestamp_json(sp->delivered_at));
	}
	return o;
}
