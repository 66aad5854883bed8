/* labelconfig.c — the labeling config (see labelconfig.h).
 *
 * One parse walks the libxml2 tree a few times, each pass mirroring one piece of Label Studio:
 * check_tree is validate_label_config (BadgerFish + JSON schema, unique names, toName) plus the
 * object-without-value check; build_parsed is the SDK's parse_config; build_keys is
 * extract_data_types; build_sample is generate_sample_task_without_check. The document is freed
 * before lc_parse returns; the config keeps only malloc'd copies and json-c objects. */
#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>

#include "labelconfig.h"

struct lc_control {
	char *name;
	char *type;
	char *type_lc;            /* lowercased, the result "type" */
	char **to;
	size_t nto;
	char **labels;            /* document order, deduplicated */
	char **lsorted;           /* same strings, sorted for bsearch */
	size_t nlabels;
	int dynamic;
	struct json_object *inputs; /* borrowed from parsed */
};

struct lc_key {
	char *key;
	char *type;
};

struct labelconfig {
	struct lc_control *ctl;
	size_t nctl;
	struct lc_control **csorted; /* by name */
	struct lc_key *keys;
	size_t nkeys;
	struct json_object *parsed;
	struct json_object *sample;
};

/* --- small helpers ------------------------------------------------------------------------- */

/* Drops a UTF-8 sequence cut short at the end of s, so a truncated message stays valid UTF-8. */
static void
utf8_trim(char *s)
{
	size_t n = strlen(s), i = n, need;

	while (i > 0 && n - i < 4 && ((unsigned char)s[i - 1] & 0xC0) == 0x80)
		i--;
	if (i == 0 || ((unsigned char)s[i - 1] & 0x80) == 0)
		return;
	i--;
	need = ((unsigned char)s[i] & 0xE0) == 0xC0 ? 2 : ((unsigned char)s[i] & 0xF0) == 0xE0 ? 3 : 4;
	if (n - i < need)
		s[i] = '\0';
}

__attribute__((format(printf, 3, 4))) static void
seterr(char *err, size_t errsz, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errsz == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errsz, fmt, ap);
	va_end(ap);
	utf8_trim(err);
}

/* A growable string; on allocation failure it sets oom and stops growing. */
struct buf {
	char *s;
	size_t len, cap;
	int oom;
};

static void
buf_addn(struct buf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 64;
		char *p;

		while (cap < b->len + n + 1)
			cap *= 2;
		if ((p = realloc(b->s, cap)) == NULL) {
			b->oom = 1;
			return;
		}
		b->s = p;
		b->cap = cap;
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

static void
buf_add(struct buf *b, const char *s)
{
	buf_addn(b, s, strlen(s));
}

static const char *
buf_str(const struct buf *b)
{
	return b->s != NULL && !b->oom ? b->s : "";
}

/* Python's urllib quote_plus. */
static void
buf_urlenc(struct buf *b, const char *s)
{
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		char esc[4];

		if (isalnum(ch) || ch == '_' || ch == '.' || ch == '-' || ch == '~') {
			buf_addn(b, (const char *)&ch, 1);
		} else if (ch == ' ') {
			buf_add(b, "+");
		} else {
			snprintf(esc, sizeof(esc), "%%%02X", ch);
			buf_add(b, esc);
		}
	}
}

/* Python's repr() of a str, close enough for messages: quotes chosen as Python does, escapes for
 * backslash, the quote and control characters; other bytes (UTF-8) pass through. */
static void
buf_pyrepr(struct buf *b, const char *s)
{
	char q = strchr(s, '\'') != NULL && strchr(s, '"') == NULL ? '"' : '\'';

	buf_addn(b, &q, 1);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		char esc[8];

		if (ch == '\\' || ch == (unsigned char)q) {
			esc[0] = '\\';
			esc[1] = (char)ch;
			buf_addn(b, esc, 2);
		} else if (ch == '\n') {
			buf_add(b, "\\n");
		} else if (ch == '\r') {
			buf_add(b, "\\r");
		} else if (ch == '\t') {
			buf_add(b, "\\t");
		} else if (ch < 0x20 || ch == 0x7f) {
			snprintf(esc, sizeof(esc), "\\x%02x", ch);
			buf_add(b, esc);
		} else {
			buf_addn(b, (const char *)&ch, 1);
		}
	}
	buf_addn(b, &q, 1);
}

/* A vector of borrowed strings. */
struct ptrv {
	const char **v;
	size_t n, cap;
	int oom;
};

static void
ptrv_push(struct ptrv *p, const char *s)
{
	if (p->oom)
		return;
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 16;
		const char **v = realloc(p->v, cap * sizeof(*v));

		if (v == NULL) {
			p->oom = 1;
			return;
		}
		p->v = v;
		p->cap = cap;
	}
	p->v[p->n++] = s;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int
has_suffix(const char *s, const char *suf)
{
	size_t n = strlen(s), m = strlen(suf);

	return n >= m && memcmp(s + n - m, suf, m) == 0;
}

static int
in_list(const char *s, const char *const *list)
{
	for (; *list != NULL; list++)
		if (strcmp(s, *list) == 0)
			return 1;
	return 0;
}

static char *
lowercase_dup(const char *s)
{
	char *d = strdup(s);

	if (d != NULL)
		for (char *p = d; *p; p++)
			*p = (char)tolower((unsigned char)*p);
	return d;
}

/* --- libxml2 access ---------------------------------------------------------------------- */

static const char *
tag(const xmlNode *n)
{
	return (const char *)n->name;
}

/* The value of an un-namespaced attribute, or NULL when absent. Without a DTD an attribute's
 * value is one text node (none when empty). */
static const char *
attr(const xmlNode *n, const char *name)
{
	for (const xmlAttr *a = n->properties; a != NULL; a = a->next) {
		if (a->ns != NULL || strcmp((const char *)a->name, name) != 0)
			continue;
		if (a->children == NULL || a->children->content == NULL)
			return "";
		return (const char *)a->children->content;
	}
	return NULL;
}

/* Python truthiness of tag.attrib.get(name). */
static const char *
attr_set(const xmlNode *n, const char *name)
{
	const char *v = attr(n, name);

	return v != NULL && *v ? v : NULL;
}

static const char *
attr_value(const xmlAttr *a)
{
	if (a->children == NULL || a->children->content == NULL)
		return "";
	return (const char *)a->children->content;
}

static xmlNode *
first_elem(xmlNode *n)
{
	for (; n != NULL; n = n->next)
		if (n->type == XML_ELEMENT_NODE)
			return n;
	return NULL;
}

/* Iterates the element children of parent (text, comments and PIs skipped). */
#define FOR_ELEMS(c, parent) \
	for (xmlNode *c = first_elem((parent)->children); c != NULL; c = first_elem(c->next))

struct xml_capture {
	int have, fatal;
	char msg[512];
	int dtd;
	char dtd_msg[512];
};

static void
on_xml_error(void *ctx, xmlErrorPtr e)
{
	xmlParserCtxtPtr ctxt = ctx;
	struct xml_capture *cap = ctxt != NULL ? ctxt->_private : NULL;
	char m[400];
	size_t n;

	if (cap == NULL || e == NULL || e->level < XML_ERR_ERROR)
		return;
	if (cap->have && (cap->fatal || e->level != XML_ERR_FATAL))
		return;
	snprintf(m, sizeof(m), "%s", e->message != NULL ? e->message : "XML error");
	utf8_trim(m);
	n = strlen(m);
	while (n > 0 && (m[n - 1] == '\n' || m[n - 1] == ' '))
		m[--n] = '\0';
	snprintf(cap->msg, sizeof(cap->msg), "%s, line %d, column %d", m, e->line, e->int2);
	cap->have = 1;
	cap->fatal = e->level == XML_ERR_FATAL;
}

