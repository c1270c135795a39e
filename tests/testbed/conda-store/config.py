# conda-store-server configuration of the test bed (standalone: server and worker in one command, sqlite, no
# redis, no object storage). tests/testbed/testbed sets the CONDA_STORE_* variables it reads.
# pylint: disable=undefined-variable
import logging
import os

from conda_store_server.server.auth import DummyAuthentication

STATE = os.environ["CONDA_STORE_STATE"]
TOKEN = os.environ["CONDA_STORE_TOKEN"]

c.CondaStoreServer.address = "127.0.0.1"
c.CondaStoreServer.port = int(os.environ["CONDA_STORE_PORT"])
c.CondaStoreServer.url_prefix = "/conda-store"
c.CondaStoreServer.log_level = logging.INFO
c.CondaStoreServer.enable_ui = True
c.CondaStoreServer.enable_metrics = True
c.CondaStoreServer.standalone = True
c.CondaStoreServer.authentication_class = DummyAuthentication
c.AuthenticationBackend.secret = TOKEN + "-signing"
# The admin token, as the stack layer provisions a service token with admin on */* in a deployed Nebari.
c.AuthenticationBackend.predefined_tokens = {
    TOKEN: {"primary_namespace": "default", "role_bindings": {"*/*": ["admin"]}},
}
c.CondaStore.database_url = "sqlite:///%s/conda-store.sqlite" % STATE
c.CondaStore.upgrade_db = True
c.CondaStore.store_directory = "%s/store" % STATE
c.CondaStore.conda_allowed_channels = []
# The default list is indexed at start and every 15 minutes: it would reach anaconda.org.
c.CondaStore.conda_indexed_channels = []
c.CondaStore.conda_channel_alias = "http://127.0.0.1:9"
# Builds really run: conda is conda-lock's vendored copy (tests/testbed/lib/condastore.sh installs the `conda`
# command), solving with the classic solver; the channel is the test bed's own (conda-store/channel.py), served on
# the node's address (lib/condastore.sh, condastore_channel_start).
c.CondaStore.conda_command = "conda"
c.CondaStore.build_artifacts = ["LOCKFILE", "YAML"]  # conda-pack and constructor are not installed
c.CondaStore.default_uid = os.getuid()
c.CondaStore.default_gid = os.getgid()
c.CondaStore.default_permissions = "775"
c.LocalStorage.storage_path = "%s/storage" % STATE
c.CondaStoreWorker.concurrency = 1
