#!/usr/bin/env python3
"""Generate warren's AMQP 0-9-1 codec from the RabbitMQ spec JSON.

usage: amqp_codegen.py SPEC.json OUTDIR

Writes OUTDIR/spec.h and OUTDIR/spec.c: class and method ids, one argument
struct per method, a decoder and an encoder per method, the basic-class
properties with their flag bits, and the reply-code constants with their
soft/hard class.  Only the Python 3 standard library is used, and the output
depends on nothing but the spec file, so re-running it on the same spec gives
byte-identical files (the test suite checks that).

Decoders are zero-copy: strings and tables in a decoded struct point into the
caller's buffer.  Every read is checked against the bytes left, tables are
validated, and a method must use exactly the bytes it is given.  The shortstr
arguments of methods without content must be UTF-8 (RabbitMQ's check).
"""
import json
import sys

HEADER = ("/* generated — do not edit.\n"
          " * Made by codegen/amqp_codegen.py from amqp-rabbitmq-0.9.1.json\n"
          " * (RabbitMQ's AMQP 0-9-1 spec; see that file for its licence).\n"
          " * Regenerate with `make codegen`. */\n")

CTYPE = {
    'octet': 'uint8_t', 'short': 'uint16_t', 'long': 'uint32_t',
    'longlong': 'uint64_t', 'timestamp': 'uint64_t', 'bit': 'bool',
    'shortstr': 'amqp_str', 'longstr': 'amqp_str', 'table': 'amqp_table',
}


def cname(s):
    return s.replace('-', '_')


def upper(s):
    return cname(s).upper()


class Spec:
    def __init__(self, path):
        with open(path) as f:
            self.d = json.load(f)
        self.domains = {n: t for n, t in self.d['domains']}

    def ftype(self, arg):
        t = arg.get('type') or arg['domain']
        while t in self.domains and self.domains[t] != t:
            t = self.domains[t]
        if t not in CTYPE:
            raise SystemExit('unknown type %r' % t)
        return t

    def methods(self):
        for c in self.d['classes']:
            for m in c['methods']:
                yield c, m

    def fields(self, m):
        return [(cname(a['name']), self.ftype(a)) for a in m['arguments']]


def struct_name(c, m):
    return 'amqp_%s_%s' % (cname(c['name']), cname(m['name']))


def method_const(c, m):
    return 'AMQP_%s_%s' % (upper(c['name']), upper(m['name']))