static void
on_generic_error(void *ctx, const char *msg, ...)
{
	(void)ctx;
	(void)msg;
}

/* Called when "<!DOCTYPE name ..." has been read, before any internal subset: refuse at once, as
 * defusedxml does (forbid_dtd), so no entity is ever declared. */
static void
on_doctype(void *ctx, const xmlChar *name, const xmlChar *public_id, const xmlChar *system_id)
{
	xmlParserCtxtPtr ctxt = ctx;
	struct xml_capture *cap = ctxt->_private;
	struct buf b = {0};

	buf_add(&b, "DTDForbidden(name=");
	if (name != NULL)
		buf_pyrepr(&b, (const char *)name);
	else
		buf_add(&b, "None");
	buf_add(&b, ", system_id=");
	if (system_id != NULL)
		buf_pyrepr(&b, (const char *)system_id);
	else
		buf_add(&b, "None");
	buf_add(&b, ", public_id=");
	if (public_id != NULL)
		buf_pyrepr(&b, (const char *)public_id);
	else
		buf_add(&b, "None");
	buf_add(&b, ")");
	snprintf(cap->dtd_msg, sizeof(cap->dtd_msg), "%s", buf_str(&b));
	free(b.s);
	cap->dtd = 1;
	xmlStopParser(ctxt);
}

static xmlDocPtr
read_xml(const char *xml, size_t len, char *err, size_t errsz)
{
	xmlParserCtxtPtr ctxt;
	xmlDocPtr doc;
	struct xml_capture cap;
	xmlGenericErrorFunc old_generic = xmlGenericError;
	void *old_generic_ctx = xmlGenericErrorContext;
	xmlStructuredErrorFunc old_structured = xmlStructuredError;
	void *old_structured_ctx = xmlStructuredErrorContext;
	int wellformed;

	if (len > (size_t)INT32_MAX) {
		seterr(err, errsz, "Label config is too large");
		return NULL;
	}
	memset(&cap, 0, sizeof(cap));
	if ((ctxt = xmlNewParserCtxt()) == NULL) {
		seterr(err, errsz, "out of memory");
		return NULL;
	}
	ctxt->_private = &cap;
	ctxt->sax->serror = on_xml_error;
	ctxt->sax->internalSubset = on_doctype;
	ctxt->sax->externalSubset = on_doctype;
	ctxt->vctxt.error = on_generic_error;
	ctxt->vctxt.warning = on_generic_error;
	/* Anything libxml2 reports outside the context goes nowhere while we parse. */
	xmlSetGenericErrorFunc(NULL, on_generic_error);
	xmlSetStructuredErrorFunc(NULL, NULL);
	doc = xmlCtxtReadMemory(ctxt, xml, (int)len, NULL, NULL, XML_PARSE_NONET | XML_PARSE_NOWARNING);
	wellformed = ctxt->wellFormed;
	xmlSetGenericErrorFunc(old_generic_ctx, old_generic);
	xmlSetStructuredErrorFunc(old_structured_ctx, old_structured);
	xmlFreeParserCtxt(ctxt);

	if (cap.dtd) {
		seterr(err, errsz, "%s", cap.dtd_msg);
		xmlFreeDoc(doc);
		return NULL;
	}
	if (doc == NULL || !wellformed || cap.fatal) {
		seterr(err, errsz, "%s", cap.have ? cap.msg : "XML syntax error");
		xmlFreeDoc(doc);
		return NULL;
	}
	if (doc->intSubset != NULL || doc->extSubset != NULL) { /* belt and braces */
		seterr(err, errsz, "DTDForbidden");
		xmlFreeDoc(doc);
		return NULL;
	}
	return doc;
}

/* --- validation (validate_label_config + the parse_config object check) --------------------- */

/* Tags that may carry a name without being object tags (no value needed). Any tag with a toName
 * and any *Labels tag is a control and exempt too. */
static const char *const non_object_tags[] = {
	"View", "Header", "Style", "Filter", "Collapse", "Panel", "Repeater", "Bucket", "Channel",
	"MultiChannel", "Label", "Choice", "Relation", "Relations", "Shortcut", "Script",
	"Choices", "Labels", "TextArea", "Rating", "Number", "DateTime", "Taxonomy", "Ranker",
	"Pairwise", "VideoRectangle", "Rectangle", "Polygon", "KeyPoint", "Brush", "Ellipse",
	"MagicWand", "Bitmask", "Vector", "ReactCode", "Custom", NULL,
};

enum schema_ctx { SC_NONE, SC_VIEW, SC_LABELS, SC_CHOICES };

struct check {
	struct buf path;
	struct ptrv names;        /* values of name="..." (attributes ending in "name") */
	struct ptrv tonames;      /* values of toName="..." */
	char schema_err[1024];
	char object_err[512];
	int depth_exceeded;
};

static int
has_child(xmlNode *n, const char *name)
{
	FOR_ELEMS(c, n)
		if (strcmp(tag(c), name) == 0)
			return 1;
	return 0;
}

static void
schema_fail(struct check *k, const char *prop)
{
	if (k->schema_err[0] == '\0')
		snprintf(k->schema_err, sizeof(k->schema_err), "Validation failed on %s: '%s' is a required property",
			 buf_str(&k->path), prop);
}

/* One node under the JSON schema: returns the schema context for its children. */
static enum schema_ctx
schema_node(struct check *k, xmlNode *n, enum schema_ctx ctx)
{
	const char *t = tag(n);

	if (ctx == SC_NONE)
		return SC_NONE;
	if (strcmp(t, "View") == 0)
		return SC_VIEW;
	if (ctx == SC_LABELS || ctx == SC_CHOICES) {
		if (strcmp(t, ctx == SC_LABELS ? "Label" : "Choice") == 0 && attr(n, "value") == NULL)
			schema_fail(k, "value");
		return SC_NONE;
	}
	/* ctx == SC_VIEW */
	if (strcmp(t, "Labels") == 0 || strcmp(t, "Choices") == 0) {
		int labels = t[0] == 'L';

		if (attr(n, "name") == NULL)
			schema_fail(k, "name");
		else if (attr(n, "toName") == NULL)
			schema_fail(k, "toName");
		else if (!has_child(n, labels ? "Label" : "Choice") && attr(n, "value") == NULL &&
			 !has_child(n, "View"))
			schema_fail(k, labels ? "Label" : "Choice");
		return labels ? SC_LABELS : SC_CHOICES;
	}
	if (strcmp(t, "Label") == 0 || strcmp(t, "Choice") == 0) {
		if (attr(n, "value") == NULL)
			schema_fail(k, "value");
	} else if (strcmp(t, "Image") == 0 || strcmp(t, "Text") == 0 || strcmp(t, "HyperText") == 0) {
		if (attr(n, "name") == NULL)
			schema_fail(k, "name");
		else if (attr(n, "value") == NULL && attr(n, "valueList") == NULL)
			schema_fail(k, "value");
	} else if (strcmp(t, "TextArea") == 0 || strcmp(t, "Number") == 0) {
		if (attr(n, "name") == NULL)
			schema_fail(k, "name");
		else if (attr(n, "toName") == NULL)
			schema_fail(k, "toName");
	}
	return SC_NONE;
}

