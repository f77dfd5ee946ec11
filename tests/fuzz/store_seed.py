#!/usr/bin/python3
"""Pack a warren data directory into fuzz_store's input format (see
tests/fuzz/fuzz_store.c): for the seed corpus in tests/fuzz/corpus/fuzz_store/.

    store_seed.py DATA_DIR OUT_FILE

Each file becomes kind:u8 index:u8 length:u32be bytes; segments are
numbered 1..4 in the order of their ids."""
import os
import struct
import sys


def pack(data_dir):
    out = b''
    defs = os.path.join(data_dir, 'definitions')
    if os.path.exists(defs):
        body = open(defs, 'rb').read()
        out += b'd\0' + struct.pack('>I', len(body)) + body
    msgs = os.path.join(data_dir, 'msgs')
    ids = sorted({int(n[:10]) for n in os.listdir(msgs) if len(n) == 14}) if os.path.isdir(msgs) else []
    kinds = {'seg': b's', 'ack': b'a', 'acn': b'n', 'cmp': b'c'}
    for i, sid in enumerate(ids[:4]):
        for ext, kind in kinds.items():
            path = os.path.join(msgs, '%010u.%s' % (sid, ext))
            if os.path.exists(path):
                body = open(path, 'rb').read()
                out += kind + bytes([i]) + struct.pack('>I', len(body)) + body
    return out


if __name__ == '__main__':
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    open(sys.argv[2], 'wb').write(pack(sys.argv[1]))