def gen_header(spec):
    o = [HEADER,
         '#ifndef WARREN_AMQP_SPEC_H\n#define WARREN_AMQP_SPEC_H\n\n',
         '#include "wire.h"\n\n']
    d = spec.d
    o.append('#define AMQP_PROTOCOL_VERSION_MAJOR %d\n' % d['major-version'])
    o.append('#define AMQP_PROTOCOL_VERSION_MINOR %d\n' % d['minor-version'])
    o.append('#define AMQP_PROTOCOL_VERSION_REVISION %d\n' % d['revision'])
    o.append('#define AMQP_PROTOCOL_PORT %d\n\n' % d['port'])
    o.append('/* Constants and reply codes; amqp_reply_is_hard() tells a '
             'connection error from a channel error. */\n')
    for k in d['constants']:
        o.append('#define AMQP_%s %d\n' % (upper(k['name']), k['value']))
    o.append('\nbool amqp_reply_is_hard(int code);\n')
    o.append('bool amqp_reply_is_soft(int code);\n')
    o.append('/* "NOT_FOUND" for 404, NULL for a code the spec does not name. */\n')
    o.append('const char *amqp_reply_name(int code);\n\n')

    for c in d['classes']:
        o.append('#define AMQP_%s_CLASS %d\n' % (upper(c['name']), c['id']))
    o.append('\n/* A method id is class << 16 | method. */\n')
    for c, m in spec.methods():
        o.append('#define %s ((uint32_t)0x%04X%04X) /* %s.%s */\n' % (
            method_const(c, m), c['id'], m['id'], c['name'], m['name']))
    o.append('\n')

    for c, m in spec.methods():
        fields = spec.fields(m)
        sn = struct_name(c, m)
        o.append('typedef struct %s {\n' % sn)
        if not fields:
            o.append('    char unused; /* no arguments */\n')
        for n, t in fields:
            o.append('    %s %s;\n' % (CTYPE[t], n))
        o.append('} %s;\n\n' % sn)

    o.append('/* Room for the arguments of any method. */\n')
    o.append('typedef union amqp_method_args {\n')
    for c, m in spec.methods():
        o.append('    %s %s_%s;\n' % (struct_name(c, m), cname(c['name']), cname(m['name'])))
    o.append('} amqp_method_args;\n\n')

    for c, m in spec.methods():
        sn = struct_name(c, m)
        o.append('int %s_decode(const uint8_t *p, size_t n, %s *m);\n' % (sn, sn))
        o.append('size_t %s_size(const %s *m);\n' % (sn, sn))
        o.append('uint8_t *%s_encode(uint8_t *p, const %s *m);\n' % (sn, sn))
    o.append('''
/* Decode the arguments of method `id` (the bytes after the 4-byte method id
 * in a method frame).  Returns AMQP_OK or a negative status; AMQP_EMETHOD for
 * an id the spec does not define; AMQP_EUTF8, once every field was read, when
 * a shortstr argument of a method without content is not UTF-8 (as RabbitMQ
 * checks them: amqp_utf8_ok). */
int amqp_method_decode(uint32_t id, const uint8_t *p, size_t n, amqp_method_args *out);
/* The encoded size of the arguments, and the encoder: `p` must have room for
 * amqp_method_size() bytes; returns the end of what was written. */
size_t amqp_method_size(uint32_t id, const void *args);
uint8_t *amqp_method_encode(uint32_t id, const void *args, uint8_t *p);
/* "basic.publish"; NULL for an unknown id. */
const char *amqp_method_name(uint32_t id);
bool amqp_method_known(uint32_t id);
bool amqp_method_has_content(uint32_t id);
bool amqp_method_synchronous(uint32_t id);

/* Reflection, for tests and diagnostics: every method's fields with their
 * wire type and where they sit in the method's struct.  Types are named as
 * in the spec: "octet" "short" "long" "longlong" "timestamp" "bit"
 * "shortstr" "longstr" "table". */
typedef struct amqp_field_info {
    const char *name;
    const char *type;
    size_t offset;
} amqp_field_info;

typedef struct amqp_method_info {
    uint32_t id;
    const char *name;
    size_t struct_size;
    size_t nfields;
    const amqp_field_info *fields;
} amqp_method_info;

extern const amqp_method_info amqp_methods[];
extern const size_t amqp_method_count;
extern const amqp_field_info amqp_basic_property_fields[];
extern const size_t amqp_basic_property_count;

''')
    for c in d['classes']:
        props = c.get('properties') or []
        if not props:
            continue
        cn = cname(c['name'])
        o.append('/* %s-class content properties, in wire order; the flag bit of\n'
                 ' * the first is bit 15 of the property-flags word. */\n' % cn)
        for i, p in enumerate(props):
            o.append('#define AMQP_%s_%s_FLAG ((uint16_t)(1u << %d))\n' % (
                upper(cn), upper(p['name']), 15 - i))
        o.append('\ntypedef struct amqp_%s_properties {\n    uint16_t flags;\n' % cn)
        for p in props:
            o.append('    %s %s;\n' % (CTYPE[spec.ftype(p)], cname(p['name'])))
        o.append('} amqp_%s_properties;\n\n' % cn)
        o.append('/* Decode from the property-flags word to the end of the header\n'
                 ' * payload; fields whose flag is clear are zeroed. */\n')
        o.append('int amqp_%s_properties_decode(const uint8_t *p, size_t n, '
                 'amqp_%s_properties *m);\n' % (cn, cn))
        o.append('size_t amqp_%s_properties_size(const amqp_%s_properties *m);\n' % (cn, cn))
        o.append('uint8_t *amqp_%s_properties_encode(uint8_t *p, '
                 'const amqp_%s_properties *m);\n\n' % (cn, cn))
    o.append('#endif\n')
    return ''.join(o)


def decode_fields(spec, fields, var='m'):
    """C statements reading `fields` from p/end into var->..."""
    o = []
    bitpos = None
    for n, t in fields:
        if t == 'bit':
            if bitpos is None or bitpos == 8:
                o.append('    if (end - p < 1) return AMQP_ETRUNC;\n')
                o.append('    bits = *p++;\n')
                bitpos = 0
            o.append('    %s->%s = (bits >> %d) & 1;\n' % (var, n, bitpos))
            bitpos += 1
            continue
        bitpos = None
        o.extend(read_field(n, t, var))
    return o