static void
check_node(struct check *k, xmlNode *n, enum schema_ctx ctx, int depth)
{
	size_t mark = k->path.len;
	const char *name, *t = tag(n);
	enum schema_ctx child_ctx;

	if (depth > 1024) { /* libxml2 caps depth at 256 already */
		k->depth_exceeded = 1;
		return;
	}
	if (depth > 0)
		buf_add(&k->path, "/");
	buf_add(&k->path, t);

	/* Label Studio finds names with a regex over the serialized XML: name="..." also matches any
	 * attribute whose name ends in "name" (filename=...), and toName="..." likewise. */
	for (const xmlAttr *a = n->properties; a != NULL; a = a->next) {
		if (a->ns != NULL)
			continue;
		if (has_suffix((const char *)a->name, "toName"))
			ptrv_push(&k->tonames, attr_value(a));
		else if (has_suffix((const char *)a->name, "name"))
			ptrv_push(&k->names, attr_value(a));
	}

	name = attr_set(n, "name");
	if (k->object_err[0] == '\0' && name != NULL && attr_set(n, "toName") == NULL &&
	    attr(n, "value") == NULL && attr(n, "valueList") == NULL && !in_list(t, non_object_tags) &&
	    !has_suffix(t, "Labels"))
		snprintf(k->object_err, sizeof(k->object_err),
			 "Object tag \"%s\" with name=\"%s\" has no value or valueList", t, name);

	child_ctx = depth == 0 ? SC_VIEW : schema_node(k, n, ctx);
	FOR_ELEMS(c, n)
		check_node(k, c, child_ctx, depth + 1);
	k->path.len = mark;
	if (k->path.s != NULL)
		k->path.s[mark] = '\0';
}

static int
check_tree(xmlNode *root, char *err, size_t errsz)
{
	struct check k;
	int rc = -1;

	memset(&k, 0, sizeof(k));
	if (strcmp(tag(root), "View") != 0) {
		seterr(err, errsz, "Validation failed on : 'View' is a required property");
		return -1;
	}
	check_node(&k, root, SC_VIEW, 0);
	if (k.path.oom || k.names.oom || k.tonames.oom) {
		seterr(err, errsz, "out of memory");
		goto out;
	}
	if (k.depth_exceeded) {
		seterr(err, errsz, "Label config is nested too deeply");
		goto out;
	}
	if (k.schema_err[0] != '\0') {
		seterr(err, errsz, "%s", k.schema_err);
		goto out;
	}
	if (k.names.n > 1)
		qsort(k.names.v, k.names.n, sizeof(*k.names.v), cmp_str);
	for (size_t i = 1; i < k.names.n; i++) {
		if (strcmp(k.names.v[i - 1], k.names.v[i]) == 0) {
			seterr(err, errsz, "Label config contains non-unique names");
			goto out;
		}
	}
	for (size_t i = 0, pieces = 0; i < k.tonames.n; i++) {
		pieces++;
		for (const char *s = k.tonames.v[i]; *s; s++)
			pieces += *s == ',';
		/* Each entry is copied into every input list that names it: cap the amplification. */
		if (pieces > LC_MAX_TO_ENTRIES) {
			seterr(err, errsz, "Label config has too many toName entries (the limit is %d)", LC_MAX_TO_ENTRIES);
			goto out;
		}
	}
	for (size_t i = 0; i < k.tonames.n; i++) {
		const char *s = k.tonames.v[i];

		for (;;) {
			const char *comma = strchr(s, ',');
			size_t n = comma != NULL ? (size_t)(comma - s) : strlen(s);
			char *one = strndup(s, n);
			int found;

			if (one == NULL) {
				seterr(err, errsz, "out of memory");
				goto out;
			}
			found = k.names.n > 0 && bsearch(&one, k.names.v, k.names.n, sizeof(*k.names.v), cmp_str) != NULL;
			if (!found) {
				struct buf b = {0};

				buf_add(&b, "toName=\"");
				buf_add(&b, one);
				buf_add(&b, "\" not found in names: [");
				for (size_t j = 0; j < k.names.n; j++) {
					if (j > 0)
						buf_add(&b, ", ");
					buf_pyrepr(&b, k.names.v[j]);
				}
				buf_add(&b, "]");
				seterr(err, errsz, "%s", b.oom ? "toName not found in names" : buf_str(&b));
				free(b.s);
				free(one);
				goto out;
			}
			free(one);
			if (comma == NULL)
				break;
			s = comma + 1;
		}
	}
	if (k.object_err[0] != '\0') {
		seterr(err, errsz, "%s", k.object_err);
		goto out;
	}
	rc = 0;
out:
	free(k.path.s);
	free(k.names.v);
	free(k.tonames.v);
	return rc;
}

/* --- parsed_label_config (the SDK's parse_config) ------------------------------------------ */

struct build {
	struct json_object *outputs;  /* name -> info */
	struct json_object *labels;   /* control name -> {label: attrs} */
	struct json_object *inputs;   /* object name -> input */
	struct ptrv variables;        /* Repeater indexFlag values seen so far */
};

/* Label Studio's has_variable: ^\$[A-Za-z_]+$ */
static int
has_variable(const char *v)
{
	if (v == NULL || v[0] != '$' || v[1] == '\0')
		return 0;
	for (v++; *v; v++)
		if (!isalpha((unsigned char)*v) && *v != '_')
			return 0;
	return 1;
}

static struct json_object *
split_to_names(const char *s)
{
	struct json_object *a = json_object_new_array();

	for (;;) {
		const char *comma = strchr(s, ',');
		size_t n = comma != NULL ? (size_t)(comma - s) : strlen(s);

		json_object_array_add(a, json_object_new_string_len(s, (int)n));
		if (comma == NULL)
			break;
		s = comma + 1;
	}
	return a;
}

static void
build_control(struct build *b, xmlNode *n, const char *name, const char *to)
{
	struct json_object *info = json_object_new_object(), *to_name = split_to_names(to);
	const char *v;

	json_object_object_add(info, "type", json_object_new_string(tag(n)));
	json_object_object_add(info, "to_name", to_name);
	if (b->variables.n > 0) {
		struct json_object *regex = NULL;

		for (size_t i = 0; i < b->variables.n; i++) {
			for (size_t j = 0; j < json_object_array_length(to_name); j++) {
				const char *tn = json_object_get_string(json_object_array_get_idx(to_name, j));

				if (strstr(tn, b->variables.v[i]) == NULL)
					continue;
				if (regex == NULL)
					regex = json_object_new_object();
				json_object_object_add(regex, b->variables.v[i], json_object_new_string(".*"));
			}
		}
		if (regex != NULL)
			json_object_object_add(info, "regex", regex);
	}
	v = attr(n, "perRegion");
	if (v != NULL && strcmp(v, "true") == 0) {
		static const char *const when[][2] = {
			{ "whenTagName", "tag" }, { "whenLabelValue", "label" }, { "whenChoiceValue", "choice" },
		};

		for (size_t i = 0; i < sizeof(when) / sizeof(when[0]); i++) {
			const char *w = attr_set(n, when[i][0]);

			if (w != NULL) {
				struct json_object *cond = json_object_new_object();

				json_object_object_add(cond, "type", json_object_new_string(when[i][1]));
				json_object_object_add(cond, "name", json_object_new_string(w));
				json_object_object_add(info, "conditionals", cond);
				break;
			}
		}
	}
	v = attr(n, "value");
	if (has_variable(v != NULL ? v : "") || attr_set(n, "apiUrl") != NULL)
		json_object_object_add(info, "dynamic_labels", json_object_new_boolean(1));
	json_object_object_add(b->outputs, name, info);
	json_object_object_add(b->labels, name, json_object_new_object());
}

