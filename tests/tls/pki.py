"""Test certificates, made in the test run with the openssl CLI (no key is
ever committed).

make_pki(dir) writes, with EC P-256 keys (fast to make):
  ca.pem/ca.key            the CA the broker trusts (--tls-ca)
  server.pem/server.key    CN=localhost, SAN localhost, 127.0.0.1, ::1
  alice.pem/alice.key      client CN=alice, O=warren tests (signed by ca)
  guest.pem/guest.key      client CN=guest
  rogue-ca.pem, rogue.pem/rogue.key   a client signed by another CA
  expired.pem/expired.key  client CN=alice, valid only in January 2020
and returns a dict of the paths.
"""
import os
import subprocess


def _run(*args, cwd):
    subprocess.run(['openssl'] + list(args), cwd=cwd, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _key(d, name):
    _run('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', name + '.key', cwd=d)


def _ca(d, name, cn):
    _key(d, name)
    _run('req', '-x509', '-new', '-key', name + '.key', '-out', name + '.pem', '-days', '30',
         '-subj', '/O=warren tests/CN=' + cn, '-addext', 'basicConstraints=critical,CA:TRUE',
         '-addext', 'keyUsage=critical,keyCertSign,cRLSign', cwd=d)


def _leaf(d, name, subj, ca, ext):
    _key(d, name)
    _run('req', '-new', '-key', name + '.key', '-out', name + '.csr', '-subj', subj, cwd=d)
    with open(os.path.join(d, name + '.ext'), 'w') as f:
        f.write(ext)
    _run('x509', '-req', '-in', name + '.csr', '-CA', ca + '.pem', '-CAkey', ca + '.key',
         '-CAcreateserial', '-out', name + '.pem', '-days', '30', '-sha256', '-extfile', name + '.ext', cwd=d)


CLIENT_EXT = 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=clientAuth\n'
SERVER_EXT = ('basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n'
              'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\n')

CA_CONF = """[ ca ]
default_ca = dflt
[ dflt ]
dir = .
database = index.txt
new_certs_dir = .
serial = ca.srl2
default_md = sha256
policy = any
copy_extensions = none
[ any ]
organizationName = optional
commonName = supplied
"""


def make_pki(d):
    d = str(d)
    os.makedirs(d, exist_ok=True)
    _ca(d, 'ca', 'warren test CA')
    _ca(d, 'rogue-ca', 'someone else')
    _leaf(d, 'server', '/CN=localhost', 'ca', SERVER_EXT)
    _leaf(d, 'alice', '/O=warren tests/CN=alice', 'ca', CLIENT_EXT)
    _leaf(d, 'guest', '/CN=guest', 'ca', CLIENT_EXT)
    _leaf(d, 'rogue', '/CN=alice', 'rogue-ca', CLIENT_EXT)
    # an expired one: `openssl ca` takes explicit dates
    with open(os.path.join(d, 'ca.cnf'), 'w') as f:
        f.write(CA_CONF)
    open(os.path.join(d, 'index.txt'), 'w').close()
    with open(os.path.join(d, 'ca.srl2'), 'w') as f:
        f.write('1000\n')
    _key(d, 'expired')
    _run('req', '-new', '-key', 'expired.key', '-out', 'expired.csr', '-subj', '/O=warren tests/CN=alice', cwd=d)
    _run('ca', '-batch', '-config', 'ca.cnf', '-cert', 'ca.pem', '-keyfile', 'ca.key', '-in', 'expired.csr',
         '-out', 'expired.pem', '-notext', '-startdate', '20200101000000Z', '-enddate', '20200102000000Z', cwd=d)
    names = ['ca', 'rogue-ca', 'server', 'alice', 'guest', 'rogue', 'expired']
    out = {}
    for n in names:
        out[n] = os.path.join(d, n + '.pem')
        out[n + '.key'] = os.path.join(d, n + '.key')
    return out


def renew_server(d, ca_dir):
    """Another server certificate (CN=localhost) from the same CA, for the
    reload test: returns (cert, key) paths in d."""
    os.makedirs(d, exist_ok=True)
    for f in ('ca.pem', 'ca.key'):
        with open(os.path.join(ca_dir, f), 'rb') as src, open(os.path.join(d, f), 'wb') as dst:
            dst.write(src.read())
    _leaf(d, 'server', '/CN=localhost', 'ca', SERVER_EXT)
    return os.path.join(d, 'server.pem'), os.path.join(d, 'server.key')