def read_field(n, t, var, guard=''):
    o = []
    if t == 'octet':
        o.append('    if (end - p < 1) return AMQP_ETRUNC;\n')
        o.append('    %s->%s = *p++;\n' % (var, n))
    elif t == 'short':
        o.append('    if (end - p < 2) return AMQP_ETRUNC;\n')
        o.append('    %s->%s = amqp_get16(p); p += 2;\n' % (var, n))
    elif t == 'long':
        o.append('    if (end - p < 4) return AMQP_ETRUNC;\n')
        o.append('    %s->%s = amqp_get32(p); p += 4;\n' % (var, n))
    elif t in ('longlong', 'timestamp'):
        o.append('    if (end - p < 8) return AMQP_ETRUNC;\n')
        o.append('    %s->%s = amqp_get64(p); p += 8;\n' % (var, n))
    elif t == 'shortstr':
        o.append('    if (end - p < 1 || (size_t)(end - p - 1) < p[0]) return AMQP_ETRUNC;\n')
        o.append('    %s->%s.len = p[0]; %s->%s.ptr = (const char *)p + 1; p += 1 + p[0];\n'
                 % (var, n, var, n))
    elif t == 'longstr':
        o.append('    if (end - p < 4 || (size_t)(end - p - 4) < amqp_get32(p)) return AMQP_ETRUNC;\n')
        o.append('    %s->%s.len = amqp_get32(p); %s->%s.ptr = (const char *)p + 4; p += 4 + %s->%s.len;\n'
                 % (var, n, var, n, var, n))
    elif t == 'table':
        o.append('    if (end - p < 4 || (size_t)(end - p - 4) < amqp_get32(p)) return AMQP_ETRUNC;\n')
        o.append('    %s->%s.len = amqp_get32(p); %s->%s.ptr = p + 4; p += 4;\n' % (var, n, var, n))
        o.append('    if ((rc = amqp_table_validate(p, %s->%s.len, 0)) < 0) return rc;\n' % (var, n))
        o.append('    p += %s->%s.len;\n' % (var, n))
    return o


def size_of(n, t, var):
    return {
        'octet': '1', 'short': '2', 'long': '4', 'longlong': '8', 'timestamp': '8',
        'shortstr': '1 + %s->%s.len' % (var, n),
        'longstr': '4 + (size_t)%s->%s.len' % (var, n),
        'table': '4 + (size_t)%s->%s.len' % (var, n),
    }[t]


def write_field(n, t, var):
    return {
        'octet': '    p = amqp_put8(p, %s->%s);\n',
        'short': '    p = amqp_put16(p, %s->%s);\n',
        'long': '    p = amqp_put32(p, %s->%s);\n',
        'longlong': '    p = amqp_put64(p, %s->%s);\n',
        'timestamp': '    p = amqp_put64(p, %s->%s);\n',
        'shortstr': '    p = amqp_put_shortstr(p, %s->%s);\n',
        'longstr': '    p = amqp_put_longstr(p, %s->%s);\n',
        'table': '    p = amqp_put_table(p, %s->%s);\n',
    }[t] % (var, n)