static void
build_input(struct build *b, xmlNode *n, const char *name)
{
	struct json_object *in = json_object_new_object();
	const char *vt = attr(n, "valueType"), *v;

	json_object_object_add(in, "type", json_object_new_string(tag(n)));
	json_object_object_add(in, "valueType", vt != NULL ? json_object_new_string(vt) : NULL);
	if ((v = attr(n, "value")) != NULL) {
		while (*v == '$')
			v++;
		json_object_object_add(in, "value", json_object_new_string(v));
	} else if ((v = attr(n, "valueList")) != NULL) {
		while (*v == '$')
			v++;
		json_object_object_add(in, "valueList", json_object_new_string(v));
	}
	json_object_object_add(b->inputs, name, in);
}

static void
build_label(struct build *b, xmlNode *n)
{
	struct json_object *owner = NULL, *attrs;
	const char *value;

	for (xmlNode *p = n->parent; p != NULL && p->type == XML_ELEMENT_NODE; p = p->parent) {
		const char *pn = attr(p, "name");

		if (pn != NULL && json_object_object_get_ex(b->labels, pn, &owner))
			break;
		owner = NULL;
	}
	if (owner == NULL)
		return;
	if ((value = attr_set(n, "alias")) == NULL && (value = attr_set(n, "value")) == NULL &&
	    (value = attr_set(n, "valueList")) == NULL)
		return;
	attrs = json_object_new_object();
	for (const xmlAttr *a = n->properties; a != NULL; a = a->next)
		json_object_object_add(attrs, (const char *)a->name, json_object_new_string(attr_value(a)));
	json_object_object_add(owner, value, attrs);
}

static void
build_walk(struct build *b, xmlNode *n)
{
	const char *name = attr_set(n, "name"), *to = attr_set(n, "toName"), *t = tag(n), *flag;

	if ((flag = attr(n, "indexFlag")) != NULL)
		ptrv_push(&b->variables, flag);
	if (name != NULL && to != NULL && strcmp(t, "Filter") != 0)
		build_control(b, n, name, to);
	else if (name != NULL && (attr_set(n, "value") != NULL || attr_set(n, "valueList") != NULL))
		build_input(b, n, name);
	if (strcmp(t, "Label") == 0 || strcmp(t, "Choice") == 0 || strcmp(t, "Relation") == 0)
		build_label(b, n);
	FOR_ELEMS(c, n)
		build_walk(b, c);
}

static int
fill_control(struct lc_control *ctl, const char *name, struct json_object *info, struct json_object *labels)
{
	struct json_object *to = NULL, *ty = NULL;
	size_t i = 0;

	json_object_object_get_ex(info, "type", &ty);
	json_object_object_get_ex(info, "to_name", &to);
	json_object_object_get_ex(info, "inputs", &ctl->inputs);
	ctl->name = strdup(name);
	ctl->type = strdup(json_object_get_string(ty));
	ctl->type_lc = lowercase_dup(json_object_get_string(ty));
	ctl->dynamic = json_object_object_get_ex(info, "dynamic_labels", NULL);
	ctl->nto = json_object_array_length(to);
	ctl->to = calloc(ctl->nto + 1, sizeof(*ctl->to));
	ctl->nlabels = (size_t)json_object_object_length(labels);
	ctl->labels = calloc(ctl->nlabels + 1, sizeof(*ctl->labels));
	ctl->lsorted = calloc(ctl->nlabels + 1, sizeof(*ctl->lsorted));
	if (ctl->name == NULL || ctl->type == NULL || ctl->type_lc == NULL || ctl->to == NULL ||
	    ctl->labels == NULL || ctl->lsorted == NULL)
		return -1;
	for (size_t j = 0; j < ctl->nto; j++)
		if ((ctl->to[j] = strdup(json_object_get_string(json_object_array_get_idx(to, j)))) == NULL)
			return -1;
	json_object_object_foreach(labels, label, attrs) {
		(void)attrs;
		if ((ctl->labels[i] = strdup(label)) == NULL)
			return -1;
		ctl->lsorted[i] = ctl->labels[i];
		i++;
	}
	if (ctl->nlabels > 1)
		qsort(ctl->lsorted, ctl->nlabels, sizeof(*ctl->lsorted), cmp_str);
	return 0;
}

static int
cmp_control(const void *a, const void *b)
{
	return strcmp((*(struct lc_control *const *)a)->name, (*(struct lc_control *const *)b)->name);
}

static int
build_parsed(struct labelconfig *c, xmlNode *root)
{
	struct build b;
	size_t i = 0;
	int rc = -1;

	memset(&b, 0, sizeof(b));
	b.outputs = json_object_new_object();
	b.labels = json_object_new_object();
	b.inputs = json_object_new_object();
	if (b.outputs == NULL || b.labels == NULL || b.inputs == NULL)
		goto out;
	build_walk(&b, root);
	if (b.variables.oom)
		goto out;

	json_object_object_foreach(b.outputs, cname, info) {
		struct json_object *to = NULL, *inputs = json_object_new_array(), *labels = NULL, *names;

		json_object_object_get_ex(info, "to_name", &to);
		for (size_t j = 0; j < json_object_array_length(to); j++) {
			struct json_object *in;

			if (json_object_object_get_ex(b.inputs, json_object_get_string(json_object_array_get_idx(to, j)), &in))
				json_object_array_add(inputs, json_object_get(in));
		}
		json_object_object_add(info, "inputs", inputs);
		json_object_object_get_ex(b.labels, cname, &labels);
		names = json_object_new_array();
		json_object_object_foreach(labels, label, attrs) {
			(void)attrs;
			json_object_array_add(names, json_object_new_string(label));
		}
		json_object_object_add(info, "labels", names);
		json_object_object_add(info, "labels_attrs", json_object_get(labels));
	}

	c->nctl = (size_t)json_object_object_length(b.outputs);
	c->ctl = calloc(c->nctl + 1, sizeof(*c->ctl));
	c->csorted = calloc(c->nctl + 1, sizeof(*c->csorted));
	if (c->ctl == NULL || c->csorted == NULL)
		goto out;
	json_object_object_foreach(b.outputs, name, info2) {
		struct json_object *labels = NULL;

		json_object_object_get_ex(b.labels, name, &labels);
		if (fill_control(&c->ctl[i], name, info2, labels) != 0)
			goto out;
		c->csorted[i] = &c->ctl[i];
		i++;
	}
	if (c->nctl > 1)
		qsort(c->csorted, c->nctl, sizeof(*c->csorted), cmp_control);
	c->parsed = json_object_get(b.outputs);
	rc = 0;
out:
	json_object_put(b.outputs);
	json_object_put(b.labels);
	json_object_put(b.inputs);
	free(b.variables.v);
	return rc;
}

/* --- data keys (extract_data_types) ------------------------------------------------------- */

static int
is_word(unsigned char ch)
{
	return isalnum(ch) || ch == '_' || ch >= 0x80;
}

struct keys {
	size_t cap;
	struct json_object *index; /* key -> position in c->keys */
};

