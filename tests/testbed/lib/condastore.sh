# conda-store of the test bed: conda-store-server from PyPI, standalone (server and worker), sqlite, on
# 127.0.0.1 under /conda-store as Nebari serves it, with a predefined admin token. Sourced by ../testbed.
# shellcheck shell=bash

CONDA_STORE_REQS=$TESTBED_SRC/conda-store/requirements.txt
CONDA_STORE_VENV=$NEBARI_CACHE/venv/conda-store-$CONDA_STORE_VERSION-$(files_hash "$CONDA_STORE_REQS")
CONDA_STORE_URL=http://127.0.0.1:$TB_CONDA_STORE_PORT/conda-store

condastore_install() {
  [ -f "$CONDA_STORE_VENV/.complete" ] && return 0
  local python t0; t0=$(date +%s.%N)
  for python in "${CONDA_STORE_PYTHON:-}" python3.11 "$(pyenv root 2>/dev/null)"/versions/3.11*/bin/python3.11 ""; do
    [ -n "$python" ] && "$python" -c 'import sys; assert sys.version_info[:2] == (3, 11)' 2>/dev/null && break
  done
  [ -n "$python" ] || die "conda-store needs Python 3.11 (python3.11 on PATH, through pyenv, or CONDA_STORE_PYTHON)"
  log "installing conda-store-server $CONDA_STORE_VERSION into $CONDA_STORE_VENV"
  pip_venv "$CONDA_STORE_VENV" "$CONDA_STORE_REQS" "$python"
  # conda is not on PyPI: conda-lock 2.5.8 vendors it, and conda-store-server imports it as `conda`
  local site; site=$("$CONDA_STORE_VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
  cp "$TESTBED_SRC/conda-store/conda_alias.pth" "$site/"
  "$CONDA_STORE_VENV/bin/python" -c 'from conda.base.context import context; context.subdir' \
    || die "the conda alias of $CONDA_STORE_VENV does not import"
  # the `conda` command the builds run: that copy's CLI (pip's conda guard is in the entry point, not in main())
  printf '#!%s\nimport sys\nfrom conda.cli.main import main\nsys.exit(main())\n' "$CONDA_STORE_VENV/bin/python" \
    > "$CONDA_STORE_VENV/bin/conda"
  chmod +x "$CONDA_STORE_VENV/bin/conda"
  touch "$CONDA_STORE_VENV/.complete"
  log "conda-store installed in $(since "$t0") s"
}

condastore_start() {
  local dir=$TESTBED_STATE/conda-store token; token=$(secret conda-store-token)
  mkdir -p "$dir/xdg/conda-store"   # celery beat writes its schedule under $XDG_DATA_HOME/conda-store
  # Nothing may leave the machine: no channel indexing (config), channel names expand to a closed loopback port,
  # and every HTTP client it uses goes through a proxy that is a closed loopback port.
  (cd "$dir" && CONDA_STORE_TOKEN=$token CONDA_STORE_STATE=$dir CONDA_STORE_PORT=$TB_CONDA_STORE_PORT XDG_DATA_HOME=$dir/xdg \
    HTTP_PROXY=http://127.0.0.1:9 HTTPS_PROXY=http://127.0.0.1:9 http_proxy=http://127.0.0.1:9 \
    https_proxy=http://127.0.0.1:9 NO_PROXY=127.0.0.1,localhost,$NODE_IP no_proxy=127.0.0.1,localhost,$NODE_IP \
    PATH="$CONDA_STORE_VENV/bin:$PATH" CONDA_SOLVER=classic CONDA_SAT_SOLVER=pycryptosat CONDA_PKGS_DIRS=$dir/pkgs CONDARC=$dir/condarc \
    CONDA_NUMBER_CHANNEL_NOTICES=0 \
    start conda-store "$CONDA_STORE_VENV/bin/conda-store-server" --config "$TESTBED_SRC/conda-store/config.py")
}

# The channel conda-store's builds use here (conda-store/channel.py), served over HTTP as a mirror would be (conda-store
# downloads with requests) on the node's address inside the namespace: the conda-store on the host and the one the
# stack deploys on the real node both reach it. Its URL is kept in conda-store/channel-url for the tests.
CONDA_STORE_CHANNEL=http://$NODE_IP:$TB_CONDA_CHANNEL_PORT
condastore_channel_start() {
  local dir=$TESTBED_STATE/conda-store
  "$CONDA_STORE_VENV/bin/python" "$TESTBED_SRC/conda-store/channel.py" "$dir/channel"
  start_in_net conda-channel "$CONDA_STORE_VENV/bin/python" -m http.server --bind "$NODE_IP" \
    --directory "$dir/channel" "$TB_CONDA_CHANNEL_PORT"
  echo "$CONDA_STORE_CHANNEL" > "$dir/channel-url"
}

condastore_ready() { curl -sf "$CONDA_STORE_URL/api/v1/" | grep -q '"status":"ok"'; }