def gen_source(spec):
    d = spec.d
    o = [HEADER, '#include "spec.h"\n\n#include <stddef.h>\n\n']

    o.append('bool amqp_reply_is_hard(int code)\n{\n    switch (code) {\n')
    for k in d['constants']:
        if k.get('class') == 'hard-error':
            o.append('    case %d:\n' % k['value'])
    o.append('        return true;\n    default:\n        return false;\n    }\n}\n\n')
    o.append('bool amqp_reply_is_soft(int code)\n{\n    switch (code) {\n')
    for k in d['constants']:
        if k.get('class') == 'soft-error':
            o.append('    case %d:\n' % k['value'])
    o.append('        return true;\n    default:\n        return false;\n    }\n}\n\n')
    o.append('const char *amqp_reply_name(int code)\n{\n    switch (code) {\n')
    seen = set()
    for k in d['constants']:
        if ('class' not in k and k['value'] != 200) or k['value'] in seen:
            continue
        seen.add(k['value'])
        o.append('    case %d: return "%s";\n' % (k['value'], upper(k['name'])))
    o.append('    default: return NULL;\n    }\n}\n\n')

    for c, m in spec.methods():
        sn = struct_name(c, m)
        fields = spec.fields(m)
        hasbits = any(t == 'bit' for _, t in fields)
        hastable = any(t == 'table' for _, t in fields)
        o.append('int %s_decode(const uint8_t *p, size_t n, %s *m)\n{\n' % (sn, sn))
        o.append('    const uint8_t *end = p + n;\n')
        if hasbits:
            o.append('    uint8_t bits = 0;\n')
        if hastable:
            o.append('    int rc;\n')
        o.append('    memset(m, 0, sizeof *m);\n')
        o.extend(decode_fields(spec, fields))
        if hasbits:
            o.append('    (void)bits;\n')
        # RabbitMQ checks the shortstrs of methods without content once
        # every field was read (a truncated method is "cannot decode" first)
        strs = [n for n, t in fields if t == 'shortstr'] if not m.get('content') else []
        if not strs:
            o.append('    return p == end ? AMQP_OK : AMQP_ETRAILING;\n}\n\n')
        else:
            o.append('    if (p != end) return AMQP_ETRAILING;\n')
            for n in strs:
                o.append('    if (!amqp_utf8_ok(m->%s.ptr, m->%s.len)) return AMQP_EUTF8;\n' % (n, n))
            o.append('    return AMQP_OK;\n}\n\n')

        o.append('size_t %s_size(const %s *m)\n{\n' % (sn, sn))
        o.append('    size_t n = 0;\n')
        nbits = 0
        for n, t in fields:
            if t == 'bit':
                if nbits % 8 == 0:
                    o.append('    n += 1;\n')
                nbits += 1
                continue
            nbits = 0
            o.append('    n += %s;\n' % size_of(n, t, 'm'))
        o.append('    (void)m;\n    return n;\n}\n\n')

        o.append('uint8_t *%s_encode(uint8_t *p, const %s *m)\n{\n' % (sn, sn))
        bits = []

        def flush_bits():
            if bits:
                expr = ' | '.join('(m->%s ? %d : 0)' % (b, 1 << i) for i, b in enumerate(bits))
                o.append('    *p++ = (uint8_t)(%s);\n' % expr)
                bits.clear()
        for n, t in fields:
            if t == 'bit':
                if len(bits) == 8:
                    flush_bits()
                bits.append(n)
                continue
            flush_bits()
            o.append(write_field(n, t, 'm'))
        flush_bits()
        o.append('    (void)m;\n    return p;\n}\n\n')

    o.append('int amqp_method_decode(uint32_t id, const uint8_t *p, size_t n, amqp_method_args *out)\n{\n')
    o.append('    switch (id) {\n')
    for c, m in spec.methods():
        o.append('    case %s: return %s_decode(p, n, &out->%s_%s);\n' % (
            method_const(c, m), struct_name(c, m), cname(c['name']), cname(m['name'])))
    o.append('    default: return AMQP_EMETHOD;\n    }\n}\n\n')

    o.append('size_t amqp_method_size(uint32_t id, const void *args)\n{\n    switch (id) {\n')
    for c, m in spec.methods():
        o.append('    case %s: return %s_size(args);\n' % (method_const(c, m), struct_name(c, m)))
    o.append('    default: return 0;\n    }\n}\n\n')

    o.append('uint8_t *amqp_method_encode(uint32_t id, const void *args, uint8_t *p)\n{\n'
             '    switch (id) {\n')
    for c, m in spec.methods():
        o.append('    case %s: return %s_encode(p, args);\n' % (method_const(c, m), struct_name(c, m)))
    o.append('    default: return p;\n    }\n}\n\n')

    o.append('const char *amqp_method_name(uint32_t id)\n{\n    switch (id) {\n')
    for c, m in spec.methods():
        o.append('    case %s: return "%s.%s";\n' % (method_const(c, m), c['name'], m['name']))
    o.append('    default: return NULL;\n    }\n}\n\n')

    for c, m in spec.methods():
        fields = spec.fields(m)
        if not fields:
            continue
        o.append('static const amqp_field_info fields_%s_%s[] = {\n' % (cname(c['name']), cname(m['name'])))
        for n, t in fields:
            o.append('    {"%s", "%s", offsetof(%s, %s)},\n' % (n, t, struct_name(c, m), n))
        o.append('};\n')
    o.append('\nconst amqp_method_info amqp_methods[] = {\n')
    count = 0
    for c, m in spec.methods():
        fields = spec.fields(m)
        count += 1
        arr = 'fields_%s_%s' % (cname(c['name']), cname(m['name'])) if fields else 'NULL'
        o.append('    {%s, "%s.%s", sizeof(%s), %d, %s},\n' % (
            method_const(c, m), c['name'], m['name'], struct_name(c, m), len(fields), arr))
    o.append('};\nconst size_t amqp_method_count = %d;\n\n' % count)
    for c in d['classes']:
        props = c.get('properties') or []
        if not props:
            continue
        cn = cname(c['name'])
        o.append('const amqp_field_info amqp_%s_property_fields[] = {\n' % cn)
        for pp in props:
            o.append('    {"%s", "%s", offsetof(amqp_%s_properties, %s)},\n' % (
                cname(pp['name']), spec.ftype(pp), cn, cname(pp['name'])))
        o.append('};\nconst size_t amqp_%s_property_count = %d;\n\n' % (cn, len(props)))

    o.append('bool amqp_method_known(uint32_t id)\n{\n    return amqp_method_name(id) != NULL;\n}\n\n')

    for fn, key in (('amqp_method_has_content', 'content'),
                    ('amqp_method_synchronous', 'synchronous')):
        o.append('bool %s(uint32_t id)\n{\n    switch (id) {\n' % fn)
        for c, m in spec.methods():
            if m.get(key):
                o.append('    case %s:\n' % method_const(c, m))
        o.append('        return true;\n    default:\n        return false;\n    }\n}\n\n')

    for c in d['classes']:
        props = c.get('properties') or []
        if not props:
            continue
        cn = cname(c['name'])
        pt = 'amqp_%s_properties' % cn
        o.append('int amqp_%s_properties_decode(const uint8_t *p, size_t n, %s *m)\n{\n' % (cn, pt))
        o.append('    const uint8_t *end = p + n;\n    uint16_t more;\n')
        if any(spec.ftype(pp) == 'table' for pp in props):
            o.append('    int rc;\n')
        o.append('    memset(m, 0, sizeof *m);\n')
        o.append('    if (end - p < 2) return AMQP_ETRUNC;\n')
        o.append('    m->flags = amqp_get16(p); p += 2;\n')
        unused = (1 << (16 - len(props))) - 1
        o.append('    if (m->flags & 0x%04X & ~1u) return AMQP_EPROPFLAGS;\n' % unused)
        o.append('    /* further flag words are legal but may name no property */\n')
        o.append('    for (more = m->flags & 1; more; ) {\n')
        o.append('        if (end - p < 2) return AMQP_ETRUNC;\n')
        o.append('        if (amqp_get16(p) & ~1u) return AMQP_EPROPFLAGS;\n')
        o.append('        more = amqp_get16(p) & 1; p += 2;\n    }\n')
        o.append('    m->flags &= (uint16_t)~1u;\n')
        for i, pp in enumerate(props):
            n, t = cname(pp['name']), spec.ftype(pp)
            o.append('    if (m->flags & AMQP_%s_%s_FLAG) {\n' % (upper(cn), upper(pp['name'])))
            o.extend('    ' + line for line in read_field(n, t, 'm'))
            o.append('    }\n')
        o.append('    return p == end ? AMQP_OK : AMQP_ETRAILING;\n}\n\n')

        o.append('size_t amqp_%s_properties_size(const %s *m)\n{\n    size_t n = 2;\n' % (cn, pt))
        for pp in props:
            n, t = cname(pp['name']), spec.ftype(pp)
            o.append('    if (m->flags & AMQP_%s_%s_FLAG) n += %s;\n' % (
                upper(cn), upper(pp['name']), size_of(n, t, 'm')))
        o.append('    return n;\n}\n\n')

        o.append('uint8_t *amqp_%s_properties_encode(uint8_t *p, const %s *m)\n{\n' % (cn, pt))
        o.append('    p = amqp_put16(p, m->flags & (uint16_t)~1u);\n')
        for pp in props:
            n, t = cname(pp['name']), spec.ftype(pp)
            o.append('    if (m->flags & AMQP_%s_%s_FLAG)\n    ' % (upper(cn), upper(pp['name'])))
            o.append(write_field(n, t, 'm'))
        o.append('    return p;\n}\n')
    return ''.join(o)


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    spec = Spec(sys.argv[1])
    out = sys.argv[2]
    for name, text in (('spec.h', gen_header(spec)), ('spec.c', gen_source(spec))):
        with open('%s/%s' % (out, name), 'w') as f:
            f.write(text)


if __name__ == '__main__':
    main()