static int
add_key(struct labelconfig *c, struct keys *ks, const char *key, size_t n, const char *type)
{
	struct json_object *pos;
	char *k = strndup(key, n), *t = strdup(type);

	if (k == NULL || t == NULL)
		goto oom;
	if (json_object_object_get_ex(ks->index, k, &pos)) {
		struct lc_key *old = &c->keys[json_object_get_int64(pos)];

		free(k);
		if (strcmp(old->type, "Video") == 0) {
			free(t);
			return 0;
		}
		free(old->type);
		old->type = t;
		return 0;
	}
	if (c->nkeys == ks->cap) {
		size_t ncap = ks->cap ? ks->cap * 2 : 8;
		struct lc_key *nk = realloc(c->keys, ncap * sizeof(*nk));

		if (nk == NULL)
			goto oom;
		c->keys = nk;
		ks->cap = ncap;
	}
	if (json_object_object_add(ks->index, k, json_object_new_int64((int64_t)c->nkeys)) != 0)
		goto oom;
	c->keys[c->nkeys].key = k;
	c->keys[c->nkeys].type = t;
	c->nkeys++;
	return 0;
oom:
	free(k);
	free(t);
	return -1;
}

static int
keys_walk(struct labelconfig *c, struct keys *ks, xmlNode *n)
{
	FOR_ELEMS(e, n) {
		const char *v = attr(e, "value");

		if (v != NULL && attr_set(e, "name") != NULL) {
			if (strlen(v) > 1 && v[0] == '$') {
				if (add_key(c, ks, v + 1, strlen(v + 1), tag(e)) != 0)
					return -1;
			} else {
				const char *d = v;

				while ((d = strchr(d, '$')) != NULL && !is_word((unsigned char)d[1]))
					d++;
				if (d != NULL) {
					size_t len = 1;

					while (is_word((unsigned char)d[len]))
						len++;
					if (add_key(c, ks, d + 1, len - 1, tag(e)) != 0)
						return -1;
				}
			}
		}
		if (keys_walk(c, ks, e) != 0)
			return -1;
	}
	return 0;
}

static int
build_keys(struct labelconfig *c, xmlNode *root)
{
	struct keys ks = { 0, json_object_new_object() };
	int rc = ks.index != NULL ? keys_walk(c, &ks, root) : -1;

	json_object_put(ks.index);
	return rc;
}

/* --- sample task (generate_sample_task_without_check) --------------------------------------- */

#define SAMPLE_TEXT "A quick brown opossum climbs the old oak tree at dawn."

static struct json_object *
sample_dialogue(const char *name_key, const char *text_key)
{
	static const char *const lines[][2] = {
		{ "Alice", "Hello, Bob. Did the package arrive?" },
		{ "Bob", "It did, this morning." },
		{ "Alice", "Great, thanks for letting me know." },
	};
	struct json_object *a = json_object_new_array();

	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, name_key, json_object_new_string(lines[i][0]));
		json_object_object_add(o, text_key, json_object_new_string(lines[i][1]));
		json_object_array_add(a, o);
	}
	return a;
}

static struct json_object *
sample_labels(int nested)
{
	static const char *const names[] = { "Label A", "Label B", "Label C" };
	struct json_object *a = json_object_new_array();

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "value", json_object_new_string(names[i]));
		if (nested && i == 0) {
			struct json_object *kids = json_object_new_array(), *k = json_object_new_object();

			json_object_object_add(k, "value", json_object_new_string("Label A.1"));
			json_object_array_add(kids, k);
			json_object_object_add(o, "children", kids);
		}
		json_object_array_add(a, o);
	}
	return a;
}

static struct json_object *
sample_list(void)
{
	struct json_object *a = json_object_new_array();

	for (int i = 1; i <= 3; i++) {
		struct json_object *o = json_object_new_object();
		char s[64];

		snprintf(s, sizeof(s), "item_%d", i);
		json_object_object_add(o, "id", json_object_new_string(s));
		snprintf(s, sizeof(s), "Item %d", i);
		json_object_object_add(o, "title", json_object_new_string(s));
		snprintf(s, sizeof(s), "The body of item %d.", i);
		json_object_object_add(o, "body", json_object_new_string(s));
		json_object_array_add(a, o);
	}
	return a;
}

static struct json_object *
sample_timeseries(xmlNode *p, int url)
{
	const char *time_col = attr(p, "timeColumn"), *sep = attr(p, "sep"), *tf = attr(p, "timeFormat");
	struct ptrv cols = {0};
	struct json_object *o;

	for (xmlNode *e = first_elem(p->children); e != NULL; e = first_elem(e->next)) {
		if (strcmp(tag(e), "Channel") == 0 && attr(e, "column") != NULL)
			ptrv_push(&cols, attr(e, "column"));
		if (strcmp(tag(e), "MultiChannel") == 0)
			FOR_ELEMS(ch, e)
				if (strcmp(tag(ch), "Channel") == 0 && attr(ch, "column") != NULL)
					ptrv_push(&cols, attr(ch, "column"));
	}
	if (url) {
		/* Label Studio points at its own CSV generator; this is that endpoint on its public app. */
		struct buf b = {0};

		buf_add(&b, "https://app.heartex.com/samples/time-series.csv?time=");
		buf_urlenc(&b, time_col != NULL ? time_col : "");
		buf_add(&b, "&values=");
		for (size_t i = 0; i < cols.n; i++) {
			if (i > 0)
				buf_add(&b, "%2C");
			buf_urlenc(&b, cols.v[i]);
		}
		if (sep != NULL) {
			buf_add(&b, "&sep=");
			buf_urlenc(&b, sep);
		}
		if (tf != NULL) {
			buf_add(&b, "&tf=");
			buf_urlenc(&b, tf);
		}
		o = b.oom ? NULL : json_object_new_string(buf_str(&b));
		free(b.s);
	} else {
		/* A small JSON series: the time column and one wave per channel. */
		static const int wave[] = { 0, 38, 71, 92, 100, 92, 71, 38, 0, -38 };
		struct json_object *t = json_object_new_array();

		o = json_object_new_object();
		for (int i = 0; i < 10; i++)
			json_object_array_add(t, json_object_new_int(i));
		json_object_object_add(o, time_col != NULL && *time_col ? time_col : "time", t);
		for (size_t c = 0; c < cols.n; c++) {
			struct json_object *a = json_object_new_array();

			for (int i = 0; i < 10; i++)
				json_object_array_add(a, json_object_new_double(wave[(i + (int)c) % 10] / 100.0));
			json_object_object_add(o, cols.v[c], a);
		}
	}
	free(cols.v);
	return o;
}

