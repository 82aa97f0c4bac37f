"""Reads the packages index as os-api does: through os-package-registry's own
PackageRegistry (elasticsearch-py 5, typed URLs), and prints what each call
answered as one JSON object, for test/node/os-package-registry.test.ts.

Usage: python os-package-registry.py <es-url> <index> <id>... (every id is
read; one id nobody has is asked too, to show the misses).
"""
import json
import sys

import elasticsearch
from os_package_registry import PackageRegistry


def main():
    url, index, ids = sys.argv[1], sys.argv[2], sys.argv[3:]
    registry = PackageRegistry(es_connection_string=url, index_name=index)
    missing = 'nobody:no-such-package'
    out = {
        'client': {
            'python': sys.version.split()[0],
            'elasticsearch': '.'.join(str(n) for n in elasticsearch.VERSION),
        },
        'get_model': {i: registry.get_model(i) for i in ids},
        'get_package': {i: registry.get_package(i) for i in ids},
        'get_raw': {i: list(registry.get_raw(i)) for i in ids},
        'has_model': {i: registry.has_model(i) for i in ids + [missing]},
        'list_models': sorted(registry.list_models()),
        'get_stats': registry.get_stats(),
        'missing': {},
    }
    for name in ('get_model', 'get_package', 'get_raw'):
        try:
            getattr(registry, name)(missing)
            out['missing'][name] = 'found'
        except KeyError:
            out['missing'][name] = 'KeyError'
    json.dump(out, sys.stdout)


if __name__ == '__main__':
    main()
