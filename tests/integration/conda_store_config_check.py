"""Run with conda-store-server's own Python: load a conda_store_config.py as conda-store does and check that
every setting it makes names a configurable trait of a conda-store class (a misspelt one is silently ignored by
conda-store at run time). usage: python conda_store_config_check.py CONFIG_FILE; prints the settings as JSON."""

import json
import os
import sys

from traitlets.config import Config, Configurable

from conda_store_server._internal.server.app import CondaStoreServer
from conda_store_server._internal.worker.app import CondaStoreWorker
from conda_store_server.conda_store_config import CondaStore
from conda_store_server.server.auth import AuthenticationBackend, GenericOAuthAuthentication, RBACAuthorizationBackend
from conda_store_server.storage import LocalStorage

CONFIGURABLES = (CondaStore, CondaStoreServer, CondaStoreWorker, LocalStorage, AuthenticationBackend,
                 RBACAuthorizationBackend, GenericOAuthAuthentication)

os.environ.update(CONDA_STORE_TOKEN="token", CONDA_STORE_SIGNING_KEY="key", CONDA_STORE_OIDC_CLIENT_SECRET="secret")
path = sys.argv[1]
# run as conda-store's loader runs it (traitlets' PyFileConfigLoader: exec with `c`), keeping the classes it defines
namespace = {"c": Config(), "__file__": path}
with open(path) as f:
    exec(compile(f.read(), path, "exec"), namespace)  # pylint: disable=exec-used
config = namespace["c"]
defined = [value for value in namespace.values()
           if isinstance(value, type) and issubclass(value, Configurable) and value not in CONFIGURABLES]
CLASSES = {cls.__name__: cls for cls in CONFIGURABLES + tuple(defined)}
unknown = []
for section, settings in config.items():
    cls = CLASSES.get(section)
    traits = cls.class_trait_names(config=True) if cls else []
    unknown.extend("%s.%s" % (section, key) for key in settings if key not in traits)
if unknown:
    sys.exit("not settings of conda-store %s: %s" % (", ".join(sorted(CLASSES)), ", ".join(unknown)))
print(json.dumps({section: {key: repr(value) for key, value in settings.items()} for section, settings in config.items()}))