static struct json_object *
sample_for(xmlNode *p, const char *key)
{
	const char *t = tag(p), *vt = attr(p, "valueType");
	int url = vt != NULL && strcmp(vt, "url") == 0;
	struct json_object *o;

	if (strcmp(t, "List") == 0)
		return sample_list();
	if (strcmp(t, "Paragraphs") == 0) {
		const char *nk = attr_set(p, "nameKey"), *tk = attr_set(p, "textKey");

		if (url)
			return json_object_new_string("https://labelstud.io/samples/dialogue.json");
		return sample_dialogue(nk ? nk : "author", tk ? tk : "text");
	}
	if (strcmp(t, "TimeSeries") == 0)
		return sample_timeseries(p, url || vt == NULL);
	if (strcmp(t, "HyperText") == 0)
		return json_object_new_string(url ? "https://labelstud.io/samples/page.html" :
					      "<p>An <b>opossum</b> is a marsupial of the Americas.</p>");
	{
		char *lc = lowercase_dup(t);
		int labels = lc != NULL && has_suffix(lc, "labels"), choices = lc != NULL && strcmp(lc, "choices") == 0;

		free(lc);
		if (labels)
			return sample_labels(0);
		if (choices) {
			const char *an = attr(p, "allowNested");

			if (an == NULL)
				an = attr(p, "allownested");
			return sample_labels(an != NULL && strcmp(an, "true") == 0);
		}
	}
	if (strcmp(t, "Text") == 0)
		o = json_object_new_string(url ? "https://labelstud.io/samples/text.txt" : SAMPLE_TEXT);
	else if (strcmp(t, "Image") == 0)
		o = json_object_new_string("https://labelstud.io/images/opa-header.png");
	else if (strcmp(t, "Audio") == 0 || strcmp(t, "AudioPlus") == 0)
		o = json_object_new_string("https://labelstud.io/files/sample.wav");
	else if (strcmp(t, "Video") == 0)
		o = json_object_new_string("https://labelstud.io/files/opossum_snow.mp4");
	else if (strcmp(t, "Header") == 0)
		o = json_object_new_string("Task header");
	else if (strcmp(t, "Table") == 0) {
		o = json_object_new_object();
		json_object_object_add(o, "Card number", json_object_new_int(18799210));
		json_object_object_add(o, "First name", json_object_new_string("Ada"));
		json_object_object_add(o, "Last name", json_object_new_string("Lovelace"));
	} else if (strcmp(t, "Chat") == 0) {
		o = sample_dialogue("role", "content");
		for (size_t i = 0; i < json_object_array_length(o); i++) {
			struct json_object *m = json_object_array_get_idx(o, i);

			json_object_object_add(m, "role", json_object_new_string(i % 2 ? "assistant" : "user"));
		}
	} else if (strcmp(t, "Ranker") == 0)
		o = sample_list();
	else
		o = json_object_new_string("Something");
	(void)key;
	if (attr(p, "valueList") != NULL) {
		struct json_object *a = json_object_new_array();

		json_object_array_add(a, o);
		return a;
	}
	return o;
}

/* Sets obj[a][b]... for key "a.b" (a flat key when a part is empty); takes v. */
static void
set_path(struct json_object *obj, const char *key, struct json_object *v)
{
	const char *dot = strchr(key, '.');

	while (dot != NULL && dot != key && dot[1] != '\0') {
		char *part = strndup(key, (size_t)(dot - key));
		struct json_object *next = NULL;

		if (part == NULL)
			break;
		if (!json_object_object_get_ex(obj, part, &next) || !json_object_is_type(next, json_type_object)) {
			next = json_object_new_object();
			json_object_object_add(obj, part, next);
		}
		free(part);
		if (next == NULL)
			break;
		obj = next;
		key = dot + 1;
		dot = strchr(key, '.');
	}
	json_object_object_add(obj, key, v);
}

static void
sample_one(struct json_object *task, xmlNode *p)
{
	const char *v = attr_set(p, "value");
	const char *br;
	struct json_object *val;

	if (v == NULL)
		v = attr_set(p, "valueList");
	if (v == NULL || v[0] != '$')
		return;
	v++;
	val = sample_for(p, v);
	if ((br = strchr(v, '[')) != NULL) {
		/* Repeater: images[{{idx}}].url gives {"images": [{"url": x}, {"url": x}]} */
		const char *close = strchr(br, ']');
		char *base = strndup(v, (size_t)(br - v));
		struct json_object *list = json_object_new_array();

		for (int i = 0; i < 2; i++) {
			struct json_object *item = NULL;

			json_object_deep_copy(val, &item, NULL);
			if (close != NULL && close[1] == '.' && close[2] != '\0') {
				struct json_object *o = json_object_new_object();

				json_object_object_add(o, close + 2, item);
				item = o;
			}
			json_object_array_add(list, item);
		}
		json_object_put(val);
		if (base != NULL)
			set_path(task, base, list);
		else
			json_object_put(list);
		free(base);
		return;
	}
	set_path(task, v, val);
}

static void
sample_walk(struct json_object *task, xmlNode *n, int with_value)
{
	FOR_ELEMS(e, n) {
		if (with_value ? attr(e, "value") != NULL : attr(e, "valueList") != NULL)
			sample_one(task, e);
		sample_walk(task, e, with_value);
	}
}

/* --- public API ---------------------------------------------------------------------------- */

void
lc_free(struct labelconfig *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->nctl && c->ctl != NULL; i++) {
		struct lc_control *ctl = &c->ctl[i];

		free(ctl->name);
		free(ctl->type);
		free(ctl->type_lc);
		for (size_t j = 0; ctl->to != NULL && j < ctl->nto; j++)
			free(ctl->to[j]);
		free(ctl->to);
		for (size_t j = 0; ctl->labels != NULL && j < ctl->nlabels; j++)
			free(ctl->labels[j]);
		free(ctl->labels);
		free(ctl->lsorted);
	}
	free(c->ctl);
	free(c->csorted);
	for (size_t i = 0; i < c->nkeys; i++) {
		free(c->keys[i].key);
		free(c->keys[i].type);
	}
	free(c->keys);
	json_object_put(c->parsed);
	json_object_put(c->sample);
	free(c);
}

struct labelconfig *
lc_parse(const char *xml, size_t len, char *err, size_t errsz)
{
	struct labelconfig *c;
	xmlDocPtr doc;
	xmlNode *root;
	size_t i;

	seterr(err, errsz, "%s", "");
	for (i = 0; xml != NULL && i < len; i++)
		if (!isspace((unsigned char)xml[i]))
			break;
	if (xml == NULL || i == len) {
		seterr(err, errsz, "Label config is not set or is empty");
		return NULL;
	}
	if (len > LC_MAX_BYTES) {
		seterr(err, errsz, "Label config is too large (%zu bytes, the limit is %d)", len, LC_MAX_BYTES);
		return NULL;
	}
	if ((doc = read_xml(xml, len, err, errsz)) == NULL)
		return NULL;
	if ((root = xmlDocGetRootElement(doc)) == NULL) {
		seterr(err, errsz, "Label config is not set or is empty");
		xmlFreeDoc(doc);
		return NULL;
	}
	if (check_tree(root, err, errsz) != 0) {
		xmlFreeDoc(doc);
		return NULL;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL || build_parsed(c, root) != 0 || build_keys(c, root) != 0 ||
	    (c->sample = json_object_new_object()) == NULL) {
		seterr(err, errsz, "out of memory");
		lc_free(c);
		xmlFreeDoc(doc);
		return NULL;
	}
	sample_walk(c->sample, root, 1);
	sample_walk(c->sample, root, 0);
	xmlFreeDoc(doc);
	return c;
}

struct json_object *
lc_parsed_json(const struct labelconfig *c)
{
	struct json_object *out = NULL;

	if (json_object_deep_copy(c->parsed, &out, NULL) != 0)
		return NULL;
	return out;
}

struct json_object *
lc_sample_data(const struct labelconfig *c)
{
	struct json_object *out = NULL;

	if (json_object_deep_copy(c->sample, &out, NULL) != 0)
		return NULL;
	return out;
}

size_t
lc_ncontrols(const struct labelconfig *c)
{
	return c->nctl;
}

static const struct lc_control *
control(const struct labelconfig *c, size_t i)
{
	return i < c->nctl ? &c->ctl[i] : NULL;
}

const char *
lc_control_name(const struct labelconfig *c, size_t i)
{
	return i < c->nctl ? c->ctl[i].name : NULL;
}

const char *
lc_control_type(const struct labelconfig *c, size_t i)
{
	return i < c->nctl ? c->ctl[i].type : NULL;
}

int
lc_find_control(const struct labelconfig *c, const char *name)
{
	struct lc_control key, *kp = &key, **hit;

	if (name == NULL || c->nctl == 0)
		return -1;
	key.name = (char *)name;
	hit = bsearch(&kp, c->csorted, c->nctl, sizeof(*c->csorted), cmp_control);
	return hit != NULL ? (int)(*hit - c->ctl) : -1;
}

int
lc_control_has_to(const struct labelconfig *c, size_t i, const char *to_name)
{
	const struct lc_control *ctl = control(c, i);

	for (size_t j = 0; ctl != NULL && to_name != NULL && j < ctl->nto; j++)
		if (strcmp(ctl->to[j], to_name) == 0)
			return 1;
	return 0;
}

int
lc_control_has_label(const struct labelconfig *c, size_t i, const char *label)
{
	const struct lc_control *ctl = control(c, i);

	if (ctl == NULL || label == NULL || ctl->nlabels == 0)
		return 0;
	return bsearch(&label, ctl->lsorted, ctl->nlabels, sizeof(*ctl->lsorted), cmp_str) != NULL;
}

int
lc_control_dynamic(const struct labelconfig *c, size_t i)
{
	const struct lc_control *ctl = control(c, i);

	return ctl != NULL && ctl->dynamic;
}

size_t
lc_control_nlabels(const struct labelconfig *c, size_t i)
{
	const struct lc_control *ctl = control(c, i);

	return ctl != NULL ? ctl->nlabels : 0;
}

const char *
lc_control_label(const struct labelconfig *c, size_t i, size_t j)
{
	const struct lc_control *ctl = control(c, i);

	return ctl != NULL && j < ctl->nlabels ? ctl->labels[j] : NULL;
}

size_t
lc_control_nto(const struct labelconfig *c, size_t i)
{
	const struct lc_control *ctl = control(c, i);

	return ctl != NULL ? ctl->nto : 0;
}

const char *
lc_control_to(const struct labelconfig *c, size_t i, size_t j)
{
	const struct lc_control *ctl = control(c, i);

	return ctl != NULL && j < ctl->nto ? ctl->to[j] : NULL;
}

size_t
lc_ndata_keys(const struct labelconfig *c)
{
	return c->nkeys;
}

const char *
lc_data_key(const struct labelconfig *c, size_t i)
{
	return i < c->nkeys ? c->keys[i].key : NULL;
}

const char *
lc_data_key_type(const struct labelconfig *c, size_t i)
{
	return i < c->nkeys ? c->keys[i].type : NULL;
}

/* --- task data ----------------------------------------------------------------------------- */

enum { T_STR = 1, T_INT = 2, T_FLOAT = 4, T_LIST = 8, T_DICT = 16, T_NONE = 32 };

/* API §3: the Python types Label Studio accepts per tag, in its order. */
static const struct data_type {
	const char *tag;
	unsigned mask;
	const char *names;
} data_types[] = {
	{ "Text", T_STR | T_INT | T_FLOAT | T_LIST, "['str', 'int', 'float', 'list']" },
	{ "Header", T_STR | T_INT | T_FLOAT, "['str', 'int', 'float']" },
	{ "HyperText", T_STR, "['str']" },
	{ "Image", T_STR | T_LIST, "['str', 'list']" },
	{ "Paragraphs", T_LIST | T_STR, "['list', 'str']" },
	{ "Chat", T_LIST | T_STR, "['list', 'str']" },
	{ "List", T_LIST | T_STR, "['list', 'str']" },
	{ "Ranker", T_LIST | T_STR, "['list', 'str']" },
	{ "Table", T_DICT | T_LIST | T_STR, "['dict', 'list', 'str']" },
	{ "TimeSeries", T_DICT | T_LIST | T_STR, "['dict', 'list', 'str']" },
	{ "TimeSeriesChannel", T_DICT | T_LIST | T_STR, "['dict', 'list', 'str']" },
	{ "Taxonomy", T_STR | T_LIST | T_NONE, "['str', 'list', 'NoneType']" },
	{ "Choices", T_STR | T_LIST, "['str', 'list']" },
};

static const struct data_type labels_type = { "*Labels", T_STR | T_LIST, "['str', 'list']" };
static const struct data_type other_type = { "*", T_STR, "['str']" };
static const struct data_type repeater_type = { "[]", T_LIST, "['list']" };

/* Python's type name and our mask for a JSON value (bool is an int in Python). */
static unsigned
json_mask(struct json_object *v, const char **pyname)
{
	switch (json_object_get_type(v)) {
	case json_type_null: *pyname = "NoneType"; return T_NONE;
	case json_type_boolean: *pyname = "bool"; return T_INT;
	case json_type_int: *pyname = "int"; return T_INT;
	case json_type_double: *pyname = "float"; return T_FLOAT;
	case json_type_string: *pyname = "str"; return T_STR;
	case json_type_array: *pyname = "list"; return T_LIST;
	case json_type_object: *pyname = "dict"; return T_DICT;
	}
	*pyname = "object";
	return 0;
}

/* A short Python-like rendering of a value for messages. */
static void
buf_pyvalue(struct buf *b, struct json_object *v)
{
	char num[64];

	switch (json_object_get_type(v)) {
	case json_type_null: buf_add(b, "None"); break;
	case json_type_boolean: buf_add(b, json_object_get_boolean(v) ? "True" : "False"); break;
	case json_type_int:
		snprintf(num, sizeof(num), "%lld", (long long)json_object_get_int64(v));
		buf_add(b, num);
		break;
	case json_type_double: {
		double d = json_object_get_double(v);

		/* Python prints the shortest form that reads back the same. */
		for (int prec = 1; prec <= 17; prec++) {
			snprintf(num, sizeof(num), "%.*g", prec, d);
			if (strtod(num, NULL) == d)
				break;
		}
		buf_add(b, num);
		if (strpbrk(num, ".eninf") == NULL)
			buf_add(b, ".0");
		break;
	}
	case json_type_string: {
		const char *s = json_object_get_string(v);

		if (strlen(s) > 60) {
			char *cut = strndup(s, 60);

			buf_pyrepr(b, cut != NULL ? cut : "");
			buf_add(b, "...");
			free(cut);
		} else {
			buf_pyrepr(b, s);
		}
		break;
	}
	case json_type_array: buf_add(b, json_object_array_length(v) ? "[...]" : "[]"); break;
	case json_type_object: buf_add(b, json_object_object_length(v) ? "{...}" : "{}"); break;
	}
}

/* Follows "a.b.c" through nested objects; 1 and *out when found. */
static int
lookup_path(struct json_object *data, const char *key, struct json_object **out)
{
	const char *s = key;

	for (;;) {
		const char *dot = strchr(s, '.');
		size_t n = dot != NULL ? (size_t)(dot - s) : strlen(s);
		char *part;
		int found;

		if (!json_object_is_type(data, json_type_object))
			return 0;
		if ((part = strndup(s, n)) == NULL)
			return 0;
		found = json_object_object_get_ex(data, part, &data);
		free(part);
		if (!found)
			return 0;
		if (dot == NULL)
			break;
		s = dot + 1;
	}
	*out = data;
	return 1;
}

int
lc_check_task_data(const struct labelconfig *c, struct json_object *data, char *err, size_t errsz)
{
	seterr(err, errsz, "%s", "");
	for (size_t i = 0; i < c->nkeys; i++) {
		const char *key = c->keys[i].key, *type = c->keys[i].type, *pyname;
		const char *br = strchr(key, '[');
		const struct data_type *dt = NULL;
		struct json_object *v = NULL;
		char *base = br != NULL ? strndup(key, (size_t)(br - key)) : strdup(key);
		struct buf b = {0};

		if (base == NULL) {
			seterr(err, errsz, "out of memory");
			return -1;
		}
		if (!lookup_path(data, base, &v)) {
			seterr(err, errsz, "\"%s\" key is expected in task data", base);
			free(base);
			return -1;
		}
		if (br != NULL) {
			dt = &repeater_type;
		} else {
			for (size_t j = 0; j < sizeof(data_types) / sizeof(data_types[0]); j++)
				if (strcmp(data_types[j].tag, type) == 0)
					dt = &data_types[j];
			if (dt == NULL)
				dt = has_suffix(type, "Labels") ? &labels_type : &other_type;
		}
		if ((json_mask(v, &pyname) & dt->mask) != 0) {
			free(base);
			continue;
		}
		buf_pyvalue(&b, v);
		seterr(err, errsz, "data['%s']=%s is of type '%s', but the object tag %s expects the following types: %s",
		       base, buf_str(&b), pyname, type, dt->names);
		free(b.s);
		free(base);
		return -1;
	}
	return 0;
}

/* --- results ------------------------------------------------------------------------------- */

static const char *
jstr(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/* The result type matches the control: its tag lowercased, or the shape twin of a *labels tag
 * (rectanglelabels <-> rectangle) either way round. */
static int
type_matches(const char *ctl_type, const char *type)
{
	size_t n = strlen(ctl_type), m = strlen(type);

	if (strcasecmp(ctl_type, type) == 0)
		return 1;
	if (n == 0 || m == 0)
		return 0;
	if (n == m + 6 && strncasecmp(ctl_type, type, m) == 0 && strcasecmp(ctl_type + m, "labels") == 0)
		return 1;
	if (m == n + 6 && strncasecmp(type, ctl_type, n) == 0 && strcasecmp(type + n, "labels") == 0)
		return 1;
	return 0;
}

long
lc_check_result(const struct labelconfig *c, struct json_object *result, char *err, size_t errsz)
{
	size_t n;

	seterr(err, errsz, "%s", "");
	if (!json_object_is_type(result, json_type_array)) {
		seterr(err, errsz, "result must be a list");
		return 0;
	}
	n = json_object_array_length(result);
	for (size_t i = 0; i < n; i++) {
		struct json_object *it = json_object_array_get_idx(result, i), *v;
		const char *type, *from, *to;
		int ci;

		if (!json_object_is_type(it, json_type_object)) {
			seterr(err, errsz, "result[%zu]: must be an object", i);
			return (long)i;
		}
		if ((type = jstr(it, "type")) == NULL) {
			seterr(err, errsz, "result[%zu]: \"type\" is required and must be a string", i);
			return (long)i;
		}
		if (strcmp(type, "relation") == 0) {
			if (!json_object_object_get_ex(it, "from_id", &v) || v == NULL ||
			    !json_object_object_get_ex(it, "to_id", &v) || v == NULL) {
				seterr(err, errsz, "result[%zu]: a relation needs \"from_id\" and \"to_id\"", i);
				return (long)i;
			}
			continue;
		}
		if ((from = jstr(it, "from_name")) == NULL) {
			seterr(err, errsz, "result[%zu]: \"from_name\" is required and must be a string", i);
			return (long)i;
		}
		if ((to = jstr(it, "to_name")) == NULL) {
			seterr(err, errsz, "result[%zu]: \"to_name\" is required and must be a string", i);
			return (long)i;
		}
		if ((ci = lc_find_control(c, from)) < 0) {
			seterr(err, errsz, "result[%zu]: from_name \"%s\" is not a control of this labeling config", i, from);
			return (long)i;
		}
		for (const char *s = to;;) {
			const char *comma = strchr(s, ',');
			size_t len = comma != NULL ? (size_t)(comma - s) : strlen(s);
			char *part = strndup(s, len);
			int ok = part != NULL && lc_control_has_to(c, (size_t)ci, part);

			free(part);
			if (!ok) {
				seterr(err, errsz, "result[%zu]: to_name \"%s\" is not in the toName of control \"%s\"", i, to, from);
				return (long)i;
			}
			if (comma == NULL)
				break;
			s = comma + 1;
		}
		if (!type_matches(c->ctl[ci].type, type)) {
			seterr(err, errsz, "result[%zu]: type \"%s\" does not match control \"%s\" (%s)", i, type, from,
			       c->ctl[ci].type_lc);
			return (long)i;
		}
	}
	return -1;
}

void
lc_result_labels(struct json_object *result,
		 void (*fn)(void *ctx, const char *from_name, const char *to_name, const char *type, const char *label),
		 void *ctx)
{
	size_t n;

	if (!json_object_is_type(result, json_type_array))
		return;
	n = json_object_array_length(result);
	for (size_t i = 0; i < n; i++) {
		struct json_object *it = json_object_array_get_idx(result, i), *value, *list;
		const char *from, *to, *type;

		if (!json_object_is_type(it, json_type_object))
			continue;
		from = jstr(it, "from_name");
		to = jstr(it, "to_name");
		type = jstr(it, "type");
		if (from == NULL || to == NULL || type == NULL || strcmp(type, "relation") == 0)
			continue;
		fn(ctx, from, to, type, NULL);
		if (!json_object_object_get_ex(it, "value", &value) || !json_object_is_type(value, json_type_object) ||
		    !json_object_object_get_ex(value, type, &list) || !json_object_is_type(list, json_type_array))
			continue;
		for (size_t j = 0; j < json_object_array_length(list); j++) {
			struct json_object *e = json_object_array_get_idx(list, j);

			if (json_object_is_type(e, json_type_string)) {
				fn(ctx, from, to, type, json_object_get_string(e));
			} else if (json_object_is_type(e, json_type_array)) {
				for (size_t k = 0; k < json_object_array_length(e); k++) {
					struct json_object *s = json_object_array_get_idx(e, k);

					if (json_object_is_type(s, json_type_string))
						fn(ctx, from, to, type, json_object_get_string(s));
				}
			}
		}
	}
}

int
lc_essential_changed(const struct labelconfig *new_c, const struct labelconfig *old_c)
{
	for (size_t i = 0; i < new_c->nctl; i++) {
		const struct lc_control *nc = &new_c->ctl[i];
		int oi = lc_find_control(old_c, nc->name);
		const struct lc_control *oc;

		if (oi < 0)
			return 1;
		oc = &old_c->ctl[oi];
		if (strcmp(nc->type, oc->type) != 0)
			return 1;
		if (!json_object_equal(nc->inputs, oc->inputs))
			return 1;
		for (size_t j = 0; j < oc->nlabels; j++)
			if (!lc_control_has_label(new_c, i, oc->labels[j]))
				return 1;
	}
	return 0;
}
